//! Copies a Socket.IO request's head out of hyper's read buffer.
//!
//! hyper parses the URI and header values as slices of the connection's read
//! buffer (8-16 KiB), and the Socket.IO engine keeps the request head for
//! the whole life of the socket: each idle WebSocket would hold that buffer
//! alive, more than everything else it needs together. Copied, the head
//! costs a few hundred bytes and the buffer is freed after the upgrade.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Uri};

/// Where the engine listens.
const SOCKET_PATH: &str = "/socket.io";

/// Middleware: a Socket.IO request with its URI and headers in allocations
/// of their own; other requests pass unchanged.
pub async fn own_socket_request_head(request: Request) -> Request {
    if !request.uri().path().starts_with(SOCKET_PATH) {
        return request;
    }
    let (mut parts, body) = request.into_parts();
    parts.uri = owned_uri(&parts.uri);
    parts.headers = owned_headers(&parts.headers);
    Request::from_parts(parts, body)
}

fn owned_uri(uri: &Uri) -> Uri {
    uri.to_string().parse().unwrap_or_else(|_| uri.clone())
}

fn owned_headers(headers: &HeaderMap) -> HeaderMap {
    headers
        .iter()
        .map(|(name, value)| {
            let mut owned =
                HeaderValue::from_bytes(value.as_bytes()).unwrap_or_else(|_| value.clone());
            owned.set_sensitive(value.is_sensitive());
            (name.clone(), owned)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    #[tokio::test]
    async fn a_socket_request_keeps_its_uri_and_every_header_value() {
        let request = Request::builder()
            .uri("/socket.io/?EIO=4&transport=websocket&token=a.b.c")
            .header("cookie", "a=1")
            .header("cookie", "b=2")
            .header("x-forwarded-for", "10.0.0.1")
            .body(Body::empty())
            .unwrap();
        let owned = own_socket_request_head(request).await;
        assert_eq!(
            owned.uri().query(),
            Some("EIO=4&transport=websocket&token=a.b.c")
        );
        let cookies: Vec<_> = owned.headers().get_all("cookie").iter().collect();
        assert_eq!(cookies, ["a=1", "b=2"]);
        assert_eq!(owned.headers()["x-forwarded-for"], "10.0.0.1");
    }
}
