//! The store-server's configuration, read once from the environment in `main`.

use service_kit::config::{self, ConfigError, Env};
use std::path::PathBuf;

/// Everything the store-server needs to start.
#[derive(Clone)]
pub struct StoreConfig {
    /// Where to listen (`STORE_ADDR`, default `127.0.0.1:3000`; port 0 picks one).
    pub addr: String,
    /// MongoDB connection string (`MONGODB_URI`).
    pub mongodb_uri: String,
    /// Database name (`MONGODB_DB`, default `chat`).
    pub mongodb_db: String,
    /// The bearer token every data route requires (`STORE_API_TOKEN`, required).
    pub api_token: String,
    /// Where the three log files go (`STORE_LOG_DIR`, default `logs/store`).
    pub log_dir: PathBuf,
    /// Longest message in characters (`STORE_MAX_MESSAGE_CHARS`, default 4000).
    pub max_message_chars: usize,
    /// Console log filter (`RUST_LOG`, default `info`).
    pub rust_log: String,
}

impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token stays out of every log line, including a debug print of the config.
        f.debug_struct("StoreConfig")
            .field("addr", &self.addr)
            .field("mongodb_db", &self.mongodb_db)
            .field("log_dir", &self.log_dir)
            .field("max_message_chars", &self.max_message_chars)
            .finish_non_exhaustive()
    }
}

impl StoreConfig {
    /// Reads the configuration; a missing `STORE_API_TOKEN` is an error.
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        Ok(Self {
            addr: config::or_default(env, "STORE_ADDR", "127.0.0.1:3000"),
            mongodb_uri: config::or_default(env, "MONGODB_URI", "mongodb://127.0.0.1:27017"),
            mongodb_db: config::or_default(env, "MONGODB_DB", "chat"),
            api_token: config::required(env, "STORE_API_TOKEN")?,
            log_dir: config::or_default(env, "STORE_LOG_DIR", "logs/store").into(),
            max_message_chars: config::parsed(
                env,
                "STORE_MAX_MESSAGE_CHARS",
                chat_wire::requests::DEFAULT_MAX_MESSAGE_CHARS,
                "a positive whole number",
            )?,
            rust_log: config::or_default(env, "RUST_LOG", "info"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn the_token_is_required_and_everything_else_has_a_default() {
        let mut env = HashMap::new();
        assert_eq!(
            StoreConfig::from_env(&env).unwrap_err().to_string(),
            "missing required environment variable STORE_API_TOKEN"
        );
        env.insert("STORE_API_TOKEN".to_owned(), "s3cret".to_owned());
        let config = StoreConfig::from_env(&env).unwrap();
        assert_eq!(config.addr, "127.0.0.1:3000");
        assert_eq!(config.mongodb_db, "chat");
        assert_eq!(config.max_message_chars, 4000);
        assert!(!format!("{config:?}").contains("s3cret"));
    }
}
