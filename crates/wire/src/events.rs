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

/// `chat message`: a message to a group the user belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// The group id.
    pub room: EntityId,
    /// The text.
    pub message: String,
    /// Idempotency key: a retry with the same nonce gets the same message.
    #[serde(default)]
    pub nonce: Option<String>,
}

/// `online` ack data, and the `online` notice sent to a user's groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnlineNotice {
    /// Who came online.
    pub up: Up,
}

/// The `offline` notice sent to a user's groups when their last socket goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OfflineNotice {
    /// Who went offline.
    pub up: Up,
    /// When.
    #[serde(with = "time::millis")]
    pub last_seen: Timestamp,
}

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
