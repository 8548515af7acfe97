//! The HTTP stack both services share, and serving it until shutdown.
//!
//! Layers, outermost first: request log, metrics, timeout, body limit. Paths
//! are matched with and without a trailing slash (the slash is trimmed before
//! routing, except on the Swagger UI's own `/docs/`, whose page loads its
//! assets relative to it). Unknown routes and methods are answered with the
//! contract's error body.

use crate::api_error::ApiError;
use crate::connection::{ClosableListener, Peer};
use crate::metrics::{HttpMetrics, track_request};
use crate::request_log::log_request;
use axum::Router;
use axum::body::Body;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request};
use axum::http::Uri;
use axum::http::uri::PathAndQuery;
use axum::middleware;
use axum::response::IntoResponse;
use axum::serve::Listener;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder as ConnectionBuilder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::util::MapRequestLayer;
use tower::{BoxError, Layer, ServiceBuilder, ServiceExt};

/// The Swagger UI page, which must keep its trailing slash.
pub const DOCS_PAGE: &str = "/docs/";

/// Limits applied to every request.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The longest a request may take before it is answered `unavailable`.
    pub timeout: Duration,
    /// The largest request body accepted, in bytes.
    pub body_limit: usize,
}

/// Adds the shared layers and fallbacks to a service's router.
pub fn with_common_layers(router: Router, metrics: HttpMetrics, limits: Limits) -> Router {
    router
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limits.body_limit))
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(timeout_error))
                .timeout(limits.timeout),
        )
        .layer(middleware::from_fn_with_state(metrics, track_request))
        .layer(middleware::from_fn(log_request))
}

async fn timeout_error(err: BoxError) -> ApiError {
    if err.is::<tower::timeout::error::Elapsed>() {
        ApiError::Unavailable(anyhow::anyhow!("request timed out"))
    } else {
        ApiError::Internal(anyhow::anyhow!("middleware error: {err}"))
    }
}

async fn unknown_route(uri: Uri) -> ApiError {
    ApiError::NotFound(format!("no route for {}", uri.path()))
}

async fn method_not_allowed() -> impl IntoResponse {
    let mut response =
        ApiError::InvalidArgument("method not allowed on this route".into()).into_response();
    *response.status_mut() = axum::http::StatusCode::METHOD_NOT_ALLOWED;
    response
}

/// How long a client may take to send a whole request head: a client that
/// trickles its headers (slow-loris) holds a connection no longer than this.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest request head (request line and headers), in bytes: an
/// HTTP/1 connection reads through a buffer of this size, and a head that
/// does not fit is answered `431` and the connection closed. Socket.IO
/// keeps each socket's request head for its life, so this also bounds that.
pub const MAX_REQUEST_HEAD: usize = 32 * 1024;
/// The most header fields in one request.
const MAX_HEADERS: usize = 64;

/// Serves `router` on `listener` until `shutdown` resolves, then lets
/// in-flight requests finish. Requests carry `ConnectInfo<Peer>`.
///
/// This is `axum::serve` with the HTTP/1 limits it does not expose: a
/// header-read timeout ([`HEADER_READ_TIMEOUT`]) and a request head size
/// limit ([`MAX_REQUEST_HEAD`]).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = MapRequestLayer::new(trim_trailing_slash).layer(router);
    let mut listener = ClosableListener::new(listener);
    let mut builder = ConnectionBuilder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(MAX_REQUEST_HEAD)
        .max_headers(MAX_HEADERS);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(MAX_REQUEST_HEAD as u32)
        .enable_connect_protocol();
    let connections = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (io, addr) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let peer = Peer {
            addr,
            connection: io.handle().clone(),
        };
        let service = app
            .clone()
            .map_request(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer.clone()));
                request.map(Body::new)
            });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(io), TowerToHyperService::new(service))
            .into_owned();
        let connection = connections.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, "a connection ended with an error");
            }
        });
    }
    drop(listener);
    connections.shutdown().await;
    Ok(())
}

/// `/group/` is routed as `/group`; `/docs/` stays as it is.
fn trim_trailing_slash(mut request: Request) -> Request {
    let path = request.uri().path();
    if path.len() <= 1 || !path.ends_with('/') || path == DOCS_PAGE {
        return request;
    }
    let trimmed = path.trim_end_matches('/');
    let trimmed = if trimmed.is_empty() { "/" } else { trimmed };
    let path_and_query = match request.uri().query() {
        Some(query) => format!("{trimmed}?{query}"),
        None => trimmed.to_owned(),
    };
    let mut parts = request.uri().clone().into_parts();
    if let Ok(path_and_query) = PathAndQuery::try_from(path_and_query) {
        parts.path_and_query = Some(path_and_query);
        if let Ok(uri) = Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    /// A server of one route on a free port; stops when the test ends.
    async fn served() -> std::net::SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = Router::new().route("/", axum::routing::get(|| async { "hi" }));
        tokio::spawn(serve(listener, router, std::future::pending()));
        addr
    }

    #[tokio::test]
    async fn a_client_that_never_finishes_its_request_head_is_cut_off() {
        let addr = served().await;
        let mut slow = TcpStream::connect(addr).await.unwrap();
        slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .unwrap();
        let mut rest = Vec::new();
        let read = tokio::time::timeout(
            HEADER_READ_TIMEOUT + Duration::from_secs(5),
            slow.read_to_end(&mut rest),
        )
        .await;
        assert!(
            read.is_ok(),
            "the connection was still open after the header-read timeout"
        );
        let mut fast = TcpStream::connect(addr).await.unwrap();
        fast.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = String::new();
        fast.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }

    #[tokio::test]
    async fn a_request_head_over_the_limit_is_refused() {
        let addr = served().await;
        let mut client = TcpStream::connect(addr).await.unwrap();
        let big = "a".repeat(MAX_REQUEST_HEAD);
        let request = format!("GET / HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n");
        // The server may close before reading it all.
        let _ = client.write_all(request.as_bytes()).await;
        let mut answer = Vec::new();
        let _ = client.read_to_end(&mut answer).await;
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    }

    fn trimmed(uri: &str) -> String {
        let request = Request::builder()
            .uri(uri)
            .body(axum::body::Body::empty())
            .unwrap();
        trim_trailing_slash(request).uri().to_string()
    }

    #[test]
    fn trailing_slashes_are_trimmed_but_not_on_the_docs_page() {
        assert_eq!(trimmed("/group/"), "/group");
        assert_eq!(trimmed("/group/user/up1/?page=2"), "/group/user/up1?page=2");
        assert_eq!(trimmed("/group"), "/group");
        assert_eq!(trimmed("/"), "/");
        assert_eq!(trimmed("/docs/"), "/docs/");
        assert_eq!(trimmed("/docs/swagger-ui.css"), "/docs/swagger-ui.css");
    }
}
