//! Replays every file of `fuzz/corpus/horizon/` through the `horizon` fuzz target's body
//! (`fuzz/horizon_harness.rs`): Horizon answers, hostile or not, as the relay parses them.
//! relay/src/horizon.rs is compiled here by path, as the fuzz target compiles it (its own unit
//! tests come along and run here too).
use std::path::Path;

#[allow(dead_code)] // the client's network half is not used here
#[path = "../src/horizon.rs"]
mod horizon;
#[path = "../../fuzz/horizon_harness.rs"]
mod horizon_harness;

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
        if std::panic::catch_unwind(|| horizon_harness::horizon(&data)).is_err() {
            failed.push(file.display().to_string());
        }
    }
    assert!(failed.is_empty(), "corpus files that fail: {failed:#?}");
}
