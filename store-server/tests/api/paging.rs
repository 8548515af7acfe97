//! Paging of every list: page numbers, `before`/`after` cursors, the
//! envelope, and the arguments as a JSON body (as older clients send them).

use crate::helpers::{expect_error, ids, parse, send, spawn_app, texts, unknown_id};
use chat_wire::model::Message;
use chat_wire::paging::Page;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::HashSet;

fn names(range: impl DoubleEndedIterator<Item = usize>) -> Vec<String> {
    range.map(|i| format!("m{i}")).collect()
}

#[tokio::test]
async fn page_mode_returns_messages_newest_first_with_the_envelope() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1"], &[]).await;
    let gid = group.id.to_string();
    app.send_many(&gid, "up1", 25).await;

    let raw: Value = parse(
        app.get(&format!("/group/messages?groupID={gid}&page=0&perPage=10"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(raw["page"], 0);
    assert_eq!(raw["perPage"], 10);
    assert_eq!(raw["total"], 25);
    assert_eq!(raw["hasMore"], true);

    let first = app.messages(&gid, "page=0&perPage=10").await;
    assert_eq!(texts(&first), names((15..25).rev()));
    let last = app.messages(&gid, "page=2&perPage=10").await;
    assert_eq!(texts(&last), names((0..5).rev()));
    assert_eq!(
        (last.page, last.per_page, last.total, last.has_more),
        (2, 10, 25, false)
    );
    let beyond = app.messages(&gid, "page=3&perPage=10").await;
    assert!(beyond.items.is_empty());
    assert_eq!((beyond.total, beyond.has_more), (25, false));

    let default = app.messages(&gid, "").await;
    assert_eq!(
        (default.page, default.per_page, default.has_more),
        (0, 20, true)
    );
    assert_eq!(texts(&default), names((5..25).rev()));
    let exact = app.messages(&gid, "perPage=25").await;
    assert_eq!(exact.items.len(), 25);
    assert!(
        !exact.has_more,
        "no more when the page ends exactly at the last one"
    );
}

#[tokio::test]
async fn before_returns_older_messages_newest_first() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1"], &[]).await;
    let gid = group.id.to_string();
    let sent = app.send_many(&gid, "up1", 12).await;

    let page = app
        .messages(&gid, &format!("before={}&perPage=5", sent[10].id))
        .await;
    assert_eq!(texts(&page), names((5..10).rev()));
    assert_eq!(
        (page.page, page.per_page, page.total, page.has_more),
        (0, 5, 12, true)
    );
    let tail = app
        .messages(&gid, &format!("before={}&perPage=5", sent[2].id))
        .await;
    assert_eq!(texts(&tail), ["m1", "m0"]);
    assert!(!tail.has_more);
    let none = app.messages(&gid, &format!("before={}", sent[0].id)).await;
    assert!(none.items.is_empty() && !none.has_more);
}

#[tokio::test]
async fn after_returns_newer_messages_oldest_first() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1"], &[]).await;
    let gid = group.id.to_string();
    let sent = app.send_many(&gid, "up1", 12).await;

    let page = app
        .messages(&gid, &format!("after={}&perPage=5", sent[3].id))
        .await;
    assert_eq!(texts(&page), names(4..9));
    assert!(page.has_more);
    let tail = app
        .messages(&gid, &format!("after={}&perPage=5", sent[9].id))
        .await;
    assert_eq!(texts(&tail), ["m10", "m11"]);
    assert!(!tail.has_more);
    let caught_up = app.messages(&gid, &format!("after={}", sent[11].id)).await;
    assert!(caught_up.items.is_empty() && !caught_up.has_more);
}

#[tokio::test]
async fn walking_every_page_with_before_visits_each_message_once() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1"], &[]).await;
    let gid = group.id.to_string();
    let sent = app.send_many(&gid, "up1", 23).await;
    // Another group's messages must not leak into the walk.
    let other = app.create_group("other", &["up1"], &[]).await;
    app.send_many(other.id.as_str(), "up1", 3).await;

    let mut seen = Vec::new();
    let mut page = app.messages(&gid, "perPage=7").await;
    loop {
        seen.extend(ids(&page));
        if !page.has_more {
            break;
        }
        let oldest = page.items.last().unwrap().id.clone();
        page = app
            .messages(&gid, &format!("before={oldest}&perPage=7"))
            .await;
    }
    let expected: Vec<String> = sent.iter().rev().map(|m| m.id.to_string()).collect();
    assert_eq!(seen, expected);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 23);
}

#[tokio::test]
async fn a_cursor_from_another_group_is_400() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1"], &[]).await;
    let other = app.create_group("other", &["up1"], &[]).await;
    app.send(group.id.as_str(), "up1", "here", None).await;
    let foreign = app.send(other.id.as_str(), "up1", "there", None).await;
    for cursor in ["before", "after"] {
        let path = format!(
            "/group/messages?groupID={}&{cursor}={}",
            group.id, foreign.id
        );
        expect_error(app.get(&path).await, 400, "invalid_argument").await;
    }
}

#[tokio::test]
async fn bad_paging_arguments_are_400_on_every_list() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1"], &[]).await;
    let sent = app.send(group.id.as_str(), "up1", "hi", None).await;
    let lists = [
        "/group?".to_owned(),
        "/message?".to_owned(),
        "/user?".to_owned(),
        "/group/user/up1?".to_owned(),
        format!("/group/messages?groupID={}&", group.id),
        format!("/group/{}/changes?since=2020-01-01T00:00:00Z&", group.id),
    ];
    let bad = [
        "perPage=0",
        "perPage=101",
        "perPage=abc",
        "perPage=2.5",
        "page=-1",
        "page=abc",
    ];
    for list in &lists {
        for query in bad {
            let message = expect_error(
                app.get(&format!("{list}{query}")).await,
                400,
                "invalid_argument",
            )
            .await;
            let field = query.split('=').next().unwrap();
            assert!(message.contains(field), "{list}{query}: {message}");
        }
        app.get(&format!("{list}perPage=100&page=0"))
            .await
            .error_for_status()
            .unwrap();
        app.get(&format!("{list}perPage=1"))
            .await
            .error_for_status()
            .unwrap();
    }
    let id = sent.id.to_string();
    let messages = format!("/group/messages?groupID={}", group.id);
    for query in [
        format!("before={id}&after={id}"),
        format!("page=1&before={id}"),
        "before=nothex".to_owned(),
        "after=123".to_owned(),
    ] {
        expect_error(
            app.get(&format!("{messages}&{query}")).await,
            400,
            "invalid_argument",
        )
        .await;
    }
    // Cursors belong to lists of messages of one group.
    expect_error(
        app.get(&format!("/group?before={id}")).await,
        400,
        "invalid_argument",
    )
    .await;
    expect_error(
        app.get(&format!("/message?after={id}")).await,
        400,
        "invalid_argument",
    )
    .await;
}

#[tokio::test]
async fn group_messages_needs_a_known_valid_group() {
    let app = spawn_app().await;
    expect_error(app.get("/group/messages").await, 400, "invalid_argument").await;
    expect_error(
        app.get("/group/messages?groupID=nothex").await,
        400,
        "invalid_argument",
    )
    .await;
    expect_error(
        app.get(&format!("/group/messages?groupID={}", unknown_id()))
            .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn group_messages_takes_its_arguments_as_a_json_body_too() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1"], &[]).await;
    let gid = group.id.to_string();
    let sent = app.send_many(&gid, "up1", 8).await;

    let response = send(
        app.authed(Method::GET, "/group/messages")
            .json(&json!({"groupID": gid, "page": 1, "perPage": 3})),
    )
    .await;
    let page: Page<Message> = parse(response, StatusCode::OK).await;
    assert_eq!(texts(&page), ["m4", "m3", "m2"]);
    assert_eq!(
        (page.page, page.per_page, page.total, page.has_more),
        (1, 3, 8, true)
    );

    let response = send(
        app.authed(Method::GET, "/group/messages/")
            .json(&json!({"groupID": gid, "after": sent[5].id, "perPage": "5"})),
    )
    .await;
    let page: Page<Message> = parse(response, StatusCode::OK).await;
    assert_eq!(texts(&page), ["m6", "m7"]);

    // The query string wins over the body.
    let response = send(
        app.authed(
            Method::GET,
            &format!("/group/messages?groupID={gid}&perPage=2"),
        )
        .json(&json!({"perPage": 5})),
    )
    .await;
    let page: Page<Message> = parse(response, StatusCode::OK).await;
    assert_eq!(page.items.len(), 2);

    let response = send(
        app.authed(Method::GET, "/group/messages")
            .json(&json!({"groupID": gid, "perPage": 0})),
    )
    .await;
    expect_error(response, 400, "invalid_argument").await;
    let response = send(
        app.authed(Method::GET, "/group/messages")
            .header("content-type", "application/json")
            .body("{\"groupID\": "),
    )
    .await;
    expect_error(response, 400, "invalid_argument").await;
}

/// Retries of stored nonces between new messages take no number: pages
/// split the messages exactly, cursors walk them in order, and counts are
/// the messages'.
#[tokio::test]
async fn retries_between_messages_leave_pages_cursors_and_counts_exact() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1", "up2"], &[]).await;
    let gid = group.id.to_string();
    let mut sent = Vec::new();
    for i in 0..12 {
        let nonce = format!("n{i}");
        sent.push(app.send(&gid, "up1", &format!("m{i}"), Some(&nonce)).await);
        if i % 3 == 0 {
            // A retry: answered with the stored message, nothing stored.
            let retry = app.post_message(&gid, "up1", "again", Some(&nonce)).await;
            let retry: Message = parse(retry, StatusCode::OK).await;
            assert_eq!(retry.message, format!("m{i}"));
        }
    }
    let names: Vec<String> = sent.iter().map(|m| m.message.clone()).collect();
    let mut paged = Vec::new();
    for page in 0..5 {
        let found = app.messages(&gid, &format!("page={page}&perPage=3")).await;
        assert_eq!(found.total, 12, "retries are not counted");
        paged.extend(texts(&found));
    }
    paged.reverse();
    assert_eq!(
        paged, names,
        "every message once, in order, across the pages"
    );
    let after = app
        .messages(&gid, &format!("after={}&perPage=100", sent[0].id))
        .await;
    assert_eq!(
        texts(&after),
        names[1..],
        "a cursor walks the messages in order"
    );
    let before = app
        .messages(&gid, &format!("before={}&perPage=4", sent[11].id))
        .await;
    let newest_first: Vec<String> = names[7..11].iter().rev().cloned().collect();
    assert_eq!(texts(&before), newest_first);
    let up2 = app.groups_of("up2").await.items[0].unread;
    assert_eq!(up2, Some(12), "unread counts the messages");
}
