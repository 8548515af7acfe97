//! The cluster adapter's publisher against the real MongoDB-wire server:
//! documents land in the order they were published, and a document already
//! in (a batch tried again) is neither inserted twice nor holds back the
//! ones after it.

use chat_server::cluster::publisher::Publisher;
use futures::TryStreamExt;
use mongodb::bson::{Document, doc, oid::ObjectId};
use mongodb::{Client, Collection};

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
    let publisher = Publisher::start(collection.clone());
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
    let publisher = Publisher::start(collection.clone());
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
