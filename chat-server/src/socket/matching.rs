//! `find room` (seed 000) and `queue` / `leave queue` (seed 001).

use super::ack::{answer, bad_payload};
use super::relay::ignoring_departed;
use super::rooms::set_membership;
use super::session::{Session, user_room};
use crate::matchmaking::Waiting;
use crate::state::AppState;
use chat_wire::events::{FindRoom, Queue, QueueComplete, QueueKind, Queued};
use chat_wire::model::Group;
use service_kit::ApiError;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Extension, SocketRef, State, TryData};
use std::time::Instant;

/// `find room {topic, capacity}`: answers a `match` Group with a place for
/// the user, joining its room.
pub async fn find_room<A: Adapter>(
    io: SocketIo<A>,
    TryData(payload): TryData<FindRoom>,
    ack: AckSender<A>,
    Extension(session): Extension<Session>,
    State(state): State<AppState>,
) {
    let started = Instant::now();
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

/// `queue {queue}`: answers `{queued: true}`; once paired, both users get
/// `queue complete {room}` with their new `match` group.
pub async fn queue<A: Adapter>(
    socket: SocketRef<A>,
    io: SocketIo<A>,
    TryData(payload): TryData<Queue>,
    ack: AckSender<A>,
    Extension(session): Extension<Session>,
    State(state): State<AppState>,
) {
    let started = Instant::now();
    let kind = match payload {
        Ok(Queue { queue }) => queue,
        Err(err) => {
            return answer::<A, Queued>(
                ack,
                &state.metrics,
                "queue",
                started,
                Err(bad_payload("queue", err)),
            );
        }
    };
    let me = Waiting {
        up: session.up.clone(),
        socket: socket.id.to_string(),
    };
    let partner = state.match_queues.enqueue(kind, me);
    answer(
        ack,
        &state.metrics,
        "queue",
        started,
        Ok(Queued { queued: true }),
    );
    if let Some(partner) = partner
        && let Err(err) = pair(&io, &state, kind, &session, &partner).await
    {
        tracing::warn!(error = %err, "pairing failed; the partner waits again");
        state.match_queues.requeue_first(kind.partner(), partner);
        let me = Waiting {
            up: session.up.clone(),
            socket: socket.id.to_string(),
        };
        state.match_queues.requeue_first(kind, me);
    }
}

/// Creates the pair's room and tells both.
async fn pair<A: Adapter>(
    io: &SocketIo<A>,
    state: &AppState,
    kind: QueueKind,
    session: &Session,
    partner: &Waiting,
) -> Result<Group, ApiError> {
    let topic = match kind {
        QueueKind::Talk => "talk",
        QueueKind::Vent | QueueKind::Listen => "vent",
    };
    let room = state
        .store
        .create_match_group(&[partner.up.clone(), session.up.clone()], topic)
        .await?;
    set_membership(io, &partner.up, &room.id, true).await;
    set_membership(io, &session.up, &room.id, true).await;
    let notice = QueueComplete { room: room.clone() };
    if let Err(err) = ignoring_departed(
        io.to([user_room(&partner.up), user_room(&session.up)])
            .emit("queue complete", &notice)
            .await,
    ) {
        tracing::warn!(room = %room.id, error = %err, "could not announce a pairing");
    }
    Ok(room)
}

/// `leave queue {}`: answers `{queued: false}`.
pub async fn leave_queue<A: Adapter>(
    socket: SocketRef<A>,
    ack: AckSender<A>,
    State(state): State<AppState>,
) {
    let started = Instant::now();
    state.match_queues.leave(&socket.id.to_string());
    answer(
        ack,
        &state.metrics,
        "leave queue",
        started,
        Ok(Queued { queued: false }),
    );
}
