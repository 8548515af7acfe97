//! The Socket.IO side: namespace `/`, handshake auth, rooms, presence and
//! chat events. Handlers are generic over the socketioxide adapter, so the
//! same code runs on one node (local adapter) or many (MongoDB adapter).

pub mod ack;
pub mod connect;
pub mod direct;
pub mod edits;
pub mod matching;
pub mod messages;
pub mod moderation;
pub mod receipts;
pub mod recovery;
pub mod relay;
pub mod request_head;
pub mod rooms;
pub mod session;

use socketioxide::SocketIo;
use socketioxide::adapter::LocalAdapter;
use socketioxide::handler::ConnectHandler;

/// Registers the `/` namespace on a single-node server.
pub fn register(io: &SocketIo) {
    io.ns(
        "/",
        connect::on_connect::<LocalAdapter>.with(connect::authenticate::<LocalAdapter>),
    );
}
