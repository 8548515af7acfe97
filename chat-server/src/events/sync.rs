//! `sync {room, after?, since?}`: what a client that was away missed in a
//! room: the messages after its newest one, and the messages changed since
//! its last sync. Answers `{messages: Page, changes: [Message]}`.
//!
//! The reconnect recipe (docs/chat-api.md): keep the newest message id and
//! the time of the last sync per room; after reconnecting, `sync` each room
//! with both, and again `after` the last returned message while `hasMore`
//! (and with `since` = the last change's `changedAt` while `moreChanges`).

use super::{Ctx, Event, Handled, gate, require_member};
use chat_wire::events::{Sync as Payload, SyncResult};
use chat_wire::paging::{MAX_PER_PAGE, PageRequest, Position};
use chat_wire::time;
use service_kit::ApiError;

/// `sync`.
pub struct Sync;

impl Event for Sync {
    const NAME: &'static str = "sync";
    const WRITES: bool = false;
    type Payload = Payload;
    type Reply = SyncResult;

    async fn handle(ctx: &Ctx<'_>, payload: Payload) -> Result<Handled<SyncResult>, ApiError> {
        let Payload { room, after, since } = payload;
        if let Some(since) = &since {
            time::parse(since).map_err(|_| {
                ApiError::InvalidArgument(format!(
                    "`since` must be an RFC 3339 time, got `{since}`"
                ))
            })?;
        }
        let paging = PageRequest {
            position: after.map_or(Position::Page(0), Position::After),
            per_page: MAX_PER_PAGE,
        };
        let store = &ctx.state.store;
        let group = store.group(&room).await?;
        require_member(&group, ctx.up())?;
        if !gate::history_visible(ctx.state, &group).await? {
            return Ok(Handled::reply(SyncResult {
                messages: gate::hidden_page(&paging),
                changes: Vec::new(),
                more_changes: false,
            }));
        }
        let messages = store.group_messages(&room, &paging).await?;
        let (changes, more_changes) = match since {
            Some(since) => {
                let first = PageRequest {
                    position: Position::Page(0),
                    per_page: MAX_PER_PAGE,
                };
                let page = store.changes(&room, &since, &first).await?;
                (page.items, page.has_more)
            }
            None => (Vec::new(), false),
        };
        Ok(Handled::reply(SyncResult {
            messages,
            changes,
            more_changes,
        }))
    }
}
