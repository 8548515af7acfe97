//! Read markers: the newest message each user has read in each group.
//!
//! A marker only moves forward: an older `read` than the current one is
//! accepted and changes nothing. Unread counts are the group's message count
//! minus the marker's `seq`, so they cost one lookup, not a scan. Markers
//! moved by sending are written behind (`write_behind`) and merged in here.

use super::documents::{ReadDoc, entity_id, read_key};
use super::groups::unread_count;
use super::{Store, db_error, is_duplicate_key};
use chat_wire::ids::Up;
use chat_wire::requests::ReadState;
use mongodb::bson::doc;
use mongodb::bson::oid::ObjectId;
use service_kit::ApiError;

impl Store {
    /// Marks `message` and everything before it as read by `up`.
    pub async fn mark_read(
        &self,
        group: ObjectId,
        up: &Up,
        message: ObjectId,
    ) -> Result<ReadState, ApiError> {
        self.require_member(group, up).await?;
        let read = self.message(message).await?;
        if read.group != group {
            return Err(ApiError::InvalidArgument(format!(
                "message {} is not in group {}",
                entity_id(message),
                entity_id(group)
            )));
        }
        self.advance_read_marker(group, up, read.seq, message)
            .await?;
        // Pending first, stored second (see `WriteBehind::flush`).
        let pending = self.pending.marker(group, up);
        let marker = self
            .reads
            .find_one(doc! {"_id": read_key(&group, up)})
            .await
            .map_err(db_error)?
            .ok_or_else(|| {
                ApiError::Internal(anyhow::anyhow!("read marker missing after upsert"))
            })?;
        // A sender's own newer message may still be pending (write_behind).
        let (seq, message_id) = match pending {
            Some((seq, id)) if seq > marker.seq => (seq, id),
            _ => (marker.seq, marker.message_id),
        };
        let count = self.message_count(group).await?;
        Ok(ReadState {
            group: entity_id(group),
            up: up.clone(),
            message_id: entity_id(message_id),
            unread: unread_count(count, seq),
        })
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
