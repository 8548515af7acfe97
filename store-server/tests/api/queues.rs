//! `/queue`: the pairing queues every chat node shares.

use crate::helpers::{TestApp, expect_error, parse, spawn_app};
use chat_wire::cluster::{QueueLeft, QueueOutcome};
use chat_wire::model::GroupKind;
use reqwest::StatusCode;
use serde_json::json;

async fn queue(app: &TestApp, queue: &str, up: &str, socket: &str, node: &str) -> QueueOutcome {
    let body = json!({"queue": queue, "up": up, "socket": socket, "node": node});
    parse(app.post_json("/queue", &body).await, StatusCode::OK).await
}

#[tokio::test]
async fn talk_pairs_with_talk_in_a_new_match_room() {
    let app = spawn_app().await;
    assert!(queue(&app, "talk", "ana", "s1", "a").await.queued);
    let paired = queue(&app, "talk", "bea", "s2", "b").await;
    assert!(!paired.queued);
    let partner = paired.partner.expect("a partner");
    assert_eq!(
        (partner.up.as_str(), partner.socket.as_str()),
        ("ana", "s1")
    );
    let room = paired.room.expect("a room");
    assert_eq!(room.kind, GroupKind::Match);
    let users: Vec<&str> = room.users.iter().map(|u| u.as_str()).collect();
    assert_eq!(users, ["ana", "bea"]);
    let stored: serde_json::Value = parse(
        app.get(&format!("/group/{}", room.id)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(stored["users"], json!(["ana", "bea"]));
    assert!(
        queue(&app, "talk", "cid", "s3", "a").await.queued,
        "the queue is empty again"
    );
}

#[tokio::test]
async fn vent_waits_for_listen_and_never_pairs_a_user_with_themselves() {
    let app = spawn_app().await;
    assert!(queue(&app, "vent", "ana", "s1", "a").await.queued);
    assert!(
        queue(&app, "vent", "bea", "s2", "a").await.queued,
        "two venters wait"
    );
    let cid = queue(&app, "listen", "cid", "s3", "b").await;
    assert_eq!(
        cid.partner.unwrap().up.as_str(),
        "ana",
        "the oldest venter first"
    );
    assert!(
        queue(&app, "listen", "bea", "s4", "b").await.queued,
        "not with herself"
    );
    let dan = queue(&app, "vent", "dan", "s5", "a").await;
    assert_eq!(
        dan.partner.unwrap().up.as_str(),
        "bea",
        "bea's listening socket"
    );
}

#[tokio::test]
async fn a_socket_leaving_or_queueing_again_keeps_one_place() {
    let app = spawn_app().await;
    queue(&app, "talk", "ana", "s1", "a").await;
    queue(&app, "vent", "ana", "s1", "a").await;
    assert!(
        queue(&app, "talk", "bea", "s2", "a").await.queued,
        "s1 moved to vent"
    );
    let left: QueueLeft = parse(app.delete("/queue/s2").await, StatusCode::OK).await;
    assert!(left.removed);
    let again: QueueLeft = parse(app.delete("/queue/s2").await, StatusCode::OK).await;
    assert!(!again.removed);
    assert!(
        queue(&app, "talk", "cid", "s3", "a").await.queued,
        "s2 is gone"
    );
}

#[tokio::test]
async fn users_queued_at_once_on_many_nodes_are_all_paired() {
    let app = spawn_app().await;
    let joins = (0..20).map(|i| {
        let app = &app;
        async move {
            queue(
                app,
                "talk",
                &format!("u{i}"),
                &format!("s{i}"),
                &format!("n{}", i % 3),
            )
            .await
        }
    });
    let outcomes = futures::future::join_all(joins).await;
    let paired = outcomes.iter().filter(|o| !o.queued).count();
    assert_eq!(paired, 10, "every user has a partner, none waits");
    let mut seen: Vec<String> = outcomes
        .iter()
        .filter_map(|o| o.room.as_ref())
        .flat_map(|room| room.users.iter().map(|u| u.to_string()))
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 20, "each user is in exactly one room");
}

#[tokio::test]
async fn a_removed_node_leaves_the_queues() {
    let app = spawn_app().await;
    queue(&app, "talk", "ana", "s1", "gone").await;
    app.delete("/node/gone").await;
    assert!(
        queue(&app, "talk", "bea", "s2", "b").await.queued,
        "ana's socket was dropped"
    );
}

#[tokio::test]
async fn bad_queue_requests_are_refused() {
    let app = spawn_app().await;
    let cases = [
        json!({"queue": "shout", "up": "ana", "socket": "s1", "node": "a"}),
        json!({"queue": "talk", "up": "..", "socket": "s1", "node": "a"}),
        json!({"queue": "talk", "up": "ana", "socket": "a/b", "node": "a"}),
        json!({"queue": "talk", "up": "ana", "socket": "s1"}),
    ];
    for body in cases {
        expect_error(
            app.post_json("/queue", &body).await,
            400,
            "invalid_argument",
        )
        .await;
    }
    expect_error(app.delete("/queue/..").await, 404, "not_found").await;
}
