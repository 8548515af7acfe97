//! Presence across the chat cluster: which node holds a socket of which
//! user (`/node/{id}/users`), and who of a group is online.

use super::DATA_TAG;
use super::input::{parse_id, parse_node};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use chat_wire::cluster::{
    GroupPresence, MAX_PRESENCE_BATCH, NodeId, PresenceBatch, PresenceChanges,
};
use chat_wire::ids::{EntityId, Up};
use chat_wire::privacy::ViewerQuery;
use service_kit::responses::{
    BadRequest, NotFound, PayloadTooLarge, ServerErrors, Unauthenticated,
};
use service_kit::{ApiError, AppJson, AppQuery};
use std::collections::HashSet;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The presence routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(node_presence))
        .routes(routes!(group_presence))
}

/// A node's presence changes
///
/// `joined`: users whose first socket arrived on the node (created if
/// unknown); `left`: users whose last socket left it. Applied in that order,
/// and answered with one change per listed user, in the same order.
/// `changed` is `true` for exactly one node per cluster-wide transition
/// (offline everywhere to online, or the last node gone): that node
/// announces it. A user may appear at most once per list.
#[utoipa::path(post, path = "/node/{id}/users", tag = DATA_TAG, params(("id" = inline(NodeId), Path, description = "node id")), request_body = PresenceBatch,
    responses((status = 200, body = PresenceChanges), BadRequest, Unauthenticated, PayloadTooLarge, ServerErrors))]
async fn node_presence(
    State(state): State<AppState>,
    Path(id): Path<String>,
    AppJson(batch): AppJson<PresenceBatch>,
) -> Result<Json<PresenceChanges>, ApiError> {
    let node = parse_node(&id)?;
    for (name, list) in [("joined", &batch.joined), ("left", &batch.left)] {
        check_batch_list(name, list)?;
    }
    Ok(Json(PresenceChanges {
        items: state.store.node_presence(&node, &batch).await?,
    }))
}

/// A list of a presence batch: at most [`MAX_PRESENCE_BATCH`] users, each once.
fn check_batch_list(name: &str, list: &[Up]) -> Result<(), ApiError> {
    if list.len() > MAX_PRESENCE_BATCH {
        return Err(ApiError::InvalidArgument(format!(
            "`{name}` lists {} users; at most {MAX_PRESENCE_BATCH} are allowed",
            list.len()
        )));
    }
    let mut seen = HashSet::with_capacity(list.len());
    if let Some(twice) = list.iter().find(|up| !seen.insert(*up)) {
        return Err(ApiError::InvalidArgument(format!(
            "`{name}` lists {twice} more than once"
        )));
    }
    Ok(())
}

/// Who of a group is online
///
/// The group, and its members with a socket on a live chat node (`online`).
/// With `viewer`, `online` lists only the members whose presence that user
/// may see: not those who hide it, nor those who blocked the viewer (the
/// viewer always sees themselves). `visibleOnline` lists the members online
/// whose presence every member may see (neither hidden nor blocking another
/// member): the history gate counts these.
#[utoipa::path(get, path = "/group/{id}/presence", tag = DATA_TAG, params(("id" = inline(EntityId), Path, description = "group id"), ViewerQuery),
    responses((status = 200, body = GroupPresence), BadRequest, Unauthenticated, NotFound, ServerErrors))]
async fn group_presence(
    State(state): State<AppState>,
    Path(id): Path<String>,
    AppQuery(query): AppQuery<ViewerQuery>,
) -> Result<Json<GroupPresence>, ApiError> {
    let presence = state
        .store
        .group_presence(parse_id(&id)?, query.viewer.as_ref())
        .await?;
    Ok(Json(presence))
}
