//! Configuration from the environment (and the same settings as command
//! line flags), with `clap`: each service declares its settings once, as a
//! struct deriving `Parser`, with their variables, defaults, ranges and
//! help. This module turns clap's errors into the one line a service
//! prints when a variable is missing or invalid, and holds the types of
//! secret settings.
//!
//! Every service builds its configuration in `main` and passes it down;
//! nothing reads the environment later.

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, Parser};
use secrecy::{ExposeSecret, SecretString};
use std::fmt;

/// Parses the process's arguments and environment into `T`. `--help` and
/// `--version` print and exit; any error is answered with one line.
pub fn parse<T: Parser>() -> Result<T, String> {
    parse_from::<T, _, _>(std::env::args_os())
}

/// [`parse`] from given arguments (the environment is still read).
pub fn parse_from<T, I, A>(args: I) -> Result<T, String>
where
    T: Parser,
    I: IntoIterator<Item = A>,
    A: Into<std::ffi::OsString> + Clone,
{
    T::try_parse_from(args).map_err(|err| match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => err.exit(),
        _ => one_line::<T>(&err),
    })
}

/// One line that names the variable and what was wrong with it, never
/// showing the value of a secret.
pub fn one_line<T: CommandFactory>(err: &clap::Error) -> String {
    let args = match err.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(arg)) => vec![arg.clone()],
        Some(ContextValue::Strings(args)) => args.clone(),
        _ => Vec::new(),
    };
    let names: Vec<String> = args.iter().map(|arg| variable_of(arg)).collect();
    match err.kind() {
        ErrorKind::MissingRequiredArgument if !names.is_empty() => {
            format!("missing required environment variable {}", names.join(", "))
        }
        ErrorKind::ValueValidation | ErrorKind::InvalidValue if !names.is_empty() => {
            let name = &names[0];
            let why = match (err.kind(), std::error::Error::source(err)) {
                (ErrorKind::ValueValidation, Some(source)) => source.to_string(),
                _ => match err.get(ContextKind::ValidValue) {
                    Some(ContextValue::Strings(valid)) => {
                        format!("expected one of {}", valid.join(", "))
                    }
                    _ => "not a valid value".to_owned(),
                },
            };
            match (is_secret::<T>(name), err.get(ContextKind::InvalidValue)) {
                (false, Some(ContextValue::String(value))) => {
                    format!("environment variable {name}={value:?} is invalid: {why}")
                }
                _ => format!("environment variable {name} is invalid: {why}"),
            }
        }
        _ => {
            let rendered = err.render().to_string();
            let first = rendered.lines().next().unwrap_or_default();
            first.trim_start_matches("error: ").to_owned()
        }
    }
}

/// The variable an argument stands for: its value name, which the
/// services set to the variable (`--msg-rate <CHAT_MSG_RATE>`).
fn variable_of(arg: &str) -> String {
    match (arg.find('<'), arg.rfind('>')) {
        (Some(start), Some(end)) if start < end => arg[start + 1..end].to_owned(),
        _ => arg.to_owned(),
    }
}

/// Whether the setting read from variable `name` hides its value.
fn is_secret<T: CommandFactory>(name: &str) -> bool {
    T::command()
        .get_arguments()
        .any(|arg| arg.get_env().is_some_and(|env| env == name) && arg.is_hide_env_values_set())
}

/// A secret of at least `MIN` bytes (a shorter one can be guessed).
pub fn secret_of_at_least<const MIN: usize>(value: &str) -> Result<SecretString, String> {
    if value.len() < MIN {
        return Err(format!(
            "a secret of at least {MIN} bytes is required (e.g. `openssl rand -hex 32`)"
        ));
    }
    Ok(SecretString::from(value))
}

/// A URL that may carry credentials (`mongodb://user:password@host`):
/// shown and logged without them, handed whole only to what connects.
#[derive(Clone)]
pub struct SecretUrl(SecretString);

impl SecretUrl {
    /// The whole URL, credentials included: for the client that connects,
    /// never for a log line.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::str::FromStr for SecretUrl {
    type Err = std::convert::Infallible;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        Ok(Self(SecretString::from(url)))
    }
}

impl From<&str> for SecretUrl {
    fn from(url: &str) -> Self {
        Self(SecretString::from(url))
    }
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_credentials(self.expose()))
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretUrl({self})")
    }
}

/// `url` with any user information (`user:password@`) and query string
/// replaced: `mongodb://***@host:27017/db?***`.
pub fn redact_credentials(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, url),
    };
    let (authority_and_path, query) = match rest.split_once('?') {
        Some((before, _)) => (before, Some("***")),
        None => (rest, None),
    };
    let authority_end = authority_and_path
        .find('/')
        .unwrap_or(authority_and_path.len());
    let (authority, path) = authority_and_path.split_at(authority_end);
    let host = match authority.rsplit_once('@') {
        Some((_, host)) => format!("***@{host}"),
        None => authority.to_owned(),
    };
    let mut redacted = String::new();
    if let Some(scheme) = scheme {
        redacted.push_str(scheme);
        redacted.push_str("://");
    }
    redacted.push_str(&host);
    redacted.push_str(path);
    if let Some(query) = query {
        redacted.push('?');
        redacted.push_str(query);
    }
    redacted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Parser)]
    struct Settings {
        #[arg(long, env = "TEST_KIT_TOKEN", value_name = "TEST_KIT_TOKEN", hide_env_values = true,
            value_parser = secret_of_at_least::<8>)]
        token: SecretString,
        #[arg(long, env = "TEST_KIT_RATE", value_name = "TEST_KIT_RATE", default_value_t = 5,
            value_parser = clap::value_parser!(u32).range(1..))]
        rate: u32,
    }

    fn error_of(args: &[&str]) -> String {
        let mut all = vec!["test"];
        all.extend_from_slice(args);
        parse_from::<Settings, _, _>(all).unwrap_err()
    }

    #[test]
    fn a_missing_variable_is_named_in_one_line() {
        assert_eq!(
            error_of(&[]),
            "missing required environment variable TEST_KIT_TOKEN"
        );
    }

    #[test]
    fn a_value_out_of_range_is_refused_with_its_variable_and_its_value() {
        let err = error_of(&["--token", "0123456789", "--rate", "0"]);
        assert!(
            err.starts_with("environment variable TEST_KIT_RATE=\"0\" is invalid:"),
            "{err}"
        );
        assert!(!err.contains('\n'));
    }

    #[test]
    fn a_bad_secret_is_refused_without_being_shown() {
        let err = error_of(&["--token", "short"]);
        assert!(
            err.contains("TEST_KIT_TOKEN") && err.contains("at least 8 bytes"),
            "{err}"
        );
        assert!(!err.contains("short"), "{err}");
        let settings = parse_from::<Settings, _, _>(["test", "--token", "0123456789"]).unwrap();
        assert_eq!(settings.rate, 5);
        assert!(!format!("{settings:?}").contains("0123456789"));
    }

    #[test]
    fn credentials_in_a_url_are_never_shown() {
        let url: SecretUrl = "mongodb://admin:hunter2@db:27017/chat?authSource=admin"
            .parse()
            .unwrap();
        assert_eq!(url.to_string(), "mongodb://***@db:27017/chat?***");
        assert!(!format!("{url:?}").contains("hunter2"));
        assert_eq!(
            url.expose(),
            "mongodb://admin:hunter2@db:27017/chat?authSource=admin"
        );
        assert_eq!(
            redact_credentials("http://hooks.example/notify"),
            "http://hooks.example/notify"
        );
        assert_eq!(
            redact_credentials("https://u:p@hooks.example/n?key=k"),
            "https://***@hooks.example/n?***"
        );
    }
}
