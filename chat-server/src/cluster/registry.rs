//! This node in the node registry: a heartbeat every few seconds, and
//! reaping the nodes whose heartbeat stopped.
//!
//! Until its first heartbeat is recorded the node takes no sockets (see
//! [`super::lifecycle::Lifecycle::accepts_sockets`]), so the registry knows
//! every node that holds presence. A node started again with the same
//! `CHAT_NODE_ID` first clears what its previous life left behind. Every
//! node reaps: the store hands each user of a dead node to exactly one
//! reaper, which announces them offline, within about 20 s of the node's
//! last heartbeat.

use super::presence::announce;
use super::{Cluster, Node};
use crate::metrics::ChatMetrics;
use crate::store_client::StoreClient;
use backon::{ExponentialBuilder, Retryable};
use chat_wire::cluster::{MAX_GROUP_IDS_USERS, NodeHeartbeat, NodeRemoval};
use service_kit::ApiError;
use std::time::Duration;

/// Time between two heartbeats (the registry counts a node live for 15 s).
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(5);
/// The waits between attempts at registering while the store is out of
/// reach at start: jittered, so nodes started together do not retry in
/// step, and without end (the node is not ready until it is registered).
fn start_backoff() -> ExponentialBuilder {
    ExponentialBuilder::new()
        .with_jitter()
        .with_min_delay(Duration::from_millis(250))
        .with_max_delay(Duration::from_secs(5))
        .without_max_times()
}

/// Registers this node, then beats and reaps until the task is aborted.
pub async fn run(cluster: Cluster) {
    let registered = (|| clear_previous_life(&cluster))
        .retry(start_backoff())
        .when(ApiError::may_succeed_later)
        .notify(|err, wait| {
            tracing::warn!(error = %err, retry_in = ?wait, "cannot reach the node registry; retrying");
        })
        .await;
    if let Err(err) = registered {
        // The store refused the registration itself: nothing will change
        // that; the task ends and the node stays unready with the reason.
        tracing::error!(error = %err, "the node registry refused this node");
        return;
    }
    beat_and_reap(&cluster).await;
}

async fn beat_and_reap(cluster: &Cluster) {
    let mut ticks = tokio::time::interval(HEARTBEAT_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        ticks.tick().await;
        match beat(cluster).await {
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
        if !failing && let Err(err) = reap(cluster).await {
            tracing::warn!(error = %err, "cannot reap the dead nodes");
        }
    }
}

/// Sends a heartbeat now (also when the node starts draining, so that the
/// dispatcher stops choosing it at once).
pub async fn beat(cluster: &Cluster) -> Result<(), ApiError> {
    beat_from(&cluster.node, &cluster.store, &cluster.metrics).await
}

/// Enters the draining state and tells the registry at once, so that the
/// dispatcher stops choosing this node; only the first call does (a drain
/// asked for by `POST /admin/drain`, then run, tells it once). The
/// heartbeat goes on saying it meanwhile.
pub async fn announce_draining(node: &Node, store: &StoreClient, metrics: &ChatMetrics) {
    if !node.lifecycle.set_draining() {
        return;
    }
    if let Err(err) = beat_from(node, store, metrics).await {
        tracing::warn!(error = %err, "cannot tell the registry this node is draining");
    }
}

/// [`beat`] from the parts of the cluster it needs.
async fn beat_from(
    node: &Node,
    store: &StoreClient,
    metrics: &ChatMetrics,
) -> Result<(), ApiError> {
    let heartbeat = NodeHeartbeat {
        url: node.locator.own_url().to_owned(),
        draining: node.lifecycle.is_draining(),
        connections: u64::try_from(metrics.sockets.get()).unwrap_or(0),
    };
    let registration = store.heartbeat(node.presence.node(), &heartbeat).await?;
    if registration.created && node.lifecycle.is_registered() {
        // Taken for dead while alive (a long pause): its users were taken
        // offline, and are recorded again here.
        let users = node.presence.forget_recorded();
        tracing::warn!(
            users,
            "this node had been reaped as dead; recording its users again"
        );
    }
    node.lifecycle.set_registered();
    Ok(())
}

/// A node started with the id of an earlier one takes its place cleanly.
async fn clear_previous_life(cluster: &Cluster) -> Result<(), ApiError> {
    let removal = cluster
        .store
        .remove_node(cluster.node.presence.node())
        .await?;
    if !removal.offline.is_empty() {
        tracing::info!(
            users = removal.offline.len(),
            "cleared the presence left by an earlier run of this node"
        );
    }
    announce_removal(cluster, removal).await;
    beat(cluster).await
}

/// Reaps the nodes whose heartbeat stopped and announces their users offline.
async fn reap(cluster: &Cluster) -> Result<(), ApiError> {
    let removal = cluster.store.reap_nodes().await?;
    if !removal.offline.is_empty() {
        tracing::info!(
            users = removal.offline.len(),
            "users of a dead node went offline"
        );
    }
    announce_removal(cluster, removal).await;
    Ok(())
}

/// Announces offline each user a node removal left without a socket, to
/// the groups the store lists for them (read for many users at once).
pub async fn announce_removal(cluster: &Cluster, removal: NodeRemoval) {
    for users in removal.offline.chunks(MAX_GROUP_IDS_USERS) {
        let ups = users.iter().map(|user| user.up.clone()).collect();
        let groups_of = match cluster.store.group_ids_of_users(ups).await {
            Ok(answer) => answer.by_user(),
            Err(err) => {
                tracing::warn!(users = users.len(), error = %err, "cannot announce users of a removed node offline");
                continue;
            }
        };
        for user in users {
            let Some(ids) = groups_of.get(&user.up) else {
                continue;
            };
            let rooms = ids.iter().cloned().map(String::from).collect();
            announce::offline(
                &*cluster.rooms,
                &cluster.metrics,
                &user.up,
                rooms,
                Some(user.last_seen),
                &user.audience,
            )
            .await;
        }
    }
}
