//! The ordered `insertMany` of a batch, and what to do when one document of
//! it hits a unique index.
//!
//! An ordered insert stops at the first failing document; everything before
//! it is stored and nothing after it. So a failure splits the batch cleanly:
//! - a duplicate `(from, nonce)` (a retry whose first message is stored):
//!   every retry left in the batch is found in one query and answered with
//!   its stored message, the others are renumbered to close the holes, and
//!   they are inserted again;
//! - a duplicate `{group, seq}` (another store instance numbered the same
//!   group): the group's numbering restarts after its newest stored message;
//! - anything else: the rest is answered with the error, and its groups are
//!   forgotten so their numbering is reloaded from MongoDB.

use super::group_cache::CachedGroup;
use super::{Outcome, Pending, Stored};
use crate::db::documents::MessageDoc;
use crate::db::{DUPLICATE_KEY, Store, db_error};
use futures::TryStreamExt;
use mongodb::bson::doc;
use mongodb::bson::oid::ObjectId;
use mongodb::error::{Error as DbError, ErrorKind};
use service_kit::ApiError;
use std::collections::HashMap;

/// Renumberings after `seq` collisions tolerated in one batch.
const MAX_COLLISIONS: usize = 8;

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
    on_nonce: bool,
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
        on_nonce: first.message.contains("nonceKey"),
    })
}

/// Inserts `entries` in order and returns the stored ones; every entry that
/// is not returned has been answered.
pub async fn insert_in_order(
    store: &Store,
    groups: &mut HashMap<ObjectId, CachedGroup>,
    entries: Vec<Entry>,
) -> Vec<Entry> {
    let mut rest = entries;
    let mut inserted: Vec<Entry> = Vec::with_capacity(rest.len());
    let mut collisions = 0;
    while !rest.is_empty() {
        let err = match store
            .messages
            .insert_many(rest.iter().map(|e| &e.doc))
            .ordered(true)
            .await
        {
            Ok(_) => {
                inserted.append(&mut rest);
                break;
            }
            Err(err) => err,
        };
        let refusal = refused(&err).filter(|r| r.code == DUPLICATE_KEY && r.index < rest.len());
        let Some(refusal) = refusal else {
            let index = refused(&err).map_or(0, |r| r.index).min(rest.len());
            let failed = rest.split_off(index);
            inserted.append(&mut rest);
            fail_all(groups, failed, db_error(err));
            break;
        };
        let mut tail = rest.split_off(refusal.index);
        inserted.append(&mut rest);
        if refusal.on_nonce {
            match answer_stored_twins(store, groups, tail).await {
                Ok(fresh) => rest = fresh,
                Err((failed, err)) => {
                    fail_all(groups, failed, err);
                    break;
                }
            }
            continue;
        }
        let first = tail.remove(0);
        let group = first.doc.group;
        collisions += 1;
        tail.insert(0, first);
        if collisions > MAX_COLLISIONS {
            let err = ApiError::Unavailable(anyhow::anyhow!(
                "message numbers of group {group} kept colliding"
            ));
            fail_all(groups, tail, err);
            break;
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
                fail_all(groups, tail, err);
                break;
            }
        }
    }
    inserted
}

/// After a duplicate `(from, nonce)`, finds every message of `tail` that
/// is a retry of a stored one, in one query, and answers it with the stored
/// message (so a batch of retries costs two round trips, not one each). The
/// others are renumbered to close the holes and returned.
async fn answer_stored_twins(
    store: &Store,
    groups: &mut HashMap<ObjectId, CachedGroup>,
    tail: Vec<Entry>,
) -> Result<Vec<Entry>, (Vec<Entry>, ApiError)> {
    let keys: Vec<&str> = tail
        .iter()
        .filter_map(|e| e.doc.nonce_key.as_deref())
        .collect();
    let found: Result<Vec<MessageDoc>, _> = async {
        store
            .messages
            .find(doc! {"nonceKey": {"$in": keys}})
            .await?
            .try_collect()
            .await
    }
    .await;
    let mut stored: HashMap<String, MessageDoc> = match found {
        Ok(docs) => docs
            .into_iter()
            .filter_map(|doc| doc.nonce_key.clone().map(|key| (key, doc)))
            .collect(),
        Err(err) => return Err((tail, db_error(err))),
    };
    let mut first_seq: HashMap<ObjectId, i64> = HashMap::new();
    for entry in &tail {
        first_seq.entry(entry.doc.group).or_insert(entry.doc.seq);
    }
    let mut fresh = Vec::with_capacity(tail.len());
    for entry in tail {
        let twin = entry
            .doc
            .nonce_key
            .as_ref()
            .and_then(|key| stored.remove(key));
        match twin {
            Some(doc) => entry.pending.answer(Outcome::Stored(Stored {
                message: doc.into(),
                created: false,
            })),
            None => fresh.push(entry),
        }
    }
    for (group, first) in first_seq {
        renumber(groups, &mut fresh, group, first - 1);
    }
    Ok(fresh)
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
fn fail_all(groups: &mut HashMap<ObjectId, CachedGroup>, failed: Vec<Entry>, err: ApiError) {
    let outcome = Outcome::failed(err);
    for entry in failed {
        groups.remove(&entry.doc.group);
        entry.pending.answer(outcome.clone());
    }
}
