//! QR decoding from photos: payloads read from the shared corpus of damaged photos must equal the
//! envelopes its manifest lists; bad input must give an error, never a panic.
use std::collections::BTreeMap;
use std::path::PathBuf;

use airgap::qr::decode::{decode_animation, decode_image, QrDecodeError};

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

/// One photo of every damage kind, the code size (1, 4 or 8 operations) turning from kind to kind.
#[test]
fn reads_one_photo_of_every_damage_kind() {
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
    for (i, kind) in kinds.iter().enumerate() {
        let ops = ["_1ops_", "_4ops_", "_8ops_"][i % 3];
        let (file, (_, xdr)) = manifest
            .iter()
            .find(|(f, (k, _))| k == *kind && f.contains(ops))
            .unwrap_or_else(|| panic!("no {kind}{ops} file in the manifest"));
        match decode_image(&read(file)) {
            Ok(payloads) if payloads.first().map(Vec::as_slice) == Some(xdr.as_bytes()) => {}
            Ok(payloads) => {
                failed.push(format!("{file}: read {} other payload(s)", payloads.len()))
            }
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
    assert!(matches!(decode_image(&png), Err(QrDecodeError::NoQrCode)));
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
