//! `presence visible {visible}`: the user shows or hides their presence.
//! Answers `{}`.
//!
//! Hidden, nobody but the user's own sockets sees them online or when they
//! were last seen: their transitions are announced to nobody, and
//! `presence` and the history gate leave them out. Hiding while online
//! looks, to their groups, like going offline with no time
//! (`offline {up}`); showing again says `online {up}`. Neither goes to the
//! users they blocked. Setting what is set already changes nothing.

use super::{Ctx, Event, Handled};
use crate::rooms::outgoing::Outgoing;
use crate::rooms::{is_user_room, presence};
use chat_wire::cluster::PresenceAudience;
use chat_wire::events::{Empty, OfflineNotice, OnlineNotice};
use chat_wire::privacy::PresenceVisible as Payload;
use service_kit::ApiError;

/// `presence visible`.
pub struct PresenceVisible;

impl Event for PresenceVisible {
    const NAME: &'static str = "presence visible";
    const WRITES: bool = true;
    type Payload = Payload;
    type Reply = Empty;

    async fn handle(ctx: &Ctx<'_>, Payload { visible }: Payload) -> Result<Handled<Empty>, ApiError> {
        let up = ctx.up();
        let setting = ctx.state.store.set_presence_visible(up, visible).await?;
        let done = Handled::reply(Empty {});
        if !setting.changed {
            return Ok(done);
        }
        // The user is online (this socket is theirs): their groups heard so
        // unless they were hidden. They hear the change, except the users
        // this user blocked.
        let who = PresenceAudience {
            hidden: false,
            hidden_from: ctx.state.store.blocked_users(up).await?.items,
        };
        let groups: Vec<String> = ctx
            .rooms
            .rooms_of(ctx.socket)
            .into_iter()
            .filter(|room| !is_user_room(room))
            .collect();
        let Some(audience) = presence::audience(up, groups, &who) else {
            return Ok(done);
        };
        let notice = match visible {
            true => Outgoing::Online(OnlineNotice { up: up.clone() }),
            false => Outgoing::Offline(OfflineNotice {
                up: up.clone(),
                last_seen: None,
            }),
        };
        Ok(done.relay(audience, notice))
    }
}
