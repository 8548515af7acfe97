//! The per-user event budget, taken before any handler runs.
//!
//! Every event handler takes an [`EventBudget`] as its first argument and
//! returns at once unless it is [`EventBudget::spent`]: the extractor takes
//! one token from the user's event bucket (`CHAT_EVENT_RATE` /
//! `CHAT_EVENT_BURST`). Over the rate, it answers the ack itself with
//! `rate_limited`: the event has no effect and costs no store call, so a
//! flood of any event cannot starve the store's connection that every user
//! shares. (The extractor never fails: socketioxide logs every failed
//! extraction as an error, and a flood would fill the error log.)

use super::session::Session;
use crate::state::AppState;
use chat_wire::ErrorCode;
use chat_wire::events::Ack;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Extension, State};
use socketioxide::handler::FromMessageParts;
use socketioxide::socket::Socket;
use socketioxide_core::Value;
use std::sync::Arc;

/// Whether the event fit the user's budget.
#[derive(Debug, Clone, Copy)]
pub struct EventBudget {
    spent: bool,
}

impl EventBudget {
    /// `true` when the event may run; `false` when it was refused (its ack
    /// is already sent).
    pub fn spent(self) -> bool {
        self.spent
    }
}

impl<A: Adapter> FromMessageParts<A> for EventBudget {
    type Error = std::convert::Infallible;

    fn from_message_parts(
        socket: &Arc<Socket<A>>,
        value: &mut Value,
        ack_id: &Option<i64>,
    ) -> Result<Self, Self::Error> {
        let (Ok(State(state)), Ok(Extension(session))) = (
            State::<AppState>::from_message_parts(socket, value, ack_id),
            Extension::<Session>::from_message_parts(socket, value, ack_id),
        ) else {
            // Every socket gets both in the handshake; without them the
            // handler's own extractors fail the same way.
            return Ok(EventBudget { spent: true });
        };
        let Err(refused) = state.event_rate.check(&session.up) else {
            return Ok(EventBudget { spent: true });
        };
        state.metrics.events_over_budget.inc();
        let Ok(ack) = AckSender::<A>::from_message_parts(socket, value, ack_id);
        let body: Ack<()> = Ack::error(ErrorCode::RateLimited, refused.to_string());
        if let Err(err) = ack.send(&body) {
            tracing::debug!(error = %err, "rate_limited ack not delivered");
        }
        Ok(EventBudget { spent: false })
    }
}
