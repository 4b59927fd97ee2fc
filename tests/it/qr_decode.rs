//! QR decoding from photos: payloads read from the shared corpus of damaged photos must equal the
//! envelopes its manifest lists; pictures made at test time by tests/qr_corpus/make_corpus.py
//! (segno writes the codes, so the expected texts come from outside this crate) with two codes,
//! a steep tilt, a halftone print, a 1-bit scan or a fax must be read; bad input must give an
//! error, never a panic.
//!
//! Tests never depend on the machine's speed: they give the decoder a budget far beyond what it
//! needs (the default budget is for operators, and a debug build is slower).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use airgap::carry::{self, Piece, ReadOptions};
use airgap::qr::decode::{
    decode_animation, decode_image, read_image, DecodeOptions, QrDecodeError,
};

/// A budget no test photo needs.
const GENEROUS: Duration = Duration::from_secs(600);

fn generous() -> DecodeOptions<'static> {
    DecodeOptions {
        budget: GENEROUS,
        wanted: None,
    }
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/qr-corpus")
}

/// file name -> (damage kind, xdr), from the corpus's own manifest.
fn manifest() -> BTreeMap<String, (String, String)> {
    let path = corpus_dir().join("manifest.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let json: serde_json::Value = serde_json::from_str(&text).expect("manifest.json is JSON");
    json.as_object()
        .expect("manifest.json is an object")
        .iter()
        .map(|(file, m)| {
            let damage = m["damage"].as_str().expect("damage").to_string();
            let xdr = m["xdr"].as_str().expect("xdr").to_string();
            (file.clone(), (damage, xdr))
        })
        .collect()
}

fn read(file: &str) -> Vec<u8> {
    let path = corpus_dir().join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Every photo of the shared corpus: its first payload must be the manifest's envelope.
#[test]
fn reads_every_photo_of_the_shared_corpus() {
    let manifest = manifest();
    let mut kinds: Vec<&String> = manifest.values().map(|(k, _)| k).collect();
    kinds.sort();
    kinds.dedup();
    assert!(
        kinds.len() >= 26,
        "the manifest lists {} damage kinds",
        kinds.len()
    );
    let mut failed = Vec::new();
    for (file, (_, xdr)) in &manifest {
        match read_image(&read(file), &generous()) {
            Ok(d) if d.payloads.first().map(Vec::as_slice) == Some(xdr.as_bytes()) => {}
            Ok(d) => failed.push(format!(
                "{file}: read {} other payload(s)",
                d.payloads.len()
            )),
            Err(e) => failed.push(format!("{file}: {e}")),
        }
    }
    assert!(failed.is_empty(), "not read: {failed:#?}");
}

/// A GIF whose frames carry two codes (one twice): both payloads, once each, in frame order.
#[test]
fn animation_reads_every_frame_once() {
    use image::codecs::gif::GifEncoder;
    use image::{Delay, Frame, Rgba, RgbaImage};

    let manifest = manifest();
    let files = [
        "clean_4ops_v0.png",
        "clean_1ops_v0.png",
        "clean_4ops_v0.png",
    ];
    let mut gif = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut gif);
        for file in files {
            let still = image::load_from_memory(&read(file))
                .expect("corpus image")
                .to_rgba8();
            let mut canvas = RgbaImage::from_pixel(700, 700, Rgba([255, 255, 255, 255]));
            image::imageops::overlay(&mut canvas, &still, 0, 0);
            let frame = Frame::from_parts(canvas, 0, 0, Delay::from_numer_denom_ms(200, 1));
            encoder.encode_frame(frame).expect("encode GIF frame");
        }
    }
    let got = decode_animation(&gif).expect("codes in the animation");
    let want: Vec<Vec<u8>> = files[..2]
        .iter()
        .map(|f| manifest[*f].1.as_bytes().to_vec())
        .collect();
    assert_eq!(got, want);

    // a still image through decode_animation is read like decode_image
    let still = decode_animation(&read("rot33_1ops_v0.png")).expect("code in the still");
    assert_eq!(
        still,
        vec![manifest["rot33_1ops_v0.png"].1.as_bytes().to_vec()]
    );
}

#[test]
fn non_image_bytes_are_not_an_image() {
    for bytes in [&b""[..], b"AAAAAgAAAAByM/b0+hrVfWhv8zKoKU", &[0u8; 64]] {
        assert!(matches!(
            decode_image(bytes),
            Err(QrDecodeError::NotAnImage)
        ));
        assert!(decode_animation(bytes).is_err());
    }
}

#[test]
fn truncated_png_is_an_error() {
    let png = read("clean_8ops_v0.png");
    for cut in [8, 33, 100, png.len() / 2, png.len() - 20] {
        match decode_image(&png[..cut]) {
            Err(QrDecodeError::Corrupt(_)) => {}
            other => panic!("PNG cut at {cut} of {}: {other:?}", png.len()),
        }
    }
}

#[test]
fn truncated_gif_is_an_error() {
    let mut gif = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut gif);
        let img = image::RgbaImage::from_pixel(64, 64, image::Rgba([0, 0, 0, 255]));
        encoder
            .encode_frame(image::Frame::new(img))
            .expect("encode GIF frame");
    }
    let cut = &gif[..gif.len() / 2];
    assert!(decode_animation(cut).is_err());
    assert!(decode_image(cut).is_err());
}

#[test]
fn image_without_a_code_is_no_qr_code() {
    let mut png = Vec::new();
    let blank = image::GrayImage::from_fn(320, 240, |x, y| {
        image::Luma([((x * 7 + y * 3) % 256) as u8])
    });
    blank
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("encode PNG");
    assert!(matches!(
        read_image(&png, &generous()),
        Err(QrDecodeError::NoQrCode)
    ));
}

/// A picture that runs out of budget fails with an error naming the budget (the budget here is
/// shorter than decoding the picture's file).
#[test]
fn running_out_of_budget_is_a_clear_error() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let noise = image::GrayImage::from_fn(1200, 1000, |_, _| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        image::Luma([(state >> 56) as u8])
    });
    let mut png = Vec::new();
    noise
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("encode PNG");
    let options = DecodeOptions {
        budget: Duration::from_micros(1),
        wanted: None,
    };
    let err = read_image(&png, &options).expect_err("nothing to read in noise");
    assert!(matches!(err, QrDecodeError::OutOfTime { .. }), "{err:?}");
    assert!(err.to_string().contains("decode budget of 0.00 s"), "{err}");
    // through carry, the same
    let err = carry::read(
        &png,
        &ReadOptions {
            decode_budget: Duration::from_micros(1),
        },
    )
    .expect_err("nothing to read");
    assert!(err.to_string().contains("decode budget"), "{err}");
}

/// A GIF that claims 65535 × 65535 pixels is refused before anything that size is allocated.
#[test]
fn huge_dimensions_are_refused() {
    let mut gif = Vec::new();
    gif.extend_from_slice(b"GIF89a");
    gif.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x80, 0, 0]); // screen 65535², 2-colour table
    gif.extend_from_slice(&[0, 0, 0, 255, 255, 255]);
    gif.extend_from_slice(&[0x2c, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0]); // one frame, full size
    gif.extend_from_slice(&[2, 2, 0x4c, 0x01, 0, 0x3b]); // a few LZW bytes, trailer
    for result in [decode_image(&gif), decode_animation(&gif)] {
        assert!(
            matches!(result, Err(QrDecodeError::TooLarge(_))),
            "{result:?}"
        );
    }
}

/// Pictures from tests/qr_corpus/make_corpus.py (`--set dev`): file name -> manifest entry.
fn generate(dir: &Path, kinds: &str, ops: &str, seed: u32) -> BTreeMap<String, serde_json::Value> {
    let script = crate::util::repo_root().join("tests/qr_corpus/make_corpus.py");
    let out = std::process::Command::new("python3")
        .arg(&script)
        .args([
            "--set",
            "dev",
            "--kinds",
            kinds,
            "--ops",
            ops,
            "--variants",
            "1",
        ])
        .args(["--seed", &seed.to_string()])
        .arg("--manifest")
        .arg(corpus_dir().join("manifest.json"))
        .arg("--out")
        .arg(dir)
        .output()
        .expect("run python3 tests/qr_corpus/make_corpus.py");
    assert!(
        out.status.success(),
        "make_corpus.py failed (pip install -r tests/requirements.txt):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.join("manifest.json")).expect("generated manifest");
    serde_json::from_str(&text).expect("manifest is JSON")
}

fn expected(entry: &serde_json::Value, key: &str) -> Vec<String> {
    entry[key]
        .as_array()
        .unwrap_or_else(|| panic!("manifest entry without {key}: {entry}"))
        .iter()
        .map(|v| v.as_str().expect("text").to_string())
        .collect()
}

fn envelopes(pieces: &[Piece]) -> Vec<String> {
    pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Envelope { base64, .. } => Some(base64.clone()),
            Piece::Part(_) => None,
        })
        .collect()
}

/// Every generated picture of `kinds` must yield exactly its envelopes (in any order), and name
/// every other code it holds as ignored; except at most `misses` of them (for damage so strong
/// that some pictures are out of reach: the rate is measured by bench/qr.py).
fn reads_generated(kinds: &str, ops: &str, seed: u32, misses: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let manifest = generate(dir.path(), kinds, ops, seed);
    assert!(!manifest.is_empty());
    let options = ReadOptions {
        decode_budget: GENEROUS,
    };
    let mut failed = Vec::new();
    for (file, entry) in &manifest {
        let bytes = std::fs::read(dir.path().join(file)).expect("generated picture");
        let mut want = expected(entry, "expect");
        want.sort();
        let mut others = expected(entry, "others");
        others.sort();
        match carry::read(&bytes, &options) {
            Ok(carried) => {
                let mut got = envelopes(&carried.pieces);
                got.sort();
                let mut ignored: Vec<String> =
                    carried.ignored.iter().map(|o| o.shown.clone()).collect();
                ignored.sort();
                // the ignored codes' texts, escaped as the note shows them
                let shown: Vec<String> = others
                    .iter()
                    .map(|t| airgap::review::escape_bytes(t.as_bytes()))
                    .map(|t| t.chars().take(carry::SHOWN_CHARS).collect())
                    .collect();
                if got != want || ignored != shown {
                    failed.push(format!(
                        "{file}: read {} of {} envelopes, ignored {ignored:?} (expected {shown:?})",
                        got.iter().filter(|g| want.contains(g)).count(),
                        want.len()
                    ));
                }
            }
            Err(e) => failed.push(format!("{file}: {e}")),
        }
    }
    assert!(
        failed.len() <= misses,
        "not read ({} allowed): {failed:#?}",
        misses
    );
}

/// The envelope's code and a URL (or Wi-Fi, or vCard) code in one photo: the envelope is read,
/// the other code is named, not fatal.
#[test]
fn envelope_and_url_code_in_one_photo() {
    reads_generated("two_url", "1,4,8", 14, 0);
}

/// Two envelopes' codes in one photo: both are returned.
#[test]
fn two_envelopes_in_one_photo_are_both_read() {
    reads_generated("two_env", "1,4", 14, 0);
}

/// Paper seen 50-60° off its normal, and 60-70°: the closest of these photos put the far
/// finder at 1.5 pixels a module or less, where neither this reader nor zxing-cpp finds it. The
/// relay reads about 70 % of such photos (docs/qr-decoder.md), zxing-cpp about half; these four
/// are harder than most, and two must be read.
#[test]
fn steep_tilt_photos() {
    reads_generated("tilt55,tilt65", "4,8", 14, 2);
}

/// A code printed as a newspaper halftone (dots on a 45° screen), scanned or photographed.
#[test]
fn halftone_prints() {
    reads_generated("halftone", "1,4", 14, 0);
}

/// 1-bit scans, and a standard-mode fax (pixels twice as tall as wide).
#[test]
fn one_bit_scans_and_faxes() {
    reads_generated("bilevel,fax", "1,4", 14, 0);
}

/// The relay, given a photo with the envelope's code and a URL code, prints the envelope on
/// stdout and names the URL code on stderr; given a photo with two envelopes, prints both.
#[test]
fn relay_decode_notes_other_codes_and_reports_two_envelopes() {
    let dir = crate::util::TestDir::new();
    let manifest = generate(dir.path(), "two_url,two_env", "1", 14);
    for (file, entry) in &manifest {
        let out = crate::util::run(
            dir.command("airgap-relay")
                .args(["decode", "--decode-budget", "10m"])
                .arg(file),
            None,
        );
        assert!(out.status.success(), "{file}:\n{}", crate::util::show(&out));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let mut got: Vec<&str> = stdout.lines().collect();
        got.sort();
        let mut want = expected(entry, "expect");
        want.sort();
        assert_eq!(got, want, "{file}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        for other in expected(entry, "others") {
            let shown: String = airgap::review::escape_bytes(other.as_bytes())
                .chars()
                .take(20)
                .collect();
            assert!(
                stderr.contains(&format!("also saw a QR code holding \"{shown}"))
                    && stderr.contains("ignored"),
                "{file}: no note of {other:?} in:\n{stderr}"
            );
        }
    }
}

/// `ur:` frames in several codes of one picture all count: a picture of all the frames of an
/// envelope (made by our own encoder, composed here) assembles into the envelope.
#[test]
fn frames_from_several_codes_in_one_picture() {
    use airgap::qr::encode::QrDensity;
    use base64::Engine;
    let xdr = manifest()
        .values()
        .map(|(_, x)| x.clone())
        .max_by_key(String::len)
        .expect("an envelope");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&xdr)
        .expect("base64");
    let parts = airgap::frames::encode_frames(&bytes, QrDensity::High).expect("frames");
    assert!(parts.len() >= 2, "{} frames", parts.len());
    let pngs = airgap::frames::frames_png(&parts, QrDensity::High).expect("PNGs");
    let tiles: Vec<image::GrayImage> = pngs
        .iter()
        .map(|p| image::load_from_memory(p).expect("frame PNG").to_luma8())
        .collect();
    let (tw, th) = (
        tiles.iter().map(|t| t.width()).max().unwrap(),
        tiles.iter().map(|t| t.height()).max().unwrap(),
    );
    let columns = 4u32;
    let rows = (tiles.len() as u32).div_ceil(columns);
    let mut sheet = image::GrayImage::from_pixel(columns * tw, rows * th, image::Luma([255]));
    for (i, t) in tiles.iter().enumerate() {
        let (x, y) = ((i as u32 % columns) * tw, (i as u32 / columns) * th);
        image::imageops::overlay(&mut sheet, t, i64::from(x), i64::from(y));
    }
    let mut png = Vec::new();
    sheet
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("encode PNG");
    let carried = carry::read(
        &png,
        &ReadOptions {
            decode_budget: GENEROUS,
        },
    )
    .expect("frames in the picture");
    let mut frames = carry::Frames::new();
    for piece in &carried.pieces {
        match piece {
            Piece::Part(part) => frames.feed(part, "sheet").expect("a good frame"),
            Piece::Envelope { .. } => panic!("a whole envelope among the frames"),
        }
    }
    let envelope = frames.finish().expect("all frames read");
    assert_eq!(airgap::envelope::encode(&envelope), xdr);
}
