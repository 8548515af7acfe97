//! Applying one change of the store's log to this node's own sockets, and
//! to no other node's: every node applies every change, so each socket of
//! the cluster gets it once.
//!
//! - members added: their sockets here join the room, then get
//!   `group added {group}`;
//! - members removed: their sockets here leave the room, then get
//!   `group removed {room}`;
//! - a message created: `chat message` to the room's sockets here, as a
//!   message sent over Socket.IO is (live, so not behind the history gate),
//!   and queued for offline notifications when this node is the one that
//!   notifies;
//! - a message updated: `message updated` to the room's sockets here, its
//!   text withheld while the group's history gate is closed, as the
//!   relays of `edit message` and the like do (`events::gate`).

use crate::events::gate;
use crate::rooms::outgoing::Outgoing;
use crate::rooms::{Rooms, delivery, user_room};
use crate::state::AppState;
use chat_wire::changes::{Change, ChangeKind};
use chat_wire::events::{GroupAdded, RoomRef};
use chat_wire::ids::Up;
use chat_wire::model::{Group, Message};

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
                let group = match group {
                    Some(group) => group,
                    None => match self.state.store.group(&change.room).await {
                        Ok(group) => group,
                        Err(err) => {
                            tracing::warn!(room = %room, error = %err, "a change adds members to a group that cannot be read; not applied");
                            return;
                        }
                    },
                };
                for up in &change.users {
                    self.added(up, &group).await;
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

    async fn added(&self, up: &Up, group: &Group) {
        let holders = user_room(up);
        if let Err(err) = self
            .rooms
            .join_local(holders.clone(), group.id.to_string())
            .await
        {
            tracing::warn!(up = %up, room = %group.id, error = %err, "could not move the user's sockets into a room");
        }
        let notice = Outgoing::GroupAdded(GroupAdded {
            group: group.clone(),
        });
        self.send(vec![holders], notice).await;
    }

    async fn removed(&self, up: &Up, room: &chat_wire::ids::EntityId) {
        let holders = user_room(up);
        if let Err(err) = self
            .rooms
            .leave_local(holders.clone(), room.to_string())
            .await
        {
            tracing::warn!(up = %up, room = %room, error = %err, "could not take the user's sockets out of a room");
        }
        let notice = Outgoing::GroupRemoved(RoomRef { room: room.clone() });
        self.send(vec![holders], notice).await;
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
