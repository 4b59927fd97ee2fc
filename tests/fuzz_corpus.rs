//! Replays every file of `fuzz/corpus/<target>/` through the fuzz target of the same name
//! (`fuzz/harness.rs`), so every corpus entry and every crash regression kept there is checked on
//! each `cargo test`, without cargo-fuzz.
use std::path::{Path, PathBuf};

#[path = "../fuzz/harness.rs"]
mod harness;

type Target = fn(&[u8]);

/// Every fuzz target, by the name of its corpus directory.
const TARGETS: &[(&str, Target)] = &[
    ("envelope_base64", harness::envelope_base64),
    ("envelope_xdr", harness::envelope_xdr),
    ("txrep", harness::txrep),
    ("plan", harness::plan),
    ("keystore", harness::keystore),
    ("policy", harness::policy),
    ("text_values", harness::text_values),
];

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
            TARGETS.iter().any(|(t, _)| *t == name),
            "fuzz/corpus/{name} has no replay in tests/fuzz_corpus.rs"
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
                TARGETS.iter().any(|(t, _)| *t == name),
                "fuzz target {name} is not replayed by tests/fuzz_corpus.rs"
            );
        }
    }
}

macro_rules! replay_tests {
    ($($name:ident),* $(,)?) => {$(
        #[test]
        fn $name() {
            let n = replay(stringify!($name), harness::$name);
            eprintln!("{}: {n} corpus files", stringify!($name));
        }
    )*};
}

replay_tests!(
    envelope_base64,
    envelope_xdr,
    txrep,
    plan,
    keystore,
    policy,
    text_values
);

/// Writes the keystore seeds of the corpus (sealed with the cheapest KDF the format accepts, under
/// the passphrase the harness opens them with). Run by hand:
/// `cargo test --test fuzz_corpus -- --ignored write_keystore_seeds`.
#[test]
#[ignore = "writes files into fuzz/corpus/keystore; run by hand"]
fn write_keystore_seeds() {
    use airgap::keys::keystore::{seal, KdfParams};
    let dir = corpus_root().join("keystore");
    std::fs::create_dir_all(&dir).unwrap();
    let cheap = KdfParams::new(10, 1, 1).unwrap();
    let sealed = seal(&[1; 32], harness::KEYSTORE_PASSPHRASE, cheap).unwrap();
    std::fs::write(dir.join("seed-cheap_kdf"), &sealed).unwrap();
    let other = seal(
        &[2; 32],
        b"another passphrase",
        KdfParams::new(10, 8, 1).unwrap(),
    )
    .unwrap();
    std::fs::write(dir.join("seed-other_passphrase"), other).unwrap();
    // The default KDF: only inspected by the harness.
    let strong = seal(&[3; 32], b"x", KdfParams::default()).unwrap();
    std::fs::write(dir.join("seed-default_kdf"), strong).unwrap();
    std::fs::write(dir.join("seed-not_json"), b"{\"format\": ").unwrap();
}
