//! The web chat client, served at `/`: the files of `chat-server/web/`,
//! embedded in the binary (`rust-embed`), so the client needs no build
//! step, no CDN and no request to any other host (docs/web-client.md).
//!
//! `GET /` (and `/index.html`) is the page, always revalidated
//! (`Cache-Control: no-cache`, with an `ETag`). Every other file is served
//! under `/assets/{version}/…`, where the version is a hash of all the
//! files: those URLs change whenever a file does, so they are cached for a
//! year. A request for another version (a page loaded from an older node
//! during a deployment) gets the current file, revalidated instead of
//! cached.
//!
//! Every answer carries `X-Content-Type-Options: nosniff`, a referrer and
//! an opener policy, and the page a Content-Security-Policy: scripts,
//! styles, images and fonts from this origin only, no inline code, no
//! `eval`, no framing, and connections (`connect-src`) only to the chat
//! nodes the page can know of: this node, `CHAT_NODES`, and the live
//! nodes of the registry (read at most once every few seconds, however
//! often the public page is loaded). A `migrate` to any other URL is
//! blocked by the browser, and the client falls back to the page's own
//! origin.
//!
//! This module never reads a token.

use crate::state::AppState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use headers::{ETag, HeaderMapExt, IfNoneMatch};
use reqwest::Url;
use rust_embed::Embed;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use tower_http::set_header::SetResponseHeaderLayer;
use xxhash_rust::xxh3::Xxh3;

/// The files of the web client.
#[derive(Embed)]
#[folder = "web/"]
struct WebFiles;

/// The page, whose asset URLs carry the version.
const INDEX: &str = "index.html";
/// The placeholder in `index.html` that becomes the assets' version.
const VERSION_PLACEHOLDER: &str = "{{version}}";
/// Everything but `connect-src`, which depends on the nodes.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";
/// The page revalidates each time; versioned assets never change.
const NO_CACHE: &str = "no-cache";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// One file ready to serve.
struct Asset {
    content_type: HeaderValue,
    body: Bytes,
    etag: ETag,
}

impl Asset {
    fn new(mimetype: &str, body: Bytes, hash: &[u8]) -> Self {
        let content_type = match mimetype.starts_with("text/") {
            true => format!("{mimetype}; charset=utf-8"),
            false => mimetype.to_owned(),
        };
        let tag: String = hash[..8].iter().map(|b| format!("{b:02x}")).collect();
        Self {
            content_type: HeaderValue::from_str(&content_type)
                .expect("a MIME type is a header value"),
            body,
            etag: format!("\"{tag}\"")
                .parse()
                .expect("a quoted hex string is an ETag"),
        }
    }

    /// The file, or `304` when the client holds this version already.
    fn respond(&self, request: &HeaderMap, cache_control: &'static str) -> Response {
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::CACHE_CONTROL,
            HeaderValue::from_static(cache_control),
        );
        headers.typed_insert(self.etag.clone());
        let fresh = request
            .typed_get::<IfNoneMatch>()
            .is_some_and(|wanted| !wanted.precondition_passes(&self.etag));
        if fresh {
            return (StatusCode::NOT_MODIFIED, headers).into_response();
        }
        headers.insert(CONTENT_TYPE, self.content_type.clone());
        (headers, self.body.clone()).into_response()
    }
}

/// The embedded client, with its version.
struct WebClient {
    version: String,
    index: Asset,
    assets: HashMap<String, Asset>,
}

impl WebClient {
    fn new() -> Self {
        let mut files: Vec<_> = WebFiles::iter().collect();
        files.sort();
        let mut version = Xxh3::new();
        let mut assets = HashMap::new();
        for path in &files {
            let file = WebFiles::get(path).expect("an embedded file");
            let hash = file.metadata.sha256_hash();
            version.update(path.as_bytes());
            version.update(&hash);
            if path != INDEX {
                let body = match file.data {
                    std::borrow::Cow::Borrowed(bytes) => Bytes::from_static(bytes),
                    std::borrow::Cow::Owned(bytes) => Bytes::from(bytes),
                };
                assets.insert(
                    path.to_string(),
                    Asset::new(file.metadata.mimetype(), body, &hash),
                );
            }
        }
        let version = format!("{:016x}", version.digest())[..12].to_owned();
        let page = WebFiles::get(INDEX).expect("index.html is embedded");
        let html = String::from_utf8_lossy(&page.data).replace(VERSION_PLACEHOLDER, &version);
        let index = Asset::new("text/html", Bytes::from(html), &page.metadata.sha256_hash());
        Self {
            version,
            index,
            assets,
        }
    }
}

/// How long the registry's live nodes are reused for the page's policy.
const LIVE_NODES_FRESH_FOR: Duration = Duration::from_secs(5);

/// The registry's live node URLs, read from the store at most once per
/// [`LIVE_NODES_FRESH_FOR`]: the page is public, and a flood of page loads
/// must not become a flood of store calls. Concurrent loads wait for the
/// one read in progress.
#[derive(Default)]
struct LiveNodes(Mutex<Option<(Instant, Arc<[String]>)>>);

impl LiveNodes {
    async fn get(&self, state: &AppState) -> Arc<[String]> {
        let mut cached = self.0.lock().await;
        if let Some((read_at, nodes)) = &*cached
            && read_at.elapsed() < LIVE_NODES_FRESH_FOR
        {
            return nodes.clone();
        }
        // A failed read is remembered too: a store that is down is not
        // asked again on every load.
        let nodes: Arc<[String]> = match state.store.live_nodes().await {
            Ok(live) => live.into_iter().map(|node| node.url).collect(),
            Err(err) => {
                tracing::debug!(error = %err, "cannot read the registry for the page's policy");
                Arc::default()
            }
        };
        *cached = Some((Instant::now(), nodes.clone()));
        nodes
    }
}

/// What the page's handlers need.
#[derive(Clone)]
struct Web {
    client: Arc<WebClient>,
    live_nodes: Arc<LiveNodes>,
    state: AppState,
}

/// The routes of the web client: `/`, `/index.html` and `/assets/…`.
pub fn router(state: AppState) -> Router {
    let web = Web {
        client: Arc::new(WebClient::new()),
        live_nodes: Arc::default(),
        state,
    };
    Router::new()
        .route("/", get(index))
        .route("/index.html", get(index))
        .route("/assets/{version}/{*path}", get(asset))
        .with_state(web)
        .layer(SetResponseHeaderLayer::overriding(
            axum::http::header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            axum::http::header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
}

async fn index(State(web): State<Web>, headers: HeaderMap) -> Response {
    let mut response = web.client.index.respond(&headers, NO_CACHE);
    let policy = content_security_policy(&known_nodes(&web).await);
    match HeaderValue::from_str(&policy) {
        Ok(value) => {
            response
                .headers_mut()
                .insert(CONTENT_SECURITY_POLICY, value);
        }
        Err(_) => {
            // Node URLs are printable ASCII; this cannot happen, and a page
            // without its policy must not go out.
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    }
    response
}

async fn asset(
    State(web): State<Web>,
    Path((version, path)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let Some(asset) = web.client.assets.get(path.as_str()) else {
        return (
            StatusCode::NOT_FOUND,
            [(CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("no file {path} in the web client\n"),
        )
            .into_response();
    };
    let cache_control = match version == web.client.version {
        true => IMMUTABLE,
        false => NO_CACHE,
    };
    asset.respond(&headers, cache_control)
}

/// The public URLs of the chat nodes the page may be sent to: this node,
/// `CHAT_NODES`, and the live nodes of the registry.
async fn known_nodes(web: &Web) -> Vec<String> {
    let locator = &web.state.node.locator;
    let mut nodes = vec![locator.own_url().to_owned()];
    nodes.extend(locator.configured().iter().cloned());
    nodes.extend(web.live_nodes.get(&web.state).await.iter().cloned());
    nodes
}

/// The page's policy, with `connect-src` limited to `nodes` (over HTTP and
/// WebSocket both).
fn content_security_policy(nodes: &[String]) -> String {
    let mut sources = BTreeSet::new();
    for node in nodes {
        let Ok(url) = Url::parse(node) else { continue };
        let socket_scheme = match url.scheme() {
            "https" => "wss",
            "http" => "ws",
            _ => continue,
        };
        let origin = url.origin().ascii_serialization();
        if let Some((_, authority)) = origin.split_once("://") {
            sources.insert(format!("{socket_scheme}://{authority}"));
        }
        sources.insert(origin);
    }
    let connect: Vec<String> = sources.into_iter().collect();
    format!("{POLICY}; connect-src 'self' {}", connect.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_names_the_current_version_of_every_asset_it_loads() {
        let client = WebClient::new();
        let page = String::from_utf8(client.index.body.to_vec()).unwrap();
        assert!(!page.contains(VERSION_PLACEHOLDER));
        for path in ["app.css", "icon.svg", "js/main.js"] {
            let url = format!("/assets/{}/{path}", client.version);
            assert!(page.contains(&url), "index.html does not load {url}");
            assert!(client.assets.contains_key(path), "{path} is served");
        }
    }

    #[test]
    fn the_page_has_no_inline_script_or_style() {
        let client = WebClient::new();
        let page = String::from_utf8(client.index.body.to_vec())
            .unwrap()
            .to_ascii_lowercase();
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
    fn connections_are_allowed_to_the_known_nodes_only() {
        let policy = content_security_policy(&[
            "https://chat.example.edu".to_owned(),
            "http://127.0.0.1:8081/".to_owned(),
            "https://chat.example.edu/".to_owned(),
        ]);
        let connect = policy
            .split("; ")
            .find(|d| d.starts_with("connect-src"))
            .unwrap();
        assert_eq!(
            connect,
            "connect-src 'self' http://127.0.0.1:8081 https://chat.example.edu \
             ws://127.0.0.1:8081 wss://chat.example.edu"
        );
        assert!(
            !policy.contains("https:;") && !policy.contains(" wss: "),
            "{policy}"
        );
    }
}
