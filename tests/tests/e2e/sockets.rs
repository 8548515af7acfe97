//! Socket.IO behaviour through the `rust_socketio` client.

use crate::client::TestClient;
use crate::stack::spawn_stack;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_message_is_acked_with_the_stored_message_and_reaches_the_other_member() {
    let stack = spawn_stack().await;
    let group = stack.create_group(&["ana", "bruno"]).await;
    let ana = TestClient::connect(&stack.chat_url, &stack.token("ana"), &[]).await;
    let mut bruno =
        TestClient::connect(&stack.chat_url, &stack.token("bruno"), &["chat message"]).await;

    let ack = ana
        .ack(
            "chat message",
            json!({"room": group, "message": "  olá  ", "up": "mallory"}),
        )
        .await;

    let stored = &ack["data"];
    assert_eq!(
        stored["from"], "ana",
        "the sender comes from the token: {ack}"
    );
    assert_eq!(stored["message"], "olá");
    assert_eq!(stored["group"], group.as_str());
    let (event, received) = bruno
        .next_event(Duration::from_secs(3))
        .await
        .expect("bruno receives it");
    assert_eq!(event, "chat message");
    assert_eq!(received, *stored);
    ana.disconnect().await;
    bruno.disconnect().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_with_the_same_nonce_is_acked_with_the_same_message_and_broadcast_once() {
    let stack = spawn_stack().await;
    let group = stack.create_group(&["ana", "bruno"]).await;
    let ana = TestClient::connect(&stack.chat_url, &stack.token("ana"), &[]).await;
    let mut bruno =
        TestClient::connect(&stack.chat_url, &stack.token("bruno"), &["chat message"]).await;

    let first = ana
        .ack(
            "chat message",
            json!({"room": group, "message": "hi", "nonce": "n-1"}),
        )
        .await;
    let retry = ana
        .ack(
            "chat message",
            json!({"room": group, "message": "hi", "nonce": "n-1"}),
        )
        .await;

    assert_eq!(
        first["data"]["id"], retry["data"]["id"],
        "{first} vs {retry}"
    );
    assert!(bruno.next_event(Duration::from_secs(2)).await.is_some());
    assert!(
        bruno.next_event(Duration::from_millis(500)).await.is_none(),
        "broadcast only once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_to_a_group_the_user_is_not_in_is_refused_and_reaches_no_one() {
    let stack = spawn_stack().await;
    let group = stack.create_group(&["ana", "bruno"]).await;
    let carla = TestClient::connect(&stack.chat_url, &stack.token("carla"), &[]).await;
    let mut bruno =
        TestClient::connect(&stack.chat_url, &stack.token("bruno"), &["chat message"]).await;

    let ack = carla
        .ack(
            "chat message",
            json!({"room": group, "message": "intruding"}),
        )
        .await;

    assert_eq!(ack["error"]["code"], "permission_denied", "{ack}");
    assert!(bruno.next_event(Duration::from_millis(500)).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_payload_gets_invalid_argument_and_the_connection_stays_up() {
    let stack = spawn_stack().await;
    let group = stack.create_group(&["ana"]).await;
    let ana = TestClient::connect(&stack.chat_url, &stack.token("ana"), &[]).await;

    let bad = ana
        .ack("chat message", json!({"room": "not-an-id", "message": "x"}))
        .await;
    let empty = ana
        .ack("chat message", json!({"room": group, "message": "   "}))
        .await;
    let good = ana
        .ack(
            "chat message",
            json!({"room": group, "message": "still here"}),
        )
        .await;

    assert_eq!(bad["error"]["code"], "invalid_argument", "{bad}");
    assert_eq!(empty["error"]["code"], "invalid_argument", "{empty}");
    assert_eq!(good["data"]["message"], "still here", "{good}");
}
