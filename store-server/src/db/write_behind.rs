//! Group message counts and senders' read markers, written behind.
//!
//! Every stored message raises its group's `messageCount` and moves its
//! sender's read marker (sending means having read the group up to there).
//! Written per batch, these would cost MongoDB more than the messages
//! themselves. Instead the writer records them here, in memory; every
//! [`FLUSH_INTERVAL`] one `update` command per collection writes whatever
//! changed (`$max` on counts, forward-only on markers). Reads of this store
//! merge the pending values in, so they are exact at once; another store
//! instance sees them one interval later. What a crash loses is repaired:
//! counts from the messages themselves ([`Store::message_count`]), markers at
//! the user's next read.

use super::documents::{collections, read_key};
use super::{Store, db_error};
use chat_wire::ids::Up;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Document, doc};
use service_kit::ApiError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// How often pending counts and markers are written.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(250);

type Counts = HashMap<ObjectId, i64>;
type Markers = HashMap<(ObjectId, Up), (i64, ObjectId)>;

/// Pending counts and markers; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct WriteBehind {
    counts: Arc<Mutex<Counts>>,
    markers: Arc<Mutex<Markers>>,
}

impl WriteBehind {
    /// Notes that `group` holds a message numbered `seq`.
    pub fn record_count(&self, group: ObjectId, seq: i64) {
        let mut counts = lock(&self.counts);
        let count = counts.entry(group).or_insert(seq);
        *count = (*count).max(seq);
    }

    /// Notes that `up` has read `group` up to message `id` (number `seq`).
    pub fn record_marker(&self, group: ObjectId, up: Up, seq: i64, id: ObjectId) {
        lock(&self.markers)
            .entry((group, up))
            .and_modify(|newest| *newest = (*newest).max((seq, id)))
            .or_insert((seq, id));
    }

    /// The pending count of `group`, if any.
    pub fn count(&self, group: &ObjectId) -> Option<i64> {
        lock(&self.counts).get(group).copied()
    }

    /// Every pending count. Read it before the stored counts (see `flush`).
    pub fn counts(&self) -> Counts {
        lock(&self.counts).clone()
    }

    /// The pending markers of `up`, by group. Read them before the stored
    /// markers (see `flush`).
    pub fn markers_of(&self, up: &Up) -> HashMap<ObjectId, (i64, ObjectId)> {
        lock(&self.markers)
            .iter()
            .filter(|((_, who), _)| who == up)
            .map(|((group, _), marker)| (*group, *marker))
            .collect()
    }

    /// The pending marker of `up` in `group`, if any.
    pub fn marker(&self, group: ObjectId, up: &Up) -> Option<(i64, ObjectId)> {
        lock(&self.markers).get(&(group, up.clone())).copied()
    }

    /// Writes what is pending every [`FLUSH_INTERVAL`], for as long as the
    /// runtime lives.
    pub fn spawn_flusher(&self, store: Store) {
        let pending = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(FLUSH_INTERVAL);
            loop {
                tick.tick().await;
                if let Err(err) = pending.flush(&store).await {
                    tracing::warn!(error = %err, "could not write message counts and read markers; retrying");
                }
            }
        });
    }

    /// Writes the pending values; those unchanged meanwhile are forgotten.
    /// The database is written before anything is forgotten, so a reader
    /// that takes the pending value first and the stored one second always
    /// sees the newest of the two.
    pub async fn flush(&self, store: &Store) -> Result<(), ApiError> {
        let counts = lock(&self.counts).clone();
        if !counts.is_empty() {
            let updates: Vec<Document> = counts
                .iter()
                .map(|(id, count)| doc! {"q": {"_id": id}, "u": {"$max": {"messageCount": count}}})
                .collect();
            run_update(store, collections::GROUPS, updates).await?;
            forget_written(&self.counts, &counts);
        }
        let markers = lock(&self.markers).clone();
        if !markers.is_empty() {
            let updates: Vec<Document> = markers
                .iter()
                .map(|((group, up), (seq, id))| {
                    let key = read_key(group, up);
                    // An existing marker at `seq` or beyond does not match and
                    // the upsert then collides with it: it stays as it is.
                    doc! {
                        "q": {"_id": &key, "seq": {"$lt": seq}},
                        "u": {"$set": {"_id": &key, "group": group, "up": up.as_str(), "seq": seq, "messageId": id}},
                        "upsert": true,
                    }
                })
                .collect();
            run_update(store, collections::READS, updates).await?;
            forget_written(&self.markers, &markers);
        }
        Ok(())
    }
}

/// One unordered multi-statement `update`; per-statement duplicate-key
/// errors (markers already further on) are expected and ignored.
async fn run_update(
    store: &Store,
    collection: &str,
    updates: Vec<Document>,
) -> Result<(), ApiError> {
    let command = doc! {"update": collection, "updates": updates, "ordered": false};
    let reply = store
        .database()
        .run_command(command)
        .await
        .map_err(db_error)?;
    let unexpected = reply
        .get_array("writeErrors")
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e.as_document())
                .filter(|e| e.get_i32("code").ok() != Some(super::DUPLICATE_KEY))
                .count()
        })
        .unwrap_or(0);
    if unexpected > 0 {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "{unexpected} statements of an update of {collection} failed"
        )));
    }
    Ok(())
}

fn forget_written<K: std::hash::Hash + Eq, V: PartialEq>(
    pending: &Mutex<HashMap<K, V>>,
    written: &HashMap<K, V>,
) {
    lock(pending).retain(|key, value| written.get(key) != Some(value));
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_highest_values_are_kept() {
        let pending = WriteBehind::default();
        let (group, up) = (ObjectId::new(), Up::parse("up1").unwrap());
        let (older, newer) = (ObjectId::new(), ObjectId::new());
        pending.record_count(group, 5);
        pending.record_count(group, 3);
        pending.record_marker(group, up.clone(), 2, newer);
        pending.record_marker(group, up.clone(), 1, older);
        assert_eq!(pending.count(&group), Some(5));
        assert_eq!(pending.marker(group, &up), Some((2, newer)));
    }

    #[test]
    fn values_changed_during_a_flush_stay_pending() {
        let pending = WriteBehind::default();
        let (a, b) = (ObjectId::new(), ObjectId::new());
        pending.record_count(a, 1);
        pending.record_count(b, 1);
        let written = lock(&pending.counts).clone();
        pending.record_count(b, 2);
        forget_written(&pending.counts, &written);
        assert_eq!(pending.count(&a), None);
        assert_eq!(pending.count(&b), Some(2));
    }
}
