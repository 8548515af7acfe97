//! [`Rooms`] on the Socket.IO engine, for whichever adapter it runs on.

use crate::cluster::publisher::Publisher;
use crate::rooms::outgoing::Outgoing;
use crate::rooms::{Audience, Rooms};
use crate::session::Session;
use async_trait::async_trait;
use axum::extract::ConnectInfo;
use service_kit::connection::{ConnectionHandle, Peer};
use socketioxide::adapter::Adapter;
use socketioxide::{BroadcastError, SendError, SocketError, SocketIo};
use socketioxide_core::Sid;

/// The adapter's publisher (none on a single node), kept in the engine's
/// state for the rooms each event builds.
#[derive(Debug, Clone)]
pub struct Publishing(pub Option<Publisher>);

/// The engine's rooms; cheap to clone.
#[derive(Debug, Clone)]
pub struct EngineRooms<A: Adapter> {
    io: SocketIo<A>,
    /// The adapter's publisher, with several nodes.
    publisher: Option<Publisher>,
}

impl<A: Adapter> EngineRooms<A> {
    /// The rooms of `io`, whose requests to other nodes go out through
    /// `publisher` (none on a single node).
    pub fn new(io: SocketIo<A>, publisher: Option<Publisher>) -> Self {
        Self { io, publisher }
    }
}

#[async_trait]
impl<A: Adapter> Rooms for EngineRooms<A> {
    async fn emit(&self, audience: &Audience, event: &Outgoing) -> Result<(), BroadcastError> {
        let rooms = audience.to.clone();
        let operators = match audience.sender.and_then(|sid| self.io.get_socket(sid)) {
            Some(sender) => sender.to(rooms),
            // A sender that has just left is in no room any more.
            None => self.io.to(rooms),
        };
        let operators = match audience.except.is_empty() {
            true => operators,
            false => operators.except(audience.except.clone()),
        };
        operators.emit(event.name(), event).await
    }

    fn emit_to(&self, socket: Sid, event: &Outgoing) -> Result<(), SendError> {
        match self.io.get_socket(socket) {
            Some(socket) => socket.emit(event.name(), event),
            None => Err(SendError::Socket(SocketError::Closed)),
        }
    }

    async fn join(&self, holders: String, room: String) -> anyhow::Result<()> {
        self.io
            .to(holders)
            .join(room)
            .await
            .map_err(|err| anyhow::anyhow!("{err}"))
    }

    async fn leave(&self, holders: String, room: String) -> anyhow::Result<()> {
        self.io
            .to(holders)
            .leave(room)
            .await
            .map_err(|err| anyhow::anyhow!("{err}"))?;
        // Confirmed once the request is in the adapter's collection: every
        // node reads it there before any later broadcast, or stops.
        if let Some(publisher) = &self.publisher {
            publisher.flushed().await;
        }
        Ok(())
    }

    async fn emit_local(&self, rooms: Vec<String>, event: &Outgoing) -> Result<(), BroadcastError> {
        // `local()`: the adapter publishes nothing to the other nodes.
        self.io.local().to(rooms).emit(event.name(), event).await
    }

    fn any_local(&self, room: &str) -> bool {
        // `sockets()` lists this node's sockets only.
        !self.io.to(room.to_owned()).sockets().is_empty()
    }

    fn enter_local(&self, holders: &str, room: &str) -> Vec<Sid> {
        let mut entered = Vec::new();
        for socket in self.io.to(holders.to_owned()).sockets() {
            if !socket.rooms().iter().any(|r| r == room) {
                // A socket's own `join` changes this node's rooms only.
                socket.join(room.to_owned());
                entered.push(socket.id);
            }
        }
        entered
    }

    fn quit_local(&self, holders: &str, room: &str) -> Vec<Sid> {
        let mut quit = Vec::new();
        for socket in self.io.to(holders.to_owned()).sockets() {
            if socket.rooms().iter().any(|r| r == room) {
                socket.leave(room.to_owned());
                quit.push(socket.id);
            }
        }
        quit
    }

    fn rooms_of(&self, socket: Sid) -> Vec<String> {
        self.io
            .get_socket(socket)
            .map(|socket| {
                socket
                    .rooms()
                    .into_iter()
                    .map(|room| room.into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn local_sockets(&self) -> Vec<Sid> {
        self.io
            .sockets()
            .into_iter()
            .map(|socket| socket.id)
            .collect()
    }

    fn session(&self, socket: Sid) -> Option<Session> {
        self.io.get_socket(socket)?.extensions.get::<Session>()
    }

    fn handshake_connection(&self, socket: Sid) -> Option<ConnectionHandle> {
        let socket = self.io.get_socket(socket)?;
        socket
            .req_parts()
            .extensions
            .get::<ConnectInfo<Peer>>()
            .map(|ConnectInfo(peer)| peer.connection.clone())
    }

    fn disconnect(&self, socket: Sid) {
        if let Some(socket) = self.io.get_socket(socket)
            && let Err(err) = socket.disconnect()
        {
            tracing::debug!(error = %err, "could not disconnect a socket");
        }
    }

    async fn close(&self) {
        self.io.close().await;
    }
}
