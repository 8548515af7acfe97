//! Registering the client events ([`crate::events`]) on a socket: what
//! every event gets, in one place.
//!
//! 1. The user's event budget (`CHAT_EVENT_RATE` / `CHAT_EVENT_BURST`): over
//!    it the ack is `rate_limited` and the event has no effect and costs no
//!    store call, so a flood of any event cannot starve the store's
//!    connection that every user shares.
//! 2. The payload, parsed into the event's type (`invalid_argument` if it
//!    does not parse).
//! 3. For events that write, a place in the node's work in flight, which a
//!    drain waits for.
//! 4. The ack (`{data}` or `{error}`), counted and timed by event and
//!    outcome; then the event's relay to others, if it has one.

use super::sockets::{EngineRooms, Publishing};
use crate::events::{Ctx, Event, Handled, Register, bad_payload};
use crate::metrics::ChatMetrics;
use crate::rooms;
use crate::session::Session;
use crate::state::AppState;
use chat_wire::ErrorCode;
use chat_wire::events::Ack;
use serde::Serialize;
use service_kit::{ApiError, request_id};
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Extension, SocketRef, State, TryData};
use std::time::Instant;

/// Registers events on one socket.
pub struct Registrar<'a, A: Adapter> {
    socket: &'a SocketRef<A>,
}

impl<'a, A: Adapter> Registrar<'a, A> {
    /// Registers on `socket`.
    pub fn new(socket: &'a SocketRef<A>) -> Self {
        Self { socket }
    }
}

impl<A: Adapter> Register for Registrar<'_, A> {
    fn event<E: Event>(&mut self) {
        self.socket.on(E::NAME, run::<A, E>);
    }
}

/// Runs one event of `E`, under a request id of its own (see
/// `service_kit::request_id`): its store calls and log lines carry it.
async fn run<A: Adapter, E: Event>(
    socket: SocketRef<A>,
    io: SocketIo<A>,
    TryData(payload): TryData<E::Payload>,
    ack: AckSender<A>,
    Extension(session): Extension<Session>,
    State(state): State<AppState>,
    State(Publishing(publisher)): State<Publishing>,
) {
    let rooms = EngineRooms::new(io, publisher);
    let event = handle::<A, E>(socket, rooms, payload, ack, session, state);
    request_id::scope(request_id::new(), event).await;
}

/// What [`run`] does for one event.
async fn handle<A: Adapter, E: Event>(
    socket: SocketRef<A>,
    rooms: EngineRooms<A>,
    payload: Result<E::Payload, socketioxide::ParserError>,
    ack: AckSender<A>,
    session: Session,
    state: AppState,
) {
    if let Err(refused) = state.event_rate.check(&session.up) {
        state.metrics.events_over_budget.inc();
        let body: Ack<()> = Ack::error(ErrorCode::RateLimited, refused.to_string());
        if let Err(err) = ack.send(&body) {
            tracing::debug!(error = %err, "rate_limited ack not delivered");
        }
        return;
    }
    let started = Instant::now();
    let _work = E::WRITES.then(|| state.node.lifecycle.work());
    let ctx = Ctx {
        state: &state,
        rooms: &rooms,
        session: &session,
        socket: socket.id,
    };
    let handled = match payload {
        Ok(payload) => E::handle(&ctx, payload).await,
        Err(err) => Err(bad_payload(E::NAME, err)),
    };
    let (result, relay) = match handled {
        Ok(Handled { reply, relay }) => (Ok(reply), relay),
        Err(err) => (Err(err), None),
    };
    answer(ack, &state.metrics, E::NAME, started, result);
    if let Some((audience, event)) = relay {
        // A failure is logged by `send`; the ack already went out.
        let _ = rooms::send(&rooms, &state.metrics, &audience, &event).await;
    }
}

/// Sends the ack of `event` and records its outcome and latency.
fn answer<A: Adapter, T: Serialize>(
    ack: AckSender<A>,
    metrics: &ChatMetrics,
    event: &'static str,
    started: Instant,
    result: Result<T, ApiError>,
) {
    let outcome = match &result {
        Ok(_) => "ok",
        Err(err) => err.code().as_str(),
    };
    let body = Ack::from_result(result);
    if let Err(err) = ack.send(&body) {
        tracing::debug!(event, error = %err, "ack not delivered: the socket is gone");
    }
    metrics.observe_event(event, outcome, started);
}
