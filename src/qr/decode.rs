//! Reading QR codes out of photos: PNG, JPEG and GIF stills, and every frame of an animated GIF.
//!
//! A photo of a screen or of paper is rarely clean: it is blurred, noisy, dim, tilted, seen at an
//! angle, inverted, mirrored, small, or surrounded by clutter. [`decode_image`] therefore runs a
//! fixed list of attempts in order of cost and stops at the first that yields a payload:
//!
//! 1. the grey image as it is, through rxing's port of the zxing-cpp QR detector (local
//!    binarisation, any rotation, mirrored symbols);
//! 2. the image inverted (light modules on a dark ground);
//! 3. the image as it is through rqrr, a second detector that fits strong perspective better;
//! 4. then prepared copies: halved (averages noise away), sharpened (unsharp mask against blur),
//!    smoothed (against noise), contrast-stretched (dim or low-contrast photos), doubled (codes
//!    only a pixel or two per module), and a few of these on the inverted image.
//!
//! `docs/qr-decoder.md` records what each step gains on the corpora, and how fast it is.
//!
//! Untrusted input is bounded: image dimensions, decoder allocations and GIF frame counts are
//! limited, so a small file cannot make the decoder allocate gigabytes.

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};

use image::{imageops, AnimationDecoder, GrayImage, ImageError, ImageFormat, ImageReader, Luma};
use rxing::multi::MultipleBarcodeReader;

/// Largest width or height accepted, in pixels (a 100-megapixel photo is 12,000 wide).
pub const MAX_DIMENSION: u32 = 12_000;
/// Most bytes the image decoder may allocate for one image or frame.
pub const MAX_ALLOC: u64 = 512 * 1024 * 1024;
/// Most frames read from one animated GIF.
pub const MAX_FRAMES: usize = 4096;
/// Most pixels decoded across all frames of one animated GIF.
pub const MAX_ANIMATION_PIXELS: u64 = 1 << 30;

/// Why no payload could be read from an image.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QrDecodeError {
    /// The bytes are not PNG, JPEG or GIF.
    #[error("The input is not an image in a format this decoder reads (PNG, JPEG or GIF).")]
    NotAnImage,
    /// The bytes start like an image but cannot be decoded.
    #[error("The image is truncated or corrupt: {0}.")]
    Corrupt(String),
    /// The image, or the animation as a whole, exceeds the decoder's limits.
    #[error("The image is too large to decode safely: {0}.")]
    TooLarge(String),
    /// The image decoded, but no attempt found a readable QR code in it.
    #[error("No readable QR code was found in the image.")]
    NoQrCode,
}

/// Every distinct QR payload found in one still image (PNG, JPEG, or anything `image` reads), as bytes.
///
/// For an animated GIF this reads the first frame only; use [`decode_animation`] for all frames.
/// Payloads are in the order found; a code seen twice is reported once.
pub fn decode_image(bytes: &[u8]) -> Result<Vec<Vec<u8>>, QrDecodeError> {
    let gray = load_still(bytes)?;
    let found = decode_gray(&gray);
    if found.is_empty() {
        Err(QrDecodeError::NoQrCode)
    } else {
        Ok(found)
    }
}

/// Each frame of an animated GIF (or a still image): payloads found across all frames, de-duplicated, first-seen order.
///
/// Frames without a readable code are skipped; the call fails with [`QrDecodeError::NoQrCode`]
/// only when no frame yields one.
pub fn decode_animation(bytes: &[u8]) -> Result<Vec<Vec<u8>>, QrDecodeError> {
    if image::guess_format(bytes).ok() != Some(ImageFormat::Gif) {
        return decode_image(bytes);
    }
    let mut decoder =
        image::codecs::gif::GifDecoder::new(Cursor::new(bytes)).map_err(image_error)?;
    image::ImageDecoder::set_limits(&mut decoder, limits()).map_err(image_error)?;
    let mut found: Vec<Vec<u8>> = Vec::new();
    let mut pixels: u64 = 0;
    for (index, frame) in decoder.into_frames().enumerate() {
        if index >= MAX_FRAMES {
            return Err(QrDecodeError::TooLarge(format!(
                "the animation has more than {MAX_FRAMES} frames"
            )));
        }
        let frame = frame.map_err(image_error)?;
        let buffer = frame.into_buffer();
        pixels = pixels.saturating_add(u64::from(buffer.width()) * u64::from(buffer.height()));
        if pixels > MAX_ANIMATION_PIXELS {
            return Err(QrDecodeError::TooLarge(format!(
                "the animation's frames hold more than {MAX_ANIMATION_PIXELS} pixels in all"
            )));
        }
        let gray = image::DynamicImage::ImageRgba8(buffer).into_luma8();
        for payload in decode_gray(&gray) {
            push_distinct(&mut found, payload);
        }
    }
    if found.is_empty() {
        Err(QrDecodeError::NoQrCode)
    } else {
        Ok(found)
    }
}

fn limits() -> image::Limits {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(MAX_ALLOC);
    limits
}

fn load_still(bytes: &[u8]) -> Result<GrayImage, QrDecodeError> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| QrDecodeError::Corrupt(e.to_string()))?;
    if reader.format().is_none() {
        return Err(QrDecodeError::NotAnImage);
    }
    reader.limits(limits());
    let image = reader.decode().map_err(image_error)?;
    Ok(image.into_luma8())
}

fn image_error(e: ImageError) -> QrDecodeError {
    match e {
        ImageError::Limits(l) => QrDecodeError::TooLarge(l.to_string()),
        ImageError::Unsupported(_) => QrDecodeError::NotAnImage,
        other => QrDecodeError::Corrupt(other.to_string()),
    }
}

/// One way of preparing the grey image before a detector looks at it.
#[derive(Clone, Copy, Debug)]
enum Prep {
    Identity,
    Invert,
    /// Halve both sides, averaging (box/triangle filter): removes pixel noise, shrinks big photos.
    Half,
    /// Double both sides (Catmull-Rom): gives the detector more pixels per module on tiny codes.
    Double,

    /// Unsharp mask: `x + amount · (x − gaussian(x, sigma))`, against blur.
    Sharpen {
        sigma: f32,
        amount: f32,
    },
    /// Gaussian smoothing, against noise.
    Smooth {
        sigma: f32,
    },
    /// Map the 1st..99th percentile of grey to 0..255, for dim or low-contrast photos.
    Stretch,
}

#[derive(Clone, Copy, Debug)]
enum Engine {
    /// rxing's port of the zxing-cpp QR reader: finds several codes, mirrored codes, any rotation.
    Rxing,
    /// rqrr (a quirc port): a different finder and a perspective fit that reads some steep angles rxing misses.
    Rqrr,
}

/// The attempts, cheapest and most often useful first. Each is (preparations applied in order, detector).
const ATTEMPTS: &[(&[Prep], Engine)] = &[
    (&[Prep::Identity], Engine::Rxing),
    (&[Prep::Invert], Engine::Rxing),
    (&[Prep::Identity], Engine::Rqrr),
    (&[Prep::Half], Engine::Rxing),
    (
        &[Prep::Sharpen {
            sigma: 2.0,
            amount: 2.0,
        }],
        Engine::Rxing,
    ),
    (&[Prep::Smooth { sigma: 1.0 }], Engine::Rxing),
    (&[Prep::Stretch], Engine::Rxing),
    (
        &[Prep::Sharpen {
            sigma: 3.0,
            amount: 3.0,
        }],
        Engine::Rxing,
    ),
    (&[Prep::Smooth { sigma: 1.0 }], Engine::Rqrr),
    (&[Prep::Half], Engine::Rqrr),
    (
        &[Prep::Sharpen {
            sigma: 3.0,
            amount: 3.0,
        }],
        Engine::Rqrr,
    ),
    (&[Prep::Double], Engine::Rxing),
    (&[Prep::Invert, Prep::Half], Engine::Rxing),
    (
        &[
            Prep::Invert,
            Prep::Sharpen {
                sigma: 2.0,
                amount: 2.0,
            },
        ],
        Engine::Rxing,
    ),
    (&[Prep::Invert, Prep::Smooth { sigma: 1.0 }], Engine::Rxing),
];

/// Doubling is skipped above this many pixels: codes in larger photos have pixels enough.
const DOUBLE_MAX_PIXELS: u64 = 1_000_000;
/// rqrr's run time explodes on large busy images (minutes on 4 megapixels of noise, seconds on
/// enlarged noise): it never sees more pixels than this, larger images are scaled down for it,
/// and it is never given an enlarged image.
const RQRR_MAX_PIXELS: u64 = 1_600_000;
/// The first attempt works on the photo scaled down to at most this many pixels (a 16-megapixel
/// phone photo is read at full size; a 100-megapixel one would take seconds per attempt).
const FIRST_MAX_PIXELS: u64 = 16_000_000;
/// Every attempt after the first works on a copy of the photo scaled down to at most this many
/// pixels (a 12-megapixel photo to about 2,300 × 1,700).
const WORK_MAX_PIXELS: u64 = 4_000_000;
/// Halving is skipped when the result would be narrower than this.
const HALF_MIN_SIDE: u32 = 64;

fn decode_gray(gray: &GrayImage) -> Vec<Vec<u8>> {
    if gray.width() == 0 || gray.height() == 0 {
        return Vec::new();
    }
    // The first attempt sees every pixel of any ordinary photo (up to FIRST_MAX_PIXELS); the rest
    // work on a copy of at most WORK_MAX_PIXELS, which bounds the time spent on a large photo
    // that holds no readable code.
    let first = fit(gray, FIRST_MAX_PIXELS);
    let mut reduced: Option<GrayImage> = None;
    for (index, (preps, engine)) in ATTEMPTS.iter().enumerate() {
        let source = if index == 0 {
            &first
        } else {
            reduced.get_or_insert_with(|| fit(&first, WORK_MAX_PIXELS))
        };
        let Some(prepared) = prepare(source, preps) else {
            continue;
        };
        let found = detect(&prepared, *engine);
        if !found.is_empty() {
            return found;
        }
    }
    Vec::new()
}

/// The image scaled down (box/triangle filter) to at most `max_pixels`, or a copy if it is smaller.
fn fit(image: &GrayImage, max_pixels: u64) -> GrayImage {
    let pixels = u64::from(image.width()) * u64::from(image.height());
    if pixels <= max_pixels {
        return image.clone();
    }
    let factor = (max_pixels as f64 / pixels as f64).sqrt();
    resize_by(image, factor, imageops::FilterType::Triangle)
}

/// Runs the attempt numbered `index` of the pipeline alone (for measuring each step's gain).
#[doc(hidden)]
pub fn decode_step(bytes: &[u8], index: usize) -> Result<Vec<Vec<u8>>, QrDecodeError> {
    let gray = load_still(bytes)?;
    let Some((preps, engine)) = ATTEMPTS.get(index) else {
        return Err(QrDecodeError::NoQrCode);
    };
    let first = fit(&gray, FIRST_MAX_PIXELS);
    let source = if index == 0 {
        first
    } else {
        fit(&first, WORK_MAX_PIXELS)
    };
    let found = prepare(&source, preps)
        .map(|p| detect(&p, *engine))
        .unwrap_or_default();
    if found.is_empty() {
        Err(QrDecodeError::NoQrCode)
    } else {
        Ok(found)
    }
}

/// Names of the pipeline's attempts, in order (for measuring each step's gain).
#[doc(hidden)]
pub fn step_names() -> Vec<String> {
    ATTEMPTS
        .iter()
        .map(|(preps, engine)| format!("{preps:?} {engine:?}"))
        .collect()
}

fn prepare(gray: &GrayImage, preps: &[Prep]) -> Option<GrayImage> {
    let mut image = gray.clone();
    for prep in preps {
        image = match *prep {
            Prep::Identity => image,
            Prep::Invert => {
                imageops::invert(&mut image);
                image
            }
            Prep::Half => {
                let (w, h) = (image.width() / 2, image.height() / 2);
                if w < HALF_MIN_SIDE || h < HALF_MIN_SIDE {
                    return None;
                }
                imageops::resize(&image, w, h, imageops::FilterType::Triangle)
            }
            Prep::Double => {
                if u64::from(image.width()) * u64::from(image.height()) > DOUBLE_MAX_PIXELS {
                    return None;
                }
                let (w, h) = (image.width() * 2, image.height() * 2);
                imageops::resize(&image, w, h, imageops::FilterType::CatmullRom)
            }
            Prep::Sharpen { sigma, amount } => sharpen(&image, sigma, amount),
            Prep::Smooth { sigma } => imageops::blur(&image, sigma),
            Prep::Stretch => stretch(&image)?,
        };
    }
    Some(image)
}

fn resize_by(image: &GrayImage, factor: f64, filter: imageops::FilterType) -> GrayImage {
    let w = ((f64::from(image.width()) * factor) as u32).max(1);
    let h = ((f64::from(image.height()) * factor) as u32).max(1);
    imageops::resize(image, w, h, filter)
}

fn sharpen(image: &GrayImage, sigma: f32, amount: f32) -> GrayImage {
    let blurred = imageops::blur(image, sigma);
    let mut out = image.clone();
    for (o, b) in out.pixels_mut().zip(blurred.pixels()) {
        let x = f32::from(o[0]);
        let v = x + amount * (x - f32::from(b[0]));
        *o = Luma([v.clamp(0.0, 255.0) as u8]);
    }
    out
}

/// Linear map of the 1st..99th percentile to 0..255; `None` when the image is flat or already spans the range.
fn stretch(image: &GrayImage) -> Option<GrayImage> {
    let mut histogram = [0usize; 256];
    for p in image.pixels() {
        histogram[usize::from(p[0])] += 1;
    }
    let cut = image.as_raw().len() / 100;
    let percentile = |order: &mut dyn Iterator<Item = usize>| {
        let mut seen = 0usize;
        for level in order {
            seen += histogram[level];
            if seen > cut {
                return level;
            }
        }
        0
    };
    let lo = percentile(&mut (0..256));
    let hi = percentile(&mut (0..256).rev());
    if hi <= lo + 8 || (lo == 0 && hi == 255) {
        return None;
    }
    let scale = 255.0 / (hi - lo) as f32;
    let mut out = image.clone();
    for p in out.pixels_mut() {
        let v = (f32::from(p[0]) - lo as f32) * scale;
        *p = Luma([v.clamp(0.0, 255.0) as u8]);
    }
    Some(out)
}

fn detect(image: &GrayImage, engine: Engine) -> Vec<Vec<u8>> {
    // The detectors are ports of C/C++ code; a panic on a pathological image must not reach the caller.
    catch_unwind(AssertUnwindSafe(|| match engine {
        Engine::Rxing => detect_rxing(image),
        Engine::Rqrr => detect_rqrr(image),
    }))
    .unwrap_or_default()
}

fn detect_rxing(image: &GrayImage) -> Vec<Vec<u8>> {
    let Ok(source) =
        rxing::Luma8LuminanceSource::new(image.as_raw().clone(), image.width(), image.height())
    else {
        return Vec::new();
    };
    let mut bitmap = rxing::BinaryBitmap::new(rxing::common::HybridBinarizer::new(source));
    let hints = rxing::DecodeHints {
        TryHarder: Some(true),
        PossibleFormats: Some([rxing::BarcodeFormat::QR_CODE].into_iter().collect()),
        ..Default::default()
    };
    let mut found = Vec::new();
    if let Ok(results) =
        rxing::qrcode::cpp_port::QrReader.decode_multiple_with_hints(&mut bitmap, &hints)
    {
        for result in results {
            // The zxing-cpp port's raw bytes are the decoded content, byte for byte.
            push_distinct(&mut found, result.getRawBytes().to_vec());
        }
    }
    found
}

fn detect_rqrr(image: &GrayImage) -> Vec<Vec<u8>> {
    let mut prepared = rqrr::PreparedImage::prepare(fit(image, RQRR_MAX_PIXELS));
    let mut found = Vec::new();
    for grid in prepared.detect_grids() {
        let mut payload = Vec::new();
        if grid.decode_to(&mut payload).is_ok() {
            push_distinct(&mut found, payload);
        }
    }
    found
}

fn push_distinct(found: &mut Vec<Vec<u8>>, payload: Vec<u8>) {
    if !payload.is_empty() && !found.contains(&payload) {
        found.push(payload);
    }
}
