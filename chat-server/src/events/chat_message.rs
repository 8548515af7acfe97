//! `chat message {room, message, nonce?}`: validated, stored through the
//! store (which checks that the sender is a member), and only then acked
//! with the stored Message and sent as `chat message` to the room's other
//! sockets. A retry with the same nonce gets the same message and is not
//! sent again.

use super::{Ctx, Event, Handled, parse_nonce};
use crate::rooms::Audience;
use crate::rooms::outgoing::Outgoing;
use chat_wire::events::ChatMessage as Payload;
use chat_wire::model::Message;
use chat_wire::requests::{NewMessage, parse_text};
use service_kit::ApiError;

/// `chat message`.
pub struct ChatMessage;

impl Event for ChatMessage {
    const NAME: &'static str = "chat message";
    const WRITES: bool = true;
    type Payload = Payload;
    type Reply = Message;

    async fn handle(ctx: &Ctx<'_>, payload: Payload) -> Result<Handled<Message>, ApiError> {
        let Payload {
            room,
            message,
            nonce,
        } = payload;
        let text = parse_text("message", &message, ctx.state.max_message_chars)?;
        let nonce = parse_nonce(nonce)?;
        ctx.state.message_rate.check(ctx.up())?;
        let new = NewMessage {
            group: room,
            from: ctx.up().clone(),
            message: text,
            nonce,
        };
        let sent = ctx.state.store.send_message(&new).await?;
        if !sent.created {
            return Ok(Handled::reply(sent.message));
        }
        ctx.state.metrics.messages.inc();
        ctx.state.notifier.notify(&sent.message);
        let room = vec![sent.message.group.to_string()];
        let relay = Outgoing::ChatMessage(sent.message.clone());
        Ok(Handled::reply(sent.message).relay(Audience::others(ctx.socket, room), relay))
    }
}
