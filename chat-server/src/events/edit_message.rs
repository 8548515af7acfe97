//! `edit message {messageId, message}`: the author replaces the text (the
//! store checks authorship); answers the Message, which goes to the room's
//! other sockets as `message updated`.

use super::{Ctx, Event, Handled, changed};
use chat_wire::events::EditMessageEvent as Payload;
use chat_wire::model::Message;
use chat_wire::requests::parse_text;
use service_kit::ApiError;

/// `edit message`.
pub struct EditMessage;

impl Event for EditMessage {
    const NAME: &'static str = "edit message";
    const WRITES: bool = true;
    type Payload = Payload;
    type Reply = Message;

    async fn handle(ctx: &Ctx<'_>, payload: Payload) -> Result<Handled<Message>, ApiError> {
        let Payload {
            message_id,
            message,
        } = payload;
        let text = parse_text("message", &message, ctx.state.max_message_chars)?;
        let message = ctx
            .state
            .store
            .edit_message(&message_id, ctx.up(), &text)
            .await?;
        Ok(changed::announce(ctx, message).await)
    }
}
