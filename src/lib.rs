//! `airgap`: the offline half of stellar-airgap as a library.
//!
//! Networks, amounts, assets, keys, transaction building, envelopes and signatures, the review an
//! operator reads before signing, and the blob formats that carry an envelope across an air gap.
//! No network I/O, no terminal I/O, no process exit: callers decide how to talk to people.
#![forbid(unsafe_code)]

pub mod account;
pub mod amount;
pub mod asset;
pub mod build;
pub mod carry;
pub mod context;
pub mod envelope;
pub mod feebump;
pub mod files;
pub mod frames;
pub mod horizon;
pub mod keys;
pub mod merge;
pub mod network;
pub mod plan;
pub mod policy;
pub mod pool;
pub mod qr;
pub mod review;
pub mod rpc;
pub mod sac;
pub mod sep7;
pub mod text;
pub mod txrep;
pub mod weights;

/// The bodies of the fuzz targets (`fuzz/fuzz_targets/`), shared with `tests/fuzz_corpus.rs`.
#[doc(hidden)]
pub mod fuzz_harness;
