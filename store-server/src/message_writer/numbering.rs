//! Who may send to the groups of a batch, and the numbers their messages
//! get: read fresh from MongoDB for every batch, with one `find` for all
//! its groups (while the batch before it is being inserted). Nothing about
//! membership is cached, so a leave or a join through any store instance
//! applies to the very next batch.
//!
//! A message takes the number after the newest one known to be stored: the
//! group's `messageCount` (raised before each message is acked, by any
//! instance), or the newest number this instance stored itself
//! ([`Floors`]), which may not be counted yet while its batch is being
//! answered. A number is never chosen before the one below it is stored;
//! that is what keeps a group's numbers free of gaps (see `insert`).

use crate::db::{Store, db_error};
use chat_wire::ids::Up;
use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Document, doc};
use service_kit::ApiError;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

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

/// Reads the members and counters of `groups` in one query; groups that
/// do not exist are absent.
pub async fn load(
    store: &Store,
    groups: &[ObjectId],
) -> Result<HashMap<ObjectId, GroupNow>, ApiError> {
    let docs: Vec<Document> = store
        .groups_raw()
        .find(doc! {"_id": {"$in": groups}})
        .projection(doc! {"users": 1, "messageCount": 1})
        .await
        .map_err(db_error)?
        .try_collect()
        .await
        .map_err(db_error)?;
    Ok(docs
        .into_iter()
        .filter_map(|doc| {
            let id = doc.get_object_id("_id").ok()?;
            let members = doc
                .get_array("users")
                .map(|users| {
                    users
                        .iter()
                        .filter_map(|u| u.as_str().and_then(|u| Up::parse(u).ok()))
                        .collect()
                })
                .unwrap_or_default();
            let counted = doc.get_i64("messageCount").unwrap_or(0);
            Some((id, GroupNow { members, counted }))
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
