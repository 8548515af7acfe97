//! Read markers: the newest message each user has read in each group.
//!
//! A marker only moves forward: an older `read` than the current one is
//! accepted and changes nothing. Unread counts are the group's message count
//! minus the marker's `seq` (or minus what the retention sweep deleted, if
//! that is more), so they cost one lookup, not a scan. Sending a
//! message moves the sender's marker to it before the sender is answered.

use super::documents::{ReadDoc, collections, entity_id, read_key};
use super::groups::unread_count;
use super::{Store, db_error, is_duplicate_key};
use crate::retention::history::{CursorAt, held_fields};
use chat_wire::ids::Up;
use chat_wire::requests::ReadState;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Document, doc};
use service_kit::ApiError;

/// A marker to move forward: `up` has read `group` up to `message`.
#[derive(Debug, Clone)]
pub struct ReadMarker<'a> {
    /// The group.
    pub group: ObjectId,
    /// The reader.
    pub up: &'a Up,
    /// The number of the message read.
    pub seq: i64,
    /// The message read.
    pub message: ObjectId,
}

impl Store {
    /// Marks `message` and everything before it as read by `up`. A message
    /// the retention sweep deleted reads as the newest swept one: the
    /// marker moves to at least there, with that id.
    pub async fn mark_read(
        &self,
        group: ObjectId,
        up: &Up,
        message: ObjectId,
    ) -> Result<ReadState, ApiError> {
        // One read of the group: membership, whether it is a blocked
        // direct group, and what it holds.
        let mut fields = doc! {"kind": 1, "users": 1};
        fields.extend(held_fields());
        let found = self.member_group(group, up, fields).await?;
        let quiet = self.refusal_in(&found, up).await?.is_some();
        let held = self.held_in(group, &found).await?;
        let seq = match self.cursor_at(group, &held, message).await? {
            CursorAt::Seq(seq) => seq,
            CursorAt::Swept => held.through(),
        };
        self.advance_read_marker(group, up, seq, message).await?;
        let marker = self
            .reads
            .find_one(doc! {"_id": read_key(&group, up)})
            .await
            .map_err(db_error)?
            .ok_or_else(|| {
                ApiError::Internal(anyhow::anyhow!("read marker missing after upsert"))
            })?;
        let unread = unread_count(held.newest, marker.seq.max(held.through()));
        // Nothing unread, nothing to count: most reads reach the newest message.
        let mentions = match unread > 0 {
            true => self.unread_mentions(up, &[(group, marker.seq)]).await?,
            false => Default::default(),
        };
        Ok(ReadState {
            group: entity_id(group),
            up: up.clone(),
            message_id: entity_id(marker.message_id),
            unread,
            mentions: mentions.get(&group).copied().unwrap_or(0),
            quiet,
        })
    }

    /// Moves several markers forward in one unordered `update`. A marker
    /// already further on makes its upsert collide, which is expected and
    /// ignored.
    pub async fn advance_read_markers(&self, markers: &[ReadMarker<'_>]) -> Result<(), ApiError> {
        if markers.is_empty() {
            return Ok(());
        }
        let updates: Vec<Document> = markers
            .iter()
            .map(|m| {
                let key = read_key(&m.group, m.up);
                doc! {
                    "q": {"_id": &key, "seq": {"$lt": m.seq}},
                    "u": {"$set": {"_id": &key, "group": m.group, "up": m.up.as_str(), "seq": m.seq, "messageId": m.message}},
                    "upsert": true,
                }
            })
            .collect();
        self.run_updates(collections::READS, updates).await?;
        Ok(())
    }

    /// Moves the marker of `up` in `group` to `seq` unless it is already
    /// there or further.
    pub async fn advance_read_marker(
        &self,
        group: ObjectId,
        up: &Up,
        seq: i64,
        message: ObjectId,
    ) -> Result<(), ApiError> {
        let key = read_key(&group, up);
        let marker = ReadDoc {
            key: key.clone(),
            group,
            up: up.clone(),
            seq,
            message_id: message,
        };
        let set = mongodb::bson::to_document(&marker)
            .map_err(|err| ApiError::Internal(anyhow::Error::new(err)))?;
        let result = self
            .reads
            .update_one(doc! {"_id": &key, "seq": {"$lt": seq}}, doc! {"$set": set})
            .upsert(true)
            .await;
        match result {
            // The marker exists at `seq` or beyond: the upsert collided with it.
            Err(err) if is_duplicate_key(&err) => Ok(()),
            Err(err) => Err(db_error(err)),
            Ok(_) => Ok(()),
        }
    }
}
