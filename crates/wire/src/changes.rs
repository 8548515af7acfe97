//! The store's change log as `GET /changes` answers it: what a request to
//! the store changed in a group or a message, for the chat nodes to apply
//! to their live sockets (docs/store-api.md, "The change log").
//!
//! These travel only between the store and chat nodes (an internal route
//! behind the service token); clients see their effects as `group added`,
//! `group removed`, `chat message` and `message updated`.

use crate::ids::{EntityId, Up};
use crate::model::{Group, Message};
use crate::time::{self, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The most changes one `GET /changes` answers.
pub const MAX_CHANGES_PER_CALL: usize = 500;

/// The header a chat node puts on every store request: the store records no
/// change for such a request, since the node applies it live itself. Its
/// value is the node's id (for the logs).
pub const CHAT_NODE_HEADER: &str = "x-chat-node";

/// What a change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum ChangeKind {
    /// `users` became members of the group (created with them, or joined).
    MembersAdded,
    /// `users` left the group, or were removed from it.
    MembersRemoved,
    /// A message was stored.
    MessageCreated,
    /// A message was edited, deleted or reacted to.
    MessageUpdated,
}

/// One change, with what a chat node needs to apply it without another call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// The change's own id (24 hex): readers skip a change they applied.
    #[schema(value_type = crate::ids::AnsweredId)]
    pub id: EntityId,
    /// When the store instance that took the request recorded it (its clock).
    #[serde(with = "time::millis")]
    #[schema(value_type = String, format = DateTime, example = "2026-11-23T05:47:52.828Z")]
    pub at: Timestamp,
    /// What changed.
    pub kind: ChangeKind,
    /// The group (its room) the change is about.
    #[schema(value_type = crate::ids::AnsweredId)]
    pub room: EntityId,
    /// The members added or removed; empty for message changes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<Up>,
    /// The group after the change, for `membersAdded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<Group>,
    /// The message after the change, for `messageCreated` and
    /// `messageUpdated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
}

/// The answer to `GET /changes`: the changes at or after `since`, oldest
/// first, at most [`MAX_CHANGES_PER_CALL`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangeList {
    /// The changes, by `at` (then by id).
    pub items: Vec<Change>,
    /// Whether more follow: ask again with `since` = the last item's `at`.
    pub has_more: bool,
    /// The answering instance's clock when it read the log: every change it
    /// records later is stamped at or after it, so a reader that has seen
    /// nothing new may still move its window forward.
    #[serde(with = "time::millis")]
    #[schema(value_type = String, format = DateTime, example = "2026-11-23T05:47:53.100Z")]
    pub now: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_change_carries_only_the_fields_of_its_kind() {
        let change = Change {
            id: EntityId::parse("6b03d38539c140a7df77c5aa").unwrap(),
            at: time::parse("2026-11-23T05:47:52.828Z").unwrap(),
            kind: ChangeKind::MembersRemoved,
            room: EntityId::parse("6b03d38539c140a7df77c500").unwrap(),
            users: vec![Up::parse("up201900001").unwrap()],
            group: None,
            message: None,
        };
        let value = serde_json::to_value(&change).unwrap();
        assert_eq!(
            value,
            json!({"id": "6b03d38539c140a7df77c5aa", "at": "2026-11-23T05:47:52.828Z",
                   "kind": "membersRemoved", "room": "6b03d38539c140a7df77c500",
                   "users": ["up201900001"]})
        );
        assert_eq!(serde_json::from_value::<Change>(value).unwrap(), change);
    }
}
