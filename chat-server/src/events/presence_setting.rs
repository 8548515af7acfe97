//! `presence setting {}`: whether the user shows their presence (see
//! `presence visible`). Answers `{visible}`.

use super::{Ctx, Event, Handled};
use chat_wire::privacy::PresenceVisible;
use serde::de::IgnoredAny;
use service_kit::ApiError;

/// `presence setting`.
pub struct PresenceSetting;

impl Event for PresenceSetting {
    const NAME: &'static str = "presence setting";
    const WRITES: bool = false;
    type Payload = IgnoredAny;
    type Reply = PresenceVisible;

    async fn handle(ctx: &Ctx<'_>, _: IgnoredAny) -> Result<Handled<PresenceVisible>, ApiError> {
        let setting = ctx.state.store.presence_visibility(ctx.up()).await?;
        Ok(Handled::reply(PresenceVisible {
            visible: setting.visible,
        }))
    }
}
