//! User tokens: HS256 JWTs whose `sub` is the user's `up` and whose `exp` is
//! required. The chat-server verifies them; `chat-server token` mints them
//! for development.

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
        Self(Arc::new(Keys {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
        }))
    }

    /// The user a valid token names.
    pub fn verify(&self, token: &str) -> Result<Up, TokenError> {
        let data = decode::<Claims>(token, &self.0.decoding, &self.0.validation)?;
        Ok(Up::parse(data.claims.sub)?)
    }

    /// A token for `up` valid for `ttl`.
    pub fn mint(&self, up: &Up, ttl: Duration) -> Result<String, jsonwebtoken::errors::Error> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let claims = Claims {
            sub: up.to_string(),
            exp: (now + ttl).as_secs(),
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
        assert_eq!(keys.verify(&token).unwrap(), up);
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
