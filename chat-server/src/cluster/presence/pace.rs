//! Paces the notices of one presence batch by room, so that no socket's
//! outgoing queue takes a room's whole burst at once.
//!
//! When a room's members connect together, one batch holds most of them,
//! and each socket of the room would get nearly all their `online` notices
//! before its writer runs. Its engineioxide queue (a tokio channel of
//! 32-packet blocks) then grows to four blocks and keeps them for the
//! socket's life (docs/benchmarks.md, "An idle socket, by allocation
//! site"). Letting the sockets' writers run after every
//! [`NOTICES_PER_ROOM`] notices to one room keeps each queue in its first
//! block. A batch spread over many rooms (users arriving in any order)
//! never reaches the limit, and is announced without a pause.

use std::collections::HashMap;

/// Notices to one room between two chances for its sockets to drain.
const NOTICES_PER_ROOM: u16 = 16;

/// Counts a batch's notices per room since the sockets last drained.
#[derive(Default)]
pub struct RoomPace {
    sent: HashMap<String, u16>,
}

impl RoomPace {
    /// Counts a notice to `rooms`; answers whether the sockets should
    /// drain first (one of the rooms had its share since they last did).
    pub fn must_drain_before(&mut self, rooms: &[String]) -> bool {
        let full = rooms
            .iter()
            .any(|room| self.sent.get(room).is_some_and(|n| *n >= NOTICES_PER_ROOM));
        if full {
            self.sent.clear();
        }
        for room in rooms {
            *self.sent.entry(room.clone()).or_default() += 1;
        }
        full
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rooms(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn a_rooms_burst_drains_after_each_share() {
        let mut pace = RoomPace::default();
        let drains: Vec<usize> = (0..40)
            .filter(|_| pace.must_drain_before(&rooms(&["a", "b"])))
            .collect();
        assert_eq!(drains, [16, 32]);
    }

    #[test]
    fn notices_spread_over_rooms_never_wait() {
        let mut pace = RoomPace::default();
        let names: Vec<String> = (0..1000).map(|i| format!("room{}", i % 200)).collect();
        let waits = names
            .iter()
            .filter(|room| pace.must_drain_before(std::slice::from_ref(room)))
            .count();
        assert_eq!(waits, 0, "five notices per room stay under the share");
    }
}
