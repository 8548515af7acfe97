//! Liveness and readiness.

use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use service_kit::ApiError;

/// `GET /healthz`: the process is up.
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /readyz`: MongoDB answers a ping and the indexes exist;
/// `503 unavailable` otherwise.
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state.store.ping().await?;
    if !state.indexes_ready() {
        return Err(ApiError::Unavailable(anyhow::anyhow!(
            "indexes are not created yet"
        )));
    }
    Ok(Json(json!({"status": "ready"})))
}
