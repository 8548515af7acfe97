//! Closing one socket's transport, so that its client reconnects by itself,
//! and keeping new sessions off a node that cannot take them.
//!
//! socketioxide closes transports only all at once (`SocketIo::close`), and
//! `disconnect` sends a Socket.IO DISCONNECT, after which `socket.io-client`
//! does not reconnect. A drain needs neither: it closes the connection a
//! socket's transport runs on (see `service_kit::connection`), which the
//! client sees as "transport close" and answers by reconnecting.
//!
//! Which connection that is: for a socket opened straight on a WebSocket,
//! the one of its handshake request, which the socket keeps; for a socket
//! that upgraded from long-polling, the one of the upgrade request; for a
//! long-polling socket, the one of its latest poll. The last two are
//! remembered here, from the requests themselves.

use crate::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use service_kit::connection::{ConnectionHandle, Peer};
use service_kit::health::readiness;
use socketioxide::adapter::Adapter;
use socketioxide::socket::Socket;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Where the engine listens.
const SOCKET_PATH: &str = "/socket.io";

/// The connection carrying a socket's transport.
#[derive(Debug, Clone)]
enum Carrier {
    /// A long-polling socket's latest poll.
    Poll(ConnectionHandle),
    /// An upgraded socket's WebSocket: final, whatever polls come after.
    WebSocket(ConnectionHandle),
}

impl Carrier {
    fn connection(&self) -> &ConnectionHandle {
        match self {
            Carrier::Poll(connection) | Carrier::WebSocket(connection) => connection,
        }
    }
}

/// The connections of upgraded and long-polling sockets; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Transports {
    by_socket: Arc<Mutex<HashMap<String, Carrier>>>,
}

impl Transports {
    /// Closes the connection of `socket`'s transport; `false` when it is
    /// not known (the socket then goes when the node closes).
    pub fn close<A: Adapter>(&self, socket: &Socket<A>) -> bool {
        let remembered = self
            .lock()
            .get(&socket.id.to_string())
            .map(|carrier| carrier.connection().clone());
        let handshake = || {
            socket
                .req_parts()
                .extensions
                .get::<ConnectInfo<Peer>>()
                .map(|ConnectInfo(peer)| peer.connection.clone())
        };
        match remembered.or_else(handshake) {
            Some(connection) => {
                connection.close();
                true
            }
            None => false,
        }
    }

    /// Forgets a socket that left.
    pub fn forget(&self, socket: &str) {
        self.lock().remove(socket);
    }

    /// Records the connection of a request of `socket`. A poll that
    /// arrives after the upgrade (the client's last one races the
    /// WebSocket's handshake) does not replace the WebSocket.
    fn remember(&self, socket: &str, carrier: Carrier) {
        let mut by_socket = self.lock();
        if let (Carrier::Poll(_), Some(Carrier::WebSocket(_))) = (&carrier, by_socket.get(socket)) {
            return;
        }
        by_socket.insert(socket.to_owned(), carrier);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Carrier>> {
        self.by_socket
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The engine.io parameters of a request that matter here.
struct EngineQuery {
    sid: Option<String>,
    polling: bool,
}

fn engine_query(query: Option<&str>) -> EngineQuery {
    let mut parsed = EngineQuery {
        sid: None,
        polling: false,
    };
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match &*key {
            "sid" => parsed.sid = Some(value.into_owned()),
            "transport" => parsed.polling = value == "polling",
            _ => {}
        }
    }
    parsed
}

/// Middleware on the Socket.IO path: refuses new sessions while the node
/// is not registered or is draining (`503`, which clients retry), and
/// remembers the connection of each upgrade and each poll.
pub async fn track_transports(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if !request.uri().path().starts_with(SOCKET_PATH) {
        return next.run(request).await;
    }
    let query = engine_query(request.uri().query());
    let Some(sid) = query.sid else {
        if let Err(why) = state.accepts_sockets() {
            // Expected while draining and polled by every reconnecting
            // client: answered like a failed readiness probe, not logged
            // as an error.
            return readiness(Err(why.to_owned()));
        }
        return next.run(request).await;
    };
    // A WebSocket, or a long poll: a POST only brings packets in.
    let carries_transport = !query.polling || request.method() == Method::GET;
    let carrier = request
        .extensions()
        .get::<ConnectInfo<Peer>>()
        .filter(|_| carries_transport)
        .map(|ConnectInfo(peer)| match query.polling {
            true => Carrier::Poll(peer.connection.clone()),
            false => Carrier::WebSocket(peer.connection.clone()),
        });
    // Remembered before the request runs: a poll is answered only when
    // there is something to send, and may be the one to close.
    if let Some(carrier) = &carrier {
        state.transports.remember(&sid, carrier.clone());
    }
    let response = next.run(request).await;
    let accepted = matches!(
        response.status(),
        StatusCode::OK | StatusCode::SWITCHING_PROTOCOLS
    );
    if carrier.is_some() && !accepted {
        state.transports.forget(&sid);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_poll_does_not_replace_the_websocket() {
        let transports = Transports::default();
        let (poll, websocket) = (ConnectionHandle::default(), ConnectionHandle::default());
        transports.remember("s1", Carrier::Poll(poll.clone()));
        transports.remember("s1", Carrier::WebSocket(websocket.clone()));
        transports.remember("s1", Carrier::Poll(poll));
        let kept = transports.lock().get("s1").unwrap().connection().clone();
        kept.close();
        assert!(
            websocket.is_closed(),
            "the WebSocket's connection is the one kept"
        );
    }

    #[test]
    fn the_session_and_the_transport_are_read_from_the_query() {
        let upgrade = engine_query(Some("EIO=4&transport=websocket&sid=abc"));
        assert_eq!(upgrade.sid.as_deref(), Some("abc"));
        assert!(!upgrade.polling);
        let handshake = engine_query(Some("EIO=4&transport=polling&t=x"));
        assert_eq!(handshake.sid, None);
        assert!(handshake.polling);
        assert_eq!(engine_query(None).sid, None);
    }
}
