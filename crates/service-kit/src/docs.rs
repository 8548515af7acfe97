//! What both services add around their own routes: the operational routes
//! (`/healthz`, `/readyz`, `/metrics`) and the Swagger UI (`/docs/`) with its
//! OpenAPI document (`/api-docs/openapi.json`), plus the bearer-token
//! security scheme their documents declare.

use axum::Router;
use axum::routing::{MethodRouter, get};
use prometheus_client::registry::Registry;
use std::sync::Arc;
use utoipa::Modify;
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_swagger_ui::SwaggerUi;

/// An OpenAPI modifier declaring an HTTP bearer scheme named `name`.
#[derive(Debug, Clone, Copy)]
pub struct BearerScheme {
    /// The scheme's name, referenced by `security((name = []))`.
    pub name: &'static str,
    /// The token's format shown in Swagger (e.g. `JWT`), if any.
    pub format: Option<&'static str>,
}

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut OpenApi) {
        let mut scheme = HttpBuilder::new().scheme(HttpAuthScheme::Bearer);
        if let Some(format) = self.format {
            scheme = scheme.bearer_format(format);
        }
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(self.name, SecurityScheme::Http(scheme.build()));
    }
}

/// `routes` plus the open operational routes ([`probes`] and
/// [`operator_routes`]); `readyz` is the service's own readiness check.
pub fn with_operational_routes(
    routes: Router,
    readyz: MethodRouter,
    registry: Arc<Registry>,
    openapi: OpenApi,
) -> Router {
    routes
        .merge(probes(readyz))
        .merge(operator_routes(registry, openapi))
}

/// `/healthz` and `/readyz` (the service's own readiness check), for
/// whatever routes traffic: open, and answered on every listener.
pub fn probes(readyz: MethodRouter) -> Router {
    Router::new()
        .route("/healthz", get(crate::health::healthz))
        .route("/readyz", readyz)
}

/// What operators read: `/metrics`, the Swagger UI (`/docs/`) and its
/// OpenAPI document (`/api-docs/openapi.json`).
pub fn operator_routes(registry: Arc<Registry>, openapi: OpenApi) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(crate::metrics::metrics_handler).with_state(registry),
        )
        .merge(SwaggerUi::new("/docs").url("/api-docs/openapi.json", openapi))
}
