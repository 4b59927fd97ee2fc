//! Blob formats end to end: UR frames, GIF, single QR codes, SEP-7.
//!
//! Independent oracles: rqrr and zxing-cpp read our QR codes, the `image` crate's GIF decoder
//! reads our GIF, the Stellar Python SDK (stellar-sdk) builds envelopes and reads and writes
//! SEP-7 URIs, and the reference JavaScript UR library (@ngraveio/bc-ur, under Node.js) reads
//! and writes UR frames. Tests that need Python or Node.js packages fail with an install hint
//! when a package is missing.

use std::io::Write;
use std::process::{Command, Stdio};

use airgap::frames::{
    decode_frames, encode_frames, frames_gif, frames_png, FrameAssembler, FramesError,
};
use airgap::qr::encode::{
    render_png, render_svg, render_terminal, single_qr, QrDensity, QrEncodeError, SINGLE_MAX_BYTES,
};
use airgap::sep7::{parse_tx_uri, tx_uri, Sep7Error};
use image::{imageops, GrayImage};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, RngCore, SeedableRng};

use crate::util::{python, run_python};

const DENSITIES: [QrDensity; 3] = [QrDensity::Low, QrDensity::Medium, QrDensity::High];

fn random_bytes(rng: &mut StdRng, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    rng.fill_bytes(&mut v);
    v
}

/// Every QR code rqrr finds in the image, as text.
fn rqrr_read(img: &GrayImage) -> Vec<String> {
    let mut prepared = rqrr::PreparedImage::prepare(img.clone());
    prepared
        .detect_grids()
        .into_iter()
        .filter_map(|g| g.decode().ok().map(|(_, text)| text))
        .collect()
}

/// A camera's view of a code on a screen: the whole image (code and quiet zone) scaled to
/// `side` pixels square, blurred with a Gaussian of `sigma` pixels, contrast reduced to grey
/// 40..215 as under screen glare.
fn camera(img: &GrayImage, side: u32, sigma: f32) -> GrayImage {
    let small = imageops::resize(img, side, side, imageops::FilterType::Triangle);
    let mut blurred = imageops::blur(&small, sigma);
    for p in blurred.pixels_mut() {
        p.0[0] = 40 + ((u32::from(p.0[0]) * 175) / 255) as u8;
    }
    blurred
}

/// Runs `script` under the oracles' Python (`util::python`) with `stdin`; its stdout.
fn py(script: &str, stdin: &str) -> String {
    let out = run_python(python().arg("-c").arg(script), Some(stdin.as_bytes()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "python failed:\n{stderr}");
    String::from_utf8(out.stdout).expect("python prints UTF-8")
}

// ---------------------------------------------------------------- UR frames

/// Drops a random quarter of the frames, shuffles the rest and repeats some.
fn lossy_channel(rng: &mut StdRng, frames: &[String]) -> Vec<String> {
    let mut kept: Vec<String> = frames.to_vec();
    kept.shuffle(rng);
    kept.truncate(frames.len() - frames.len() / 4);
    let repeats: Vec<String> = (0..kept.len() / 5)
        .map(|_| kept[rng.gen_range(0..kept.len())].clone())
        .collect();
    kept.extend(repeats);
    kept.shuffle(rng);
    kept
}

#[test]
fn frames_round_trip_through_a_lossy_channel() {
    let mut rng = StdRng::seed_from_u64(0x5ee7_a1a6);
    let mut lengths: Vec<usize> = (300..=14000).step_by(977).collect();
    lengths.extend([300, 301, 14000]);
    for len in lengths {
        for density in DENSITIES {
            let envelope = random_bytes(&mut rng, len);
            let frames = encode_frames(&envelope, density).expect("encodes");
            let mut received = lossy_channel(&mut rng, &frames);
            // A fountain decoder may need more parts than the channel let through: keep
            // "watching the loop" the way a phone would until it completes.
            received.extend(frames.iter().cloned().cycle().take(frames.len() * 4));
            let mut a = FrameAssembler::new();
            let mut fed = 0;
            for f in &received {
                fed += 1;
                if a.feed(f).expect("every frame is valid").complete {
                    break;
                }
            }
            let p = a.progress();
            assert!(
                p.complete,
                "{len} bytes at {density}: incomplete after {fed}"
            );
            assert_eq!(p.fragments_resolved, p.parts_needed);
            assert_eq!(a.finish().as_deref(), Some(envelope.as_slice()));
        }
    }
}

#[test]
fn frames_complete_from_the_lossy_channel_alone_most_of_the_time() {
    // 3n frames with a quarter lost leave 2.25n; fountain decoding nearly always succeeds.
    let mut rng = StdRng::seed_from_u64(7);
    let mut complete = 0;
    let trials = 60;
    for i in 0..trials {
        let envelope = random_bytes(&mut rng, 2000 + 200 * i);
        let frames = encode_frames(&envelope, QrDensity::Medium).expect("encodes");
        let received = lossy_channel(&mut rng, &frames);
        if let Ok(bytes) = decode_frames(&received) {
            assert_eq!(bytes, envelope);
            complete += 1;
        }
    }
    println!("complete from one lossy pass: {complete} of {trials}");
    assert!(complete * 10 >= trials * 9, "{complete} of {trials}");
}

#[test]
fn frames_are_upper_case_ur_bytes_with_pure_parts_first() {
    let mut rng = StdRng::seed_from_u64(1);
    let envelope = random_bytes(&mut rng, 3000);
    let frames = encode_frames(&envelope, QrDensity::Medium).expect("encodes");
    // The fragment count, from the first frame's `seq-count` header.
    let n: usize = frames[0]
        .split('/')
        .nth(1)
        .and_then(|sc| sc.split('-').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("UR:BYTES/1-n/");
    assert!(n > 1);
    assert_eq!(
        frames.len(),
        n + (3 * n).max(24),
        "pure fragments, then at least 3n and 24 fountain frames"
    );
    for (i, f) in frames.iter().enumerate() {
        assert!(
            f.starts_with(&format!("UR:BYTES/{}-{n}/", i + 1)),
            "frame {i}: {f}"
        );
        assert_eq!(*f, f.to_ascii_uppercase());
    }
    // The first n frames alone, in any order, complete the message.
    let mut first: Vec<String> = frames[..n].to_vec();
    first.reverse();
    assert_eq!(decode_frames(&first).ok(), Some(envelope.clone()));
    // Lower case reads the same.
    let lower: Vec<String> = frames[..n].iter().map(|f| f.to_lowercase()).collect();
    assert_eq!(decode_frames(&lower).ok(), Some(envelope));
}

#[test]
fn a_corrupted_part_fails_its_checksum() {
    let mut rng = StdRng::seed_from_u64(2);
    let envelope = random_bytes(&mut rng, 2500);
    let frames = encode_frames(&envelope, QrDensity::Low).expect("encodes");
    let good = &frames[3];
    // Swap one byteword of the body for another valid byteword ("ABLE" <-> "ACID").
    let body_start = good.rfind('/').expect("has a body") + 1;
    let mut corrupted = good.clone();
    let word = &good[body_start + 8..body_start + 10];
    let replacement = if word == "AD" { "AE" } else { "AD" };
    corrupted.replace_range(body_start + 8..body_start + 10, replacement);
    let mut a = FrameAssembler::new();
    a.feed(&frames[0]).expect("good part");
    let err = a.feed(&corrupted).expect_err("corrupted part");
    assert!(matches!(err, FramesError::Checksum), "{err:?}");
    assert!(err.to_string().contains("checksum"), "{err}");
    // The assembler is unharmed and completes from the good parts.
    for f in &frames {
        a.feed(f).expect("good part");
    }
    assert_eq!(a.finish(), Some(envelope));
}

#[test]
fn parts_of_two_envelopes_are_an_error_naming_both() {
    let mut rng = StdRng::seed_from_u64(3);
    let first = encode_frames(&random_bytes(&mut rng, 4000), QrDensity::Medium).expect("encodes");
    let second = encode_frames(&random_bytes(&mut rng, 4100), QrDensity::Medium).expect("encodes");
    let mut a = FrameAssembler::new();
    a.feed(&first[0]).expect("first part");
    let err = a.feed(&second[1]).expect_err("other envelope");
    match &err {
        FramesError::OtherMessage { expected, found } => {
            assert_ne!(expected, found);
            let text = err.to_string();
            assert!(text.contains(&expected.to_string()), "{text}");
            assert!(text.contains(&found.to_string()), "{text}");
            // 4000 bytes wrap to 4003, 4100 to 4103 (CBOR header 0x59 + two length bytes).
            assert_eq!((expected.length, found.length), (4003, 4103));
        }
        other => panic!("expected OtherMessage, got {other:?}"),
    }
    // Same message at another density is a different encoding, also refused.
    let mut rng = StdRng::seed_from_u64(4);
    let env = random_bytes(&mut rng, 5000);
    let medium = encode_frames(&env, QrDensity::Medium).expect("encodes");
    let high = encode_frames(&env, QrDensity::High).expect("encodes");
    let mut a = FrameAssembler::new();
    a.feed(&medium[0]).expect("part");
    assert!(matches!(
        a.feed(&high[0]),
        Err(FramesError::OtherFragmentSize { .. })
    ));
}

#[test]
fn frame_pngs_decode_with_rqrr() {
    let mut rng = StdRng::seed_from_u64(5);
    let envelope = random_bytes(&mut rng, 700);
    for density in DENSITIES {
        let frames = encode_frames(&envelope, density).expect("encodes");
        let pngs = frames_png(&frames, density).expect("renders");
        assert_eq!(pngs.len(), frames.len());
        let mut size = None;
        let mut read = Vec::new();
        for png in &pngs {
            let img = image::load_from_memory(png).expect("valid PNG").to_luma8();
            assert_eq!(*size.get_or_insert(img.dimensions()), img.dimensions());
            read.extend(rqrr_read(&img));
        }
        assert_eq!(read, frames, "{density}");
        assert_eq!(decode_frames(&read).ok().as_ref(), Some(&envelope));
    }
}

#[test]
fn gif_frames_decode_back_to_the_envelope() {
    use image::AnimationDecoder;
    let mut rng = StdRng::seed_from_u64(6);
    let envelope = random_bytes(&mut rng, 1000);
    let frames = encode_frames(&envelope, QrDensity::Medium).expect("encodes");
    let gif = frames_gif(&frames, QrDensity::Medium).expect("renders");
    let decoder =
        image::codecs::gif::GifDecoder::new(std::io::Cursor::new(gif)).expect("valid GIF");
    let decoded: Vec<image::Frame> = decoder.into_frames().collect_frames().expect("GIF frames");
    assert_eq!(decoded.len(), frames.len());
    let mut a = FrameAssembler::new();
    for (i, frame) in decoded.iter().enumerate() {
        assert_eq!(
            frame.delay().numer_denom_ms(),
            (airgap::frames::GIF_FRAME_DELAY_MS, 1)
        );
        let gray = image::DynamicImage::ImageRgba8(frame.buffer().clone()).to_luma8();
        let texts = rqrr_read(&gray);
        assert_eq!(texts, vec![frames[i].clone()], "GIF frame {i}");
        a.feed(&texts[0]).expect("valid part");
    }
    assert_eq!(a.finish(), Some(envelope));
}

/// Camera-side image size (pixels across, quiet zone included) around which rqrr reads the
/// frames of each density; see the measurement in docs/formats.md.
fn rqrr_camera_side(density: QrDensity) -> u32 {
    match density {
        QrDensity::Low => 240,
        QrDensity::Medium => 400,
        QrDensity::High => 400,
    }
}

/// Samples of a 10 KB envelope's frames: the first, two middle ones and the last two (fountain).
fn sample_frames(density: QrDensity) -> (Vec<String>, Vec<GrayImage>) {
    let mut rng = StdRng::seed_from_u64(10_000);
    let envelope = random_bytes(&mut rng, 10_000);
    let frames = encode_frames(&envelope, density).expect("encodes");
    let n = frames.len();
    let sample: Vec<String> = [0, n / 3, n / 2, n - 2, n - 1]
        .iter()
        .map(|&i| frames[i].clone())
        .collect();
    let images = frames_png(&sample, density)
        .expect("renders")
        .iter()
        .map(|png| image::load_from_memory(png).expect("PNG").to_luma8())
        .collect();
    (sample, images)
}

#[test]
fn frames_seen_by_a_moving_camera_reassemble_with_rqrr() {
    // Every frame of a 2 KB envelope through the camera simulation, the distance changing from
    // frame to frame as a hand-held phone's does (±10 % around the density's size). rqrr misses
    // some frames; the fountain frames make up for them.
    let mut rng = StdRng::seed_from_u64(12);
    let envelope = random_bytes(&mut rng, 2000);
    for density in DENSITIES {
        let frames = encode_frames(&envelope, density).expect("encodes");
        let pngs = frames_png(&frames, density).expect("renders");
        let base = rqrr_camera_side(density);
        let mut a = FrameAssembler::new();
        let mut read = 0;
        for (i, png) in pngs.iter().enumerate() {
            let img = image::load_from_memory(png).expect("PNG").to_luma8();
            let side = base - base / 10 + (i as u32 % 5) * base / 20;
            for text in rqrr_read(&camera(&img, side, 1.0)) {
                assert_eq!(text, frames[i], "rqrr misread frame {i}");
                read += 1;
                a.feed(&text).expect("valid part");
            }
        }
        println!("{density}: rqrr read {read} of {} frames", frames.len());
        assert!(
            read * 2 >= frames.len(),
            "{density}: read only {read} of {}",
            frames.len()
        );
        assert_eq!(a.finish().as_ref(), Some(&envelope), "{density}");
    }
}

#[test]
fn dense_frames_survive_a_camera_zxing() {
    // zxing-cpp, the decoder family of phone QR readers, on a smaller camera image (320 px).
    let dir = tempfile::tempdir().expect("temp dir");
    let mut expected = Vec::new();
    let mut paths = Vec::new();
    for density in DENSITIES {
        let (texts, images) = sample_frames(density);
        for (i, (text, img)) in texts.into_iter().zip(images).enumerate() {
            let path = dir.path().join(format!("{density}-{i}.png"));
            camera(&img, 320, 1.0).save(&path).expect("write PNG");
            paths.push(path.display().to_string());
            expected.push(text);
        }
    }
    let read = zxing_read(&paths);
    assert_eq!(read, expected);
}

/// Reads one QR code from each PNG with zxing-cpp; an empty string where none was found.
fn zxing_read(paths: &[String]) -> Vec<String> {
    let out = py(
        r#"
import json, sys
import zxingcpp
from PIL import Image
out = []
for path in json.load(sys.stdin):
    found = zxingcpp.read_barcodes(Image.open(path).convert("L"))
    out.append(found[0].text if len(found) == 1 else "")
print(json.dumps(out))
"#,
        &serde_json::to_string(paths).expect("JSON"),
    );
    serde_json::from_str(&out).expect("zxing output is JSON")
}

/// Runs a Node.js script with `@ngraveio/bc-ur`, the Blockchain Commons UR implementation that
/// Keystone's libraries build on.
fn node(script: &str, stdin: &str) -> String {
    let modules = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js/node_modules");
    let mut child = Command::new("node")
        .env("NODE_PATH", modules)
        .arg("-e")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node (Node.js) must be installed to run this test");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin.as_bytes())
        .expect("write to node");
    let out = child.wait_with_output().expect("node runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("Cannot find module") {
        panic!(
            "the UR oracle is missing; install the JS oracles with `npm ci --prefix tests/js`:\n{stderr}"
        );
    }
    assert!(out.status.success(), "node failed:\n{stderr}");
    String::from_utf8(out.stdout).expect("node prints UTF-8")
}

#[test]
fn frames_interoperate_with_the_reference_ur_library() {
    let mut rng = StdRng::seed_from_u64(13);
    let long = random_bytes(&mut rng, 3000);
    let short = random_bytes(&mut rng, 40);
    let mut ours = Vec::new();
    for (envelope, density) in [(&long, QrDensity::Medium), (&short, QrDensity::Medium)] {
        let mut frames = encode_frames(envelope, density).expect("encodes");
        frames.shuffle(&mut rng);
        ours.push(frames);
    }
    let input = serde_json::json!({
        "ours": ours,
        "envelopes": [hex::encode(&long), hex::encode(&short)],
    });
    let out = node(
        r#"
const { UR, UREncoder, URDecoder } = require("@ngraveio/bc-ur");
const d = JSON.parse(require("fs").readFileSync(0, "utf8"));
const decoded = d.ours.map((frames) => {
  const dec = new URDecoder();
  for (const f of frames) { dec.receivePart(f); if (dec.isComplete()) break; }
  if (!dec.isSuccess()) return "failed: " + dec.resultError();
  const ur = dec.resultUR();
  return ur.type + ":" + ur.decodeCBOR().toString("hex");
});
const theirs = d.envelopes.map((hex) => {
  const enc = new UREncoder(UR.fromBuffer(Buffer.from(hex, "hex")), 120);
  const n = enc.fragmentsLength;
  return Array.from({ length: n === 1 ? 1 : 3 * n }, () => enc.nextPart());
});
console.log(JSON.stringify({ decoded, theirs }));
"#,
        &input.to_string(),
    );
    let o: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    // The reference decoder reads our frames as `bytes` holding the envelope.
    assert_eq!(o["decoded"][0], format!("bytes:{}", hex::encode(&long)));
    assert_eq!(o["decoded"][1], format!("bytes:{}", hex::encode(&short)));
    // We read the reference encoder's frames (lower case, its own fountain parts), shuffled.
    for (i, envelope) in [&long, &short].into_iter().enumerate() {
        let mut theirs: Vec<String> = o["theirs"][i]
            .as_array()
            .expect("array")
            .iter()
            .map(|v| v.as_str().expect("string").to_string())
            .collect();
        assert!(theirs[0].starts_with("ur:bytes/"), "{}", theirs[0]);
        theirs.shuffle(&mut rng);
        assert_eq!(decode_frames(&theirs).ok().as_ref(), Some(envelope));
    }
}

// ---------------------------------------------------------------- single QR codes

/// Builds a signed testnet envelope with the Python SDK: a payment of a custom asset, a text memo.
fn sdk_envelope() -> String {
    py(
        r#"
from stellar_sdk import Account, Asset, Keypair, Network, TransactionBuilder
issuer = Keypair.from_raw_ed25519_seed(bytes(range(32)))
dest = Keypair.from_raw_ed25519_seed(bytes(range(1, 33)))
tx = (
    TransactionBuilder(Account(issuer.public_key, 1234567), Network.TESTNET_NETWORK_PASSPHRASE, base_fee=100)
    .append_payment_op(dest.public_key, Asset("USDX", issuer.public_key), "12.5")
    .add_text_memo("invoice 42 / Q3")
    .set_timeout(3600)
    .build()
)
tx.sign(issuer)
print(tx.to_xdr())
"#,
        "",
    )
    .trim()
    .to_string()
}

#[test]
fn single_qr_png_reads_back_with_zxing() {
    let envelope = sdk_envelope();
    let mut rng = StdRng::seed_from_u64(11);
    // Near the capacity: base64 of random bytes, 2328 characters.
    use base64::Engine;
    let long = base64::engine::general_purpose::STANDARD.encode(random_bytes(&mut rng, 1746));
    assert!(long.len() <= SINGLE_MAX_BYTES);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut paths = Vec::new();
    let texts = [envelope, long];
    for (i, text) in texts.iter().enumerate() {
        let code = single_qr(text).expect("fits one code");
        let png = render_png(&code).expect("renders");
        let img = image::load_from_memory(&png).expect("PNG").to_luma8();
        // 8 px per module and a 4-module quiet zone.
        assert_eq!(img.width(), (code.width() as u32 + 8) * 8);
        let path = dir.path().join(format!("single-{i}.png"));
        std::fs::write(&path, &png).expect("write PNG");
        paths.push(path.display().to_string());
    }
    assert_eq!(zxing_read(&paths), texts.to_vec());
}

#[test]
fn terminal_rendering_reads_back_with_zxing() {
    // Draw the terminal output as a terminal would (a character cell is one module across and
    // two modules down; the glyph's dark halves in black) and let zxing-cpp read it.
    let envelope = sdk_envelope();
    let code = single_qr(&envelope).expect("fits");
    let text = render_terminal(&code);
    let rows: Vec<Vec<char>> = text
        .lines()
        .map(|l| {
            l.trim_start_matches("\x1b[38;5;16;48;5;231m")
                .trim_end_matches("\x1b[0m")
                .chars()
                .collect()
        })
        .collect();
    let px = 6;
    let width = rows[0].len() as u32;
    let height = 2 * rows.len() as u32;
    let img = GrayImage::from_fn(width * px, height * px, |x, y| {
        let (col, module_row) = ((x / px) as usize, y / px);
        let c = rows[(module_row / 2) as usize][col];
        let top = module_row % 2 == 0;
        let dark = match c {
            '█' => true,
            '▀' => top,
            '▄' => !top,
            _ => false,
        };
        image::Luma([if dark { 0 } else { 255 }])
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("terminal.png");
    img.save(&path).expect("write PNG");
    assert_eq!(zxing_read(&[path.display().to_string()]), vec![envelope]);
}

#[test]
fn svg_is_a_square_black_on_white_document() {
    let code = single_qr("web+stellar:tx?xdr=AAAA").expect("fits");
    let svg = render_svg(&code);
    let side = (code.width() + 8) * 8;
    assert!(svg.contains("<svg"), "{svg}");
    assert!(svg.contains(&format!("width=\"{side}\"")), "{svg}");
    assert!(svg.contains("#000000") && svg.contains("#ffffff"));
}

#[test]
fn too_large_for_one_code() {
    let text = "A".repeat(20) + &"a".repeat(SINGLE_MAX_BYTES);
    match single_qr(&text) {
        Err(QrEncodeError::TooLarge { bytes, max }) => {
            assert_eq!(bytes, text.len());
            assert_eq!(max, SINGLE_MAX_BYTES);
        }
        Err(other) => panic!("expected TooLarge, got {other}"),
        Ok(_) => panic!("expected TooLarge, got a code"),
    }
}

// ---------------------------------------------------------------- SEP-7

const TESTNET: &str = "Test SDF Network ; September 2015";
const PUBNET: &str = "Public Global Stellar Network ; September 2015";

#[test]
fn sep7_matches_the_python_sdk() {
    let envelope = sdk_envelope();
    let ours_testnet = tx_uri(&envelope, Some(TESTNET));
    let ours_pubnet = tx_uri(&envelope, None);
    // The SDK writes the same URIs, reads ours back, and writes one with every parameter.
    let input = serde_json::json!({
        "xdr": envelope, "testnet": ours_testnet, "pubnet": ours_pubnet,
    });
    let out = py(
        r#"
import json, sys
from stellar_sdk import Keypair, Network, TransactionEnvelope
from stellar_sdk.sep.stellar_uri import TransactionStellarUri
d = json.load(sys.stdin)
te = TransactionEnvelope.from_xdr(d["xdr"], Network.TESTNET_NETWORK_PASSPHRASE)
sdk_testnet = TransactionStellarUri(te, network_passphrase=Network.TESTNET_NETWORK_PASSPHRASE).to_uri()
sdk_pubnet = TransactionStellarUri(te).to_uri()
back_t = TransactionStellarUri.from_uri(d["testnet"], None)
back_p = TransactionStellarUri.from_uri(d["pubnet"], Network.PUBLIC_NETWORK_PASSPHRASE)
full = TransactionStellarUri(
    te,
    callback="https://example.com/cb?a=1&b=2",
    pubkey=Keypair.from_raw_ed25519_seed(bytes(range(32))).public_key,
    message="order 24: 12.5 USDX + fee / thanks",
    network_passphrase=Network.TESTNET_NETWORK_PASSPHRASE,
    origin_domain="example.com",
)
full.sign(Keypair.from_raw_ed25519_seed(bytes(range(2, 34))))
print(json.dumps({
    "sdk_testnet": sdk_testnet, "sdk_pubnet": sdk_pubnet,
    "back_t_xdr": back_t.transaction_envelope.to_xdr(), "back_t_np": back_t.network_passphrase,
    "back_p_xdr": back_p.transaction_envelope.to_xdr(), "back_p_np": back_p.network_passphrase,
    "full": full.to_uri(), "full_signature": full.signature,
    "full_pubkey": full.pubkey,
}))
"#,
        &input.to_string(),
    );
    let o: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let s = |k: &str| o[k].as_str().expect(k).to_string();

    assert_eq!(ours_testnet, s("sdk_testnet"));
    assert_eq!(ours_pubnet, s("sdk_pubnet"));
    assert_eq!(s("back_t_xdr"), envelope);
    assert_eq!(s("back_t_np"), TESTNET);
    assert_eq!(s("back_p_xdr"), envelope);
    assert_eq!(s("back_p_np"), PUBNET);

    let full = parse_tx_uri(&s("full")).expect("parses the SDK's URI");
    assert_eq!(full.xdr, envelope);
    assert_eq!(full.network_passphrase.as_deref(), Some(TESTNET));
    assert_eq!(
        full.callback.as_deref(),
        Some("url:https://example.com/cb?a=1&b=2")
    );
    assert_eq!(full.pubkey, Some(s("full_pubkey")));
    assert_eq!(
        full.msg.as_deref(),
        Some("order 24: 12.5 USDX + fee / thanks")
    );
    assert_eq!(full.origin_domain.as_deref(), Some("example.com"));
    assert_eq!(full.signature, Some(s("full_signature")));

    let plain = parse_tx_uri(&s("sdk_pubnet")).expect("parses");
    assert_eq!(plain.xdr, envelope);
    assert_eq!(plain.network_passphrase, None);
}

#[test]
fn sep7_refuses_pay_requests() {
    let err = parse_tx_uri(
        "web+stellar:pay?destination=GCALNQQBXAPZ2WIRSDDBMSTAKCUH5SG6U76YBFLQLIXJTF7FE5AX7AOO&amount=120.1234567",
    )
    .expect_err("pay is not supported");
    assert_eq!(err, Sep7Error::UnsupportedOperation("pay".into()));
    assert!(err.to_string().contains("`pay`"), "{err}");
}

/// Prints the measurement table of docs/formats.md. Run with
/// `cargo test --release --test it -- --ignored --nocapture blobs::measure_density`.
#[test]
#[ignore = "measurement, prints a table"]
fn measure_density() {
    let mut rng = StdRng::seed_from_u64(10_000);
    let envelope = random_bytes(&mut rng, 10_000);
    let sides = [240u32, 320, 400, 480, 600];
    println!("| max fragment | EC | frames (pure+fountain) | QR version | modules | chars/frame | decoded at camera side px {sides:?} (σ=1.0) |");
    for frag in [80usize, 100, 120, 150, 200, 250, 300, 400, 500, 600] {
        for ec in [qrcode::EcLevel::L, qrcode::EcLevel::M] {
            let mut enc = ur::Encoder::bytes(&minicbor_wrap(&envelope), frag).expect("encoder");
            let n = enc.fragment_count();
            let parts: Vec<String> = (0..2 * n)
                .map(|_| enc.next_part().expect("part").to_ascii_uppercase())
                .collect();
            let longest = parts.iter().map(String::len).max().unwrap_or(0);
            let codes: Vec<qrcode::QrCode> = parts
                .iter()
                .map(|p| qrcode::QrCode::with_error_correction_level(p, ec).expect("fits"))
                .collect();
            let version = codes
                .iter()
                .map(|c| match c.version() {
                    qrcode::Version::Normal(v) => v,
                    qrcode::Version::Micro(v) => v,
                })
                .max()
                .unwrap_or(0);
            let modules = 17 + 4 * version;
            if let Ok(dir) = std::env::var("AIRGAP_MEASURE_DUMP") {
                // Write sample frames for another reader (zxing-cpp) instead of reading them.
                for i in (0..parts.len()).step_by((parts.len() / 8).max(1)) {
                    let img = codes[i]
                        .render::<image::Luma<u8>>()
                        .quiet_zone(true)
                        .module_dimensions(8, 8)
                        .build();
                    img.save(format!("{dir}/{frag}_{ec:?}_{version}_{i}.png"))
                        .expect("write sample");
                    std::fs::write(format!("{dir}/{frag}_{ec:?}_{version}_{i}.txt"), &parts[i])
                        .expect("write sample text");
                }
                continue;
            }
            let mut cells = Vec::new();
            for side in sides {
                let sample: Vec<usize> =
                    (0..parts.len()).step_by((parts.len() / 8).max(1)).collect();
                let ok = sample
                    .iter()
                    .filter(|&&i| {
                        let img = codes[i]
                            .render::<image::Luma<u8>>()
                            .quiet_zone(true)
                            .module_dimensions(8, 8)
                            .build();
                        rqrr_read(&camera(&img, side, 1.0)) == vec![parts[i].clone()]
                    })
                    .count();
                cells.push(format!(
                    "{ok}/{} ({:.1} px/mod)",
                    sample.len(),
                    side as f32 / (modules + 8) as f32
                ));
            }
            println!(
                "| {frag} | {ec:?} | {} | {version} | {modules} | {longest} | {} |",
                2 * n,
                cells.join(" | ")
            );
        }
    }
}

fn minicbor_wrap(data: &[u8]) -> Vec<u8> {
    let mut e = minicbor::Encoder::new(Vec::new());
    e.bytes(data).expect("CBOR into a Vec");
    e.into_writer()
}

/// Prints the single-code error-correction measurement of docs/formats.md: base64 texts of
/// several lengths at levels L and M, read by rqrr through the camera simulation, clean and with
/// a smudge (a light square over 4 % of the code, off the finder patterns). Run with
/// `cargo test --test it -- --ignored --nocapture blobs::measure_single_ec`.
#[test]
#[ignore = "measurement, prints a table"]
fn measure_single_ec() {
    use base64::Engine;
    let mut rng = StdRng::seed_from_u64(99);
    let sides = [400u32, 600, 800];
    println!("| base64 chars | EC | version | modules | rqrr clean at {sides:?} px | rqrr smudged at {sides:?} px |");
    for raw in [300usize, 750, 1300, 1740] {
        let text = base64::engine::general_purpose::STANDARD.encode(random_bytes(&mut rng, raw));
        for ec in [qrcode::EcLevel::L, qrcode::EcLevel::M] {
            let Ok(code) = qrcode::QrCode::with_error_correction_level(&text, ec) else {
                continue;
            };
            let img: GrayImage = code
                .render::<image::Luma<u8>>()
                .quiet_zone(true)
                .module_dimensions(8, 8)
                .build();
            let mut smudged = img.clone();
            let (w, m) = (img.width(), code.width() as u32 + 8);
            let patch = w / 5;
            let (x0, y0) = (w / 2 - patch / 2, w / 2 - patch / 2 + w / m * 6);
            for y in y0..(y0 + patch).min(w) {
                for x in x0..(x0 + patch).min(w) {
                    smudged.put_pixel(x, y, image::Luma([255]));
                }
            }
            let mut cells = Vec::new();
            for source in [&img, &smudged] {
                let row: Vec<&str> = sides
                    .iter()
                    .map(|&s| {
                        if rqrr_read(&camera(source, s, 1.0)) == vec![text.clone()] {
                            "yes"
                        } else {
                            "no"
                        }
                    })
                    .collect();
                cells.push(row.join(" "));
            }
            if let Ok(dir) = std::env::var("AIRGAP_MEASURE_DUMP") {
                img.save(format!("{dir}/single_{}_{ec:?}_clean.png", text.len()))
                    .expect("save");
                smudged
                    .save(format!("{dir}/single_{}_{ec:?}_smudged.png", text.len()))
                    .expect("save");
                std::fs::write(format!("{dir}/single_{}.txt", text.len()), &text).expect("save");
            }
            let v = match code.version() {
                qrcode::Version::Normal(v) | qrcode::Version::Micro(v) => v,
            };
            println!(
                "| {} | {ec:?} | {v} | {} | {} | {} |",
                text.len(),
                17 + 4 * v,
                cells[0],
                cells[1]
            );
        }
    }
}
