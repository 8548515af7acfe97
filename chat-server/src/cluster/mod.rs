//! Running as one node of several (and, with the local adapter, as the only
//! one): everything a node shares with the others or must tell them.
//!
//! - [`adapter`]: the MongoDB adapter that shares rooms and broadcasts,
//!   over a change stream this node watches over.
//! - [`publisher`]: inserting what the adapter publishes, in order and in
//!   batches, off the path of local delivery.
//! - [`presence`]: who is online, here and across the cluster, and the
//!   `online` / `offline` announcements.
//! - [`registry`]: this node's heartbeat in the node registry, and reaping
//!   the nodes that died.
//! - [`drain`]: moving every client to another node before exiting.
//! - [`transports`]: closing one socket's transport; refusing new sessions
//!   when the node cannot take them.
//! - [`lifecycle`]: registered, draining, stopping, and the work in flight.
//!
//! The cluster's shared state (registry, presence, queues) lives in the
//! store; only the adapter's own collection is opened here.

pub mod adapter;
pub mod drain;
pub mod lifecycle;
pub mod presence;
pub mod publisher;
pub mod registry;
pub mod transports;
