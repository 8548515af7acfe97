//! End-to-end tests of the whole stack in one process: a real store-server on
//! the real MongoDB-wire server, a real chat-server, and a Socket.IO client
//! written by others (`rust_socketio`). The store is reached over HTTP.

mod adapter_publisher;
mod client;
mod rest_gateway;
mod silent_peers;
mod sockets;
mod stack;
