//! The end-to-end tests: one test binary, so the library and its QR, image and curve stack are
//! linked once rather than once per file (ripgrep's `tests/` layout). Each file below is a module;
//! run one with its path:
//!
//!     cargo test --test it                      # all of them
//!     cargo test --test it relay::              # one module
//!     cargo test --test it relay::inspect_says_what_would_fail
//!     cargo test --test it testnet:: -- --ignored   # opt-in: needs the internet
//!
//! The tests run the real `airgap-signer` and `airgap-relay` (found next to this executable; built
//! by `cargo test --workspace` or `cargo build --workspace`, not by `cargo test --test it` alone)
//! in temp dirs with a scrubbed environment, against the sandbox on loopback, and compare what they
//! write with Stellar's own SDKs. A new end-to-end test file is a module here, not a new
//! `tests/*.rs`, which would link everything again.
//!
//! One way to do each thing: `util::bin_path` finds a binary, `util::scrubbed` (or
//! `util::TestDir::command`, in a temp dir) runs it, `util::python` (with `util::run_python`)
//! starts the oracles' Python, `util::oracle` and `util::js_verify` ask the SDKs, and
//! `relay_support::Sandbox::start` starts a sandbox (`airgap-relay sandbox`); `relay_support`
//! also builds blobs with the library.
//!
//! Environment:
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `AIRGAP_TEST_PYTHON` | `python3` | the Python that runs the oracles (stellar-sdk, pytest, zxing-cpp, segno, Pillow: `python3 -m pip install -r tests/requirements.txt`) |
//! | `AIRGAP_SIGNER_BIN`, `AIRGAP_RELAY_BIN`, `AIRGAP_CHAOS_BIN` | next to this executable | test these binaries instead |
//!
//! plus the reliability tests' own (`reliability.rs`), the payout tests' (`pay.rs`: `AIRGAP_PAY_ROWS`,
//! `AIRGAP_PAY_KILLS`) and proptest's `PROPTEST_CASES` (also the
//! number of cases of `preflight_props.rs`, 16 by default).
//! A missing SDK fails the test with the command that installs it: a byte-exact test that
//! silently skips proves nothing.

mod relay_support;
mod util;

mod blobs;
mod custody;
mod fuzz_corpus;
mod hostile;
mod hostile_images;
mod keys_sdk;
mod multisig;
mod net_rpc;
mod operator;
mod operator_exits;
mod operator_signer;
mod pay;
mod policy;
mod preflight_props;
mod properties;
mod qr_decode;
mod qr_roundtrip;
mod regressions;
mod rehearse;
mod relay;
mod reliability;
mod review_json;
mod runbook;
mod sandbox_cadence;
mod sandbox_sdk;
mod screen;
mod secret_leaks;
mod signer_sdk;
mod submit_backends;
mod testnet;
mod txrep_sdk;
mod watch;
