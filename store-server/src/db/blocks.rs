//! Blocks and the presence setting: two fields of the user's document.
//!
//! - `blocked`: the users this user blocked, oldest first, at most
//!   [`MAX_BLOCKED`]. Adding is one conditional `$addToSet` (the cap is in
//!   its filter, so two blocks racing past the 1,000th never both land);
//!   removing is one `$pull`. Both are idempotent.
//! - `presenceHidden`: `true` while the user hides their presence.
//!
//! They sit on the document the presence writes already read, so a node
//! learns who may hear of a transition from the answer it gets anyway (see
//! `presence`), and every question about blocks between a few users is one
//! read on `_id` ([`Store::blocks_among`]): no other collection, no other
//! index. Direct conversations between two users of whom one blocked the
//! other are refused by [`Store::require_no_block`] (`POST /group/direct`),
//! by the message writer (`message_writer::numbering`) and by
//! [`Store::require_writer`] (edits and reactions); a read marker moved
//! there is not relayed as a receipt (`ReadState::quiet`).

use super::{Store, db_error, is_duplicate_key};
use chat_wire::ids::Up;
use chat_wire::privacy::{BlockedList, MAX_BLOCKED, Visibility};
use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Bson, Document, doc};
use mongodb::options::ReturnDocument;
use service_kit::ApiError;
use std::collections::{HashMap, HashSet};

/// Tries of a write whose user document changes or appears meanwhile.
const WRITE_ATTEMPTS: u32 = 8;

/// A short wait before trying a write again, longer each time.
async fn pause(attempt: u32) {
    tokio::time::sleep(std::time::Duration::from_millis(5 << attempt.min(5))).await;
}

impl Store {
    /// The users `up` blocked, oldest first (none for an unknown user).
    pub async fn blocked_users(&self, up: &Up) -> Result<BlockedList, ApiError> {
        Ok(self.blocked_user_doc(up).await?.unwrap_or_default())
    }

    /// `up` blocks `other` (idempotent); a user never seen is created.
    /// `rate_limited` when `up` blocked [`MAX_BLOCKED`] users already.
    pub async fn block(&self, up: &Up, other: &Up) -> Result<BlockedList, ApiError> {
        not_oneself(up, other)?;
        let last = format!("blocked.{}", MAX_BLOCKED - 1);
        for attempt in 0..WRITE_ATTEMPTS {
            let filter = doc! {
                "_id": up.as_str(),
                "$or": [{"blocked": other.as_str()}, {&last: {"$exists": false}}],
            };
            let blocked = self
                .users_raw()
                .find_one_and_update(filter, doc! {"$addToSet": {"blocked": other.as_str()}})
                .projection(doc! {"blocked": 1})
                .return_document(ReturnDocument::After)
                .await
                .map_err(db_error)?;
            if let Some(user) = blocked {
                return Ok(blocked_list(Some(&user)));
            }
            // Not matched: the cap, no document yet, or a write that
            // changed the document meanwhile. Read it to tell which.
            match self.blocked_user_doc(up).await? {
                Some(list) if list.items.contains(other) => return Ok(list),
                Some(list) if list.items.len() >= MAX_BLOCKED => {
                    return Err(ApiError::RateLimited(format!(
                        "{up} has blocked {MAX_BLOCKED} users, the most allowed; unblock one first"
                    )));
                }
                Some(_) => {}
                None => {
                    let new = doc! {
                        "_id": up.as_str(), "username": up.as_str(), "name": "", "online": false,
                        "nodes": [], "blocked": [other.as_str()],
                    };
                    match self.users_raw().insert_one(new).await {
                        Ok(_) => {
                            return Ok(BlockedList {
                                items: vec![other.clone()],
                            });
                        }
                        // Created meanwhile (its first socket, or another block).
                        Err(err) if is_duplicate_key(&err) => {}
                        Err(err) => return Err(db_error(err)),
                    }
                }
            }
            pause(attempt).await;
        }
        Err(ApiError::Unavailable(anyhow::anyhow!(
            "the user document of {up} kept changing"
        )))
    }

    /// `up` unblocks `other` (idempotent).
    pub async fn unblock(&self, up: &Up, other: &Up) -> Result<BlockedList, ApiError> {
        not_oneself(up, other)?;
        for attempt in 0..WRITE_ATTEMPTS {
            self.users_raw()
                .update_one(
                    doc! {"_id": up.as_str(), "blocked": other.as_str()},
                    doc! {"$pull": {"blocked": other.as_str()}},
                )
                .await
                .map_err(db_error)?;
            // Read back: a write that changed the document meanwhile may
            // have kept this one from matching.
            let list = self.blocked_users(up).await?;
            if !list.items.contains(other) {
                return Ok(list);
            }
            pause(attempt).await;
        }
        Err(ApiError::Unavailable(anyhow::anyhow!(
            "the user document of {up} kept changing"
        )))
    }

    /// Whether others may see the presence of `up` (a user never seen may).
    pub async fn presence_visibility(&self, up: &Up) -> Result<Visibility, ApiError> {
        let found = self
            .users_raw()
            .find_one(doc! {"_id": up.as_str()})
            .projection(doc! {"presenceHidden": 1})
            .await
            .map_err(db_error)?;
        Ok(Visibility {
            visible: !is_hidden(found.as_ref()),
            changed: false,
        })
    }

    /// Shows or hides the presence of `up`; a user never seen is created.
    /// `changed` when the setting was different before.
    pub async fn set_presence_visible(
        &self,
        up: &Up,
        visible: bool,
    ) -> Result<Visibility, ApiError> {
        for attempt in 0..WRITE_ATTEMPTS {
            let before = self
                .users_raw()
                .find_one_and_update(
                    doc! {"_id": up.as_str()},
                    doc! {
                        "$set": {"presenceHidden": !visible},
                        "$setOnInsert": {"username": up.as_str(), "name": "", "online": false, "nodes": []},
                    },
                )
                .upsert(true)
                .projection(doc! {"presenceHidden": 1})
                .return_document(ReturnDocument::Before)
                .await;
            match before {
                Ok(before) => {
                    let was_visible = !is_hidden(before.as_ref());
                    return Ok(Visibility {
                        visible,
                        changed: was_visible != visible,
                    });
                }
                // Created meanwhile by another request: update it.
                Err(err) if is_duplicate_key(&err) => pause(attempt).await,
                Err(err) => return Err(db_error(err)),
            }
        }
        Err(ApiError::Unavailable(anyhow::anyhow!(
            "the user document of {up} kept changing"
        )))
    }

    /// The `blocked` list of an existing user, or `None`.
    async fn blocked_user_doc(&self, up: &Up) -> Result<Option<BlockedList>, ApiError> {
        let found = self
            .users_raw()
            .find_one(doc! {"_id": up.as_str()})
            .projection(doc! {"blocked": 1})
            .await
            .map_err(db_error)?;
        Ok(found.map(|user| blocked_list(Some(&user))))
    }

    /// Who of `ups` blocked whom of `ups`: each blocker with the users of
    /// `ups` they blocked. One read on `_id`.
    pub async fn blocks_among(&self, ups: &[&str]) -> Result<HashMap<Up, HashSet<Up>>, ApiError> {
        if ups.len() < 2 {
            return Ok(HashMap::new());
        }
        let found: Vec<Document> = self
            .users_raw()
            .find(doc! {"_id": {"$in": ups}, "blocked": {"$in": ups}})
            .projection(doc! {"blocked": 1})
            .await
            .map_err(db_error)?
            .try_collect()
            .await
            .map_err(db_error)?;
        let among: HashSet<&str> = ups.iter().copied().collect();
        Ok(found
            .iter()
            .filter_map(|user| {
                let blocker = Up::parse(user.get_str("_id").ok()?).ok()?;
                let blocked: HashSet<Up> = blocked_list(Some(user))
                    .items
                    .into_iter()
                    .filter(|up| among.contains(up.as_str()))
                    .collect();
                (!blocked.is_empty()).then_some((blocker, blocked))
            })
            .collect())
    }

    /// `permission_denied` when one of `from` and `to` blocked the other: a
    /// direct conversation between them cannot be opened or continued.
    pub async fn require_no_block(&self, from: &Up, to: &Up) -> Result<(), ApiError> {
        let blocks = self.blocks_among(&[from.as_str(), to.as_str()]).await?;
        match block_refusal(&blocks, from, to) {
            Some(refusal) => Err(refusal),
            None => Ok(()),
        }
    }

    /// `permission_denied` unless `up` is a member of `group` and, in a
    /// direct group, neither of the two blocked the other: what editing a
    /// message and reacting need. Deleting one's own message and taking a
    /// reaction back stay allowed.
    pub async fn require_writer(&self, group: ObjectId, up: &Up) -> Result<(), ApiError> {
        match self.direct_refusal(group, up).await? {
            Some(refusal) => Err(refusal),
            None => Ok(()),
        }
    }

    /// `permission_denied` unless `up` is a member of `group`; then, in a
    /// direct group where one of the two blocked the other, the refusal of
    /// what `up` would write there.
    pub async fn direct_refusal(
        &self,
        group: ObjectId,
        up: &Up,
    ) -> Result<Option<ApiError>, ApiError> {
        let found = self
            .member_group(group, up, doc! {"kind": 1, "users": 1})
            .await?;
        self.refusal_in(&found, up).await
    }

    /// [`Self::direct_refusal`] in a group already read with its `kind`
    /// and `users`, `up` among them.
    pub async fn refusal_in(
        &self,
        group: &Document,
        up: &Up,
    ) -> Result<Option<ApiError>, ApiError> {
        if group.get_str("kind") != Ok("direct") {
            return Ok(None);
        }
        let other = group
            .get_array("users")
            .ok()
            .into_iter()
            .flatten()
            .filter_map(Bson::as_str)
            .find(|other| *other != up.as_str())
            .and_then(|other| Up::parse(other).ok());
        let Some(other) = other else {
            return Ok(None);
        };
        let blocks = self.blocks_among(&[up.as_str(), other.as_str()]).await?;
        Ok(block_refusal(&blocks, up, &other))
    }

    /// `users` as raw documents.
    fn users_raw(&self) -> mongodb::Collection<Document> {
        self.users.clone_with_type::<Document>()
    }
}

/// The refusal of a direct message from `from` to `to`, given the blocks
/// between them. The blocker is told why; the blocked user is not told
/// more than that they cannot.
pub fn block_refusal(blocks: &HashMap<Up, HashSet<Up>>, from: &Up, to: &Up) -> Option<ApiError> {
    let blocked = |a: &Up, b: &Up| blocks.get(a).is_some_and(|set| set.contains(b));
    if blocked(from, to) {
        Some(ApiError::PermissionDenied(format!(
            "{from} has blocked {to}; unblock them to write to them"
        )))
    } else if blocked(to, from) {
        Some(ApiError::PermissionDenied(format!(
            "{from} cannot write to {to}"
        )))
    } else {
        None
    }
}

/// `invalid_argument` when a user names themselves.
fn not_oneself(up: &Up, other: &Up) -> Result<(), ApiError> {
    if up == other {
        return Err(ApiError::InvalidArgument(format!(
            "{up} cannot block or unblock themselves"
        )));
    }
    Ok(())
}

/// The `blocked` field of a user document, valid ids only.
fn blocked_list(user: Option<&Document>) -> BlockedList {
    let items = user
        .and_then(|user| user.get_array("blocked").ok())
        .map(|blocked| {
            blocked
                .iter()
                .filter_map(Bson::as_str)
                .filter_map(|up| Up::parse(up).ok())
                .collect()
        })
        .unwrap_or_default();
    BlockedList { items }
}

/// Whether a user document hides its presence.
pub fn is_hidden(user: Option<&Document>) -> bool {
    user.and_then(|user| user.get_bool("presenceHidden").ok())
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(name: &str) -> Up {
        Up::parse(name).unwrap()
    }

    #[test]
    fn the_blocker_is_told_why_and_the_blocked_user_only_that_they_cannot() {
        let (ana, bea) = (up("ana"), up("bea"));
        let blocks = HashMap::from([(ana.clone(), HashSet::from([bea.clone()]))]);
        let to_blocker = block_refusal(&blocks, &bea, &ana).unwrap().to_string();
        assert!(!to_blocker.contains("block"), "{to_blocker}");
        let to_blocked = block_refusal(&blocks, &ana, &bea).unwrap().to_string();
        assert!(to_blocked.contains("unblock"), "{to_blocked}");
        assert!(block_refusal(&HashMap::new(), &ana, &bea).is_none());
    }

    #[test]
    fn a_document_lists_only_valid_ids_and_is_visible_by_default() {
        let user = doc! {"_id": "ana", "blocked": ["bea", "a/b", 3], "presenceHidden": true};
        assert_eq!(blocked_list(Some(&user)).items, [up("bea")]);
        assert!(is_hidden(Some(&user)));
        assert!(!is_hidden(Some(&doc! {"_id": "ana"})));
        assert!(blocked_list(None).items.is_empty());
    }
}
