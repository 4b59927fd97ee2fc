#![no_main]
//! See fuzz/horizon_harness.rs, which relay/tests/horizon_corpus.rs also replays.
#[allow(dead_code)] // the relay's client: only its parsing is fuzzed
#[path = "../../relay/src/horizon.rs"]
mod horizon;
#[path = "../horizon_harness.rs"]
mod horizon_harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| horizon_harness::horizon(data));
