//! `/user/{up}/blocked` and `/user/{up}/presence`: whom a user blocked,
//! and whether they show their presence (docs/store-api.md, "Blocks and
//! the presence setting").

use super::DATA_TAG;
use super::input::parse_up;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use chat_wire::ErrorBody;
use chat_wire::ids::Up;
use chat_wire::privacy::{BlockedList, Visibility, VisibilityUpdate};
use service_kit::responses::{BadRequest, PayloadTooLarge, ServerErrors, Unauthenticated};
use service_kit::{ApiError, AppJson};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The block and presence-setting routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(blocked_users))
        .routes(routes!(block, unblock))
        .routes(routes!(presence_setting, set_presence_setting))
}

/// The users a user blocked
///
/// Oldest block first, at most 1,000; none for a user never seen.
#[utoipa::path(get, path = "/user/{up}/blocked", tag = DATA_TAG, params(("up" = inline(Up), Path)),
    responses((status = 200, body = BlockedList), BadRequest, Unauthenticated, ServerErrors))]
async fn blocked_users(
    State(state): State<AppState>,
    Path(up): Path<String>,
) -> Result<Json<BlockedList>, ApiError> {
    Ok(Json(state.store.blocked_users(&parse_up(&up)?).await?))
}

/// Block a user
///
/// `up` blocks `other`: `other` can no longer open or continue a direct
/// conversation with `up` (and neither can `up`, until they unblock), and
/// never sees the presence of `up`. Idempotent; `other` need not exist; a
/// user never seen is created. Answers the list after the change.
#[utoipa::path(put, path = "/user/{up}/blocked/{other}", tag = DATA_TAG,
    params(("up" = inline(Up), Path, description = "who blocks"), ("other" = inline(Up), Path, description = "who is blocked (not `up`)", example = "up201905679")),
    responses((status = 200, body = BlockedList),
        (status = 400, body = ErrorBody, description = "`invalid_argument`: a bad `up`, or `other` is `up`"),
        Unauthenticated,
        (status = 429, body = ErrorBody, description = "`rate_limited`: `up` blocked 1,000 users already; unblock one first"),
        ServerErrors))]
async fn block(
    State(state): State<AppState>,
    Path((up, other)): Path<(String, String)>,
) -> Result<Json<BlockedList>, ApiError> {
    let (up, other) = (parse_up(&up)?, parse_up(&other)?);
    Ok(Json(state.store.block(&up, &other).await?))
}

/// Unblock a user
///
/// Idempotent. Answers the list after the change.
#[utoipa::path(delete, path = "/user/{up}/blocked/{other}", tag = DATA_TAG,
    params(("up" = inline(Up), Path, description = "who unblocks"), ("other" = inline(Up), Path, description = "who is unblocked (not `up`)", example = "up201905679")),
    responses((status = 200, body = BlockedList),
        (status = 400, body = ErrorBody, description = "`invalid_argument`: a bad `up`, or `other` is `up`"),
        Unauthenticated, ServerErrors))]
async fn unblock(
    State(state): State<AppState>,
    Path((up, other)): Path<(String, String)>,
) -> Result<Json<BlockedList>, ApiError> {
    let (up, other) = (parse_up(&up)?, parse_up(&other)?);
    Ok(Json(state.store.unblock(&up, &other).await?))
}

/// Whether a user shows their presence
///
/// `visible: false` while the user hides it (a user never seen shows it);
/// `changed` is always `false` here.
#[utoipa::path(get, path = "/user/{up}/presence", tag = DATA_TAG, params(("up" = inline(Up), Path)),
    responses((status = 200, body = Visibility), BadRequest, Unauthenticated, ServerErrors))]
async fn presence_setting(
    State(state): State<AppState>,
    Path(up): Path<String>,
) -> Result<Json<Visibility>, ApiError> {
    Ok(Json(
        state.store.presence_visibility(&parse_up(&up)?).await?,
    ))
}

/// Show or hide a user's presence
///
/// With `visible: false`, nobody but the user sees them online or when they
/// were last seen. Idempotent: `changed` says whether it was different
/// before. A user never seen is created. The chat nodes announce the
/// change to live sockets when their own user makes it; a change made
/// here applies from the user's next transition.
#[utoipa::path(put, path = "/user/{up}/presence", tag = DATA_TAG, params(("up" = inline(Up), Path)),
    request_body = VisibilityUpdate,
    responses((status = 200, body = Visibility), BadRequest, Unauthenticated, PayloadTooLarge, ServerErrors))]
async fn set_presence_setting(
    State(state): State<AppState>,
    Path(up): Path<String>,
    AppJson(update): AppJson<VisibilityUpdate>,
) -> Result<Json<Visibility>, ApiError> {
    let up = parse_up(&up)?;
    Ok(Json(
        state
            .store
            .set_presence_visible(&up, update.visible)
            .await?,
    ))
}
