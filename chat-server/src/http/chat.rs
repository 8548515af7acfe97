//! The public REST gateway: where to connect, and a group's history.

use super::PUBLIC_TAG;
use super::auth::AuthUser;
use crate::events::gate::{hidden_page, history_visible};
use crate::events::require_member;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use chat_wire::ErrorBody;
use chat_wire::ids::EntityId;
use chat_wire::model::{Group, Message};
use chat_wire::paging::{Page, PageQuery};
use chat_wire::schema::{CursorPageParams, PageParams};
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use service_kit::responses::{BadRequest, ServerErrors, Unauthenticated};
use service_kit::{ApiError, AppQuery};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Groups whose first page is fetched at the same time by `GET /chat/message`.
const CONCURRENT_PAGES: usize = 8;

/// The `/chat` routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(location))
        .routes(routes!(all_messages))
        .routes(routes!(group_messages))
}

/// Where a client should connect.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Location {
    /// The chat node's public URL.
    pub url: String,
}

/// Where to connect
///
/// The chat node this user should open their socket on: a live node that is
/// not draining, chosen by rendezvous hashing of the user, so that a user's
/// devices meet on one node and a node joining or leaving moves only its
/// own users. Without a registry (the store unreachable), the same hash
/// over `CHAT_NODES`, else this node's public URL.
#[utoipa::path(get, path = "/chat/location", tag = PUBLIC_TAG,
    responses((status = 200, body = Location), Unauthenticated, ServerErrors))]
async fn location(State(state): State<AppState>, AuthUser(up): AuthUser) -> Json<Location> {
    let live = state.store.live_nodes().await.unwrap_or_else(|err| {
        tracing::warn!(error = %err, "cannot read the node registry; locating by CHAT_NODES");
        Vec::new()
    });
    Json(Location {
        url: state.node.locator.node_for(&up, &live).to_owned(),
    })
}

/// A group's messages
///
/// Members only. By page (newest first), or `before` a message id (older
/// ones, newest first), or `after` one (newer ones, oldest first). A group
/// with `historyMinOnline = N > 0` shows an empty page until N of its
/// members are online.
#[utoipa::path(get, path = "/chat/{group}/message", tag = PUBLIC_TAG,
    params(("group" = inline(EntityId), Path, description = "group id"), CursorPageParams),
    responses((status = 200, body = Page<Message>),
        (status = 400, body = ErrorBody, description = "`invalid_argument`: a bad id or paging, or a cursor that is a message of another group"),
        Unauthenticated,
        (status = 403, body = ErrorBody, description = "`permission_denied`: the user is not a member"),
        (status = 404, body = ErrorBody, description = "`not_found`: an unknown group or cursor message"),
        ServerErrors))]
async fn group_messages(
    State(state): State<AppState>,
    AuthUser(up): AuthUser,
    Path(group): Path<String>,
    AppQuery(query): AppQuery<PageQuery>,
) -> Result<Json<Page<Message>>, ApiError> {
    let group = EntityId::parse(group)?;
    let paging = query.parse_with_cursor()?;
    let found = state.store.group(&group).await?;
    require_member(&found, &up)?;
    if !history_visible(&state, &found).await? {
        return Ok(Json(hidden_page(&paging)));
    }
    Ok(Json(state.store.group_messages(&group, &paging).await?))
}

/// A group with a page of its messages.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct GroupMessages {
    /// The group, with the user's `unread` count.
    pub group: Group,
    /// A page of its messages, newest first.
    pub messages: Page<Message>,
}

/// Every group with its messages.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AllGroupMessages {
    /// The user's groups, each with a page of messages.
    pub groups: Vec<GroupMessages>,
}

/// All my groups' messages
///
/// Every group of the user with one page of its messages (`page` and
/// `perPage` choose which; the first by default).
#[utoipa::path(get, path = "/chat/message", tag = PUBLIC_TAG, params(PageParams),
    responses((status = 200, body = AllGroupMessages), BadRequest, Unauthenticated, ServerErrors))]
async fn all_messages(
    State(state): State<AppState>,
    AuthUser(up): AuthUser,
    AppQuery(query): AppQuery<PageQuery>,
) -> Result<Json<AllGroupMessages>, ApiError> {
    let paging = query.parse_pages_only()?;
    let groups = state.store.groups_of_user(&up).await?;
    let state = &state;
    let groups = futures::stream::iter(groups)
        .map(|group| {
            let paging = paging.clone();
            async move {
                let messages = if history_visible(state, &group).await? {
                    state.store.group_messages(&group.id, &paging).await?
                } else {
                    hidden_page(&paging)
                };
                Ok::<_, ApiError>(GroupMessages { group, messages })
            }
        })
        .buffered(CONCURRENT_PAGES)
        .try_collect()
        .await?;
    Ok(Json(AllGroupMessages { groups }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gateway_documents_its_paging_ids_and_errors() {
        let (_, openapi) = router()
            .merge(super::super::admin::router())
            .split_for_parts();
        let document = serde_json::to_value(&openapi).unwrap();
        for (path, item) in document["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                for status in ["401", "500", "503"] {
                    assert!(
                        operation["responses"].get(status).is_some(),
                        "{method} {path} must document {status}"
                    );
                }
            }
        }
        let messages = &document["paths"]["/chat/{group}/message"]["get"];
        let params = messages["parameters"].as_array().unwrap();
        assert_eq!(params[0]["schema"]["pattern"], "^[0-9A-Fa-f]{24}$");
        // page, before and after exclude each other: one exploded object.
        assert_eq!(params[1]["explode"], true);
        assert_eq!(params[1]["schema"]["oneOf"].as_array().unwrap().len(), 3);
        let all = &document["paths"]["/chat/message"]["get"]["parameters"];
        let names: Vec<&str> = all
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["page", "perPage"]);
    }
}
