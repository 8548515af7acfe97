//! A socket's life: the handshake check, joining its rooms, presence, and
//! leaving.
//!
//! The connect middleware accepts a JWT from `auth.token` or `?token=` and
//! loads the user's groups; a bad token is refused with a `connect_error`
//! whose message is `unauthenticated`, a store outage with `unavailable`.

use super::relay::ignoring_departed;
use super::session::{Session, user_room};
use super::{direct, edits, matching, messages, moderation, receipts, recovery, rooms};
use crate::state::AppState;
use chat_wire::events::{OfflineNotice, OnlineNotice};
use chat_wire::ids::Up;
use chat_wire::model::User;
use serde::Deserialize;
use service_kit::ApiError;
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
    socket.on_disconnect(on_disconnect::<A>);
}

/// The `token` parameter of a handshake query string.
fn token_from_query(query: Option<&str>) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(key, _)| key == "token")
        .map(|(_, value)| value.into_owned())
        .filter(|token| !token.is_empty())
}

/// A socket got in: join its rooms, count it, and announce the user if this
/// is their first socket.
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
    let rooms = session.rooms();
    if !rooms.is_empty() {
        socket.join(rooms.clone());
    }
    socket.join(user_room(&session.up));
    state.metrics.sockets.inc();
    session.count();
    if state.presence.connect(&session.up) {
        state
            .metrics
            .users
            .set(state.presence.online_count() as i64);
        let notice = OnlineNotice {
            up: session.up.clone(),
        };
        if !rooms.is_empty()
            && let Err(err) =
                ignoring_departed(socket.broadcast().to(rooms).emit("online", &notice).await)
        {
            tracing::warn!(up = %session.up, error = %err, "could not announce a user online");
        }
        let state = state.clone();
        let up = session.up.clone();
        tokio::spawn(async move {
            if let Err(err) = record_presence(&state, &up, true).await {
                tracing::warn!(up = %up, error = %err, "could not record a user online");
            }
        });
    }
    // A client that left between the check above and `session.count()` ran
    // `on_disconnect` with nothing to undo: its departure is handled here
    // instead (once, see `uncount`).
    if !socket.connected() {
        socket.leave_all();
        on_disconnect(socket, Extension(session), State(state)).await;
    }
}

/// A socket left: when it was the user's last, record them offline and tell
/// their groups.
async fn on_disconnect<A: Adapter>(
    socket: SocketRef<A>,
    Extension(session): Extension<Session>,
    State(state): State<AppState>,
) {
    if !session.uncount() {
        return;
    }
    state.metrics.sockets.dec();
    state.match_queues.leave(&socket.id.to_string());
    if !state.presence.disconnect(&session.up) {
        return;
    }
    state
        .metrics
        .users
        .set(state.presence.online_count() as i64);
    let last_seen = match record_presence(&state, &session.up, false).await {
        Ok(user) => user.last_seen.unwrap_or_else(chrono::Utc::now),
        Err(err) => {
            tracing::warn!(up = %session.up, error = %err, "could not record a user offline");
            chrono::Utc::now()
        }
    };
    // They came back while this was written: their new socket announced them.
    // (This node's count decides, not the store's answer, which may already
    // show a concurrent write.)
    if state.presence.is_online(&session.up) {
        return;
    }
    let rooms = session.rooms();
    if rooms.is_empty() {
        return;
    }
    let notice = OfflineNotice {
        up: session.up.clone(),
        last_seen,
    };
    // The leaving socket may still be in the rooms; it is closed, so it is
    // left out of the broadcast.
    if let Err(err) = ignoring_departed(socket.broadcast().to(rooms).emit("offline", &notice).await)
    {
        tracing::warn!(up = %session.up, error = %err, "could not announce a user offline");
    }
}

/// Records in the store whether `up` is online, until the store agrees with
/// this node: a connect's write and a disconnect's write run concurrently and
/// may finish in any order, and the last one must match who is here now.
async fn record_presence(state: &AppState, up: &Up, online: bool) -> Result<User, ApiError> {
    let _turn = state.presence.write_turn().await;
    let mut online = online;
    loop {
        let user = state.store.set_online(up, online).await?;
        let now = state.presence.is_online(up);
        if now == online {
            return Ok(user);
        }
        online = now;
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
