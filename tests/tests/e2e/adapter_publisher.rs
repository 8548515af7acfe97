//! The cluster adapter's publisher against the real MongoDB-wire server:
//! documents land in the order they were published, and a document already
//! in (a batch tried again) is neither inserted twice nor holds back the
//! ones after it; a publisher that cannot insert stops the node instead of
//! dropping what it holds.

use chat_server::cluster::adapter::RECOVERY_LIMIT;
use chat_server::cluster::lifecycle::{Lifecycle, StopReason};
use chat_server::cluster::publisher::Publisher;
use futures::TryStreamExt;
use mongodb::bson::{Document, doc, oid::ObjectId};
use mongodb::{Client, Collection};
use std::time::{Duration, Instant};

async fn fresh_collection() -> Collection<Document> {
    let uri = std::env::var("MONGODB_URI").expect("MONGODB_URI is not set: run ./scripts/test.sh");
    let client = Client::with_uri_str(uri).await.unwrap();
    client
        .database(&format!("publisher_{}", ObjectId::new().to_hex()))
        .collection("socket.io-adapter")
}

/// The `seq` fields of the collection in insertion order.
async fn sequence(collection: &Collection<Document>) -> Vec<i32> {
    let documents: Vec<Document> = collection
        .find(doc! {})
        .sort(doc! {"$natural": 1})
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    documents
        .iter()
        .map(|document| document.get_i32("seq").unwrap())
        .collect()
}

#[tokio::test]
async fn documents_land_in_the_order_they_were_published() {
    let collection = fresh_collection().await;
    let publisher = Publisher::start(collection.clone(), Lifecycle::default());
    for seq in 0..2_000 {
        publisher.publish(doc! {"seq": seq}).await.unwrap();
    }
    publisher.flushed().await;
    assert_eq!(sequence(&collection).await, (0..2_000).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_document_already_in_is_skipped_and_the_rest_still_land() {
    let collection = fresh_collection().await;
    let already_in = ObjectId::new();
    collection
        .insert_one(doc! {"_id": already_in, "seq": 0})
        .await
        .unwrap();
    let publisher = Publisher::start(collection.clone(), Lifecycle::default());
    publisher
        .publish(doc! {"_id": already_in, "seq": 0})
        .await
        .unwrap();
    for seq in 1..5 {
        publisher.publish(doc! {"seq": seq}).await.unwrap();
    }
    publisher.flushed().await;
    assert_eq!(sequence(&collection).await, vec![0, 1, 2, 3, 4]);
}

#[tokio::test]
async fn a_publisher_that_cannot_insert_stops_the_node_instead_of_dropping() {
    // A port nothing listens on: every insert fails.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let uri =
        format!("mongodb://127.0.0.1:{port}/?directConnection=true&serverSelectionTimeoutMS=500");
    let client = Client::with_uri_str(uri).await.unwrap();
    let lifecycle = Lifecycle::default();
    let publisher = Publisher::start(
        client.database("nowhere").collection("socket.io-adapter"),
        lifecycle.clone(),
    );
    let started = Instant::now();
    publisher.publish(doc! {"seq": 0}).await.unwrap();
    let reason = tokio::time::timeout(
        RECOVERY_LIMIT + Duration::from_secs(10),
        lifecycle.stop_requested(),
    )
    .await
    .expect("the node is asked to stop");
    assert!(started.elapsed() >= RECOVERY_LIMIT, "not before the limit");
    let StopReason::Fatal(why) = reason else {
        panic!("a fatal stop, not {reason:?}")
    };
    assert!(why.contains("refused this node's broadcasts"), "{why}");
    // Still held, not dropped: the flush has not happened.
    assert!(
        tokio::time::timeout(Duration::from_millis(500), publisher.flushed())
            .await
            .is_err(),
        "the document is still waiting to be inserted"
    );
}
