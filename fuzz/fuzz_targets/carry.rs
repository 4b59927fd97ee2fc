#![no_main]
//! See `airgap::fuzz_harness::carry` (src/fuzz_harness.rs), which tests/fuzz_corpus.rs also replays.
libfuzzer_sys::fuzz_target!(|data: &[u8]| airgap::fuzz_harness::carry(data));
