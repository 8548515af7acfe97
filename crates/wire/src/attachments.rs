//! Files and images in messages: the attachment's metadata as every API
//! answers it, the rules on names and on how many a message holds, and
//! which types a browser may show inline.
//!
//! The bytes themselves never travel in these types: they are uploaded and
//! downloaded as raw HTTP bodies (docs/chat-api.md, "Attachments").

use crate::ids::{EntityId, Up};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The most attachments one message carries.
pub const MAX_ATTACHMENTS_PER_MESSAGE: usize = 10;
/// The largest attachment by default, in bytes (25 MiB).
pub const DEFAULT_MAX_ATTACHMENT_BYTES: u64 = 26_214_400;
/// What one user may store by default, in bytes (1 GiB).
pub const DEFAULT_ATTACHMENT_QUOTA_BYTES: u64 = 1_073_741_824;
/// The longest file name kept, in characters.
pub const MAX_NAME_CHARS: usize = 255;
/// The longest side of a thumbnail, in pixels.
pub const THUMBNAIL_MAX_SIDE: u32 = 320;
/// The name of a file uploaded without one.
pub const DEFAULT_NAME: &str = "file";
/// The type of bytes whose format is not recognised.
pub const UNKNOWN_TYPE: &str = "application/octet-stream";

/// The raster image types: the only ones that get dimensions and a
/// thumbnail, and the only ones served inline (every other type is served
/// as a download, since a browser could run it: HTML, SVG, XML, PDF).
pub const INLINE_TYPES: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/// Whether a file of `content_type` may be shown inline by a browser.
pub fn is_inline(content_type: &str) -> bool {
    INLINE_TYPES.contains(&content_type)
}

/// A file attached to a message, or uploaded to be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    /// The attachment's id (24 hex).
    #[schema(value_type = crate::ids::AnsweredId)]
    pub id: EntityId,
    /// The file name the uploader gave (no path), for downloads.
    pub name: String,
    /// The media type, sniffed from the bytes (`application/octet-stream`
    /// when unknown); never the uploader's word.
    #[serde(rename = "type")]
    #[schema(example = "image/png")]
    pub content_type: String,
    /// The size in bytes.
    pub size: u64,
    /// The width in pixels, for images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// The height in pixels, for images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// A small version of an image (at most 320 px on its long side).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<Thumbnail>,
    /// Where to download it without a token: a short-lived signed path on
    /// the chat-server (`/chat/attachment/{id}?exp=…&sig=…`). Only on the
    /// chat-server's answers; never stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// The thumbnail of an image attachment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Thumbnail {
    /// Its width in pixels.
    pub width: u32,
    /// Its height in pixels.
    pub height: u32,
    /// Its media type (`image/jpeg`, or `image/png` for images with
    /// transparency).
    #[serde(rename = "type")]
    #[schema(example = "image/jpeg")]
    pub content_type: String,
    /// Where to download it without a token (as [`Attachment::url`]); only
    /// on the chat-server's answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// `POST /attachment`: where an upload goes and what bounds it. The body
/// is the file's bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The group it is uploaded to; `uploader` must be a member.
    #[param(value_type = EntityId, inline)]
    pub group: EntityId,
    /// Who uploads it.
    #[param(value_type = Up, inline)]
    pub uploader: Up,
    /// The file name (a path is cut to its last segment; at most 255
    /// characters, no control characters); `file` when absent.
    #[serde(default)]
    #[param(max_length = 255, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub name: Option<String>,
    /// The largest file accepted for this upload, in bytes (default:
    /// `STORE_MAX_ATTACHMENT_BYTES`).
    #[serde(default)]
    #[param(minimum = 1, maximum = 4294967296_u64)]
    pub max_bytes: Option<u64>,
    /// The bytes `uploader` may keep in attachments, this one included
    /// (default: `STORE_ATTACHMENT_QUOTA_BYTES`).
    #[serde(default)]
    #[param(minimum = 1)]
    pub quota_bytes: Option<u64>,
}

/// `GET /attachment/{id}` (and its thumbnail and metadata): for whom.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReaderQuery {
    /// When given, the answer is `403 permission_denied` unless this user
    /// is a member of the attachment's group now.
    #[serde(default)]
    #[param(value_type = Option<Up>, inline)]
    pub up: Option<Up>,
}

/// Why a list of attachment ids or a file name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttachmentError {
    /// More than [`MAX_ATTACHMENTS_PER_MESSAGE`] ids.
    #[error("a message carries at most {MAX_ATTACHMENTS_PER_MESSAGE} attachments, got {0}")]
    TooMany(usize),
    /// The same id twice.
    #[error("attachment {0} is listed twice")]
    Repeated(EntityId),
    /// A name with control characters, or too long.
    #[error("`name` must be 1 to {MAX_NAME_CHARS} characters without control characters")]
    BadName,
}

/// Checks the attachment ids of a new message: at most
/// [`MAX_ATTACHMENTS_PER_MESSAGE`], none twice.
pub fn check_ids(ids: &[EntityId]) -> Result<(), AttachmentError> {
    if ids.len() > MAX_ATTACHMENTS_PER_MESSAGE {
        return Err(AttachmentError::TooMany(ids.len()));
    }
    for (index, id) in ids.iter().enumerate() {
        if ids[..index].contains(id) {
            return Err(AttachmentError::Repeated(id.clone()));
        }
    }
    Ok(())
}

/// The name kept for an upload: the last segment of what the uploader sent
/// (a client may send a path), trimmed, 1 to [`MAX_NAME_CHARS`] characters
/// without control characters; [`DEFAULT_NAME`] when absent or blank.
pub fn parse_name(raw: Option<&str>) -> Result<String, AttachmentError> {
    let Some(raw) = raw else {
        return Ok(DEFAULT_NAME.to_owned());
    };
    let last = raw.rsplit(['/', '\\']).next().unwrap_or(raw).trim();
    if last.is_empty() || last == "." || last == ".." {
        return Ok(DEFAULT_NAME.to_owned());
    }
    if last.chars().count() > MAX_NAME_CHARS || last.chars().any(char::is_control) {
        return Err(AttachmentError::BadName);
    }
    Ok(last.to_owned())
}

/// The `Content-Disposition` of a download: `inline` for the raster image
/// types, `attachment` for everything else; the name both as plain ASCII
/// (quotes and non-ASCII replaced) and as RFC 8187 UTF-8.
pub fn content_disposition(content_type: &str, name: &str) -> String {
    let kind = if is_inline(content_type) {
        "inline"
    } else {
        "attachment"
    };
    let ascii: String = name
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' => c,
            _ => '_',
        })
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for byte in name.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' | b'~' => {
                encoded.push(byte as char);
            }
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> EntityId {
        EntityId::parse(format!("65f0c0ffee0000000000ab{n:02x}")).unwrap()
    }

    #[test]
    fn ten_distinct_ids_pass_and_more_or_repeated_ones_do_not() {
        let ten: Vec<EntityId> = (0..10).map(id).collect();
        assert!(check_ids(&ten).is_ok());
        let eleven: Vec<EntityId> = (0..11).map(id).collect();
        assert_eq!(check_ids(&eleven), Err(AttachmentError::TooMany(11)));
        assert_eq!(
            check_ids(&[id(1), id(2), id(1)]),
            Err(AttachmentError::Repeated(id(1)))
        );
    }

    #[test]
    fn a_name_keeps_only_its_last_segment_and_refuses_control_characters() {
        assert_eq!(
            parse_name(Some("C:\\Users\\me\\cat.png")).unwrap(),
            "cat.png"
        );
        assert_eq!(parse_name(Some("../../etc/passwd")).unwrap(), "passwd");
        assert_eq!(parse_name(Some("  report.pdf ")).unwrap(), "report.pdf");
        assert_eq!(parse_name(None).unwrap(), DEFAULT_NAME);
        assert_eq!(parse_name(Some("dir/")).unwrap(), DEFAULT_NAME);
        assert_eq!(parse_name(Some("a\nb")), Err(AttachmentError::BadName));
        assert!(parse_name(Some(&"é".repeat(256))).is_err());
    }

    #[test]
    fn only_raster_images_are_inline_and_names_are_escaped() {
        assert_eq!(
            content_disposition("image/png", "chat \"cat\".png"),
            "inline; filename=\"chat _cat_.png\"; filename*=UTF-8''chat%20%22cat%22.png"
        );
        for download in [
            "text/html",
            "image/svg+xml",
            "application/pdf",
            UNKNOWN_TYPE,
        ] {
            assert!(content_disposition(download, "x").starts_with("attachment;"));
        }
        assert!(content_disposition("image/jpeg", "é.jpg").contains("UTF-8''%C3%A9.jpg"));
    }
}
