//! Searching a user's messages by words: which groups are searched, the
//! reads of the `{terms, group, _id}` index made for it (how much, in
//! [`super::search_reads`]), and the page of messages found, each with the
//! places of its matched words.
//!
//! Every message carries `terms`, the distinct folded words of its text
//! (`chat_wire::search::words`), written with it, replaced on an edit and
//! emptied on a delete. A search reads the index newest first, below its
//! cursor, for every word of the query, and keeps the ids that every
//! word's entries hold: each read is of the index alone (no message is
//! fetched until the page is known), so two common words whose pair is
//! rare cost what their entries cost, not a fetch per entry.

use super::documents::MessageDoc;
use super::search_reads::{MAX_READS, READ_LIMIT, Window};
use super::{Store, db_error};
use chat_wire::ids::Up;
use chat_wire::model::Message;
use chat_wire::search::{SearchCursor, SearchHit, SearchPage, matches};
use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Bson, Document, doc};
use service_kit::ApiError;
use std::collections::{HashMap, HashSet};

/// A validated search of the store.
#[derive(Debug, Clone)]
pub struct Search {
    /// Whose groups are searched.
    pub up: Up,
    /// The terms that must all be found (at least one).
    pub terms: Vec<String>,
    /// One group of `up`, or all of them.
    pub group: Option<ObjectId>,
    /// Where the previous page ended.
    pub cursor: Option<SearchCursor>,
    /// Results per page.
    pub per_page: u32,
    /// When set, groups with a history gate (`historyMinOnline > 0`) are
    /// left out, except these (whose gate the caller found open).
    pub open_gated: Option<Vec<ObjectId>>,
}

/// A group searched: its id and message count.
#[derive(Debug, Clone, Copy)]
struct Searched {
    id: ObjectId,
    messages: u64,
}

/// What one read gave.
struct WindowRead {
    /// The ids every term's entries hold, newest first.
    ids: Vec<ObjectId>,
    /// Set when a term had more entries than one read takes: the window
    /// was read down to this id (inclusive) only.
    stopped_at: Option<ObjectId>,
}

/// The ids found in one call, newest first, and where the next goes on.
struct Found {
    ids: Vec<ObjectId>,
    cursor: Option<SearchCursor>,
}

impl Store {
    /// A page of `search`'s results.
    pub async fn search(&self, search: &Search) -> Result<SearchPage, ApiError> {
        let groups = self.searched_groups(search).await?;
        if search.terms.is_empty() || groups.iter().all(|g| g.messages == 0) {
            return Ok(SearchPage::empty());
        }
        let found = self.find_ids(&groups, search).await?;
        let items = self.hits(&found.ids, &search.terms).await?;
        Ok(SearchPage {
            items,
            cursor: found.cursor.map(|cursor| cursor.format()),
        })
    }

    /// The groups of `up` the search reads: one (which `up` must be a
    /// member of) or all, less the gated ones when asked.
    async fn searched_groups(&self, search: &Search) -> Result<Vec<Searched>, ApiError> {
        let filter = match search.group {
            Some(group) => {
                self.require_member(group, &search.up).await?;
                doc! {"_id": group}
            }
            None => doc! {"users": search.up.as_str()},
        };
        let docs: Vec<Document> = self
            .groups_raw()
            .find(filter)
            .projection(doc! {"_id": 1, "messageCount": 1, "historyMinOnline": 1})
            .await
            .map_err(db_error)?
            .try_collect()
            .await
            .map_err(db_error)?;
        let number = |doc: &Document, key: &str| match doc.get(key) {
            Some(Bson::Int64(n)) => *n,
            Some(Bson::Int32(n)) => i64::from(*n),
            _ => 0,
        };
        Ok(docs
            .iter()
            .filter_map(|doc| {
                let id = doc.get_object_id("_id").ok()?;
                let gated = number(doc, "historyMinOnline") > 0;
                if let Some(open) = &search.open_gated
                    && gated
                    && !open.contains(&id)
                {
                    return None;
                }
                Some(Searched {
                    id,
                    messages: u64::try_from(number(doc, "messageCount")).unwrap_or(0),
                })
            })
            .collect())
    }

    /// Reads the index below the cursor until a page and one more are
    /// found, every entry was read, or [`MAX_READS`] reads were made.
    async fn find_ids(&self, groups: &[Searched], search: &Search) -> Result<Found, ApiError> {
        let mut upper = match &search.cursor {
            Some(cursor) => Some(
                ObjectId::parse_str(&cursor.before)
                    .map_err(|_| ApiError::InvalidArgument("`cursor` is not valid".into()))?,
            ),
            None => None,
        };
        let terms = read_order(&search.terms);
        let wanted = search.per_page as usize + 1;
        let mut ids = Vec::new();
        let mut exhausted = false;
        for _ in 0..MAX_READS {
            let window = Window { lower: None, upper };
            let read = self.read_window(groups, &terms, window).await?;
            ids.extend(read.ids);
            match read.stopped_at {
                // Read down to `oldest`, inclusive: go on below it.
                Some(oldest) => upper = Some(oldest),
                None => {
                    exhausted = true;
                    break;
                }
            }
            if ids.len() >= wanted {
                break;
            }
        }
        let page = search.per_page as usize;
        let cursor = if ids.len() > page {
            ids.truncate(page);
            Some(SearchCursor {
                before: ids[page - 1].to_hex(),
            })
        } else if exhausted {
            None
        } else {
            upper.map(|upper| SearchCursor {
                before: upper.to_hex(),
            })
        };
        Ok(Found { ids, cursor })
    }

    /// The ids in `window` over `groups` that every term's entries hold,
    /// newest first. Each term's entries are read in turn, at most
    /// [`READ_LIMIT`] of them; a term with more than that in the window
    /// narrows it to what was read (from its oldest entry read up), and the
    /// ids are those of the narrowed window.
    async fn read_window(
        &self,
        groups: &[Searched],
        terms: &[&str],
        window: Window,
    ) -> Result<WindowRead, ApiError> {
        let mut lower = window.lower;
        let mut stopped_at = None;
        let mut entries: Vec<Vec<ObjectId>> = Vec::with_capacity(terms.len());
        for term in terms {
            let narrowed = Window {
                lower,
                upper: window.upper,
            };
            let ids = self.term_ids(groups, term, narrowed).await?;
            if ids.len() >= READ_LIMIT as usize {
                // Newest first: the last one read is the oldest.
                let oldest = *ids.last().expect("a full read");
                lower = Some(oldest);
                stopped_at = Some(oldest);
            }
            entries.push(ids);
            if entries.last().is_some_and(Vec::is_empty) {
                break; // no id can hold every term
            }
        }
        let in_window = |id: &ObjectId| lower.is_none_or(|lower| *id >= lower);
        let others: Vec<HashSet<ObjectId>> = entries[1..]
            .iter()
            .map(|ids| ids.iter().copied().collect())
            .collect();
        let ids = if entries.len() < terms.len() {
            Vec::new()
        } else {
            entries[0]
                .iter()
                .filter(|id| in_window(id) && others.iter().all(|set| set.contains(id)))
                .copied()
                .collect()
        };
        Ok(WindowRead { ids, stopped_at })
    }

    /// The ids of `term`'s entries in `window` over `groups`, newest first,
    /// at most [`READ_LIMIT`]: a read of the index alone.
    async fn term_ids(
        &self,
        groups: &[Searched],
        term: &str,
        window: Window,
    ) -> Result<Vec<ObjectId>, ApiError> {
        let mut range = Document::new();
        if let Some(upper) = window.upper {
            range.insert("$lt", upper);
        }
        if let Some(lower) = window.lower {
            range.insert("$gte", lower);
        }
        // One branch per group: each is one range of the index, which both
        // servers read in `_id` order and merge. Always an `$or`, even of
        // one branch: the wire server plans a lone branch with an `_id`
        // range on the `_id` index, reading every message of the window
        // (50 times slower on the benchmark's data); an `$or` branch goes
        // to the terms index. A `hint` of that index was slower still.
        let branches: Vec<Document> = groups
            .iter()
            .map(|group| {
                let mut branch = doc! {"terms": term, "group": group.id};
                if !range.is_empty() {
                    branch.insert("_id", range.clone());
                }
                branch
            })
            .collect();
        let rows: Vec<Document> = self
            .messages_raw()
            .find(doc! {"$or": branches, "deleted": false})
            .projection(doc! {"_id": 1})
            .sort(doc! {"_id": -1})
            .limit(READ_LIMIT)
            .await
            .map_err(db_error)?
            .try_collect()
            .await
            .map_err(db_error)?;
        Ok(rows
            .iter()
            .filter_map(|row| row.get_object_id("_id").ok())
            .collect())
    }

    /// The messages of `ids`, in that order, each with its matches; a
    /// message deleted or edited away from the terms since is left out.
    async fn hits(&self, ids: &[ObjectId], terms: &[String]) -> Result<Vec<SearchHit>, ApiError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let docs: Vec<MessageDoc> = self
            .messages
            .find(doc! {"_id": {"$in": ids}, "deleted": false, "terms": {"$all": terms}})
            .await
            .map_err(db_error)?
            .try_collect()
            .await
            .map_err(db_error)?;
        let mut by_id: HashMap<ObjectId, MessageDoc> =
            docs.into_iter().map(|doc| (doc.id, doc)).collect();
        Ok(ids
            .iter()
            .filter_map(|id| by_id.remove(id))
            .map(|doc| {
                let message = Message::from(doc);
                SearchHit {
                    matches: matches(&message.message, terms),
                    message,
                }
            })
            .collect())
    }
}

/// The terms in the order their entries are read: the longest first
/// (long words tend to be rare, and the first term's entries size the
/// windows), ties in the query's order.
fn read_order(terms: &[String]) -> Vec<&str> {
    let mut order: Vec<&str> = terms.iter().map(String::as_str).collect();
    order.sort_by_key(|term| std::cmp::Reverse(term.chars().count()));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_term_is_read_first_and_ties_keep_the_query_order() {
        let terms: Vec<String> = ["the", "meeting", "room", "morning"]
            .map(String::from)
            .into();
        assert_eq!(read_order(&terms), ["meeting", "morning", "room", "the"]);
        let one = vec!["x".to_owned()];
        assert_eq!(read_order(&one), ["x"]);
    }
}
