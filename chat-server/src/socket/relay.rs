//! Which failed broadcasts are worth a log line.
//!
//! A broadcast reaches every socket of its rooms that is still registered,
//! and a socket whose client has just gone is still registered for a moment:
//! sending to it fails with [`SocketError::Closed`]. That is the normal end
//! of a connection, not a fault, and when a lecture ends thousands of them
//! meet thousands of `offline` notices at once. Only the other failures (a
//! recipient's full buffer, serialisation, the adapter) are reported.

use socketioxide::{BroadcastError, SocketError};

/// `result`, with a failure that only concerns recipients that had already
/// closed counted as success.
pub fn ignoring_departed(result: Result<(), BroadcastError>) -> Result<(), BroadcastError> {
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
    fn a_full_recipient_is_still_reported() {
        let mixed =
            BroadcastError::Socket(vec![SocketError::Closed, SocketError::InternalChannelFull]);
        match ignoring_departed(Err(mixed)) {
            Err(BroadcastError::Socket(errors)) => assert_eq!(errors.len(), 2),
            other => panic!("expected the socket errors back, got {other:?}"),
        }
    }
}
