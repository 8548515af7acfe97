//! `connect`: how many authenticated connections the server opens per
//! second (TCP, WebSocket upgrade, Engine.IO open, Socket.IO CONNECT with a
//! JWT, the user's rooms loaded and joined).
//!
//! A warm-up ramp opens and closes some connections first. A server just
//! started (and its store, and the store's MongoDB connections) answers the
//! first burst slowly for a second or two; that start-up cost is not the
//! rate a running server sustains, and would weigh differently on runs of
//! different lengths.

use super::Target;
use super::client::Connection;
use super::population::Population;
use super::ramp::open_all;
use super::report::Report;
use std::time::Duration;

/// The knobs of a connect run.
pub struct ConnectRun {
    /// Connections opened in the measured ramp.
    pub connections: usize,
    /// Handshakes in flight at a time.
    pub concurrency: usize,
    /// Connections opened and closed before, not measured.
    pub warmup: usize,
}

/// Time for the server to finish the warm-up's disconnects (presence
/// writes) before the measured ramp.
const SETTLE: Duration = Duration::from_secs(3);

/// Runs the scenario: the warm-up, then `connections` handshakes,
/// `concurrency` at a time; then closes them all.
pub async fn run(target: &Target, population: &Population, knobs: &ConnectRun) -> Report {
    if knobs.warmup > 0 {
        eprintln!("warm-up: {} connections", knobs.warmup);
        let warmup = open_all(target, population, knobs.warmup, knobs.concurrency).await;
        close_all(warmup.connections.into_iter().map(|(_, c)| c)).await;
        tokio::time::sleep(SETTLE).await;
    }
    let ramp = open_all(target, population, knobs.connections, knobs.concurrency).await;
    let mut report = Report::new("connect", &target.label);
    report
        .add("connections", knobs.connections)
        .add("servers", target.servers.len())
        .add("concurrency", knobs.concurrency)
        .add("warmup", knobs.warmup)
        .add("opened", ramp.connections.len())
        .add("failed", ramp.failed)
        .add("lost", ramp.lost)
        .add("seconds", ramp.elapsed.as_secs_f64())
        .add("connectPerSecond", ramp.rate())
        .add_json("latency", &ramp.latency);
    if !ramp.errors.is_empty() {
        report.add("errors", ramp.errors.clone());
    }
    close_all(ramp.connections.into_iter().map(|(_, c)| c)).await;
    report
}

/// Closes connections concurrently and waits for all of them.
async fn close_all(connections: impl Iterator<Item = Connection>) {
    let closing: Vec<_> = connections
        .map(|connection| tokio::spawn(connection.close()))
        .collect();
    for task in closing {
        let _ = task.await;
    }
}
