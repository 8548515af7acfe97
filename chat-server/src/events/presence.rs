//! `presence {room}`: who of a room's members is online, on any node, as
//! the caller may see it: members who hide their presence or blocked the
//! caller are left out. Answers `{online: [up]}`; members only.

use super::{Ctx, Event, Handled, require_member};
use chat_wire::events::{PresenceList, RoomRef};
use service_kit::ApiError;

/// `presence`.
pub struct Presence;

impl Event for Presence {
    const NAME: &'static str = "presence";
    const WRITES: bool = false;
    type Payload = RoomRef;
    type Reply = PresenceList;

    async fn handle(ctx: &Ctx<'_>, RoomRef { room }: RoomRef) -> Result<Handled<PresenceList>, ApiError> {
        let presence = ctx.state.store.group_presence_for(&room, ctx.up()).await?;
        require_member(&presence.group, ctx.up())?;
        Ok(Handled::reply(PresenceList {
            online: presence.online,
        }))
    }
}
