//! Whole numbers in JSON bodies, as JSON Schema's `integer` means them:
//! `85` and `85.0` are the same number. serde's integers refuse the second.
//!
//! Use with `#[serde(deserialize_with = "crate::whole::deserialize")]`
//! (or `crate::whole::option` with `#[serde(default)]`).

use serde::de::{self, Deserializer, Unexpected, Visitor};
use std::fmt;
use std::marker::PhantomData;

/// 2^64: the first float past `u64::MAX`.
const U64_END: f64 = 18_446_744_073_709_551_616.0;

struct WholeVisitor<T>(PhantomData<T>);

impl<T: TryFrom<u64>> WholeVisitor<T> {
    fn fit<E: de::Error>(&self, n: u64, unexpected: Unexpected<'_>) -> Result<T, E> {
        T::try_from(n).map_err(|_| E::invalid_value(unexpected, self))
    }
}

impl<'de, T: TryFrom<u64>> Visitor<'de> for WholeVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a whole number that fits {}", std::any::type_name::<T>())
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<T, E> {
        self.fit(n, Unexpected::Unsigned(n))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<T, E> {
        let unsigned =
            u64::try_from(n).map_err(|_| E::invalid_value(Unexpected::Signed(n), &self))?;
        self.fit(unsigned, Unexpected::Signed(n))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<T, E> {
        if n.fract() != 0.0 || !(0.0..U64_END).contains(&n) {
            return Err(E::invalid_value(Unexpected::Float(n), &self));
        }
        // Whole and within u64: the conversion is exact.
        self.fit(n as u64, Unexpected::Float(n))
    }
}

/// Reads a whole number (`85` or `85.0`) that fits `T`.
pub fn deserialize<'de, D: Deserializer<'de>, T: TryFrom<u64>>(
    deserializer: D,
) -> Result<T, D::Error> {
    deserializer.deserialize_any(WholeVisitor(PhantomData))
}

/// Reads `null` or a whole number that fits `T`.
pub fn option<'de, D: Deserializer<'de>, T: TryFrom<u64>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    struct OptionVisitor<T>(PhantomData<T>);

    impl<'de, T: TryFrom<u64>> Visitor<'de> for OptionVisitor<T> {
        type Value = Option<T>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(
                f,
                "null or a whole number that fits {}",
                std::any::type_name::<T>()
            )
        }

        fn visit_none<E: de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<T>, D::Error> {
            deserialize(deserializer).map(Some)
        }
    }

    deserializer.deserialize_option(OptionVisitor(PhantomData))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Body {
        #[serde(deserialize_with = "super::deserialize")]
        small: u32,
        #[serde(default, deserialize_with = "super::option")]
        maybe: Option<u32>,
        #[serde(default, deserialize_with = "super::deserialize")]
        big: u64,
    }

    fn read(json: &str) -> Result<Body, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn whole_floats_are_whole_numbers() {
        let body = read(r#"{"small": 85.0, "maybe": 2e3, "big": 18446744073709551615}"#).unwrap();
        assert_eq!(
            (body.small, body.maybe, body.big),
            (85, Some(2000), u64::MAX)
        );
        assert_eq!(read(r#"{"small": 4294967295}"#).unwrap().small, u32::MAX);
        assert_eq!(read(r#"{"small": 1, "maybe": null}"#).unwrap().maybe, None);
    }

    #[test]
    fn fractions_negatives_and_overflows_are_refused() {
        for bad in [
            r#"{"small": 85.5}"#,
            r#"{"small": -1}"#,
            r#"{"small": -0.5}"#,
            r#"{"small": 4294967296}"#,
            r#"{"small": 4294967296.0}"#,
            r#"{"small": "1"}"#,
            r#"{"small": 1, "big": 18446744073709551616}"#,
            r#"{"small": 1, "big": 1e300}"#,
            r#"{"small": 1, "maybe": true}"#,
        ] {
            assert!(read(bad).is_err(), "{bad}");
        }
    }
}
