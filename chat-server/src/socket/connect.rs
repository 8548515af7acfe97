//! A socket's life: the handshake check, joining its rooms, presence, and
//! leaving.
//!
//! The connect middleware accepts a JWT from `auth.token` or `?token=` and
//! loads the user's groups; a bad token is refused with a `connect_error`
//! whose message is `unauthenticated`, a store outage with `unavailable`.

use super::session::{Session, user_room};
use super::{messages, rooms};
use crate::state::AppState;
use chat_wire::events::{OfflineNotice, OnlineNotice};
use serde::Deserialize;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{Extension, SocketRef, State, TryData};

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
}

/// Connect middleware: verifies the token and loads the user's groups into
/// the socket's [`Session`].
pub async fn authenticate<A: Adapter>(
    socket: SocketRef<A>,
    TryData(auth): TryData<HandshakeAuth>,
    State(state): State<AppState>,
) -> Result<(), Refusal> {
    let from_auth = auth.ok().and_then(|auth| auth.token);
    let token = from_auth
        .or_else(|| token_from_query(socket.req_parts().uri.query()))
        .ok_or(Refusal::Unauthenticated)?;
    let up = state.jwt.verify(&token).map_err(|err| {
        tracing::debug!(error = %err, "handshake refused");
        Refusal::Unauthenticated
    })?;
    let groups = state.store.groups_of_user(&up).await.map_err(|err| {
        tracing::warn!(up = %up, error = %err, "cannot load the groups of a connecting user");
        Refusal::Unavailable
    })?;
    socket
        .extensions
        .insert(Session::new(up, groups.into_iter().map(|g| g.id)));
    Ok(())
}

/// The `token` parameter of a handshake query string.
fn token_from_query(query: Option<&str>) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(key, _)| key == "token")
        .map(|(_, value)| value.into_owned())
        .filter(|token| !token.is_empty())
}

/// A socket got in: join its rooms, count it, announce the user if this is
/// their first socket, and listen to its events.
pub async fn on_connect<A: Adapter>(
    socket: SocketRef<A>,
    Extension(session): Extension<Session>,
    State(state): State<AppState>,
) {
    let rooms = session.rooms();
    if !rooms.is_empty() {
        socket.join(rooms.clone());
    }
    socket.join(user_room(&session.up));
    state.metrics.sockets.inc();
    if state.presence.connect(&session.up) {
        state
            .metrics
            .users
            .set(state.presence.online_count() as i64);
        let notice = OnlineNotice {
            up: session.up.clone(),
        };
        if !rooms.is_empty()
            && let Err(err) = socket.broadcast().to(rooms).emit("online", &notice).await
        {
            tracing::warn!(up = %session.up, error = %err, "could not announce a user online");
        }
        let store = state.store.clone();
        let up = session.up.clone();
        tokio::spawn(async move {
            if let Err(err) = store.set_online(&up, true).await {
                tracing::warn!(up = %up, error = %err, "could not record a user online");
            }
        });
    }
    socket.on("online", rooms::online::<A>);
    socket.on("join room", rooms::join_room::<A>);
    socket.on("leave room", rooms::leave_room::<A>);
    socket.on("chat message", messages::chat_message::<A>);
    socket.on_disconnect(on_disconnect::<A>);
}

/// A socket left: when it was the user's last, record them offline and tell
/// their groups.
async fn on_disconnect<A: Adapter>(
    io: SocketIo<A>,
    Extension(session): Extension<Session>,
    State(state): State<AppState>,
) {
    state.metrics.sockets.dec();
    if !state.presence.disconnect(&session.up) {
        return;
    }
    state
        .metrics
        .users
        .set(state.presence.online_count() as i64);
    let last_seen = match state.store.set_online(&session.up, false).await {
        Ok(user) => user.last_seen.unwrap_or_else(chrono::Utc::now),
        Err(err) => {
            tracing::warn!(up = %session.up, error = %err, "could not record a user offline");
            chrono::Utc::now()
        }
    };
    let rooms = session.rooms();
    if rooms.is_empty() {
        return;
    }
    let notice = OfflineNotice {
        up: session.up.clone(),
        last_seen,
    };
    if let Err(err) = io.to(rooms).emit("offline", &notice).await {
        tracing::warn!(up = %session.up, error = %err, "could not announce a user offline");
    }
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
