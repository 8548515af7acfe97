//! The type of an upload, from its first bytes: never from its name or the
//! uploader's `Content-Type`, so a page named `cat.png` is `text/html` and
//! is served as a download.
//!
//! Formats come from the `infer` crate's signatures; what it does not know
//! is `text/plain` when it reads as UTF-8 text, else
//! `application/octet-stream`.

use chat_wire::attachments::UNKNOWN_TYPE;
use image::ImageFormat;

/// How many first bytes are looked at.
pub const SNIFF_BYTES: usize = 8 * 1024;

/// The media type of a file that starts with `head`.
pub fn content_type(head: &[u8]) -> String {
    if let Some(kind) = infer::get(head) {
        return kind.mime_type().to_owned();
    }
    if looks_like_text(head) {
        return "text/plain".to_owned();
    }
    UNKNOWN_TYPE.to_owned()
}

/// The decoder of a raster image type (the only types that get
/// dimensions and a thumbnail).
pub fn image_format(content_type: &str) -> Option<ImageFormat> {
    match content_type {
        "image/png" => Some(ImageFormat::Png),
        "image/jpeg" => Some(ImageFormat::Jpeg),
        "image/gif" => Some(ImageFormat::Gif),
        "image/webp" => Some(ImageFormat::WebP),
        _ => None,
    }
}

/// UTF-8 (a character cut at the end of `head` aside) without control
/// characters other than tabs, line and page breaks.
fn looks_like_text(head: &[u8]) -> bool {
    if head.is_empty() {
        return false;
    }
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        Err(err) if err.error_len().is_none() => {
            // Only the last character is incomplete.
            std::str::from_utf8(&head[..err.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    text.chars()
        .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r' | '\x0c'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bytes_decide_the_type_not_the_name() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(content_type(png), "image/png");
        assert_eq!(content_type(b"\xff\xd8\xff\xe0\0\x10JFIF"), "image/jpeg");
        assert_eq!(content_type(b"GIF89a\x01\0\x01\0"), "image/gif");
        assert_eq!(
            content_type(b"<!DOCTYPE html><html><script>alert(1)</script>"),
            "text/html"
        );
        assert_eq!(content_type(b"%PDF-1.7\n"), "application/pdf");
        assert_eq!(content_type("héllo\nworld".as_bytes()), "text/plain");
        assert_eq!(content_type(b"\0\x01\x02binary"), UNKNOWN_TYPE);
        assert_eq!(content_type(b""), UNKNOWN_TYPE);
    }

    #[test]
    fn a_character_cut_by_the_sniff_window_is_still_text() {
        let text = "é".repeat(10);
        let cut = &text.as_bytes()[..text.len() - 1];
        assert_eq!(content_type(cut), "text/plain");
    }

    #[test]
    fn only_raster_images_have_a_decoder() {
        assert_eq!(image_format("image/webp"), Some(ImageFormat::WebP));
        assert_eq!(image_format("image/svg+xml"), None);
        assert_eq!(image_format("text/html"), None);
    }
}
