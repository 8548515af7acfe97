//! The durable mark of a message whose creation nobody heard: the store
//! stored it, and the sender had stopped waiting for the answer. The mark
//! (`untold: true` on the message) lets the first retry, on any store
//! instance and after any restart, take it off and be told it created the
//! message, so that the message is broadcast once (see
//! `message_writer::unanswered`).

use super::{Store, db_error};
use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Document, doc};
use service_kit::ApiError;
use std::collections::HashSet;

impl Store {
    /// Marks the messages of `ids` as created with nobody told, in one
    /// write.
    pub async fn mark_untold(&self, ids: &[ObjectId]) -> Result<(), ApiError> {
        self.messages
            .update_many(doc! {"_id": {"$in": ids}}, doc! {"$set": {"untold": true}})
            .await
            .map_err(db_error)?;
        Ok(())
    }

    /// Takes the mark off those of `ids` that carry it; returns the ones
    /// whose mark this call took (each mark is taken once, whoever asks).
    /// One read when none is marked, the usual case.
    pub async fn take_untold(&self, ids: &[ObjectId]) -> Result<HashSet<ObjectId>, ApiError> {
        let marked: Vec<Document> = self
            .messages
            .clone_with_type::<Document>()
            .find(doc! {"_id": {"$in": ids}, "untold": true})
            .projection(doc! {"_id": 1})
            .await
            .map_err(db_error)?
            .try_collect()
            .await
            .map_err(db_error)?;
        let mut taken = HashSet::new();
        for id in marked
            .iter()
            .filter_map(|doc| doc.get_object_id("_id").ok())
        {
            let took = self
                .messages
                .update_one(
                    doc! {"_id": id, "untold": true},
                    doc! {"$unset": {"untold": ""}},
                )
                .await
                .map_err(db_error)?;
            if took.modified_count == 1 {
                taken.insert(id);
            }
        }
        Ok(taken)
    }
}
