//! What the writer knows of the groups it writes to: members and the last
//! `seq` handed out.
//!
//! Membership and numbering are checked and done in memory, so a batch costs
//! one `insertMany` and one `update` of the groups' counters, whatever the
//! number of groups. An entry is loaded from MongoDB on first use and again
//! after [`ENTRY_TTL`]; joins and leaves through this store forget the group
//! at once ([`super::MessageWriter::forget_group`]), so a member who left is
//! refused immediately. Another store instance sharing the database would
//! change a group only within the TTL, and `seq` collisions with it are
//! caught by the unique `{group, seq}` index (see `insert`).

use crate::db::{Store, db_error};
use chat_wire::ids::Up;
use futures::TryStreamExt;
use futures::future::try_join_all;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Document, doc};
use service_kit::ApiError;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a loaded group is trusted.
pub const ENTRY_TTL: Duration = Duration::from_secs(5);

/// One group as the writer knows it.
#[derive(Debug, Clone)]
pub struct CachedGroup {
    /// Its members.
    pub members: HashSet<Up>,
    /// The last `seq` handed out in it.
    pub last_seq: i64,
    loaded: Instant,
}

/// The writer's groups, shared with the routes that change membership.
#[derive(Debug, Clone, Default)]
pub struct GroupCache {
    entries: Arc<Mutex<Entries>>,
}

/// The cached groups, and the groups forgotten while a batch had them out.
#[derive(Debug, Default)]
struct Entries {
    groups: HashMap<ObjectId, CachedGroup>,
    forgotten: HashSet<ObjectId>,
}

impl GroupCache {
    /// Forgets a group, so the next message reloads it.
    pub fn forget(&self, group: &ObjectId) {
        let mut entries = self.lock();
        entries.groups.remove(group);
        // A batch may hold this group right now: it must not put it back.
        entries.forgotten.insert(*group);
    }

    /// Takes the fresh entries of `groups` out of the cache, loading the
    /// missing or stale ones; groups that do not exist are absent.
    pub async fn checkout(
        &self,
        store: &Store,
        groups: &HashSet<ObjectId>,
    ) -> Result<HashMap<ObjectId, CachedGroup>, ApiError> {
        let mut found = HashMap::with_capacity(groups.len());
        let mut missing = Vec::new();
        {
            let mut entries = self.lock();
            for group in groups {
                entries.forgotten.remove(group);
                match entries.groups.remove(group) {
                    Some(entry) if entry.loaded.elapsed() < ENTRY_TTL => {
                        found.insert(*group, entry);
                    }
                    _ => missing.push(*group),
                }
            }
        }
        if !missing.is_empty() {
            found.extend(load(store, &missing).await?);
        }
        Ok(found)
    }

    /// Puts entries back after a batch, except those forgotten meanwhile.
    pub fn checkin(&self, groups: HashMap<ObjectId, CachedGroup>) {
        let mut entries = self.lock();
        for (id, group) in groups {
            if !entries.forgotten.remove(&id) {
                entries.groups.insert(id, group);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Loads groups: members from the group, last `seq` from the newer of its
/// counter and its newest stored message.
async fn load(
    store: &Store,
    groups: &[ObjectId],
) -> Result<HashMap<ObjectId, CachedGroup>, ApiError> {
    let docs: Vec<Document> = store
        .groups_raw()
        .find(doc! {"_id": {"$in": groups}})
        .projection(doc! {"users": 1, "messageCount": 1})
        .await
        .map_err(db_error)?
        .try_collect()
        .await
        .map_err(db_error)?;
    let newest = try_join_all(docs.iter().filter_map(|d| {
        let id = d.get_object_id("_id").ok()?;
        let counter = d.get_i64("messageCount").unwrap_or(0);
        Some(async move { Ok::<_, ApiError>((id, store.newest_seq_above(id, counter).await?)) })
    }))
    .await?;
    let newest: HashMap<ObjectId, i64> = newest.into_iter().collect();
    let now = Instant::now();
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
            let counter = doc.get_i64("messageCount").unwrap_or(0);
            let last_seq = counter.max(newest.get(&id).copied().unwrap_or(0));
            Some((
                id,
                CachedGroup {
                    members,
                    last_seq,
                    loaded: now,
                },
            ))
        })
        .collect())
}
