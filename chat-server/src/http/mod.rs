//! The HTTP surface of the chat-server besides Socket.IO: the public REST
//! gateway (`/chat/...`, user JWT) and the web client; the probes
//! (`/healthz`, `/readyz`); and what only operators use: `/metrics`, the
//! Swagger UI with its OpenAPI document, and the admin routes
//! (`/admin/...`, `CHAT_ADMIN_TOKEN`), which exist only when that token is
//! set. `startup` serves the operators' routes on `CHAT_INTERNAL_ADDR` when
//! it is set, else beside the public ones.

mod admin;
pub mod attachments;
mod auth;
mod chat;
mod health;
mod retention;
mod search;
mod users;
mod web;

use crate::state::AppState;
use axum::Router;
use axum::routing::get;
use prometheus_client::registry::Registry;
use service_kit::docs::{BearerScheme, operator_routes, probes};
use std::sync::Arc;
use utoipa::{Modify, OpenApi};
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
    modifiers(&USER_TOKEN),
    security(("user_token" = [])),
    components(schemas(chat_wire::ErrorBody, chat_wire::ErrorCode))
)]
struct ApiDoc;

/// The routes of the chat-server, by who may reach them.
pub struct Routes {
    /// The gateway and the web client: for everyone.
    pub public: Router,
    /// `/healthz` and `/readyz`: on every listener.
    pub probes: Router,
    /// `/metrics`, `/docs/`, `/api-docs/openapi.json` and the admin
    /// routes: for operators only.
    pub operators: Router,
}

/// The routes and the OpenAPI document they serve.
pub fn routes(state: AppState, registry: Arc<Registry>) -> (Routes, utoipa::openapi::OpenApi) {
    let (public, mut openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(chat::router())
        .merge(attachments::router())
        .merge(users::router())
        .merge(search::router())
        .merge(retention::router())
        .with_state(state.clone())
        .split_for_parts();
    let mut admin = Router::new();
    if state.admin_token.is_some() {
        let (routes, document) = admin::router().with_state(state.clone()).split_for_parts();
        ADMIN_TOKEN.modify(&mut openapi);
        openapi.merge(document);
        admin = routes;
    }
    let readyz = get(health::readyz).with_state(state.clone());
    let routes = Routes {
        public: public.merge(web::router(state)),
        probes: probes(readyz),
        operators: operator_routes(registry, openapi.clone()).merge(admin),
    };
    (routes, openapi)
}
