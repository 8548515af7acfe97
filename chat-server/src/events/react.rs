//! `react {messageId, emoji, on}`: a member adds or removes a reaction
//! (the store checks membership and the caps); answers the Message, which
//! goes to the room's other sockets as `message updated`.

use super::{Ctx, Event, Handled, changed};
use chat_wire::events::React as Payload;
use chat_wire::model::Message;
use chat_wire::requests::parse_emoji;
use service_kit::ApiError;

/// `react`.
pub struct React;

impl Event for React {
    const NAME: &'static str = "react";
    const WRITES: bool = true;
    type Payload = Payload;
    type Reply = Message;

    async fn handle(ctx: &Ctx<'_>, payload: Payload) -> Result<Handled<Message>, ApiError> {
        let Payload {
            message_id,
            emoji,
            on,
        } = payload;
        let emoji = parse_emoji(&emoji)?;
        let message = ctx
            .state
            .store
            .react(&message_id, ctx.up(), &emoji, on)
            .await?;
        Ok(changed::announce(ctx, message).await)
    }
}
