//! Blocking users and hiding one's presence: the payloads of the socket
//! events `block`, `unblock`, `blocked`, `presence visible` and
//! `presence setting`, and the store's bodies for the same.
//!
//! A user may block at most [`MAX_BLOCKED`] users. A blocked user cannot
//! open or continue a direct conversation with the blocker, and never sees
//! the blocker's presence; a user whose presence is hidden is seen by
//! nobody (docs/chat-api.md, "Blocking and hiding presence").

use crate::ids::Up;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The most users one user may block.
pub const MAX_BLOCKED: usize = 1000;

/// `block {up}` and `unblock {up}`: the other user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRef {
    /// The user to block or unblock.
    pub up: Up,
}

/// The users a user has blocked, oldest block first: the ack of `blocked`
/// and the store's answer to every block route.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockedList {
    /// At most [`MAX_BLOCKED`] users.
    #[schema(max_items = 1000)]
    pub items: Vec<Up>,
}

/// `presence visible {visible}`: show (`true`) or hide one's presence; also
/// the ack of `presence setting`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceVisible {
    /// Whether others may see the user online and when they were last seen.
    pub visible: bool,
}

/// `PUT /user/{up}/presence`: the user's presence setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisibilityUpdate {
    /// Whether others may see the user online and when they were last seen.
    pub visible: bool,
}

/// The store's answer about a user's presence setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Visibility {
    /// Whether others may see the user's presence now.
    pub visible: bool,
    /// Whether this request changed it (`false` when it was so already, and
    /// always on a read).
    pub changed: bool,
}

/// `GET /group/{id}/presence?viewer=`: whose view of the group's presence.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ViewerQuery {
    /// Lists only the members whose presence this user may see (and the
    /// user); without it, every member online.
    #[serde(default)]
    #[param(value_type = Option<Up>, inline)]
    pub viewer: Option<Up>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_store_body_refuses_unknown_fields_and_an_event_payload_ignores_them() {
        assert!(
            serde_json::from_value::<VisibilityUpdate>(json!({"visible": true, "x": 1})).is_err()
        );
        let event: PresenceVisible =
            serde_json::from_value(json!({"visible": false, "up": "someone"})).unwrap();
        assert!(!event.visible);
        assert!(serde_json::from_value::<PresenceVisible>(json!({})).is_err());
        assert!(serde_json::from_value::<PresenceVisible>(json!({"visible": "no"})).is_err());
    }

    #[test]
    fn a_user_ref_is_a_valid_up() {
        assert!(serde_json::from_value::<UserRef>(json!({"up": "up1"})).is_ok());
        assert!(serde_json::from_value::<UserRef>(json!({"up": "a/b"})).is_err());
        assert!(serde_json::from_value::<UserRef>(json!({"up": ".."})).is_err());
        assert!(serde_json::from_value::<UserRef>(json!({})).is_err());
    }
}
