//! Which node posts the offline notifications of the messages created
//! through the store: every node applies every change to its own sockets,
//! but a notification must go out once for the whole cluster.
//!
//! With the local adapter the node is alone, and notifies. With several
//! nodes, the live node with the smallest id in the registry does (every
//! node reads the same registry, so they agree but for the few seconds
//! after a node joins, leaves or dies). The registry is read at most every
//! [`REFRESH`], only when a message needs notifying; if it cannot be read,
//! the last answer stands (at first: this node notifies, since a
//! notification twice is better than none).

use crate::store_client::StoreClient;
use chat_wire::cluster::{Node, NodeId};
use std::time::{Duration, Instant};

/// How long an answer read from the registry is used.
pub const REFRESH: Duration = Duration::from_secs(2);

/// Whether this node notifies.
#[derive(Debug)]
pub struct NotifyingNode {
    own: NodeId,
    /// Alone (the local adapter): always this node.
    alone: bool,
    /// The last answer and when it was read.
    known: Option<(bool, Instant)>,
}

impl NotifyingNode {
    /// The role of node `own`, `alone` with the local adapter.
    pub fn new(own: NodeId, alone: bool) -> Self {
        Self {
            own,
            alone,
            known: None,
        }
    }

    /// Whether this node posts the notifications now.
    pub async fn is_this_node(&mut self, store: &StoreClient) -> bool {
        if self.alone {
            return true;
        }
        if let Some((answer, read)) = self.known
            && read.elapsed() < REFRESH
        {
            return answer;
        }
        let answer = match store.live_nodes().await {
            Ok(live) => notifies(&self.own, &live),
            Err(err) => {
                let last = self.known.is_none_or(|(answer, _)| answer);
                tracing::warn!(error = %err, notifies = last, "cannot read the node registry to tell which node notifies");
                last
            }
        };
        self.known = Some((answer, Instant::now()));
        answer
    }
}

/// Whether `own` is the live node with the smallest id (or no node is
/// listed, this one not yet either).
fn notifies(own: &NodeId, live: &[Node]) -> bool {
    live.iter()
        .map(|node| &node.id)
        .min()
        .is_none_or(|first| first == own)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str) -> Node {
        Node {
            id: NodeId::parse(id).unwrap(),
            url: format!("http://{id}:8080"),
            draining: false,
            connections: 0,
            seen_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn the_live_node_with_the_smallest_id_notifies() {
        let live = [node("node1"), node("node0"), node("node2")];
        assert!(notifies(&NodeId::parse("node0").unwrap(), &live));
        assert!(!notifies(&NodeId::parse("node1").unwrap(), &live));
        assert!(notifies(&NodeId::parse("node1").unwrap(), &[]));
    }
}
