//! The rooms of the cluster and the sockets in them, as the rest of the
//! chat-server sees them: one trait object, [`Rooms`], whatever adapter
//! the Socket.IO engine runs on (`engine` implements it).
//!
//! - [`outgoing`]: every event the server sends, with its name.
//! - [`delivery`]: which failed broadcasts are worth reporting.
//! - [`presence`]: who may hear of a user's presence.
//!
//! Room names: a group's room is the group's id; every socket of a user is
//! also in [`user_room`], which reaches all their devices on every node.

pub mod delivery;
pub mod outgoing;
pub mod presence;

use crate::metrics::ChatMetrics;
use crate::session::Session;
use async_trait::async_trait;
use chat_wire::ids::Up;
use outgoing::Outgoing;
use service_kit::connection::ConnectionHandle;
use socketioxide::{BroadcastError, SendError};
use socketioxide_core::Sid;

/// The room every socket of a user joins, to reach all their devices.
pub fn user_room(up: &Up) -> String {
    format!("user:{up}")
}

/// Whether `room` is a user's room rather than a group's.
pub fn is_user_room(room: &str) -> bool {
    room.starts_with("user:")
}

/// Who an event goes to: the sockets in any room of `to`, on every node,
/// except those also in a room of `except`, and except the socket
/// `sender` (the one whose event caused it).
#[derive(Debug, Clone, Default)]
pub struct Audience {
    /// The rooms reached.
    pub to: Vec<String>,
    /// Sockets in these rooms are left out.
    pub except: Vec<String>,
    /// This socket is left out.
    pub sender: Option<Sid>,
}

impl Audience {
    /// Every socket in `rooms`.
    pub fn rooms(rooms: Vec<String>) -> Self {
        Self {
            to: rooms,
            ..Self::default()
        }
    }

    /// Every socket in `rooms` but `sender`.
    pub fn others(sender: Sid, rooms: Vec<String>) -> Self {
        Self {
            to: rooms,
            except: Vec::new(),
            sender: Some(sender),
        }
    }

    /// Leaves out the sockets of `up` (for news about `up` themselves).
    pub fn except_user(mut self, up: &Up) -> Self {
        self.except.push(user_room(up));
        self
    }
}

/// What the chat-server needs from the Socket.IO engine.
#[async_trait]
pub trait Rooms: Send + Sync + 'static {
    /// Sends `event` to `audience`, on every node.
    async fn emit(&self, audience: &Audience, event: &Outgoing) -> Result<(), BroadcastError>;

    /// Sends `event` to one socket of this node.
    fn emit_to(&self, socket: Sid, event: &Outgoing) -> Result<(), SendError>;

    /// Puts every socket in room `holders`, on every node, in `room` too.
    async fn join(&self, holders: String, room: String) -> anyhow::Result<()>;

    /// Takes every socket in room `holders`, on every node, out of `room`.
    /// Returns once every node is sure to apply it before any broadcast
    /// made after it (or to stop): a kick never fails open.
    async fn leave(&self, holders: String, room: String) -> anyhow::Result<()>;

    /// Sends `event` to this node's sockets in any of `rooms`, and to no
    /// other node (each node applies the store's changes to its own
    /// sockets: `store_changes`).
    async fn emit_local(&self, rooms: Vec<String>, event: &Outgoing) -> Result<(), BroadcastError>;

    /// Whether a socket of this node is in `room`.
    fn any_local(&self, room: &str) -> bool;

    /// Puts this node's sockets in room `holders` that are not in `room`
    /// yet into it, and no other node's; returns them.
    fn enter_local(&self, holders: &str, room: &str) -> Vec<Sid>;

    /// Takes this node's sockets in room `holders` that are in `room` out
    /// of it, and no other node's; returns them.
    fn quit_local(&self, holders: &str, room: &str) -> Vec<Sid>;

    /// The rooms of a socket of this node (none once it is gone).
    fn rooms_of(&self, socket: Sid) -> Vec<String>;

    /// The sockets connected to this node.
    fn local_sockets(&self) -> Vec<Sid>;

    /// The session of a socket of this node.
    fn session(&self, socket: Sid) -> Option<Session>;

    /// The connection a socket of this node made its handshake on.
    fn handshake_connection(&self, socket: Sid) -> Option<ConnectionHandle>;

    /// Disconnects a socket of this node (a Socket.IO DISCONNECT: the
    /// client does not reconnect by itself).
    fn disconnect(&self, socket: Sid);

    /// Closes every socket and the adapter.
    async fn close(&self);
}

/// Sends `event` to `audience` and reports a failure that matters (see
/// [`delivery`]): as a warning, or at debug level for the notices that
/// are only hints (`typing`, `read`).
pub async fn send(
    rooms: &dyn Rooms,
    metrics: &ChatMetrics,
    audience: &Audience,
    event: &Outgoing,
) -> Result<(), BroadcastError> {
    let result = delivery::delivery(metrics, rooms.emit(audience, event).await);
    if let Err(err) = &result {
        if event.is_hint() {
            tracing::debug!(event = event.name(), error = %err, "could not deliver an event to every recipient");
        } else {
            tracing::warn!(event = event.name(), error = %err, "could not deliver an event to every recipient");
        }
    }
    result
}
