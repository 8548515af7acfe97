//! `drain`: many clients on the first of several chat nodes, then
//! `POST /admin/drain` on it. Every client follows the node's `migrate`
//! event to another node when its connection is closed ([`super::migrate`]).
//!
//! Measures how long the whole move takes (drain request to the last client
//! reconnected), how many clients made it, each client's gap between its
//! close and its new Socket.IO CONNECT, and how long the drained process
//! took to exit.

use super::Target;
use super::migrate::{self, Client, Outcome};
use super::population::Population;
use super::ramp::open_all;
use super::report::Report;
use crate::latency::Latencies;
use anyhow::Context;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// The knobs of a drain run.
pub struct DrainRun {
    /// Clients on the node that is drained.
    pub connections: usize,
    /// Handshakes in flight while ramping.
    pub concurrency: usize,
    /// The drained node's `CHAT_ADMIN_TOKEN`.
    pub admin_token: String,
    /// How long after the drain request clients may take to move, and the
    /// node to exit.
    pub deadline: Duration,
    /// The seconds the node spreads its closes over (`CHAT_DRAIN_SECONDS`),
    /// when known: reported next to what was measured.
    pub spread: Option<f64>,
}

/// Time for the ramp's `online` notices to settle before the drain.
const SETTLE: Duration = Duration::from_secs(2);
/// How often the drained process is looked for.
const EXIT_POLL: Duration = Duration::from_millis(10);

/// Runs the scenario and returns its report.
pub async fn run(
    target: &Target,
    population: &Population,
    knobs: &DrainRun,
) -> anyhow::Result<Report> {
    anyhow::ensure!(
        target.servers.len() >= 2,
        "a drain needs a second node to move to: give --server <drained>,<other>"
    );
    anyhow::ensure!(
        !knobs.admin_token.is_empty(),
        "a drain needs the node's admin token: --admin-token or CHAT_ADMIN_TOKEN"
    );
    let drained = target.first();
    let ramp = open_all(
        &target.first_only(),
        population,
        knobs.connections,
        knobs.concurrency,
    )
    .await;
    let opened = ramp.connections.len();
    let (outcomes, mut received) = mpsc::unbounded_channel();
    let (stop, stopped) = watch::channel(false);
    let tasks: Vec<_> = ramp
        .connections
        .into_iter()
        .map(|(index, connection)| {
            let client = Client {
                index,
                token: population.tokens[index].clone(),
                source: target.source(index),
                fallback: target.servers[1],
            };
            tokio::spawn(migrate::follow(
                connection,
                client,
                outcomes.clone(),
                stopped.clone(),
            ))
        })
        .collect();
    drop(outcomes);
    tokio::time::sleep(SETTLE).await;

    eprintln!("draining {drained}: {opened} clients to move");
    let requested = Instant::now();
    request_drain(drained, &knobs.admin_token).await?;
    let deadline = requested + knobs.deadline;
    let exit = target
        .server_pid
        .map(|pid| tokio::spawn(wait_for_exit(pid, deadline)));
    let mut all = Vec::with_capacity(opened);
    while all.len() < opened {
        match tokio::time::timeout_at(deadline, received.recv()).await {
            Ok(Some(outcome)) => {
                all.push(outcome);
                eprint!("\rmoved {}/{opened}   ", all.len());
            }
            Ok(None) | Err(_) => break,
        }
    }
    eprintln!();
    let _ = stop.send(true);
    // Clients still on the drained node report on the way out.
    while let Some(outcome) = received.recv().await {
        all.push(outcome);
    }
    for task in tasks {
        if let Err(err) = task.await {
            eprintln!("a client task failed: {err}");
        }
    }
    let exited = match exit {
        Some(task) => task.await.ok().flatten(),
        None => None,
    };
    let mut report = Report::new("drain", &target.label);
    report
        .add("connections", knobs.connections)
        .add("servers", target.servers.len())
        .add("nodeDrainSeconds", knobs.spread)
        .add("opened", opened)
        .add("failedToOpen", ramp.failed)
        .add("lostBeforeDrain", ramp.lost);
    Tally::of(&all, requested).add_to(&mut report);
    if let Some(exited) = exited {
        report.add("serverExitSeconds", exited.as_secs_f64());
    } else if target.server_pid.is_some() {
        report.add("serverExitSeconds", serde_json::Value::Null);
    }
    let errors: Vec<String> = ramp
        .errors
        .into_iter()
        .chain(all.iter().filter_map(|o| o.error.clone()))
        .take(5)
        .collect();
    if !errors.is_empty() {
        report.add("errors", errors);
    }
    Ok(report)
}

/// `POST /admin/drain` on `node`; the node answers 202 at once.
async fn request_drain(node: std::net::SocketAddr, token: &str) -> anyhow::Result<()> {
    let response = reqwest::Client::new()
        .post(format!("http://{node}/admin/drain"))
        .bearer_auth(token)
        .send()
        .await
        .with_context(|| format!("POST http://{node}/admin/drain"))?;
    let status = response.status();
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        anyhow::bail!("POST http://{node}/admin/drain answered {status}: {body}");
    }
    Ok(())
}

/// How long after now process `pid` is gone (exited, or a zombie waiting
/// for its parent, the bench script, to reap it); `None` if it is still
/// there at `deadline`.
async fn wait_for_exit(pid: u32, deadline: Instant) -> Option<Duration> {
    let started = Instant::now();
    while Instant::now() < deadline {
        if process_gone(pid) {
            return Some(started.elapsed());
        }
        tokio::time::sleep(EXIT_POLL).await;
    }
    None
}

/// Whether `pid` no longer runs: no `/proc` entry, or state `Z`.
fn process_gone(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return true;
    };
    // The state follows the command name, which is in parentheses and may
    // hold spaces: read it after the last `)`.
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .is_some_and(|state| state == "Z")
}

/// The clients' outcomes added up.
#[derive(Debug, Default)]
struct Tally {
    migrate_received: u64,
    closed: u64,
    reconnected: u64,
    to_migrate_url: u64,
    failed: u64,
    not_closed: u64,
    retries: u64,
    first_close: Option<Duration>,
    last_close: Option<Duration>,
    last_reconnect: Option<Duration>,
    gaps: Latencies,
    reconnected_to: BTreeMap<String, u64>,
}

impl Tally {
    /// Adds up `outcomes`; times are counted from `requested`, the drain
    /// request.
    fn of(outcomes: &[Outcome], requested: Instant) -> Self {
        let mut tally = Self::default();
        let since = |at: Instant| at.saturating_duration_since(requested);
        for outcome in outcomes {
            tally.migrate_received += u64::from(outcome.migrate_url.is_some());
            tally.retries += u64::from(outcome.attempts.saturating_sub(1));
            let Some(closed_at) = outcome.closed_at else {
                tally.not_closed += 1;
                continue;
            };
            tally.closed += 1;
            let closed = since(closed_at);
            tally.first_close = Some(tally.first_close.map_or(closed, |d| d.min(closed)));
            tally.last_close = Some(tally.last_close.map_or(closed, |d| d.max(closed)));
            let Some((to, at)) = outcome.reconnected else {
                tally.failed += 1;
                continue;
            };
            tally.reconnected += 1;
            tally.gaps.record(at.saturating_duration_since(closed_at));
            let done = since(at);
            tally.last_reconnect = Some(tally.last_reconnect.map_or(done, |d| d.max(done)));
            *tally.reconnected_to.entry(to.to_string()).or_default() += 1;
            tally.to_migrate_url += u64::from(outcome.followed_migrate);
        }
        tally
    }

    fn add_to(&self, report: &mut Report) {
        let seconds = |d: Option<Duration>| d.map(|d| d.as_secs_f64());
        report
            .add("migrateReceived", self.migrate_received)
            .add("closed", self.closed)
            .add("reconnected", self.reconnected)
            .add("reconnectedToMigrateUrl", self.to_migrate_url)
            .add("reconnectFailed", self.failed)
            .add("notClosed", self.not_closed)
            .add("reconnectRetries", self.retries)
            .add("firstCloseSeconds", seconds(self.first_close))
            .add("lastCloseSeconds", seconds(self.last_close))
            .add("lastReconnectSeconds", seconds(self.last_reconnect))
            .add_json("reconnectGap", &self.gaps.summary())
            .add_json("reconnectedTo", &self.reconnected_to);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(closed: Option<u64>, reconnected: Option<u64>, url: Option<&str>) -> Outcome {
        let base = Instant::now();
        let at = |ms: u64| base + Duration::from_millis(ms);
        Outcome {
            index: 0,
            migrate_url: url.map(str::to_owned),
            closed_at: closed.map(at),
            reconnected: reconnected.map(|ms| ("127.0.0.1:4002".parse().unwrap(), at(ms))),
            followed_migrate: url.is_some(),
            attempts: u32::from(closed.is_some()),
            error: None,
        }
    }

    #[test]
    fn outcomes_add_up_to_moved_failed_and_stayed() {
        let requested = Instant::now();
        let outcomes = [
            outcome(Some(100), Some(130), Some("http://127.0.0.1:4002")),
            outcome(Some(200), Some(250), None),
            outcome(Some(300), None, Some("http://127.0.0.1:4002")),
            outcome(None, None, None),
        ];
        let tally = Tally::of(&outcomes, requested);
        assert_eq!(tally.closed, 3);
        assert_eq!(tally.reconnected, 2);
        assert_eq!(tally.to_migrate_url, 1);
        assert_eq!(tally.failed, 1);
        assert_eq!(tally.not_closed, 1);
        assert_eq!(tally.migrate_received, 2);
        assert_eq!(tally.reconnected_to["127.0.0.1:4002"], 2);
        let gaps = tally.gaps.summary();
        assert_eq!(gaps.count, 2);
        assert!((gaps.max_ms - 50.0).abs() < 1.0, "{gaps:?}");
        assert!(tally.last_reconnect.unwrap() >= Duration::from_millis(250));
    }

    #[test]
    fn this_process_is_not_gone() {
        assert!(!process_gone(std::process::id()));
        assert!(process_gone(u32::MAX));
    }
}
