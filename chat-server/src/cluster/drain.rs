//! Draining this node: its clients move to other nodes without losing a
//! message, then the process can exit.
//!
//! 1. The node marks itself draining: the registry hears it at once (the
//!    dispatcher stops choosing it), `/readyz` answers 503 and new
//!    Socket.IO sessions are refused with 503, which clients retry.
//! 2. Each socket gets `migrate {url}`: the node the dispatcher gives its
//!    user now.
//! 3. The sockets' transports are closed in batches spread over
//!    `CHAT_DRAIN_SECONDS`, so that the clients reconnect (to the `migrate`
//!    URL, or through a load balancer) without all arriving at once. A
//!    transport close, not a Socket.IO disconnect: `socket.io-client`
//!    reconnects by itself.
//! 4. The node waits for the events still being handled (a message being
//!    stored is acked, or its sender retries it with its nonce elsewhere;
//!    either way it is stored and broadcast once), gives its clients a
//!    moment to reconnect elsewhere, then leaves the registry: only the
//!    users who have no socket anywhere by then are announced offline.

use super::{Cluster, registry};
use crate::rooms::outgoing::Outgoing;
use chat_wire::events::Migrate;
use socketioxide_core::Sid;
use std::time::Duration;
use tokio::task::AbortHandle;
use tokio::time::Instant;

/// Time between two batches of closed transports.
const BATCH_EVERY: Duration = Duration::from_millis(250);
/// How long the sockets may take to be gone once their transport closed.
const CLOSE_GRACE: Duration = Duration::from_secs(3);
/// How long events still being handled may take.
const WORK_GRACE: Duration = Duration::from_secs(10);
/// How long the last presence writes may take.
const PRESENCE_GRACE: Duration = Duration::from_secs(5);
/// How long the node stays registered after its last socket went, for its
/// users to reconnect elsewhere: `socket.io-client` tries again after 0.5
/// to 1.5 s by default. Users back by then are never announced offline.
const RECONNECT_GRACE: Duration = Duration::from_secs(3);

/// Drains the node; `spread` is `CHAT_DRAIN_SECONDS`. The heartbeat goes
/// on meanwhile (saying "draining") and is stopped before the node leaves
/// the registry, so that no late heartbeat registers it again.
pub async fn drain(cluster: &Cluster, spread: Duration, heartbeat: AbortHandle) {
    let started = Instant::now();
    let node = &cluster.node;
    registry::announce_draining(node, &cluster.store, &cluster.metrics).await;
    let sockets = cluster.rooms.local_sockets();
    tracing::info!(
        sockets = sockets.len(),
        spread_seconds = spread.as_secs_f64(),
        "draining: moving every socket to another node"
    );
    let live = cluster.store.live_nodes().await.unwrap_or_else(|err| {
        tracing::warn!(error = %err, "cannot read the registry; clients are sent to the configured nodes");
        Vec::new()
    });
    let elsewhere: Vec<_> = live
        .into_iter()
        .filter(|other| other.id != *node.presence.node())
        .collect();
    for &socket in &sockets {
        let Some(session) = cluster.rooms.session(socket) else {
            continue;
        };
        let url = node.locator.node_for(&session.up, &elsewhere).to_owned();
        if let Err(err) = cluster
            .rooms
            .emit_to(socket, &Outgoing::Migrate(Migrate { url }))
        {
            tracing::debug!(error = %err, "could not tell a socket where to go");
        }
    }
    close_in_batches(cluster, &sockets, spread).await;
    wait_until(CLOSE_GRACE, || cluster.rooms.local_sockets().is_empty()).await;
    if !node.lifecycle.settle(WORK_GRACE).await {
        tracing::warn!("gave up waiting for the events still being handled");
    }
    wait_until(PRESENCE_GRACE, || node.presence.unsettled() == 0).await;
    if !sockets.is_empty() {
        tokio::time::sleep(RECONNECT_GRACE).await;
    }
    heartbeat.abort();
    leave_registry(cluster).await;
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        left = cluster.rooms.local_sockets().len(),
        "drained"
    );
}

/// Closes the transports of `sockets`, an equal share every
/// [`BATCH_EVERY`] over `spread`. The first batch waits one step too, which
/// gives a load balancer's health check a moment to see the node draining.
async fn close_in_batches(cluster: &Cluster, sockets: &[Sid], spread: Duration) {
    let batches = (spread.as_millis() / BATCH_EVERY.as_millis()).max(1) as usize;
    let per_batch = sockets.len().div_ceil(batches).max(1);
    let start = Instant::now();
    for (index, batch) in sockets.chunks(per_batch).enumerate() {
        let at = start + spread.mul_f64((index + 1) as f64 / batches as f64);
        tokio::time::sleep_until(at).await;
        for &socket in batch {
            let handshake = || cluster.rooms.handshake_connection(socket);
            if !cluster.node.transports.close(socket, handshake) {
                tracing::debug!(socket = %socket, "no connection known for a socket; it goes when the node closes");
            }
        }
    }
}

/// Takes this node out of the registry; the users it alone held are
/// announced offline.
async fn leave_registry(cluster: &Cluster) {
    match cluster
        .store
        .remove_node(cluster.node.presence.node())
        .await
    {
        Ok(removal) => registry::announce_removal(cluster, removal).await,
        Err(err) => {
            tracing::warn!(error = %err, "cannot leave the node registry; the other nodes will reap this one")
        }
    }
}

/// Polls `done` until it holds, for at most `limit`.
async fn wait_until(limit: Duration, done: impl Fn() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
