//! `/node` routes: the chat nodes' registry. Nodes send a heartbeat every
//! few seconds; a node is live while its last one is at most 15 s old.

use super::DATA_TAG;
use super::input::parse_node;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use chat_wire::cluster::{
    NODE_URL_RULE, NodeHeartbeat, NodeId, NodeList, NodeRegistration, NodeRemoval,
    is_valid_node_url,
};
use service_kit::responses::{BadRequest, PayloadTooLarge, ServerErrors, Unauthenticated};
use service_kit::{ApiError, AppJson};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The `/node` routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(live_nodes))
        .routes(routes!(heartbeat, remove_node))
        .routes(routes!(reap_nodes))
}

/// A node's heartbeat
///
/// Registers the node or refreshes it. `created` is `true` when the
/// registry did not know the node (its first heartbeat, or one after it was
/// taken for dead): the node then records its users' presence again.
#[utoipa::path(put, path = "/node/{id}", tag = DATA_TAG, params(("id" = inline(NodeId), Path, description = "node id")), request_body = NodeHeartbeat,
    responses((status = 200, body = NodeRegistration), BadRequest, Unauthenticated, PayloadTooLarge, ServerErrors))]
async fn heartbeat(
    State(state): State<AppState>,
    Path(id): Path<String>,
    AppJson(beat): AppJson<NodeHeartbeat>,
) -> Result<Json<NodeRegistration>, ApiError> {
    let id = parse_node(&id)?;
    if !is_valid_node_url(&beat.url) {
        return Err(ApiError::InvalidArgument(format!(
            "`url` must be {NODE_URL_RULE}"
        )));
    }
    Ok(Json(state.store.heartbeat(&id, &beat).await?))
}

/// List the live nodes
///
/// Nodes whose last heartbeat is at most 15 s old, by id.
#[utoipa::path(get, path = "/node", tag = DATA_TAG,
    responses((status = 200, body = NodeList), Unauthenticated, ServerErrors))]
async fn live_nodes(State(state): State<AppState>) -> Result<Json<NodeList>, ApiError> {
    Ok(Json(NodeList {
        items: state.store.live_nodes().await?,
    }))
}

/// Remove a node
///
/// On a clean stop. Its users who have no socket on another node go
/// offline; they are listed, for the caller to announce. Idempotent.
#[utoipa::path(delete, path = "/node/{id}", tag = DATA_TAG, params(("id" = inline(NodeId), Path, description = "node id")),
    responses((status = 200, body = NodeRemoval), BadRequest, Unauthenticated, ServerErrors))]
async fn remove_node(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<NodeRemoval>, ApiError> {
    Ok(Json(state.store.remove_node(&parse_node(&id)?).await?))
}

/// Reap the dead nodes
///
/// Removes every node whose heartbeat is older than 15 s, as
/// `DELETE /node/{id}` would. Each user who goes offline is listed to
/// exactly one caller, however many nodes reap at once.
#[utoipa::path(post, path = "/node/reap", tag = DATA_TAG,
    responses((status = 200, body = NodeRemoval), Unauthenticated, ServerErrors))]
async fn reap_nodes(State(state): State<AppState>) -> Result<Json<NodeRemoval>, ApiError> {
    Ok(Json(state.store.reap_expired_nodes().await?))
}
