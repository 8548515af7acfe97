//! `online {}`: answers `{up}` (seed compatibility; identity is the token's).

use super::{Ctx, Event, Handled};
use chat_wire::events::OnlineNotice;
use serde::de::IgnoredAny;
use service_kit::ApiError;

/// `online`.
pub struct Online;

impl Event for Online {
    const NAME: &'static str = "online";
    const WRITES: bool = false;
    type Payload = IgnoredAny;
    type Reply = OnlineNotice;

    async fn handle(ctx: &Ctx<'_>, _: IgnoredAny) -> Result<Handled<OnlineNotice>, ApiError> {
        Ok(Handled::reply(OnlineNotice {
            up: ctx.up().clone(),
        }))
    }
}
