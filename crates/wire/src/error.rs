//! The error body shared by every REST route and every socket ack.
//!
//! `{"error": {"code": "not_found", "message": "group 65f0... not found"}}`:
//! the code is one of a closed set ([`ErrorCode`]), each with a fixed HTTP
//! status; the message is for people and never carries internals.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The machine-readable reason of a failure; each maps to one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: malformed JSON, a missing or invalid field, a bad id, bad paging.
    InvalidArgument,
    /// 401: a missing or bad token.
    Unauthenticated,
    /// 403: authenticated but not allowed (not a member, not an admin).
    PermissionDenied,
    /// 404: an unknown group, message, user or route.
    NotFound,
    /// 409: a conflicting create.
    AlreadyExists,
    /// 413: a body or a message over the limit.
    PayloadTooLarge,
    /// 429: the sender is over its rate.
    RateLimited,
    /// 503: MongoDB or the store is unreachable; safe to retry.
    Unavailable,
    /// 500: anything else; the message never leaks internals.
    Internal,
}

impl ErrorCode {
    /// The HTTP status code this error is answered with.
    pub fn http_status(self) -> u16 {
        match self {
            Self::InvalidArgument => 400,
            Self::Unauthenticated => 401,
            Self::PermissionDenied => 403,
            Self::NotFound => 404,
            Self::AlreadyExists => 409,
            Self::PayloadTooLarge => 413,
            Self::RateLimited => 429,
            Self::Unavailable => 503,
            Self::Internal => 500,
        }
    }

    /// The code an HTTP status stands for, when it is one of the contract's.
    pub fn from_http_status(status: u16) -> Option<Self> {
        Some(match status {
            400 => Self::InvalidArgument,
            401 => Self::Unauthenticated,
            403 => Self::PermissionDenied,
            404 => Self::NotFound,
            409 => Self::AlreadyExists,
            413 => Self::PayloadTooLarge,
            429 => Self::RateLimited,
            503 => Self::Unavailable,
            500 => Self::Internal,
            _ => return None,
        })
    }

    /// The snake_case name used on the wire, e.g. `not_found`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidArgument => "invalid_argument",
            Self::Unauthenticated => "unauthenticated",
            Self::PermissionDenied => "permission_denied",
            Self::NotFound => "not_found",
            Self::AlreadyExists => "already_exists",
            Self::PayloadTooLarge => "payload_too_large",
            Self::RateLimited => "rate_limited",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The inside of an error body: a code and a human-readable message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// The machine-readable reason.
    pub code: ErrorCode,
    /// What was wrong, for a person; never internals.
    pub message: String,
}

/// The error body of every REST response and socket ack that failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"error": {"code": "not_found", "message": "group 65f0c0ffee0000000000abcd not found"}}))]
pub struct ErrorBody {
    /// The failure.
    pub error: ErrorDetail,
}

impl ErrorBody {
    /// An error body with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error: ErrorDetail {
                code,
                message: message.into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_its_http_status() {
        for code in [
            ErrorCode::InvalidArgument,
            ErrorCode::Unauthenticated,
            ErrorCode::PermissionDenied,
            ErrorCode::NotFound,
            ErrorCode::AlreadyExists,
            ErrorCode::PayloadTooLarge,
            ErrorCode::RateLimited,
            ErrorCode::Unavailable,
            ErrorCode::Internal,
        ] {
            assert_eq!(ErrorCode::from_http_status(code.http_status()), Some(code));
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, code.as_str());
        }
    }

    #[test]
    fn error_body_serialises_as_the_contract_says() {
        let body = ErrorBody::new(ErrorCode::NotFound, "group x not found");
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"error": {"code": "not_found", "message": "group x not found"}})
        );
    }
}
