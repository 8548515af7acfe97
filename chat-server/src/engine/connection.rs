//! A socket's arrival and departure on the engine: the connect middleware
//! (the handshake, `socket::auth`), the connect handler and the
//! disconnect handler. The socketioxide-specific part only; what they
//! change on the node is `socket::arrival`.

use super::events::Registrar;
use crate::events::register_all;
use crate::limits::pending::client_address;
use crate::rooms::{is_user_room, user_room};
use crate::session::Session;
use crate::socket::arrival::{arrived, departed};
use crate::socket::auth::{HandshakeAuth, Refusal, admit};
use crate::state::AppState;
use axum::extract::ConnectInfo;
use service_kit::connection::Peer;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{Extension, SocketRef, State, TryData};
use socketioxide::socket::Socket;
use std::sync::Arc;

/// The rooms a socket joins when it connects: its user's groups as the
/// store listed them during the handshake. Taken out by the connect
/// handler, so an idle socket does not keep them.
#[derive(Debug, Clone)]
struct InitialRooms(Vec<String>);

/// Connect middleware: the handshake. On success the socket's session and
/// quota slot go into its extensions and its events are registered, here,
/// before the client gets its CONNECT: socketioxide spawns the connect
/// handler only after sending it, and drops events that arrive before
/// their handler is registered, so a client emitting right on `connect`
/// would otherwise sometimes get no ack.
pub async fn authenticate<A: Adapter>(
    socket: SocketRef<A>,
    TryData(auth): TryData<HandshakeAuth>,
    State(state): State<AppState>,
) -> Result<(), Refusal> {
    let admission = admit(&state, auth.ok(), socket.req_parts().uri.query()).await?;
    if let Some(address) = handshake_address(&socket, &state) {
        state.pending.settle(address);
    }
    socket.extensions.insert(InitialRooms(admission.rooms));
    socket.extensions.insert(Arc::new(admission.slot));
    socket.extensions.insert(admission.session);
    register_all(&mut Registrar::new(&socket));
    socket.on_disconnect(on_disconnect::<A>);
    Ok(())
}

/// The client address of the socket's handshake.
fn handshake_address<A: Adapter>(socket: &Socket<A>, state: &AppState) -> Option<std::net::IpAddr> {
    let parts = socket.req_parts();
    let ConnectInfo(peer) = parts.extensions.get::<ConnectInfo<Peer>>()?;
    Some(client_address(
        peer.addr.ip(),
        &parts.headers,
        &state.trusted_proxies,
    ))
}

/// A socket got in: it joins its rooms and is counted.
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
    arrived(&state, &session, socket.id, rooms.clone());
    // A client that left between the check above and the count ran
    // `on_disconnect` with nothing to undo: its departure is handled here
    // instead (once, see `Session::uncount`), and the rooms joined above
    // are left.
    if !socket.connected() {
        socket.leave_all();
        departed(&state, &session, socket.id, || rooms).await;
    }
}

/// A socket left; it is still in its rooms until this handler returns.
async fn on_disconnect<A: Adapter>(
    socket: SocketRef<A>,
    Extension(session): Extension<Session>,
    State(state): State<AppState>,
) {
    departed(&state, &session, socket.id, || group_rooms(&socket)).await;
}

/// The group rooms of `socket` (its user room left out).
fn group_rooms<A: Adapter>(socket: &Socket<A>) -> Vec<String> {
    socket
        .rooms()
        .into_iter()
        .filter(|room| !is_user_room(room))
        .map(|room| room.into_owned())
        .collect()
}
