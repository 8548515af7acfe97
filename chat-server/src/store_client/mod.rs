//! The typed client of the store-server: the chat-server's only way to data.
//!
//! One HTTP client with short timeouts: when the store is down, calls fail
//! fast with `unavailable` and the next call tries again, so the server
//! recovers by itself. Store errors keep their contract code. With several
//! store instances (`STORE_URL` a comma-separated list, [`instances`]),
//! calls are spread over those in use, and a call whose instance cannot be
//! reached is sent to the next one when that is safe: always when the
//! connection was refused (nothing was sent), otherwise for reads and for
//! new messages (each carries an idempotency key, and the store answers a
//! repeated key with the first message). It speaks HTTP/2 without TLS
//! (prior knowledge): calls are streams on one connection, so the store
//! answers a batch of stored messages in a few writes instead of one per
//! call.
//!
//! Every call says it comes from a chat node (`X-Chat-Node: <node id>`):
//! the node applies its own changes to its sockets live, so the store
//! records none of them in its change log (docs/store-api.md, "The change
//! log"), which [`changes`] reads.
//!
//! URLs are built from path segments, each percent-encoded: an id taken
//! from a token or a payload can never name another route.
//!
//! Messages come back with signed download links on their attachments
//! (`attachments::urls`): every path that sends a message on, whatever it
//! is (an ack, a broadcast, a page, a notification), carries them.
//!
//! - [`groups`]: groups, membership, history, read markers, presence.
//! - [`messages`]: storing, editing, deleting and reacting to messages.
//! - [`search`]: a user's messages found by words.
//! - [`cluster`]: the node registry, presence per node and the queues.
//! - [`changes`]: the store's change log.
//! - [`attachments`]: files streamed to and from the store.
//! - [`privacy`]: blocks, the presence setting, presence as a member sees it.
//! - [`retention`]: how long a group's messages are kept.
//! - [`instances`]: the store instances and which are in use.

mod attachments;
mod changes;
mod cluster;
mod groups;
mod instances;
mod messages;
mod privacy;
mod retention;
mod search;
mod users;

pub use messages::SentMessage;

use crate::attachments::urls::UrlSigner;
use chat_wire::changes::{CHAT_NODE_HEADER, ChangeList};
use chat_wire::cluster::NodeId;
use chat_wire::model::Message;
use chat_wire::paging::Page;
use chat_wire::{ErrorBody, ErrorCode};
use instances::Instances;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use reqwest::header::HeaderValue;
use reqwest::{Method, RequestBuilder, Response, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use service_kit::config::{SecretUrl, redact_credentials};
use service_kit::{ApiError, request_id};
use std::time::{Duration, Instant};

/// Time allowed to open a connection to the store.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Time allowed for a whole store call.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Labels of a store call.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    operation: &'static str,
    outcome: &'static str,
}

/// A store call's response, and whether an earlier attempt of the same call
/// may have reached an instance.
struct Sent {
    response: Response,
    maybe_sent_before: bool,
}

/// The store-server client; cheap to clone.
#[derive(Clone)]
pub struct StoreClient {
    http: reqwest::Client,
    instances: Instances,
    /// `Bearer <STORE_API_TOKEN>`, marked sensitive (never printed).
    authorization: HeaderValue,
    /// This node's id, sent as `X-Chat-Node`.
    node: HeaderValue,
    /// Signs the download links of the messages that come back.
    urls: UrlSigner,
    latency: Family<CallLabels, Histogram, fn() -> Histogram>,
}

impl std::fmt::Debug for StoreClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let bases: Vec<String> = (0..self.instances.len())
            .map(|index| redact_credentials(self.instances.base(index).as_str()))
            .collect();
        f.debug_struct("StoreClient")
            .field("bases", &bases)
            .finish_non_exhaustive()
    }
}

impl StoreClient {
    /// A client of the store instances at `base_urls` (at least one) for
    /// chat node `node`, registering its call latency in `registry`.
    pub fn new(
        base_urls: &[SecretUrl],
        token: &SecretString,
        node: &NodeId,
        urls: UrlSigner,
        registry: &mut Registry,
    ) -> anyhow::Result<Self> {
        let mut bases = Vec::with_capacity(base_urls.len());
        for base_url in base_urls {
            let base = Url::parse(base_url.expose())
                .map_err(|err| anyhow::anyhow!("STORE_URL={base_url} is not a URL: {err}"))?;
            if base.cannot_be_a_base() {
                anyhow::bail!("STORE_URL={base_url} cannot be a base URL");
            }
            bases.push(base);
        }
        if bases.is_empty() {
            anyhow::bail!("STORE_URL names no store");
        }
        let mut authorization = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
            .map_err(|_| anyhow::anyhow!("STORE_API_TOKEN is not a valid header value"))?;
        authorization.set_sensitive(true);
        let node = HeaderValue::from_str(node.as_str())
            .map_err(|_| anyhow::anyhow!("the node id is not a valid header value"))?;
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(CALL_TIMEOUT)
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_nodelay(true)
            .http2_prior_knowledge()
            .build()?;
        let latency = Family::new_with_constructor(
            service_kit::metrics::latency_histogram as fn() -> Histogram,
        );
        registry.register(
            "store_call_duration_seconds",
            "Time of calls to the store-server, by operation and outcome",
            latency.clone(),
        );
        Ok(Self {
            http,
            instances: Instances::new(bases),
            authorization,
            node,
            urls,
            latency,
        })
    }

    /// Whether a store instance answers its readiness probe (one is
    /// enough: calls go to it).
    pub async fn ready(&self) -> Result<(), ApiError> {
        let mut last = None;
        for index in self.instances.order() {
            match self.instance_ready(index).await {
                Ok(()) => return Ok(()),
                Err(err) => last = Some(err),
            }
        }
        Err(last.expect("at least one instance"))
    }

    /// Whether instance `index` answers its readiness probe within
    /// [`instances::REST`].
    async fn instance_ready(&self, index: usize) -> Result<(), ApiError> {
        let url = self.instances.rebase(&self.url(&["readyz"]), index);
        let response = self
            .http
            .get(url)
            .timeout(instances::REST)
            .send()
            .await
            .map_err(unreachable)?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(ApiError::Unavailable(anyhow::anyhow!(
                "store not ready: {}",
                response.status()
            )))
        }
    }

    /// With several instances, asks each one's `/readyz` every
    /// [`instances::CHECK_EVERY`] and leaves out those that fail; until
    /// the runtime stops.
    pub fn spawn_health_checks(&self) {
        if self.instances.len() < 2 {
            return;
        }
        let store = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(instances::CHECK_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                for index in 0..store.instances.len() {
                    match store.instance_ready(index).await {
                        Ok(()) => store.instances.restore(index),
                        Err(err) => {
                            tracing::debug!(instance = index, error = %err, "a store instance is not ready");
                            store.instances.rest(index);
                        }
                    }
                }
            }
        });
    }

    /// Sends `request` to a store instance in use, and to the next one
    /// when it cannot be reached and `retry` allows (a read always does;
    /// see the module documentation). An instance that cannot be reached
    /// is left out.
    async fn send(&self, request: RequestBuilder, retry: Retry) -> Result<Response, ApiError> {
        self.send_counted(request, retry)
            .await
            .map(|sent| sent.response)
    }

    /// [`StoreClient::send`], telling also whether an earlier attempt may
    /// have reached an instance (it failed after the connection was made).
    async fn send_counted(&self, request: RequestBuilder, retry: Retry) -> Result<Sent, ApiError> {
        let request = request
            .build()
            .map_err(|err| ApiError::Internal(anyhow::Error::new(err.without_url())))?;
        let retry = match *request.method() {
            Method::GET => Retry::Safe,
            _ => retry,
        };
        let order = self.instances.order();
        let last = order.len() - 1;
        let mut request = Some(request);
        let mut failure = None;
        let mut maybe_sent_before = false;
        for (attempt, index) in order.into_iter().enumerate() {
            // The last attempt (the only one with one instance) takes the
            // request itself; the others a copy.
            let mut sending = match attempt == last {
                true => request.take().expect("taken by the last attempt only"),
                false => request
                    .as_ref()
                    .and_then(reqwest::Request::try_clone)
                    .expect("store requests have buffered bodies"),
            };
            if index != 0 {
                let url = self.instances.rebase(sending.url(), index);
                *sending.url_mut() = url;
            }
            match self.http.execute(sending).await {
                Ok(response) => {
                    return Ok(Sent {
                        response,
                        maybe_sent_before,
                    });
                }
                Err(err) => {
                    self.instances.rest(index);
                    maybe_sent_before |= !err.is_connect();
                    let again = err.is_connect() || retry == Retry::Safe;
                    failure = Some(err);
                    if !again {
                        break;
                    }
                }
            }
        }
        Err(unreachable(failure.expect("at least one attempt")))
    }

    /// The store URL of a path given as segments, each percent-encoded.
    ///
    /// A segment made only of dots would still be read as `.` or `..` (URL
    /// parsing treats `%2E` as a dot), so its dots are sent escaped twice:
    /// the store reads them as the text `%2E` and refuses the id.
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.instances.first().clone();
        let mut path = url
            .path_segments_mut()
            .expect("checked in `new`: the base URL has a path");
        path.pop_if_empty();
        for segment in segments {
            if !segment.is_empty() && segment.chars().all(|c| c == '.') {
                path.push(&segment.replace('.', "%2E"));
            } else {
                path.push(segment);
            }
        }
        drop(path);
        url
    }

    /// An authorized request to the path of `segments`.
    /// The request carries the current request id (`x-request-id`), so a
    /// store call can be matched with the event or request it served.
    fn request(&self, method: Method, segments: &[&str]) -> RequestBuilder {
        let request = self
            .http
            .request(method, self.url(segments))
            .header(reqwest::header::AUTHORIZATION, &self.authorization)
            .header(CHAT_NODE_HEADER, &self.node);
        match request_id::current() {
            Some(id) => request.header(request_id::HEADER, id),
            None => request,
        }
    }

    /// Sends `request` and reads its answer; a request other than a `GET`
    /// goes to another instance only if nothing was sent.
    async fn call<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        request: RequestBuilder,
    ) -> Result<T, ApiError> {
        self.call_with(operation, request, Retry::IfNotSent).await
    }

    /// [`StoreClient::call`] for a read sent as a `POST` (its list of keys
    /// is too long for a query string): it may go to another instance.
    async fn call_read<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        request: RequestBuilder,
    ) -> Result<T, ApiError> {
        self.call_with(operation, request, Retry::Safe).await
    }

    async fn call_with<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        request: RequestBuilder,
        retry: Retry,
    ) -> Result<T, ApiError> {
        let started = Instant::now();
        let result = match self.send(request, retry).await {
            Ok(response) => read_response(response).await,
            Err(err) => Err(err),
        };
        self.observe(operation, started, &result);
        result
    }

    fn observe<T>(&self, operation: &'static str, started: Instant, result: &Result<T, ApiError>) {
        let outcome = match result {
            Ok(_) => "ok",
            Err(err) if err.code() == ErrorCode::Unavailable => "unavailable",
            Err(_) => "error",
        };
        self.latency
            .get_or_create(&CallLabels { operation, outcome })
            .observe(started.elapsed().as_secs_f64());
    }
}

/// What carries messages, whose attachments get signed links.
trait Signed {
    fn sign(&mut self, urls: &UrlSigner);
}

impl Signed for Message {
    fn sign(&mut self, urls: &UrlSigner) {
        urls.sign_message(self);
    }
}

impl Signed for Page<Message> {
    fn sign(&mut self, urls: &UrlSigner) {
        self.items.iter_mut().for_each(|m| urls.sign_message(m));
    }
}

impl Signed for ChangeList {
    fn sign(&mut self, urls: &UrlSigner) {
        for message in self.items.iter_mut().filter_map(|c| c.message.as_mut()) {
            urls.sign_message(message);
        }
    }
}

impl StoreClient {
    /// `value` with its attachments' links signed.
    fn signed<T: Signed>(&self, result: Result<T, ApiError>) -> Result<T, ApiError> {
        result.map(|mut value| {
            value.sign(&self.urls);
            value
        })
    }
}

/// Whether a call may go to another instance after it reached one that
/// then failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// Yes: sending it twice changes nothing.
    Safe,
    /// Only if nothing was sent (the connection was refused).
    IfNotSent,
}

/// A transport failure: the store is down, slow or unreachable.
fn unreachable(err: reqwest::Error) -> ApiError {
    // Without the URL: STORE_URL may carry credentials, and logs keep this.
    ApiError::Unavailable(anyhow::Error::new(err.without_url()).context("store-server call"))
}

/// The body of a success, or the store's error with its code.
async fn read_response<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, ApiError> {
    let status = response.status();
    let bytes = response.bytes().await.map_err(unreachable)?;
    if status.is_success() {
        return serde_json::from_slice(&bytes).map_err(|err| {
            ApiError::Internal(anyhow::Error::new(err).context("unexpected store response"))
        });
    }
    match serde_json::from_slice::<ErrorBody>(&bytes) {
        Ok(body) => Err(ApiError::from_code(body.error.code, body.error.message)),
        Err(_) if status.is_server_error() => Err(ApiError::Unavailable(anyhow::anyhow!(
            "store answered {status}"
        ))),
        Err(_) => Err(ApiError::Internal(anyhow::anyhow!(
            "store answered {status} without an error body"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> StoreClient {
        let token = SecretString::from("a-store-token-of-thirty-two-bytes!");
        let node = NodeId::parse("node-a").unwrap();
        StoreClient::new(
            &[base.parse().unwrap()],
            &token,
            &node,
            UrlSigner::new(b"a-jwt-secret-of-at-least-32-bytes!!"),
            &mut Registry::default(),
        )
        .unwrap()
    }

    #[test]
    fn the_token_is_never_printed() {
        let store = client("http://u:p@store.internal:3000");
        let printed = format!("{store:?}");
        assert!(
            !printed.contains("thirty-two") && !printed.contains(":p@"),
            "{printed}"
        );
    }

    #[test]
    fn every_path_segment_is_percent_encoded() {
        let store = client("http://127.0.0.1:3000");
        assert_eq!(
            store.url(&["group", "user", ".."]).as_str(),
            "http://127.0.0.1:3000/group/user/%252E%252E"
        );
        assert_eq!(
            store
                .url(&["message", "id", "reactions", "👍/x?y#z"])
                .as_str(),
            "http://127.0.0.1:3000/message/id/reactions/%F0%9F%91%8D%2Fx%3Fy%23z"
        );
    }

    #[test]
    fn a_base_path_is_kept() {
        let store = client("http://store.internal/api/");
        assert_eq!(
            store.url(&["group", "g1"]).as_str(),
            "http://store.internal/api/group/g1"
        );
    }
}
