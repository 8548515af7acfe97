//! The gateway's routes about users: the names of the people one shares a
//! group with (`GET /chat/users`), and setting one's own name
//! (`PATCH /chat/me`), which reaches the user's groups live as
//! `user updated {up, name}`.

use super::PUBLIC_TAG;
use super::auth::AuthUser;
use crate::rooms::outgoing::Outgoing;
use crate::rooms::{self, Audience, Rooms, user_room};
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use chat_wire::ErrorBody;
use chat_wire::names::{MeUpdate, NamesQuery, UserName, UserNames, parse_name};
use service_kit::responses::{BadRequest, ServerErrors, Unauthenticated};
use service_kit::{ApiError, AppJson, AppQuery};
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The engine's rooms, for the routes that tell sockets of a change.
pub type RoomsHandle = Extension<Arc<dyn Rooms>>;

/// The `/chat/users` and `/chat/me` routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(names))
        .routes(routes!(update_me))
}

/// Names of users
///
/// The display names of up to 100 users (`?ups=a,b`), of those who share
/// a group with the caller (and the caller); the others are left out. A
/// user without a name has `""`: show the `up`.
#[utoipa::path(get, path = "/chat/users", tag = PUBLIC_TAG, params(NamesQuery),
    responses((status = 200, body = UserNames),
        (status = 400, body = ErrorBody, description = "`invalid_argument`: no user, more than 100, or a malformed id"),
        Unauthenticated, ServerErrors))]
async fn names(
    State(state): State<AppState>,
    AuthUser(up): AuthUser,
    AppQuery(query): AppQuery<NamesQuery>,
) -> Result<Json<UserNames>, ApiError> {
    let ups = query.ups()?;
    Ok(Json(state.store.user_names(&up, &ups).await?))
}

/// Set one's own name
///
/// The caller's display name: 1 to 64 characters after trimming, no
/// control characters. Answers `{up, name}`; the caller's groups (and
/// their own other sockets) get `user updated {up, name}`.
#[utoipa::path(patch, path = "/chat/me", tag = PUBLIC_TAG, request_body = MeUpdate,
    responses((status = 200, body = UserName), BadRequest, Unauthenticated, ServerErrors))]
async fn update_me(
    State(state): State<AppState>,
    Extension(rooms): RoomsHandle,
    AuthUser(up): AuthUser,
    AppJson(update): AppJson<MeUpdate>,
) -> Result<Json<UserName>, ApiError> {
    let name = parse_name(&update.name)?;
    let user = state.store.set_name(&up, &name).await?;
    let named = UserName {
        up: user.up,
        name: user.name,
    };
    let mut audience: Vec<String> = state
        .store
        .group_ids_of_user(&up)
        .await?
        .iter()
        .map(ToString::to_string)
        .collect();
    audience.push(user_room(&up));
    let event = Outgoing::UserUpdated(named.clone());
    // The name is stored: a socket that misses the event reads it with
    // the next `GET /chat/users`.
    let _ = rooms::send(
        rooms.as_ref(),
        &state.metrics,
        &Audience::rooms(audience),
        &event,
    )
    .await;
    Ok(Json(named))
}
