//! `/group`: create, read and list groups, and what creating refuses.

use crate::helpers::{expect_error, parse, spawn_app, unknown_id};
use chat_wire::cluster::{GroupIds, GroupIdsOfUsers};
use chat_wire::model::{Group, GroupKind};
use chat_wire::paging::Page;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn creating_a_group_returns_201_with_the_group_and_admins_as_members() {
    let app = spawn_app().await;
    let response = app
        .post_json(
            "/group",
            &json!({"name": "  LEIC 2022  ", "users": ["up1", "up2", "up1"], "admins": ["boss"],
                    "open": true, "historyMinOnline": 2}),
        )
        .await;
    let body: Value = parse(response, StatusCode::CREATED).await;
    assert_eq!(body["name"], "LEIC 2022");
    assert_eq!(body["kind"], "group");
    assert_eq!(body["users"], json!(["up1", "up2", "boss"]));
    assert_eq!(body["admins"], json!(["boss"]));
    assert_eq!(body["open"], true);
    assert_eq!(body["historyMinOnline"], 2);
    let id = body["id"].as_str().unwrap();
    assert_eq!(id.len(), 24);
    assert!(
        id.chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    );
    let created_at = body["createdAt"].as_str().unwrap();
    assert!(
        created_at.ends_with('Z') && created_at.len() == "2022-06-13T12:15:43.333Z".len(),
        "RFC 3339 UTC with milliseconds: {created_at}"
    );

    let fetched: Value = parse(app.get(&format!("/group/{id}")).await, StatusCode::OK).await;
    assert_eq!(fetched, body);
}

#[tokio::test]
async fn a_new_group_is_closed_with_no_admins_and_no_history_gate_by_default() {
    let app = spawn_app().await;
    let group = app.create_group("plain", &["up1"], &[]).await;
    assert_eq!(group.kind, GroupKind::Group);
    assert!(group.admins.is_empty());
    assert!(!group.open);
    assert_eq!(group.history_min_online, 0);
}

#[tokio::test]
async fn listing_groups_pages_them_oldest_first() {
    let app = spawn_app().await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(app.create_group(&format!("g{i}"), &["up1"], &[]).await.id);
    }
    let page: Page<Group> = parse(app.get("/group?page=1&perPage=2").await, StatusCode::OK).await;
    let names: Vec<_> = page.items.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["g2", "g3"]);
    assert_eq!(
        (page.page, page.per_page, page.total, page.has_more),
        (1, 2, 5, true)
    );

    let last: Page<Group> = parse(app.get("/group?page=2&perPage=2").await, StatusCode::OK).await;
    assert_eq!(last.items.len(), 1);
    assert_eq!(last.items[0].id, created[4]);
    assert!(!last.has_more);

    let all: Page<Group> = parse(app.get("/group").await, StatusCode::OK).await;
    assert_eq!((all.page, all.per_page, all.total), (0, 20, 5));
    assert_eq!(
        all.items.iter().map(|g| g.id.clone()).collect::<Vec<_>>(),
        created
    );
}

#[tokio::test]
async fn group_routes_accept_a_trailing_slash() {
    let app = spawn_app().await;
    let response = app
        .post_json("/group/", &json!({"name": "slash", "users": ["up1"]}))
        .await;
    let group: Group = parse(response, StatusCode::CREATED).await;

    let with: Page<Group> = parse(app.get("/group/").await, StatusCode::OK).await;
    let without: Page<Group> = parse(app.get("/group").await, StatusCode::OK).await;
    assert_eq!(with, without);
    assert_eq!(with.total, 1);

    let one: Group = parse(
        app.get(&format!("/group/{}/", group.id)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(one, group);
    let mine: Page<Group> = parse(app.get("/group/user/up1/").await, StatusCode::OK).await;
    assert_eq!(mine.total, 1);
    let joined: Group = parse(
        app.post_json(
            &format!("/group/{}/users/", group.id),
            &json!({"up": "up2"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(joined.users.iter().any(|u| u.as_str() == "up2"));
}

#[tokio::test]
async fn an_unknown_group_is_404_and_a_malformed_id_400() {
    let app = spawn_app().await;
    let message = expect_error(
        app.get(&format!("/group/{}", unknown_id())).await,
        404,
        "not_found",
    )
    .await;
    assert!(message.contains("not found"), "{message}");
    expect_error(app.get("/group/nothex").await, 400, "invalid_argument").await;
    expect_error(
        app.get("/group/65f0c0ffee0000000000abcz").await,
        400,
        "invalid_argument",
    )
    .await;
}

#[tokio::test]
async fn creating_a_group_with_a_bad_body_is_refused_and_stores_nothing() {
    let app = spawn_app().await;
    let cases = [
        json!({"users": ["up1"]}),
        json!({"name": "x"}),
        json!({"name": "   ", "users": ["up1"]}),
        json!({"name": "x", "users": []}),
        json!({"name": "x", "users": ["bad up"]}),
        json!({"name": "x", "users": ["up1"], "historyMinOnline": -1}),
        json!({"name": "x", "users": ["up1"], "colour": "red"}),
        json!({"name": "x".repeat(201), "users": ["up1"]}),
    ];
    for body in cases {
        let message = expect_error(
            app.post_json("/group", &body).await,
            400,
            "invalid_argument",
        )
        .await;
        assert!(!message.is_empty(), "{body}");
    }
    let page: Page<Group> = parse(app.get("/group").await, StatusCode::OK).await;
    assert_eq!(page.total, 0, "no failed create stored a group");
}

#[tokio::test]
async fn malformed_json_or_a_missing_content_type_is_400() {
    let app = spawn_app().await;
    let response = app
        .authed(Method::POST, "/group")
        .header("content-type", "application/json")
        .body("{\"name\": \"x\", \"users\": [")
        .send()
        .await
        .unwrap();
    let message = expect_error(response, 400, "invalid_argument").await;
    assert!(message.to_lowercase().contains("json"), "{message}");

    let response = app
        .authed(Method::POST, "/group")
        .body(r#"{"name": "x", "users": ["up1"]}"#)
        .send()
        .await
        .unwrap();
    expect_error(response, 400, "invalid_argument").await;
    let page: Page<Group> = parse(app.get("/group").await, StatusCode::OK).await;
    assert_eq!(page.total, 0);
}

#[tokio::test]
async fn a_match_group_holds_no_more_users_than_its_capacity() {
    let app = spawn_app().await;
    let too_many = json!({"name": "chess", "users": ["a", "b", "c"], "kind": "match", "topic": "chess", "capacity": 2});
    expect_error(
        app.post_json("/group", &too_many).await,
        400,
        "invalid_argument",
    )
    .await;
    let no_topic = json!({"name": "chess", "users": ["a"], "kind": "match", "capacity": 2});
    expect_error(
        app.post_json("/group", &no_topic).await,
        400,
        "invalid_argument",
    )
    .await;

    let fits = json!({"name": "chess", "users": ["a", "b"], "kind": "match", "topic": "chess", "capacity": 2});
    let group: Value = parse(app.post_json("/group", &fits).await, StatusCode::CREATED).await;
    assert_eq!(group["kind"], "match");
    assert_eq!(group["capacity"], 2);

    let third = json!({"up": "c", "topic": "chess", "capacity": 2});
    let other: Value = parse(
        app.post_json("/group/match", &third).await,
        StatusCode::CREATED,
    )
    .await;
    assert_ne!(other["id"], group["id"], "the full room is not joined");
    let again: Value = parse(app.post_json("/group/match", &third).await, StatusCode::OK).await;
    assert_eq!(
        again["id"], other["id"],
        "asking again returns the same room"
    );
    assert_eq!(again["users"], json!(["c"]));
}

#[tokio::test]
async fn the_ids_listing_names_every_group_of_the_user_oldest_first_and_no_other() {
    let app = spawn_app().await;
    let mut mine = Vec::new();
    for (name, users) in [
        ("a", json!(["up1", "up2"])),
        ("b", json!(["up2"])),
        ("c", json!(["up3", "up1"])),
    ] {
        let group: Group = parse(
            app.post_json("/group", &json!({"name": name, "users": users}))
                .await,
            StatusCode::CREATED,
        )
        .await;
        if name != "b" {
            mine.push(group.id);
        }
    }
    let listed: GroupIds = parse(app.get("/group/user/up1/ids").await, StatusCode::OK).await;
    assert_eq!(listed.ids, mine);
    let full: Page<Group> = parse(app.get("/group/user/up1").await, StatusCode::OK).await;
    let full_ids: Vec<_> = full.items.into_iter().map(|g| g.id).collect();
    assert_eq!(listed.ids, full_ids, "the same groups as the full listing");

    let nobody: GroupIds = parse(app.get("/group/user/up9/ids").await, StatusCode::OK).await;
    assert!(nobody.ids.is_empty());
    expect_error(
        app.get("/group/user/a%20b/ids").await,
        400,
        "invalid_argument",
    )
    .await;
}

#[tokio::test]
async fn the_ids_of_many_users_are_each_users_own_groups_in_the_order_asked() {
    let app = spawn_app().await;
    let mut created = Vec::new();
    for users in [json!(["up1", "up2"]), json!(["up2"]), json!(["up3", "up1"])] {
        let group: Group = parse(
            app.post_json("/group", &json!({"name": "g", "users": users}))
                .await,
            StatusCode::CREATED,
        )
        .await;
        created.push(group.id);
    }
    let asked = json!({"ups": ["up2", "up9", "up1", "up2"]});
    let answer: GroupIdsOfUsers =
        parse(app.post_json("/group/ids", &asked).await, StatusCode::OK).await;
    let listed: Vec<(String, Vec<_>)> = answer
        .items
        .into_iter()
        .map(|item| (item.up.to_string(), item.ids))
        .collect();
    let [a, b, c] = [&created[0], &created[1], &created[2]];
    assert_eq!(
        listed,
        vec![
            ("up2".to_owned(), vec![a.clone(), b.clone()]),
            ("up9".to_owned(), vec![]),
            ("up1".to_owned(), vec![a.clone(), c.clone()]),
            ("up2".to_owned(), vec![a.clone(), b.clone()]),
        ]
    );
    // The same as each user's own listing.
    let one: GroupIds = parse(app.get("/group/user/up1/ids").await, StatusCode::OK).await;
    assert_eq!(one.ids, vec![a.clone(), c.clone()]);

    for bad in [
        json!({"ups": []}),
        json!({"ups": ["a b"]}),
        json!({"ups": "up1"}),
        json!({"ups": ["up1"], "extra": 1}),
        json!({"ups": vec!["up1"; 1001]}),
    ] {
        expect_error(
            app.post_json("/group/ids", &bad).await,
            400,
            "invalid_argument",
        )
        .await;
    }
}
