//! Group commit of new messages.
//!
//! `POST /message` handlers hand their message to one writer task and wait
//! for their own answer. The writer takes every message waiting at that
//! moment as one batch and stores it with two round trips, whatever its size
//! and however many groups it spans:
//!
//! 1. membership is checked and `seq` numbers are handed out in memory
//!    ([`group_cache`]);
//! 2. one ordered `insertMany` writes the batch ([`insert`]); a retried
//!    `(from, nonce)` is caught by its unique index and answered with the
//!    first message (`created: false`);
//! 3. the groups' message counts and the senders' read markers are recorded
//!    in memory and written behind (`db::write_behind`), a few times a
//!    second, whatever the message rate.
//!
//! So a batch costs one round trip, and throughput is bounded by MongoDB's
//! insert rate. Batches run one at a time, so a group's messages become
//! visible in `seq` order and a reader catching up with `after` never skips
//! one.

mod group_cache;
mod insert;

use crate::db::Store;
use crate::db::documents::{MessageDoc, entity_id, nonce_key};
use crate::db::groups::group_not_found;
use chat_wire::ErrorCode;
use chat_wire::ids::Up;
use chat_wire::model::Message;
use group_cache::GroupCache;
use insert::{Entry, insert_in_order};
use mongodb::bson::DateTime;
use mongodb::bson::oid::ObjectId;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use service_kit::ApiError;
use std::collections::{HashMap, HashSet};
use tokio::sync::{mpsc, oneshot};

/// The most messages written in one batch.
const MAX_BATCH: usize = 512;
/// Messages that may wait for the writer before senders are slowed down.
const QUEUE_CAPACITY: usize = 8192;

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
    cache: GroupCache,
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
    pub fn spawn(store: Store, registry: &mut Registry) -> Self {
        let batch_sizes = Histogram::new(exponential_buckets(1.0, 2.0, 10));
        registry.register(
            "message_batch_size",
            "Messages written per batch by the group-commit writer",
            batch_sizes.clone(),
        );
        let (jobs, queue) = mpsc::channel(QUEUE_CAPACITY);
        let cache = GroupCache::default();
        tokio::spawn(run(store, cache.clone(), queue, batch_sizes));
        Self { jobs, cache }
    }

    /// Forgets what the writer knows of a group whose members changed.
    pub fn forget_group(&self, group: &ObjectId) {
        self.cache.forget(group);
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

async fn run(
    store: Store,
    cache: GroupCache,
    mut queue: mpsc::Receiver<Job>,
    batch_sizes: Histogram,
) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        batch_sizes.observe(batch.len() as f64);
        write_batch(&store, &cache, batch).await;
    }
}

async fn write_batch(store: &Store, cache: &GroupCache, jobs: Vec<Job>) {
    let pending = merge_same_nonce(jobs);
    let group_ids: HashSet<ObjectId> = pending.iter().map(|p| p.spec.group).collect();
    let mut groups = match cache.checkout(store, &group_ids).await {
        Ok(groups) => groups,
        Err(err) => {
            let outcome = Outcome::failed(err);
            pending.into_iter().for_each(|p| p.answer(outcome.clone()));
            return;
        }
    };
    let now = DateTime::now();
    let mut entries = Vec::with_capacity(pending.len());
    for item in pending {
        let group = item.spec.group;
        match groups.get_mut(&group) {
            None => item.answer(Outcome::failed(group_not_found(group))),
            Some(cached) if !cached.members.contains(&item.spec.from) => {
                let message = format!(
                    "{} is not a member of group {}",
                    item.spec.from,
                    entity_id(group)
                );
                item.answer(Outcome::Failed(ErrorCode::PermissionDenied, message));
            }
            Some(cached) => {
                cached.last_seq += 1;
                entries.push(Entry {
                    doc: new_doc(&item.spec, cached.last_seq, now),
                    pending: item,
                });
            }
        }
    }
    let inserted = insert_in_order(store, &mut groups, entries).await;
    cache.checkin(groups);
    for entry in inserted {
        let doc = &entry.doc;
        store.pending.record_count(doc.group, doc.seq);
        store
            .pending
            .record_marker(doc.group, doc.from.clone(), doc.seq, doc.id);
        let message = Message::from(entry.doc);
        entry.pending.answer(Outcome::Stored(Stored {
            message,
            created: true,
        }));
    }
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
