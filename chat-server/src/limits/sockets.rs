//! Sockets per user on this node (`CHAT_MAX_SOCKETS_PER_USER`): a handshake
//! beyond the cap is refused with `connect_error` `rate_limited`, so one
//! user cannot hold thousands of connections and their memory.

use chat_wire::ids::Up;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The sockets of each user; cheap to clone.
#[derive(Debug, Clone)]
pub struct SocketQuota {
    max: usize,
    held: Arc<Mutex<HashMap<Up, usize>>>,
}

impl SocketQuota {
    /// At most `max` sockets per user (at least 1).
    pub fn new(max: usize) -> Self {
        Self {
            max: max.max(1),
            held: Arc::default(),
        }
    }

    /// Takes a place for a socket of `up`, given back when the slot drops;
    /// `None` when they hold the most.
    pub fn acquire(&self, up: &Up) -> Option<SocketSlot> {
        let mut held = self.lock();
        let count = held.entry(up.clone()).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(SocketSlot {
            quota: self.clone(),
            up: up.clone(),
        })
    }

    fn release(&self, up: &Up) {
        let mut held = self.lock();
        if let Some(count) = held.get_mut(up) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                held.remove(up);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Up, usize>> {
        // A panic while holding this lock cannot leave a count half-written.
        self.held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A socket's place in the quota. It lives in the socket's extensions, so
/// the place comes back when the socket is gone, however it went.
#[derive(Debug)]
pub struct SocketSlot {
    quota: SocketQuota,
    up: Up,
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        self.quota.release(&self.up);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_holds_at_most_the_cap_and_a_release_frees_a_place() {
        let quota = SocketQuota::new(2);
        let (ana, bea) = (Up::parse("ana").unwrap(), Up::parse("bea").unwrap());
        let first = quota.acquire(&ana).expect("a place");
        let second = quota.acquire(&ana).expect("a place");
        assert!(quota.acquire(&ana).is_none(), "a third socket is refused");
        let other = quota.acquire(&bea);
        assert!(other.is_some(), "others are not affected");
        drop(first);
        let third = quota.acquire(&ana);
        assert!(third.is_some(), "a dropped slot frees its place");
        drop((second, third));
        assert!(
            quota.lock().get(&ana).is_none(),
            "an absent user is forgotten"
        );
    }
}
