//! `spawn_stack()`: a store-server and a chat-server on free ports, with a
//! database of their own, stopped when the test ends.

use chat_server::config::ChatConfig;
use chat_server::jwt::JwtKeys;
use chat_wire::ids::Up;
use mongodb::bson::oid::ObjectId;
use serde_json::{Value, json};
use std::time::Duration;
use store_server::config::{StoreConfig, parse_write_concern};
use tokio::sync::oneshot;

const STORE_TOKEN: &str = "e2e-store-token-0123456789abcdef-0123";
const JWT_SECRET: &str = "e2e-jwt-secret-0123456789abcdef-0123";

/// A running stack.
pub struct Stack {
    pub chat_url: String,
    pub store_url: String,
    pub http: reqwest::Client,
    jwt: JwtKeys,
    _stop: Vec<oneshot::Sender<()>>,
}

fn mongodb_uri() -> String {
    std::env::var("MONGODB_URI").expect(
        "MONGODB_URI is not set: run ./scripts/test.sh, or start a MongoDB-wire server and set it",
    )
}

pub async fn spawn_stack() -> Stack {
    let logs = std::env::temp_dir().join(format!("chat-e2e-{}", ObjectId::new().to_hex()));
    let store_config = StoreConfig {
        addr: "127.0.0.1:0".into(),
        mongodb_uri: mongodb_uri().parse().expect("any text is a URL setting"),
        mongodb_db: format!("e2e_{}", ObjectId::new().to_hex()),
        api_token: STORE_TOKEN.into(),
        log_dir: logs.join("store"),
        max_message_chars: 4000,
        max_attachment_bytes: chat_wire::attachments::DEFAULT_MAX_ATTACHMENT_BYTES,
        attachment_quota_bytes: chat_wire::attachments::DEFAULT_ATTACHMENT_QUOTA_BYTES,
        write_concern: parse_write_concern("majority").expect("the default write concern"),
        drain_seconds: 0.0,
        retention: Default::default(),
        rust_log: "warn".into(),
    };
    let store = store_server::startup::Application::build(store_config)
        .await
        .expect("store builds");
    let store_url = format!("http://127.0.0.1:{}", store.port());
    let (stop_store, store_stopped) = oneshot::channel::<()>();
    tokio::spawn(store.run_until_stopped(async move {
        let _ = store_stopped.await;
    }));
    let chat_log_dir = logs.join("chat").display().to_string();
    let config = service_kit::config::parse_from::<ChatConfig, _, _>([
        "chat-server",
        "--addr",
        "127.0.0.1:0",
        "--store-url",
        &store_url,
        "--store-token",
        STORE_TOKEN,
        "--jwt-secret",
        JWT_SECRET,
        "--log-dir",
        &chat_log_dir,
    ])
    .expect("config");
    let chat = chat_server::startup::Application::build(config)
        .await
        .expect("chat builds");
    let chat_url = format!("http://127.0.0.1:{}", chat.port());
    let (stop_chat, chat_stopped) = oneshot::channel::<()>();
    tokio::spawn(chat.run_until_stopped(async move {
        let _ = chat_stopped.await;
    }));
    let stack = Stack {
        chat_url,
        store_url,
        http: reqwest::Client::new(),
        jwt: JwtKeys::new(JWT_SECRET),
        _stop: vec![stop_store, stop_chat],
    };
    stack.wait_ready().await;
    stack
}

impl Stack {
    async fn wait_ready(&self) {
        for _ in 0..100 {
            let ready = self
                .http
                .get(format!("{}/readyz", self.chat_url))
                .send()
                .await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the stack did not become ready");
    }

    /// A valid token of `up`.
    pub fn token(&self, up: &str) -> String {
        self.jwt
            .mint(&Up::parse(up).unwrap(), Duration::from_secs(600))
            .unwrap()
    }

    /// Creates a group through the store and returns its id.
    pub async fn create_group(&self, users: &[&str]) -> String {
        let group: Value = self
            .http
            .post(format!("{}/group", self.store_url))
            .bearer_auth(STORE_TOKEN)
            .json(&json!({"name": "e2e", "users": users}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        group["id"].as_str().unwrap().to_owned()
    }

    /// `GET` on the chat-server's REST gateway as `up` (no token when `None`).
    pub async fn get_as(&self, up: Option<&str>, path: &str) -> (u16, Value) {
        let mut request = self.http.get(format!("{}{path}", self.chat_url));
        if let Some(up) = up {
            request = request.bearer_auth(self.token(up));
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}
