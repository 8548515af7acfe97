//! The acks a sending client waits for: when each message was sent, and
//! what its answer says.

use super::client::ack_is_data;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// What an awaited ack said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// The message was stored, this long after it was sent.
    Stored(Duration),
    /// The server refused it because a limit was reached
    /// (`rate_limited`): the run measured a limit, not the server.
    Limited,
    /// The server answered with another error.
    Refused,
}

/// The messages of one client still waiting for their ack.
#[derive(Debug, Default)]
pub struct PendingAcks {
    sent_at: HashMap<u64, Instant>,
}

impl PendingAcks {
    /// Remembers that the message with ack `id` was just sent.
    pub fn sent(&mut self, id: u64) {
        self.sent_at.insert(id, Instant::now());
    }

    /// Reads the ack `id` with payload `text`; `None` for an ack nobody
    /// waits for.
    pub fn answered(&mut self, id: u64, text: &str) -> Option<Answer> {
        let sent = self.sent_at.remove(&id)?;
        Some(if ack_is_data(text) {
            Answer::Stored(sent.elapsed())
        } else if text.contains("\"code\":\"rate_limited\"") {
            Answer::Limited
        } else {
            Answer::Refused
        })
    }

    /// Messages still unanswered.
    pub fn len(&self) -> usize {
        self.sent_at.len()
    }

    /// Whether every message was answered.
    pub fn is_empty(&self) -> bool {
        self.sent_at.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ack_is_read_once_and_tells_stored_from_limited_from_refused() {
        let mut pending = PendingAcks::default();
        pending.sent(1);
        pending.sent(2);
        pending.sent(3);
        assert!(matches!(
            pending.answered(1, "[{\"data\":{}}]"),
            Some(Answer::Stored(_))
        ));
        assert_eq!(pending.answered(1, "[{\"data\":{}}]"), None);
        assert_eq!(
            pending.answered(2, "[{\"error\":{\"code\":\"unavailable\"}}]"),
            Some(Answer::Refused)
        );
        assert_eq!(
            pending.answered(3, "[{\"error\":{\"code\":\"rate_limited\"}}]"),
            Some(Answer::Limited)
        );
        assert!(pending.is_empty());
    }
}
