#![no_main]
//! See `airgap::fuzz_harness::plan` (src/fuzz_harness.rs), which tests/fuzz_corpus.rs also replays.
libfuzzer_sys::fuzz_target!(|data: &[u8]| airgap::fuzz_harness::plan(data));
