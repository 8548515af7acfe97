//! The gateway's attachment routes: upload a file to a group, download it
//! or its thumbnail. Bytes stream through, in both directions; the store
//! keeps them and checks membership where the data is.
//!
//! A download is opened by the user's bearer token (the store checks that
//! they are a member of the attachment's group now: a removed member is
//! refused at once) or by a signed link (`?exp=&sig=`, see
//! `attachments::urls`), which is what the attachment's `url` holds.

use super::PUBLIC_TAG;
use super::auth::{AuthUser, bearer_user};
use crate::attachments::upload_body::{Limited, file_of, over_limit};
use crate::attachments::urls::now;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chat_wire::ErrorBody;
use chat_wire::attachments::{Attachment, UploadQuery};
use chat_wire::ids::{EntityId, Up};
use chat_wire::schema::{Binary, DownloadHeaders};
use serde::Deserialize;
use service_kit::responses::{ServerErrors, Unauthenticated};
use service_kit::{ApiError, AppQuery};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Routes whose requests may take longer than the request timeout: an
/// upload follows the client's bandwidth (its pauses are bounded).
pub const STREAMING_ROUTES: &[&str] = &["/chat/{group}/attachment"];

/// The headers of the store's answer that the client gets.
const PASSED_ON: [header::HeaderName; 9] = [
    header::CONTENT_TYPE,
    header::CONTENT_LENGTH,
    header::CONTENT_RANGE,
    header::ACCEPT_RANGES,
    header::ETAG,
    header::CONTENT_DISPOSITION,
    header::CACHE_CONTROL,
    header::X_CONTENT_TYPE_OPTIONS,
    header::CONTENT_SECURITY_POLICY,
];

/// The attachment routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload))
        .routes(routes!(download))
        .routes(routes!(download_thumbnail))
}

/// `?name=` of a raw upload.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NameQuery {
    /// The file name (a raw body has no other place for it; a multipart
    /// part's own file name is used when this is absent).
    #[serde(default)]
    #[param(max_length = 255, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub name: Option<String>,
}

/// A `multipart/form-data` upload: one part, named `file`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // documents the form; the body is read as a stream
pub struct UploadForm {
    /// The file, with its file name.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Upload a file to a group
///
/// Members only. The body is the file (any `Content-Type`; its name in
/// `?name=`), or a `multipart/form-data` form with one part named `file`.
/// It is streamed to the store as it arrives: a body whose `Content-Length`
/// is over `CHAT_MAX_ATTACHMENT_BYTES` is refused before it is read, and
/// one that passes it while streaming is cut off there; nothing of it is
/// kept. The type is sniffed from the bytes. Images (PNG, JPEG, GIF, WebP)
/// get `width`, `height` and a `thumbnail`. The answer's `url` (and the
/// thumbnail's) is a signed link. Counts against the user's event budget.
/// Send the `id` in `attachments` of `chat message` or `private message`
/// within an hour, or the file is removed.
#[utoipa::path(post, path = "/chat/{group}/attachment", tag = PUBLIC_TAG,
    params(("group" = inline(EntityId), Path, description = "group id"), NameQuery),
    request_body(content(
        (inline(Binary) = "application/octet-stream"),
        (UploadForm = "multipart/form-data")),
        description = "The file, raw or as the `file` part of a form."),
    responses((status = 201, body = Attachment, description = "stored"),
        (status = 400, body = ErrorBody, description = "`invalid_argument`: a bad group id or name, a form without a `file` part, or an upload that broke off or stalled"),
        Unauthenticated,
        (status = 403, body = ErrorBody, description = "`permission_denied`: the user is not a member of the group"),
        (status = 404, body = ErrorBody, description = "`not_found`: an unknown group"),
        (status = 413, body = ErrorBody, description = "`payload_too_large`: the file is over `CHAT_MAX_ATTACHMENT_BYTES`, the user's files would pass `CHAT_ATTACHMENT_QUOTA_BYTES`, or an image has too many pixels"),
        (status = 429, body = ErrorBody, description = "`rate_limited`: the user is over their event budget"),
        ServerErrors))]
async fn upload(
    State(state): State<AppState>,
    AuthUser(up): AuthUser,
    Path(group): Path<String>,
    AppQuery(query): AppQuery<NameQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let group = EntityId::parse(group)?;
    state.event_rate.check(&up)?;
    let limits = state.attachment_limits;
    let file = file_of(&headers, query.name, body, limits.max_bytes).await?;
    let (limited, bytes) = Limited::new(file.bytes, limits.max_bytes);
    let query = UploadQuery {
        group,
        uploader: up,
        name: file.name,
        max_bytes: Some(limits.max_bytes),
        quota_bytes: Some(limits.quota_bytes),
    };
    match state
        .store
        .upload_attachment(&query, file.declared, bytes)
        .await
    {
        Ok(attachment) => Ok((StatusCode::CREATED, axum::Json(attachment)).into_response()),
        Err(_) if limited.over() => Err(over_limit(limits.max_bytes)),
        Err(err) => match limited.broken() {
            Some(why) => Err(ApiError::InvalidArgument(format!(
                "the upload broke off: {why}"
            ))),
            None => Err(err),
        },
    }
}

/// A signed link's query.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinkQuery {
    /// When the link expires, seconds since the Unix epoch.
    #[serde(default)]
    #[param(minimum = 0)]
    pub exp: Option<u64>,
    /// The link's signature (64 hex).
    #[serde(default)]
    #[param(pattern = "^[0-9a-f]{64}$")]
    pub sig: Option<String>,
}

/// Download an attachment
///
/// For members of the attachment's group, with `Authorization: Bearer
/// <token>`, or for anyone holding its signed link (the attachment's `url`:
/// `?exp=&sig=`, valid 15 to 20 minutes). Streamed, with `Content-Type`
/// (sniffed), `Content-Length`, `ETag`, `X-Content-Type-Options: nosniff`,
/// and `Content-Disposition: attachment` for every type but PNG, JPEG, GIF
/// and WebP images (`inline`). One `Range` is answered `206`.
#[utoipa::path(get, path = "/chat/attachment/{id}", tag = PUBLIC_TAG,
    params(("id" = inline(EntityId), Path, description = "attachment id"), LinkQuery, DownloadHeaders),
    responses((status = 200, content_type = "*/*", body = inline(Binary), description = "the file"),
        (status = 206, content_type = "*/*", body = inline(Binary), description = "the `Range` asked for"),
        (status = 304, description = "the `If-None-Match` copy is current"),
        (status = 400, body = ErrorBody, description = "`invalid_argument`: a bad id"),
        (status = 401, body = ErrorBody, description = "`unauthenticated`: no token and no link, a bad token, or a link that is forged or expired"),
        (status = 403, body = ErrorBody, description = "`permission_denied`: the user is not a member of the attachment's group"),
        (status = 404, body = ErrorBody, description = "`not_found`: an unknown attachment"),
        (status = 416, body = ErrorBody, description = "`invalid_argument`: the range starts past the end of the file"),
        ServerErrors))]
async fn download(
    State(state): State<AppState>,
    Path(id): Path<String>,
    AppQuery(link): AppQuery<LinkQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    serve(&state, &id, false, &link, &headers).await
}

/// Download a thumbnail
///
/// The thumbnail of an image attachment (at most 320 px on its long side),
/// opened like the attachment itself; the same signed link works for both.
#[utoipa::path(get, path = "/chat/attachment/{id}/thumbnail", tag = PUBLIC_TAG,
    params(("id" = inline(EntityId), Path, description = "attachment id"), LinkQuery, DownloadHeaders),
    responses((status = 200, content_type = "*/*", body = inline(Binary), description = "the thumbnail"),
        (status = 206, content_type = "*/*", body = inline(Binary), description = "the `Range` asked for"),
        (status = 304, description = "the `If-None-Match` copy is current"),
        (status = 400, body = ErrorBody, description = "`invalid_argument`: a bad id"),
        (status = 401, body = ErrorBody, description = "`unauthenticated`: no token and no link, a bad token, or a link that is forged or expired"),
        (status = 403, body = ErrorBody, description = "`permission_denied`: the user is not a member of the attachment's group"),
        (status = 404, body = ErrorBody, description = "`not_found`: an unknown attachment, or one without a thumbnail"),
        (status = 416, body = ErrorBody, description = "`invalid_argument`: the range starts past the end of the thumbnail"),
        ServerErrors))]
async fn download_thumbnail(
    State(state): State<AppState>,
    Path(id): Path<String>,
    AppQuery(link): AppQuery<LinkQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    serve(&state, &id, true, &link, &headers).await
}

/// Who is asking: nobody in particular with a valid link (`None`), else
/// the bearer's user.
fn reader(
    state: &AppState,
    id: &EntityId,
    link: &LinkQuery,
    headers: &HeaderMap,
) -> Result<Option<Up>, ApiError> {
    if let (Some(exp), Some(sig)) = (link.exp, link.sig.as_deref()) {
        state.urls.verify(id.as_str(), exp, sig, now())?;
        return Ok(None);
    }
    let up = bearer_user(headers, state)?.ok_or_else(|| {
        ApiError::Unauthenticated(
            "`Authorization: Bearer <token>` or a signed link (`exp`, `sig`) is required".into(),
        )
    })?;
    Ok(Some(up))
}

/// Streams the store's answer about attachment `id` on to the client.
async fn serve(
    state: &AppState,
    id: &str,
    thumbnail: bool,
    link: &LinkQuery,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let id = EntityId::parse(id)?;
    let reader = reader(state, &id, link, headers)?;
    let answer = state
        .store
        .download_attachment(&id, thumbnail, reader.as_ref(), headers)
        .await?;
    let status = answer.status();
    let mut passed = HeaderMap::new();
    for name in PASSED_ON {
        if let Some(value) = answer.headers().get(&name) {
            passed.insert(name, value.clone());
        }
    }
    if reader.is_none() {
        // A link is valid for minutes: no cache may keep the file longer.
        passed.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, max-age=900"),
        );
    }
    let body = Body::from_stream(answer.bytes_stream());
    let mut response = (status, body).into_response();
    response.headers_mut().extend(passed);
    Ok(response)
}
