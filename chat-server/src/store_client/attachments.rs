//! Store calls about attachments: an upload streamed to the store as the
//! client sends it, and a download whose answer is handed back unread.
//!
//! These calls carry files, so they may take far longer than
//! [`super::CALL_TIMEOUT`]: each gets [`TRANSFER_TIMEOUT`] (the bodies
//! themselves bound the pauses between their reads). An upload goes to one
//! instance and is never sent again (its body is read as it is sent); a
//! download is a read, retried like any other.

use super::{Retry, StoreClient, read_response};
use crate::attachments::upload_body::FileStream;
use chat_wire::attachments::{Attachment, UploadQuery};
use chat_wire::ids::{EntityId, Up};
use reqwest::header::{HeaderMap, HeaderName};
use reqwest::{Method, Response};
use service_kit::ApiError;
use std::time::{Duration, Instant};

/// The longest an upload or a download may take in all.
pub const TRANSFER_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The request headers a download passes on to the store.
const DOWNLOAD_HEADERS: [HeaderName; 3] = [
    reqwest::header::RANGE,
    reqwest::header::IF_RANGE,
    reqwest::header::IF_NONE_MATCH,
];

impl StoreClient {
    /// Uploads `bytes` as `query` says; the answer carries signed links.
    /// A body that breaks off (the client left, or passed its limit) ends
    /// the call with `unavailable`; the store keeps nothing of it.
    pub async fn upload_attachment(
        &self,
        query: &UploadQuery,
        declared: Option<u64>,
        bytes: FileStream,
    ) -> Result<Attachment, ApiError> {
        let started = Instant::now();
        let result = async {
            let mut request = self
                .request(Method::POST, &["attachment"])
                .query(query)
                .timeout(TRANSFER_TIMEOUT)
                .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .body(reqwest::Body::wrap_stream(bytes));
            if let Some(length) = declared {
                request = request.header(reqwest::header::CONTENT_LENGTH, length);
            }
            let response = self.send_once(request).await?;
            let mut attachment: Attachment = read_response(response).await?;
            self.urls.sign_attachment(&mut attachment);
            Ok(attachment)
        }
        .await;
        self.observe("upload_attachment", started, &result);
        result
    }

    /// Asks the store for attachment `id` (or its thumbnail), for `reader`
    /// when given (the store then requires them to be a member of its
    /// group), passing on the client's range and cache headers. A file's
    /// answer (`200`, `206`, `304`, `416`) is returned unread, to be
    /// streamed on; any other error is the store's, with its code.
    pub async fn download_attachment(
        &self,
        id: &EntityId,
        thumbnail: bool,
        reader: Option<&Up>,
        headers: &HeaderMap,
    ) -> Result<Response, ApiError> {
        let started = Instant::now();
        let result = async {
            let path: &[&str] = if thumbnail {
                &["attachment", id.as_str(), "thumbnail"]
            } else {
                &["attachment", id.as_str()]
            };
            let mut request = self.request(Method::GET, path).timeout(TRANSFER_TIMEOUT);
            if let Some(up) = reader {
                request = request.query(&[("up", up.as_str())]);
            }
            for name in DOWNLOAD_HEADERS {
                if let Some(value) = headers.get(&name) {
                    request = request.header(name, value);
                }
            }
            let response = self.send(request, Retry::Safe).await?;
            let status = response.status().as_u16();
            if response.status().is_success() || status == 304 || status == 416 {
                return Ok(response);
            }
            Err(read_response::<serde_json::Value>(response)
                .await
                .err()
                .unwrap_or_else(|| ApiError::Internal(anyhow::anyhow!("store answered {status}"))))
        }
        .await;
        self.observe("download_attachment", started, &result);
        result
    }

    /// Sends a request whose body cannot be sent twice, to one instance.
    async fn send_once(&self, request: reqwest::RequestBuilder) -> Result<Response, ApiError> {
        let mut request = request
            .build()
            .map_err(|err| ApiError::Internal(anyhow::Error::new(err.without_url())))?;
        let index = self.instances.order()[0];
        if index != 0 {
            let url = self.instances.rebase(request.url(), index);
            *request.url_mut() = url;
        }
        self.http.execute(request).await.map_err(|err| {
            if err.is_connect() {
                self.instances.rest(index);
            }
            super::unreachable(err)
        })
    }
}
