//! Prometheus metrics of the real-time side: connected sockets and users,
//! events and messages (rates come from Prometheus' `rate()`), and the time
//! from an event's arrival to its ack.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
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

    /// Counts an answered event and its latency.
    pub fn observe_event(&self, event: &'static str, outcome: &'static str, started: Instant) {
        let labels = EventLabels { event, outcome };
        self.events.get_or_create(&labels).inc();
        self.ack_latency
            .get_or_create(&labels)
            .observe(started.elapsed().as_secs_f64());
    }
}
