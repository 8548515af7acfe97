//! Answering a stored batch, once it is counted.
//!
//! Before a sender is answered, the batch's groups have their
//! `messageCount` raised to their newest message of the batch (`$max`, so
//! a counter raised further by another instance never goes back), and the
//! senders' read markers move to their messages (sending means having read
//! the group up to there). Both are one multi-statement `update` for the
//! whole batch, run side by side. So an acked message is counted in `total`
//! and unread counts, through every store instance, and nothing about it is
//! left in memory for a crash to lose. A message created with nobody left
//! to hear the answer is marked so on the message (`db::untold`).

use super::insert::Done;
use super::orphans::Orphans;
use super::{Outcome, Stored, Untold};
use crate::db::Store;
use crate::db::reads::ReadMarker;
use chat_wire::ids::Up;
use chat_wire::model::Message;
use mongodb::bson::oid::ObjectId;
use service_kit::ApiError;
use std::collections::HashMap;

/// Counts the batch, moves the senders' markers, and answers.
pub async fn publish(store: &Store, done: Vec<Done>, orphans: &Orphans) {
    if done.is_empty() {
        return;
    }
    let mut counts: HashMap<ObjectId, i64> = HashMap::new();
    for item in &done {
        let count = counts.entry(item.doc.group).or_default();
        *count = (*count).max(item.doc.seq);
    }
    let (counted, markers) = tokio::join!(
        store.raise_message_counts(&counts),
        move_markers(store, &done)
    );
    if let Err(err) = markers {
        // The messages are stored and counted; a marker moves again at the
        // sender's next message or read.
        tracing::warn!(error = %err, "could not move the senders' read markers");
    }
    match counted {
        Ok(()) => {
            let mut untold = Vec::new();
            for item in done {
                let id = item.doc.id;
                let stored = Stored {
                    message: Message::from(item.doc),
                    created: item.created,
                };
                let outcome = Outcome::Stored(Box::new(stored));
                if let Some(Untold { key }) = item.pending.answer_noting_untold(outcome, orphans) {
                    untold.push((id, key));
                }
            }
            remember_untold(store, untold, orphans).await;
        }
        // Stored, not counted: a retry finds the message, is told it created
        // it, and counts it.
        Err(err) => {
            for item in done {
                let err = ApiError::from_code(err.code(), err.to_string());
                item.pending.answer_unknown(err, orphans);
            }
        }
    }
}

/// Marks the messages created with nobody told on the messages
/// themselves, so that a retry on any instance, or after a restart, finds
/// them (`db::untold`); once marked, this instance forgets them, the mark
/// being the one record. If the mark cannot be written, the orphans in
/// memory still know them.
async fn remember_untold(
    store: &Store,
    untold: Vec<(ObjectId, Option<String>)>,
    orphans: &Orphans,
) {
    if untold.is_empty() {
        return;
    }
    let ids: Vec<ObjectId> = untold.iter().map(|(id, _)| *id).collect();
    match store.mark_untold(&ids).await {
        Ok(()) => {
            for key in untold.iter().filter_map(|(_, key)| key.as_deref()) {
                orphans.claim(key);
            }
        }
        Err(err) => {
            tracing::warn!(error = %err, "could not mark messages nobody heard of; only this instance knows them");
        }
    }
}

/// Moves each sender's read marker forward to their newest message of the
/// batch, in one write.
async fn move_markers(store: &Store, done: &[Done]) -> Result<(), ApiError> {
    let mut newest: HashMap<(ObjectId, &Up), (i64, ObjectId)> = HashMap::new();
    for item in done.iter().filter(|item| item.created) {
        let doc = &item.doc;
        let marker = (doc.seq, doc.id);
        newest
            .entry((doc.group, &doc.from))
            .and_modify(|current| *current = (*current).max(marker))
            .or_insert(marker);
    }
    let markers: Vec<ReadMarker> = newest
        .into_iter()
        .map(|((group, up), (seq, message))| ReadMarker {
            group,
            up,
            seq,
            message,
        })
        .collect();
    store.advance_read_markers(&markers).await
}
