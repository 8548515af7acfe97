//! The socketioxide MongoDB adapter, which shares rooms and broadcasts
//! between chat nodes through a collection of its own and a change stream
//! on it (MongoDB must be a replica set).
//!
//! The adapter runs on a driver of this module ([`WatchedDriver`]) rather
//! than the crate's: the crate's driver ends its event stream silently
//! when the change stream fails, leaving the node deaf to every other node
//! with nothing to show for it. Here a failed stream makes the node
//! unready and is resumed from its last resume token, so nothing published
//! meanwhile is missed; if it cannot be resumed (the token is gone, or
//! MongoDB stays out of reach for [`RECOVERY_LIMIT`]) the node stops with
//! an error, and its clients reconnect to the other nodes.
//!
//! Documents carry the payload as BSON binary and a real BSON date for the
//! TTL index; the chat-server never opens any other collection.

use super::lifecycle::{Lifecycle, StopReason};
use super::publisher::Publisher;
use backon::{ExponentialBuilder, Retryable};
use futures::StreamExt;
use futures::stream::BoxStream;
use mongodb::bson::{Binary, DateTime, Document, doc, spec::BinarySubtype};
use mongodb::change_stream::ChangeStream;
use mongodb::change_stream::event::{ChangeStreamEvent, OperationType, ResumeToken};
use mongodb::options::{ClientOptions, IndexOptions};
use mongodb::{Client, Collection, IndexModel};
use serde::{Deserialize, Serialize};
use socketioxide::adapter::Emitter;
use socketioxide_core::Uid;
use socketioxide_mongodb::drivers::{Driver, Item, ItemHeader};
use socketioxide_mongodb::{
    CustomMongoDbAdapter, MessageExpirationStrategy, MongoDbAdapterConfig, MongoDbAdapterCtr,
};
use std::future::IntoFuture;
use std::time::Duration;
use tokio::sync::mpsc;

/// The adapter the chat-server runs with several nodes.
pub type ClusterAdapter = CustomMongoDbAdapter<Emitter, WatchedDriver>;

/// The adapter's collection in `$MONGODB_DB`.
pub const COLLECTION: &str = "socket.io-adapter";
/// How often a node tells the others it is alive.
const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(2);
/// After how long without a heartbeat another node counts as gone: a dead
/// node no longer delays requests that wait for every node's answer.
const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(6);
/// How long a request waits for the other nodes' answers.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a published document is kept (change streams read it at once;
/// this is what a resumed stream can still catch up on).
const DOCUMENT_TTL: Duration = Duration::from_secs(60);
/// How long a failed change stream may take to resume before the node stops.
pub const RECOVERY_LIMIT: Duration = Duration::from_secs(20);
/// How long the driver looks for a reachable MongoDB before an operation fails.
const SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(5);
/// Events read from the stream ahead of the adapter.
const EVENT_BUFFER: usize = 1024;

/// The adapter's constructor, connected to `$MONGODB_URI`, and the
/// publisher it sends through (flushed before the node exits).
pub async fn connect(
    uri: &str,
    database: &str,
    lifecycle: Lifecycle,
) -> anyhow::Result<(MongoDbAdapterCtr<WatchedDriver>, Publisher)> {
    let mut options = ClientOptions::parse(uri).await?;
    options.app_name = Some("chat-server".to_owned());
    options.server_selection_timeout = Some(SERVER_SELECTION_TIMEOUT);
    let client = Client::with_options(options)?;
    let collection = client.database(database).collection::<Document>(COLLECTION);
    let ttl = IndexOptions::builder().expire_after(DOCUMENT_TTL).build();
    collection
        .create_index(
            IndexModel::builder()
                .keys(doc! {"createdAt": 1})
                .options(ttl)
                .build(),
        )
        .await?;
    let config = MongoDbAdapterConfig::new()
        .with_hb_interval(HEARTBEAT_INTERVAL)
        .with_hb_timeout(HEARTBEAT_TIMEOUT)
        .with_request_timeout(REQUEST_TIMEOUT)
        .with_collection(COLLECTION)
        .with_expiration_strategy(MessageExpirationStrategy::TtlIndex(DOCUMENT_TTL));
    let publisher = Publisher::start(collection.clone(), lifecycle.clone());
    let driver = WatchedDriver {
        publisher: publisher.clone(),
        collection,
        lifecycle,
    };
    Ok((
        MongoDbAdapterCtr::new_with_driver(driver, config),
        publisher,
    ))
}

/// A document of the adapter's collection.
#[derive(Debug, Serialize, Deserialize)]
struct StoredItem {
    #[serde(flatten)]
    header: ItemHeader,
    ns: String,
    origin: Uid,
    data: Binary,
    #[serde(rename = "createdAt", default, skip_deserializing)]
    created_at: Option<DateTime>,
}

impl StoredItem {
    fn from_item(item: &Item) -> Self {
        Self {
            header: item.header.clone(),
            ns: item.ns.clone(),
            origin: item.origin,
            data: Binary {
                subtype: BinarySubtype::Generic,
                bytes: item.data.clone(),
            },
            created_at: Some(DateTime::now()),
        }
    }

    fn into_item(self) -> Item {
        Item {
            header: self.header,
            ns: self.ns,
            origin: self.origin,
            data: self.data.bytes,
            created_at: None,
        }
    }
}

/// The adapter's driver: publishes through the [`Publisher`] (emitting
/// returns once the document is queued, so the crate delivers to this
/// node's sockets without waiting for MongoDB) and follows the change
/// stream, resuming it when it fails (see the module documentation).
#[derive(Debug, Clone)]
pub struct WatchedDriver {
    collection: Collection<Document>,
    publisher: Publisher,
    lifecycle: Lifecycle,
}

impl Driver for WatchedDriver {
    type Error = mongodb::error::Error;
    type EvStream = BoxStream<'static, Result<Item, Self::Error>>;

    async fn watch(&self, server_id: Uid, ns: &str) -> Result<Self::EvStream, Self::Error> {
        // What this node must hear: others' documents of this namespace,
        // addressed to everyone or to this node.
        let pipeline = vec![doc! {
            "$match": {
                "fullDocument.origin": {"$ne": server_id.as_str()},
                "fullDocument.ns": ns,
                "$or": [
                    {"fullDocument.target": server_id.as_str()},
                    {"fullDocument.target": {"$exists": false}},
                ],
            },
        }];
        let stream = self.collection.watch().pipeline(pipeline.clone()).await?;
        let (events, received) = mpsc::channel(EVENT_BUFFER);
        let follower = Follower {
            collection: self.collection.clone(),
            pipeline,
            lifecycle: self.lifecycle.clone(),
            events,
        };
        tokio::spawn(follower.run(stream));
        Ok(
            futures::stream::unfold(received, |mut received| async move {
                received.recv().await.map(|event| (event, received))
            })
            .boxed(),
        )
    }

    async fn emit(&self, item: &Item) -> Result<(), Self::Error> {
        let document = mongodb::bson::to_document(&StoredItem::from_item(item))?;
        self.publisher
            .publish(document)
            .await
            .map_err(mongodb::error::Error::custom)
    }
}

/// Reads the change stream for the adapter, for as long as it listens.
struct Follower {
    collection: Collection<Document>,
    pipeline: Vec<Document>,
    lifecycle: Lifecycle,
    events: mpsc::Sender<Result<Item, mongodb::error::Error>>,
}

impl Follower {
    async fn run(self, mut stream: ChangeStream<ChangeStreamEvent<Document>>) {
        loop {
            let failure = match stream.next().await {
                Some(Ok(event)) => {
                    if !self.forward(event).await {
                        return; // the adapter closed
                    }
                    continue;
                }
                Some(Err(err)) => err.to_string(),
                None => "the change stream ended".to_owned(),
            };
            self.lifecycle.set_deaf(true);
            tracing::error!(error = %failure, "the adapter's change stream failed; resuming it");
            match self.resume(stream.resume_token()).await {
                Ok(resumed) => {
                    stream = resumed;
                    self.lifecycle.set_deaf(false);
                    tracing::info!("the adapter's change stream is resumed; nothing was missed");
                }
                Err(reason) => {
                    let reason = format!(
                        "the adapter's change stream failed and could not be resumed ({reason}): this node can no longer hear the other nodes"
                    );
                    self.lifecycle.stop(StopReason::Fatal(reason));
                    return;
                }
            }
        }
    }

    /// Hands an inserted document to the adapter; `false` once it stopped
    /// listening.
    async fn forward(&self, event: ChangeStreamEvent<Document>) -> bool {
        let (OperationType::Insert, Some(document)) = (event.operation_type, event.full_document)
        else {
            return true;
        };
        match mongodb::bson::from_document::<StoredItem>(document) {
            Ok(item) => self.events.send(Ok(item.into_item())).await.is_ok(),
            Err(err) => {
                tracing::warn!(error = %err, "ignoring an unreadable adapter document");
                true
            }
        }
    }

    /// Opens the stream again right after `token`, retrying for at most
    /// [`RECOVERY_LIMIT`].
    async fn resume(
        &self,
        token: Option<ResumeToken>,
    ) -> Result<ChangeStream<ChangeStreamEvent<Document>>, String> {
        let token = token.ok_or("no resume token was received")?;
        let open = || {
            self.collection
                .watch()
                .pipeline(self.pipeline.clone())
                .start_after(token.clone())
                .into_future()
        };
        let backoff = ExponentialBuilder::new()
            .with_jitter()
            .with_min_delay(Duration::from_millis(250))
            .with_max_delay(Duration::from_secs(2))
            .without_max_times();
        let resumed = open
            .retry(backoff)
            .when(|err| !history_lost(err))
            .notify(|err, wait| {
                tracing::warn!(error = %err, retry_in = ?wait, "cannot resume the adapter's change stream yet");
            });
        // The limit is on the whole recovery, attempts included: each one
        // may wait the driver's server selection timeout.
        match tokio::time::timeout(RECOVERY_LIMIT, resumed).await {
            Ok(Ok(stream)) => Ok(stream),
            Ok(Err(err)) => Err(err.to_string()),
            Err(_) => Err(format!("still failing after {RECOVERY_LIMIT:?}")),
        }
    }
}

/// Whether the stream cannot be resumed from its token at all.
fn history_lost(err: &mongodb::error::Error) -> bool {
    const CHANGE_STREAM_FATAL: i32 = 280;
    const CHANGE_STREAM_HISTORY_LOST: i32 = 286;
    let code = match &*err.kind {
        mongodb::error::ErrorKind::Command(command) => Some(command.code),
        _ => None,
    };
    err.contains_label("NonResumableChangeStreamError")
        || matches!(code, Some(CHANGE_STREAM_FATAL | CHANGE_STREAM_HISTORY_LOST))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_published_item_reads_back_the_same() {
        let item = Item {
            header: ItemHeader::Req { target: None },
            ns: "/".into(),
            origin: Uid::new(),
            data: vec![1, 2, 3],
            created_at: None,
        };
        let document = mongodb::bson::to_document(&StoredItem::from_item(&item)).unwrap();
        assert!(
            document.get_datetime("createdAt").is_ok(),
            "a BSON date for the TTL index"
        );
        assert!(
            document.get_binary_generic("data").is_ok(),
            "the payload as binary"
        );
        assert_eq!(document.get_str("origin").unwrap(), item.origin.as_str());
        let back = mongodb::bson::from_document::<StoredItem>(document)
            .unwrap()
            .into_item();
        assert_eq!(back, item);
    }
}
