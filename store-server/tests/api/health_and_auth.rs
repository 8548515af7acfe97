//! The service token on every data route, the open operational routes, the
//! OpenAPI document and the metrics.

use crate::helpers::{TestApp, expect_error, parse, send, spawn_app, unknown_id};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Every data route of docs/store-api.md, with a body that would be valid,
/// in an order in which each succeeds with the token.
fn data_routes(group: &str, message: &str) -> Vec<(Method, String, Option<Value>)> {
    let body = |v: Value| Some(v);
    vec![
        (Method::GET, "/group".into(), None),
        (
            Method::POST,
            "/group".into(),
            body(json!({"name": "x", "users": ["up1"]})),
        ),
        (Method::GET, format!("/group/{group}"), None),
        (
            Method::GET,
            format!("/group/messages?groupID={group}"),
            None,
        ),
        (Method::GET, "/group/user/up1".into(), None),
        (Method::GET, "/group/user/up1/ids".into(), None),
        (
            Method::POST,
            "/group/ids".into(),
            body(json!({"ups": ["up1"]})),
        ),
        (
            Method::POST,
            format!("/group/{group}/users"),
            body(json!({"up": "up9"})),
        ),
        (
            Method::POST,
            "/group/direct".into(),
            body(json!({"users": ["up1", "up2"]})),
        ),
        (
            Method::POST,
            format!("/group/{group}/read"),
            body(json!({"up": "up1", "messageId": message})),
        ),
        (
            Method::GET,
            format!("/group/{group}/changes?since=2020-01-01T00:00:00Z"),
            None,
        ),
        (Method::GET, "/message".into(), None),
        (
            Method::POST,
            "/message".into(),
            body(json!({"group": group, "from": "up1", "message": "x"})),
        ),
        (Method::GET, format!("/message/{message}"), None),
        (
            Method::PATCH,
            format!("/message/{message}"),
            body(json!({"from": "up1", "message": "y"})),
        ),
        (
            Method::POST,
            format!("/message/{message}/reactions"),
            body(json!({"up": "up1", "emoji": "+1"})),
        ),
        (
            Method::DELETE,
            format!("/message/{message}/reactions/+1/up1"),
            None,
        ),
        (Method::GET, "/user".into(), None),
        (
            Method::POST,
            "/user/up1".into(),
            body(json!({"online": true})),
        ),
        (Method::GET, "/user/up1".into(), None),
        // Last, so that the routes above still find the message and the member.
        (Method::DELETE, format!("/message/{message}?from=up1"), None),
        (Method::DELETE, format!("/group/{group}/users/up1"), None),
    ]
}

async fn call(
    app: &TestApp,
    method: &Method,
    path: &str,
    body: &Option<Value>,
    auth: Option<&str>,
) -> reqwest::Response {
    let mut request = app.raw(method.clone(), path);
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    send(request).await
}

#[tokio::test]
async fn every_data_route_without_a_token_is_401_and_changes_nothing() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1", "up2"], &[]).await;
    let gid = group.id.to_string();
    let message = app.send(&gid, "up1", "hi", None).await;
    let before = app.snapshot(&gid).await;
    for (method, path, body) in data_routes(&gid, message.id.as_str()) {
        let response = call(&app, &method, &path, &body, None).await;
        let text = expect_error(response, 401, "unauthenticated").await;
        assert!(
            !text.contains(crate::helpers::TOKEN),
            "{method} {path}: {text}"
        );
    }
    assert_eq!(app.snapshot(&gid).await, before);
}

#[tokio::test]
async fn every_data_route_with_a_wrong_token_is_401() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1", "up2"], &[]).await;
    let gid = group.id.to_string();
    let message = app.send(&gid, "up1", "hi", None).await;
    let before = app.snapshot(&gid).await;
    let token = crate::helpers::TOKEN;
    let wrong = [
        "Bearer wrong-token".to_owned(),
        format!("Bearer {token}x"),
        format!("Bearer {}", &token[..token.len() - 1]),
        format!("Basic {token}"),
        token.to_owned(),
        "Bearer ".to_owned(),
    ];
    for (method, path, body) in data_routes(&gid, message.id.as_str()) {
        for auth in &wrong {
            let response = call(&app, &method, &path, &body, Some(auth)).await;
            let text = expect_error(response, 401, "unauthenticated").await;
            assert!(!text.contains(token), "{method} {path}: {text}");
        }
    }
    assert_eq!(app.snapshot(&gid).await, before);
}

#[tokio::test]
async fn every_data_route_answers_with_the_token() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1", "up2"], &[]).await;
    let gid = group.id.to_string();
    let message = app.send(&gid, "up1", "hi", None).await;
    for (method, path, body) in data_routes(&gid, message.id.as_str()) {
        let auth = format!("Bearer {}", crate::helpers::TOKEN);
        let response = call(&app, &method, &path, &body, Some(&auth)).await;
        assert!(
            response.status().is_success(),
            "{method} {path} answered {}: {}",
            response.status(),
            response.text().await.unwrap()
        );
    }
}

#[tokio::test]
async fn the_operational_routes_are_open_without_a_token() {
    let app = spawn_app().await;
    let health: Value = parse(app.get_without_token("/healthz").await, StatusCode::OK).await;
    assert_eq!(health["status"], "ok");
    let ready: Value = parse(app.get_without_token("/readyz").await, StatusCode::OK).await;
    assert_eq!(ready["status"], "ready");
    let metrics = app.get_without_token("/metrics").await;
    assert_eq!(metrics.status(), StatusCode::OK);
    let content_type = metrics.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let openapi = app.get_without_token("/api-docs/openapi.json").await;
    assert_eq!(openapi.status(), StatusCode::OK);
    let _: Value = openapi.json().await.unwrap();
    let docs = app.get_without_token("/docs/").await;
    assert_eq!(docs.status(), StatusCode::OK);
    // And with a trailing slash where they have none.
    assert_eq!(
        app.get_without_token("/healthz/").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn docs_redirects_to_the_swagger_ui_page() {
    let app = spawn_app().await;
    let response = app.get_without_token("/docs").await;
    assert!(response.status().is_redirection(), "{}", response.status());
    let location = response.headers()["location"].to_str().unwrap();
    assert!(
        location == "/docs/" || location.ends_with("/docs/"),
        "{location}"
    );

    let page = app.get_without_token("/docs/").await;
    assert_eq!(page.status(), StatusCode::OK);
    let content_type = page.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let html = page.text().await.unwrap();
    assert!(html.to_lowercase().contains("swagger"), "{html}");
}

#[tokio::test]
async fn the_openapi_document_lists_every_data_route() {
    let app = spawn_app().await;
    let doc: Value = parse(
        app.get_without_token("/api-docs/openapi.json").await,
        StatusCode::OK,
    )
    .await;
    let expected = [
        ("/group", "get"),
        ("/group", "post"),
        ("/group/{id}", "get"),
        ("/group/messages", "get"),
        ("/group/user/{up}", "get"),
        ("/group/user/{up}/ids", "get"),
        ("/group/ids", "post"),
        ("/group/{id}/users", "post"),
        ("/group/{id}/users/{up}", "delete"),
        ("/group/direct", "post"),
        ("/group/{id}/read", "post"),
        ("/group/{id}/changes", "get"),
        ("/message", "get"),
        ("/message", "post"),
        ("/message/{id}", "get"),
        ("/message/{id}", "patch"),
        ("/message/{id}", "delete"),
        ("/message/{id}/reactions", "post"),
        ("/message/{id}/reactions/{emoji}/{up}", "delete"),
        ("/user", "get"),
        ("/user/{up}", "get"),
        ("/user/{up}", "post"),
    ];
    for (path, method) in expected {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is missing from the OpenAPI document"
        );
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["service_token"]["scheme"], "bearer", "{schemes}");
}

#[tokio::test]
async fn metrics_count_requests_by_route_pattern() {
    let app = spawn_app().await;
    let group = app.create_group("club", &["up1"], &[]).await;
    app.get("/group").await;
    app.get("/group/").await;
    app.get(&format!("/group/{}", group.id)).await;
    app.get(&format!("/group/{}", unknown_id())).await;
    let text = app
        .get_without_token("/metrics")
        .await
        .text()
        .await
        .unwrap();
    let line = |route: &str, method: &str, status: &str| {
        text.lines()
            .find(|l| {
                l.starts_with("store_http_requests_total{")
                    && l.contains(&format!("route=\"{route}\""))
                    && l.contains(&format!("method=\"{method}\""))
                    && l.contains(&format!("status=\"{status}\""))
            })
            .unwrap_or_else(|| panic!("no {method} {route} {status} counter in:\n{text}"))
            .to_owned()
    };
    let count = |l: String| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap();
    assert_eq!(count(line("/group", "GET", "200")), 2.0);
    assert_eq!(count(line("/group", "POST", "201")), 1.0);
    assert_eq!(count(line("/group/{id}", "GET", "200")), 1.0);
    assert_eq!(count(line("/group/{id}", "GET", "404")), 1.0);
    assert!(
        !text.contains(group.id.as_str()),
        "raw ids never become labels"
    );
    assert!(
        text.contains("store_http_request_duration_seconds"),
        "{text}"
    );
}

#[tokio::test]
async fn an_unknown_route_is_404_with_the_error_body() {
    let app = spawn_app().await;
    expect_error(app.get("/nothing/here").await, 404, "not_found").await;
}
