//! An upload, from the request body to a stored attachment: the limits
//! checked before a byte is read (membership, quota, a declared
//! `Content-Length`), the body streamed into GridFS as it comes (one chunk
//! of 255 KiB in memory at a time) and counted, the type sniffed from the
//! first bytes, an image's dimensions and thumbnail, and the quota checked
//! again once the size is known (two uploads of one user racing each other
//! cannot both pass it).
//!
//! Whatever stops an upload (a limit, the client going away, a pause of
//! [`IDLE_TIMEOUT`], MongoDB) deletes what it wrote: the GridFS upload is
//! aborted, its document removed. A store that dies mid-upload leaves an
//! `uploading` document for the sweep.

use super::sniff::{self, SNIFF_BYTES};
use super::thumbnail::{MAX_IMAGE_FILE_BYTES, Refused, Thumbnailer};
use crate::db::attachments::{AttachmentDoc, Uploaded};
use crate::db::documents::ThumbnailDoc;
use crate::db::{Store, db_error};
use axum::body::Body;
use chat_wire::ids::Up;
use futures::{AsyncReadExt, AsyncWriteExt, StreamExt};
use mongodb::bson::oid::ObjectId;
use service_kit::ApiError;
use std::time::Duration;
use tokio::time::Instant;

/// The longest pause between two reads of an upload's body.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest an upload may take in all (well within the sweep's hour).
pub const UPLOAD_DEADLINE: Duration = Duration::from_secs(30 * 60);

/// What bounds one upload.
#[derive(Debug, Clone, Copy)]
pub struct UploadLimits {
    /// The largest file, in bytes.
    pub max_bytes: u64,
    /// What the uploader may keep in all, in bytes.
    pub quota_bytes: u64,
}

/// An upload to make.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The group.
    pub group: ObjectId,
    /// The uploader (must be a member).
    pub uploader: Up,
    /// The file name, already checked.
    pub name: String,
    /// Its bounds.
    pub limits: UploadLimits,
    /// The body's declared `Content-Length`, if any.
    pub declared: Option<u64>,
}

/// Stores the file of `body` as an attachment.
pub async fn upload(
    store: &Store,
    thumbnailer: &Thumbnailer,
    upload: Upload,
    body: Body,
) -> Result<AttachmentDoc, ApiError> {
    store.require_member(upload.group, &upload.uploader).await?;
    let allowed = allowance(store, &upload).await?;
    let doc = AttachmentDoc::uploading(upload.group, upload.uploader.clone(), upload.name.clone());
    store.start_upload(&doc).await?;
    match store_bytes(store, thumbnailer, &doc, &upload, allowed, body).await {
        Ok(stored) => Ok(stored),
        Err(err) => {
            if let Err(cleanup) = store.remove_attachments(&[doc.id]).await {
                // The sweep removes it later.
                tracing::warn!(error = %cleanup, "could not remove a refused upload");
            }
            Err(err)
        }
    }
}

/// How many bytes this upload may hold: the file limit, or what is left of
/// the quota. Refuses at once when nothing is left, or when the declared
/// length is over it.
async fn allowance(store: &Store, upload: &Upload) -> Result<Allowed, ApiError> {
    let UploadLimits {
        max_bytes,
        quota_bytes,
    } = upload.limits;
    let used = store.stored_bytes(&upload.uploader).await?;
    let left = quota_bytes.saturating_sub(used);
    let allowed = if left < max_bytes {
        Allowed::Quota { left, quota_bytes }
    } else {
        Allowed::File { max_bytes }
    };
    if left == 0
        || upload
            .declared
            .is_some_and(|declared| declared > allowed.bytes())
    {
        return Err(allowed.refusal());
    }
    Ok(allowed)
}

/// The bound an upload meets first.
#[derive(Debug, Clone, Copy)]
enum Allowed {
    File { max_bytes: u64 },
    Quota { left: u64, quota_bytes: u64 },
}

impl Allowed {
    fn bytes(self) -> u64 {
        match self {
            Self::File { max_bytes } => max_bytes,
            Self::Quota { left, .. } => left,
        }
    }

    fn refusal(self) -> ApiError {
        ApiError::PayloadTooLarge(match self {
            Self::File { max_bytes } => format!("a file may hold at most {max_bytes} bytes"),
            Self::Quota { left, quota_bytes } => format!(
                "the uploader's attachments may hold at most {quota_bytes} bytes in all; \
                 {left} are left"
            ),
        })
    }
}

/// Writes the bytes, learns what they are, and marks the upload stored.
async fn store_bytes(
    store: &Store,
    thumbnailer: &Thumbnailer,
    doc: &AttachmentDoc,
    upload: &Upload,
    allowed: Allowed,
    body: Body,
) -> Result<AttachmentDoc, ApiError> {
    let (size, head) = write_body(store, doc.id, &doc.name, body, allowed).await?;
    let content_type = sniff::content_type(&head);
    let mut uploaded = Uploaded {
        content_type,
        size,
        dimensions: None,
        thumbnail: None,
    };
    if let Some(format) = sniff::image_format(&uploaded.content_type) {
        if size > MAX_IMAGE_FILE_BYTES {
            return Err(ApiError::PayloadTooLarge(format!(
                "an image may hold at most {MAX_IMAGE_FILE_BYTES} bytes"
            )));
        }
        let bytes = read_back(store, doc.id, size).await?;
        let inspected =
            thumbnailer
                .inspect(bytes, format)
                .await
                .map_err(|refused| match refused {
                    Refused::TooLarge(why) => ApiError::PayloadTooLarge(why),
                    Refused::Unfinished => ApiError::Unavailable(anyhow::anyhow!(refused)),
                })?;
        uploaded.dimensions = inspected.dimensions;
        if inspected.dimensions.is_none() {
            // Not an image this store can read: nothing vouches for what a
            // browser would make of it inline, so it is served as a
            // download.
            uploaded.content_type = chat_wire::attachments::UNKNOWN_TYPE.to_owned();
        }
        if let Some(encoded) = inspected.thumbnail {
            let id = ObjectId::new();
            let stored = write_all(store, id, "thumbnail", &encoded.bytes).await;
            if let Err(err) = stored {
                store.delete_bytes(id).await.ok();
                return Err(err);
            }
            uploaded.thumbnail = Some(ThumbnailDoc {
                id,
                width: encoded.width.into(),
                height: encoded.height.into(),
                content_type: encoded.content_type.to_owned(),
                size: encoded.bytes.len() as i64,
            });
        }
    }
    let stored = match store.finish_upload(doc.id, &uploaded).await {
        Ok(stored) => stored,
        Err(err) => {
            // Not in the document yet: removing the upload would miss it.
            if let Some(thumbnail) = &uploaded.thumbnail {
                store.delete_bytes(thumbnail.id).await.ok();
            }
            return Err(err);
        }
    };
    // Checked again with this file counted: of two uploads racing past the
    // first check, the one that finds the quota passed gives way.
    if store.stored_bytes(&upload.uploader).await? > upload.limits.quota_bytes {
        return Err(Allowed::Quota {
            left: 0,
            quota_bytes: upload.limits.quota_bytes,
        }
        .refusal());
    }
    Ok(stored)
}

/// Streams `body` into the GridFS file `id`, at most `allowed` bytes;
/// answers its size and first bytes. Aborts the GridFS upload (its chunks
/// are deleted) on any failure.
async fn write_body(
    store: &Store,
    id: ObjectId,
    name: &str,
    body: Body,
    allowed: Allowed,
) -> Result<(u64, Vec<u8>), ApiError> {
    let mut file = store
        .files
        .open_upload_stream(name)
        .id(id.into())
        .await
        .map_err(db_error)?;
    let mut stream = body.into_data_stream();
    let mut size = 0u64;
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    let deadline = Instant::now() + UPLOAD_DEADLINE;
    let written: Result<(), ApiError> = async {
        loop {
            let wait = IDLE_TIMEOUT.min(deadline.saturating_duration_since(Instant::now()));
            let bytes = match tokio::time::timeout(wait, stream.next()).await {
                Err(_) => {
                    return Err(ApiError::InvalidArgument(format!(
                        "the upload stalled (no data for {} s, or over {} minutes in all)",
                        IDLE_TIMEOUT.as_secs(),
                        UPLOAD_DEADLINE.as_secs() / 60
                    )));
                }
                Ok(None) => return Ok(()),
                Ok(Some(Err(err))) => {
                    tracing::debug!(error = %err, "an upload's body broke off");
                    return Err(ApiError::InvalidArgument(
                        "the upload was interrupted before its end".into(),
                    ));
                }
                Ok(Some(Ok(bytes))) => bytes,
            };
            size += bytes.len() as u64;
            if size > allowed.bytes() {
                return Err(allowed.refusal());
            }
            let missing = SNIFF_BYTES.saturating_sub(head.len()).min(bytes.len());
            head.extend_from_slice(&bytes[..missing]);
            file.write_all(&bytes).await.map_err(io_error)?;
        }
    }
    .await;
    match written {
        Ok(()) => {
            file.close().await.map_err(io_error)?;
            Ok((size, head))
        }
        Err(err) => {
            if let Err(abort) = file.abort().await {
                tracing::warn!(error = %abort, "could not abort a GridFS upload");
            }
            Err(err)
        }
    }
}

/// Writes `bytes` as the GridFS file `id`.
async fn write_all(store: &Store, id: ObjectId, name: &str, bytes: &[u8]) -> Result<(), ApiError> {
    let mut file = store
        .files
        .open_upload_stream(name)
        .id(id.into())
        .await
        .map_err(db_error)?;
    file.write_all(bytes).await.map_err(io_error)?;
    file.close().await.map_err(io_error)
}

/// The whole GridFS file `id` of `size` bytes, for decoding.
async fn read_back(store: &Store, id: ObjectId, size: u64) -> Result<Vec<u8>, ApiError> {
    let mut file = store
        .files
        .open_download_stream(id.into())
        .await
        .map_err(db_error)?;
    let mut bytes = Vec::with_capacity(size as usize);
    file.read_to_end(&mut bytes).await.map_err(io_error)?;
    Ok(bytes)
}

/// A GridFS stream error: MongoDB's, behind `std::io::Error`.
fn io_error(err: std::io::Error) -> ApiError {
    ApiError::Unavailable(anyhow::Error::new(err).context("GridFS"))
}
