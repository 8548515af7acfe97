//! The wire types of the chat system, defined once and shared by every service.
//!
//! Everything here is what travels as JSON between clients, the chat-server and
//! the store-server: the resources ([`model`]), the request bodies
//! ([`requests`]), the paging envelope and query ([`paging`]), the error body
//! ([`error`]), the validated identifiers ([`ids`]), files in messages
//! ([`attachments`]), who a message mentions ([`mentions`]), users'
//! display names ([`names`]), how long a group's messages are kept
//! ([`retention`]) and what chat nodes and
//! the store say about the cluster ([`cluster`]), the store's change log
//! ([`changes`]), blocking and hiding presence ([`privacy`]) and searching
//! messages by words ([`search`]). This crate never talks
//! to a database or a socket: it only parses, validates and (de)serialises, so
//! that the chat-server can use it without linking any MongoDB code.

pub mod attachments;
pub mod changes;
pub mod cluster;
pub mod error;
pub mod events;
pub mod ids;
pub mod mentions;
pub mod model;
pub mod names;
pub mod paging;
pub mod privacy;
pub mod requests;
pub mod retention;
pub mod schema;
pub mod search;
pub mod time;
pub mod whole;

pub use error::{ErrorBody, ErrorCode, ErrorDetail};
pub use ids::{EntityId, Up};
pub use model::{Group, GroupKind, Message, User};
pub use paging::{Page, PageQuery, PageRequest, Position};
