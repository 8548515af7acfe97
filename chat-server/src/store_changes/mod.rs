//! Following the store's change log: what other services change through
//! the store (members added or removed, messages created, edited, deleted
//! or reacted to) reaches this node's live sockets within a second
//! (docs/architecture.md, "Changes made through the store").
//!
//! One task per node reads `GET /changes` every [`POLL_EVERY`], through the
//! store client (so it follows `STORE_URL`'s instances), and applies each
//! change once to this node's own sockets ([`apply`]); every node does the
//! same, so every socket of the cluster gets each change once, whatever
//! the number of nodes, and no node depends on another. The changes a chat
//! node makes itself are not in the log: it applies them live.
//!
//! - [`window`]: where each read starts, and the changes already applied.
//! - [`apply`]: what a change does to this node's sockets.
//! - [`notifying`]: which node posts the offline notifications of a
//!   created message (one for the cluster).
//!
//! A node follows the log from its start (minus the overlap): it has no
//! sockets before, and its clients load their groups when they connect. It
//! notifies only messages recorded after it started.

pub mod apply;
pub mod notifying;
pub mod window;

use crate::rooms::Rooms;
use crate::state::AppState;
use apply::Applier;
use chat_wire::changes::ChangeList;
use chat_wire::time::Timestamp;
use notifying::NotifyingNode;
use service_kit::ApiError;
use std::sync::Arc;
use std::time::Duration;
use window::{MAX_REMEMBERED, OVERLAP, Window};

/// Time between two reads of the change log: a change reaches the sockets
/// within this, plus a store call, plus the applying.
pub const POLL_EVERY: Duration = Duration::from_millis(250);

/// Follows the change log until the task is aborted; `alone`: the node runs
/// on the local adapter (it is the cluster).
pub async fn run(state: AppState, rooms: Arc<dyn Rooms>, alone: bool) {
    let started = chrono::Utc::now();
    let mut follower = Follower {
        notifying: NotifyingNode::new(state.node.presence.node().clone(), alone),
        window: Window::new(started, OVERLAP, MAX_REMEMBERED),
        started,
        state,
        rooms,
    };
    let mut ticks = tokio::time::interval(POLL_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        ticks.tick().await;
        match follower.catch_up().await {
            Ok(()) if failing => {
                tracing::info!("the store's change log can be read again");
                failing = false;
            }
            Ok(()) => {}
            Err(err) if !failing => {
                tracing::warn!(error = %err, "cannot read the store's change log; retrying");
                failing = true;
            }
            Err(_) => {}
        }
    }
}

/// The follower's state.
struct Follower {
    state: AppState,
    rooms: Arc<dyn Rooms>,
    notifying: NotifyingNode,
    window: Window,
    /// When this node started (it notifies changes recorded after).
    started: Timestamp,
}

impl Follower {
    /// Reads the log from the window's start to its end, page by page, and
    /// applies what was not applied yet.
    async fn catch_up(&mut self) -> Result<(), ApiError> {
        let mut since = self.window.since();
        loop {
            let page = self.state.store.changes_since(&since).await?;
            // Only a full page is followed by another read.
            let next = match page.has_more {
                true => next_since(&page, since),
                false => None,
            };
            let ChangeList { items, now, .. } = page;
            for change in items {
                if !self.window.admit(&change.id, change.at) {
                    continue;
                }
                let notify = change.at >= self.started && self.notifies(&change).await;
                let applier = Applier {
                    state: &self.state,
                    rooms: &*self.rooms,
                };
                applier.apply(change, notify).await;
            }
            match next {
                Some(next) => since = next,
                _ => {
                    // Read to the end: whatever that instance records from
                    // now on is stamped at or after `now`.
                    self.window.saw_clock(now);
                    break;
                }
            }
        }
        self.window.forget_old();
        Ok(())
    }

    /// Whether this node posts the notifications of `change` (a created
    /// message only).
    async fn notifies(&mut self, change: &chat_wire::changes::Change) -> bool {
        change.kind == chat_wire::changes::ChangeKind::MessageCreated
            && self.notifying.is_this_node(&self.state.store).await
    }
}

/// Where the read after a full `page` starts: its last change's time (inclusive:
/// changes of the same millisecond may follow). A full page of changes of
/// one millisecond would be read again and again: the read then moves one
/// millisecond on, leaving the rest of that millisecond (over 500 changes
/// recorded at once) unread.
fn next_since(page: &ChangeList, since: Timestamp) -> Option<Timestamp> {
    let last = page.items.last()?.at;
    Some(match last > since {
        true => last,
        false => {
            tracing::warn!(at = %last, "over 500 changes recorded in one millisecond; some are skipped");
            since + chrono::TimeDelta::milliseconds(1)
        }
    })
}
