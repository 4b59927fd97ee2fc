//! Reading QR codes out of photos: PNG, JPEG and GIF stills, and every frame of an animated GIF.
//!
//! A photo of a screen or of paper is rarely clean: it is blurred, noisy, dim, tilted, seen at a
//! steep angle, bent, inverted, mirrored, small, printed as halftone dots or on a thermal
//! receipt, scanned to 1 bit, faxed, or shares the picture with other codes. [`read_image`]
//! therefore runs a list of attempts — a preparation of the picture and a detector — most
//! promising per unit of time first, within a time budget, and stops at the first attempt that
//! yields a payload the caller wants (by default: any payload). Every code an attempt reads is
//! kept, so a picture holding several codes yields all of them.
//!
//! `docs/qr-decoder.md` records what each step gains on the corpora, and how fast it is.
//!
//! Untrusted input is bounded: image dimensions, decoder allocations and GIF frame counts are
//! limited, so a small file cannot make the decoder allocate gigabytes, and the time budget is
//! checked before every attempt (and inside the detector, between candidate codes), every
//! attempt working on a copy of bounded size.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use image::{AnimationDecoder, GrayImage, ImageError, ImageFormat, ImageReader};

use super::deadline::Deadline;
use super::detect::{self, push_distinct};
use super::prep;

pub use super::limits::{MAX_DECODED_BYTES, MAX_DIMENSION, MAX_FRAMES, MAX_PIXELS};
/// Most bytes the image decoder may allocate for one image or frame (a second guard behind the
/// header checks of [`super::limits`]: 64 megapixels of 16-bit RGBA).
pub const MAX_ALLOC: u64 = 512 * 1024 * 1024;
/// How long one picture may take by default (file decoding included).
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(2);
/// An animated GIF may take this many times the budget in all (each frame at most the budget):
/// a loop of a few hundred clean frames reads in a second or two, and a GIF of thousands of
/// unreadable frames still ends.
pub const ANIMATION_BUDGETS: u32 = 8;

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
    /// The image decoded, and every attempt ran, but none found a readable QR code.
    #[error("No readable QR code was found in the image.")]
    NoQrCode,
    /// The time budget ran out before every attempt had run, and none so far found a code.
    #[error("No QR code was read within the decode budget of {}; a longer budget tries more ways of reading it.", seconds(*budget))]
    OutOfTime { budget: Duration },
}

fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 && (s - s.round()).abs() < 1e-9 {
        format!("{} s", s.round())
    } else {
        format!("{s:.2} s")
    }
}

/// A test of a payload: is it what the caller is looking for?
pub type Wanted = dyn Fn(&[u8]) -> bool;

/// How [`read_image`] spends its time.
#[derive(Clone, Copy)]
pub struct DecodeOptions<'a> {
    /// Wall-clock time for one picture, file decoding included (for an animated GIF: for each
    /// frame, and [`ANIMATION_BUDGETS`] times this for the whole animation).
    pub budget: Duration,
    /// Stop as soon as an attempt has read a payload this accepts; codes it does not accept are
    /// still returned, but the search goes on for one it does. `None` accepts any payload.
    pub wanted: Option<&'a Wanted>,
}

impl Default for DecodeOptions<'_> {
    fn default() -> Self {
        DecodeOptions {
            budget: DEFAULT_BUDGET,
            wanted: None,
        }
    }
}

/// What [`read_image`] found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// Every distinct payload read, in the order found (frame by frame for an animation).
    pub payloads: Vec<Vec<u8>>,
    /// The budget ran out before a wanted payload was found and before every attempt had run:
    /// a longer budget might read more.
    pub out_of_time: bool,
}

/// Every distinct QR payload found in one still image (PNG, JPEG, or anything `image` reads), as
/// bytes, within [`DEFAULT_BUDGET`].
///
/// For an animated GIF this reads the first frame only; use [`decode_animation`] for all frames.
/// Payloads are in the order found; a code seen twice is reported once.
pub fn decode_image(bytes: &[u8]) -> Result<Vec<Vec<u8>>, QrDecodeError> {
    let start = Instant::now();
    let options = DecodeOptions::default();
    let gray = load_still(bytes)?;
    let run = decode_gray(&gray, &options, start + working(options.budget));
    finish(run.into_decoded(), &options).map(|d| d.payloads)
}

/// Each frame of an animated GIF (or a still image): payloads found across all frames, de-duplicated, first-seen order.
///
/// Frames without a readable code are skipped; the call fails with [`QrDecodeError::NoQrCode`]
/// only when no frame yields one.
pub fn decode_animation(bytes: &[u8]) -> Result<Vec<Vec<u8>>, QrDecodeError> {
    read_image(bytes, &DecodeOptions::default()).map(|d| d.payloads)
}

/// The payloads of every QR code read from a still image or from every frame of an animated
/// GIF, within `options.budget`; fails when none is read ([`QrDecodeError::OutOfTime`] when
/// the budget ran out first).
pub fn read_image(bytes: &[u8], options: &DecodeOptions) -> Result<Decoded, QrDecodeError> {
    let start = Instant::now();
    super::limits::check(bytes)?;
    if image::guess_format(bytes).ok() != Some(ImageFormat::Gif) {
        let gray = load_still(bytes)?;
        let run = decode_gray(&gray, options, start + working(options.budget));
        return finish(run.into_decoded(), options);
    }
    let mut decoder =
        image::codecs::gif::GifDecoder::new(Cursor::new(bytes)).map_err(image_error)?;
    image::ImageDecoder::set_limits(&mut decoder, limits()).map_err(image_error)?;
    let end = start + working(options.budget.saturating_mul(ANIMATION_BUDGETS));
    let mut decoded = Decoded::default();
    let mut decoded_bytes: u64 = 0;
    for (index, frame) in decoder.into_frames().enumerate() {
        if index >= MAX_FRAMES {
            return Err(QrDecodeError::TooLarge(format!(
                "the animation has more than {MAX_FRAMES} frames"
            )));
        }
        let now = Instant::now();
        if now >= end {
            decoded.out_of_time = true;
            break;
        }
        let frame = frame.map_err(image_error)?;
        let buffer = frame.into_buffer();
        decoded_bytes = decoded_bytes.saturating_add(buffer.as_raw().len() as u64);
        if decoded_bytes > MAX_DECODED_BYTES {
            return Err(QrDecodeError::TooLarge(format!(
                "the animation's frames decode to more than {} MiB in all",
                MAX_DECODED_BYTES >> 20
            )));
        }
        let gray = image::DynamicImage::ImageRgba8(buffer).into_luma8();
        let run = decode_gray(&gray, options, (now + working(options.budget)).min(end));
        decoded.out_of_time |= run.out_of_time;
        for payload in run.payloads {
            push_distinct(&mut decoded.payloads, payload);
        }
    }
    finish(decoded, options)
}

/// The part of a budget the attempts may use: an attempt checks the clock only between steps
/// (between candidate codes inside the detector), so it may end a little after the deadline;
/// a tenth of the budget (at most 200 ms) is kept for that, and for the caller's own work.
fn working(budget: Duration) -> Duration {
    budget.saturating_sub((budget / 10).min(Duration::from_millis(200)))
}

fn finish(decoded: Decoded, options: &DecodeOptions) -> Result<Decoded, QrDecodeError> {
    if !decoded.payloads.is_empty() {
        return Ok(decoded);
    }
    if decoded.out_of_time {
        return Err(QrDecodeError::OutOfTime {
            budget: options.budget,
        });
    }
    Err(QrDecodeError::NoQrCode)
}

fn limits() -> image::Limits {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(MAX_ALLOC);
    limits
}

fn load_still(bytes: &[u8]) -> Result<GrayImage, QrDecodeError> {
    super::limits::check(bytes)?;
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
    /// Double both sides (Catmull-Rom would ring; triangle): more pixels per module on tiny codes.
    Double,
    /// Unsharp mask: `x + amount · (x − gaussian(x, sigma))`, against blur.
    Sharpen {
        sigma: f32,
        amount: f32,
    },
    /// Gaussian smoothing, against noise and halftone dots.
    Smooth {
        sigma: f32,
    },
    /// Map the 1st..99th percentile of grey to 0..255, for dim or low-contrast photos.
    Stretch,
    /// Shrink by an integer factor, each pixel the mean of a k × k block (halftone screens).
    Shrink(u32),
    /// 3 × 3 minimum: dark modules swallow thin light gaps (dead printer dots, dropped lines).
    Erode,
    /// 3 × 3 maximum: light modules swallow thin dark specks.
    Dilate,
    /// Local contrast normalisation over squares of this radius (faded prints).
    Normalise(u32),
    /// Stretch vertically by this factor (faxes' tall pixels), or horizontally when below 1
    /// (by its inverse).
    Aspect(f32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Engine {
    /// rxing's port of the zxing-cpp QR reader: finds several codes, mirrored codes, any rotation.
    Rxing,
    /// rxing, and when it reads nothing (or leaves finders over): groupings of finders it refuses
    /// and the picture stretched back along the squash its finders show (steep views, faxes).
    Steep,
    /// rxing, then the grid of the likeliest finders read again module by module (bent paper).
    Bent,
}

const SHARPEN: Prep = Prep::Sharpen {
    sigma: 2.0,
    amount: 2.0,
};
const SHARPEN_MORE: Prep = Prep::Sharpen {
    sigma: 3.0,
    amount: 3.0,
};

/// The attempts, most promising per unit of time first (docs/qr-decoder.md has the numbers).
/// Each is (preparations applied in order, detector).
const ATTEMPTS: &[(&[Prep], Engine)] = &[
    (&[Prep::Identity], Engine::Rxing),
    (&[Prep::Half], Engine::Rxing),
    (&[Prep::Identity], Engine::Steep),
    (&[Prep::Smooth { sigma: 1.0 }], Engine::Bent),
    (&[Prep::Invert], Engine::Rxing),
    (&[SHARPEN], Engine::Rxing),
    (
        &[Prep::Smooth { sigma: 1.0 }, Prep::Normalise(12)],
        Engine::Rxing,
    ),
    (&[Prep::Identity], Engine::Bent),
    (&[Prep::Shrink(3)], Engine::Rxing),
    (&[SHARPEN_MORE], Engine::Rxing),
    (&[Prep::Smooth { sigma: 1.5 }], Engine::Steep),
    (&[Prep::Dilate], Engine::Rxing),
    (&[Prep::Half, Prep::Normalise(10)], Engine::Rxing),
    (&[Prep::Half], Engine::Steep),
    (&[Prep::Double], Engine::Rxing),
    (&[Prep::Erode], Engine::Rxing),
    (&[Prep::Smooth { sigma: 2.0 }], Engine::Rxing),
    (&[Prep::Invert, Prep::Half], Engine::Rxing),
    (&[Prep::Invert, SHARPEN], Engine::Rxing),
    (&[Prep::Invert, Prep::Smooth { sigma: 1.0 }], Engine::Rxing),
    (&[Prep::Shrink(4)], Engine::Rxing),
    (&[Prep::Stretch], Engine::Rxing),
    (
        &[Prep::Smooth { sigma: 1.0 }, Prep::Normalise(12)],
        Engine::Steep,
    ),
    (&[Prep::Half], Engine::Bent),
    (&[Prep::Aspect(2.0)], Engine::Rxing),
    (&[Prep::Aspect(0.5)], Engine::Rxing),
];

/// Doubling is skipped above this many pixels: codes in larger photos have pixels enough.
const DOUBLE_MAX_PIXELS: u64 = 1_000_000;
/// The first attempt works on the photo scaled down to at most this many pixels (a 16-megapixel
/// phone photo is read at full size; a 100-megapixel one would take seconds per attempt).
const FIRST_MAX_PIXELS: u64 = 16_000_000;
/// Every attempt after the first works on a copy of the photo scaled down to at most this many
/// pixels (a 12-megapixel photo to about 2,300 × 1,700).
const WORK_MAX_PIXELS: u64 = 4_000_000;
/// Halving is skipped when the result would be narrower than this.
const HALF_MIN_SIDE: u32 = 64;

/// What the attempts on one picture found.
struct Run {
    payloads: Vec<Vec<u8>>,
    out_of_time: bool,
}

impl Run {
    fn into_decoded(self) -> Decoded {
        Decoded {
            payloads: self.payloads,
            out_of_time: self.out_of_time,
        }
    }
}

/// Time per pixel assumed for an attempt before one has been measured on this picture (a
/// deliberately slow machine's figure).
const PRIOR_NANOS_PER_PIXEL: f64 = 40.0;

fn decode_gray(gray: &GrayImage, options: &DecodeOptions, deadline: Instant) -> Run {
    let mut run = Run {
        payloads: Vec::new(),
        out_of_time: false,
    };
    if gray.width() == 0 || gray.height() == 0 {
        return run;
    }
    let wanted = |p: &[u8]| options.wanted.is_none_or(|w| w(p));
    // The first attempt sees every pixel of any ordinary photo (up to FIRST_MAX_PIXELS, less
    // when the budget is short): most photos are read there. The rest work on a copy of at most
    // WORK_MAX_PIXELS.
    let remaining = deadline.saturating_duration_since(Instant::now());
    let affordable = (remaining.as_nanos() as f64 / 2.0 / PRIOR_NANOS_PER_PIXEL) as u64;
    let first = prep::fit(
        gray,
        FIRST_MAX_PIXELS.min(affordable.max(WORK_MAX_PIXELS / 16)),
    );
    let reduced = prep::fit(&first, WORK_MAX_PIXELS);
    // The attempts run on every core, in the list's order; their findings are taken as they
    // come, and once one settles the picture the others are called off and not waited for
    // (each stops at its next look at the clock).
    let shared = Arc::new(Attempts {
        first,
        reduced,
        deadline,
        next: AtomicUsize::new(0),
        settled: AtomicBool::new(false),
        seek_until: AtomicUsize::new(usize::MAX),
        skipped: AtomicBool::new(false),
        timing: Mutex::new(Timing {
            nanos_per_pixel: PRIOR_NANOS_PER_PIXEL,
            shortfall: 1.0,
        }),
    });
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, MAX_WORKERS);
    let (tx, rx) = mpsc::channel::<(usize, Option<detect::Scan>)>();
    let mut spawned = 0;
    for _ in 0..workers {
        let (tx, shared) = (tx.clone(), Arc::clone(&shared));
        let thread = std::thread::Builder::new()
            .name("qr-attempts".into())
            .spawn(move || shared.work(&tx));
        spawned += usize::from(thread.is_ok());
    }
    if spawned == 0 {
        // no thread to be had: this one does the work
        shared.work(&tx);
    }
    drop(tx);
    // Findings are taken in the list's order, whichever thread ends first, so what is read does
    // not depend on the threads' timing: a later attempt's findings wait for the earlier ones'.
    let mut verdict = Verdict::default();
    let mut waiting: BTreeMap<usize, Option<detect::Scan>> = BTreeMap::new();
    let mut next = 0;
    'taking: for (index, found) in rx {
        waiting.insert(index, found);
        while let Some(found) = waiting.remove(&next) {
            next += 1;
            let Some(found) = found else { continue };
            if verdict.take(next - 1, found, &wanted, &mut run) {
                break 'taking;
            }
            if let Some(at) = verdict.settles_at {
                shared.seek_until.store(at, Ordering::Relaxed);
            }
        }
        // Once the first attempt (the whole picture) is in, a later attempt that settles the
        // picture by itself ends the search without waiting for slower ones between (a steep
        // attempt can take ten times as long): those are called off.
        let settles = next > 0
            && matches!(waiting.get(&index), Some(Some(found)) if verdict.ends_early(found, &wanted, &run));
        if settles {
            // take what came back up to it, in order (an earlier one may read the same code
            // and leave the search open after all); each stays in `waiting` as taken, so the
            // pass in order skips it, and what came back after it waits its turn
            let after = waiting.split_off(&(index + 1));
            for (earlier, found) in std::mem::replace(&mut waiting, after) {
                waiting.insert(earlier, None);
                if let Some(found) = found {
                    if verdict.take(earlier, found, &wanted, &mut run) {
                        break 'taking;
                    }
                }
            }
            if let Some(at) = verdict.settles_at {
                shared.seek_until.store(at, Ordering::Relaxed);
            }
        }
    }
    // The threads stopped (the list or the time ran out): what came back out of order.
    if !verdict.settled {
        for (index, found) in std::mem::take(&mut waiting) {
            if let Some(found) = found {
                if verdict.take(index, found, &wanted, &mut run) {
                    break;
                }
            }
        }
    }
    shared.settled.store(true, Ordering::Relaxed);
    if !verdict.settled {
        run.out_of_time |= shared.skipped.load(Ordering::Relaxed);
    }
    run
}

/// One picture's attempts, shared by the threads that run them.
struct Attempts {
    /// The picture the first attempt reads.
    first: GrayImage,
    /// The picture the others read.
    reduced: GrayImage,
    deadline: Instant,
    /// The next attempt to run (an index into ATTEMPTS).
    next: AtomicUsize,
    /// The picture is settled (or its reader gone): run nothing more.
    settled: AtomicBool,
    /// A code was read with finders left over: only the steep and bent attempts up to this one
    /// are still wanted (they may read another code); `usize::MAX` until then.
    seek_until: AtomicUsize,
    /// An attempt was skipped because it would not end before the deadline.
    skipped: AtomicBool,
    timing: Mutex<Timing>,
}

/// How long attempts take on this picture, on this machine.
struct Timing {
    /// Measured by the first attempt (until then, a deliberately slow machine's figure).
    nanos_per_pixel: f64,
    /// How far the estimates have fallen short so far (never below 1).
    shortfall: f64,
}

impl Attempts {
    /// Run attempts, next first, sending each one's findings, until none is left, the picture
    /// is settled, or the deadline passes.
    fn work(&self, tx: &mpsc::Sender<(usize, Option<detect::Scan>)>) {
        loop {
            if self.settled.load(Ordering::Relaxed) {
                return;
            }
            let index = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(&(preps, engine)) = ATTEMPTS.get(index) else {
                return;
            };
            let now = Instant::now();
            if now >= self.deadline {
                self.skipped.store(true, Ordering::Relaxed);
                let _ = tx.send((index, None));
                return;
            }
            let seek_until = self.seek_until.load(Ordering::Relaxed);
            if seek_until != usize::MAX && (engine == Engine::Rxing || index > seek_until) {
                if tx.send((index, None)).is_err() {
                    return;
                }
                continue;
            }
            let source = if index == 0 {
                &self.first
            } else {
                &self.reduced
            };
            let cost = if index == 0 {
                Duration::ZERO
            } else {
                let t = self.timing.lock().unwrap_or_else(|e| e.into_inner());
                estimate(source, preps, engine, t.nanos_per_pixel).mul_f64(t.shortfall)
            };
            if now + cost > self.deadline {
                // Too slow for what is left; a cheaper attempt further down may still fit.
                self.skipped.store(true, Ordering::Relaxed);
                if tx.send((index, None)).is_err() {
                    return;
                }
                continue;
            }
            let found = attempt(
                source,
                preps,
                engine,
                Deadline::cancellable(self.deadline, &self.settled),
            );
            let spent = now.elapsed();
            {
                let mut t = self.timing.lock().unwrap_or_else(|e| e.into_inner());
                if index == 0 {
                    let nanos = spent.as_nanos() as f64;
                    t.nanos_per_pixel = (nanos / prep::pixels(source).max(1) as f64).max(5.0);
                } else if !cost.is_zero() {
                    // a machine under load, or a picture that makes an attempt slow, makes the
                    // next estimates as much longer
                    let ratio = spent.as_secs_f64() / cost.as_secs_f64();
                    t.shortfall = t.shortfall.max(ratio * t.shortfall).min(20.0);
                }
            }
            if tx.send((index, Some(found))).is_err() {
                return;
            }
        }
    }
}

/// Most threads one picture's attempts run on.
const MAX_WORKERS: usize = 4;

/// What the attempts so far have settled about one picture.
#[derive(Default)]
struct Verdict {
    /// A wanted payload was read, with finders left over as large as its code's: perhaps another
    /// code, which the next steep and the next bent attempt in the list may read (they run side
    /// by side) — those and no more: stray finders are common. The later of the two is this
    /// one; the search ends when every attempt up to it is in (or one reads another wanted
    /// code and leaves no finders over).
    settles_at: Option<usize>,
    /// Nothing more to look for.
    settled: bool,
}

impl Verdict {
    /// Whether the findings of attempt `index` end the search. Once a code was read with
    /// finders left over, only the designated attempt ([`Verdict::settles_at`]), or one that
    /// reads another wanted code and leaves no finders over, ends it (an attempt that merely reads the first code again, on a view where the
    /// other's finders do not show, does not).
    fn ends(
        &self,
        index: usize,
        found: &detect::Scan,
        wanted: &dyn Fn(&[u8]) -> bool,
        run: &Run,
    ) -> bool {
        let done = found.payloads.iter().any(|p| wanted(p));
        let new = found
            .payloads
            .iter()
            .any(|p| wanted(p) && !run.payloads.contains(p));
        match self.settles_at {
            Some(at) => index == at || (new && found.leftover < 2),
            None => done && found.leftover < 2,
        }
    }

    /// Whether findings that came back before some attempts ahead of them in the list end the
    /// search by themselves: as [`Verdict::ends`], but the designated attempt does not end it
    /// before the attempts ahead of it are in.
    fn ends_early(&self, found: &detect::Scan, wanted: &dyn Fn(&[u8]) -> bool, run: &Run) -> bool {
        self.ends(usize::MAX, found, wanted, run)
    }

    /// Take the findings of attempt `index` into `run`; true when the search is over.
    fn take(
        &mut self,
        index: usize,
        found: detect::Scan,
        wanted: &dyn Fn(&[u8]) -> bool,
        run: &mut Run,
    ) -> bool {
        run.out_of_time |= found.stopped;
        let ends = self.ends(index, &found, wanted, run);
        let done = found.payloads.iter().any(|p| wanted(p));
        for payload in found.payloads {
            push_distinct(&mut run.payloads, payload);
        }
        let found_before = self.settles_at.is_some();
        if ends {
            run.out_of_time &= !(done || found_before);
            self.settled = true;
            return true;
        }
        if done && !found_before {
            // the next steep and the next bent attempt look for it (side by side), the later
            // of them ends the search
            let next = |wanted: Engine| {
                ATTEMPTS[index + 1..]
                    .iter()
                    .position(|(_, engine)| *engine == wanted)
                    .map(|offset| index + 1 + offset)
            };
            match next(Engine::Steep).max(next(Engine::Bent)) {
                Some(at) => self.settles_at = Some(at),
                None => {
                    // no attempt left to look for the other code
                    run.out_of_time = false;
                    self.settled = true;
                    return true;
                }
            }
        }
        false
    }
}

/// A generous guess of how long an attempt takes, from the time per pixel of the first.
fn estimate(source: &GrayImage, preps: &[Prep], engine: Engine, nanos_per_pixel: f64) -> Duration {
    let mut pixels = prep::pixels(source) as f64;
    let mut work = 0.0;
    for p in preps {
        match p {
            Prep::Identity => {}
            Prep::Invert | Prep::Stretch | Prep::Shrink(_) => work += 0.2 * pixels,
            Prep::Half => {
                work += 0.5 * pixels;
                pixels /= 4.0;
            }
            Prep::Double => {
                pixels *= 4.0;
                work += 0.5 * pixels;
            }
            Prep::Sharpen { sigma, .. } | Prep::Smooth { sigma } => {
                work += (0.5 + 0.3 * f64::from(*sigma)) * pixels
            }
            Prep::Erode | Prep::Dilate => work += 0.3 * pixels,
            Prep::Normalise(_) => work += 0.8 * pixels,
            Prep::Aspect(f) => {
                pixels *= f64::from(f.max(1.0 / f));
                work += 0.5 * pixels;
            }
        }
        if let Prep::Shrink(k) = p {
            pixels /= f64::from(k * k);
        }
    }
    let detector = match engine {
        Engine::Rxing => pixels,
        Engine::Steep => pixels + 2.0 * detect::RECTIFY_MAX_PIXELS.min(pixels as u64 * 3) as f64,
        Engine::Bent => pixels * 2.0,
    };
    Duration::from_nanos(((work + detector) * nanos_per_pixel) as u64)
}

fn attempt(
    source: &GrayImage,
    preps: &[Prep],
    engine: Engine,
    deadline: Deadline<'_>,
) -> detect::Scan {
    let Some(prepared) = prepare(source, preps) else {
        return detect::Scan::default();
    };
    // The detectors are ports of C/C++ code; a panic on a pathological image must not reach the caller.
    let mode = match engine {
        Engine::Rxing => detect::Mode::default(),
        Engine::Steep => detect::Mode {
            relaxed: true,
            unsquash: true,
            resample: false,
        },
        Engine::Bent => detect::Mode {
            relaxed: true,
            unsquash: false,
            resample: true,
        },
    };
    catch_unwind(AssertUnwindSafe(|| {
        detect::rxing(&prepared, deadline, mode)
    }))
    .unwrap_or_default()
}

/// Runs the attempt numbered `index` of the pipeline alone, without a deadline (for measuring
/// each step's gain).
#[doc(hidden)]
pub fn decode_step(bytes: &[u8], index: usize) -> Result<Vec<Vec<u8>>, QrDecodeError> {
    let gray = load_still(bytes)?;
    let Some((preps, engine)) = ATTEMPTS.get(index) else {
        return Err(QrDecodeError::NoQrCode);
    };
    let first = prep::fit(&gray, FIRST_MAX_PIXELS);
    let source = if index == 0 {
        first
    } else {
        prep::fit(&first, WORK_MAX_PIXELS)
    };
    let far = Instant::now() + Duration::from_secs(3600);
    let found = attempt(&source, preps, *engine, Deadline::at(far)).payloads;
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
            Prep::Invert => prep::invert(&image),
            Prep::Half => {
                let (w, h) = (image.width() / 2, image.height() / 2);
                if w < HALF_MIN_SIDE || h < HALF_MIN_SIDE {
                    return None;
                }
                prep::box_shrink(&image, 2)?
            }
            Prep::Double => {
                if prep::pixels(&image) > DOUBLE_MAX_PIXELS {
                    return None;
                }
                prep::scale(&image, 2.0, 2.0)
            }
            Prep::Sharpen { sigma, amount } => prep::sharpen(&image, sigma, amount),
            Prep::Smooth { sigma } => prep::smooth(&image, sigma),
            Prep::Stretch => prep::stretch(&image)?,
            Prep::Shrink(k) => prep::box_shrink(&image, k)?,
            Prep::Erode => prep::min_filter3(&image, true),
            Prep::Normalise(r) => prep::normalise(&image, r),
            Prep::Dilate => prep::min_filter3(&image, false),
            Prep::Aspect(f) => {
                let f = f64::from(f);
                let (fx, fy) = if f >= 1.0 { (1.0, f) } else { (1.0 / f, 1.0) };
                if prep::pixels(&image) as f64 * fx * fy > WORK_MAX_PIXELS as f64 {
                    let g =
                        (WORK_MAX_PIXELS as f64 / (prep::pixels(&image) as f64 * fx * fy)).sqrt();
                    prep::scale(&image, fx * g, fy * g)
                } else {
                    prep::scale(&image, fx, fy)
                }
            }
        };
    }
    Some(image)
}
