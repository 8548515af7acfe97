//! Writing `terms` on the messages stored before search existed, so that
//! they are found too: a background task of every store instance at
//! start-up, a window of ids at a time, that runs once per database.
//!
//! - **Idempotent.** A message gets its terms only while it has none and
//!   its text is still the one read (`{_id, terms: {$exists: false},
//!   message}`): an edit or a delete made meanwhile, which write terms
//!   themselves, always win, and doing a window twice changes nothing.
//! - **Several instances.** One of them holds a lease on the document
//!   `searchTerms` of the collection `migrations` (renewed after each
//!   window, taken over a minute after its holder stops), and records there
//!   how far it got, so a takeover goes on from there; the others wait.
//!   Once it reaches the time it started at (later messages were written
//!   with their terms), it marks the document `done`, and later starts do
//!   nothing.
//! - **Bounded work.** A window reads the `_id` index over a stretch of
//!   time sized to hold about [`BATCH`] messages, and writes their terms
//!   with one multi-statement update.

use super::search_reads::{at_second, seconds};
use super::{Store, db_error, is_duplicate_key};
use chat_wire::search::terms_of;
use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, Document, doc};
use mongodb::options::ReturnDocument;
use service_kit::ApiError;
use std::time::Duration;

/// The collection of one-off data migrations.
pub const MIGRATIONS: &str = "migrations";
/// This migration's document.
const NAME: &str = "searchTerms";
/// How long a lease holds without being renewed.
const LEASE: Duration = Duration::from_secs(60);
/// Messages a window aims at.
const BATCH: usize = 500;
/// The longest window, in seconds (30 days).
const MAX_SPAN: u64 = 30 * 86_400;
/// Wait before asking again while another instance holds the lease.
const BUSY_WAIT: Duration = Duration::from_secs(30);
/// Wait after a failure (MongoDB unreachable).
const RETRY_WAIT: Duration = Duration::from_secs(10);

/// What a run of the backfill came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backfill {
    /// Every message has its terms.
    Done,
    /// Another instance holds the lease.
    Busy,
}

/// Runs the backfill until it is done (by this instance or another).
pub async fn run(store: Store) {
    loop {
        match backfill(&store).await {
            Ok(Backfill::Done) => return,
            Ok(Backfill::Busy) => tokio::time::sleep(BUSY_WAIT).await,
            Err(err) => {
                tracing::warn!(error = %err, "the search terms backfill failed; trying again");
                tokio::time::sleep(RETRY_WAIT).await;
            }
        }
    }
}

/// One run: takes the lease, writes the terms window by window from where
/// the last holder stopped, and marks the migration done.
pub async fn backfill(store: &Store) -> Result<Backfill, ApiError> {
    let migrations = store.database().collection::<Document>(MIGRATIONS);
    let owner = ObjectId::new().to_hex();
    let lease = match claim(store, &owner).await? {
        Claim::Held(lease) => lease,
        Claim::Done => return Ok(Backfill::Done),
        Claim::Busy => return Ok(Backfill::Busy),
    };
    let end = at_second(seconds(ObjectId::new()) + 1);
    let mut lower = match lease.get_object_id("after") {
        Ok(after) => after,
        Err(_) => match oldest_message(store).await? {
            Some(oldest) => oldest,
            None => end,
        },
    };
    let mut span: u64 = 3600;
    let mut written = 0usize;
    while lower < end {
        let upper = at_second(seconds(lower).saturating_add(span)).min(end);
        let count = fill_window(store, lower, upper).await?;
        written += count;
        span = match count {
            n if n > 2 * BATCH => (span / 2).max(1),
            n if n < BATCH / 4 => (span * 4).min(MAX_SPAN),
            _ => span,
        };
        lower = upper;
        let renewed = migrations
            .update_one(
                doc! {"_id": NAME, "owner": &owner},
                doc! {"$set": {"after": lower, "leaseUntil": lease_end()}},
            )
            .await
            .map_err(db_error)?;
        if renewed.matched_count == 0 {
            return Ok(Backfill::Busy);
        }
    }
    migrations
        .update_one(
            doc! {"_id": NAME, "owner": &owner},
            doc! {"$set": {"done": true, "doneAt": DateTime::now()}, "$unset": {"leaseUntil": ""}},
        )
        .await
        .map_err(db_error)?;
    if written > 0 {
        tracing::info!(
            messages = written,
            "search terms written on earlier messages"
        );
    }
    Ok(Backfill::Done)
}

/// Whether this run may go on.
enum Claim {
    /// It holds the lease: the migration's document.
    Held(Document),
    /// The migration is done.
    Done,
    /// Another instance holds the lease.
    Busy,
}

/// Takes the lease on the migration, unless it is done or held.
async fn claim(store: &Store, owner: &str) -> Result<Claim, ApiError> {
    let migrations = store.database().collection::<Document>(MIGRATIONS);
    let now = DateTime::now();
    let claimed = migrations
        .find_one_and_update(
            doc! {"_id": NAME, "done": {"$ne": true}, "$or": [
                {"leaseUntil": {"$lt": now}},
                {"leaseUntil": {"$exists": false}},
            ]},
            doc! {"$set": {"owner": owner, "leaseUntil": lease_end()}},
        )
        .upsert(true)
        .return_document(ReturnDocument::After)
        .await;
    match claimed {
        Ok(Some(lease)) => Ok(Claim::Held(lease)),
        // The document exists and did not match: done, or leased.
        Ok(None) => Ok(Claim::Busy),
        Err(err) if is_duplicate_key(&err) => {
            let current = migrations
                .find_one(doc! {"_id": NAME})
                .await
                .map_err(db_error)?;
            match current.and_then(|doc| doc.get_bool("done").ok()) {
                Some(true) => Ok(Claim::Done),
                _ => Ok(Claim::Busy),
            }
        }
        Err(err) => Err(db_error(err)),
    }
}

fn lease_end() -> DateTime {
    let until = DateTime::now().timestamp_millis() + LEASE.as_millis() as i64;
    DateTime::from_millis(until)
}

/// The id of the oldest message, if any.
async fn oldest_message(store: &Store) -> Result<Option<ObjectId>, ApiError> {
    let oldest = store
        .messages_raw()
        .find_one(doc! {})
        .sort(doc! {"_id": 1})
        .projection(doc! {"_id": 1})
        .await
        .map_err(db_error)?;
    Ok(oldest.and_then(|doc| doc.get_object_id("_id").ok()))
}

/// Writes the terms of the messages of `lower <= _id < upper` that have
/// none; answers how many there were.
async fn fill_window(store: &Store, lower: ObjectId, upper: ObjectId) -> Result<usize, ApiError> {
    let docs: Vec<Document> = store
        .messages_raw()
        .find(doc! {"_id": {"$gte": lower, "$lt": upper}, "terms": {"$exists": false}})
        .projection(doc! {"_id": 1, "message": 1, "deleted": 1})
        .await
        .map_err(db_error)?
        .try_collect()
        .await
        .map_err(db_error)?;
    let updates: Vec<Document> = docs
        .iter()
        .filter_map(|message| {
            let id = message.get_object_id("_id").ok()?;
            let text = message.get_str("message").unwrap_or_default();
            let terms = match message.get_bool("deleted").unwrap_or(false) {
                true => Vec::new(),
                false => terms_of(text),
            };
            Some(doc! {
                "q": {"_id": id, "terms": {"$exists": false}, "message": text},
                "u": {"$set": {"terms": terms}},
            })
        })
        .collect();
    let count = updates.len();
    store
        .run_updates(super::documents::collections::MESSAGES, updates)
        .await?;
    Ok(count)
}
