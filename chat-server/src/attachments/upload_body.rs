//! The file of an upload request, as a stream handed on to the store as it
//! arrives: the raw body (its name in `?name=`), or the one `file` part of
//! a `multipart/form-data` body (its name from the part). Never the whole
//! file in memory.
//!
//! The stream stops with an error as soon as it passes the limit, or when
//! the client pauses for [`IDLE_TIMEOUT`]; the store then sees its upload
//! break off and deletes what it wrote. [`Limited::over`] tells the caller
//! it was the limit.

use axum::body::Body;
use axum::http::{HeaderMap, header};
use bytes::Bytes;
use futures::{Stream, StreamExt};
use service_kit::ApiError;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The longest pause between two reads of an upload's body.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// What a multipart body may hold besides its file (boundaries, part
/// headers) before its declared length counts as over the limit.
const MULTIPART_OVERHEAD: u64 = 16 * 1024;

/// A file's bytes as they arrive.
pub type FileStream = Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>;

/// The file of an upload request.
pub struct UploadedFile {
    /// Its name, as the client gave it (checked by the store).
    pub name: Option<String>,
    /// Its length, when the request declares it exactly (a raw body).
    pub declared: Option<u64>,
    /// Its bytes.
    pub bytes: FileStream,
}

/// Reads the file of a request whose body is `body`, refusing at once a
/// declared length over `max` bytes.
pub async fn file_of(
    headers: &HeaderMap,
    name: Option<String>,
    body: Body,
    max: u64,
) -> Result<UploadedFile, ApiError> {
    let declared: Option<u64> = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok());
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let boundary = multer::parse_boundary(content_type).ok();
    let slack = if boundary.is_some() {
        MULTIPART_OVERHEAD
    } else {
        0
    };
    if declared.is_some_and(|declared| declared > max.saturating_add(slack)) {
        return Err(over_limit(max));
    }
    let Some(boundary) = boundary else {
        return Ok(UploadedFile {
            name,
            declared,
            bytes: Box::pin(
                body.into_data_stream()
                    .map(|chunk| chunk.map_err(std::io::Error::other)),
            ),
        });
    };
    let constraints = multer::Constraints::new().allowed_fields(vec!["file"]);
    let mut form =
        multer::Multipart::with_constraints(body.into_data_stream(), boundary, constraints);
    let field = match tokio::time::timeout(IDLE_TIMEOUT, form.next_field()).await {
        Ok(Ok(Some(field))) => field,
        Ok(Ok(None)) => {
            return Err(ApiError::InvalidArgument(
                "the multipart body has no `file` part".into(),
            ));
        }
        Ok(Err(err)) => {
            return Err(ApiError::InvalidArgument(format!(
                "the multipart body must hold one part named `file`: {err}"
            )));
        }
        Err(_) => return Err(ApiError::InvalidArgument("the upload stalled".into())),
    };
    let name = name.or_else(|| field.file_name().map(str::to_owned));
    Ok(UploadedFile {
        name,
        declared: None,
        bytes: Box::pin(futures::stream::unfold(
            Part::Reading(Box::new((form, field))),
            Part::next,
        )),
    })
}

/// Where the reading of a form's `file` part is.
enum Part {
    /// In the part (the form goes with its field: the field reads through it).
    Reading(Box<(multer::Multipart<'static>, multer::Field<'static>)>),
    /// Past it: nothing may follow.
    Done,
}

impl Part {
    /// The part's next bytes; after its end, an error if another part follows.
    async fn next(self) -> Option<(Result<Bytes, std::io::Error>, Part)> {
        let Part::Reading(reading) = self else {
            return None;
        };
        let (mut form, mut field) = *reading;
        match field.chunk().await {
            Ok(Some(chunk)) => Some((Ok(chunk), Part::Reading(Box::new((form, field))))),
            Err(err) => Some((Err(std::io::Error::other(err)), Part::Done)),
            Ok(None) => {
                drop(field);
                match form.next_field().await {
                    Ok(None) => None,
                    Ok(Some(_)) | Err(_) => {
                        let err = std::io::Error::other(
                            "the multipart body must hold one part, named `file`",
                        );
                        Some((Err(err), Part::Done))
                    }
                }
            }
        }
    }
}

/// The `payload_too_large` of a file over `max` bytes.
pub fn over_limit(max: u64) -> ApiError {
    ApiError::PayloadTooLarge(format!("a file may hold at most {max} bytes"))
}

/// A stream that ends with an error once it passes `max` bytes or pauses
/// for [`IDLE_TIMEOUT`].
pub struct Limited {
    over: Arc<AtomicBool>,
    broken: Arc<Mutex<Option<String>>>,
}

impl Limited {
    /// Wraps `bytes`; [`Limited::over`] says afterwards whether it passed `max`.
    pub fn new(bytes: FileStream, max: u64) -> (Self, FileStream) {
        let over = Arc::new(AtomicBool::new(false));
        let broken = Arc::new(Mutex::new(None));
        let flag = over.clone();
        let why = broken.clone();
        let limited =
            futures::stream::unfold((bytes, 0u64, false), move |(mut bytes, seen, ended)| {
                let flag = flag.clone();
                let why = why.clone();
                async move {
                    if ended {
                        return None;
                    }
                    let next = match tokio::time::timeout(IDLE_TIMEOUT, bytes.next()).await {
                        Err(_) => Err(std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            "the upload stalled",
                        )),
                        Ok(None) => return None,
                        Ok(Some(chunk)) => chunk,
                    };
                    match next {
                        Ok(chunk) if seen + chunk.len() as u64 > max => {
                            flag.store(true, Ordering::Release);
                            let err = std::io::Error::other("the file is over the limit");
                            Some((Err(err), (bytes, seen, true)))
                        }
                        Ok(chunk) => {
                            let seen = seen + chunk.len() as u64;
                            Some((Ok(chunk), (bytes, seen, false)))
                        }
                        Err(err) => {
                            let mut reason = why.lock().unwrap_or_else(|p| p.into_inner());
                            *reason = Some(err.to_string());
                            Some((Err(err), (bytes, seen, true)))
                        }
                    }
                }
            });
        (Self { over, broken }, Box::pin(limited))
    }

    /// Whether the stream stopped because it passed its limit.
    pub fn over(&self) -> bool {
        self.over.load(Ordering::Acquire)
    }

    /// Why the client's body broke off (it stalled, its form was wrong, the
    /// connection dropped), if it did.
    pub fn broken(&self) -> Option<String> {
        self.broken
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(sizes: &[usize]) -> FileStream {
        let items: Vec<Result<Bytes, std::io::Error>> = sizes
            .iter()
            .map(|n| Ok(Bytes::from(vec![7u8; *n])))
            .collect();
        Box::pin(futures::stream::iter(items))
    }

    #[tokio::test]
    async fn a_stream_within_its_limit_passes_whole_and_one_over_stops_there() {
        let (limit, stream) = Limited::new(chunks(&[10, 10]), 20);
        let read: Vec<_> = stream.collect().await;
        assert!(read.iter().all(Result::is_ok) && !limit.over());
        let (limit, stream) = Limited::new(chunks(&[10, 10, 10, 10]), 25);
        let read: Vec<_> = stream.collect().await;
        assert_eq!(read.len(), 3, "two chunks, then the error, then nothing");
        assert!(read[2].is_err() && limit.over());
    }

    #[tokio::test]
    async fn a_multipart_file_part_is_read_with_its_name() {
        let body = "--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\
                    Content-Type: text/plain\r\n\r\nhello\r\n--XYZ--\r\n";
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            "multipart/form-data; boundary=XYZ".parse().unwrap(),
        );
        let file = file_of(&headers, None, Body::from(body), 100)
            .await
            .unwrap();
        assert_eq!(file.name.as_deref(), Some("a.txt"));
        let bytes: Vec<Bytes> = file.bytes.map(Result::unwrap).collect().await;
        assert_eq!(bytes.concat(), b"hello");
        let two = "--XYZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nhello\r\n\
                   --XYZ\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nnull\r\n--XYZ--\r\n";
        let file = file_of(&headers, None, Body::from(two), 100).await.unwrap();
        let read: Vec<_> = file.bytes.collect().await;
        assert!(read.last().unwrap().is_err(), "a second part is refused");
        headers.insert(header::CONTENT_LENGTH, "1000000".parse().unwrap());
        let refused = file_of(&headers, None, Body::from(body), 100)
            .await
            .err()
            .unwrap();
        assert_eq!(refused.code(), chat_wire::ErrorCode::PayloadTooLarge);
    }
}
