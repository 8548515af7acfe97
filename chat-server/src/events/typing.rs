//! `typing {room, typing}`: answers `{}`; `typing {room, up, typing}` goes
//! to the room's other sockets. Never stored; relayed only from a socket
//! in the room.

use super::{Ctx, Event, Handled};
use crate::rooms::Audience;
use crate::rooms::outgoing::Outgoing;
use chat_wire::events::{Empty, Typing as Payload, TypingNotice};
use service_kit::ApiError;

/// `typing`.
pub struct Typing;

impl Event for Typing {
    const NAME: &'static str = "typing";
    const WRITES: bool = false;
    type Payload = Payload;
    type Reply = Empty;

    async fn handle(ctx: &Ctx<'_>, Payload { room, typing }: Payload) -> Result<Handled<Empty>, ApiError> {
        if !ctx.in_room(room.as_str()) {
            return Err(ApiError::PermissionDenied(format!(
                "you are not a member of group {room}"
            )));
        }
        let notice = TypingNotice {
            room: room.clone(),
            up: ctx.up().clone(),
            typing,
        };
        let audience = Audience::others(ctx.socket, vec![room.to_string()]);
        Ok(Handled::reply(Empty {}).relay(audience, Outgoing::Typing(notice)))
    }
}
