//! The chat-server's configuration, read once from the environment in `main`.

use chat_wire::cluster::NodeId;
use service_kit::config::{self, ConfigError, Env};
use std::hash::{BuildHasher, Hasher};
use std::path::PathBuf;
use std::time::Duration;

/// The shortest JWT secret accepted, in bytes.
pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// The shortest admin token accepted: a drain stops a node, so the token
/// must not be guessable.
const MIN_ADMIN_TOKEN_CHARS: usize = 16;

/// How chat nodes share rooms (`CHAT_ADAPTER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdapterKind {
    /// `local`: one node; rooms live in this process.
    Local,
    /// `mongodb`: several nodes share rooms through the MongoDB adapter.
    MongoDb,
}

/// Everything the chat-server needs to start.
#[derive(Clone)]
pub struct ChatConfig {
    /// Where to listen (`CHAT_ADDR`, default `0.0.0.0:8080`; port 0 picks one).
    pub addr: String,
    /// This node's public URL (`CHAT_PUBLIC_URL`).
    pub public_url: String,
    /// Public URLs of every node (`CHAT_NODES`, comma-separated; may be empty).
    pub nodes: Vec<String>,
    /// The store's base URL (`STORE_URL`).
    pub store_url: String,
    /// The store's service token (`STORE_API_TOKEN`, required).
    pub store_token: String,
    /// The HS256 secret of user tokens (`CHAT_JWT_SECRET`, required).
    pub jwt_secret: String,
    /// Longest message, in characters (`CHAT_MAX_MESSAGE_CHARS`).
    pub max_message_chars: usize,
    /// Messages a user may send per second (`CHAT_MSG_RATE`).
    pub msg_rate: u32,
    /// Burst above the rate (`CHAT_MSG_BURST`).
    pub msg_burst: u32,
    /// Client events of any kind a user may send per second (`CHAT_EVENT_RATE`).
    pub event_rate: u32,
    /// Burst above that rate (`CHAT_EVENT_BURST`).
    pub event_burst: u32,
    /// Sockets a user may hold on this node (`CHAT_MAX_SOCKETS_PER_USER`).
    pub max_sockets_per_user: usize,
    /// `local` or `mongodb` (`CHAT_ADAPTER`).
    pub adapter: AdapterKind,
    /// MongoDB, for the multi-node adapter (`MONGODB_URI`).
    pub mongodb_uri: String,
    /// MongoDB database, for the multi-node adapter (`MONGODB_DB`).
    pub mongodb_db: String,
    /// This node's id in the registry (`CHAT_NODE_ID`; random by default).
    pub node_id: NodeId,
    /// How long a drain spreads the closing of its sockets
    /// (`CHAT_DRAIN_SECONDS`).
    pub drain_spread: Duration,
    /// The bearer token of `POST /admin/drain` (`CHAT_ADMIN_TOKEN`; unset:
    /// the admin routes answer 404).
    pub admin_token: Option<String>,
    /// Push-notification hook (`CHAT_NOTIFY_URL`; empty: none).
    pub notify_url: Option<String>,
    /// Where the log files go (`CHAT_LOG_DIR`).
    pub log_dir: PathBuf,
    /// Console log filter (`RUST_LOG`).
    pub rust_log: String,
}

impl std::fmt::Debug for ChatConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets stay out of every log line.
        f.debug_struct("ChatConfig")
            .field("addr", &self.addr)
            .field("public_url", &self.public_url)
            .field("nodes", &self.nodes)
            .field("store_url", &self.store_url)
            .field("adapter", &self.adapter)
            .field("node_id", &self.node_id)
            .field("drain_spread", &self.drain_spread)
            .finish_non_exhaustive()
    }
}

impl ChatConfig {
    /// Reads the configuration; missing secrets are errors.
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        let nodes = config::or_default(env, "CHAT_NODES", "")
            .split(',')
            .map(str::trim)
            .filter(|node| !node.is_empty())
            .map(str::to_owned)
            .collect();
        let adapter = match config::or_default(env, "CHAT_ADAPTER", "local").as_str() {
            "local" => AdapterKind::Local,
            "mongodb" => AdapterKind::MongoDb,
            other => {
                return Err(ConfigError::Invalid {
                    name: "CHAT_ADAPTER",
                    value: other.to_owned(),
                    expected: "`local` or `mongodb`",
                });
            }
        };
        let node_id = match env.get("CHAT_NODE_ID") {
            Some(id) => NodeId::parse(id.clone()).map_err(|_| ConfigError::Invalid {
                name: "CHAT_NODE_ID",
                value: id,
                expected: "1 to 64 characters of A-Z a-z 0-9 . _ -",
            })?,
            None => random_node_id(),
        };
        let drain_seconds: f64 = config::parsed(
            env,
            "CHAT_DRAIN_SECONDS",
            10.0,
            "a number of seconds, 0 to 3600",
        )?;
        if !(0.0..=3600.0).contains(&drain_seconds) {
            return Err(ConfigError::Invalid {
                name: "CHAT_DRAIN_SECONDS",
                value: drain_seconds.to_string(),
                expected: "a number of seconds, 0 to 3600",
            });
        }
        let admin_token = env.get("CHAT_ADMIN_TOKEN");
        if let Some(token) = &admin_token
            && token.chars().count() < MIN_ADMIN_TOKEN_CHARS
        {
            return Err(ConfigError::Invalid {
                name: "CHAT_ADMIN_TOKEN",
                value: "(hidden)".to_owned(),
                expected: "at least 16 characters",
            });
        }
        // The node registry keeps it; the store takes only such URLs.
        let public_url = config::or_default(env, "CHAT_PUBLIC_URL", "http://localhost:8080");
        if !chat_wire::cluster::is_valid_node_url(&public_url) {
            return Err(ConfigError::Invalid {
                name: "CHAT_PUBLIC_URL",
                value: public_url,
                expected: chat_wire::cluster::NODE_URL_RULE,
            });
        }
        Ok(Self {
            addr: config::or_default(env, "CHAT_ADDR", "0.0.0.0:8080"),
            public_url,
            nodes,
            store_url: config::or_default(env, "STORE_URL", "http://127.0.0.1:3000"),
            store_token: config::required(env, "STORE_API_TOKEN")?,
            jwt_secret: Self::jwt_secret_from_env(env)?,
            max_message_chars: config::parsed(
                env,
                "CHAT_MAX_MESSAGE_CHARS",
                chat_wire::requests::DEFAULT_MAX_MESSAGE_CHARS,
                "a positive whole number",
            )?,
            msg_rate: config::parsed(
                env,
                "CHAT_MSG_RATE",
                20,
                "a whole number of messages per second",
            )?,
            msg_burst: config::parsed(env, "CHAT_MSG_BURST", 40, "a whole number of messages")?,
            event_rate: config::parsed(
                env,
                "CHAT_EVENT_RATE",
                50,
                "a whole number of events per second",
            )?,
            event_burst: config::parsed(env, "CHAT_EVENT_BURST", 100, "a whole number of events")?,
            max_sockets_per_user: config::parsed(
                env,
                "CHAT_MAX_SOCKETS_PER_USER",
                16,
                "a whole number of sockets",
            )?,
            adapter,
            node_id,
            drain_spread: Duration::from_secs_f64(drain_seconds),
            admin_token,
            mongodb_uri: config::or_default(env, "MONGODB_URI", "mongodb://127.0.0.1:27017"),
            mongodb_db: config::or_default(env, "MONGODB_DB", "chat"),
            notify_url: env.get("CHAT_NOTIFY_URL"),
            log_dir: config::or_default(env, "CHAT_LOG_DIR", "logs/chat").into(),
            rust_log: config::or_default(env, "RUST_LOG", "info"),
        })
    }

    /// Reads only what `chat-server token` needs. A secret shorter than
    /// [`MIN_JWT_SECRET_BYTES`] is refused: HS256 with a short secret can
    /// be brute-forced from any token.
    pub fn jwt_secret_from_env(env: &impl Env) -> Result<String, ConfigError> {
        let secret = config::required(env, "CHAT_JWT_SECRET")?;
        if secret.len() < MIN_JWT_SECRET_BYTES {
            return Err(ConfigError::Invalid {
                name: "CHAT_JWT_SECRET",
                value: "(hidden)".to_owned(),
                expected: "at least 32 bytes (e.g. `openssl rand -hex 32`)",
            });
        }
        Ok(secret)
    }
}

/// A node id unique to this process, e.g. `chat-3f9a1c0b`.
fn random_node_id() -> NodeId {
    // `RandomState` is seeded randomly per process: no extra dependency.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    let id = format!("chat-{:08x}", hasher.finish() as u32);
    NodeId::parse(id).expect("hex digits are a valid node id")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn secrets_are_required_and_named() {
        let err = ChatConfig::from_env(&env(&[("CHAT_JWT_SECRET", SECRET)])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing required environment variable STORE_API_TOKEN"
        );
        let err = ChatConfig::from_env(&env(&[("STORE_API_TOKEN", "s")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing required environment variable CHAT_JWT_SECRET"
        );
    }

    #[test]
    fn defaults_follow_the_contract() {
        let config = ChatConfig::from_env(&env(&[
            ("STORE_API_TOKEN", "s"),
            ("CHAT_JWT_SECRET", SECRET),
        ]))
        .unwrap();
        assert_eq!(config.addr, "0.0.0.0:8080");
        assert_eq!(config.store_url, "http://127.0.0.1:3000");
        assert_eq!(
            (config.max_message_chars, config.msg_rate, config.msg_burst),
            (4000, 20, 40)
        );
        assert!(config.nodes.is_empty());
        assert!(config.notify_url.is_none());
        assert_eq!(config.adapter, AdapterKind::Local);
        assert_eq!(config.drain_spread, Duration::from_secs(10));
        assert!(config.admin_token.is_none());
        assert!(config.node_id.as_str().starts_with("chat-"));
        assert!(!format!("{config:?}").contains(SECRET));
        assert_eq!(
            (
                config.event_rate,
                config.event_burst,
                config.max_sockets_per_user
            ),
            (50, 100, 16)
        );
    }

    #[test]
    fn nodes_are_a_comma_separated_list_and_the_adapter_is_checked() {
        let config = ChatConfig::from_env(&env(&[
            ("STORE_API_TOKEN", "s"),
            ("CHAT_JWT_SECRET", SECRET),
            ("CHAT_NODES", "http://a:8080, http://b:8080,"),
        ]))
        .unwrap();
        assert_eq!(config.nodes, vec!["http://a:8080", "http://b:8080"]);
        let bad = ChatConfig::from_env(&env(&[
            ("STORE_API_TOKEN", "s"),
            ("CHAT_JWT_SECRET", SECRET),
            ("CHAT_ADAPTER", "redis"),
        ]));
        assert!(bad.is_err());
    }

    #[test]
    fn a_short_jwt_secret_is_refused_without_being_shown() {
        let short = "s".repeat(31);
        let err = ChatConfig::from_env(&env(&[
            ("STORE_API_TOKEN", "s"),
            ("CHAT_JWT_SECRET", &short),
        ]))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("CHAT_JWT_SECRET") && err.contains("32 bytes"),
            "{err}"
        );
        assert!(!err.contains(&short));
    }

    #[test]
    fn cluster_settings_are_checked() {
        let base = [("STORE_API_TOKEN", "s"), ("CHAT_JWT_SECRET", SECRET)];
        let with = |extra: (&str, &str)| {
            let mut pairs = base.to_vec();
            pairs.push(extra);
            ChatConfig::from_env(&env(&pairs))
        };
        let config = with(("CHAT_NODE_ID", "chat-a")).unwrap();
        assert_eq!(config.node_id.as_str(), "chat-a");
        assert!(with(("CHAT_NODE_ID", "a/b")).is_err());
        let config = with(("CHAT_DRAIN_SECONDS", "0.5")).unwrap();
        assert_eq!(config.drain_spread, Duration::from_millis(500));
        assert!(with(("CHAT_DRAIN_SECONDS", "-1")).is_err());
        let short = with(("CHAT_ADMIN_TOKEN", "short")).unwrap_err().to_string();
        assert!(
            short.contains("CHAT_ADMIN_TOKEN") && !short.contains("short\""),
            "{short}"
        );
        let config = with(("CHAT_ADMIN_TOKEN", "0123456789abcdef")).unwrap();
        assert_eq!(config.admin_token.as_deref(), Some("0123456789abcdef"));
        assert_eq!(
            with(("CHAT_ADAPTER", "mongodb")).unwrap().adapter,
            AdapterKind::MongoDb
        );
        let config = with(("CHAT_PUBLIC_URL", "https://chat.example:8443/a")).unwrap();
        assert_eq!(config.public_url, "https://chat.example:8443/a");
        for bad in ["http://chat a", "http://chät", "http://a\tb"] {
            let err = with(("CHAT_PUBLIC_URL", bad)).unwrap_err().to_string();
            assert!(err.contains("CHAT_PUBLIC_URL"), "{err}");
        }
    }
}
