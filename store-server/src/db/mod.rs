//! MongoDB access: the only code of the system that opens the chat collections.
//!
//! [`Store`] holds typed handles to the collections; each submodule adds
//! the queries of one resource. Every query is served by an index created in
//! [`indexes`]. Driver errors are turned into [`ApiError`]s here: network and
//! server-selection failures become `unavailable`, everything else `internal`,
//! with the cause logged and never sent.

pub mod attachments;
pub mod blocks;
pub mod changes;
pub mod documents;
pub mod groups;
pub mod indexes;
pub mod matchmaking;
pub mod mentions;
pub mod messages;
pub mod nodes;
pub mod paging;
pub mod presence;
pub mod queues;
pub mod reads;
pub mod replies;
pub mod search;
pub mod search_backfill;
pub mod search_reads;
pub mod untold;
pub mod users;

use attachments::AttachmentDoc;
use documents::{GroupDoc, MessageDoc, ReadDoc, UserDoc, collections};
use mongodb::bson::doc;
use mongodb::error::{Error as DbError, ErrorKind, WriteFailure};
use mongodb::gridfs::GridFsBucket;
use mongodb::options::{ClientOptions, GridFsBucketOptions, WriteConcern};
use mongodb::{Client, Collection, Database};
use nodes::NodeDoc;
use queues::QueueDoc;
use service_kit::ApiError;
use std::time::Duration;

/// How long the driver looks for a reachable server before failing: short,
/// so that a request during an outage is answered `unavailable` quickly.
const SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(2);

/// Handles to the chat collections; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    db: Database,
    /// `groups`.
    pub groups: Collection<GroupDoc>,
    /// `messages`.
    pub messages: Collection<MessageDoc>,
    /// `users`.
    pub users: Collection<UserDoc>,
    /// `reads`.
    pub reads: Collection<ReadDoc>,
    /// `nodes`: the chat nodes' registry.
    pub nodes: Collection<NodeDoc>,
    /// `queues`: the pairing queues.
    pub queues: Collection<QueueDoc>,
    /// `attachments`: the attachments' metadata.
    pub attachments: Collection<AttachmentDoc>,
    /// The GridFS bucket `attachments`: the attachments' bytes and
    /// thumbnails.
    pub files: GridFsBucket,
}

impl Store {
    /// Builds a client for `uri` without waiting for the server: the store
    /// starts even while MongoDB is down, and serves once it is back. Every
    /// write goes with `write_concern` (see `STORE_WRITE_CONCERN`), so an
    /// acknowledged write is as durable as it says, whatever the
    /// deployment's default.
    pub async fn connect(
        uri: &str,
        db_name: &str,
        write_concern: WriteConcern,
    ) -> anyhow::Result<Self> {
        let mut options = ClientOptions::parse(uri).await?;
        options.write_concern = Some(write_concern);
        options.app_name = Some("store-server".to_owned());
        options.server_selection_timeout = Some(SERVER_SELECTION_TIMEOUT);
        options.connect_timeout = Some(SERVER_SELECTION_TIMEOUT);
        options.max_pool_size = Some(64);
        let client = Client::with_options(options)?;
        Ok(Self::new(client.database(db_name)))
    }

    /// Wraps an existing database handle.
    pub fn new(db: Database) -> Self {
        Self {
            groups: db.collection(collections::GROUPS),
            messages: db.collection(collections::MESSAGES),
            users: db.collection(collections::USERS),
            reads: db.collection(collections::READS),
            nodes: db.collection(collections::NODES),
            queues: db.collection(collections::QUEUES),
            attachments: db.collection(collections::ATTACHMENTS),
            files: db.gridfs_bucket(
                GridFsBucketOptions::builder()
                    .bucket_name(collections::ATTACHMENTS.to_owned())
                    .build(),
            ),
            db,
        }
    }

    /// The database, for administration (dropping it in tests).
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// `groups` read as plain documents, for projections.
    pub fn groups_raw(&self) -> Collection<mongodb::bson::Document> {
        self.groups.clone_with_type()
    }

    /// `messages` read as plain documents (tests check what is stored with it).
    pub fn messages_raw(&self) -> Collection<mongodb::bson::Document> {
        self.messages.clone_with_type()
    }

    /// Runs one unordered multi-statement `update` of `collection` with the
    /// store's write concern (a command, unlike the driver's typed writes,
    /// does not get it by itself). Duplicate keys (an upsert that met a
    /// document already further on) are expected and ignored.
    pub async fn run_updates(
        &self,
        collection: &str,
        updates: Vec<mongodb::bson::Document>,
    ) -> Result<(), ApiError> {
        if updates.is_empty() {
            return Ok(());
        }
        let mut command = doc! {"update": collection, "updates": updates, "ordered": false};
        if let Some(concern) = self.db.write_concern() {
            let concern = mongodb::bson::to_bson(concern)
                .map_err(|err| ApiError::Internal(anyhow::Error::new(err)))?;
            command.insert("writeConcern", concern);
        }
        let reply = self.db.run_command(command).await.map_err(db_error)?;
        let unexpected = reply
            .get_array("writeErrors")
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e.as_document())
                    .filter(|e| e.get_i32("code").ok() != Some(DUPLICATE_KEY))
                    .count()
            })
            .unwrap_or(0);
        if unexpected > 0 || reply.contains_key("writeConcernError") {
            return Err(ApiError::Unavailable(anyhow::anyhow!(
                "{unexpected} statements of an update of {collection} failed"
            )));
        }
        Ok(())
    }

    /// Pings MongoDB.
    pub async fn ping(&self) -> Result<(), ApiError> {
        self.db
            .run_command(doc! {"ping": 1})
            .await
            .map_err(db_error)?;
        Ok(())
    }
}

/// Maps a driver error to the contract: unreachable is `unavailable`.
pub fn db_error(err: DbError) -> ApiError {
    let unreachable = matches!(
        *err.kind,
        ErrorKind::Io(_)
            | ErrorKind::ServerSelection { .. }
            | ErrorKind::ConnectionPoolCleared { .. }
    ) || err.contains_label("RetryableWriteError")
        || err.contains_label("TransientTransactionError");
    let cause = anyhow::Error::new(err).context("mongodb");
    if unreachable {
        ApiError::Unavailable(cause)
    } else {
        ApiError::Internal(cause)
    }
}

/// MongoDB's code for a unique index violation.
pub const DUPLICATE_KEY: i32 = 11000;

/// Whether a single-document write failed on a unique index.
pub fn is_duplicate_key(err: &DbError) -> bool {
    match &*err.kind {
        ErrorKind::Write(WriteFailure::WriteError(write)) => write.code == DUPLICATE_KEY,
        ErrorKind::Command(command) => command.code == DUPLICATE_KEY,
        _ => false,
    }
}
