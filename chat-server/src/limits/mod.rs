//! Limits that protect the service: how fast a user may send messages and
//! events ([`rate`]), how many sockets they may hold ([`sockets`]), and
//! what a peer may hold before it authenticates ([`pending`]). All are per
//! chat node; the dispatcher puts a user's devices on one node.

pub mod pending;
pub mod rate;
pub mod sockets;
