//! Limits on pictures from untrusted hands, checked from the file's headers before any pixel is
//! decoded: a 140 KB PNG can claim 12,000 × 12,000 pixels (hundreds of megabytes once decoded),
//! and a 108 KB GIF can hold thousands of frames, each decoded onto a full-size canvas.
use std::io::Cursor;

use image::ImageReader;

use super::decode::QrDecodeError;

/// Largest width or height accepted, in pixels.
pub const MAX_DIMENSION: u32 = 12_000;
/// Most pixels in one image or one frame (64 megapixels: more than any phone's photo).
pub const MAX_PIXELS: u64 = 64_000_000;
/// Most frames in one animated GIF (an envelope's `ur:` loop is tens of frames).
pub const MAX_FRAMES: usize = 1024;
/// Most bytes decoded from one file in all: every frame of a GIF is decoded onto a canvas of
/// the GIF's full size, four bytes a pixel.
pub const MAX_DECODED_BYTES: u64 = 1 << 30;

/// What the headers say a picture holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Shape {
    pub width: u32,
    pub height: u32,
    /// 1 for a still image; the number of image blocks for a GIF.
    pub frames: usize,
}

/// The picture's size and frame count from its headers, refused when over the limits above.
/// Bytes that are not a picture the `image` crate knows are `NotAnImage`; headers it cannot
/// read are `Corrupt`.
pub(super) fn check(bytes: &[u8]) -> Result<Shape, QrDecodeError> {
    let shape = if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        gif_shape(bytes)?
    } else {
        let reader = ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| QrDecodeError::Corrupt(e.to_string()))?;
        if reader.format().is_none() {
            return Err(QrDecodeError::NotAnImage);
        }
        let (width, height) = reader.into_dimensions().map_err(|e| match e {
            image::ImageError::Unsupported(_) => QrDecodeError::NotAnImage,
            other => QrDecodeError::Corrupt(other.to_string()),
        })?;
        Shape {
            width,
            height,
            frames: 1,
        }
    };
    area(shape.width, shape.height)?;
    if shape.frames > MAX_FRAMES {
        return Err(QrDecodeError::TooLarge(format!(
            "the animation has {} frames, more than the {MAX_FRAMES} accepted",
            shape.frames
        )));
    }
    let decoded = u64::from(shape.width) * u64::from(shape.height) * 4 * shape.frames as u64;
    if decoded > MAX_DECODED_BYTES {
        return Err(QrDecodeError::TooLarge(format!(
            "its {} frames of {} × {} pixels would decode to {} MiB, more than the {} MiB accepted",
            shape.frames,
            shape.width,
            shape.height,
            decoded >> 20,
            MAX_DECODED_BYTES >> 20
        )));
    }
    Ok(shape)
}

fn area(width: u32, height: u32) -> Result<(), QrDecodeError> {
    let pixels = u64::from(width) * u64::from(height);
    if width > MAX_DIMENSION || height > MAX_DIMENSION || pixels > MAX_PIXELS {
        return Err(QrDecodeError::TooLarge(format!(
            "it is {width} × {height} pixels; at most {} megapixels and {MAX_DIMENSION} pixels a side are accepted",
            MAX_PIXELS / 1_000_000
        )));
    }
    Ok(())
}

/// A GIF's logical screen and its number of image blocks, by walking its blocks (skipping
/// every data sub-block, decompressing nothing). Each frame's own size is checked too. A file
/// that ends early or holds an unknown block is counted up to there: the decoder reports it.
fn gif_shape(bytes: &[u8]) -> Result<Shape, QrDecodeError> {
    let short = || QrDecodeError::Corrupt("the GIF ends inside its header".into());
    let u16_at = |i: usize| u32::from(u16::from_le_bytes([bytes[i], bytes[i + 1]]));
    if bytes.len() < 13 {
        return Err(short());
    }
    let (width, height) = (u16_at(6), u16_at(8));
    let mut at = 13 + color_table(bytes[10]);
    let mut frames = 0usize;
    while let Some(&block) = bytes.get(at) {
        match block {
            0x21 => at = skip_sub_blocks(bytes, at + 2),
            0x2C => {
                if at + 10 > bytes.len() {
                    break;
                }
                area(u16_at(at + 5), u16_at(at + 7))?;
                frames += 1;
                // descriptor, local colour table, LZW minimum code size, then the data
                at = skip_sub_blocks(bytes, at + 10 + color_table(bytes[at + 9]) + 1);
            }
            _ => break,
        }
    }
    Ok(Shape {
        width,
        height,
        frames: frames.max(1),
    })
}

/// Bytes of the colour table a GIF flags byte announces.
fn color_table(flags: u8) -> usize {
    if flags & 0x80 == 0 {
        0
    } else {
        3 << ((flags & 7) + 1)
    }
}

/// The offset after the sub-blocks starting at `at` (each a length byte and that many bytes,
/// ended by a zero length); past the end when the file is cut short.
fn skip_sub_blocks(bytes: &[u8], mut at: usize) -> usize {
    while let Some(&len) = bytes.get(at) {
        at += 1;
        if len == 0 {
            return at;
        }
        at += usize::from(len);
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A GIF of `frames` 1 × 1 frames on a `w` × `h` screen, written block by block.
    fn gif(w: u16, h: u16, frames: usize) -> Vec<u8> {
        let mut b = b"GIF89a".to_vec();
        b.extend(w.to_le_bytes());
        b.extend(h.to_le_bytes());
        b.extend([0x80, 0, 0, 0, 0, 0, 255, 255, 255]); // 2-colour global table
        for _ in 0..frames {
            b.extend([0x21, 0xF9, 4, 0, 1, 0, 0, 0]); // graphic control, 10 ms
            b.extend([0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0]);
            b.extend([2, 2, 0x4C, 0x01, 0]);
        }
        b.push(0x3B);
        b
    }

    #[test]
    fn counts_gif_frames_without_decoding() {
        let shape = check(&gif(16, 16, 3)).unwrap();
        assert_eq!((shape.width, shape.height, shape.frames), (16, 16, 3));
        // the same bytes decode to three frames through the image crate
        let decoder = image::codecs::gif::GifDecoder::new(Cursor::new(gif(16, 16, 3))).unwrap();
        let n = image::AnimationDecoder::into_frames(decoder).count();
        assert_eq!(n, 3);
    }

    #[test]
    fn refuses_too_many_frames_and_too_many_bytes() {
        assert!(check(&gif(16, 16, MAX_FRAMES)).is_ok());
        let e = check(&gif(16, 16, MAX_FRAMES + 1)).unwrap_err();
        assert!(e.to_string().contains("1025 frames"), "{e}");
        // 1000 frames of a 400 × 700 screen: 1.1 GB of canvases
        let e = check(&gif(400, 700, 1000)).unwrap_err();
        assert!(e.to_string().contains("MiB"), "{e}");
        let e = check(&gif(9000, 9000, 1)).unwrap_err();
        assert!(e.to_string().contains("megapixels"), "{e}");
    }
}
