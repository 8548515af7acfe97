//! Readiness of the chat-server: the store answers, and the node takes
//! sockets (it is in the registry, not draining, and hears the other
//! nodes).

use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use service_kit::health::readiness;

/// `GET /readyz`: `200` when this node can serve new clients; `503
/// unavailable` with why not otherwise.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let ready = match state.node.lifecycle.accepts_sockets() {
        Err(why) => Err(why),
        Ok(()) => state
            .store
            .ready()
            .await
            .map_err(|_| "the store-server is not ready".to_owned()),
    };
    readiness(ready)
}
