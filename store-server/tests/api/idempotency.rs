//! `(from, nonce)` idempotency and concurrent writers.

use crate::helpers::{parse, spawn_app};
use chat_wire::ids::Up;
use chat_wire::model::Message;
use futures::future::join_all;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, Document, doc};
use reqwest::StatusCode;
use std::collections::HashSet;
use store_server::db::documents::{MessageDoc, nonce_key};

#[tokio::test]
async fn posting_twice_with_the_same_nonce_stores_one_message() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1"], &[]).await;
    let gid = group.id.to_string();
    let first = app
        .post_message(&gid, "up1", "first text", Some("nonce-1"))
        .await;
    let first: Message = parse(first, StatusCode::CREATED).await;
    let second = app
        .post_message(&gid, "up1", "second text", Some("nonce-1"))
        .await;
    let second: Message = parse(second, StatusCode::OK).await;
    assert_eq!(
        second, first,
        "the retry gets the first message, text and all"
    );
    assert_eq!(second.message, "first text");

    let page = app.messages(&gid, "").await;
    assert_eq!(page.total, 1);
    assert_eq!(page.items, [first]);
}

#[tokio::test]
async fn the_same_nonce_from_another_sender_is_another_message() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1", "up2"], &[]).await;
    let gid = group.id.to_string();
    let a = app.send(&gid, "up1", "from one", Some("shared")).await;
    let b = app.send(&gid, "up2", "from two", Some("shared")).await;
    assert_ne!(a.id, b.id);
    assert_eq!(app.messages(&gid, "").await.total, 2);
}

#[tokio::test]
async fn the_nonce_is_scoped_to_the_sender_not_the_group() {
    let app = spawn_app().await;
    let one = app.create_group("one", &["up1"], &[]).await;
    let two = app.create_group("two", &["up1"], &[]).await;
    let first = app.send(one.id.as_str(), "up1", "hi", Some("n")).await;
    // A retry is recognised by (from, nonce): it returns the first message.
    let retry = app
        .post_message(two.id.as_str(), "up1", "hi", Some("n"))
        .await;
    let retry: Message = parse(retry, StatusCode::OK).await;
    assert_eq!(retry, first);
    assert_eq!(app.messages(two.id.as_str(), "").await.total, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_posts_with_the_same_nonce_store_one_message() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1"], &[]).await;
    let gid = group.id.to_string();
    let posts = (0..20).map(|i| {
        let (app, gid) = (&app, &gid);
        async move {
            app.post_message(gid, "up1", &format!("try {i}"), Some("same"))
                .await
        }
    });
    let mut ids = HashSet::new();
    let mut created = 0;
    for response in join_all(posts).await {
        let status = response.status();
        assert!(
            status == StatusCode::CREATED || status == StatusCode::OK,
            "{status}"
        );
        if status == StatusCode::CREATED {
            created += 1;
        }
        let message: Message = response.json().await.unwrap();
        ids.insert(message.id);
    }
    assert_eq!(ids.len(), 1, "every retry got the same message");
    assert_eq!(created, 1, "exactly one request created it");
    let page = app.messages(&gid, "").await;
    assert_eq!(page.total, 1);
    assert_eq!(page.items.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_distinct_posts_are_all_stored_in_one_consistent_order() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1", "up2"], &[]).await;
    let gid = group.id.to_string();
    let posts = (0..50).map(|i| {
        let (app, gid) = (&app, &gid);
        let from = if i % 2 == 0 { "up1" } else { "up2" };
        async move {
            app.post_message(gid, from, &format!("m{i}"), Some(&format!("n{i}")))
                .await
        }
    });
    let mut sent = HashSet::new();
    for response in join_all(posts).await {
        let message: Message = parse(response, StatusCode::CREATED).await;
        sent.insert(message.id);
    }
    assert_eq!(sent.len(), 50);

    let page = app.messages(&gid, "perPage=100").await;
    assert_eq!(page.total, 50);
    assert!(!page.has_more);
    let listed: Vec<_> = page.items.iter().map(|m| m.id.clone()).collect();
    assert_eq!(listed.iter().cloned().collect::<HashSet<_>>(), sent);
    assert!(
        page.items
            .windows(2)
            .all(|w| w[0].timestamp >= w[1].timestamp),
        "newest first by time too"
    );

    // Reading forward from the oldest gives the same order, reversed.
    let oldest = listed.last().unwrap();
    let forward = app
        .messages(&gid, &format!("after={oldest}&perPage=100"))
        .await;
    let mut expected: Vec<_> = listed[..49].to_vec();
    expected.reverse();
    assert_eq!(
        forward
            .items
            .iter()
            .map(|m| m.id.clone())
            .collect::<Vec<_>>(),
        expected
    );
    // And paging by 10 visits the same sequence.
    let mut paged = Vec::new();
    for number in 0..5 {
        let page = app
            .messages(&gid, &format!("page={number}&perPage=10"))
            .await;
        paged.extend(page.items.into_iter().map(|m| m.id));
    }
    assert_eq!(paged, listed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retries_racing_other_traffic_are_created_once() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1", "up2"], &[]).await;
    let gid = group.id.to_string();
    // Other senders keep the writer busy, so the retries queue up behind
    // them and several of them land in the same batch.
    let posts = (0..200).map(|i| {
        let (app, gid) = (&app, &gid);
        async move {
            let retry = i % 5 == 0;
            let (from, nonce) = if retry {
                ("up1", "retried".to_owned())
            } else {
                ("up2", format!("other-{i}"))
            };
            let response = app
                .post_message(gid, from, &format!("m{i}"), Some(&nonce))
                .await;
            (retry, response)
        }
    });
    let mut retry_ids = HashSet::new();
    let mut retries_created = 0;
    for (retry, response) in join_all(posts).await {
        let status = response.status();
        let message: Message = response.json().await.unwrap();
        if retry {
            retry_ids.insert(message.id);
            if status == StatusCode::CREATED {
                retries_created += 1;
            }
        } else {
            assert_eq!(status, StatusCode::CREATED);
        }
    }
    assert_eq!(retry_ids.len(), 1);
    assert_eq!(
        retries_created, 1,
        "exactly one of the retries created the message"
    );
    assert_eq!(app.messages(&gid, "").await.total, 161);
}

#[tokio::test]
async fn an_idempotency_key_without_a_nonce_stores_one_message_and_never_shows() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1", "up2"], &[]).await;
    let gid = group.id.to_string();
    let post = |from: &str, text: &str, key: &str| {
        app.authed(reqwest::Method::POST, "/message")
            .header("Idempotency-Key", key)
            .json(&serde_json::json!({"group": gid, "from": from, "message": text}))
            .send()
    };
    let first: Message = parse(
        post("up1", "once", "k-1").await.unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let again: Message = parse(post("up1", "twice", "k-1").await.unwrap(), StatusCode::OK).await;
    assert_eq!(again, first, "the retry gets the first message");
    assert_eq!(first.nonce, None, "the key is not the message's nonce");
    let other: Message = parse(
        post("up2", "mine", "k-1").await.unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_ne!(
        other.id, first.id,
        "the same key from another sender is another message"
    );
    // A client nonce equal to the key is a different thing.
    let nonce = app.send(&gid, "up1", "with a nonce", Some("k-1")).await;
    assert_ne!(nonce.id, first.id);
    let too_long = "k".repeat(129);
    crate::assertions::expect_error(
        post("up1", "x", &too_long).await.unwrap(),
        400,
        "invalid_argument",
    )
    .await;
    assert_eq!(app.messages(&gid, "").await.total, 3);
}

/// What a store instance killed between its insert and its answer leaves:
/// the message stored, numbered, and neither counted nor announced.
#[tokio::test]
async fn a_retry_that_finds_its_message_stored_but_never_counted_is_told_it_created_it() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1", "up2"], &[]).await;
    let gid = group.id.to_string();
    let counted = app.send(&gid, "up1", "counted", Some("n-1")).await;
    let mut lost = MessageDoc::sent(
        ObjectId::new(),
        ObjectId::parse_str(&gid).unwrap(),
        2,
        Up::parse("up1").unwrap(),
        "stored, never answered".to_owned(),
        DateTime::now(),
    );
    lost.nonce = Some("n-2".to_owned());
    lost.nonce_key = Some(nonce_key(&lost.from, "n-2"));
    app.store().messages.insert_one(&lost).await.unwrap();
    let message_count = async || {
        let group = app.store().groups.clone_with_type::<Document>();
        let found = group.find_one(doc! {"_id": lost.group}).await.unwrap();
        found.unwrap().get_i64("messageCount").unwrap()
    };
    assert_eq!(message_count().await, 1, "not counted yet");

    let retry = app.post_message(&gid, "up1", "stored, never answered", Some("n-2"));
    let retry: Message = parse(retry.await, StatusCode::CREATED).await;
    assert_eq!(
        retry.id.as_str(),
        lost.id.to_hex(),
        "the stored message, not a new one"
    );
    assert_eq!(message_count().await, 2, "counted before the answer");

    // Counted and told once: every later retry is a retry.
    let again = app.post_message(&gid, "up1", "stored, never answered", Some("n-2"));
    let again: Message = parse(again.await, StatusCode::OK).await;
    assert_eq!(again, retry);
    let first = app.post_message(&gid, "up1", "counted", Some("n-1"));
    let first: Message = parse(first.await, StatusCode::OK).await;
    assert_eq!(
        first, counted,
        "a counted message's retry is not told it created it"
    );
    assert_eq!(app.messages(&gid, "").await.total, 2);
    assert_eq!(message_count().await, 2);
}

/// What a store instance leaves when it stored a message and the sender had
/// stopped waiting: the message counted, and marked `untold`.
#[tokio::test]
async fn a_retry_that_finds_its_message_marked_untold_is_told_it_created_it_once() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1"], &[]).await;
    let gid = group.id.to_string();
    let mut untold = MessageDoc::sent(
        ObjectId::new(),
        ObjectId::parse_str(&gid).unwrap(),
        1,
        Up::parse("up1").unwrap(),
        "nobody heard".to_owned(),
        DateTime::now(),
    );
    untold.nonce = Some("n-1".to_owned());
    untold.nonce_key = Some(nonce_key(&untold.from, "n-1"));
    app.store().messages.insert_one(&untold).await.unwrap();
    app.store().mark_untold(&[untold.id]).await.unwrap();
    app.store()
        .groups
        .clone_with_type::<Document>()
        .update_one(
            doc! {"_id": untold.group},
            doc! {"$set": {"messageCount": 1_i64}},
        )
        .await
        .unwrap();

    let retry = app.post_message(&gid, "up1", "nobody heard", Some("n-1"));
    let retry: Message = parse(retry.await, StatusCode::CREATED).await;
    assert_eq!(retry.id.as_str(), untold.id.to_hex());
    let stored = app.store().message(untold.id).await.unwrap();
    assert_eq!(stored.untold, None, "the mark is taken off");

    let again = app.post_message(&gid, "up1", "nobody heard", Some("n-1"));
    let again: Message = parse(again.await, StatusCode::OK).await;
    assert_eq!(again, retry, "told once");
}
