//! A group's retention: how long the store keeps its messages
//! (docs/chat-api.md, "Retention").
//!
//! - `{"mode": "forever"}`: kept until deleted by hand (the default; a group
//!   stored before retention existed reads as this);
//! - `{"mode": "days", "days": N}`: deleted N days after they were sent,
//!   read or not;
//! - `{"mode": "untilRead", "graceHours": N}`: deleted once every member has
//!   read them and N more hours have passed, and after
//!   [`UNTIL_READ_CAP_DAYS`] days whoever read them.
//!
//! The same JSON is the body of `POST /chat/{group}/retention` and of the
//! store's `POST /group/{id}/retention`, and the `retention` of every Group.

use crate::schema;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

/// The fewest days of `days` mode.
pub const MIN_DAYS: u32 = 1;
/// The most days of `days` mode (ten years).
pub const MAX_DAYS: u32 = 3650;
/// The longest grace of `untilRead` mode, in hours (30 days).
pub const MAX_GRACE_HOURS: u32 = 720;
/// In `untilRead` mode, a message is deleted this many days after it was
/// sent even if a member never read it.
pub const UNTIL_READ_CAP_DAYS: u32 = 30;

/// How long a group's messages are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "camelCase", try_from = "RawRetention")]
pub enum Retention {
    /// Kept until deleted by hand.
    #[default]
    Forever,
    /// Deleted `days` days after they were sent.
    Days {
        /// 1 to 3650.
        days: u32,
    },
    /// Deleted once every member has read them and `grace_hours` have
    /// passed since, or [`UNTIL_READ_CAP_DAYS`] days after they were sent.
    UntilRead {
        /// 0 to 720.
        #[serde(rename = "graceHours")]
        grace_hours: u32,
    },
}

/// The modes, as the JSON names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
enum Mode {
    Forever,
    Days,
    UntilRead,
}

/// A retention as it is read, before its fields are matched to its mode:
/// each mode takes its own field and no other.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetention {
    mode: Mode,
    #[serde(default, deserialize_with = "crate::whole::option")]
    days: Option<u32>,
    #[serde(
        default,
        rename = "graceHours",
        deserialize_with = "crate::whole::option"
    )]
    grace_hours: Option<u32>,
}

impl TryFrom<RawRetention> for Retention {
    type Error = String;

    fn try_from(raw: RawRetention) -> Result<Self, String> {
        match (raw.mode, raw.days, raw.grace_hours) {
            (Mode::Forever, None, None) => Ok(Self::Forever),
            (Mode::Days, Some(days), None) => Ok(Self::Days { days }),
            (Mode::UntilRead, None, Some(grace_hours)) => Ok(Self::UntilRead { grace_hours }),
            (Mode::Days, None, _) => Err("mode `days` needs `days`".into()),
            (Mode::UntilRead, _, None) => Err("mode `untilRead` needs `graceHours`".into()),
            (mode, _, _) => Err(format!(
                "mode `{}` takes {}",
                match mode {
                    Mode::Forever => "forever",
                    Mode::Days => "days",
                    Mode::UntilRead => "untilRead",
                },
                match mode {
                    Mode::Forever => "no other field",
                    Mode::Days => "`days` only",
                    Mode::UntilRead => "`graceHours` only",
                }
            )),
        }
    }
}

/// A retention outside its bounds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RetentionError {
    /// `days` outside 1..=3650.
    #[error("`days` must be a whole number from {MIN_DAYS} to {MAX_DAYS}, got {0}")]
    Days(u32),
    /// `graceHours` outside 0..=720.
    #[error("`graceHours` must be a whole number from 0 to {MAX_GRACE_HOURS}, got {0}")]
    GraceHours(u32),
}

impl Retention {
    /// Whether messages are kept until deleted by hand.
    pub fn is_forever(&self) -> bool {
        matches!(self, Self::Forever)
    }

    /// The retention if it is within its bounds.
    pub fn validated(self) -> Result<Self, RetentionError> {
        match self {
            Self::Days { days } if !(MIN_DAYS..=MAX_DAYS).contains(&days) => {
                Err(RetentionError::Days(days))
            }
            Self::UntilRead { grace_hours } if grace_hours > MAX_GRACE_HOURS => {
                Err(RetentionError::GraceHours(grace_hours))
            }
            valid => Ok(valid),
        }
    }
}

fn mode(name: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some([name]))
}

fn variant(name: &str, description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("mode", mode(name))
        .required("mode")
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        .description(Some(description))
}

impl PartialSchema for Retention {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(variant(
                "forever",
                "Kept until deleted by hand (the default).",
            ))
            .item(
                variant(
                    "days",
                    "Deleted `days` days after they were sent, read or not.",
                )
                .property(
                    "days",
                    schema::whole_number(
                        u64::from(MIN_DAYS),
                        u64::from(MAX_DAYS),
                        "Days a message is kept.",
                    ),
                )
                .required("days"),
            )
            .item(
                variant(
                    "untilRead",
                    "Deleted once every member has read them and `graceHours` have passed \
                     since, and 30 days after they were sent whoever read them.",
                )
                .property(
                    "graceHours",
                    schema::whole_number(
                        0,
                        u64::from(MAX_GRACE_HOURS),
                        "Hours a message is kept after every member has read it.",
                    ),
                )
                .required("graceHours"),
            )
            .description(Some(
                "How long the store keeps a group's messages (docs/chat-api.md, \"Retention\").",
            ))
            .into()
    }
}

impl ToSchema for Retention {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Retention")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_three_modes_read_and_write_as_the_contract_says() {
        for (retention, text) in [
            (Retention::Forever, json!({"mode": "forever"})),
            (
                Retention::Days { days: 7 },
                json!({"mode": "days", "days": 7}),
            ),
            (
                Retention::UntilRead { grace_hours: 0 },
                json!({"mode": "untilRead", "graceHours": 0}),
            ),
        ] {
            assert_eq!(serde_json::to_value(retention).unwrap(), text);
            assert_eq!(
                serde_json::from_value::<Retention>(text).unwrap(),
                retention
            );
        }
        let whole: Retention =
            serde_json::from_value(json!({"mode": "days", "days": 7.0})).unwrap();
        assert_eq!(whole, Retention::Days { days: 7 });
    }

    #[test]
    fn malformed_bodies_are_refused() {
        for bad in [
            json!({}),
            json!({"mode": "never"}),
            json!({"mode": "days"}),
            json!({"mode": "days", "days": -1}),
            json!({"mode": "days", "days": 1.5}),
            json!({"mode": "days", "days": 3, "graceHours": 2}),
            json!({"mode": "untilRead"}),
            json!({"mode": "forever", "days": 3}),
            json!({"mode": "untilRead", "grace_hours": 2}),
        ] {
            assert!(
                serde_json::from_value::<Retention>(bad.clone()).is_err(),
                "{bad} must be refused"
            );
        }
    }

    #[test]
    fn bounds_are_checked_after_parsing() {
        assert_eq!(
            Retention::Days { days: 0 }.validated(),
            Err(RetentionError::Days(0))
        );
        assert_eq!(
            Retention::Days { days: 3651 }.validated(),
            Err(RetentionError::Days(3651))
        );
        assert!(Retention::Days { days: 3650 }.validated().is_ok());
        assert_eq!(
            Retention::UntilRead { grace_hours: 721 }.validated(),
            Err(RetentionError::GraceHours(721))
        );
        assert!(
            Retention::UntilRead { grace_hours: 720 }
                .validated()
                .is_ok()
        );
        assert!(Retention::Forever.validated().is_ok());
    }
}
