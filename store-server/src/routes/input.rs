//! Turning raw request input into validated values, with precise 400s.

use axum::body::Bytes;
use axum::extract::{FromRequest, Query, Request};
use chat_wire::EntityId;
use chat_wire::ids::Up;
use chat_wire::paging::{PageQuery, PageRequest};
use mongodb::bson::oid::ObjectId;
use serde::de::DeserializeOwned;
use service_kit::ApiError;

/// The required `since` of a change feed, an RFC 3339 time, or
/// `invalid_argument`.
pub fn parse_since(raw: Option<&str>) -> Result<chat_wire::time::Timestamp, ApiError> {
    let since = raw.ok_or_else(|| ApiError::InvalidArgument("`since` is required".into()))?;
    chat_wire::time::parse(since).map_err(|_| {
        ApiError::InvalidArgument(format!("`since` must be an RFC 3339 time, got `{since}`"))
    })
}

/// A path or body id as an ObjectId, or `invalid_argument`.
pub fn parse_id(raw: &str) -> Result<ObjectId, ApiError> {
    Ok(crate::db::documents::object_id(&EntityId::parse(raw)?))
}

/// A path `up`, or `invalid_argument`.
pub fn parse_up(raw: &str) -> Result<Up, ApiError> {
    Up::parse(raw).map_err(ApiError::from)
}

/// A path node id, or `invalid_argument`.
pub fn parse_node(raw: &str) -> Result<chat_wire::cluster::NodeId, ApiError> {
    chat_wire::cluster::NodeId::parse(raw).map_err(|e| ApiError::InvalidArgument(e.to_string()))
}

/// A path socket id, or `invalid_argument`.
pub fn parse_socket(raw: &str) -> Result<chat_wire::cluster::SocketId, ApiError> {
    chat_wire::cluster::SocketId::parse(raw).map_err(|e| ApiError::InvalidArgument(e.to_string()))
}

/// Any refused text other than a message's is an invalid field: `413` is
/// kept for bodies and messages over their limits.
pub fn field_error(err: chat_wire::requests::TextError) -> ApiError {
    ApiError::InvalidArgument(err.to_string())
}

/// Validates page-number paging (no cursors).
pub fn pages_only(query: &PageQuery) -> Result<PageRequest, ApiError> {
    Ok(query.parse_pages_only()?)
}

/// Arguments a GET route takes in its query string and, for compatibility
/// with older clients, in a JSON body (docs/store-api.md); the query string wins.
pub trait MergeArgs: Default + DeserializeOwned {
    /// Fields of `self`, else those of `fallback`.
    fn or(self, fallback: Self) -> Self;
}

impl MergeArgs for PageQuery {
    fn or(self, fallback: Self) -> Self {
        PageQuery::or(self, fallback)
    }
}

/// Extracts [`MergeArgs`] from the query string and an optional JSON body.
#[derive(Debug, Clone, Default)]
pub struct QueryOrBody<T>(pub T);

impl<S, T> FromRequest<S> for QueryOrBody<T>
where
    S: Send + Sync,
    T: MergeArgs + Send,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Query(from_query) = Query::<T>::try_from_uri(request.uri())
            .map_err(|e| ApiError::InvalidArgument(format!("invalid query: {}", e.body_text())))?;
        let OptionalJson(from_body) = OptionalJson::<T>::from_request(request, state).await?;
        Ok(Self(from_query.or(from_body)))
    }
}

/// A JSON body that may be absent or blank, then `T::default()`.
#[derive(Debug, Clone, Default)]
pub struct OptionalJson<T>(pub T);

impl<S, T> FromRequest<S> for OptionalJson<T>
where
    S: Send + Sync,
    T: Default + DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let body = Bytes::from_request(request, state).await.map_err(|_| {
            ApiError::PayloadTooLarge("the request body is over the size limit".into())
        })?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(T::default()));
        }
        serde_json::from_slice(&body)
            .map(|service_kit::JsonObject(value)| Self(value))
            .map_err(|e| ApiError::InvalidArgument(format!("invalid JSON body: {e}")))
    }
}
