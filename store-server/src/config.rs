//! The store-server's configuration: every setting is an environment
//! variable (and the same flag on the command line), declared once here
//! with its default and its range, read once in `main`. `store-server
//! --help` lists them all; README's table is the reference for operators.
//!
//! A missing or invalid setting stops the server at start with one line
//! that names it (see `service_kit::config`); the token never appears in
//! that line, in `--help`, nor in a `Debug` print.

use clap::Parser;
use clap::builder::TypedValueParser;
use mongodb::options::{Acknowledgment, WriteConcern};
use secrecy::SecretString;
use service_kit::config::{SecretUrl, secret_of_at_least};
use std::path::PathBuf;

/// The shortest service token accepted, in bytes.
pub const MIN_TOKEN_BYTES: usize = 32;
/// The largest attachment any setting or caller may allow (4 GiB).
pub const MAX_ATTACHMENT_BYTES: u64 = 4 << 30;

/// Everything the store-server needs to start.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "store-server",
    version,
    about = "Internal data service of the chat, over MongoDB"
)]
pub struct StoreConfig {
    /// Where to listen (port 0 picks a free one); keep it private.
    #[arg(
        long,
        env = "STORE_ADDR",
        value_name = "STORE_ADDR",
        default_value = "127.0.0.1:3000"
    )]
    pub addr: String,

    /// MongoDB connection string.
    #[arg(
        long,
        env = "MONGODB_URI",
        value_name = "MONGODB_URI",
        hide_env_values = true,
        default_value = "mongodb://127.0.0.1:27017"
    )]
    pub mongodb_uri: SecretUrl,

    /// Database name.
    #[arg(
        long,
        env = "MONGODB_DB",
        value_name = "MONGODB_DB",
        default_value = "chat"
    )]
    pub mongodb_db: String,

    /// The bearer token every data route requires (required; at least 32
    /// bytes).
    #[arg(long, env = "STORE_API_TOKEN", value_name = "STORE_API_TOKEN", hide_env_values = true,
        value_parser = secret_of_at_least::<MIN_TOKEN_BYTES>)]
    pub api_token: SecretString,

    /// Where the three log files go.
    #[arg(
        long,
        env = "STORE_LOG_DIR",
        value_name = "STORE_LOG_DIR",
        default_value = "logs/store"
    )]
    pub log_dir: PathBuf,

    /// Longest message, in characters.
    #[arg(long, env = "STORE_MAX_MESSAGE_CHARS", value_name = "STORE_MAX_MESSAGE_CHARS",
        default_value_t = chat_wire::requests::DEFAULT_MAX_MESSAGE_CHARS,
        value_parser = clap::value_parser!(u32).range(1..=1_000_000).map(|n| n as usize))]
    pub max_message_chars: usize,

    /// The largest attachment, in bytes, when the caller of
    /// `POST /attachment` does not say (`maxBytes`).
    #[arg(long, env = "STORE_MAX_ATTACHMENT_BYTES", value_name = "STORE_MAX_ATTACHMENT_BYTES",
        default_value_t = chat_wire::attachments::DEFAULT_MAX_ATTACHMENT_BYTES,
        value_parser = clap::value_parser!(u64).range(1..=MAX_ATTACHMENT_BYTES))]
    pub max_attachment_bytes: u64,

    /// The bytes one user may keep in attachments, when the caller of
    /// `POST /attachment` does not say (`quotaBytes`).
    #[arg(long, env = "STORE_ATTACHMENT_QUOTA_BYTES", value_name = "STORE_ATTACHMENT_QUOTA_BYTES",
        default_value_t = chat_wire::attachments::DEFAULT_ATTACHMENT_QUOTA_BYTES,
        value_parser = clap::value_parser!(u64).range(1..))]
    pub attachment_quota_bytes: u64,

    /// The write concern of every write the store acknowledges: `majority`
    /// or a number of data-bearing members (1 to 50), always journaled
    /// (`j: true`). It overrides a `w` or `journal` in MONGODB_URI.
    #[arg(long, env = "STORE_WRITE_CONCERN", value_name = "STORE_WRITE_CONCERN",
        default_value = "majority", value_parser = parse_write_concern)]
    pub write_concern: WriteConcern,

    /// Seconds `/readyz` answers 503 after SIGTERM before the store stops
    /// taking requests (callers with another instance move to it first).
    #[arg(long, env = "STORE_DRAIN_SECONDS", value_name = "STORE_DRAIN_SECONDS",
        default_value_t = 2.0, value_parser = parse_drain_seconds)]
    pub drain_seconds: f64,

    /// The retention sweep (`STORE_RETENTION_*`).
    #[command(flatten)]
    pub retention: crate::retention::settings::RetentionSettings,

    /// Console log filter.
    #[arg(
        long,
        env = "RUST_LOG",
        value_name = "RUST_LOG",
        default_value = "info"
    )]
    pub rust_log: String,
}

/// Reads `STORE_DRAIN_SECONDS`: 0 to 60 seconds.
fn parse_drain_seconds(raw: &str) -> Result<f64, String> {
    match raw.parse::<f64>() {
        Ok(seconds) if (0.0..=60.0).contains(&seconds) => Ok(seconds),
        _ => Err("expected a number of seconds from 0 to 60".into()),
    }
}

impl StoreConfig {
    /// How long `/readyz` answers 503 before the store stops.
    pub fn drain_notice(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.drain_seconds)
    }
}

/// Reads `STORE_WRITE_CONCERN`: `majority` or a count of members, always
/// journaled.
pub fn parse_write_concern(raw: &str) -> Result<WriteConcern, String> {
    let acknowledgment = match raw {
        "majority" => Acknowledgment::Majority,
        count => match count.parse::<u32>() {
            Ok(n @ 1..=50) => Acknowledgment::Nodes(n),
            _ => return Err("expected `majority` or a number of members from 1 to 50".into()),
        },
    };
    Ok(WriteConcern::builder()
        .w(acknowledgment)
        .journal(true)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use service_kit::config::parse_from;

    const TOKEN: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn the_token_is_required_long_and_hidden_and_everything_else_has_a_default() {
        if std::env::var_os("STORE_API_TOKEN").is_none() {
            assert_eq!(
                parse_from::<StoreConfig, _, _>(["store-server"]).unwrap_err(),
                "missing required environment variable STORE_API_TOKEN"
            );
        }
        let err =
            parse_from::<StoreConfig, _, _>(["store-server", "--api-token", "s3cret"]).unwrap_err();
        assert!(err.contains("32 bytes") && !err.contains("s3cret"), "{err}");
        let config =
            parse_from::<StoreConfig, _, _>(["store-server", "--api-token", TOKEN]).unwrap();
        assert_eq!(config.addr, "127.0.0.1:3000");
        assert_eq!(config.mongodb_db, "chat");
        assert_eq!(config.max_message_chars, 4000);
        assert_eq!(
            (config.max_attachment_bytes, config.attachment_quota_bytes),
            (26_214_400, 1_073_741_824)
        );
        assert!(!format!("{config:?}").contains(TOKEN));
        let err = parse_from::<StoreConfig, _, _>([
            "store-server",
            "--api-token",
            TOKEN,
            "--max-message-chars",
            "0",
        ])
        .unwrap_err();
        assert!(err.contains("STORE_MAX_MESSAGE_CHARS=\"0\""), "{err}");
    }

    #[test]
    fn writes_are_journaled_with_majority_unless_told_a_count() {
        let parse = |extra: &[&str]| {
            let mut args = vec!["store-server", "--api-token", TOKEN];
            args.extend_from_slice(extra);
            parse_from::<StoreConfig, _, _>(args)
        };
        let default = parse(&[]).unwrap().write_concern;
        assert_eq!(default.w, Some(Acknowledgment::Majority));
        assert_eq!(default.journal, Some(true));
        let one = parse(&["--write-concern", "1"]).unwrap().write_concern;
        assert_eq!(
            (one.w, one.journal),
            (Some(Acknowledgment::Nodes(1)), Some(true))
        );
        for bad in ["0", "none", "51"] {
            let err = parse(&["--write-concern", bad]).unwrap_err();
            assert!(err.contains("STORE_WRITE_CONCERN"), "{err}");
        }
    }
}
