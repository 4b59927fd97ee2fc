//! `airgap_relay`: the online half of stellar-airgap as a library, under the `airgap-relay` CLI.
//!
//! A Horizon client with bounded reads ([`horizon`]; Horizon's resources and result codes are the
//! library's types, `airgap::horizon`), connecting and patience ([`online`]), reading blobs from
//! whatever crossed the gap ([`inputs`]), refusing blobs other than the one approved ([`expect`]),
//! checking their signatures ([`sigcheck`]), reviewing them and predicting what the network would
//! do with them ([`inspect`], by simulation: [`preflight`]), submitting them until their outcome is
//! certain ([`submit`], with its [`journal`] and [`index`]; [`progress`] on a terminal), reading an
//! account for the signer ([`account`]), the one network-client trait over Horizon or Stellar
//! RPC ([`net`]), the whole ceremony rehearsed against an in-process
//! sandbox ([`rehearse`]), and the database that `watch` records deposits into and `pay` drains
//! payouts from ([`db`]).
//!
//! The CLI edge (arguments, errors with remedies, exit codes) is the binary's: `src/main.rs`,
//! `src/cli.rs`, `src/app.rs`, `src/merge.rs`, `src/keysource.rs`.
#![forbid(unsafe_code)]

pub mod account;
pub mod db;
pub mod expect;
pub mod horizon;
pub mod index;
pub mod inputs;
pub mod inspect;
pub mod journal;
pub mod net;
pub mod online;
pub mod pay;
pub mod preflight;
pub mod progress;
pub mod rehearse;
pub mod rpc;
pub mod sigcheck;
pub mod submit;
#[cfg(test)]
mod test_support;
pub mod watch;

/// The body of the `horizon` fuzz target, shared with `tests/horizon_corpus.rs`.
#[doc(hidden)]
pub mod fuzz_harness;
