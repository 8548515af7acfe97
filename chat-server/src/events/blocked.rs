//! `blocked {}`: the users the user blocked, oldest block first. Answers
//! `{items: [up]}`.

use super::{Ctx, Event, Handled};
use chat_wire::privacy::BlockedList;
use serde::de::IgnoredAny;
use service_kit::ApiError;

/// `blocked`.
pub struct Blocked;

impl Event for Blocked {
    const NAME: &'static str = "blocked";
    const WRITES: bool = false;
    type Payload = IgnoredAny;
    type Reply = BlockedList;

    async fn handle(ctx: &Ctx<'_>, _: IgnoredAny) -> Result<Handled<BlockedList>, ApiError> {
        Ok(Handled::reply(ctx.state.store.blocked_users(ctx.up()).await?))
    }
}
