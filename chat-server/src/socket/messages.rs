//! `chat message`: validate, store through the store (which checks that the
//! sender is a member), and only then ack and broadcast to the room.

use super::ack::{answer, bad_payload};
use super::budget::EventBudget;
use super::relay::delivery;
use super::session::Session;
use crate::state::AppState;
use chat_wire::events::ChatMessage;
use chat_wire::model::Message;
use chat_wire::requests::{NewMessage, parse_text};
use service_kit::ApiError;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Extension, SocketRef, State, TryData};
use std::time::Instant;

/// `chat message {room, message, nonce?}`: answers the stored Message; a new
/// message is then sent as `chat message` to the room's other sockets. A
/// retry with the same nonce gets the same message and is not sent again.
pub async fn chat_message<A: Adapter>(
    budget: EventBudget,
    socket: SocketRef<A>,
    TryData(payload): TryData<ChatMessage>,
    ack: AckSender<A>,
    Extension(session): Extension<Session>,
    State(state): State<AppState>,
) {
    if !budget.spent() {
        return;
    }
    let started = Instant::now();
    // A drain waits for this: an acked message is also broadcast.
    let _work = state.lifecycle.work();
    let result = store_message(
        &state,
        &session,
        payload.map_err(|e| bad_payload("chat message", e)),
    )
    .await;
    let fresh = match &result {
        Ok((message, true)) => Some(message.clone()),
        _ => None,
    };
    answer(
        ack,
        &state.metrics,
        "chat message",
        started,
        result.map(|(message, _)| message),
    );
    if let Some(message) = fresh {
        state.metrics.messages.inc();
        state.notifier.notify(&message);
        let room = message.group.to_string();
        if let Err(err) = delivery(
            &state.metrics,
            socket.to(room).emit("chat message", &message).await,
        ) {
            tracing::warn!(id = %message.id, error = %err, "could not broadcast a message");
        }
    }
}

/// Stores the message; `true` when it is new.
async fn store_message(
    state: &AppState,
    session: &Session,
    payload: Result<ChatMessage, ApiError>,
) -> Result<(Message, bool), ApiError> {
    let ChatMessage {
        room,
        message,
        nonce,
    } = payload?;
    let text = parse_text("message", &message, state.max_message_chars)?;
    let nonce = parse_nonce(nonce)?;
    state.message_rate.check(&session.up)?;
    let new = NewMessage {
        group: room,
        from: session.up.clone(),
        message: text,
        nonce,
    };
    let sent = state.store.send_message(&new).await?;
    Ok((sent.message, sent.created))
}

/// Checks an optional nonce with the shared rule; a bad one is
/// `invalid_argument` (only message text is `payload_too_large`).
pub fn parse_nonce(nonce: Option<String>) -> Result<Option<String>, ApiError> {
    chat_wire::requests::parse_nonce(nonce.as_deref())
        .map_err(|err| ApiError::InvalidArgument(err.to_string()))
}
