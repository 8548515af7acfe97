//! `GET /message/search`: words found in a user's groups, newest first,
//! paged with a cursor; edits, deletes, the gate, bad input, and the
//! backfill of messages stored before search existed.

use crate::helpers::{TestApp, expect_error, parse, send, spawn_app, unknown_id};
use chat_wire::search::{SearchHit, SearchPage};
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, Document, doc};
use reqwest::{Method, StatusCode};
use serde_json::json;
use store_server::db::search_backfill::{Backfill, MIGRATIONS, backfill};

/// `GET /message/search` with these query pairs, whatever the answer.
async fn search_raw(app: &TestApp, query: &[(&str, &str)]) -> reqwest::Response {
    send(app.authed(Method::GET, "/message/search").query(query)).await
}

/// A page of `up`'s search for `q`, with more query pairs.
async fn search(app: &TestApp, up: &str, q: &str, more: &[(&str, &str)]) -> SearchPage {
    let mut query = vec![("up", up), ("q", q)];
    query.extend_from_slice(more);
    parse(search_raw(app, &query).await, StatusCode::OK).await
}

/// Every result of a search, following the cursor to the end.
async fn search_all(app: &TestApp, up: &str, q: &str, more: &[(&str, &str)]) -> Vec<SearchHit> {
    let mut found = Vec::new();
    // A `cursor` among `more` is where to start.
    let mut cursor: Option<String> = more
        .iter()
        .find(|(key, _)| *key == "cursor")
        .map(|(_, value)| (*value).to_owned());
    let more: Vec<(&str, &str)> = more
        .iter()
        .copied()
        .filter(|(key, _)| *key != "cursor")
        .collect();
    for _ in 0..100 {
        let mut query = more.clone();
        if let Some(cursor) = &cursor {
            query.push(("cursor", cursor));
        }
        let page = search(app, up, q, &query).await;
        found.extend(page.items);
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => return found,
        }
    }
    panic!("the search did not end within 100 pages");
}

fn texts(hits: &[SearchHit]) -> Vec<&str> {
    hits.iter()
        .map(|hit| hit.message.message.as_str())
        .collect()
}

/// The words each hit's matches point at (UTF-16 ranges of its text).
fn marked(hit: &SearchHit) -> Vec<String> {
    let units: Vec<u16> = hit.message.message.encode_utf16().collect();
    hit.matches
        .iter()
        .map(|m| String::from_utf16(&units[m.start as usize..m.end as usize]).unwrap())
        .collect()
}

#[tokio::test]
async fn words_are_found_in_every_group_of_the_user_or_in_one_newest_first() {
    let app = spawn_app().await;
    let first = app.create_group("first", &["ana", "bo"], &[]).await;
    let second = app.create_group("second", &["ana"], &[]).await;
    let others = app.create_group("others", &["bo"], &[]).await;
    let (g1, g2, g3) = (
        first.id.to_string(),
        second.id.to_string(),
        others.id.to_string(),
    );
    app.send(&g1, "bo", "Lunch at the Café?", None).await;
    app.send(&g1, "ana", "nothing to see", None).await;
    app.send(&g3, "bo", "a cafe ana never sees", None).await;
    app.send(&g2, "ana", "🙂 the CAFE is closed, café closed", None)
        .await;

    let page = search(&app, "ana", "café", &[]).await;
    assert_eq!(
        texts(&page.items),
        ["🙂 the CAFE is closed, café closed", "Lunch at the Café?"]
    );
    assert_eq!(page.cursor, None);
    assert_eq!(marked(&page.items[0]), ["CAFE", "café"]);
    assert_eq!(marked(&page.items[1]), ["Café"]);

    let one = search(&app, "ana", "CAFE", &[("group", &g1)]).await;
    assert_eq!(texts(&one.items), ["Lunch at the Café?"]);

    // Every word must be there, in any order.
    let both = search(&app, "ana", "closed cafe", &[]).await;
    assert_eq!(texts(&both.items), ["🙂 the CAFE is closed, café closed"]);
    assert_eq!(marked(&both.items[0]), ["CAFE", "closed", "café", "closed"]);
    assert!(
        search(&app, "ana", "cafe lunch closed", &[])
            .await
            .items
            .is_empty()
    );
    // No word at all finds nothing.
    assert!(search(&app, "ana", "?!", &[]).await.items.is_empty());
    // bo sees the group ana is not in.
    assert_eq!(search(&app, "bo", "never", &[]).await.items.len(), 1);
}

#[tokio::test]
async fn the_cursor_pages_to_the_end_and_new_messages_do_not_shift_it() {
    let app = spawn_app().await;
    let group = app.create_group("g", &["ana"], &[]).await.id.to_string();
    let other = app.create_group("h", &["ana"], &[]).await.id.to_string();
    let mut sent = Vec::new();
    for i in 0..7 {
        let to = if i % 2 == 0 { &group } else { &other };
        sent.push(app.send(to, "ana", &format!("report {i}"), None).await);
        app.send(to, "ana", &format!("noise {i}"), None).await;
    }
    let first = search(&app, "ana", "report", &[("perPage", "3")]).await;
    assert_eq!(texts(&first.items), ["report 6", "report 5", "report 4"]);
    let cursor = first.cursor.expect("more pages");
    // A new match is newer than the cursor: later pages do not show it.
    app.send(&group, "ana", "report late", None).await;
    let rest = search_all(
        &app,
        "ana",
        "report",
        &[("perPage", "3"), ("cursor", &cursor)],
    )
    .await;
    assert_eq!(
        texts(&rest),
        ["report 3", "report 2", "report 1", "report 0"]
    );
    let everything = search_all(&app, "ana", "report", &[("perPage", "2")]).await;
    assert_eq!(everything.len(), 8);
    assert_eq!(everything[0].message.message, "report late");
    assert_eq!(everything[7].message.id, sent[0].id);
}

#[tokio::test]
async fn an_edit_changes_what_is_found_and_a_deleted_message_never_is() {
    let app = spawn_app().await;
    let group = app
        .create_group("g", &["ana"], &["ana"])
        .await
        .id
        .to_string();
    let edited = app.send(&group, "ana", "meet at noon", None).await;
    let deleted = app.send(&group, "ana", "meet at the station", None).await;
    assert_eq!(search(&app, "ana", "meet", &[]).await.items.len(), 2);

    let response = app
        .patch_json(
            &format!("/message/{}", edited.id),
            &json!({"from": "ana", "message": "see you at dawn"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = app
        .delete(&format!("/message/{}?from=ana", deleted.id))
        .await;
    assert_eq!(response.status(), StatusCode::OK);

    assert!(search(&app, "ana", "meet", &[]).await.items.is_empty());
    assert!(search(&app, "ana", "station", &[]).await.items.is_empty());
    let dawn = search(&app, "ana", "dawn", &[]).await;
    assert_eq!(texts(&dawn.items), ["see you at dawn"]);
    assert_eq!(dawn.items[0].message.id, edited.id);
}

#[tokio::test]
async fn gated_groups_are_left_out_when_asked_unless_open() {
    let app = spawn_app().await;
    let open = app.create_group("open", &["ana"], &[]).await.id.to_string();
    let gated: chat_wire::model::Group = parse(
        app.post_json(
            "/group",
            &json!({"name": "quiet", "users": ["ana", "bo"], "historyMinOnline": 2}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let gated = gated.id.to_string();
    app.send(&open, "ana", "plan one", None).await;
    app.send(&gated, "ana", "plan two", None).await;

    assert_eq!(search(&app, "ana", "plan", &[]).await.items.len(), 2);
    let skipped = search(&app, "ana", "plan", &[("skipGated", "true")]).await;
    assert_eq!(texts(&skipped.items), ["plan one"]);
    let one = search(
        &app,
        "ana",
        "plan",
        &[("skipGated", "true"), ("group", &gated)],
    )
    .await;
    assert!(one.items.is_empty());
    let opened = search(
        &app,
        "ana",
        "plan",
        &[
            ("skipGated", "true"),
            ("openGated", &format!("{open},{gated}")),
        ],
    )
    .await;
    assert_eq!(texts(&opened.items), ["plan two", "plan one"]);
}

#[tokio::test]
async fn bad_input_is_refused() {
    let app = spawn_app().await;
    let mine = app.create_group("mine", &["ana"], &[]).await.id.to_string();
    let theirs = app
        .create_group("theirs", &["bo"], &[])
        .await
        .id
        .to_string();
    let long = "x".repeat(201);
    let unknown = unknown_id();
    for query in [
        vec![("q", "x")],
        vec![("up", "ana")],
        vec![("up", "ana"), ("q", "   ")],
        vec![("up", "ana"), ("q", long.as_str())],
        vec![("up", "ana"), ("q", "a b c d e f g h i j k")],
        vec![("up", "ana"), ("q", "x"), ("group", "nothex")],
        vec![("up", "ana"), ("q", "x"), ("cursor", "nothing")],
        vec![("up", "ana"), ("q", "x"), ("perPage", "51")],
        vec![("up", "ana"), ("q", "x"), ("perPage", "0")],
        vec![("up", "ana"), ("q", "x"), ("skipGated", "yes")],
        vec![("up", "ana"), ("q", "x"), ("openGated", "nothex")],
        vec![("up", "a b"), ("q", "x")],
    ] {
        let response = search_raw(&app, &query).await;
        expect_error(response, 400, "invalid_argument").await;
    }
    let message = expect_error(
        search_raw(&app, &[("up", "ana"), ("q", "a b c d e f g h i j k")]).await,
        400,
        "invalid_argument",
    )
    .await;
    assert_eq!(message, "`q` holds 11 different words; at most 10");
    expect_error(
        search_raw(&app, &[("up", "ana"), ("q", "x"), ("group", &theirs)]).await,
        403,
        "permission_denied",
    )
    .await;
    expect_error(
        search_raw(&app, &[("up", "ana"), ("q", "x"), ("group", &unknown)]).await,
        404,
        "not_found",
    )
    .await;
    let without = app.get_without_token("/message/search?up=ana&q=x").await;
    expect_error(without, 401, "unauthenticated").await;
    // 200 characters and 50 per page are fine.
    let full = "y".repeat(200);
    let ok = search(&app, "ana", &full, &[("perPage", "50"), ("group", &mine)]).await;
    assert!(ok.items.is_empty() && ok.cursor.is_none());
}

/// A message document as the store writes it, at `id`, without `terms`
/// (as stored before search existed).
fn old_message(id: ObjectId, group: ObjectId, seq: i64, text: &str, deleted: bool) -> Document {
    doc! {
        "_id": id, "group": group, "seq": seq, "from": "ana", "message": text,
        "timestamp": DateTime::from_millis(id.timestamp().timestamp_millis()),
        "deleted": deleted, "reactions": [],
    }
}

/// An ObjectId made `days` ago.
fn days_ago(days: i64) -> ObjectId {
    let seconds = DateTime::now().timestamp_millis() / 1000 - days * 86_400;
    let mut bytes = ObjectId::new().bytes();
    bytes[..4].copy_from_slice(&(seconds as u32).to_be_bytes());
    ObjectId::from_bytes(bytes)
}

#[tokio::test]
async fn earlier_messages_get_their_terms_once_and_are_found_across_years() {
    let app = spawn_app().await;
    let group = app.create_group("old", &["ana"], &[]).await;
    let group_id = ObjectId::parse_str(group.id.as_str()).unwrap();
    let messages = app.store().messages_raw();
    let ages = [700, 365, 30, 1];
    let docs: Vec<Document> = ages
        .iter()
        .enumerate()
        .map(|(i, days)| {
            old_message(
                days_ago(*days),
                group_id,
                i as i64 + 1,
                &format!("Archive número {i}"),
                false,
            )
        })
        .chain([old_message(days_ago(2), group_id, 5, "", true)])
        .collect();
    messages.insert_many(docs).await.unwrap();
    app.store()
        .groups_raw()
        .update_one(
            doc! {"_id": group_id},
            doc! {"$set": {"messageCount": 5i64}},
        )
        .await
        .unwrap();
    assert!(search(&app, "ana", "archive", &[]).await.items.is_empty());

    // A database from before search: no migration recorded yet.
    let migrations = app.store().database().collection::<Document>(MIGRATIONS);
    migrations.delete_many(doc! {}).await.unwrap();
    assert_eq!(backfill(app.store()).await.unwrap(), Backfill::Done);
    let without = messages
        .count_documents(doc! {"terms": {"$exists": false}})
        .await
        .unwrap();
    assert_eq!(without, 0);
    let deleted = messages
        .find_one(doc! {"deleted": true})
        .await
        .unwrap()
        .unwrap();
    assert!(deleted.get_array("terms").unwrap().is_empty());

    // Found across two years, newest first, in small pages.
    let found = search_all(&app, "ana", "NUMERO archive", &[("perPage", "1")]).await;
    assert_eq!(
        texts(&found),
        [
            "Archive número 3",
            "Archive número 2",
            "Archive número 1",
            "Archive número 0"
        ]
    );
    assert_eq!(marked(&found[0]), ["Archive", "número"]);

    // Done is done: a later message without terms is not touched again.
    messages
        .insert_one(old_message(
            ObjectId::new(),
            group_id,
            6,
            "archive late",
            false,
        ))
        .await
        .unwrap();
    assert_eq!(backfill(app.store()).await.unwrap(), Backfill::Done);
    let migration = migrations
        .find_one(doc! {"_id": "searchTerms"})
        .await
        .unwrap()
        .unwrap();
    assert_eq!(migration.get_bool("done"), Ok(true));
    let late = messages
        .find_one(doc! {"message": "archive late"})
        .await
        .unwrap()
        .unwrap();
    assert!(!late.contains_key("terms"));
}

#[tokio::test]
async fn a_backfill_leased_by_another_instance_waits() {
    let app = spawn_app().await;
    let migrations = app.store().database().collection::<Document>(MIGRATIONS);
    // Wait for the app's own run, then hold a lease as another instance would.
    for _ in 0..100 {
        if backfill(app.store()).await.unwrap() == Backfill::Done {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let until = DateTime::from_millis(DateTime::now().timestamp_millis() + 60_000);
    migrations
        .update_one(
            doc! {"_id": "searchTerms"},
            doc! {"$set": {"done": false, "owner": "someone", "leaseUntil": until}},
        )
        .await
        .unwrap();
    assert_eq!(backfill(app.store()).await.unwrap(), Backfill::Busy);
    // An expired lease is taken over.
    migrations
        .update_one(
            doc! {"_id": "searchTerms"},
            doc! {"$set": {"leaseUntil": DateTime::from_millis(0)}},
        )
        .await
        .unwrap();
    assert_eq!(backfill(app.store()).await.unwrap(), Backfill::Done);
}

#[tokio::test]
async fn a_rare_pair_of_common_words_is_found_whole_across_full_windows() {
    let app = spawn_app().await;
    let group = app.create_group("busy", &["ana"], &[]).await;
    let group_id = ObjectId::parse_str(group.id.as_str()).unwrap();
    // 3,000 messages in two seconds, all holding "common" and "x"; one in
    // 300 also holds "needle". A second holds more entries of each common
    // word than one read takes, so windows are narrowed.
    let now = DateTime::now().timestamp_millis() / 1000;
    let total = 3_000_i64;
    let docs: Vec<Document> = (0..total)
        .map(|i| {
            let mut bytes = ObjectId::new().bytes();
            bytes[..4].copy_from_slice(&((now - 2 + i / 1_500) as u32).to_be_bytes());
            let id = ObjectId::from_bytes(bytes);
            let text = match i % 300 {
                7 => format!("common x needle {i}"),
                _ => format!("common x {i}"),
            };
            let mut doc = old_message(id, group_id, i + 1, &text, false);
            let terms = chat_wire::search::terms_of(&text);
            doc.insert("terms", terms);
            doc
        })
        .collect();
    app.store().messages_raw().insert_many(docs).await.unwrap();
    app.store()
        .groups_raw()
        .update_one(
            doc! {"_id": group_id},
            doc! {"$set": {"messageCount": total}},
        )
        .await
        .unwrap();

    let expected: Vec<String> = (0..total)
        .rev()
        .filter(|i| i % 300 == 7)
        .map(|i| format!("common x needle {i}"))
        .collect();
    for q in ["needle common x", "x common needle"] {
        let found = search_all(&app, "ana", q, &[("perPage", "3")]).await;
        assert_eq!(texts(&found), expected, "{q}");
    }
    // And the dense words alone still page through every message.
    let all = search_all(&app, "ana", "common x", &[("perPage", "50")]).await;
    assert_eq!(all.len(), total as usize);
    assert_eq!(all[0].message.message, format!("common x {}", total - 1));
}
