//! `/user`: create or update, read, list.

use crate::helpers::{expect_error, parse, send, spawn_app};
use chat_wire::model::User;
use chat_wire::paging::Page;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn posting_a_new_user_is_201_and_posting_again_is_200() {
    let app = spawn_app().await;
    let created: Value = parse(
        app.post_json(
            "/user/up1",
            &json!({"username": "ana", "name": "Ana Silva"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        created,
        json!({"up": "up1", "username": "ana", "name": "Ana Silva", "online": false})
    );
    let updated: Value = parse(
        app.post_json("/user/up1", &json!({"online": true})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        updated,
        json!({"up": "up1", "username": "ana", "name": "Ana Silva", "online": true}),
        "absent fields are kept"
    );
    let fetched: Value = parse(app.get("/user/up1").await, StatusCode::OK).await;
    assert_eq!(fetched, updated);
}

#[tokio::test]
async fn going_offline_records_last_seen() {
    let app = spawn_app().await;
    app.post_json("/user/up1", &json!({"online": true})).await;
    let offline: User = parse(
        app.post_json("/user/up1", &json!({"online": false})).await,
        StatusCode::OK,
    )
    .await;
    assert!(!offline.online);
    let last_seen = offline
        .last_seen
        .expect("lastSeen is set when going offline");
    let age = chrono::Utc::now() - last_seen;
    assert!(
        age.num_seconds().abs() < 60,
        "lastSeen is now-ish: {last_seen}"
    );
    let raw: Value = parse(app.get("/user/up1").await, StatusCode::OK).await;
    assert_eq!(raw["lastSeen"], chat_wire::time::format(&last_seen));
}

#[tokio::test]
async fn an_empty_body_creates_a_user_with_defaults() {
    let app = spawn_app().await;
    let response = send(app.authed(Method::POST, "/user/up.2@fe-up_pt")).await;
    let created: Value = parse(response, StatusCode::CREATED).await;
    assert_eq!(
        created,
        json!({"up": "up.2@fe-up_pt", "username": "up.2@fe-up_pt", "name": "", "online": false})
    );
    let response = send(app.authed(Method::POST, "/user/up.2@fe-up_pt/")).await;
    let again: Value = parse(response, StatusCode::OK).await;
    assert_eq!(again, created);
    let response = app.post_json("/user/up.2@fe-up_pt", &json!({})).await;
    let again: Value = parse(response, StatusCode::OK).await;
    assert_eq!(again, created);
}

#[tokio::test]
async fn an_unknown_user_is_404() {
    let app = spawn_app().await;
    let message = expect_error(app.get("/user/ghost").await, 404, "not_found").await;
    assert!(message.contains("ghost"), "{message}");
}

#[tokio::test]
async fn a_malformed_up_is_400_and_creates_nobody() {
    let app = spawn_app().await;
    expect_error(app.get("/user/bad%20up").await, 400, "invalid_argument").await;
    expect_error(
        app.post_json("/user/bad%20up", &json!({})).await,
        400,
        "invalid_argument",
    )
    .await;
    let long = "a".repeat(65);
    expect_error(
        app.post_json(&format!("/user/{long}"), &json!({})).await,
        400,
        "invalid_argument",
    )
    .await;
    let users: Page<User> = parse(app.get("/user").await, StatusCode::OK).await;
    assert_eq!(users.total, 0);
}

#[tokio::test]
async fn a_bad_user_body_is_400_and_changes_nothing() {
    let app = spawn_app().await;
    app.post_json("/user/up1", &json!({"name": "Ana"})).await;
    let before: Value = parse(app.get("/user/up1").await, StatusCode::OK).await;
    for body in [
        json!({"online": "yes"}),
        json!({"name": 7}),
        json!({"nickname": "x"}),
        json!(["not", "an", "object"]),
    ] {
        expect_error(
            app.post_json("/user/up1", &body).await,
            400,
            "invalid_argument",
        )
        .await;
    }
    let response = app
        .authed(Method::POST, "/user/up1")
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    expect_error(response, 400, "invalid_argument").await;
    let after: Value = parse(app.get("/user/up1").await, StatusCode::OK).await;
    assert_eq!(after, before);
}

#[tokio::test]
async fn listing_users_pages_them_by_up() {
    let app = spawn_app().await;
    for up in ["up3", "up1", "up5", "up2", "up4"] {
        app.post_json(&format!("/user/{up}"), &json!({})).await;
    }
    let page: Page<User> = parse(app.get("/user?page=1&perPage=2").await, StatusCode::OK).await;
    let ups: Vec<_> = page.items.iter().map(|u| u.up.as_str()).collect();
    assert_eq!(ups, ["up3", "up4"]);
    assert_eq!(
        (page.page, page.per_page, page.total, page.has_more),
        (1, 2, 5, true)
    );
    let all: Page<User> = parse(app.get("/user/").await, StatusCode::OK).await;
    assert_eq!(all.items.len(), 5);
    assert!(!all.has_more);
}
