//! Direct conversations (get-or-create) and read markers with unread counts.

use crate::helpers::{expect_error, parse, spawn_app, unknown_id};
use chat_wire::model::{Group, GroupKind};
use chat_wire::requests::ReadState;
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;
use std::collections::HashSet;

#[tokio::test]
async fn the_direct_group_of_two_users_is_created_once_whatever_the_order() {
    let app = spawn_app().await;
    let created: Group = parse(
        app.post_json("/group/direct", &json!({"users": ["up2", "up1"]}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created.kind, GroupKind::Direct);
    let mut members: Vec<_> = created.users.iter().map(|u| u.as_str()).collect();
    members.sort_unstable();
    assert_eq!(members, ["up1", "up2"]);
    assert!(!created.open);

    let again: Group = parse(
        app.post_json("/group/direct", &json!({"users": ["up1", "up2"]}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again, created);
    let same_order: Group = parse(
        app.post_json("/group/direct/", &json!({"users": ["up2", "up1"]}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(same_order, created);

    let theirs = app.groups_of("up2").await;
    assert_eq!(theirs.total, 1);
    assert_eq!(theirs.items[0].id, created.id);
    let all: serde_json::Value = parse(app.get("/group").await, StatusCode::OK).await;
    assert_eq!(all["total"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_direct_creations_in_both_orders_make_one_group() {
    let app = spawn_app().await;
    let requests = (0..10).map(|i| {
        let users = if i % 2 == 0 {
            ["upa", "upb"]
        } else {
            ["upb", "upa"]
        };
        let body = json!({"users": users});
        let app = &app;
        async move { app.post_json("/group/direct", &body).await }
    });
    let mut statuses = Vec::new();
    let mut groups = HashSet::new();
    for response in join_all(requests).await {
        let status = response.status();
        assert!(
            status == StatusCode::CREATED || status == StatusCode::OK,
            "{status}"
        );
        statuses.push(status);
        let group: Group = response.json().await.unwrap();
        groups.insert(group.id);
    }
    assert_eq!(groups.len(), 1, "every request got the same group");
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1, "exactly one request created it: {statuses:?}");
    let all: serde_json::Value = parse(app.get("/group").await, StatusCode::OK).await;
    assert_eq!(all["total"], 1);
}

#[tokio::test]
async fn a_direct_group_needs_exactly_two_different_valid_users() {
    let app = spawn_app().await;
    for body in [
        json!({"users": ["up1"]}),
        json!({"users": ["up1", "up1"]}),
        json!({"users": ["up1", "up2", "up3"]}),
        json!({"users": []}),
        json!({"users": ["up1", "bad up"]}),
        json!({}),
    ] {
        expect_error(
            app.post_json("/group/direct", &body).await,
            400,
            "invalid_argument",
        )
        .await;
    }
    let all: serde_json::Value = parse(app.get("/group").await, StatusCode::OK).await;
    assert_eq!(all["total"], 0);
}

#[tokio::test]
async fn no_one_else_can_join_a_direct_group() {
    let app = spawn_app().await;
    let direct: Group = parse(
        app.post_json("/group/direct", &json!({"users": ["up1", "up2"]}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let path = format!("/group/{}/users", direct.id);
    expect_error(
        app.post_json(&path, &json!({"up": "up3"})).await,
        403,
        "permission_denied",
    )
    .await;
    let stored: Group = parse(
        app.get(&format!("/group/{}", direct.id)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(stored, direct);
    expect_error(
        app.post_message(direct.id.as_str(), "up3", "hi", None)
            .await,
        403,
        "permission_denied",
    )
    .await;
    app.send(direct.id.as_str(), "up1", "hi", None).await;
}

#[tokio::test]
async fn unread_counts_the_messages_of_others_after_the_marker() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1", "up2", "up3"], &[]).await;
    let gid = group.id.to_string();
    assert_eq!(app.unread("up2", &gid).await, 0);
    let sent = app.send_many(&gid, "up1", 3).await;
    assert_eq!(app.unread("up2", &gid).await, 3);
    assert_eq!(app.unread("up3", &gid).await, 3);

    let read: ReadState = parse(
        app.post_json(
            &format!("/group/{gid}/read"),
            &json!({"up": "up2", "messageId": sent[1].id}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(read.unread, 1);
    assert_eq!(read.message_id, sent[1].id);
    assert_eq!(read.group, group.id);
    assert_eq!(read.up.as_str(), "up2");
    assert_eq!(app.unread("up2", &gid).await, 1);
    assert_eq!(
        app.unread("up3", &gid).await,
        3,
        "one reader's marker is theirs only"
    );

    app.send(&gid, "up3", "news", None).await;
    assert_eq!(app.unread("up2", &gid).await, 2);
}

#[tokio::test]
async fn reading_an_older_message_does_not_move_the_marker_back() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1", "up2"], &[]).await;
    let gid = group.id.to_string();
    let sent = app.send_many(&gid, "up1", 4).await;
    let path = format!("/group/{gid}/read/");
    let newest: ReadState = parse(
        app.post_json(&path, &json!({"up": "up2", "messageId": sent[3].id}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(newest.unread, 0);
    let older: ReadState = parse(
        app.post_json(&path, &json!({"up": "up2", "messageId": sent[0].id}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        older.message_id, sent[3].id,
        "the marker stays on the newest read"
    );
    assert_eq!(older.unread, 0);
    assert_eq!(app.unread("up2", &gid).await, 0);
}

#[tokio::test]
async fn the_senders_own_messages_count_as_read_for_them() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1", "up2"], &[]).await;
    let gid = group.id.to_string();
    app.send_many(&gid, "up2", 2).await;
    app.send_many(&gid, "up1", 3).await;
    assert_eq!(app.unread_eventually("up1", &gid, 0).await, 0);
    assert_eq!(app.unread_eventually("up2", &gid, 3).await, 3);
    app.send(&gid, "up2", "reply", None).await;
    assert_eq!(app.unread_eventually("up2", &gid, 0).await, 0);
    assert_eq!(app.unread("up1", &gid).await, 1);
}

#[tokio::test]
async fn marking_read_needs_a_member_and_a_message_of_that_group() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1", "up2"], &[]).await;
    let other = app.create_group("other", &["up1", "up2"], &[]).await;
    let gid = group.id.to_string();
    let sent = app.send(&gid, "up1", "here", None).await;
    let foreign = app.send(other.id.as_str(), "up1", "there", None).await;
    let before = app.snapshot(&gid).await;
    let markers_before = app.read_markers().await;
    let path = format!("/group/{gid}/read");

    expect_error(
        app.post_json(&path, &json!({"up": "stranger", "messageId": sent.id}))
            .await,
        403,
        "permission_denied",
    )
    .await;
    expect_error(
        app.post_json(&path, &json!({"up": "up2", "messageId": foreign.id}))
            .await,
        400,
        "invalid_argument",
    )
    .await;
    expect_error(
        app.post_json(&path, &json!({"up": "up2", "messageId": unknown_id()}))
            .await,
        404,
        "not_found",
    )
    .await;
    for body in [
        json!({"up": "up2"}),
        json!({"up": "up2", "messageId": "nothex"}),
        json!({"messageId": sent.id}),
    ] {
        expect_error(app.post_json(&path, &body).await, 400, "invalid_argument").await;
    }
    expect_error(
        app.post_json(
            &format!("/group/{}/read", unknown_id()),
            &json!({"up": "up2", "messageId": sent.id}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    expect_error(
        app.post_json(
            "/group/nothex/read",
            &json!({"up": "up2", "messageId": sent.id}),
        )
        .await,
        400,
        "invalid_argument",
    )
    .await;
    assert_eq!(app.snapshot(&gid).await, before);
    assert_eq!(app.read_markers().await, markers_before);
    assert_eq!(app.unread("up2", &gid).await, 1);
}

#[tokio::test]
async fn a_direct_group_cannot_be_left_and_keeps_both_users() {
    let app = spawn_app().await;
    let direct: Group = parse(
        app.post_json("/group/direct", &json!({"users": ["up1", "up2"]}))
            .await,
        StatusCode::CREATED,
    )
    .await;

    let path = format!("/group/{}/users/up1", direct.id);
    expect_error(app.delete(&path).await, 403, "permission_denied").await;

    let stored: Group = parse(
        app.get(&format!("/group/{}", direct.id)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(stored, direct);
    app.send(direct.id.as_str(), "up1", "still here", None)
        .await;
}
