//! `airgap_sandbox`: a Horizon-compatible rehearsal ledger on loopback (`airgap-relay sandbox`).
//!
//! It speaks Horizon's HTTP contract (the routes a relay and the Stellar SDKs use) and applies the
//! classic operations an asset issuer needs with stellar-core's validity rules, one transaction per
//! ledger. It is not a validator: no consensus, no history archives, no Soroban, no DEX.
//!
//! Start one with [`start`] and a [`SandboxConfig`]; the [`SandboxHandle`] says where it listens
//! and stops it.
//!
//! Public: [`ledger`], the state and stellar-core's rules as a pure function
//! ([`ledger::Ledger::evaluate`]), with [`results`] (transaction results as XDR) and [`meta`]
//! (entries and transaction meta as XDR). Inside: `server` the HTTP server and its routes; `reads`
//! the `GET` handlers and paging; `submission` `POST /transactions`, `/transactions_async` and
//! friendbot; `faults` injected errors; `store` SQLite persistence; `resources` and `problems`
//! Horizon's answers, as the library's types of them (`airgap::horizon`); `stream` Server-Sent
//! Events.
#![forbid(unsafe_code)]

pub mod faults;
pub mod ledger;
pub mod meta;
pub mod problems;
pub mod reads;
pub mod resources;
pub mod results;
pub mod server;
pub mod store;
pub mod stream;
pub mod submission;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

pub use faults::FaultSpec;
pub use server::start;
pub use store::StoreError;

/// Network passphrase of the sandbox (stellar-core's standalone network).
pub const PASSPHRASE: &str = airgap::network::STANDALONE;
/// Friendbot's starting balance: 10,000 XLM.
pub const FRIENDBOT_STROOPS: i64 = 10_000 * 10_000_000;

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("the sandbox only listens on loopback addresses, not {0}")]
    NotLoopback(SocketAddr),
    #[error("cannot listen on {addr}: {reason}")]
    Bind { addr: SocketAddr, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("invalid --fault spec: {0}")]
    FaultSpec(String),
}

/// Configuration of an in-process sandbox.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    pub listen: SocketAddr,
    pub state: Option<PathBuf>,
    pub faults: FaultSpec,
}

impl SandboxConfig {
    /// A sandbox on a free loopback port, in memory, without faults.
    pub fn ephemeral() -> SandboxConfig {
        SandboxConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            state: None,
            faults: FaultSpec::default(),
        }
    }
}

/// A running sandbox.
pub struct SandboxHandle {
    addr: SocketAddr,
    server: Arc<tiny_http::Server>,
    stop: Arc<AtomicBool>,
    workers: Vec<JoinHandle<()>>,
}

impl SandboxHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Horizon URL of the sandbox (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stop serving and wait for the workers (requests in flight are finished first).
    pub fn shutdown(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for _ in 0..self.workers.len() {
            self.server.unblock();
        }
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }

    /// Serve until the process ends.
    pub fn wait(mut self) {
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

impl SandboxHandle {
    pub(crate) fn new(
        addr: SocketAddr,
        server: Arc<tiny_http::Server>,
        stop: Arc<AtomicBool>,
        workers: Vec<JoinHandle<()>>,
    ) -> SandboxHandle {
        SandboxHandle {
            addr,
            server,
            stop,
            workers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_non_loopback() {
        let mut config = SandboxConfig::ephemeral();
        config.listen = SocketAddr::from(([0, 0, 0, 0], 0));
        assert!(matches!(start(config), Err(SandboxError::NotLoopback(_))));
    }

    #[test]
    fn starts_and_shuts_down_in_process() {
        let handle = start(SandboxConfig::ephemeral()).unwrap();
        assert_ne!(handle.addr().port(), 0);
        assert!(handle.url().starts_with("http://127.0.0.1:"));
        handle.shutdown();
    }
}
