//! Request bodies of the store's routes, and the rules on message text.
//!
//! Fields that must be ids or user ids are typed, so a body that names an
//! impossible id is refused while it is parsed.

use crate::ids::{EntityId, Up};
use crate::model::GroupKind;
use crate::schema;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use utoipa::openapi::schema::{
    AllOfBuilder, AnyOfBuilder, ArrayBuilder, Object, ObjectBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{IntoParams, PartialSchema, ToSchema};

/// The longest group name, in characters (after trimming).
pub const MAX_GROUP_NAME_CHARS: usize = 200;
/// The longest matchmaking topic, in characters (after trimming).
pub const MAX_TOPIC_CHARS: usize = 100;
/// The smallest matchmaking capacity.
pub const MIN_CAPACITY: u32 = 2;
/// The largest matchmaking capacity.
pub const MAX_CAPACITY: u32 = 1000;
/// The longest message text by default, in characters (after trimming);
/// the store's `STORE_MAX_MESSAGE_CHARS` sets it.
pub const DEFAULT_MAX_MESSAGE_CHARS: usize = 4000;

/// `POST /group`: a new group.
///
/// Its schema is written by hand (see [`PartialSchema`] below): the rules
/// that tie fields together (someone in `users` or `admins`; `topic` and
/// `capacity` for a `match` group) are beyond the derive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    #[serde(default, deserialize_with = "crate::whole::deserialize")]
    pub history_min_online: u32,
    /// `group` (default) or `match`; direct groups are made by `POST /group/direct`.
    #[serde(default)]
    pub kind: Option<GroupKind>,
    /// Matchmaking topic, for `match` groups.
    #[serde(default)]
    pub topic: Option<String>,
    /// Matchmaking capacity, for `match` groups.
    #[serde(default, deserialize_with = "crate::whole::option")]
    pub capacity: Option<u32>,
}

fn up_ref() -> RefOr<Schema> {
    Ref::from_schema_name(Up::name()).into()
}

fn users_schema(description: &str) -> ArrayBuilder {
    ArrayBuilder::new()
        .items(up_ref())
        .description(Some(description))
}

fn object() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::Object)
}

fn group_kind_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some([
            serde_json::json!("group"),
            serde_json::json!("match"),
            serde_json::Value::Null,
        ]))
        .description(Some(
            "`group` (the default) or `match`; direct groups are made by `POST /group/direct`.",
        ))
        .build()
}

impl PartialSchema for NewGroup {
    fn schema() -> RefOr<Schema> {
        let fields = object()
            .description(Some("`POST /group`: a new group."))
            .property(
                "name",
                schema::trimmed_text(MAX_GROUP_NAME_CHARS, "The display name."),
            )
            .required("name")
            .property("users", users_schema("The members."))
            .required("users")
            .property(
                "admins",
                users_schema("The admins (each also becomes a member); none by default."),
            )
            .property(
                "open",
                ObjectBuilder::new()
                    .schema_type(Type::Boolean)
                    .description(Some(
                        "Whether anyone may join by themselves; `false` by default.",
                    )),
            )
            .property(
                "historyMinOnline",
                schema::whole_number(
                    0,
                    u64::from(u32::MAX),
                    "Members that must be online before history is shown; 0 by default.",
                ),
            )
            .property("kind", group_kind_schema())
            .property(
                "topic",
                ObjectBuilder::new()
                    .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                    .description(Some(
                        "Matchmaking topic: required for `match` groups (trimmed, then 1 to 100 \
                         characters), ignored for others.",
                    )),
            )
            .property(
                "capacity",
                schema::optional_whole_number(
                    0,
                    u64::from(u32::MAX),
                    "Matchmaking capacity: required for `match` groups (2 to 1000, and at least \
                     the number of different users and admins), ignored for others.",
                ),
            )
            .additional_properties(Some(
                utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
            ));
        let someone = AnyOfBuilder::new()
            .item(object().property("users", ArrayBuilder::new().min_items(Some(1))))
            .item(
                object()
                    .property("admins", ArrayBuilder::new().min_items(Some(1)))
                    .required("admins"),
            )
            .description(Some("At least one user or admin."));
        let kind_rules = AnyOfBuilder::new()
            .item(
                object().property(
                    "kind",
                    ObjectBuilder::new()
                        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                        .enum_values(Some([serde_json::json!("group"), serde_json::Value::Null])),
                ),
            )
            .item(
                object()
                    .property(
                        "kind",
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .enum_values(Some(["match"])),
                    )
                    .property(
                        "topic",
                        schema::trimmed_text(MAX_TOPIC_CHARS, "The matchmaking topic."),
                    )
                    .property(
                        "capacity",
                        schema::whole_number(
                            u64::from(MIN_CAPACITY),
                            u64::from(MAX_CAPACITY),
                            "The room size.",
                        ),
                    )
                    .required("kind")
                    .required("topic")
                    .required("capacity"),
            )
            .description(Some(
                "A `group` (the default), or a `match` group with its `topic` and `capacity`.",
            ));
        AllOfBuilder::new()
            .item(fields)
            .item(someone)
            .item(kind_rules)
            .description(Some(
                "`POST /group`: a new group. Duplicates in `users` and `admins` are removed; \
                 admins become members too.",
            ))
            .into()
    }
}

impl ToSchema for NewGroup {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("NewGroup")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((Up::name().into_owned(), Up::schema()));
    }
}

/// `POST /group/match`: a place for `up` in a `match` group of `topic` that
/// still has space, or a new one (docs/store-api.md, matchmaking).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindMatch {
    /// Who looks for a room.
    pub up: Up,
    /// The topic, 1 to 100 characters.
    #[schema(schema_with = topic_schema)]
    pub topic: String,
    /// The room size, 2 to 1000.
    #[serde(deserialize_with = "crate::whole::deserialize")]
    #[schema(minimum = 2, maximum = 1000)]
    pub capacity: u32,
}

fn topic_schema() -> Object {
    schema::trimmed_text(MAX_TOPIC_CHARS, "The topic.")
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
    #[schema(schema_with = schema::two_users)]
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
    #[schema(value_type = crate::ids::AnsweredId)]
    pub group: EntityId,
    /// The reader.
    pub up: Up,
    /// The newest message they have read (never moves back).
    #[schema(value_type = crate::ids::AnsweredId)]
    pub message_id: EntityId,
    /// Messages after it.
    pub unread: u64,
    /// Of those, the ones that mention the user.
    pub mentions: u64,
    /// `true` in a direct group where one of the two users blocked the
    /// other: the marker moved, but no receipt is to be relayed (it would
    /// tell the other that the reader is there).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub quiet: bool,
}

/// `POST /message`: a new message: text, files, or both.
///
/// Its schema is written by hand (see [`new_message_schema`]): the text may
/// be blank only when the message carries attachments, a rule across two
/// fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// The group it goes to.
    pub group: EntityId,
    /// The sender; must be a member.
    pub from: Up,
    /// The text, 1 to `STORE_MAX_MESSAGE_CHARS` characters after trimming;
    /// it may be blank (or absent) when `attachments` is not empty.
    #[serde(default)]
    pub message: String,
    /// The sender's idempotency key: the same `(from, nonce)` is stored once.
    #[serde(default)]
    pub nonce: Option<String>,
    /// Attachments uploaded by `from` to `group` and not used by another
    /// message, at most 10 (docs/store-api.md, "Attachments").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<EntityId>,
    /// The message of the same group this one answers; the stored message
    /// quotes it (`replyTo`).
    #[serde(default, rename = "replyTo", skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<EntityId>,
}

/// The text of a message, for [`DEFAULT_MAX_MESSAGE_CHARS`]; the store
/// states its own limit with [`message_text_schema_for`].
fn message_text_schema() -> Object {
    message_text_schema_for(DEFAULT_MAX_MESSAGE_CHARS)
}

/// The text of a message when the limit is `max` characters.
pub fn message_text_schema_for(max: usize) -> Object {
    schema::trimmed_text(
        max,
        "The text (over the limit: `413 payload_too_large`; blank: `400`).",
    )
}

/// The schema of [`NewMessage`] when the text limit is `max` characters:
/// `message` is text (or blank, or absent, when `attachments` holds at
/// least one id).
pub fn new_message_schema(max: usize) -> Schema {
    let mut text = schema::trimmed_text(
        max,
        "The text (over the limit: `413 payload_too_large`). Blank or absent only when \
         `attachments` is not empty.",
    );
    let visible = text.pattern.take().unwrap_or_default();
    text.pattern = Some(format!("{visible}|^[{}]*$", schema::WHITE_SPACE_CLASS));
    text.min_length = None;
    let ids = ArrayBuilder::new()
        .items(Ref::from_schema_name(EntityId::name()))
        .max_items(Some(crate::attachments::MAX_ATTACHMENTS_PER_MESSAGE))
        .unique_items(true)
        .description(Some(
            "Attachments uploaded by `from` to `group` (`POST /attachment`) and used by no \
             other message, at most 10, no id twice.",
        ));
    let fields = object()
        .property("group", Ref::from_schema_name(EntityId::name()))
        .required("group")
        .property("from", up_ref())
        .required("from")
        .property("message", text)
        .property("nonce", nonce_schema())
        .property("attachments", ids)
        .property(
            "replyTo",
            AllOfBuilder::new()
                .item(Ref::from_schema_name(EntityId::name()))
                .description(Some(
                    "A message of the same group, not deleted, that this one answers: the \
                     stored message quotes it.",
                )),
        )
        .additional_properties(Some(
            utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
        ));
    let content = AnyOfBuilder::new()
        .item(
            object()
                .property("message", message_text_schema_for(max))
                .required("message"),
        )
        .item(
            object()
                .property("attachments", ArrayBuilder::new().min_items(Some(1)))
                .required("attachments"),
        )
        .description(Some("Some text, at least one attachment, or both."));
    AllOfBuilder::new()
        .item(fields)
        .item(content)
        .description(Some(
            "`POST /message`: a new message: text, files, or both.",
        ))
        .into()
}

impl PartialSchema for NewMessage {
    fn schema() -> RefOr<Schema> {
        new_message_schema(DEFAULT_MAX_MESSAGE_CHARS).into()
    }
}

impl ToSchema for NewMessage {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("NewMessage")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((Up::name().into_owned(), Up::schema()));
        schemas.push((EntityId::name().into_owned(), EntityId::schema()));
    }
}

/// Writes the message text limit `max` into a document's `NewMessage` and
/// `EditMessage` (their schemas state [`DEFAULT_MAX_MESSAGE_CHARS`]).
pub fn set_message_text_limit(openapi: &mut utoipa::openapi::OpenApi, max: usize) {
    let Some(components) = openapi.components.as_mut() else {
        return;
    };
    if let Some(new) = components.schemas.get_mut("NewMessage") {
        *new = new_message_schema(max).into();
    }
    if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut("EditMessage") {
        object
            .properties
            .insert("message".to_owned(), message_text_schema_for(max).into());
    }
}

/// The text of a new message: trimmed, 1 to `max` characters; or empty
/// when the message carries attachments (`with_attachments`).
pub fn parse_message_text(
    raw: &str,
    with_attachments: bool,
    max: usize,
) -> Result<String, TextError> {
    if with_attachments && raw.trim().is_empty() {
        return Ok(String::new());
    }
    parse_text("message", raw, max)
}

fn nonce_schema() -> Object {
    schema::optional_trimmed_text(
        MAX_NONCE_CHARS,
        "The sender's idempotency key: the same `(from, nonce)` is stored once.",
    )
}

/// `PATCH /message/{id}`: an edit by the author.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditMessage {
    /// Who edits; must be the author.
    pub from: Up,
    /// The new text.
    #[schema(schema_with = message_text_schema)]
    pub message: String,
}

/// `DELETE /message/{id}?from=`: who deletes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteMessageQuery {
    /// The author, or an admin of the group.
    #[param(value_type = Up, inline)]
    pub from: Up,
}

/// `POST /message/{id}/reactions`: a reaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReaction {
    /// Who reacts; must be a member of the message's group.
    pub up: Up,
    /// The reaction, e.g. `👍`: 1 to 16 characters, no spaces.
    #[schema(value_type = schema::Emoji)]
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
        let files_only = r#"{"group": "65f0c0ffee0000000000abcd", "from": "up1",
            "attachments": ["65f0c0ffee0000000000abce"]}"#;
        let files_only = serde_json::from_str::<NewMessage>(files_only).unwrap();
        assert_eq!(
            (files_only.message.as_str(), files_only.attachments.len()),
            ("", 1)
        );
    }

    #[test]
    fn blank_text_is_allowed_only_beside_attachments() {
        assert_eq!(parse_message_text("  ", true, 5).unwrap(), "");
        assert_eq!(parse_message_text(" hi ", true, 5).unwrap(), "hi");
        assert_eq!(
            parse_message_text("  ", false, 5),
            Err(TextError::Empty("message"))
        );
        assert!(matches!(
            parse_message_text("toolong", true, 5),
            Err(TextError::TooLong { .. })
        ));
    }
}
