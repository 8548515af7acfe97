//! `leave queue {}`: the socket gives up its place in the pairing queues.
//! Answers `{queued: false}`.

use super::queue::socket_id;
use super::{Ctx, Event, Handled};
use chat_wire::events::Queued;
use serde::de::IgnoredAny;
use service_kit::ApiError;

/// `leave queue`.
pub struct LeaveQueue;

impl Event for LeaveQueue {
    const NAME: &'static str = "leave queue";
    const WRITES: bool = false;
    type Payload = IgnoredAny;
    type Reply = Queued;

    async fn handle(ctx: &Ctx<'_>, _: IgnoredAny) -> Result<Handled<Queued>, ApiError> {
        ctx.state.store.dequeue(&socket_id(ctx.socket)?).await?;
        ctx.session.set_queued(false);
        Ok(Handled::reply(Queued { queued: false }))
    }
}
