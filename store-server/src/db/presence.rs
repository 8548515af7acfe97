//! Who is online across the chat cluster: each user document lists the
//! nodes where the user has a socket (`nodes`).
//!
//! A node adds itself when a user's first socket arrives on it and takes
//! itself out when the last one leaves. Both are single atomic updates, and
//! each answers whether it moved the user between online and offline for the
//! whole cluster, so that exactly one node announces each transition.
//! Queries of who is online count only live nodes, so a node that died
//! stops counting at once, before it is reaped.

use super::{Store, db_error};
use crate::db::documents::{GroupDoc, to_chrono};
use chat_wire::cluster::{GroupPresence, NodeId, OfflineUser, PresenceChange};
use chat_wire::ids::Up;
use futures::{StreamExt, TryStreamExt};
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, Document, doc};
use mongodb::options::ReturnDocument;
use service_kit::ApiError;

/// Users taken offline at once when a node is cleared.
const CONCURRENT_CLEARS: usize = 16;

/// Whether a user document lists no node.
fn no_nodes(user: &Document) -> bool {
    user.get_array("nodes")
        .map_or(true, |nodes| nodes.is_empty())
}

impl Store {
    /// `up` has a socket on `node`.
    pub async fn user_joined_node(
        &self,
        node: &NodeId,
        up: &Up,
    ) -> Result<PresenceChange, ApiError> {
        let before = self
            .users
            .clone_with_type::<Document>()
            .find_one_and_update(
                doc! {"_id": up.as_str()},
                doc! {
                    "$addToSet": {"nodes": node.as_str()},
                    "$set": {"online": true},
                    "$setOnInsert": {"username": up.as_str(), "name": ""},
                },
            )
            .upsert(true)
            .return_document(ReturnDocument::Before)
            .await
            .map_err(db_error)?;
        Ok(PresenceChange {
            up: up.clone(),
            online: true,
            changed: before.as_ref().is_none_or(no_nodes),
            last_seen: None,
        })
    }

    /// `up` has no socket left on `node`.
    pub async fn user_left_node(&self, node: &NodeId, up: &Up) -> Result<PresenceChange, ApiError> {
        let after = self
            .users
            .clone_with_type::<Document>()
            .find_one_and_update(
                doc! {"_id": up.as_str(), "nodes": node.as_str()},
                doc! {"$pull": {"nodes": node.as_str()}},
            )
            .return_document(ReturnDocument::After)
            .await
            .map_err(db_error)?;
        let unchanged = |online| PresenceChange {
            up: up.clone(),
            online,
            changed: false,
            last_seen: None,
        };
        match after {
            None => {
                let user = self
                    .users
                    .find_one(doc! {"_id": up.as_str()})
                    .await
                    .map_err(db_error)?;
                Ok(unchanged(user.is_some_and(|user| !user.nodes.is_empty())))
            }
            Some(user) if !no_nodes(&user) => Ok(unchanged(true)),
            Some(_) => {
                let now = DateTime::now();
                // Offline only if no node came in since the pull; the node
                // that came in has announced the user online.
                let went = self
                    .users
                    .update_one(
                        doc! {"_id": up.as_str(), "nodes": {"$size": 0}, "online": true},
                        doc! {"$set": {"online": false, "lastSeen": now}},
                    )
                    .await
                    .map_err(db_error)?;
                let changed = went.modified_count == 1;
                Ok(PresenceChange {
                    up: up.clone(),
                    online: !changed && self.user(up).await?.online,
                    changed,
                    last_seen: changed.then(|| to_chrono(now)),
                })
            }
        }
    }

    /// Takes `node` out of every user's presence; returns who went offline.
    pub async fn clear_node_presence(&self, node: &NodeId) -> Result<Vec<OfflineUser>, ApiError> {
        let users: Vec<Document> = self
            .users
            .clone_with_type::<Document>()
            .find(doc! {"nodes": node.as_str()})
            .projection(doc! {"_id": 1})
            .await
            .map_err(db_error)?
            .try_collect()
            .await
            .map_err(db_error)?;
        let ups: Vec<Up> = users
            .iter()
            .filter_map(|user| Up::parse(user.get_str("_id").ok()?).ok())
            .collect();
        let changes: Vec<PresenceChange> = futures::stream::iter(ups)
            .map(|up| async move { self.user_left_node(node, &up).await })
            .buffer_unordered(CONCURRENT_CLEARS)
            .try_collect()
            .await?;
        Ok(changes
            .into_iter()
            .filter_map(|change| {
                Some(OfflineUser {
                    last_seen: change.last_seen.filter(|_| change.changed)?,
                    up: change.up,
                })
            })
            .collect())
    }

    /// A group and its members online on a live node.
    pub async fn group_presence(&self, id: ObjectId) -> Result<GroupPresence, ApiError> {
        let group: GroupDoc = self.group(id).await?;
        let live = self.live_node_ids().await?;
        let members: Vec<&str> = group.users.iter().map(Up::as_str).collect();
        let online: Vec<Document> = self
            .users
            .clone_with_type::<Document>()
            .find(doc! {"_id": {"$in": members}, "nodes": {"$in": live}})
            .projection(doc! {"_id": 1})
            .await
            .map_err(db_error)?
            .try_collect()
            .await
            .map_err(db_error)?;
        let online: std::collections::HashSet<&str> = online
            .iter()
            .filter_map(|user| user.get_str("_id").ok())
            .collect();
        // In the group's member order, which is stable for clients.
        let online = group
            .users
            .iter()
            .filter(|up| online.contains(up.as_str()))
            .cloned()
            .collect();
        Ok(GroupPresence {
            group: group.into(),
            online,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_without_the_nodes_field_has_no_node() {
        assert!(no_nodes(&doc! {"_id": "up1"}));
        assert!(no_nodes(&doc! {"_id": "up1", "nodes": []}));
        assert!(!no_nodes(&doc! {"_id": "up1", "nodes": ["a"]}));
    }
}
