//! The public REST gateway, as a browser or app calls it.

use crate::stack::spawn_stack;
use serde_json::json;

#[tokio::test]
async fn only_members_read_a_group_and_only_with_a_valid_token() {
    let stack = spawn_stack().await;
    let group = stack.create_group(&["ana"]).await;
    let path = format!("/chat/{group}/message");

    let (member, page) = stack.get_as(Some("ana"), &path).await;
    let (stranger, denied) = stack.get_as(Some("carla"), &path).await;
    let (anonymous, refused) = stack.get_as(None, &path).await;
    let (bad_id, invalid) = stack.get_as(Some("ana"), "/chat/nothex/message").await;

    assert_eq!(member, 200);
    assert_eq!(page["items"], json!([]));
    assert_eq!(
        (stranger, denied["error"]["code"].as_str()),
        (403, Some("permission_denied"))
    );
    assert_eq!(
        (anonymous, refused["error"]["code"].as_str()),
        (401, Some("unauthenticated"))
    );
    assert_eq!(
        (bad_id, invalid["error"]["code"].as_str()),
        (400, Some("invalid_argument"))
    );
}

#[tokio::test]
async fn the_location_is_this_node_when_no_node_list_is_configured() {
    let stack = spawn_stack().await;
    let (status, body) = stack.get_as(Some("ana"), "/chat/location").await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"url": "http://localhost:8080"}));
}
