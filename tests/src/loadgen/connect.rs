//! `connect`: how many authenticated connections the server opens per
//! second (TCP, WebSocket upgrade, Engine.IO open, Socket.IO CONNECT with a
//! JWT, the user's rooms loaded and joined).

use super::Target;
use super::population::Population;
use super::ramp::open_all;
use super::report::Report;

/// Runs the scenario: `connections` handshakes, `concurrency` at a time;
/// then closes them all.
pub async fn run(
    target: &Target,
    population: &Population,
    connections: usize,
    concurrency: usize,
) -> Report {
    let ramp = open_all(target, population, connections, concurrency).await;
    let mut report = Report::new("connect", &target.label);
    report
        .add("connections", connections)
        .add("concurrency", concurrency)
        .add("opened", ramp.connections.len())
        .add("failed", ramp.failed)
        .add("lost", ramp.lost)
        .add("seconds", ramp.elapsed.as_secs_f64())
        .add("connectPerSecond", ramp.rate())
        .add_json("latency", &ramp.latency);
    if !ramp.errors.is_empty() {
        report.add("errors", ramp.errors.clone());
    }
    let closing: Vec<_> = ramp
        .connections
        .into_iter()
        .map(|(_, connection)| tokio::spawn(connection.close()))
        .collect();
    for task in closing {
        let _ = task.await;
    }
    report
}
