//! A socket that got in, and one that left: what each changes on the node.
//!
//! An arrival is counted (metrics, token expiry, the transport's carrier,
//! presence: its user's first socket here records them online in the
//! cluster, which announces them if they were offline everywhere). A
//! departure undoes exactly what its arrival did, once, whichever comes
//! first of the disconnect and a connect that saw its client already gone.

use crate::events::leave_queues;
use crate::session::Session;
use crate::state::AppState;
use socketioxide_core::Sid;

/// Counts socket `sid` of `session`, which is in `rooms` (its groups).
pub fn arrived(state: &AppState, session: &Session, sid: Sid, rooms: Vec<String>) {
    state.metrics.sockets.inc();
    state.expiry.watch(sid, session.expires());
    state.node.transports.adopt(sid);
    session.count();
    state.node.presence.socket_joined(&session.up, rooms);
    state
        .metrics
        .users
        .set(state.node.presence.users_here() as i64);
}

/// Undoes what the arrival of `sid` did; `rooms` (the socket's group rooms
/// as it closed) gives where an `offline` would be announced.
pub async fn departed(state: &AppState, session: &Session, sid: Sid, rooms: Vec<String>) {
    state.node.transports.forget(sid);
    state.expiry.forget(sid);
    if !session.uncount() {
        return;
    }
    state.metrics.sockets.dec();
    state.node.presence.socket_left(&session.up, rooms);
    state
        .metrics
        .users
        .set(state.node.presence.users_here() as i64);
    // After presence: an `offline` never waits for this store call.
    if session.is_queued() {
        leave_queues(state, sid).await;
    }
}
