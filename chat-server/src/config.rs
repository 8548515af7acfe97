//! The chat-server's configuration, read once from the environment in `main`.

use service_kit::config::{self, ConfigError, Env};
use std::path::PathBuf;

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
    /// `local` or `mongodb` (`CHAT_ADAPTER`).
    pub adapter: String,
    /// MongoDB, for the multi-node adapter (`MONGODB_URI`).
    pub mongodb_uri: String,
    /// MongoDB database, for the multi-node adapter (`MONGODB_DB`).
    pub mongodb_db: String,
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
        let adapter = config::or_default(env, "CHAT_ADAPTER", "local");
        if adapter != "local" && adapter != "mongodb" {
            return Err(ConfigError::Invalid {
                name: "CHAT_ADAPTER",
                value: adapter,
                expected: "`local` or `mongodb`",
            });
        }
        Ok(Self {
            addr: config::or_default(env, "CHAT_ADDR", "0.0.0.0:8080"),
            public_url: config::or_default(env, "CHAT_PUBLIC_URL", "http://localhost:8080"),
            nodes,
            store_url: config::or_default(env, "STORE_URL", "http://127.0.0.1:3000"),
            store_token: config::required(env, "STORE_API_TOKEN")?,
            jwt_secret: config::required(env, "CHAT_JWT_SECRET")?,
            max_message_chars: config::parsed(
                env,
                "CHAT_MAX_MESSAGE_CHARS",
                4000,
                "a positive whole number",
            )?,
            msg_rate: config::parsed(
                env,
                "CHAT_MSG_RATE",
                20,
                "a whole number of messages per second",
            )?,
            msg_burst: config::parsed(env, "CHAT_MSG_BURST", 40, "a whole number of messages")?,
            adapter,
            mongodb_uri: config::or_default(env, "MONGODB_URI", "mongodb://127.0.0.1:27017"),
            mongodb_db: config::or_default(env, "MONGODB_DB", "chat"),
            notify_url: env.get("CHAT_NOTIFY_URL"),
            log_dir: config::or_default(env, "CHAT_LOG_DIR", "logs/chat").into(),
            rust_log: config::or_default(env, "RUST_LOG", "info"),
        })
    }

    /// Reads only what `chat-server token` needs.
    pub fn jwt_secret_from_env(env: &impl Env) -> Result<String, ConfigError> {
        config::required(env, "CHAT_JWT_SECRET")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn secrets_are_required_and_named() {
        let err = ChatConfig::from_env(&env(&[("CHAT_JWT_SECRET", "j")])).unwrap_err();
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
        let config =
            ChatConfig::from_env(&env(&[("STORE_API_TOKEN", "s"), ("CHAT_JWT_SECRET", "j")]))
                .unwrap();
        assert_eq!(config.addr, "0.0.0.0:8080");
        assert_eq!(config.store_url, "http://127.0.0.1:3000");
        assert_eq!(
            (config.max_message_chars, config.msg_rate, config.msg_burst),
            (4000, 20, 40)
        );
        assert!(config.nodes.is_empty());
        assert!(config.notify_url.is_none());
        assert!(!format!("{config:?}").contains("\"j\""));
    }

    #[test]
    fn nodes_are_a_comma_separated_list_and_the_adapter_is_checked() {
        let config = ChatConfig::from_env(&env(&[
            ("STORE_API_TOKEN", "s"),
            ("CHAT_JWT_SECRET", "j"),
            ("CHAT_NODES", "http://a:8080, http://b:8080,"),
        ]))
        .unwrap();
        assert_eq!(config.nodes, vec!["http://a:8080", "http://b:8080"]);
        let bad = ChatConfig::from_env(&env(&[
            ("STORE_API_TOKEN", "s"),
            ("CHAT_JWT_SECRET", "j"),
            ("CHAT_ADAPTER", "redis"),
        ]));
        assert!(bad.is_err());
    }
}
