//! Per-user limits that protect the service: how fast a user may send
//! messages and events ([`rate`]), and how many sockets they may hold
//! ([`sockets`]). All are per chat node; the dispatcher puts a user's
//! devices on one node.

pub mod rate;
pub mod sockets;
