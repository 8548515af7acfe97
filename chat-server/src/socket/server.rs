//! The Socket.IO engine on the adapter the configuration chose: built and
//! wired into the HTTP router, registered in the cluster, drained and
//! closed the same way on one node (local adapter) and on several
//! (MongoDB adapter).

use super::connect::{authenticate, on_connect};
use super::expiry::{self, ExpiryQueue};
use super::request_head::own_socket_request_head;
use crate::cluster::adapter::{self, ClusterAdapter};
use crate::cluster::publisher::Publisher;
use crate::cluster::{drain, registry, transports};
use crate::config::{AdapterKind, ChatConfig};
use crate::state::AppState;
use anyhow::Context;
use axum::Router;
use socketioxide::adapter::{Adapter, LocalAdapter};
use socketioxide::handler::ConnectHandler;
use socketioxide::layer::SocketIoLayer;
use socketioxide::{SocketIo, SocketIoBuilder};
use std::time::Duration;
use tokio::task::AbortHandle;
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

/// The Socket.IO server of this node.
#[derive(Debug, Clone)]
pub enum SocketServer {
    /// One node: rooms live in this process.
    Local(SocketIo<LocalAdapter>),
    /// One node of several, sharing rooms through MongoDB, and the
    /// adapter's publisher.
    Cluster(SocketIo<ClusterAdapter>, Publisher),
}

impl SocketServer {
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
            .with_state(state.clone());
        match config.adapter {
            AdapterKind::Local => {
                let (layer, io) = builder.build_layer();
                io.ns(
                    "/",
                    on_connect::<LocalAdapter>.with(authenticate::<LocalAdapter>),
                );
                Ok((Self::Local(io), wrap(layer, router, state)))
            }
            AdapterKind::MongoDb => {
                let (layer, io, publisher) = cluster_builder(config, state, builder).await?;
                io.ns("/", on_connect::<ClusterAdapter>.with(authenticate::<ClusterAdapter>))
                    .await
                    .context("cannot start the MongoDB adapter's change stream (MongoDB must be a replica set)")?;
                Ok((Self::Cluster(io, publisher), wrap(layer, router, state)))
            }
        }
    }

    /// Starts the task that disconnects sockets whose token expired (see
    /// `socket::expiry`).
    pub fn spawn_expiry(&self, queue: ExpiryQueue) {
        match self {
            Self::Local(io) => tokio::spawn(expiry::run(io.clone(), queue)),
            Self::Cluster(io, _) => tokio::spawn(expiry::run(io.clone(), queue)),
        };
    }

    /// Starts this node's heartbeat and reaping (see `cluster::registry`).
    pub fn spawn_registry(&self, state: &AppState) -> AbortHandle {
        let state = state.clone();
        match self {
            Self::Local(io) => tokio::spawn(registry::run(io.clone(), state)).abort_handle(),
            Self::Cluster(io, _) => tokio::spawn(registry::run(io.clone(), state)).abort_handle(),
        }
    }

    /// Moves every client to another node, stops the heartbeat, and
    /// leaves the registry (see `cluster::drain`).
    pub async fn drain(&self, state: &AppState, spread: Duration, heartbeat: AbortHandle) {
        match self {
            Self::Local(io) => drain::drain(io, state, spread, heartbeat).await,
            Self::Cluster(io, _) => drain::drain(io, state, spread, heartbeat).await,
        }
    }

    /// Closes the sockets still here and the adapter, once the adapter
    /// published what this node broadcast last (waiting at most
    /// [`FLUSH_LIMIT`]).
    pub async fn close(&self) {
        match self {
            Self::Local(io) => io.close().await,
            Self::Cluster(io, publisher) => {
                if tokio::time::timeout(FLUSH_LIMIT, publisher.flushed())
                    .await
                    .is_err()
                {
                    tracing::error!("the adapter's last documents were not published in time");
                }
                io.close().await;
            }
        }
    }
}

/// The builder on the MongoDB adapter.
async fn cluster_builder(
    config: &ChatConfig,
    state: &AppState,
    builder: SocketIoBuilder,
) -> anyhow::Result<(
    SocketIoLayer<ClusterAdapter>,
    SocketIo<ClusterAdapter>,
    Publisher,
)> {
    let (constructor, publisher) = adapter::connect(
        &config.mongodb_uri,
        &config.mongodb_db,
        state.adapter.clone(),
        state.lifecycle.clone(),
    )
    .await
    .with_context(|| {
        format!(
            "CHAT_ADAPTER=mongodb: cannot reach MongoDB at MONGODB_URI={}",
            config.mongodb_uri
        )
    })?;
    let (layer, io) = builder
        .with_adapter::<ClusterAdapter>(constructor)
        .build_layer();
    Ok((layer, io, publisher))
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
            transports::track_transports,
        ))
        .layer(axum::middleware::map_request(own_socket_request_head))
}
