//! `/user` routes: list, read, create or update.

use super::input::{OptionalJson, pages_only, parse_up};
use super::{DATA_TAG, created_or_ok};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use chat_wire::ErrorBody;
use chat_wire::model::User;
use chat_wire::paging::{Page, PageQuery};
use chat_wire::requests::UserUpdate;
use service_kit::{ApiError, AppQuery};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The `/user` routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users))
        .routes(routes!(get_user, upsert_user))
}

/// List all users
///
/// By `up`, paged.
#[utoipa::path(get, path = "/user", tag = DATA_TAG, params(PageQuery),
    responses((status = 200, body = Page<User>), (status = 400, body = ErrorBody)))]
async fn list_users(
    State(state): State<AppState>,
    AppQuery(query): AppQuery<PageQuery>,
) -> Result<Json<Page<User>>, ApiError> {
    Ok(Json(state.store.list_users(&pages_only(&query)?).await?))
}

/// Get one user
#[utoipa::path(get, path = "/user/{up}", tag = DATA_TAG, params(("up" = String, Path)),
    responses((status = 200, body = User), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_user(
    State(state): State<AppState>,
    Path(up): Path<String>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(state.store.user(&parse_up(&up)?).await?))
}

/// Create or update a user
///
/// Sets the given fields, keeps the others; `201` when created, `200` when
/// updated. Going offline records `lastSeen`. An empty body is allowed.
#[utoipa::path(post, path = "/user/{up}", tag = DATA_TAG, params(("up" = String, Path)), request_body = UserUpdate,
    responses((status = 201, body = User), (status = 200, body = User), (status = 400, body = ErrorBody)))]
async fn upsert_user(
    State(state): State<AppState>,
    Path(up): Path<String>,
    OptionalJson(update): OptionalJson<UserUpdate>,
) -> Result<Response, ApiError> {
    let up = parse_up(&up)?;
    let (user, created) = state.store.upsert_user(&up, update).await?;
    Ok(created_or_ok(user, created))
}
