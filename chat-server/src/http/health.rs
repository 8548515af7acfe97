//! Readiness of the chat-server: the store answers.

use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use service_kit::health::readiness;

/// `GET /readyz`: the store is reachable and ready; `503 unavailable` otherwise.
pub async fn readyz(State(state): State<AppState>) -> Response {
    readiness(
        state
            .store
            .ready()
            .await
            .map_err(|_| "the store-server is not ready".to_owned()),
    )
}
