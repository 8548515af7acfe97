//! Opening many connections at a bounded concurrency, showing progress on
//! stderr while it goes.
//!
//! A connection opened early in a long ramp is kept alive while the others
//! open: a keeper task answers the server's pings (and drops whatever
//! events come) until the ramp hands it to the scenario. Without it, a ramp
//! longer than the server's ping interval plus timeout would lose the first
//! connections, and count the load generator's neglect as the server's loss.

use super::Target;
use super::client::{ClientError, Connection};
use super::population::Population;
use crate::latency::{Latencies, Summary};
use futures::StreamExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What opening the connections gave.
pub struct Ramp {
    /// The open connections with the index of their user.
    pub connections: Vec<(usize, Connection)>,
    /// Connections that could not be opened.
    pub failed: u64,
    /// Connections opened, then closed by the server before the ramp ended.
    pub lost: u64,
    /// The first few reasons for failures.
    pub errors: Vec<String>,
    /// Time from the start of a TCP connect to the Socket.IO CONNECT.
    pub latency: Summary,
    /// How long the whole ramp took.
    pub elapsed: Duration,
}

impl Ramp {
    /// Connections opened per second.
    pub fn rate(&self) -> f64 {
        self.connections.len() as f64 / self.elapsed.as_secs_f64()
    }
}

/// Opens a connection for each of the first `count` users, in the
/// population's order of arrival, `concurrency` handshakes at a time; user
/// `i` connects to `target.server_for(i)`.
pub async fn open_all(
    target: &Target,
    population: &Population,
    count: usize,
    concurrency: usize,
) -> Ramp {
    let opened = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let progress = tokio::spawn(show_progress(count, opened.clone(), failed.clone()));
    let started = Instant::now();
    let results: Vec<_> = futures::stream::iter(population.arrivals(count))
        .map(|index| {
            let (opened, failed) = (opened.clone(), failed.clone());
            let token = &population.tokens[index];
            async move {
                let begun = Instant::now();
                let result =
                    Connection::open(target.server_for(index), target.source(index), token).await;
                let counter = if result.is_ok() { &opened } else { &failed };
                counter.fetch_add(1, Ordering::Relaxed);
                (index, begun.elapsed(), result.map(Keeper::spawn))
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let elapsed = started.elapsed();
    progress.abort();
    eprintln!();
    let mut latencies = Latencies::default();
    let mut connections = Vec::with_capacity(count);
    let mut errors = Vec::new();
    let mut lost = 0;
    for (index, took, result) in results {
        let result = match result {
            Ok(keeper) => {
                latencies.record(took);
                keeper.take().await.inspect_err(|_| lost += 1)
            }
            Err(err) => Err(err),
        };
        match result {
            Ok(connection) => connections.push((index, connection)),
            Err(err) if errors.len() < 5 => errors.push(err.to_string()),
            Err(_) => {}
        }
    }
    connections.sort_by_key(|(index, _)| *index);
    Ramp {
        failed: failed.load(Ordering::Relaxed),
        lost,
        connections,
        errors,
        latency: latencies.summary(),
        elapsed,
    }
}

/// A task keeping an open connection alive until [`Keeper::take`].
struct Keeper {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<Connection, ClientError>>,
}

impl Keeper {
    fn spawn(mut connection: Connection) -> Self {
        let (stop, mut stopped) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut stopped => return Ok(connection),
                    incoming = connection.next() => { incoming?; }
                }
            }
        });
        Self { stop, task }
    }

    /// The connection, unless the server closed it meanwhile.
    async fn take(self) -> Result<Connection, ClientError> {
        let _ = self.stop.send(());
        self.task
            .await
            .map_err(|err| ClientError::Transport(format!("keeper task: {err}")))?
    }
}

async fn show_progress(total: usize, opened: Arc<AtomicU64>, failed: Arc<AtomicU64>) {
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let done = opened.load(Ordering::Relaxed);
        let rate = done as f64 / started.elapsed().as_secs_f64().max(0.001);
        eprint!(
            "\rconnected {done}/{total} ({rate:.0}/s), failed {}   ",
            failed.load(Ordering::Relaxed)
        );
    }
}
