//! Files in messages, on the chat-server's side: the bytes pass through,
//! streamed between the client and the store (which keeps them in GridFS
//! and checks who may read them), never held whole here.
//!
//! - [`urls`]: the signed download links every attachment carries.
//! - [`upload_body`]: the file of an upload request (raw or multipart),
//!   as a stream bounded by `CHAT_MAX_ATTACHMENT_BYTES`.

pub mod upload_body;
pub mod urls;
