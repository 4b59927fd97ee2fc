#![no_main]
//! See `harness::envelope_base64` (fuzz/harness.rs), which tests/fuzz_corpus.rs also replays.
#[allow(dead_code)] // each target uses one of the harness's functions
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::envelope_base64(data));
