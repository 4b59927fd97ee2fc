//! Ways of preparing a grey photo before a detector looks at it: each undoes one kind of damage
//! (noise, blur, dim light, halftone dots, non-square pixels, steep viewing angles).
//!
//! Every function returns a new image and never allocates more than a small multiple of its
//! input (the callers bound the input's size), so none of them can be made to run away.

use image::{imageops, GrayImage};

/// The image shrunk to at most `max_pixels`, or a copy if it is smaller: by block means for the
/// integer part of the factor (fast, and it averages noise), then a triangle filter for the rest.
pub fn fit(image: &GrayImage, max_pixels: u64) -> GrayImage {
    let pixels = pixels(image);
    if pixels <= max_pixels {
        return image.clone();
    }
    let factor = (pixels as f64 / max_pixels.max(1) as f64).sqrt();
    let k = factor.floor() as u32;
    let shrunk = if k >= 2 {
        box_shrink_any(image, k)
    } else {
        image.clone()
    };
    let rest = (max_pixels as f64 / self::pixels(&shrunk) as f64).sqrt();
    if rest >= 1.0 {
        return shrunk;
    }
    // round down, so that the result is within the limit
    let w = ((f64::from(shrunk.width()) * rest).floor() as u32).max(1);
    let h = ((f64::from(shrunk.height()) * rest).floor() as u32).max(1);
    resize(&shrunk, w, h)
}

/// [`box_shrink`] without its minimum size (at least one pixel a side).
fn box_shrink_any(image: &GrayImage, k: u32) -> GrayImage {
    let (w, h) = ((image.width() / k).max(1), (image.height() / k).max(1));
    if image.width() < k || image.height() < k {
        return scale(
            image,
            f64::from(w) / f64::from(image.width()),
            f64::from(h) / f64::from(image.height()),
        );
    }
    shrink_blocks(image, k, w, h)
}

pub fn pixels(image: &GrayImage) -> u64 {
    u64::from(image.width()) * u64::from(image.height())
}

/// Scaled by `fx` across and `fy` down (each side at least one pixel): triangle filter, which
/// averages when shrinking.
pub fn scale(image: &GrayImage, fx: f64, fy: f64) -> GrayImage {
    let w = ((f64::from(image.width()) * fx).round() as u32).max(1);
    let h = ((f64::from(image.height()) * fy).round() as u32).max(1);
    resize(image, w, h)
}

/// Resized to `w` × `h` with a triangle filter (bilinear when enlarging; when shrinking, the
/// triangle widened to the scale, which averages): separable, 8-bit fixed-point weights, the
/// rows first (a sum of whole rows, which vectorises), then each row's pixels.
pub fn resize(image: &GrayImage, w: u32, h: u32) -> GrayImage {
    let (sw, sh) = (image.width() as usize, image.height() as usize);
    let (w, h) = (w.max(1) as usize, h.max(1) as usize);
    if sw == 0 || sh == 0 {
        return GrayImage::new(w as u32, h as u32);
    }
    let rows = triangle_taps(sh, h);
    let cols = triangle_taps(sw, w);
    let src = image.as_raw();
    let mut acc = vec![0u16; sw];
    let mut row = vec![0u8; sw];
    let mut out = vec![0u8; w * h];
    for (taps, dst) in rows.iter().zip(out.chunks_exact_mut(w)) {
        acc.fill(128);
        for &(sy, weight) in taps {
            add_weighted(&mut acc, &src[sy * sw..(sy + 1) * sw], weight);
        }
        store_rounded(&mut row, &acc);
        for (taps, d) in cols.iter().zip(dst.iter_mut()) {
            let sum: u32 = taps
                .iter()
                .map(|&(sx, weight)| u32::from(row[sx]) * u32::from(weight))
                .sum();
            *d = ((sum + 128) >> 8).min(255) as u8;
        }
    }
    GrayImage::from_raw(w as u32, h as u32, out).unwrap_or_default()
}

/// For each of `to` output positions, the source positions (of `from`) and their weights in
/// 256ths (summing to 256) of a triangle filter centred where the output pixel's centre falls.
fn triangle_taps(from: usize, to: usize) -> Vec<Vec<(usize, u16)>> {
    let scale = to as f64 / from as f64;
    // the filter's half-width in source pixels: 1 when enlarging, 1 / scale when shrinking
    let support = (1.0 / scale).max(1.0);
    (0..to)
        .map(|i| {
            let centre = (i as f64 + 0.5) / scale - 0.5;
            let lo = (centre - support).floor().max(0.0) as usize;
            let hi = ((centre + support).ceil() as usize).min(from - 1);
            let weights: Vec<(usize, f64)> = (lo..=hi)
                .map(|j| (j, (1.0 - (j as f64 - centre).abs() / support).max(0.0)))
                .filter(|&(_, wt)| wt > 0.0)
                .collect();
            if weights.is_empty() {
                // outside the source (cannot happen for i < to): the nearest pixel
                return vec![(centre.round().clamp(0.0, (from - 1) as f64) as usize, 256)];
            }
            let quantised = in_256ths(weights.iter().map(|&(_, wt)| wt));
            weights
                .iter()
                .zip(quantised)
                .filter(|&(_, wt)| wt > 0)
                .map(|(&(j, _), wt)| (j, wt))
                .collect()
        })
        .collect()
}

/// Shrunk by an integer factor, each output pixel the mean of a `k` × `k` block: the cheapest
/// low-pass there is, and one that flattens a halftone screen whose period is about `k`.
pub fn box_shrink(image: &GrayImage, k: u32) -> Option<GrayImage> {
    let (w, h) = (image.width() / k, image.height() / k);
    if k < 2 || w < 32 || h < 32 {
        return None;
    }
    Some(shrink_blocks(image, k, w, h))
}

fn shrink_blocks(image: &GrayImage, k: u32, w: u32, h: u32) -> GrayImage {
    let src = image.as_raw();
    let stride = image.width() as usize;
    let mut sums = vec![0u32; w as usize];
    let mut out = GrayImage::new(w, h);
    let area = k * k;
    for oy in 0..h as usize {
        sums.iter_mut().for_each(|s| *s = 0);
        for y in oy * k as usize..(oy + 1) * k as usize {
            let row = &src[y * stride..y * stride + (w * k) as usize];
            for (ox, block) in row.chunks_exact(k as usize).enumerate() {
                sums[ox] += block.iter().map(|&v| u32::from(v)).sum::<u32>();
            }
        }
        let dst = &mut out.as_mut()[oy * w as usize..(oy + 1) * w as usize];
        for (d, s) in dst.iter_mut().zip(&sums) {
            *d = ((s + area / 2) / area) as u8;
        }
    }
    out
}

pub fn invert(image: &GrayImage) -> GrayImage {
    let mut out = image.clone();
    imageops::invert(&mut out);
    out
}

/// Gaussian smoothing, against noise and halftone dots: separable, 8-bit fixed-point weights
/// (summing to 256) over ±3σ, borders extended. Each pass adds whole rows at once in 16 bits
/// (255 × 256 fits), which the compiler turns into wide vector instructions on any x86-64.
pub fn smooth(image: &GrayImage, sigma: f32) -> GrayImage {
    let kernel = gaussian_kernel(sigma);
    let r = kernel.len() / 2;
    let (w, h) = (image.width() as usize, image.height() as usize);
    if w == 0 || h == 0 {
        return image.clone();
    }
    let src = image.as_raw();
    let mut acc = vec![0u16; w];
    // across: each row, padded at both ends with its edge pixels
    let mut across = vec![0u8; w * h];
    let mut padded = vec![0u8; w + 2 * r];
    for (row, dst) in src.chunks_exact(w).zip(across.chunks_exact_mut(w)) {
        padded[r..r + w].copy_from_slice(row);
        padded[..r].fill(row[0]);
        padded[r + w..].fill(row[w - 1]);
        acc.fill(128);
        for (k, &weight) in kernel.iter().enumerate() {
            add_weighted(&mut acc, &padded[k..k + w], weight);
        }
        store_rounded(dst, &acc);
    }
    // down: each output row from the rows around it (the first and last repeated past the edges)
    let mut out = vec![0u8; w * h];
    for (y, dst) in out.chunks_exact_mut(w).enumerate() {
        acc.fill(128);
        for (k, &weight) in kernel.iter().enumerate() {
            let sy = (y + k).saturating_sub(r).min(h - 1);
            add_weighted(&mut acc, &across[sy * w..(sy + 1) * w], weight);
        }
        store_rounded(dst, &acc);
    }
    GrayImage::from_raw(image.width(), image.height(), out).unwrap_or_default()
}

/// A Gaussian's weights over ±3σ (at least ±1), in 256ths summing to exactly 256.
fn gaussian_kernel(sigma: f32) -> Vec<u16> {
    let radius = (3.0 * sigma).ceil().max(1.0) as usize;
    let weights: Vec<f32> = (0..=2 * radius)
        .map(|i| {
            let x = i as f32 - radius as f32;
            (-x * x / (2.0 * sigma * sigma)).exp()
        })
        .collect();
    in_256ths(weights.iter().map(|&w| f64::from(w)))
}

/// Positive weights scaled to 256ths that sum to exactly 256 (the heaviest takes what rounding
/// leaves over), for the 16-bit passes of [`add_weighted`].
fn in_256ths(weights: impl Iterator<Item = f64> + Clone) -> Vec<u16> {
    let total: f64 = weights.clone().sum();
    let mut out: Vec<u16> = weights
        .map(|w| (w / total * 256.0).round() as u16)
        .collect();
    let sum: i32 = out.iter().map(|&w| i32::from(w)).sum();
    if let Some(heaviest) = out.iter_mut().max_by_key(|w| **w) {
        *heaviest = (i32::from(*heaviest) + 256 - sum).max(0) as u16;
    }
    out
}

/// `acc[x] += weight · row[x]`; `acc` starts at 128 (rounding) and its weights sum to 256, so it
/// stays below 65,536.
fn add_weighted(acc: &mut [u16], row: &[u8], weight: u16) {
    for (a, &p) in acc.iter_mut().zip(row) {
        *a += u16::from(p) * weight;
    }
}

fn store_rounded(dst: &mut [u8], acc: &[u16]) {
    for (d, &a) in dst.iter_mut().zip(acc) {
        *d = (a >> 8) as u8;
    }
}

/// Unsharp mask: `x + amount · (x − gaussian(x, sigma))`, against blur.
pub fn sharpen(image: &GrayImage, sigma: f32, amount: f32) -> GrayImage {
    let blurred = smooth(image, sigma);
    let mut out = image.clone();
    // in 256ths: x + amount · (x − blurred), in integers so that it vectorises
    let amount = (amount * 256.0).round() as i32;
    for (o, &b) in out.as_mut().iter_mut().zip(blurred.as_raw()) {
        let x = i32::from(*o);
        let v = x + ((amount * (x - i32::from(b)) + 128) >> 8);
        *o = v.clamp(0, 255) as u8;
    }
    out
}

/// Linear map of the 1st..99th percentile to 0..255; `None` when the image is flat or already spans the range.
pub fn stretch(image: &GrayImage) -> Option<GrayImage> {
    let histogram = histogram(image);
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
    let mut lut = [0u8; 256];
    for (level, v) in lut.iter_mut().enumerate() {
        *v = ((level as f32 - lo as f32) * scale).clamp(0.0, 255.0) as u8;
    }
    Some(map(image, &lut))
}

fn histogram(image: &GrayImage) -> [usize; 256] {
    let mut histogram = [0usize; 256];
    for &p in image.as_raw() {
        histogram[usize::from(p)] += 1;
    }
    histogram
}

fn map(image: &GrayImage, lut: &[u8; 256]) -> GrayImage {
    let raw = image
        .as_raw()
        .iter()
        .map(|&p| lut[usize::from(p)])
        .collect();
    GrayImage::from_raw(image.width(), image.height(), raw).unwrap_or_default()
}

/// Local contrast normalisation: each pixel's difference from the mean of the square of radius
/// `radius` around it, divided by that square's mean absolute difference. A faded print (a
/// thermal receipt, a pale photocopy) has dark modules only a little darker than its paper, and
/// too little contrast for a binariser that looks for a minimum contrast per block; after this,
/// every region with any structure spans the whole grey range.
pub fn normalise(image: &GrayImage, radius: u32) -> GrayImage {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let src = image.as_raw();
    let mean = box_mean(src, w, h, radius as usize);
    let deviation: Vec<u8> = src
        .iter()
        .zip(&mean)
        .map(|(&x, &m)| (i32::from(x) - i32::from(m)).unsigned_abs().min(255) as u8)
        .collect();
    let spread = box_mean(&deviation, w, h, radius as usize);
    let out = src
        .iter()
        .zip(mean.iter().zip(&spread))
        .map(|(&x, (&m, &s))| {
            let d = f32::from(x) - f32::from(m);
            (128.0 + 50.0 * d / f32::from(s).max(3.0)).clamp(0.0, 255.0) as u8
        })
        .collect();
    GrayImage::from_raw(image.width(), image.height(), out).unwrap_or_default()
}

/// The mean of every (2r+1)² square (clipped at the borders): running sums along rows, then
/// along columns, so the cost does not grow with the radius.
fn box_mean(src: &[u8], w: usize, h: usize, r: usize) -> Vec<u8> {
    // the division below is exact up to this radius (the filters use 10 and 12)
    let r = r.min(31);
    // horizontal: sum of the row window, and its width
    let mut rows = vec![0u32; w * h];
    for y in 0..h {
        let row = &src[y * w..(y + 1) * w];
        let out = &mut rows[y * w..(y + 1) * w];
        let mut sum: u32 = row[..(r + 1).min(w)].iter().map(|&v| u32::from(v)).sum();
        for x in 0..w {
            out[x] = sum;
            if x + r + 1 < w {
                sum += u32::from(row[x + r + 1]);
            }
            if x >= r {
                sum -= u32::from(row[x - r]);
            }
        }
    }
    let width = |x: usize| ((x + r + 1).min(w) - x.saturating_sub(r)) as u32;
    let widths: Vec<u32> = (0..w).map(width).collect();
    // vertical: sum of the column window of row sums
    let mut out = vec![0u8; w * h];
    let mut sums: Vec<u32> = (0..w)
        .map(|x| (0..(r + 1).min(h)).map(|y| rows[y * w + x]).sum())
        .collect();
    // dividing by a square's area is multiplying by ⌈2³² / area⌉ and keeping the top bits:
    // exact while 255 · area² < 2³² (squares up to 63 × 63: see the radius limit above)
    let mut multipliers: Vec<u64> = Vec::new();
    let mut multipliers_for = 0;
    for y in 0..h {
        let height = ((y + r + 1).min(h) - y.saturating_sub(r)) as u32;
        if height != multipliers_for {
            multipliers_for = height;
            multipliers = widths
                .iter()
                .map(|&width| (1u64 << 32).div_ceil(u64::from(width * height)))
                .collect();
        }
        for ((o, &s), &m) in out[y * w..(y + 1) * w]
            .iter_mut()
            .zip(&sums)
            .zip(&multipliers)
        {
            *o = ((u64::from(s) * m) >> 32) as u8;
        }
        if y + r + 1 < h {
            let add = &rows[(y + r + 1) * w..(y + r + 2) * w];
            sums.iter_mut().zip(add).for_each(|(s, a)| *s += a);
        }
        if y >= r {
            let sub = &rows[(y - r) * w..(y - r + 1) * w];
            sums.iter_mut().zip(sub).for_each(|(s, a)| *s -= a);
        }
    }
    out
}

/// Grey-level erosion (`dark` = true: each pixel becomes the darkest of its 3 × 3 neighbourhood)
/// or dilation. Closing thin light gaps inside dark modules — a thermal printer's dead heater
/// dots, a scanner's dropped lines — is an erosion of the light (a "dark" min filter).
pub fn min_filter3(image: &GrayImage, dark: bool) -> GrayImage {
    let (w, h) = (image.width() as usize, image.height() as usize);
    if w < 3 || h < 3 {
        return image.clone();
    }
    let pick = |a: u8, b: u8| if dark { a.min(b) } else { a.max(b) };
    let src = image.as_raw();
    // horizontal pass, then vertical: a 3 × 3 square in two passes of three
    let mut tmp = src.clone();
    for y in 0..h {
        let row = &src[y * w..(y + 1) * w];
        let out = &mut tmp[y * w..(y + 1) * w];
        for x in 1..w - 1 {
            out[x] = pick(pick(row[x - 1], row[x]), row[x + 1]);
        }
    }
    let mut out = tmp.clone();
    for y in 1..h - 1 {
        for x in 0..w {
            let v = pick(
                pick(tmp[(y - 1) * w + x], tmp[y * w + x]),
                tmp[(y + 1) * w + x],
            );
            out[y * w + x] = v;
        }
    }
    GrayImage::from_raw(image.width(), image.height(), out).unwrap_or_default()
}

/// A 2 × 2 linear map (row-major `[a, b, c, d]`: `x' = a·x + b·y`, `y' = c·x + d·y`) applied to the
/// whole image, the result translated so that it fits: bilinear sampling of the source at the
/// inverse-mapped point of every output pixel. `None` when the map is singular or the result
/// would exceed `max_pixels`.
pub fn warp_linear(image: &GrayImage, m: [f64; 4], max_pixels: u64) -> Option<GrayImage> {
    let [a, b, c, d] = m;
    let det = a * d - b * c;
    if !det.is_finite() || det.abs() < 1e-6 {
        return None;
    }
    let (w, h) = (f64::from(image.width()), f64::from(image.height()));
    let corners =
        [(0.0, 0.0), (w, 0.0), (0.0, h), (w, h)].map(|(x, y)| (a * x + b * y, c * x + d * y));
    let min_x = corners.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let max_x = corners
        .iter()
        .map(|p| p.0)
        .fold(f64::NEG_INFINITY, f64::max);
    let min_y = corners.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let max_y = corners
        .iter()
        .map(|p| p.1)
        .fold(f64::NEG_INFINITY, f64::max);
    let (ow, oh) = ((max_x - min_x).ceil(), (max_y - min_y).ceil());
    if !(1.0..=f64::from(u32::MAX)).contains(&ow)
        || !(1.0..=f64::from(u32::MAX)).contains(&oh)
        || ow * oh > max_pixels as f64
    {
        return None;
    }
    let (ow, oh) = (ow as u32, oh as u32);
    // inverse map: output (X, Y) -> source (x, y)
    let (ia, ib, ic, id) = (d / det, -b / det, -c / det, a / det);
    let src = image.as_raw();
    let (sw, sh) = (image.width() as usize, image.height() as usize);
    let mut out = vec![255u8; ow as usize * oh as usize];
    // source positions in 16.16 fixed point: the row's first exactly, then a step per pixel
    const ONE: f64 = 65536.0;
    let (max_x, max_y) = (((sw - 1) as i64) << 16, ((sh - 1) as i64) << 16);
    let (step_x, step_y) = ((ia * ONE).round() as i64, (ic * ONE).round() as i64);
    for (oy, row) in out.chunks_exact_mut(ow as usize).enumerate() {
        let ty = oy as f64 + 0.5 + min_y;
        let tx = 0.5 + min_x;
        let mut x = ((ia * tx + ib * ty - 0.5) * ONE).round() as i64;
        let mut y = ((ic * tx + id * ty - 0.5) * ONE).round() as i64;
        for px in row.iter_mut() {
            if x >= 0 && y >= 0 && x <= max_x && y <= max_y {
                let (x0, y0) = ((x >> 16) as usize, (y >> 16) as usize);
                // bilinear weights in 256ths
                let (fx, fy) = (((x >> 8) & 255) as u32, ((y >> 8) & 255) as u32);
                let x1 = (x0 + 1).min(sw - 1);
                let y1 = (y0 + 1).min(sh - 1);
                let p = |xx: usize, yy: usize| u32::from(src[yy * sw + xx]);
                let top = p(x0, y0) * (256 - fx) + p(x1, y0) * fx;
                let bottom = p(x0, y1) * (256 - fx) + p(x1, y1) * fx;
                *px = ((top * (256 - fy) + bottom * fy + 32768) >> 16) as u8;
            }
            x += step_x;
            y += step_y;
        }
    }
    GrayImage::from_raw(ow, oh, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    #[test]
    fn box_shrink_averages_blocks() {
        let img = GrayImage::from_fn(64, 66, |x, _| Luma([if x % 2 == 0 { 0 } else { 200 }]));
        let out = box_shrink(&img, 2).unwrap();
        assert_eq!(out.dimensions(), (32, 33));
        assert!(out.pixels().all(|p| p[0] == 100));
        assert!(
            box_shrink(&img, 3).is_none(),
            "narrower than 32 after shrinking"
        );
    }

    #[test]
    fn warp_linear_stretches_and_refuses_singular_maps() {
        let img = GrayImage::from_fn(40, 20, |x, _| Luma([if x < 20 { 0 } else { 255 }]));
        let out = warp_linear(&img, [1.0, 0.0, 0.0, 2.0], 1 << 20).unwrap();
        assert_eq!(out.dimensions(), (40, 40));
        assert_eq!(out.get_pixel(5, 30)[0], 0);
        assert_eq!(out.get_pixel(35, 30)[0], 255);
        assert!(warp_linear(&img, [1.0, 2.0, 0.5, 1.0], 1 << 20).is_none());
        assert!(warp_linear(&img, [10.0, 0.0, 0.0, 10.0], 1000).is_none());
    }

    #[test]
    fn smooth_is_a_direct_gaussian_to_within_one_level() {
        let (w, h) = (37usize, 23usize);
        let img = GrayImage::from_fn(w as u32, h as u32, |x, y| {
            Luma([((x * 97 + y * 61 + x * y * 13) % 256) as u8])
        });
        for sigma in [1.0f32, 1.5, 2.0, 3.0] {
            let fast = smooth(&img, sigma);
            let r = (3.0 * sigma).ceil() as i64;
            let g = |d: i64| (-(d * d) as f64 / (2.0 * f64::from(sigma).powi(2))).exp();
            let total: f64 = (-r..=r).map(g).sum();
            for y in 0..h as i64 {
                for x in 0..w as i64 {
                    let mut v = 0.0;
                    for dy in -r..=r {
                        for dx in -r..=r {
                            let sx = (x + dx).clamp(0, w as i64 - 1) as u32;
                            let sy = (y + dy).clamp(0, h as i64 - 1) as u32;
                            v += g(dx) * g(dy) * f64::from(img.get_pixel(sx, sy)[0]);
                        }
                    }
                    let direct = v / (total * total);
                    let got = f64::from(fast.get_pixel(x as u32, y as u32)[0]);
                    assert!(
                        (got - direct).abs() <= 1.5,
                        "σ {sigma} ({x}, {y}): {got} vs {direct:.2}"
                    );
                }
            }
        }
    }

    #[test]
    fn resize_agrees_with_the_image_crates_triangle_filter() {
        let img = GrayImage::from_fn(53, 31, |x, y| {
            Luma([((x * 97 + y * 61 + x * y * 13) % 256) as u8])
        });
        for (w, h) in [(106, 62), (53, 62), (106, 31), (37, 22), (20, 11), (70, 19)] {
            let ours = resize(&img, w, h);
            let theirs = imageops::resize(&img, w, h, imageops::FilterType::Triangle);
            assert_eq!(ours.dimensions(), (w, h));
            let worst = ours
                .pixels()
                .zip(theirs.pixels())
                .map(|(a, b)| (i32::from(a[0]) - i32::from(b[0])).abs())
                .max()
                .unwrap();
            assert!(worst <= 3, "{w} × {h}: off by {worst}");
        }
        let flat = GrayImage::from_pixel(30, 20, Luma([201]));
        assert!(resize(&flat, 47, 9).pixels().all(|p| p[0] == 201));
    }

    #[test]
    fn smooth_keeps_flat_areas_and_spreads_an_impulse_evenly() {
        let flat = GrayImage::from_pixel(20, 10, Luma([77]));
        assert!(smooth(&flat, 1.5).pixels().all(|p| p[0] == 77));
        let mut dot = GrayImage::new(21, 21);
        dot.put_pixel(10, 10, Luma([255]));
        let out = smooth(&dot, 1.0);
        let centre = out.get_pixel(10, 10)[0];
        assert!(centre > 20 && centre < 60, "{centre}");
        for (dx, dy) in [(1, 0), (0, 1), (2, 2)] {
            assert_eq!(
                out.get_pixel(10 + dx, 10 + dy),
                out.get_pixel(10 - dx, 10 - dy)
            );
        }
    }

    #[test]
    fn normalise_lifts_a_faint_pattern_to_full_contrast() {
        let faint = GrayImage::from_fn(64, 64, |x, _| {
            Luma([if (x / 4) % 2 == 0 { 180 } else { 200 }])
        });
        let out = normalise(&faint, 8);
        let (lo, hi) = out
            .pixels()
            .fold((255, 0), |(lo, hi), p| (lo.min(p[0]), hi.max(p[0])));
        assert!(lo < 90 && hi > 170, "{lo}..{hi}");
    }

    #[test]
    fn box_mean_is_the_mean_of_the_clipped_square() {
        for (w, h, r) in [(7usize, 5usize, 2usize), (90, 70, 12), (130, 129, 31)] {
            let src: Vec<u8> = (0..w * h)
                .map(|i| if i % 7 < 4 { 255 } else { (i * 37 % 251) as u8 })
                .collect();
            let fast = box_mean(&src, w, h, r);
            for y in 0..h {
                for x in 0..w {
                    let (mut sum, mut n) = (0u32, 0u32);
                    for yy in y.saturating_sub(r)..(y + r + 1).min(h) {
                        for xx in x.saturating_sub(r)..(x + r + 1).min(w) {
                            sum += u32::from(src[yy * w + xx]);
                            n += 1;
                        }
                    }
                    assert_eq!(u32::from(fast[y * w + x]), sum / n, "({x}, {y})");
                }
            }
        }
    }

    #[test]
    fn fit_shrinks_to_the_limit() {
        let big = GrayImage::new(1000, 900);
        for max in [100_000, 250_000, 899_999] {
            let out = fit(&big, max);
            assert!(
                pixels(&out) <= max && pixels(&out) > max / 2,
                "{max}: {:?}",
                out.dimensions()
            );
        }
        assert_eq!(fit(&big, 900_000).dimensions(), (1000, 900));
    }

    #[test]
    fn min_filter_closes_a_one_pixel_gap() {
        let img = GrayImage::from_fn(9, 9, |x, _| Luma([if x == 4 { 255 } else { 0 }]));
        assert!(min_filter3(&img, true).pixels().all(|p| p[0] == 0));
    }
}
