//! The id that follows one request through both services (`x-request-id`).
//!
//! Every HTTP request gets one (the caller's if it is a short token, see
//! [`drop_unfit`]; else a new UUID) and answers with it; while it is handled, the id is the task's current one
//! ([`current`]): every log line written meanwhile carries it as
//! `requestId` (see `logging`), and the chat-server's calls to the store
//! send it on. A Socket.IO event is not an HTTP request: the chat-server
//! gives each event an id of its own the same way ([`scope`]).

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use std::future::Future;
use tower_http::request_id::RequestId;

/// The request header (and response header) of the id.
pub const HEADER: &str = "x-request-id";

tokio::task_local! {
    static CURRENT: HeaderValue;
}

/// The id of the request this task is handling, if any.
pub fn current() -> Option<HeaderValue> {
    CURRENT.try_with(HeaderValue::clone).ok()
}

/// The longest id taken from a caller.
const MAX_CALLER_ID: usize = 64;

/// Removes a caller's `x-request-id` that is not 1 to [`MAX_CALLER_ID`]
/// characters of `[A-Za-z0-9._-]`, so that the id written to every log
/// line is short and plain whoever sent it; the request then gets a new one.
pub fn drop_unfit<B>(mut request: axum::http::Request<B>) -> axum::http::Request<B> {
    let fit = request
        .headers()
        .get(HEADER)
        .is_none_or(|id| is_fit(id.as_bytes()));
    if !fit {
        request.headers_mut().remove(HEADER);
    }
    request
}

fn is_fit(id: &[u8]) -> bool {
    (1..=MAX_CALLER_ID).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// A new id (a UUID).
pub fn new() -> HeaderValue {
    HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()).expect("a UUID is a header value")
}

/// Runs `work` with `id` as the current request id.
pub async fn scope<F: Future>(id: HeaderValue, work: F) -> F::Output {
    CURRENT.scope(id, work).await
}

/// Middleware: the request's id (set by tower-http's `SetRequestId`
/// layer, outside this one) is the current one while it is handled.
pub async fn scope_request(request: Request, next: Next) -> Response {
    let id = request
        .extensions()
        .get::<RequestId>()
        .map(|id| id.header_value().clone())
        .or_else(|| request.headers().get(HEADER).cloned())
        .unwrap_or_else(new);
    scope(id, next.run(request)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_plain_caller_ids_are_kept() {
        let kept = |id: &str| {
            let request = axum::http::Request::builder()
                .header(HEADER, id)
                .body(())
                .unwrap();
            drop_unfit(request).headers().contains_key(HEADER)
        };
        assert!(kept("9b2f0c1e-4d7a-4f3e-9a51-0c2d8e6f7a10"));
        assert!(kept("lb.42_a"));
        assert!(!kept(""));
        assert!(!kept("a\"b"));
        assert!(!kept("a b"));
        assert!(!kept(&"x".repeat(65)));
    }
}
