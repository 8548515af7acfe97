//! The service token every data route requires.
//!
//! The store is internal: only services holding `STORE_API_TOKEN` may read or
//! write. The comparison takes the same time whatever the guess, and the
//! token never reaches a log.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use secrecy::{ExposeSecret, SecretString};
use service_kit::ApiError;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// The expected bearer token.
#[derive(Clone)]
pub struct ServiceToken(Arc<SecretString>);

impl ServiceToken {
    /// Wraps the configured token.
    pub fn new(token: &SecretString) -> Self {
        Self(Arc::new(token.clone()))
    }

    fn matches(&self, presented: &str) -> bool {
        self.0
            .expose_secret()
            .as_bytes()
            .ct_eq(presented.as_bytes())
            .into()
    }
}

/// Middleware: `401 unauthenticated` unless `Authorization: Bearer <token>`.
pub async fn require_service_token(
    State(token): State<ServiceToken>,
    request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    match presented {
        Some(presented) if token.matches(presented.trim()) => next.run(request).await,
        Some(_) => {
            ApiError::Unauthenticated("the service token is not valid".into()).into_response()
        }
        None => {
            ApiError::Unauthenticated("`Authorization: Bearer <service token>` is required".into())
                .into_response()
        }
    }
}
