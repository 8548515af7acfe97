//! What `/message` refuses, and that a refused write stores nothing:
//! unknown ids, non-members, bad bodies, the message and body limits, edits
//! and deletes by the wrong user.

use crate::helpers::{expect_error, parse, spawn_app, spawn_app_with, unknown_id};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn an_unknown_message_is_404_and_a_malformed_id_400() {
    let app = spawn_app().await;
    expect_error(
        app.get(&format!("/message/{}", unknown_id())).await,
        404,
        "not_found",
    )
    .await;
    expect_error(app.get("/message/nothex").await, 400, "invalid_argument").await;
    expect_error(
        app.patch_json(
            &format!("/message/{}", unknown_id()),
            &json!({"from": "up1", "message": "x"}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    expect_error(
        app.delete(&format!("/message/{}?from=up1", unknown_id()))
            .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn sending_to_an_unknown_group_is_404_and_stores_nothing() {
    let app = spawn_app().await;
    expect_error(
        app.post_message(&unknown_id(), "up1", "hi", None).await,
        404,
        "not_found",
    )
    .await;
    let page: Value = parse(app.get("/message").await, StatusCode::OK).await;
    assert_eq!(page["total"], 0);
}

#[tokio::test]
async fn a_non_member_cannot_post_and_nothing_is_stored() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1"], &[]).await;
    let id = group.id.to_string();
    app.send(&id, "up1", "first", None).await;
    let before = app.snapshot(&id).await;
    let message = expect_error(
        app.post_message(&id, "stranger", "hi", None).await,
        403,
        "permission_denied",
    )
    .await;
    assert!(message.contains("stranger"), "{message}");
    assert_eq!(app.snapshot(&id).await, before);
}

#[tokio::test]
async fn bad_message_bodies_are_400_and_store_nothing() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1"], &[]).await;
    let id = group.id.to_string();
    app.send(&id, "up1", "first", None).await;
    let before = app.snapshot(&id).await;
    let cases = [
        json!({"group": id, "from": "up1"}),
        json!({"group": id, "message": "hi"}),
        json!({"from": "up1", "message": "hi"}),
        json!({"group": "nothex", "from": "up1", "message": "hi"}),
        json!({"group": id, "from": "bad up", "message": "hi"}),
        json!({"group": id, "from": "up1", "message": ""}),
        json!({"group": id, "from": "up1", "message": " \n\t "}),
        json!({"group": id, "from": "up1", "message": 42}),
        json!({"group": id, "from": "up1", "message": "hi", "nonce": "   "}),
        json!({"group": id, "from": "up1", "message": "hi", "nonce": "n".repeat(129)}),
        json!({"group": id, "from": "up1", "message": "hi", "extra": true}),
    ];
    for body in cases {
        expect_error(
            app.post_json("/message", &body).await,
            400,
            "invalid_argument",
        )
        .await;
    }
    let response = app
        .authed(Method::POST, "/message")
        .header("content-type", "application/json")
        .body("{\"group\": ")
        .send()
        .await
        .unwrap();
    expect_error(response, 400, "invalid_argument").await;
    assert_eq!(app.snapshot(&id).await, before);
}

#[tokio::test]
async fn a_message_over_the_configured_limit_is_413_and_one_at_it_is_stored() {
    let app = spawn_app_with(|c| c.max_message_chars = 10).await;
    let group = app.create_group("club", &["up1"], &[]).await;
    let id = group.id.to_string();
    let before = app.snapshot(&id).await;
    let message = expect_error(
        app.post_message(&id, "up1", "12345678901", None).await,
        413,
        "payload_too_large",
    )
    .await;
    assert!(message.contains("10"), "the limit is named: {message}");
    assert_eq!(app.snapshot(&id).await, before);
    // Characters, not bytes, and counted after trimming.
    let sent = app.send(&id, "up1", "  éééééééééé  ", None).await;
    assert_eq!(sent.message, "éééééééééé");
}

#[tokio::test]
async fn the_default_limit_is_4000_characters() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1"], &[]).await;
    let id = group.id.to_string();
    app.send(&id, "up1", &"é".repeat(4000), None).await;
    let before = app.snapshot(&id).await;
    expect_error(
        app.post_message(&id, "up1", &"a".repeat(4001), None).await,
        413,
        "payload_too_large",
    )
    .await;
    assert_eq!(app.snapshot(&id).await, before);
}

#[tokio::test]
async fn a_body_over_64_kib_is_413_and_stores_nothing() {
    let app = spawn_app_with(|c| c.max_message_chars = 1_000_000).await;
    let group = app.create_group("club", &["up1"], &[]).await;
    let id = group.id.to_string();
    let before = app.snapshot(&id).await;
    let huge = "a".repeat(65 * 1024);
    expect_error(
        app.post_message(&id, "up1", &huge, None).await,
        413,
        "payload_too_large",
    )
    .await;
    expect_error(
        app.post_json("/group", &json!({"name": huge, "users": ["up1"]}))
            .await,
        413,
        "payload_too_large",
    )
    .await;
    expect_error(
        app.post_json("/user/up1", &json!({"name": huge})).await,
        413,
        "payload_too_large",
    )
    .await;
    assert_eq!(app.snapshot(&id).await, before);
    // Just under the body limit is fine when the message limit allows it.
    app.send(&id, "up1", &"a".repeat(60 * 1024), None).await;
}

#[tokio::test]
async fn only_the_author_can_edit_and_bad_edits_change_nothing() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1", "up2"], &["up2"]).await;
    let gid = group.id.to_string();
    let sent = app.send(&gid, "up1", "original", None).await;
    let path = format!("/message/{}", sent.id);
    let before = app.snapshot(&gid).await;
    expect_error(
        app.patch_json(&path, &json!({"from": "up2", "message": "hijacked"}))
            .await,
        403,
        "permission_denied",
    )
    .await;
    expect_error(
        app.patch_json(&path, &json!({"from": "up1", "message": "  "}))
            .await,
        400,
        "invalid_argument",
    )
    .await;
    expect_error(
        app.patch_json(&path, &json!({"from": "up1"})).await,
        400,
        "invalid_argument",
    )
    .await;
    expect_error(
        app.patch_json(&path, &json!({"from": "up1", "message": "x".repeat(4001)}))
            .await,
        413,
        "payload_too_large",
    )
    .await;
    expect_error(
        app.patch_json("/message/nothex", &json!({"from": "up1", "message": "x"}))
            .await,
        400,
        "invalid_argument",
    )
    .await;
    assert_eq!(app.snapshot(&gid).await, before);
}

#[tokio::test]
async fn a_non_author_who_is_not_an_admin_cannot_delete() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1", "up2"], &[]).await;
    let gid = group.id.to_string();
    let sent = app.send(&gid, "up1", "mine", None).await;
    let before = app.snapshot(&gid).await;
    expect_error(
        app.delete(&format!("/message/{}?from=up2", sent.id)).await,
        403,
        "permission_denied",
    )
    .await;
    expect_error(
        app.delete(&format!("/message/{}", sent.id)).await,
        400,
        "invalid_argument",
    )
    .await;
    expect_error(
        app.delete(&format!("/message/{}?from=bad%20up", sent.id))
            .await,
        400,
        "invalid_argument",
    )
    .await;
    expect_error(
        app.delete("/message/nothex?from=up1").await,
        400,
        "invalid_argument",
    )
    .await;
    assert_eq!(app.snapshot(&gid).await, before);
}
