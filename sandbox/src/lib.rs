//! `airgap_sandbox`: a rehearsal ledger on loopback that answers as Horizon and Stellar RPC do
//! (`airgap-relay sandbox`).
//!
//! It speaks Horizon's HTTP contract (the routes a relay and the Stellar SDKs use) and Stellar
//! RPC's JSON-RPC at `/rpc`, queues transactions as stellar-core's transaction queue does, closes
//! ledgers on a clock (or one per submission) and applies the classic operations an asset issuer
//! needs with stellar-core's rules. It is not a validator: no consensus, no history archives, no
//! Soroban, no DEX.
//!
//! Start one with [`start`] and a [`SandboxConfig`]; the [`SandboxHandle`] says where it listens
//! and stops it.
//!
//! Public: [`ledger`], the state and stellar-core's rules as a pure function
//! ([`ledger::Ledger::evaluate`]), with [`results`] (transaction results as XDR) and [`meta`]
//! (entries and transaction meta as XDR). Inside: `server` the HTTP server and its routes; `reads`
//! the `GET` handlers and paging; `submission` `POST /transactions`, `/transactions_async` and
//! friendbot; `queue` stellar-core's transaction queue; `clock` the ledger cadence; `history` the
//! closed ledgers and transactions served; `rpc` Stellar RPC; `faults` injected errors; `store`
//! SQLite persistence; `resources` and `problems` Horizon's answers, as the library's types of
//! them (`airgap::horizon`); `stream` Server-Sent Events.
#![forbid(unsafe_code)]

pub mod admission;
pub mod clock;
pub mod faults;
pub mod history;
pub mod ledger;
pub mod meta;
pub mod problems;
pub mod queue;
pub mod reads;
pub mod records;
pub mod resources;
pub mod results;
pub mod rpc;
pub mod server;
pub mod store;
pub mod stream;
pub mod submission;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

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
    #[error("{0:?} is not a duration (0, 5, 5s, 200ms, 2m; at most a day)")]
    Period(String),
}

/// The networks' ledger period, the default of `--close-every`.
pub const DEFAULT_CLOSE_EVERY: Duration = Duration::from_secs(5);
/// Horizon's txsub timeout (`POST /transactions` answers 504 after it).
pub const DEFAULT_TXSUB_TIMEOUT: Duration = Duration::from_secs(30);
/// Horizon's `--connection-timeout`: a stream says goodbye after it.
pub const DEFAULT_STREAM_TIMEOUT: Duration = Duration::from_secs(55);

/// A duration on the command line: `0`, a number of seconds, or a number with `ms`, `s` or `m`
/// (`5s`, `200ms`, `1.5s`, `2m`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period(pub Duration);

impl std::str::FromStr for Period {
    type Err = SandboxError;

    fn from_str(s: &str) -> Result<Period, SandboxError> {
        let t = s.trim();
        let bad = || SandboxError::Period(s.to_string());
        let (number, scale_ms) = if let Some(n) = t.strip_suffix("ms") {
            (n, 1.0)
        } else if let Some(n) = t.strip_suffix('s') {
            (n, 1000.0)
        } else if let Some(n) = t.strip_suffix('m') {
            (n, 60_000.0)
        } else {
            (t, 1000.0)
        };
        let value: f64 = number.trim().parse().map_err(|_| bad())?;
        if !value.is_finite() || value < 0.0 || value * scale_ms > 86_400_000.0 {
            return Err(bad());
        }
        Ok(Period(Duration::from_micros(
            (value * scale_ms * 1000.0).round() as u64,
        )))
    }
}

/// Configuration of an in-process sandbox.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    pub listen: SocketAddr,
    pub state: Option<PathBuf>,
    pub faults: FaultSpec,
    /// Faults of `POST /rpc`: what a gateway in front of stellar-rpc answers (`faults`).
    pub rpc_faults: FaultSpec,
    /// Close one ledger per period with the queued transactions; `Duration::ZERO` closes one
    /// ledger per admitted transaction at once.
    pub close_every: Duration,
    /// Keep only the last N ledgers of history (`None`: all).
    pub retain_ledgers: Option<u32>,
    /// How long `POST /transactions` waits for its ledger before Horizon's 504.
    pub txsub_timeout: Duration,
    /// How long a stream lasts before Horizon's goodbye.
    pub stream_timeout: Duration,
}

impl SandboxConfig {
    /// A sandbox on a free loopback port, in memory, without faults, closing one ledger per
    /// admitted transaction (fast, for tests and in-process rehearsals).
    pub fn ephemeral() -> SandboxConfig {
        SandboxConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            state: None,
            faults: FaultSpec::default(),
            rpc_faults: FaultSpec::default(),
            close_every: Duration::ZERO,
            retain_ledgers: None,
            txsub_timeout: DEFAULT_TXSUB_TIMEOUT,
            stream_timeout: DEFAULT_STREAM_TIMEOUT,
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

    /// Stellar RPC URL of the sandbox (`http://127.0.0.1:PORT/rpc`).
    pub fn rpc_url(&self) -> String {
        format!("http://{}/rpc", self.addr)
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
    fn periods_parse() {
        let p = |s: &str| s.parse::<Period>().map(|p| p.0);
        assert_eq!(p("0").unwrap(), Duration::ZERO);
        assert_eq!(p("5").unwrap(), Duration::from_secs(5));
        assert_eq!(p("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(p("200ms").unwrap(), Duration::from_millis(200));
        assert_eq!(p("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(p("2m").unwrap(), Duration::from_secs(120));
        for bad in ["", "-1", "fast", "5h", "1e9", "NaN"] {
            assert!(p(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn starts_and_shuts_down_in_process() {
        let handle = start(SandboxConfig::ephemeral()).unwrap();
        assert_ne!(handle.addr().port(), 0);
        assert!(handle.url().starts_with("http://127.0.0.1:"));
        handle.shutdown();
    }
}
