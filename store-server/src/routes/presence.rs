//! Presence across the chat cluster: which node holds a socket of which
//! user (`/node/{id}/users/{up}`), and who of a group is online.

use super::DATA_TAG;
use super::input::{parse_id, parse_node, parse_up};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use chat_wire::cluster::{GroupPresence, NodeId, PresenceChange};
use chat_wire::ids::{EntityId, Up};
use service_kit::ApiError;
use service_kit::responses::{BadRequest, NotFound, ServerErrors, Unauthenticated};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The presence routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(user_joined_node, user_left_node))
        .routes(routes!(group_presence))
}

/// A user's first socket on a node
///
/// The user is online (created if unknown). `changed` is `true` when they
/// were offline everywhere before: the calling node announces them.
#[utoipa::path(put, path = "/node/{id}/users/{up}", tag = DATA_TAG, params(("id" = inline(NodeId), Path, description = "node id"), ("up" = inline(Up), Path)),
    responses((status = 200, body = PresenceChange), BadRequest, Unauthenticated, ServerErrors))]
async fn user_joined_node(
    State(state): State<AppState>,
    Path((id, up)): Path<(String, String)>,
) -> Result<Json<PresenceChange>, ApiError> {
    let (node, up) = (parse_node(&id)?, parse_up(&up)?);
    Ok(Json(state.store.user_joined_node(&node, &up).await?))
}

/// A user's last socket on a node left
///
/// `changed` is `true` when this left them without a socket anywhere: they
/// are offline, with `lastSeen`, and the calling node announces it.
#[utoipa::path(delete, path = "/node/{id}/users/{up}", tag = DATA_TAG, params(("id" = inline(NodeId), Path, description = "node id"), ("up" = inline(Up), Path)),
    responses((status = 200, body = PresenceChange), BadRequest, Unauthenticated, ServerErrors))]
async fn user_left_node(
    State(state): State<AppState>,
    Path((id, up)): Path<(String, String)>,
) -> Result<Json<PresenceChange>, ApiError> {
    let (node, up) = (parse_node(&id)?, parse_up(&up)?);
    Ok(Json(state.store.user_left_node(&node, &up).await?))
}

/// Who of a group is online
///
/// The group, and its members with a socket on a live chat node.
#[utoipa::path(get, path = "/group/{id}/presence", tag = DATA_TAG, params(("id" = inline(EntityId), Path, description = "group id")),
    responses((status = 200, body = GroupPresence), BadRequest, Unauthenticated, NotFound, ServerErrors))]
async fn group_presence(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<GroupPresence>, ApiError> {
    Ok(Json(state.store.group_presence(parse_id(&id)?).await?))
}
