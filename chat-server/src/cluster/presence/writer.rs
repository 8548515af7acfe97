//! The task that writes this node's presence changes to the store, a batch
//! at a time, and announces every cluster-wide transition the store
//! reports (see the parent module).
//!
//! A batch the store cannot take (it is unreachable, or answers 5xx) is
//! tried again with a growing, jittered wait (so that every node does not
//! come back at the same instant after a store outage); after
//! [`GIVE_UP_AFTER`] it goes back into the pending set, merged with what
//! changed meanwhile, and is taken again.

use super::announce;
use super::pace::RoomPace;
use crate::cluster::Cluster;
use backon::{ExponentialBuilder, Retryable};
use std::time::Duration;

/// How long one batch is tried before it is taken again with what changed
/// meanwhile.
const GIVE_UP_AFTER: Duration = Duration::from_secs(30);

/// The waits between attempts at one batch.
fn backoff() -> ExponentialBuilder {
    ExponentialBuilder::new()
        .with_jitter()
        .with_min_delay(Duration::from_millis(250))
        .with_max_delay(Duration::from_secs(5))
        .without_max_times()
        .with_total_delay(Some(GIVE_UP_AFTER))
}

/// Writes this node's presence changes for as long as the node runs.
pub async fn run(cluster: Cluster) {
    let presence = &cluster.node.presence;
    loop {
        let batch = presence.take_batch(cluster.node.lifecycle.is_draining());
        if batch.is_empty() {
            presence.queued().await;
            continue;
        }
        let sent = (|| cluster.store.node_presence(presence.node(), &batch))
            .retry(backoff())
            .when(|err| err.may_succeed_later())
            .notify(|err, wait| {
                let users = batch.joined.len() + batch.left.len();
                tracing::warn!(users, error = %err, retry_in = ?wait, "cannot record presence; retrying");
            })
            .await;
        match sent {
            Ok(changes) => {
                let mut pace = RoomPace::default();
                for told in presence.apply(&batch, changes.items) {
                    let (change, rooms) = (told.change, told.rooms);
                    if pace.must_drain_before(&rooms) {
                        // The sockets' writers run before the next notice.
                        tokio::task::yield_now().await;
                    }
                    let who = &change.audience;
                    if change.online {
                        announce::online(&*cluster.rooms, &cluster.metrics, &change.up, rooms, who)
                            .await;
                    } else {
                        let last_seen = change.last_seen.unwrap_or_else(chrono::Utc::now);
                        announce::offline(
                            &*cluster.rooms,
                            &cluster.metrics,
                            &change.up,
                            rooms,
                            Some(last_seen),
                            who,
                        )
                        .await;
                    }
                }
            }
            Err(err) => {
                presence.release(&batch);
                tracing::error!(error = %err, "cannot record presence; the batch waits for the next attempt");
                if !err.may_succeed_later() {
                    // A refusal is not cured by asking again at once.
                    tokio::time::sleep(GIVE_UP_AFTER).await;
                }
            }
        }
    }
}
