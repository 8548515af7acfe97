//! `broadcast`: clients in rooms send `chat message` at a fixed total rate;
//! every member of the room should receive each one. Measures delivered
//! messages per second, send-to-receive latency, the delivery ratio and the
//! acks that failed.
//!
//! Sends are spread evenly in time over all clients. Each message's text is
//! its send time and the sender's node (`t<µs>n<node>`), so a receiver
//! knows its latency, and whether the message crossed from another node,
//! without any bookkeeping shared with the sender.
//!
//! Against several nodes (`Target::servers`) clients are spread round-robin,
//! so every room of at least as many members as nodes spans them all, and
//! latencies are also reported apart for deliveries within a node and
//! across nodes.

use super::acks::{Answer, PendingAcks};
use super::client::{Connection, Incoming};
use super::population::Population;
use super::ramp::open_all;
use super::report::Report;
use super::shards::ShardedLatencies;
use super::{CpuWindow, Target};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::{Instant, MissedTickBehavior};

/// The knobs of a broadcast run.
pub struct BroadcastRun {
    /// Clients (all of them send and receive).
    pub clients: usize,
    /// Handshakes in flight while ramping.
    pub concurrency: usize,
    /// Messages sent per second, all clients together.
    pub rate: f64,
    /// How long to send.
    pub duration: Duration,
    /// How long receivers keep reading after the last send.
    pub drain: Duration,
}

/// What all member tasks add to.
struct Shared {
    clock: std::time::Instant,
    sent: AtomicU64,
    acked: AtomicU64,
    ack_failed: AtomicU64,
    /// Acks refused by a limit (`rate_limited`).
    ack_limited: AtomicU64,
    delivered: AtomicU64,
    lost: AtomicU64,
    delivery: ShardedLatencies,
    /// Whether deliveries are also recorded by node below: against one
    /// node that would only cost a second histogram lock per delivery.
    several_nodes: bool,
    /// Deliveries to a client on the sender's node (several nodes only).
    same_node: ShardedLatencies,
    /// Deliveries to a client on another node than the sender's.
    cross_node: ShardedLatencies,
    ack: ShardedLatencies,
    errors: Mutex<Vec<String>>,
}

impl Shared {
    fn micros_now(&self) -> u64 {
        u64::try_from(self.clock.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    fn note_error(&self, text: &str) {
        let mut errors = self.errors.lock().expect("never poisoned");
        if errors.len() < 5 {
            errors.push(text.to_owned());
        }
    }

    /// A `chat message` event received by task `task`, a client of node
    /// `node`: count it and record its latency.
    fn on_event(&self, task: usize, node: usize, text: &str) {
        if !text.starts_with("[\"chat message\"") {
            return;
        }
        let Some(stamp) = Stamp::read(text) else {
            return;
        };
        self.delivered.fetch_add(1, Ordering::Relaxed);
        let latency = Duration::from_micros(self.micros_now().saturating_sub(stamp.sent_micros));
        self.delivery.record(task, latency);
        match stamp.node {
            _ if !self.several_nodes => {}
            Some(from) if from == node => self.same_node.record(task, latency),
            Some(_) => self.cross_node.record(task, latency),
            None => {}
        }
    }
}

/// What a message text `t<µs>n<node>` carries.
#[derive(Debug, PartialEq, Eq)]
struct Stamp {
    /// When it was sent, on the run's clock.
    sent_micros: u64,
    /// The node its sender is connected to (absent in older texts).
    node: Option<usize>,
}

impl Stamp {
    /// The text of a message sent now (`micros`) by a client of `node`.
    fn text(micros: u64, node: usize) -> String {
        format!("t{micros}n{node}")
    }

    /// The stamp in a `chat message` event, if its text is one.
    fn read(event: &str) -> Option<Self> {
        const MARK: &[u8] = b"\"message\":\"t";
        let at = memchr::memmem::find(event.as_bytes(), MARK)? + MARK.len();
        let rest = &event[at..];
        let text = &rest[..rest.find('"')?];
        let (micros, node) = match text.split_once('n') {
            Some((micros, node)) => (micros, Some(node.parse().ok()?)),
            None => (text, None),
        };
        Some(Self {
            sent_micros: micros.parse().ok()?,
            node,
        })
    }
}

/// When one member sends.
struct Schedule {
    first: Instant,
    period: Duration,
    until: Instant,
    stop: Instant,
}

/// Runs the scenario and returns its report.
pub async fn run(target: &Target, population: &Population, knobs: &BroadcastRun) -> Report {
    let ramp = open_all(target, population, knobs.clients, knobs.concurrency).await;
    let connected = ramp.connections.len();
    let mut connected_in_room: HashMap<usize, u64> = HashMap::new();
    for (index, _) in &ramp.connections {
        *connected_in_room
            .entry(index / population.room_size)
            .or_default() += 1;
    }
    let shared = Arc::new(Shared {
        clock: std::time::Instant::now(),
        sent: AtomicU64::new(0),
        acked: AtomicU64::new(0),
        ack_failed: AtomicU64::new(0),
        ack_limited: AtomicU64::new(0),
        delivered: AtomicU64::new(0),
        lost: AtomicU64::new(ramp.lost),
        delivery: ShardedLatencies::default(),
        several_nodes: target.servers.len() > 1,
        same_node: ShardedLatencies::default(),
        cross_node: ShardedLatencies::default(),
        ack: ShardedLatencies::default(),
        errors: Mutex::new(Vec::new()),
    });
    // Everyone settles (the `online` notices of the ramp) before sending.
    let start = Instant::now() + Duration::from_secs(2);
    let until = start + knobs.duration;
    let stop = until + knobs.drain;
    let period = Duration::from_secs_f64(connected.max(1) as f64 / knobs.rate);
    let tasks: Vec<_> = ramp
        .connections
        .into_iter()
        .enumerate()
        .map(|(position, (index, connection))| {
            let offset = period.mul_f64(position as f64 / connected.max(1) as f64);
            let schedule = Schedule {
                first: start + offset,
                period,
                until,
                stop,
            };
            let room = population
                .room_of(index)
                .map(|id| id.to_hex())
                .unwrap_or_default();
            let node = target.node_of(index);
            tokio::spawn(member(
                connection,
                Member { index, node, room },
                schedule,
                shared.clone(),
            ))
        })
        .collect();
    let progress = tokio::spawn(show_progress(shared.clone(), stop));
    // The CPU window opens with the first send and closes after the drain.
    tokio::time::sleep_until(start).await;
    let cpu = CpuWindow::start(target);
    let mut acked_by_room: HashMap<usize, u64> = HashMap::new();
    for task in tasks {
        match task.await {
            Ok((index, acked)) => {
                *acked_by_room
                    .entry(index / population.room_size)
                    .or_default() += acked;
            }
            Err(err) => eprintln!("a member task failed: {err}"),
        }
    }
    progress.abort();
    eprintln!();
    let expected: u64 = acked_by_room
        .iter()
        .map(|(room, acked)| acked * connected_in_room[room].saturating_sub(1))
        .sum();
    let delivered = shared.delivered.load(Ordering::Relaxed);
    let seconds = knobs.duration.as_secs_f64();
    let mut report = Report::new("broadcast", &target.label);
    report
        .add("clients", knobs.clients)
        .add("servers", target.servers.len())
        .add("connected", connected)
        .add("roomSize", population.room_size)
        .add("targetSendPerSecond", knobs.rate)
        .add("seconds", seconds)
        .add("sent", shared.sent.load(Ordering::Relaxed))
        .add("acked", shared.acked.load(Ordering::Relaxed))
        .add("ackFailed", shared.ack_failed.load(Ordering::Relaxed))
        .add("ackLimited", shared.ack_limited.load(Ordering::Relaxed))
        .add("delivered", delivered)
        .add("expected", expected)
        .add("deliveryRatio", delivered as f64 / expected.max(1) as f64)
        .add("deliveredPerSecond", delivered as f64 / seconds)
        .add("lost", shared.lost.load(Ordering::Relaxed))
        .add_json("latency", &shared.delivery.summary())
        .add_json("ackLatency", &shared.ack.summary());
    cpu.finish(target, &mut report);
    if shared.several_nodes {
        report
            .add_json("sameNodeLatency", &shared.same_node.summary())
            .add_json("crossNodeLatency", &shared.cross_node.summary());
    }
    let errors = shared.errors.lock().expect("never poisoned").clone();
    if !errors.is_empty() || !ramp.errors.is_empty() {
        report.add("errors", [ramp.errors, errors].concat());
    }
    report
}

/// Who one client is.
struct Member {
    /// Its user's index in the population.
    index: usize,
    /// The node (index into `Target::servers`) it is connected to.
    node: usize,
    /// Its room's id, in hex.
    room: String,
}

/// One client: sends on its schedule, reads everything, until `stop`.
/// Returns its index and how many of its messages were acked as stored.
async fn member(
    mut connection: Connection,
    member: Member,
    schedule: Schedule,
    shared: Arc<Shared>,
) -> (usize, u64) {
    let Member { index, node, room } = member;
    let mut ticker = tokio::time::interval_at(schedule.first, schedule.period);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut pending = PendingAcks::default();
    let mut acked = 0;
    let mut sending = true;
    loop {
        tokio::select! {
            biased;
            incoming = connection.next() => match incoming {
                Ok(Incoming::Event(text)) => shared.on_event(index, node, &text),
                Ok(Incoming::Ack(id, text)) => match pending.answered(id, &text) {
                    Some(Answer::Stored(latency)) => {
                        acked += 1;
                        shared.acked.fetch_add(1, Ordering::Relaxed);
                        shared.ack.record(index, latency);
                    }
                    Some(Answer::Limited) => {
                        shared.ack_limited.fetch_add(1, Ordering::Relaxed);
                        shared.note_error(&text);
                    }
                    Some(Answer::Refused) => {
                        shared.ack_failed.fetch_add(1, Ordering::Relaxed);
                        shared.note_error(&text);
                    }
                    None => {}
                },
                Err(err) => {
                    shared.lost.fetch_add(1, Ordering::Relaxed);
                    shared.note_error(&err.to_string());
                    break;
                }
            },
            _ = ticker.tick(), if sending => {
                if Instant::now() >= schedule.until {
                    sending = false;
                    continue;
                }
                let payload = format!(
                    "{{\"room\":\"{room}\",\"message\":\"{}\"}}",
                    Stamp::text(shared.micros_now(), node)
                );
                match connection.emit_with_ack("chat message", &payload).await {
                    Ok(id) => {
                        pending.sent(id);
                        shared.sent.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(err) => {
                        shared.lost.fetch_add(1, Ordering::Relaxed);
                        shared.note_error(&err.to_string());
                        break;
                    }
                }
            }
            () = tokio::time::sleep_until(schedule.stop) => break,
        }
    }
    // Sends never answered count as failed.
    shared
        .ack_failed
        .fetch_add(pending.len() as u64, Ordering::Relaxed);
    connection.close().await;
    (index, acked)
}

async fn show_progress(shared: Arc<Shared>, stop: Instant) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut last = 0;
    while Instant::now() < stop {
        tick.tick().await;
        let delivered = shared.delivered.load(Ordering::Relaxed);
        eprint!(
            "\rsent {}, acked {}, delivered {delivered} ({}/s)   ",
            shared.sent.load(Ordering::Relaxed),
            shared.acked.load(Ordering::Relaxed),
            delivered - last
        );
        last = delivered;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_send_time_and_node_are_read_from_a_broadcast_message() {
        let text = Stamp::text(12345, 1);
        let event = format!(
            r#"["chat message",{{"id":"a","group":"b","from":"u","message":"{text}","timestamp":"x"}}]"#
        );
        let stamp = Stamp::read(&event).unwrap();
        assert_eq!(
            stamp,
            Stamp {
                sent_micros: 12345,
                node: Some(1)
            }
        );
    }

    #[test]
    fn a_stamp_without_a_node_still_gives_the_send_time() {
        let event = r#"["chat message",{"id":"a","message":"t12345","timestamp":"x"}]"#;
        assert_eq!(Stamp::read(event).unwrap().sent_micros, 12345);
    }

    #[test]
    fn a_message_without_a_send_time_is_not_measured() {
        let event = r#"["chat message",{"id":"a","message":"hello"}]"#;
        assert_eq!(Stamp::read(event), None);
        let event = r#"["chat message",{"id":"a","message":"tomorrow"}]"#;
        assert_eq!(Stamp::read(event), None);
    }
}
