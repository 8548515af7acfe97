//! The admin routes: `POST /admin/drain`, behind `CHAT_ADMIN_TOKEN`.
//!
//! Without the variable the routes are not mounted at all (`404`, and
//! absent from the OpenAPI document), so a node is never drainable by a
//! guess.

use crate::cluster::lifecycle::StopReason;
use crate::cluster::registry;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use service_kit::ApiError;
use service_kit::responses::{ServerErrors, Unauthenticated};
use subtle::ConstantTimeEq;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The Swagger tag of the admin routes.
const ADMIN_TAG: &str = "admin";

/// The admin routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(drain))
}

/// The answer to `POST /admin/drain`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Draining {
    /// Always `true`: the node is draining.
    pub draining: bool,
}

/// Drain this node
///
/// Marks the node draining in the registry, answers `/readyz` with 503,
/// sends `migrate {url}` to every socket, closes their transports in
/// batches over `CHAT_DRAIN_SECONDS` (clients reconnect by themselves),
/// then the process exits. Answers `202` once the registry says the node
/// is draining (or could not be told: the drain goes on anyway); asking
/// again changes nothing. Needs `Authorization: Bearer $CHAT_ADMIN_TOKEN`; the
/// route exists only when that variable is set.
#[utoipa::path(post, path = "/admin/drain", tag = ADMIN_TAG, security(("admin_token" = [])),
    responses((status = 202, body = Draining), Unauthenticated, ServerErrors))]
async fn drain(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<Draining>), ApiError> {
    let Some(expected) = &state.admin_token else {
        // Not mounted without a token; answered as an unknown route anyway.
        return Err(ApiError::NotFound("no route for /admin/drain".into()));
    };
    let given = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !bool::from(
        given
            .trim()
            .as_bytes()
            .ct_eq(expected.expose_secret().as_bytes()),
    ) {
        return Err(ApiError::Unauthenticated(
            "`Authorization: Bearer <CHAT_ADMIN_TOKEN>` is required".into(),
        ));
    }
    tracing::info!("drain requested through /admin/drain");
    registry::announce_draining(&state.node, &state.store, &state.metrics).await;
    state.node.lifecycle.stop(StopReason::DrainRequested);
    Ok((StatusCode::ACCEPTED, Json(Draining { draining: true })))
}
