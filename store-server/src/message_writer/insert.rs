//! The ordered `insertMany` of a batch, and what to do when one document of
//! it hits a unique index.
//!
//! The insert is what claims a number: the unique `{group, seq}` index lets
//! one message hold each. An ordered insert stops at the first failing
//! document: everything before it is stored and nothing after it, so a
//! number is only ever stored after the one below it. On a duplicate key,
//! the retries left in the batch are looked up by their keys in one query
//! (which index refused the document is read from the data, not from the
//! error's text):
//! - the refused document is a retry whose first message is stored (by
//!   this instance or another): every retry found is answered with its
//!   stored message, the others of their groups are renumbered to close the
//!   gaps, and they are inserted again;
//! - it is not: another instance stored that number first; the group's
//!   messages of the rest of the batch are numbered after its newest stored
//!   one, and inserted again;
//! - anything else: the rest is answered with the error.
//!
//! Each insert is given [`INSERT_TIMEOUT`]; past it the rest of the batch is
//! answered `unavailable` (its messages may or may not be stored: they
//! become orphans, see `orphans`). A batch makes at most [`MAX_ATTEMPTS`]
//! inserts.

use super::orphans::Orphans;
use super::{Outcome, Pending};
use crate::db::documents::MessageDoc;
use crate::db::{DUPLICATE_KEY, Store, db_error};
use futures::TryStreamExt;
use mongodb::bson::doc;
use mongodb::bson::oid::ObjectId;
use mongodb::error::{Error as DbError, ErrorKind};
use service_kit::ApiError;
use std::collections::{HashMap, HashSet};
use std::future::IntoFuture;
use std::time::Duration;

/// Numbers found taken by another instance, tolerated in one batch.
const MAX_COLLISIONS: usize = 32;
/// Inserts one batch may make, whatever goes wrong.
const MAX_ATTEMPTS: usize = 48;
/// How long one insert may take: a MongoDB that does not answer fails the
/// batch (`unavailable`) within this, before the chat-server's own call to
/// the store gives up (5 s), instead of stalling every group.
pub const INSERT_TIMEOUT: Duration = Duration::from_secs(3);

/// A message of the batch with its document.
pub struct Entry {
    /// The document to insert.
    pub doc: MessageDoc,
    /// Who waits for it.
    pub pending: Pending,
}

/// A message of the batch that is stored: new, or found stored before.
pub struct Done {
    /// Who waits for it.
    pub pending: Pending,
    /// The stored message.
    pub doc: MessageDoc,
    /// Whether its sender is to be told they created it: `false` for a
    /// retry found stored, until `unanswered` settles it.
    pub created: bool,
}

/// What the inserts of a batch gave.
#[derive(Default)]
pub struct Inserted {
    /// Messages stored, to answer once they are counted.
    pub done: Vec<Done>,
    /// Groups of messages whose insert failed: what is stored in them is
    /// read again by the next batch.
    pub failed: HashSet<ObjectId>,
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

/// Inserts `entries` in order. Every message is either in
/// [`Inserted::done`] or has been answered.
pub async fn insert_in_order(store: &Store, entries: Vec<Entry>, orphans: &Orphans) -> Inserted {
    let mut rest = entries;
    let mut inserted = Inserted::default();
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
                stored(&mut inserted, rest);
                return inserted;
            }
            Ok(Err(err)) => err,
            Err(_) => {
                let err = ApiError::Unavailable(anyhow::anyhow!(
                    "MongoDB did not answer an insert within {INSERT_TIMEOUT:?}"
                ));
                fail(&mut inserted, rest, err, orphans, Unknown::Yes);
                return inserted;
            }
        };
        let refusal = refused(&err).filter(|r| r.code == DUPLICATE_KEY && r.index < rest.len());
        let Some(refusal) = refusal else {
            let index = refused(&err).map_or(0, |r| r.index).min(rest.len());
            let failed = rest.split_off(index);
            stored(&mut inserted, rest);
            fail(&mut inserted, failed, db_error(err), orphans, Unknown::No);
            return inserted;
        };
        let tail = rest.split_off(refusal.index);
        stored(&mut inserted, rest);
        let (mut tail, refused_was_retry) =
            match answer_stored_twins(store, &mut inserted, tail).await {
                Ok(answered) => answered,
                Err((failed, err)) => {
                    fail(&mut inserted, failed, err, orphans, Unknown::No);
                    return inserted;
                }
            };
        if refused_was_retry {
            rest = tail;
            continue;
        }
        // Not a retry: another instance stored that number first.
        collisions += 1;
        let (group, taken) = (tail[0].doc.group, tail[0].doc.seq);
        if collisions > MAX_COLLISIONS {
            let err = ApiError::Unavailable(anyhow::anyhow!(
                "message numbers of group {group} kept colliding"
            ));
            fail(&mut inserted, tail, err, orphans, Unknown::No);
            return inserted;
        }
        match store.newest_seq_above(group, taken).await {
            Ok(newest) => {
                renumber(&mut tail, group, newest);
                rest = tail;
            }
            Err(err) => {
                fail(&mut inserted, tail, err, orphans, Unknown::No);
                return inserted;
            }
        }
    }
    let err = ApiError::Unavailable(anyhow::anyhow!(
        "a batch of messages needed more than {MAX_ATTEMPTS} inserts"
    ));
    fail(&mut inserted, rest, err, orphans, Unknown::No);
    inserted
}

/// After a duplicate key on `tail[0]`, finds every message of `tail` that
/// is a retry of a stored one, in one query (so a batch of retries costs
/// two round trips, not one each): each becomes [`Done`] with its stored
/// message, not created (until `unanswered` finds nobody was told). The
/// others are renumbered to close the gaps and returned, with whether
/// `tail[0]` was such a retry.
async fn answer_stored_twins(
    store: &Store,
    inserted: &mut Inserted,
    tail: Vec<Entry>,
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
        match key.as_ref().and_then(|key| stored.remove(key)) {
            Some(doc) => {
                refused_was_retry |= index == 0;
                inserted.done.push(Done {
                    pending: entry.pending,
                    doc,
                    created: false,
                });
            }
            None => fresh.push(entry),
        }
    }
    for (group, first) in first_seq {
        renumber(&mut fresh, group, first - 1);
    }
    Ok((fresh, refused_was_retry))
}

/// Numbers the group's messages of `tail` after `newest`.
fn renumber(tail: &mut [Entry], group: ObjectId, newest: i64) {
    let mut seq = newest;
    for entry in tail.iter_mut().filter(|e| e.doc.group == group) {
        seq += 1;
        entry.doc.seq = seq;
    }
}

/// Moves stored entries into `inserted`.
fn stored(inserted: &mut Inserted, entries: Vec<Entry>) {
    inserted
        .done
        .extend(entries.into_iter().map(|Entry { doc, pending }| Done {
            pending,
            doc,
            created: true,
        }));
}

/// Whether a failed insert may have been applied all the same.
#[derive(Clone, Copy)]
enum Unknown {
    Yes,
    No,
}

/// Answers every entry of `failed` with `err` and notes their groups. When
/// the insert may have been applied, a retry that finds a message stored
/// is told it created it.
fn fail(
    inserted: &mut Inserted,
    failed: Vec<Entry>,
    err: ApiError,
    orphans: &Orphans,
    unknown: Unknown,
) {
    let (code, message) = (err.code(), err.to_string());
    for entry in failed {
        inserted.failed.insert(entry.doc.group);
        let err = ApiError::from_code(code, message.clone());
        match unknown {
            Unknown::Yes => entry.pending.answer_unknown(err, orphans),
            Unknown::No => entry.pending.answer(Outcome::failed(err), orphans),
        }
    }
}
