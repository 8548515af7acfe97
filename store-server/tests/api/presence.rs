//! Presence across chat nodes: `/node/{id}/users` and
//! `/group/{id}/presence`.

use crate::helpers::{TestApp, expect_error, parse, spawn_app};
use chat_wire::cluster::{GroupPresence, PresenceChange, PresenceChanges};
use mongodb::bson::{DateTime, doc};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Sends one presence batch of `node`; its changes.
async fn batch(app: &TestApp, node: &str, body: Value) -> Vec<PresenceChange> {
    let changes: PresenceChanges = parse(
        app.post_json(&format!("/node/{node}/users"), &body).await,
        StatusCode::OK,
    )
    .await;
    changes.items
}

async fn joined(app: &TestApp, node: &str, up: &str) -> PresenceChange {
    let mut changes = batch(app, node, json!({"joined": [up]})).await;
    assert_eq!(changes.len(), 1, "{changes:?}");
    changes.remove(0)
}

async fn left(app: &TestApp, node: &str, up: &str) -> PresenceChange {
    let mut changes = batch(app, node, json!({"left": [up]})).await;
    assert_eq!(changes.len(), 1, "{changes:?}");
    changes.remove(0)
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
async fn a_batch_answers_each_user_in_order_joined_first() {
    let app = spawn_app().await;
    joined(&app, "b", "bea").await;
    joined(&app, "a", "cid").await;
    let changes = batch(
        &app,
        "a",
        json!({"joined": ["ana", "bea"], "left": ["cid", "dan"]}),
    )
    .await;
    let summary: Vec<(&str, bool, bool)> = changes
        .iter()
        .map(|c| (c.up.as_str(), c.online, c.changed))
        .collect();
    assert_eq!(
        summary,
        [
            ("ana", true, true),
            ("bea", true, false),
            ("cid", false, true),
            ("dan", false, false),
        ],
        "bea was online on b already; dan was never seen"
    );
    assert!(changes[2].last_seen.is_some() && changes[3].last_seen.is_none());
    let empty = batch(&app, "a", json!({})).await;
    assert!(empty.is_empty());
}

#[tokio::test]
async fn a_thousand_users_move_in_one_batch_each_announced_once() {
    let app = spawn_app().await;
    let ups: Vec<String> = (0..1000).map(|i| format!("u{i}")).collect();
    let (first, second) = tokio::join!(
        batch(&app, "a", json!({"joined": &ups})),
        batch(&app, "b", json!({"joined": &ups})),
    );
    let announced = |changes: &[PresenceChange]| changes.iter().filter(|c| c.changed).count();
    assert_eq!(
        announced(&first) + announced(&second),
        1000,
        "each user goes online once, on whichever node claimed it"
    );
    let out_a = batch(&app, "a", json!({"left": &ups})).await;
    assert_eq!(announced(&out_a), 0, "still on b");
    let out_b = batch(&app, "b", json!({"left": &ups})).await;
    assert_eq!(announced(&out_b), 1000);
    assert!(out_b.iter().all(|c| !c.online));
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
    for body in [
        json!({"joined": [".."]}),
        json!({"joined": ["ana", "ana"]}),
        json!({"left": (0..1001).map(|i| format!("u{i}")).collect::<Vec<_>>()}),
        json!({"joined": [], "moved": []}),
        json!({"joined": "ana"}),
    ] {
        expect_error(
            app.post_json("/node/a/users", &body).await,
            400,
            "invalid_argument",
        )
        .await;
    }
    expect_error(
        app.post_json("/node/../users", &json!({})).await,
        404,
        "not_found",
    )
    .await;
    expect_error(
        app.get("/group/nope/presence").await,
        400,
        "invalid_argument",
    )
    .await;
    let unknown = format!("/group/{}/presence", crate::helpers::unknown_id());
    expect_error(app.get(&unknown).await, 404, "not_found").await;
}
