//! Who is online: this node's sockets per user, and what the store has
//! been told of them: the state of the node's presence, with no I/O.
//!
//! A user's first socket here records this node in their presence in the
//! store; their last socket leaving takes it out. The store answers whether
//! that moved the user between online and offline for the whole cluster,
//! and only then `online` or `offline` is announced to their groups: once
//! per transition, whatever the number of nodes and devices.
//!
//! - [`writer`]: the task that sends the changes, a batch at a time (up to
//!   [`MAX_PRESENCE_BATCH`] users each way): a connect storm of thousands of
//!   users costs the store a few requests, not one per user. A user is in
//!   at most one request at a time, so the writes of a user who flaps never
//!   race; whatever changed while a request was out is sent in the next.
//!   While the node drains, departures are not written: the node leaves the
//!   registry at the end, which takes offline only the users who did not
//!   reconnect elsewhere.
//! - [`announce`]: the `online` and `offline` notices, to those who may
//!   hear them: the store's answer says whether the user hides their
//!   presence and whom they blocked.

pub mod announce;
mod pace;
pub mod writer;

use chat_wire::cluster::{MAX_PRESENCE_BATCH, NodeId, PresenceBatch, PresenceChange};
use chat_wire::ids::Up;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// One user's sockets here, and what the store knows of them.
#[derive(Debug, Default)]
struct Entry {
    sockets: usize,
    /// Whether the store lists this node in the user's presence.
    recorded: bool,
    /// Whether a request about this user is out.
    in_flight: bool,
    /// The user's rooms as their last socket saw them: where the next
    /// transition is announced.
    rooms: Vec<String>,
}

impl Entry {
    fn wants_record(&self) -> bool {
        self.sockets > 0
    }

    /// Whether the store must be told something about this user.
    fn is_behind(&self) -> bool {
        self.wants_record() != self.recorded
    }
}

#[derive(Debug, Default)]
struct Users {
    entries: HashMap<Up, Entry>,
    /// Users who may be behind and are in no request: the next batch.
    pending: HashSet<Up>,
    in_flight: usize,
    /// Users with at least one socket here (kept, not counted, as every
    /// connect and disconnect reads it).
    here: usize,
}

impl Users {
    /// Queues `up` for the next batch if the store is behind on them, and
    /// forgets them once they have no socket here and the store agrees.
    fn mark(&mut self, up: &Up) -> bool {
        let Some(entry) = self.entries.get(up) else {
            return false;
        };
        if entry.in_flight {
            return false;
        }
        if !entry.is_behind() {
            if entry.sockets == 0 {
                self.entries.remove(up);
            }
            return false;
        }
        self.pending.insert(up.clone())
    }
}

/// A transition the store gave this node to announce.
#[derive(Debug, PartialEq, Eq)]
pub struct Announcement {
    /// The user's new state, as the store decided it.
    pub change: PresenceChange,
    /// Where to announce it: the user's rooms as their last socket saw them.
    pub rooms: Vec<String>,
}

/// This node's presence; cheap to clone.
#[derive(Debug, Clone)]
pub struct Presence {
    node: NodeId,
    users: Arc<Mutex<Users>>,
    /// Wakes the [`writer`] when a user is queued.
    queued: Arc<Notify>,
}

impl Presence {
    /// The presence of node `node`.
    pub fn new(node: NodeId) -> Self {
        Self {
            node,
            users: Arc::default(),
            queued: Arc::default(),
        }
    }

    /// This node's id.
    pub fn node(&self) -> &NodeId {
        &self.node
    }

    /// Counts a socket of `up` that is in `rooms`.
    pub fn socket_joined(&self, up: &Up, rooms: Vec<String>) {
        let mut users = self.lock();
        let entry = users.entries.entry(up.clone()).or_default();
        entry.sockets += 1;
        entry.rooms = rooms;
        if entry.sockets == 1 {
            users.here += 1;
        }
        self.queue(&mut users, up);
    }

    /// Forgets a socket of `up` that was in `rooms`.
    pub fn socket_left(&self, up: &Up, rooms: Vec<String>) {
        let mut users = self.lock();
        let Some(entry) = users.entries.get_mut(up) else {
            return;
        };
        if entry.sockets == 0 {
            return;
        }
        entry.sockets -= 1;
        if entry.sockets == 0 {
            entry.rooms = rooms;
            users.here -= 1;
        }
        self.queue(&mut users, up);
    }

    /// Whether `up` has a socket on this node.
    pub fn is_here(&self, up: &Up) -> bool {
        self.lock().entries.get(up).is_some_and(Entry::wants_record)
    }

    /// Users with at least one socket here.
    pub fn users_here(&self) -> usize {
        self.lock().here
    }

    /// Users whose presence is waiting to be written or being written.
    pub fn unsettled(&self) -> usize {
        let users = self.lock();
        users.pending.len() + users.in_flight
    }

    /// The store forgot this node (it was taken for dead): every user here
    /// is recorded again.
    pub fn forget_recorded(&self) -> usize {
        let mut users = self.lock();
        let ups: Vec<Up> = users.entries.keys().cloned().collect();
        for up in &ups {
            if let Some(entry) = users.entries.get_mut(up) {
                entry.recorded = false;
            }
            self.queue(&mut users, up);
        }
        users.pending.len()
    }

    /// Waits until a user is queued for the next batch.
    pub async fn queued(&self) {
        self.queued.notified().await;
    }

    fn queue(&self, users: &mut Users, up: &Up) {
        if users.mark(up) {
            self.queued.notify_one();
        }
    }

    /// Takes the next batch out of the pending users. While the node
    /// drains, departures are dropped instead: the store keeps listing this
    /// node for them until it leaves the registry.
    pub fn take_batch(&self, draining: bool) -> PresenceBatch {
        let mut guard = self.lock();
        let users = &mut *guard;
        let mut batch = PresenceBatch::default();
        for up in std::mem::take(&mut users.pending) {
            let Some(entry) = users.entries.get_mut(&up) else {
                continue;
            };
            if !entry.is_behind() {
                // Forgets a user who came and went before being written.
                users.mark(&up);
                continue;
            }
            let joining = entry.wants_record();
            if draining && !joining {
                continue;
            }
            let list = if joining {
                &mut batch.joined
            } else {
                &mut batch.left
            };
            if list.len() == MAX_PRESENCE_BATCH {
                users.pending.insert(up);
                continue;
            }
            entry.in_flight = true;
            list.push(up);
            users.in_flight += 1;
        }
        batch
    }

    /// Records what the store answered for `batch`; the transitions to
    /// announce, with the rooms to announce them in.
    pub fn apply(&self, batch: &PresenceBatch, changes: Vec<PresenceChange>) -> Vec<Announcement> {
        let mut changes: HashMap<Up, PresenceChange> = changes
            .into_iter()
            .map(|change| (change.up.clone(), change))
            .collect();
        let mut users = self.lock();
        let mut announcements = Vec::new();
        for (up, joined) in batch.users() {
            users.in_flight -= 1;
            let Some(entry) = users.entries.get_mut(up) else {
                continue;
            };
            entry.in_flight = false;
            // An answer missing from the store's reply is asked again.
            let Some(change) = changes.remove(up) else {
                self.queue(&mut users, up);
                continue;
            };
            entry.recorded = joined;
            if change.changed {
                let rooms = entry.rooms.clone();
                announcements.push(Announcement { change, rooms });
            }
            self.queue(&mut users, up);
        }
        announcements
    }

    /// Puts a batch the store did not take back in the pending set.
    pub fn release(&self, batch: &PresenceBatch) {
        let mut users = self.lock();
        for (up, _) in batch.users() {
            users.in_flight -= 1;
            if let Some(entry) = users.entries.get_mut(up) {
                entry.in_flight = false;
            }
            self.queue(&mut users, up);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Users> {
        // A panic while holding this lock cannot leave an entry half-written.
        self.users
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn presence() -> Presence {
        Presence::new(NodeId::parse("n1").unwrap())
    }

    fn up(name: &str) -> Up {
        Up::parse(name).unwrap()
    }

    fn change(up: &Up, online: bool, changed: bool) -> PresenceChange {
        PresenceChange {
            up: up.clone(),
            online,
            changed,
            last_seen: None,
            audience: Default::default(),
        }
    }

    #[test]
    fn only_the_first_and_the_last_socket_are_written() {
        let presence = presence();
        let ana = up("ana");
        presence.socket_joined(&ana, vec!["g".into()]);
        presence.socket_joined(&ana, vec!["g".into()]);
        assert_eq!(presence.users_here(), 1);
        let batch = presence.take_batch(false);
        assert_eq!(batch.joined, std::slice::from_ref(&ana));
        assert!(batch.left.is_empty());
        let told = presence.apply(&batch, vec![change(&ana, true, true)]);
        assert_eq!(told.len(), 1, "the store said it was a transition");
        assert_eq!(told[0].rooms, ["g"]);
        assert!(presence.take_batch(false).is_empty(), "the store agrees");
        presence.socket_left(&ana, vec![]);
        assert!(presence.take_batch(false).is_empty(), "one socket is left");
        presence.socket_left(&ana, vec!["h".into()]);
        let batch = presence.take_batch(false);
        assert_eq!(batch.left, std::slice::from_ref(&ana));
        let told = presence.apply(&batch, vec![change(&ana, false, true)]);
        assert_eq!(
            told[0].rooms,
            ["h"],
            "offline is announced where the last socket was"
        );
        assert_eq!(presence.users_here(), 0);
        assert_eq!(presence.unsettled(), 0);
        assert!(
            presence.lock().entries.is_empty(),
            "a settled absent user is forgotten"
        );
    }

    #[test]
    fn a_flap_during_a_request_is_sent_in_the_next() {
        let presence = presence();
        let ana = up("ana");
        presence.socket_joined(&ana, vec![]);
        let batch = presence.take_batch(false);
        presence.socket_left(&ana, vec![]);
        assert!(presence.take_batch(false).is_empty(), "ana is in a request");
        assert_eq!(presence.unsettled(), 1);
        presence.apply(&batch, vec![change(&ana, true, true)]);
        let next = presence.take_batch(false);
        assert_eq!(next.left, [ana], "the departure follows");
    }

    #[test]
    fn a_failed_request_is_tried_again_and_departures_wait_out_a_drain() {
        let presence = presence();
        let (ana, bea) = (up("ana"), up("bea"));
        presence.socket_joined(&ana, vec![]);
        presence.socket_joined(&bea, vec![]);
        let batch = presence.take_batch(false);
        assert_eq!(batch.joined.len(), 2);
        presence.release(&batch);
        let again = presence.take_batch(false);
        assert_eq!(again.joined.len(), 2, "both are asked again");
        presence.apply(
            &again,
            vec![change(&ana, true, true), change(&bea, true, false)],
        );
        presence.socket_left(&ana, vec![]);
        assert!(presence.take_batch(true).is_empty(), "not while draining");
        assert_eq!(presence.unsettled(), 0);
        assert!(!presence.is_here(&ana));
    }

    #[test]
    fn a_user_who_comes_and_goes_before_a_write_is_forgotten() {
        let presence = presence();
        let ana = up("ana");
        presence.socket_joined(&ana, vec![]);
        presence.socket_left(&ana, vec![]);
        assert!(presence.take_batch(false).is_empty(), "nothing to tell");
        assert!(presence.lock().entries.is_empty());
        assert_eq!(presence.unsettled(), 0);
    }

    #[test]
    fn a_batch_holds_at_most_the_store_limit_each_way() {
        let presence = presence();
        for i in 0..MAX_PRESENCE_BATCH + 5 {
            presence.socket_joined(&up(&format!("u{i}")), vec![]);
        }
        assert_eq!(presence.take_batch(false).joined.len(), MAX_PRESENCE_BATCH);
        assert_eq!(presence.take_batch(false).joined.len(), 5);
    }

    #[test]
    fn forgetting_the_record_asks_for_every_user_here_again() {
        let presence = presence();
        let ana = up("ana");
        presence.socket_joined(&ana, vec![]);
        let batch = presence.take_batch(false);
        presence.apply(&batch, vec![change(&ana, true, true)]);
        assert_eq!(presence.forget_recorded(), 1);
        assert_eq!(presence.take_batch(false).joined, [ana]);
    }
}
