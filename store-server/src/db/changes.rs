//! The change log (`changes`): one document per group or message change
//! made through the store by a caller that is not a chat node, read by the
//! chat nodes with `GET /changes` to apply it to their live sockets
//! (docs/store-api.md, "The change log").
//!
//! A change is stamped `at` with this instance's clock and kept for
//! [`CHANGE_TTL`] (a TTL index on `at`, which also serves the reads). The
//! Group or Message it carries is stored as its JSON text: the keys of a
//! message's `reactions` are emoji, which are not safe as BSON field names.
//! Several store instances may insert at once, each with its own clock, so
//! a reader cannot take `at` as a strict cursor: it re-reads an overlap
//! and skips the ids it applied (see `GET /changes`).

use super::documents::{entity_id, object_id, to_bson, to_chrono};
use super::{Store, db_error};
use chat_wire::changes::{Change, ChangeKind, ChangeList, MAX_CHANGES_PER_CALL};
use chat_wire::ids::{EntityId, Up};
use chat_wire::model::{Group, Message};
use chat_wire::time::Timestamp;
use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, doc};
use mongodb::options::IndexOptions;
use mongodb::{Collection, IndexModel};
use serde::{Deserialize, Serialize};
use service_kit::ApiError;
use std::time::Duration;

/// The collection.
pub const COLLECTION: &str = "changes";
/// How long a change is kept: far longer than any reader's overlap; a node
/// that was away longer has no sockets left to apply it to.
pub const CHANGE_TTL: Duration = Duration::from_secs(3600);

/// A change as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ChangeDoc {
    #[serde(rename = "_id")]
    id: ObjectId,
    /// This instance's clock when it recorded the change (the TTL's field).
    at: DateTime,
    kind: ChangeKind,
    room: ObjectId,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    users: Vec<Up>,
    /// The Group, as JSON text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    group: Option<String>,
    /// The Message, as JSON text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

impl ChangeDoc {
    fn into_change(self) -> Result<Change, ApiError> {
        let group: Option<Group> = parse(self.id, "group", self.group.as_deref())?;
        let message: Option<Message> = parse(self.id, "message", self.message.as_deref())?;
        Ok(Change {
            id: entity_id(self.id),
            at: to_chrono(self.at),
            kind: self.kind,
            room: entity_id(self.room),
            users: self.users,
            group,
            message,
        })
    }
}

/// A stored Group or Message, from its JSON text.
fn parse<T: serde::de::DeserializeOwned>(
    id: ObjectId,
    what: &str,
    json: Option<&str>,
) -> Result<Option<T>, ApiError> {
    json.map(serde_json::from_str).transpose().map_err(|err| {
        ApiError::Internal(
            anyhow::Error::new(err)
                .context(format!("change {id} holds a {what} that does not parse")),
        )
    })
}

/// A change to record.
#[derive(Debug)]
pub enum NewChange<'a> {
    /// `users` became members of `group` (the group after the change).
    MembersAdded {
        /// The group as it is now.
        group: &'a Group,
        /// Who was added.
        users: Vec<Up>,
    },
    /// `users` are no longer members of `room`.
    MembersRemoved {
        /// The group.
        room: &'a EntityId,
        /// Who was removed.
        users: Vec<Up>,
    },
    /// `message` was stored.
    MessageCreated(&'a Message),
    /// `message` was edited, deleted or reacted to (its state now).
    MessageUpdated(&'a Message),
}

impl NewChange<'_> {
    /// Its kind and group, for a log line (never a message's text).
    pub fn summary(&self) -> (ChangeKind, EntityId) {
        match self {
            Self::MembersAdded { group, .. } => (ChangeKind::MembersAdded, group.id.clone()),
            Self::MembersRemoved { room, .. } => (ChangeKind::MembersRemoved, (*room).clone()),
            Self::MessageCreated(message) => (ChangeKind::MessageCreated, message.group.clone()),
            Self::MessageUpdated(message) => (ChangeKind::MessageUpdated, message.group.clone()),
        }
    }

    fn into_doc(self, at: DateTime) -> ChangeDoc {
        let (kind, room, users, group, message) = match self {
            Self::MembersAdded { group, users } => (
                ChangeKind::MembersAdded,
                &group.id,
                users,
                json(group),
                None,
            ),
            Self::MembersRemoved { room, users } => {
                (ChangeKind::MembersRemoved, room, users, None, None)
            }
            Self::MessageCreated(message) => (
                ChangeKind::MessageCreated,
                &message.group,
                Vec::new(),
                None,
                json(message),
            ),
            Self::MessageUpdated(message) => (
                ChangeKind::MessageUpdated,
                &message.group,
                Vec::new(),
                None,
                json(message),
            ),
        };
        ChangeDoc {
            id: ObjectId::new(),
            at,
            kind,
            room: object_id(room),
            users,
            group,
            message,
        }
    }
}

/// A wire type as JSON text (maps with string keys only: it cannot fail).
fn json<T: Serialize>(value: &T) -> Option<String> {
    Some(serde_json::to_string(value).expect("a wire type serialises to JSON"))
}

impl Store {
    fn change_log(&self) -> Collection<ChangeDoc> {
        self.db.collection(COLLECTION)
    }

    /// Appends `change` to the log, stamped with this instance's clock.
    pub async fn record_change(&self, change: NewChange<'_>) -> Result<(), ApiError> {
        let doc = change.into_doc(DateTime::now());
        self.change_log().insert_one(&doc).await.map_err(db_error)?;
        Ok(())
    }

    /// The changes at or after `since`, oldest first, at most
    /// [`MAX_CHANGES_PER_CALL`].
    pub async fn changes_since(&self, since: Timestamp) -> Result<ChangeList, ApiError> {
        let now = chat_wire::time::Timestamp::from(std::time::SystemTime::now());
        let limit = MAX_CHANGES_PER_CALL + 1;
        let mut docs: Vec<ChangeDoc> = self
            .change_log()
            .find(doc! {"at": {"$gte": to_bson(since)}})
            .sort(doc! {"at": 1, "_id": 1})
            .limit(i64::try_from(limit).unwrap_or(i64::MAX))
            .await
            .map_err(db_error)?
            .try_collect()
            .await
            .map_err(db_error)?;
        let has_more = docs.len() > MAX_CHANGES_PER_CALL;
        docs.truncate(MAX_CHANGES_PER_CALL);
        let items = docs
            .into_iter()
            .map(ChangeDoc::into_change)
            .collect::<Result<_, _>>()?;
        Ok(ChangeList {
            items,
            has_more,
            now,
        })
    }

    /// The TTL index on `at`, which also serves [`Store::changes_since`].
    pub(super) async fn ensure_changes_index(&self) -> Result<(), mongodb::error::Error> {
        let ttl = IndexOptions::builder().expire_after(CHANGE_TTL).build();
        self.change_log()
            .create_index(
                IndexModel::builder()
                    .keys(doc! {"at": 1})
                    .options(ttl)
                    .build(),
            )
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_with_reactions_is_kept_whole_as_json_text() {
        let message: Message = serde_json::from_value(serde_json::json!({
            "id": "6b03d38839c140a7df77c502", "group": "6b03d38539c140a7df77c500",
            "from": "up201905678", "message": "hi", "timestamp": "2026-11-23T05:47:52.828Z",
            "deleted": false, "reactions": {"👍": ["up201905679"], "a.b$": ["up1"]}
        }))
        .unwrap();
        let at = DateTime::from_millis(1_795_000_000_000);
        let doc = NewChange::MessageUpdated(&message).into_doc(at);
        let bson = mongodb::bson::to_document(&doc).unwrap();
        assert_eq!(bson.get_str("kind").unwrap(), "messageUpdated");
        let change = mongodb::bson::from_document::<ChangeDoc>(bson)
            .unwrap()
            .into_change()
            .unwrap();
        assert_eq!(change.kind, ChangeKind::MessageUpdated);
        assert_eq!(change.room, message.group);
        assert_eq!(change.message, Some(message));
        assert_eq!(change.at, to_chrono(at));
        assert!(change.users.is_empty() && change.group.is_none());
    }
}
