//! Time on the wire: RFC 3339 in UTC with milliseconds, `2022-06-13T12:15:43.333Z`.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serializer};

/// A point in time as the wire carries it.
pub type Timestamp = DateTime<Utc>;

/// Formats a time the way every response does.
pub fn format(at: &Timestamp) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses an RFC 3339 time with any offset, returned in UTC.
pub fn parse(raw: &str) -> Result<Timestamp, chrono::ParseError> {
    DateTime::parse_from_rfc3339(raw).map(|at| at.with_timezone(&Utc))
}

/// Serde adapter for a required timestamp field (`#[serde(with = "...")]`).
pub mod millis {
    use super::*;

    /// Writes the time with millisecond precision and a `Z` suffix.
    pub fn serialize<S: Serializer>(at: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format(at))
    }

    /// Reads an RFC 3339 time.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        let raw = String::deserialize(deserializer)?;
        parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// Serde adapter for an optional timestamp field.
pub mod millis_option {
    use super::*;

    /// Writes the time with millisecond precision, or `null`.
    pub fn serialize<S: Serializer>(
        at: &Option<Timestamp>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => serializer.serialize_str(&format(at)),
            None => serializer.serialize_none(),
        }
    }

    /// Reads an RFC 3339 time or `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Timestamp>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(|raw| parse(&raw).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_milliseconds_and_z() {
        let at = parse("2022-06-13T12:15:43.333Z").unwrap();
        assert_eq!(format(&at), "2022-06-13T12:15:43.333Z");
        let whole = parse("2022-06-13T13:15:43+01:00").unwrap();
        assert_eq!(format(&whole), "2022-06-13T12:15:43.000Z");
    }

    #[test]
    fn refuses_text_that_is_not_a_time() {
        assert!(parse("yesterday").is_err());
        assert!(parse("2022-13-01T00:00:00Z").is_err());
    }
}
