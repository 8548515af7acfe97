//! `private message`: a message to one user, stored in the direct group of
//! the two (created on first use) and delivered to both users' sockets only.

use super::ack::{answer, bad_payload};
use super::budget::EventBudget;
use super::messages::parse_nonce;
use super::relay::delivery;
use super::rooms::set_membership;
use super::session::{Session, in_room, user_room};
use crate::state::AppState;
use chat_wire::events::PrivateMessage;
use chat_wire::ids::Up;
use chat_wire::model::Message;
use chat_wire::requests::{NewMessage, parse_text};
use service_kit::ApiError;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Extension, SocketRef, State, TryData};
use std::time::Instant;

/// A stored private message, whether it is new, and its recipient.
struct Delivery {
    message: Message,
    created: bool,
    to: Up,
}

/// `private message {to, message, nonce?}`: answers the stored Message; a new
/// one is sent as `private message` to both users' other sockets.
pub async fn private_message<A: Adapter>(
    budget: EventBudget,
    socket: SocketRef<A>,
    io: SocketIo<A>,
    TryData(payload): TryData<PrivateMessage>,
    ack: AckSender<A>,
    Extension(session): Extension<Session>,
    State(state): State<AppState>,
) {
    if !budget.spent() {
        return;
    }
    let started = Instant::now();
    let _work = state.lifecycle.work();
    let payload = payload.map_err(|e| bad_payload("private message", e));
    let result = send(&socket, &io, &state, &session, payload).await;
    let fresh = match &result {
        Ok(delivery) if delivery.created => Some((delivery.message.clone(), delivery.to.clone())),
        _ => None,
    };
    answer(
        ack,
        &state.metrics,
        "private message",
        started,
        result.map(|d| d.message),
    );
    if let Some((message, to)) = fresh {
        state.metrics.messages.inc();
        state.notifier.notify(&message);
        let both = [user_room(&session.up), user_room(&to)];
        if let Err(err) = delivery(
            &state.metrics,
            socket.to(both).emit("private message", &message).await,
        ) {
            tracing::warn!(id = %message.id, error = %err, "could not deliver a private message");
        }
    }
}

async fn send<A: Adapter>(
    socket: &SocketRef<A>,
    io: &SocketIo<A>,
    state: &AppState,
    session: &Session,
    payload: Result<PrivateMessage, ApiError>,
) -> Result<Delivery, ApiError> {
    let PrivateMessage { to, message, nonce } = payload?;
    if to == session.up {
        return Err(ApiError::InvalidArgument(
            "a private message needs another user as `to`".into(),
        ));
    }
    let text = parse_text("message", &message, state.max_message_chars)?;
    let nonce = parse_nonce(nonce)?;
    state.message_rate.check(&session.up)?;
    let group = state.store.direct_group(&session.up, &to).await?;
    if !in_room(socket, group.id.as_str()) {
        // First message between the two: both users' sockets, on every
        // node, join the conversation's room, for typing and read receipts.
        set_membership(io, &session.up, &group.id, true).await;
        set_membership(io, &to, &group.id, true).await;
    }
    let new = NewMessage {
        group: group.id,
        from: session.up.clone(),
        message: text,
        nonce,
    };
    let sent = state.store.send_message(&new).await?;
    Ok(Delivery {
        message: sent.message,
        created: sent.created,
        to,
    })
}
