//! Group commit of new messages.
//!
//! `POST /message` handlers hand their message to one writer task and wait
//! for their own answer. The writer takes every message waiting at that
//! moment as one batch and stores it with a handful of round trips, whatever
//! its size:
//!
//! 1. the `(from, nonce)` keys already stored are looked up in one query, and
//!    those senders get the first message back (`created: false`);
//! 2. per group, one `findOneAndUpdate` checks that every sender is a member
//!    and reserves a range of `seq` numbers (`messageCount += n`);
//! 3. one ordered `insertMany` writes the batch.
//!
//! So throughput is bounded by MongoDB, not by one round trip per message.
//! Senders' read markers move through [`SenderReads`], coalesced, off the
//! reply path.
//! Batches run one at a time, so a group's messages become visible in `seq`
//! order and a reader catching up with `after` never skips one.

use crate::db::documents::{MessageDoc, entity_id, nonce_key};
use crate::db::{DUPLICATE_KEY, Store, db_error};
use crate::sender_reads::SenderReads;
use chat_wire::ErrorCode;
use chat_wire::ids::Up;
use chat_wire::model::Message;
use futures::TryStreamExt;
use futures::future::join_all;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, doc};
use mongodb::error::ErrorKind;
use mongodb::options::ReturnDocument;
use service_kit::ApiError;
use std::collections::{BTreeMap, HashMap};
use tokio::sync::{mpsc, oneshot};

/// The most messages written in one batch.
const MAX_BATCH: usize = 512;
/// Messages that may wait for the writer before senders are slowed down.
const QUEUE_CAPACITY: usize = 8192;
/// Tries at reserving `seq` numbers while membership changes underneath.
const ALLOCATION_TRIES: usize = 3;

/// A message to store, already validated.
#[derive(Debug, Clone)]
pub struct NewMessageSpec {
    /// The group.
    pub group: ObjectId,
    /// The sender.
    pub from: Up,
    /// The trimmed text.
    pub text: String,
    /// The idempotency key.
    pub nonce: Option<String>,
}

/// A stored message and whether this request created it.
#[derive(Debug, Clone)]
pub struct Stored {
    /// The message.
    pub message: Message,
    /// `false` when the `(from, nonce)` had been stored before.
    pub created: bool,
}

/// What one sender is told; cloneable so that duplicates in a batch share it.
#[derive(Debug, Clone)]
enum Outcome {
    Stored(Stored),
    Failed(ErrorCode, String),
}

impl Outcome {
    fn failed(err: ApiError) -> Self {
        Outcome::Failed(err.code(), format!("{err}"))
    }
}

type Reply = oneshot::Sender<Outcome>;

struct Job {
    spec: NewMessageSpec,
    reply: Reply,
}

/// One distinct message of a batch and everyone waiting for it (several
/// when the same `(from, nonce)` came twice in one batch).
struct Pending {
    spec: NewMessageSpec,
    replies: Vec<Reply>,
}

impl Pending {
    fn answer(self, outcome: Outcome) {
        for (index, reply) in self.replies.into_iter().enumerate() {
            // Only the first request created the message; the others are
            // retries of it and must be told so (`200`, not `201`).
            let outcome = match &outcome {
                Outcome::Stored(stored) if index > 0 => Outcome::Stored(Stored {
                    created: false,
                    ..stored.clone()
                }),
                other => other.clone(),
            };
            // The sender may have given up (timeout); nothing to do then.
            let _ = reply.send(outcome);
        }
    }
}

/// The handle handlers use to store messages; cheap to clone.
#[derive(Debug, Clone)]
pub struct MessageWriter {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
}

impl MessageWriter {
    /// Starts the writer task; it stops when every handle is dropped.
    pub fn spawn(store: Store) -> Self {
        let (jobs, queue) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(run(store, queue));
        Self { jobs }
    }

    /// Stores a message, or returns the one stored before with the same
    /// `(from, nonce)`.
    pub async fn write(&self, spec: NewMessageSpec) -> Result<Stored, ApiError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { spec, reply })
            .await
            .map_err(|_| ApiError::Unavailable(anyhow::anyhow!("message writer stopped")))?;
        match answer.await {
            Ok(Outcome::Stored(stored)) => Ok(stored),
            Ok(Outcome::Failed(code, message)) => Err(ApiError::from_code(code, message)),
            Err(_) => Err(ApiError::Internal(anyhow::anyhow!(
                "message writer dropped a request"
            ))),
        }
    }
}

async fn run(store: Store, mut queue: mpsc::Receiver<Job>) {
    let reads = SenderReads::spawn(store.clone());
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        write_batch(&store, &reads, batch).await;
    }
}

async fn write_batch(store: &Store, reads: &SenderReads, jobs: Vec<Job>) {
    let pending = merge_same_nonce(jobs);
    let Some(pending) = answer_known_nonces(store, pending).await else {
        return;
    };
    let mut by_group: BTreeMap<ObjectId, Vec<Pending>> = BTreeMap::new();
    for item in pending {
        by_group.entry(item.spec.group).or_default().push(item);
    }
    let reservations = join_all(
        by_group
            .into_iter()
            .map(|(group, items)| reserve_seqs(store, group, items)),
    )
    .await;
    let now = DateTime::now();
    let mut entries = Vec::new();
    for reservation in reservations.into_iter().flatten() {
        for (offset, item) in reservation.items.into_iter().enumerate() {
            let seq = reservation.first_seq + offset as i64;
            entries.push(Entry {
                doc: new_doc(&item.spec, seq, now),
                pending: item,
            });
        }
    }
    insert_all(store, reads, entries).await;
}

/// Folds jobs with the same `(from, nonce)` into one.
fn merge_same_nonce(jobs: Vec<Job>) -> Vec<Pending> {
    let mut pending: Vec<Pending> = Vec::with_capacity(jobs.len());
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for Job { spec, reply } in jobs {
        if let Some(nonce) = &spec.nonce {
            let key = nonce_key(&spec.from, nonce);
            if let Some(&index) = by_key.get(&key) {
                pending[index].replies.push(reply);
                continue;
            }
            by_key.insert(key, pending.len());
        }
        pending.push(Pending {
            spec,
            replies: vec![reply],
        });
    }
    pending
}

/// Answers the messages whose `(from, nonce)` is already stored; returns the
/// others, or `None` when the lookup failed (everyone has been answered).
async fn answer_known_nonces(store: &Store, pending: Vec<Pending>) -> Option<Vec<Pending>> {
    let keys: Vec<String> = pending
        .iter()
        .filter_map(|p| p.spec.nonce.as_ref().map(|n| nonce_key(&p.spec.from, n)))
        .collect();
    if keys.is_empty() {
        return Some(pending);
    }
    let found = async {
        store
            .messages
            .find(doc! {"nonceKey": {"$in": keys}})
            .await?
            .try_collect::<Vec<_>>()
            .await
    }
    .await;
    let mut known: HashMap<String, MessageDoc> = match found {
        Ok(docs) => docs
            .into_iter()
            .filter_map(|doc| doc.nonce_key.clone().map(|key| (key, doc)))
            .collect(),
        Err(err) => {
            let outcome = Outcome::failed(db_error(err));
            pending.into_iter().for_each(|p| p.answer(outcome.clone()));
            return None;
        }
    };
    let mut fresh = Vec::with_capacity(pending.len());
    for item in pending {
        let key = item
            .spec
            .nonce
            .as_ref()
            .map(|n| nonce_key(&item.spec.from, n));
        match key.and_then(|key| known.remove(&key)) {
            Some(doc) => item.answer(Outcome::Stored(Stored {
                message: doc.into(),
                created: false,
            })),
            None => fresh.push(item),
        }
    }
    Some(fresh)
}

/// `seq` numbers reserved in one group for messages of its members.
struct Reservation {
    first_seq: i64,
    items: Vec<Pending>,
}

/// Reserves `seq` numbers for the messages of `group` whose senders are
/// members; the others are answered `not_found` or `permission_denied`.
async fn reserve_seqs(
    store: &Store,
    group: ObjectId,
    mut items: Vec<Pending>,
) -> Option<Reservation> {
    for _ in 0..ALLOCATION_TRIES {
        let mut senders: Vec<&str> = items.iter().map(|p| p.spec.from.as_str()).collect();
        senders.sort_unstable();
        senders.dedup();
        let count = items.len() as i64;
        let reserved = store
            .groups_raw()
            .find_one_and_update(
                doc! {"_id": group, "users": {"$all": senders}},
                doc! {"$inc": {"messageCount": count}},
            )
            .projection(doc! {"messageCount": 1})
            .return_document(ReturnDocument::After)
            .await;
        match reserved {
            Ok(Some(found)) => {
                let last = found.get_i64("messageCount").unwrap_or(count);
                return Some(Reservation {
                    first_seq: last - count + 1,
                    items,
                });
            }
            Ok(None) => {
                items = match drop_non_members(store, group, items).await {
                    Some(members) if !members.is_empty() => members,
                    _ => return None,
                };
            }
            Err(err) => {
                let outcome = Outcome::failed(db_error(err));
                items.into_iter().for_each(|p| p.answer(outcome.clone()));
                return None;
            }
        }
    }
    let outcome = Outcome::failed(ApiError::Unavailable(anyhow::anyhow!(
        "membership of group {group} kept changing"
    )));
    items.into_iter().for_each(|p| p.answer(outcome.clone()));
    None
}

/// Answers the messages whose sender is not a member (or whose group does not
/// exist) and returns the rest.
async fn drop_non_members(
    store: &Store,
    group: ObjectId,
    items: Vec<Pending>,
) -> Option<Vec<Pending>> {
    let found = store
        .groups_raw()
        .find_one(doc! {"_id": group})
        .projection(doc! {"users": 1})
        .await;
    let users: Vec<String> = match found {
        Ok(Some(doc)) => doc
            .get_array("users")
            .map(|users| {
                users
                    .iter()
                    .filter_map(|u| u.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        Ok(None) => {
            let outcome = Outcome::failed(crate::db::groups::group_not_found(group));
            items.into_iter().for_each(|p| p.answer(outcome.clone()));
            return None;
        }
        Err(err) => {
            let outcome = Outcome::failed(db_error(err));
            items.into_iter().for_each(|p| p.answer(outcome.clone()));
            return None;
        }
    };
    let (members, strangers): (Vec<_>, Vec<_>) = items
        .into_iter()
        .partition(|p| users.iter().any(|u| u == p.spec.from.as_str()));
    for stranger in strangers {
        let message = format!(
            "{} is not a member of group {}",
            stranger.spec.from,
            entity_id(group)
        );
        stranger.answer(Outcome::Failed(ErrorCode::PermissionDenied, message));
    }
    Some(members)
}

struct Entry {
    doc: MessageDoc,
    pending: Pending,
}

fn new_doc(spec: &NewMessageSpec, seq: i64, now: DateTime) -> MessageDoc {
    MessageDoc {
        id: ObjectId::new(),
        group: spec.group,
        seq,
        from: spec.from.clone(),
        message: spec.text.clone(),
        timestamp: now,
        nonce: spec.nonce.clone(),
        nonce_key: spec.nonce.as_ref().map(|n| nonce_key(&spec.from, n)),
        edited_at: None,
        deleted: false,
        reactions: Vec::new(),
        changed_at: None,
    }
}

/// Inserts the entries in order. A duplicate `(from, nonce)` (a race with
/// another store) answers that sender with the stored message and goes on;
/// any other failure answers the rest with the error and gives their
/// reserved numbers back.
async fn insert_all(store: &Store, reads: &SenderReads, entries: Vec<Entry>) {
    let mut rest = entries;
    let mut inserted: Vec<Entry> = Vec::with_capacity(rest.len());
    while !rest.is_empty() {
        let result = store
            .messages
            .insert_many(rest.iter().map(|e| &e.doc))
            .ordered(true)
            .await;
        let err = match result {
            Ok(_) => {
                inserted.append(&mut rest);
                break;
            }
            Err(err) => err,
        };
        let failed_at = match &*err.kind {
            ErrorKind::InsertMany(failure) => failure
                .write_errors
                .as_ref()
                .and_then(|errors| errors.iter().min_by_key(|e| e.index))
                .map(|e| (e.index, e.code)),
            _ => None,
        };
        match failed_at {
            Some((index, DUPLICATE_KEY)) if index < rest.len() => {
                let mut tail = rest.split_off(index);
                inserted.append(&mut rest);
                let duplicate = tail.remove(0);
                answer_with_stored_twin(store, duplicate).await;
                rest = tail;
            }
            other => {
                let index = other.map_or(0, |(index, _)| index).min(rest.len());
                let failed = rest.split_off(index);
                inserted.append(&mut rest);
                let outcome = Outcome::failed(db_error(err));
                release_seqs(store, &failed).await;
                failed
                    .into_iter()
                    .for_each(|e| e.pending.answer(outcome.clone()));
            }
        }
    }
    for entry in &inserted {
        reads.record(
            entry.doc.group,
            entry.doc.from.clone(),
            entry.doc.seq,
            entry.doc.id,
        );
    }
    for entry in inserted {
        let message = Message::from(entry.doc);
        entry.pending.answer(Outcome::Stored(Stored {
            message,
            created: true,
        }));
    }
}

async fn answer_with_stored_twin(store: &Store, entry: Entry) {
    let key = entry.doc.nonce_key.clone().unwrap_or_default();
    let outcome = match store.messages.find_one(doc! {"nonceKey": &key}).await {
        Ok(Some(doc)) => Outcome::Stored(Stored {
            message: doc.into(),
            created: false,
        }),
        Ok(None) => Outcome::failed(ApiError::Internal(anyhow::anyhow!(
            "duplicate nonce {key} not found"
        ))),
        Err(err) => Outcome::failed(db_error(err)),
    };
    entry.pending.answer(outcome);
}

/// Gives back the `seq` numbers of messages that were not stored, when they
/// are still the newest of their group, so that `total` stays exact.
async fn release_seqs(store: &Store, failed: &[Entry]) {
    let mut tails: BTreeMap<ObjectId, (i64, i64)> = BTreeMap::new();
    for entry in failed {
        let tail = tails.entry(entry.doc.group).or_insert((0, 0));
        tail.0 += 1;
        tail.1 = tail.1.max(entry.doc.seq);
    }
    for (group, (count, last)) in tails {
        let released = store
            .groups_raw()
            .update_one(
                doc! {"_id": group, "messageCount": last},
                doc! {"$inc": {"messageCount": -count}},
            )
            .await;
        if let Err(err) = released {
            tracing::warn!(group = %group, error = %err, "could not release unused message numbers");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(from: &str, nonce: Option<&str>) -> (Job, oneshot::Receiver<Outcome>) {
        let (reply, answer) = oneshot::channel();
        let spec = NewMessageSpec {
            group: ObjectId::new(),
            from: Up::parse(from).unwrap(),
            text: "hi".into(),
            nonce: nonce.map(str::to_owned),
        };
        (Job { spec, reply }, answer)
    }

    #[test]
    fn only_the_first_waiter_of_a_merged_nonce_is_told_it_created_the_message() {
        let (a, first) = job("a", Some("n1"));
        let (b, second) = job("a", Some("n1"));
        let pending = merge_same_nonce(vec![a, b]).remove(0);
        let message = Message::from(new_doc(&pending.spec, 1, DateTime::now()));
        pending.answer(Outcome::Stored(Stored {
            message,
            created: true,
        }));
        let created = |answer: oneshot::Receiver<Outcome>| match answer.blocking_recv() {
            Ok(Outcome::Stored(stored)) => stored.created,
            _ => panic!("no stored message"),
        };
        assert!(created(first));
        assert!(!created(second));
    }

    #[test]
    fn the_same_nonce_twice_in_a_batch_is_one_message_with_two_waiters() {
        let (a, _) = job("a", Some("n1"));
        let (b, _) = job("a", Some("n1"));
        let (c, _) = job("b", Some("n1"));
        let (d, _) = job("a", None);
        let (e, _) = job("a", None);
        let pending = merge_same_nonce(vec![a, b, c, d, e]);
        let waiters: Vec<usize> = pending.iter().map(|p| p.replies.len()).collect();
        assert_eq!(waiters, vec![2, 1, 1, 1]);
    }
}
