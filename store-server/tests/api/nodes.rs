//! `/node`: the chat nodes' registry, and reaping the nodes that died.

use crate::helpers::{TestApp, expect_error, parse, spawn_app};
use chat_wire::cluster::{
    NodeList, NodeRegistration, NodeRemoval, PresenceChange, PresenceChanges,
};
use mongodb::bson::{DateTime, doc};
use reqwest::StatusCode;
use serde_json::json;

async fn beat(app: &TestApp, id: &str, draining: bool) -> NodeRegistration {
    let body = json!({"url": format!("http://{id}:8080"), "draining": draining, "connections": 3});
    parse(
        app.put_json(&format!("/node/{id}"), &body).await,
        StatusCode::OK,
    )
    .await
}

async fn online_on(app: &TestApp, node: &str, up: &str) -> PresenceChange {
    let changes: PresenceChanges = parse(
        app.post_json(&format!("/node/{node}/users"), &json!({"joined": [up]}))
            .await,
        StatusCode::OK,
    )
    .await;
    changes.items.into_iter().next().expect("one change")
}

async fn live(app: &TestApp) -> Vec<String> {
    let list: NodeList = parse(app.get("/node").await, StatusCode::OK).await;
    list.items.into_iter().map(|n| n.id.to_string()).collect()
}

/// Makes a node's last heartbeat `seconds` old, as if it had died then.
async fn age(app: &TestApp, node: &str, seconds: i64) {
    let then = DateTime::from_millis(DateTime::now().timestamp_millis() - seconds * 1000);
    app.store()
        .nodes
        .update_one(doc! {"_id": node}, doc! {"$set": {"seenAt": then}})
        .await
        .unwrap();
}

#[tokio::test]
async fn a_first_heartbeat_registers_the_node_and_the_next_ones_refresh_it() {
    let app = spawn_app().await;
    assert!(beat(&app, "chat-a", false).await.created);
    let again = beat(&app, "chat-a", true).await;
    assert!(!again.created);
    assert!(again.node.draining);
    assert_eq!(again.node.url, "http://chat-a:8080");
    assert_eq!(again.node.connections, 3);
    let listed: NodeList = parse(app.get("/node").await, StatusCode::OK).await;
    assert_eq!(listed.items, vec![again.node]);
}

#[tokio::test]
async fn only_nodes_heard_from_in_the_last_15_seconds_are_listed() {
    let app = spawn_app().await;
    beat(&app, "chat-a", false).await;
    beat(&app, "chat-b", false).await;
    age(&app, "chat-b", 16).await;
    assert_eq!(live(&app).await, ["chat-a"]);
    age(&app, "chat-a", 14).await;
    assert_eq!(live(&app).await, ["chat-a"], "14 s old is still live");
}

#[tokio::test]
async fn a_removed_node_takes_offline_only_the_users_it_alone_held() {
    let app = spawn_app().await;
    beat(&app, "chat-a", false).await;
    beat(&app, "chat-b", false).await;
    online_on(&app, "chat-a", "ana").await;
    online_on(&app, "chat-a", "bea").await;
    online_on(&app, "chat-b", "bea").await;
    let removal: NodeRemoval = parse(app.delete("/node/chat-a").await, StatusCode::OK).await;
    let offline: Vec<&str> = removal.offline.iter().map(|u| u.up.as_str()).collect();
    assert_eq!(offline, ["ana"], "bea still has a socket on chat-b");
    assert_eq!(live(&app).await, ["chat-b"]);
    let ana: serde_json::Value = parse(app.get("/user/ana").await, StatusCode::OK).await;
    assert_eq!(ana["online"], false);
    assert_eq!(
        ana["lastSeen"],
        json!(chat_wire::time::format(&removal.offline[0].last_seen))
    );
    let again: NodeRemoval = parse(app.delete("/node/chat-a").await, StatusCode::OK).await;
    assert!(
        again.offline.is_empty(),
        "removing twice reports nobody twice"
    );
}

#[tokio::test]
async fn concurrent_reapers_report_each_user_of_a_dead_node_exactly_once() {
    let app = spawn_app().await;
    beat(&app, "dead", false).await;
    beat(&app, "alive", false).await;
    let users: Vec<String> = (0..30).map(|i| format!("u{i}")).collect();
    for up in &users {
        online_on(&app, "dead", up).await;
    }
    online_on(&app, "alive", "u0").await;
    age(&app, "dead", 20).await;
    let reaps = (0..4).map(|_| async {
        let removal: NodeRemoval = parse(
            app.post_json("/node/reap", &json!({})).await,
            StatusCode::OK,
        )
        .await;
        removal.offline
    });
    let mut reported: Vec<String> = futures::future::join_all(reaps)
        .await
        .into_iter()
        .flatten()
        .map(|user| user.up.to_string())
        .collect();
    reported.sort();
    let mut expected: Vec<String> = users[1..].to_vec();
    expected.sort();
    assert_eq!(reported, expected, "u0 is still on a live node");
    assert_eq!(live(&app).await, ["alive"]);
    let nodes = app.store().nodes.count_documents(doc! {}).await.unwrap();
    assert_eq!(nodes, 1, "the dead node is gone from the registry");
}

#[tokio::test]
async fn a_node_taken_for_dead_is_told_to_register_its_users_again() {
    let app = spawn_app().await;
    beat(&app, "slow", false).await;
    online_on(&app, "slow", "ana").await;
    age(&app, "slow", 20).await;
    let removal: NodeRemoval = parse(
        app.post_json("/node/reap", &json!({})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(removal.offline.len(), 1);
    assert!(beat(&app, "slow", false).await.created);
    assert!(
        online_on(&app, "slow", "ana").await.changed,
        "ana comes back online"
    );
}

#[tokio::test]
async fn bad_node_ids_and_heartbeats_are_refused() {
    let app = spawn_app().await;
    // (`..` itself never reaches the server: URL parsing removes it.)
    for id in ["a%20b", "x%2Fy", "%C3%A9"] {
        let response = app
            .put_json(
                &format!("/node/{id}"),
                &json!({"url": "http://x", "draining": false, "connections": 0}),
            )
            .await;
        expect_error(response, 400, "invalid_argument").await;
    }
    let missing = app
        .put_json("/node/chat-a", &json!({"url": "http://x"}))
        .await;
    expect_error(missing, 400, "invalid_argument").await;
    // Only an absolute http(s) URL with a host and no user information.
    for url in [
        "",
        "javascript:alert(1)",
        "/relative",
        "ftp://x",
        "http://user:pw@x",
    ] {
        let response = app
            .put_json(
                "/node/chat-a",
                &json!({"url": url, "draining": false, "connections": 0}),
            )
            .await;
        expect_error(response, 400, "invalid_argument").await;
    }
    assert!(live(&app).await.is_empty(), "nothing was registered");
}
