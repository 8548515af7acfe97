//! The store-server binary: reads its settings (`store-server --help`),
//! starts logging, serves until SIGINT or SIGTERM.

use std::process::ExitCode;
use store_server::config::StoreConfig;
use store_server::startup::Application;

/// mimalloc instead of glibc's malloc: a request allocates and frees many
/// small buffers across threads, where glibc spent about a sixth of the
/// store's CPU (see docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let config = match service_kit::config::parse::<StoreConfig>() {
        Ok(config) => config,
        Err(line) => {
            eprintln!("store-server: {line}");
            return ExitCode::FAILURE;
        }
    };
    let (log_dir, rust_log) = (config.log_dir.clone(), config.rust_log.clone());
    service_kit::process::run("store-server", "store", &log_dir, &rust_log, async {
        let app = Application::build(config).await?;
        app.run_until_stopped(service_kit::shutdown::signal())
            .await?;
        Ok(())
    })
    .await
}
