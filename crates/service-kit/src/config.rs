//! Reading configuration from the environment.
//!
//! Every service builds its `Config` in `main` from these helpers and passes it
//! down; nothing reads the environment later.

use std::str::FromStr;

/// A configuration variable that is missing or cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is not set (or is empty).
    #[error("missing required environment variable {0}")]
    Missing(&'static str),
    /// A variable is set to something that does not parse.
    #[error("environment variable {name}={value:?} is invalid: expected {expected}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
}

/// A source of variables: the process environment, or a map in tests.
pub trait Env {
    /// The value of `name`, if set and not empty.
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }
}

impl Env for std::collections::HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        self.get(name).cloned().filter(|v| !v.trim().is_empty())
    }
}

/// The value of a variable that must be set.
pub fn required(env: &impl Env, name: &'static str) -> Result<String, ConfigError> {
    env.get(name).ok_or(ConfigError::Missing(name))
}

/// The value of a variable, or `default` when unset.
pub fn or_default(env: &impl Env, name: &'static str, default: &str) -> String {
    env.get(name).unwrap_or_else(|| default.to_owned())
}

/// A variable parsed as `T`, or `default` when unset.
pub fn parsed<T: FromStr>(
    env: &impl Env,
    name: &'static str,
    default: T,
    expected: &'static str,
) -> Result<T, ConfigError> {
    match env.get(name) {
        None => Ok(default),
        Some(value) => value.trim().parse().map_err(|_| ConfigError::Invalid {
            name,
            value,
            expected,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_missing_required_variable_is_named_in_one_line() {
        let err = required(&env(&[]), "STORE_API_TOKEN").unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing required environment variable STORE_API_TOKEN"
        );
        let blank = required(&env(&[("STORE_API_TOKEN", "  ")]), "STORE_API_TOKEN");
        assert!(blank.is_err());
    }

    #[test]
    fn parsed_values_fall_back_and_refuse_garbage() {
        let vars = env(&[("N", "12"), ("BAD", "twelve")]);
        assert_eq!(parsed(&vars, "N", 1u32, "a number").unwrap(), 12);
        assert_eq!(parsed(&vars, "UNSET", 7u32, "a number").unwrap(), 7);
        let err = parsed(&vars, "BAD", 1u32, "a number")
            .unwrap_err()
            .to_string();
        assert!(err.contains("BAD") && err.contains("a number"), "{err}");
    }
}
