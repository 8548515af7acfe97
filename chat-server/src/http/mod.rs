//! The HTTP surface of the chat-server besides Socket.IO: the public REST
//! gateway (`/chat/...`, user JWT) with its Swagger docs, the admin routes
//! (`/admin/...`, `CHAT_ADMIN_TOKEN`) and the open operational routes.

mod admin;
mod auth;
mod chat;
mod health;
mod web;

use crate::state::AppState;
use axum::Router;
use axum::routing::get;
use prometheus_client::registry::Registry;
use service_kit::docs::{BearerScheme, with_operational_routes};
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// The Swagger tag of the public routes.
pub const PUBLIC_TAG: &str = "chat";

/// The bearer scheme of the public routes.
const USER_TOKEN: BearerScheme = BearerScheme {
    name: "user_token",
    format: Some("JWT"),
};

/// The bearer scheme of the admin routes (`CHAT_ADMIN_TOKEN`).
const ADMIN_TOKEN: BearerScheme = BearerScheme {
    name: "admin_token",
    format: None,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "chat-server",
        description = "Public REST gateway of the chat. Send `Authorization: Bearer <user JWT>`. Real-time events go over Socket.IO at `/socket.io/` (see docs/chat-api.md). Errors are `{\"error\": {\"code\", \"message\"}}`."
    ),
    modifiers(&USER_TOKEN, &ADMIN_TOKEN),
    security(("user_token" = [])),
    components(schemas(chat_wire::ErrorBody, chat_wire::ErrorCode))
)]
struct ApiDoc;

/// The REST router and its OpenAPI document.
pub fn router(state: AppState, registry: Arc<Registry>) -> (Router, utoipa::openapi::OpenApi) {
    let (public, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(chat::router())
        .merge(admin::router())
        .with_state(state.clone())
        .split_for_parts();
    let readyz = get(health::readyz).with_state(state);
    let router = with_operational_routes(public, readyz, registry, openapi.clone());
    (router.merge(web::router()), openapi)
}
