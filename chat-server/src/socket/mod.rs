//! The Socket.IO side: namespace `/`, handshake auth, rooms, presence and
//! chat events. Handlers are generic over the socketioxide adapter, so the
//! same code runs on one node (local adapter) or many (MongoDB adapter);
//! [`server`] builds the engine on the adapter the configuration chose.

pub mod ack;
pub mod budget;
pub mod connect;
pub mod direct;
pub mod edits;
pub mod expiry;
pub mod matching;
pub mod messages;
pub mod moderation;
pub mod receipts;
pub mod recovery;
pub mod relay;
pub mod request_head;
pub mod rooms;
pub mod server;
pub mod session;
