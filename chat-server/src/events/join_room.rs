//! `join room {room}`: a member (re)joins; anyone may join an `open` group;
//! others get `permission_denied`. Answers the Group.
//!
//! Joining changes the group in the store (where openness and membership
//! are checked in the same step), then the rooms of every socket of the
//! user, on every node, so all their devices stay in step.

use super::{Ctx, Event, Handled, membership};
use chat_wire::events::RoomRef;
use chat_wire::model::Group;
use service_kit::ApiError;

/// `join room`.
pub struct JoinRoom;

impl Event for JoinRoom {
    const NAME: &'static str = "join room";
    const WRITES: bool = true;
    type Payload = RoomRef;
    type Reply = Group;

    async fn handle(ctx: &Ctx<'_>, RoomRef { room }: RoomRef) -> Result<Handled<Group>, ApiError> {
        let group = ctx.state.store.join_open_group(&room, ctx.up()).await?;
        membership::enter(ctx.rooms, ctx.up(), &room).await;
        // A kick may land between the store's join and the rooms' join; it
        // would then be undone in the rooms. The store decides.
        if !ctx.state.store.group(&room).await?.users.contains(ctx.up()) {
            membership::quit(ctx.rooms, ctx.up(), &room).await;
            return Err(ApiError::PermissionDenied(format!(
                "you were removed from group {room}"
            )));
        }
        Ok(Handled::reply(group))
    }
}
