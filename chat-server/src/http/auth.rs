//! The user behind a REST request: `Authorization: Bearer <jwt>`.

use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
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
        bearer_user(&parts.headers, state)?
            .map(AuthUser)
            .ok_or_else(|| {
                ApiError::Unauthenticated("`Authorization: Bearer <token>` is required".into())
            })
    }
}

/// The user of `headers`' `Authorization: Bearer <jwt>`: `None` when there
/// is no such header, `401 unauthenticated` when the token is invalid or
/// expired.
pub fn bearer_user(headers: &HeaderMap, state: &AppState) -> Result<Option<Up>, ApiError> {
    let Some(token) = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
    else {
        return Ok(None);
    };
    state
        .jwt
        .verify(token.trim())
        .map(|verified| Some(verified.up))
        .map_err(|_| ApiError::Unauthenticated("the token is invalid or expired".into()))
}
