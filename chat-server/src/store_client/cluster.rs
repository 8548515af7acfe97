//! Store calls about the cluster: the node registry, which node holds which
//! user, and the pairing queues.

use super::StoreClient;
use chat_wire::cluster::{
    JoinQueue, Node, NodeHeartbeat, NodeId, NodeList, NodeRegistration, NodeRemoval,
    PresenceChange, QueueLeft, QueueOutcome, SocketId,
};
use chat_wire::ids::Up;
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

    /// `up` has a socket on `node` now.
    pub async fn user_joined_node(
        &self,
        node: &NodeId,
        up: &Up,
    ) -> Result<PresenceChange, ApiError> {
        let path = ["node", node.as_str(), "users", up.as_str()];
        self.call("user_joined_node", self.request(Method::PUT, &path))
            .await
    }

    /// `up` has no socket left on `node`.
    pub async fn user_left_node(&self, node: &NodeId, up: &Up) -> Result<PresenceChange, ApiError> {
        let path = ["node", node.as_str(), "users", up.as_str()];
        self.call("user_left_node", self.request(Method::DELETE, &path))
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
