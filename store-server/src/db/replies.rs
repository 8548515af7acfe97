//! Replies: the quote a reply takes of the message it answers, and keeping
//! every quote of a message up to date when it is edited or deleted.
//!
//! A quote is copied into the reply when it is sent, so a page of messages
//! costs no lookup of the originals. An edit of the original rewrites the
//! snippet of its replies, a delete empties it and marks it `deleted`; each
//! reply so changed gets a new `changedAt`, so `sync` and
//! `GET /group/{id}/changes` bring it to clients that hold it. The quotes
//! of messages the retention sweep deletes read as deleted ones, so no
//! snippet outlives its message.

use super::documents::{QuoteDoc, entity_id};
use super::messages::message_not_found;
use super::{Store, db_error};
use chat_wire::model::snippet_of;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, doc};
use service_kit::ApiError;

impl Store {
    /// The quote of `original` for a reply sent to `group`: it must be a
    /// message of that group (`not_found`, `invalid_argument`), not
    /// deleted (`invalid_argument`).
    pub async fn quote_for_reply(
        &self,
        group: ObjectId,
        original: ObjectId,
    ) -> Result<QuoteDoc, ApiError> {
        let message = self
            .message(original)
            .await
            .map_err(|_| message_not_found(original))?;
        if message.group != group {
            return Err(ApiError::InvalidArgument(format!(
                "`replyTo`: message {} is not in group {}",
                entity_id(original),
                entity_id(group)
            )));
        }
        if message.deleted {
            return Err(ApiError::InvalidArgument(format!(
                "`replyTo`: message {} was deleted",
                entity_id(original)
            )));
        }
        Ok(QuoteDoc {
            id: original,
            from: message.from,
            snippet: snippet_of(&message.message),
            deleted: false,
        })
    }

    /// Brings the quotes of `original` in its replies up to date: its new
    /// `text`, or, when it was deleted (`None`), no text and `deleted`.
    pub async fn update_quotes(
        &self,
        original: ObjectId,
        text: Option<&str>,
        at: DateTime,
    ) -> Result<(), ApiError> {
        let (snippet, deleted) = match text {
            Some(text) => (snippet_of(text), false),
            None => (String::new(), true),
        };
        self.messages
            .update_many(
                doc! {"replyTo.id": original},
                doc! {"$set": {
                    "replyTo.snippet": snippet,
                    "replyTo.deleted": deleted,
                    "changedAt": at,
                }},
            )
            .await
            .map_err(db_error)?;
        Ok(())
    }

    /// The quotes of `originals`, which the retention sweep is about to
    /// delete, lose their text and read as deleted (as after a delete).
    pub async fn forget_quotes(
        &self,
        originals: &[ObjectId],
        at: DateTime,
    ) -> Result<(), ApiError> {
        if originals.is_empty() {
            return Ok(());
        }
        self.messages
            .update_many(
                doc! {"replyTo.id": {"$in": originals}, "replyTo.deleted": false},
                doc! {"$set": {"replyTo.snippet": "", "replyTo.deleted": true, "changedAt": at}},
            )
            .await
            .map_err(db_error)?;
        Ok(())
    }
}
