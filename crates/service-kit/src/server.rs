//! The HTTP stack both services share, and serving it until shutdown, with
//! limits on what a connection may hold ([`ConnectionLimits`]).
//!
//! Layers, outermost first: the request id (set, answered, and current
//! while the request is handled), request log, metrics, timeout, body
//! limit. Paths
//! are matched with and without a trailing slash (the slash is trimmed before
//! routing, except on the Swagger UI's own `/docs/`, whose page loads its
//! assets relative to it). Unknown routes and methods are answered with the
//! contract's error body.

use crate::activity::Activity;
use crate::api_error::ApiError;
use crate::connection::{ClosableListener, Peer};
use crate::metrics::{HttpMetrics, track_request};
use crate::request_id;
use crate::request_log::log_request;
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::Uri;
use axum::http::uri::PathAndQuery;
use axum::middleware;
use axum::response::IntoResponse;
use axum::serve::Listener;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder as ConnectionBuilder;
use hyper_util::service::TowerToHyperService;
use std::convert::Infallible;
use std::future::Future;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::util::MapRequestLayer;
use tower::{BoxError, Layer, ServiceBuilder, ServiceExt, service_fn};
use tower_http::ServiceBuilderExt;
use tower_http::request_id::MakeRequestUuid;

/// The Swagger UI page, which must keep its trailing slash.
pub const DOCS_PAGE: &str = "/docs/";

/// Limits applied to every request.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The longest a request may take before it is answered `unavailable`.
    pub timeout: Duration,
    /// The largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Routes (as matched, e.g. `/attachment`) that [`Limits::timeout`]
    /// does not bound: file uploads, whose length follows the client's
    /// bandwidth. Each bounds its own time (a pause between two reads of
    /// the body) and reads its body as a stream, past `body_limit`.
    pub streaming: &'static [&'static str],
}

/// Adds the shared layers and fallbacks to a service's router.
pub fn with_common_layers(router: Router, metrics: HttpMetrics, limits: Limits) -> Router {
    router
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limits.body_limit))
        .layer(middleware::from_fn_with_state(limits, time_limit))
        .layer(middleware::from_fn_with_state(metrics, track_request))
        .layer(middleware::from_fn(log_request))
        .layer(middleware::from_fn(request_id::scope_request))
        .layer(
            ServiceBuilder::new()
                .map_request(request_id::drop_unfit)
                .set_x_request_id(MakeRequestUuid)
                .propagate_x_request_id(),
        )
}

/// Answers `unavailable` when a request takes longer than
/// [`Limits::timeout`], unless its route is one of [`Limits::streaming`].
/// Only the handler is timed: a response body streams for as long as the
/// client reads it.
async fn time_limit(
    State(limits): State<Limits>,
    request: Request,
    next: middleware::Next,
) -> axum::response::Response {
    let streaming = request
        .extensions()
        .get::<MatchedPath>()
        .is_some_and(|path| limits.streaming.contains(&path.as_str()));
    if streaming {
        return next.run(request).await;
    }
    match tokio::time::timeout(limits.timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Unavailable(anyhow::anyhow!("request timed out")).into_response(),
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

/// What a connection may hold, whatever it is used for.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// A connection that has not completed a request head by then is
    /// closed, whatever its protocol: HTTP/1, HTTP/2 (h2c, prior
    /// knowledge), or nothing at all. HTTP/1 applies the same limit to
    /// each later head (hyper's header-read timeout).
    pub first_request: Duration,
    /// An HTTP/2 connection with no exchange open for this long is closed
    /// (a `GOAWAY`, then the close).
    pub http2_idle: Duration,
    /// How often an HTTP/2 connection is pinged; a ping unanswered for as
    /// long again closes it (a peer that vanished without a word).
    pub http2_keep_alive: Duration,
    /// Streams one HTTP/2 connection may have open at once.
    pub http2_max_streams: u32,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            first_request: HEADER_READ_TIMEOUT,
            http2_idle: Duration::from_secs(300),
            http2_keep_alive: Duration::from_secs(20),
            http2_max_streams: 256,
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets
/// in-flight requests finish. Requests carry `ConnectInfo<Peer>`.
///
/// This is `axum::serve` with the limits it does not expose: those of
/// [`ConnectionLimits::default`], a header-read timeout
/// ([`HEADER_READ_TIMEOUT`]) and a request head size limit
/// ([`MAX_REQUEST_HEAD`]).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, router, shutdown, ConnectionLimits::default()).await
}

/// [`serve`] with the given connection limits.
pub async fn serve_with(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: ConnectionLimits,
) -> std::io::Result<()> {
    let app = MapRequestLayer::new(trim_trailing_slash).layer(router);
    let mut listener = ClosableListener::new(listener);
    let mut builder = ConnectionBuilder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.first_request)
        .max_buf_size(MAX_REQUEST_HEAD)
        .max_headers(MAX_HEADERS);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(MAX_REQUEST_HEAD as u32)
        .max_concurrent_streams(limits.http2_max_streams)
        .keep_alive_interval(Some(limits.http2_keep_alive))
        .keep_alive_timeout(limits.http2_keep_alive)
        .enable_connect_protocol();
    let stopping = CancellationToken::new();
    let connections = TaskTracker::new();
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
        let activity = Activity::new();
        let tracked = activity.clone();
        let service = app
            .clone()
            .map_request(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer.clone()));
                request.map(Body::new)
            });
        let service = service_fn(move |request: Request<Incoming>| {
            let exchange = tracked.exchange(&request);
            let response = service.clone().oneshot(request);
            async move { Ok::<_, Infallible>(exchange.hold_until_sent(response.await.into_response())) }
        });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(io), TowerToHyperService::new(service))
            .into_owned();
        connections.spawn(watch_connection(
            connection,
            activity,
            limits,
            stopping.clone(),
        ));
    }
    drop(listener);
    stopping.cancel();
    connections.close();
    connections.wait().await;
    Ok(())
}

/// Drives one connection to its end, closing it when it breaks a limit
/// (see [`ConnectionLimits`]) and shutting it down gracefully when the
/// server stops.
async fn watch_connection<C>(
    connection: C,
    activity: std::sync::Arc<Activity>,
    limits: ConnectionLimits,
    stopping: CancellationToken,
) where
    C: Future<Output = Result<(), BoxError>> + GracefulConnection,
{
    let mut connection = std::pin::pin!(connection);
    let started = Instant::now();
    let mut next_check = started + limits.first_request;
    let mut stopped = false;
    loop {
        tokio::select! {
            ended = connection.as_mut() => {
                if let Err(err) = ended {
                    tracing::debug!(error = %err, "a connection ended with an error");
                }
                return;
            }
            () = stopping.cancelled(), if !stopped => {
                stopped = true;
                connection.as_mut().graceful_shutdown();
            }
            () = tokio::time::sleep_until(next_check.into()) => {
                let now = Instant::now();
                if !activity.seen_request() {
                    tracing::debug!("closing a connection that sent no whole request head in time");
                    return;
                }
                if !activity.is_http2() {
                    // HTTP/1: hyper times out each later head itself.
                    next_check = now + Duration::from_secs(3600 * 24 * 365);
                    continue;
                }
                match activity.idle_for(now) {
                    Some(idle) if idle >= limits.http2_idle => {
                        tracing::debug!("closing an idle HTTP/2 connection");
                        connection.as_mut().graceful_shutdown();
                        next_check = now + limits.first_request;
                    }
                    Some(idle) => next_check = now + (limits.http2_idle - idle),
                    None => next_check = now + limits.http2_idle.min(Duration::from_secs(1)),
                }
            }
        }
    }
}

/// A connection that can be asked to finish what it serves and close.
trait GracefulConnection {
    fn graceful_shutdown(self: std::pin::Pin<&mut Self>);
}

impl<I, S, E> GracefulConnection
    for hyper_util::server::conn::auto::UpgradeableConnection<'static, I, S, E>
where
    S: hyper::service::HttpService<Incoming, ResBody = Body>,
    S::Error: Into<BoxError>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    E: hyper::rt::bounds::Http2ServerConnExec<S::Future, Body>,
{
    fn graceful_shutdown(self: std::pin::Pin<&mut Self>) {
        hyper_util::server::conn::auto::UpgradeableConnection::graceful_shutdown(self);
    }
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

    /// A server of one route with short connection limits.
    async fn limited(limits: ConnectionLimits) -> std::net::SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = Router::new().route("/", axum::routing::get(|| async { "hi" }));
        tokio::spawn(serve_with(listener, router, std::future::pending(), limits));
        addr
    }

    fn short_limits() -> ConnectionLimits {
        ConnectionLimits {
            first_request: Duration::from_millis(600),
            http2_idle: Duration::from_millis(600),
            http2_keep_alive: Duration::from_millis(200),
            http2_max_streams: 7,
        }
    }

    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    /// An empty SETTINGS frame.
    const SETTINGS: &[u8] = &[0, 0, 0, 4, 0, 0, 0, 0, 0];

    /// Reads until the server closes; `Err` if it is still open after `limit`.
    async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Result<Vec<u8>, String> {
        let mut received = Vec::new();
        match tokio::time::timeout(limit, stream.read_to_end(&mut received)).await {
            Ok(_) => Ok(received),
            Err(_) => Err(format!("still open after {limit:?}")),
        }
    }

    #[tokio::test]
    async fn connections_that_never_complete_a_request_head_are_closed_whatever_the_protocol() {
        let addr = limited(short_limits()).await;
        let silent = TcpStream::connect(addr).await.unwrap();
        let mut partial_preface = TcpStream::connect(addr).await.unwrap();
        partial_preface.write_all(&PREFACE[..10]).await.unwrap();
        let mut settings_only = TcpStream::connect(addr).await.unwrap();
        settings_only.write_all(PREFACE).await.unwrap();
        settings_only.write_all(SETTINGS).await.unwrap();
        let mut partial_head = TcpStream::connect(addr).await.unwrap();
        partial_head
            .write_all(b"GET / HTTP/1.1\r\nHost")
            .await
            .unwrap();
        for (name, mut stream) in [
            ("silent", silent),
            ("part of the HTTP/2 preface", partial_preface),
            ("the preface and an empty SETTINGS frame", settings_only),
            ("part of an HTTP/1 head", partial_head),
        ] {
            let closed = closed_within(&mut stream, Duration::from_secs(3)).await;
            assert!(closed.is_ok(), "{name}: {closed:?}");
        }
    }

    /// The frames of an HTTP/2 byte stream: `(type, payload)`.
    fn frames(mut bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
        let mut frames = Vec::new();
        while bytes.len() >= 9 {
            let length =
                usize::from(bytes[0]) << 16 | usize::from(bytes[1]) << 8 | usize::from(bytes[2]);
            if bytes.len() < 9 + length {
                break;
            }
            frames.push((bytes[3], bytes[9..9 + length].to_vec()));
            bytes = &bytes[9 + length..];
        }
        frames
    }

    #[tokio::test]
    async fn an_http2_connection_is_told_its_stream_cap_and_is_pinged() {
        let addr = limited(short_limits()).await;
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(PREFACE).await.unwrap();
        client.write_all(SETTINGS).await.unwrap();
        let received = closed_within(&mut client, Duration::from_secs(3))
            .await
            .unwrap();
        let frames = frames(&received);
        let settings = &frames.first().expect("a SETTINGS frame").1;
        let max_streams = settings
            .chunks(6)
            .find(|setting| setting[..2] == [0, 3])
            .map(|setting| u32::from_be_bytes(setting[2..6].try_into().unwrap()));
        assert_eq!(max_streams, Some(7), "MAX_CONCURRENT_STREAMS");
        assert!(
            frames.iter().any(|(kind, _)| *kind == 6),
            "a PING before the connection closed: {frames:?}"
        );
    }

    #[tokio::test]
    async fn an_idle_http2_connection_is_closed_after_its_last_exchange() {
        let addr = limited(short_limits()).await;
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut sender, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                .await
                .unwrap();
        let driven = tokio::spawn(connection);
        for _ in 0..3 {
            // Busier than the idle limit: each exchange starts it again.
            let request = axum::http::Request::get(format!("http://{addr}/"))
                .body(http_body_util::Empty::<axum::body::Bytes>::new())
                .unwrap();
            let response = sender.send_request(request).await.unwrap();
            assert_eq!(response.status(), 200);
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        let ended = tokio::time::timeout(Duration::from_secs(3), driven).await;
        assert!(ended.is_ok(), "the idle connection is still open");
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
