//! Whether a retry that finds its message already stored is told it
//! created it (`created: true`, so the chat-server broadcasts it), or is a
//! mere retry (`created: false`).
//!
//! A message must reach its room once. Its first attempt's sender was told
//! of the creation unless the answer was lost:
//! - the instance that stored it answered nobody (the chat-server's call
//!   had given up): the message carries the `untold` mark (`db::untold`),
//!   which the first retry, on any instance, takes off;
//! - the insert timed out and landed later, or the mark could not be
//!   written: the key is an [`Orphans`] entry in the memory of that
//!   instance;
//! - the instance that stored it died before counting it (killed, crashed,
//!   its machine lost): nothing in memory knows, but the group's
//!   `messageCount` is still below the message's number. A sender is only
//!   answered once its message is counted, so a number above the count was
//!   never answered by anyone.
//!
//! The first retry that finds such a message is told it created it, and
//! the batch's counting then counts it. Before deciding, the writer waits
//! for this instance's batches still being answered: until they are, their
//! messages are neither counted nor orphans, and would pass for both. It
//! waits, takes the marks and reads the counts for at most
//! [`INSERT_TIMEOUT`] each: a MongoDB that hangs does not stall the writer
//! here (past the wait, uncounted messages are not looked for; marks taken
//! when the taking timed out are lost).
//!
//! A message can still be broadcast twice, or never: two instances may
//! each find the same uncounted message in the same moment (a retry sent
//! to two instances at once), and a message's own later neighbours counted
//! by another sender raise the count past it before its retry comes. Both
//! take a store instance dying between an insert and its answer. An orphan
//! kept only in memory is lost with its instance.

use super::insert::{Done, INSERT_TIMEOUT};
use super::numbering;
use super::orphans::Orphans;
use crate::db::Store;
use mongodb::bson::oid::ObjectId;
use service_kit::ApiError;
use std::collections::HashSet;
use tokio::sync::Semaphore;

/// Decides `created` for the messages of `done` found stored before
/// (`created: false` so far). `publishing` has `publishing_permits` permits,
/// one held by each batch being answered.
pub async fn settle(
    store: &Store,
    orphans: &Orphans,
    publishing: &Semaphore,
    publishing_permits: u32,
    done: &mut [Done],
) {
    if done.iter().all(|item| item.created) {
        return;
    }
    let waited = tokio::time::timeout(INSERT_TIMEOUT, publishing.acquire_many(publishing_permits));
    let all_answered = matches!(waited.await, Ok(Ok(_)));
    let found: Vec<ObjectId> = done
        .iter()
        .filter(|item| !item.created)
        .map(|item| item.doc.id)
        .collect();
    let marked = bounded(
        store.take_untold(&found),
        "which retried messages nobody heard of",
    )
    .await
    .unwrap_or_default();
    let mut unclaimed: Vec<&mut Done> = Vec::new();
    for item in done.iter_mut().filter(|item| !item.created) {
        let in_memory = item
            .doc
            .nonce_key
            .as_deref()
            .is_some_and(|key| orphans.claim(key));
        if in_memory || marked.contains(&item.doc.id) {
            item.created = true;
        } else {
            unclaimed.push(item);
        }
    }
    // Batches still being answered (MongoDB is slow) may hold these very
    // messages: uncounted, they would pass for unanswered.
    if unclaimed.is_empty() || !all_answered {
        return;
    }
    let groups: HashSet<ObjectId> = unclaimed.iter().map(|item| item.doc.group).collect();
    let groups: Vec<ObjectId> = groups.into_iter().collect();
    let read = numbering::read_groups(store, &groups);
    let Some(counted) = bounded(read, "whether retried messages were counted").await else {
        return;
    };
    for item in unclaimed {
        let count = counted
            .get(&item.doc.group)
            .map_or(0, |group| group.counted);
        item.created = item.doc.seq > count;
    }
}

/// `step` given [`INSERT_TIMEOUT`]; `None`, logged, when it fails or
/// MongoDB does not answer in time. `what` says what it reads.
async fn bounded<T>(step: impl Future<Output = Result<T, ApiError>>, what: &str) -> Option<T> {
    match tokio::time::timeout(INSERT_TIMEOUT, step).await {
        Ok(Ok(value)) => Some(value),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "could not read {what}");
            None
        }
        Err(_) => {
            tracing::warn!("MongoDB did not say {what} in time");
            None
        }
    }
}
