//! A socket's connection, outside of its events: the HTTP gate of the
//! engine ([`gate`]: who may open a session, and each session's carrier),
//! the handshake ([`auth`]) and its reads of group ids, many handshakes at
//! once ([`group_ids`]), what an arrival and a departure change on the
//! node ([`arrival`]), and the request head each socket keeps
//! ([`request_head`]).

pub mod arrival;
pub mod auth;
pub mod gate;
pub mod group_ids;
pub mod request_head;
