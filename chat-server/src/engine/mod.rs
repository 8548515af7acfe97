//! The Socket.IO engine (socketioxide) on the adapter the configuration
//! chose: the one part of the chat-server written against socketioxide's
//! types, which are generic over the adapter. Everything else sees the
//! engine as the [`Rooms`] trait object and the events as
//! [`crate::events::Event`]s.
//!
//! - [`sockets`]: [`Rooms`] on the engine.
//! - [`events`]: registering the client events on a socket.
//! - [`connection`]: the handshake, the connect and disconnect handlers.

pub mod connection;
pub mod events;
pub mod sockets;

use crate::cluster::adapter::{self, ClusterAdapter};
use crate::cluster::publisher::Publisher;
use crate::config::{AdapterKind, ChatConfig};
use crate::rooms::Rooms;
use crate::socket::gate::engine_gate;
use crate::socket::request_head::own_socket_request_head;
use crate::state::AppState;
use anyhow::Context;
use axum::Router;
use connection::{authenticate, on_connect};
use socketioxide::SocketIo;
use socketioxide::adapter::{Adapter, LocalAdapter};
use socketioxide::handler::ConnectHandler;
use socketioxide::layer::SocketIoLayer;
use sockets::{EngineRooms, Publishing};
use std::sync::Arc;
use std::time::Duration;
use tower::Layer;

/// The largest Socket.IO payload, in bytes (a 4000-character message fits).
const MAX_SOCKET_PAYLOAD: u64 = 64 * 1024;
/// Bytes each WebSocket reads at a time. Client frames are small (an event
/// is a few hundred bytes), and this buffer is held by every idle socket: a
/// quarter of engineioxide's 4 KiB default saves 3 KiB per connection. A
/// larger frame grows its own buffer to fit.
const WS_READ_BUFFER: usize = 1024;
/// How long closing waits for the adapter to publish what is queued.
const FLUSH_LIMIT: Duration = Duration::from_secs(10);

/// The running engine.
pub struct Engine {
    /// Its rooms.
    pub rooms: Arc<dyn Rooms>,
    /// The adapter's publisher, with several nodes.
    publisher: Option<Publisher>,
}

impl Engine {
    /// Builds the engine, registers the `/` namespace, and puts `router`
    /// behind it.
    pub async fn build(
        config: &ChatConfig,
        state: &AppState,
        router: Router,
    ) -> anyhow::Result<(Self, Router)> {
        let builder = SocketIo::builder()
            .max_payload(MAX_SOCKET_PAYLOAD)
            .ws_max_message_size(MAX_SOCKET_PAYLOAD as usize)
            // A frame is capped too, not only a message: the default 16 MiB
            // frame could be sent before any authentication.
            .ws_max_frame_size(MAX_SOCKET_PAYLOAD as usize)
            .ws_read_buffer_size(WS_READ_BUFFER)
            // A session whose socket is not connected by then is closed
            // (a refused token, or no CONNECT at all): see `limits::pending`.
            .connect_timeout(config.connect_timeout())
            .with_state(state.clone());
        match config.adapter {
            AdapterKind::Local => {
                let (layer, io) = builder.with_state(Publishing(None)).build_layer();
                io.ns(
                    "/",
                    on_connect::<LocalAdapter>.with(authenticate::<LocalAdapter>),
                );
                let engine = Self {
                    rooms: Arc::new(EngineRooms::new(io, None)),
                    publisher: None,
                };
                Ok((engine, wrap(layer, router, state)))
            }
            AdapterKind::MongoDb => {
                let (constructor, publisher) = adapter::connect(
                    config.mongodb_uri.expose(),
                    &config.mongodb_db,
                    state.node.lifecycle.clone(),
                )
                .await
                .with_context(|| {
                    format!(
                        "CHAT_ADAPTER=mongodb: cannot reach MongoDB at MONGODB_URI={}",
                        config.mongodb_uri
                    )
                })?;
                let (layer, io) = builder
                    .with_state(Publishing(Some(publisher.clone())))
                    .with_adapter::<ClusterAdapter>(constructor)
                    .build_layer();
                io.ns("/", on_connect::<ClusterAdapter>.with(authenticate::<ClusterAdapter>))
                    .await
                    .context("cannot start the MongoDB adapter's change stream (MongoDB must be a replica set)")?;
                let engine = Self {
                    rooms: Arc::new(EngineRooms::new(io, Some(publisher.clone()))),
                    publisher: Some(publisher),
                };
                Ok((engine, wrap(layer, router, state)))
            }
        }
    }

    /// Closes the sockets still here and the adapter, once the adapter
    /// published what this node broadcast last (waiting at most
    /// [`FLUSH_LIMIT`]).
    pub async fn close(&self) {
        if let Some(publisher) = &self.publisher
            && tokio::time::timeout(FLUSH_LIMIT, publisher.flushed())
                .await
                .is_err()
        {
            tracing::error!("the adapter's last documents were not published in time");
        }
        self.rooms.close().await;
    }
}

/// `router` behind the Socket.IO layer. The layer owns the engine's
/// sessions: it must wrap the whole router exactly once (a per-route layer
/// would give each route its own engine and lose sessions between
/// requests).
fn wrap<A: Adapter>(layer: SocketIoLayer<A>, router: Router, state: &AppState) -> Router {
    Router::new()
        .fallback_service(layer.layer(router))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            engine_gate,
        ))
        .layer(axum::middleware::map_request(own_socket_request_head))
}
