//! `queue {queue}`: the user waits to be paired (`vent` with `listen`,
//! `talk` with `talk`). Answers `{queued: true}`; once paired, both users'
//! sockets join their new `match` group's room and get
//! `queue complete {room}`.
//!
//! The queues live in the store, shared by every node: two users queued on
//! different nodes are paired, and the store creates their room in the
//! same step.

use super::{Ctx, Event, Handled, membership};
use crate::rooms::outgoing::Outgoing;
use crate::rooms::{Audience, user_room};
use crate::state::AppState;
use chat_wire::cluster::{JoinQueue, QueueOutcome, SocketId};
use chat_wire::events::{Queue as Payload, QueueComplete, Queued};
use service_kit::ApiError;
use socketioxide_core::Sid;

/// `queue`.
pub struct Queue;

impl Event for Queue {
    const NAME: &'static str = "queue";
    const WRITES: bool = true;
    type Payload = Payload;
    type Reply = Queued;

    async fn handle(ctx: &Ctx<'_>, Payload { queue }: Payload) -> Result<Handled<Queued>, ApiError> {
        let request = JoinQueue {
            queue,
            up: ctx.up().clone(),
            socket: socket_id(ctx.socket)?,
            node: ctx.state.node.presence.node().clone(),
        };
        ctx.session.set_queued(true);
        let outcome = ctx.state.store.enqueue(&request).await?;
        let reply = Handled::reply(Queued { queued: true });
        let QueueOutcome {
            room: Some(room),
            partner: Some(partner),
            ..
        } = outcome
        else {
            return Ok(reply);
        };
        ctx.session.set_queued(false);
        membership::enter(ctx.rooms, &partner.up, &room.id).await;
        membership::enter(ctx.rooms, ctx.up(), &room.id).await;
        let both = vec![user_room(&partner.up), user_room(ctx.up())];
        let notice = Outgoing::QueueComplete(QueueComplete { room });
        Ok(reply.relay(Audience::rooms(both), notice))
    }
}

/// The store's name of a socket.
pub fn socket_id(socket: Sid) -> Result<SocketId, ApiError> {
    SocketId::parse(socket.to_string())
        .map_err(|err| ApiError::Internal(anyhow::Error::new(err).context("a socket id")))
}

/// Takes a departing socket out of the queues.
pub async fn leave_queues(state: &AppState, socket: Sid) {
    let left = match socket_id(socket) {
        Ok(id) => state.store.dequeue(&id).await.map(|_| ()),
        Err(err) => Err(err),
    };
    if let Err(err) = left {
        tracing::warn!(socket = %socket, error = %err, "a departed socket may keep its place in a queue");
    }
}
