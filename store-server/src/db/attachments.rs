//! Queries on attachments: their metadata in `attachments`, their bytes in
//! the GridFS bucket `attachments` (files and thumbnails alike, each a
//! GridFS file).
//!
//! An attachment goes through these states, each change one conditional
//! update of its document, so that any number of store instances (and
//! their sweeps) may work on it at once:
//!
//! ```text
//! uploading ──> stored ──> claimed ──> attached
//!     │            │   <──────┘ (message refused)   │
//!     └────────────┴──────────┴──> removing <───────┘ (message deleted)
//! ```
//!
//! - `uploading`: its bytes are being written; nothing reads it.
//! - `stored`: uploaded, in no message yet; only its uploader may use it,
//!   in its group.
//! - `claimed`: taken by one message, named by the message's idempotency
//!   key (`claim`), before the message is written. Taking it is one
//!   conditional update (`state: stored` → `claimed`), so two messages
//!   racing for it, through any instances, never both get it. A retry of
//!   the same message (same key) finds it already its own.
//! - `attached`: the message is stored (`message` holds its id).
//! - `removing`: its bytes are being deleted; gone once the document is.
//!
//! The sweep (`attachments::sweep`) removes what no message took within an
//! hour, and finishes removals that stopped halfway.

use super::documents::{AttachmentMeta, ThumbnailDoc, entity_id};
use super::{Store, db_error};
use chat_wire::ids::Up;
use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Bson, DateTime, Document, doc};
use mongodb::error::{ErrorKind, GridFsErrorKind};
use mongodb::options::ReturnDocument;
use serde::{Deserialize, Serialize};
use service_kit::ApiError;

/// Where an attachment is in its life (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AttachmentState {
    /// Its bytes are being written.
    Uploading,
    /// Uploaded, in no message.
    Stored,
    /// Taken by a message not written yet.
    Claimed,
    /// In a stored message.
    Attached,
    /// Being deleted.
    Removing,
}

impl AttachmentState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Uploading => "uploading",
            Self::Stored => "stored",
            Self::Claimed => "claimed",
            Self::Attached => "attached",
            Self::Removing => "removing",
        }
    }

    /// Whether its bytes are complete and may be read.
    pub fn readable(self) -> bool {
        matches!(self, Self::Stored | Self::Claimed | Self::Attached)
    }
}

impl From<AttachmentState> for Bson {
    fn from(state: AttachmentState) -> Self {
        Bson::String(state.as_str().to_owned())
    }
}

/// An attachment in the `attachments` collection.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentDoc {
    /// The id, also the id of the GridFS file of its bytes.
    #[serde(rename = "_id")]
    pub id: ObjectId,
    /// The group it was uploaded to; only a message of that group may use it.
    pub group: ObjectId,
    /// Who uploaded it; only their message may use it, and it counts
    /// against their quota.
    pub uploader: Up,
    /// The file name.
    pub name: String,
    /// Where it is in its life.
    pub state: AttachmentState,
    /// When its upload started.
    pub created_at: DateTime,
    /// The sniffed media type (set once uploaded).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Bytes (0 while uploading).
    #[serde(default)]
    pub size: i64,
    /// Pixels, for images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<i64>,
    /// Pixels, for images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<i64>,
    /// The thumbnail, for images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<ThumbnailDoc>,
    /// The idempotency key of the message that took it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
    /// When that message took it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_at: Option<DateTime>,
    /// The message it is in, once stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<ObjectId>,
    /// When its removal started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removing_at: Option<DateTime>,
}

impl AttachmentDoc {
    /// A new upload of `uploader` to `group`.
    pub fn uploading(group: ObjectId, uploader: Up, name: String) -> Self {
        Self {
            id: ObjectId::new(),
            group,
            uploader,
            name,
            state: AttachmentState::Uploading,
            created_at: DateTime::now(),
            content_type: None,
            size: 0,
            width: None,
            height: None,
            thumbnail: None,
            claim: None,
            claimed_at: None,
            message: None,
            removing_at: None,
        }
    }

    /// What a message keeps of it, and what the API answers.
    pub fn meta(&self) -> AttachmentMeta {
        AttachmentMeta {
            id: self.id,
            name: self.name.clone(),
            content_type: self
                .content_type
                .clone()
                .unwrap_or_else(|| chat_wire::attachments::UNKNOWN_TYPE.to_owned()),
            size: self.size,
            width: self.width,
            height: self.height,
            thumbnail: self.thumbnail.clone(),
        }
    }
}

/// What an upload found out about its bytes.
#[derive(Debug, Clone)]
pub struct Uploaded {
    /// The sniffed media type.
    pub content_type: String,
    /// Bytes.
    pub size: u64,
    /// Pixels, for images.
    pub dimensions: Option<(u32, u32)>,
    /// The thumbnail, for images.
    pub thumbnail: Option<ThumbnailDoc>,
}

/// The `not_found` error of an attachment.
pub fn attachment_not_found(id: ObjectId) -> ApiError {
    ApiError::NotFound(format!("attachment {} not found", entity_id(id)))
}

impl Store {
    /// An attachment whose bytes may be read, or `not_found`.
    pub async fn attachment(&self, id: ObjectId) -> Result<AttachmentDoc, ApiError> {
        match self.attachment_in_any_state(id).await? {
            Some(found) if found.state.readable() => Ok(found),
            _ => Err(attachment_not_found(id)),
        }
    }

    async fn attachment_in_any_state(
        &self,
        id: ObjectId,
    ) -> Result<Option<AttachmentDoc>, ApiError> {
        self.attachments
            .find_one(doc! {"_id": id})
            .await
            .map_err(db_error)
    }

    /// Records an upload that starts: until it is [`Store::finish_upload`]ed
    /// nothing reads it, and the sweep removes it if it never is.
    pub async fn start_upload(&self, upload: &AttachmentDoc) -> Result<(), ApiError> {
        self.attachments
            .insert_one(upload)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    /// Marks an upload complete with what was found out about its bytes.
    pub async fn finish_upload(
        &self,
        id: ObjectId,
        uploaded: &Uploaded,
    ) -> Result<AttachmentDoc, ApiError> {
        let (width, height) = match uploaded.dimensions {
            Some((w, h)) => (Bson::Int64(w.into()), Bson::Int64(h.into())),
            None => (Bson::Null, Bson::Null),
        };
        let thumbnail = match &uploaded.thumbnail {
            Some(thumbnail) => mongodb::bson::to_bson(thumbnail)
                .map_err(|err| ApiError::Internal(anyhow::Error::new(err)))?,
            None => Bson::Null,
        };
        let mut set = doc! {
            "state": AttachmentState::Stored,
            "type": &uploaded.content_type,
            "size": i64::try_from(uploaded.size).unwrap_or(i64::MAX),
        };
        let mut unset = Document::new();
        for (field, value) in [
            ("width", width),
            ("height", height),
            ("thumbnail", thumbnail),
        ] {
            match value {
                Bson::Null => unset.insert(field, ""),
                value => set.insert(field, value),
            };
        }
        let mut update = doc! {"$set": set};
        if !unset.is_empty() {
            update.insert("$unset", unset);
        }
        self.attachments
            .find_one_and_update(
                doc! {"_id": id, "state": AttachmentState::Uploading},
                update,
            )
            .return_document(ReturnDocument::After)
            .await
            .map_err(db_error)?
            // Only if the sweep took it for a dead upload (over an hour).
            .ok_or_else(|| ApiError::Unavailable(anyhow::anyhow!("upload {id} was swept")))
    }

    /// The bytes `uploader` keeps in attachments (uploads in progress and
    /// removals aside).
    pub async fn stored_bytes(&self, uploader: &Up) -> Result<u64, ApiError> {
        let readable = [
            AttachmentState::Stored,
            AttachmentState::Claimed,
            AttachmentState::Attached,
        ];
        let pipeline = vec![
            doc! {"$match": {"uploader": uploader.as_str(), "state": {"$in": readable.to_vec()}}},
            doc! {"$group": {"_id": Bson::Null, "total": {"$sum": "$size"}}},
        ];
        let totals: Vec<Document> = self
            .attachments
            .aggregate(pipeline)
            .await
            .map_err(db_error)?
            .try_collect()
            .await
            .map_err(db_error)?;
        let total = totals.first().and_then(|total| match total.get("total") {
            Some(Bson::Int64(n)) => Some(*n),
            Some(Bson::Int32(n)) => Some(i64::from(*n)),
            Some(Bson::Double(n)) => Some(*n as i64),
            _ => None,
        });
        Ok(u64::try_from(total.unwrap_or(0)).unwrap_or(0))
    }

    /// Takes each attachment of `ids` for the message of `key` that `from`
    /// sends to `group`: each must be readable, uploaded by `from` to
    /// `group`, and in no other message. All or none: when one cannot be
    /// taken, those this call took are given back.
    pub async fn claim_attachments(
        &self,
        ids: &[ObjectId],
        group: ObjectId,
        from: &Up,
        key: &str,
    ) -> Result<Vec<AttachmentMeta>, ApiError> {
        let mut claimed = Vec::with_capacity(ids.len());
        let mut taken_now = Vec::new();
        for &id in ids {
            match self.claim_one(id, group, from, key).await {
                Ok((found, newly)) => {
                    if newly {
                        taken_now.push(id);
                    }
                    claimed.push(found.meta());
                }
                Err(err) => {
                    if let Err(release) = self.release_attachments(&taken_now, key).await {
                        // The sweep gives them back within the hour.
                        tracing::warn!(error = %release, "could not release claimed attachments");
                    }
                    return Err(err);
                }
            }
        }
        Ok(claimed)
    }

    /// Takes one attachment; `true` when this call took it, `false` when the
    /// same key had it already (a retried message).
    async fn claim_one(
        &self,
        id: ObjectId,
        group: ObjectId,
        from: &Up,
        key: &str,
    ) -> Result<(AttachmentDoc, bool), ApiError> {
        let taken = self
            .attachments
            .find_one_and_update(
                doc! {"_id": id, "group": group, "uploader": from.as_str(), "state": AttachmentState::Stored},
                doc! {"$set": {"state": AttachmentState::Claimed, "claim": key, "claimedAt": DateTime::now()}},
            )
            .return_document(ReturnDocument::After)
            .await
            .map_err(db_error)?;
        if let Some(taken) = taken {
            return Ok((taken, true));
        }
        let found = self
            .attachment_in_any_state(id)
            .await?
            .filter(|found| found.state.readable())
            .ok_or_else(|| attachment_not_found(id))?;
        if found.uploader != *from || found.group != group {
            return Err(ApiError::PermissionDenied(format!(
                "attachment {} was not uploaded by {from} to group {}",
                entity_id(id),
                entity_id(group)
            )));
        }
        if found.claim.as_deref() == Some(key) {
            return Ok((found, false));
        }
        Err(ApiError::AlreadyExists(format!(
            "attachment {} is already used by another message",
            entity_id(id)
        )))
    }

    /// Marks the attachments the message of `key` took as in `message`.
    pub async fn link_attachments(
        &self,
        ids: &[ObjectId],
        key: &str,
        message: ObjectId,
    ) -> Result<(), ApiError> {
        self.attachments
            .update_many(
                doc! {"_id": {"$in": ids}, "claim": key, "state": AttachmentState::Claimed},
                doc! {"$set": {"state": AttachmentState::Attached, "message": message}},
            )
            .await
            .map_err(db_error)?;
        Ok(())
    }

    /// Gives back the attachments the message of `key` took (it was refused).
    pub async fn release_attachments(&self, ids: &[ObjectId], key: &str) -> Result<(), ApiError> {
        if ids.is_empty() {
            return Ok(());
        }
        self.attachments
            .update_many(
                doc! {"_id": {"$in": ids}, "claim": key, "state": AttachmentState::Claimed},
                doc! {"$set": {"state": AttachmentState::Stored}, "$unset": {"claim": "", "claimedAt": ""}},
            )
            .await
            .map_err(db_error)?;
        Ok(())
    }

    /// Removes attachments, whatever their state: marks them `removing`
    /// (nothing reads them from then on), then deletes their bytes and
    /// thumbnails, then their documents. A removal that stops halfway is
    /// finished by the sweep.
    pub async fn remove_attachments(&self, ids: &[ObjectId]) -> Result<(), ApiError> {
        self.mark_removing(ids).await?;
        for &id in ids {
            if let Some(found) = self.attachment_in_any_state(id).await? {
                self.erase(&found).await?;
            }
        }
        Ok(())
    }

    /// Marks attachments `removing`: nothing serves or claims them from
    /// then on, and the sweep erases them if nothing else does.
    pub async fn mark_removing(&self, ids: &[ObjectId]) -> Result<(), ApiError> {
        if ids.is_empty() {
            return Ok(());
        }
        self.attachments
            .update_many(
                doc! {"_id": {"$in": ids}},
                doc! {"$set": {"state": AttachmentState::Removing, "removingAt": DateTime::now()}},
            )
            .await
            .map_err(db_error)?;
        Ok(())
    }

    /// Marks the attachment `filter` finds `removing` at `now`, if it still
    /// matches: of several sweeps that found it, only the one this answers
    /// `Some` removes it.
    pub async fn take_for_removal(
        &self,
        filter: Document,
        now: DateTime,
    ) -> Result<Option<AttachmentDoc>, ApiError> {
        self.attachments
            .find_one_and_update(
                filter,
                doc! {"$set": {"state": AttachmentState::Removing, "removingAt": now}},
            )
            .return_document(ReturnDocument::After)
            .await
            .map_err(db_error)
    }

    /// Deletes an attachment's bytes, its thumbnail's, then its document;
    /// doing it twice is harmless.
    pub async fn erase(&self, attachment: &AttachmentDoc) -> Result<(), ApiError> {
        self.delete_bytes(attachment.id).await?;
        if let Some(thumbnail) = &attachment.thumbnail {
            self.delete_bytes(thumbnail.id).await?;
        }
        self.attachments
            .delete_one(doc! {"_id": attachment.id})
            .await
            .map_err(db_error)?;
        Ok(())
    }

    /// Deletes a GridFS file and its chunks; a file that is not there (an
    /// upload that never finished, or deleted already) is not an error.
    pub async fn delete_bytes(&self, id: ObjectId) -> Result<(), ApiError> {
        match self.files.delete(id.into()).await {
            Ok(()) => Ok(()),
            Err(err)
                if matches!(
                    &*err.kind,
                    ErrorKind::GridFs(GridFsErrorKind::FileNotFound { .. })
                ) =>
            {
                Ok(())
            }
            Err(err) => Err(db_error(err)),
        }
    }
}
