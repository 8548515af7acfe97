//! One Apache Combined Log Format line per HTTP request, to `requests.log`.
//!
//! `127.0.0.1 - - [13/Jun/2022:12:15:43 +0000] "GET /group HTTP/1.1" 200 512 "-" "curl/8.5.0" "9b2f…"`:
//! the combined format, then the request's id (`x-request-id`), quoted.
//! Credentials never appear: the `Authorization` header is not logged, and a
//! `token` in the query string is replaced by `REDACTED`.

use crate::connection::Peer;
use crate::logging::REQUEST_TARGET;
use axum::body::HttpBody;
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderMap, Uri, Version, header};
use axum::middleware::Next;
use axum::response::Response;

/// Middleware that emits the request's log line once the response is ready.
pub async fn log_request(request: Request, next: Next) -> Response {
    let remote = request
        .extensions()
        .get::<ConnectInfo<Peer>>()
        .map(|ConnectInfo(peer)| peer.addr.ip().to_string())
        .unwrap_or_else(|| "-".to_owned());
    let request_line = format!(
        "{} {} {}",
        request.method(),
        request_target(request.uri()),
        version_text(request.version())
    );
    let referer = header_text(request.headers(), header::REFERER);
    let user_agent = header_text(request.headers(), header::USER_AGENT);
    let response = next.run(request).await;
    let bytes = response
        .body()
        .size_hint()
        .exact()
        .map_or_else(|| "-".to_owned(), |n| n.to_string());
    let time = chrono::Utc::now().format("%d/%b/%Y:%H:%M:%S %z");
    let id = crate::request_id::current()
        .and_then(|id| id.to_str().map(|id| id.replace('"', "\\\"")).ok())
        .unwrap_or_else(|| "-".to_owned());
    tracing::info!(
        target: REQUEST_TARGET,
        "{remote} - - [{time}] \"{request_line}\" {} {bytes} \"{referer}\" \"{user_agent}\" \"{id}\"",
        response.status().as_u16()
    );
    response
}

fn version_text(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    }
}

/// A header as log-safe text: `-` when absent, quotes escaped.
fn header_text(headers: &HeaderMap, name: header::HeaderName) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.replace('"', "\\\""))
        .unwrap_or_else(|| "-".to_owned())
}

/// The logged request target: path and query, as in an HTTP/1.1 request
/// line, also for HTTP/2, whose URI carries the scheme and authority too.
fn request_target(uri: &Uri) -> String {
    redact_query(uri.path_and_query().map_or("/", |target| target.as_str()))
}

/// Replaces the value of any `token` query parameter with `REDACTED`.
pub fn redact_query(uri: &str) -> String {
    let Some((path, query)) = uri.split_once('?') else {
        return uri.to_owned();
    };
    let redacted: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _))
                if key.eq_ignore_ascii_case("token")
                    || key.eq_ignore_ascii_case("access_token") =>
            {
                format!("{key}=REDACTED")
            }
            _ => pair.to_owned(),
        })
        .collect();
    format!("{path}?{}", redacted.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_in_the_query_are_redacted() {
        assert_eq!(
            redact_query("/socket.io/?EIO=4&token=eyJhbGciOi.secret&transport=polling"),
            "/socket.io/?EIO=4&token=REDACTED&transport=polling"
        );
        assert_eq!(redact_query("/group?page=1"), "/group?page=1");
        assert_eq!(redact_query("/group"), "/group");
    }

    #[test]
    fn the_target_is_the_path_and_query_whatever_the_protocol() {
        let http2: Uri = "http://127.0.0.1:3300/group/user/up1?page=0&token=abc"
            .parse()
            .unwrap();
        assert_eq!(
            request_target(&http2),
            "/group/user/up1?page=0&token=REDACTED"
        );
        let http1: Uri = "/message".parse().unwrap();
        assert_eq!(request_target(&http1), "/message");
    }
}
