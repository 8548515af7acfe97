//! This node in the node registry: a heartbeat every few seconds, and
//! reaping the nodes whose heartbeat stopped.
//!
//! Until its first heartbeat is recorded the node takes no sockets (see
//! `cluster::transports`), so the registry knows every node that holds
//! presence. A node started again with the same `CHAT_NODE_ID` first clears
//! what its previous life left behind. Every node reaps: the store hands
//! each user of a dead node to exactly one reaper, which announces them
//! offline, within about 20 s of the node's last heartbeat.

use super::presence::{self, announce_offline};
use crate::state::AppState;
use chat_wire::cluster::{NodeHeartbeat, NodeRemoval};
use futures::StreamExt;
use service_kit::ApiError;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use std::time::Duration;

/// Time between two heartbeats (the registry counts a node live for 15 s).
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(5);
/// Time between two attempts while the store cannot be reached at start.
const START_RETRY: Duration = Duration::from_secs(1);
/// Users of a removed node whose groups are looked up at once.
const CONCURRENT_ANNOUNCES: usize = 8;

/// Registers this node, then beats, reaps and writes its users' presence
/// (`presence::write`) until the task is aborted.
pub async fn run<A: Adapter>(io: SocketIo<A>, state: AppState) {
    while let Err(err) = clear_previous_life(&io, &state).await {
        tracing::warn!(error = %err, "cannot reach the node registry; retrying");
        tokio::time::sleep(START_RETRY).await;
    }
    tokio::join!(
        beat_and_reap(&io, &state),
        presence::write(io.clone(), state.clone())
    );
}

async fn beat_and_reap<A: Adapter>(io: &SocketIo<A>, state: &AppState) {
    let mut ticks = tokio::time::interval(HEARTBEAT_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        ticks.tick().await;
        match beat(state).await {
            Ok(()) if failing => {
                tracing::info!("the node registry answers again");
                failing = false;
            }
            Ok(()) => {}
            Err(err) if !failing => {
                tracing::warn!(error = %err, "cannot send this node's heartbeat");
                failing = true;
            }
            Err(_) => {}
        }
        if !failing && let Err(err) = reap(io, state).await {
            tracing::warn!(error = %err, "cannot reap the dead nodes");
        }
    }
}

/// Sends a heartbeat now (also when the node starts draining, so that the
/// dispatcher stops choosing it at once).
pub async fn beat(state: &AppState) -> Result<(), ApiError> {
    let heartbeat = NodeHeartbeat {
        url: state.locator.own_url().to_owned(),
        draining: state.lifecycle.is_draining(),
        connections: u64::try_from(state.metrics.sockets.get()).unwrap_or(0),
    };
    let registration = state
        .store
        .heartbeat(state.presence.node(), &heartbeat)
        .await?;
    if registration.created && state.lifecycle.is_registered() {
        // Taken for dead while alive (a long pause): its users were taken
        // offline, and are recorded again here.
        let users = state.presence.forget_recorded();
        tracing::warn!(
            users,
            "this node had been reaped as dead; recording its users again"
        );
    }
    state.lifecycle.set_registered();
    Ok(())
}

/// A node started with the id of an earlier one takes its place cleanly.
async fn clear_previous_life<A: Adapter>(
    io: &SocketIo<A>,
    state: &AppState,
) -> Result<(), ApiError> {
    let removal = state.store.remove_node(state.presence.node()).await?;
    if !removal.offline.is_empty() {
        tracing::info!(
            users = removal.offline.len(),
            "cleared the presence left by an earlier run of this node"
        );
    }
    announce_removal(io, state, removal).await;
    beat(state).await
}

/// Reaps the nodes whose heartbeat stopped and announces their users offline.
async fn reap<A: Adapter>(io: &SocketIo<A>, state: &AppState) -> Result<(), ApiError> {
    let removal = state.store.reap_nodes().await?;
    if !removal.offline.is_empty() {
        tracing::info!(
            users = removal.offline.len(),
            "users of a dead node went offline"
        );
    }
    announce_removal(io, state, removal).await;
    Ok(())
}

/// Announces offline each user a node removal left without a socket, to
/// the groups the store lists for them.
pub async fn announce_removal<A: Adapter>(
    io: &SocketIo<A>,
    state: &AppState,
    removal: NodeRemoval,
) {
    futures::stream::iter(removal.offline)
        .for_each_concurrent(CONCURRENT_ANNOUNCES, |user| async move {
            match state.store.groups_of_user(&user.up).await {
                Ok(groups) => {
                    let rooms = groups.iter().map(|g| g.id.to_string()).collect();
                    announce_offline(io, &state.metrics, &user.up, rooms, user.last_seen).await;
                }
                Err(err) => {
                    tracing::warn!(up = %user.up, error = %err, "cannot announce a user of a removed node offline");
                }
            }
        })
        .await;
}
