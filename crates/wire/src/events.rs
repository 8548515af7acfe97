//! Socket.IO event payloads of the public chat API and the ack envelope.
//!
//! Payload fields naming the sender (`up`, `from`) are not part of these
//! types: identity always comes from the socket's token, and such fields in
//! a client payload are ignored.

use crate::error::{ErrorBody, ErrorCode};
use crate::ids::{EntityId, Up};
use crate::time::{self, Timestamp};
use serde::{Deserialize, Serialize};

/// Every ack: `{"data": ...}` on success, `{"error": {code, message}}` on failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Ack<T> {
    /// The event succeeded.
    Data {
        /// Its result.
        data: T,
    },
    /// The event failed.
    Error(ErrorBody),
}

impl<T> Ack<T> {
    /// An ack of `result`.
    pub fn from_result<E: Into<ErrorBody>>(result: Result<T, E>) -> Self {
        match result {
            Ok(data) => Ack::Data { data },
            Err(err) => Ack::Error(err.into()),
        }
    }

    /// A failed ack.
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        Ack::Error(ErrorBody::new(code, message))
    }
}

/// `join room` and `leave room`, `presence`, and the answer of `leave room`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomRef {
    /// The group id.
    pub room: EntityId,
}

/// `chat message`: a message to a group the user belongs to: text, files
/// uploaded to that group, or both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// The group id.
    pub room: EntityId,
    /// The text (may be absent when `attachments` is not empty).
    #[serde(default)]
    pub message: String,
    /// Idempotency key: a retry with the same nonce gets the same message.
    #[serde(default)]
    pub nonce: Option<String>,
    /// Ids of the sender's uploads to this group, at most 10.
    #[serde(default)]
    pub attachments: Vec<EntityId>,
    /// A message of this group the new one answers.
    #[serde(default, rename = "replyTo")]
    pub reply_to: Option<EntityId>,
}

/// `online` ack data, and the `online` notice sent to a user's groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnlineNotice {
    /// Who came online.
    pub up: Up,
}

/// The `offline` notice sent to a user's groups when their last socket
/// goes, or when they hide their presence (then without `lastSeen`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OfflineNotice {
    /// Who went offline.
    pub up: Up,
    /// When; absent when the user hid their presence.
    #[serde(
        default,
        with = "time::millis_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_seen: Option<Timestamp>,
}

/// `private message`: a direct message to one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivateMessage {
    /// The recipient.
    pub to: Up,
    /// The text (may be absent when `attachments` is not empty).
    #[serde(default)]
    pub message: String,
    /// Idempotency key.
    #[serde(default)]
    pub nonce: Option<String>,
    /// Ids of the sender's uploads to the direct group of the two, at most 10.
    #[serde(default)]
    pub attachments: Vec<EntityId>,
    /// A message of the direct group of the two that the new one answers.
    #[serde(default, rename = "replyTo")]
    pub reply_to: Option<EntityId>,
}

/// `typing`: the user started or stopped typing in a room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Typing {
    /// The group id.
    pub room: EntityId,
    /// Typing now or not.
    pub typing: bool,
}

/// The `typing` notice relayed to the room's other members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypingNotice {
    /// The group id.
    pub room: EntityId,
    /// Who.
    pub up: Up,
    /// Typing now or not.
    pub typing: bool,
}

/// `read`: the user has read a room up to a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Read {
    /// The group id.
    pub room: EntityId,
    /// The newest message read.
    pub message_id: EntityId,
}

/// The ack of `read`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadAck {
    /// The group id.
    pub room: EntityId,
    /// Messages still unread after the marker.
    pub unread: u64,
    /// Of those, the ones that mention the reader.
    pub mentions: u64,
}

/// The `read` receipt relayed to the room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadReceipt {
    /// The group id.
    pub room: EntityId,
    /// Who read.
    pub up: Up,
    /// Up to which message.
    pub message_id: EntityId,
}

/// `react`: add (`on: true`) or remove a reaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct React {
    /// The message.
    pub message_id: EntityId,
    /// The reaction.
    pub emoji: String,
    /// Add or remove.
    pub on: bool,
}

/// `edit message`: new text for one's own message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EditMessageEvent {
    /// The message.
    pub message_id: EntityId,
    /// The new text.
    pub message: String,
}

/// `delete message`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteMessageEvent {
    /// The message.
    pub message_id: EntityId,
}

/// `sync`: what a reconnecting client missed in a room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sync {
    /// The group id.
    pub room: EntityId,
    /// The newest message the client has; messages after it are returned,
    /// oldest first. Without it, the newest page.
    #[serde(default)]
    pub after: Option<EntityId>,
    /// RFC 3339 time of the client's last sync; messages edited, deleted or
    /// reacted to after it are returned as `changes`.
    #[serde(default)]
    pub since: Option<String>,
}

/// The ack data of `sync`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncResult {
    /// Missed messages (`hasMore`: sync again after the last one).
    pub messages: crate::paging::Page<crate::model::Message>,
    /// Messages changed since `since`, in the order they changed (empty
    /// without `since`).
    pub changes: Vec<crate::model::Message>,
    /// More changes follow: sync again with `since` = the last change's
    /// `changedAt`.
    pub more_changes: bool,
}

/// The ack data of `presence`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceList {
    /// Members of the room online now.
    pub online: Vec<Up>,
}

/// `kick`: an admin removes a member from a room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kick {
    /// The group id.
    pub room: EntityId,
    /// Who is removed.
    pub up: Up,
}

/// `find room`: a matchmaking room of a topic (docs/chat-api.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindRoom {
    /// The topic.
    pub topic: String,
    /// The room size.
    pub capacity: u32,
}

/// The pairing queues (docs/chat-api.md): `vent` pairs with `listen`,
/// `talk` with `talk`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QueueKind {
    /// Wants to talk with someone who also wants to talk.
    Talk,
    /// Wants to vent to a listener.
    Vent,
    /// Wants to listen to someone venting.
    Listen,
}

impl QueueKind {
    /// The queue whose users this one is paired with.
    pub fn partner(self) -> QueueKind {
        match self {
            QueueKind::Talk => QueueKind::Talk,
            QueueKind::Vent => QueueKind::Listen,
            QueueKind::Listen => QueueKind::Vent,
        }
    }
}

/// `queue`: wait to be paired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queue {
    /// Which queue.
    pub queue: QueueKind,
}

/// The ack of `queue` and `leave queue`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queued {
    /// Whether the user is waiting now.
    pub queued: bool,
}

/// `queue complete`: the pair's new room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueComplete {
    /// The `match` group of the two.
    pub room: crate::model::Group,
}

/// `group added`: the user became a member of a group through the store
/// (docs/chat-api.md); their sockets are in its room now. `group removed`
/// carries a [`RoomRef`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupAdded {
    /// The group, as the store has it after the change.
    pub group: crate::model::Group,
}

/// `migrate`: the node is draining; the client should reconnect to `url`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Migrate {
    /// The public URL of the chat node to reconnect to.
    pub url: String,
}

/// `refresh token`: a newer token for the socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshToken {
    /// A valid JWT of the same user.
    pub token: String,
}

/// The ack of `refresh token`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenExpiry {
    /// When the socket's token now expires, seconds since the Unix epoch
    /// (a JWT `exp`).
    pub exp: u64,
}

/// An ack without data: `{}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn acks_have_data_or_error() {
        let ok: Ack<RoomRef> = Ack::Data {
            data: RoomRef {
                room: EntityId::parse("65f0c0ffee0000000000abcd").unwrap(),
            },
        };
        assert_eq!(
            serde_json::to_value(&ok).unwrap(),
            json!({"data": {"room": "65f0c0ffee0000000000abcd"}})
        );
        let failed: Ack<RoomRef> = Ack::error(ErrorCode::PermissionDenied, "not a member");
        assert_eq!(
            serde_json::to_value(&failed).unwrap(),
            json!({"error": {"code": "permission_denied", "message": "not a member"}})
        );
    }

    #[test]
    fn a_chat_message_ignores_sender_fields_from_the_client() {
        let payload = json!({"room": "65f0c0ffee0000000000abcd", "message": "hi", "up": "someone-else", "from": "x"});
        let message: ChatMessage = serde_json::from_value(payload).unwrap();
        assert_eq!(message.message, "hi");
        assert_eq!(message.nonce, None);
    }
}
