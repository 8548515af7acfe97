//! A socket's arrival and departure on the engine: the connect middleware
//! (the handshake, `socket::auth`), the connect handler and the
//! disconnect handler. The socketioxide-specific part only; what they
//! change on the node is `socket::arrival`.

use super::events;
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
use socketioxide::handler::FromDisconnectParts;
use socketioxide::socket::{DisconnectReason, Socket};
use std::convert::Infallible;
use std::sync::Arc;

/// Connect middleware: the handshake. On success the socket joins its
/// rooms (its user's room and groups as the store listed them), its session
/// and quota slot go into its extensions and its events are registered,
/// all here, before the client gets its CONNECT: socketioxide spawns the
/// connect handler only after sending it. Events that arrive before their
/// handler is registered are dropped, so a client emitting right on
/// `connect` would otherwise sometimes get no ack; and a room joined only
/// after the client's first `sync` read the store would miss a message
/// stored and broadcast in between, which that `sync` did not see either.
/// A refused socket never gets here; socketioxide removes a socket that
/// leaves before its connect handler from its rooms.
pub async fn authenticate<A: Adapter>(
    socket: SocketRef<A>,
    TryData(auth): TryData<HandshakeAuth>,
    State(state): State<AppState>,
) -> Result<(), Refusal> {
    let admission = admit(&state, auth.ok(), socket.req_parts().uri.query()).await?;
    if let Some(address) = handshake_address(&socket, &state) {
        state.pending.settle(address);
    }
    socket.join(user_room(&admission.session.up));
    if !admission.rooms.is_empty() {
        socket.join(admission.rooms);
    }
    socket.extensions.insert(Arc::new(admission.slot));
    socket.extensions.insert(admission.session);
    events::register(&socket);
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

/// A socket got in (its rooms joined by [`authenticate`]): it is counted.
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
    let rooms = group_rooms(&socket);
    arrived(&state, &session, socket.id, rooms.clone());
    // A client that left between the check above and the count ran
    // `on_disconnect` with nothing to undo: its departure is handled here
    // instead (once, see `Session::uncount`), and its rooms are left.
    if !socket.connected() {
        socket.leave_all();
        departed(&state, &session, socket.id, rooms).await;
    }
}

/// A socket left, from the group rooms it was in at that instant.
async fn on_disconnect<A: Adapter>(
    socket: SocketRef<A>,
    RoomsAtClose(rooms): RoomsAtClose,
    Extension(session): Extension<Session>,
    State(state): State<AppState>,
) {
    departed(&state, &session, socket.id, rooms).await;
}

/// The group rooms of a closing socket, read when socketioxide closes it,
/// before this handler's task is spawned. Inside the handler they may be
/// gone already: a client that leaves sends a DISCONNECT packet and then
/// closes its transport, and socketioxide closes the socket once for each;
/// the second close finds the handler taken and takes the socket out of
/// its rooms at once, possibly before the spawned handler reads them.
struct RoomsAtClose(Vec<String>);

impl<A: Adapter> FromDisconnectParts<A> for RoomsAtClose {
    type Error = Infallible;

    fn from_disconnect_parts(
        socket: &Arc<Socket<A>>,
        _: DisconnectReason,
    ) -> Result<Self, Infallible> {
        Ok(Self(group_rooms(socket)))
    }
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
