//! The HTTP side of the Socket.IO engine, before any Socket.IO packet: who
//! may open an engine session, and which connection each session's
//! transport runs on.
//!
//! A request without `sid` opens a new session. It is refused with `503`
//! while the node takes no sockets (not registered yet, draining, deaf to
//! the other nodes: clients retry, a load balancer moves them), `429` when
//! the client's address holds `CHAT_MAX_PENDING_PER_ADDRESS` sessions that
//! have not connected their socket yet, and `503` when the node holds
//! `CHAT_MAX_PENDING_SESSIONS` of them (see `limits::pending`).
//!
//! A request with `sid` carries a session's transport: the connection of
//! each upgrade and each poll is remembered for drains
//! (`cluster::transports`).

use crate::cluster::transports::Carrier;
use crate::limits::pending::{PendingRefusal, client_address};
use crate::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use service_kit::ApiError;
use service_kit::connection::Peer;
use service_kit::health::readiness;
use socketioxide_core::Sid;

/// Where the engine listens.
pub const SOCKET_PATH: &str = "/socket.io";

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

/// Whether the engine took the request: a poll or a handshake answered, or
/// a WebSocket upgraded.
fn accepted(status: StatusCode) -> bool {
    matches!(status, StatusCode::OK | StatusCode::SWITCHING_PROTOCOLS)
}

/// Middleware on the Socket.IO path (see the module documentation).
pub async fn engine_gate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with(SOCKET_PATH) {
        return next.run(request).await;
    }
    let query = engine_query(request.uri().query());
    let Some(peer) = request
        .extensions()
        .get::<ConnectInfo<Peer>>()
        .map(|ConnectInfo(peer)| peer.clone())
    else {
        return next.run(request).await;
    };
    match query.sid {
        None => open_session(&state, peer, request, next).await,
        Some(sid) => match sid.parse::<Sid>() {
            Ok(sid) => carry_transport(&state, sid, query.polling, peer, request, next).await,
            // The engine answers an unknown session itself.
            Err(_) => next.run(request).await,
        },
    }
}

/// A handshake: a new engine session, if the node and the client may hold
/// one more.
async fn open_session(state: &AppState, peer: Peer, request: Request, next: Next) -> Response {
    if let Err(why) = state.node.lifecycle.accepts_sockets() {
        // Expected while draining and polled by every reconnecting
        // client: answered like a failed readiness probe, not logged as an
        // error.
        return readiness(Err(why));
    }
    let address = client_address(peer.addr.ip(), request.headers(), &state.trusted_proxies);
    if let Err(refusal) = state.pending.admit(address) {
        state.metrics.sessions_refused.inc();
        let error = match refusal {
            PendingRefusal::Address => ApiError::RateLimited(
                "too many connections from your address are waiting to authenticate".into(),
            ),
            PendingRefusal::Node => ApiError::Unavailable(anyhow::anyhow!(
                "the node holds the most connections waiting to authenticate"
            )),
        };
        return error.into_response();
    }
    let response = next.run(request).await;
    if !accepted(response.status()) {
        state.pending.settle(address);
    }
    response
}

/// A request of session `sid`: its connection is remembered as the
/// session's carrier when it carries the transport (a WebSocket, or a long
/// poll: a POST only brings packets in).
async fn carry_transport(
    state: &AppState,
    sid: Sid,
    polling: bool,
    peer: Peer,
    request: Request,
    next: Next,
) -> Response {
    if polling && request.method() != Method::GET {
        return next.run(request).await;
    }
    let carrier = match polling {
        true => Carrier::Poll(peer.connection),
        false => Carrier::WebSocket(peer.connection),
    };
    // Remembered before the request runs: a poll is answered only when
    // there is something to send, and may be the one to close.
    state.node.transports.remember(sid, carrier);
    let response = next.run(request).await;
    if !accepted(response.status()) {
        state.node.transports.forget(sid);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

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
