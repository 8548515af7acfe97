//! Messages stored without their sender learning it: the nonce keys of
//! messages whose creation nobody was told about.
//!
//! That happens when the sender stopped waiting (the chat-server's call
//! timed out, its connection dropped) before the answer, or when an insert
//! timed out and may or may not have been applied. The sender then retries
//! with the same nonce and finds the message already stored. Answered as a
//! mere retry (`created: false`), the chat-server would never broadcast it
//! or notify anyone. So the first retry of an orphan is answered as its
//! creation: the message reaches its room once, late rather than never.
//!
//! Kept in memory, at most [`CAPACITY`] keys, oldest forgotten first. A
//! message stored and counted with nobody to hear the answer is then marked
//! on the message itself (`db::untold`), which any instance's retry finds,
//! and forgotten here; what stays here is what could not be marked (an
//! insert whose outcome is unknown, a mark that could not be written), and
//! a store restart loses that. An instance that died before counting its
//! message leaves nothing; `unanswered` finds such messages by their
//! number instead.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};

/// Orphans remembered at most.
pub const CAPACITY: usize = 10_000;

/// The orphaned nonce keys; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Orphans {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    keys: HashSet<String>,
    order: VecDeque<String>,
}

impl Orphans {
    /// Remembers that nobody was told the message of `key` was created.
    pub fn adopt(&self, key: String) {
        let mut inner = self.lock();
        if !inner.keys.insert(key.clone()) {
            return;
        }
        inner.order.push_back(key);
        while inner.order.len() > CAPACITY {
            if let Some(oldest) = inner.order.pop_front() {
                inner.keys.remove(&oldest);
            }
        }
    }

    /// `true` once for an orphaned key: its retry is told it created it.
    pub fn claim(&self, key: &str) -> bool {
        let mut inner = self.lock();
        let claimed = inner.keys.remove(key);
        if claimed {
            inner.order.retain(|k| k != key);
        }
        claimed
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_orphan_is_claimed_once_and_the_oldest_are_forgotten() {
        let orphans = Orphans::default();
        orphans.adopt("a|1".into());
        assert!(orphans.claim("a|1"));
        assert!(!orphans.claim("a|1"), "only the first retry");
        for i in 0..=CAPACITY {
            orphans.adopt(format!("k{i}"));
        }
        assert!(!orphans.claim("k0"), "the oldest was forgotten");
        assert!(orphans.claim(&format!("k{CAPACITY}")));
    }
}
