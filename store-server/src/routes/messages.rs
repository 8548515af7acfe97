//! `/message` routes: create (group commit), read, edit, delete, react.

use super::input::{QueryOrBody, pages_only, parse_id, parse_up};
use super::origin::Origin;
use super::{DATA_TAG, created_or_ok};
use crate::db::changes::NewChange;
use crate::db::documents::object_id;
use crate::message_writer::{NewMessageSpec, Stored};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chat_wire::ErrorBody;
use chat_wire::attachments::check_ids;
use chat_wire::ids::{EntityId, Up};
use chat_wire::model::Message;
use chat_wire::paging::{Page, PageQuery};
use chat_wire::requests::{
    DeleteMessageQuery, EditMessage, NewMessage, NewReaction, parse_emoji, parse_message_text,
    parse_nonce, parse_text,
};
use chat_wire::schema::{
    ChatNodeHeader, Emoji, IdempotencyKeyHeader, PageParams, is_idempotency_key,
};
use mongodb::bson::oid::ObjectId;
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
/// `STORE_MAX_MESSAGE_CHARS` characters; it may be blank when the message
/// carries `attachments`: at most 10 ids of attachments that `from`
/// uploaded to `group` and that no other message carries (each is taken
/// once, whichever store instances two messages reach; a message refused
/// gives its attachments back). With a `nonce`, the same `(from, nonce)`
/// again returns the first message with `200` and stores nothing; a new
/// message is answered `201`. Without a nonce, an `Idempotency-Key` header
/// does the same without showing on the message (chat nodes send one with
/// every message, so that they may retry it on another store instance).
/// The answer comes once the message is stored and counted, whichever
/// instance is asked next. With `replyTo` (a message of the same group, not
/// deleted), the message quotes it; the members its text names as `@up`
/// are its `mentions` (at most 20).
#[utoipa::path(post, path = "/message", tag = DATA_TAG, request_body = NewMessage,
    params(
        IdempotencyKeyHeader,
        ChatNodeHeader),
    responses((status = 201, body = Message, description = "stored"), (status = 200, body = Message, description = "stored before with this nonce"),
        BadRequest, Unauthenticated,
        (status = 403, body = ErrorBody, description = "`permission_denied`: `from` is not a member of the group, one of the two users of a direct group has blocked the other, or an attachment was uploaded by someone else or to another group"),
        (status = 404, body = ErrorBody, description = "`not_found`: an unknown group, attachment or `replyTo` message"),
        (status = 409, body = ErrorBody, description = "`already_exists`: an attachment is carried by another message"),
        PayloadTooLarge, ServerErrors))]
async fn create_message(
    State(state): State<AppState>,
    origin: Origin,
    headers: HeaderMap,
    AppJson(new): AppJson<NewMessage>,
) -> Result<Response, ApiError> {
    check_ids(&new.attachments).map_err(|err| ApiError::InvalidArgument(err.to_string()))?;
    let attachments: Vec<ObjectId> = new.attachments.iter().map(object_id).collect();
    let text = parse_message_text(
        &new.message,
        !attachments.is_empty(),
        state.max_message_chars,
    )?;
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
    let group = object_id(&new.group);
    let reply_to = match &new.reply_to {
        Some(original) => {
            // A non-member learns nothing of the group's messages.
            state.store.require_member(group, &new.from).await?;
            Some(
                state
                    .store
                    .quote_for_reply(group, object_id(original))
                    .await?,
            )
        }
        None => None,
    };
    let mut spec = NewMessageSpec {
        group,
        from: new.from,
        text,
        nonce,
        idempotency_key,
        attachments: Vec::new(),
        reply_to,
    };
    let stored = if attachments.is_empty() {
        state.writer.write(spec).await?
    } else {
        with_attachments(&state, &mut spec, &attachments).await?
    };
    if stored.created {
        origin
            .record(&state, NewChange::MessageCreated(&stored.message))
            .await;
    }
    Ok(created_or_ok(stored.message, stored.created))
}

/// Stores a message with attachments: takes them for the message's key
/// (a key is made up when the caller gave none), writes the message, then
/// marks those it carries as attached. A message refused for good gives
/// them back; one whose fate is unknown keeps them for its retry (or for
/// the sweep, which settles the claim).
async fn with_attachments(
    state: &AppState,
    spec: &mut NewMessageSpec,
    ids: &[ObjectId],
) -> Result<Stored, ApiError> {
    if spec.key().is_none() {
        spec.idempotency_key = Some(ObjectId::new().to_hex());
    }
    let key = spec.key().expect("a key was just set");
    let claimed = state
        .store
        .claim_attachments(ids, spec.group, &spec.from, &key)
        .await?;
    spec.attachments = claimed;
    match state.writer.write(spec.clone()).await {
        Ok(stored) => {
            // A retry is answered with the first message: only what it
            // carries is attached; anything else this call took goes back.
            let (carried, extra): (Vec<ObjectId>, Vec<ObjectId>) = ids.iter().partition(|id| {
                stored
                    .message
                    .attachments
                    .iter()
                    .any(|a| a.id.as_str() == id.to_hex())
            });
            let message = object_id(&stored.message.id);
            let linked = state.store.link_attachments(&carried, &key, message).await;
            let released = state.store.release_attachments(&extra, &key).await;
            if let Err(err) = linked.and(released) {
                // The sweep settles the claims within the hour.
                tracing::warn!(error = %err, "could not settle the claims of a stored message");
            }
            Ok(stored)
        }
        Err(err) => {
            if !err.may_succeed_later()
                && let Err(release) = state.store.release_attachments(ids, &key).await
            {
                tracing::warn!(error = %release, "could not release the attachments of a refused message");
            }
            Err(err)
        }
    }
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
        (status = 403, body = ErrorBody, description = "`permission_denied`: `from` is not the author, or not a member, or one of the two users of a direct group has blocked the other"),
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
/// with `deleted: true`, no text and no attachments (their bytes are
/// deleted). Deleting twice is not an error.
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
