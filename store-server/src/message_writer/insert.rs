//! The ordered `insertMany` of a batch, and what to do when one document of
//! it hits a unique index.
//!
//! Every document of the batch holds a number reserved for it, and every
//! reserved number must end up taken (by the message, or by a void) so
//! that the group's horizon can pass it. An ordered insert stops at the
//! first failing document: everything before it is stored and nothing
//! after it. On a duplicate key, the retries left in the batch are looked up
//! by their `(from, nonce)` keys in one query (which index refused the
//! document is read from the data, not from the error's text):
//! - the refused document is a retry whose first message is stored: every
//!   retry found is answered with its stored message, and its number is
//!   filled with a void instead;
//! - it is not: its `{group, seq}` is taken (a writer waiting behind it
//!   filled it with a void, see `db::horizon`), and the message reserves a
//!   new number;
//! - anything else: the rest is answered with the error, and its numbers
//!   are left to be filled ([`Inserted::unfilled`]).
//!
//! Each insert is given [`INSERT_TIMEOUT`]; past it the rest of the batch is
//! answered `unavailable` (its messages may or may not be stored: they
//! become orphans, see `orphans`). A batch makes at most [`MAX_ATTEMPTS`]
//! inserts.

use super::orphans::Orphans;
use super::reserve::{Reservation, catch_up_counter, reserve};
use super::{Outcome, Pending};
use crate::db::documents::{MessageDoc, entity_id};
use crate::db::groups::group_not_found;
use crate::db::{DUPLICATE_KEY, Store, db_error};
use chat_wire::ErrorCode;
use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Document, doc};
use mongodb::error::{Error as DbError, ErrorKind};
use service_kit::ApiError;
use std::collections::HashMap;
use std::future::IntoFuture;
use std::time::Duration;

/// Numbers taken under a batch's messages tolerated in one batch.
const MAX_COLLISIONS: usize = 8;
/// Inserts one batch may make, whatever goes wrong.
const MAX_ATTEMPTS: usize = 16;
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

/// One reserved number of the batch and what fills it.
pub enum Slot {
    /// A new message (boxed: a void is much smaller).
    Message(Box<Entry>),
    /// A void: the number's message turned out to be a retry.
    Void {
        /// The group.
        group: ObjectId,
        /// The number.
        seq: i64,
    },
}

impl Slot {
    fn place(&self) -> (ObjectId, i64) {
        match self {
            Slot::Message(entry) => (entry.doc.group, entry.doc.seq),
            Slot::Void { group, seq } => (*group, *seq),
        }
    }

    fn to_document(&self) -> Result<Document, ApiError> {
        match self {
            Slot::Message(entry) => mongodb::bson::to_document(&entry.doc)
                .map_err(|err| ApiError::Internal(anyhow::Error::new(err))),
            Slot::Void { group, seq } => {
                Ok(doc! {"_id": ObjectId::new(), "group": group, "seq": seq, "void": true})
            }
        }
    }
}

/// A message of the batch that is stored: new, or found stored before.
pub struct Done {
    /// Who waits for it.
    pub pending: Pending,
    /// The stored message.
    pub doc: MessageDoc,
    /// Whether its sender is to be told they created it.
    pub created: bool,
}

/// What the inserts of a batch gave.
#[derive(Default)]
pub struct Inserted {
    /// Messages stored, to answer once readers can see them.
    pub done: Vec<Done>,
    /// Reserved numbers left free by a failure: they must be filled.
    pub unfilled: Vec<(ObjectId, i64)>,
    /// The numbers this batch took, per group, each with whether a void
    /// took it.
    pub taken: HashMap<ObjectId, Vec<(i64, bool)>>,
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

/// Inserts `slots` in order. Every message is either in
/// [`Inserted::done`] or has been answered.
pub async fn insert_in_order(store: &Store, slots: Vec<Slot>, orphans: &Orphans) -> Inserted {
    let mut rest = slots;
    let mut inserted = Inserted::default();
    let mut collisions = 0;
    for _ in 0..MAX_ATTEMPTS {
        if rest.is_empty() {
            return inserted;
        }
        let documents: Result<Vec<Document>, ApiError> =
            rest.iter().map(Slot::to_document).collect();
        let documents = match documents {
            Ok(documents) => documents,
            Err(err) => {
                fail(&mut inserted, rest, err, orphans, Unknown::No);
                return inserted;
            }
        };
        let messages = store.messages_raw();
        let insert = messages.insert_many(documents).ordered(true);
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
        let mut tail = rest.split_off(refusal.index);
        stored(&mut inserted, rest);
        if let Slot::Void { .. } = tail[0] {
            // The number is taken already, which is all a void is for.
            tail.remove(0);
            rest = tail;
            continue;
        }
        let (tail, refused_was_retry) =
            match answer_stored_twins(store, &mut inserted, tail, orphans).await {
                Ok(answered) => answered,
                Err((failed, err)) => {
                    fail(&mut inserted, failed, err, orphans, Unknown::No);
                    return inserted;
                }
            };
        rest = tail;
        if refused_was_retry {
            continue;
        }
        // Not a retry: the refused message's number is taken.
        collisions += 1;
        if collisions > MAX_COLLISIONS {
            let err = ApiError::Unavailable(anyhow::anyhow!("message numbers kept colliding"));
            fail(&mut inserted, rest, err, orphans, Unknown::No);
            return inserted;
        }
        let Slot::Message(first) = rest.remove(0) else {
            unreachable!("the refused slot is a message");
        };
        match renumber(store, *first).await {
            Ok(entry) => rest.insert(0, Slot::Message(Box::new(entry))),
            Err((entry, outcome)) => entry.pending.answer(outcome, orphans),
        }
    }
    let err = ApiError::Unavailable(anyhow::anyhow!(
        "a batch of messages needed more than {MAX_ATTEMPTS} inserts"
    ));
    fail(&mut inserted, rest, err, orphans, Unknown::No);
    inserted
}

/// Gives a message whose number was taken a new one. Its sender must
/// still be a member.
async fn renumber(store: &Store, mut entry: Entry) -> Result<Entry, (Entry, Outcome)> {
    let group = entry.doc.group;
    let renumbered = async {
        catch_up_counter(store, group, entry.doc.seq).await?;
        reserve(store, group, &[&entry.doc.from]).await
    };
    match renumbered.await {
        Ok(Reservation::Numbers { first, senders, .. }) if senders.contains(&entry.doc.from) => {
            entry.doc.seq = first;
            Ok(entry)
        }
        Ok(Reservation::NoGroup) => Err((entry, Outcome::failed(group_not_found(group)))),
        Ok(Reservation::Numbers { .. }) => {
            let message = format!(
                "{} is not a member of group {}",
                entry.doc.from,
                entity_id(group)
            );
            Err((entry, Outcome::Failed(ErrorCode::PermissionDenied, message)))
        }
        Err(err) => Err((entry, Outcome::failed(err))),
    }
}

/// After a duplicate key on `tail[0]`, finds every message of `tail` that
/// is a retry of a stored one, in one query (so a batch of retries costs two
/// round trips, not one each): each becomes [`Done`] with its stored
/// message (a retry of an orphan is told it created it), and its number a
/// void. Returns the slots left and whether `tail[0]` was such a retry.
async fn answer_stored_twins(
    store: &Store,
    inserted: &mut Inserted,
    tail: Vec<Slot>,
    orphans: &Orphans,
) -> Result<(Vec<Slot>, bool), (Vec<Slot>, ApiError)> {
    let keys: Vec<&str> = tail
        .iter()
        .filter_map(|slot| match slot {
            Slot::Message(entry) => entry.doc.nonce_key.as_deref(),
            Slot::Void { .. } => None,
        })
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
    let mut left = Vec::with_capacity(tail.len());
    let mut refused_was_retry = false;
    for (index, slot) in tail.into_iter().enumerate() {
        let Slot::Message(entry) = slot else {
            left.push(slot);
            continue;
        };
        let key = entry.doc.nonce_key.clone();
        match key.as_ref().and_then(|key| stored.remove(key)) {
            Some(doc) => {
                refused_was_retry |= index == 0;
                let created = key.is_some_and(|key| orphans.claim(&key));
                let (group, seq) = (entry.doc.group, entry.doc.seq);
                left.push(Slot::Void { group, seq });
                inserted.done.push(Done {
                    pending: entry.pending,
                    doc,
                    created,
                });
            }
            None => left.push(Slot::Message(entry)),
        }
    }
    Ok((left, refused_was_retry))
}

/// Moves stored slots into `inserted`.
fn stored(inserted: &mut Inserted, slots: Vec<Slot>) {
    for slot in slots {
        let (group, seq) = slot.place();
        let void = matches!(slot, Slot::Void { .. });
        inserted.taken.entry(group).or_default().push((seq, void));
        if let Slot::Message(entry) = slot {
            let Entry { doc, pending } = *entry;
            inserted.done.push(Done {
                pending,
                doc,
                created: true,
            });
        }
    }
}

/// Whether a failed insert may have been applied all the same.
#[derive(Clone, Copy)]
enum Unknown {
    Yes,
    No,
}

/// Answers every message of `failed` with `err` and notes their numbers as
/// unfilled. When the insert may have been applied, a retry that finds a
/// message stored is told it created it.
fn fail(
    inserted: &mut Inserted,
    failed: Vec<Slot>,
    err: ApiError,
    orphans: &Orphans,
    unknown: Unknown,
) {
    let (code, message) = (err.code(), err.to_string());
    for slot in failed {
        inserted.unfilled.push(slot.place());
        if let Slot::Message(entry) = slot {
            let err = ApiError::from_code(code, message.clone());
            match unknown {
                Unknown::Yes => entry.pending.answer_unknown(err, orphans),
                Unknown::No => entry.pending.answer(Outcome::failed(err), orphans),
            }
        }
    }
}
