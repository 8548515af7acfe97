//! store-server: the internal data service of the chat.
//!
//! It is the only component that reads or writes the chat collections, and it
//! is never exposed publicly: every data route needs the service token.
//!
//! - [`config`]: configuration from the environment.
//! - [`startup`]: [`startup::Application`], which binds, wires and serves.
//! - [`routes`]: the REST routes and their OpenAPI document.
//! - [`auth`]: the service-token check.
//! - [`db`]: MongoDB documents, indexes and queries.
//! - [`message_writer`]: group commit of new messages.
//! - [`attachments`]: files in messages: uploads into GridFS, downloads,
//!   thumbnails, the sweep.
//! - [`retention`]: how long a group's messages are kept, and the sweep
//!   that deletes them.
//! - [`state`]: what handlers share.

pub mod attachments;
pub mod auth;
pub mod config;
pub mod db;
pub mod message_writer;
pub mod retention;
pub mod routes;
pub mod startup;
pub mod state;
