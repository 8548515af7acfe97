//! Serving a GridFS file over HTTP: the whole file, or one byte range
//! (`206`), read from the chunks that hold it, in order; `ETag` and `If-None-Match` (`304`); and the headers
//! that keep a browser from running what it downloads: the sniffed type,
//! `X-Content-Type-Options: nosniff`, `Content-Disposition: attachment`
//! for every type but raster images, and a sandboxing
//! `Content-Security-Policy`.
//!
//! Only the first response bytes wait for MongoDB: the body streams chunk
//! by chunk (255 KiB each), the chunks read [`CHUNKS_PER_READ`] at a time,
//! so a download holds about a MiB in memory whatever the file's size.
//! (The driver's `open_download_stream` reads chunks in the server's
//! default batches, up to 16 MiB per download: 50 downloads at once took
//! the store to 850 MiB, `docs/benchmarks.md`.)

use crate::db::{Store, db_error};
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chat_wire::attachments::content_disposition;
use futures::StreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Document, doc};
use service_kit::ApiError;

/// Chunks fetched from MongoDB per read of a download: about 1 MiB.
const CHUNKS_PER_READ: u32 = 4;
/// What a downloaded file may do when a browser opens it: nothing.
const SANDBOX: &str = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'";

/// One GridFS file as it is served.
#[derive(Debug, Clone)]
pub struct Served {
    /// Its GridFS id.
    pub id: ObjectId,
    /// Bytes.
    pub size: u64,
    /// The sniffed media type.
    pub content_type: String,
    /// The name offered to save it as.
    pub name: String,
}

/// The bytes a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    /// All of them (no `Range`, one this server does not serve, or an
    /// `If-Range` that does not match).
    Whole,
    /// `start..=end`.
    Part {
        /// The first byte.
        start: u64,
        /// The last byte.
        end: u64,
    },
    /// A range that starts past the end (`416`).
    Unsatisfiable,
}

/// Reads a `Range` header for a file of `size` bytes: one range of
/// `bytes=a-b`, `bytes=a-` or `bytes=-n`. Several ranges, or a header that
/// does not parse, are answered with the whole file (RFC 9110 allows it).
pub fn wanted(range: Option<&str>, size: u64) -> Wanted {
    let Some(spec) = range.and_then(|r| r.trim().strip_prefix("bytes=")) else {
        return Wanted::Whole;
    };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Wanted::Whole;
    };
    let number = |text: &str| -> Option<u64> {
        let text = text.trim();
        (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse().ok())
            .flatten()
    };
    match (number(first), number(last), first.trim().is_empty()) {
        // bytes=-n: the last n bytes.
        (None, Some(suffix), true) => {
            if suffix == 0 || size == 0 {
                Wanted::Unsatisfiable
            } else {
                Wanted::Part {
                    start: size.saturating_sub(suffix),
                    end: size - 1,
                }
            }
        }
        (Some(start), last, false) => {
            if last.is_some_and(|last| last < start) {
                return Wanted::Whole;
            }
            if start >= size {
                return Wanted::Unsatisfiable;
            }
            let end = last.map_or(size - 1, |last| last.min(size - 1));
            Wanted::Part { start, end }
        }
        _ => Wanted::Whole,
    }
}

/// The strong `ETag` of a file: its id (a file never changes).
pub fn etag(id: ObjectId) -> String {
    format!("\"{}\"", id.to_hex())
}

/// Answers a request for `file` with its `headers` (`Range`, `If-Range`,
/// `If-None-Match`).
pub async fn serve(store: &Store, file: Served, headers: &HeaderMap) -> Result<Response, ApiError> {
    let tag = etag(file.id);
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(tags) = text(header::IF_NONE_MATCH)
        && tags.split(',').any(|t| t.trim() == tag || t.trim() == "*")
    {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        set_common(response.headers_mut(), &file, &tag);
        return Ok(response);
    }
    let range_applies = text(header::IF_RANGE).is_none_or(|condition| condition.trim() == tag);
    let range = if range_applies {
        text(header::RANGE)
    } else {
        None
    };
    let mut response = match wanted(range, file.size) {
        Wanted::Whole => {
            let body = if file.size == 0 {
                Body::empty()
            } else {
                Body::from_stream(part(store, file.id, 0, file.size - 1).await?)
            };
            let mut response = body.into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(file.size));
            response
        }
        Wanted::Part { start, end } => {
            let body = Body::from_stream(part(store, file.id, start, end).await?);
            let mut response = (StatusCode::PARTIAL_CONTENT, body).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(end - start + 1));
            let range = format!("bytes {start}-{end}/{}", file.size);
            headers.insert(header::CONTENT_RANGE, header_value(&range));
            response
        }
        Wanted::Unsatisfiable => {
            let message = format!(
                "the file has {} bytes; the range starts past its end",
                file.size
            );
            let mut response = ApiError::InvalidArgument(message).into_response();
            *response.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            let range = format!("bytes */{}", file.size);
            response
                .headers_mut()
                .insert(header::CONTENT_RANGE, header_value(&range));
            return Ok(response);
        }
    };
    set_common(response.headers_mut(), &file, &tag);
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, header_value(&file.content_type));
    Ok(response)
}

/// The headers of every answer about a file, `304` included.
fn set_common(headers: &mut HeaderMap, file: &Served, tag: &str) {
    headers.insert(header::ETAG, header_value(tag));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        header_value(&content_disposition(&file.content_type, &file.name)),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(SANDBOX),
    );
}

/// Text built from sniffed types and escaped names: always a valid header.
fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

/// Bytes `start..=end` of file `id`, read from the chunks that hold them.
async fn part(
    store: &Store,
    id: ObjectId,
    start: u64,
    end: u64,
) -> Result<impl futures::Stream<Item = Result<Bytes, ApiError>> + Send + 'static, ApiError> {
    let file = store
        .files
        .find_one(doc! {"_id": id})
        .await
        .map_err(db_error)?
        .ok_or_else(|| crate::db::attachments::attachment_not_found(id))?;
    let chunk = u64::from(file.chunk_size_bytes.max(1));
    let (first, last) = (start / chunk, end / chunk);
    let chunks = store
        .database()
        .collection::<Document>("attachments.chunks")
        .find(doc! {"files_id": id, "n": {"$gte": first as i64, "$lte": last as i64}})
        .sort(doc! {"n": 1})
        .batch_size(CHUNKS_PER_READ)
        .await
        .map_err(db_error)?;
    let mut expected = first;
    Ok(chunks.map(move |found| {
        let found = found.map_err(db_error)?;
        let n = found.get_i32("n").map(i64::from).unwrap_or(-1);
        let data = found
            .get_binary_generic("data")
            .map_err(|err| ApiError::Internal(anyhow::Error::new(err)))?;
        if u64::try_from(n).ok() != Some(expected) {
            return Err(ApiError::Internal(anyhow::anyhow!(
                "file {id}: chunk {expected} is missing"
            )));
        }
        expected += 1;
        let base = (n as u64) * chunk;
        let from = start.saturating_sub(base).min(data.len() as u64) as usize;
        let to = (end + 1 - base).min(data.len() as u64) as usize;
        Ok(Bytes::copy_from_slice(&data[from..to.max(from)]))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_of_each_form_are_read_and_clamped() {
        let part = |start, end| Wanted::Part { start, end };
        assert_eq!(wanted(None, 100), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=0-9"), 100), part(0, 9));
        assert_eq!(wanted(Some("bytes=90-"), 100), part(90, 99));
        assert_eq!(wanted(Some("bytes=90-500"), 100), part(90, 99));
        assert_eq!(wanted(Some("bytes=-10"), 100), part(90, 99));
        assert_eq!(wanted(Some("bytes=-500"), 100), part(0, 99));
        assert_eq!(wanted(Some("bytes=100-"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=-0"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=0-0"), 0), Wanted::Unsatisfiable);
    }

    #[test]
    fn ranges_this_server_does_not_serve_get_the_whole_file() {
        for range in [
            "bytes=0-1,5-6",
            "items=0-1",
            "bytes=5-1",
            "bytes=a-b",
            "bytes=-",
            "bytes=1",
        ] {
            assert_eq!(wanted(Some(range), 100), Wanted::Whole, "{range}");
        }
    }
}
