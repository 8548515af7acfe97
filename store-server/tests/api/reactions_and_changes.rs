//! Reactions, and the change feed of a group.

use crate::helpers::{expect_error, parse, spawn_app, unknown_id};
use chat_wire::model::Message;
use chat_wire::paging::Page;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

/// `👍`, as it goes in a path.
const THUMBS_UP_PATH: &str = "%F0%9F%91%8D";

#[tokio::test]
async fn reactions_are_grouped_by_emoji_in_the_order_given() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1", "up2", "up3"], &[]).await;
    let sent = app.send(group.id.as_str(), "up1", "hi", None).await;
    let path = format!("/message/{}/reactions", sent.id);
    let first: Value = parse(
        app.post_json(&path, &json!({"up": "up2", "emoji": "👍"}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(first["reactions"], json!({"👍": ["up2"]}));
    app.post_json(&path, &json!({"up": "up3", "emoji": "👍"}))
        .await;
    let both: Value = parse(
        app.post_json(&path, &json!({"up": "up2", "emoji": "❤️"}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        both["reactions"],
        json!({"👍": ["up2", "up3"], "❤️": ["up2"]})
    );
    let fetched: Value = parse(
        app.get(&format!("/message/{}", sent.id)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(fetched, both);
}

#[tokio::test]
async fn reacting_twice_with_the_same_emoji_counts_once() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1", "up2"], &[]).await;
    let sent = app.send(group.id.as_str(), "up1", "hi", None).await;
    let path = format!("/message/{}/reactions/", sent.id);
    let once: Message = parse(
        app.post_json(&path, &json!({"up": "up2", "emoji": "+1"}))
            .await,
        StatusCode::OK,
    )
    .await;
    let twice: Message = parse(
        app.post_json(&path, &json!({"up": "up2", "emoji": "+1"}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(twice, once);
    assert_eq!(twice.reactions["+1"].len(), 1);
}

#[tokio::test]
async fn only_members_may_react_and_bad_reactions_change_nothing() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1", "up2"], &[]).await;
    let gid = group.id.to_string();
    let sent = app.send(&gid, "up1", "hi", None).await;
    let before = app.snapshot(&gid).await;
    let path = format!("/message/{}/reactions", sent.id);
    expect_error(
        app.post_json(&path, &json!({"up": "stranger", "emoji": "👍"}))
            .await,
        403,
        "permission_denied",
    )
    .await;
    for body in [
        json!({"up": "up2", "emoji": ""}),
        json!({"up": "up2", "emoji": "a b"}),
        json!({"up": "up2", "emoji": "x".repeat(17)}),
        json!({"up": "up2"}),
        json!({"emoji": "👍"}),
    ] {
        expect_error(app.post_json(&path, &body).await, 400, "invalid_argument").await;
    }
    expect_error(
        app.post_json(
            &format!("/message/{}/reactions", unknown_id()),
            &json!({"up": "up2", "emoji": "👍"}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(app.snapshot(&gid).await, before);
}

#[tokio::test]
async fn unreacting_removes_only_that_users_reaction() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1", "up2", "up3"], &[]).await;
    let sent = app.send(group.id.as_str(), "up1", "hi", None).await;
    let path = format!("/message/{}/reactions", sent.id);
    app.post_json(&path, &json!({"up": "up2", "emoji": "👍"}))
        .await;
    app.post_json(&path, &json!({"up": "up3", "emoji": "👍"}))
        .await;

    let removed: Value = parse(
        app.delete(&format!(
            "/message/{}/reactions/{THUMBS_UP_PATH}/up2",
            sent.id
        ))
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(removed["reactions"], json!({"👍": ["up3"]}));
    let again: Value = parse(
        app.delete(&format!(
            "/message/{}/reactions/{THUMBS_UP_PATH}/up2/",
            sent.id
        ))
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        again, removed,
        "removing a missing reaction is not an error"
    );
    let last: Value = parse(
        app.delete(&format!(
            "/message/{}/reactions/{THUMBS_UP_PATH}/up3",
            sent.id
        ))
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(last["reactions"], json!({}));

    expect_error(
        app.delete(&format!(
            "/message/{}/reactions/{THUMBS_UP_PATH}/outsider",
            sent.id
        ))
        .await,
        403,
        "permission_denied",
    )
    .await;
    expect_error(
        app.delete(&format!(
            "/message/{}/reactions/{THUMBS_UP_PATH}/bad%20up",
            sent.id
        ))
        .await,
        400,
        "invalid_argument",
    )
    .await;
    expect_error(
        app.delete(&format!(
            "/message/{}/reactions/{THUMBS_UP_PATH}/up2",
            unknown_id()
        ))
        .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn changes_lists_edited_deleted_and_reacted_messages_since_a_time() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1", "up2"], &[]).await;
    let gid = group.id.to_string();
    let sent = app.send_many(&gid, "up1", 5).await;
    // A change before `since` must not be listed.
    let early: Message = parse(
        app.patch_json(
            &format!("/message/{}", sent[0].id),
            &json!({"from": "up1", "message": "early"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    // `since` is inclusive; times have millisecond precision: take the
    // millisecond after the early change, and step past it.
    let early_at = early.edited_at.unwrap();
    let since = chat_wire::time::format(&(early_at + chrono::Duration::milliseconds(1)));
    tokio::time::sleep(Duration::from_millis(5)).await;

    app.patch_json(
        &format!("/message/{}", sent[1].id),
        &json!({"from": "up1", "message": "edited"}),
    )
    .await
    .error_for_status()
    .unwrap();
    app.delete(&format!("/message/{}?from=up1", sent[2].id))
        .await
        .error_for_status()
        .unwrap();
    app.post_json(
        &format!("/message/{}/reactions", sent[3].id),
        &json!({"up": "up2", "emoji": "👍"}),
    )
    .await
    .error_for_status()
    .unwrap();
    // Another group's changes stay out.
    let other = app.create_group("other", &["up1"], &[]).await;
    let elsewhere = app.send(other.id.as_str(), "up1", "x", None).await;
    app.delete(&format!("/message/{}?from=up1", elsewhere.id))
        .await
        .error_for_status()
        .unwrap();

    let changes: Page<Message> = parse(
        app.get(&format!("/group/{gid}/changes?since={since}"))
            .await,
        StatusCode::OK,
    )
    .await;
    let changed: Vec<_> = changes.items.iter().map(|m| m.id.clone()).collect();
    assert_eq!(
        changed,
        [sent[1].id.clone(), sent[2].id.clone(), sent[3].id.clone()]
    );
    assert_eq!(changes.total, 3);
    assert_eq!(changes.items[0].message, "edited");
    assert!(changes.items[1].deleted);
    assert_eq!(changes.items[2].reactions["👍"][0].as_str(), "up2");

    let page: Page<Message> = parse(
        app.get(&format!(
            "/group/{gid}/changes/?since={since}&perPage=2&page=1"
        ))
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page.items.len(), 1);
    assert_eq!(
        (page.page, page.per_page, page.total, page.has_more),
        (1, 2, 3, false)
    );

    let everything: Page<Message> = parse(
        app.get(&format!(
            "/group/{gid}/changes?since=2000-01-01T00:00:00.000Z"
        ))
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(everything.total, 4, "the early edit is a change too");
    let at_the_early_change: Page<Message> = parse(
        app.get(&format!(
            "/group/{gid}/changes?since={}",
            chat_wire::time::format(&early_at)
        ))
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        at_the_early_change.total, 4,
        "a change at `since` itself is listed"
    );
    let future: Page<Message> = parse(
        app.get(&format!("/group/{gid}/changes?since=2999-01-01T00:00:00Z"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!((future.total, future.items.len()), (0, 0));
}

#[tokio::test]
async fn changes_needs_a_valid_since_and_a_known_group() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1"], &[]).await;
    let gid = group.id.to_string();
    expect_error(
        app.get(&format!("/group/{gid}/changes")).await,
        400,
        "invalid_argument",
    )
    .await;
    for since in ["yesterday", "2022-13-01T00:00:00Z", "", "1655122543"] {
        let message = expect_error(
            app.get(&format!("/group/{gid}/changes?since={since}"))
                .await,
            400,
            "invalid_argument",
        )
        .await;
        assert!(message.contains("since"), "{since}: {message}");
    }
    expect_error(
        app.get(&format!(
            "/group/{}/changes?since=2020-01-01T00:00:00Z",
            unknown_id()
        ))
        .await,
        404,
        "not_found",
    )
    .await;
    expect_error(
        app.get("/group/nothex/changes?since=2020-01-01T00:00:00Z")
            .await,
        400,
        "invalid_argument",
    )
    .await;
}
