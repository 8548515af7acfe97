//! `/group` routes: groups, their members, direct conversations, read
//! markers, a group's messages and its change feed.

use super::input::{MergeArgs, QueryOrBody, pages_only, parse_id, parse_since, parse_up};
use super::origin::Origin;
use super::{Created, DATA_TAG};
use crate::db::changes::NewChange;
use crate::db::groups::GroupSpec;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use chat_wire::cluster::{GroupIds, GroupIdsOfUsers, GroupIdsRequest, MAX_GROUP_IDS_USERS};
use chat_wire::ids::{EntityId, Up};
use chat_wire::model::{Group, GroupKind, Message};
use chat_wire::paging::{Page, PageQuery};
use chat_wire::requests::{
    DirectGroupRequest, FindMatch, JoinGroup, MAX_CAPACITY, MAX_GROUP_NAME_CHARS, MAX_TOPIC_CHARS,
    MIN_CAPACITY, MarkRead, NewGroup, ReadState, parse_text,
};
use chat_wire::schema::{ChatNodeHeader, CursorPageParams, PageParams};
use serde::Deserialize;
use service_kit::responses::{
    BadRequest, NotFound, PayloadTooLarge, ServerErrors, Unauthenticated,
};
use service_kit::{ApiError, AppJson, AppQuery};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The `/group` routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_groups, create_group))
        .routes(routes!(group_messages))
        .routes(routes!(direct_group))
        .routes(routes!(find_match))
        .routes(routes!(groups_of_user))
        .routes(routes!(group_ids_of_user))
        .routes(routes!(group_ids_of_users))
        .routes(routes!(get_group))
        .routes(routes!(join_group))
        .routes(routes!(leave_group))
        .routes(routes!(mark_read))
        .routes(routes!(group_changes))
}

/// List all groups
///
/// Oldest first, paged with `page` and `perPage`.
#[utoipa::path(get, path = "/group", tag = DATA_TAG, params(PageParams),
    responses((status = 200, body = Page<Group>), BadRequest, Unauthenticated, ServerErrors))]
async fn list_groups(
    State(state): State<AppState>,
    AppQuery(query): AppQuery<PageQuery>,
) -> Result<Json<Page<Group>>, ApiError> {
    Ok(Json(state.store.list_groups(&pages_only(&query)?).await?))
}

/// Create a group
///
/// Admins become members too. Returns the group with `201`.
#[utoipa::path(post, path = "/group", tag = DATA_TAG, params(ChatNodeHeader), request_body = NewGroup,
    responses((status = 201, body = Group), BadRequest, Unauthenticated, PayloadTooLarge, ServerErrors))]
async fn create_group(
    State(state): State<AppState>,
    origin: Origin,
    AppJson(new): AppJson<NewGroup>,
) -> Result<Created<Group>, ApiError> {
    let name =
        parse_text("name", &new.name, MAX_GROUP_NAME_CHARS).map_err(super::input::field_error)?;
    if new.users.is_empty() && new.admins.is_empty() {
        return Err(ApiError::InvalidArgument(
            "`users` must name at least one user".into(),
        ));
    }
    let users = unique(new.users.iter().chain(&new.admins));
    let admins = unique(new.admins.iter());
    let matching = match new.kind.unwrap_or(GroupKind::Group) {
        GroupKind::Group => None,
        GroupKind::Match => Some(match_terms(new.topic.as_deref(), new.capacity)?),
        GroupKind::Direct => {
            return Err(ApiError::InvalidArgument(
                "direct groups are made with `POST /group/direct`".into(),
            ));
        }
    };
    if let Some((_, capacity)) = &matching
        && users.len() > *capacity as usize
    {
        return Err(ApiError::InvalidArgument(format!(
            "{} users do not fit a group of capacity {capacity}",
            users.len()
        )));
    }
    let spec = GroupSpec {
        name,
        kind: if matching.is_some() {
            GroupKind::Match
        } else {
            GroupKind::Group
        },
        users,
        admins,
        open: new.open,
        history_min_online: new.history_min_online,
        matching,
        pair: false,
    };
    let group = state.store.create_group(spec).await?;
    let users = group.users.clone();
    let added = NewChange::MembersAdded {
        group: &group,
        users,
    };
    origin.record(&state, added).await;
    Ok(Created(group))
}

/// Checks a matchmaking topic (1 to 100 characters) and capacity (2 to 1000).
fn match_terms(topic: Option<&str>, capacity: Option<u32>) -> Result<(String, u32), ApiError> {
    let topic =
        topic.ok_or_else(|| ApiError::InvalidArgument("a `match` group needs a `topic`".into()))?;
    let topic = parse_text("topic", topic, MAX_TOPIC_CHARS)
        .map_err(|e| ApiError::InvalidArgument(e.to_string()))?;
    match capacity {
        Some(capacity) if (MIN_CAPACITY..=MAX_CAPACITY).contains(&capacity) => {
            Ok((topic, capacity))
        }
        _ => Err(ApiError::InvalidArgument(
            "`capacity` must be a whole number from 2 to 1000".into(),
        )),
    }
}

/// Find a matchmaking room
///
/// A place for `up` in the oldest `match` group of `topic` and `capacity`
/// that still has space (`200`), or a new group holding only them (`201`).
/// Asking again while already in such a group returns it. Two users racing
/// for the last place never overfill a room.
#[utoipa::path(post, path = "/group/match", tag = DATA_TAG, params(ChatNodeHeader), request_body = FindMatch,
    responses((status = 201, body = Group, description = "a new group, holding only `up`"),
        (status = 200, body = Group, description = "a place in an existing group"),
        BadRequest, Unauthenticated, PayloadTooLarge,
        (status = 429, body = chat_wire::ErrorBody, description = "`rate_limited`: `up` is in 20 matchmaking rooms already; leave one first"),
        ServerErrors))]
async fn find_match(
    State(state): State<AppState>,
    origin: Origin,
    AppJson(request): AppJson<FindMatch>,
) -> Result<axum::response::Response, ApiError> {
    let (topic, capacity) = match_terms(Some(&request.topic), Some(request.capacity))?;
    let (group, created) = state
        .store
        .find_match(&request.up, &topic, capacity)
        .await?;
    let added = NewChange::MembersAdded {
        group: &group,
        users: vec![request.up.clone()],
    };
    origin.record(&state, added).await;
    Ok(super::created_or_ok(group, created))
}

/// The users in first-seen order, each once.
fn unique<'a>(ups: impl Iterator<Item = &'a Up>) -> Vec<Up> {
    let mut seen = std::collections::HashSet::new();
    ups.filter(|up| seen.insert(*up)).cloned().collect()
}

/// Get one group
#[utoipa::path(get, path = "/group/{id}", tag = DATA_TAG, params(("id" = inline(EntityId), Path, description = "group id")),
    responses((status = 200, body = Group), BadRequest, Unauthenticated, NotFound, ServerErrors))]
async fn get_group(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Group>, ApiError> {
    Ok(Json(state.store.group(parse_id(&id)?).await?.into()))
}

/// Arguments of `GET /group/messages`, from the query or a JSON body.
#[derive(Debug, Default, Deserialize)]
struct GroupMessagesArgs {
    #[serde(rename = "groupID", default)]
    group_id: Option<String>,
    #[serde(flatten)]
    paging: PageQuery,
}

impl MergeArgs for GroupMessagesArgs {
    fn or(self, fallback: Self) -> Self {
        Self {
            group_id: self.group_id.or(fallback.group_id),
            paging: self.paging.or(fallback.paging),
        }
    }
}

/// List a group's messages
///
/// By page (newest first), or from a cursor: `before` a message id (older
/// ones, newest first) or `after` one (newer ones, oldest first, to catch
/// up). Arguments may also come as a JSON body. `total` is the group's
/// message count.
#[utoipa::path(get, path = "/group/messages", tag = DATA_TAG,
    params(("groupID" = inline(EntityId), Query, description = "the group"), CursorPageParams),
    responses((status = 200, body = Page<Message>),
        (status = 400, body = chat_wire::ErrorBody, description = "`invalid_argument`: a bad id or paging, or a cursor that is a message of another group"),
        Unauthenticated,
        (status = 404, body = chat_wire::ErrorBody, description = "`not_found`: an unknown group or cursor message"),
        PayloadTooLarge, ServerErrors))]
async fn group_messages(
    State(state): State<AppState>,
    QueryOrBody(args): QueryOrBody<GroupMessagesArgs>,
) -> Result<Json<Page<Message>>, ApiError> {
    let group = args
        .group_id
        .ok_or_else(|| ApiError::InvalidArgument("`groupID` is required".into()))?;
    let request = args.paging.parse_with_cursor()?;
    Ok(Json(
        state
            .store
            .group_messages(parse_id(&group)?, &request)
            .await?,
    ))
}

/// List the groups of a user
///
/// Oldest first, each with `unread`: the messages after the user's read marker.
#[utoipa::path(get, path = "/group/user/{up}", tag = DATA_TAG, params(("up" = inline(Up), Path), PageParams),
    responses((status = 200, body = Page<Group>), BadRequest, Unauthenticated, ServerErrors))]
async fn groups_of_user(
    State(state): State<AppState>,
    Path(up): Path<String>,
    AppQuery(query): AppQuery<PageQuery>,
) -> Result<Json<Page<Group>>, ApiError> {
    let up = parse_up(&up)?;
    Ok(Json(
        state
            .store
            .groups_of_user(&up, &pages_only(&query)?)
            .await?,
    ))
}

/// List the ids of a user's groups
///
/// Every group of the user, oldest first, ids only: no members, no
/// `unread`, no paging. A chat node reads it for each connecting socket.
#[utoipa::path(get, path = "/group/user/{up}/ids", tag = DATA_TAG, params(("up" = inline(Up), Path)),
    responses((status = 200, body = GroupIds), BadRequest, Unauthenticated, ServerErrors))]
async fn group_ids_of_user(
    State(state): State<AppState>,
    Path(up): Path<String>,
) -> Result<Json<GroupIds>, ApiError> {
    let up = parse_up(&up)?;
    let ids = state.store.group_ids_of_user(&up).await?;
    Ok(Json(GroupIds { ids }))
}

/// List the ids of the groups of many users
///
/// One entry per listed user (1 to 1,000; a user may be listed twice), in
/// the order listed, each with every group of the user, oldest first: what
/// `GET /group/user/{up}/ids` answers for one user, for all of them in one
/// read. A chat node asks it for the sockets connecting at the same time.
#[utoipa::path(post, path = "/group/ids", tag = DATA_TAG, request_body = GroupIdsRequest,
    responses((status = 200, body = GroupIdsOfUsers), BadRequest, Unauthenticated, PayloadTooLarge, ServerErrors))]
async fn group_ids_of_users(
    State(state): State<AppState>,
    AppJson(request): AppJson<GroupIdsRequest>,
) -> Result<Json<GroupIdsOfUsers>, ApiError> {
    let listed = request.ups.len();
    if !(1..=MAX_GROUP_IDS_USERS).contains(&listed) {
        return Err(ApiError::InvalidArgument(format!(
            "`ups` lists {listed} users; 1 to {MAX_GROUP_IDS_USERS} are allowed"
        )));
    }
    let items = state.store.group_ids_of_users(&request.ups).await?;
    Ok(Json(GroupIdsOfUsers { items }))
}

/// Join a group
///
/// Idempotent. Direct conversations cannot be joined. With `onlyIfOpen`,
/// a closed group is refused (`403`) unless the user is already a member,
/// atomically with the join.
#[utoipa::path(post, path = "/group/{id}/users", tag = DATA_TAG, params(("id" = inline(EntityId), Path, description = "group id"), ChatNodeHeader), request_body = JoinGroup,
    responses((status = 200, body = Group), BadRequest, Unauthenticated,
        (status = 403, body = chat_wire::ErrorBody, description = "`permission_denied`: a direct group, or a closed one with `onlyIfOpen`"),
        NotFound, PayloadTooLarge, ServerErrors))]
async fn join_group(
    State(state): State<AppState>,
    origin: Origin,
    Path(id): Path<String>,
    AppJson(join): AppJson<JoinGroup>,
) -> Result<Json<Group>, ApiError> {
    let id = parse_id(&id)?;
    let group = state
        .store
        .join_group(id, &join.up, join.only_if_open)
        .await?;
    let added = NewChange::MembersAdded {
        group: &group,
        users: vec![join.up],
    };
    origin.record(&state, added).await;
    Ok(Json(group))
}

/// Leave a group
///
/// Removes the user from the members and admins; idempotent.
#[utoipa::path(delete, path = "/group/{id}/users/{up}", tag = DATA_TAG, params(("id" = inline(EntityId), Path, description = "group id"), ("up" = inline(Up), Path), ChatNodeHeader),
    responses((status = 200, body = Group), BadRequest, Unauthenticated,
        (status = 403, body = chat_wire::ErrorBody, description = "`permission_denied`: a direct group cannot be left"),
        NotFound, ServerErrors))]
async fn leave_group(
    State(state): State<AppState>,
    origin: Origin,
    Path((id, up)): Path<(String, String)>,
) -> Result<Json<Group>, ApiError> {
    let id = parse_id(&id)?;
    let up = parse_up(&up)?;
    let group = state.store.leave_group(id, &up).await?;
    let removed = NewChange::MembersRemoved {
        room: &group.id,
        users: vec![up],
    };
    origin.record(&state, removed).await;
    Ok(Json(group))
}

/// Get or create a direct conversation
///
/// The same group whichever order the two users come in: `201` when
/// created, `200` when it existed. Refused (`403`) while one of the two
/// has blocked the other; the message is worded for the first user, the
/// one asking.
#[utoipa::path(post, path = "/group/direct", tag = DATA_TAG, params(ChatNodeHeader), request_body = DirectGroupRequest,
    responses((status = 201, body = Group, description = "created"), (status = 200, body = Group, description = "it existed"),
        BadRequest, Unauthenticated,
        (status = 403, body = chat_wire::ErrorBody, description = "`permission_denied`: one of the two users has blocked the other"),
        PayloadTooLarge, ServerErrors))]
async fn direct_group(
    State(state): State<AppState>,
    origin: Origin,
    AppJson(request): AppJson<DirectGroupRequest>,
) -> Result<axum::response::Response, ApiError> {
    let [a, b] = <[Up; 2]>::try_from(request.users)
        .map_err(|_| ApiError::InvalidArgument("`users` must hold exactly two users".into()))?;
    if a == b {
        return Err(ApiError::InvalidArgument(
            "a direct conversation needs two different users".into(),
        ));
    }
    state.store.require_no_block(&a, &b).await?;
    let (group, created) = state.store.direct_group(&a, &b).await?;
    if created {
        let users = group.users.clone();
        let added = NewChange::MembersAdded {
            group: &group,
            users,
        };
        origin.record(&state, added).await;
    }
    Ok(super::created_or_ok(group, created))
}

/// Mark a group read up to a message
///
/// The marker never moves back. Returns the unread count after it, and
/// `quiet: true` in a direct group where one of the two users blocked the
/// other (the chat nodes relay no receipt there).
#[utoipa::path(post, path = "/group/{id}/read", tag = DATA_TAG, params(("id" = inline(EntityId), Path, description = "group id")), request_body = MarkRead,
    responses((status = 200, body = ReadState),
        (status = 400, body = chat_wire::ErrorBody, description = "`invalid_argument`: a bad id or body, or a message of another group"),
        Unauthenticated,
        (status = 403, body = chat_wire::ErrorBody, description = "`permission_denied`: `up` is not a member"),
        (status = 404, body = chat_wire::ErrorBody, description = "`not_found`: an unknown group or message"),
        PayloadTooLarge, ServerErrors))]
async fn mark_read(
    State(state): State<AppState>,
    Path(id): Path<String>,
    AppJson(read): AppJson<MarkRead>,
) -> Result<Json<ReadState>, ApiError> {
    let message = crate::db::documents::object_id(&read.message_id);
    Ok(Json(
        state
            .store
            .mark_read(parse_id(&id)?, &read.up, message)
            .await?,
    ))
}

/// Query of `GET /group/{id}/changes`.
#[derive(Debug, Deserialize)]
struct ChangesQuery {
    since: Option<String>,
    #[serde(flatten)]
    paging: PageQuery,
}

/// List a group's changed messages
///
/// Messages edited, deleted or reacted to at or after `since`, in the order they
/// changed, paged.
#[utoipa::path(get, path = "/group/{id}/changes", tag = DATA_TAG, params(("id" = inline(EntityId), Path, description = "group id"),
        ("since" = String, Query, format = DateTime, description = "RFC 3339 time; changes at or after it are listed (inclusive, so that paging by the last change's `changedAt` loses nothing)"),
        PageParams),
    responses((status = 200, body = Page<Message>), BadRequest, Unauthenticated, NotFound, ServerErrors))]
async fn group_changes(
    State(state): State<AppState>,
    Path(id): Path<String>,
    AppQuery(query): AppQuery<ChangesQuery>,
) -> Result<Json<Page<Message>>, ApiError> {
    let since = parse_since(query.since.as_deref())?;
    let request = pages_only(&query.paging)?;
    Ok(Json(
        state.store.changes(parse_id(&id)?, since, &request).await?,
    ))
}
