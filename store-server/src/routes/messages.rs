//! `/message` routes: create (group commit), read, edit, delete, react.

use super::input::{QueryOrBody, pages_only, parse_id, parse_up};
use super::origin::Origin;
use super::{DATA_TAG, created_or_ok};
use crate::db::changes::NewChange;
use crate::message_writer::NewMessageSpec;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chat_wire::ErrorBody;
use chat_wire::ids::{EntityId, Up};
use chat_wire::model::Message;
use chat_wire::paging::{Page, PageQuery};
use chat_wire::requests::{
    DeleteMessageQuery, EditMessage, NewMessage, NewReaction, parse_emoji, parse_nonce, parse_text,
};
use chat_wire::schema::{
    ChatNodeHeader, Emoji, IdempotencyKeyHeader, PageParams, is_idempotency_key,
};
use service_kit::responses::{
    BadRequest, Forbidden, NotFound, PayloadTooLarge, ServerErrors, Unauthenticated,
};
use service_kit::{ApiError, AppJson, AppQuery};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The header that makes a message without a nonce idempotent.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// The `/message` routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_messages, create_message))
        .routes(routes!(get_message, edit_message, delete_message))
        .routes(routes!(add_reaction))
        .routes(routes!(remove_reaction))
}

/// List all messages
///
/// Every group's messages, newest first, paged. Arguments may also come as a
/// JSON body.
#[utoipa::path(get, path = "/message", tag = DATA_TAG, params(PageParams),
    responses((status = 200, body = Page<Message>), BadRequest, Unauthenticated, PayloadTooLarge, ServerErrors))]
async fn list_messages(
    State(state): State<AppState>,
    QueryOrBody(query): QueryOrBody<PageQuery>,
) -> Result<Json<Page<Message>>, ApiError> {
    Ok(Json(state.store.all_messages(&pages_only(&query)?).await?))
}

/// Send a message
///
/// `from` must be a member of `group`. The text is trimmed and must hold 1 to
/// `STORE_MAX_MESSAGE_CHARS` characters. With a `nonce`, the same
/// `(from, nonce)` again returns the first message with `200` and stores
/// nothing; a new message is answered `201`. Without a nonce, an
/// `Idempotency-Key` header does the same without showing on the message
/// (chat nodes send one with every message, so that they may retry it on
/// another store instance). The answer comes once the message is stored
/// and counted, whichever instance is asked next.
#[utoipa::path(post, path = "/message", tag = DATA_TAG, request_body = NewMessage,
    params(
        IdempotencyKeyHeader,
        ChatNodeHeader),
    responses((status = 201, body = Message, description = "stored"), (status = 200, body = Message, description = "stored before with this nonce"),
        BadRequest, Unauthenticated,
        (status = 403, body = ErrorBody, description = "`permission_denied`: `from` is not a member of the group"),
        (status = 404, body = ErrorBody, description = "`not_found`: an unknown group"),
        PayloadTooLarge, ServerErrors))]
async fn create_message(
    State(state): State<AppState>,
    origin: Origin,
    headers: HeaderMap,
    AppJson(new): AppJson<NewMessage>,
) -> Result<Response, ApiError> {
    let text = parse_text("message", &new.message, state.max_message_chars)?;
    let nonce = parse_nonce(new.nonce.as_deref()).map_err(super::input::field_error)?;
    let idempotency_key = match headers.get(IDEMPOTENCY_KEY) {
        None => None,
        Some(value) => match value.to_str() {
            Ok(key) if is_idempotency_key(key) => Some(key.to_owned()),
            _ => {
                return Err(ApiError::InvalidArgument(
                    "`Idempotency-Key` holds 1 to 128 visible ASCII characters, no spaces".into(),
                ));
            }
        },
    };
    let spec = NewMessageSpec {
        group: crate::db::documents::object_id(&new.group),
        from: new.from,
        text,
        nonce,
        idempotency_key,
    };
    let stored = state.writer.write(spec).await?;
    if stored.created {
        origin
            .record(&state, NewChange::MessageCreated(&stored.message))
            .await;
    }
    Ok(created_or_ok(stored.message, stored.created))
}

/// Get one message
#[utoipa::path(get, path = "/message/{id}", tag = DATA_TAG, params(("id" = inline(EntityId), Path, description = "message id")),
    responses((status = 200, body = Message), BadRequest, Unauthenticated, NotFound, ServerErrors))]
async fn get_message(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Message>, ApiError> {
    Ok(Json(state.store.message(parse_id(&id)?).await?.into()))
}

/// Edit a message
///
/// Only its author may; sets `editedAt`.
#[utoipa::path(patch, path = "/message/{id}", tag = DATA_TAG, params(("id" = inline(EntityId), Path, description = "message id"), ChatNodeHeader), request_body = EditMessage,
    responses((status = 200, body = Message),
        (status = 400, body = ErrorBody, description = "`invalid_argument`: a bad id or body, or a deleted message"),
        Unauthenticated,
        (status = 403, body = ErrorBody, description = "`permission_denied`: `from` is not the author, or not a member"),
        NotFound, PayloadTooLarge, ServerErrors))]
async fn edit_message(
    State(state): State<AppState>,
    origin: Origin,
    Path(id): Path<String>,
    AppJson(edit): AppJson<EditMessage>,
) -> Result<Json<Message>, ApiError> {
    let id = parse_id(&id)?;
    let text = parse_text("message", &edit.message, state.max_message_chars)?;
    let message = state.store.edit_message(id, &edit.from, text).await?;
    updated(&state, origin, message).await
}

/// Delete a message
///
/// A soft delete by its author or an admin of its group: the message stays,
/// with `deleted: true` and no text. Deleting twice is not an error.
#[utoipa::path(delete, path = "/message/{id}", tag = DATA_TAG, params(("id" = inline(EntityId), Path, description = "message id"), DeleteMessageQuery, ChatNodeHeader),
    responses((status = 200, body = Message, description = "the message, now `deleted` (it stays, soft-deleted)"),
        BadRequest, Unauthenticated,
        (status = 403, body = ErrorBody, description = "`permission_denied`: `from` is neither the author nor an admin, or not a member"),
        NotFound, ServerErrors))]
async fn delete_message(
    State(state): State<AppState>,
    origin: Origin,
    Path(id): Path<String>,
    AppQuery(query): AppQuery<DeleteMessageQuery>,
) -> Result<Json<Message>, ApiError> {
    let message = state
        .store
        .delete_message(parse_id(&id)?, &query.from)
        .await?;
    updated(&state, origin, message).await
}

/// React to a message
///
/// The user must be a member of the message's group; reacting twice with the
/// same emoji is not an error.
#[utoipa::path(post, path = "/message/{id}/reactions", tag = DATA_TAG, params(("id" = inline(EntityId), Path, description = "message id"), ChatNodeHeader), request_body = NewReaction,
    responses((status = 200, body = Message),
        (status = 400, body = ErrorBody, description = "`invalid_argument`: a bad id or body, a deleted message, or a reaction over the caps (64 emoji per message, 16 per user)"),
        Unauthenticated, Forbidden, NotFound, PayloadTooLarge, ServerErrors))]
async fn add_reaction(
    State(state): State<AppState>,
    origin: Origin,
    Path(id): Path<String>,
    AppJson(reaction): AppJson<NewReaction>,
) -> Result<Json<Message>, ApiError> {
    let id = parse_id(&id)?;
    let emoji = parse_emoji(&reaction.emoji)?;
    let message = state.store.react(id, &reaction.up, emoji).await?;
    updated(&state, origin, message).await
}

/// Remove a reaction
///
/// The user must be a member of the message's group; removing one that is
/// not there is not an error.
#[utoipa::path(delete, path = "/message/{id}/reactions/{emoji}/{up}", tag = DATA_TAG,
    params(("id" = inline(EntityId), Path, description = "message id"),
        ("emoji" = inline(Emoji), Path, description = "the reaction, URL-encoded"),
        ("up" = inline(Up), Path), ChatNodeHeader),
    responses((status = 200, body = Message), BadRequest, Unauthenticated, Forbidden, NotFound, ServerErrors))]
async fn remove_reaction(
    State(state): State<AppState>,
    origin: Origin,
    Path((id, emoji, up)): Path<(String, String, String)>,
) -> Result<Json<Message>, ApiError> {
    let id = parse_id(&id)?;
    let emoji = parse_emoji(&emoji)?;
    let message = state.store.unreact(id, &parse_up(&up)?, &emoji).await?;
    updated(&state, origin, message).await
}

/// Answers a changed message, once recorded as `messageUpdated` (unless a
/// chat node changed it).
async fn updated(
    state: &AppState,
    origin: Origin,
    message: Message,
) -> Result<Json<Message>, ApiError> {
    origin
        .record(state, NewChange::MessageUpdated(&message))
        .await;
    Ok(Json(message))
}
