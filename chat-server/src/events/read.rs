//! `read {room, messageId}`: moves the user's read marker in the store
//! (which checks membership); answers `{room, unread}`, and `read {room,
//! up, messageId}` goes to the room's other sockets, except in a direct
//! group where one of the two blocked the other. No message text is
//! carried either way.

use super::{Ctx, Event, Handled};
use crate::rooms::Audience;
use crate::rooms::outgoing::Outgoing;
use chat_wire::events::{Read as Payload, ReadAck, ReadReceipt};
use service_kit::ApiError;

/// `read`.
pub struct Read;

impl Event for Read {
    const NAME: &'static str = "read";
    const WRITES: bool = true;
    type Payload = Payload;
    type Reply = ReadAck;

    async fn handle(ctx: &Ctx<'_>, payload: Payload) -> Result<Handled<ReadAck>, ApiError> {
        let Payload { room, message_id } = payload;
        let marker = ctx
            .state
            .store
            .mark_read(&room, ctx.up(), &message_id)
            .await?;
        let receipt = ReadReceipt {
            room: room.clone(),
            up: ctx.up().clone(),
            message_id: marker.message_id,
        };
        let audience = Audience::others(ctx.socket, vec![room.to_string()]);
        let reply = ReadAck {
            room,
            unread: marker.unread,
            mentions: marker.mentions,
        };
        if marker.quiet {
            // A direct group where one blocked the other: no receipt.
            return Ok(Handled::reply(reply));
        }
        Ok(Handled::reply(reply).relay(audience, Outgoing::Read(receipt)))
    }
}
