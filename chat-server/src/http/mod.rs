//! The HTTP surface of the chat-server besides Socket.IO: the public REST
//! gateway (`/chat/...`, user JWT) with its Swagger docs, and the open
//! operational routes.

mod auth;
mod chat;
mod health;

use crate::state::AppState;
use axum::Router;
use axum::routing::get;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

/// The Swagger tag of the public routes.
pub const PUBLIC_TAG: &str = "chat";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "chat-server",
        description = "Public REST gateway of the chat. Send `Authorization: Bearer <user JWT>`. Real-time events go over Socket.IO at `/socket.io/` (see docs/chat-api.md). Errors are `{\"error\": {\"code\", \"message\"}}`."
    ),
    modifiers(&UserTokenScheme),
    security(("user_token" = [])),
    components(schemas(chat_wire::ErrorBody, chat_wire::ErrorCode))
)]
struct ApiDoc;

struct UserTokenScheme;

impl Modify for UserTokenScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "user_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The REST router and its OpenAPI document.
pub fn router(state: AppState, registry: Arc<Registry>) -> (Router, utoipa::openapi::OpenApi) {
    let (public, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(chat::router())
        .with_state(state.clone())
        .split_for_parts();
    let open = Router::new()
        .route("/healthz", get(service_kit::health::healthz))
        .route("/readyz", get(health::readyz))
        .with_state(state)
        .route(
            "/metrics",
            get(service_kit::metrics::metrics_handler).with_state(registry),
        );
    let router = public
        .merge(open)
        .merge(SwaggerUi::new("/docs").url("/api-docs/openapi.json", openapi.clone()));
    (router, openapi)
}
