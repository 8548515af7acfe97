//! The history gate (docs/chat-api.md, "History gate"): a group with
//! `historyMinOnline = N > 0` shows no history until N of its members are
//! online, on any live node.
//!
//! Every path that can carry a stored message of a group goes through
//! here: pages and `sync` get an empty page while the gate is closed, and
//! the acks and relays of `react`, `edit message` and `delete message`,
//! and offline notifications, carry the message with its text withheld
//! (`Message::without_text`). Only a new message, sent live to the members
//! in the room, is not gated; but the quote a reply carries is history,
//! and its snippet is withheld while the gate is closed
//! ([`reply_as_readers_see_it`]).

use crate::state::AppState;
use chat_wire::model::{Group, Message};
use chat_wire::paging::{Page, PageRequest};
use service_kit::ApiError;

/// Whether a group's history may be shown now (one store call when the
/// group is gated at all).
pub async fn history_visible(state: &AppState, group: &Group) -> Result<bool, ApiError> {
    if group.history_min_online == 0 {
        return Ok(true);
    }
    let presence = state.store.group_presence(&group.id).await?;
    Ok(presence.history_visible())
}

/// The empty page, as asked for, of a group whose history is not shown yet.
pub fn hidden_page<T>(paging: &PageRequest) -> Page<T> {
    Page {
        items: Vec::new(),
        page: paging.page_number(),
        per_page: paging.per_page,
        total: 0,
        has_more: false,
    }
}

/// `message` as its group's readers may see it now: whole, or with its
/// text withheld while the gate is closed.
pub async fn as_readers_see_it(state: &AppState, message: Message) -> Result<Message, ApiError> {
    let presence = state.store.group_presence(&message.group).await?;
    Ok(match presence.history_visible() {
        true => message,
        false => message.without_text(),
    })
}

/// A new message as its room may see it: whole, unless it quotes another
/// (`replyTo`) while the gate is closed, when the quote's snippet is
/// withheld. A store that cannot say whether the gate is open withholds it
/// too (fails closed) rather than failing a message already stored.
pub async fn reply_as_readers_see_it(state: &AppState, mut message: Message) -> Message {
    let Some(quote) = &mut message.reply_to else {
        return message;
    };
    let visible = match state.store.group_presence(&message.group).await {
        Ok(presence) => presence.history_visible(),
        Err(err) => {
            tracing::warn!(id = %message.id, error = %err, "cannot read the history gate of a reply; its quote is withheld");
            false
        }
    };
    if !visible {
        quote.snippet = String::new();
    }
    message
}
