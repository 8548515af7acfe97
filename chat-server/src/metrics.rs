//! Prometheus metrics of the real-time side: connected sockets and users,
//! events and messages (rates come from Prometheus' `rate()`), and the time
//! from an event's arrival to its ack.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use service_kit::metrics::latency_histogram;
use std::time::Instant;

/// Labels of an event.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EventLabels {
    /// The event name, e.g. `chat message`.
    pub event: &'static str,
    /// `ok` or the error code of the ack.
    pub outcome: &'static str,
}

/// The chat metrics; cheap to clone.
#[derive(Clone)]
pub struct ChatMetrics {
    /// Sockets connected to this node.
    pub sockets: Gauge,
    /// Users with at least one socket on this node.
    pub users: Gauge,
    /// Chat messages stored and broadcast.
    pub messages: Counter,
    /// Events refused before their handler: the user was over the event rate.
    pub events_over_budget: Counter,
    /// Handshakes refused: the user already held the most sockets.
    pub sockets_refused: Counter,
    /// Broadcast packets dropped because a recipient's buffer was full.
    pub broadcast_drops: Counter,
    /// New engine sessions refused: too many were waiting to authenticate.
    pub sessions_refused: Counter,
    events: Family<EventLabels, Counter>,
    ack_latency: Family<EventLabels, Histogram, fn() -> Histogram>,
}

impl std::fmt::Debug for ChatMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatMetrics").finish_non_exhaustive()
    }
}

impl ChatMetrics {
    /// Creates the metrics and registers them in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = Self {
            sockets: Gauge::default(),
            users: Gauge::default(),
            messages: Counter::default(),
            events_over_budget: Counter::default(),
            sockets_refused: Counter::default(),
            broadcast_drops: Counter::default(),
            sessions_refused: Counter::default(),
            events: Family::default(),
            ack_latency: Family::new_with_constructor(latency_histogram),
        };
        registry.register(
            "connected_sockets",
            "Sockets connected to this node",
            metrics.sockets.clone(),
        );
        registry.register(
            "connected_users",
            "Users with a socket on this node",
            metrics.users.clone(),
        );
        registry.register(
            "messages",
            "Chat messages stored and broadcast",
            metrics.messages.clone(),
        );
        registry.register(
            "events_over_budget",
            "Events refused before their handler because the user was over CHAT_EVENT_RATE",
            metrics.events_over_budget.clone(),
        );
        registry.register(
            "sockets_refused",
            "Handshakes refused because the user held CHAT_MAX_SOCKETS_PER_USER sockets",
            metrics.sockets_refused.clone(),
        );
        registry.register(
            "broadcast_drops",
            "Broadcast packets a recipient missed because its buffer was full (a reader too slow); its connection is closed once a write has waited 30 s",
            metrics.broadcast_drops.clone(),
        );
        registry.register(
            "sessions_refused",
            "New engine sessions refused because their address (CHAT_MAX_PENDING_PER_ADDRESS) or the node (CHAT_MAX_PENDING_SESSIONS) held the most sessions waiting to authenticate",
            metrics.sessions_refused.clone(),
        );
        registry.register(
            "events",
            "Socket events handled, by event and outcome",
            metrics.events.clone(),
        );
        registry.register(
            "ack_duration_seconds",
            "Time from an event's arrival to its ack, by event and outcome",
            metrics.ack_latency.clone(),
        );
        metrics
    }

    /// Registers a gauge whose value is read from the node's own
    /// structures at each scrape.
    pub fn register_reading(
        registry: &mut Registry,
        name: &'static str,
        help: &'static str,
        read: impl Fn() -> usize + Send + Sync + 'static,
    ) {
        registry.register_collector(Box::new(Reading {
            name,
            help,
            read: Box::new(read),
        }));
    }

    /// Counts an answered event and its latency.
    pub fn observe_event(&self, event: &'static str, outcome: &'static str, started: Instant) {
        let labels = EventLabels { event, outcome };
        self.events.get_or_create(&labels).inc();
        self.ack_latency
            .get_or_create(&labels)
            .observe(started.elapsed().as_secs_f64());
    }
}

/// A gauge of [`ChatMetrics::register_reading`].
struct Reading {
    name: &'static str,
    help: &'static str,
    read: Box<dyn Fn() -> usize + Send + Sync>,
}

impl std::fmt::Debug for Reading {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reading").field("name", &self.name).finish()
    }
}

impl Collector for Reading {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let gauge = ConstGauge::new(i64::try_from((self.read)()).unwrap_or(i64::MAX));
        let metric = encoder.encode_descriptor(self.name, self.help, None, gauge.metric_type())?;
        gauge.encode(metric)
    }
}
