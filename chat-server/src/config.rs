//! The chat-server's configuration: every setting is an environment
//! variable (and the same flag on the command line), declared once here
//! with its default and its range, read once in `main`. `chat-server
//! --help` lists them all; README's table is the reference for operators.
//!
//! A missing or invalid setting stops the server at start with one line
//! that names it (see `service_kit::config`); secrets never appear in that
//! line, in `--help`, nor in a `Debug` print.

use chat_wire::cluster::{NODE_URL_RULE, NodeId, is_valid_node_url};
use clap::builder::TypedValueParser;
use clap::{Parser, ValueEnum};
use secrecy::SecretString;
use service_kit::config::{SecretUrl, secret_of_at_least};
use std::hash::{BuildHasher, Hasher};
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The shortest JWT secret and store token accepted, in bytes: a shorter
/// one can be brute-forced (from any token, for the JWT secret).
pub const MIN_SECRET_BYTES: usize = 32;

/// How chat nodes share rooms (`CHAT_ADAPTER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AdapterKind {
    /// One node; rooms live in this process.
    Local,
    /// Several nodes share rooms through the MongoDB adapter.
    #[value(name = "mongodb")]
    MongoDb,
}

/// Everything the chat-server needs to start.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "chat-server",
    version,
    about = "Public Socket.IO and REST gateway of the chat",
    after_help = "`chat-server token <up> [--ttl 24h]` prints a development token signed with CHAT_JWT_SECRET (see `chat-server token --help`).",
    args_override_self = true
)]
pub struct ChatConfig {
    /// Where to listen (port 0 picks a free one).
    #[arg(
        long,
        env = "CHAT_ADDR",
        value_name = "CHAT_ADDR",
        default_value = "0.0.0.0:8080"
    )]
    pub addr: String,

    /// Where to serve the internal routes (`/metrics`, `/admin/drain`,
    /// `/docs`); when set, the public address no longer serves them.
    #[arg(long, env = "CHAT_INTERNAL_ADDR", value_name = "CHAT_INTERNAL_ADDR")]
    pub internal_addr: Option<String>,

    /// This node's public URL, where its clients connect.
    #[arg(long, env = "CHAT_PUBLIC_URL", value_name = "CHAT_PUBLIC_URL",
        default_value = "http://localhost:8080", value_parser = parse_node_url)]
    pub public_url: String,

    /// Public URLs of every node, comma-separated (the dispatcher's
    /// fallback when the registry is out of reach).
    #[arg(long, env = "CHAT_NODES", value_name = "CHAT_NODES", value_delimiter = ',',
        value_parser = parse_node_url)]
    pub nodes: Vec<String>,

    /// The store-server's base URL, or several instances' comma-separated
    /// (on one database): calls are spread over those that answer
    #[arg(
        long,
        env = "STORE_URL",
        value_name = "STORE_URL",
        hide_env_values = true,
        value_delimiter = ',',
        default_value = "http://127.0.0.1:3000"
    )]
    pub store_url: Vec<SecretUrl>,

    /// The store's service token (required; at least 32 bytes).
    #[arg(long, env = "STORE_API_TOKEN", value_name = "STORE_API_TOKEN", hide_env_values = true,
        value_parser = secret_of_at_least::<MIN_SECRET_BYTES>)]
    pub store_token: SecretString,

    /// The HS256 secret of user tokens (required; at least 32 bytes).
    #[arg(long, env = "CHAT_JWT_SECRET", value_name = "CHAT_JWT_SECRET", hide_env_values = true,
        value_parser = secret_of_at_least::<MIN_SECRET_BYTES>)]
    pub jwt_secret: SecretString,

    /// Longest message, in characters.
    #[arg(long, env = "CHAT_MAX_MESSAGE_CHARS", value_name = "CHAT_MAX_MESSAGE_CHARS",
        default_value_t = chat_wire::requests::DEFAULT_MAX_MESSAGE_CHARS,
        value_parser = clap::value_parser!(u32).range(1..=1_000_000).map(|n| n as usize))]
    pub max_message_chars: usize,

    /// Messages a user may send per second.
    #[arg(long, env = "CHAT_MSG_RATE", value_name = "CHAT_MSG_RATE", default_value_t = 20,
        value_parser = clap::value_parser!(u32).range(1..))]
    pub msg_rate: u32,

    /// Messages a user may send at once above that rate.
    #[arg(long, env = "CHAT_MSG_BURST", value_name = "CHAT_MSG_BURST", default_value_t = 40,
        value_parser = clap::value_parser!(u32).range(1..))]
    pub msg_burst: u32,

    /// Client events of any kind a user may send per second.
    #[arg(long, env = "CHAT_EVENT_RATE", value_name = "CHAT_EVENT_RATE", default_value_t = 50,
        value_parser = clap::value_parser!(u32).range(1..))]
    pub event_rate: u32,

    /// Client events a user may send at once above that rate.
    #[arg(long, env = "CHAT_EVENT_BURST", value_name = "CHAT_EVENT_BURST", default_value_t = 100,
        value_parser = clap::value_parser!(u32).range(1..))]
    pub event_burst: u32,

    /// The largest attachment, in bytes.
    #[arg(long, env = "CHAT_MAX_ATTACHMENT_BYTES", value_name = "CHAT_MAX_ATTACHMENT_BYTES",
        default_value_t = chat_wire::attachments::DEFAULT_MAX_ATTACHMENT_BYTES,
        value_parser = clap::value_parser!(u64).range(1..=4 << 30))]
    pub max_attachment_bytes: u64,

    /// The bytes one user may keep in attachments.
    #[arg(long, env = "CHAT_ATTACHMENT_QUOTA_BYTES", value_name = "CHAT_ATTACHMENT_QUOTA_BYTES",
        default_value_t = chat_wire::attachments::DEFAULT_ATTACHMENT_QUOTA_BYTES,
        value_parser = clap::value_parser!(u64).range(1..))]
    pub attachment_quota_bytes: u64,

    /// Sockets a user may hold on this node.
    #[arg(long, env = "CHAT_MAX_SOCKETS_PER_USER", value_name = "CHAT_MAX_SOCKETS_PER_USER",
        default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=10_000).map(|n| n as usize))]
    pub max_sockets_per_user: usize,

    /// Seconds an engine session may stay without a connected socket
    /// (a refused token, or no CONNECT) before it is closed.
    #[arg(long, env = "CHAT_CONNECT_TIMEOUT_SECONDS", value_name = "CHAT_CONNECT_TIMEOUT_SECONDS",
        default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub connect_timeout_seconds: u64,

    /// Engine sessions without a connected socket the node holds at once.
    #[arg(long, env = "CHAT_MAX_PENDING_SESSIONS", value_name = "CHAT_MAX_PENDING_SESSIONS",
        default_value_t = 2048, value_parser = clap::value_parser!(u32).range(1..).map(|n| n as usize))]
    pub max_pending_sessions: usize,

    /// Engine sessions without a connected socket one client address
    /// holds at once.
    #[arg(long, env = "CHAT_MAX_PENDING_PER_ADDRESS", value_name = "CHAT_MAX_PENDING_PER_ADDRESS",
        default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..).map(|n| n as usize))]
    pub max_pending_per_address: usize,

    /// Proxies whose `X-Forwarded-For` names the client address,
    /// comma-separated IP addresses.
    #[arg(
        long,
        env = "CHAT_TRUSTED_PROXIES",
        value_name = "CHAT_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<IpAddr>,

    /// How chat nodes share rooms: `local` (one node) or `mongodb`.
    #[arg(
        long,
        env = "CHAT_ADAPTER",
        value_name = "CHAT_ADAPTER",
        value_enum,
        default_value = "local"
    )]
    pub adapter: AdapterKind,

    /// MongoDB, for the multi-node adapter's own collection.
    #[arg(
        long,
        env = "MONGODB_URI",
        value_name = "MONGODB_URI",
        hide_env_values = true,
        default_value = "mongodb://127.0.0.1:27017"
    )]
    pub mongodb_uri: SecretUrl,

    /// MongoDB database, for the multi-node adapter.
    #[arg(
        long,
        env = "MONGODB_DB",
        value_name = "MONGODB_DB",
        default_value = "chat"
    )]
    pub mongodb_db: String,

    /// This node's id in the registry (random when unset).
    #[arg(long, env = "CHAT_NODE_ID", value_name = "CHAT_NODE_ID", value_parser = parse_node_id)]
    pub node_id: Option<NodeId>,

    /// Seconds a drain spreads the closing of its sockets over.
    #[arg(long, env = "CHAT_DRAIN_SECONDS", value_name = "CHAT_DRAIN_SECONDS",
        default_value_t = 10.0, value_parser = parse_drain_seconds)]
    pub drain_seconds: f64,

    /// The bearer token of `POST /admin/drain` (at least 16 characters;
    /// unset: the admin routes do not exist).
    #[arg(long, env = "CHAT_ADMIN_TOKEN", value_name = "CHAT_ADMIN_TOKEN", hide_env_values = true,
        value_parser = secret_of_at_least::<16>)]
    pub admin_token: Option<SecretString>,

    /// Where offline notifications are posted (unset: none).
    #[arg(
        long,
        env = "CHAT_NOTIFY_URL",
        value_name = "CHAT_NOTIFY_URL",
        hide_env_values = true
    )]
    pub notify_url: Option<SecretUrl>,

    /// Where the log files go.
    #[arg(
        long,
        env = "CHAT_LOG_DIR",
        value_name = "CHAT_LOG_DIR",
        default_value = "logs/chat"
    )]
    pub log_dir: PathBuf,

    /// Console log filter.
    #[arg(
        long,
        env = "RUST_LOG",
        value_name = "RUST_LOG",
        default_value = "info"
    )]
    pub rust_log: String,
}

impl ChatConfig {
    /// How long a drain spreads the closing of its sockets.
    pub fn drain_spread(&self) -> Duration {
        Duration::from_secs_f64(self.drain_seconds)
    }

    /// How long an engine session may stay without a connected socket.
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout_seconds)
    }

    /// This node's id: the configured one, or one made up for this process.
    pub fn node_id(&self) -> NodeId {
        self.node_id.clone().unwrap_or_else(random_node_id)
    }
}

fn parse_node_url(url: &str) -> Result<String, String> {
    match is_valid_node_url(url.trim()) {
        true => Ok(url.trim().to_owned()),
        false => Err(format!("expected {NODE_URL_RULE}")),
    }
}

fn parse_node_id(id: &str) -> Result<NodeId, String> {
    NodeId::parse(id.to_owned())
        .map_err(|_| "expected 1 to 64 characters of A-Z a-z 0-9 . _ -".to_owned())
}

fn parse_drain_seconds(seconds: &str) -> Result<f64, String> {
    match seconds.trim().parse::<f64>() {
        Ok(seconds) if (0.0..=3600.0).contains(&seconds) => Ok(seconds),
        _ => Err("expected a number of seconds, 0 to 3600".to_owned()),
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
    use secrecy::ExposeSecret;
    use service_kit::config::parse_from;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    /// The configuration from `args` (besides the two required secrets).
    /// Flags stand for the variables: a test must not set the process's
    /// environment, which the other tests share.
    fn with(args: &[&str]) -> Result<ChatConfig, String> {
        let mut all = vec![
            "chat-server",
            "--store-token",
            SECRET,
            "--jwt-secret",
            SECRET,
        ];
        all.extend_from_slice(args);
        parse_from::<ChatConfig, _, _>(all)
    }

    #[test]
    fn secrets_are_required_named_and_never_shown() {
        let err = parse_from::<ChatConfig, _, _>(["chat-server", "--jwt-secret", SECRET]);
        if std::env::var_os("STORE_API_TOKEN").is_none() {
            assert_eq!(
                err.unwrap_err(),
                "missing required environment variable STORE_API_TOKEN"
            );
        }
        let short = "s".repeat(31);
        let err = with(&["--jwt-secret", &short]).unwrap_err();
        assert!(
            err.contains("CHAT_JWT_SECRET") && err.contains("32 bytes"),
            "{err}"
        );
        assert!(!err.contains(&short), "{err}");
        let err = with(&["--store-token", "short-token"]).unwrap_err();
        assert!(
            err.contains("STORE_API_TOKEN") && !err.contains("short-token"),
            "{err}"
        );
        let config = with(&["--admin-token", "0123456789abcdef"]).unwrap();
        let printed = format!("{config:?}");
        assert!(
            !printed.contains(SECRET) && !printed.contains("0123456789abcdef"),
            "{printed}"
        );
        assert_eq!(config.jwt_secret.expose_secret(), SECRET);
    }

    #[test]
    fn defaults_follow_the_contract() {
        let config = with(&[]).unwrap();
        assert_eq!(config.addr, "0.0.0.0:8080");
        assert_eq!(config.store_url.len(), 1);
        assert_eq!(config.store_url[0].expose(), "http://127.0.0.1:3000");
        assert_eq!(
            (config.max_message_chars, config.msg_rate, config.msg_burst),
            (4000, 20, 40)
        );
        assert_eq!(
            (
                config.event_rate,
                config.event_burst,
                config.max_sockets_per_user
            ),
            (50, 100, 16)
        );
        assert_eq!(config.drain_spread(), Duration::from_secs(10));
        assert_eq!(config.connect_timeout(), Duration::from_secs(10));
        assert!(config.node_id().as_str().starts_with("chat-"));
        assert_eq!(
            (config.max_attachment_bytes, config.attachment_quota_bytes),
            (26_214_400, 1_073_741_824)
        );
    }

    #[test]
    fn a_rate_size_or_count_of_zero_is_refused_in_one_line() {
        for (flag, variable) in [
            ("--msg-rate", "CHAT_MSG_RATE"),
            ("--msg-burst", "CHAT_MSG_BURST"),
            ("--event-rate", "CHAT_EVENT_RATE"),
            ("--event-burst", "CHAT_EVENT_BURST"),
            ("--max-message-chars", "CHAT_MAX_MESSAGE_CHARS"),
            ("--max-sockets-per-user", "CHAT_MAX_SOCKETS_PER_USER"),
            ("--max-pending-sessions", "CHAT_MAX_PENDING_SESSIONS"),
            ("--max-pending-per-address", "CHAT_MAX_PENDING_PER_ADDRESS"),
            ("--connect-timeout-seconds", "CHAT_CONNECT_TIMEOUT_SECONDS"),
            ("--max-attachment-bytes", "CHAT_MAX_ATTACHMENT_BYTES"),
            ("--attachment-quota-bytes", "CHAT_ATTACHMENT_QUOTA_BYTES"),
        ] {
            let err = with(&[flag, "0"]).unwrap_err();
            assert!(
                err.starts_with(&format!("environment variable {variable}=\"0\" is invalid")),
                "{flag}: {err}"
            );
            assert!(!err.contains('\n'), "{err}");
        }
    }

    #[test]
    fn nodes_are_absolute_web_urls_and_the_adapter_is_checked() {
        let config = with(&["--nodes", "http://a:8080, http://b:8080"]).unwrap();
        assert_eq!(config.nodes, vec!["http://a:8080", "http://b:8080"]);
        for bad in ["javascript:alert(1)", "http://u:p@a:8080", "a:8080"] {
            let err = with(&["--nodes", bad]).unwrap_err();
            assert!(err.contains("CHAT_NODES"), "{err}");
            let err = with(&["--public-url", bad]).unwrap_err();
            assert!(err.contains("CHAT_PUBLIC_URL"), "{err}");
        }
        let err = with(&["--adapter", "redis"]).unwrap_err();
        assert!(
            err.contains("CHAT_ADAPTER") && err.contains("mongodb"),
            "{err}"
        );
        assert_eq!(
            with(&["--adapter", "mongodb"]).unwrap().adapter,
            AdapterKind::MongoDb
        );
    }

    #[test]
    fn cluster_settings_are_checked() {
        let config = with(&["--node-id", "chat-a"]).unwrap();
        assert_eq!(config.node_id().as_str(), "chat-a");
        assert!(with(&["--node-id", "a/b"]).is_err());
        let config = with(&["--drain-seconds", "0.5"]).unwrap();
        assert_eq!(config.drain_spread(), Duration::from_millis(500));
        assert!(with(&["--drain-seconds", "-1"]).is_err());
        let short = with(&["--admin-token", "short"]).unwrap_err();
        assert!(
            short.contains("CHAT_ADMIN_TOKEN") && !short.contains("\"short\""),
            "{short}"
        );
        let config = with(&["--trusted-proxies", "10.0.0.1,::1"]).unwrap();
        assert_eq!(config.trusted_proxies.len(), 2);
    }
}
