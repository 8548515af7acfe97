//! Presence across chat nodes: `/node/{id}/users/{up}` and
//! `/group/{id}/presence`.

use crate::helpers::{TestApp, expect_error, parse, spawn_app};
use chat_wire::cluster::{GroupPresence, PresenceChange};
use mongodb::bson::{DateTime, doc};
use reqwest::StatusCode;
use serde_json::json;

async fn joined(app: &TestApp, node: &str, up: &str) -> PresenceChange {
    parse(
        app.put_json(&format!("/node/{node}/users/{up}"), &json!({}))
            .await,
        StatusCode::OK,
    )
    .await
}

async fn left(app: &TestApp, node: &str, up: &str) -> PresenceChange {
    parse(
        app.delete(&format!("/node/{node}/users/{up}")).await,
        StatusCode::OK,
    )
    .await
}

async fn beat(app: &TestApp, node: &str) {
    let body = json!({"url": "http://x", "draining": false, "connections": 1});
    let response = app.put_json(&format!("/node/{node}"), &body).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn only_the_first_node_in_and_the_last_node_out_change_a_user() {
    let app = spawn_app().await;
    let first = joined(&app, "a", "ana").await;
    assert!(first.online && first.changed, "{first:?}");
    let second = joined(&app, "b", "ana").await;
    assert!(
        second.online && !second.changed,
        "already online: {second:?}"
    );
    let again = joined(&app, "a", "ana").await;
    assert!(!again.changed, "the same node twice changes nothing");

    let one_left = left(&app, "a", "ana").await;
    assert!(one_left.online && !one_left.changed, "{one_left:?}");
    let gone = left(&app, "b", "ana").await;
    assert!(!gone.online && gone.changed, "{gone:?}");
    let last_seen = gone.last_seen.expect("going offline records lastSeen");
    let user: serde_json::Value = parse(app.get("/user/ana").await, StatusCode::OK).await;
    assert_eq!(user["online"], false);
    assert_eq!(user["lastSeen"], json!(chat_wire::time::format(&last_seen)));

    let unknown = left(&app, "b", "ana").await;
    assert!(!unknown.changed, "leaving a node twice changes nothing");
}

#[tokio::test]
async fn a_user_seen_first_on_a_node_is_created_online() {
    let app = spawn_app().await;
    joined(&app, "a", "newcomer").await;
    let user: serde_json::Value = parse(app.get("/user/newcomer").await, StatusCode::OK).await;
    assert_eq!(
        user,
        json!({"up": "newcomer", "username": "newcomer", "name": "", "online": true})
    );
}

#[tokio::test]
async fn racing_nodes_announce_one_transition_each_way() {
    let app = spawn_app().await;
    let nodes: Vec<String> = (0..8).map(|i| format!("n{i}")).collect();
    let ins = futures::future::join_all(nodes.iter().map(|n| joined(&app, n, "ana"))).await;
    assert_eq!(ins.iter().filter(|c| c.changed).count(), 1, "{ins:?}");
    let outs = futures::future::join_all(nodes.iter().map(|n| left(&app, n, "ana"))).await;
    assert_eq!(outs.iter().filter(|c| c.changed).count(), 1, "{outs:?}");
}

#[tokio::test]
async fn group_presence_counts_members_on_live_nodes_only() {
    let app = spawn_app().await;
    let group = app.create_group("g", &["ana", "bea", "cid"], &[]).await;
    beat(&app, "live").await;
    beat(&app, "dead").await;
    joined(&app, "live", "bea").await;
    joined(&app, "dead", "cid").await;
    joined(&app, "live", "stranger").await;
    let then = DateTime::from_millis(DateTime::now().timestamp_millis() - 20_000);
    app.store()
        .nodes
        .update_one(doc! {"_id": "dead"}, doc! {"$set": {"seenAt": then}})
        .await
        .unwrap();
    let presence: GroupPresence = parse(
        app.get(&format!("/group/{}/presence", group.id)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(presence.group.id, group.id);
    let online: Vec<&str> = presence.online.iter().map(|u| u.as_str()).collect();
    assert_eq!(
        online,
        ["bea"],
        "cid's only node is dead; strangers are not members"
    );
}

#[tokio::test]
async fn bad_presence_paths_are_refused() {
    let app = spawn_app().await;
    expect_error(
        app.put_json("/node/a/users/..", &json!({})).await,
        400,
        "invalid_argument",
    )
    .await;
    expect_error(app.delete("/node/../users/ana").await, 404, "not_found").await;
    expect_error(
        app.get("/group/nope/presence").await,
        400,
        "invalid_argument",
    )
    .await;
    let unknown = format!("/group/{}/presence", crate::helpers::unknown_id());
    expect_error(app.get(&unknown).await, 404, "not_found").await;
}
