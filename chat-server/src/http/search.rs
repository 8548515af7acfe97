//! `GET /chat/search`: the user's messages found by words, in all their
//! groups or one, behind the history gate.
//!
//! The gate is the chat-server's (`events::gate`): the groups whose
//! history is hidden now are left out of the search altogether, so their
//! messages are neither shown nor counted. The store is told which gated
//! groups are open; any other gated group, one joined meanwhile included,
//! is left out, so a race can only hide a result, never show one.

use super::PUBLIC_TAG;
use super::auth::AuthUser;
use crate::events::gate::history_visible;
use crate::events::require_member;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use chat_wire::ErrorBody;
use chat_wire::ids::EntityId;
use chat_wire::model::Group;
use chat_wire::search::{SearchPage, SearchParams, SearchQuery};
use futures::{StreamExt, TryStreamExt};
use service_kit::responses::{ServerErrors, Unauthenticated};
use service_kit::{ApiError, AppQuery};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Gated groups whose gate is checked at the same time.
const CONCURRENT_GATES: usize = 8;
/// The most open gated groups a search includes (the store's limit).
const MAX_OPEN_GATED: usize = 100;

/// The route.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search))
}

/// Search my messages
///
/// The messages of the user's groups (or of one, `group`) whose text holds
/// every word of `q`, whatever their case and accents, newest first. Each
/// carries `matches`: where those words are in its text, as UTF-16 code
/// unit ranges (`message.slice(start, end)` in JavaScript). Deleted
/// messages are never found; groups whose history is hidden now (the
/// history gate) give no results. A page ends with a `cursor` to the next
/// one, `null` at the end; each call does a bounded amount of work, so a
/// page may hold fewer than `perPage` results, even none, and still have a
/// cursor.
#[utoipa::path(get, path = "/chat/search", tag = PUBLIC_TAG, params(SearchParams),
    responses((status = 200, body = SearchPage),
        (status = 400, body = ErrorBody, description = "`invalid_argument`: an empty `q`, one over 200 characters or 10 different words, a bad `group` id, `cursor` or `perPage`"),
        Unauthenticated,
        (status = 403, body = ErrorBody, description = "`permission_denied`: the user is not a member of `group`"),
        (status = 404, body = ErrorBody, description = "`not_found`: an unknown `group`"),
        ServerErrors))]
async fn search(
    State(state): State<AppState>,
    AuthUser(up): AuthUser,
    AppQuery(query): AppQuery<SearchQuery>,
) -> Result<Json<SearchPage>, ApiError> {
    let request = query
        .parse()
        .map_err(|err| ApiError::InvalidArgument(err.to_string()))?;
    let open_gated = match &request.group {
        Some(id) => {
            let group = state.store.group(id).await?;
            require_member(&group, &up)?;
            if !history_visible(&state, &group).await? {
                return Ok(Json(SearchPage::empty()));
            }
            vec![group.id]
        }
        None => open_gated_groups(&state, state.store.groups_of_user(&up).await?).await?,
    };
    if request.terms.is_empty() {
        return Ok(Json(SearchPage::empty()));
    }
    Ok(Json(state.store.search(&up, &query, &open_gated).await?))
}

/// The gated groups of `groups` whose history may be shown now.
async fn open_gated_groups(
    state: &AppState,
    groups: Vec<Group>,
) -> Result<Vec<EntityId>, ApiError> {
    let gated = groups.into_iter().filter(|g| g.history_min_online > 0);
    let open: Vec<Option<EntityId>> = futures::stream::iter(gated)
        .map(|group| async move {
            let visible = history_visible(state, &group).await?;
            Ok::<_, ApiError>(visible.then_some(group.id))
        })
        .buffered(CONCURRENT_GATES)
        .try_collect()
        .await?;
    // Beyond the store's limit, the rest stay hidden: nothing leaks.
    Ok(open.into_iter().flatten().take(MAX_OPEN_GATED).collect())
}
