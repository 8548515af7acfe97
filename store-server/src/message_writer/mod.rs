//! Group commit of new messages.
//!
//! `POST /message` handlers hand their message to one writer task and wait
//! for their own answer. The writer takes every message waiting at that
//! moment as one batch, whatever its size and however many groups it
//! spans:
//!
//! 1. one `find` reads the members and message counts of the batch's groups
//!    ([`numbering`]); nothing about membership is cached, so a join or a
//!    leave through any store instance applies to the next batch. Each
//!    member's message gets the next number of its group, and the members
//!    its text names (`@up`) as its `mentions`;
//! 2. one ordered `insertMany` writes the batch ([`insert`]); the unique
//!    `{group, seq}` index makes the insert the claim on a number, and a
//!    retried `(from, nonce)` is caught by its unique index and answered
//!    with the first message (`created: false`), whichever instance stored
//!    it;
//! 3. the groups' counts and the senders' read markers are written, and
//!    only then are the senders answered ([`publish`]).
//!
//! Steps 1 and 2 run one batch at a time; step 3 runs beside the next
//! batches. Any number of store instances may write the same groups at
//! once: a number is only chosen once the one below it is stored, so a
//! group's numbers have no gaps and a reader paging with `after` never
//! skips one (docs/architecture.md, "Several store instances").
//!
//! A message stored without its sender learning it is still broadcast
//! once: its first retry is told it created it ([`unanswered`], with the
//! keys remembered in [`orphans`]). An insert that MongoDB does not answer
//! within [`insert::INSERT_TIMEOUT`] fails the batch instead of stalling
//! every group. If the writer task ever stops, the store is no longer
//! ready.

mod insert;
mod numbering;
pub mod orphans;
mod publish;
mod unanswered;

use crate::db::Store;
use crate::db::documents::{
    AttachmentMeta, MessageDoc, QuoteDoc, entity_id, idempotency_key, nonce_key,
};
use crate::db::groups::group_not_found;
use chat_wire::ErrorCode;
use chat_wire::ids::Up;
use chat_wire::mentions::mentioned;
use chat_wire::model::Message;
use futures::future::{Either, select};
use insert::{Entry, insert_in_order};
use mongodb::bson::DateTime;
use mongodb::bson::oid::ObjectId;
use numbering::Floors;
use orphans::Orphans;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use service_kit::ApiError;
use std::collections::HashMap;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::{Semaphore, mpsc, oneshot};

/// The most messages written in one batch.
const MAX_BATCH: usize = 512;
/// Messages that may wait for the writer before senders are slowed down.
const QUEUE_CAPACITY: usize = 8192;
/// Batches that may be being answered at once; past it the writer waits
/// too.
const PUBLISHING: usize = 64;

/// A message to store, already validated.
#[derive(Debug, Clone)]
pub struct NewMessageSpec {
    /// The group.
    pub group: ObjectId,
    /// The sender.
    pub from: Up,
    /// The trimmed text.
    pub text: String,
    /// The sender's idempotency key, shown on the message.
    pub nonce: Option<String>,
    /// The caller's idempotency key (`Idempotency-Key`), used when there is
    /// no nonce and never shown: a chat node gives one to every message.
    pub idempotency_key: Option<String>,
    /// The attachments, claimed for this message's key (see
    /// `db::attachments`).
    pub attachments: Vec<AttachmentMeta>,
    /// The quote of the message it answers (`db::replies`).
    pub reply_to: Option<QuoteDoc>,
}

impl NewMessageSpec {
    /// The unique key that makes a retry find the first message: the
    /// nonce's, or else the idempotency key's.
    pub fn key(&self) -> Option<String> {
        match (&self.nonce, &self.idempotency_key) {
            (Some(nonce), _) => Some(nonce_key(&self.from, nonce)),
            (None, Some(key)) => Some(idempotency_key(&self.from, key)),
            (None, None) => None,
        }
    }
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
    /// Boxed: a message is large beside an error.
    Stored(Box<Stored>),
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
    /// Answers every waiter. The first waiter still waiting is told it
    /// created a new message (the others are retries of it and are told
    /// `created: false`). If nobody was there to learn of the creation, the
    /// message is an orphan: its next retry is told it created it. If
    /// somebody was, the key is no orphan, whatever an earlier attempt left.
    fn answer(self, outcome: Outcome, orphans: &Orphans) {
        self.answer_noting_untold(outcome, orphans);
    }

    /// [`Pending::answer`], returning [`Untold`] when the message was
    /// created with nobody told.
    fn answer_noting_untold(self, outcome: Outcome, orphans: &Orphans) -> Option<Untold> {
        let key = self.key();
        let creation = matches!(&outcome, Outcome::Stored(stored) if stored.created);
        let mut creation_told = !creation;
        for reply in self.replies {
            let told = match &outcome {
                Outcome::Stored(stored) if stored.created => Outcome::Stored(Box::new(Stored {
                    created: !creation_told,
                    ..Stored::clone(stored)
                })),
                other => other.clone(),
            };
            // The sender may have given up (timeout); nothing to do then.
            if reply.send(told).is_ok() {
                creation_told = true;
            }
        }
        if let (true, Some(key)) = (creation, &key) {
            if creation_told {
                // An earlier attempt may have left this key an orphan (its
                // insert timed out and did not land): this creation was
                // heard, and its broadcast is the only one.
                orphans.claim(key);
            } else {
                orphans.adopt(key.clone());
            }
        }
        (creation && !creation_told).then_some(Untold { key })
    }

    /// Answers that the message may or may not be stored (the insert's
    /// outcome is unknown): a retry that finds it is told it created it.
    fn answer_unknown(self, err: ApiError, orphans: &Orphans) {
        if let Some(key) = self.key() {
            orphans.adopt(key);
        }
        let outcome = Outcome::failed(err);
        for reply in self.replies {
            let _ = reply.send(outcome.clone());
        }
    }

    /// The unique key, for messages with a nonce or an idempotency key.
    fn key(&self) -> Option<String> {
        self.spec.key()
    }
}

/// A message created with nobody told of it (its sender stopped waiting).
struct Untold {
    /// Its unique key, if it has one.
    key: Option<String>,
}

/// The handle handlers use to store messages; cheap to clone.
#[derive(Debug, Clone)]
pub struct MessageWriter {
    jobs: mpsc::Sender<Job>,
    running: Arc<AtomicBool>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
}

/// Marks the writer stopped when its task ends. A panic is an error (the
/// store is no longer ready); a return means every handle was dropped, as
/// the store stops. When the runtime shuts down, both tasks just end.
async fn supervise(task: tokio::task::JoinHandle<()>, running: Arc<AtomicBool>) {
    let ended = task.await;
    running.store(false, Ordering::Release);
    match ended {
        Err(err) if err.is_panic() => {
            tracing::error!("the message writer stopped; the store is not ready any more");
        }
        _ => tracing::debug!("the message writer stopped with the store"),
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
        let running = Arc::new(AtomicBool::new(true));
        let writer = Writer {
            store,
            orphans: Orphans::default(),
            floors: Floors::default(),
            publishing: Arc::new(Semaphore::new(PUBLISHING)),
        };
        let task = tokio::spawn(writer.run(queue, batch_sizes));
        tokio::spawn(supervise(task, running.clone()));
        Self { jobs, running }
    }

    /// Whether the writer task is running.
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::Acquire)
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
            Ok(Outcome::Stored(stored)) => Ok(*stored),
            Ok(Outcome::Failed(code, message)) => Err(ApiError::from_code(code, message)),
            Err(_) => Err(ApiError::Internal(anyhow::anyhow!(
                "message writer dropped a request"
            ))),
        }
    }
}

/// The writer task's state.
struct Writer {
    store: Store,
    orphans: Orphans,
    floors: Floors,
    publishing: Arc<Semaphore>,
}

impl Writer {
    /// Writes batches until every handle is dropped. While a batch is
    /// inserted, the next one is taken from the queue and its groups are
    /// read, so a batch costs one round trip of the writer's time, not two.
    async fn run(self, mut queue: mpsc::Receiver<Job>, batch_sizes: Histogram) {
        let mut next: Option<Loaded> = None;
        loop {
            let loaded = match next.take() {
                Some(loaded) => loaded,
                None => match self.take(&mut queue, &batch_sizes).await {
                    Some(loaded) => loaded,
                    None => break,
                },
            };
            let entries = self.number(loaded);
            let taken = AtomicBool::new(false);
            let reading = async {
                let mut jobs = Vec::with_capacity(MAX_BATCH);
                if queue.recv_many(&mut jobs, MAX_BATCH).await == 0 {
                    return None;
                }
                taken.store(true, Ordering::Relaxed);
                batch_sizes.observe(jobs.len() as f64);
                Some(self.load(jobs).await)
            };
            let insert = insert_in_order(&self.store, entries, &self.orphans);
            let inserted = match select(pin!(insert), pin!(reading)).await {
                Either::Left((inserted, reading)) => {
                    // A next batch already taken is read to the end; a wait
                    // for one is dropped (`recv_many` loses nothing then).
                    if taken.load(Ordering::Relaxed) {
                        next = reading.await;
                    }
                    inserted
                }
                Either::Right((read, insert)) => {
                    next = read;
                    insert.await
                }
            };
            self.publish(inserted).await;
        }
        // Wait for the batches still being answered before the task ends.
        let _ = self.publishing.acquire_many(PUBLISHING as u32).await;
    }

    /// Waits for the next batch and reads its groups; `None` once every
    /// handle is dropped.
    async fn take(
        &self,
        queue: &mut mpsc::Receiver<Job>,
        batch_sizes: &Histogram,
    ) -> Option<Loaded> {
        let mut jobs = Vec::with_capacity(MAX_BATCH);
        if queue.recv_many(&mut jobs, MAX_BATCH).await == 0 {
            return None;
        }
        batch_sizes.observe(jobs.len() as f64);
        Some(self.load(jobs).await)
    }

    /// Reads the members and counts of a batch's groups.
    async fn load(&self, jobs: Vec<Job>) -> Loaded {
        let pending = merge_same_nonce(jobs);
        let mut group_ids: Vec<ObjectId> = pending.iter().map(|p| p.spec.group).collect();
        group_ids.sort_unstable();
        group_ids.dedup();
        let groups = tokio::time::timeout(
            insert::INSERT_TIMEOUT,
            numbering::load(&self.store, &group_ids),
        )
        .await
        .unwrap_or_else(|_| {
            Err(ApiError::Unavailable(anyhow::anyhow!(
                "MongoDB did not answer the groups of a batch in time"
            )))
        });
        Loaded { pending, groups }
    }

    /// Answers the messages that cannot be stored (an unknown group, a
    /// sender who is not a member, a direct group where one of the two
    /// blocked the other) and numbers the others.
    fn number(&self, loaded: Loaded) -> Vec<Entry> {
        let orphans = &self.orphans;
        let Loaded { pending, groups } = loaded;
        let groups = match groups {
            Ok(groups) => groups,
            Err(err) => {
                let outcome = Outcome::failed(err);
                pending
                    .into_iter()
                    .for_each(|p| p.answer(outcome.clone(), orphans));
                return Vec::new();
            }
        };
        let now = DateTime::now();
        let mut next: HashMap<ObjectId, i64> = HashMap::new();
        let mut entries = Vec::with_capacity(pending.len());
        for item in pending {
            let group = item.spec.group;
            match groups.get(&group) {
                None => item.answer(Outcome::failed(group_not_found(group)), orphans),
                Some(now_group) if !now_group.members.contains(&item.spec.from) => {
                    let message = format!(
                        "{} is not a member of group {}",
                        item.spec.from,
                        entity_id(group)
                    );
                    item.answer(
                        Outcome::Failed(ErrorCode::PermissionDenied, message),
                        orphans,
                    );
                }
                Some(now_group) => {
                    if let Some(refusal) = now_group.blocked(&item.spec.from) {
                        item.answer(Outcome::failed(refusal), orphans);
                        continue;
                    }
                    let seq = next
                        .entry(group)
                        .or_insert_with(|| self.floors.next(&group, now_group.counted));
                    let mentions = mentioned(&item.spec.text, |up| now_group.members.contains(up));
                    entries.push(Entry {
                        doc: new_doc(&item.spec, *seq, now, mentions),
                        pending: item,
                    });
                    *seq += 1;
                }
            }
        }
        entries
    }

    /// Settles which retries found stored are told they created their
    /// message, notes what the inserts stored, and hands the stored
    /// messages to a task that counts and answers them.
    async fn publish(&self, mut inserted: insert::Inserted) {
        unanswered::settle(
            &self.store,
            &self.orphans,
            &self.publishing,
            PUBLISHING as u32,
            &mut inserted.done,
        )
        .await;
        for group in &inserted.failed {
            self.floors.forget(group);
        }
        for item in inserted.done.iter().filter(|item| item.created) {
            self.floors.stored(item.doc.group, item.doc.seq);
        }
        let Ok(permit) = self.publishing.clone().acquire_owned().await else {
            return;
        };
        let (store, orphans) = (self.store.clone(), self.orphans.clone());
        tokio::spawn(async move {
            publish::publish(&store, inserted.done, &orphans).await;
            drop(permit);
        });
    }
}

/// A batch taken from the queue, with its groups as read.
struct Loaded {
    pending: Vec<Pending>,
    groups: Result<HashMap<ObjectId, numbering::GroupNow>, ApiError>,
}

/// Folds jobs with the same `(from, nonce)` into one.
fn merge_same_nonce(jobs: Vec<Job>) -> Vec<Pending> {
    let mut pending: Vec<Pending> = Vec::with_capacity(jobs.len());
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for Job { spec, reply } in jobs {
        if let Some(key) = spec.key() {
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

/// The document of a new message, numbered `seq`, naming `mentions`.
fn new_doc(spec: &NewMessageSpec, seq: i64, now: DateTime, mentions: Vec<Up>) -> MessageDoc {
    MessageDoc {
        nonce: spec.nonce.clone(),
        nonce_key: spec.key(),
        attachments: spec.attachments.clone(),
        reply_to: spec.reply_to.clone(),
        mentions,
        ..MessageDoc::sent(
            ObjectId::new(),
            spec.group,
            seq,
            spec.from.clone(),
            spec.text.clone(),
            now,
        )
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
            idempotency_key: None,
            attachments: Vec::new(),
            reply_to: None,
        };
        (Job { spec, reply }, answer)
    }

    #[test]
    fn only_the_first_waiter_of_a_merged_nonce_is_told_it_created_the_message() {
        let (a, first) = job("a", Some("n1"));
        let (b, second) = job("a", Some("n1"));
        let pending = merge_same_nonce(vec![a, b]).remove(0);
        let message = Message::from(new_doc(&pending.spec, 1, DateTime::now(), Vec::new()));
        pending.answer(
            Outcome::Stored(Box::new(Stored {
                message,
                created: true,
            })),
            &Orphans::default(),
        );
        let created = |answer: oneshot::Receiver<Outcome>| match answer.blocking_recv() {
            Ok(Outcome::Stored(stored)) => stored.created,
            _ => panic!("no stored message"),
        };
        assert!(created(first));
        assert!(!created(second));
    }

    #[test]
    fn a_creation_nobody_hears_goes_to_the_next_waiter_or_becomes_an_orphan() {
        let orphans = Orphans::default();
        let stored = |pending: &Pending| {
            Outcome::Stored(Box::new(Stored {
                message: Message::from(new_doc(&pending.spec, 1, DateTime::now(), Vec::new())),
                created: true,
            }))
        };
        let (a, gone) = job("a", Some("n1"));
        let (b, second) = job("a", Some("n1"));
        drop(gone);
        let pending = merge_same_nonce(vec![a, b]).remove(0);
        let outcome = stored(&pending);
        let untold = pending.answer_noting_untold(outcome, &orphans);
        assert!(untold.is_none(), "told");
        match second.blocking_recv() {
            Ok(Outcome::Stored(stored)) => assert!(stored.created, "the waiter left is told"),
            _ => panic!("no stored message"),
        }
        assert!(!orphans.claim("a|n1"), "somebody heard it");

        let (c, gone) = job("a", Some("n2"));
        drop(gone);
        let pending = merge_same_nonce(vec![c]).remove(0);
        let outcome = stored(&pending);
        let untold = pending.answer_noting_untold(outcome, &orphans);
        assert!(untold.is_some(), "untold");
        assert!(
            orphans.claim("a|n2"),
            "nobody heard it: its retry will be told"
        );
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
