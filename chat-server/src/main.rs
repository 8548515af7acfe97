//! The chat-server binary: `chat-server` serves; `chat-server token <up>`
//! prints a development token signed with `CHAT_JWT_SECRET`. Every setting
//! is listed by `chat-server --help`.

use chat_server::config::{ChatConfig, MIN_SECRET_BYTES};
use chat_server::jwt::{JwtKeys, parse_ttl};
use chat_server::startup::Application;
use chat_wire::ids::Up;
use clap::Parser;
use secrecy::{ExposeSecret, SecretString};
use service_kit::config::secret_of_at_least;
use std::ffi::OsString;
use std::process::ExitCode;

/// `chat-server token`: a development token.
#[derive(Parser)]
#[command(
    name = "chat-server token",
    about = "Print a user token signed with CHAT_JWT_SECRET (for development)"
)]
struct TokenCommand {
    /// The user id (`sub`).
    up: String,
    /// How long it is valid, e.g. 30m, 24h, 7d.
    #[arg(long, default_value = "24h", value_parser = parse_ttl)]
    ttl: std::time::Duration,
    /// The HS256 secret of user tokens.
    #[arg(long, env = "CHAT_JWT_SECRET", value_name = "CHAT_JWT_SECRET", hide_env_values = true,
        value_parser = secret_of_at_least::<MIN_SECRET_BYTES>)]
    jwt_secret: SecretString,
}

fn main() -> ExitCode {
    let mut args: Vec<OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|arg| arg == "token") {
        args.remove(0);
        return match service_kit::config::parse_from::<TokenCommand, _, _>(args) {
            Ok(command) => print_token(&command.up, command.ttl, &command.jwt_secret),
            Err(line) => {
                eprintln!("chat-server token: {line}");
                ExitCode::FAILURE
            }
        };
    }
    match service_kit::config::parse_from::<ChatConfig, _, _>(args) {
        Ok(config) => serve(config),
        Err(line) => {
            eprintln!("chat-server: {line}");
            ExitCode::FAILURE
        }
    }
}

fn print_token(up: &str, ttl: std::time::Duration, secret: &SecretString) -> ExitCode {
    let minted = Up::parse(up)
        .map_err(anyhow::Error::from)
        .and_then(|up| Ok(JwtKeys::new(secret.expose_secret()).mint(&up, ttl)?));
    match minted {
        Ok(token) => {
            println!("{token}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("chat-server token: {err}");
            ExitCode::FAILURE
        }
    }
}

#[tokio::main]
async fn serve(config: ChatConfig) -> ExitCode {
    let (log_dir, rust_log) = (config.log_dir.clone(), config.rust_log.clone());
    service_kit::process::run("chat-server", "chat", &log_dir, &rust_log, async {
        let app = Application::build(config).await?;
        app.run_until_stopped(service_kit::shutdown::signal())
            .await?;
        Ok(())
    })
    .await
}
