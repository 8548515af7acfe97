//! `/queue` routes: the pairing queues every chat node shares.

use super::DATA_TAG;
use super::input::parse_socket;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use chat_wire::cluster::{JoinQueue, QueueLeft, QueueOutcome, SocketId};
use service_kit::responses::{BadRequest, PayloadTooLarge, ServerErrors, Unauthenticated};
use service_kit::{ApiError, AppJson};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The `/queue` routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(join_queue))
        .routes(routes!(leave_queue))
}

/// Queue a socket, or pair it
///
/// `vent` pairs with `listen` and `talk` with `talk`, oldest waiting first,
/// never a user with themselves. Paired: `{queued: false, room, partner}`
/// with the pair's new `match` group. Else the socket waits:
/// `{queued: true}`. A socket has one place; queueing again moves it.
#[utoipa::path(post, path = "/queue", tag = DATA_TAG, request_body = JoinQueue,
    responses((status = 200, body = QueueOutcome), BadRequest, Unauthenticated, PayloadTooLarge, ServerErrors))]
async fn join_queue(
    State(state): State<AppState>,
    AppJson(request): AppJson<JoinQueue>,
) -> Result<Json<QueueOutcome>, ApiError> {
    Ok(Json(state.store.enqueue(&request).await?))
}

/// Take a socket out of the queues
#[utoipa::path(delete, path = "/queue/{socket}", tag = DATA_TAG, params(("socket" = inline(SocketId), Path, description = "socket id")),
    responses((status = 200, body = QueueLeft), BadRequest, Unauthenticated, ServerErrors))]
async fn leave_queue(
    State(state): State<AppState>,
    Path(socket): Path<String>,
) -> Result<Json<QueueLeft>, ApiError> {
    let removed = state.store.dequeue(&parse_socket(&socket)?).await?;
    Ok(Json(QueueLeft { removed }))
}
