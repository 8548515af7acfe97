//! `POST /chat/{group}/retention`: an admin of a group sets how long its
//! messages are kept; the group's sockets hear `group updated {group}`.

use super::PUBLIC_TAG;
use super::auth::AuthUser;
use super::users::RoomsHandle;
use crate::rooms::outgoing::Outgoing;
use crate::rooms::{self, Audience};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::{Extension, Json};
use chat_wire::ErrorBody;
use chat_wire::events::GroupAdded;
use chat_wire::ids::EntityId;
use chat_wire::model::Group;
use chat_wire::retention::Retention;
use service_kit::responses::{ServerErrors, Unauthenticated};
use service_kit::{ApiError, AppJson};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The `/chat/{group}/retention` route.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(set_retention))
}

/// Set a group's retention
///
/// How long the group's messages are kept, for everyone:
/// `{"mode": "forever"}` (the default), `{"mode": "days", "days": N}`
/// (1 to 3650: deleted N days after they were sent) or
/// `{"mode": "untilRead", "graceHours": N}` (0 to 720: deleted once every
/// member has read them and N hours have passed, and 30 days after they
/// were sent whoever read them). Admins of the group only. Answers the
/// Group; its members' sockets get `group updated {group}`.
#[utoipa::path(post, path = "/chat/{group}/retention", tag = PUBLIC_TAG,
    params(("group" = inline(EntityId), Path, description = "group id")),
    request_body = Retention,
    responses((status = 200, body = Group),
        (status = 400, body = ErrorBody, description = "`invalid_argument`: a bad id, or a body that is not a retention within its bounds"),
        Unauthenticated,
        (status = 403, body = ErrorBody, description = "`permission_denied`: the user is not an admin of the group"),
        (status = 404, body = ErrorBody, description = "`not_found`: an unknown group"),
        (status = 413, body = ErrorBody, description = "`payload_too_large`: a body over 64 KiB"),
        ServerErrors))]
async fn set_retention(
    State(state): State<AppState>,
    Extension(rooms): RoomsHandle,
    AuthUser(up): AuthUser,
    Path(group): Path<String>,
    AppJson(retention): AppJson<Retention>,
) -> Result<Json<Group>, ApiError> {
    let group = EntityId::parse(group)?;
    let retention = retention
        .validated()
        .map_err(|err| ApiError::InvalidArgument(err.to_string()))?;
    let changed = state.store.set_retention(&group, &retention, &up).await?;
    let event = Outgoing::GroupUpdated(GroupAdded {
        group: changed.clone(),
    });
    // Stored: a socket that misses the event reads the Group again with
    // the group list.
    let _ = rooms::send(
        rooms.as_ref(),
        &state.metrics,
        &Audience::rooms(vec![changed.id.to_string()]),
        &event,
    )
    .await;
    Ok(Json(changed))
}
