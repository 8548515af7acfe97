//! Running as one node of several (and, with the local adapter, as the only
//! one): everything a node shares with the others or must tell them.
//!
//! - [`adapter`]: the MongoDB adapter that shares rooms and broadcasts,
//!   over a change stream this node watches over.
//! - [`publisher`]: inserting what the adapter publishes, in order and in
//!   batches, off the path of local delivery.
//! - [`presence`]: who is online, here and across the cluster, its writer
//!   task and the `online` / `offline` announcements.
//! - [`registry`]: this node's heartbeat in the node registry, and reaping
//!   the nodes that died.
//! - [`drain`]: moving every client to another node before exiting.
//! - [`transports`]: the connection each socket's transport runs on, to
//!   close it in a drain.
//! - [`lifecycle`]: registered, draining, hearing the others, stopping,
//!   and the work in flight.
//!
//! The cluster's shared state (registry, presence, queues) lives in the
//! store; only the adapter's own collection is opened here. Nothing here
//! reads the socket handlers or the whole `AppState`: the tasks get a
//! [`Cluster`], the handles they work with.

pub mod adapter;
pub mod drain;
pub mod lifecycle;
pub mod presence;
pub mod publisher;
pub mod registry;
pub mod transports;

use crate::location::NodeLocator;
use crate::metrics::ChatMetrics;
use crate::rooms::Rooms;
use crate::store_client::StoreClient;
use lifecycle::Lifecycle;
use presence::Presence;
use std::sync::Arc;
use transports::Transports;

/// This node's part in the cluster; cheap to clone.
#[derive(Debug, Clone)]
pub struct Node {
    /// Its id, and who is online here.
    pub presence: Presence,
    /// Registered, draining, hearing the others; work in flight.
    pub lifecycle: Lifecycle,
    /// Which node each user belongs on (`/chat/location`, `migrate`).
    pub locator: NodeLocator,
    /// The connections of the sockets' transports, for drains.
    pub transports: Transports,
}

/// What the cluster tasks work with: the node, the store it reports to,
/// its metrics and the rooms; cheap to clone.
#[derive(Clone)]
pub struct Cluster {
    /// This node.
    pub node: Node,
    /// The store, which holds the registry and presence.
    pub store: StoreClient,
    /// The node's metrics.
    pub metrics: ChatMetrics,
    /// The rooms of the cluster.
    pub rooms: Arc<dyn Rooms>,
}
