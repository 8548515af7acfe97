//! `kick {room, up}`: an admin removes a member. The store forgets them,
//! their sockets on every node leave the room, and they are told
//! `kicked {room}`. Answers `{}`.

use super::{Ctx, Event, Handled, membership};
use crate::rooms::outgoing::Outgoing;
use crate::rooms::{Audience, user_room};
use chat_wire::events::{Empty, Kick as Payload, RoomRef};
use service_kit::ApiError;

/// `kick`.
pub struct Kick;

impl Event for Kick {
    const NAME: &'static str = "kick";
    const WRITES: bool = true;
    type Payload = Payload;
    type Reply = Empty;

    async fn handle(ctx: &Ctx<'_>, Payload { room, up }: Payload) -> Result<Handled<Empty>, ApiError> {
        let group = ctx.state.store.group(&room).await?;
        if !group.admins.contains(ctx.up()) {
            return Err(ApiError::PermissionDenied(format!(
                "only an admin of group {room} may kick"
            )));
        }
        if !group.users.contains(&up) {
            return Err(ApiError::NotFound(format!(
                "{up} is not a member of group {room}"
            )));
        }
        ctx.state.store.leave_group(&room, &up).await?;
        membership::quit(ctx.rooms, &up, &room).await;
        let notice = Outgoing::Kicked(RoomRef { room });
        Ok(Handled::reply(Empty {}).relay(Audience::rooms(vec![user_room(&up)]), notice))
    }
}
