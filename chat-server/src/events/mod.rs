//! The client events: one file per event, each an [`Event`] (its name, its
//! payload, its reply, and what it does), listed once below; each socket's
//! one event handler (`engine::events`) finds an event in that list by its
//! name and does for all of them what every event needs:
//! the user's event budget, parsing the payload, tracking the work for a
//! drain, the ack, its metrics, and relaying to the room after the ack.
//!
//! Adding an event: a new file here with a type implementing [`Event`],
//! and one line in the `events!` list below.
//!
//! Shared by several events: [`gate`] (the history gate),
//! [`membership`] (moving a user's sockets in and out of a room) and
//! `changed` (the answer to a changed message).

pub mod gate;
pub mod membership;

mod changed;

pub use queue::leave_queues;

use crate::rooms::outgoing::Outgoing;
use crate::rooms::{Audience, Rooms};
use crate::session::Session;
use crate::state::AppState;
use chat_wire::ids::Up;
use chat_wire::model::Group;
use serde::Serialize;
use serde::de::DeserializeOwned;
use service_kit::ApiError;
use socketioxide_core::Sid;
use std::future::Future;

/// One client event.
pub trait Event: Send + Sync + 'static {
    /// Its name on the wire.
    const NAME: &'static str;
    /// Whether a drain waits for it: it writes to the store or moves
    /// sockets between rooms, and its ack must not be lost.
    const WRITES: bool;
    /// What the client sends.
    type Payload: DeserializeOwned + Send + Sync + 'static;
    /// What the ack carries on success.
    type Reply: Serialize + Send + 'static;

    /// Does what the event asks, as `ctx`'s user.
    fn handle(
        ctx: &Ctx<'_>,
        payload: Self::Payload,
    ) -> impl Future<Output = Result<Handled<Self::Reply>, ApiError>> + Send;
}

/// Where an event runs: the node's state, the socket and its user.
pub struct Ctx<'a> {
    /// The node's shared handles.
    pub state: &'a AppState,
    /// The rooms of the cluster.
    pub rooms: &'a dyn Rooms,
    /// The session of the socket the event came on.
    pub session: &'a Session,
    /// That socket.
    pub socket: Sid,
}

impl Ctx<'_> {
    /// The user, from their token.
    pub fn up(&self) -> &Up {
        &self.session.up
    }

    /// Whether the socket is in the room of group `room`.
    pub fn in_room(&self, room: &str) -> bool {
        self.rooms.rooms_of(self.socket).iter().any(|r| r == room)
    }
}

/// What an event answers, and what goes to others once the ack is sent.
#[derive(Debug)]
pub struct Handled<R> {
    /// The ack's data.
    pub reply: R,
    /// An event for others, sent after the ack.
    pub relay: Option<(Audience, Outgoing)>,
}

impl<R> Handled<R> {
    /// An answer and nothing for others.
    pub fn reply(reply: R) -> Self {
        Self { reply, relay: None }
    }

    /// Also sends `event` to `audience` once the ack is sent.
    pub fn relay(mut self, audience: Audience, event: Outgoing) -> Self {
        self.relay = Some((audience, event));
        self
    }
}

/// Declares the event modules and [`register_all`], the one list of the
/// events a client may send: one line per event.
macro_rules! events {
    ($($module:ident :: $event:ident),* $(,)?) => {
        $(mod $module;)*

        /// Registers every client event through `on`.
        pub fn register_all(on: &mut impl Register) {
            $(on.event::<$module::$event>();)*
        }
    };
}

events! {
    online::Online,
    join_room::JoinRoom,
    leave_room::LeaveRoom,
    chat_message::ChatMessage,
    private_message::PrivateMessage,
    typing::Typing,
    read::Read,
    react::React,
    edit_message::EditMessage,
    delete_message::DeleteMessage,
    sync::Sync,
    presence::Presence,
    presence_visible::PresenceVisible,
    presence_setting::PresenceSetting,
    block::Block,
    unblock::Unblock,
    blocked::Blocked,
    kick::Kick,
    find_room::FindRoom,
    queue::Queue,
    leave_queue::LeaveQueue,
    refresh_token::RefreshToken,
}

/// Registers one event (implemented by `engine::events` for a socket).
pub trait Register {
    /// Registers `E`.
    fn event<E: Event>(&mut self);
}

/// The error of a payload that does not parse.
pub fn bad_payload(event: &str, err: impl std::fmt::Display) -> ApiError {
    ApiError::InvalidArgument(format!("invalid `{event}` payload: {err}"))
}

/// Checks an optional nonce with the shared rule; a bad one is
/// `invalid_argument` (only message text is `payload_too_large`).
pub fn parse_nonce(nonce: Option<String>) -> Result<Option<String>, ApiError> {
    chat_wire::requests::parse_nonce(nonce.as_deref())
        .map_err(|err| ApiError::InvalidArgument(err.to_string()))
}

/// The text of a new message with `attachments`: trimmed, 1 to
/// `CHAT_MAX_MESSAGE_CHARS` characters, or blank beside attachments; and
/// at most 10 attachments, none twice.
pub fn parse_content(
    ctx: &Ctx<'_>,
    message: &str,
    attachments: &[chat_wire::ids::EntityId],
) -> Result<String, ApiError> {
    chat_wire::attachments::check_ids(attachments)
        .map_err(|err| ApiError::InvalidArgument(err.to_string()))?;
    Ok(chat_wire::requests::parse_message_text(
        message,
        !attachments.is_empty(),
        ctx.state.max_message_chars,
    )?)
}

/// `permission_denied` unless `up` is a member of `group`, as the store has it.
pub fn require_member(group: &Group, up: &Up) -> Result<(), ApiError> {
    if group.users.contains(up) {
        Ok(())
    } else {
        Err(ApiError::PermissionDenied(format!(
            "you are not a member of group {}",
            group.id
        )))
    }
}

/// What the events' unit tests share.
#[cfg(test)]
pub(crate) mod testing {
    use crate::config::ChatConfig;
    use crate::state::AppState;
    use clap::Parser;
    use prometheus_client::registry::Registry;

    /// A node's state whose store is out of reach (nothing listens there),
    /// with `extra` settings.
    pub fn state_without_store(extra: &[&str]) -> AppState {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let store_url = format!("http://{}", closed.local_addr().unwrap());
        drop(closed);
        let secret = "s".repeat(32);
        let mut args = vec![
            "chat-server",
            "--store-url",
            &store_url,
            "--store-token",
            &secret,
            "--jwt-secret",
            &secret,
        ];
        args.extend_from_slice(extra);
        let config = ChatConfig::try_parse_from(args).unwrap();
        AppState::build(&config, &mut Registry::default())
            .unwrap()
            .0
    }
}
