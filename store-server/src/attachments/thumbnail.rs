//! Dimensions and a thumbnail of an uploaded image, bounded in memory and
//! in time.
//!
//! The image crate reads the dimensions from the header first, and refuses
//! one over [`MAX_SIDE`] on a side, or whose pixels would take more than
//! [`MAX_DECODE_BYTES`], before it allocates anything (`image::Limits`): a
//! PNG whose header claims 100,000 × 100,000 pixels is refused, never
//! decoded. Decoding runs on the blocking pool, one image at a time per
//! store (a decode is CPU-bound; more at once would only share the cores),
//! and a caller stops waiting after [`DECODE_TIMEOUT`].
//!
//! A file that is not a readable image after all (a valid signature, then
//! garbage) is kept, without thumbnail; without dimensions when even its
//! header does not read (the upload then serves it as a download).

use chat_wire::attachments::THUMBNAIL_MAX_SIDE;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{DynamicImage, ImageError, ImageFormat, ImageReader, Limits};
use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// The longest side of an image that gets a thumbnail, in pixels.
pub const MAX_SIDE: u32 = 16_384;
/// The most memory one decode may take, in bytes.
pub const MAX_DECODE_BYTES: u64 = 192 * 1024 * 1024;
/// The largest image file read to make a thumbnail, in bytes; a larger
/// image is refused.
pub const MAX_IMAGE_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// How long a caller waits for a decode.
pub const DECODE_TIMEOUT: Duration = Duration::from_secs(30);
/// JPEG quality of thumbnails.
const JPEG_QUALITY: u8 = 80;

/// An encoded thumbnail.
#[derive(Debug, Clone)]
pub struct Encoded {
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// `image/jpeg`, or `image/png` when the image has transparency.
    pub content_type: &'static str,
}

/// What was learnt of an image.
#[derive(Debug, Clone, Default)]
pub struct Inspected {
    /// Its dimensions, when its header could be read.
    pub dimensions: Option<(u32, u32)>,
    /// Its thumbnail, when it could be decoded.
    pub thumbnail: Option<Encoded>,
}

/// Why an image was refused.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// Over a limit: too many pixels, too much memory, too large a file.
    #[error("{0}")]
    TooLarge(String),
    /// The decode did not end in time, or its task failed.
    #[error("the image could not be processed in time")]
    Unfinished,
}

/// Makes thumbnails one at a time; cheap to clone.
#[derive(Debug, Clone)]
pub struct Thumbnailer {
    permits: Arc<Semaphore>,
}

impl Default for Thumbnailer {
    fn default() -> Self {
        Self {
            permits: Arc::new(Semaphore::new(1)),
        }
    }
}

impl Thumbnailer {
    /// Reads the dimensions of `bytes` (an image of `format`) and makes its
    /// thumbnail, on the blocking pool. The permit is held until the decode
    /// really ends, even if the caller stopped waiting.
    pub async fn inspect(&self, bytes: Vec<u8>, format: ImageFormat) -> Result<Inspected, Refused> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Refused::Unfinished)?;
        let task = tokio::task::spawn_blocking(move || {
            let inspected = inspect(&bytes, format);
            drop(permit);
            inspected
        });
        match tokio::time::timeout(DECODE_TIMEOUT, task).await {
            Ok(Ok(inspected)) => inspected,
            Ok(Err(err)) => {
                tracing::error!(error = %err, "an image decode failed");
                Err(Refused::Unfinished)
            }
            Err(_) => Err(Refused::Unfinished),
        }
    }
}

fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    limits
}

fn reader(bytes: &[u8], format: ImageFormat) -> ImageReader<Cursor<&[u8]>> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits());
    reader
}

fn too_large(err: &ImageError) -> Option<Refused> {
    match err {
        ImageError::Limits(limit) => Some(Refused::TooLarge(format!(
            "the image is too large to process ({limit}); at most {MAX_SIDE} pixels a side and \
             {} MiB decoded",
            MAX_DECODE_BYTES >> 20
        ))),
        _ => None,
    }
}

/// Reads the header, then decodes and scales (blocking).
pub fn inspect(bytes: &[u8], format: ImageFormat) -> Result<Inspected, Refused> {
    let dimensions = match reader(bytes, format).into_dimensions() {
        Ok(dimensions) => dimensions,
        Err(err) => return too_large(&err).map_or(Ok(Inspected::default()), Err),
    };
    // Four bytes a pixel is the most a decoded raster of these formats
    // takes: refused here whatever a decoder would reserve.
    let (width, height) = dimensions;
    if u64::from(width) * u64::from(height) * 4 > MAX_DECODE_BYTES {
        return Err(Refused::TooLarge(format!(
            "the image is too large to process ({width} × {height} pixels); at most {} \
             million pixels",
            MAX_DECODE_BYTES / 4 / 1_000_000
        )));
    }
    let image = match reader(bytes, format).decode() {
        Ok(image) => image,
        Err(err) => {
            return match too_large(&err) {
                Some(refused) => Err(refused),
                None => Ok(Inspected {
                    dimensions: Some(dimensions),
                    thumbnail: None,
                }),
            };
        }
    };
    Ok(Inspected {
        dimensions: Some(dimensions),
        thumbnail: encode(&image),
    })
}

/// The image scaled down to fit [`THUMBNAIL_MAX_SIDE`] (never up), as JPEG,
/// or PNG when it has transparency.
fn encode(image: &DynamicImage) -> Option<Encoded> {
    let side = THUMBNAIL_MAX_SIDE;
    let small = if image.width() > side || image.height() > side {
        image.thumbnail(side, side)
    } else {
        image.clone()
    };
    let mut bytes = Vec::new();
    let content_type = if small.color().has_alpha() {
        small
            .to_rgba8()
            .write_with_encoder(PngEncoder::new(&mut bytes))
            .ok()?;
        "image/png"
    } else {
        small
            .to_rgb8()
            .write_with_encoder(JpegEncoder::new_with_quality(&mut bytes, JPEG_QUALITY))
            .ok()?;
        "image/jpeg"
    };
    Some(Encoded {
        bytes,
        width: small.width(),
        height: small.height(),
        content_type,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageBuffer, Rgb, Rgba};

    fn png(width: u32, height: u32, alpha: bool) -> Vec<u8> {
        let mut bytes = Vec::new();
        let encoder = PngEncoder::new(&mut bytes);
        if alpha {
            ImageBuffer::from_pixel(width, height, Rgba([1u8, 2, 3, 4]))
                .write_with_encoder(encoder)
                .unwrap();
        } else {
            ImageBuffer::from_pixel(width, height, Rgb([1u8, 2, 3]))
                .write_with_encoder(encoder)
                .unwrap();
        }
        bytes
    }

    /// A PNG signature and header claiming `width` × `height`, then the
    /// start of a compressed stream: what a decompression bomb starts with.
    pub fn png_header(width: u32, height: u32) -> Vec<u8> {
        let mut header = width.to_be_bytes().to_vec();
        header.extend(height.to_be_bytes());
        header.extend([8, 2, 0, 0, 0]);
        let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
        chunk(&mut bytes, b"IHDR", &header);
        chunk(&mut bytes, b"IDAT", &[0x78, 0x9c]);
        bytes
    }

    fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        let mut body = kind.to_vec();
        body.extend(data);
        png.extend((data.len() as u32).to_be_bytes());
        png.extend(&body);
        png.extend(crc32(&body).to_be_bytes());
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &byte in data {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn a_large_image_gets_a_thumbnail_of_320_on_its_long_side() {
        let inspected = inspect(&png(1000, 500, false), ImageFormat::Png).unwrap();
        assert_eq!(inspected.dimensions, Some((1000, 500)));
        let thumbnail = inspected.thumbnail.unwrap();
        assert_eq!((thumbnail.width, thumbnail.height), (320, 160));
        assert_eq!(thumbnail.content_type, "image/jpeg");
        assert!(thumbnail.bytes.starts_with(b"\xff\xd8"));
    }

    #[test]
    fn a_small_image_is_not_scaled_up_and_transparency_stays_png() {
        let thumbnail = inspect(&png(40, 30, true), ImageFormat::Png)
            .unwrap()
            .thumbnail
            .unwrap();
        assert_eq!((thumbnail.width, thumbnail.height), (40, 30));
        assert_eq!(thumbnail.content_type, "image/png");
    }

    #[test]
    fn a_header_claiming_100000_by_100000_pixels_is_refused_without_decoding() {
        let refused = inspect(&png_header(100_000, 100_000), ImageFormat::Png).unwrap_err();
        assert!(matches!(refused, Refused::TooLarge(_)), "{refused:?}");
        // Within the sides but over the memory bound: refused too.
        let refused = inspect(&png_header(16_000, 16_000), ImageFormat::Png).unwrap_err();
        assert!(matches!(refused, Refused::TooLarge(_)), "{refused:?}");
    }

    #[test]
    fn a_broken_image_is_kept_without_a_thumbnail() {
        let mut broken = png_header(10, 10);
        broken.extend(b"garbage, not IDAT");
        let inspected = inspect(&broken, ImageFormat::Png).unwrap();
        assert!(inspected.thumbnail.is_none());
        let inspected = inspect(b"\x89PNG\r\n\x1a\nshort", ImageFormat::Png).unwrap();
        assert_eq!(inspected.dimensions, None);
    }
}
