//! Mentions: who a message names (computed when it is stored or edited,
//! from its group's members), and how many unread messages mention a
//! user in each of their groups.

use super::{Store, db_error};
use chat_wire::ids::Up;
use chat_wire::mentions::mentioned;
use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Document, doc};
use service_kit::ApiError;
use std::collections::HashMap;

/// The most unread mentions counted per call; a badge shows "99+" long
/// before.
const MAX_COUNTED: i64 = 10_000;

impl Store {
    /// The members of `group` that `text` mentions.
    pub async fn mentions_in(&self, group: ObjectId, text: &str) -> Result<Vec<Up>, ApiError> {
        if !text.contains('@') {
            return Ok(Vec::new());
        }
        let members = self.group(group).await?.users;
        Ok(mentioned(text, |up| members.contains(up)))
    }

    /// For each `(group, read seq)`, how many messages after the read one
    /// mention `up` (deleted ones and `up`'s own aside). Groups without
    /// any are left out.
    pub async fn unread_mentions(
        &self,
        up: &Up,
        reads: &[(ObjectId, i64)],
    ) -> Result<HashMap<ObjectId, u64>, ApiError> {
        if reads.is_empty() {
            return Ok(HashMap::new());
        }
        let after_read: Vec<Document> = reads
            .iter()
            .map(|(group, seq)| doc! {"group": group, "seq": {"$gt": seq}})
            .collect();
        let found: Vec<Document> = self
            .messages
            .clone_with_type::<Document>()
            .find(doc! {
                "mentions": up.as_str(),
                "deleted": false,
                "from": {"$ne": up.as_str()},
                "$or": after_read,
            })
            .projection(doc! {"group": 1})
            .limit(MAX_COUNTED)
            .await
            .map_err(db_error)?
            .try_collect()
            .await
            .map_err(db_error)?;
        let mut counts = HashMap::new();
        for group in found.iter().filter_map(|d| d.get_object_id("group").ok()) {
            *counts.entry(group).or_insert(0) += 1;
        }
        Ok(counts)
    }
}
