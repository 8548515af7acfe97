//! chat-server: the public face of the chat.
//!
//! Socket.IO (namespace `/`, polling and websocket) for real-time events, a
//! small REST gateway, and their Swagger docs. It never opens the chat
//! collections: every read and write goes through the store-server's HTTP
//! API ([`store_client`]). A user's identity always comes from their token.
//!
//! The modules, from the bottom up (a module uses only those above it in
//! this list, or its own layer's leaves):
//!
//! - leaves: [`config`] (settings, with clap), [`jwt`] (user tokens),
//!   [`session`] (what a socket knows of its user), [`metrics`]
//!   (Prometheus), [`location`] (which node a user belongs on),
//!   [`limits`] (rates, sockets per user, sessions waiting to
//!   authenticate), [`store_client`] (the typed client of the store),
//!   [`notify`] (offline notifications), [`attachments`] (signed links,
//!   upload bodies).
//! - [`rooms`]: the rooms of the cluster as one trait object, and every
//!   event the server sends.
//! - [`expiry`]: disconnecting sockets whose token expired.
//! - [`cluster`]: presence, the node registry, the MongoDB adapter and
//!   drains: what a node shares with the others.
//! - [`state`]: the handles every handler gets.
//! - [`events`]: the client events, one file each.
//! - [`store_changes`]: applying to this node's sockets what other
//!   services changed through the store (the store's change log).
//! - [`socket`]: a socket's connection outside its events: the engine's
//!   HTTP gate, the handshake, arrivals and departures.
//! - [`http`]: the REST gateway, the web client and the operational routes.
//! - [`engine`]: socketioxide on the chosen adapter; the only code generic
//!   over it.
//! - [`startup`]: [`startup::Application`], which binds, wires and serves.

pub mod attachments;
pub mod cluster;
pub mod config;
pub mod engine;
pub mod events;
pub mod expiry;
pub mod http;
pub mod jwt;
pub mod limits;
pub mod location;
pub mod metrics;
pub mod notify;
pub mod rooms;
pub mod session;
pub mod socket;
pub mod startup;
pub mod state;
pub mod store_changes;
pub mod store_client;
