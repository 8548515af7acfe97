//! `private message {to, message?, nonce?, attachments?, replyTo?}`: a message to
//! one user, stored in the direct group of the two (created on first use;
//! attachments must have been uploaded to that group), acked with the
//! stored Message and sent as `private message` to both users' other
//! sockets only.

use super::{Ctx, Event, Handled, gate, membership, parse_content, parse_nonce};
use crate::rooms::outgoing::Outgoing;
use crate::rooms::{Audience, user_room};
use chat_wire::events::PrivateMessage as Payload;
use chat_wire::model::Message;
use chat_wire::requests::NewMessage;
use service_kit::ApiError;

/// `private message`.
pub struct PrivateMessage;

impl Event for PrivateMessage {
    const NAME: &'static str = "private message";
    const WRITES: bool = true;
    type Payload = Payload;
    type Reply = Message;

    async fn handle(ctx: &Ctx<'_>, payload: Payload) -> Result<Handled<Message>, ApiError> {
        let Payload {
            to,
            message,
            nonce,
            attachments,
            reply_to,
        } = payload;
        if to == *ctx.up() {
            return Err(ApiError::InvalidArgument(
                "a private message needs another user as `to`".into(),
            ));
        }
        let text = parse_content(ctx, &message, &attachments)?;
        let nonce = parse_nonce(nonce)?;
        ctx.state.message_rate.check(ctx.up())?;
        let group = ctx.state.store.direct_group(ctx.up(), &to).await?;
        if !ctx.in_room(group.id.as_str()) {
            // First message between the two: both users' sockets, on every
            // node, join the conversation's room, for typing and read receipts.
            membership::enter(ctx.rooms, ctx.up(), &group.id).await;
            membership::enter(ctx.rooms, &to, &group.id).await;
        }
        let new = NewMessage {
            group: group.id,
            from: ctx.up().clone(),
            message: text,
            nonce,
            attachments,
            reply_to,
        };
        let mut sent = ctx.state.store.send_message(&new).await?;
        sent.message = gate::reply_as_readers_see_it(ctx.state, sent.message).await;
        if !sent.created {
            return Ok(Handled::reply(sent.message));
        }
        ctx.state.metrics.messages.inc();
        ctx.state.notifier.notify(&sent.message);
        let both = vec![user_room(ctx.up()), user_room(&to)];
        let relay = Outgoing::PrivateMessage(sent.message.clone());
        Ok(Handled::reply(sent.message).relay(Audience::others(ctx.socket, both), relay))
    }
}
