//! Issue 12, hostile pictures: small files that claim huge images or thousands of frames are
//! refused from their headers, before any pixel is decoded, with a message that says why and
//! exit code 1, by every command that reads pictures (the relay's `decode` and `inspect`, the
//! signer's `--account`). The files are written here byte by byte (a GIF's blocks, a PNG's
//! header chunk) or made by the `image` crate and then given a larger size in their header.
//!
//! No test times anything: that the message names the header's numbers shows the refusal came
//! from the header, not from a decode that ran out of time or memory.
use std::path::Path;
use std::process::Output;

use crate::util::{run, show, TestDir, ISSUER};
use airgap::qr::decode::{read_image, DecodeOptions, QrDecodeError, MAX_FRAMES};

/// A GIF of `frames` 1 × 1 frames on a `w` × `h` screen, each with its own 10 ms delay: 4,096
/// frames take 61 KB.
fn gif(w: u16, h: u16, frames: usize) -> Vec<u8> {
    let mut b = b"GIF89a".to_vec();
    b.extend(w.to_le_bytes());
    b.extend(h.to_le_bytes());
    b.extend([0x80, 0, 0, 0, 0, 0, 255, 255, 255]);
    b.extend([0x21, 0xFF, 11]);
    b.extend(b"NETSCAPE2.0");
    b.extend([3, 1, 0, 0, 0]);
    for _ in 0..frames {
        b.extend([0x21, 0xF9, 4, 0, 1, 0, 0, 0]);
        b.extend([0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0]);
        b.extend([2, 2, 0x4C, 0x01, 0]);
    }
    b.push(0x3B);
    b
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
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

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend((data.len() as u32).to_be_bytes());
    let mut body = kind.to_vec();
    body.extend(data);
    out.extend(&body);
    out.extend(crc32(&body).to_be_bytes());
}

/// A PNG whose header says `w` × `h` 8-bit grey pixels, followed by a few bytes of data.
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 0, 0, 0, 0]);
    chunk(&mut b, b"IHDR", &ihdr);
    // the data hardly matters: the header alone must refuse the file
    chunk(
        &mut b,
        b"IDAT",
        &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    chunk(&mut b, b"IEND", &[]);
    b
}

/// A real 16 × 16 JPEG (the `image` crate's encoder) whose frame header then claims `w` × `h`:
/// a few hundred bytes that would decode to `w` × `h` pixels.
fn jpeg_claiming(w: u16, h: u16) -> Vec<u8> {
    let mut small = Vec::new();
    let img = image::GrayImage::from_pixel(16, 16, image::Luma([200]));
    image::codecs::jpeg::JpegEncoder::new(&mut small)
        .encode_image(&img)
        .expect("encode a JPEG");
    let sof = small
        .windows(2)
        .position(|m| m == [0xFF, 0xC0])
        .expect("a baseline JPEG has an SOF0 marker");
    small[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    small[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    small
}

/// The hostile files, each with words its refusal must contain.
fn hostile() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    vec![
        ("frames.gif", gif(16, 16, 4096), "4096 frames"),
        (
            "page.png",
            png_claiming(12_000, 12_000),
            "12000 × 12000 pixels",
        ),
        ("wide.png", png_claiming(60_000, 2), "60000 × 2 pixels"),
        (
            "bomb.jpg",
            jpeg_claiming(9_000, 9_000),
            "9000 × 9000 pixels",
        ),
    ]
}

fn library_refusal(bytes: &[u8]) -> String {
    let options = DecodeOptions::default();
    match read_image(bytes, &options) {
        Err(e @ QrDecodeError::TooLarge(_)) => e.to_string(),
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

#[test]
fn the_library_refuses_from_the_headers() {
    for (name, bytes, words) in hostile() {
        let e = library_refusal(&bytes);
        assert!(e.contains(words), "{name}: {e}");
        assert!(e.contains("too large to decode safely"), "{name}: {e}");
    }
    // the limits themselves: MAX_FRAMES frames are read, one more is refused
    assert!(!matches!(
        read_image(&gif(16, 16, MAX_FRAMES), &DecodeOptions::default()),
        Err(QrDecodeError::TooLarge(_))
    ));
    assert!(library_refusal(&gif(16, 16, MAX_FRAMES + 1)).contains("1025 frames"));
    // 300 frames of a 1000 × 1000 screen: each is decoded onto the whole screen, 1.2 GB in all
    assert!(library_refusal(&gif(1000, 1000, 300)).contains("MiB"));
}

/// Exit 1 and the refusal with its numbers; `report` when the command's report (stdout) is where
/// it says so, as `inspect`'s does; otherwise stdout stays empty and stderr says it.
fn refused(o: &Output, name: &str, words: &str, report: bool) {
    assert_eq!(o.status.code(), Some(1), "{name}: {}", show(o));
    let said = String::from_utf8_lossy(if report { &o.stdout } else { &o.stderr });
    assert!(said.contains(words), "{name}: {}", show(o));
    assert!(
        said.contains("too large to decode safely"),
        "{name}: {}",
        show(o)
    );
    assert!(!show(o).contains("panicked"), "{name}: {}", show(o));
    if !report {
        assert!(
            o.stdout.is_empty(),
            "{name}: nothing on stdout: {}",
            show(o)
        );
    }
}

fn write_all(dir: &TestDir) -> Vec<(&'static str, &'static str)> {
    hostile()
        .into_iter()
        .map(|(name, bytes, words)| {
            dir.write(name, bytes);
            (name, words)
        })
        .collect()
}

#[test]
fn the_relay_refuses_them_in_decode_and_inspect() {
    let dir = TestDir::new();
    for (name, words) in write_all(&dir) {
        let o = run(dir.command("airgap-relay").args(["decode", name]), None);
        refused(&o, name, words, false);
        let o = run(
            dir.command("airgap-relay").args([
                "inspect",
                "--offline",
                "--network",
                "testnet",
                name,
            ]),
            None,
        );
        refused(&o, name, words, true);
    }
}

#[test]
fn the_signer_refuses_them_as_account_context() {
    let dir = TestDir::new();
    let files = write_all(&dir);
    // a frames directory holding one of them fails the same way
    std::fs::create_dir(dir.join("frames")).unwrap();
    std::fs::write(dir.join("frames/frame-001.gif"), gif(16, 16, 4096)).unwrap();
    let cases = files
        .into_iter()
        .chain([("frames", "4096 frames")])
        .collect::<Vec<_>>();
    for (name, words) in cases {
        assert!(Path::new(&dir.join(name)).exists());
        let o = run(
            dir.command("airgap-signer")
                .args([
                    "payment",
                    "--destination",
                    crate::util::DEST,
                    "--asset",
                    "native",
                    "--amount",
                    "1",
                    "--network",
                    "testnet",
                    "--account",
                    name,
                    "--key",
                    "env:K",
                    "--yes",
                    "--out",
                    "out.xdr",
                ])
                .env("K", ISSUER.secret),
            None,
        );
        refused(&o, name, words, false);
        assert!(!dir.join("out.xdr").exists(), "{name}: nothing written");
    }
}
