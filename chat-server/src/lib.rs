//! chat-server: the public face of the chat.
//!
//! Socket.IO (namespace `/`, polling and websocket) for real-time events, a
//! small REST gateway, and their Swagger docs. It never opens the chat
//! collections: every read and write goes through the store-server's HTTP
//! API ([`store_client`]). A user's identity always comes from their token.
//!
//! - [`config`]: configuration from the environment.
//! - [`startup`]: [`startup::Application`], which binds, wires and serves.
//! - [`socket`]: handshake auth, rooms, presence and chat events.
//! - [`http`]: the REST gateway and operational routes.
//! - [`store_client`]: the typed client of the store.
//! - [`cluster`]: presence, the node registry, the MongoDB adapter and
//!   drains: what a node shares with the others.
//! - [`jwt`]: user tokens; [`location`]: which node a user belongs on
//!   (the dispatcher); [`metrics`]: Prometheus; [`limits`]: per-user
//!   rates and sockets; [`notify`]: offline notifications.

pub mod cluster;
pub mod config;
pub mod http;
pub mod jwt;
pub mod limits;
pub mod location;
pub mod metrics;
pub mod notify;
pub mod socket;
pub mod startup;
pub mod state;
pub mod store_client;
