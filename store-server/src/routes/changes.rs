//! `GET /changes`: the change log, read by the chat nodes to apply to their
//! live sockets what other services changed through the store.

use super::DATA_TAG;
use super::input::parse_since;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use chat_wire::changes::ChangeList;
use serde::Deserialize;
use service_kit::responses::{BadRequest, ServerErrors, Unauthenticated};
use service_kit::{ApiError, AppQuery};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The `/changes` route.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_changes))
}

/// Query of `GET /changes`.
#[derive(Debug, Deserialize)]
struct ChangesQuery {
    since: Option<String>,
}

/// List the recorded changes
///
/// Group and message changes made through the store by callers other than
/// chat nodes (requests without `X-Chat-Node`), recorded at or after
/// `since` (inclusive), oldest first, at most 500; `hasMore` says more
/// follow (ask again with `since` = the last item's `at`). Changes are
/// kept for an hour. Each store instance stamps `at` with its own clock
/// and several may record at once, so a change may appear with an `at`
/// slightly older than one already read: a reader re-reads an overlap
/// window (a few seconds before the newest `at` it has seen) and skips
/// the change ids it has applied.
#[utoipa::path(get, path = "/changes", tag = DATA_TAG,
    params(("since" = String, Query, format = DateTime, description = "RFC 3339 time; changes recorded at or after it are listed")),
    responses((status = 200, body = ChangeList), BadRequest, Unauthenticated, ServerErrors))]
async fn list_changes(
    State(state): State<AppState>,
    AppQuery(query): AppQuery<ChangesQuery>,
) -> Result<Json<ChangeList>, ApiError> {
    let since = parse_since(query.since.as_deref())?;
    Ok(Json(state.store.changes_since(since).await?))
}
