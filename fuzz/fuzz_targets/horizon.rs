#![no_main]
//! See `airgap_relay::fuzz_harness::horizon` (relay/src/fuzz_harness.rs), which
//! relay/tests/horizon_corpus.rs also replays.
libfuzzer_sys::fuzz_target!(|data: &[u8]| airgap_relay::fuzz_harness::horizon(data));
