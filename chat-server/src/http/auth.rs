//! The user behind a REST request: `Authorization: Bearer <jwt>`.

use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use chat_wire::ids::Up;
use service_kit::ApiError;

/// The authenticated user of a request; `401 unauthenticated` otherwise.
#[derive(Debug, Clone)]
pub struct AuthUser(pub Up);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or_else(|| {
                ApiError::Unauthenticated("`Authorization: Bearer <token>` is required".into())
            })?;
        state
            .jwt
            .verify(token.trim())
            .map(|verified| AuthUser(verified.up))
            .map_err(|_| ApiError::Unauthenticated("the token is invalid or expired".into()))
    }
}
