//! `spawn_app()`: a store-server on a free port with its own database, and
//! the requests and assertions the tests share.
//!
//! The store under test always talks to a real MongoDB-wire server
//! (`$MONGODB_URI`); nothing here is mocked.

use chat_wire::model::{Group, Message};
use chat_wire::paging::Page;
use futures::TryStreamExt;
use mongodb::bson::doc;
use mongodb::bson::oid::ObjectId;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use store_server::config::{StoreConfig, parse_write_concern};
use store_server::db::Store;
use store_server::startup::Application;
use tokio::sync::oneshot;

pub use crate::assertions::{expect_error, ids, parse, send, texts, unknown_id};

/// The service token every test app is started with.
pub const TOKEN: &str = "test-service-token-5f1c9a-0123456789";

/// How long a fresh store may take to create its indexes.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A running store-server and a client for it. Dropping it stops the server.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// The HTTP client (no redirects followed).
    pub client: reqwest::Client,
    /// The service token the app expects.
    pub token: String,
    store: Store,
    _shutdown: oneshot::Sender<()>,
}

/// The MongoDB the tests run against.
pub fn mongodb_uri() -> String {
    std::env::var("MONGODB_URI").unwrap_or_else(|_| {
        panic!(
            "MONGODB_URI is not set: these tests need a MongoDB-wire server. \
             Run them with ./scripts/test.sh, or start one (e.g. \
             `secantusd-rs --port 27117 --storage-path /tmp/test-mongo-data`) and set \
             MONGODB_URI=mongodb://127.0.0.1:27117"
        )
    })
}

/// A name no other test uses, for databases, users and directories.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", ObjectId::new().to_hex())
}

/// A fresh temporary directory.
pub fn temp_dir(prefix: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(unique(prefix));
    std::fs::create_dir_all(&dir).expect("cannot create a temporary directory");
    dir
}

/// The configuration of a test app: port 0, a database of its own.
pub fn test_config() -> StoreConfig {
    StoreConfig {
        addr: "127.0.0.1:0".into(),
        mongodb_uri: mongodb_uri().parse().expect("any text is a URL setting"),
        mongodb_db: unique("test"),
        api_token: TOKEN.into(),
        // Never written: the in-process app installs no log subscriber.
        log_dir: std::env::temp_dir().join(unique("store-logs")),
        max_message_chars: 4000,
        max_attachment_bytes: chat_wire::attachments::DEFAULT_MAX_ATTACHMENT_BYTES,
        attachment_quota_bytes: chat_wire::attachments::DEFAULT_ATTACHMENT_QUOTA_BYTES,
        write_concern: parse_write_concern("majority").expect("the default write concern"),
        drain_seconds: 0.0,
        retention: Default::default(),
        rust_log: "info".into(),
    }
}

/// A ready store-server with the default test configuration.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A ready store-server whose configuration `configure` has adjusted.
pub async fn spawn_app_with(configure: impl FnOnce(&mut StoreConfig)) -> TestApp {
    let app = spawn_app_unready(configure).await;
    app.wait_until_ready().await;
    app
}

/// A store-server that may not be ready yet (its MongoDB may be unreachable).
pub async fn spawn_app_unready(configure: impl FnOnce(&mut StoreConfig)) -> TestApp {
    let mut config = test_config();
    configure(&mut config);
    let token = config.api_token.expose_secret().to_owned();
    let application = Application::build(config)
        .await
        .expect("failed to build the application");
    let address = format!("http://127.0.0.1:{}", application.port());
    let store = application.store().clone();
    let (shutdown, stopped) = oneshot::channel::<()>();
    tokio::spawn(application.run_until_stopped(async {
        // Resolves on send and when the TestApp (the sender) is dropped.
        let _ = stopped.await;
    }));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("failed to build the HTTP client");
    TestApp {
        address,
        client,
        token,
        store,
        _shutdown: shutdown,
    }
}

impl TestApp {
    /// Polls `GET /readyz` until it answers 200.
    pub async fn wait_until_ready(&self) {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let ready = self
                .client
                .get(self.url("/readyz"))
                .send()
                .await
                .map(|r| r.status() == StatusCode::OK)
                .unwrap_or(false);
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the store was not ready within {READY_TIMEOUT:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The database handle of the app, to inspect what is stored.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A request without any `Authorization` header.
    pub fn raw(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// A request with the service token.
    pub fn authed(&self, method: Method, path: &str) -> RequestBuilder {
        self.raw(method, path).bearer_auth(&self.token)
    }

    /// `GET path` with the token.
    pub async fn get(&self, path: &str) -> Response {
        send(self.authed(Method::GET, path)).await
    }

    /// `POST path` with a JSON body and the token.
    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        send(self.authed(Method::POST, path).json(body)).await
    }

    /// `PUT path` with a JSON body and the token.
    pub async fn put_json(&self, path: &str, body: &Value) -> Response {
        send(self.authed(Method::PUT, path).json(body)).await
    }

    /// `PATCH path` with a JSON body and the token.
    pub async fn patch_json(&self, path: &str, body: &Value) -> Response {
        send(self.authed(Method::PATCH, path).json(body)).await
    }

    /// `DELETE path` with the token.
    pub async fn delete(&self, path: &str) -> Response {
        send(self.authed(Method::DELETE, path)).await
    }

    /// `GET path` without a token.
    pub async fn get_without_token(&self, path: &str) -> Response {
        send(self.raw(Method::GET, path)).await
    }

    /// Creates a group and returns it (asserting `201`).
    pub async fn create_group(&self, name: &str, users: &[&str], admins: &[&str]) -> Group {
        let response = self
            .post_json(
                "/group",
                &json!({"name": name, "users": users, "admins": admins}),
            )
            .await;
        parse(response, StatusCode::CREATED).await
    }

    /// Sends a message and returns it (asserting `201`).
    pub async fn send(&self, group: &str, from: &str, text: &str, nonce: Option<&str>) -> Message {
        let response = self.post_message(group, from, text, nonce).await;
        parse(response, StatusCode::CREATED).await
    }

    /// `POST /message`, whatever the answer.
    pub async fn post_message(
        &self,
        group: &str,
        from: &str,
        text: &str,
        nonce: Option<&str>,
    ) -> Response {
        let mut body = json!({"group": group, "from": from, "message": text});
        if let Some(nonce) = nonce {
            body["nonce"] = json!(nonce);
        }
        self.post_json("/message", &body).await
    }

    /// Sends `count` messages `m0`, `m1`, ... one after the other, oldest first.
    pub async fn send_many(&self, group: &str, from: &str, count: usize) -> Vec<Message> {
        let mut sent = Vec::with_capacity(count);
        for i in 0..count {
            sent.push(self.send(group, from, &format!("m{i}"), None).await);
        }
        sent
    }

    /// `GET /group/messages?groupID=<group>&<query>` (asserting `200`).
    pub async fn messages(&self, group: &str, query: &str) -> Page<Message> {
        let response = self
            .get(&format!("/group/messages?groupID={group}&{query}"))
            .await;
        parse(response, StatusCode::OK).await
    }

    /// The groups of `up`, with their unread counts (asserting `200`).
    pub async fn groups_of(&self, up: &str) -> Page<Group> {
        parse(
            self.get(&format!("/group/user/{up}?perPage=100")).await,
            StatusCode::OK,
        )
        .await
    }

    /// The unread count of `up` in `group`.
    pub async fn unread(&self, up: &str, group: &str) -> u64 {
        let groups = self.groups_of(up).await;
        let found = groups
            .items
            .iter()
            .find(|g| g.id.as_str() == group)
            .unwrap_or_else(|| panic!("{up} is not in group {group}"));
        found.unread.expect("per-user listings carry `unread`")
    }

    /// Waits up to 2 s for `unread(up, group)` to be `expected`; returns the
    /// last value seen. The sender's own marker moves just after the write.
    pub async fn unread_eventually(&self, up: &str, group: &str, expected: u64) -> u64 {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let unread = self.unread(up, group).await;
            if unread == expected || Instant::now() >= deadline {
                return unread;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// What a failed write must leave unchanged: the group as served, its
    /// messages as served, and every stored message, group and user. (Read
    /// markers are left out: a sender's marker moves just after a write.)
    pub async fn snapshot(&self, group: &str) -> Value {
        let group_json: Value =
            parse(self.get(&format!("/group/{group}")).await, StatusCode::OK).await;
        let messages: Value = parse(
            self.get(&format!("/group/messages?groupID={group}&perPage=100"))
                .await,
            StatusCode::OK,
        )
        .await;
        let store = self.store();
        let count = |n: u64| json!(n);
        json!({
            "group": group_json,
            "messages": messages,
            "storedMessages": count(store.messages.count_documents(doc! {}).await.unwrap()),
            "storedGroups": count(store.groups.count_documents(doc! {}).await.unwrap()),
            "storedUsers": count(store.users.count_documents(doc! {}).await.unwrap()),
        })
    }

    /// Every stored read marker, as raw documents in `_id` order.
    pub async fn read_markers(&self) -> Vec<mongodb::bson::Document> {
        self.store
            .reads
            .clone_with_type::<mongodb::bson::Document>()
            .find(doc! {})
            .sort(doc! {"_id": 1})
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap()
    }
}
