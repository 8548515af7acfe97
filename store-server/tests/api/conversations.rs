//! Replies (the quote and how it follows its original), mentions (who a
//! message names, and the unread mentions per group) and the names of the
//! users who share a group with someone.

use crate::helpers::{expect_error, parse, spawn_app};
use chat_wire::model::Message;
use chat_wire::names::UserNames;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn reply(
    app: &crate::helpers::TestApp,
    group: &str,
    from: &str,
    text: &str,
    to: &str,
) -> Message {
    let response = app
        .post_json(
            "/message",
            &json!({"group": group, "from": from, "message": text, "replyTo": to}),
        )
        .await;
    parse(response, StatusCode::CREATED).await
}

#[tokio::test]
async fn a_reply_quotes_its_original_and_the_quote_follows_an_edit_and_a_delete() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1", "up2"], &[]).await;
    let group = group.id.as_str();
    let original = app
        .send(group, "up1", &format!("{} end", "x".repeat(200)), None)
        .await;
    let answer = reply(&app, group, "up2", "agreed", original.id.as_str()).await;
    let quote = answer
        .reply_to
        .clone()
        .expect("the reply quotes its original");
    assert_eq!(quote.id, original.id);
    assert_eq!(quote.from.as_str(), "up1");
    assert_eq!(
        quote.snippet,
        "x".repeat(120),
        "the snippet is the text's first 120 characters"
    );
    assert!(!quote.deleted);

    let path = format!("/message/{}", original.id);
    parse::<Value>(
        app.patch_json(&path, &json!({"from": "up1", "message": "changed my mind"}))
            .await,
        StatusCode::OK,
    )
    .await;
    let after_edit: Message = parse(
        app.get(&format!("/message/{}", answer.id)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        after_edit.reply_to.as_ref().unwrap().snippet,
        "changed my mind"
    );
    assert!(
        after_edit.changed_at.is_some(),
        "the reply is marked changed, for `sync`"
    );
    let changes: Value = parse(
        app.get(&format!(
            "/group/{group}/changes?since=2000-01-01T00:00:00Z"
        ))
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        changes["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == answer.id.as_str()),
        "the reply is among the group's changes: {changes}"
    );

    parse::<Value>(
        app.delete(&format!("{path}?from=up1")).await,
        StatusCode::OK,
    )
    .await;
    let after_delete: Message = parse(
        app.get(&format!("/message/{}", answer.id)).await,
        StatusCode::OK,
    )
    .await;
    let quote = after_delete.reply_to.unwrap();
    assert!(quote.deleted);
    assert_eq!(
        quote.snippet, "",
        "nothing of a deleted message stays in its quotes"
    );
}

#[tokio::test]
async fn a_reply_to_a_message_of_another_group_a_deleted_or_an_unknown_one_is_refused() {
    let app = spawn_app().await;
    let club = app.create_group("club", &["up1", "up2"], &[]).await;
    let other = app.create_group("other", &["up1"], &[]).await;
    let elsewhere = app.send(other.id.as_str(), "up1", "not here", None).await;
    let gone = app.send(club.id.as_str(), "up1", "soon gone", None).await;
    parse::<Value>(
        app.delete(&format!("/message/{}?from=up1", gone.id)).await,
        StatusCode::OK,
    )
    .await;
    let before = app.snapshot(club.id.as_str()).await;
    let send = |to: String| {
        let body = json!({"group": club.id, "from": "up2", "message": "re", "replyTo": to});
        let app = &app;
        async move { app.post_json("/message", &body).await }
    };
    expect_error(
        send(elsewhere.id.to_string()).await,
        400,
        "invalid_argument",
    )
    .await;
    expect_error(send(gone.id.to_string()).await, 400, "invalid_argument").await;
    expect_error(
        send("65f0c0ffee0000000000abcd".into()).await,
        404,
        "not_found",
    )
    .await;
    expect_error(send("nope".into()).await, 400, "invalid_argument").await;
    // A non-member learns nothing of the group's messages, not even that
    // one was deleted.
    let outsider = json!({"group": club.id, "from": "up9", "message": "re", "replyTo": gone.id});
    expect_error(
        app.post_json("/message", &outsider).await,
        403,
        "permission_denied",
    )
    .await;
    assert_eq!(
        app.snapshot(club.id.as_str()).await,
        before,
        "nothing was stored"
    );
}

#[tokio::test]
async fn members_named_in_a_message_are_its_mentions_and_count_as_unread_mentions() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1", "up2", "up3"], &[]).await;
    let id = group.id.as_str();
    let named = app
        .send(
            id,
            "up1",
            "@up2 and @up9 (not a member), and @up2 again, cc @up3.",
            None,
        )
        .await;
    let names: Vec<&str> = named.mentions.iter().map(|up| up.as_str()).collect();
    assert_eq!(names, ["up2", "up3"]);
    app.send(id, "up1", "hey @up2", None).await;
    app.send(id, "up1", "nothing for anyone", None).await;

    let mentions_of = |up: &'static str| {
        let app = &app;
        async move {
            let groups = app.groups_of(up).await;
            groups
                .items
                .iter()
                .find(|g| g.id.as_str() == id)
                .unwrap()
                .mentions
        }
    };
    assert_eq!(
        mentions_of("up2").await,
        Some(2),
        "two unread messages name up2"
    );
    assert_eq!(mentions_of("up3").await, Some(1));
    assert_eq!(mentions_of("up1").await, Some(0));

    // Reading past the first leaves one; an edit that drops the mention
    // leaves none.
    let read: Value = parse(
        app.post_json(
            &format!("/group/{id}/read"),
            &json!({"up": "up2", "messageId": named.id}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(read["mentions"], 1, "{read}");
    let page = app.messages(id, "perPage=10").await;
    let second = page.items.iter().find(|m| m.message == "hey @up2").unwrap();
    let edited: Message = parse(
        app.patch_json(
            &format!("/message/{}", second.id),
            &json!({"from": "up1", "message": "hey all"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(edited.mentions.is_empty());
    assert_eq!(mentions_of("up2").await, Some(0));
}

#[tokio::test]
async fn names_are_given_only_for_users_who_share_a_group() {
    let app = spawn_app().await;
    app.create_group("club", &["up1", "up2"], &[]).await;
    app.create_group("elsewhere", &["up3", "up4"], &[]).await;
    for (up, name) in [("up1", "Ana"), ("up2", "Bruno"), ("up3", "Carla")] {
        app.post_json(&format!("/user/{up}"), &json!({"name": name}))
            .await;
    }
    let names: UserNames = parse(
        app.get("/user/up1/names?ups=up2,up3,up1,up2,up4").await,
        StatusCode::OK,
    )
    .await;
    let pairs: Vec<(&str, &str)> = names
        .items
        .iter()
        .map(|u| (u.up.as_str(), u.name.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [("up2", "Bruno"), ("up1", "Ana")],
        "up3 and up4 share no group with up1"
    );

    let many: Vec<String> = (0..101).map(|i| format!("up{i}")).collect();
    expect_error(
        app.get(&format!("/user/up1/names?ups={}", many.join(",")))
            .await,
        400,
        "invalid_argument",
    )
    .await;
    expect_error(
        app.get("/user/up1/names?ups=").await,
        400,
        "invalid_argument",
    )
    .await;
    expect_error(
        app.get("/user/up1/names?ups=up2,bad%20id").await,
        400,
        "invalid_argument",
    )
    .await;
}
