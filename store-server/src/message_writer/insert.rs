//! The ordered `insertMany` of a batch, and what to do when one document of
//! it hits a unique index.
//!
//! An ordered insert stops at the first failing document; everything before
//! it is stored and nothing after it. So a failure splits the batch cleanly.
//! On a duplicate key, the retries left in the batch are looked up by their
//! `(from, nonce)` keys in one query (which index refused the document is
//! read from the data, not from the error's text):
//! - the refused document is a retry whose first message is stored: every
//!   retry found is answered with its stored message, the others are
//!   renumbered to close the holes, and they are inserted again;
//! - it is not: its `{group, seq}` collided (another store instance
//!   numbered the same group), and the group's numbering restarts after its
//!   newest stored message;
//! - anything else: the rest is answered with the error, and its groups are
//!   forgotten so their numbering is reloaded from MongoDB.
//!
//! Each insert is given [`INSERT_TIMEOUT`]; past it the rest of the batch is
//! answered `unavailable` (its messages may or may not be stored: they
//! become orphans, see `orphans`). A batch makes at most [`MAX_ATTEMPTS`]
//! inserts.

use super::group_cache::CachedGroup;
use super::orphans::Orphans;
use super::{Outcome, Pending, Stored};
use crate::db::documents::MessageDoc;
use crate::db::{DUPLICATE_KEY, Store, db_error};
use futures::TryStreamExt;
use mongodb::bson::doc;
use mongodb::bson::oid::ObjectId;
use mongodb::error::{Error as DbError, ErrorKind};
use service_kit::ApiError;
use std::collections::HashMap;
use std::future::IntoFuture;
use std::time::Duration;

/// Renumberings after `seq` collisions tolerated in one batch.
const MAX_COLLISIONS: usize = 8;
/// Inserts one batch may make, whatever goes wrong.
const MAX_ATTEMPTS: usize = 16;
/// How long one insert may take: a MongoDB that does not answer fails the
/// batch (`unavailable`) within this, before the chat-server's own call to
/// the store gives up (5 s), instead of stalling every group.
pub const INSERT_TIMEOUT: Duration = Duration::from_secs(4);

/// A message of the batch with its document.
pub struct Entry {
    /// The document to insert.
    pub doc: MessageDoc,
    /// Who waits for it.
    pub pending: Pending,
}

/// The first document an ordered insert refused.
struct Refused {
    index: usize,
    code: i32,
}

fn refused(err: &DbError) -> Option<Refused> {
    let ErrorKind::InsertMany(failure) = &*err.kind else {
        return None;
    };
    let first = failure
        .write_errors
        .as_ref()?
        .iter()
        .min_by_key(|e| e.index)?;
    Some(Refused {
        index: first.index,
        code: first.code,
    })
}

/// Inserts `entries` in order and returns the stored ones; every entry that
/// is not returned has been answered.
pub async fn insert_in_order(
    store: &Store,
    groups: &mut HashMap<ObjectId, CachedGroup>,
    entries: Vec<Entry>,
    orphans: &Orphans,
) -> Vec<Entry> {
    let mut rest = entries;
    let mut inserted: Vec<Entry> = Vec::with_capacity(rest.len());
    let mut collisions = 0;
    for _ in 0..MAX_ATTEMPTS {
        if rest.is_empty() {
            return inserted;
        }
        let insert = store
            .messages
            .insert_many(rest.iter().map(|e| &e.doc))
            .ordered(true);
        let err = match tokio::time::timeout(INSERT_TIMEOUT, insert.into_future()).await {
            Ok(Ok(_)) => {
                inserted.append(&mut rest);
                return inserted;
            }
            Ok(Err(err)) => err,
            Err(_) => {
                let err = ApiError::Unavailable(anyhow::anyhow!(
                    "MongoDB did not answer an insert within {INSERT_TIMEOUT:?}"
                ));
                fail_unknown(groups, rest, err, orphans);
                return inserted;
            }
        };
        let refusal = refused(&err).filter(|r| r.code == DUPLICATE_KEY && r.index < rest.len());
        let Some(refusal) = refusal else {
            let index = refused(&err).map_or(0, |r| r.index).min(rest.len());
            let failed = rest.split_off(index);
            inserted.append(&mut rest);
            fail_all(groups, failed, db_error(err), orphans);
            return inserted;
        };
        let tail = rest.split_off(refusal.index);
        inserted.append(&mut rest);
        let (mut tail, refused_was_retry) =
            match answer_stored_twins(store, groups, tail, orphans).await {
                Ok(answered) => answered,
                Err((failed, err)) => {
                    fail_all(groups, failed, err, orphans);
                    return inserted;
                }
            };
        if refused_was_retry {
            rest = tail;
            continue;
        }
        // Not a retry: the refused document's `{group, seq}` collided.
        collisions += 1;
        let group = tail[0].doc.group;
        if collisions > MAX_COLLISIONS {
            let err = ApiError::Unavailable(anyhow::anyhow!(
                "message numbers of group {group} kept colliding"
            ));
            fail_all(groups, tail, err, orphans);
            return inserted;
        }
        let floor = groups
            .get(&group)
            .map_or(0, |g| g.last_seq - tail.len() as i64);
        match store.newest_seq_above(group, floor.max(0)).await {
            Ok(newest) => {
                renumber(groups, &mut tail, group, newest);
                rest = tail;
            }
            Err(err) => {
                fail_all(groups, tail, err, orphans);
                return inserted;
            }
        }
    }
    let err = ApiError::Unavailable(anyhow::anyhow!(
        "a batch of messages needed more than {MAX_ATTEMPTS} inserts"
    ));
    fail_all(groups, rest, err, orphans);
    inserted
}

/// After a duplicate key on `tail[0]`, finds every message of `tail` that
/// is a retry of a stored one, in one query, and answers it with the stored
/// message (so a batch of retries costs two round trips, not one each); a
/// retry of an orphan is told it created the message. The others are
/// renumbered to close the holes and returned, with whether `tail[0]` was
/// such a retry.
async fn answer_stored_twins(
    store: &Store,
    groups: &mut HashMap<ObjectId, CachedGroup>,
    tail: Vec<Entry>,
    orphans: &Orphans,
) -> Result<(Vec<Entry>, bool), (Vec<Entry>, ApiError)> {
    let keys: Vec<&str> = tail
        .iter()
        .filter_map(|e| e.doc.nonce_key.as_deref())
        .collect();
    let found = async {
        store
            .messages
            .find(doc! {"nonceKey": {"$in": keys}})
            .await?
            .try_collect::<Vec<MessageDoc>>()
            .await
    };
    let mut stored: HashMap<String, MessageDoc> =
        match tokio::time::timeout(INSERT_TIMEOUT, found).await {
            Ok(Ok(docs)) => docs
                .into_iter()
                .filter_map(|doc| doc.nonce_key.clone().map(|key| (key, doc)))
                .collect(),
            Ok(Err(err)) => return Err((tail, db_error(err))),
            Err(_) => {
                let err = ApiError::Unavailable(anyhow::anyhow!(
                    "MongoDB did not answer a lookup within {INSERT_TIMEOUT:?}"
                ));
                return Err((tail, err));
            }
        };
    let mut first_seq: HashMap<ObjectId, i64> = HashMap::new();
    for entry in &tail {
        first_seq.entry(entry.doc.group).or_insert(entry.doc.seq);
    }
    let mut fresh = Vec::with_capacity(tail.len());
    let mut refused_was_retry = false;
    for (index, entry) in tail.into_iter().enumerate() {
        let key = entry.doc.nonce_key.clone();
        let twin = key.as_ref().and_then(|key| stored.remove(key));
        match twin {
            Some(doc) => {
                refused_was_retry |= index == 0;
                let created = key.is_some_and(|key| orphans.claim(&key));
                let outcome = Outcome::Stored(Stored {
                    message: doc.into(),
                    created,
                });
                entry.pending.answer(outcome, orphans);
            }
            None => fresh.push(entry),
        }
    }
    for (group, first) in first_seq {
        renumber(groups, &mut fresh, group, first - 1);
    }
    Ok((fresh, refused_was_retry))
}

/// Numbers the group's messages of `tail` after `newest`.
fn renumber(
    groups: &mut HashMap<ObjectId, CachedGroup>,
    tail: &mut [Entry],
    group: ObjectId,
    newest: i64,
) {
    let mut seq = newest;
    for entry in tail.iter_mut().filter(|e| e.doc.group == group) {
        seq += 1;
        entry.doc.seq = seq;
    }
    if let Some(cached) = groups.get_mut(&group) {
        cached.last_seq = seq;
    }
}

/// Answers every entry with `err` and forgets their groups' numbering.
fn fail_all(
    groups: &mut HashMap<ObjectId, CachedGroup>,
    failed: Vec<Entry>,
    err: ApiError,
    orphans: &Orphans,
) {
    let outcome = Outcome::failed(err);
    for entry in failed {
        groups.remove(&entry.doc.group);
        entry.pending.answer(outcome.clone(), orphans);
    }
}

/// Like [`fail_all`], for entries whose insert may have been applied: a
/// retry that finds one stored is told it created it.
fn fail_unknown(
    groups: &mut HashMap<ObjectId, CachedGroup>,
    failed: Vec<Entry>,
    err: ApiError,
    orphans: &Orphans,
) {
    let message = err.to_string();
    let code = err.code();
    for entry in failed {
        groups.remove(&entry.doc.group);
        let err = ApiError::from_code(code, message.clone());
        entry.pending.answer_unknown(err, orphans);
    }
}
