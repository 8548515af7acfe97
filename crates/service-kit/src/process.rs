//! The life of a service process: start logging, run, report how it ended.

use std::future::Future;
use std::path::Path;
use std::process::ExitCode;

/// Starts the log files under `log_dir` (lines tagged with `service`), runs
/// `serve` to its end and turns the outcome into the process' exit code; a
/// failure is logged with its whole cause chain. `binary` names the process
/// in messages.
pub async fn run(
    binary: &str,
    service: &'static str,
    log_dir: &Path,
    rust_log: &str,
    serve: impl Future<Output = anyhow::Result<()>>,
) -> ExitCode {
    let _logs = match crate::logging::init(service, log_dir, rust_log) {
        Ok(guard) => guard,
        Err(err) => {
            eprintln!("{binary}: cannot open logs in {}: {err}", log_dir.display());
            return ExitCode::FAILURE;
        }
    };
    match serve.await {
        Ok(()) => {
            tracing::info!("{binary} stopped");
            ExitCode::SUCCESS
        }
        Err(err) => {
            tracing::error!(error = %format!("{err:#}"), "{binary} failed");
            ExitCode::FAILURE
        }
    }
}
