//! `find room` and `queue` / `leave queue` (docs/chat-api.md).
//!
//! The queues live in the store, shared by every node: two users queued on
//! different nodes are paired, and the store creates their room in the
//! same step. The pair is told with `queue complete` on whichever nodes
//! their sockets are.

use super::ack::{answer, bad_payload};
use super::budget::EventBudget;
use super::relay::delivery;
use super::rooms::set_membership;
use super::session::{Session, user_room};
use crate::state::AppState;
use chat_wire::cluster::{JoinQueue, QueueOutcome, SocketId};
use chat_wire::events::{FindRoom, Queue, QueueComplete, Queued};
use chat_wire::ids::Up;
use service_kit::ApiError;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Extension, SocketRef, State, TryData};
use std::time::Instant;

/// `find room {topic, capacity}`: answers a `match` Group with a place for
/// the user, joining its room.
pub async fn find_room<A: Adapter>(
    budget: EventBudget,
    io: SocketIo<A>,
    TryData(payload): TryData<FindRoom>,
    ack: AckSender<A>,
    Extension(session): Extension<Session>,
    State(state): State<AppState>,
) {
    if !budget.spent() {
        return;
    }
    let started = Instant::now();
    let _work = state.lifecycle.work();
    let result = async {
        let FindRoom { topic, capacity } = payload.map_err(|e| bad_payload("find room", e))?;
        let group = state
            .store
            .find_match(&session.up, &topic, capacity)
            .await?;
        set_membership(&io, &session.up, &group.id, true).await;
        Ok(group)
    }
    .await;
    answer(ack, &state.metrics, "find room", started, result);
}

/// The store's name of a socket.
fn socket_id<A: Adapter>(socket: &SocketRef<A>) -> Result<SocketId, ApiError> {
    SocketId::parse(socket.id.to_string())
        .map_err(|err| ApiError::Internal(anyhow::Error::new(err).context("a socket id")))
}

/// `queue {queue}`: answers `{queued: true}`; once paired, both users get
/// `queue complete {room}` with their new `match` group.
pub async fn queue<A: Adapter>(
    budget: EventBudget,
    socket: SocketRef<A>,
    io: SocketIo<A>,
    TryData(payload): TryData<Queue>,
    ack: AckSender<A>,
    Extension(session): Extension<Session>,
    State(state): State<AppState>,
) {
    if !budget.spent() {
        return;
    }
    let started = Instant::now();
    let _work = state.lifecycle.work();
    let outcome = async {
        let Queue { queue } = payload.map_err(|e| bad_payload("queue", e))?;
        let request = JoinQueue {
            queue,
            up: session.up.clone(),
            socket: socket_id(&socket)?,
            node: state.presence.node().clone(),
        };
        session.set_queued(true);
        state.store.enqueue(&request).await
    }
    .await;
    let (result, paired) = match outcome {
        Ok(outcome) => (Ok(Queued { queued: true }), paired(outcome)),
        Err(err) => (Err(err), None),
    };
    answer(ack, &state.metrics, "queue", started, result);
    if let Some((partner, notice)) = paired {
        session.set_queued(false);
        announce_pair(&io, &state, &session.up, &partner, notice).await;
    }
}

/// The partner and the notice of a paired outcome.
fn paired(outcome: QueueOutcome) -> Option<(Up, QueueComplete)> {
    let room = outcome.room?;
    let partner = outcome.partner?.up;
    Some((partner, QueueComplete { room }))
}

/// Puts both users' sockets in their room and tells them.
async fn announce_pair<A: Adapter>(
    io: &SocketIo<A>,
    state: &AppState,
    me: &Up,
    partner: &Up,
    notice: QueueComplete,
) {
    let room = &notice.room.id;
    set_membership(io, partner, room, true).await;
    set_membership(io, me, room, true).await;
    let both = [user_room(partner), user_room(me)];
    if let Err(err) = delivery(
        &state.metrics,
        io.to(both).emit("queue complete", &notice).await,
    ) {
        tracing::warn!(room = %room, error = %err, "could not announce a pairing");
    }
}

/// `leave queue {}`: answers `{queued: false}`.
pub async fn leave_queue<A: Adapter>(
    budget: EventBudget,
    socket: SocketRef<A>,
    ack: AckSender<A>,
    Extension(session): Extension<Session>,
    State(state): State<AppState>,
) {
    if !budget.spent() {
        return;
    }
    let started = Instant::now();
    let result = async {
        state.store.dequeue(&socket_id(&socket)?).await?;
        session.set_queued(false);
        Ok(Queued { queued: false })
    }
    .await;
    answer(ack, &state.metrics, "leave queue", started, result);
}

/// Takes a departing socket out of the queues.
pub async fn leave_queues<A: Adapter>(state: &AppState, socket: &SocketRef<A>) {
    let left = match socket_id(socket) {
        Ok(id) => state.store.dequeue(&id).await.map(|_| ()),
        Err(err) => Err(err),
    };
    if let Err(err) = left {
        tracing::warn!(socket = %socket.id, error = %err, "a departed socket may keep its place in a queue");
    }
}
