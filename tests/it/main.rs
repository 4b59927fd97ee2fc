//! The end-to-end tests: one test binary, so the library and its QR, image and curve stack are
//! linked once rather than once per file (ripgrep's `tests/` layout). Each file below is a module;
//! run one with its path:
//!
//!     cargo test --test it                      # all of them
//!     cargo test --test it relay::              # one module
//!     cargo test --test it relay::inspect_says_what_would_fail
//!     cargo test --test it testnet:: -- --ignored   # opt-in: needs the internet
//!
//! The tests run the real `airgap-signer` and `airgap-relay` (built by `cargo test --workspace`,
//! found next to this executable) in temp dirs with a scrubbed environment, against the
//! sandbox on loopback, and compare what they write with Stellar's own SDKs.
//!
//! Helpers: `util` (binaries, temp dirs, the SDK oracles) and `relay_support` (the sandbox, blobs
//! built with the library).

mod relay_support;
mod util;

mod blobs;
mod custody;
mod fuzz_corpus;
mod keys_sdk;
mod multisig;
mod policy;
mod properties;
mod qr_decode;
mod qr_roundtrip;
mod regressions;
mod rehearse;
mod relay;
mod reliability;
mod sandbox_sdk;
mod signer_sdk;
mod testnet;
mod txrep_sdk;
