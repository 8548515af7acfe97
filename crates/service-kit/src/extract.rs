//! Extractors whose rejections are answered with the contract's error body.

use crate::api_error::ApiError;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// A JSON body; malformed or oversized bodies become `invalid_argument` or
/// `payload_too_large`.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppJson<T>(pub T);

impl<S, T> FromRequest<S> for AppJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::PayloadTooLarge("the request body is over the size limit".into());
    }
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::InvalidArgument(
            "the body must be JSON with `Content-Type: application/json`".into(),
        ),
        JsonRejection::JsonSyntaxError(err) => {
            ApiError::InvalidArgument(format!("malformed JSON: {}", err.body_text_cause()))
        }
        JsonRejection::JsonDataError(err) => {
            ApiError::InvalidArgument(format!("invalid body: {}", err.body_text_cause()))
        }
        other => ApiError::InvalidArgument(format!("unreadable body: {}", other.body_text())),
    }
}

/// Keeps serde's explanation, drops axum's generic prefix.
trait CauseText {
    fn body_text_cause(&self) -> String;
}

impl<E: std::error::Error> CauseText for E {
    fn body_text_cause(&self) -> String {
        let mut cause: &dyn std::error::Error = self;
        while let Some(next) = cause.source() {
            cause = next;
        }
        cause.to_string()
    }
}

/// A query string; a bad one becomes `invalid_argument`.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for AppQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(QueryRejection::FailedToDeserializeQueryString(err)) => Err(
                ApiError::InvalidArgument(format!("invalid query: {}", err.body_text_cause())),
            ),
            Err(other) => Err(ApiError::InvalidArgument(other.body_text())),
        }
    }
}
