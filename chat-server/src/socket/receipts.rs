//! `typing` and `read`: relayed to the room's other members; `read` also
//! moves the user's read marker in the store (which checks membership).
//! Typing is never stored; it is relayed only from a socket in the room.

use super::ack::{answer, bad_payload};
use super::budget::EventBudget;
use super::relay::delivery;
use super::session::{Session, in_room};
use crate::state::AppState;
use chat_wire::events::{Empty, Read, ReadAck, ReadReceipt, Typing, TypingNotice};
use service_kit::ApiError;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Extension, SocketRef, State, TryData};
use std::time::Instant;

/// `typing {room, typing}`: answers `{}`; `typing {room, up, typing}` goes
/// to the room's other sockets.
pub async fn typing<A: Adapter>(
    budget: EventBudget,
    socket: SocketRef<A>,
    TryData(payload): TryData<Typing>,
    ack: AckSender<A>,
    Extension(session): Extension<Session>,
    State(state): State<AppState>,
) {
    if !budget.spent() {
        return;
    }
    let started = Instant::now();
    let result = payload
        .map_err(|e| bad_payload("typing", e))
        .and_then(|typing| {
            if in_room(&socket, typing.room.as_str()) {
                Ok(typing)
            } else {
                Err(ApiError::PermissionDenied(format!(
                    "you are not a member of group {}",
                    typing.room
                )))
            }
        });
    let notice = result.as_ref().ok().map(|typing| TypingNotice {
        room: typing.room.clone(),
        up: session.up.clone(),
        typing: typing.typing,
    });
    answer(
        ack,
        &state.metrics,
        "typing",
        started,
        result.map(|_| Empty {}),
    );
    if let Some(notice) = notice
        && let Err(err) = delivery(
            &state.metrics,
            socket
                .to(notice.room.to_string())
                .emit("typing", &notice)
                .await,
        )
    {
        tracing::debug!(error = %err, "could not relay typing");
    }
}

/// `read {room, messageId}`: answers `{room, unread}`; `read {room, up,
/// messageId}` goes to the room's other sockets.
pub async fn read<A: Adapter>(
    budget: EventBudget,
    socket: SocketRef<A>,
    TryData(payload): TryData<Read>,
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
        let Read { room, message_id } = payload.map_err(|e| bad_payload("read", e))?;
        let marker = state
            .store
            .mark_read(&room, &session.up, &message_id)
            .await?;
        let receipt = ReadReceipt {
            room: room.clone(),
            up: session.up.clone(),
            message_id: marker.message_id,
        };
        Ok((
            ReadAck {
                room,
                unread: marker.unread,
            },
            receipt,
        ))
    }
    .await;
    let (result, receipt) = match result {
        Ok((ack, receipt)) => (Ok(ack), Some(receipt)),
        Err(err) => (Err(err), None),
    };
    answer(ack, &state.metrics, "read", started, result);
    if let Some(receipt) = receipt
        && let Err(err) = delivery(
            &state.metrics,
            socket
                .to(receipt.room.to_string())
                .emit("read", &receipt)
                .await,
        )
    {
        tracing::debug!(error = %err, "could not relay a read receipt");
    }
}
