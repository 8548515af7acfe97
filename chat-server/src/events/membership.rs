//! Moving every socket of a user, on every node, into a group's room or
//! out of it, so all their devices stay in step with the store.

use crate::rooms::{Rooms, user_room};
use chat_wire::ids::{EntityId, Up};

/// Puts every socket of `up`, on every node, into `room`.
pub async fn enter(rooms: &dyn Rooms, up: &Up, room: &EntityId) {
    if let Err(err) = rooms.join(user_room(up), room.to_string()).await {
        tracing::warn!(up = %up, room = %room, error = %err, "could not move the user's sockets into a room");
    }
}

/// Takes every socket of `up`, on every node, out of `room`.
pub async fn quit(rooms: &dyn Rooms, up: &Up, room: &EntityId) {
    if let Err(err) = rooms.leave(user_room(up), room.to_string()).await {
        tracing::warn!(up = %up, room = %room, error = %err, "could not take the user's sockets out of a room");
    }
}
