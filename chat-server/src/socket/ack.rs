//! Answering events: every ack is `{data}` or `{error}`, and every answer is
//! counted and timed.

use crate::metrics::ChatMetrics;
use chat_wire::events::Ack;
use serde::Serialize;
use service_kit::ApiError;
use socketioxide::adapter::Adapter;
use socketioxide::extract::AckSender;
use std::time::Instant;

/// Sends the ack of `event` and records its outcome and latency.
pub fn answer<A: Adapter, T: Serialize>(
    ack: AckSender<A>,
    metrics: &ChatMetrics,
    event: &'static str,
    started: Instant,
    result: Result<T, ApiError>,
) {
    let outcome = match &result {
        Ok(_) => "ok",
        Err(err) => err.code().as_str(),
    };
    let body = Ack::from_result(result);
    if let Err(err) = ack.send(&body) {
        tracing::debug!(event, error = %err, "ack not delivered: the socket is gone");
    }
    metrics.observe_event(event, outcome, started);
}

/// The error of a payload that does not parse.
pub fn bad_payload(event: &str, err: impl std::fmt::Display) -> ApiError {
    ApiError::InvalidArgument(format!("invalid `{event}` payload: {err}"))
}
