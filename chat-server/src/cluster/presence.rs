//! Who is online: this node's sockets per user, and the cluster's view in
//! the store kept in step with them.
//!
//! A user's first socket here records this node in their presence in the
//! store; their last socket leaving takes it out. The store answers whether
//! that moved the user between online and offline for the whole cluster,
//! and only then `online` or `offline` is announced to their groups: once
//! per transition, whatever the number of nodes and devices.
//!
//! One task at a time settles a user (writes until the store agrees with
//! the sockets here), so the writes of a user who flaps never race; and the
//! writes of all users are paced, a few at a time, so that a connect storm
//! does not become thousands of concurrent updates of the users collection.
//! While the node drains, departures are not written one by one: the node
//! leaves the registry at the end, which takes offline only the users who
//! did not reconnect elsewhere.

use crate::metrics::ChatMetrics;
use crate::socket::relay::delivery;
use crate::socket::session::user_room;
use crate::state::AppState;
use chat_wire::cluster::NodeId;
use chat_wire::events::{OfflineNotice, OnlineNotice};
use chat_wire::ids::Up;
use chat_wire::time::Timestamp;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Presence writes in flight at once, per node.
const CONCURRENT_WRITES: usize = 4;
/// The longest wait between two attempts at a failed presence write.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(5);

/// One user's sockets here, and what the store knows of them.
#[derive(Debug, Default)]
struct Entry {
    sockets: usize,
    /// Whether the store lists this node in the user's presence.
    recorded: bool,
    /// Whether a task is settling this user.
    settling: bool,
    /// The user's rooms as their last socket saw them: where the next
    /// transition is announced.
    rooms: Vec<String>,
}

impl Entry {
    fn wants_record(&self) -> bool {
        self.sockets > 0
    }

    /// Takes the settling turn if the store is behind and nobody settles.
    fn claim(&mut self) -> bool {
        if self.settling || self.wants_record() == self.recorded {
            return false;
        }
        self.settling = true;
        true
    }
}

/// This node's presence; cheap to clone.
#[derive(Debug, Clone)]
pub struct Presence {
    node: NodeId,
    users: Arc<Mutex<HashMap<Up, Entry>>>,
    writes: Arc<Semaphore>,
}

impl Presence {
    /// The presence of node `node`.
    pub fn new(node: NodeId) -> Self {
        Self {
            node,
            users: Arc::default(),
            writes: Arc::new(Semaphore::new(CONCURRENT_WRITES)),
        }
    }

    /// This node's id.
    pub fn node(&self) -> &NodeId {
        &self.node
    }

    /// Counts a socket of `up` that is in `rooms`; `true` when the caller
    /// must start [`settle`] for the user.
    pub fn socket_joined(&self, up: &Up, rooms: Vec<String>) -> bool {
        let mut users = self.lock();
        let entry = users.entry(up.clone()).or_default();
        entry.sockets += 1;
        entry.rooms = rooms;
        entry.claim()
    }

    /// Forgets a socket of `up` that was in `rooms`; `true` when the caller
    /// must start [`settle`] for the user.
    pub fn socket_left(&self, up: &Up, rooms: Vec<String>) -> bool {
        let mut users = self.lock();
        let Some(entry) = users.get_mut(up) else {
            return false;
        };
        entry.sockets = entry.sockets.saturating_sub(1);
        if entry.sockets == 0 {
            entry.rooms = rooms;
        }
        entry.claim()
    }

    /// Whether `up` has a socket on this node.
    pub fn is_here(&self, up: &Up) -> bool {
        self.lock().get(up).is_some_and(Entry::wants_record)
    }

    /// Users with at least one socket here.
    pub fn users_here(&self) -> usize {
        self.lock().values().filter(|e| e.wants_record()).count()
    }

    /// Users whose presence is being written right now.
    pub fn unsettled(&self) -> usize {
        self.lock().values().filter(|e| e.settling).count()
    }

    /// The store forgot this node (it was taken for dead): every user here
    /// must be recorded again. Returns those the caller must settle.
    pub fn forget_recorded(&self) -> Vec<Up> {
        let mut users = self.lock();
        users
            .iter_mut()
            .filter_map(|(up, entry)| {
                entry.recorded = false;
                entry.claim().then(|| up.clone())
            })
            .collect()
    }

    /// What the store must be told next about `up`: `Some(online)`, or
    /// `None` once it agrees (the settling turn is then given back).
    fn next_write(&self, up: &Up) -> Option<(bool, Vec<String>)> {
        let mut users = self.lock();
        let entry = users.get_mut(up)?;
        if entry.wants_record() != entry.recorded {
            return Some((entry.wants_record(), entry.rooms.clone()));
        }
        entry.settling = false;
        if entry.sockets == 0 {
            users.remove(up);
        }
        None
    }

    /// Gives the settling turn back while the store still lists this node
    /// for `up` (see [`settle`] during a drain).
    fn keep_recorded(&self, up: &Up) {
        if let Some(entry) = self.lock().get_mut(up) {
            entry.settling = false;
        }
    }

    fn set_recorded(&self, up: &Up, recorded: bool) {
        if let Some(entry) = self.lock().get_mut(up) {
            entry.recorded = recorded;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Up, Entry>> {
        // A panic while holding this lock cannot leave an entry half-written.
        self.users
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Writes `up`'s presence on this node to the store until it matches the
/// sockets here, announcing every cluster-wide transition the store
/// reports. Start it only when [`Presence::socket_joined`] or
/// [`Presence::socket_left`] says so.
pub async fn settle<A: Adapter>(io: SocketIo<A>, state: AppState, up: Up) {
    let presence = &state.presence;
    let mut failures: u32 = 0;
    while let Some((online, rooms)) = presence.next_write(&up) {
        if !online && state.lifecycle.is_draining() {
            // A draining node's users are moving to other nodes: it leaves
            // them recorded here and the registry takes it out of everyone
            // at the end of the drain, so those who reconnected elsewhere
            // by then never flap offline and online again.
            presence.keep_recorded(&up);
            return;
        }
        let written = {
            let _turn = presence
                .writes
                .acquire()
                .await
                .expect("the presence semaphore is never closed");
            if online {
                state.store.user_joined_node(&presence.node, &up).await
            } else {
                state.store.user_left_node(&presence.node, &up).await
            }
        };
        match written {
            Ok(change) => {
                failures = 0;
                presence.set_recorded(&up, online);
                if !change.changed {
                    continue;
                }
                if online {
                    announce_online(&io, &state.metrics, &up, rooms).await;
                } else {
                    let last_seen = change.last_seen.unwrap_or_else(chrono::Utc::now);
                    announce_offline(&io, &state.metrics, &up, rooms, last_seen).await;
                }
            }
            Err(err) => {
                failures += 1;
                if failures == 1 || failures.is_multiple_of(10) {
                    tracing::warn!(up = %up, online, failures, error = %err, "cannot record a user's presence; retrying");
                }
                let wait = Duration::from_millis(250 * u64::from(failures.min(20)));
                tokio::time::sleep(wait.min(MAX_RETRY_WAIT)).await;
            }
        }
    }
}

/// Tells `rooms` (but the user's own sockets) that `up` came online.
pub async fn announce_online<A: Adapter>(
    io: &SocketIo<A>,
    metrics: &ChatMetrics,
    up: &Up,
    rooms: Vec<String>,
) {
    if rooms.is_empty() {
        return;
    }
    let notice = OnlineNotice { up: up.clone() };
    let sent = io
        .to(rooms)
        .except(user_room(up))
        .emit("online", &notice)
        .await;
    if let Err(err) = delivery(metrics, sent) {
        tracing::warn!(up = %up, error = %err, "could not announce a user online");
    }
}

/// Tells `rooms` that `up` went offline.
pub async fn announce_offline<A: Adapter>(
    io: &SocketIo<A>,
    metrics: &ChatMetrics,
    up: &Up,
    rooms: Vec<String>,
    last_seen: Timestamp,
) {
    if rooms.is_empty() {
        return;
    }
    let notice = OfflineNotice {
        up: up.clone(),
        last_seen,
    };
    let sent = io
        .to(rooms)
        .except(user_room(up))
        .emit("offline", &notice)
        .await;
    if let Err(err) = delivery(metrics, sent) {
        tracing::warn!(up = %up, error = %err, "could not announce a user offline");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn presence() -> Presence {
        Presence::new(NodeId::parse("n1").unwrap())
    }

    #[test]
    fn only_the_first_and_the_last_socket_start_a_settle() {
        let presence = presence();
        let up = Up::parse("up1").unwrap();
        assert!(presence.socket_joined(&up, vec![]));
        assert!(!presence.socket_joined(&up, vec![]), "already settling");
        assert_eq!(
            presence.next_write(&up).map(|(online, _)| online),
            Some(true)
        );
        presence.set_recorded(&up, true);
        assert_eq!(presence.next_write(&up), None, "the store agrees");
        assert!(!presence.socket_left(&up, vec![]), "one socket is left");
        assert!(presence.is_here(&up));
        assert!(presence.socket_left(&up, vec!["g".into()]));
        assert_eq!(
            presence.next_write(&up),
            Some((false, vec!["g".to_owned()])),
            "offline is announced where the last socket was"
        );
        presence.set_recorded(&up, false);
        assert_eq!(presence.next_write(&up), None);
        assert_eq!(presence.users_here(), 0);
        assert!(
            presence.lock().is_empty(),
            "a settled absent user is forgotten"
        );
    }

    #[test]
    fn a_flap_during_a_settle_is_written_by_the_same_task() {
        let presence = presence();
        let up = Up::parse("up1").unwrap();
        assert!(presence.socket_joined(&up, vec![]));
        assert!(
            !presence.socket_left(&up, vec![]),
            "the running task sees it"
        );
        // The write of `online` finished after the user had already left.
        presence.set_recorded(&up, true);
        assert_eq!(
            presence.next_write(&up).map(|(online, _)| online),
            Some(false)
        );
    }

    #[test]
    fn forgetting_the_record_asks_for_every_user_here_again() {
        let presence = presence();
        let up = Up::parse("up1").unwrap();
        presence.socket_joined(&up, vec![]);
        presence.set_recorded(&up, true);
        presence.next_write(&up);
        assert_eq!(presence.forget_recorded(), vec![up]);
    }
}
