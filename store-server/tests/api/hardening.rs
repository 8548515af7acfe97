//! Authorization and limits the store enforces where the data is: joins of
//! open groups only, members only acting in a group, reaction caps, pair
//! rooms kept private, and paging that cannot overflow.

use crate::helpers::{expect_error, parse, spawn_app};
use chat_wire::model::{Group, Message};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_join_that_requires_an_open_group_is_refused_by_a_closed_one() {
    let app = spawn_app().await;
    let closed = app.create_group("closed", &["ana"], &[]).await;
    let body = json!({"up": "bea", "onlyIfOpen": true});
    let refused = app
        .post_json(&format!("/group/{}/users", closed.id), &body)
        .await;
    expect_error(refused, 403, "permission_denied").await;
    let member = json!({"up": "ana", "onlyIfOpen": true});
    let kept: Group = parse(
        app.post_json(&format!("/group/{}/users", closed.id), &member)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(kept.users.len(), 1, "a member re-joining changes nothing");
    let open: Group = parse(
        app.post_json(
            "/group",
            &json!({"name": "open", "users": ["ana"], "open": true}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let joined: Group = parse(
        app.post_json(&format!("/group/{}/users", open.id), &body)
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(joined.users.iter().any(|u| u.as_str() == "bea"));
    let by_service = json!({"up": "cid"});
    let added: Group = parse(
        app.post_json(&format!("/group/{}/users", closed.id), &by_service)
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        added.users.iter().any(|u| u.as_str() == "cid"),
        "services still add members"
    );
}

#[tokio::test]
async fn an_author_who_left_the_group_can_no_longer_edit_or_delete() {
    let app = spawn_app().await;
    let group = app.create_group("g", &["ana", "bea"], &[]).await;
    let message = app.send(group.id.as_str(), "ana", "mine", None).await;
    app.delete(&format!("/group/{}/users/ana", group.id)).await;
    let edit = app
        .patch_json(
            &format!("/message/{}", message.id),
            &json!({"from": "ana", "message": "changed"}),
        )
        .await;
    expect_error(edit, 403, "permission_denied").await;
    let delete = app
        .delete(&format!("/message/{}?from=ana", message.id))
        .await;
    expect_error(delete, 403, "permission_denied").await;
    let unchanged: Message = parse(
        app.get(&format!("/message/{}", message.id)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (unchanged.message.as_str(), unchanged.deleted),
        ("mine", false)
    );
}

#[tokio::test]
async fn reactions_are_capped_per_user_and_per_message() {
    let app = spawn_app().await;
    let members: Vec<String> = (0..5).map(|i| format!("u{i}")).collect();
    let refs: Vec<&str> = members.iter().map(String::as_str).collect();
    let group = app.create_group("g", &refs, &[]).await;
    let message = app.send(group.id.as_str(), "u0", "react to me", None).await;
    let path = format!("/message/{}/reactions", message.id);
    let react = |up: &str, emoji: String| {
        let body = json!({"up": up, "emoji": emoji});
        let (app, path) = (&app, &path);
        async move { app.post_json(path, &body).await }
    };
    for i in 0..16 {
        assert_eq!(react("u0", format!("e{i}")).await.status(), StatusCode::OK);
    }
    expect_error(react("u0", "e16".into()).await, 400, "invalid_argument").await;
    for (up, range) in [("u1", 16..32), ("u2", 32..48), ("u3", 48..64)] {
        for i in range {
            assert_eq!(react(up, format!("e{i}")).await.status(), StatusCode::OK);
        }
    }
    expect_error(react("u4", "e64".into()).await, 400, "invalid_argument").await;
    let same: Message = parse(react("u4", "e0".into()).await, StatusCode::OK).await;
    assert_eq!(
        same.reactions.len(),
        64,
        "an emoji already there is still allowed"
    );
    assert_eq!(same.reactions["e0"].len(), 2);
}

#[tokio::test]
async fn concurrent_reactions_never_pass_the_per_user_cap() {
    let app = spawn_app().await;
    let group = app.create_group("g", &["ana"], &[]).await;
    let message = app.send(group.id.as_str(), "ana", "race", None).await;
    let path = format!("/message/{}/reactions", message.id);
    let reactions = (0..30).map(|i| {
        let body = json!({"up": "ana", "emoji": format!("e{i}")});
        let path = path.clone();
        let app = &app;
        async move { app.post_json(&path, &body).await.status() }
    });
    let statuses = futures::future::join_all(reactions).await;
    let accepted = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert!(accepted <= 16, "{statuses:?}");
    for status in &statuses {
        assert!(
            [
                StatusCode::OK,
                StatusCode::BAD_REQUEST,
                StatusCode::SERVICE_UNAVAILABLE
            ]
            .contains(status),
            "{statuses:?}"
        );
    }
    let stored: Message = parse(
        app.get(&format!("/message/{}", message.id)).await,
        StatusCode::OK,
    )
    .await;
    let count = stored.reactions.values().map(Vec::len).sum::<usize>();
    assert_eq!(
        count, accepted,
        "every accepted reaction is stored, and only those"
    );
}

#[tokio::test]
async fn a_pair_room_is_never_handed_out_by_find_room() {
    let app = spawn_app().await;
    let queue = |q: &str, up: &str, socket: &str| json!({"queue": q, "up": up, "socket": socket, "node": "n1"});
    app.post_json("/queue", &queue("vent", "ana", "s1")).await;
    let paired: serde_json::Value = parse(
        app.post_json("/queue", &queue("listen", "bea", "s2")).await,
        StatusCode::OK,
    )
    .await;
    let room = paired["room"]["id"].as_str().unwrap().to_owned();
    app.delete(&format!("/group/{room}/users/bea")).await;
    let found: Group = parse(
        app.post_json(
            "/group/match",
            &json!({"up": "eve", "topic": "vent", "capacity": 2}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_ne!(
        found.id.as_str(),
        room,
        "the stranger gets a new room, not the pair's"
    );
    let pair: Group = parse(app.get(&format!("/group/{room}")).await, StatusCode::OK).await;
    let users: Vec<&str> = pair.users.iter().map(|u| u.as_str()).collect();
    assert_eq!(users, ["ana"]);
}

#[tokio::test]
async fn a_page_number_whose_offset_would_overflow_is_a_clear_400() {
    let app = spawn_app().await;
    for path in [
        "/group?page=92233720368547758&perPage=100",
        "/message?page=1000001",
        "/user?page=18446744073709551615",
    ] {
        let message = expect_error(app.get(path).await, 400, "invalid_argument").await;
        assert!(message.contains("`page`"), "{path}: {message}");
    }
    assert_eq!(
        app.get("/group?page=1000000&perPage=100").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn random_topics_cannot_create_matchmaking_rooms_without_end() {
    let app = spawn_app().await;
    for i in 0..20 {
        let body = json!({"up": "ana", "topic": format!("t{i}"), "capacity": 5});
        assert_eq!(
            app.post_json("/group/match", &body).await.status(),
            StatusCode::CREATED
        );
    }
    let over = json!({"up": "ana", "topic": "t20", "capacity": 5});
    let message = expect_error(
        app.post_json("/group/match", &over).await,
        429,
        "rate_limited",
    )
    .await;
    assert!(message.contains("20 matchmaking rooms"), "{message}");
    let again = json!({"up": "ana", "topic": "t3", "capacity": 5});
    assert_eq!(
        app.post_json("/group/match", &again).await.status(),
        StatusCode::OK,
        "a room she is in"
    );
    let groups = app
        .store()
        .groups
        .count_documents(mongodb::bson::doc! {})
        .await
        .unwrap();
    assert_eq!(groups, 20);
}
