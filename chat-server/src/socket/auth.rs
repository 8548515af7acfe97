//! The handshake: who may open a socket.
//!
//! A JWT from `auth.token` or the `?token=` query parameter, verified; the
//! user under `CHAT_MAX_SOCKETS_PER_USER` sockets here; their groups
//! loaded from the store (with other handshakes', `group_ids`), for the
//! rooms the socket joins. A refusal is a `connect_error` whose message is
//! the contract's code: `unauthenticated`
//! (no token, or a bad or expired one), `rate_limited` (too many sockets)
//! or `unavailable` (the store is out of reach).

use crate::limits::sockets::SocketSlot;
use crate::session::Session;
use crate::state::AppState;
use serde::Deserialize;

/// The handshake's `auth` object.
#[derive(Debug, Default, Deserialize)]
pub struct HandshakeAuth {
    /// The user's JWT.
    #[serde(default)]
    pub token: Option<String>,
}

/// Why a connection was refused; the text is what the client's
/// `connect_error` carries.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// No token, or a bad or expired one.
    #[error("unauthenticated")]
    Unauthenticated,
    /// The store could not be reached to load the user's groups.
    #[error("unavailable")]
    Unavailable,
    /// The user already holds `CHAT_MAX_SOCKETS_PER_USER` sockets here.
    #[error("rate_limited")]
    TooManySockets,
}

/// An accepted handshake: the socket's session, its place in the user's
/// socket quota, and the rooms of the user's groups.
#[derive(Debug)]
pub struct Admission {
    /// The socket's session.
    pub session: Session,
    /// Its place among the user's sockets; given back when dropped.
    pub slot: SocketSlot,
    /// The rooms it joins: one per group of the user.
    pub rooms: Vec<String>,
}

/// Checks a handshake that brought `token` (from `auth` or, else, `query`).
pub async fn admit(
    state: &AppState,
    auth: Option<HandshakeAuth>,
    query: Option<&str>,
) -> Result<Admission, Refusal> {
    let token = auth
        .and_then(|auth| auth.token)
        .or_else(|| token_from_query(query))
        .ok_or(Refusal::Unauthenticated)?;
    let verified = state.jwt.verify(&token).map_err(|err| {
        tracing::debug!(error = %err, "handshake refused");
        Refusal::Unauthenticated
    })?;
    let Some(slot) = state.socket_quota.acquire(&verified.up) else {
        state.metrics.sockets_refused.inc();
        return Err(Refusal::TooManySockets);
    };
    // The reader logs why it failed.
    let groups = state
        .group_ids
        .group_ids(&verified.up)
        .await
        .map_err(|_| Refusal::Unavailable)?;
    Ok(Admission {
        session: Session::new(verified.up, verified.exp),
        slot,
        rooms: groups.into_iter().map(String::from).collect(),
    })
}

/// The `token` parameter of a handshake query string.
fn token_from_query(query: Option<&str>) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(key, _)| key == "token")
        .map(|(_, value)| value.into_owned())
        .filter(|token| !token.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_read_from_the_query_string() {
        assert_eq!(
            token_from_query(Some("EIO=4&transport=polling&token=a.b.c")).as_deref(),
            Some("a.b.c")
        );
        assert_eq!(
            token_from_query(Some("token=a%2Eb")).as_deref(),
            Some("a.b")
        );
        assert_eq!(token_from_query(Some("EIO=4&token=")), None);
        assert_eq!(token_from_query(Some("EIO=4")), None);
        assert_eq!(token_from_query(None), None);
    }
}
