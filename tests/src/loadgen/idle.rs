//! `idle`: hold many connections for a while; measure the server's resident
//! memory per connection and count connections lost.

use super::client::Connection;
use super::population::Population;
use super::ramp::open_all;
use super::report::Report;
use super::{Target, rss_bytes};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// The knobs of an idle run.
pub struct IdleRun {
    /// Connections to hold.
    pub connections: usize,
    /// Handshakes in flight while ramping.
    pub concurrency: usize,
    /// How long to hold them once all are open.
    pub hold: Duration,
}

/// Runs the scenario and returns its report.
pub async fn run(target: &Target, population: &Population, knobs: &IdleRun) -> Report {
    let rss_before = target.server_pid.and_then(rss_bytes);
    let ramp = open_all(target, population, knobs.connections, knobs.concurrency).await;
    let held = ramp.connections.len();
    let connect_rate = ramp.rate();
    let lost_while_ramping = ramp.lost;
    let lost = Arc::new(AtomicU64::new(0));
    let reasons = Arc::new(Mutex::new(Vec::new()));
    let until = Instant::now() + knobs.hold;
    let tasks: Vec<_> = ramp
        .connections
        .into_iter()
        .map(|(_, connection)| tokio::spawn(hold(connection, until, lost.clone(), reasons.clone())))
        .collect();
    // Memory once everything settled, half-way through the hold.
    tokio::time::sleep(knobs.hold / 2).await;
    let rss_held = target.server_pid.and_then(rss_bytes);
    for task in tasks {
        if let Err(err) = task.await {
            eprintln!("a connection task failed: {err}");
        }
    }
    let mut report = Report::new("idle", &target.label);
    report
        .add("connections", knobs.connections)
        .add("servers", target.servers.len())
        .add("held", held)
        .add("failedToOpen", ramp.failed)
        .add("lost", lost.load(Ordering::Relaxed) + lost_while_ramping)
        .add("holdSeconds", knobs.hold.as_secs())
        .add("connectPerSecond", connect_rate);
    if let (Some(before), Some(after)) = (rss_before, rss_held) {
        let per_connection = after.saturating_sub(before) as f64 / held.max(1) as f64;
        report
            .add("serverRssBeforeMiB", before as f64 / 1048576.0)
            .add("serverRssHeldMiB", after as f64 / 1048576.0)
            .add("serverRssPerConnectionKiB", per_connection / 1024.0);
    }
    let reasons = reasons.lock().expect("never poisoned").clone();
    if !ramp.errors.is_empty() || !reasons.is_empty() {
        report.add("errors", [ramp.errors, reasons].concat());
    }
    report
}

/// Keeps one connection alive (answering pings, reading whatever comes)
/// until `until`; counts it lost if the server drops it before.
async fn hold(
    mut connection: Connection,
    until: Instant,
    lost: Arc<AtomicU64>,
    reasons: Arc<Mutex<Vec<String>>>,
) {
    loop {
        tokio::select! {
            incoming = connection.next() => {
                if let Err(err) = incoming {
                    lost.fetch_add(1, Ordering::Relaxed);
                    let mut reasons = reasons.lock().expect("never poisoned");
                    if reasons.len() < 5 {
                        reasons.push(err.to_string());
                    }
                    return;
                }
            }
            () = tokio::time::sleep_until(until) => break,
        }
    }
    connection.close().await;
}
