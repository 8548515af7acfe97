//! The HTTP surface: data routes behind the service token, and the open
//! operational routes (`/healthz`, `/readyz`, `/metrics`, `/docs`,
//! `/api-docs/openapi.json`). The OpenAPI document is generated from the
//! handlers themselves.

pub mod attachments;
mod blocks;
mod changes;
mod groups;
mod health;
pub mod input;
mod messages;
mod nodes;
pub mod origin;
mod presence;
mod queues;
mod retention;
mod search;
mod users;

use crate::auth::{ServiceToken, require_service_token};
use crate::state::AppState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router, middleware};
use prometheus_client::registry::Registry;
use serde::Serialize;
use service_kit::docs::{BearerScheme, with_operational_routes};
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// The Swagger tag of the data routes.
pub const DATA_TAG: &str = "store";

/// The bearer scheme the document declares.
const SERVICE_TOKEN: BearerScheme = BearerScheme {
    name: "service_token",
    format: None,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "store-server",
        description = "Internal data service of the chat. Every data route needs `Authorization: Bearer $STORE_API_TOKEN`. Errors are `{\"error\": {\"code\", \"message\"}}`."
    ),
    modifiers(&SERVICE_TOKEN),
    security(("service_token" = [])),
    components(schemas(chat_wire::ErrorBody, chat_wire::ErrorCode))
)]
struct ApiDoc;

/// The whole router, and the OpenAPI document it serves.
pub fn router(
    state: AppState,
    token: ServiceToken,
    registry: Arc<Registry>,
) -> (Router, utoipa::openapi::OpenApi) {
    let (data, mut openapi) = data_routes()
        .route_layer(middleware::from_fn_with_state(token, require_service_token))
        .with_state(state.clone())
        .split_for_parts();
    finish_document(&mut openapi, state.max_message_chars);
    let readyz = get(health::readyz).with_state(state);
    let router = with_operational_routes(data, readyz, registry, openapi.clone());
    (router, openapi)
}

/// The data routes, each with its part of the OpenAPI document.
fn data_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(groups::router())
        .merge(messages::router())
        .merge(search::router())
        .merge(users::router())
        .merge(blocks::router())
        .merge(nodes::router())
        .merge(presence::router())
        .merge(queues::router())
        .merge(changes::router())
        .merge(attachments::router())
        .merge(retention::router())
}

/// What the route attributes cannot say: the configured message limit and
/// the optional body of `POST /user/{up}`.
fn finish_document(openapi: &mut utoipa::openapi::OpenApi, max_message_chars: usize) {
    chat_wire::requests::set_message_text_limit(openapi, max_message_chars);
    users::document_optional_body(openapi);
}

/// A `201 Created` JSON response.
pub struct Created<T>(pub T);

impl<T: Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        (StatusCode::CREATED, Json(self.0)).into_response()
    }
}

/// `201` when `created`, else `200`.
pub fn created_or_ok<T: Serialize>(body: T, created: bool) -> Response {
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn document(max_message_chars: usize) -> Value {
        let (_, mut openapi) = data_routes().split_for_parts();
        finish_document(&mut openapi, max_message_chars);
        serde_json::to_value(&openapi).unwrap()
    }

    fn operations(document: &Value) -> Vec<(String, &Value)> {
        let mut found = Vec::new();
        for (path, item) in document["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                found.push((format!("{} {path}", method.to_uppercase()), operation));
            }
        }
        found
    }

    #[test]
    fn every_operation_answers_the_token_and_server_errors_with_the_error_body() {
        let document = document(4000);
        assert_eq!(
            document["security"],
            serde_json::json!([{"service_token": []}])
        );
        for (name, operation) in operations(&document) {
            for status in ["401", "500", "503"] {
                let schema =
                    &operation["responses"][status]["content"]["application/json"]["schema"];
                assert_eq!(
                    schema["$ref"], "#/components/schemas/ErrorBody",
                    "{name} must document {status}"
                );
            }
            let params = operation["parameters"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if !params.is_empty() || operation.get("requestBody").is_some() {
                assert!(
                    operation["responses"].get("400").is_some(),
                    "{name} takes input and must document 400"
                );
            }
            for param in params.iter().filter(|p| p["in"] == "path") {
                assert!(
                    param["schema"]["pattern"].is_string(),
                    "{name}: path parameter {} needs a pattern",
                    param["name"]
                );
            }
        }
    }

    #[test]
    fn the_message_limit_is_the_configured_one_and_the_user_body_is_optional() {
        let document = document(10);
        let new = &document["components"]["schemas"]["NewMessage"];
        let fields = &new["allOf"][0]["properties"]["message"];
        assert!(fields["pattern"].as_str().unwrap().contains("{0,8}"));
        // Text, unless attachments stand in for it.
        let text = &new["allOf"][1]["anyOf"][0]["properties"]["message"];
        assert!(text["pattern"].as_str().unwrap().contains("{0,8}"));
        let edit = &document["components"]["schemas"]["EditMessage"]["properties"]["message"];
        assert_eq!(edit, text);
        let body = &document["paths"]["/user/{up}"]["post"]["requestBody"];
        assert_eq!(body["required"], false);
        assert_eq!(
            body["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/UserUpdate"
        );
    }
}
