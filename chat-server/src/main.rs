//! The chat-server binary: `chat-server` serves; `chat-server token <up>`
//! prints a development token signed with `CHAT_JWT_SECRET`.

use chat_server::config::ChatConfig;
use chat_server::jwt::{JwtKeys, parse_ttl};
use chat_server::startup::Application;
use chat_wire::ids::Up;
use clap::{Parser, Subcommand};
use service_kit::config::ProcessEnv;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "chat-server",
    about = "Public Socket.IO and REST gateway of the chat"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Print a user token signed with CHAT_JWT_SECRET (for development).
    Token {
        /// The user id (`sub`).
        up: String,
        /// How long it is valid, e.g. 30m, 24h, 7d.
        #[arg(long, default_value = "24h", value_parser = parse_ttl)]
        ttl: std::time::Duration,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Token { up, ttl }) => print_token(&up, ttl),
        None => serve(),
    }
}

fn print_token(up: &str, ttl: std::time::Duration) -> ExitCode {
    let result = (|| {
        let secret = ChatConfig::jwt_secret_from_env(&ProcessEnv)?;
        let up = Up::parse(up)?;
        anyhow::Ok(JwtKeys::new(&secret).mint(&up, ttl)?)
    })();
    match result {
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
async fn serve() -> ExitCode {
    let config = match ChatConfig::from_env(&ProcessEnv) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("chat-server: {err}");
            return ExitCode::FAILURE;
        }
    };
    let (log_dir, rust_log) = (config.log_dir.clone(), config.rust_log.clone());
    service_kit::process::run("chat-server", "chat", &log_dir, &rust_log, async {
        let app = Application::build(config).await?;
        app.run_until_stopped(service_kit::shutdown::signal())
            .await?;
        Ok(())
    })
    .await
}
