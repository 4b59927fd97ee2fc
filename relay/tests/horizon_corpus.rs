//! Replays every file of `fuzz/corpus/horizon/` through the `horizon` fuzz target's body
//! (`airgap_relay::fuzz_harness::horizon`): Horizon answers, hostile or not, as the relay parses
//! them.
use airgap_relay::fuzz_harness;
use std::path::Path;

#[test]
fn horizon_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/horizon");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("fuzz/corpus/horizon")
        .map(|e| e.expect("directory entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus files in {}", dir.display());
    let mut failed = Vec::new();
    for file in &files {
        let data = std::fs::read(file).expect("read corpus file");
        if std::panic::catch_unwind(|| fuzz_harness::horizon(&data)).is_err() {
            failed.push(file.display().to_string());
        }
    }
    assert!(failed.is_empty(), "corpus files that fail: {failed:#?}");
}
