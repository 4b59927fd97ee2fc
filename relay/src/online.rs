//! Connecting: which server (Horizon, or Stellar RPC through the one network-client trait),
//! which network, and patience (deadlines, backoff with jitter).
use crate::horizon::{Horizon, HorizonError, PUBNET_URL, TESTNET_URL};
use crate::net::{HorizonNet, Net, NetError, RpcNet};
use airgap::network::Network;
use rand::Rng;
use std::time::{Duration, Instant, SystemTime};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    #[error("no Horizon server was given")]
    NoHorizon,
    #[error("both --horizon and --rpc name a server")]
    TwoServers,
    #[error("--network says {given}, but {server} at {url} serves {served}")]
    NetworkMismatch {
        given: String,
        served: String,
        /// `Horizon` or `Stellar RPC`.
        server: &'static str,
        url: String,
    },
    #[error(transparent)]
    Horizon(#[from] HorizonError),
    /// A server reached through [`Net`] (Horizon or Stellar RPC) did not answer, or not as its
    /// API does.
    #[error("{0}")]
    Net(NetError),
}

impl ConnectError {
    pub fn remedy(&self) -> &'static str {
        match self {
            ConnectError::NoHorizon => "Pass --horizon URL (or set HORIZON_URL), or --network testnet|pubnet for SDF's public Horizon.",
            ConnectError::TwoServers => "Give one of them: --horizon URL or --rpc URL (on the command line, or one of HORIZON_URL and STELLAR_RPC_URL in the environment); nothing was sent.",
            ConnectError::NetworkMismatch { .. } => "Point --horizon or --rpc at a server of the intended network, or correct --network; nothing was sent.",
            ConnectError::Horizon(e) if e.is_transient() => "Check the URL and your connection, then run the same command again; nothing was sent.",
            ConnectError::Horizon(_) => "Check that --horizon points at a Horizon server.",
            ConnectError::Net(e) if e.is_transient() => "Check the URL and your connection, then run the same command again; nothing was sent.",
            ConnectError::Net(_) => "Check that --horizon points at a Horizon server, or --rpc at a Stellar RPC server (e.g. http://HOST:8000/rpc).",
        }
    }

    /// Worth running again later: the server did not answer (or was busy).
    pub fn is_transient(&self) -> bool {
        match self {
            ConnectError::Horizon(e) => e.is_transient(),
            ConnectError::Net(e) => e.is_transient(),
            _ => false,
        }
    }
}

/// Which server a command talks to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    Horizon(String),
    Rpc(String),
}

impl Backend {
    /// `--horizon URL`/`HORIZON_URL` (else SDF's Horizon for `--network testnet|pubnet`), or
    /// `--rpc URL` when given (the CLI makes sure only one of them is).
    pub fn choose(
        horizon: Option<&str>,
        rpc: Option<&str>,
        network: Option<&Network>,
    ) -> Result<Backend, ConnectError> {
        match rpc {
            Some(r) => Ok(Backend::Rpc(r.to_string())),
            None => horizon_url(horizon, network).map(Backend::Horizon),
        }
    }

    /// `Horizon` or `Stellar RPC`, for messages.
    pub fn server(&self) -> &'static str {
        match self {
            Backend::Horizon(_) => "Horizon",
            Backend::Rpc(_) => "Stellar RPC",
        }
    }

    pub fn url(&self) -> &str {
        match self {
            Backend::Horizon(u) | Backend::Rpc(u) => u,
        }
    }

    /// The client.
    pub fn net(&self) -> Result<Box<dyn Net>, ConnectError> {
        Ok(match self {
            Backend::Horizon(u) => Box::new(HorizonNet::new(u).map_err(ConnectError::Net)?),
            Backend::Rpc(u) => Box::new(RpcNet::new(u).map_err(ConnectError::Net)?),
        })
    }
}

/// A server we have talked to through the network-client trait, and its network.
pub struct NetOnline {
    pub net: Box<dyn Net>,
    pub backend: Backend,
    pub network: Network,
}

/// Ask the server which network it serves (Horizon's `GET /`, RPC's `getNetwork`); refuse when
/// `--network` disagrees, as [`connect`] does.
pub fn connect_net(
    backend: &Backend,
    expected: Option<&Network>,
    deadline: Instant,
) -> Result<NetOnline, ConnectError> {
    let net = backend.net()?;
    let served = retry_until(deadline, || net.passphrase()).map_err(ConnectError::Net)?;
    let network = served_network(&served, expected, backend.server(), net.url())?;
    Ok(NetOnline {
        net,
        backend: backend.clone(),
        network,
    })
}

/// The Horizon URL: `--horizon`/`HORIZON_URL`, else SDF's server for `--network testnet|pubnet`.
pub fn horizon_url(
    horizon: Option<&str>,
    network: Option<&Network>,
) -> Result<String, ConnectError> {
    match (horizon, network) {
        (Some(h), _) => Ok(h.to_string()),
        (None, Some(Network::Testnet)) => Ok(TESTNET_URL.to_string()),
        (None, Some(Network::Pubnet)) => Ok(PUBNET_URL.to_string()),
        _ => Err(ConnectError::NoHorizon),
    }
}

/// A Horizon we have talked to: its network (from `GET /`) and its clock.
pub struct Online {
    pub horizon: Horizon,
    pub network: Network,
    pub clock: Option<SystemTime>,
}

/// Ask Horizon which network it serves; refuse when `--network` disagrees.
pub fn connect(
    url: &str,
    expected: Option<&Network>,
    deadline: Instant,
) -> Result<Online, ConnectError> {
    let horizon = Horizon::new(url)?;
    let (root, clock) = retry(deadline, |t| horizon.root(t))?;
    let network = served_network(&root.network_passphrase, expected, "Horizon", horizon.url())?;
    Ok(Online {
        horizon,
        network,
        clock,
    })
}

/// The network whose passphrase `server` at `url` serves; refused when `--network` (`expected`)
/// names another.
fn served_network(
    passphrase: &str,
    expected: Option<&Network>,
    server: &'static str,
    url: &str,
) -> Result<Network, ConnectError> {
    let network = Network::from_passphrase(passphrase);
    match expected {
        Some(exp) if exp.passphrase() != network.passphrase() => {
            Err(ConnectError::NetworkMismatch {
                given: exp.to_string(),
                served: network.to_string(),
                server,
                url: url.to_string(),
            })
        }
        _ => Ok(network),
    }
}

/// Time left until `deadline`, at most `cap` and at least one second (a request needs some time).
pub fn budget(deadline: Instant, cap: Duration) -> Duration {
    deadline
        .saturating_duration_since(Instant::now())
        .min(cap)
        .max(Duration::from_secs(1))
}

/// Capped exponential backoff with full jitter: attempt 0 waits up to 0.5 s, then 1 s, 2 s, … up
/// to 8 s, each a random fraction so that many relays do not retry in step.
pub fn backoff(attempt: u32) -> Duration {
    let ceiling_ms = 500u64.saturating_mul(1 << attempt.min(4)).min(8_000);
    let ms = rand::thread_rng().gen_range(ceiling_ms / 4..=ceiling_ms);
    Duration::from_millis(ms)
}

/// Sleep `d`, but not past `deadline`. False when the deadline has come.
pub fn sleep_until_deadline(d: Duration, deadline: Instant) -> bool {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return false;
    }
    std::thread::sleep(d.min(left));
    Instant::now() < deadline
}

/// `attempt 3 failed; next try in 2s, giving up at 12:03:04 UTC (in 1m 40s)`: what a retry
/// loop tells the operator while it waits (attempts counted from 0).
pub fn next_try(attempt: u32, wait: Duration, deadline: Instant) -> String {
    let left = deadline.saturating_duration_since(Instant::now());
    let at = SystemTime::now() + left;
    let hms = time::OffsetDateTime::from(at)
        .format(time::macros::format_description!(
            "[hour]:[minute]:[second] UTC"
        ))
        .unwrap_or_default();
    if wait >= left {
        return format!(
            "attempt {} failed; giving up now (the deadline, {hms}, has come)",
            attempt + 1
        );
    }
    format!(
        "attempt {} failed; next try in {}, giving up at {hms} (in {})",
        attempt + 1,
        short_duration(wait),
        airgap::review::duration_words(left.as_secs())
    )
}

fn short_duration(d: Duration) -> String {
    if d < Duration::from_secs(10) {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        airgap::review::duration_words(d.as_secs())
    }
}

/// The most often a retry loop says it is still waiting.
const SAY_EVERY: Duration = Duration::from_secs(3);

/// A failure a retry loop can judge: worth trying again, and after how long the server asked.
pub trait Transient: std::fmt::Display {
    /// The server did not answer, or was busy (unreachable, 429, 5xx): worth trying again.
    fn is_transient(&self) -> bool;
    /// The wait the server asked for (`Retry-After`), if any.
    fn retry_after(&self) -> Option<Duration> {
        None
    }
}

impl Transient for HorizonError {
    fn is_transient(&self) -> bool {
        HorizonError::is_transient(self)
    }
    fn retry_after(&self) -> Option<Duration> {
        HorizonError::retry_after(self)
    }
}

impl Transient for crate::rpc::RpcError {
    fn is_transient(&self) -> bool {
        crate::rpc::RpcError::is_transient(self)
    }
    fn retry_after(&self) -> Option<Duration> {
        crate::rpc::RpcError::retry_after(self)
    }
}

impl Transient for NetError {
    fn is_transient(&self) -> bool {
        NetError::is_transient(self)
    }
}

/// Run a read-only Horizon request, each try given what is left of the deadline (at most a
/// request's timeout): [`retry_until`].
pub fn retry<T>(
    deadline: Instant,
    mut f: impl FnMut(Duration) -> Result<T, HorizonError>,
) -> Result<T, HorizonError> {
    retry_until(deadline, || {
        f(budget(deadline, crate::horizon::GET_REQUEST_TIMEOUT))
    })
}

/// Run a read-only request, retrying transient failures (unreachable, 429, 5xx) after the wait
/// the server asked for, else with capped backoff and jitter, until `deadline`, and saying so on
/// stderr while it waits: at the first failure, then every few seconds (never more often, unless
/// a long wait begins). Any other failure is returned at once.
pub fn retry_until<T, E: Transient>(
    deadline: Instant,
    mut f: impl FnMut() -> Result<T, E>,
) -> Result<T, E> {
    let mut attempt = 0;
    let mut said: Option<Instant> = None;
    loop {
        match f() {
            Ok(v) => return Ok(v),
            Err(e) if e.is_transient() => {
                let wait = e.retry_after().unwrap_or_else(|| backoff(attempt));
                // The first failure, then whenever a few seconds have passed or are about to.
                if said.is_none_or(|t| t.elapsed() >= SAY_EVERY) || wait >= SAY_EVERY {
                    crate::progress::say(format!("{e}; {}", next_try(attempt, wait, deadline)));
                    said = Some(Instant::now());
                }
                if !sleep_until_deadline(wait, deadline) {
                    return Err(e);
                }
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}
