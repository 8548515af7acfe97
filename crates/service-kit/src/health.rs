//! Liveness and readiness answers shared by both services.
//!
//! A failed readiness probe is expected during an outage and is polled
//! often: it is answered `503 unavailable` and logged at debug level only,
//! so that probes do not flood `error.log`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chat_wire::{ErrorBody, ErrorCode};
use serde_json::{Value, json};

/// `GET /healthz`: the process is up.
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// The `GET /readyz` answer: `200 {"status": "ready"}`, or `503` with why not.
pub fn readiness(result: Result<(), String>) -> Response {
    match result {
        Ok(()) => Json(json!({"status": "ready"})).into_response(),
        Err(reason) => {
            tracing::debug!(reason = %reason, "not ready");
            let body = ErrorBody::new(ErrorCode::Unavailable, format!("not ready: {reason}"));
            (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
        }
    }
}
