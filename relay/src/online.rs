//! Connecting: which Horizon, which network, and patience (deadlines, backoff with jitter).
use crate::horizon::{Horizon, HorizonError, PUBNET_URL, TESTNET_URL};
use airgap::network::Network;
use rand::Rng;
use std::time::{Duration, Instant, SystemTime};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    #[error("no Horizon server was given")]
    NoHorizon,
    #[error("--network says {given}, but Horizon at {url} serves {served}")]
    NetworkMismatch {
        given: String,
        served: String,
        url: String,
    },
    #[error(transparent)]
    Horizon(#[from] HorizonError),
}

impl ConnectError {
    pub fn remedy(&self) -> &'static str {
        match self {
            ConnectError::NoHorizon => "Pass --horizon URL (or set HORIZON_URL), or --network testnet|pubnet for SDF's public Horizon.",
            ConnectError::NetworkMismatch { .. } => "Point --horizon at a server of the intended network, or correct --network; nothing was sent.",
            ConnectError::Horizon(e) if e.is_transient() => "Check the URL and your connection, then run the same command again; nothing was sent.",
            ConnectError::Horizon(_) => "Check that --horizon points at a Horizon server.",
        }
    }
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
    let network = Network::from_passphrase(&root.network_passphrase);
    if let Some(exp) = expected {
        if exp.passphrase() != network.passphrase() {
            return Err(ConnectError::NetworkMismatch {
                given: exp.to_string(),
                served: network.to_string(),
                url: horizon.url().to_string(),
            });
        }
    }
    Ok(Online {
        horizon,
        network,
        clock,
    })
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

/// Run a read-only request, retrying transient failures (unreachable, 429, 5xx) with backoff
/// until `deadline`, and saying so on stderr while it waits: at the first failure, then every few
/// seconds (never more often, unless a long wait begins).
pub fn retry<T>(
    deadline: Instant,
    mut f: impl FnMut(Duration) -> Result<T, HorizonError>,
) -> Result<T, HorizonError> {
    let mut attempt = 0;
    let mut said: Option<Instant> = None;
    loop {
        match f(budget(deadline, crate::horizon::GET_REQUEST_TIMEOUT)) {
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
