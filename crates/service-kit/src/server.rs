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
use axum::error_handling::HandleErrorLayer;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::Uri;
use axum::http::uri::PathAndQuery;
use axum::middleware;
use axum::response::IntoResponse;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::util::MapRequestLayer;
use tower::{BoxError, Layer, ServiceBuilder};

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

/// Serves `router` on `listener` until `shutdown` resolves, then lets
/// in-flight requests finish. Requests carry `ConnectInfo<Peer>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = MapRequestLayer::new(trim_trailing_slash).layer(router);
    let app = axum::ServiceExt::<Request>::into_make_service_with_connect_info::<Peer>(app);
    axum::serve(ClosableListener::new(listener), app)
        .with_graceful_shutdown(shutdown)
        .await
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
