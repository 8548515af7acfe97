//! Retention routes: setting a group's retention
//! (`POST /group/{id}/retention`), and sweeping now
//! (`POST /retention/sweep`), for operators and tests.

use super::DATA_TAG;
use super::input::parse_id;
use crate::db::documents::object_id;
use crate::retention::sweep::{SweepReport, sweep_all, sweep_group};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use chat_wire::ErrorBody;
use chat_wire::ids::{EntityId, Up};
use chat_wire::model::Group;
use chat_wire::retention::Retention;
use mongodb::bson::DateTime;
use serde::Deserialize;
use service_kit::responses::{
    BadRequest, NotFound, PayloadTooLarge, ServerErrors, Unauthenticated,
};
use service_kit::{ApiError, AppJson, AppQuery};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The retention routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(set_retention))
        .routes(routes!(sweep_now))
}

/// `POST /group/{id}/retention?by=`: who sets it.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SetRetentionQuery {
    /// When given, the retention is set only if this user is an admin of
    /// the group (checked in the same update); the chat-server passes the
    /// user of the token.
    #[param(value_type = Option<Up>, inline)]
    by: Option<Up>,
}

/// Set a group's retention
///
/// How long the group's messages are kept: `{"mode": "forever"}` (the
/// default), `{"mode": "days", "days": 1..=3650}` or
/// `{"mode": "untilRead", "graceHours": 0..=720}`. Answers the Group. The
/// sweep deletes what is due from its next run on; messages already swept
/// stay gone.
#[utoipa::path(post, path = "/group/{id}/retention", tag = DATA_TAG,
    params(("id" = inline(EntityId), Path, description = "group id"), SetRetentionQuery),
    request_body = Retention,
    responses((status = 200, body = Group),
        BadRequest, Unauthenticated,
        (status = 403, body = ErrorBody, description = "`permission_denied`: `by` is not an admin of the group"),
        NotFound, PayloadTooLarge, ServerErrors))]
async fn set_retention(
    State(state): State<AppState>,
    Path(id): Path<String>,
    AppQuery(query): AppQuery<SetRetentionQuery>,
    AppJson(retention): AppJson<Retention>,
) -> Result<Json<Group>, ApiError> {
    let id = parse_id(&id)?;
    let retention = retention
        .validated()
        .map_err(|err| ApiError::InvalidArgument(err.to_string()))?;
    Ok(Json(
        state
            .store
            .set_retention(id, retention, query.by.as_ref())
            .await?,
    ))
}

/// `POST /retention/sweep?group=`: which group.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SweepQuery {
    /// Only this group (every group with a retention when absent).
    #[param(value_type = Option<EntityId>, inline)]
    group: Option<EntityId>,
}

/// Sweep now
///
/// Runs the retention sweep at once, as every store instance does every
/// `STORE_RETENTION_SWEEP_SECONDS`, on every group whose retention is not
/// `forever` (or on `group` only), and answers what it deleted. The
/// sweep goes on if the request times out (10 s).
#[utoipa::path(post, path = "/retention/sweep", tag = DATA_TAG, params(SweepQuery),
    responses((status = 200, body = SweepReport), BadRequest, Unauthenticated, NotFound, ServerErrors))]
async fn sweep_now(
    State(state): State<AppState>,
    AppQuery(query): AppQuery<SweepQuery>,
) -> Result<Json<SweepReport>, ApiError> {
    let group = query.group.as_ref().map(object_id);
    let (store, settings) = (state.store.clone(), state.retention.clone());
    // A task of its own: a request that times out does not stop it halfway.
    let sweep = tokio::spawn(async move {
        let now = DateTime::now();
        match group {
            Some(group) => sweep_group(&store, &settings, group, now).await,
            None => sweep_all(&store, &settings, now).await,
        }
    });
    let report = sweep.await.map_err(|err| {
        ApiError::Internal(anyhow::Error::new(err).context("the sweep panicked"))
    })??;
    Ok(Json(report))
}
