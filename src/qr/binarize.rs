//! The black-and-white picture the detector reads: ZXing's hybrid (local block) binarizer, the
//! one rxing's `HybridBinarizer` implements, computed row by row so that it vectorises. Its bits
//! are exactly rxing's (the tests compare them); it takes a fraction of the time, which matters
//! because every attempt on a picture starts with it.
//!
//! The rule, as ZXing has it: the picture is cut into 8 × 8 blocks (the last row and column of
//! blocks moved inwards to end at the picture's edge, so they may overlap the one before). Each
//! block gets a black point: the mean of its pixels, or, when its pixels vary by no more than 24
//! levels, half its minimum, raised to its finished neighbours' (above, left twice, above-left)
//! mean when its minimum is below that. A pixel is black when it is no lighter than the mean
//! black point of the 5 × 5 blocks around its block (the 5 × 5 kept inside the picture); a pixel
//! in two overlapping blocks is black when either block makes it so.

use image::GrayImage;
use rxing::common::{BitArray, BitMatrix, HybridBinarizer};
use rxing::Binarizer;

const BLOCK: usize = 8;
/// Blocks whose pixels vary by no more than this are taken to be all light or all dark.
const MIN_DYNAMIC_RANGE: u8 = 24;
/// Below this many pixels a side, the block rule does not apply (ZXing uses a global histogram).
const MIN_SIDE: usize = BLOCK * 5;

/// The picture binarised as rxing's `HybridBinarizer` would; `None` for an empty picture.
pub(super) fn hybrid(image: &GrayImage) -> Option<BitMatrix> {
    let (w, h) = (image.width() as usize, image.height() as usize);
    if w < MIN_SIDE || h < MIN_SIDE {
        // small pictures take ZXing's other rule: rxing's own, cheap at this size
        let source =
            rxing::Luma8LuminanceSource::new(image.as_raw().clone(), image.width(), image.height())
                .ok()?;
        return HybridBinarizer::new(source)
            .get_black_matrix()
            .ok()
            .cloned();
    }
    let lum = image.as_raw();
    let (bw, bh) = (w.div_ceil(BLOCK), h.div_ceil(BLOCK));
    let points = black_points(lum, w, h, bw, bh);
    // each block's threshold: the mean black point of the 5 × 5 blocks around it
    let mut thresholds = vec![0u8; bw * bh];
    for by in 0..bh {
        let top = by.clamp(2, bh - 3);
        for bx in 0..bw {
            let left = bx.clamp(2, bw - 3);
            let sum: u32 = (top - 2..=top + 2)
                .map(|y| {
                    points[y * bw + left - 2..=y * bw + left + 2]
                        .iter()
                        .sum::<u32>()
                })
                .sum();
            thresholds[by * bw + bx] = (sum / 25).min(255) as u8;
        }
    }
    // where block b starts: its 8 pixels end at the edge at the latest
    let start = |b: usize, side: usize| (b * BLOCK).min(side - BLOCK);
    let mut matrix = BitMatrix::new(image.width(), image.height()).ok()?;
    let mut row_bits = BitArray::with_size(w);
    let mut limit = vec![0u8; w];
    let mut black = vec![0u8; w];
    let mut covering: Option<(usize, usize)> = None;
    for y in 0..h {
        // the block rows that hold row y: its own, and the last (moved inwards) if it does too
        let own = (y / BLOCK).min(bh - 1);
        let last = bh - 1;
        let rows = if own != last && y >= start(last, h) {
            (own, last)
        } else {
            (own, own)
        };
        if covering != Some(rows) {
            covering = Some(rows);
            limit.fill(0);
            for by in [rows.0, rows.1] {
                for bx in 0..bw {
                    let t = thresholds[by * bw + bx];
                    let x0 = start(bx, w);
                    for l in &mut limit[x0..x0 + BLOCK] {
                        *l = (*l).max(t);
                    }
                }
            }
        }
        // black = 1, one byte a pixel (vectorises), then 8 bytes packed into 8 bits at a time
        for ((b, &p), &l) in black.iter_mut().zip(&lum[y * w..(y + 1) * w]).zip(&limit) {
            *b = u8::from(p <= l);
        }
        // rxing's bit words are usizes
        let word_bits = usize::BITS as usize;
        for (word, bytes) in black.chunks(word_bits).enumerate() {
            let mut bits = 0u64;
            for (i, eight) in bytes.chunks(8).enumerate() {
                let mut lanes = [0u8; 8];
                lanes[..eight.len()].copy_from_slice(eight);
                // byte i (0 or 1) to bit i
                let packed = u64::from_le_bytes(lanes).wrapping_mul(0x0102_0408_1020_4080) >> 56;
                bits |= packed << (8 * i);
            }
            row_bits.setBulk(word * word_bits, bits as usize);
        }
        matrix.setRow(y as u32, &row_bits);
    }
    Some(matrix)
}

/// Each block's black point, blocks in raster order (a flat block looks at the finished ones
/// above and to its left). Each block row's 8 pixel rows are first folded column by column
/// (sum, minimum, maximum: whole rows at once, which vectorises), then each block takes its 8
/// columns.
fn black_points(lum: &[u8], w: usize, h: usize, bw: usize, bh: usize) -> Vec<u32> {
    let mut points = vec![0u32; bw * bh];
    let (mut sums, mut mins, mut maxs) = (vec![0u16; w], vec![0u8; w], vec![0u8; w]);
    for by in 0..bh {
        let y0 = (by * BLOCK).min(h - BLOCK);
        let first = &lum[y0 * w..(y0 + 1) * w];
        for (((s, lo), hi), &p) in sums.iter_mut().zip(&mut mins).zip(&mut maxs).zip(first) {
            (*s, *lo, *hi) = (u16::from(p), p, p);
        }
        for y in y0 + 1..y0 + BLOCK {
            let row = &lum[y * w..(y + 1) * w];
            for (((s, lo), hi), &p) in sums.iter_mut().zip(&mut mins).zip(&mut maxs).zip(row) {
                *s += u16::from(p);
                *lo = (*lo).min(p);
                *hi = (*hi).max(p);
            }
        }
        for bx in 0..bw {
            let x0 = (bx * BLOCK).min(w - BLOCK);
            let cols = x0..x0 + BLOCK;
            let sum: u32 = sums[cols.clone()].iter().map(|&s| u32::from(s)).sum();
            let min = mins[cols.clone()].iter().fold(u8::MAX, |m, &p| m.min(p));
            let max = maxs[cols].iter().fold(u8::MIN, |m, &p| m.max(p));
            let point = if max - min > MIN_DYNAMIC_RANGE {
                sum / (BLOCK * BLOCK) as u32
            } else {
                // a flat block: light ground unless its finished neighbours say it is darker
                let mut point = u32::from(min) / 2;
                if by > 0 && bx > 0 {
                    let neighbours = (points[(by - 1) * bw + bx]
                        + 2 * points[by * bw + bx - 1]
                        + points[(by - 1) * bw + bx - 1])
                        / 4;
                    if u32::from(min) < neighbours {
                        point = neighbours;
                    }
                }
                point
            };
            points[by * bw + bx] = point;
        }
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    fn rxings(image: &GrayImage) -> BitMatrix {
        let source =
            rxing::Luma8LuminanceSource::new(image.as_raw().clone(), image.width(), image.height())
                .unwrap();
        HybridBinarizer::new(source)
            .get_black_matrix()
            .unwrap()
            .clone()
    }

    #[test]
    fn the_bits_are_rxings() {
        // noise, gradients, flat areas (the flat-block rule) and sizes off the block grid
        let mut seed = 0x9e37_79b9_u32;
        let mut noise = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        for (w, h) in [
            (40, 40),
            (41, 47),
            (64, 64),
            (127, 65),
            (200, 131),
            (333, 257),
        ] {
            let pictures = [
                GrayImage::from_fn(w, h, |_, _| Luma([(noise() % 256) as u8])),
                GrayImage::from_fn(w, h, |x, y| {
                    Luma([((x * 255 / w + y * 3) % 256) as u8 / 2 + (noise() % 20) as u8])
                }),
                GrayImage::from_fn(w, h, |x, y| {
                    let module = ((x / 7) + (y / 7)) % 2 == 0 || (x > w / 2 && y > h / 3);
                    Luma([if module { 30 } else { 200 } + (noise() % 8) as u8])
                }),
                GrayImage::from_fn(w, h, |x, _| Luma([if x < w / 3 { 100 } else { 104 }])),
            ];
            for picture in pictures {
                let ours = hybrid(&picture).unwrap();
                assert_eq!(ours, rxings(&picture), "{w} × {h}");
            }
        }
        // below the block rule's size: rxing's global rule, as is
        let small = GrayImage::from_fn(39, 60, |x, y| Luma([((x * y) % 256) as u8]));
        assert_eq!(hybrid(&small).unwrap(), rxings(&small));
    }
}
