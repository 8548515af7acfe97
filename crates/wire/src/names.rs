//! Users' display names: what a user may call themselves, and the small
//! shapes that carry names (`GET /chat/users`, `PATCH /chat/me`, the
//! `user updated` event).

use crate::ids::Up;
use crate::schema::WHITE_SPACE_CLASS;
use serde::{Deserialize, Serialize};
use utoipa::openapi::Object;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::{IntoParams, ToSchema};

/// The longest name, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// The most users one `GET /chat/users` names.
pub const MAX_NAMED_USERS: usize = 100;

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Nothing left after trimming.
    #[error("`name` must not be empty")]
    Empty,
    /// Longer than [`MAX_NAME_CHARS`].
    #[error("`name` is {0} characters, over the limit of {MAX_NAME_CHARS}")]
    TooLong(usize),
    /// A control character (a line break, a tab, a bidi override is fine
    /// only as text, not as these).
    #[error("`name` must not hold control characters")]
    Control,
}

/// A display name: trimmed, 1 to [`MAX_NAME_CHARS`] characters, no
/// control characters.
pub fn parse_name(raw: &str) -> Result<String, NameError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.chars().any(char::is_control) {
        return Err(NameError::Control);
    }
    let len = name.chars().count();
    if len > MAX_NAME_CHARS {
        return Err(NameError::TooLong(len));
    }
    Ok(name.to_owned())
}

/// A regex matched by exactly the names [`parse_name`] accepts: trimmed,
/// 1 to [`MAX_NAME_CHARS`] characters, no control character (`Cc`) left.
pub fn name_pattern() -> String {
    let space = format!("[{WHITE_SPACE_CLASS}]");
    let inner = r"[^\u0000-\u001F\u007F-\u009F]";
    let visible = format!(r"[^{WHITE_SPACE_CLASS}\u0000-\u001F\u007F-\u009F]");
    let most = MAX_NAME_CHARS - 2;
    format!("^{space}*{visible}(?:{inner}{{0,{most}}}{visible})?{space}*$")
}

fn name_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .pattern(Some(name_pattern()))
        .examples([serde_json::json!("Ana Sousa")])
        .description(Some(
            "The display name: trimmed, then 1 to 64 characters, none of them a control character.",
        ))
        .build()
}

/// `PATCH /chat/me`: the fields a user sets on themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeUpdate {
    /// The display name.
    #[schema(schema_with = name_schema)]
    pub name: String,
}

/// A user and their display name (empty when they have none: show the
/// `up`). Also the `user updated` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserName {
    /// The user.
    pub up: Up,
    /// Their display name.
    pub name: String,
}

/// The answer of `GET /chat/users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserNames {
    /// The users asked for who share a group with the caller, in the order
    /// asked; the others are left out.
    pub items: Vec<UserName>,
}

/// `?ups=a,b`: the users whose names are asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NamesQuery {
    /// 1 to 100 user ids, separated by commas.
    #[param(
        example = "up201905678,up201905679",
        pattern = r"^(?!\.+(?:,|$))[A-Za-z0-9._@-]{1,64}(?:,(?!\.+(?:,|$))[A-Za-z0-9._@-]{1,64}){0,99}$"
    )]
    pub ups: String,
}

/// Why a list of users was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpsError {
    /// No user, or more than [`MAX_NAMED_USERS`].
    #[error("`ups` names 1 to {MAX_NAMED_USERS} users, separated by commas (it named {0})")]
    Count(usize),
    /// A malformed id.
    #[error(transparent)]
    Id(#[from] crate::ids::IdError),
}

impl NamesQuery {
    /// The users asked for: 1 to [`MAX_NAMED_USERS`] valid ids.
    pub fn ups(&self) -> Result<Vec<Up>, UpsError> {
        let parts: Vec<&str> = self.ups.split(',').collect();
        if self.ups.is_empty() || parts.len() > MAX_NAMED_USERS {
            return Err(UpsError::Count(if self.ups.is_empty() {
                0
            } else {
                parts.len()
            }));
        }
        Ok(parts.into_iter().map(Up::parse).collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_trimmed_and_bounded() {
        assert_eq!(parse_name("  Ana Sousa ").unwrap(), "Ana Sousa");
        assert_eq!(parse_name(&"é".repeat(64)).unwrap().chars().count(), 64);
        assert_eq!(parse_name(&"é".repeat(65)), Err(NameError::TooLong(65)));
        assert_eq!(parse_name(" \t "), Err(NameError::Empty));
        assert_eq!(parse_name("Ana\nSousa"), Err(NameError::Control));
        assert_eq!(parse_name("Ana\u{7}"), Err(NameError::Control));
    }

    #[test]
    fn the_pattern_accepts_exactly_the_names_parse_name_does() {
        let pattern = regex::Regex::new(&name_pattern()).unwrap();
        let long = "x".repeat(64);
        let too_long = "x".repeat(65);
        for name in [
            "Ana",
            " Ana Sousa\n",
            "é",
            long.as_str(),
            too_long.as_str(),
            "",
            "  ",
            "A\u{7}B",
            "A\tB",
            "\u{85}",
            "  Ana ",
            "Ana\u{a0}Sousa",
            "\u{0}",
        ] {
            assert_eq!(pattern.is_match(name), parse_name(name).is_ok(), "{name:?}");
        }
    }

    #[test]
    fn one_to_a_hundred_valid_ups_are_asked_for() {
        let query = |ups: &str| {
            NamesQuery {
                ups: ups.to_owned(),
            }
            .ups()
        };
        assert_eq!(query("up1,up2").unwrap().len(), 2);
        assert_eq!(query(""), Err(UpsError::Count(0)));
        let many: Vec<String> = (0..101).map(|i| format!("up{i}")).collect();
        assert_eq!(query(&many.join(",")), Err(UpsError::Count(101)));
        assert!(matches!(query("up1,,up2"), Err(UpsError::Id(_))));
    }
}
