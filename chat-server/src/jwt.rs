//! User tokens: HS256 JWTs whose `sub` is the user's `up` and whose `exp` is
//! required (`nbf`, when present, is checked too, with a leeway of a few
//! seconds). The chat-server verifies them at the handshake, on REST calls
//! and on `refresh token`; `chat-server token` mints them for development.

use chat_wire::ids::Up;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The claims the chat reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user's `up`.
    pub sub: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
    /// Not before, seconds since the Unix epoch (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
}

/// Why a token was refused. Clients only ever see `unauthenticated`.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Signature, expiry or format is wrong.
    #[error("invalid token: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
    /// `sub` is not a valid `up`.
    #[error("invalid subject: {0}")]
    Subject(#[from] chat_wire::ids::IdError),
}

/// How far a token's `exp` and `nbf` may be off this server's clock, in
/// seconds: a few seconds of clock skew, not jsonwebtoken's default minute.
pub const LEEWAY_SECONDS: u64 = 5;

/// A verified token: whose it is and until when it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The user.
    pub up: Up,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
}

/// Signs and verifies user tokens with one secret; cheap to clone.
#[derive(Clone)]
pub struct JwtKeys(Arc<Keys>);

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtKeys(..)")
    }
}

struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtKeys {
    /// Keys for `secret`.
    pub fn new(secret: &str) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECONDS;
        Self(Arc::new(Keys {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
        }))
    }

    /// The user a valid token names, and its expiry.
    pub fn verify(&self, token: &str) -> Result<Verified, TokenError> {
        let data = decode::<Claims>(token, &self.0.decoding, &self.0.validation)?;
        Ok(Verified {
            up: Up::parse(data.claims.sub)?,
            exp: data.claims.exp,
        })
    }

    /// A token for `up` valid for `ttl`.
    pub fn mint(&self, up: &Up, ttl: Duration) -> Result<String, jsonwebtoken::errors::Error> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let claims = Claims {
            sub: up.to_string(),
            exp: (now + ttl).as_secs(),
            nbf: None,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.0.encoding)
    }
}

/// Parses a duration like `24h`, `30m`, `90s` or `7d`.
pub fn parse_ttl(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (number, unit) = raw.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{raw}` is not a duration like 24h"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" | "" => 3600,
        "d" => 86_400,
        _ => return Err(format!("`{raw}`: the unit must be s, m, h or d")),
    };
    Ok(Duration::from_secs(number.saturating_mul(seconds)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minted_token_verifies_to_its_user() {
        let keys = JwtKeys::new("secret");
        let up = Up::parse("up201905678").unwrap();
        let token = keys.mint(&up, Duration::from_secs(60)).unwrap();
        let verified = keys.verify(&token).unwrap();
        assert_eq!(verified.up, up);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!((now + 59..=now + 61).contains(&verified.exp));
    }

    #[test]
    fn a_token_not_valid_yet_is_refused_and_the_leeway_is_small() {
        #[derive(Serialize)]
        struct Timed {
            sub: String,
            exp: u64,
            nbf: u64,
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let sign = |claims: &Timed| {
            encode(
                &Header::new(Algorithm::HS256),
                claims,
                &EncodingKey::from_secret(b"s"),
            )
            .unwrap()
        };
        let keys = JwtKeys::new("s");
        let later = sign(&Timed {
            sub: "up1".into(),
            exp: now + 600,
            nbf: now + 60,
        });
        assert!(keys.verify(&later).is_err(), "nbf a minute ahead");
        let just_expired = sign(&Timed {
            sub: "up1".into(),
            exp: now - 30,
            nbf: now - 60,
        });
        assert!(
            keys.verify(&just_expired).is_err(),
            "30 s past exp is past the leeway"
        );
    }

    #[test]
    fn another_secret_an_expired_token_and_garbage_are_refused() {
        let up = Up::parse("up1").unwrap();
        let token = JwtKeys::new("other")
            .mint(&up, Duration::from_secs(60))
            .unwrap();
        assert!(JwtKeys::new("secret").verify(&token).is_err());
        let keys = JwtKeys::new("secret");
        let expired = encode(
            &Header::new(Algorithm::HS256),
            &Claims {
                sub: "up1".into(),
                exp: 1_000,
                nbf: None,
            },
            &EncodingKey::from_secret(b"secret"),
        )
        .unwrap();
        assert!(keys.verify(&expired).is_err());
        assert!(keys.verify("not.a.jwt").is_err());
    }

    #[test]
    fn a_token_without_exp_is_refused() {
        #[derive(Serialize)]
        struct NoExp {
            sub: String,
        }
        let token = encode(
            &Header::new(Algorithm::HS256),
            &NoExp { sub: "up1".into() },
            &EncodingKey::from_secret(b"s"),
        )
        .unwrap();
        assert!(JwtKeys::new("s").verify(&token).is_err());
    }

    #[test]
    fn ttls_read_like_people_write_them() {
        assert_eq!(parse_ttl("24h").unwrap(), Duration::from_secs(86_400));
        assert_eq!(parse_ttl("30m").unwrap(), Duration::from_secs(1_800));
        assert_eq!(parse_ttl("7d").unwrap(), Duration::from_secs(604_800));
        assert!(parse_ttl("soon").is_err());
        assert!(parse_ttl("5y").is_err());
    }
}
