//! The store-server binary: reads the environment, starts logging, serves
//! until SIGINT or SIGTERM.

use service_kit::config::ProcessEnv;
use std::process::ExitCode;
use store_server::config::StoreConfig;
use store_server::startup::Application;

#[tokio::main]
async fn main() -> ExitCode {
    let config = match StoreConfig::from_env(&ProcessEnv) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("store-server: {err}");
            return ExitCode::FAILURE;
        }
    };
    let _logs = match service_kit::logging::init("store", &config.log_dir, &config.rust_log) {
        Ok(guard) => guard,
        Err(err) => {
            eprintln!(
                "store-server: cannot open logs in {}: {err}",
                config.log_dir.display()
            );
            return ExitCode::FAILURE;
        }
    };
    let result = async {
        let app = Application::build(config).await?;
        app.run_until_stopped(service_kit::shutdown::signal())
            .await?;
        anyhow::Ok(())
    }
    .await;
    match result {
        Ok(()) => {
            tracing::info!("store-server stopped");
            ExitCode::SUCCESS
        }
        Err(err) => {
            tracing::error!(error = %format!("{err:#}"), "store-server failed");
            ExitCode::FAILURE
        }
    }
}
