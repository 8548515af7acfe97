//! The sweep: removes the attachments no message took within
//! [`UNUSED_FOR`] (an hour), the uploads that died with their store, and
//! finishes the removals that stopped halfway. Every store instance runs
//! one, every [`EVERY`] (jittered, so instances started together do not
//! sweep in step).
//!
//! Several sweeps may run at once, on any instances: each attachment is
//! taken for removal by one conditional update that still requires what
//! made it a candidate (`state: stored` and old enough, say), so only one
//! sweep removes it, and a message that claims it a moment before wins: a
//! claimed attachment is no longer `stored`. Deleting bytes twice is
//! harmless, which is all a sweep that finishes another's removal does.
//!
//! A claim older than an hour is a message that was never answered (its
//! store died between the claim and the insert, or after the insert and
//! before the attachments were marked `attached`): if the message is
//! stored with the attachment, the attachment is marked `attached`; if not,
//! it is removed.

use crate::db::attachments::{AttachmentDoc, AttachmentState};
use crate::db::documents::entity_id;
use crate::db::{Store, db_error};
use futures::TryStreamExt;
use mongodb::bson::{DateTime, Document, doc};
use service_kit::ApiError;
use std::time::Duration;

/// How long an attachment may wait for a message.
pub const UNUSED_FOR: Duration = Duration::from_secs(60 * 60);
/// How often a store sweeps.
pub const EVERY: Duration = Duration::from_secs(10 * 60);
/// How long a removal may take before a sweep finishes it.
const REMOVAL_STALLED: Duration = Duration::from_secs(5 * 60);
/// Candidates read at a time.
const BATCH: i64 = 100;

/// What a sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Attachments removed.
    pub removed: usize,
    /// Claimed attachments found in their stored message.
    pub attached: usize,
}

/// Sweeps every [`EVERY`] until the runtime stops.
pub async fn run(store: Store) {
    loop {
        let jitter = DateTime::now().timestamp_millis().unsigned_abs() % 60_000;
        tokio::time::sleep(EVERY + Duration::from_millis(jitter)).await;
        match sweep(&store, DateTime::now()).await {
            Ok(swept) if swept != Swept::default() => {
                tracing::info!(
                    removed = swept.removed,
                    attached = swept.attached,
                    "attachments swept"
                );
            }
            Ok(_) => {}
            Err(err) => {
                tracing::warn!(error = %err, "the attachment sweep stopped; it runs again later");
            }
        }
    }
}

/// One sweep, as if it were `now`.
pub async fn sweep(store: &Store, now: DateTime) -> Result<Swept, ApiError> {
    let before =
        |age: Duration| DateTime::from_millis(now.timestamp_millis() - age.as_millis() as i64);
    let unused = before(UNUSED_FOR);
    let mut swept = Swept::default();
    let states = [AttachmentState::Uploading, AttachmentState::Stored];
    for state in states {
        let candidates = doc! {"state": state, "createdAt": {"$lt": unused}};
        swept.removed += remove_all(store, candidates, now).await?;
    }
    swept.attached += settle_claims(store, unused, now, &mut swept.removed).await?;
    let stalled =
        doc! {"state": AttachmentState::Removing, "removingAt": {"$lt": before(REMOVAL_STALLED)}};
    for found in candidates(store, stalled).await? {
        store.erase(&found).await?;
        swept.removed += 1;
    }
    Ok(swept)
}

/// The first [`BATCH`] attachments that `filter` finds.
async fn candidates(store: &Store, filter: Document) -> Result<Vec<AttachmentDoc>, ApiError> {
    store
        .attachments
        .find(filter)
        .limit(BATCH)
        .await
        .map_err(db_error)?
        .try_collect()
        .await
        .map_err(db_error)
}

/// Removes every attachment `filter` finds, taking each one with the same
/// filter (so that none changed meanwhile).
async fn remove_all(store: &Store, filter: Document, now: DateTime) -> Result<usize, ApiError> {
    let mut removed = 0;
    loop {
        let found = candidates(store, filter.clone()).await?;
        if found.is_empty() {
            return Ok(removed);
        }
        for candidate in found {
            let mut exact = filter.clone();
            exact.insert("_id", candidate.id);
            // Another sweep, or a message, may have taken it first.
            if let Some(taken) = store.take_for_removal(exact, now).await? {
                store.erase(&taken).await?;
                removed += 1;
            }
        }
    }
}

/// Settles the claims older than `unused`: attached if their message is
/// stored with them, removed if not. Answers how many were attached.
async fn settle_claims(
    store: &Store,
    unused: DateTime,
    now: DateTime,
    removed: &mut usize,
) -> Result<usize, ApiError> {
    let filter = doc! {"state": AttachmentState::Claimed, "claimedAt": {"$lt": unused}};
    let mut attached = 0;
    loop {
        let found = candidates(store, filter.clone()).await?;
        if found.is_empty() {
            return Ok(attached);
        }
        for claimed in found {
            let key = claimed.claim.clone();
            let message = match &key {
                Some(key) => store
                    .messages
                    .find_one(doc! {"nonceKey": key})
                    .await
                    .map_err(db_error)?
                    .filter(|message| message.attachments.iter().any(|a| a.id == claimed.id)),
                None => None,
            };
            match (message, key) {
                (Some(message), Some(key)) => {
                    store
                        .link_attachments(&[claimed.id], &key, message.id)
                        .await?;
                    tracing::info!(attachment = %entity_id(claimed.id), "a claimed attachment was found in its message");
                    attached += 1;
                }
                (_, key) => {
                    let mut exact = doc! {"_id": claimed.id, "state": AttachmentState::Claimed};
                    if let Some(key) = key {
                        exact.insert("claim", key);
                    }
                    if let Some(taken) = store.take_for_removal(exact, now).await? {
                        store.erase(&taken).await?;
                        *removed += 1;
                    }
                }
            }
        }
    }
}
