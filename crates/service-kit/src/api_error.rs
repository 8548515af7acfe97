//! The one error every handler returns, answered with the contract's body.
//!
//! A 4xx says exactly what was wrong with the request. A 5xx is logged here
//! with its cause and answered with a generic message: driver or network
//! errors never reach a client.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chat_wire::ids::IdError;
use chat_wire::names::{NameError, UpsError};
use chat_wire::paging::PagingError;
use chat_wire::requests::TextError;
use chat_wire::{ErrorBody, ErrorCode};

/// A failed request; each variant is answered with its own status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 `invalid_argument`: malformed JSON, a bad field, id or paging.
    #[error("{0}")]
    InvalidArgument(String),
    /// 401 `unauthenticated`: a missing or bad token.
    #[error("{0}")]
    Unauthenticated(String),
    /// 403 `permission_denied`: not a member, not the author, not an admin.
    #[error("{0}")]
    PermissionDenied(String),
    /// 404 `not_found`: an unknown group, message, user or route.
    #[error("{0}")]
    NotFound(String),
    /// 409 `already_exists`: a conflicting create.
    #[error("{0}")]
    AlreadyExists(String),
    /// 413 `payload_too_large`: a body or a message over the limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 429 `rate_limited`: the sender is over its rate.
    #[error("{0}")]
    RateLimited(String),
    /// 503 `unavailable`: a dependency is unreachable; the cause is only logged.
    #[error("unavailable: {0:#}")]
    Unavailable(anyhow::Error),
    /// 500 `internal`: anything else; the cause is only logged.
    #[error("internal: {0:#}")]
    Internal(anyhow::Error),
}

impl ApiError {
    /// The contract's code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidArgument(_) => ErrorCode::InvalidArgument,
            Self::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Self::PermissionDenied(_) => ErrorCode::PermissionDenied,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::AlreadyExists(_) => ErrorCode::AlreadyExists,
            Self::PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            Self::RateLimited(_) => ErrorCode::RateLimited,
            Self::Unavailable(_) => ErrorCode::Unavailable,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    /// Whether asking again, unchanged, may succeed: only when a dependency
    /// was out of reach. Every other error is the same answer next time.
    pub fn may_succeed_later(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }

    /// The body a client sees. For 5xx this logs the cause and hides it.
    pub fn to_body(&self) -> ErrorBody {
        let message = match self {
            Self::Unavailable(cause) => {
                tracing::error!(error = %format!("{cause:#}"), "dependency unavailable");
                "the service is temporarily unavailable; retry later".to_owned()
            }
            Self::Internal(cause) => {
                tracing::error!(error = %format!("{cause:#}"), "internal error");
                "internal error".to_owned()
            }
            other => other.to_string(),
        };
        ErrorBody::new(self.code(), message)
    }

    /// An error of `code` with `message` (5xx codes keep it only for the log).
    pub fn from_code(code: ErrorCode, message: impl Into<String>) -> Self {
        let message = message.into();
        match code {
            ErrorCode::InvalidArgument => Self::InvalidArgument(message),
            ErrorCode::Unauthenticated => Self::Unauthenticated(message),
            ErrorCode::PermissionDenied => Self::PermissionDenied(message),
            ErrorCode::NotFound => Self::NotFound(message),
            ErrorCode::AlreadyExists => Self::AlreadyExists(message),
            ErrorCode::PayloadTooLarge => Self::PayloadTooLarge(message),
            ErrorCode::RateLimited => Self::RateLimited(message),
            ErrorCode::Unavailable => Self::Unavailable(anyhow::anyhow!(message)),
            ErrorCode::Internal => Self::Internal(anyhow::anyhow!(message)),
        }
    }
}

impl From<TextError> for ApiError {
    /// Empty text is `invalid_argument`; text over the limit `payload_too_large`.
    fn from(err: TextError) -> Self {
        match err {
            TextError::TooLong { .. } => Self::PayloadTooLarge(err.to_string()),
            TextError::Empty(_) | TextError::BadEmoji => Self::InvalidArgument(err.to_string()),
        }
    }
}

impl From<PagingError> for ApiError {
    fn from(err: PagingError) -> Self {
        Self::InvalidArgument(err.to_string())
    }
}

impl From<NameError> for ApiError {
    /// A bad name is a bad field, whatever is wrong with it.
    fn from(err: NameError) -> Self {
        Self::InvalidArgument(err.to_string())
    }
}

impl From<UpsError> for ApiError {
    fn from(err: UpsError) -> Self {
        Self::InvalidArgument(err.to_string())
    }
}

impl From<IdError> for ApiError {
    fn from(err: IdError) -> Self {
        Self::InvalidArgument(err.to_string())
    }
}

impl From<ApiError> for ErrorBody {
    fn from(err: ApiError) -> Self {
        err.to_body()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code().http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, axum::Json(self.to_body())).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_never_show_their_cause() {
        let body =
            ApiError::Internal(anyhow::anyhow!("connection to 10.0.0.5:27017 reset")).to_body();
        assert_eq!(body.error.code, ErrorCode::Internal);
        assert!(!body.error.message.contains("10.0.0.5"));
        let body = ApiError::Unavailable(anyhow::anyhow!("secret dsn")).to_body();
        assert!(!body.error.message.contains("secret"));
    }

    #[test]
    fn client_errors_say_what_was_wrong() {
        let response = ApiError::NotFound("group 1 not found".into()).into_response();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            ApiError::NotFound("group 1 not found".into())
                .to_body()
                .error
                .message,
            "group 1 not found"
        );
    }
}
