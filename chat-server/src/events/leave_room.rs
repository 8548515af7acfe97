//! `leave room {room}`: leaves the group, in the store and in the rooms of
//! every socket of the user. Answers `{room}`.

use super::{Ctx, Event, Handled, membership};
use chat_wire::events::RoomRef;
use service_kit::ApiError;

/// `leave room`.
pub struct LeaveRoom;

impl Event for LeaveRoom {
    const NAME: &'static str = "leave room";
    const WRITES: bool = true;
    type Payload = RoomRef;
    type Reply = RoomRef;

    async fn handle(ctx: &Ctx<'_>, RoomRef { room }: RoomRef) -> Result<Handled<RoomRef>, ApiError> {
        ctx.state.store.leave_group(&room, ctx.up()).await?;
        membership::quit(ctx.rooms, ctx.up(), &room).await;
        Ok(Handled::reply(RoomRef { room }))
    }
}
