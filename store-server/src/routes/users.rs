//! `/user` routes: list, read, create or update, and the names of the
//! users who share a group with one.

use super::input::{OptionalJson, pages_only, parse_up};
use super::{DATA_TAG, created_or_ok};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use chat_wire::ids::Up;
use chat_wire::model::User;
use chat_wire::names::{NamesQuery, UserNames};
use chat_wire::paging::{Page, PageQuery};
use chat_wire::requests::UserUpdate;
use chat_wire::schema::PageParams;
use service_kit::responses::{
    BadRequest, NotFound, PayloadTooLarge, ServerErrors, Unauthenticated,
};
use service_kit::{ApiError, AppQuery};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The `/user` routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users))
        .routes(routes!(get_user, upsert_user))
        .routes(routes!(names_for))
}

/// Names of the users who share a group with a user
///
/// Of the users asked for (1 to 100), those who are members of a group
/// `up` belongs to, and `up` themselves, in the order asked, each once,
/// with their display name (`""` when they have none); the others are
/// left out. The chat-server answers `GET /chat/users` with it.
#[utoipa::path(get, path = "/user/{up}/names", tag = DATA_TAG, params(("up" = inline(Up), Path), NamesQuery),
    responses((status = 200, body = UserNames), BadRequest, Unauthenticated, ServerErrors))]
async fn names_for(
    State(state): State<AppState>,
    Path(up): Path<String>,
    AppQuery(query): AppQuery<NamesQuery>,
) -> Result<Json<UserNames>, ApiError> {
    let up = parse_up(&up)?;
    let ups = query.ups()?;
    let items = state.store.names_for(&up, &ups).await?;
    Ok(Json(UserNames { items }))
}

/// List all users
///
/// By `up`, paged.
#[utoipa::path(get, path = "/user", tag = DATA_TAG, params(PageParams),
    responses((status = 200, body = Page<User>), BadRequest, Unauthenticated, ServerErrors))]
async fn list_users(
    State(state): State<AppState>,
    AppQuery(query): AppQuery<PageQuery>,
) -> Result<Json<Page<User>>, ApiError> {
    Ok(Json(state.store.list_users(&pages_only(&query)?).await?))
}

/// Get one user
#[utoipa::path(get, path = "/user/{up}", tag = DATA_TAG, params(("up" = inline(Up), Path)),
    responses((status = 200, body = User), BadRequest, Unauthenticated, NotFound, ServerErrors))]
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
#[utoipa::path(post, path = "/user/{up}", tag = DATA_TAG, params(("up" = inline(Up), Path)),
    request_body(content = UserUpdate, description = "The fields to set; optional (no body, or a blank one, sets nothing). `Content-Type` is not required."),
    responses((status = 201, body = User, description = "created"), (status = 200, body = User, description = "updated"),
        BadRequest, Unauthenticated, PayloadTooLarge, ServerErrors))]
async fn upsert_user(
    State(state): State<AppState>,
    Path(up): Path<String>,
    OptionalJson(update): OptionalJson<UserUpdate>,
) -> Result<Response, ApiError> {
    let up = parse_up(&up)?;
    let (user, created) = state.store.upsert_user(&up, update).await?;
    Ok(created_or_ok(user, created))
}

/// States that the body of `POST /user/{up}` is optional. utoipa marks a
/// body optional only as `Option<T>`, which would also allow `null`, a body
/// this route refuses.
pub(super) fn document_optional_body(openapi: &mut utoipa::openapi::OpenApi) {
    let body = openapi
        .paths
        .paths
        .get_mut("/user/{up}")
        .and_then(|item| item.post.as_mut())
        .and_then(|post| post.request_body.as_mut());
    if let Some(utoipa::openapi::RefOr::T(body)) = body {
        body.required = Some(utoipa::openapi::Required::False);
    }
}
