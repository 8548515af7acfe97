//! What chat nodes and the store tell each other about the cluster: the node
//! registry, who is online on which node, and the pairing queues.
//!
//! These travel only between chat nodes and the store (internal routes
//! behind the service token); no client ever sees them.

use crate::events::QueueKind;
use crate::ids::{EntityId, Up};
use crate::model::Group;
use crate::time::{self, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use utoipa::ToSchema;

/// How long a node counts as live after its last heartbeat.
pub const NODE_TTL_SECONDS: i64 = 15;

/// Why a string is not a valid cluster key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid {what} (1 to 64 characters of A-Z a-z 0-9 . _ -)")]
pub struct KeyError {
    what: &'static str,
    value: String,
}

/// Checks the alphabet shared by node and socket ids, which travel in paths.
fn parse_key(what: &'static str, raw: String) -> Result<String, KeyError> {
    let valid_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if raw.is_empty() || raw.len() > 64 || !raw.chars().all(valid_char) || is_only_dots(&raw) {
        let value = raw.chars().take(80).collect();
        return Err(KeyError { what, value });
    }
    Ok(raw)
}

/// `.` and `..` are path segments of their own: never accepted as ids.
fn is_only_dots(raw: &str) -> bool {
    raw.chars().all(|c| c == '.')
}

macro_rules! cluster_key {
    ($(#[$doc:meta])* $name:ident, $what:literal, $example:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        #[serde(try_from = "String", into = "String")]
        #[schema(
            value_type = String,
            example = $example,
            pattern = r"^(?!\.+$)[A-Za-z0-9._-]{1,64}$",
            min_length = 1,
            max_length = 64
        )]
        pub struct $name(String);

        impl $name {
            /// Parses an id of 1 to 64 characters of `[A-Za-z0-9._-]`, not only dots.
            pub fn parse(raw: impl Into<String>) -> Result<Self, KeyError> {
                parse_key($what, raw.into()).map(Self)
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = KeyError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

cluster_key!(
    /// A chat node's id in the registry (`CHAT_NODE_ID`).
    NodeId,
    "node id",
    "chat-a"
);

cluster_key!(
    /// A Socket.IO socket id, as a chat node names one of its sockets.
    SocketId,
    "socket id",
    "x7Hq0aZ-3vYk_1Lb"
);

/// `PUT /node/{id}`: a node's heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeHeartbeat {
    /// The node's public URL, where clients connect: an absolute `http` or
    /// `https` URL with a host and no user information, of at most 2048
    /// printable ASCII characters.
    #[schema(
        pattern = r"^https?://[A-Za-z0-9._~%:\[\]-]+(/[!-~]*)?$",
        min_length = 8,
        max_length = 2048
    )]
    pub url: String,
    /// Whether it is draining: live, but no longer taking users.
    pub draining: bool,
    /// Its open Socket.IO connections (stored up to 9223372036854775807).
    #[serde(deserialize_with = "crate::whole::deserialize")]
    #[schema(schema_with = connections_schema)]
    pub connections: u64,
}

/// The longest node URL, in characters (printable ASCII, so also in bytes).
pub const MAX_NODE_URL_CHARS: usize = 2048;
/// What [`is_valid_node_url`] accepts, for error messages.
pub const NODE_URL_RULE: &str = "an absolute http:// or https:// URL with a host and no \
     user information, of at most 2048 printable ASCII characters";
/// [`is_valid_node_url`] as a regular expression, for the OpenAPI document.
pub const NODE_URL_PATTERN: &str = r"^https?://[A-Za-z0-9._~%:\[\]-]+(/[!-~]*)?$";

/// Whether `url` may be a node's public URL, which clients are sent to
/// (`migrate`, `/chat/location`) with their token: an absolute `http` or
/// `https` URL (never `javascript:` or the like), whose host part has no
/// user information (a credential would be handed to every client), of at
/// most [`MAX_NODE_URL_CHARS`] printable ASCII characters.
pub fn is_valid_node_url(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
    else {
        return false;
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let authority_ok = !authority.is_empty()
        && authority
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._~%:[]-".contains(&b));
    url.len() <= MAX_NODE_URL_CHARS && authority_ok && path.bytes().all(|b| b.is_ascii_graphic())
}

fn connections_schema() -> utoipa::openapi::schema::Object {
    crate::schema::whole_number(
        0,
        u64::MAX,
        "Its open Socket.IO connections (stored up to 9223372036854775807).",
    )
}

/// A registered node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Node {
    /// Its id.
    pub id: NodeId,
    /// Its public URL.
    pub url: String,
    /// Whether it is draining.
    pub draining: bool,
    /// Its open connections at the last heartbeat.
    pub connections: u64,
    /// When its last heartbeat arrived.
    #[serde(with = "time::millis")]
    #[schema(value_type = String, format = DateTime)]
    pub seen_at: Timestamp,
}

/// The answer to `PUT /node/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodeRegistration {
    /// The node as registered now.
    pub node: Node,
    /// `true` when the registry did not know the node: its first heartbeat,
    /// or one after it was taken for dead and removed.
    pub created: bool,
}

/// `GET /node`: nodes, `{items}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NodeList {
    /// The nodes.
    pub items: Vec<Node>,
}

/// The most users in one [`PresenceBatch`] list.
pub const MAX_PRESENCE_BATCH: usize = 1000;

/// `POST /node/{id}/users`: the users whose first socket arrived on the
/// node and those whose last socket left it, written together (the joined
/// first). Each list names a user at most once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PresenceBatch {
    /// Users who now have a socket on the node.
    #[serde(default)]
    #[schema(schema_with = crate::schema::presence_batch_users)]
    pub joined: Vec<Up>,
    /// Users who no longer have a socket on the node.
    #[serde(default)]
    #[schema(schema_with = crate::schema::presence_batch_users)]
    pub left: Vec<Up>,
}

impl PresenceBatch {
    /// Whether neither list names anyone.
    pub fn is_empty(&self) -> bool {
        self.joined.is_empty() && self.left.is_empty()
    }

    /// Every listed user, the joined first, with `true` for the joined.
    pub fn users(&self) -> impl Iterator<Item = (&Up, bool)> {
        let joined = self.joined.iter().map(|up| (up, true));
        joined.chain(self.left.iter().map(|up| (up, false)))
    }
}

/// The answer to `POST /node/{id}/users`: one change per user of the batch,
/// the joined first, each list in its order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PresenceChanges {
    /// The changes.
    pub items: Vec<PresenceChange>,
}

/// A user whose presence changed on one node, and what it means for the
/// whole cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PresenceChange {
    /// The user.
    pub up: Up,
    /// Whether they are online somewhere in the cluster now.
    pub online: bool,
    /// Whether this change moved them between online and offline for the
    /// whole cluster: exactly one node sees `true` per transition, and it
    /// announces it.
    pub changed: bool,
    /// When they went offline, when they did.
    #[serde(
        default,
        with = "time::millis_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_seen: Option<Timestamp>,
    /// Who may hear of this transition, when it is one (`changed`).
    #[serde(flatten)]
    pub audience: PresenceAudience,
}

/// Who may hear of a user's presence: nobody but the user when they hide
/// it, and never the users they blocked (docs/chat-api.md, "Blocking and
/// hiding presence"). Filled in only for the transitions a node announces.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PresenceAudience {
    /// The user hides their presence: the transition is announced to nobody.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hidden: bool,
    /// The users this user blocked: their sockets must not hear it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 1000)]
    pub hidden_from: Vec<Up>,
}

/// A user who went offline for the whole cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OfflineUser {
    /// The user.
    pub up: Up,
    /// When.
    #[serde(with = "time::millis")]
    #[schema(value_type = String, format = DateTime)]
    pub last_seen: Timestamp,
    /// Who may hear of it.
    #[serde(flatten)]
    pub audience: PresenceAudience,
}

/// The answer to `DELETE /node/{id}`: the users who had no socket left
/// anywhere once the node was gone. The caller announces them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NodeRemoval {
    /// Users now offline, each reported to exactly one caller.
    pub offline: Vec<OfflineUser>,
}

/// `GET /group/{id}/presence`: a group and which of its members are online
/// on a live node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GroupPresence {
    /// The group.
    pub group: Group,
    /// Its members with a socket on a live node; with `?viewer=`, only those
    /// whose presence the viewer may see (and the viewer).
    pub online: Vec<Up>,
    /// The members online whose presence every member may see: neither
    /// hidden nor blocking another member. The history gate counts these,
    /// so that it never tells anyone more than they may see.
    #[serde(default, rename = "visibleOnline")]
    pub visible_online: Vec<Up>,
}

impl GroupPresence {
    /// Whether the group shows its history now: it has no history gate
    /// (`historyMinOnline` 0), or that many of its members are online and
    /// seen so by every member (`visibleOnline`).
    pub fn history_visible(&self) -> bool {
        let needed = self.group.history_min_online as usize;
        needed == 0 || self.visible_online.len() >= needed
    }
}

/// `GET /group/user/{up}/ids`: the ids of every group of a user, oldest
/// first; what a chat node needs to put a connecting socket in its rooms,
/// without the members, unread counts or paging of the full listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GroupIds {
    /// The group ids.
    pub ids: Vec<EntityId>,
}

/// The most users in one [`GroupIdsRequest`].
pub const MAX_GROUP_IDS_USERS: usize = 1000;

/// `POST /group/ids`: the ids of the groups of many users at once, read in
/// one query (a chat node asks for the users whose sockets are connecting
/// at the same time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupIdsRequest {
    /// The users.
    #[schema(schema_with = crate::schema::group_ids_users)]
    pub ups: Vec<Up>,
}

/// The answer to `POST /group/ids`: one entry per listed user, in the
/// order listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GroupIdsOfUsers {
    /// The users' group ids.
    pub items: Vec<UserGroupIds>,
}

impl GroupIdsOfUsers {
    /// Each listed user's group ids, to look up by user (a user listed
    /// twice is there once).
    pub fn by_user(self) -> HashMap<Up, Vec<EntityId>> {
        self.items
            .into_iter()
            .map(|user| (user.up, user.ids))
            .collect()
    }
}

/// The ids of every group of one user, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserGroupIds {
    /// The user.
    pub up: Up,
    /// The group ids.
    pub ids: Vec<EntityId>,
}

/// `POST /queue`: a socket waits to be paired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinQueue {
    /// Which queue.
    pub queue: QueueKind,
    /// Who waits.
    pub up: Up,
    /// The waiting socket (one place in the queues per socket).
    pub socket: SocketId,
    /// The socket's node.
    pub node: NodeId,
}

/// The partner a socket was paired with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct QueuePartner {
    /// The partner.
    pub up: Up,
    /// Their socket.
    pub socket: SocketId,
}

/// The answer to `POST /queue`: waiting, or paired in a new room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct QueueOutcome {
    /// `true` while the socket waits; `false` once paired.
    pub queued: bool,
    /// The pair's new `match` group, once paired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<Group>,
    /// Who it was paired with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner: Option<QueuePartner>,
}

/// The answer to `DELETE /queue/{socket}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct QueueLeft {
    /// Whether the socket was waiting.
    pub removed: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_and_socket_ids_are_path_safe_and_never_only_dots() {
        assert!(NodeId::parse("chat-a.1_x").is_ok());
        assert!(SocketId::parse("x7Hq0aZ-3vYk_1Lb").is_ok());
        for bad in ["", ".", "..", "a/b", "a b", "é", &"x".repeat(65)] {
            assert!(NodeId::parse(bad).is_err(), "{bad:?} must be refused");
        }
        assert_eq!(
            NodeId::parse("..").unwrap_err().to_string(),
            "`..` is not a valid node id (1 to 64 characters of A-Z a-z 0-9 . _ -)"
        );
    }

    #[test]
    fn node_urls_are_absolute_web_urls_without_credentials() {
        for good in [
            "http://chat-a:8080/x?y=%C3%A9",
            "https://chat.example.edu",
            "http://[::1]:8080/",
            "http://127.0.0.1:8080",
        ] {
            assert!(is_valid_node_url(good), "{good:?} must be accepted");
        }
        let long = format!("http://a/{}", "x".repeat(MAX_NODE_URL_CHARS - 9));
        assert!(is_valid_node_url(&long));
        assert!(NODE_URL_RULE.contains(&MAX_NODE_URL_CHARS.to_string()));
        for bad in [
            "",
            "javascript:alert(1)",
            "javascript://chat-a/%0Aalert(1)",
            "data:text/html,hi",
            "//chat-a:8080",
            "chat-a:8080",
            "http://",
            "http://user:pass@chat-a",
            "http://a b",
            "http://é",
            "http://a/\n",
            &format!("{long}x"),
        ] {
            assert!(!is_valid_node_url(bad), "{bad:?} must be refused");
        }
        let schema =
            serde_json::to_value(<NodeHeartbeat as utoipa::PartialSchema>::schema()).unwrap();
        assert_eq!(
            schema["properties"]["url"]["pattern"], NODE_URL_PATTERN,
            "the document states the rule the store applies"
        );
        let pattern = regex::Regex::new(NODE_URL_PATTERN).unwrap();
        assert!(pattern.is_match("http://chat-a:8080/x?y=1"));
        assert!(!pattern.is_match("http://u@chat-a"));
        assert!(!pattern.is_match("javascript:alert(1)"));
    }

    #[test]
    fn a_queue_outcome_names_the_room_only_once_paired() {
        let waiting = QueueOutcome {
            queued: true,
            room: None,
            partner: None,
        };
        assert_eq!(
            serde_json::to_value(&waiting).unwrap(),
            serde_json::json!({"queued": true})
        );
    }
}
