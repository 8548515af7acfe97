//! `persist`: end-to-end stored messages per second. Each client keeps a
//! fixed number of `chat message` sends in flight and sends the next one when
//! an ack (which comes only once the message is stored) arrives.

use super::acks::{Answer, PendingAcks};
use super::client::{Connection, Incoming};
use super::population::Population;
use super::ramp::open_all;
use super::report::Report;
use super::shards::ShardedLatencies;
use super::{CpuWindow, Target};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// The knobs of a persist run.
pub struct PersistRun {
    /// Clients.
    pub clients: usize,
    /// Unanswered sends each client keeps in flight.
    pub in_flight: usize,
    /// How long to send.
    pub duration: Duration,
}

#[derive(Default)]
struct Counters {
    acked: AtomicU64,
    /// Acks refused by a limit (`rate_limited`).
    limited: AtomicU64,
    failed: AtomicU64,
    lost: AtomicU64,
}

/// Runs the scenario and returns its report.
pub async fn run(target: &Target, population: &Population, knobs: &PersistRun) -> Report {
    let ramp = open_all(target, population, knobs.clients, knobs.clients.min(256)).await;
    let counters = Arc::new(Counters::default());
    counters.lost.fetch_add(ramp.lost, Ordering::Relaxed);
    let latencies = Arc::new(ShardedLatencies::default());
    let cpu = CpuWindow::start(target);
    let started = Instant::now();
    let until = started + knobs.duration;
    let tasks: Vec<_> = ramp
        .connections
        .into_iter()
        .map(|(index, connection)| {
            let room = population
                .room_of(index)
                .map(|id| id.to_hex())
                .unwrap_or_default();
            let (counters, latencies) = (counters.clone(), latencies.clone());
            let in_flight = knobs.in_flight.max(1);
            tokio::spawn(async move {
                sender(
                    connection, index, &room, in_flight, until, &counters, &latencies,
                )
                .await;
            })
        })
        .collect();
    for task in tasks {
        if let Err(err) = task.await {
            eprintln!("a sender task failed: {err}");
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let acked = counters.acked.load(Ordering::Relaxed);
    let mut report = Report::new("persist", &target.label);
    report
        .add("clients", knobs.clients)
        .add("servers", target.servers.len())
        .add("inFlight", knobs.in_flight)
        .add("seconds", elapsed)
        .add("acked", acked)
        .add("limited", counters.limited.load(Ordering::Relaxed))
        .add("failed", counters.failed.load(Ordering::Relaxed))
        .add("lost", counters.lost.load(Ordering::Relaxed))
        .add("ackedPerSecond", acked as f64 / elapsed)
        .add_json("ackLatency", &latencies.summary());
    cpu.finish(target, &mut report);
    report
}

async fn sender(
    mut connection: Connection,
    index: usize,
    room: &str,
    in_flight: usize,
    until: Instant,
    counters: &Counters,
    latencies: &ShardedLatencies,
) {
    let mut pending = PendingAcks::default();
    let mut n = 0u64;
    let mut send = async |connection: &mut Connection, pending: &mut PendingAcks| {
        n += 1;
        let payload = format!("{{\"room\":\"{room}\",\"message\":\"persisted {n}\"}}");
        let id = connection.emit_with_ack("chat message", &payload).await?;
        pending.sent(id);
        Ok::<_, super::client::ClientError>(())
    };
    for _ in 0..in_flight {
        if send(&mut connection, &mut pending).await.is_err() {
            counters.lost.fetch_add(1, Ordering::Relaxed);
            return;
        }
    }
    while !pending.is_empty() {
        let incoming = tokio::time::timeout_at(until + Duration::from_secs(10), connection.next());
        let Ok(incoming) = incoming.await else { break };
        match incoming {
            Ok(Incoming::Ack(id, text)) => {
                match pending.answered(id, &text) {
                    Some(Answer::Stored(latency)) => {
                        counters.acked.fetch_add(1, Ordering::Relaxed);
                        latencies.record(index, latency);
                    }
                    Some(Answer::Limited) => {
                        counters.limited.fetch_add(1, Ordering::Relaxed);
                    }
                    Some(Answer::Refused) => {
                        counters.failed.fetch_add(1, Ordering::Relaxed);
                    }
                    None => continue,
                }
                if Instant::now() < until && send(&mut connection, &mut pending).await.is_err() {
                    counters.lost.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
            Ok(Incoming::Event(_)) => {}
            Err(_) => {
                counters.lost.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
    }
    counters
        .failed
        .fetch_add(pending.len() as u64, Ordering::Relaxed);
    connection.close().await;
}
