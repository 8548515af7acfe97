//! Blocks and the presence setting: `/user/{up}/blocked`,
//! `/user/{up}/presence`, what they refuse in direct groups, and what the
//! presence routes tell of a user who blocked someone or hides.

use crate::helpers::{TestApp, expect_error, parse, spawn_app};
use chat_wire::cluster::{GroupPresence, NodeRemoval, PresenceChanges};
use chat_wire::model::{Group, Message};
use chat_wire::privacy::{BlockedList, MAX_BLOCKED, Visibility};
use mongodb::bson::doc;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn block(app: &TestApp, up: &str, other: &str) -> Vec<String> {
    let path = format!("/user/{up}/blocked/{other}");
    let list: BlockedList = parse(app.put_json(&path, &json!({})).await, StatusCode::OK).await;
    list.items.iter().map(|u| u.to_string()).collect()
}

async fn unblock(app: &TestApp, up: &str, other: &str) -> Vec<String> {
    let path = format!("/user/{up}/blocked/{other}");
    let list: BlockedList = parse(app.delete(&path).await, StatusCode::OK).await;
    list.items.iter().map(|u| u.to_string()).collect()
}

async fn blocked(app: &TestApp, up: &str) -> Vec<String> {
    let path = format!("/user/{up}/blocked");
    let list: BlockedList = parse(app.get(&path).await, StatusCode::OK).await;
    list.items.iter().map(|u| u.to_string()).collect()
}

async fn set_visible(app: &TestApp, up: &str, visible: bool) -> Visibility {
    let path = format!("/user/{up}/presence");
    parse(
        app.put_json(&path, &json!({"visible": visible})).await,
        StatusCode::OK,
    )
    .await
}

async fn read(app: &TestApp) -> Visibility {
    parse(app.get("/user/ana/presence").await, StatusCode::OK).await
}

async fn direct(app: &TestApp, a: &str, b: &str) -> reqwest::Response {
    app.post_json("/group/direct", &json!({"users": [a, b]}))
        .await
}

async fn presence(app: &TestApp, group: &Group, viewer: Option<&str>) -> GroupPresence {
    let query = viewer.map(|v| format!("?viewer={v}")).unwrap_or_default();
    let path = format!("/group/{}/presence{query}", group.id);
    parse(app.get(&path).await, StatusCode::OK).await
}

fn names(ups: &[chat_wire::ids::Up]) -> Vec<&str> {
    ups.iter().map(|u| u.as_str()).collect()
}

#[tokio::test]
async fn blocking_is_idempotent_ordered_and_undone_by_unblocking() {
    let app = spawn_app().await;
    assert!(blocked(&app, "ana").await.is_empty(), "a user never seen");
    assert_eq!(block(&app, "ana", "bea").await, ["bea"]);
    assert_eq!(block(&app, "ana", "cid").await, ["bea", "cid"]);
    assert_eq!(
        block(&app, "ana", "bea").await,
        ["bea", "cid"],
        "twice is once"
    );
    assert_eq!(blocked(&app, "ana").await, ["bea", "cid"]);
    assert!(blocked(&app, "bea").await.is_empty(), "blocks go one way");
    let user: Value = parse(app.get("/user/ana").await, StatusCode::OK).await;
    assert_eq!(user["up"], "ana", "blocking created the user");
    assert!(
        user.get("blocked").is_none(),
        "a user's answer does not list blocks"
    );

    assert_eq!(unblock(&app, "ana", "bea").await, ["cid"]);
    assert_eq!(unblock(&app, "ana", "bea").await, ["cid"], "twice is once");
    assert!(unblock(&app, "nobody", "bea").await.is_empty());
    assert_eq!(blocked(&app, "ana").await, ["cid"]);
}

#[tokio::test]
async fn bad_block_requests_are_refused() {
    let app = spawn_app().await;
    for (method, path) in [
        (Method::PUT, "/user/ana/blocked/ana"),
        (Method::DELETE, "/user/ana/blocked/ana"),
        (Method::PUT, "/user/ana/blocked/a%20b"),
        (Method::PUT, "/user/a%2Fb/blocked/bea"),
        (Method::GET, "/user/a%20b/blocked"),
        (Method::GET, "/user/a%20b/presence"),
    ] {
        let response = crate::helpers::send(app.authed(method.clone(), path)).await;
        expect_error(response, 400, "invalid_argument").await;
    }
    for body in [
        json!({}),
        json!({"visible": "no"}),
        json!({"visible": true, "up": "ana"}),
    ] {
        let response = app.put_json("/user/ana/presence", &body).await;
        expect_error(response, 400, "invalid_argument").await;
    }
    let response = crate::helpers::send(app.raw(Method::PUT, "/user/ana/blocked/bea")).await;
    expect_error(response, 401, "unauthenticated").await;
    assert!(blocked(&app, "ana").await.is_empty(), "nothing was stored");
}

#[tokio::test]
async fn a_user_blocks_at_most_the_cap_and_then_is_told_so() {
    let app = spawn_app().await;
    let full: Vec<String> = (0..MAX_BLOCKED).map(|i| format!("u{i}")).collect();
    app.store()
        .users
        .clone_with_type::<mongodb::bson::Document>()
        .insert_one(
            doc! {"_id": "ana", "username": "ana", "name": "", "online": false, "blocked": &full},
        )
        .await
        .unwrap();
    let message = expect_error(
        app.put_json("/user/ana/blocked/one-more", &json!({})).await,
        429,
        "rate_limited",
    )
    .await;
    assert!(message.contains("unblock one first"), "{message}");
    assert_eq!(
        block(&app, "ana", "u7").await.len(),
        MAX_BLOCKED,
        "blocking one already blocked is still fine at the cap"
    );
    unblock(&app, "ana", "u7").await;
    let after = block(&app, "ana", "one-more").await;
    assert_eq!(after.len(), MAX_BLOCKED);
    assert_eq!(after.last().map(String::as_str), Some("one-more"));
}

#[tokio::test]
async fn a_blocked_direct_conversation_cannot_be_opened_or_continued_until_unblocked() {
    let app = spawn_app().await;
    let group: Group = parse(direct(&app, "ana", "bea").await, StatusCode::CREATED).await;
    let room = group.id.to_string();
    let first = app.send(&room, "bea", "hi ana", None).await;
    block(&app, "ana", "bea").await;

    // The blocked user: the group, a message, a retry with a nonce, an
    // edit and a reaction are refused, and the message says nothing of why.
    let refused = expect_error(direct(&app, "bea", "ana").await, 403, "permission_denied").await;
    assert!(!refused.contains("block"), "{refused}");
    for nonce in [None, Some("n-1"), Some("n-1")] {
        let response = app.post_message(&room, "bea", "hello?", nonce).await;
        let refused = expect_error(response, 403, "permission_denied").await;
        assert!(!refused.contains("block"), "{refused}");
    }
    let edit = json!({"from": "bea", "message": "changed"});
    let path = format!("/message/{}", first.id);
    expect_error(app.patch_json(&path, &edit).await, 403, "permission_denied").await;
    let react = json!({"up": "bea", "emoji": "👍"});
    let path = format!("/message/{}/reactions", first.id);
    expect_error(app.post_json(&path, &react).await, 403, "permission_denied").await;

    // The blocker cannot write either, and is told why.
    let refused = expect_error(direct(&app, "ana", "bea").await, 403, "permission_denied").await;
    assert!(refused.contains("unblock"), "{refused}");
    let response = app.post_message(&room, "ana", "and you?", None).await;
    let refused = expect_error(response, 403, "permission_denied").await;
    assert!(refused.contains("unblock"), "{refused}");
    assert_eq!(app.messages(&room, "").await.total, 1, "nothing was stored");

    // A new conversation with a blocked user is not created either.
    block(&app, "cid", "ana").await;
    expect_error(direct(&app, "ana", "cid").await, 403, "permission_denied").await;
    assert_eq!(app.groups_of("cid").await.total, 0);

    // Read markers still move, for both, but are marked not to be relayed.
    for up in ["ana", "bea"] {
        let body = json!({"up": up, "messageId": first.id});
        let read: Value = parse(
            app.post_json(&format!("/group/{room}/read"), &body).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(read["quiet"], true, "{read}");
        assert_eq!(read["unread"], 0);
    }

    // Deleting one's own message still works.
    let deleted: Message = parse(
        app.delete(&format!("/message/{}?from=bea", first.id)).await,
        StatusCode::OK,
    )
    .await;
    assert!(deleted.deleted);

    unblock(&app, "ana", "bea").await;
    let again: Group = parse(direct(&app, "bea", "ana").await, StatusCode::OK).await;
    assert_eq!(again.id, group.id);
    app.send(&room, "bea", "back", Some("n-1")).await;
    let welcome = app.send(&room, "ana", "welcome back", None).await;
    assert_eq!(app.messages(&room, "").await.total, 3);
    let body = json!({"up": "bea", "messageId": welcome.id});
    let read: Value = parse(
        app.post_json(&format!("/group/{room}/read"), &body).await,
        StatusCode::OK,
    )
    .await;
    assert!(read.get("quiet").is_none(), "{read}");
}

#[tokio::test]
async fn blocks_apply_to_direct_groups_only() {
    let app = spawn_app().await;
    let group = app.create_group("course", &["ana", "bea"], &[]).await;
    block(&app, "ana", "bea").await;
    let sent = app
        .send(&group.id.to_string(), "bea", "in the group", None)
        .await;
    let react = json!({"up": "bea", "emoji": "👍"});
    let path = format!("/message/{}/reactions", sent.id);
    let _: Message = parse(app.post_json(&path, &react).await, StatusCode::OK).await;
}

#[tokio::test]
async fn the_presence_setting_is_stored_and_says_when_it_changed() {
    let app = spawn_app().await;
    assert_eq!(
        read(&app).await,
        Visibility {
            visible: true,
            changed: false
        }
    );
    assert!(set_visible(&app, "ana", false).await.changed);
    assert!(
        !set_visible(&app, "ana", false).await.changed,
        "twice is once"
    );
    assert!(!read(&app).await.visible);
    assert!(set_visible(&app, "ana", true).await.changed);
    assert!(read(&app).await.visible);
    assert!(
        !set_visible(&app, "bea", true).await.changed,
        "visible by default"
    );
}

#[tokio::test]
async fn a_transition_says_who_may_hear_of_it() {
    let app = spawn_app().await;
    block(&app, "ana", "bea").await;
    block(&app, "ana", "cid").await;
    let changes: PresenceChanges = parse(
        app.post_json("/node/n1/users", &json!({"joined": ["ana", "bea"]}))
            .await,
        StatusCode::OK,
    )
    .await;
    let ana = &changes.items[0];
    assert!(ana.changed && !ana.audience.hidden);
    assert_eq!(names(&ana.audience.hidden_from), ["bea", "cid"]);
    let bea = &changes.items[1];
    assert!(bea.audience.hidden_from.is_empty() && !bea.audience.hidden);
    let raw: Value = parse(
        app.post_json("/node/n2/users", &json!({"joined": ["bea"]}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        raw["items"][0],
        json!({"up": "bea", "online": true, "changed": false}),
        "nothing more when there is nothing to hide"
    );

    set_visible(&app, "ana", false).await;
    let changes: PresenceChanges = parse(
        app.post_json("/node/n1/users", &json!({"left": ["ana"]}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(changes.items[0].changed && changes.items[0].audience.hidden);

    // A node that goes takes its users offline with the same news.
    app.post_json("/node/n1/users", &json!({"joined": ["ana"]}))
        .await;
    let removal: NodeRemoval = parse(app.delete("/node/n1").await, StatusCode::OK).await;
    let ana = removal
        .offline
        .iter()
        .find(|u| u.up.as_str() == "ana")
        .unwrap();
    assert!(ana.audience.hidden);
    assert_eq!(names(&ana.audience.hidden_from), ["bea", "cid"]);
}

#[tokio::test]
async fn a_group_shows_each_viewer_only_whom_they_may_see_and_gates_on_what_all_may() {
    let app = spawn_app().await;
    let group = app
        .create_group("g", &["ana", "bea", "cid", "dan"], &[])
        .await;
    let beat = json!({"url": "http://x", "draining": false, "connections": 1});
    app.put_json("/node/n1", &beat).await;
    app.post_json(
        "/node/n1/users",
        &json!({"joined": ["ana", "bea", "cid", "dan"]}),
    )
    .await;
    let everyone = presence(&app, &group, None).await;
    assert_eq!(names(&everyone.online), ["ana", "bea", "cid", "dan"]);
    assert_eq!(
        names(&everyone.visible_online),
        ["ana", "bea", "cid", "dan"]
    );

    block(&app, "ana", "bea").await;
    block(&app, "dan", "outsider").await;
    set_visible(&app, "cid", false).await;
    let all = presence(&app, &group, None).await;
    assert_eq!(
        names(&all.online),
        ["ana", "bea", "cid", "dan"],
        "without a viewer: everyone online (offline notifications)"
    );
    assert_eq!(
        names(&all.visible_online),
        ["bea", "dan"],
        "neither a hidden member nor one who blocked a member counts for the gate; a block of an outsider does not matter"
    );
    let for_bea = presence(&app, &group, Some("bea")).await;
    assert_eq!(
        names(&for_bea.online),
        ["bea", "dan"],
        "ana blocked bea; cid hides"
    );
    assert_eq!(for_bea.visible_online, all.visible_online);
    let for_cid = presence(&app, &group, Some("cid")).await;
    assert_eq!(
        names(&for_cid.online),
        ["ana", "bea", "cid", "dan"],
        "cid sees themselves"
    );
    let for_ana = presence(&app, &group, Some("ana")).await;
    assert_eq!(names(&for_ana.online), ["ana", "bea", "dan"]);

    unblock(&app, "ana", "bea").await;
    set_visible(&app, "cid", true).await;
    let for_bea = presence(&app, &group, Some("bea")).await;
    assert_eq!(names(&for_bea.online), ["ana", "bea", "cid", "dan"]);
    assert_eq!(names(&for_bea.visible_online), ["ana", "bea", "cid", "dan"]);
    expect_error(
        app.get(&format!("/group/{}/presence?viewer=a%20b", group.id))
            .await,
        400,
        "invalid_argument",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn blocks_land_while_the_user_document_changes_under_them() {
    let app = spawn_app().await;
    app.post_json("/node/n1/users", &json!({"joined": ["ana"]}))
        .await;
    let flapping = async {
        for i in 0..40 {
            let body = match i % 2 {
                0 => json!({"left": ["ana"]}),
                _ => json!({"joined": ["ana"]}),
            };
            app.post_json("/node/n1/users", &body).await;
        }
    };
    let blocking = async {
        for i in 0..40 {
            block(&app, "ana", &format!("u{i}")).await;
        }
    };
    tokio::join!(flapping, blocking);
    assert_eq!(blocked(&app, "ana").await.len(), 40);
}
