//! The resources: Group, Message and User, as every API returns them.

use crate::attachments::Attachment;
use crate::ids::{EntityId, Up};
use crate::time::{self, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// What a group is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupKind {
    /// A named group of many users (a class, a course, a club).
    Group,
    /// The conversation of exactly two users.
    Direct,
    /// A room made by matchmaking.
    Match,
}

/// A chat group: the room its members talk in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    /// The group's id (24 hex).
    #[schema(value_type = crate::ids::AnsweredId)]
    pub id: EntityId,
    /// The display name.
    pub name: String,
    /// Group, direct conversation or matchmaking room.
    pub kind: GroupKind,
    /// The members.
    pub users: Vec<Up>,
    /// The members who may moderate (delete others' messages, kick).
    pub admins: Vec<Up>,
    /// Whether anyone may join by themselves.
    pub open: bool,
    /// History stays hidden until this many members are online (0: always shown).
    pub history_min_online: u32,
    /// When the group was created.
    #[serde(with = "time::millis")]
    #[schema(value_type = String, format = DateTime, example = "2022-06-13T12:15:43.333Z")]
    pub created_at: Timestamp,
    /// How long its messages are kept (`{"mode": "forever"}` unless an
    /// admin chose otherwise).
    #[serde(default)]
    pub retention: crate::retention::Retention,
    /// Matchmaking topic, for `match` groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Matchmaking capacity, for `match` groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    /// Messages the requesting user has not read; only in per-user listings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unread: Option<u64>,
    /// Of the unread messages, those that mention the requesting user;
    /// only in per-user listings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mentions: Option<u64>,
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// The message's id (24 hex); ids grow with time within a group.
    #[schema(value_type = crate::ids::AnsweredId)]
    pub id: EntityId,
    /// The group it was sent to.
    #[schema(value_type = crate::ids::AnsweredId)]
    pub group: EntityId,
    /// The sender.
    pub from: Up,
    /// The text (empty once deleted).
    pub message: String,
    /// When the store accepted it.
    #[serde(with = "time::millis")]
    #[schema(value_type = String, format = DateTime, example = "2022-06-13T12:15:43.333Z")]
    pub timestamp: Timestamp,
    /// The sender's idempotency key, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// When the author last edited it.
    #[serde(
        default,
        with = "time::millis_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub edited_at: Option<Timestamp>,
    /// When it was last edited, deleted or reacted to; the cursor of `sync`'s
    /// `since` for paging through changes.
    #[serde(
        default,
        with = "time::millis_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub changed_at: Option<Timestamp>,
    /// Whether it was deleted (its text is then empty).
    pub deleted: bool,
    /// Who reacted with what: emoji to the users, in the order they reacted.
    pub reactions: BTreeMap<String, Vec<Up>>,
    /// The files it carries, in the order the sender listed them (none
    /// once deleted).
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// The message it answers, quoted (see [`Quote`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<Quote>,
    /// The members its text names as `@up`, each once, at most
    /// [`MAX_MENTIONS`] (see [`crate::mentions`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<Up>,
    /// Whether its text is withheld because its group's history is hidden
    /// now (docs/chat-api.md, "History gate"): `message` is then empty, and
    /// a client keeps the text it already shows. Only on the chat-server's
    /// answers; never stored.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hidden: bool,
}

/// The most members one message mentions.
pub const MAX_MENTIONS: usize = 20;
/// The most characters of a quote's snippet.
pub const MAX_SNIPPET_CHARS: usize = 120;

/// A reply's quote of the message it answers: taken when the reply is
/// sent, and kept up to date by the store when the original is edited
/// (a new snippet) or deleted (`deleted`, and no snippet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Quote {
    /// The original message's id.
    #[schema(value_type = crate::ids::AnsweredId)]
    pub id: EntityId,
    /// Its sender.
    pub from: Up,
    /// The start of its text, at most [`MAX_SNIPPET_CHARS`] characters
    /// (empty once the original is deleted, or while the history gate
    /// withholds text).
    pub snippet: String,
    /// Whether the original was deleted since.
    pub deleted: bool,
}

/// The start of `text` a quote shows: at most [`MAX_SNIPPET_CHARS`]
/// characters, cut on a character boundary.
pub fn snippet_of(text: &str) -> String {
    text.chars().take(MAX_SNIPPET_CHARS).collect()
}

impl Message {
    /// The message without its text and files, for a reader its group's
    /// history gate hides it from: `message` empty, no `attachments`, no
    /// quoted text, no mentions, and `hidden` set.
    pub fn without_text(mut self) -> Self {
        self.message = String::new();
        self.attachments = Vec::new();
        self.mentions = Vec::new();
        if let Some(quote) = &mut self.reply_to {
            quote.snippet = String::new();
        }
        self.hidden = true;
        self
    }

    /// Whether its text names `up` (see [`crate::mentions`]).
    pub fn mentions(&self, up: &Up) -> bool {
        self.mentions.contains(up)
    }
}

/// A user as the chat knows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// The user's id.
    pub up: Up,
    /// The handle shown in the chat.
    pub username: String,
    /// The full name.
    pub name: String,
    /// Whether at least one of their sockets is connected.
    pub online: bool,
    /// When they were last seen going offline.
    #[serde(
        default,
        with = "time::millis_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_seen: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn message_serialises_with_camel_case_and_millisecond_times() {
        let message = Message {
            id: EntityId::parse("65f0c0ffee0000000000abcd").unwrap(),
            group: EntityId::parse("65f0c0ffee0000000000abce").unwrap(),
            from: Up::parse("up1").unwrap(),
            message: "hi".into(),
            timestamp: time::parse("2022-06-13T12:15:43.333Z").unwrap(),
            nonce: None,
            edited_at: Some(time::parse("2022-06-13T12:16:00Z").unwrap()),
            changed_at: None,
            deleted: false,
            reactions: BTreeMap::from([("👍".to_owned(), vec![Up::parse("up2").unwrap()])]),
            attachments: Vec::new(),
            reply_to: None,
            mentions: Vec::new(),
            hidden: false,
        };
        assert_eq!(
            serde_json::to_value(&message).unwrap(),
            json!({
                "id": "65f0c0ffee0000000000abcd",
                "group": "65f0c0ffee0000000000abce",
                "from": "up1",
                "message": "hi",
                "timestamp": "2022-06-13T12:15:43.333Z",
                "editedAt": "2022-06-13T12:16:00.000Z",
                "deleted": false,
                "reactions": {"👍": ["up2"]},
                "attachments": []
            })
        );
        let back: Message =
            serde_json::from_value(serde_json::to_value(&message).unwrap()).unwrap();
        assert_eq!(back, message);
    }
}
