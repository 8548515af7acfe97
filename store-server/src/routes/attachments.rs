//! `/attachment` routes: upload a file (a raw body streamed into GridFS),
//! download it or its thumbnail (whole or by range), read its metadata,
//! remove it. Messages take attachments through `POST /message`.

use super::input::parse_id;
use super::{Created, DATA_TAG};
use crate::attachments::download::{self, Served};
use crate::attachments::upload::{self, Upload, UploadLimits};
use crate::config::MAX_ATTACHMENT_BYTES;
use crate::db::attachments::{AttachmentDoc, attachment_not_found};
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chat_wire::ErrorBody;
use chat_wire::attachments::{Attachment, ReaderQuery, UploadQuery, parse_name};
use chat_wire::ids::EntityId;
use chat_wire::schema::{Binary, DownloadHeaders};
use service_kit::responses::{BadRequest, ServerErrors, Unauthenticated};
use service_kit::{ApiError, AppQuery};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this file, as matched: the upload may take longer than
/// the request timeout (it bounds its own time, see `attachments::upload`).
pub const STREAMING_ROUTES: &[&str] = &["/attachment"];

/// The `/attachment` routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_attachment))
        .routes(routes!(download_attachment, delete_attachment))
        .routes(routes!(download_thumbnail))
        .routes(routes!(attachment_metadata))
}

/// Upload an attachment
///
/// The body is the file's bytes, streamed into GridFS as they come: a body
/// over `maxBytes` (or over what is left of the uploader's `quotaBytes`) is
/// refused with `413` as soon as it passes the limit, or before a byte is
/// read when its `Content-Length` says so, and nothing of it is kept. The
/// type is sniffed from the bytes (the request's `Content-Type` is
/// ignored). PNG, JPEG, GIF and WebP images get their dimensions and a
/// thumbnail; an image too large to decode safely is refused with `413`.
/// The attachment waits for a message (`POST /message` with `attachments`)
/// for an hour, then is removed.
#[utoipa::path(post, path = "/attachment", tag = DATA_TAG, params(UploadQuery),
    request_body(content = inline(Binary), content_type = "application/octet-stream", description = "The file's bytes."),
    responses((status = 201, body = Attachment, description = "stored"),
        BadRequest, Unauthenticated,
        (status = 403, body = ErrorBody, description = "`permission_denied`: `uploader` is not a member of the group"),
        (status = 404, body = ErrorBody, description = "`not_found`: an unknown group"),
        (status = 413, body = ErrorBody, description = "`payload_too_large`: the file is over `maxBytes`, the uploader's attachments would pass `quotaBytes`, or an image has too many pixels"),
        ServerErrors))]
async fn upload_attachment(
    State(state): State<AppState>,
    AppQuery(query): AppQuery<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Created<Attachment>, ApiError> {
    let name = parse_name(query.name.as_deref())
        .map_err(|err| ApiError::InvalidArgument(err.to_string()))?;
    let limits = UploadLimits {
        max_bytes: query.max_bytes.unwrap_or(state.attachment_limits.max_bytes),
        quota_bytes: query
            .quota_bytes
            .unwrap_or(state.attachment_limits.quota_bytes),
    };
    if !(1..=MAX_ATTACHMENT_BYTES).contains(&limits.max_bytes) || limits.quota_bytes == 0 {
        return Err(ApiError::InvalidArgument(format!(
            "`maxBytes` is 1 to {MAX_ATTACHMENT_BYTES}, and `quotaBytes` at least 1"
        )));
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok());
    let upload = Upload {
        group: crate::db::documents::object_id(&query.group),
        uploader: query.uploader,
        name,
        limits,
        declared,
    };
    let stored = upload::upload(&state.store, &state.thumbnailer, upload, body).await?;
    Ok(Created(stored.meta().into()))
}

/// The readable attachment `id`, if `reader.up` (when given) may read it.
async fn readable(
    state: &AppState,
    id: &str,
    reader: &ReaderQuery,
) -> Result<AttachmentDoc, ApiError> {
    let found = state.store.attachment(parse_id(id)?).await?;
    if let Some(up) = &reader.up {
        state.store.require_member(found.group, up).await?;
    }
    Ok(found)
}

/// Download an attachment
///
/// Its bytes, streamed from GridFS, with its sniffed `Content-Type`,
/// `Content-Length`, `ETag`, `X-Content-Type-Options: nosniff`, and
/// `Content-Disposition: inline` for PNG, JPEG, GIF and WebP images,
/// `attachment` for everything else. One `Range` is answered `206`.
#[utoipa::path(get, path = "/attachment/{id}", tag = DATA_TAG,
    params(("id" = inline(EntityId), Path, description = "attachment id"), ReaderQuery, DownloadHeaders),
    responses((status = 200, content_type = "*/*", body = inline(Binary), description = "the file"),
        (status = 206, content_type = "*/*", body = inline(Binary), description = "the `Range` asked for"),
        (status = 304, description = "the `If-None-Match` copy is current"),
        BadRequest, Unauthenticated,
        (status = 403, body = ErrorBody, description = "`permission_denied`: `up` is not a member of the attachment's group"),
        (status = 404, body = ErrorBody, description = "`not_found`: an unknown attachment (or one not uploaded yet, or removed)"),
        (status = 416, body = ErrorBody, description = "`invalid_argument`: the range starts past the end of the file"),
        ServerErrors))]
async fn download_attachment(
    State(state): State<AppState>,
    Path(id): Path<String>,
    AppQuery(reader): AppQuery<ReaderQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let found = readable(&state, &id, &reader).await?;
    let file = Served {
        id: found.id,
        size: u64::try_from(found.size).unwrap_or(0),
        content_type: found.meta().content_type,
        name: found.name,
    };
    download::serve(&state.store, file, &headers).await
}

/// Download a thumbnail
///
/// The thumbnail of an image attachment (at most 320 px on its long side;
/// JPEG, or PNG for images with transparency), as the attachment itself.
#[utoipa::path(get, path = "/attachment/{id}/thumbnail", tag = DATA_TAG,
    params(("id" = inline(EntityId), Path, description = "attachment id"), ReaderQuery, DownloadHeaders),
    responses((status = 200, content_type = "*/*", body = inline(Binary), description = "the thumbnail"),
        (status = 206, content_type = "*/*", body = inline(Binary), description = "the `Range` asked for"),
        (status = 304, description = "the `If-None-Match` copy is current"),
        BadRequest, Unauthenticated,
        (status = 403, body = ErrorBody, description = "`permission_denied`: `up` is not a member of the attachment's group"),
        (status = 404, body = ErrorBody, description = "`not_found`: an unknown attachment, or one without a thumbnail"),
        (status = 416, body = ErrorBody, description = "`invalid_argument`: the range starts past the end of the thumbnail"),
        ServerErrors))]
async fn download_thumbnail(
    State(state): State<AppState>,
    Path(id): Path<String>,
    AppQuery(reader): AppQuery<ReaderQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let found = readable(&state, &id, &reader).await?;
    let Some(thumbnail) = found.thumbnail else {
        return Err(ApiError::NotFound(format!(
            "attachment {} has no thumbnail",
            crate::db::documents::entity_id(found.id)
        )));
    };
    let file = Served {
        id: thumbnail.id,
        size: u64::try_from(thumbnail.size).unwrap_or(0),
        content_type: thumbnail.content_type,
        name: format!("thumbnail-{}", found.name),
    };
    download::serve(&state.store, file, &headers).await
}

/// An attachment's metadata
#[utoipa::path(get, path = "/attachment/{id}/metadata", tag = DATA_TAG,
    params(("id" = inline(EntityId), Path, description = "attachment id"), ReaderQuery),
    responses((status = 200, body = Attachment),
        BadRequest, Unauthenticated,
        (status = 403, body = ErrorBody, description = "`permission_denied`: `up` is not a member of the attachment's group"),
        (status = 404, body = ErrorBody, description = "`not_found`: an unknown attachment"),
        ServerErrors))]
async fn attachment_metadata(
    State(state): State<AppState>,
    Path(id): Path<String>,
    AppQuery(reader): AppQuery<ReaderQuery>,
) -> Result<Json<Attachment>, ApiError> {
    let found = readable(&state, &id, &reader).await?;
    Ok(Json(found.meta().into()))
}

/// Remove an attachment
///
/// Deletes its bytes and thumbnail, whether a message carries it or not (a
/// message keeps its metadata; downloads answer `404`). Deleting a message
/// removes its attachments by itself.
#[utoipa::path(delete, path = "/attachment/{id}", tag = DATA_TAG,
    params(("id" = inline(EntityId), Path, description = "attachment id")),
    responses((status = 204, description = "removed"),
        BadRequest, Unauthenticated,
        (status = 404, body = ErrorBody, description = "`not_found`: an unknown attachment"),
        ServerErrors))]
async fn delete_attachment(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let found = state.store.attachment(id).await;
    match found {
        Ok(found) => state.store.remove_attachments(&[found.id]).await?,
        Err(ApiError::NotFound(_)) => return Err(attachment_not_found(id)),
        Err(err) => return Err(err),
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
