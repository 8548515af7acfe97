//! `online`, `join room` and `leave room`.
//!
//! Joining or leaving changes the group in the store, then the rooms of
//! every socket of the user, on every node, so all their devices stay in
//! step.

use super::ack::{answer, bad_payload};
use super::budget::EventBudget;
use super::session::{Session, user_room};
use crate::state::AppState;
use chat_wire::events::{OnlineNotice, RoomRef};
use chat_wire::ids::{EntityId, Up};
use chat_wire::model::Group;
use service_kit::ApiError;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Extension, State, TryData};
use std::time::Instant;

/// `online {}`: answers `{up}` (seed compatibility; identity is the token's).
pub async fn online<A: Adapter>(
    budget: EventBudget,
    ack: AckSender<A>,
    Extension(session): Extension<Session>,
    State(state): State<AppState>,
) {
    if !budget.spent() {
        return;
    }
    let started = Instant::now();
    let notice = OnlineNotice {
        up: session.up.clone(),
    };
    answer(ack, &state.metrics, "online", started, Ok(notice));
}

/// `join room {room}`: a member (re)joins; anyone may join an `open` group;
/// others get `permission_denied`. Answers the Group.
pub async fn join_room<A: Adapter>(
    budget: EventBudget,
    io: SocketIo<A>,
    TryData(payload): TryData<RoomRef>,
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
        let RoomRef { room } = payload.map_err(|e| bad_payload("join room", e))?;
        let group = join(&state, &session.up, &room).await?;
        set_membership(&io, &session.up, &room, true).await;
        // A kick may land between the store's join and the rooms' join; it
        // would then be undone in the rooms. The store decides.
        if !state.store.group(&room).await?.users.contains(&session.up) {
            set_membership(&io, &session.up, &room, false).await;
            return Err(ApiError::PermissionDenied(format!(
                "you were removed from group {room}"
            )));
        }
        Ok(group)
    }
    .await;
    answer(ack, &state.metrics, "join room", started, result);
}

/// Joins in the store, where openness and membership are checked in the
/// same step as the join (a kick landing meanwhile is not undone).
async fn join(state: &AppState, up: &Up, room: &EntityId) -> Result<Group, ApiError> {
    state.store.join_open_group(room, up).await
}

/// `leave room {room}`: leaves the group. Answers `{room}`.
pub async fn leave_room<A: Adapter>(
    budget: EventBudget,
    io: SocketIo<A>,
    TryData(payload): TryData<RoomRef>,
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
        let RoomRef { room } = payload.map_err(|e| bad_payload("leave room", e))?;
        state.store.leave_group(&room, &session.up).await?;
        set_membership(&io, &session.up, &room, false).await;
        Ok(RoomRef { room })
    }
    .await;
    answer(ack, &state.metrics, "leave room", started, result);
}

/// Puts every socket of `up`, on every node, into `room` or takes them out.
pub async fn set_membership<A: Adapter>(io: &SocketIo<A>, up: &Up, room: &EntityId, member: bool) {
    let devices = io.to(user_room(up));
    let moved = if member {
        devices.join(room.to_string()).await
    } else {
        devices.leave(room.to_string()).await
    };
    if let Err(err) = moved {
        tracing::warn!(up = %up, room = %room, error = %err, "could not move the user's sockets");
    }
}
