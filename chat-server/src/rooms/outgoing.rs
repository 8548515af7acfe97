//! Every event the server sends to clients, with its payload: one list, so
//! the names on the wire are written once.

use chat_wire::events::{
    Empty, GroupAdded, Migrate, OfflineNotice, OnlineNotice, QueueComplete, ReadReceipt, RoomRef,
    TypingNotice,
};
use chat_wire::model::Message;
use chat_wire::names::UserName;
use serde::Serialize;

/// A server-to-client event (docs/chat-api.md, "Events the server sends").
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Outgoing {
    /// `chat message`: a new message of a room.
    ChatMessage(Message),
    /// `private message`: a new direct message.
    PrivateMessage(Message),
    /// `message updated`: a message was edited, deleted or reacted to.
    MessageUpdated(Message),
    /// `typing`: a member started or stopped typing.
    Typing(TypingNotice),
    /// `read`: a member read the room up to a message.
    Read(ReadReceipt),
    /// `online`: a member's first socket in the cluster.
    Online(OnlineNotice),
    /// `offline`: a member's last socket in the cluster left.
    Offline(OfflineNotice),
    /// `kicked`: the user was removed from a room.
    Kicked(RoomRef),
    /// `queue complete`: the user was paired; their new room.
    QueueComplete(QueueComplete),
    /// `group added`: the user was made a member through the store.
    GroupAdded(GroupAdded),
    /// `group removed`: the user was removed through the store.
    GroupRemoved(RoomRef),
    /// `migrate`: this node drains; the node to reconnect to.
    Migrate(Migrate),
    /// `unauthenticated`: the socket's token expired; it is disconnected.
    Unauthenticated(Empty),
    /// `user updated`: a member changed their name.
    UserUpdated(UserName),
    /// `group updated`: an admin changed the group (its retention).
    GroupUpdated(GroupAdded),
}

impl Outgoing {
    /// The event's name on the wire.
    pub fn name(&self) -> &'static str {
        match self {
            Self::ChatMessage(_) => "chat message",
            Self::PrivateMessage(_) => "private message",
            Self::MessageUpdated(_) => "message updated",
            Self::Typing(_) => "typing",
            Self::Read(_) => "read",
            Self::Online(_) => "online",
            Self::Offline(_) => "offline",
            Self::Kicked(_) => "kicked",
            Self::QueueComplete(_) => "queue complete",
            Self::GroupAdded(_) => "group added",
            Self::GroupRemoved(_) => "group removed",
            Self::Migrate(_) => "migrate",
            Self::Unauthenticated(_) => "unauthenticated",
            Self::UserUpdated(_) => "user updated",
            Self::GroupUpdated(_) => "group updated",
        }
    }

    /// Whether the event is only a hint that a recipient may miss without
    /// losing anything (the state it reports is also read on demand).
    pub fn is_hint(&self) -> bool {
        matches!(self, Self::Typing(_) | Self::Read(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_is_sent_as_it_is_without_a_tag() {
        let event = Outgoing::Migrate(Migrate {
            url: "http://b:8080".into(),
        });
        assert_eq!(event.name(), "migrate");
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            serde_json::json!({"url": "http://b:8080"})
        );
    }
}
