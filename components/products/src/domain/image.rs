//! A product's images: what an upload must be to be kept (a whole PNG, JPEG or WebP
//! file, told by its bytes, within the size and pixel limits), the alt text and order
//! an admin sets, the URL an image is served at, and an image as the API shows it.
//!
//! `spinshop migrate --demo` loads the demo catalog's pictures through the same rules.

use serde::{Deserialize, Serialize};
use spinshop_kit::digest::sha256_hex;
use spinshop_kit::{ApiError, ApiResult};

/// The largest image file taken, in bytes: a product photo for a web page is well
/// under it, and the request stays far below what Spin's platforms accept (Akamai
/// Functions: 10 MiB).
pub const MAX_IMAGE_BYTES: usize = 2 * 1024 * 1024;
/// The largest width and height, in pixels: a sharp picture on any screen the shop
/// is seen on.
pub const MAX_IMAGE_SIDE: u32 = 4096;
/// The most images one product shows (also a constraint on their positions, 0..7).
pub const MAX_IMAGES_PER_PRODUCT: i64 = 8;
pub const MAX_ALT_CHARS: usize = 300;
/// Where images are served, below the shop's origin: `<IMAGE_PATH>/<sha256>.<extension>`.
pub const IMAGE_PATH: &str = "/api/products/images";

/// The formats an image may be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Jpeg,
    WebP,
}

impl ImageFormat {
    const ALL: [ImageFormat; 3] = [ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::WebP];

    pub fn content_type(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::WebP => "image/webp",
        }
    }

    /// The extension of the URL it is served at.
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Jpeg => "jpg",
            ImageFormat::WebP => "webp",
        }
    }

    fn name(self) -> &'static str {
        match self {
            ImageFormat::Png => "PNG",
            ImageFormat::Jpeg => "JPEG",
            ImageFormat::WebP => "WebP",
        }
    }

    pub fn from_content_type(content_type: &str) -> Option<ImageFormat> {
        Self::ALL
            .into_iter()
            .find(|format| format.content_type() == content_type)
    }

    fn from_extension(extension: &str) -> Option<ImageFormat> {
        Self::ALL
            .into_iter()
            .find(|format| format.extension() == extension)
    }

    /// The format the bytes start as (their signature), whatever the file was called.
    fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ImageFormat::Png)
        } else if bytes.starts_with(b"\xff\xd8\xff") {
            Some(ImageFormat::Jpeg)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(ImageFormat::WebP)
        } else {
            None
        }
    }

    /// Whether the file is whole: a header that reads is not enough, since the
    /// dimensions come first and a cut-off file still has them. A PNG starts with
    /// its `IHDR` chunk and ends with its `IEND` chunk; a JPEG ends with its
    /// end-of-image marker (zero padding after it is tolerated); a WebP file is as
    /// long as its RIFF header says.
    fn is_whole(self, bytes: &[u8]) -> bool {
        match self {
            ImageFormat::Png => {
                const IEND: &[u8] = b"\0\0\0\0IEND\xae\x42\x60\x82";
                bytes.get(12..16) == Some(b"IHDR") && bytes.ends_with(IEND)
            }
            ImageFormat::Jpeg => {
                let end = bytes.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
                bytes[..end].ends_with(b"\xff\xd9")
            }
            ImageFormat::WebP => {
                let declared = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
                usize::try_from(declared).is_ok_and(|size| size.checked_add(8) == Some(bytes.len()))
            }
        }
    }
}

/// An uploaded file that passed every check, ready to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageUpload {
    pub bytes: Vec<u8>,
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
    /// The SHA-256 of the bytes, in hex: the image's key and the name it is served by.
    pub sha256: String,
}

impl ImageUpload {
    /// Checks a file by its content alone: a PNG, JPEG or WebP file (415 for
    /// anything else), whole and with readable dimensions (422), of at most
    /// [`MAX_IMAGE_BYTES`] (413) and 1 to [`MAX_IMAGE_SIDE`] pixels each way (422).
    pub fn parse(bytes: Vec<u8>) -> ApiResult<ImageUpload> {
        if bytes.is_empty() {
            return Err(ApiError::validation(
                "the request body must be the image file's bytes (PNG, JPEG or WebP); it is empty",
            ));
        }
        if bytes.len() > MAX_IMAGE_BYTES {
            return Err(ApiError::PayloadTooLarge {
                limit: MAX_IMAGE_BYTES,
            });
        }
        let format = ImageFormat::sniff(&bytes).ok_or_else(|| {
            ApiError::UnsupportedMediaType(
                "the file is not a PNG, JPEG or WebP image (its content decides, not its name \
                 or Content-Type)"
                    .into(),
            )
        })?;
        let damaged = || {
            ApiError::Unprocessable(format!(
                "the {} image is damaged or cut short: it can't be read whole",
                format.name()
            ))
        };
        let size = imagesize::blob_size(&bytes).map_err(|_| damaged())?;
        if !format.is_whole(&bytes) {
            return Err(damaged());
        }
        let side = |pixels: usize| u32::try_from(pixels).unwrap_or(u32::MAX);
        let (width, height) = (side(size.width), side(size.height));
        if width == 0 || height == 0 {
            return Err(ApiError::Unprocessable(format!(
                "the image is {width}×{height} pixels: it has no pixels to show"
            )));
        }
        if width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE {
            return Err(ApiError::Unprocessable(format!(
                "the image is {width}×{height} pixels; at most \
                 {MAX_IMAGE_SIDE}×{MAX_IMAGE_SIDE} are accepted"
            )));
        }
        let sha256 = sha256_hex(&[&bytes]);
        Ok(ImageUpload {
            bytes,
            format,
            width,
            height,
            sha256,
        })
    }
}

/// An image's text alternative: trimmed, at most [`MAX_ALT_CHARS`] characters; empty
/// when the admin gave none (the storefront then names the product).
pub fn parse_alt(raw: &str) -> ApiResult<String> {
    let alt = raw.trim();
    if alt.chars().count() > MAX_ALT_CHARS {
        return Err(ApiError::invalid_field(
            "alt",
            format!("alt must be at most {MAX_ALT_CHARS} characters"),
        ));
    }
    Ok(alt.to_string())
}

/// A change to one of a product's images, as sent.
pub struct ImagePatchFields<'a> {
    pub alt: Option<&'a str>,
    pub position: Option<i64>,
}

/// A validated change: new alt text, a new place in the product's order, or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImagePatch {
    pub alt: Option<String>,
    /// 0 is first; a place past the last one means last.
    pub position: Option<i32>,
}

impl ImagePatch {
    pub fn parse(fields: ImagePatchFields) -> ApiResult<ImagePatch> {
        let position = match fields.position {
            Some(position) if position < 0 => {
                return Err(ApiError::invalid_field(
                    "position",
                    "position must be 0 (first) or more",
                ));
            }
            Some(position) => Some(position.min(MAX_IMAGES_PER_PRODUCT - 1) as i32),
            None => None,
        };
        let patch = ImagePatch {
            alt: fields.alt.map(parse_alt).transpose()?,
            position,
        };
        if patch.alt.is_none() && patch.position.is_none() {
            return Err(ApiError::validation(
                "nothing to update: send alt, position or both",
            ));
        }
        Ok(patch)
    }
}

/// The path an image is served at: its content hash and its format's extension,
/// so the URL changes whenever the bytes do and a cache may keep it for good.
pub fn image_url(sha256: &str, format: ImageFormat) -> String {
    format!("{IMAGE_PATH}/{sha256}.{}", format.extension())
}

/// The last segment of an image's URL, `<sha256>.<extension>`, read back: the hash
/// (64 lower-case hex digits) and the format; `None` names no image.
pub fn parse_image_name(name: &str) -> Option<(&str, ImageFormat)> {
    let (sha256, extension) = name.split_once('.')?;
    let is_hash = sha256.len() == 64
        && sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    Some((sha256, ImageFormat::from_extension(extension)?)).filter(|_| is_hash)
}

/// One of a product's images as the API shows it, in the product's `images`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProductImage {
    /// Names it for the admin's changes (`PATCH`/`DELETE .../images/{id}`).
    pub id: i64,
    pub url: String,
    pub alt: String,
    pub width: u32,
    pub height: u32,
}

/// An image as the store reads it (one element of the aggregated `images` column).
#[derive(Debug, Deserialize)]
pub struct StoredImage {
    pub id: i64,
    pub sha256: String,
    pub content_type: String,
    pub alt: String,
    pub width: u32,
    pub height: u32,
}

impl StoredImage {
    pub fn into_product_image(self) -> ApiResult<ProductImage> {
        let format = ImageFormat::from_content_type(&self.content_type).ok_or_else(|| {
            ApiError::internal(format!("stored image of type {}", self.content_type))
        })?;
        Ok(ProductImage {
            id: self.id,
            url: image_url(&self.sha256, format),
            alt: self.alt,
            width: self.width,
            height: self.height,
        })
    }
}
