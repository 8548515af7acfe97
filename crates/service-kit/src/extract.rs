//! Extractors whose rejections are answered with the contract's error body.

use crate::api_error::ApiError;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::value::MapAccessDeserializer;
use serde::de::{DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::fmt;
use std::marker::PhantomData;

/// A `T` read from a JSON object only.
///
/// serde also reads a struct from an array of its fields in order
/// (`["up1", null]`); every body of the contract is an object, so anything
/// else is refused.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonObject<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for JsonObject<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = T;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }

        deserializer
            .deserialize_map(ObjectVisitor(PhantomData))
            .map(Self)
    }
}

/// A JSON object body; malformed or oversized bodies become
/// `invalid_argument` or `payload_too_large`.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppJson<T>(pub T);

impl<S, T> FromRequest<S> for AppJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<JsonObject<T>>::from_request(req, state).await {
            Ok(axum::Json(JsonObject(value))) => Ok(Self(value)),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Body {
        up: String,
        #[serde(default)]
        online: Option<bool>,
    }

    #[test]
    fn only_objects_are_read() {
        let read = |json: &str| serde_json::from_str::<JsonObject<Body>>(json).map(|b| b.0);
        assert_eq!(
            read(r#"{"up": "a"}"#).unwrap(),
            Body {
                up: "a".into(),
                online: None
            }
        );
        assert!(read(r#"["a", true]"#).is_err());
        assert!(read("null").is_err());
        assert!(read(r#"{"up": "a", "x": 1}"#).is_err());
    }
}
