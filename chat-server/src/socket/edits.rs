//! `react`, `edit message` and `delete message`: the store checks who may
//! (a member reacts, the author edits, the author or an admin deletes), and
//! the changed Message goes to the room as `message updated`.

use super::ack::{answer, bad_payload};
use super::budget::EventBudget;
use super::relay::delivery;
use super::session::Session;
use crate::state::AppState;
use chat_wire::events::{DeleteMessageEvent, EditMessageEvent, React};
use chat_wire::model::Message;
use chat_wire::requests::{parse_emoji, parse_text};
use service_kit::ApiError;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Extension, SocketRef, State, TryData};
use std::time::Instant;

/// `react {messageId, emoji, on}`: answers the Message.
pub async fn react<A: Adapter>(
    budget: EventBudget,
    socket: SocketRef<A>,
    TryData(payload): TryData<React>,
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
        let React {
            message_id,
            emoji,
            on,
        } = payload.map_err(|e| bad_payload("react", e))?;
        let emoji = parse_emoji(&emoji)?;
        state
            .store
            .react(&message_id, &session.up, &emoji, on)
            .await
    }
    .await;
    finish(socket, ack, &state, "react", started, result).await;
}

/// `edit message {messageId, message}`: answers the Message.
pub async fn edit_message<A: Adapter>(
    budget: EventBudget,
    socket: SocketRef<A>,
    TryData(payload): TryData<EditMessageEvent>,
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
        let EditMessageEvent {
            message_id,
            message,
        } = payload.map_err(|e| bad_payload("edit message", e))?;
        let text = parse_text("message", &message, state.max_message_chars)?;
        state
            .store
            .edit_message(&message_id, &session.up, &text)
            .await
    }
    .await;
    finish(socket, ack, &state, "edit message", started, result).await;
}

/// `delete message {messageId}`: answers the Message.
pub async fn delete_message<A: Adapter>(
    budget: EventBudget,
    socket: SocketRef<A>,
    TryData(payload): TryData<DeleteMessageEvent>,
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
        let DeleteMessageEvent { message_id } =
            payload.map_err(|e| bad_payload("delete message", e))?;
        state.store.delete_message(&message_id, &session.up).await
    }
    .await;
    finish(socket, ack, &state, "delete message", started, result).await;
}

/// Acks, then sends the changed message to the room's other sockets.
async fn finish<A: Adapter>(
    socket: SocketRef<A>,
    ack: AckSender<A>,
    state: &AppState,
    event: &'static str,
    started: Instant,
    result: Result<Message, ApiError>,
) {
    let changed = result.as_ref().ok().cloned();
    answer(ack, &state.metrics, event, started, result);
    if let Some(message) = changed
        && let Err(err) = delivery(
            &state.metrics,
            socket
                .to(message.group.to_string())
                .emit("message updated", &message)
                .await,
        )
    {
        tracing::warn!(id = %message.id, error = %err, "could not relay a changed message");
    }
}
