//! `sync`: what a client that was away missed in a room — the messages after
//! its newest one, and the messages changed since its last sync.
//!
//! The reconnect recipe (docs/chat-api.md): keep the newest message id and
//! the time of the last sync per room; after reconnecting, `sync` each room
//! with both, and again `after` the last returned message while `hasMore`
//! (and with `since` = the last change's `changedAt` while `moreChanges`).

use super::ack::{answer, bad_payload};
use super::budget::EventBudget;
use super::session::Session;
use crate::state::AppState;
use chat_wire::events::{Sync, SyncResult};
use chat_wire::ids::Up;
use chat_wire::model::Group;
use chat_wire::paging::{MAX_PER_PAGE, Page, PageRequest, Position};
use chat_wire::time;
use service_kit::ApiError;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Extension, State, TryData};
use std::time::Instant;

/// `sync {room, after?, since?}`: answers `{messages: Page, changes: [Message]}`.
pub async fn sync<A: Adapter>(
    budget: EventBudget,
    TryData(payload): TryData<Sync>,
    ack: AckSender<A>,
    Extension(session): Extension<Session>,
    State(state): State<AppState>,
) {
    if !budget.spent() {
        return;
    }
    let started = Instant::now();
    let result = catch_up(
        &state,
        &session,
        payload.map_err(|e| bad_payload("sync", e)),
    )
    .await;
    answer(ack, &state.metrics, "sync", started, result);
}

async fn catch_up(
    state: &AppState,
    session: &Session,
    payload: Result<Sync, ApiError>,
) -> Result<SyncResult, ApiError> {
    let Sync { room, after, since } = payload?;
    if let Some(since) = &since {
        time::parse(since).map_err(|_| {
            ApiError::InvalidArgument(format!("`since` must be an RFC 3339 time, got `{since}`"))
        })?;
    }
    let position = after.map_or(Position::Page(0), Position::After);
    let paging = PageRequest {
        position,
        per_page: MAX_PER_PAGE,
    };
    let group = state.store.group(&room).await?;
    require_member(&group, &session.up)?;
    if !history_visible(state, &group).await? {
        return Ok(SyncResult {
            messages: hidden_page(&paging),
            changes: Vec::new(),
            more_changes: false,
        });
    }
    let messages = state.store.group_messages(&room, &paging).await?;
    let (changes, more_changes) = match since {
        Some(since) => {
            let first = PageRequest {
                position: Position::Page(0),
                per_page: MAX_PER_PAGE,
            };
            let page = state.store.changes(&room, &since, &first).await?;
            (page.items, page.has_more)
        }
        None => (Vec::new(), false),
    };
    Ok(SyncResult {
        messages,
        changes,
        more_changes,
    })
}

/// `permission_denied` unless `up` is a member of `group`, as the store has it.
pub fn require_member(group: &Group, up: &Up) -> Result<(), ApiError> {
    if group.users.contains(up) {
        Ok(())
    } else {
        Err(ApiError::PermissionDenied(format!(
            "you are not a member of group {}",
            group.id
        )))
    }
}

/// Whether a group's history may be shown: its `historyMinOnline` members
/// (docs/chat-api.md, History gate) are online, on any live node.
pub async fn history_visible(state: &AppState, group: &Group) -> Result<bool, ApiError> {
    let needed = group.history_min_online as usize;
    if needed == 0 {
        return Ok(true);
    }
    let presence = state.store.group_presence(&group.id).await?;
    Ok(presence.online.len() >= needed)
}

/// The empty page, as asked for, of a group whose history is not shown yet.
pub fn hidden_page<T>(paging: &PageRequest) -> Page<T> {
    Page {
        items: Vec::new(),
        page: paging.page_number(),
        per_page: paging.per_page,
        total: 0,
        has_more: false,
    }
}
