//! The typed client of the store-server: the chat-server's only way to data.
//!
//! One HTTP client with short timeouts: when the store is down, calls fail
//! fast with `unavailable` and the next call tries again, so the server
//! recovers by itself. Store errors keep their contract code. It speaks
//! HTTP/2 without TLS (prior knowledge): calls are streams on one connection,
//! so the store answers a batch of stored messages in a few writes instead of
//! one per call.

use chat_wire::ids::{EntityId, Up};
use chat_wire::model::{Group, GroupKind, Message, User};
use chat_wire::paging::{Page, PageRequest};
use chat_wire::requests::{
    DirectGroupRequest, EditMessage, FindMatch, JoinGroup, MarkRead, NewGroup, NewMessage,
    NewReaction, ReadState, UserUpdate,
};
use chat_wire::{ErrorBody, ErrorCode};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use service_kit::ApiError;
use std::time::{Duration, Instant};

/// Time allowed to open a connection to the store.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Time allowed for a whole store call.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Page size used when walking a whole list.
const WALK_PAGE: u32 = 100;

/// Labels of a store call.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    operation: &'static str,
    outcome: &'static str,
}

/// A message stored through the store, and whether this call created it.
#[derive(Debug, Clone)]
pub struct SentMessage {
    /// The stored message.
    pub message: Message,
    /// `false` when the `(from, nonce)` had been stored before.
    pub created: bool,
}

/// The store-server client; cheap to clone.
#[derive(Debug, Clone)]
pub struct StoreClient {
    http: reqwest::Client,
    base: String,
    authorization: String,
    latency: Family<CallLabels, Histogram, fn() -> Histogram>,
}

impl StoreClient {
    /// A client of the store at `base_url`, registering its call latency in `registry`.
    pub fn new(base_url: &str, token: &str, registry: &mut Registry) -> anyhow::Result<Self> {
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
            base: base_url.trim_end_matches('/').to_owned(),
            authorization: format!("Bearer {token}"),
            latency,
        })
    }

    /// Whether the store answers its readiness probe.
    pub async fn ready(&self) -> Result<(), ApiError> {
        let response = self
            .http
            .get(format!("{}/readyz", self.base))
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

    /// One group.
    pub async fn group(&self, id: &EntityId) -> Result<Group, ApiError> {
        self.call("group", self.request(Method::GET, &format!("/group/{id}")))
            .await
    }

    /// Every group of `up` (all pages).
    pub async fn groups_of_user(&self, up: &Up) -> Result<Vec<Group>, ApiError> {
        let mut groups = Vec::new();
        for page in 0.. {
            let path = format!("/group/user/{up}?page={page}&perPage={WALK_PAGE}");
            let batch: Page<Group> = self
                .call("groups_of_user", self.request(Method::GET, &path))
                .await?;
            groups.extend(batch.items);
            if !batch.has_more {
                break;
            }
        }
        Ok(groups)
    }

    /// Adds `up` to a group.
    pub async fn join_group(&self, id: &EntityId, up: &Up) -> Result<Group, ApiError> {
        let request = self
            .request(Method::POST, &format!("/group/{id}/users"))
            .json(&JoinGroup { up: up.clone() });
        self.call("join_group", request).await
    }

    /// Removes `up` from a group.
    pub async fn leave_group(&self, id: &EntityId, up: &Up) -> Result<Group, ApiError> {
        self.call(
            "leave_group",
            self.request(Method::DELETE, &format!("/group/{id}/users/{up}")),
        )
        .await
    }

    /// A page of a group's messages.
    pub async fn group_messages(
        &self,
        id: &EntityId,
        paging: &PageRequest,
    ) -> Result<Page<Message>, ApiError> {
        let request = self
            .request(Method::GET, "/group/messages")
            .query(&[("groupID", id.as_str())])
            .query(&paging.to_query());
        self.call("group_messages", request).await
    }

    /// Stores a message (or finds the one stored before with its nonce).
    pub async fn send_message(&self, new: &NewMessage) -> Result<SentMessage, ApiError> {
        let started = Instant::now();
        let result = async {
            let response = self
                .request(Method::POST, "/message")
                .json(new)
                .send()
                .await
                .map_err(unreachable)?;
            let created = response.status() == StatusCode::CREATED;
            let message = read_response::<Message>(response).await?;
            Ok(SentMessage { message, created })
        }
        .await;
        self.observe("send_message", started, &result);
        result
    }

    /// One message.
    pub async fn message(&self, id: &EntityId) -> Result<Message, ApiError> {
        self.call(
            "message",
            self.request(Method::GET, &format!("/message/{id}")),
        )
        .await
    }

    /// The direct group of two users, created on first use.
    pub async fn direct_group(&self, a: &Up, b: &Up) -> Result<Group, ApiError> {
        let request = self
            .request(Method::POST, "/group/direct")
            .json(&DirectGroupRequest {
                users: vec![a.clone(), b.clone()],
            });
        self.call("direct_group", request).await
    }

    /// Moves the read marker of `up` in `group` to `message`.
    pub async fn mark_read(
        &self,
        group: &EntityId,
        up: &Up,
        message: &EntityId,
    ) -> Result<ReadState, ApiError> {
        let body = MarkRead {
            up: up.clone(),
            message_id: message.clone(),
        };
        self.call(
            "mark_read",
            self.request(Method::POST, &format!("/group/{group}/read"))
                .json(&body),
        )
        .await
    }

    /// Adds (`on`) or removes a reaction of `up`.
    pub async fn react(
        &self,
        message: &EntityId,
        up: &Up,
        emoji: &str,
        on: bool,
    ) -> Result<Message, ApiError> {
        let request = if on {
            let body = NewReaction {
                up: up.clone(),
                emoji: emoji.to_owned(),
            };
            self.request(Method::POST, &format!("/message/{message}/reactions"))
                .json(&body)
        } else {
            let emoji: String = form_urlencoded::byte_serialize(emoji.as_bytes()).collect();
            self.request(
                Method::DELETE,
                &format!("/message/{message}/reactions/{emoji}/{up}"),
            )
        };
        self.call("react", request).await
    }

    /// Edits a message as `from`.
    pub async fn edit_message(
        &self,
        message: &EntityId,
        from: &Up,
        text: &str,
    ) -> Result<Message, ApiError> {
        let body = EditMessage {
            from: from.clone(),
            message: text.to_owned(),
        };
        self.call(
            "edit_message",
            self.request(Method::PATCH, &format!("/message/{message}"))
                .json(&body),
        )
        .await
    }

    /// Deletes a message as `by`.
    pub async fn delete_message(&self, message: &EntityId, by: &Up) -> Result<Message, ApiError> {
        let request = self
            .request(Method::DELETE, &format!("/message/{message}"))
            .query(&[("from", by.as_str())]);
        self.call("delete_message", request).await
    }

    /// Messages of a group edited, deleted or reacted to after `since`.
    pub async fn changes(
        &self,
        group: &EntityId,
        since: &str,
        paging: &PageRequest,
    ) -> Result<Page<Message>, ApiError> {
        let request = self
            .request(Method::GET, &format!("/group/{group}/changes"))
            .query(&[("since", since)])
            .query(&paging.to_query());
        self.call("changes", request).await
    }

    /// A place for `up` in a `match` group of `topic` with space, or a new one.
    pub async fn find_match(&self, up: &Up, topic: &str, capacity: u32) -> Result<Group, ApiError> {
        let body = FindMatch {
            up: up.clone(),
            topic: topic.to_owned(),
            capacity,
        };
        self.call(
            "find_match",
            self.request(Method::POST, "/group/match").json(&body),
        )
        .await
    }

    /// A new `match` group of `users` for `topic`.
    pub async fn create_match_group(&self, users: &[Up], topic: &str) -> Result<Group, ApiError> {
        let body = NewGroup {
            name: topic.to_owned(),
            users: users.to_vec(),
            admins: Vec::new(),
            open: false,
            history_min_online: 0,
            kind: Some(GroupKind::Match),
            topic: Some(topic.to_owned()),
            capacity: Some(users.len().max(2) as u32),
        };
        self.call(
            "create_group",
            self.request(Method::POST, "/group").json(&body),
        )
        .await
    }

    /// Marks a user online or offline.
    pub async fn set_online(&self, up: &Up, online: bool) -> Result<User, ApiError> {
        let update = UserUpdate {
            online: Some(online),
            ..UserUpdate::default()
        };
        self.call(
            "set_online",
            self.request(Method::POST, &format!("/user/{up}"))
                .json(&update),
        )
        .await
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header(reqwest::header::AUTHORIZATION, &self.authorization)
    }

    async fn call<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        request: RequestBuilder,
    ) -> Result<T, ApiError> {
        let started = Instant::now();
        let result = match request.send().await {
            Ok(response) => read_response(response).await,
            Err(err) => Err(unreachable(err)),
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

/// A transport failure: the store is down, slow or unreachable.
fn unreachable(err: reqwest::Error) -> ApiError {
    ApiError::Unavailable(anyhow::Error::new(err).context("store-server call"))
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
