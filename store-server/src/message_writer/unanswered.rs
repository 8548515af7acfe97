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
    let taken = tokio::time::timeout(INSERT_TIMEOUT, store.take_untold(&found));
    let marked = match taken.await {
        Ok(Ok(marked)) => marked,
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "could not read which retried messages nobody heard of");
            HashSet::new()
        }
        Err(_) => {
            tracing::warn!("MongoDB did not say in time which retried messages nobody heard of");
            HashSet::new()
        }
    };
    let mut unclaimed: Vec<&mut Done> = Vec::new();
    for item in done.iter_mut().filter(|item| !item.created) {
        let in_memory = item
            .doc
            .nonce_key
            .as_deref()
            .is_some_and(|key| orphans.claim(key));
        match in_memory || marked.contains(&item.doc.id) {
            true => item.created = true,
            false => unclaimed.push(item),
        }
    }
    // Batches still being answered (MongoDB is slow) may hold these very
    // messages: uncounted, they would pass for unanswered.
    if unclaimed.is_empty() || !all_answered {
        return;
    }
    let groups: HashSet<ObjectId> = unclaimed.iter().map(|item| item.doc.group).collect();
    let groups: Vec<ObjectId> = groups.into_iter().collect();
    let read = tokio::time::timeout(INSERT_TIMEOUT, numbering::read_groups(store, &groups));
    let counted = match read.await {
        Ok(Ok(groups)) => groups,
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "could not read whether retried messages were counted");
            return;
        }
        Err(_) => {
            tracing::warn!("MongoDB did not say in time whether retried messages were counted");
            return;
        }
    };
    for item in unclaimed {
        let count = counted
            .get(&item.doc.group)
            .map_or(0, |group| group.counted);
        item.created = item.doc.seq > count;
    }
}
