//! Which of a group's messages the store still holds, and what a cursor
//! that names a swept message means.
//!
//! The sweep deletes a group's messages from the oldest on, so the held
//! ones are always the numbers `through + 1 ..= newest`: pages read that
//! range and nothing below it, `total` counts it, and an unread count
//! never counts what is gone. A cursor naming a message that is gone is
//! not an error: everything before it is gone too, so `after` it reads
//! from the oldest message held and `before` it reads nothing.

use super::progress::SweepDoc;
use crate::db::documents::entity_id;
use crate::db::groups::group_not_found;
use crate::db::messages::message_not_found;
use crate::db::{Store, db_error};
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Document, doc};
use service_kit::ApiError;

/// The fields of a group document that say what it holds ([`Store::held_in`]).
pub fn held_fields() -> Document {
    doc! {"messageCount": 1, "sweep": 1}
}

/// The messages of a group the store holds: numbers `through + 1 ..= newest`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Held {
    /// The newest message's number (the group's count).
    pub newest: i64,
    /// What the sweep has deleted.
    pub sweep: SweepDoc,
}

impl Held {
    /// The number of the newest swept message (0: none).
    pub fn through(&self) -> i64 {
        self.sweep.through
    }

    /// How many messages are held (soft-deleted ones included).
    pub fn count(&self) -> i64 {
        self.newest.saturating_sub(self.through()).max(0)
    }
}

/// Where a cursor message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorAt {
    /// A held message, with its number.
    Seq(i64),
    /// A message the sweep deleted: everything before it is gone too.
    Swept,
}

impl Store {
    /// What the store holds of `group`, or `not_found`.
    pub async fn held(&self, group: ObjectId) -> Result<Held, ApiError> {
        let found = self
            .groups_raw()
            .find_one(doc! {"_id": group})
            .projection(held_fields())
            .await
            .map_err(db_error)?
            .ok_or_else(|| group_not_found(group))?;
        self.held_in(group, &found).await
    }

    /// What the store holds of `group`, already read with [`held_fields`].
    pub async fn held_in(&self, group: ObjectId, found: &Document) -> Result<Held, ApiError> {
        let counted = found.get_i64("messageCount").unwrap_or(0);
        Ok(Held {
            newest: self.newest_seq_above(group, counted).await?,
            sweep: sweep_of(found)?,
        })
    }

    /// Where the cursor message `id` of `group` is: `invalid_argument` if
    /// it is a message of another group, `not_found` if it is no message
    /// and cannot have been a swept one.
    pub async fn cursor_at(
        &self,
        group: ObjectId,
        held: &Held,
        id: ObjectId,
    ) -> Result<CursorAt, ApiError> {
        let found = self
            .messages_raw()
            .find_one(doc! {"_id": id})
            .projection(doc! {"group": 1, "seq": 1})
            .await
            .map_err(db_error)?;
        let Some(found) = found else {
            return if held.sweep.may_hold(id) {
                Ok(CursorAt::Swept)
            } else {
                Err(message_not_found(id))
            };
        };
        if found.get_object_id("group").ok() != Some(group) {
            return Err(ApiError::InvalidArgument(format!(
                "message {} is not in group {}",
                entity_id(id),
                entity_id(group)
            )));
        }
        let seq = found.get_i64("seq").unwrap_or(0);
        // Swept, and not deleted yet (the sweep deletes just after it moves
        // `through`): gone all the same.
        Ok(if seq <= held.through() {
            CursorAt::Swept
        } else {
            CursorAt::Seq(seq)
        })
    }
}

/// The `sweep` of a group document read as plain BSON.
pub fn sweep_of(group: &Document) -> Result<SweepDoc, ApiError> {
    match group.get_document("sweep") {
        Ok(sweep) => mongodb::bson::from_document(sweep.clone()).map_err(|err| {
            ApiError::Internal(anyhow::Error::new(err).context("reading a group's sweep"))
        }),
        Err(_) => Ok(SweepDoc::default()),
    }
}
