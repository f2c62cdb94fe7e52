//! Every QR code in an image: PNG/JPEG files, screenshots, or raw luma buffers.
//!
//! Decoding uses `rxing` (a port of ZXing and zxing-cpp). Passes, stopping at the first that
//! finds anything: zxing-cpp's QR detector on the hybrid (local threshold) binarizer, then on
//! the global-histogram binarizer, then both again on inverted colours (light modules on a
//! dark background, as dark-mode screenshots show them), then ZXing's multi-QR detector.
//! The phone camera goes through the barcode-scanner plugin instead.

use std::collections::HashSet;
use std::io::Cursor;

use rxing::common::{GlobalHistogramBinarizer, HybridBinarizer};
use rxing::multi::MultipleBarcodeReader;
use rxing::multi::qrcode::QRCodeMultiReader;
use rxing::qrcode::cpp_port::QrReader;
use rxing::{BarcodeFormat, Binarizer, BinaryBitmap, DecodeHints, Luma8Source};

/// Images with more pixels than this are refused (a decompression bomb guard; 64 MP is more
/// than any phone screenshot).
pub const MAX_PIXELS: u64 = 64 * 1024 * 1024;

/// Why an image could not be scanned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    /// Not a PNG or JPEG image, or a damaged one.
    #[error("not a readable PNG or JPEG image: {0}")]
    Image(String),
    /// Larger than [`MAX_PIXELS`].
    #[error("the image is {width}×{height} pixels; at most {} megapixels are read", MAX_PIXELS / (1024 * 1024))]
    TooLarge {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// The QR decoder (rxing) failed on this image in a way it does not report as an error
    /// (a panic, caught): the image is refused instead of ending the process.
    #[error("the QR decoder failed on this image")]
    Decoder,
}

/// Decodes an image file's bytes (PNG or JPEG) to 8-bit luma.
pub fn load_luma(bytes: &[u8]) -> Result<(Vec<u8>, u32, u32), ScanError> {
    let reader = image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| ScanError::Image(e.to_string()))?;
    let (width, height) = reader
        .into_dimensions()
        .map_err(|e| ScanError::Image(e.to_string()))?;
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(ScanError::TooLarge { width, height });
    }
    let mut reader = image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| ScanError::Image(e.to_string()))?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 4);
    reader.limits(limits);
    let img = reader
        .decode()
        .map_err(|e| ScanError::Image(e.to_string()))?;
    let luma = img.into_luma8();
    let (w, h) = luma.dimensions();
    Ok((luma.into_raw(), w, h))
}

/// Every QR code in a PNG or JPEG image, in the order found. An image without one gives an
/// empty list.
pub fn scan_image(bytes: &[u8]) -> Result<Vec<String>, ScanError> {
    let (luma, width, height) = load_luma(bytes)?;
    scan_luma(&luma, width, height)
}

fn hints() -> DecodeHints {
    DecodeHints {
        TryHarder: Some(true),
        PossibleFormats: Some(HashSet::from([BarcodeFormat::QR_CODE])),
        ..DecodeHints::default()
    }
}

fn texts(results: Vec<rxing::RXingResult>) -> Vec<String> {
    let mut seen = HashSet::new();
    results
        .into_iter()
        .map(|r| r.getText().to_owned())
        .filter(|t| seen.insert(t.clone()))
        .collect()
}

fn cpp_pass<B: Binarizer>(bitmap: &mut BinaryBitmap<B>, hints: &DecodeHints) -> Vec<String> {
    QrReader
        .decode_multiple_with_hints(bitmap, hints)
        .map(texts)
        .unwrap_or_default()
}

fn source(luma: &[u8], width: u32, height: u32, inverted: bool) -> Option<Luma8Source<'_>> {
    let mut s = Luma8Source::new_with_slice(luma, width, height).ok()?;
    if inverted {
        rxing::LuminanceSource::invert(&mut s);
    }
    Some(s)
}

/// Every QR code in an 8-bit luma image of `width` × `height` pixels (row-major, no padding).
/// A buffer of the wrong length gives an empty list. A panic inside the decoder (a bug in
/// rxing on a hostile image) is caught and becomes [`ScanError::Decoder`].
pub fn scan_luma(luma: &[u8], width: u32, height: u32) -> Result<Vec<String>, ScanError> {
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(ScanError::TooLarge { width, height });
    }
    // The decoder only reads `luma` and builds its own state, which is dropped on a panic:
    // nothing shared is left half-changed, so asserting unwind safety is sound.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        decode_all(luma, width, height)
    }))
    .map_err(|_| ScanError::Decoder)
}

fn decode_all(luma: &[u8], width: u32, height: u32) -> Vec<String> {
    if width == 0 || height == 0 {
        return Vec::new();
    }
    let hints = hints();
    for inverted in [false, true] {
        let Some(src) = source(luma, width, height, inverted) else {
            return Vec::new();
        };
        let found = cpp_pass(&mut BinaryBitmap::new(HybridBinarizer::new(src)), &hints);
        if !found.is_empty() {
            return found;
        }
        let Some(src) = source(luma, width, height, inverted) else {
            return Vec::new();
        };
        let found = cpp_pass(
            &mut BinaryBitmap::new(GlobalHistogramBinarizer::new(src)),
            &hints,
        );
        if !found.is_empty() {
            return found;
        }
    }
    // Last resort: ZXing's own multi-QR detector, which tolerates other distortions.
    let Some(src) = source(luma, width, height, false) else {
        return Vec::new();
    };
    QRCodeMultiReader::new()
        .decode_multiple_with_hints(&mut BinaryBitmap::new(HybridBinarizer::new(src)), &hints)
        .map(texts)
        .unwrap_or_default()
}
