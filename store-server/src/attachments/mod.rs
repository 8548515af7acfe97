//! Files in messages, apart from their documents (`db::attachments`):
//! what an upload does with its body, how a download is served, and the
//! sweep. The bytes live in the GridFS bucket `attachments` of the same
//! database; nothing here ever holds a whole file in memory, but for an
//! image being decoded.
//!
//! - [`upload`]: the body streamed into GridFS within its limits, and
//!   cleaned up when anything stops it.
//! - [`sniff`]: the type from the first bytes.
//! - [`thumbnail`]: an image's dimensions and thumbnail, bounded.
//! - [`download`]: a file served whole or by range, with the headers that
//!   keep a browser from running it.
//! - [`sweep`]: removing what no message took.

pub mod download;
pub mod sniff;
pub mod sweep;
pub mod thumbnail;
pub mod upload;
