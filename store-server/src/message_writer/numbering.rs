//! Who may send to the groups of a batch, and the numbers their messages
//! get: read fresh from MongoDB for every batch, with one `find` for all
//! its groups (while the batch before it is being inserted). Nothing about
//! membership is cached, so a leave or a join through any store instance
//! applies to the very next batch.
//!
//! A direct group where one of the two users blocked the other refuses
//! both: the blocks between the users of the batch's direct groups are read
//! right after the groups, with one more `find` on `users` (only when the
//! batch holds direct messages).
//!
//! A message takes the number after the newest one known to be stored: the
//! group's `messageCount` (raised before each message is acked, by any
//! instance), or the newest number this instance stored itself
//! ([`Floors`]), which may not be counted yet while its batch is being
//! answered. A number is never chosen before the one below it is stored;
//! that is what keeps a group's numbers free of gaps (see `insert`).

use crate::db::blocks::block_refusal;
use crate::db::{Store, db_error};
use chat_wire::ids::Up;
use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Document, doc};
use service_kit::ApiError;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::Mutex;

/// Groups whose floor is remembered at most; beyond, all are forgotten
/// (a forgotten floor costs a collision, never a wrong number).
const MAX_FLOORS: usize = 100_000;

/// A group of the batch as MongoDB had it when the batch was read.
#[derive(Debug, Clone)]
pub struct GroupNow {
    /// Its members.
    pub members: HashSet<Up>,
    /// Its `messageCount`.
    pub counted: i64,
    /// A direct group's two users, with the blocks between them.
    pub direct: Option<Direct>,
}

/// The users of a direct group and who blocked whom among the batch's
/// direct groups' users.
#[derive(Debug, Clone)]
pub struct Direct {
    users: Vec<Up>,
    blocks: Arc<HashMap<Up, HashSet<Up>>>,
}

impl GroupNow {
    /// The refusal of a message from `from`, a member, when the group is a
    /// direct conversation where one of the two blocked the other.
    pub fn blocked(&self, from: &Up) -> Option<ApiError> {
        let direct = self.direct.as_ref()?;
        let to = direct.users.iter().find(|up| *up != from)?;
        block_refusal(&direct.blocks, from, to)
    }
}

/// The newest number this instance stored in each group; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Floors {
    newest: Arc<Mutex<HashMap<ObjectId, i64>>>,
}

impl Floors {
    /// Notes that number `seq` of `group` is stored.
    pub fn stored(&self, group: ObjectId, seq: i64) {
        let mut newest = self.lock();
        if newest.len() >= MAX_FLOORS && !newest.contains_key(&group) {
            newest.clear();
        }
        let floor = newest.entry(group).or_insert(seq);
        *floor = (*floor).max(seq);
    }

    /// Forgets what this instance knows of `group` (its insert failed: what
    /// is stored is read again).
    pub fn forget(&self, group: &ObjectId) {
        self.lock().remove(group);
    }

    /// The number the next message of `group` takes, after `counted` (the
    /// group's count when it was read) and after what this instance stored.
    pub fn next(&self, group: &ObjectId, counted: i64) -> i64 {
        counted.max(self.get(group)) + 1
    }

    fn get(&self, group: &ObjectId) -> i64 {
        self.lock().get(group).copied().unwrap_or(0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ObjectId, i64>> {
        self.newest
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Reads the members and counters of `groups` in one query, and the blocks
/// between the users of its direct groups in another; groups that do not
/// exist are absent.
pub async fn load(
    store: &Store,
    groups: &[ObjectId],
) -> Result<HashMap<ObjectId, GroupNow>, ApiError> {
    let mut found = read_groups(store, groups).await?;
    let direct_users: HashSet<&str> = found
        .values()
        .filter(|group| group.direct.is_some())
        .flat_map(|group| group.members.iter().map(Up::as_str))
        .collect();
    if direct_users.is_empty() {
        return Ok(found);
    }
    let users: Vec<&str> = direct_users.into_iter().collect();
    let blocks = Arc::new(store.blocks_among(&users).await?);
    for direct in found.values_mut().filter_map(|group| group.direct.as_mut()) {
        direct.blocks = blocks.clone();
    }
    Ok(found)
}

/// The groups of `groups` that exist, as the batch needs them (without
/// the blocks of direct groups: see [`load`]).
pub async fn read_groups(
    store: &Store,
    groups: &[ObjectId],
) -> Result<HashMap<ObjectId, GroupNow>, ApiError> {
    let docs: Vec<Document> = store
        .groups_raw()
        .find(doc! {"_id": {"$in": groups}})
        .projection(doc! {"users": 1, "messageCount": 1, "kind": 1})
        .await
        .map_err(db_error)?
        .try_collect()
        .await
        .map_err(db_error)?;
    Ok(docs
        .into_iter()
        .filter_map(|doc| {
            let id = doc.get_object_id("_id").ok()?;
            let users: Vec<Up> = doc
                .get_array("users")
                .map(|users| {
                    users
                        .iter()
                        .filter_map(|u| u.as_str().and_then(|u| Up::parse(u).ok()))
                        .collect()
                })
                .unwrap_or_default();
            let counted = doc.get_i64("messageCount").unwrap_or(0);
            let direct = (doc.get_str("kind") == Ok("direct")).then(|| Direct {
                users: users.clone(),
                blocks: Arc::default(),
            });
            let members = users.into_iter().collect();
            Some((
                id,
                GroupNow {
                    members,
                    counted,
                    direct,
                },
            ))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_floor_only_rises_and_a_forgotten_one_is_zero() {
        let floors = Floors::default();
        let group = ObjectId::new();
        floors.stored(group, 7);
        floors.stored(group, 5);
        assert_eq!(floors.next(&group, 3), 8, "after what this instance stored");
        assert_eq!(
            floors.next(&group, 9),
            10,
            "after what another instance counted"
        );
        floors.forget(&group);
        assert_eq!(floors.next(&group, 3), 4);
    }
}
