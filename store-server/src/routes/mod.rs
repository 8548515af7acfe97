//! The HTTP surface: data routes behind the service token, and the open
//! operational routes (`/healthz`, `/readyz`, `/metrics`, `/docs`,
//! `/api-docs/openapi.json`). The OpenAPI document is generated from the
//! handlers themselves.

mod groups;
mod health;
pub mod input;
mod messages;
mod nodes;
mod presence;
mod queues;
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
    let (data, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(groups::router())
        .merge(messages::router())
        .merge(users::router())
        .merge(nodes::router())
        .merge(presence::router())
        .merge(queues::router())
        .route_layer(middleware::from_fn_with_state(token, require_service_token))
        .with_state(state.clone())
        .split_for_parts();
    let readyz = get(health::readyz).with_state(state);
    let router = with_operational_routes(data, readyz, registry, openapi.clone());
    (router, openapi)
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
