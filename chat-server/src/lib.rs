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
//! - [`jwt`]: user tokens; [`presence`]: who is online here;
//!   [`location`]: which node a user belongs on; [`metrics`]: Prometheus;
//!   [`rate_limit`]: the per-user message rate; [`notify`]: offline
//!   notifications; [`matchmaking`]: the pairing queues.

pub mod config;
pub mod http;
pub mod jwt;
pub mod location;
pub mod matchmaking;
pub mod metrics;
pub mod notify;
pub mod presence;
pub mod rate_limit;
pub mod socket;
pub mod startup;
pub mod state;
pub mod store_client;
