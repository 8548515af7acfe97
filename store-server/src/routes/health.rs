//! Readiness of the store: MongoDB answers, the indexes exist and the
//! message writer runs.

use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use service_kit::health::readiness;

/// `GET /readyz`: MongoDB answers a ping and the indexes exist;
/// `503 unavailable` otherwise.
pub async fn readyz(State(state): State<AppState>) -> Response {
    if state.is_draining() {
        return readiness(Err("the store is stopping".to_owned()));
    }
    let ready = match state.store.ping().await {
        Err(_) => Err("the database does not answer".to_owned()),
        Ok(()) if !state.indexes_ready() => Err("indexes are not created yet".to_owned()),
        Ok(()) if !state.writer.is_running() => Err("the message writer stopped".to_owned()),
        Ok(()) => Ok(()),
    };
    readiness(ready)
}
