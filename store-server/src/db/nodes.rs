//! The chat nodes' registry (`nodes`): heartbeats, the live nodes, and
//! removing a node together with the presence and queue places it held.
//!
//! A node is live while its last heartbeat is at most
//! [`NODE_TTL_SECONDS`] old. Any chat node may reap an expired one: the
//! node is first marked `reaping`, then its users are taken offline one by
//! one (each atomically, so each transition is reported to exactly one
//! caller however many reap at once), then the document goes. A heartbeat
//! that finds its node marked or gone answers `created`, telling the node
//! to register its users again: a node that was only slow loses nothing
//! for long.

use super::{Store, db_error};
use crate::db::documents::to_chrono;
use chat_wire::cluster::{
    NODE_TTL_SECONDS, Node, NodeHeartbeat, NodeId, NodeRegistration, NodeRemoval,
};
use futures::TryStreamExt;
use mongodb::bson::{DateTime, Document, doc};
use mongodb::options::ReturnDocument;
use serde::{Deserialize, Serialize};
use service_kit::ApiError;

/// A node in the `nodes` collection.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeDoc {
    /// The node id.
    #[serde(rename = "_id")]
    pub id: NodeId,
    /// Its public URL.
    pub url: String,
    /// Whether it is draining.
    pub draining: bool,
    /// Its open connections.
    pub connections: i64,
    /// Its last heartbeat.
    pub seen_at: DateTime,
    /// Set while a reaper takes its users offline.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reaping: bool,
}

impl From<NodeDoc> for Node {
    fn from(doc: NodeDoc) -> Self {
        Node {
            id: doc.id,
            url: doc.url,
            draining: doc.draining,
            connections: u64::try_from(doc.connections).unwrap_or(0),
            seen_at: to_chrono(doc.seen_at),
        }
    }
}

/// The oldest heartbeat of a live node.
fn live_since(now: DateTime) -> DateTime {
    DateTime::from_millis(now.timestamp_millis() - NODE_TTL_SECONDS * 1000)
}

impl Store {
    /// Records a heartbeat; `created` when the registry did not know the
    /// node or was reaping it.
    pub async fn heartbeat(
        &self,
        id: &NodeId,
        beat: &NodeHeartbeat,
    ) -> Result<NodeRegistration, ApiError> {
        let now = DateTime::now();
        let connections = i64::try_from(beat.connections).unwrap_or(i64::MAX);
        let before = self
            .nodes
            .clone_with_type::<Document>()
            .find_one_and_update(
                doc! {"_id": id.as_str()},
                doc! {
                    "$set": {"url": &beat.url, "draining": beat.draining, "connections": connections, "seenAt": now},
                    "$unset": {"reaping": ""},
                },
            )
            .upsert(true)
            .return_document(ReturnDocument::Before)
            .await
            .map_err(db_error)?;
        let created = before.is_none_or(|doc| doc.get_bool("reaping").unwrap_or(false));
        let node = NodeDoc {
            id: id.clone(),
            url: beat.url.clone(),
            draining: beat.draining,
            connections,
            seen_at: now,
            reaping: false,
        };
        Ok(NodeRegistration {
            node: node.into(),
            created,
        })
    }

    /// The live nodes, by id.
    pub async fn live_nodes(&self) -> Result<Vec<Node>, ApiError> {
        let since = live_since(DateTime::now());
        let nodes: Vec<NodeDoc> = self
            .nodes
            .find(doc! {"seenAt": {"$gte": since}})
            .sort(doc! {"_id": 1})
            .await
            .map_err(db_error)?
            .try_collect()
            .await
            .map_err(db_error)?;
        Ok(nodes.into_iter().map(Node::from).collect())
    }

    /// The ids of the live nodes.
    pub async fn live_node_ids(&self) -> Result<Vec<String>, ApiError> {
        Ok(self
            .live_nodes()
            .await?
            .into_iter()
            .map(|node| node.id.into())
            .collect())
    }

    /// Removes a node that stopped cleanly: its users without another
    /// socket go offline.
    pub async fn remove_node(&self, id: &NodeId) -> Result<NodeRemoval, ApiError> {
        let offline = self.clear_node(id).await?;
        self.nodes
            .delete_one(doc! {"_id": id.as_str()})
            .await
            .map_err(db_error)?;
        Ok(NodeRemoval { offline })
    }

    /// Removes every node whose heartbeat expired, with what it held.
    pub async fn reap_expired_nodes(&self) -> Result<NodeRemoval, ApiError> {
        let expired: Vec<NodeDoc> = self
            .nodes
            .find(doc! {"seenAt": {"$lt": live_since(DateTime::now())}})
            .await
            .map_err(db_error)?
            .try_collect()
            .await
            .map_err(db_error)?;
        let mut offline = Vec::new();
        for node in expired {
            let claimed = self
                .nodes
                .find_one_and_update(
                    doc! {"_id": node.id.as_str(), "seenAt": {"$lt": live_since(DateTime::now())}},
                    doc! {"$set": {"reaping": true}},
                )
                .return_document(ReturnDocument::After)
                .await
                .map_err(db_error)?;
            if claimed.is_none() {
                continue; // it came back meanwhile
            }
            tracing::info!(node = %node.id, url = %node.url, "reaping a chat node whose heartbeat stopped");
            offline.extend(self.clear_node(&node.id).await?);
            // Gone only if no heartbeat cleared the mark meanwhile.
            self.nodes
                .delete_one(doc! {"_id": node.id.as_str(), "reaping": true})
                .await
                .map_err(db_error)?;
        }
        Ok(NodeRemoval { offline })
    }

    /// Takes a node out of every user's presence and every queue; returns
    /// the users this left offline.
    async fn clear_node(
        &self,
        id: &NodeId,
    ) -> Result<Vec<chat_wire::cluster::OfflineUser>, ApiError> {
        let offline = self.clear_node_presence(id).await?;
        self.leave_queues_of_node(id).await?;
        Ok(offline)
    }
}
