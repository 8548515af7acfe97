//! Retention: the policy route (bounds, admins, the default), and the
//! sweep: `days` (messages dated back in MongoDB), `untilRead` with no
//! grace and with a grace counted from when all had read, the 30-day cap,
//! never a message a member has not read, attachments' bytes deleted,
//! numbers never reused, unread counts, cursors and read markers that name
//! swept messages, the change feed, and two sweeps of two instances at
//! once.

use crate::helpers::{TestApp, expect_error, ids, parse, send, spawn_app_with, texts, unknown_id};
use chat_wire::model::{Group, Message};
use chat_wire::retention::Retention;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, Document, doc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use store_server::retention::sweep::SweepReport;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// A store whose sweep runs only when asked, without pauses, and may
/// sweep a message the moment it is due.
async fn spawn() -> TestApp {
    spawn_on(None).await
}

/// The same, on the database `db` when given (a second instance).
async fn spawn_on(db: Option<&str>) -> TestApp {
    spawn_app_with(|config| {
        config.retention.sweep_seconds = 0;
        config.retention.min_age_seconds = 0;
        config.retention.pause_ms = 0;
        if let Some(db) = db {
            config.mongodb_db = db.to_owned();
        }
    })
    .await
}

impl TestApp {
    async fn set_retention(&self, group: &str, body: Value) -> reqwest::Response {
        self.post_json(&format!("/group/{group}/retention"), &body)
            .await
    }

    async fn retention_of(&self, group: &str) -> Retention {
        let group: Group = parse(self.get(&format!("/group/{group}")).await, StatusCode::OK).await;
        group.retention
    }

    async fn sweep(&self) -> SweepReport {
        parse(
            self.post_json("/retention/sweep", &json!({})).await,
            StatusCode::OK,
        )
        .await
    }

    async fn read(&self, group: &str, up: &str, message: &str) -> Value {
        parse(
            self.post_json(
                &format!("/group/{group}/read"),
                &json!({"up": up, "messageId": message}),
            )
            .await,
            StatusCode::OK,
        )
        .await
    }

    /// The numbers of the messages of `group` stored in MongoDB.
    async fn stored_seqs(&self, group: &str) -> Vec<i64> {
        use futures::TryStreamExt;
        let group = ObjectId::parse_str(group).unwrap();
        let docs: Vec<Document> = self
            .store()
            .messages_raw()
            .find(doc! {"group": group})
            .sort(doc! {"seq": 1})
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        docs.iter().map(|d| d.get_i64("seq").unwrap()).collect()
    }

    /// Writes `count` messages of `from` into `group` straight into
    /// MongoDB, sent `days_ago` days ago (their ids made then too), after
    /// the group's messages, and counts them as the writer would.
    async fn insert_old(&self, group: &str, from: &str, count: i64, days_ago: i64) -> Vec<String> {
        let group_id = ObjectId::parse_str(group).unwrap();
        let store = self.store();
        let found = store.group(group_id).await.unwrap();
        let at = DateTime::now().timestamp_millis() - days_ago * DAY_MS;
        let mut ids = Vec::new();
        let docs: Vec<Document> = (1..=count)
            .map(|i| {
                let id = id_made_at(at);
                ids.push(id.to_hex());
                doc! {
                    "_id": id, "group": group_id, "seq": found.message_count + i,
                    "from": from, "message": format!("old {i}"),
                    "timestamp": DateTime::from_millis(at + i), "deleted": false, "reactions": [],
                }
            })
            .collect();
        store.messages_raw().insert_many(docs).await.unwrap();
        store
            .groups
            .update_one(
                doc! {"_id": group_id},
                doc! {"$max": {"messageCount": found.message_count + count}},
            )
            .await
            .unwrap();
        ids
    }
}

/// An ObjectId whose time is `millis` (seconds precision), unique otherwise.
fn id_made_at(millis: i64) -> ObjectId {
    let mut bytes = ObjectId::new().bytes();
    bytes[..4].copy_from_slice(&((millis / 1000) as u32).to_be_bytes());
    ObjectId::from_bytes(bytes)
}

#[tokio::test]
async fn a_group_keeps_its_messages_forever_until_an_admin_says_otherwise() {
    let app = spawn().await;
    let group = app.create_group("g", &["a", "b"], &["a"]).await;
    let id = group.id.as_str();
    assert_eq!(group.retention, Retention::Forever);
    let raw: Value = parse(app.get(&format!("/group/{id}")).await, StatusCode::OK).await;
    assert_eq!(raw["retention"], json!({"mode": "forever"}));

    let answer: Value = parse(
        app.set_retention(id, json!({"mode": "days", "days": 7}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(answer["retention"], json!({"mode": "days", "days": 7}));
    assert_eq!(answer["id"], id);
    assert_eq!(app.retention_of(id).await, Retention::Days { days: 7 });
    let listed = app.groups_of("b").await;
    assert_eq!(listed.items[0].retention, Retention::Days { days: 7 });

    let by_admin = app
        .post_json(
            &format!("/group/{id}/retention?by=a"),
            &json!({"mode": "untilRead", "graceHours": 0}),
        )
        .await;
    let answer: Group = parse(by_admin, StatusCode::OK).await;
    assert_eq!(answer.retention, Retention::UntilRead { grace_hours: 0 });

    let by_member = app
        .post_json(
            &format!("/group/{id}/retention?by=b"),
            &json!({"mode": "forever"}),
        )
        .await;
    expect_error(by_member, 403, "permission_denied").await;
    assert_eq!(
        app.retention_of(id).await,
        Retention::UntilRead { grace_hours: 0 },
        "a refused change changes nothing"
    );

    let back: Group = parse(
        app.set_retention(id, json!({"mode": "forever"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(back.retention, Retention::Forever);
    let stored = app
        .store()
        .groups_raw()
        .find_one(doc! {"_id": ObjectId::parse_str(id).unwrap()})
        .await
        .unwrap()
        .unwrap();
    assert!(
        !stored.contains_key("retention"),
        "forever is stored as no retention: {stored}"
    );

    // A group stored before retention existed reads as `forever`.
    let old = ObjectId::new();
    app.store()
        .groups_raw()
        .insert_one(
            doc! {"_id": old, "name": "old", "kind": "group", "users": ["a"], "admins": [],
            "open": false, "historyMinOnline": 0_i64, "createdAt": DateTime::now()},
        )
        .await
        .unwrap();
    assert_eq!(app.retention_of(&old.to_hex()).await, Retention::Forever);
}

#[tokio::test]
async fn a_retention_out_of_bounds_or_malformed_is_refused() {
    let app = spawn().await;
    let group = app.create_group("g", &["a"], &["a"]).await;
    let id = group.id.as_str();
    for bad in [
        json!({"mode": "days", "days": 0}),
        json!({"mode": "days", "days": 3651}),
        json!({"mode": "days", "days": 2.5}),
        json!({"mode": "days"}),
        json!({"mode": "untilRead", "graceHours": 721}),
        json!({"mode": "untilRead", "graceHours": -1}),
        json!({"mode": "untilRead"}),
        json!({"mode": "sometimes"}),
        json!({"mode": "forever", "days": 3}),
        json!({}),
    ] {
        let response = app.set_retention(id, bad.clone()).await;
        expect_error(response, 400, "invalid_argument").await;
    }
    assert_eq!(app.retention_of(id).await, Retention::Forever);
    for good in [
        json!({"mode": "days", "days": 1}),
        json!({"mode": "days", "days": 3650.0}),
        json!({"mode": "untilRead", "graceHours": 720}),
    ] {
        let response = app.set_retention(id, good.clone()).await;
        assert_eq!(response.status(), StatusCode::OK, "{good}");
    }
    let unknown = app
        .set_retention(&unknown_id(), json!({"mode": "forever"}))
        .await;
    expect_error(unknown, 404, "not_found").await;
    let unknown = app
        .post_json(
            &format!("/group/{}/retention?by=a", unknown_id()),
            &json!({"mode": "forever"}),
        )
        .await;
    expect_error(unknown, 404, "not_found").await;
}

#[tokio::test]
async fn days_deletes_what_is_older_and_keeps_numbers_pages_and_counts_straight() {
    let app = spawn().await;
    let group = app.create_group("g", &["a", "b"], &["a"]).await;
    let id = group.id.as_str();
    let old = app.insert_old(id, "a", 5, 3).await;
    let fresh = app.send_many(id, "a", 3).await;
    // b read the second old message only.
    app.read(id, "b", &old[1]).await;
    assert_eq!(app.unread("b", id).await, 6);

    // Forever: nothing goes.
    assert_eq!(app.sweep().await, SweepReport::default());
    app.set_retention(id, json!({"mode": "days", "days": 2}))
        .await;
    let report = app.sweep().await;
    assert_eq!(
        report,
        SweepReport {
            groups: 1,
            messages: 5,
            attachments: 0
        }
    );
    assert_eq!(app.stored_seqs(id).await, vec![6, 7, 8]);
    assert_eq!(
        app.sweep().await.messages,
        0,
        "sweeping again deletes nothing"
    );

    // Pages hold what is left; `total` counts it.
    let page = app.messages(id, "perPage=2").await;
    assert_eq!(texts(&page), ["m2", "m1"]);
    assert_eq!((page.total, page.has_more), (3, true));
    let last = app.messages(id, "perPage=2&page=1").await;
    assert_eq!(texts(&last), ["m0"]);
    assert!(!last.has_more);
    assert!(app.messages(id, "perPage=2&page=2").await.items.is_empty());
    let before = app.messages(id, &format!("before={}", fresh[1].id)).await;
    assert_eq!(texts(&before), ["m0"]);
    assert!(!before.has_more, "nothing below the swept ones");

    // Cursors naming swept messages: after reads from the oldest held,
    // before reads nothing; an id that never was is still unknown.
    let after = app.messages(id, &format!("after={}", old[2])).await;
    assert_eq!(
        ids(&after),
        fresh.iter().map(|m| m.id.to_string()).collect::<Vec<_>>()
    );
    let after = app
        .messages(id, &format!("after={}&perPage=1", old[4]))
        .await;
    assert_eq!(
        (texts(&after), after.has_more),
        (vec!["m0".to_owned()], true)
    );
    let before = app.messages(id, &format!("before={}", old[0])).await;
    assert!(before.items.is_empty() && !before.has_more);
    let response = app
        .get(&format!(
            "/group/messages?groupID={id}&after={}",
            unknown_id()
        ))
        .await;
    expect_error(response, 404, "not_found").await;
    let response = app.get(&format!("/message/{}", old[0])).await;
    expect_error(response, 404, "not_found").await;

    // Unread counts never count what is gone; a read of a swept message
    // moves the marker to the newest swept one.
    assert_eq!(app.unread("b", id).await, 3);
    let read = app.read(id, "b", &old[3]).await;
    assert_eq!(
        (read["unread"].clone(), read["messageId"].clone()),
        (json!(3), json!(old[3]))
    );
    let read = app.read(id, "b", &fresh[0].id.to_string()).await;
    assert_eq!(read["unread"], 2);

    // Numbers go on: a new message is number 9, never a swept one's.
    let next = app.send(id, "a", "next", None).await;
    assert_eq!(app.stored_seqs(id).await, vec![6, 7, 8, 9]);
    let page = app.messages(id, &format!("after={}", fresh[2].id)).await;
    assert_eq!(ids(&page), [next.id.to_string()]);
}

#[tokio::test]
async fn until_read_deletes_only_what_every_member_has_read() {
    let app = spawn().await;
    let group = app.create_group("g", &["a", "b", "c"], &["a"]).await;
    let id = group.id.as_str();
    app.set_retention(id, json!({"mode": "untilRead", "graceHours": 0}))
        .await;
    let sent = app.send_many(id, "a", 4).await;
    let ids_of = |n: usize| sent[n].id.to_string();

    // The sender has read their own; b and c nothing yet.
    assert_eq!(app.sweep().await.messages, 0);
    app.read(id, "b", &ids_of(3)).await;
    assert_eq!(app.sweep().await.messages, 0, "c has read nothing");
    app.read(id, "c", &ids_of(1)).await;
    assert_eq!(app.sweep().await.messages, 2);
    assert_eq!(app.stored_seqs(id).await, vec![3, 4]);
    for _ in 0..3 {
        assert_eq!(app.sweep().await.messages, 0);
    }
    assert_eq!(
        app.stored_seqs(id).await,
        vec![3, 4],
        "c has not read 3 and 4"
    );

    // A member who joins has read nothing: nothing more goes until they read.
    app.post_json(&format!("/group/{id}/users"), &json!({"up": "d"}))
        .await;
    app.read(id, "c", &ids_of(3)).await;
    assert_eq!(app.sweep().await.messages, 0, "d has not read");
    app.read(id, "d", &ids_of(2)).await;
    assert_eq!(app.sweep().await.messages, 1);
    // A member who leaves no longer holds anything back.
    app.delete(&format!("/group/{id}/users/d")).await;
    assert_eq!(app.sweep().await.messages, 1);
    assert!(app.stored_seqs(id).await.is_empty());

    let page = app.messages(id, "").await;
    assert_eq!((page.items.len(), page.total), (0, 0));
    assert_eq!(app.unread("c", id).await, 0);
    // A client whose newest message was swept still catches up.
    let later = app.send(id, "b", "later", None).await;
    let page = app.messages(id, &format!("after={}", ids_of(3))).await;
    assert_eq!(ids(&page), [later.id.to_string()]);
    assert_eq!(app.stored_seqs(id).await, vec![5]);
}

#[tokio::test]
async fn the_grace_counts_from_when_every_member_had_read() {
    let app = spawn().await;
    let group = app.create_group("g", &["a", "b"], &["a"]).await;
    let id = group.id.as_str();
    app.set_retention(id, json!({"mode": "untilRead", "graceHours": 2}))
        .await;
    let sent = app.send_many(id, "a", 3).await;
    app.read(id, "b", &sent[2].id.to_string()).await;
    assert_eq!(app.sweep().await.messages, 0, "read by all just now");
    let stored = app
        .store()
        .groups_raw()
        .find_one(doc! {"_id": ObjectId::parse_str(id).unwrap()})
        .await
        .unwrap()
        .unwrap();
    let checkpoints = stored
        .get_document("sweep")
        .unwrap()
        .get_array("readByAll")
        .unwrap();
    assert_eq!(checkpoints.len(), 1, "{stored}");
    assert_eq!(
        checkpoints[0]
            .as_document()
            .unwrap()
            .get_i64("seq")
            .unwrap(),
        3
    );
    assert_eq!(app.sweep().await.messages, 0);
    // Two hours later (the checkpoint moved back): due.
    let earlier = DateTime::from_millis(DateTime::now().timestamp_millis() - 2 * 3_600_000 - 1000);
    app.store()
        .groups
        .update_one(
            doc! {"_id": ObjectId::parse_str(id).unwrap()},
            doc! {"$set": {"sweep.readByAll": [{"seq": 3_i64, "at": earlier}]}},
        )
        .await
        .unwrap();
    assert_eq!(app.sweep().await.messages, 3);
    assert!(app.stored_seqs(id).await.is_empty());
}

#[tokio::test]
async fn until_read_deletes_after_thirty_days_what_a_member_never_read() {
    let app = spawn().await;
    let group = app.create_group("g", &["a", "b"], &["a"]).await;
    let id = group.id.as_str();
    app.insert_old(id, "a", 2, 31).await;
    app.insert_old(id, "a", 2, 29).await;
    app.send_many(id, "a", 1).await;
    app.set_retention(id, json!({"mode": "untilRead", "graceHours": 0}))
        .await;
    assert_eq!(app.sweep().await.messages, 2);
    assert_eq!(app.stored_seqs(id).await, vec![3, 4, 5]);
    assert_eq!(
        app.unread("b", id).await,
        3,
        "b never read; the cap went past"
    );
}

#[tokio::test]
async fn a_message_younger_than_the_minimum_age_stays() {
    let app = spawn_app_with(|config| {
        config.retention.sweep_seconds = 0;
        config.retention.min_age_seconds = 3600;
    })
    .await;
    let group = app.create_group("g", &["a"], &["a"]).await;
    let id = group.id.as_str();
    app.set_retention(id, json!({"mode": "untilRead", "graceHours": 0}))
        .await;
    app.insert_old(id, "a", 1, 1).await;
    app.send_many(id, "a", 2).await;
    assert_eq!(app.sweep().await.messages, 1, "only the day-old one");
    assert_eq!(app.stored_seqs(id).await, vec![2, 3]);
}

#[tokio::test]
async fn attachments_go_with_their_messages() {
    let app = spawn().await;
    let group = app.create_group("g", &["a", "b"], &["a"]).await;
    let id = group.id.as_str();
    let upload = app
        .authed(
            Method::POST,
            &format!("/attachment?group={id}&uploader=a&name=notes.txt"),
        )
        .body(vec![b'x'; 300_000]);
    let attachment: Value = parse(send(upload).await, StatusCode::CREATED).await;
    let file = attachment["id"].as_str().unwrap().to_owned();
    let with_file: Message = parse(
        app.post_json(
            "/message",
            &json!({"group": id, "from": "a", "message": "see", "attachments": [file]}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let file_id = ObjectId::parse_str(&file).unwrap();
    let chunks = || async {
        app.store()
            .database()
            .collection::<Document>("attachments.chunks")
            .count_documents(doc! {"files_id": file_id})
            .await
            .unwrap()
    };
    assert_eq!(chunks().await, 2, "300,000 bytes in 255 KiB chunks");
    app.set_retention(id, json!({"mode": "untilRead", "graceHours": 0}))
        .await;
    app.read(id, "b", &with_file.id.to_string()).await;
    let report = app.sweep().await;
    assert_eq!((report.messages, report.attachments), (1, 1));
    assert_eq!(chunks().await, 0);
    let files = app
        .store()
        .database()
        .collection::<Document>("attachments.files")
        .count_documents(doc! {"_id": file_id})
        .await
        .unwrap();
    assert_eq!(files, 0);
    assert!(
        app.store()
            .attachments
            .find_one(doc! {"_id": file_id})
            .await
            .unwrap()
            .is_none()
    );
    let download = app.get(&format!("/attachment/{file}")).await;
    expect_error(download, 404, "not_found").await;
}

#[tokio::test]
async fn the_change_feed_and_edits_never_bring_a_swept_message_back() {
    let app = spawn().await;
    let group = app.create_group("g", &["a", "b"], &["a"]).await;
    let id = group.id.as_str();
    let since = chat_wire::time::format(&chrono::Utc::now());
    let sent = app.send_many(id, "a", 2).await;
    for message in &sent {
        app.post_json(
            &format!("/message/{}/reactions", message.id),
            &json!({"up": "b", "emoji": "👍"}),
        )
        .await;
    }
    app.set_retention(id, json!({"mode": "untilRead", "graceHours": 0}))
        .await;
    app.read(id, "b", &sent[0].id.to_string()).await;
    assert_eq!(app.sweep().await.messages, 1);
    let changes: chat_wire::paging::Page<Message> = parse(
        app.get(&format!("/group/{id}/changes?since={since}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&changes), [sent[1].id.to_string()]);
    let edit = app
        .patch_json(
            &format!("/message/{}", sent[0].id),
            &json!({"from": "a", "message": "back?"}),
        )
        .await;
    expect_error(edit, 404, "not_found").await;
    assert_eq!(app.stored_seqs(id).await, vec![2]);
}

#[tokio::test]
async fn a_reply_outliving_its_swept_original_quotes_it_as_deleted() {
    let app = spawn().await;
    let group = app.create_group("g", &["a", "b"], &["a"]).await;
    let id = group.id.as_str();
    app.set_retention(id, json!({"mode": "untilRead", "graceHours": 0}))
        .await;
    let since = chat_wire::time::format(&chrono::Utc::now());
    let original = app.send(id, "a", "the secret plan", None).await;
    let reply: Message = parse(
        app.post_json(
            "/message",
            &json!({"group": id, "from": "b", "message": "agreed", "replyTo": original.id}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        reply.reply_to.as_ref().map(|q| q.snippet.as_str()),
        Some("the secret plan")
    );

    // Both have read the original; `a` has not read the reply.
    assert_eq!(app.sweep().await.messages, 1);
    assert_eq!(app.stored_seqs(id).await, vec![2]);
    let page = app.messages(id, "").await;
    let quote = page.items[0]
        .reply_to
        .clone()
        .expect("the reply keeps its quote");
    assert_eq!(quote.id, original.id);
    assert!(quote.deleted, "the swept original reads as deleted");
    assert_eq!(quote.snippet, "", "no text of the swept original is left");
    // Clients holding the reply learn it through the change feed.
    let changes: chat_wire::paging::Page<Message> = parse(
        app.get(&format!("/group/{id}/changes?since={since}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&changes), [reply.id.to_string()]);
    assert_eq!(
        changes.items[0].reply_to.as_ref().map(|q| q.deleted),
        Some(true)
    );
}

#[tokio::test]
async fn two_instances_sweeping_at_once_delete_each_message_once() {
    let first = spawn().await;
    let db = first.store().database().name().to_owned();
    let second = spawn_on(Some(&db)).await;
    let group = first.create_group("g", &["a"], &["a"]).await;
    let id = group.id.as_str();
    first.insert_old(id, "a", 1_234, 10).await;
    let kept = first.send_many(id, "a", 2).await;
    first
        .set_retention(id, json!({"mode": "days", "days": 5}))
        .await;
    let (one, two, three) = tokio::join!(first.sweep(), second.sweep(), first.sweep());
    assert_eq!(
        one.messages + two.messages + three.messages,
        1_234,
        "each message deleted once: {one:?} {two:?} {three:?}"
    );
    assert_eq!(first.stored_seqs(id).await, vec![1_235, 1_236]);
    let page = second.messages(id, "").await;
    assert_eq!(ids(&page), [kept[1].id.to_string(), kept[0].id.to_string()]);
    assert_eq!(page.total, 2);
    let group = first
        .store()
        .group(ObjectId::parse_str(id).unwrap())
        .await
        .unwrap();
    assert_eq!(group.swept_through(), 1_234);
    assert_eq!(group.message_count, 1_236);
}

#[tokio::test]
async fn an_interrupted_sweep_is_finished_by_the_next() {
    let app = spawn().await;
    let group = app.create_group("g", &["a"], &["a"]).await;
    let id = group.id.as_str();
    let old = app.insert_old(id, "a", 3, 10).await;
    app.set_retention(id, json!({"mode": "days", "days": 5}))
        .await;
    // A sweep that raised `through` and stopped before deleting.
    let group_id = ObjectId::parse_str(id).unwrap();
    app.store()
        .groups
        .update_one(
            doc! {"_id": group_id},
            doc! {"$set": {"sweep.through": 2_i64, "sweep.until": DateTime::now()}},
        )
        .await
        .unwrap();
    // Already gone for readers.
    let page = app.messages(id, "").await;
    assert_eq!((texts(&page), page.total), (vec!["old 3".to_owned()], 1));
    let after = app.messages(id, &format!("after={}", old[0])).await;
    assert_eq!(texts(&after), ["old 3"]);
    assert_eq!(
        app.sweep().await.messages,
        3,
        "the two left behind, and the third"
    );
    assert!(app.stored_seqs(id).await.is_empty());
}
