//! Publishes the adapter's documents: one task per node inserts them into
//! the adapter's collection in the order they were emitted, as many at a
//! time as are waiting, so that a broadcast is delivered to the node's own
//! sockets without waiting for MongoDB and a burst costs one round trip.
//!
//! Every document gets its `_id` when it is queued, so a batch tried again
//! after a failure never inserts a document twice: an ordered insert stops
//! at its first failure, and a duplicate key there means that document (and
//! every one before it) is already in.
//!
//! Nothing queued is ever dropped or overtaken: a batch MongoDB refuses is
//! tried again, with backoff, until it is in. Other nodes read the
//! collection in order (resuming their change stream from its token), so a
//! request that takes a kicked user's sockets out of a room reaches every
//! node before any later broadcast to that room. A batch still refused
//! after [`RECOVERY_LIMIT`] stops the node with an error, as a change stream
//! that cannot be resumed does: its clients reconnect to the other nodes.

use super::adapter::RECOVERY_LIMIT;
use super::lifecycle::{Lifecycle, StopReason};
use backon::{BackoffBuilder, ExponentialBuilder};
use mongodb::Collection;
use mongodb::bson::{Document, oid::ObjectId};
use mongodb::error::{Error, ErrorKind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// Documents waiting to be inserted before emitting waits for room.
const QUEUE_CAPACITY: usize = 4096;
/// The most documents inserted in one round trip.
const MAX_BATCH: usize = 256;
/// MongoDB's code for a duplicate key.
const DUPLICATE_KEY: i32 = 11000;

/// The sending side of the publisher task; cheap to clone.
#[derive(Debug, Clone)]
pub struct Publisher {
    queue: mpsc::Sender<Document>,
    /// Documents queued since the start.
    queued: Arc<AtomicU64>,
    /// Documents inserted since the start.
    done: watch::Receiver<u64>,
}

/// The publisher task has stopped (the runtime is shutting down).
#[derive(Debug, thiserror::Error)]
#[error("the adapter's publisher has stopped")]
pub struct PublisherStopped;

impl Publisher {
    /// Starts the task that inserts into `collection`; it stops the node
    /// through `lifecycle` if MongoDB refuses a batch for too long.
    pub fn start(collection: Collection<Document>, lifecycle: Lifecycle) -> Self {
        let (queue, waiting) = mpsc::channel(QUEUE_CAPACITY);
        let (report, done) = watch::channel(0);
        tokio::spawn(run(collection, lifecycle, waiting, report));
        Self {
            queue,
            queued: Arc::default(),
            done,
        }
    }

    /// Queues `document` after every document queued before it (giving it
    /// an `_id` if it has none); waits only while [`QUEUE_CAPACITY`]
    /// documents are already waiting.
    pub async fn publish(&self, mut document: Document) -> Result<(), PublisherStopped> {
        if !document.contains_key("_id") {
            document.insert("_id", ObjectId::new());
        }
        let permit = self.queue.reserve().await.map_err(|_| PublisherStopped)?;
        self.queued.fetch_add(1, Ordering::AcqRel);
        permit.send(document);
        Ok(())
    }

    /// Resolves once every document queued before the call is in the
    /// collection (the node calls it before exiting, so its last broadcasts
    /// go out, and after a request that must reach every node).
    pub async fn flushed(&self) {
        let queued = self.queued.load(Ordering::Acquire);
        let mut done = self.done.clone();
        // An error means the task stopped: nothing more will be inserted.
        let _ = done.wait_for(|done| *done >= queued).await;
    }
}

async fn run(
    collection: Collection<Document>,
    lifecycle: Lifecycle,
    mut waiting: mpsc::Receiver<Document>,
    report: watch::Sender<u64>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while waiting.recv_many(&mut batch, MAX_BATCH).await > 0 {
        insert_in_order(&collection, &lifecycle, &batch).await;
        report.send_modify(|done| *done += batch.len() as u64);
        batch.clear();
    }
}

/// The waits between attempts at a refused batch: short at first, then
/// once a second, for as long as it takes.
fn retry_schedule() -> impl Iterator<Item = Duration> {
    ExponentialBuilder::new()
        .with_jitter()
        .with_min_delay(Duration::from_millis(50))
        .with_max_delay(Duration::from_secs(1))
        .without_max_times()
        .build()
}

/// Inserts `batch` in order, trying again what is not in yet until it is;
/// stops the node once it has failed for [`RECOVERY_LIMIT`].
async fn insert_in_order(
    collection: &Collection<Document>,
    lifecycle: &Lifecycle,
    batch: &[Document],
) {
    let started = Instant::now();
    let mut waits = retry_schedule();
    let mut rest = batch;
    let mut stopped_node = false;
    while !rest.is_empty() {
        let error = match collection.insert_many(rest).ordered(true).await {
            Ok(_) => return,
            Err(error) => error,
        };
        match outcome(&error) {
            Outcome::AllIn => return,
            Outcome::Refused(index, DUPLICATE_KEY) => rest = &rest[index + 1..],
            Outcome::Refused(index, _) => {
                tracing::warn!(%error, "MongoDB refused an adapter document; skipping it");
                rest = &rest[index + 1..];
            }
            Outcome::Failed => {
                if !stopped_node && started.elapsed() >= RECOVERY_LIMIT {
                    stopped_node = true;
                    lifecycle.stop(StopReason::Fatal(format!(
                        "the adapter's MongoDB refused this node's broadcasts for {RECOVERY_LIMIT:?}: \
                         the other nodes no longer hear this one ({error})"
                    )));
                }
                let wait = waits.next().unwrap_or(Duration::from_secs(1));
                tracing::warn!(%error, retry_in = ?wait, "cannot publish to the adapter yet; trying again");
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// What a failed ordered insert left behind.
enum Outcome {
    /// Every document was written; only the write concern was not met.
    AllIn,
    /// The documents before this index are in; this one was refused with
    /// this code.
    Refused(usize, i32),
    /// The request failed as a whole (e.g. MongoDB is out of reach).
    Failed,
}

fn outcome(error: &Error) -> Outcome {
    let ErrorKind::InsertMany(insert) = &*error.kind else {
        return Outcome::Failed;
    };
    let first = insert
        .write_errors
        .iter()
        .flatten()
        .map(|refused| (refused.index, refused.code))
        .min();
    match (first, &insert.write_concern_error) {
        (Some((index, code)), _) => Outcome::Refused(index, code),
        (None, Some(_)) => Outcome::AllIn,
        (None, None) => Outcome::Failed,
    }
}
