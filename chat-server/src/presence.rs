//! Who is online on this node: sockets counted per user.
//!
//! The first socket of a user makes them online and the last one leaving
//! makes them offline; everything between changes nothing visible.
//!
//! It also paces the store writes of online/offline: a burst of thousands of
//! connects (a node restart, a lecture starting) must not become thousands
//! of concurrent updates of the users collection, which MongoDB serves
//! slower in total than a few at a time.

use chat_wire::ids::Up;
use chat_wire::model::Group;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{Semaphore, SemaphorePermit};

/// Online/offline store writes in flight at once, per node.
const CONCURRENT_WRITES: usize = 4;

/// Socket counts per user; cheap to clone.
#[derive(Debug, Clone)]
pub struct Presence {
    sockets: Arc<Mutex<HashMap<Up, usize>>>,
    writes: Arc<Semaphore>,
}

impl Default for Presence {
    fn default() -> Self {
        Self {
            sockets: Arc::default(),
            writes: Arc::new(Semaphore::new(CONCURRENT_WRITES)),
        }
    }
}

impl Presence {
    /// Waits for a turn to write a user's online state to the store.
    pub async fn write_turn(&self) -> SemaphorePermit<'_> {
        self.writes
            .acquire()
            .await
            .expect("the presence semaphore is never closed")
    }

    /// Counts a new socket; `true` when it is the user's first.
    pub fn connect(&self, up: &Up) -> bool {
        let mut sockets = self.lock();
        let count = sockets.entry(up.clone()).or_insert(0);
        *count += 1;
        *count == 1
    }

    /// Forgets a socket; `true` when it was the user's last.
    pub fn disconnect(&self, up: &Up) -> bool {
        let mut sockets = self.lock();
        match sockets.get_mut(up) {
            Some(count) if *count > 1 => {
                *count -= 1;
                false
            }
            Some(_) => {
                sockets.remove(up);
                true
            }
            None => false,
        }
    }

    /// Whether `up` has a socket here.
    pub fn is_online(&self, up: &Up) -> bool {
        self.lock().contains_key(up)
    }

    /// The users of `members` who are online.
    pub fn online_among<'a>(&self, members: impl IntoIterator<Item = &'a Up>) -> Vec<Up> {
        let sockets = self.lock();
        members
            .into_iter()
            .filter(|up| sockets.contains_key(*up))
            .cloned()
            .collect()
    }

    /// Whether a group's history may be shown: its `historyMinOnline`
    /// members (seed 004's "N users connected") are online.
    pub fn history_visible(&self, group: &Group) -> bool {
        let needed = group.history_min_online as usize;
        needed == 0 || self.online_among(&group.users).len() >= needed
    }

    /// Forgets everyone and returns who was online (at shutdown).
    pub fn drain(&self) -> Vec<Up> {
        self.lock().drain().map(|(up, _)| up).collect()
    }

    /// Users with at least one socket.
    pub fn online_count(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Up, usize>> {
        // A panic while holding this lock cannot leave the counts half-written.
        self.sockets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_and_the_last_socket_change_presence() {
        let presence = Presence::default();
        let up = Up::parse("up1").unwrap();
        assert!(presence.connect(&up));
        assert!(!presence.connect(&up));
        assert!(!presence.disconnect(&up));
        assert!(presence.is_online(&up));
        assert!(presence.disconnect(&up));
        assert!(!presence.is_online(&up));
        assert!(!presence.disconnect(&up), "an unknown user is not 'last'");
        assert_eq!(presence.online_count(), 0);
    }
}
