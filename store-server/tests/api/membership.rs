//! Membership: joining, leaving, and the groups of a user.

use crate::helpers::{expect_error, parse, spawn_app, unknown_id};
use chat_wire::model::Group;
use chat_wire::paging::Page;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn joining_twice_keeps_one_membership() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1"], &[]).await;
    let path = format!("/group/{}/users", group.id);
    let first: Group = parse(
        app.post_json(&path, &json!({"up": "up2"})).await,
        StatusCode::OK,
    )
    .await;
    let second: Group = parse(
        app.post_json(&path, &json!({"up": "up2"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(first, second);
    let members: Vec<_> = second.users.iter().map(|u| u.as_str()).collect();
    assert_eq!(members, ["up1", "up2"]);
    let stored: Group = parse(
        app.get(&format!("/group/{}", group.id)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(stored, second);
}

#[tokio::test]
async fn joining_needs_a_known_group_and_a_valid_user() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1"], &[]).await;
    let path = format!("/group/{}/users", group.id);
    expect_error(
        app.post_json(&path, &json!({})).await,
        400,
        "invalid_argument",
    )
    .await;
    expect_error(
        app.post_json(&path, &json!({"up": "no spaces"})).await,
        400,
        "invalid_argument",
    )
    .await;
    expect_error(
        app.post_json(
            &format!("/group/{}/users", unknown_id()),
            &json!({"up": "up2"}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    expect_error(
        app.post_json("/group/nothex/users", &json!({"up": "up2"}))
            .await,
        400,
        "invalid_argument",
    )
    .await;
    let stored: Group = parse(
        app.get(&format!("/group/{}", group.id)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(stored, group, "failed joins changed nothing");
}

#[tokio::test]
async fn leaving_removes_the_user_from_members_and_admins() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1", "up2"], &["up2"]).await;
    let left: Group = parse(
        app.delete(&format!("/group/{}/users/up2", group.id)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        left.users.iter().map(|u| u.as_str()).collect::<Vec<_>>(),
        ["up1"]
    );
    assert!(left.admins.is_empty());
    let again: Group = parse(
        app.delete(&format!("/group/{}/users/up2/", group.id)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again, left, "leaving is idempotent");
    let theirs = app.groups_of("up2").await;
    assert_eq!(theirs.total, 0);
    assert!(theirs.items.is_empty());
}

#[tokio::test]
async fn leaving_needs_a_known_group_and_a_valid_user() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1"], &[]).await;
    expect_error(
        app.delete(&format!("/group/{}/users/bad%20up", group.id))
            .await,
        400,
        "invalid_argument",
    )
    .await;
    expect_error(
        app.delete(&format!("/group/{}/users/up1", unknown_id()))
            .await,
        404,
        "not_found",
    )
    .await;
    expect_error(
        app.delete("/group/nothex/users/up1").await,
        400,
        "invalid_argument",
    )
    .await;
    let stored: Group = parse(
        app.get(&format!("/group/{}", group.id)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(stored, group);
}

#[tokio::test]
async fn a_member_who_left_can_no_longer_post() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1", "up2"], &[]).await;
    let group_id = group.id.to_string();
    app.send(&group_id, "up2", "still here", None).await;
    app.delete(&format!("/group/{group_id}/users/up2")).await;
    let before = app.snapshot(&group_id).await;
    expect_error(
        app.post_message(&group_id, "up2", "am I still here?", None)
            .await,
        403,
        "permission_denied",
    )
    .await;
    assert_eq!(app.snapshot(&group_id).await, before);
}

#[tokio::test]
async fn the_groups_of_a_user_are_only_theirs_paged_oldest_first() {
    let app = spawn_app().await;
    let a = app.create_group("a", &["up1", "up2"], &[]).await;
    app.create_group("b", &["up2"], &[]).await;
    let c = app.create_group("c", &["up3"], &["up1"]).await;
    let mine = app.groups_of("up1").await;
    assert_eq!(mine.total, 2);
    assert_eq!(
        mine.items.iter().map(|g| g.id.clone()).collect::<Vec<_>>(),
        [a.id, c.id]
    );
    assert!(mine.items.iter().all(|g| g.unread == Some(0)));

    let page: Page<Group> = parse(
        app.get("/group/user/up1?page=1&perPage=1").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (page.page, page.per_page, page.total, page.has_more),
        (1, 1, 2, false)
    );
    assert_eq!(page.items[0].name, "c");

    let nobody = app.groups_of("nobody").await;
    assert_eq!((nobody.total, nobody.items.len()), (0, 0));
    expect_error(
        app.get("/group/user/bad%20up").await,
        400,
        "invalid_argument",
    )
    .await;
}
