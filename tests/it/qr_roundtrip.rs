//! Across the air gap by QR (issue 4): what the signer writes as frames, an animated GIF or a
//! single code comes back, byte for byte, through `airgap-relay decode` — with a random quarter
//! of the frames dropped and the rest shuffled and partly repeated — and a single code reads in
//! zxing-cpp, an independent decoder, as the same text.

use crate::util::{python, run, run_python, show, TestDir, PYTHON_HINT};
use airgap::keys::SecretSeed;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::path::{Path, PathBuf};

/// A plan of `ops` operations (payments and data entries, so the envelope grows like a real one).
fn plan(source: &str, ops: usize, dest: &str) -> serde_json::Value {
    let operations: Vec<_> = (0..ops)
        .map(|i| {
            if i % 2 == 0 {
                json!({"type": "payment", "destination": dest, "asset": format!("USD:{source}"), "amount": format!("{}.5", i + 1)})
            } else {
                json!({"type": "manage_data", "name": format!("entry-{i}"), "value": "a value of some length, 40 bytes long!!"})
            }
        })
        .collect();
    json!({"network": "testnet", "source": source, "sequence": "4294967297", "fee": 100,
           "min_time": 0, "max_time": 1900000000, "memo": {"text": "frames"}, "operations": operations})
}

/// Sign a plan with `signatures` keys into `--out blob.xdr` plus the extra output args.
fn sign(dir: &TestDir, ops: usize, signatures: usize, extra: &[&str]) -> String {
    let seeds: Vec<SecretSeed> = (0..signatures)
        .map(|_| SecretSeed::generate().unwrap())
        .collect();
    let source = seeds[0].public_key().to_string();
    let dest = SecretSeed::generate().unwrap().public_key().to_string();
    let plan_path = dir.write("plan.json", plan(&source, ops, &dest).to_string());
    let mut cmd = dir.command("airgap-signer");
    cmd.arg("plan")
        .arg(&plan_path)
        .args(["--yes", "--out", "blob.xdr"])
        .args(extra);
    for (i, s) in seeds.iter().enumerate() {
        cmd.env(format!("K{i}"), s.to_strkey().as_str())
            .args(["--key", &format!("env:K{i}")]);
    }
    let out = run(&mut cmd, None);
    assert!(out.status.success(), "signer failed:\n{}", show(&out));
    std::fs::read_to_string(dir.join("blob.xdr"))
        .unwrap()
        .trim()
        .to_string()
}

fn decode(dir: &TestDir, inputs: &[PathBuf]) -> std::process::Output {
    run(dir.command("airgap-relay").arg("decode").args(inputs), None)
}

fn frames_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    v.sort();
    v
}

#[test]
fn frames_survive_drops_shuffles_and_repeats() {
    let mut rng = StdRng::seed_from_u64(2026);
    for (ops, sigs, density) in [
        (1, 1, "medium"),
        (10, 3, "low"),
        (40, 8, "high"),
        (100, 20, "medium"),
    ] {
        let dir = TestDir::new();
        let blob = sign(
            &dir,
            ops,
            sigs,
            &["--qr-frames", "frames", "--qr-density", density],
        );
        let mut frames = frames_in(&dir.join("frames"));
        assert!(!frames.is_empty());
        // Drop a random quarter, shuffle the rest, repeat a few.
        frames.shuffle(&mut rng);
        frames.truncate(frames.len() - frames.len() / 4);
        let repeats: Vec<PathBuf> = (0..frames.len() / 5)
            .map(|_| frames[rng.gen_range(0..frames.len())].clone())
            .collect();
        frames.extend(repeats);
        frames.shuffle(&mut rng);
        let out = decode(&dir, &frames);
        assert!(
            out.status.success(),
            "{ops} ops, {sigs} signatures, {density}:\n{}",
            show(&out)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            blob,
            "{ops} ops, {sigs} signatures"
        );
    }
}

#[test]
fn too_few_frames_say_how_many_more() {
    let dir = TestDir::new();
    sign(&dir, 30, 2, &["--qr-frames", "frames"]);
    let frames = frames_in(&dir.join("frames"));
    let out = decode(&dir, &frames[..2]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("incomplete") && err.contains("more needed"),
        "{err}"
    );
    assert!(!err.contains("panicked"));
}

#[test]
fn frames_of_two_envelopes_are_refused_naming_both() {
    let a = TestDir::new();
    sign(&a, 20, 1, &["--qr-frames", "frames"]);
    let b = TestDir::new();
    sign(&b, 21, 1, &["--qr-frames", "frames"]);
    let mut inputs = frames_in(&a.join("frames"));
    inputs.extend(frames_in(&b.join("frames")));
    let out = decode(&a, &inputs);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("two different envelopes"), "{err}");
    assert!(
        out.stdout.is_empty() || !String::from_utf8_lossy(&out.stdout).contains("AAAA"),
        "no mixed result"
    );
}

#[test]
fn animated_gif_round_trip() {
    let dir = TestDir::new();
    let blob = sign(&dir, 60, 5, &["--qr", "loop.gif"]);
    let out = decode(&dir, &[dir.join("loop.gif")]);
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), blob);
}

#[test]
fn single_code_reads_in_zxing_cpp_and_in_the_relay() {
    let dir = TestDir::new();
    let blob = sign(&dir, 3, 2, &["--qr", "one.png"]);
    let script = "import sys, zxingcpp; from PIL import Image; r = zxingcpp.read_barcodes(Image.open(sys.argv[1])); print(r[0].text if r else '')";
    let py = run_python(python().args(["-c", script]).arg(dir.join("one.png")), None);
    assert!(
        py.status.success(),
        "zxing-cpp is needed: {PYTHON_HINT}\n{}",
        String::from_utf8_lossy(&py.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&py.stdout).trim(), blob);
    let out = decode(&dir, &[dir.join("one.png")]);
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), blob);
}

#[test]
fn bad_inputs_name_the_file() {
    let dir = TestDir::new();
    let not_image = dir.write("notes.png", "just some text, not an image and not base64!");
    let mut png = Vec::new();
    // A real PNG cut short.
    let _ = sign(&dir, 1, 1, &["--qr", "whole.png"]);
    png.extend_from_slice(&std::fs::read(dir.join("whole.png")).unwrap()[..200]);
    let truncated = dir.write("truncated.png", &png);
    let bad_part = dir.write(
        "part.txt",
        "ur:bytes/1-3/lpadaxcfaxhlcyynvabnrdkgqzwszsyleyyskpfr\n",
    );
    // A perfectly good QR code that holds something other than an envelope (made by segno).
    let other = dir.join("hello.png");
    let py = run_python(
        python()
            .args(["-c", "import sys, segno; segno.make('hello, not an envelope', error='m').save(sys.argv[1], scale=8)"])
            .arg(&other),
        None,
    );
    assert!(
        py.status.success(),
        "segno is needed: {PYTHON_HINT}\n{}",
        String::from_utf8_lossy(&py.stderr)
    );
    for input in [not_image, truncated, bad_part, other] {
        let out = decode(&dir, std::slice::from_ref(&input));
        assert_eq!(out.status.code(), Some(1), "{}", show(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        let name = input.file_name().unwrap().to_string_lossy().into_owned();
        assert!(err.contains(&name), "error should name {name}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}
