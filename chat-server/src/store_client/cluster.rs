//! Store calls about the cluster: the node registry, which node holds which
//! user, and the pairing queues.

use super::StoreClient;
use chat_wire::cluster::{
    JoinQueue, Node, NodeHeartbeat, NodeId, NodeList, NodeRegistration, NodeRemoval, PresenceBatch,
    PresenceChanges, QueueLeft, QueueOutcome, SocketId,
};
use reqwest::Method;
use service_kit::ApiError;

impl StoreClient {
    /// Sends this node's heartbeat.
    pub async fn heartbeat(
        &self,
        id: &NodeId,
        beat: &NodeHeartbeat,
    ) -> Result<NodeRegistration, ApiError> {
        let request = self.request(Method::PUT, &["node", id.as_str()]).json(beat);
        self.call("heartbeat", request).await
    }

    /// The live nodes.
    pub async fn live_nodes(&self) -> Result<Vec<Node>, ApiError> {
        let list: NodeList = self
            .call("live_nodes", self.request(Method::GET, &["node"]))
            .await?;
        Ok(list.items)
    }

    /// Removes a node and its presence; answers who went offline.
    pub async fn remove_node(&self, id: &NodeId) -> Result<NodeRemoval, ApiError> {
        let request = self.request(Method::DELETE, &["node", id.as_str()]);
        self.call("remove_node", request).await
    }

    /// Removes the nodes whose heartbeat stopped; answers who went offline.
    pub async fn reap_nodes(&self) -> Result<NodeRemoval, ApiError> {
        let request = self.request(Method::POST, &["node", "reap"]);
        self.call("reap_nodes", request).await
    }

    /// Records `node`'s presence changes; one change per listed user.
    pub async fn node_presence(
        &self,
        node: &NodeId,
        batch: &PresenceBatch,
    ) -> Result<PresenceChanges, ApiError> {
        let path = ["node", node.as_str(), "users"];
        self.call(
            "node_presence",
            self.request(Method::POST, &path).json(batch),
        )
        .await
    }

    /// Queues a socket, or pairs it.
    pub async fn enqueue(&self, request: &JoinQueue) -> Result<QueueOutcome, ApiError> {
        let call = self.request(Method::POST, &["queue"]).json(request);
        self.call("enqueue", call).await
    }

    /// Takes a socket out of the queues.
    pub async fn dequeue(&self, socket: &SocketId) -> Result<QueueLeft, ApiError> {
        let request = self.request(Method::DELETE, &["queue", socket.as_str()]);
        self.call("dequeue", request).await
    }
}
