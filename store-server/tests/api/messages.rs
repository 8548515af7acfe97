//! `/message`: send, read, list, edit and delete (the refusals are in
//! `message_errors`).

use crate::helpers::{expect_error, parse, send, spawn_app, texts};
use chat_wire::model::Message;
use chat_wire::paging::Page;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn sending_a_message_returns_201_with_the_stored_message() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1", "up2"], &[]).await;
    let response = app
        .post_json(
            "/message",
            &json!({"group": group.id, "from": "up1", "message": "  hello  ", "nonce": "n-1"}),
        )
        .await;
    let body: Value = parse(response, StatusCode::CREATED).await;
    assert_eq!(body["group"], group.id.as_str());
    assert_eq!(body["from"], "up1");
    assert_eq!(body["message"], "hello", "the text is trimmed");
    assert_eq!(body["nonce"], "n-1");
    assert_eq!(body["deleted"], false);
    assert_eq!(body["reactions"], json!({}));
    assert!(body.get("editedAt").is_none(), "{body}");
    let timestamp = body["timestamp"].as_str().unwrap();
    assert!(chat_wire::time::parse(timestamp).is_ok() && timestamp.ends_with('Z'));

    let id = body["id"].as_str().unwrap();
    let fetched: Value = parse(app.get(&format!("/message/{id}")).await, StatusCode::OK).await;
    assert_eq!(fetched, body);
    let fetched: Value = parse(app.get(&format!("/message/{id}/")).await, StatusCode::OK).await;
    assert_eq!(fetched, body);
}

#[tokio::test]
async fn a_message_route_accepts_a_trailing_slash() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1"], &[]).await;
    let response = app
        .post_json(
            "/message/",
            &json!({"group": group.id, "from": "up1", "message": "hi"}),
        )
        .await;
    let sent: Message = parse(response, StatusCode::CREATED).await;
    let page: Value = parse(app.get("/message/").await, StatusCode::OK).await;
    assert_eq!(page["items"][0]["id"], sent.id.as_str());
}

#[tokio::test]
async fn the_author_can_edit_a_message() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1", "up2"], &[]).await;
    let sent = app.send(group.id.as_str(), "up1", "helo", None).await;
    let path = format!("/message/{}", sent.id);
    let edited: Value = parse(
        app.patch_json(&path, &json!({"from": "up1", "message": " hello "}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited["message"], "hello");
    assert_eq!(edited["id"], sent.id.as_str());
    let edited_at = chat_wire::time::parse(edited["editedAt"].as_str().unwrap()).unwrap();
    assert!(edited_at >= sent.timestamp);
    let fetched: Value = parse(app.get(&path).await, StatusCode::OK).await;
    assert_eq!(fetched, edited);
}

#[tokio::test]
async fn an_admin_can_delete_anyones_message() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1"], &["mod"]).await;
    let sent = app.send(group.id.as_str(), "up1", "rude", None).await;
    let deleted: Message = parse(
        app.delete(&format!("/message/{}?from=mod", sent.id)).await,
        StatusCode::OK,
    )
    .await;
    assert!(deleted.deleted);
    assert_eq!(deleted.message, "");
    assert_eq!(deleted.id, sent.id);
}

#[tokio::test]
async fn the_author_can_delete_and_deleting_twice_is_not_an_error() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1", "up2"], &[]).await;
    let gid = group.id.to_string();
    let kept = app.send(&gid, "up2", "kept", None).await;
    let sent = app.send(&gid, "up1", "oops", None).await;
    let path = format!("/message/{}?from=up1", sent.id);
    let first: Message = parse(app.delete(&path).await, StatusCode::OK).await;
    assert!(first.deleted && first.message.is_empty());
    let second: Message = parse(app.delete(&path).await, StatusCode::OK).await;
    assert_eq!(second, first);
    // A soft delete: the message stays in the listing and the total.
    let page = app.messages(&gid, "").await;
    assert_eq!(page.total, 2);
    assert_eq!(page.items[0], first);
    assert_eq!(page.items[1], kept);
    expect_error(
        app.patch_json(
            &format!("/message/{}", sent.id),
            &json!({"from": "up1", "message": "back"}),
        )
        .await,
        400,
        "invalid_argument",
    )
    .await;
}

#[tokio::test]
async fn deleting_a_message_clears_its_text_and_reactions() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1", "up2"], &[]).await;
    let sent = app.send(group.id.as_str(), "up1", "secret", None).await;
    app.post_json(
        &format!("/message/{}/reactions", sent.id),
        &json!({"up": "up2", "emoji": "👍"}),
    )
    .await;
    let deleted: Value = parse(
        app.delete(&format!("/message/{}?from=up1", sent.id)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(deleted["deleted"], true);
    assert_eq!(deleted["message"], "");
    assert_eq!(deleted["reactions"], json!({}));
    let fetched: Value = parse(
        app.get(&format!("/message/{}", sent.id)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(fetched, deleted);
    let listed = app.messages(group.id.as_str(), "").await;
    assert!(listed.items.iter().all(|m| !m.message.contains("secret")));
}

#[tokio::test]
async fn all_messages_are_paged_newest_first_across_groups() {
    let app = spawn_app().await;
    let a = app.create_group("a", &["up1"], &[]).await;
    let b = app.create_group("b", &["up1"], &[]).await;
    let mut sent = Vec::new();
    for i in 0..6 {
        let group = if i % 2 == 0 { &a } else { &b };
        sent.push(
            app.send(group.id.as_str(), "up1", &format!("m{i}"), None)
                .await,
        );
    }
    let page: Page<Message> =
        parse(app.get("/message?page=0&perPage=4").await, StatusCode::OK).await;
    assert_eq!(texts(&page), ["m5", "m4", "m3", "m2"]);
    assert_eq!(
        (page.page, page.per_page, page.total, page.has_more),
        (0, 4, 6, true)
    );
    let rest: Page<Message> =
        parse(app.get("/message?page=1&perPage=4").await, StatusCode::OK).await;
    assert_eq!(texts(&rest), ["m1", "m0"]);
    assert!(!rest.has_more);

    let response = send(
        app.authed(Method::GET, "/message")
            .json(&json!({"page": 1, "perPage": 2})),
    )
    .await;
    let body: Page<Message> = parse(response, StatusCode::OK).await;
    assert_eq!(texts(&body), ["m3", "m2"]);
}
