//! The HTTP stack both services share, and serving it until shutdown.
//!
//! Layers, outermost first: request log, metrics, timeout, body limit. Paths
//! are matched with and without a trailing slash. Unknown routes and methods
//! are answered with the contract's error body.

use crate::api_error::ApiError;
use crate::metrics::{HttpMetrics, track_request};
use crate::request_log::log_request;
use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::Uri;
use axum::middleware;
use axum::response::IntoResponse;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::{BoxError, Layer, ServiceBuilder};
use tower_http::normalize_path::NormalizePathLayer;

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

/// Serves `router` on `listener` until `shutdown` resolves, then lets
/// in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = NormalizePathLayer::trim_trailing_slash().layer(router);
    let app = axum::ServiceExt::<Request>::into_make_service_with_connect_info::<SocketAddr>(app);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
