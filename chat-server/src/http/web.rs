//! The web chat client, served at `/`: static files from `chat-server/web/`,
//! embedded in the binary, so the client needs no build step, no CDN and no
//! request to any other host (docs/web-client.md).
//!
//! `GET /` (and `/index.html`) is the page, always revalidated
//! (`Cache-Control: no-cache`, with an `ETag`). Every other file is served
//! under `/assets/{version}/…`, where the version is a hash of all the
//! files: those URLs change whenever a file does, so they are cached for a
//! year. A request for another version (a page loaded from an older node
//! during a deployment) gets the current file, revalidated instead of
//! cached. Every answer carries the Content-Security-Policy below and
//! `X-Content-Type-Options: nosniff`.
//!
//! This module only serves files: it never reads the token nor talks to
//! the store. The client talks to the REST gateway and Socket.IO like any
//! other client.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, HeaderMap, HeaderName, HeaderValue,
    IF_NONE_MATCH, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::collections::HashMap;
use std::sync::Arc;

/// Scripts, styles, images and fonts only from this origin, no inline code,
/// no `eval`, no framing. `connect-src` also allows any `http(s)`/`ws(s)`
/// origin: a draining node sends its clients to another node's public URL
/// (`migrate {url}`), and the nodes of a cluster are only known at run time
/// (they register themselves), so no fixed list would do.
const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; font-src 'self'; manifest-src 'self'; \
     connect-src 'self' https: http: wss: ws:; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// The page revalidates each time; versioned assets never change.
const NO_CACHE: &str = "no-cache";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// The placeholder in `index.html` that becomes the assets' version.
const VERSION_PLACEHOLDER: &str = "{{version}}";

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const SVG: &str = "image/svg+xml";
const TEXT: &str = "text/plain; charset=utf-8";

/// `embed!("js/main.js", JS)`: one embedded file of `chat-server/web/`.
macro_rules! embed {
    ($path:literal, $type:expr) => {
        (
            $path,
            $type,
            include_bytes!(concat!("../../web/", $path)).as_slice(),
        )
    };
}

/// Every file besides `index.html`: its path under `/assets/{version}/`,
/// its content type and its bytes.
const ASSETS: &[(&str, &str, &[u8])] = &[
    embed!("app.css", CSS),
    embed!("icon.svg", SVG),
    embed!("js/api.js", JS),
    embed!("js/chat.js", JS),
    embed!("js/composer.js", JS),
    embed!("js/connection.js", JS),
    embed!("js/format.js", JS),
    embed!("js/main.js", JS),
    embed!("js/message-view.js", JS),
    embed!("js/outbox.js", JS),
    embed!("js/recovery.js", JS),
    embed!("js/session.js", JS),
    embed!("js/sidebar.js", JS),
    embed!("js/state.js", JS),
    embed!("js/timeline.js", JS),
    embed!("vendor/socket.io.esm.min.js", JS),
    embed!("vendor/LICENSE-socket.io-client.txt", TEXT),
];

const INDEX: &str = include_str!("../../web/index.html");

/// One file ready to serve.
struct Asset {
    content_type: &'static str,
    body: Vec<u8>,
    etag: HeaderValue,
}

impl Asset {
    fn new(content_type: &'static str, body: Vec<u8>) -> Self {
        let etag = HeaderValue::from_str(&format!("\"{:016x}\"", fnv1a(&body)))
            .expect("a quoted hex string is a valid header value");
        Self {
            content_type,
            body,
            etag,
        }
    }

    /// The file, or `304` when the client holds this version already.
    fn respond(&self, request: &HeaderMap, cache_control: &'static str) -> Response {
        let mut headers = security_headers();
        headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache_control));
        headers.insert(ETAG, self.etag.clone());
        if matches_etag(request, &self.etag) {
            return (StatusCode::NOT_MODIFIED, headers).into_response();
        }
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        (headers, self.body.clone()).into_response()
    }
}

/// The embedded client, with its version.
struct WebClient {
    version: String,
    index: Asset,
    assets: HashMap<&'static str, Asset>,
}

impl WebClient {
    fn new() -> Self {
        let mut hash = FNV_OFFSET;
        for (path, _, body) in ASSETS {
            hash = fnv1a_from(hash, path.as_bytes());
            hash = fnv1a_from(hash, body);
        }
        hash = fnv1a_from(hash, INDEX.as_bytes());
        let version = format!("{hash:016x}")[..12].to_owned();
        let index = INDEX.replace(VERSION_PLACEHOLDER, &version).into_bytes();
        let assets = ASSETS
            .iter()
            .map(|&(path, content_type, body)| (path, Asset::new(content_type, body.to_vec())))
            .collect();
        Self {
            version,
            index: Asset::new(HTML, index),
            assets,
        }
    }
}

/// The routes of the web client: `/`, `/index.html` and `/assets/…`.
pub fn router() -> Router {
    let client = Arc::new(WebClient::new());
    Router::new()
        .route("/", get(index))
        .route("/index.html", get(index))
        .route("/assets/{version}/{*path}", get(asset))
        .with_state(client)
}

async fn index(State(client): State<Arc<WebClient>>, headers: HeaderMap) -> Response {
    client.index.respond(&headers, NO_CACHE)
}

async fn asset(
    State(client): State<Arc<WebClient>>,
    Path((version, path)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let Some(asset) = client.assets.get(path.as_str()) else {
        let mut response = (
            StatusCode::NOT_FOUND,
            [(CONTENT_TYPE, TEXT)],
            format!("no file {path} in the web client\n"),
        )
            .into_response();
        response.headers_mut().extend(security_headers());
        return response;
    };
    let cache_control = if version == client.version {
        IMMUTABLE
    } else {
        NO_CACHE
    };
    asset.respond(&headers, cache_control)
}

/// The headers of every answer of the web client.
fn security_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY_VALUE),
    );
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    headers
}

/// Whether `If-None-Match` names `etag` (or is `*`).
fn matches_etag(request: &HeaderMap, etag: &HeaderValue) -> bool {
    let Some(Ok(wanted)) = request.get(IF_NONE_MATCH).map(HeaderValue::to_str) else {
        return false;
    };
    let etag = etag.to_str().unwrap_or_default();
    wanted
        .split(',')
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a: a fast hash that is plenty to tell versions of a file apart
/// (not a defence against anyone: the files are our own).
fn fnv1a(bytes: &[u8]) -> u64 {
    fnv1a_from(FNV_OFFSET, bytes)
}

fn fnv1a_from(mut hash: u64, bytes: &[u8]) -> u64 {
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_names_the_current_version_of_every_asset_it_loads() {
        let client = WebClient::new();
        let page = String::from_utf8(client.index.body.clone()).unwrap();
        assert!(!page.contains(VERSION_PLACEHOLDER));
        for path in ["app.css", "icon.svg", "js/main.js"] {
            let url = format!("/assets/{}/{path}", client.version);
            assert!(page.contains(&url), "index.html does not load {url}");
        }
    }

    #[test]
    fn the_page_has_no_inline_script_or_style() {
        let page = INDEX.to_ascii_lowercase();
        assert!(!page.contains("<script>"), "inline <script>");
        assert!(!page.contains("<style"), "inline <style>");
        assert!(!page.contains(" style="), "style attribute");
        let handler = page.split(" on").skip(1).find(|rest| {
            let name: String = rest.chars().take_while(char::is_ascii_alphabetic).collect();
            !name.is_empty() && rest[name.len()..].starts_with('=')
        });
        assert!(handler.is_none(), "inline event handler: on{handler:?}");
    }

    #[test]
    fn every_file_of_the_web_directory_is_embedded() {
        fn walk(dir: &std::path::Path, base: &std::path::Path, found: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, base, found);
                } else {
                    let relative = path.strip_prefix(base).unwrap();
                    found.push(relative.to_string_lossy().replace('\\', "/"));
                }
            }
        }
        let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
        let mut found = Vec::new();
        walk(&base, &base, &mut found);
        found.retain(|path| path != "index.html");
        found.sort();
        let mut embedded: Vec<String> = ASSETS.iter().map(|(path, ..)| path.to_string()).collect();
        embedded.sort();
        assert_eq!(
            found, embedded,
            "add new files of chat-server/web/ to ASSETS"
        );
    }

    #[test]
    fn an_etag_in_if_none_match_is_recognised() {
        let etag = HeaderValue::from_static("\"abc\"");
        let mut headers = HeaderMap::new();
        assert!(!matches_etag(&headers, &etag));
        headers.insert(IF_NONE_MATCH, HeaderValue::from_static("\"x\", W/\"abc\""));
        assert!(matches_etag(&headers, &etag));
        headers.insert(IF_NONE_MATCH, HeaderValue::from_static("\"x\""));
        assert!(!matches_etag(&headers, &etag));
    }
}
