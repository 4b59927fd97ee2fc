//! Reading a code's grid again when the paper is not flat.
//!
//! zxing-cpp samples a code through one perspective map per cell between alignment patterns.
//! On bent paper (a curled receipt, a label on a bottle, a page near the spine) the modules
//! drift away from any such map: the code is found, its version read, and then too many
//! modules are sampled off-centre for the error correction. Here the map is refined module by
//! module instead. A grid of control points every [`STEP`] modules starts from the three
//! finders (where the first map is exact) and spreads outwards; each point is moved to where
//! the modules around it look crispest — sampled at module centres they are clearly dark or
//! light, sampled across edges they are grey — and where the known parts of the symbol (finder,
//! timing and alignment patterns) have the colours they must have. Each point starts from its
//! finished neighbours' displacement and moves less than half a module, so the grid can follow
//! a drift of several modules across the symbol without jumping a whole module.

use image::GrayImage;
use rxing::common::{BitMatrix, PerspectiveTransform, Quadrilateral};
use rxing::qrcode::common::Version;
use rxing::qrcode::cpp_port::decoder::Decode;
use rxing::qrcode::cpp_port::detector::FinderPatternSet;
use rxing::Point;

/// Control points are this many modules apart.
const STEP: usize = 4;
/// Each control point moves at most this many modules from its neighbours' prediction.
const REACH: f32 = 0.45;
/// Search positions per axis (over −REACH..REACH), then a finer pass around the best.
const COARSE: i32 = 3;
/// Share of the three finders' modules that must show their colour through the first map
/// before a grid is refined at all (a cheap test that the finders are a code's).
const FINDERS_AGREE: f32 = 0.65;

/// What the grey image looks like through a module-to-pixel map.
struct Grey<'a> {
    image: &'a GrayImage,
}

impl Grey<'_> {
    /// Bilinear grey value at a pixel position (pixel centres at .5), 255 outside.
    fn at(&self, x: f32, y: f32) -> f32 {
        let (w, h) = (self.image.width() as i64, self.image.height() as i64);
        let (fx, fy) = (x - 0.5, y - 0.5);
        if !(fx >= 0.0 && fy >= 0.0 && fx <= (w - 1) as f32 && fy <= (h - 1) as f32) {
            return 255.0;
        }
        let (x0, y0) = (fx as i64, fy as i64);
        let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
        let (ax, ay) = (fx - x0 as f32, fy - y0 as f32);
        let raw = self.image.as_raw();
        let p = |x: i64, y: i64| f32::from(raw[(y * w + x) as usize]);
        (p(x0, y0) * (1.0 - ax) + p(x1, y0) * ax) * (1.0 - ay)
            + (p(x0, y1) * (1.0 - ax) + p(x1, y1) * ax) * ay
    }
}

/// The colour a module of the symbol must have, where the standard fixes it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Known {
    Free,
    Dark,
    Light,
}

fn known_modules(dim: usize, version: u32) -> Option<Vec<Known>> {
    let mut k = vec![Known::Free; dim * dim];
    let mut set = |x: i64, y: i64, dark: bool| {
        if x >= 0 && y >= 0 && (x as usize) < dim && (y as usize) < dim {
            k[y as usize * dim + x as usize] = if dark { Known::Dark } else { Known::Light };
        }
    };
    let d = dim as i64;
    for (cx, cy) in [(3, 3), (d - 4, 3), (3, d - 4)] {
        for dy in -4..=4i64 {
            for dx in -4..=4i64 {
                let r = dx.abs().max(dy.abs());
                set(cx + dx, cy + dy, r <= 1 || r == 3);
            }
        }
    }
    for i in 8..d - 8 {
        set(i, 6, i % 2 == 0);
        set(6, i, i % 2 == 0);
    }
    let centres = Version::getVersionForNumber(version)
        .ok()?
        .getAlignmentPatternCenters();
    let last = centres.len().saturating_sub(1);
    for (i, &cx) in centres.iter().enumerate() {
        for (j, &cy) in centres.iter().enumerate() {
            // no alignment pattern where a finder is
            if (i == 0 && (j == 0 || j == last)) || (i == last && j == 0) {
                continue;
            }
            for dy in -2..=2i64 {
                for dx in -2..=2i64 {
                    let r = dx.abs().max(dy.abs());
                    set(i64::from(cx) + dx, i64::from(cy) + dy, r != 1);
                }
            }
        }
    }
    Some(k)
}

/// A node's displacement predicted from its finished neighbours (within two nodes): a plane
/// fitted through theirs when they span one, else their mean, so a steady drift carries on.
/// The displacement at the node and its change per node step across and down.
type Prediction = ((f32, f32), (f32, f32), (f32, f32));

fn predict(offset: &[(f32, f32)], fixed: &[bool], nodes: usize, i: usize, j: usize) -> Prediction {
    let mut pts: Vec<(f32, f32, (f32, f32))> = Vec::new();
    for nj in j.saturating_sub(2)..=(j + 2).min(nodes - 1) {
        for ni in i.saturating_sub(2)..=(i + 2).min(nodes - 1) {
            if fixed[nj * nodes + ni] {
                pts.push((
                    ni as f32 - i as f32,
                    nj as f32 - j as f32,
                    offset[nj * nodes + ni],
                ));
            }
        }
    }
    if pts.is_empty() {
        return ((0.0, 0.0), (0.0, 0.0), (0.0, 0.0));
    }
    let n = pts.len() as f32;
    let (mut mx, mut my, mut ox, mut oy) = (0.0, 0.0, 0.0, 0.0);
    for &(x, y, (px, py)) in &pts {
        mx += x / n;
        my += y / n;
        ox += px / n;
        oy += py / n;
    }
    // least squares o = o_mean + a·(x − mx) + b·(y − my), evaluated at (0, 0)
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    let (mut sxo, mut syo) = ((0.0, 0.0), (0.0, 0.0));
    for &(x, y, (px, py)) in &pts {
        let (dx, dy) = (x - mx, y - my);
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
        sxo = (sxo.0 + dx * (px - ox), sxo.1 + dx * (py - oy));
        syo = (syo.0 + dy * (px - ox), syo.1 + dy * (py - oy));
    }
    let det = sxx * syy - sxy * sxy;
    if pts.len() < 3 || det.abs() < 1e-3 {
        return ((ox, oy), (0.0, 0.0), (0.0, 0.0));
    }
    let solve = |bx: f32, by: f32| ((bx * syy - by * sxy) / det, (sxx * by - sxy * bx) / det);
    let (ax, bx) = solve(sxo.0, syo.0);
    let (ay, by) = solve(sxo.1, syo.1);
    (
        (ox - ax * mx - bx * my, oy - ay * mx - by * my),
        (ax, ay),
        (bx, by),
    )
}

/// The first map of a code with finders `set` and `dim` modules a side: the finders' centres,
/// and the fourth corner completing the parallelogram.
fn first_map(set: &FinderPatternSet, dim: u32) -> Option<PerspectiveTransform> {
    let d = dim as f32;
    let br = Point::new(
        set.tr.p.x + set.bl.p.x - set.tl.p.x,
        set.tr.p.y + set.bl.p.y - set.tl.p.y,
    );
    PerspectiveTransform::quadrilateralToQuadrilateral(
        Quadrilateral::from([
            Point::new(3.5, 3.5),
            Point::new(d - 3.5, 3.5),
            Point::new(d - 3.5, d - 3.5),
            Point::new(3.5, d - 3.5),
        ]),
        Quadrilateral::from([set.tl.p, set.tr.p, br, set.bl.p]),
    )
    .ok()
}

fn valid_dim(dim: u32) -> bool {
    (21..=177).contains(&dim) && (dim - 17) % 4 == 0
}

/// How much the finders of `set` look like those of a code of `dim` modules through the first
/// map: the share of their 7 × 7 modules that are on the right side of their mean grey.
/// `None` below [`FINDERS_AGREE`] (a cheap test before the costly refinement).
pub(super) fn finders_agree(image: &GrayImage, set: &FinderPatternSet, dim: u32) -> Option<f32> {
    if !valid_dim(dim) {
        return None;
    }
    let map = first_map(set, dim)?;
    let grey = Grey { image };
    let last = dim as usize - 4;
    let mut modules = Vec::with_capacity(3 * 49);
    for (cx, cy) in [(3usize, 3usize), (last, 3), (3, last)] {
        for y in cy - 3..=cy + 3 {
            for x in cx - 3..=cx + 3 {
                let p = map.transform_point(Point::new(x as f32 + 0.5, y as f32 + 0.5));
                let r = (x as i64 - cx as i64)
                    .abs()
                    .max((y as i64 - cy as i64).abs());
                modules.push((grey.at(p.x, p.y), r <= 1 || r == 3));
            }
        }
    }
    let mean = modules.iter().map(|m| m.0).sum::<f32>() / modules.len() as f32;
    let agree = modules
        .iter()
        .filter(|(g, dark)| (*g < mean) == *dark)
        .count() as f32
        / modules.len() as f32;
    (agree >= FINDERS_AGREE).then_some(agree)
}

/// The payload of the code whose finders are `set` and which has `dim` modules a side, read
/// through a refined grid; `None` when it still does not decode.
pub(super) fn resample(
    image: &GrayImage,
    set: &FinderPatternSet,
    dim: u32,
    deadline: super::deadline::Deadline<'_>,
) -> Option<Vec<u8>> {
    if !valid_dim(dim) {
        return None;
    }
    let version = (dim - 17) / 4;
    let dim_us = dim as usize;
    let known = known_modules(dim_us, version)?;
    let d = dim as f32;
    let map = first_map(set, dim)?;
    let grey = Grey { image };
    let nodes = dim_us.div_ceil(STEP) + 1;
    let node_pos = |i: usize| ((i * STEP) as f32).min(d);
    let mut offset = vec![(0.0f32, 0.0f32); nodes * nodes];
    let mut done = vec![false; nodes * nodes];
    // breadth first from the three finder corners
    let mut queue = std::collections::VecDeque::new();
    done[0] = true;
    queue.push_back((0usize, 0usize));
    let mut order = Vec::with_capacity(nodes * nodes);
    while let Some((i, j)) = queue.pop_front() {
        order.push((i, j));
        for (di, dj) in [(1i64, 0i64), (-1, 0), (0, 1), (0, -1)] {
            let (ni, nj) = (i as i64 + di, j as i64 + dj);
            if ni < 0 || nj < 0 || ni >= nodes as i64 || nj >= nodes as i64 {
                continue;
            }
            let n = nj as usize * nodes + ni as usize;
            if !done[n] {
                done[n] = true;
                queue.push_back((ni as usize, nj as usize));
            }
        }
    }
    let mut fixed = vec![false; nodes * nodes];
    for (n, (i, j)) in order.into_iter().enumerate() {
        // a large grid takes a while: stop at the deadline
        if n % 64 == 63 && deadline.passed() {
            return None;
        }
        let (predicted, grad_u, grad_v) = predict(&offset, &fixed, nodes, i, j);
        let (u, v) = (node_pos(i), node_pos(j));
        let origin = map.transform_point(Point::new(u, v));
        let step = STEP as f32;
        let du = map.transform_point(Point::new(u + 1.0, v)) - origin
            + Point::new(grad_u.0 / step, grad_u.1 / step);
        let dv = map.transform_point(Point::new(u, v + 1.0)) - origin
            + Point::new(grad_v.0 / step, grad_v.1 / step);
        // the modules around the node
        let lo_u = (u as i64 - STEP as i64).max(0) as usize;
        let hi_u = ((u as usize) + STEP).min(dim_us - 1);
        let lo_v = (v as i64 - STEP as i64).max(0) as usize;
        let hi_v = ((v as usize) + STEP).min(dim_us - 1);
        // module centres around the node, through the map and the predicted drift's gradient
        let centres: Vec<(Point, Known)> = (lo_v..=hi_v)
            .flat_map(|mv| (lo_u..=hi_u).map(move |mu| (mu, mv)))
            .map(|(mu, mv)| {
                let (fu, fv) = (mu as f32 + 0.5, mv as f32 + 0.5);
                let (su, sv) = ((fu - u) / STEP as f32, (fv - v) / STEP as f32);
                let p = map.transform_point(Point::new(fu, fv));
                let q = Point::new(
                    p.x + grad_u.0 * su + grad_v.0 * sv,
                    p.y + grad_u.1 * su + grad_v.1 * sv,
                );
                (q, known[mv * dim_us + mu])
            })
            .collect();
        let score = |ox: f32, oy: f32| -> f32 {
            let values: Vec<f32> = centres
                .iter()
                .map(|(p, _)| grey.at(p.x + ox, p.y + oy))
                .collect();
            let mean = values.iter().sum::<f32>() / values.len() as f32;
            values
                .iter()
                .zip(&centres)
                .map(|(&g, (_, k))| match k {
                    Known::Free => (g - mean).abs(),
                    Known::Dark => 2.0 * (mean - g),
                    Known::Light => 2.0 * (g - mean),
                })
                .sum()
        };
        let mut best = (f32::NEG_INFINITY, predicted);
        let search = |cu: f32, cv: f32, span: f32, steps: i32, best: &mut (f32, (f32, f32))| {
            for a in -steps..=steps {
                for b in -steps..=steps {
                    let (mu, mv) = (
                        cu + span * a as f32 / steps as f32,
                        cv + span * b as f32 / steps as f32,
                    );
                    let ox = predicted.0 + du.x * mu + dv.x * mv;
                    let oy = predicted.1 + du.y * mu + dv.y * mv;
                    let s = score(ox, oy);
                    if s > best.0 {
                        *best = (s, (ox, oy));
                    }
                }
            }
        };
        search(0.0, 0.0, REACH, COARSE, &mut best);
        // refine around the best coarse position, in module units relative to the prediction
        let det = du.x * dv.y - du.y * dv.x;
        if det.abs() > 1e-6 {
            let (ex, ey) = (best.1 .0 - predicted.0, best.1 .1 - predicted.1);
            let cu = (ex * dv.y - ey * dv.x) / det;
            let cv = (du.x * ey - du.y * ex) / det;
            search(cu, cv, REACH / COARSE as f32, 2, &mut best);
        }
        offset[j * nodes + i] = best.1;
        fixed[j * nodes + i] = true;
    }
    // sample every module through the refined map, threshold each against its neighbourhood
    let node_at = |fu: f32, fv: f32| -> (f32, f32) {
        let (gu, gv) = (fu / STEP as f32, fv / STEP as f32);
        let (i0, j0) = ((gu as usize).min(nodes - 2), (gv as usize).min(nodes - 2));
        let (au, av) = (
            ((fu - node_pos(i0)) / (node_pos(i0 + 1) - node_pos(i0)).max(1e-3)).clamp(0.0, 1.0),
            ((fv - node_pos(j0)) / (node_pos(j0 + 1) - node_pos(j0)).max(1e-3)).clamp(0.0, 1.0),
        );
        let o = |i: usize, j: usize| offset[j * nodes + i];
        let lerp =
            |a: (f32, f32), b: (f32, f32), t: f32| (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
        let top = lerp(o(i0, j0), o(i0 + 1, j0), au);
        let bottom = lerp(o(i0, j0 + 1), o(i0 + 1, j0 + 1), au);
        lerp(top, bottom, av)
    };
    let mut values = vec![0f32; dim_us * dim_us];
    for mv in 0..dim_us {
        for mu in 0..dim_us {
            let (fu, fv) = (mu as f32 + 0.5, mv as f32 + 0.5);
            let p = map.transform_point(Point::new(fu, fv));
            let (ox, oy) = node_at(fu, fv);
            values[mv * dim_us + mu] = grey.at(p.x + ox, p.y + oy);
        }
    }
    let mut bits = BitMatrix::with_single_dimension(dim).ok()?;
    let r = 4i64;
    for mv in 0..dim_us as i64 {
        for mu in 0..dim_us as i64 {
            let (mut sum, mut n) = (0.0f32, 0.0f32);
            for y in (mv - r).max(0)..=(mv + r).min(dim_us as i64 - 1) {
                for x in (mu - r).max(0)..=(mu + r).min(dim_us as i64 - 1) {
                    sum += values[y as usize * dim_us + x as usize];
                    n += 1.0;
                }
            }
            if values[mv as usize * dim_us + mu as usize] < sum / n {
                bits.set(mu as u32, mv as u32);
            }
        }
    }
    let decoded = Decode(&bits).ok()?;
    if !decoded.isValid() {
        return None;
    }
    Some(decoded.content().bytes().to_vec())
}
