//! `find room {topic, capacity}`: a `match` Group of that topic with a
//! place for the user, or a new one (the store chooses); the user's
//! sockets join its room. Answers the Group.

use super::{Ctx, Event, Handled, membership};
use chat_wire::events::FindRoom as Payload;
use chat_wire::model::Group;
use service_kit::ApiError;

/// `find room`.
pub struct FindRoom;

impl Event for FindRoom {
    const NAME: &'static str = "find room";
    const WRITES: bool = true;
    type Payload = Payload;
    type Reply = Group;

    async fn handle(ctx: &Ctx<'_>, Payload { topic, capacity }: Payload) -> Result<Handled<Group>, ApiError> {
        let group = ctx
            .state
            .store
            .find_match(ctx.up(), &topic, capacity)
            .await?;
        membership::enter(ctx.rooms, ctx.up(), &group.id).await;
        Ok(Handled::reply(group))
    }
}
