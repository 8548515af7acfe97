//! `delete message {messageId}`: the author or a group admin deletes a
//! message (the store checks who may; the text is erased); answers the
//! Message, which goes to the room's other sockets as `message updated`.

use super::{Ctx, Event, Handled, changed};
use chat_wire::events::DeleteMessageEvent as Payload;
use chat_wire::model::Message;
use service_kit::ApiError;

/// `delete message`.
pub struct DeleteMessage;

impl Event for DeleteMessage {
    const NAME: &'static str = "delete message";
    const WRITES: bool = true;
    type Payload = Payload;
    type Reply = Message;

    async fn handle(ctx: &Ctx<'_>, Payload { message_id }: Payload) -> Result<Handled<Message>, ApiError> {
        let message = ctx
            .state
            .store
            .delete_message(&message_id, ctx.up())
            .await?;
        Ok(changed::announce(ctx, message).await)
    }
}
