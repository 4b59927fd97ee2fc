//! The detectors: rxing's port of the zxing-cpp QR reader, driven step by step so that it stops at
//! a deadline and finds every code in the picture, with a rectifying retry for codes seen at a
//! steep angle or through non-square pixels; and rqrr, a second finder and perspective fit.
//!
//! A steep view squashes the code along one direction (by cos 60° = 0.5 at 60° off its normal; a
//! standard-mode fax's pixels are twice as tall as wide, which squashes it by 0.48). zxing-cpp's
//! finder patterns survive that — a line through a squashed finder still reads 1:1:3:1:1 — but
//! its grouping of three finders into one code refuses corners sharper than 60° and sides more
//! than twice as long as each other, and this is what rejects steep views. The squash is written
//! in each finder's own shape: its 3 × 3-module core, a square on the paper, is a parallelogram in
//! the picture whose second moments give the direction and amount of the squash. Stretching the
//! picture back along that direction makes the code square again (up to the perspective that
//! remains, which the detector handles) and the detector then reads it.

use std::time::Instant;

use super::deadline::Deadline;

use image::GrayImage;
use rxing::common::cpp_essentials::ConcentricPattern;
use rxing::common::{BitMatrix, DetectorRXingResult};
use rxing::qrcode::cpp_port::decoder::Decode;
use rxing::qrcode::cpp_port::detector::{
    EstimateModuleSize, FindFinderPatterns, FinderPatternSet, GenerateFinderPatternSets, SampleQR,
};
use rxing::Exceptions;

use super::{binarize, prep, sample};

/// The most finder-pattern sets sampled in one attempt (a real photo has a handful; a busy one,
/// hundreds; the deadline usually stops a pathological one first).
const MAX_SETS: usize = 4000;
/// The most relaxed groupings (see [`relaxed_sets`]) sampled in one attempt.
const MAX_RELAXED_SETS: usize = 40;
/// Only this many of the largest finders are grouped in relaxed ways (16 finders: 560 trios).
const RELAXED_FINDERS: usize = 16;
/// Finder sets considered for reading module by module (see `sample`), and grids so read, per
/// attempt at most.
const MAX_DAMAGED: usize = 8;
const MAX_RESAMPLES: usize = 3;
/// Relaxed groupings accept finders up to this many times each other's size.
const RELAXED_SIZE_RATIO: f64 = 3.5;
/// A finder whose core is squashed below this ratio (short side / long side) is rectified.
const SQUASHED: f64 = 0.75;
/// At most this many rectified views of one picture (one per distinct squash).
const MAX_VIEWS: usize = 2;
/// Rectified views are no larger than this.
pub(super) const RECTIFY_MAX_PIXELS: u64 = 4_000_000;

/// What one run of the rxing detector saw.
#[derive(Default)]
pub(super) struct Scan {
    /// Decoded payloads, in the order found.
    pub payloads: Vec<Vec<u8>>,
    /// Whether the deadline stopped it before every finder-pattern set was tried.
    pub stopped: bool,
    /// Finders left over that are as large as those of the codes read: perhaps another code
    /// this attempt could not read.
    pub leftover: usize,
}

/// How hard the rxing detector looks, beyond zxing-cpp's own grouping of finders into codes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Mode {
    /// Also groupings zxing-cpp refuses: finders of very different sizes (a steep view's near
    /// and far corners) and corners far from square.
    pub relaxed: bool,
    /// Then read again the picture stretched back along the squash its leftover finders show.
    pub unsquash: bool,
    /// When nothing was read, read the grid of the most plausible finder set again module by
    /// module (see `sample`): for bent paper.
    pub resample: bool,
}

/// rxing on a grey image: every code it can read (see [`Mode`]).
pub(super) fn rxing(image: &GrayImage, deadline: Deadline<'_>, mode: Mode) -> Scan {
    let mut scan = Scan::default();
    let start = Instant::now();
    let Some(matrix) = binarize::hybrid(image) else {
        return scan;
    };
    let matrix = &matrix;
    let mut finders = FindFinderPatterns(matrix, true, 0);
    // GenerateFinderPatternSets sorts `finders` by size, largest first.
    let sets = GenerateFinderPatternSets(&mut finders);
    let mut used: Vec<ConcentricPattern> = Vec::new();
    let mut damaged: Vec<(FinderPatternSet, Vec<u32>)> = Vec::new();
    read_sets(
        matrix,
        &sets,
        MAX_SETS,
        &mut used,
        &mut scan,
        &mut damaged,
        deadline,
    );
    // what one pass over this picture costs: the measure of whether a rectified view or a
    // grid read again (each about as costly as a few passes) can end before the deadline
    let pass = start.elapsed();
    let affordable = |passes: u32| deadline.allows(pass * passes);
    let mut left: Vec<ConcentricPattern> = finders;
    left.retain(|f| !used.contains(f));
    scan.leftover = leftover(&left, &used);
    // A code was read and no finders as large are left over: nothing more to look for here.
    if !scan.payloads.is_empty() && scan.leftover < 2 {
        return scan;
    }
    if mode.relaxed && !scan.stopped {
        left.retain(|f| !used.contains(f));
        let relaxed: Vec<FinderPatternSet> = relaxed_sets(&left)
            .into_iter()
            .filter(|s| !sets.contains(s))
            .collect();
        read_sets(
            matrix,
            &relaxed,
            MAX_RELAXED_SETS,
            &mut used,
            &mut scan,
            &mut damaged,
            deadline,
        );
    }
    left.retain(|f| !used.contains(f));
    scan.leftover = leftover(&left, &used);
    if mode.resample && scan.payloads.is_empty() && !scan.stopped && affordable(2) {
        if let Some(payload) = resample_best(image, &damaged, deadline) {
            scan.payloads.push(payload);
            scan.leftover = 0;
        }
    }
    if !mode.unsquash || scan.stopped {
        return scan;
    }
    for view in squashes(matrix, &left) {
        if !affordable(4) {
            scan.stopped = true;
            break;
        }
        let Some(rectified) = unsquash(image, view) else {
            continue;
        };
        let inner = Mode {
            unsquash: false,
            ..mode
        };
        let more = rxing(&rectified, deadline, inner);
        scan.stopped |= more.stopped;
        if !more.payloads.is_empty() {
            scan.leftover = scan.leftover.min(more.leftover);
        }
        for payload in more.payloads {
            push_distinct(&mut scan.payloads, payload);
        }
    }
    scan
}

/// Of the finder sets whose grid could not be decoded, the one whose finders look most like a
/// code's, read again module by module (each size it may have, most plausible first).
fn resample_best(
    image: &GrayImage,
    damaged: &[(FinderPatternSet, Vec<u32>)],
    deadline: Deadline<'_>,
) -> Option<Vec<u8>> {
    let mut candidates: Vec<(f32, &FinderPatternSet, u32)> = damaged
        .iter()
        .take(MAX_DAMAGED)
        .flat_map(|(set, dims)| dims.iter().map(move |&d| (set, d)))
        .filter_map(|(set, dim)| sample::finders_agree(image, set, dim).map(|a| (a, set, dim)))
        .collect();
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (_, set, dim) in candidates.into_iter().take(MAX_RESAMPLES) {
        if deadline.passed() {
            return None;
        }
        if let Some(payload) = sample::resample(image, set, dim, deadline) {
            return Some(payload);
        }
    }
    None
}

/// How many of `finders` are unused and at least half as large as the smallest used one (none
/// when no code was read: then there is nothing to compare with).
fn leftover(finders: &[ConcentricPattern], used: &[ConcentricPattern]) -> usize {
    let Some(smallest) = used.iter().map(|f| f.size).min() else {
        return 0;
    };
    finders
        .iter()
        .filter(|f| !used.contains(f) && 2 * f.size >= smallest)
        .count()
}

/// Sample and decode each set of three finders (skipping finders of codes already read), in
/// order; sets whose grid was found but not decoded, or not found, go to `damaged` with the
/// sizes their code may have.
fn read_sets(
    matrix: &BitMatrix,
    sets: &[FinderPatternSet],
    max: usize,
    used: &mut Vec<ConcentricPattern>,
    scan: &mut Scan,
    damaged: &mut Vec<(FinderPatternSet, Vec<u32>)>,
    deadline: Deadline<'_>,
) {
    for (index, set) in sets.iter().enumerate() {
        if index >= max || deadline.passed() {
            scan.stopped |= deadline.passed();
            break;
        }
        if used.contains(&set.bl) || used.contains(&set.tl) || used.contains(&set.tr) {
            continue;
        }
        let dims = match SampleQR(matrix, set) {
            Ok(sampled) => match Decode(sampled.getBits()) {
                Ok(decoded) if decoded.isValid() => {
                    used.extend([set.bl, set.tl, set.tr]);
                    push_distinct(&mut scan.payloads, decoded.content().bytes().to_vec());
                    continue;
                }
                // The grid was found and its codewords read, with too many errors.
                Err(Exceptions::ReedSolomonException(_) | Exceptions::ChecksumException(_)) => {
                    vec![sampled.getBits().width()]
                }
                _ => continue,
            },
            // No grid (its version could not be read, or its size not measured).
            Err(_) => estimate_dims(matrix, set),
        };
        if damaged.len() < MAX_DAMAGED && !dims.is_empty() {
            damaged.push((*set, dims));
        }
    }
}

/// Plausible sizes (modules a side) of the code of a finder set, measured along its top and its
/// left side as zxing-cpp does (distance over module size); at most three.
fn estimate_dims(matrix: &BitMatrix, set: &FinderPatternSet) -> Vec<u32> {
    let along = |a: ConcentricPattern, b: ConcentricPattern| {
        let (ma, mb) = (
            EstimateModuleSize(matrix, a, b),
            EstimateModuleSize(matrix, b, a),
        );
        if ma <= 0.0 || mb <= 0.0 {
            return None;
        }
        let dim = (f64::from(a.distance(b)) / ((ma + mb) / 2.0)).round() as i64 + 7;
        // the nearest size a QR code has: 21, 25, … 177
        let dim = ((dim - 21 + 2).div_euclid(4) * 4 + 21).clamp(21, 177);
        Some(dim as u32)
    };
    let mut dims: Vec<u32> = Vec::new();
    for d in [along(set.tl, set.tr), along(set.tl, set.bl)]
        .into_iter()
        .flatten()
    {
        if !dims.contains(&d) {
            dims.push(d);
        }
    }
    if let [one] = dims[..] {
        dims.extend(
            [one + 4, one.saturating_sub(4)]
                .into_iter()
                .filter(|d| *d >= 21),
        );
    }
    dims.truncate(3);
    dims
}

/// Groupings of three finders into a code that zxing-cpp's own refuses: sizes up to
/// [`RELAXED_SIZE_RATIO`] apart (the near and far corners of a steep view), corner angles from
/// 30° to 150°. Most plausible first; at most the [`RELAXED_FINDERS`] largest finders take part.
fn relaxed_sets(finders: &[ConcentricPattern]) -> Vec<FinderPatternSet> {
    let f = &finders[..finders.len().min(RELAXED_FINDERS)];
    let mut sets: Vec<(f64, FinderPatternSet)> = Vec::new();
    let cos_max = 30f64.to_radians().cos();
    for i in 0..f.len() {
        for j in i + 1..f.len() {
            for k in j + 1..f.len() {
                let trio = [f[i], f[j], f[k]];
                let sizes = trio.map(|p| f64::from(p.size.max(1)));
                let (lo, hi) = (
                    sizes.iter().cloned().fold(f64::INFINITY, f64::min),
                    sizes.iter().cloned().fold(0.0, f64::max),
                );
                if hi > RELAXED_SIZE_RATIO * lo {
                    continue;
                }
                let d = |a: ConcentricPattern, b: ConcentricPattern| f64::from(a.distance(b));
                let (dij, djk, dik) = (d(f[i], f[j]), d(f[j], f[k]), d(f[i], f[k]));
                // the corner finder is the one opposite the longest side
                let (a, b, c, ab, bc, ac) = if dik >= dij && dik >= djk {
                    (f[i], f[j], f[k], dij, djk, dik)
                } else if dij >= djk {
                    (f[i], f[k], f[j], dik, djk, dij)
                } else {
                    (f[j], f[i], f[k], dij, dik, djk)
                };
                let cos = (ab * ab + bc * bc - ac * ac) / (2.0 * ab * bc);
                if !cos.is_finite() || cos.abs() > cos_max {
                    continue;
                }
                // modules across, from the finders' sizes (7 modules each): a plausible QR size
                let module = (sizes.iter().sum::<f64>() / 3.0) / 7.0;
                let across = (ab.max(bc)) / module + 7.0;
                if !(15.0..=177.0 * 2.5).contains(&across) {
                    continue;
                }
                let (mut bl, tl, mut tr) = (a, b, c);
                if (tr - tl).cross(bl - tl) < 0.0 {
                    std::mem::swap(&mut bl, &mut tr);
                }
                let score = cos.abs() + (ab - bc).abs() / (ab + bc) + (hi / lo - 1.0) * 0.2;
                sets.push((score, FinderPatternSet { bl, tl, tr }));
            }
        }
    }
    sets.sort_by(|x, y| x.0.total_cmp(&y.0));
    sets.into_iter().map(|(_, s)| s).collect()
}

/// A squash seen in finder cores: the picture is compressed by `ratio` along `angle` (radians),
/// and modules measure `module` pixels along the other direction.
#[derive(Clone, Copy, Debug)]
pub(super) struct Squash {
    pub angle: f64,
    pub ratio: f64,
    pub module: f64,
    /// Where the code can be (x0, y0, x1, y1), when two finders or more show this squash.
    pub region: Option<[f64; 4]>,
    /// The finder's centre (for one finder's shape).
    at: (f64, f64),
}

/// The distinct squashes of the finders, those shared by most finders first.
fn squashes(matrix: &BitMatrix, finders: &[ConcentricPattern]) -> Vec<Squash> {
    let shapes: Vec<Squash> = finders
        .iter()
        .take(24)
        .filter_map(|f| core_shape(matrix, f))
        .filter(|s| s.ratio < SQUASHED)
        .collect();
    let mut groups: Vec<Vec<Squash>> = Vec::new();
    for s in shapes {
        match groups.iter_mut().find(|g| similar(&g[0], &s)) {
            Some(g) => g.push(s),
            None => groups.push(vec![s]),
        }
    }
    // finders come largest first, so ties keep the group of the largest finder first
    groups.sort_by_key(|g| std::cmp::Reverse(g.len()));
    groups
        .into_iter()
        .take(MAX_VIEWS)
        .map(|g| {
            let n = g.len() as f64;
            // mean of doubled angles (a direction, not a vector: θ and θ + π are the same)
            let (c, s) = g.iter().fold((0.0, 0.0), |(c, s), q| {
                (c + (2.0 * q.angle).cos(), s + (2.0 * q.angle).sin())
            });
            let mut ratios: Vec<f64> = g.iter().map(|q| q.ratio).collect();
            ratios.sort_by(f64::total_cmp);
            let module = g.iter().map(|q| q.module).sum::<f64>() / n;
            // the code lies within a side's length (at most the largest distance between its
            // finders) and a few modules of the finders
            let region = (g.len() >= 2).then(|| {
                let side = g
                    .iter()
                    .flat_map(|a| {
                        g.iter()
                            .map(move |b| (a.at.0 - b.at.0).hypot(a.at.1 - b.at.1))
                    })
                    .fold(0.0, f64::max);
                let margin = side + 8.0 * module;
                let xs = g.iter().map(|q| q.at.0);
                let ys = g.iter().map(|q| q.at.1);
                [
                    xs.clone().fold(f64::INFINITY, f64::min) - margin,
                    ys.clone().fold(f64::INFINITY, f64::min) - margin,
                    xs.fold(f64::NEG_INFINITY, f64::max) + margin,
                    ys.fold(f64::NEG_INFINITY, f64::max) + margin,
                ]
            });
            Squash {
                angle: s.atan2(c) / 2.0,
                ratio: ratios[ratios.len() / 2],
                module,
                region,
                at: g[0].at,
            }
        })
        .collect()
}

fn similar(a: &Squash, b: &Squash) -> bool {
    let mut d = (a.angle - b.angle).rem_euclid(std::f64::consts::PI);
    if d > std::f64::consts::FRAC_PI_2 {
        d = std::f64::consts::PI - d;
    }
    d < 20f64.to_radians() && (a.ratio - b.ratio).abs() < 0.2
}

/// The shape of a finder's dark core (3 × 3 modules on the paper), from the second moments of
/// its connected dark pixels. `None` when the core is not a compact blob near the centre.
fn core_shape(matrix: &BitMatrix, finder: &ConcentricPattern) -> Option<Squash> {
    let (w, h) = (matrix.width() as i64, matrix.height() as i64);
    let reach = i64::from(finder.size.max(3)) + 2;
    let (cx, cy) = (finder.p.x.floor() as i64, finder.p.y.floor() as i64);
    let dark =
        |x: i64, y: i64| x >= 0 && y >= 0 && x < w && y < h && matrix.get(x as u32, y as u32);
    let start = [(0, 0), (1, 0), (0, 1), (-1, 0), (0, -1)]
        .into_iter()
        .map(|(dx, dy)| (cx + dx, cy + dy))
        .find(|&(x, y)| dark(x, y))?;
    let side = (2 * reach + 1) as usize;
    let mut seen = vec![false; side * side];
    let index = |x: i64, y: i64| ((y - cy + reach) as usize) * side + (x - cx + reach) as usize;
    let limit = (reach * reach) as usize;
    let mut stack = vec![start];
    seen[index(start.0, start.1)] = true;
    let (mut n, mut sx, mut sy, mut sxx, mut syy, mut sxy) = (0f64, 0f64, 0f64, 0f64, 0f64, 0f64);
    while let Some((x, y)) = stack.pop() {
        n += 1.0;
        if n as usize > limit {
            return None;
        }
        let (fx, fy) = ((x - cx) as f64, (y - cy) as f64);
        sx += fx;
        sy += fy;
        sxx += fx * fx;
        syy += fy * fy;
        sxy += fx * fy;
        for (nx, ny) in [(x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)] {
            if (nx - cx).abs() > reach || (ny - cy).abs() > reach {
                return None; // leaks out of the finder: not a clean core
            }
            if dark(nx, ny) && !seen[index(nx, ny)] {
                seen[index(nx, ny)] = true;
                stack.push((nx, ny));
            }
        }
    }
    if n < 6.0 {
        return None;
    }
    let (mx, my) = (sx / n, sy / n);
    let (vxx, vyy, vxy) = (sxx / n - mx * mx, syy / n - my * my, sxy / n - mx * my);
    let mean = (vxx + vyy) / 2.0;
    let spread = (((vxx - vyy) / 2.0).powi(2) + vxy * vxy).sqrt();
    let (major, minor) = (mean + spread, mean - spread);
    if minor <= 0.0 || major <= 0.0 {
        return None;
    }
    // a square of side s has variance s²/12 along any axis; the core is 3 modules across
    Some(Squash {
        angle: 0.5 * (2.0 * vxy).atan2(vxx - vyy) + std::f64::consts::FRAC_PI_2,
        ratio: (minor / major).sqrt(),
        module: (12.0 * major).sqrt() / 3.0,
        region: None,
        at: (f64::from(finder.p.x), f64::from(finder.p.y)),
    })
}

/// The picture stretched by 1 / `ratio` along the squash's direction, then scaled so that
/// modules measure about [`RECTIFY_MODULE`] pixels (never enlarged past that, never larger
/// than [`RECTIFY_MAX_PIXELS`]).
pub(super) fn unsquash(image: &GrayImage, s: Squash) -> Option<GrayImage> {
    let cropped;
    let image = match s.region {
        Some([x0, y0, x1, y1]) => {
            let (w, h) = (f64::from(image.width()), f64::from(image.height()));
            let (x0, y0) = (x0.clamp(0.0, w) as u32, y0.clamp(0.0, h) as u32);
            let (x1, y1) = (x1.clamp(0.0, w) as u32, y1.clamp(0.0, h) as u32);
            if x1 <= x0 + 16 || y1 <= y0 + 16 {
                return None;
            }
            cropped = image::imageops::crop_imm(image, x0, y0, x1 - x0, y1 - y0).to_image();
            &cropped
        }
        None => image,
    };
    let (c, sn) = (s.angle.cos(), s.angle.sin());
    let k = 1.0 / s.ratio.max(0.1) - 1.0;
    // I + k·e·eᵀ with e = (cos, sin): stretch along e only
    let m = [1.0 + k * c * c, k * c * sn, k * c * sn, 1.0 + k * sn * sn];
    // the stretched picture's bounding box, scaled down to fit the pixel limit
    let (w, h) = (f64::from(image.width()), f64::from(image.height()));
    let box_w = m[0].abs() * w + m[1].abs() * h;
    let box_h = m[2].abs() * w + m[3].abs() * h;
    let g = (RECTIFY_MAX_PIXELS as f64 / (box_w * box_h))
        .sqrt()
        .min(1.0)
        * 0.999;
    let m = m.map(|v| v * g);
    // bilinear stretching blurs across the stretch; an unsharp mask restores the edges
    let stretched = prep::warp_linear(image, m, RECTIFY_MAX_PIXELS)?;
    Some(prep::sharpen(&stretched, 1.5, 1.5))
}

pub(super) fn push_distinct(found: &mut Vec<Vec<u8>>, payload: Vec<u8>) {
    if !payload.is_empty() && !found.contains(&payload) {
        found.push(payload);
    }
}
