//! JSON Schemas of the OpenAPI documents that the derive attributes cannot
//! write: trimmed text, reactions, unsigned integers wider than `int32`,
//! the paging query of the lists, and the optional headers of the store's
//! writes (a header is text or absent, never `null`).
//!
//! Each one says exactly what the parsing in this crate accepts, so that a
//! client (or a fuzzer) reading the document sends nothing the services
//! refuse, and learns what they refuse.

use crate::cluster::{MAX_GROUP_IDS_USERS, MAX_PRESENCE_BATCH};
use crate::paging::{DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE};
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, Object, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat,
    SchemaType, Type,
};
use utoipa::openapi::{RefOr, path};
use utoipa::{PartialSchema, ToSchema};

/// The characters `str::trim` removes (Unicode `White_Space`), as the
/// inside of a regex character class (ECMA 262, Python and Rust alike).
pub const WHITE_SPACE_CLASS: &str =
    r"\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";

/// The characters a reaction may not hold: Unicode `White_Space` and the
/// control characters (`Cc`), as the inside of a regex character class.
const NOT_IN_EMOJI_CLASS: &str =
    r"\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";

/// A regex matched by exactly the texts that, trimmed, hold 1 to `max`
/// characters ([`crate::requests::parse_text`]).
pub fn trimmed_text_pattern(max: usize) -> String {
    let space = format!("[{WHITE_SPACE_CLASS}]");
    let visible = format!("[^{WHITE_SPACE_CLASS}]");
    let middle = match max {
        0 | 1 => String::new(),
        _ => format!(r"(?:[\s\S]{{0,{}}}{visible})?", max - 2),
    };
    format!("^{space}*{visible}{middle}{space}*$")
}

/// The regex of a reaction: 1 to 16 characters, no spaces or control
/// characters ([`crate::requests::parse_emoji`]).
pub fn emoji_pattern() -> String {
    format!("^[^{NOT_IN_EMOJI_CLASS}]{{1,16}}$")
}

/// A string field that is trimmed and must then hold 1 to `max` characters.
pub fn trimmed_text(max: usize, description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .pattern(Some(trimmed_text_pattern(max)))
        .description(Some(format!(
            "{description} Trimmed; then 1 to {max} characters."
        )))
        .build()
}

/// [`trimmed_text`] that may also be `null` or absent.
pub fn optional_trimmed_text(max: usize, description: &str) -> Object {
    let mut schema = trimmed_text(max, description);
    schema.schema_type = SchemaType::from_iter([Type::String, Type::Null]);
    schema
}

/// A reaction: 1 to 16 characters, none of them a space or a control character.
pub fn emoji() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(16))
        .pattern(Some(emoji_pattern()))
        .description(Some(
            "A reaction, e.g. `👍`: 1 to 16 characters, no spaces or control characters.",
        ))
        .build()
}

/// A reaction as a schema component (the body field of a reaction and the
/// `{emoji}` of its path); the text itself travels as a plain string.
#[derive(Debug, Clone, Copy)]
pub struct Emoji;

impl PartialSchema for Emoji {
    fn schema() -> RefOr<Schema> {
        emoji().into()
    }
}

impl ToSchema for Emoji {}

/// An unsigned integer field: a whole number from `minimum` to `maximum`.
/// Its `format` is the narrowest that holds `maximum` (`int32`, `int64`,
/// else `uint64`): a `u32` field documented as `int32` would refuse on paper
/// what the service accepts.
pub fn whole_number(minimum: u64, maximum: u64, description: &str) -> Object {
    let format = if maximum <= i32::MAX as u64 {
        SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Int32)
    } else if maximum <= i64::MAX as u64 {
        SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Int64)
    } else {
        SchemaFormat::Custom("uint64".into())
    };
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(format))
        .minimum(Some(number(minimum)))
        .maximum(Some(number(maximum)))
        .description(Some(description))
        .build()
}

fn number(n: u64) -> utoipa::Number {
    usize::try_from(n).map_or(utoipa::Number::Float(n as f64), utoipa::Number::UInt)
}

/// [`whole_number`] that may also be `null` or absent.
pub fn optional_whole_number(minimum: u64, maximum: u64, description: &str) -> Object {
    let mut schema = whole_number(minimum, maximum, description);
    schema.schema_type = SchemaType::from_iter([Type::Integer, Type::Null]);
    schema
}

/// The `page` query parameter's schema.
fn page_schema() -> Object {
    let mut schema = whole_number(0, MAX_PAGE, "Page number (default 0).");
    schema.default = Some(0.into());
    schema
}

/// The `perPage` query parameter's schema.
fn per_page_schema() -> Object {
    let mut schema = whole_number(1, u64::from(MAX_PER_PAGE), "Items per page (default 20).");
    schema.default = Some(DEFAULT_PER_PAGE.into());
    schema
}

fn query_parameter(
    name: &str,
    schema: impl Into<RefOr<Schema>>,
    description: &str,
) -> path::Parameter {
    path::ParameterBuilder::new()
        .name(name)
        .parameter_in(path::ParameterIn::Query)
        .required(utoipa::openapi::Required::False)
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

/// An optional request header holding `text`.
fn header_parameter(name: &str, text: ObjectBuilder, description: &str) -> path::Parameter {
    path::ParameterBuilder::new()
        .name(name)
        .parameter_in(path::ParameterIn::Header)
        .required(utoipa::openapi::Required::False)
        .description(Some(description))
        .schema(Some(text))
        .build()
}

/// The `X-Chat-Node` header of the store's writes.
#[derive(Debug, Clone, Copy)]
pub struct ChatNodeHeader;

impl utoipa::IntoParams for ChatNodeHeader {
    fn into_params(_: impl Fn() -> Option<path::ParameterIn>) -> Vec<path::Parameter> {
        vec![header_parameter(
            "X-Chat-Node",
            ObjectBuilder::new().schema_type(Type::String),
            "Set by chat nodes (their node id): they apply their own changes to their sockets, \
             so the change is not recorded for `GET /changes`.",
        )]
    }
}

/// The longest `Idempotency-Key`.
pub const MAX_IDEMPOTENCY_KEY: usize = 128;

/// Whether `key` is a valid `Idempotency-Key`: 1 to
/// [`MAX_IDEMPOTENCY_KEY`] visible ASCII characters, no spaces.
pub fn is_idempotency_key(key: &str) -> bool {
    (1..=MAX_IDEMPOTENCY_KEY).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

/// The `Idempotency-Key` header of `POST /message`.
#[derive(Debug, Clone, Copy)]
pub struct IdempotencyKeyHeader;

impl utoipa::IntoParams for IdempotencyKeyHeader {
    fn into_params(_: impl Fn() -> Option<path::ParameterIn>) -> Vec<path::Parameter> {
        let key = ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(MAX_IDEMPOTENCY_KEY))
            .pattern(Some("^[!-~]+$"));
        vec![header_parameter(
            "Idempotency-Key",
            key,
            "Used when the body has no `nonce`: the same `(from, key)` is stored once, \
             and the key is not shown on the message.",
        )]
    }
}

/// The query of a list read by page number only: `page` (0 to 1,000,000)
/// and `perPage` (1 to 100). Cursors are refused on these lists.
#[derive(Debug, Clone, Copy)]
pub struct PageParams;

impl utoipa::IntoParams for PageParams {
    fn into_params(_: impl Fn() -> Option<path::ParameterIn>) -> Vec<path::Parameter> {
        vec![
            query_parameter(
                "page",
                page_schema(),
                "Page number, from 0 (default 0) to 1,000,000.",
            ),
            query_parameter(
                "perPage",
                per_page_schema(),
                "Items per page, 1 to 100 (default 20).",
            ),
        ]
    }
}

/// The query of a list of a group's messages: a page (`page`, `perPage`),
/// or `perPage` items `before` or `after` a message. At most one of `page`,
/// `before` and `after` may be given, so the document states them as one
/// object parameter (`style: form, explode: true`: each property is a query
/// parameter of its own) that is one of the three shapes.
#[derive(Debug, Clone, Copy)]
pub struct CursorPageParams;

impl CursorPageParams {
    fn shape(name: &str, cursor: Option<(&str, &str)>) -> Object {
        let mut shape = ObjectBuilder::new()
            .schema_type(Type::Object)
            .title(Some(name))
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .property("perPage", per_page_schema());
        shape = match cursor {
            None => shape.property("page", page_schema()),
            Some((cursor, description)) => {
                let mut id = match crate::ids::EntityId::schema() {
                    RefOr::T(Schema::Object(id)) => id,
                    _ => Object::with_type(Type::String),
                };
                id.description = Some(description.to_owned());
                shape.property(cursor, id).required(cursor)
            }
        };
        shape.build()
    }
}

impl utoipa::IntoParams for CursorPageParams {
    fn into_params(_: impl Fn() -> Option<path::ParameterIn>) -> Vec<path::Parameter> {
        let schema = OneOfBuilder::new()
            .item(Self::shape("by page", None))
            .item(Self::shape(
                "before a message",
                Some((
                    "before",
                    "The messages older than this message of the group, newest first.",
                )),
            ))
            .item(Self::shape(
                "after a message",
                Some((
                    "after",
                    "The messages newer than this message of the group, oldest first.",
                )),
            ));
        let parameter = path::ParameterBuilder::new()
            .name("paging")
            .parameter_in(path::ParameterIn::Query)
            .required(utoipa::openapi::Required::False)
            .style(Some(path::ParameterStyle::Form))
            .explode(Some(true))
            .description(Some(
                "Query parameters `page` (0 to 1,000,000, default 0) and `perPage` (1 to 100, \
                 default 20), newest first; or `before` / `after` a message id with `perPage`. \
                 At most one of `page`, `before` and `after`.",
            ))
            .schema(Some(schema))
            .build();
        vec![parameter]
    }
}

/// A list of users, each inlined with its pattern.
fn up_list(description: &str) -> ArrayBuilder {
    ArrayBuilder::new()
        .items(crate::ids::Up::schema())
        .description(Some(description))
}

/// The users of a direct conversation: exactly two different users.
pub fn two_users() -> RefOr<Schema> {
    up_list("Exactly two different users, in any order.")
        .min_items(Some(2))
        .max_items(Some(2))
        .unique_items(true)
        .into()
}

/// A list of a presence batch: at most [`MAX_PRESENCE_BATCH`] different users.
pub fn presence_batch_users() -> RefOr<Schema> {
    up_list(&format!(
        "At most {MAX_PRESENCE_BATCH} different users; none by default."
    ))
    .max_items(Some(MAX_PRESENCE_BATCH))
    .unique_items(true)
    .into()
}

/// The `ups` of a group ids request.
pub fn group_ids_users() -> RefOr<Schema> {
    up_list(&format!("1 to {MAX_GROUP_IDS_USERS} users."))
        .min_items(Some(1))
        .max_items(Some(MAX_GROUP_IDS_USERS))
        .into()
}

#[cfg(test)]
mod tests {

    #[test]
    fn an_idempotency_key_is_1_to_128_visible_ascii_characters() {
        assert!(is_idempotency_key("k-1"));
        assert!(is_idempotency_key(&"k".repeat(128)));
        assert!(!is_idempotency_key(""));
        assert!(!is_idempotency_key(&"k".repeat(129)));
        assert!(!is_idempotency_key("a b"));
        assert!(!is_idempotency_key("clé"));
    }

    use super::*;
    use crate::requests::{parse_emoji, parse_text};

    /// Strings around every edge of the rules: blanks of each kind, control
    /// characters, lengths at and past the limits.
    fn samples() -> Vec<String> {
        let blanks = [
            " ", "\t", "\n", "\r", "\u{b}", "\u{c}", "\u{85}", "\u{a0}", "\u{1680}", "\u{2000}",
            "\u{200a}", "\u{2028}", "\u{2029}", "\u{202f}", "\u{205f}", "\u{3000}",
        ];
        let others = [
            "a", "é", "👍", "\u{0}", "\u{1c}", "\u{1f}", "\u{7f}", "\u{9f}", "\u{feff}",
            "\u{180e}", "\u{200b}", "+", ".",
        ];
        let mut samples = vec![String::new()];
        for blank in blanks {
            samples.push(blank.to_owned());
            samples.push(format!("{blank}a{blank}"));
            samples.push(format!("a{blank}b"));
            samples.push(blank.repeat(20));
        }
        for other in others {
            samples.push(other.to_owned());
            samples.push(format!(" {other} "));
            for len in [3, 4, 5, 15, 16, 17] {
                samples.push(other.repeat(len));
                samples.push(format!("  {}\n", other.repeat(len)));
            }
        }
        samples
    }

    #[test]
    fn the_text_pattern_accepts_what_parse_text_accepts() {
        for max in [1, 2, 4, 16] {
            let pattern = regex::Regex::new(&trimmed_text_pattern(max)).unwrap();
            for sample in samples() {
                assert_eq!(
                    pattern.is_match(&sample),
                    parse_text("text", &sample, max).is_ok(),
                    "max {max}, {sample:?}"
                );
            }
        }
    }

    #[test]
    fn the_emoji_pattern_accepts_what_parse_emoji_accepts() {
        let pattern = regex::Regex::new(&emoji_pattern()).unwrap();
        for sample in samples() {
            assert_eq!(
                pattern.is_match(&sample),
                parse_emoji(&sample).is_ok(),
                "{sample:?}"
            );
        }
    }

    #[test]
    fn whole_numbers_say_their_width() {
        let json = serde_json::to_value(whole_number(0, u64::from(u32::MAX), "n")).unwrap();
        assert_eq!(json["format"], "int64");
        assert_eq!(json["maximum"], 4294967295u64);
    }
}

/// A file's bytes (a request or response body that is not JSON).
#[derive(Debug, Clone, Copy)]
pub struct Binary;

impl PartialSchema for Binary {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Binary,
            )))
            .into()
    }
}

impl ToSchema for Binary {}

/// The request headers of a download.
#[derive(Debug, Clone, Copy)]
pub struct DownloadHeaders;

impl utoipa::IntoParams for DownloadHeaders {
    fn into_params(_: impl Fn() -> Option<path::ParameterIn>) -> Vec<path::Parameter> {
        let header = |name: &str, description: &str| {
            path::ParameterBuilder::new()
                .name(name)
                .parameter_in(path::ParameterIn::Header)
                .required(utoipa::openapi::Required::False)
                .description(Some(description))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build()
        };
        vec![
            header(
                "Range",
                "One range, `bytes=first-last`, `bytes=first-` or `bytes=-count`: answered \
                 `206`; several ranges, or one that does not parse, get the whole file.",
            ),
            header(
                "If-None-Match",
                "The `ETag` of a copy the caller has: answered `304` when it matches.",
            ),
        ]
    }
}
