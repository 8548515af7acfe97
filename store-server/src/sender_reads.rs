//! Moving senders' read markers, coalesced.
//!
//! Sending a message means having read the group up to it. Rather than one
//! marker update per message (as many writes as messages), the writer records
//! the newest message of each `(group, sender)` here, and a background task
//! writes the markers every [`FLUSH_INTERVAL`]: the cost is bounded by the
//! active senders, not by the message rate. A marker may lag by one interval,
//! and the last interval is lost if the process dies.

use crate::db::Store;
use chat_wire::ids::Up;
use futures::StreamExt;
use mongodb::bson::oid::ObjectId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often pending markers are written.
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(1);
/// Marker updates in flight at once during a flush.
const CONCURRENT_UPDATES: usize = 16;

type Pending = HashMap<(ObjectId, Up), (i64, ObjectId)>;

/// Records senders' newest messages; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct SenderReads {
    pending: Arc<Mutex<Pending>>,
}

impl SenderReads {
    /// Starts the flushing task; it stops when every handle is dropped.
    pub fn spawn(store: Store) -> Self {
        let reads = Self::default();
        let pending = Arc::downgrade(&reads.pending);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(FLUSH_INTERVAL);
            loop {
                tick.tick().await;
                let Some(pending) = pending.upgrade() else {
                    return;
                };
                let batch = std::mem::take(&mut *lock(&pending));
                drop(pending);
                flush(&store, batch).await;
            }
        });
        reads
    }

    /// Notes that `up` sent message `id` (position `seq`) in `group`.
    pub fn record(&self, group: ObjectId, up: Up, seq: i64, id: ObjectId) {
        lock(&self.pending)
            .entry((group, up))
            .and_modify(|newest| *newest = (*newest).max((seq, id)))
            .or_insert((seq, id));
    }
}

fn lock(pending: &Mutex<Pending>) -> std::sync::MutexGuard<'_, Pending> {
    pending
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn flush(store: &Store, batch: Pending) {
    futures::stream::iter(batch)
        .for_each_concurrent(CONCURRENT_UPDATES, |((group, up), (seq, id))| async move {
            if let Err(err) = store.advance_read_marker(group, &up, seq, id).await {
                tracing::warn!(group = %group, up = %up, error = %err, "could not move a sender's read marker");
            }
        })
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_newest_message_of_each_sender_and_group_is_kept() {
        let reads = SenderReads::default();
        let (group, up) = (ObjectId::new(), Up::parse("up1").unwrap());
        let (older, newer) = (ObjectId::new(), ObjectId::new());
        reads.record(group, up.clone(), 2, newer);
        reads.record(group, up.clone(), 1, older);
        reads.record(ObjectId::new(), up.clone(), 9, older);
        let pending = lock(&reads.pending);
        assert_eq!(pending.len(), 2);
        assert_eq!(pending[&(group, up)], (2, newer));
    }
}
