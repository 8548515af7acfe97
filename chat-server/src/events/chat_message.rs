//! `chat message {room, message?, nonce?, attachments?, replyTo?}`: validated,
//! stored through the store (which checks that the sender is a member and
//! takes the attachments, each once), and only then acked with the stored
//! Message and sent as `chat message` to the room's other sockets. A retry
//! with the same nonce gets the same message and is not sent again.

use super::{Ctx, Event, Handled, gate, parse_content, parse_nonce};
use crate::rooms::Audience;
use crate::rooms::outgoing::Outgoing;
use chat_wire::events::ChatMessage as Payload;
use chat_wire::model::Message;
use chat_wire::requests::NewMessage;
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
            attachments,
            reply_to,
        } = payload;
        let text = parse_content(ctx, &message, &attachments)?;
        let nonce = parse_nonce(nonce)?;
        ctx.state.message_rate.check(ctx.up())?;
        let new = NewMessage {
            group: room,
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
        let room = vec![sent.message.group.to_string()];
        let relay = Outgoing::ChatMessage(sent.message.clone());
        Ok(Handled::reply(sent.message).relay(Audience::others(ctx.socket, room), relay))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::sockets::EngineRooms;
    use crate::session::Session;
    use chat_wire::ErrorCode;
    use chat_wire::ids::{EntityId, Up};
    use socketioxide_core::Sid;

    #[tokio::test]
    async fn the_text_is_checked_before_the_store_is_asked() {
        let state = super::super::testing::state_without_store(&["--max-message-chars", "10"]);
        let (_, io) = socketioxide::SocketIo::builder().build_svc();
        let rooms = EngineRooms::new(io, None);
        let session = Session::new(Up::parse("up201900001").unwrap(), u64::MAX);
        let ctx = Ctx {
            state: &state,
            rooms: &rooms,
            session: &session,
            socket: Sid::new(),
        };
        let send = |message: &str| Payload {
            room: EntityId::parse("6b03daf264ca8f3b34862969").unwrap(),
            message: message.to_owned(),
            nonce: None,
            attachments: Vec::new(),
            reply_to: None,
        };
        let code = async |payload| ChatMessage::handle(&ctx, payload).await.err().map(|e| e.code());

        assert_eq!(code(send("  \n ")).await, Some(ErrorCode::InvalidArgument));
        assert_eq!(code(send("eleven char")).await, Some(ErrorCode::PayloadTooLarge));
        let bad_nonce = Payload {
            nonce: Some("n".repeat(129)),
            ..send("hi")
        };
        assert_eq!(code(bad_nonce).await, Some(ErrorCode::InvalidArgument));
        // A valid message goes to the store, which cannot be reached.
        assert_eq!(code(send("hi")).await, Some(ErrorCode::Unavailable));
    }
}
