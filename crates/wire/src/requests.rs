//! Request bodies of the store's routes, and the rules on message text.
//!
//! Fields that must be ids or user ids are typed, so a body that names an
//! impossible id is refused while it is parsed.

use crate::ids::{EntityId, Up};
use crate::model::GroupKind;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// `POST /group`: a new group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewGroup {
    /// The display name, 1 to 200 characters.
    pub name: String,
    /// The members.
    pub users: Vec<Up>,
    /// The admins (each also becomes a member); none by default.
    #[serde(default)]
    pub admins: Vec<Up>,
    /// Whether anyone may join by themselves; `false` by default.
    #[serde(default)]
    pub open: bool,
    /// Members that must be online before history is shown; 0 by default.
    #[serde(default)]
    pub history_min_online: u32,
    /// `group` (default) or `match`; direct groups are made by `POST /group/direct`.
    #[serde(default)]
    pub kind: Option<GroupKind>,
    /// Matchmaking topic, for `match` groups.
    #[serde(default)]
    pub topic: Option<String>,
    /// Matchmaking capacity, for `match` groups.
    #[serde(default)]
    pub capacity: Option<u32>,
}

/// `POST /group/match`: a place for `up` in a `match` group of `topic` that
/// still has space, or a new one (seed 000's matchmaker).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindMatch {
    /// Who looks for a room.
    pub up: Up,
    /// The topic, 1 to 100 characters.
    pub topic: String,
    /// The room size, 2 to 1000.
    pub capacity: u32,
}

/// `POST /group/{id}/users`: a user joining.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinGroup {
    /// Who joins.
    pub up: Up,
    /// Join only if the group is open (or `up` is already a member),
    /// checked in the same step as the join; `false` by default, for
    /// services that add members to closed groups.
    #[serde(rename = "onlyIfOpen", default)]
    pub only_if_open: bool,
}

/// `POST /group/direct`: the direct conversation of two users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectGroupRequest {
    /// Exactly two different users, in any order.
    pub users: Vec<Up>,
}

/// `POST /group/{id}/read`: a user has read up to a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MarkRead {
    /// Who read.
    pub up: Up,
    /// The newest message they have read.
    pub message_id: EntityId,
}

/// The answer to `POST /group/{id}/read`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReadState {
    /// The group.
    pub group: EntityId,
    /// The reader.
    pub up: Up,
    /// The newest message they have read (never moves back).
    pub message_id: EntityId,
    /// Messages after it.
    pub unread: u64,
}

/// `POST /message`: a new message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// The group it goes to.
    pub group: EntityId,
    /// The sender; must be a member.
    pub from: Up,
    /// The text, 1 to `STORE_MAX_MESSAGE_CHARS` characters after trimming.
    pub message: String,
    /// The sender's idempotency key: the same `(from, nonce)` is stored once.
    #[serde(default)]
    pub nonce: Option<String>,
}

/// `PATCH /message/{id}`: an edit by the author.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditMessage {
    /// Who edits; must be the author.
    pub from: Up,
    /// The new text.
    pub message: String,
}

/// `DELETE /message/{id}?from=`: who deletes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteMessageQuery {
    /// The author, or an admin of the group.
    #[param(value_type = String)]
    pub from: Up,
}

/// `POST /message/{id}/reactions`: a reaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReaction {
    /// Who reacts; must be a member of the message's group.
    pub up: Up,
    /// The reaction, e.g. `👍`: 1 to 16 characters, no spaces.
    pub emoji: String,
}

/// `POST /user/{up}`: fields to set on a user; absent ones are kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    /// The handle shown in the chat (defaults to the `up` on creation).
    #[serde(default)]
    pub username: Option<String>,
    /// The full name.
    #[serde(default)]
    pub name: Option<String>,
    /// Whether the user is online; going offline records `lastSeen`.
    #[serde(default)]
    pub online: Option<bool>,
}

/// Why a text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Nothing left after trimming.
    #[error("`{0}` must not be empty")]
    Empty(&'static str),
    /// Longer than allowed.
    #[error("`{field}` is {len} characters, over the limit of {max}")]
    TooLong {
        /// The field's name.
        field: &'static str,
        /// Its length in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A reaction with spaces or control characters.
    #[error("`emoji` must be 1 to 16 characters without spaces")]
    BadEmoji,
}

/// Trims a text and checks it holds 1 to `max` characters.
pub fn parse_text(field: &'static str, raw: &str, max: usize) -> Result<String, TextError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(TextError::Empty(field));
    }
    let len = trimmed.chars().count();
    if len > max {
        return Err(TextError::TooLong { field, len, max });
    }
    Ok(trimmed.to_owned())
}

/// The longest nonce accepted, in characters.
pub const MAX_NONCE_CHARS: usize = 128;

/// Checks an optional nonce: 1 to [`MAX_NONCE_CHARS`] characters after
/// trimming. A bad nonce is a bad field (`invalid_argument`), never
/// `payload_too_large`, which is kept for message text.
pub fn parse_nonce(nonce: Option<&str>) -> Result<Option<String>, TextError> {
    nonce
        .map(|nonce| parse_text("nonce", nonce, MAX_NONCE_CHARS))
        .transpose()
}

/// Checks a reaction: 1 to 16 characters, none of them blank or control.
pub fn parse_emoji(raw: &str) -> Result<String, TextError> {
    let len = raw.chars().count();
    let printable = raw.chars().all(|c| !c.is_whitespace() && !c.is_control());
    if len == 0 || len > 16 || !printable {
        return Err(TextError::BadEmoji);
    }
    Ok(raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_counted_in_characters() {
        assert_eq!(parse_text("message", "  hi  ", 4).unwrap(), "hi");
        assert_eq!(parse_text("message", "ééé", 3).unwrap(), "ééé");
        assert_eq!(
            parse_text("message", " \n\t ", 3),
            Err(TextError::Empty("message"))
        );
        assert!(matches!(
            parse_text("message", "abcd", 3),
            Err(TextError::TooLong { len: 4, .. })
        ));
    }

    #[test]
    fn emoji_must_be_short_and_printable() {
        assert!(parse_emoji("👍").is_ok());
        assert!(parse_emoji("+1").is_ok());
        assert!(parse_emoji("").is_err());
        assert!(parse_emoji("a b").is_err());
        assert!(parse_emoji(&"x".repeat(17)).is_err());
    }

    #[test]
    fn bodies_refuse_bad_ids_and_unknown_fields() {
        let bad_group = r#"{"group": "nope", "from": "up1", "message": "hi"}"#;
        assert!(serde_json::from_str::<NewMessage>(bad_group).is_err());
        let extra =
            r#"{"group": "65f0c0ffee0000000000abcd", "from": "up1", "message": "hi", "x": 1}"#;
        assert!(serde_json::from_str::<NewMessage>(extra).is_err());
        let ok = r#"{"group": "65f0c0ffee0000000000abcd", "from": "up1", "message": "hi"}"#;
        assert_eq!(serde_json::from_str::<NewMessage>(ok).unwrap().nonce, None);
    }
}
