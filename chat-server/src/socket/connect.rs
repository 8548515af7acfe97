//! A socket's life: the handshake check, joining its rooms, presence, and
//! leaving.
//!
//! The connect middleware accepts a JWT from `auth.token` or `?token=` and
//! loads the user's groups; a bad token is refused with a `connect_error`
//! whose message is `unauthenticated`, a store outage with `unavailable`.

use super::session::{InitialRooms, Session, group_rooms, user_room};
use super::{direct, edits, expiry, matching, messages, moderation, receipts, recovery, rooms};
use crate::jwt::Verified;
use crate::state::AppState;
use serde::Deserialize;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{Extension, SocketRef, State, TryData};
use std::sync::Arc;

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
    let Verified { up, exp } = state.jwt.verify(&token).map_err(|err| {
        tracing::debug!(error = %err, "handshake refused");
        Refusal::Unauthenticated
    })?;
    let Some(slot) = state.socket_quota.acquire(&up) else {
        state.metrics.sockets_refused.inc();
        return Err(Refusal::TooManySockets);
    };
    let groups = state.store.groups_of_user(&up).await.map_err(|err| {
        tracing::warn!(up = %up, error = %err, "cannot load the groups of a connecting user");
        Refusal::Unavailable
    })?;
    let rooms = groups.into_iter().map(|g| g.id.to_string()).collect();
    socket.extensions.insert(InitialRooms(rooms));
    socket.extensions.insert(Arc::new(slot));
    socket.extensions.insert(Session::new(up, exp));
    listen(&socket);
    Ok(())
}

/// Registers the event handlers. Done here, before the client gets its
/// CONNECT: socketioxide spawns the connect handler only after sending it,
/// and drops events that arrive before their handler is registered, so a
/// client emitting right on `connect` would otherwise sometimes get no ack.
fn listen<A: Adapter>(socket: &SocketRef<A>) {
    socket.on("online", rooms::online::<A>);
    socket.on("join room", rooms::join_room::<A>);
    socket.on("leave room", rooms::leave_room::<A>);
    socket.on("chat message", messages::chat_message::<A>);
    socket.on("private message", direct::private_message::<A>);
    socket.on("typing", receipts::typing::<A>);
    socket.on("read", receipts::read::<A>);
    socket.on("react", edits::react::<A>);
    socket.on("edit message", edits::edit_message::<A>);
    socket.on("delete message", edits::delete_message::<A>);
    socket.on("sync", recovery::sync::<A>);
    socket.on("presence", moderation::presence::<A>);
    socket.on("kick", moderation::kick::<A>);
    socket.on("find room", matching::find_room::<A>);
    socket.on("queue", matching::queue::<A>);
    socket.on("leave queue", matching::leave_queue::<A>);
    socket.on("refresh token", expiry::refresh_token::<A>);
    socket.on_disconnect(on_disconnect::<A>);
}

/// The `token` parameter of a handshake query string.
fn token_from_query(query: Option<&str>) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(key, _)| key == "token")
        .map(|(_, value)| value.into_owned())
        .filter(|token| !token.is_empty())
}

/// A socket got in: join its rooms and count it; its user's first socket
/// here records them online in the cluster, which announces them if they
/// were offline everywhere.
pub async fn on_connect<A: Adapter>(
    socket: SocketRef<A>,
    Extension(session): Extension<Session>,
    State(state): State<AppState>,
) {
    // socketioxide runs this handler after the client got its CONNECT, so
    // the client may already have left.
    if !socket.connected() {
        return;
    }
    let rooms = socket
        .extensions
        .remove::<InitialRooms>()
        .map(|InitialRooms(rooms)| rooms)
        .unwrap_or_default();
    socket.join(user_room(&session.up));
    if !rooms.is_empty() {
        socket.join(rooms.clone());
    }
    state.metrics.sockets.inc();
    state.expiry.watch(socket.id, session.expires());
    session.count();
    state.presence.socket_joined(&session.up, rooms.clone());
    state.metrics.users.set(state.presence.users_here() as i64);
    // A client that left between the check above and `session.count()` ran
    // `on_disconnect` with nothing to undo: its departure is handled here
    // instead (once, see `uncount`), and the rooms joined above are left.
    if !socket.connected() {
        socket.leave_all();
        depart(&socket, &session, &state, || rooms).await;
    }
}

/// A socket left: it gives up its place in the queues, and its user's last
/// socket here takes them out of the cluster's presence, which announces
/// them offline if they have no socket anywhere.
async fn on_disconnect<A: Adapter>(
    socket: SocketRef<A>,
    Extension(session): Extension<Session>,
    State(state): State<AppState>,
) {
    // The socket is still in its rooms until this handler returns.
    depart(&socket, &session, &state, || group_rooms(&socket)).await;
}

/// Undoes what a counted socket did; `rooms` gives where an `offline`
/// would be announced. It is read only once the socket is known to be
/// counted: `on_connect` joins the rooms before counting, so a departure
/// racing the connect never reads them empty.
async fn depart<A: Adapter>(
    socket: &SocketRef<A>,
    session: &Session,
    state: &AppState,
    rooms: impl FnOnce() -> Vec<String>,
) {
    state.transports.forget(&socket.id.to_string());
    state.expiry.forget(socket.id);
    if !session.uncount() {
        return;
    }
    let rooms = rooms();
    state.metrics.sockets.dec();
    if session.is_queued() {
        matching::leave_queues(state, socket).await;
    }
    state.presence.socket_left(&session.up, rooms);
    state.metrics.users.set(state.presence.users_here() as i64);
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
