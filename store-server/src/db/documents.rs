//! The documents as MongoDB stores them, and their conversion to wire types.
//!
//! Stored documents use `ObjectId` and BSON dates; the wire uses hex ids and
//! RFC 3339 text. The two meet only in the `From` impls here.

use chat_wire::attachments::{Attachment, Thumbnail};
use chat_wire::cluster::NodeId;
use chat_wire::ids::{EntityId, Up};
use chat_wire::model::{Group, GroupKind, Message, Quote, User};
use chat_wire::retention::Retention;
use chat_wire::time::Timestamp;
use mongodb::bson::DateTime;
use mongodb::bson::oid::ObjectId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use crate::retention::progress::SweepDoc;

/// Collection names.
pub mod collections {
    /// Groups, direct conversations and matchmaking rooms.
    pub const GROUPS: &str = "groups";
    /// Chat messages.
    pub const MESSAGES: &str = "messages";
    /// Users.
    pub const USERS: &str = "users";
    /// Per-user read markers.
    pub const READS: &str = "reads";
    /// The chat nodes' registry.
    pub const NODES: &str = "nodes";
    /// The pairing queues, one document per pair of queues.
    pub const QUEUES: &str = "queues";
    /// The attachments' metadata; their bytes are in the GridFS bucket of
    /// the same name (`attachments.files`, `attachments.chunks`).
    pub const ATTACHMENTS: &str = "attachments";
}

/// A group in the `groups` collection.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupDoc {
    /// The id.
    #[serde(rename = "_id")]
    pub id: ObjectId,
    /// Display name.
    pub name: String,
    /// Group, direct or match.
    pub kind: GroupKind,
    /// Members.
    pub users: Vec<Up>,
    /// Admins (a subset of the members).
    pub admins: Vec<Up>,
    /// Whether anyone may join.
    pub open: bool,
    /// Members online before history shows.
    pub history_min_online: i64,
    /// Creation time.
    pub created_at: DateTime,
    /// The number of the newest acked message, which is also the group's
    /// message count (numbers have no gaps; see `message_writer`). Raised
    /// with `$max` before each message is acked.
    #[serde(default)]
    pub message_count: i64,
    /// `a|b` for a direct group of `a` and `b` (sorted), unique.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct_key: Option<String>,
    /// Matchmaking topic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Matchmaking capacity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<i64>,
    /// A pair's private room made by the queues: `find room` never hands
    /// it out, even with a place free.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pair: bool,
    /// How long its messages are kept; absent for `forever`.
    #[serde(default, skip_serializing_if = "Retention::is_forever")]
    pub retention: Retention,
    /// What the retention sweep has deleted so far (`crate::retention`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<SweepDoc>,
}

impl GroupDoc {
    /// A new group of `users`: no admins, closed, no history gate, no
    /// messages, not direct and not a matchmaking room. Callers set the rest
    /// with struct update syntax.
    pub fn new(name: String, kind: GroupKind, users: Vec<Up>) -> Self {
        Self {
            id: ObjectId::new(),
            name,
            kind,
            users,
            admins: Vec::new(),
            open: false,
            history_min_online: 0,
            created_at: DateTime::now(),
            message_count: 0,
            direct_key: None,
            topic: None,
            capacity: None,
            pair: false,
            retention: Retention::Forever,
            sweep: None,
        }
    }
}

impl From<GroupDoc> for Group {
    fn from(doc: GroupDoc) -> Self {
        Group {
            id: entity_id(doc.id),
            name: doc.name,
            kind: doc.kind,
            users: doc.users,
            admins: doc.admins,
            open: doc.open,
            history_min_online: clamp_u32(doc.history_min_online),
            created_at: to_chrono(doc.created_at),
            retention: doc.retention,
            topic: doc.topic,
            capacity: doc.capacity.map(clamp_u32),
            unread: None,
            mentions: None,
        }
    }
}

/// One reaction: who reacted with what. Kept as a list of pairs, not a map,
/// because emoji are not safe as BSON field names (`.`, `$`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionDoc {
    /// The emoji.
    pub e: String,
    /// The user.
    pub u: Up,
}

/// A message in the `messages` collection.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageDoc {
    /// The id.
    #[serde(rename = "_id")]
    pub id: ObjectId,
    /// The group.
    pub group: ObjectId,
    /// Position in the group, from 1; the order of paging and cursors.
    pub seq: i64,
    /// The sender.
    pub from: Up,
    /// The text.
    pub message: String,
    /// When it was stored.
    pub timestamp: DateTime,
    /// The sender's idempotency key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// `from` and `nonce` (or the caller's idempotency key) joined, unique:
    /// the same key is stored once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce_key: Option<String>,
    /// Last edit time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<DateTime>,
    /// Soft-deleted.
    #[serde(default)]
    pub deleted: bool,
    /// Reactions in the order they came.
    #[serde(default)]
    pub reactions: Vec<ReactionDoc>,
    /// Last edit, delete or reaction time, for `GET /group/{id}/changes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_at: Option<DateTime>,
    /// The attachments' metadata as they were claimed (their bytes are in
    /// GridFS under the same ids); emptied when the message is deleted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentMeta>,
    /// The quote of the message it answers, kept up to date (`db::replies`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<QuoteDoc>,
    /// The members its text names (`chat_wire::mentions`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<Up>,
    /// The distinct folded words of its text, what search finds it by
    /// (`chat_wire::search::terms_of`; empty once deleted). Absent only on
    /// messages stored before search existed, until the backfill
    /// (`db::search_backfill`) writes them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terms: Option<Vec<String>>,
    /// Set while nobody has heard of its creation (the sender stopped
    /// waiting before the store's answer); taken off by its first retry
    /// (`db::untold`). Never on the wire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub untold: Option<bool>,
}

impl MessageDoc {
    /// A message as stored when it is sent with text only: its search
    /// terms, and no nonce, edit, reaction, file, reply or mention.
    pub fn sent(
        id: ObjectId,
        group: ObjectId,
        seq: i64,
        from: Up,
        message: String,
        timestamp: DateTime,
    ) -> Self {
        Self {
            terms: Some(chat_wire::search::terms_of(&message)),
            id,
            group,
            seq,
            from,
            message,
            timestamp,
            nonce: None,
            nonce_key: None,
            edited_at: None,
            deleted: false,
            reactions: Vec::new(),
            changed_at: None,
            attachments: Vec::new(),
            reply_to: None,
            mentions: Vec::new(),
            untold: None,
        }
    }
}

/// A reply's quote of the message it answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuoteDoc {
    /// The original's id.
    pub id: ObjectId,
    /// Its sender.
    pub from: Up,
    /// The start of its text (empty once it is deleted).
    pub snippet: String,
    /// Whether it was deleted.
    #[serde(default)]
    pub deleted: bool,
}

impl From<QuoteDoc> for Quote {
    fn from(doc: QuoteDoc) -> Self {
        Quote {
            id: entity_id(doc.id),
            from: doc.from,
            snippet: doc.snippet,
            deleted: doc.deleted,
        }
    }
}

/// What a message keeps of one of its attachments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentMeta {
    /// The attachment's id, also its GridFS file's id.
    #[serde(rename = "_id")]
    pub id: ObjectId,
    /// The file name.
    pub name: String,
    /// The sniffed media type.
    #[serde(rename = "type")]
    pub content_type: String,
    /// Bytes.
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
}

/// A thumbnail: its own GridFS file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThumbnailDoc {
    /// Its GridFS file's id.
    #[serde(rename = "_id")]
    pub id: ObjectId,
    /// Pixels.
    pub width: i64,
    /// Pixels.
    pub height: i64,
    /// Its media type.
    #[serde(rename = "type")]
    pub content_type: String,
    /// Bytes.
    pub size: i64,
}

impl From<AttachmentMeta> for Attachment {
    fn from(meta: AttachmentMeta) -> Self {
        Attachment {
            id: entity_id(meta.id),
            name: meta.name,
            content_type: meta.content_type,
            size: u64::try_from(meta.size).unwrap_or(0),
            width: meta.width.map(clamp_u32),
            height: meta.height.map(clamp_u32),
            thumbnail: meta.thumbnail.map(|thumbnail| Thumbnail {
                width: clamp_u32(thumbnail.width),
                height: clamp_u32(thumbnail.height),
                content_type: thumbnail.content_type,
                url: None,
            }),
            url: None,
        }
    }
}

/// The unique idempotency key of `(from, nonce)`; `|` cannot occur in an `up`.
pub fn nonce_key(from: &Up, nonce: &str) -> String {
    format!("{from}|{nonce}")
}

/// The unique key of a message sent with an `Idempotency-Key` and no
/// nonce; `#` cannot occur in an `up`, so it never equals a nonce's key.
pub fn idempotency_key(from: &Up, key: &str) -> String {
    format!("{from}#{key}")
}

impl From<MessageDoc> for Message {
    fn from(doc: MessageDoc) -> Self {
        let mut reactions: BTreeMap<String, Vec<Up>> = BTreeMap::new();
        for ReactionDoc { e, u } in doc.reactions {
            reactions.entry(e).or_default().push(u);
        }
        Message {
            id: entity_id(doc.id),
            group: entity_id(doc.group),
            from: doc.from,
            message: doc.message,
            timestamp: to_chrono(doc.timestamp),
            nonce: doc.nonce,
            edited_at: doc.edited_at.map(to_chrono),
            changed_at: doc.changed_at.map(to_chrono),
            deleted: doc.deleted,
            reactions,
            attachments: doc.attachments.into_iter().map(Attachment::from).collect(),
            reply_to: doc.reply_to.map(Quote::from),
            mentions: doc.mentions,
            hidden: false,
        }
    }
}

/// A user in the `users` collection; the `up` is the id.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserDoc {
    /// The user id.
    #[serde(rename = "_id")]
    pub up: Up,
    /// Handle.
    pub username: String,
    /// Full name.
    pub name: String,
    /// Online now.
    pub online: bool,
    /// Last time they went offline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<DateTime>,
    /// The chat nodes where they have a socket; online while one of them
    /// is live.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<NodeId>,
}

impl From<UserDoc> for User {
    fn from(doc: UserDoc) -> Self {
        User {
            up: doc.up,
            username: doc.username,
            name: doc.name,
            online: doc.online,
            last_seen: doc.last_seen.map(to_chrono),
        }
    }
}

/// A read marker in the `reads` collection: the newest message a user has
/// read in a group. The id is [`read_key`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadDoc {
    /// `group-hex|up`.
    #[serde(rename = "_id")]
    pub key: String,
    /// The group.
    pub group: ObjectId,
    /// The reader.
    pub up: Up,
    /// The sequence number of the newest message read.
    pub seq: i64,
    /// The newest message read.
    pub message_id: ObjectId,
}

/// The id of the read marker of `up` in `group`.
pub fn read_key(group: &ObjectId, up: &Up) -> String {
    format!("{}|{up}", group.to_hex())
}

/// A hex id as the wire carries it.
pub fn entity_id(id: ObjectId) -> EntityId {
    EntityId::parse(id.to_hex()).expect("an ObjectId is always 24 hex digits")
}

/// The ObjectId of a validated wire id.
pub fn object_id(id: &EntityId) -> ObjectId {
    ObjectId::parse_str(id.as_str()).expect("an EntityId is always 24 hex digits")
}

/// A BSON date as a wire timestamp.
pub fn to_chrono(at: DateTime) -> Timestamp {
    chrono::DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or_default()
}

/// A wire timestamp as a BSON date (millisecond precision).
pub fn to_bson(at: Timestamp) -> DateTime {
    DateTime::from_millis(at.timestamp_millis())
}

fn clamp_u32(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reactions_are_grouped_by_emoji_in_arrival_order() {
        let up = |s: &str| Up::parse(s).unwrap();
        let doc = MessageDoc {
            id: ObjectId::new(),
            group: ObjectId::new(),
            seq: 1,
            from: up("a"),
            message: "hi".into(),
            timestamp: DateTime::now(),
            nonce: None,
            nonce_key: None,
            edited_at: None,
            deleted: false,
            reactions: vec![
                ReactionDoc {
                    e: "👍".into(),
                    u: up("b"),
                },
                ReactionDoc {
                    e: "❤".into(),
                    u: up("a"),
                },
                ReactionDoc {
                    e: "👍".into(),
                    u: up("a"),
                },
            ],
            changed_at: None,
            attachments: Vec::new(),
            reply_to: None,
            mentions: Vec::new(),
            terms: None,
            untold: None,
        };
        let message = Message::from(doc);
        assert_eq!(message.reactions["👍"], vec![up("b"), up("a")]);
        assert_eq!(message.reactions["❤"], vec![up("a")]);
    }

    #[test]
    fn ids_and_times_survive_the_conversion() {
        let id = ObjectId::new();
        assert_eq!(object_id(&entity_id(id)), id);
        let at = DateTime::from_millis(1_655_122_543_333);
        assert_eq!(to_bson(to_chrono(at)), at);
        assert_eq!(
            chat_wire::time::format(&to_chrono(at)),
            "2022-06-13T12:15:43.333Z"
        );
    }
}
