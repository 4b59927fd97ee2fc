//! Replays every file of `fuzz/corpus/<target>/` through the fuzz target of the same name
//! (`airgap::fuzz_harness`, src/fuzz_harness.rs), so every corpus entry and every crash regression kept there is checked on
//! each `cargo test`, without cargo-fuzz.
use std::path::{Path, PathBuf};

use airgap::fuzz_harness as harness;

type Target = fn(&[u8]);

/// Targets whose corpus another package's test replays: `horizon` fuzzes the relay's Horizon
/// client, which this package does not depend on (relay/tests/horizon_corpus.rs).
const REPLAYED_ELSEWHERE: &[(&str, &str)] = &[("horizon", "relay/tests/horizon_corpus.rs")];

fn replayed_elsewhere(name: &str) -> bool {
    REPLAYED_ELSEWHERE
        .iter()
        .any(|(t, test)| *t == name && Path::new(env!("CARGO_MANIFEST_DIR")).join(test).is_file())
}

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join("corpus")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

/// Runs every corpus file of `name`; returns how many ran. A panicking file is reported by name.
fn replay(name: &str, target: Target) -> usize {
    let dir = corpus_root().join(name);
    let files = files(&dir);
    assert!(!files.is_empty(), "{} holds no corpus files", dir.display());
    let mut failed = Vec::new();
    for file in &files {
        let data = std::fs::read(file).expect("read corpus file");
        if std::panic::catch_unwind(|| target(&data)).is_err() {
            failed.push(file.display().to_string());
        }
    }
    assert!(failed.is_empty(), "corpus files that fail: {failed:#?}");
    files.len()
}

#[test]
fn every_corpus_directory_has_a_target() {
    for entry in std::fs::read_dir(corpus_root()).expect("fuzz/corpus exists") {
        let path = entry.expect("directory entry").path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        assert!(
            TARGETS.iter().any(|(t, _)| *t == name) || replayed_elsewhere(&name),
            "fuzz/corpus/{name} has no replay in tests/it/fuzz_corpus.rs"
        );
    }
    for (name, _) in TARGETS {
        assert!(
            corpus_root().join(name).is_dir(),
            "the target {name} has no fuzz/corpus/{name}"
        );
    }
}

#[test]
fn every_fuzz_target_has_a_replay() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/Cargo.toml"))
            .expect("fuzz/Cargo.toml");
    for line in manifest.lines() {
        if let Some(name) = line
            .strip_prefix("name = \"")
            .and_then(|rest| rest.strip_suffix('"'))
        {
            if name == "stellar-airgap-fuzz" {
                continue;
            }
            assert!(
                TARGETS.iter().any(|(t, _)| *t == name) || replayed_elsewhere(name),
                "fuzz target {name} is not replayed by tests/it/fuzz_corpus.rs"
            );
        }
    }
}

/// Every fuzz target, by the name of its corpus directory and of its harness function: one list
/// makes both `TARGETS` and one replay test per target.
macro_rules! targets {
    ($($name:ident),* $(,)?) => {
        const TARGETS: &[(&str, Target)] = &[$((stringify!($name), harness::$name)),*];
        $(
            #[test]
            fn $name() {
                let n = replay(stringify!($name), harness::$name);
                eprintln!("{}: {n} corpus files", stringify!($name));
            }
        )*
    };
}

targets!(
    context,
    envelope_base64,
    envelope_xdr,
    txrep,
    plan,
    keystore,
    policy,
    text_values,
    sep7,
    frames,
    qr_image,
    carry,
);

/// Writes the corpus seeds that only this library can make: keystores (sealed with the cheapest
/// KDF the format accepts, under the passphrase the harness opens them with), `ur:` frames, and an
/// animated GIF of frames. Run by hand, after `python3 fuzz/seed-corpus.py`:
/// `cargo test --test it -- --ignored fuzz_corpus::write_generated_seeds`.
#[test]
#[ignore = "writes files into fuzz/corpus; run by hand"]
fn write_generated_seeds() {
    use airgap::frames;
    use airgap::keys::keystore::{seal, KdfParams};
    use airgap::qr::encode::QrDensity;
    let write = |target: &str, name: &str, bytes: &[u8]| {
        let dir = corpus_root().join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
    };
    let cheap = KdfParams::new(10, 1, 1).unwrap();
    let sealed = seal(&[1; 32], harness::KEYSTORE_PASSPHRASE, cheap).unwrap();
    write("keystore", "cheap_kdf", sealed.as_bytes());
    let other = seal(
        &[2; 32],
        b"another passphrase",
        KdfParams::new(10, 8, 1).unwrap(),
    )
    .unwrap();
    write("keystore", "other_passphrase", other.as_bytes());
    // The default KDF: only inspected by the harness.
    let strong = seal(&[3; 32], b"x", KdfParams::default()).unwrap();
    write("keystore", "default_kdf", strong.as_bytes());
    write("keystore", "not_json", b"{\"format\": ");

    // Frames of SDK-built envelopes from the envelope_xdr seeds: one single-part, some multi-part.
    let xdr_dir = corpus_root().join("envelope_xdr");
    for (name, density) in [
        ("seed-memo_text_plain", QrDensity::High),
        ("seed-payment_muxed_everywhere", QrDensity::Low),
        ("seed-set_options_every_field", QrDensity::Medium),
    ] {
        let bytes = std::fs::read(xdr_dir.join(name)).expect("run fuzz/seed-corpus.py first");
        let parts = frames::encode_frames(&bytes, density).unwrap();
        let mut text = parts.join("\n");
        text.push('\n');
        let short = name.trim_start_matches("seed-");
        write("frames", short, text.as_bytes());
        // Out of order, with a repeat: the last parts first.
        let mut shuffled: Vec<&String> = parts.iter().rev().collect();
        shuffled.push(&parts[0]);
        let mixed: Vec<&str> = shuffled.iter().map(|s| s.as_str()).collect();
        write(
            "frames",
            &format!("{short}_reversed"),
            mixed.join("\n").as_bytes(),
        );
        write("carry", &format!("frames_{short}"), text.as_bytes());
    }
    let bytes = std::fs::read(xdr_dir.join("seed-memo_text_plain")).unwrap();
    let parts = frames::encode_frames(&bytes, QrDensity::Low).unwrap();
    let gif = frames::frames_gif(&parts, QrDensity::Low).unwrap();
    write("carry", "frames_memo_text_plain.gif", &gif);
}
