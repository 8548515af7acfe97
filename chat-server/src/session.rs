//! What a socket knows about its user: who they are, until when their
//! token holds, and what its departure must undo.
//!
//! Which groups the user belongs to is not kept here: the socket's rooms
//! say it (the adapter keeps them current on every node when someone joins,
//! leaves or is kicked), and the store checks membership where it writes.

use chat_wire::ids::Up;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Per-socket session, stored in the socket's extensions; cheap to clone.
#[derive(Debug, Clone)]
pub struct Session {
    /// The user, from the token.
    pub up: Up,
    expires: Arc<AtomicU64>,
    counted: Arc<AtomicBool>,
    queued: Arc<AtomicBool>,
}

impl Session {
    /// A session of `up` whose token expires at `exp` (seconds since the
    /// Unix epoch).
    pub fn new(up: Up, exp: u64) -> Self {
        Self {
            up,
            expires: Arc::new(AtomicU64::new(exp)),
            counted: Arc::new(AtomicBool::new(false)),
            queued: Arc::new(AtomicBool::new(false)),
        }
    }

    /// When the socket's token expires, seconds since the Unix epoch.
    pub fn expires(&self) -> u64 {
        self.expires.load(Ordering::SeqCst)
    }

    /// Moves the expiry to `exp` if that is later; answers the expiry now.
    pub fn extend(&self, exp: u64) -> u64 {
        self.expires.fetch_max(exp, Ordering::SeqCst).max(exp)
    }

    /// Records that this socket is counted in presence.
    pub fn count(&self) {
        self.counted.store(true, Ordering::SeqCst);
    }

    /// Stops counting this socket: `true` only for the first call after
    /// [`Session::count`], so its departure is handled once.
    pub fn uncount(&self) -> bool {
        self.counted.swap(false, Ordering::SeqCst)
    }

    /// Records whether this socket has a place in a pairing queue.
    pub fn set_queued(&self, queued: bool) {
        self.queued.store(queued, Ordering::SeqCst);
    }

    /// Whether this socket may have a place in a pairing queue.
    pub fn is_queued(&self) -> bool {
        self.queued.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_departure_is_handled_once_and_an_expiry_only_moves_later() {
        let session = Session::new(Up::parse("up1").unwrap(), 100);
        assert_eq!(session.extend(50), 100, "an earlier expiry changes nothing");
        assert_eq!(session.extend(200), 200);
        assert_eq!(session.expires(), 200);
        assert!(!session.uncount(), "not counted yet");
        session.clone().count();
        assert!(session.uncount());
        assert!(!session.uncount());
    }
}
