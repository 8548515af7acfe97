//! Running the client events ([`crate::events`]) on a socket: what every
//! event gets, in one place.
//!
//! A socket has one handler for all of them, socketioxide's fallback: it
//! finds the event by its name in the list of `crate::events` and runs it.
//! Registering each event on each socket would give every socket a map of
//! its own of the same 17 handlers (about 1.3 KiB of an idle socket);
//! the list is the node's, and a lookup in it compares a few names.
//! An event of an unknown name is ignored, as socketioxide ignores one
//! with no handler.
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
use crate::events::{Ctx, Event, Handled, Register, bad_payload, register_all};
use crate::metrics::ChatMetrics;
use crate::rooms;
use crate::session::Session;
use crate::state::AppState;
use chat_wire::ErrorCode;
use chat_wire::events::Ack;
use futures::future::BoxFuture;
use serde::Serialize;
use service_kit::{ApiError, request_id};
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Extension, SocketRef, State};
use socketioxide::handler::FromMessage;
use socketioxide::socket::Socket;
use socketioxide_core::Value;
use socketioxide_core::parser::Parse;
use socketioxide_parser_common::CommonParser;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

/// Gives `socket` the handler of every client event.
pub fn register<A: Adapter>(socket: &SocketRef<A>) {
    socket.on_fallback(dispatch::<A>);
}

/// An incoming event as the socket received it: its name and payload, not
/// decoded yet (the payload's type depends on the name). The server keeps
/// socketioxide's default parser, so [`CommonParser`] reads it.
struct Packet(Value);

impl<A: Adapter> FromMessage<A> for Packet {
    type Error = Infallible;
    fn from_message(_: Arc<Socket<A>>, value: Value, _: Option<i64>) -> Result<Self, Infallible> {
        Ok(Self(value))
    }
}

/// One event, with what running it needs.
struct Incoming<A: Adapter> {
    socket: SocketRef<A>,
    io: SocketIo<A>,
    ack: AckSender<A>,
    session: Session,
    state: AppState,
    publishing: Publishing,
    packet: Value,
}

/// Runs one event: [`run`] of the event its name designates.
type Runner<A> = fn(Incoming<A>) -> BoxFuture<'static, ()>;

/// Finds the runner of the event called `name` among [`register_all`]'s.
struct Find<'a, A: Adapter> {
    name: &'a str,
    runner: Option<Runner<A>>,
}

impl<A: Adapter> Register for Find<'_, A> {
    fn event<E: Event>(&mut self) {
        if self.runner.is_none() && E::NAME == self.name {
            self.runner = Some(|incoming| Box::pin(run::<A, E>(incoming)));
        }
    }
}

/// The socket's one event handler (see the module header).
async fn dispatch<A: Adapter>(
    socket: SocketRef<A>,
    io: SocketIo<A>,
    ack: AckSender<A>,
    Extension(session): Extension<Session>,
    State(state): State<AppState>,
    State(publishing): State<Publishing>,
    Packet(packet): Packet,
) {
    let runner = {
        let Ok(name) = CommonParser.read_event(&packet) else {
            return;
        };
        let mut find = Find { name, runner: None };
        register_all(&mut find);
        let Some(runner) = find.runner else {
            tracing::debug!(event = name, "an event of an unknown name is ignored");
            return;
        };
        runner
    };
    let incoming = Incoming {
        socket,
        io,
        ack,
        session,
        state,
        publishing,
        packet,
    };
    runner(incoming).await;
}

/// Runs one event of `E`, under a request id of its own (see
/// `service_kit::request_id`): its store calls and log lines carry it.
async fn run<A: Adapter, E: Event>(incoming: Incoming<A>) {
    let Incoming {
        socket,
        io,
        ack,
        session,
        state,
        publishing: Publishing(publisher),
        mut packet,
    } = incoming;
    let payload = CommonParser.decode_value::<E::Payload>(&mut packet, true);
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

#[cfg(test)]
mod tests {
    use super::*;
    use socketioxide::adapter::LocalAdapter;

    /// Collects the names of the registered events.
    struct Names(Vec<&'static str>);

    impl Register for Names {
        fn event<E: Event>(&mut self) {
            self.0.push(E::NAME);
        }
    }

    fn finds(name: &str) -> bool {
        let mut find = Find::<LocalAdapter> { name, runner: None };
        register_all(&mut find);
        find.runner.is_some()
    }

    #[test]
    fn every_event_is_found_by_its_name_and_no_other_name_is() {
        let mut names = Names(Vec::new());
        register_all(&mut names);
        let mut unique = names.0.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.0.len(), "two events share a name");
        assert!(names.0.contains(&"chat message"));
        for name in &names.0 {
            assert!(finds(name), "`{name}` is not found");
        }
        for unknown in ["", "chat", "chat message ", "Chat Message", "disconnect"] {
            assert!(!finds(unknown), "`{unknown}` is found");
        }
    }
}
