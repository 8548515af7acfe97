//! Applying one change of the store's log to this node's own sockets, and
//! to no other node's: every node applies every change, so each socket of
//! the cluster gets it once.
//!
//! - members added: those of their sockets here that are not in the room
//!   join it, then each gets `group added {group}`;
//! - members removed: those of their sockets here that are in the room
//!   leave it, then each gets `group removed {room}`;
//! - a message created: `chat message` to the room's sockets here, as a
//!   message sent over Socket.IO is (live, so not behind the history gate),
//!   and queued for offline notifications when this node is the one that
//!   notifies;
//! - a message updated: `message updated` to the room's sockets here, its
//!   text withheld while the group's history gate is closed, as the
//!   relays of `edit message` and the like do (`events::gate`).
//!
//! A membership change may be read after a later one made by a chat node
//! (a member added through the store, then kicked over a socket): before
//! moving a user's sockets, the group is read again (only when the user
//! has a socket here) and the change is applied only if the store still
//! says so. A socket already in the room (it connected after the change)
//! is not told again.

use crate::events::gate;
use crate::rooms::outgoing::Outgoing;
use crate::rooms::{Rooms, delivery, user_room};
use crate::state::AppState;
use chat_wire::changes::{Change, ChangeKind};
use chat_wire::events::{GroupAdded, RoomRef};
use chat_wire::ids::{EntityId, Up};
use chat_wire::model::{Group, Message};
use service_kit::ApiError;
use socketioxide::{SendError, SocketError};
use socketioxide_core::Sid;

/// What applying a change works with.
pub struct Applier<'a> {
    /// The node's handles (store, metrics, notifier).
    pub state: &'a AppState,
    /// The node's rooms.
    pub rooms: &'a dyn Rooms,
}

impl Applier<'_> {
    /// Applies `change` to this node's sockets; `notify`: this node posts
    /// the offline notifications of a created message.
    pub async fn apply(&self, change: Change, notify: bool) {
        let room = change.room.to_string();
        match (change.kind, change.group, change.message) {
            (ChangeKind::MembersAdded, group, _) => {
                for up in &change.users {
                    self.added(up, &change.room, group.as_ref()).await;
                }
            }
            (ChangeKind::MembersRemoved, _, _) => {
                for up in &change.users {
                    self.removed(up, &change.room).await;
                }
            }
            (ChangeKind::MessageCreated, _, Some(message)) => {
                if notify {
                    self.state.notifier.notify(&message);
                }
                self.send(vec![room], Outgoing::ChatMessage(message)).await;
            }
            (ChangeKind::MessageUpdated, _, Some(message)) => {
                let message = as_readers_see_it(self.state, message).await;
                self.send(vec![room], Outgoing::MessageUpdated(message))
                    .await;
            }
            (kind, _, None) => {
                tracing::warn!(room = %room, ?kind, "a message change without its message; not applied");
            }
        }
    }

    async fn added(&self, up: &Up, room: &EntityId, recorded: Option<&Group>) {
        let holders = user_room(up);
        if !self.rooms.any_local(&holders) {
            return;
        }
        let group = match self.state.store.group(room).await {
            Ok(group) if group.users.contains(up) => group,
            // Removed since, or the group is gone: nothing to join.
            Ok(_) | Err(ApiError::NotFound(_)) => return,
            Err(err) => match recorded {
                Some(group) => {
                    tracing::warn!(room = %room, error = %err, "cannot read a group again; applying the change as recorded");
                    group.clone()
                }
                None => {
                    tracing::warn!(room = %room, error = %err, "cannot read the group a change adds members to; not applied");
                    return;
                }
            },
        };
        let notice = Outgoing::GroupAdded(GroupAdded { group });
        for socket in self.rooms.enter_local(&holders, room.as_str()) {
            self.tell(socket, &notice);
        }
    }

    async fn removed(&self, up: &Up, room: &EntityId) {
        let holders = user_room(up);
        if !self.rooms.any_local(&holders) {
            return;
        }
        match self.state.store.group(room).await {
            // Back in it since (a `join room`): nothing to leave.
            Ok(group) if group.users.contains(up) => return,
            Ok(_) | Err(ApiError::NotFound(_)) => {}
            Err(err) => {
                tracing::warn!(room = %room, error = %err, "cannot read a group again; applying the removal as recorded");
            }
        }
        let notice = Outgoing::GroupRemoved(RoomRef { room: room.clone() });
        for socket in self.rooms.quit_local(&holders, room.as_str()) {
            self.tell(socket, &notice);
        }
    }

    /// Sends `event` to one socket of this node; one that has just gone is
    /// not a failure.
    fn tell(&self, socket: Sid, event: &Outgoing) {
        match self.rooms.emit_to(socket, event) {
            Ok(()) | Err(SendError::Socket(SocketError::Closed)) => {}
            Err(err) => {
                tracing::warn!(event = event.name(), error = %err, "could not tell a socket of a change of the store");
            }
        }
    }

    /// Sends `event` to this node's sockets in `rooms`; a failure that
    /// matters is logged (see `rooms::delivery`).
    async fn send(&self, rooms: Vec<String>, event: Outgoing) {
        let result = self.rooms.emit_local(rooms, &event).await;
        if let Err(err) = delivery::delivery(&self.state.metrics, result) {
            tracing::warn!(event = event.name(), error = %err, "could not deliver a change of the store to every socket");
        }
    }
}

/// `message` as its group's readers may see it now; without its text when
/// the gate cannot be read (it fails closed, like the events' relays).
async fn as_readers_see_it(state: &AppState, message: Message) -> Message {
    match gate::as_readers_see_it(state, message.clone()).await {
        Ok(visible) => visible,
        Err(err) => {
            tracing::warn!(id = %message.id, error = %err, "cannot read the history gate; the changed message goes out without its text");
            message.without_text()
        }
    }
}
