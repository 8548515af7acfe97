//! Publishes the adapter's documents: one task per node inserts them into
//! the adapter's collection in the order they were emitted, as many at a
//! time as are waiting, so that a broadcast is delivered to the node's own
//! sockets without waiting for MongoDB and a burst costs one round trip.
//!
//! Every document gets its `_id` when it is queued, so a batch tried again
//! after a failure never inserts a document twice: an ordered insert stops
//! at its first failure, and a duplicate key there means that document (and
//! every one before it) is already in. A batch MongoDB keeps refusing for
//! [`GIVE_UP_AFTER`] is dropped with an error in the log; the messages
//! stay stored, and readers on other nodes get them with `sync`.

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
/// How long a batch is tried again before it is dropped.
const GIVE_UP_AFTER: Duration = Duration::from_secs(5);
/// MongoDB's code for a duplicate key.
const DUPLICATE_KEY: i32 = 11000;

/// The sending side of the publisher task; cheap to clone.
#[derive(Debug, Clone)]
pub struct Publisher {
    queue: mpsc::Sender<Document>,
    /// Documents queued since the start.
    queued: Arc<AtomicU64>,
    /// Documents done with (inserted, or dropped) since the start.
    done: watch::Receiver<u64>,
}

/// The publisher task has stopped (the runtime is shutting down).
#[derive(Debug, thiserror::Error)]
#[error("the adapter's publisher has stopped")]
pub struct PublisherStopped;

impl Publisher {
    /// Starts the task that inserts into `collection`.
    pub fn start(collection: Collection<Document>) -> Self {
        let (queue, waiting) = mpsc::channel(QUEUE_CAPACITY);
        let (report, done) = watch::channel(0);
        tokio::spawn(run(collection, waiting, report));
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

    /// Resolves once every document queued before the call is done with
    /// (the node calls it before exiting, so its last broadcasts go out).
    pub async fn flushed(&self) {
        let queued = self.queued.load(Ordering::Acquire);
        let mut done = self.done.clone();
        // An error means the task stopped: nothing more will be inserted.
        let _ = done.wait_for(|done| *done >= queued).await;
    }
}

async fn run(
    collection: Collection<Document>,
    mut waiting: mpsc::Receiver<Document>,
    report: watch::Sender<u64>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while waiting.recv_many(&mut batch, MAX_BATCH).await > 0 {
        insert_in_order(&collection, &batch).await;
        report.send_modify(|done| *done += batch.len() as u64);
        batch.clear();
    }
}

/// Inserts `batch` in order, trying again what is not in yet until
/// [`GIVE_UP_AFTER`].
async fn insert_in_order(collection: &Collection<Document>, batch: &[Document]) {
    let deadline = Instant::now() + GIVE_UP_AFTER;
    let mut rest = batch;
    let mut wait = Duration::from_millis(50);
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
            Outcome::Failed if Instant::now() + wait < deadline => {
                tracing::warn!(%error, "cannot publish to the adapter yet; trying again");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(1));
            }
            Outcome::Failed => {
                tracing::error!(
                    %error,
                    dropped = rest.len(),
                    "dropping adapter documents MongoDB refused for {GIVE_UP_AFTER:?}: \
                     other nodes miss these broadcasts (the messages stay stored)"
                );
                return;
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
