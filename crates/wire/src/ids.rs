//! Validated identifiers: a user's `up` and an entity's 24-hex id.
//!
//! Input is parsed into these newtypes at the edge, so that the logic behind
//! never sees an id that could not exist.

use serde::{Deserialize, Serialize};
use std::fmt;
use utoipa::ToSchema;

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The `up` is empty, too long, has a character outside `[A-Za-z0-9._@-]`
    /// or is made only of dots.
    #[error(
        "`{0}` is not a valid user id (1 to 64 characters of A-Z a-z 0-9 . _ @ -, not only dots)"
    )]
    Up(String),
    /// The id is not 24 hexadecimal characters.
    #[error("`{0}` is not a valid id (24 hexadecimal characters)")]
    Entity(String),
}

/// A user id, e.g. `up201905678`: 1 to 64 characters of `[A-Za-z0-9._@-]`,
/// not only dots.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(
    value_type = String,
    example = "up201905678",
    pattern = r"^(?!\.+$)[A-Za-z0-9._@-]{1,64}$",
    min_length = 1,
    max_length = 64
)]
pub struct Up(String);

impl Up {
    /// The longest `up` accepted.
    pub const MAX_LEN: usize = 64;

    /// Parses a user id, refusing anything outside the contract's alphabet.
    pub fn parse(raw: impl Into<String>) -> Result<Self, IdError> {
        let raw = raw.into();
        let valid_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '-');
        // `.` and `..` are path segments of their own: as an `up` in a URL
        // they would name another route.
        let only_dots = raw.chars().all(|c| c == '.');
        if raw.is_empty() || raw.len() > Self::MAX_LEN || !raw.chars().all(valid_char) || only_dots
        {
            return Err(IdError::Up(truncate_for_message(&raw)));
        }
        Ok(Self(raw))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Up {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<Up> for String {
    fn from(up: Up) -> Self {
        up.0
    }
}

impl AsRef<str> for Up {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Up {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The id of a group or a message: a MongoDB ObjectId as 24 hex digits
/// (upper case is accepted; answers are lower case).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(
    value_type = String,
    example = "65f0c0ffee0000000000abcd",
    pattern = "^[0-9A-Fa-f]{24}$",
    min_length = 24,
    max_length = 24
)]
pub struct EntityId(String);

impl EntityId {
    /// Parses a 24-hex id; upper-case hex is accepted and stored lower-case.
    pub fn parse(raw: impl Into<String>) -> Result<Self, IdError> {
        let raw = raw.into();
        if raw.len() != 24 || !raw.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(IdError::Entity(truncate_for_message(&raw)));
        }
        Ok(Self(raw.to_ascii_lowercase()))
    }

    /// The id as 24 lowercase hex.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EntityId {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<EntityId> for String {
    fn from(id: EntityId) -> Self {
        id.0
    }
}

impl fmt::Display for EntityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An [`EntityId`] as the services answer it: always 24 lowercase hex digits.
///
/// Only the OpenAPI documents use it, for the ids of answers; requests take
/// any case ([`EntityId`]).
#[derive(Debug, Clone, Copy)]
pub struct AnsweredId;

impl utoipa::PartialSchema for AnsweredId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(
                "The id of a group or a message, as answered: 24 lowercase hex digits.",
            ))
            .pattern(Some("^[0-9a-f]{24}$"))
            .min_length(Some(24))
            .max_length(Some(24))
            .examples([serde_json::json!("65f0c0ffee0000000000abcd")])
            .into()
    }
}

impl ToSchema for AnsweredId {}

/// Keeps error messages short when someone sends a huge bogus id.
fn truncate_for_message(raw: &str) -> String {
    const SHOWN: usize = 80;
    match raw.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}...", &raw[..cut]),
        None => raw.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn up_accepts_the_contract_alphabet() {
        for ok in [
            "up201905678",
            "a",
            "john.doe@fe.up.pt",
            "x_y-z",
            "..a",
            &"a".repeat(64),
        ] {
            assert!(Up::parse(ok).is_ok(), "{ok} should parse");
        }
    }

    #[test]
    fn up_refuses_empty_long_and_foreign_characters() {
        for bad in [
            "",
            "has space",
            "slash/",
            "é",
            "a\u{0}",
            &"a".repeat(65),
            ".",
            "..",
        ] {
            assert!(Up::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn entity_id_needs_exactly_24_hex_digits() {
        assert_eq!(
            EntityId::parse("65F0C0FFEE0000000000ABCD")
                .unwrap()
                .as_str(),
            "65f0c0ffee0000000000abcd"
        );
        for bad in [
            "",
            "65f0",
            "65f0c0ffee0000000000abcz",
            "65f0c0ffee0000000000abcde",
        ] {
            assert!(EntityId::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn deserialising_validates() {
        assert!(serde_json::from_str::<Up>("\"bad up\"").is_err());
        assert!(serde_json::from_str::<EntityId>("\"nothex\"").is_err());
        let up: Up = serde_json::from_str("\"up1\"").unwrap();
        assert_eq!(up.as_str(), "up1");
    }

    #[test]
    fn error_messages_do_not_echo_huge_input() {
        let err = EntityId::parse("z".repeat(10_000)).unwrap_err().to_string();
        assert!(err.len() < 200, "{err}");
    }
}
