//! `presence` (who of a room is online, on any node) and `kick` (an admin
//! removes a member: the store forgets them, their sockets on every node
//! leave the room and they are told `kicked {room}`).

use super::ack::{answer, bad_payload};
use super::budget::EventBudget;
use super::recovery::require_member;
use super::relay::delivery;
use super::rooms::set_membership;
use super::session::{Session, user_room};
use crate::state::AppState;
use chat_wire::events::{Empty, Kick, PresenceList, RoomRef};
use service_kit::ApiError;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Extension, State, TryData};
use std::time::Instant;

/// `presence {room}`: answers `{online: [up]}`.
pub async fn presence<A: Adapter>(
    budget: EventBudget,
    TryData(payload): TryData<RoomRef>,
    ack: AckSender<A>,
    Extension(session): Extension<Session>,
    State(state): State<AppState>,
) {
    if !budget.spent() {
        return;
    }
    let started = Instant::now();
    let result = async {
        let RoomRef { room } = payload.map_err(|e| bad_payload("presence", e))?;
        let presence = state.store.group_presence(&room).await?;
        require_member(&presence.group, &session.up)?;
        Ok(PresenceList {
            online: presence.online,
        })
    }
    .await;
    answer(ack, &state.metrics, "presence", started, result);
}

/// `kick {room, up}`: admins only; answers `{}`.
pub async fn kick<A: Adapter>(
    budget: EventBudget,
    io: SocketIo<A>,
    TryData(payload): TryData<Kick>,
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
        let Kick { room, up } = payload.map_err(|e| bad_payload("kick", e))?;
        let group = state.store.group(&room).await?;
        if !group.admins.contains(&session.up) {
            return Err(ApiError::PermissionDenied(format!(
                "only an admin of group {room} may kick"
            )));
        }
        if !group.users.contains(&up) {
            return Err(ApiError::NotFound(format!(
                "{up} is not a member of group {room}"
            )));
        }
        state.store.leave_group(&room, &up).await?;
        set_membership(&io, &up, &room, false).await;
        if let Err(err) = delivery(
            &state.metrics,
            io.to(user_room(&up))
                .emit("kicked", &RoomRef { room: room.clone() })
                .await,
        ) {
            tracing::warn!(up = %up, error = %err, "could not tell a user they were kicked");
        }
        Ok(Empty {})
    }
    .await;
    answer(ack, &state.metrics, "kick", started, result);
}
