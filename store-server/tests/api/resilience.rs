//! A store whose MongoDB is unreachable: it starts, says it is not ready,
//! and answers data routes quickly with `503 unavailable`, leaking nothing.

use crate::helpers::{TestApp, expect_error, parse, spawn_app_unready, unknown_id};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Nothing listens on port 1.
const UNREACHABLE: &str = "mongodb://127.0.0.1:1";

async fn spawn_app_without_mongodb() -> TestApp {
    spawn_app_unready(|c| c.mongodb_uri = UNREACHABLE.into()).await
}

fn assert_no_internals(message: &str) {
    let lower = message.to_lowercase();
    for internal in [
        "127.0.0.1",
        "mongodb",
        "server selection",
        "27017",
        "connection refused",
    ] {
        assert!(
            !lower.contains(internal),
            "the message leaks `{internal}`: {message}"
        );
    }
}

#[tokio::test]
async fn data_routes_answer_503_quickly_when_mongodb_is_down() {
    let app = spawn_app_without_mongodb().await;
    let gid = unknown_id();
    let paths = [
        "/group".to_owned(),
        format!("/group/{gid}"),
        format!("/group/messages?groupID={gid}"),
        "/user/up1".to_owned(),
        "/message".to_owned(),
    ];
    for path in paths {
        let started = Instant::now();
        let response = app.get(&path).await;
        let elapsed = started.elapsed();
        let message = expect_error(response, 503, "unavailable").await;
        assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
        assert_no_internals(&message);
    }
}

#[tokio::test]
async fn writes_answer_503_when_mongodb_is_down() {
    let app = spawn_app_without_mongodb().await;
    let gid = unknown_id();
    let writes = [
        ("/group", json!({"name": "x", "users": ["up1"]})),
        (
            "/message",
            json!({"group": gid, "from": "up1", "message": "hi", "nonce": "n1"}),
        ),
        ("/user/up1", json!({"online": true})),
        ("/group/direct", json!({"users": ["up1", "up2"]})),
    ];
    for (path, body) in writes {
        let started = Instant::now();
        let response = app.post_json(path, &body).await;
        let elapsed = started.elapsed();
        let message = expect_error(response, 503, "unavailable").await;
        assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
        assert_no_internals(&message);
    }
}

#[tokio::test]
async fn readiness_fails_but_liveness_holds_when_mongodb_is_down() {
    let app = spawn_app_without_mongodb().await;
    let started = Instant::now();
    let response = app.get_without_token("/readyz").await;
    assert!(started.elapsed() < Duration::from_secs(5));
    let message = expect_error(response, 503, "unavailable").await;
    assert_no_internals(&message);
    let health: Value = parse(app.get_without_token("/healthz").await, StatusCode::OK).await;
    assert_eq!(health["status"], "ok");
}

#[tokio::test]
async fn requests_that_need_no_database_are_still_checked_first() {
    let app = spawn_app_without_mongodb().await;
    // Validation and auth answer before any database round trip.
    expect_error(app.get("/group/nothex").await, 400, "invalid_argument").await;
    expect_error(app.get("/group?perPage=0").await, 400, "invalid_argument").await;
    expect_error(
        app.get_without_token("/group").await,
        401,
        "unauthenticated",
    )
    .await;
    let response = app
        .post_json(
            "/message",
            &json!({"group": unknown_id(), "from": "up1", "message": " "}),
        )
        .await;
    expect_error(response, 400, "invalid_argument").await;
}
