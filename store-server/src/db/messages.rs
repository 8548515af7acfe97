//! Queries on messages: reads, pages and cursors, edits, deletes, reactions
//! and the change feed. New messages are written by `message_writer`.
//!
//! Every message has a `seq`, its position in the group. Pages are read by
//! `seq` range on the `{group, seq}` index, never with `skip`, so a page costs
//! the same at the newest and at the oldest end of a million messages.

use super::documents::{MessageDoc, ReactionDoc, entity_id, object_id};
use super::paging::{Total, find_page};
use super::{Store, db_error};
use crate::retention::history::CursorAt;
use chat_wire::ids::Up;
use chat_wire::model::Message;
use chat_wire::paging::{Page, PageRequest, Position};
use chat_wire::time::Timestamp;
use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, Document, doc};
use mongodb::options::ReturnDocument;
use service_kit::ApiError;

impl Store {
    /// One message, or `not_found`.
    pub async fn message(&self, id: ObjectId) -> Result<MessageDoc, ApiError> {
        self.messages
            .find_one(doc! {"_id": id})
            .await
            .map_err(db_error)?
            .ok_or_else(|| message_not_found(id))
    }

    /// A page of a group's messages: by page number (newest first), `before`
    /// a message (newest first) or `after` one (oldest first). Only the
    /// messages the store holds are read: numbers above what the retention
    /// sweep deleted (`retention::history`); a cursor naming a swept
    /// message reads from the oldest held one (`after`) or nothing
    /// (`before`).
    pub async fn group_messages(
        &self,
        group: ObjectId,
        request: &PageRequest,
    ) -> Result<Page<Message>, ApiError> {
        let held = self.held(group).await?;
        let direction = match &request.position {
            Position::Page(_) => {
                let offset = i64::try_from(request.offset()).unwrap_or(i64::MAX);
                Some(Direction::Down {
                    from: held.newest.saturating_sub(offset),
                })
            }
            Position::Before(id) => match self.cursor_at(group, &held, object_id(id)).await? {
                CursorAt::Seq(seq) => Some(Direction::Down { from: seq - 1 }),
                CursorAt::Swept => None,
            },
            Position::After(id) => {
                let from = match self.cursor_at(group, &held, object_id(id)).await? {
                    CursorAt::Seq(seq) => seq + 1,
                    CursorAt::Swept => held.through() + 1,
                };
                Some(Direction::Up {
                    from,
                    newest: held.newest,
                })
            }
        };
        let wanted = i64::from(request.per_page) + 1;
        let mut items = match direction {
            Some(direction) => {
                self.seq_window(group, direction, wanted, held.through())
                    .await?
            }
            None => Vec::new(),
        };
        let has_more = items.len() as i64 >= wanted;
        items.truncate(request.per_page as usize);
        Ok(Page {
            items: items.into_iter().map(Message::from).collect(),
            page: request.page_number(),
            per_page: request.per_page,
            total: u64::try_from(held.count()).unwrap_or(0),
            has_more,
        })
    }

    /// Up to `wanted` messages from a `seq` on, read with index bounds that
    /// span only about `wanted` numbers, never at or below `swept` (what
    /// the retention sweep deleted). An open-ended range plus `limit`
    /// would be enough for MongoDB, but not every MongoDB-wire server stops
    /// an index scan at the limit; a tight window costs the same everywhere.
    /// The window widens only when numbers are missing (a failed write).
    async fn seq_window(
        &self,
        group: ObjectId,
        direction: Direction,
        wanted: i64,
        swept: i64,
    ) -> Result<Vec<MessageDoc>, ApiError> {
        let mut span = wanted;
        loop {
            let (range, sort, exhausted) = match direction {
                Direction::Down { from } => {
                    let low = from.saturating_sub(span).max(swept);
                    (doc! {"$gt": low, "$lte": from}, -1, low <= swept)
                }
                Direction::Up { from, newest } => {
                    let from = from.max(swept + 1);
                    let high = from.saturating_add(span - 1);
                    (doc! {"$gte": from, "$lte": high}, 1, high >= newest)
                }
            };
            let items: Vec<MessageDoc> = self
                .messages
                .find(doc! {"group": group, "seq": range})
                .sort(doc! {"seq": sort})
                .limit(wanted)
                .await
                .map_err(db_error)?
                .try_collect()
                .await
                .map_err(db_error)?;
            if items.len() as i64 >= wanted || exhausted {
                return Ok(items);
            }
            span = span.saturating_mul(4);
        }
    }

    /// All messages of every group, newest first.
    pub async fn all_messages(&self, request: &PageRequest) -> Result<Page<Message>, ApiError> {
        let page = find_page(
            &self.messages,
            doc! {},
            doc! {"_id": -1},
            request,
            Total::Estimated,
        )
        .await?;
        Ok(page.map(Message::from))
    }

    /// Replaces the text of a message (and so who it mentions, and the
    /// quotes of its replies); only its author may, while a member of its
    /// group (and, in a direct group, while neither blocked the other).
    pub async fn edit_message(
        &self,
        id: ObjectId,
        from: &Up,
        text: String,
    ) -> Result<Message, ApiError> {
        let current = self.message(id).await?;
        self.require_writer(current.group, from).await?;
        if &current.from != from {
            return Err(ApiError::PermissionDenied(format!(
                "only the author of message {} may edit it",
                entity_id(id)
            )));
        }
        if current.deleted {
            return Err(ApiError::InvalidArgument(format!(
                "message {} was deleted",
                entity_id(id)
            )));
        }
        let now = DateTime::now();
        let mentions: Vec<String> = self
            .mentions_in(current.group, &text)
            .await?
            .into_iter()
            .map(String::from)
            .collect();
        // No `mentions` field at all when there are none: the index of
        // mentions holds only messages that have one.
        let mut update = doc! {"$set": {"message": &text, "terms": chat_wire::search::terms_of(&text), "editedAt": now, "changedAt": now}};
        if mentions.is_empty() {
            update.insert("$unset", doc! {"mentions": ""});
        } else {
            update
                .get_document_mut("$set")
                .expect("just built")
                .insert("mentions", mentions);
        }
        let edited = self
            .update_message(doc! {"_id": id, "deleted": false}, update)
            .await?;
        self.update_quotes(id, Some(&text), now).await?;
        Ok(edited)
    }

    /// Soft-deletes a message: its text, reactions, mentions and
    /// attachments are cleared, the attachments' bytes deleted, and the
    /// quotes of its replies marked deleted. Its author
    /// or an admin of its group may, while a member; deleting twice is not
    /// an error.
    pub async fn delete_message(&self, id: ObjectId, by: &Up) -> Result<Message, ApiError> {
        let current = self.message(id).await?;
        self.require_member(current.group, by).await?;
        if current.deleted {
            // A retry after the quotes could not be updated updates them.
            self.update_quotes(id, None, DateTime::now()).await?;
            return Ok(current.into());
        }
        if &current.from != by && !self.is_admin(current.group, by).await? {
            return Err(ApiError::PermissionDenied(format!(
                "only the author or an admin of the group may delete message {}",
                entity_id(id)
            )));
        }
        // Its files go first (marked `removing`, nothing serves them
        // again): if the delete then fails, the sweep still erases them,
        // as the user asked; the other order could leave them for ever.
        let files: Vec<ObjectId> = current.attachments.iter().map(|a| a.id).collect();
        self.mark_removing(&files).await?;
        let now = DateTime::now();
        let deleted = self
            .update_message(
                doc! {"_id": id},
                doc! {
                    "$set": {"deleted": true, "message": "", "reactions": [], "attachments": [], "terms": [], "changedAt": now},
                    "$unset": {"mentions": ""},
                },
            )
            .await?;
        self.update_quotes(id, None, now).await?;
        if let Err(err) = self.remove_attachments(&files).await {
            tracing::warn!(error = %err, "could not erase a deleted message's attachments; the sweep will");
        }
        Ok(deleted)
    }

    /// Adds a reaction of a member (idempotent; not in a direct group where
    /// one blocked the other), within the caps: at most
    /// [`MAX_DISTINCT_REACTIONS`] emoji on a message and
    /// [`MAX_REACTIONS_PER_USER`] of one user. The reactions are replaced
    /// only if nobody changed them since they were read, so concurrent
    /// reactions never pass a cap together.
    pub async fn react(&self, id: ObjectId, up: &Up, emoji: String) -> Result<Message, ApiError> {
        for _ in 0..REACT_ATTEMPTS {
            let current = self.message(id).await?;
            self.require_writer(current.group, up).await?;
            if current.deleted {
                return Err(ApiError::InvalidArgument(format!(
                    "message {} was deleted",
                    entity_id(id)
                )));
            }
            let reaction = ReactionDoc {
                e: emoji.clone(),
                u: up.clone(),
            };
            if current.reactions.contains(&reaction) {
                return Ok(current.into());
            }
            check_reaction_caps(&current.reactions, &reaction)?;
            let before = mongodb::bson::to_bson(&current.reactions).map_err(|err| {
                ApiError::Internal(anyhow::Error::new(err).context("encoding reactions"))
            })?;
            let pair = doc! {"e": &reaction.e, "u": up.as_str()};
            let changed = self
                .messages
                .find_one_and_update(
                    doc! {"_id": id, "deleted": false, "reactions": before},
                    doc! {"$push": {"reactions": pair}, "$set": {"changedAt": DateTime::now()}},
                )
                .return_document(ReturnDocument::After)
                .await
                .map_err(db_error)?;
            if let Some(message) = changed {
                return Ok(message.into());
            }
            // Someone else changed the reactions: read them again, a little
            // later than the others doing the same.
            let wait = 1 + DateTime::now().timestamp_millis().unsigned_abs() % 7;
            tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
        }
        Err(ApiError::Unavailable(anyhow::anyhow!(
            "the reactions of message {} kept changing",
            entity_id(id)
        )))
    }

    /// Removes a reaction of a member (idempotent). A non-member is refused
    /// like in [`Store::react`]: the answer carries the message.
    pub async fn unreact(&self, id: ObjectId, up: &Up, emoji: &str) -> Result<Message, ApiError> {
        let current = self.message(id).await?;
        self.require_member(current.group, up).await?;
        let reaction = ReactionDoc {
            e: emoji.to_owned(),
            u: up.clone(),
        };
        if !current.reactions.contains(&reaction) {
            return Ok(current.into());
        }
        self.update_message(
            doc! {"_id": id},
            doc! {"$pull": {"reactions": {"e": emoji, "u": up.as_str()}}, "$set": {"changedAt": DateTime::now()}},
        )
        .await
    }

    /// Messages of a group edited, deleted or reacted to at or after `since`,
    /// in the order they changed.
    pub async fn changes(
        &self,
        group: ObjectId,
        since: Timestamp,
        request: &PageRequest,
    ) -> Result<Page<Message>, ApiError> {
        let swept = self.group(group).await?.swept_through();
        let filter = doc! {
            "group": group,
            "changedAt": {"$gte": super::documents::to_bson(since)},
            "seq": {"$gt": swept},
        };
        let page = find_page(
            &self.messages,
            filter,
            doc! {"changedAt": 1, "_id": 1},
            request,
            Total::Counted,
        )
        .await?;
        Ok(page.map(Message::from))
    }

    async fn update_message(
        &self,
        filter: Document,
        update: Document,
    ) -> Result<Message, ApiError> {
        let id = filter.get_object_id("_id").ok();
        self.messages
            .find_one_and_update(filter, update)
            .return_document(ReturnDocument::After)
            .await
            .map_err(db_error)?
            .map(Message::from)
            .ok_or_else(|| match id {
                Some(id) => ApiError::NotFound(format!(
                    "message {} changed meanwhile; retry",
                    entity_id(id)
                )),
                None => ApiError::Internal(anyhow::anyhow!("update without an _id filter")),
            })
    }

    async fn is_admin(&self, group: ObjectId, up: &Up) -> Result<bool, ApiError> {
        let found = self
            .groups_raw()
            .find_one(doc! {"_id": group, "admins": up.as_str()})
            .projection(doc! {"_id": 1})
            .await
            .map_err(db_error)?;
        Ok(found.is_some())
    }

    /// `permission_denied` unless `up` is a member of `group`.
    pub async fn require_member(&self, group: ObjectId, up: &Up) -> Result<(), ApiError> {
        self.member_group(group, up, doc! {"_id": 1})
            .await
            .map(drop)
    }

    /// The fields of `projection` of `group`, which `up` must be a member
    /// of (`permission_denied`; `not_found` for an unknown group): one read
    /// for a caller that needs both the check and the group.
    pub async fn member_group(
        &self,
        group: ObjectId,
        up: &Up,
        projection: Document,
    ) -> Result<Document, ApiError> {
        let found = self
            .groups_raw()
            .find_one(doc! {"_id": group, "users": up.as_str()})
            .projection(projection)
            .await
            .map_err(db_error)?;
        match found {
            Some(found) => Ok(found),
            None => {
                self.group(group).await?;
                Err(ApiError::PermissionDenied(format!(
                    "{up} is not a member of group {}",
                    entity_id(group)
                )))
            }
        }
    }
}

/// The most distinct emoji on one message.
pub const MAX_DISTINCT_REACTIONS: usize = 64;
/// The most reactions of one user on one message.
pub const MAX_REACTIONS_PER_USER: usize = 16;
/// Tries of a reaction whose message keeps changing under it.
const REACT_ATTEMPTS: usize = 50;

/// `invalid_argument` when adding `new` to `reactions` passes a cap.
fn check_reaction_caps(reactions: &[ReactionDoc], new: &ReactionDoc) -> Result<(), ApiError> {
    let by_user = reactions.iter().filter(|r| r.u == new.u).count();
    if by_user >= MAX_REACTIONS_PER_USER {
        return Err(ApiError::InvalidArgument(format!(
            "a user may add at most {MAX_REACTIONS_PER_USER} reactions to a message"
        )));
    }
    let mut distinct: Vec<&str> = reactions.iter().map(|r| r.e.as_str()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    if !distinct.contains(&new.e.as_str()) && distinct.len() >= MAX_DISTINCT_REACTIONS {
        return Err(ApiError::InvalidArgument(format!(
            "a message holds at most {MAX_DISTINCT_REACTIONS} different reactions"
        )));
    }
    Ok(())
}

/// Which way a page of a group is read, from which `seq` (inclusive).
#[derive(Debug, Clone, Copy)]
enum Direction {
    /// Older messages, newest first.
    Down { from: i64 },
    /// Newer messages, oldest first, up to the group's newest.
    Up { from: i64, newest: i64 },
}

/// The `not_found` error of a message.
pub fn message_not_found(id: ObjectId) -> ApiError {
    ApiError::NotFound(format!("message {} not found", entity_id(id)))
}
