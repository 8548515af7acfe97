//! Which failed broadcasts are worth a log line, and counting the
//! recipients that missed one.
//!
//! A broadcast reaches every socket of its rooms that is still registered,
//! and a socket whose client has just gone is still registered for a moment:
//! sending to it fails with [`SocketError::Closed`]. That is the normal end
//! of a connection, not a fault, and when a lecture ends thousands of them
//! meet thousands of `offline` notices at once. Only the other failures (a
//! recipient's full buffer, serialisation, the adapter) are reported.
//!
//! A recipient whose buffer is full (a reader too slow, or gone without a
//! goodbye) misses the packet: it is counted in
//! `chat_broadcast_drops_total`. Its connection is closed once a write has
//! waited 30 s (`service_kit::connection`), and its client catches up with
//! `sync` after reconnecting.

use crate::metrics::ChatMetrics;
use socketioxide::{BroadcastError, SocketError};

/// `result`, with a failure that only concerns recipients that had already
/// closed counted as success; recipients with a full buffer are counted.
pub fn delivery(
    metrics: &ChatMetrics,
    result: Result<(), BroadcastError>,
) -> Result<(), BroadcastError> {
    if let Err(BroadcastError::Socket(errors)) = &result {
        let full = errors
            .iter()
            .filter(|err| matches!(err, SocketError::InternalChannelFull))
            .count();
        metrics.broadcast_drops.inc_by(full as u64);
    }
    ignoring_departed(result)
}

/// `result`, with a failure that only concerns recipients that had already
/// closed counted as success.
fn ignoring_departed(result: Result<(), BroadcastError>) -> Result<(), BroadcastError> {
    match result {
        Err(BroadcastError::Socket(errors))
            if errors.iter().all(|err| matches!(err, SocketError::Closed)) =>
        {
            Ok(())
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_that_had_closed_are_not_a_failure() {
        let closed = BroadcastError::Socket(vec![SocketError::Closed, SocketError::Closed]);
        assert!(ignoring_departed(Err(closed)).is_ok());
        assert!(ignoring_departed(Ok(())).is_ok());
    }

    #[test]
    fn recipients_with_a_full_buffer_are_counted() {
        let metrics = ChatMetrics::register(&mut prometheus_client::registry::Registry::default());
        let mixed = BroadcastError::Socket(vec![
            SocketError::InternalChannelFull,
            SocketError::Closed,
            SocketError::InternalChannelFull,
        ]);
        assert!(delivery(&metrics, Err(mixed)).is_err());
        assert_eq!(metrics.broadcast_drops.get(), 2);
    }

    #[test]
    fn a_full_recipient_is_still_reported() {
        let mixed =
            BroadcastError::Socket(vec![SocketError::Closed, SocketError::InternalChannelFull]);
        match ignoring_departed(Err(mixed)) {
            Err(BroadcastError::Socket(errors)) => assert_eq!(errors.len(), 2),
            other => panic!("expected the socket errors back, got {other:?}"),
        }
    }
}
