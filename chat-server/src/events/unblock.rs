//! `unblock {up}`: the user unblocks another one (unblocking a user who is
//! not blocked is not an error). Answers `{}`. Direct messages between the
//! two work again, and the other user hears of the user's presence from
//! their next transition (and `presence` lists them at once).

use super::block::not_oneself;
use super::{Ctx, Event, Handled};
use chat_wire::events::Empty;
use chat_wire::privacy::UserRef;
use service_kit::ApiError;

/// `unblock`.
pub struct Unblock;

impl Event for Unblock {
    const NAME: &'static str = "unblock";
    const WRITES: bool = true;
    type Payload = UserRef;
    type Reply = Empty;

    async fn handle(ctx: &Ctx<'_>, UserRef { up }: UserRef) -> Result<Handled<Empty>, ApiError> {
        not_oneself(ctx, &up, "unblock")?;
        ctx.state.store.unblock(ctx.up(), &up).await?;
        Ok(Handled::reply(Empty {}))
    }
}
