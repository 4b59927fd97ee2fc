//! Fault injection (`--fault 504:0.2,429:0.1,503:0.1`): Horizon's real error answers, at random
//! at the given rates, before a request reaches its handler. `--rpc-fault` (same syntax): what a
//! gateway in front of stellar-rpc answers to `POST /rpc` ([`rpc`]).

use std::str::FromStr;

use rand::Rng;

use crate::problems;
use crate::server::Reply;
use crate::SandboxError;

/// Fault injection rates.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaultSpec {
    pub rate_504: f64,
    pub rate_429: f64,
    pub rate_503: f64,
}

impl FromStr for FaultSpec {
    type Err = SandboxError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut spec = FaultSpec::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (code, rate) = part
                .split_once(':')
                .ok_or_else(|| SandboxError::FaultSpec(format!("{part:?} is not STATUS:RATE")))?;
            let rate: f64 = rate
                .trim()
                .parse()
                .map_err(|_| SandboxError::FaultSpec(format!("bad rate in {part:?}")))?;
            if !(0.0..=1.0).contains(&rate) {
                return Err(SandboxError::FaultSpec(format!(
                    "rate in {part:?} must be between 0 and 1"
                )));
            }
            match code.trim() {
                "504" => spec.rate_504 = rate,
                "429" => spec.rate_429 = rate,
                "503" => spec.rate_503 = rate,
                other => {
                    return Err(SandboxError::FaultSpec(format!(
                        "status {other:?} is not one of 429, 503, 504"
                    )))
                }
            }
        }
        if spec.rate_504 + spec.rate_429 + spec.rate_503 > 1.0 {
            return Err(SandboxError::FaultSpec(
                "rates add up to more than 1".into(),
            ));
        }
        Ok(spec)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    None,
    Status504,
    Status429,
    Status503,
}

impl FaultSpec {
    pub(crate) fn roll(&self) -> Fault {
        let total = self.rate_504 + self.rate_429 + self.rate_503;
        if total <= 0.0 {
            return Fault::None;
        }
        let x: f64 = rand::thread_rng().gen();
        if x < self.rate_504 {
            Fault::Status504
        } else if x < self.rate_504 + self.rate_429 {
            Fault::Status429
        } else if x < total {
            Fault::Status503
        } else {
            Fault::None
        }
    }
}

pub(crate) fn rate_limit_reply() -> Reply {
    Reply::problem(&problems::rate_limited())
        .with_header("X-Ratelimit-Limit", "101".into())
        .with_header("X-Ratelimit-Remaining", "0".into())
        .with_header("X-Ratelimit-Reset", "1".into())
        .with_header("Retry-After", "1".into())
}

/// chi's own answer when the server is at capacity.
pub(crate) fn plain_503() -> Reply {
    Reply::text(503, "Server capacity exceeded.")
}

/// A proxy's timeout: no body at all.
pub(crate) fn bare_504() -> Reply {
    Reply::empty(504)
}

pub(crate) fn get_fault(fault: Fault) -> Reply {
    let coin: bool = rand::thread_rng().gen();
    match fault {
        Fault::Status429 => rate_limit_reply(),
        Fault::Status503 if coin => Reply::problem(&problems::stale_history()),
        Fault::Status503 => plain_503(),
        Fault::Status504 if coin => Reply::problem(&problems::legacy_timeout()),
        _ => bare_504(),
    }
}

/// `POST /rpc` behind a gateway that fails with `fault`: 429 and 503 before the call reaches RPC
/// (nothing done); 504 after the gateway gave up waiting, with the call done or not at random (a
/// `sendTransaction` may have queued its transaction: the answer is lost, as over a real timeout).
pub(crate) fn rpc(fault: Fault, handle: impl FnOnce() -> Reply) -> Reply {
    match fault {
        Fault::None => handle(),
        Fault::Status429 => rate_limit_reply(),
        Fault::Status503 => plain_503(),
        Fault::Status504 => {
            if rand::thread_rng().gen::<bool>() {
                let _ = handle();
            }
            bare_504()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_spec_parses_and_rejects() {
        let spec: FaultSpec = "504:0.2,429:0.1,503:0.1".parse().unwrap();
        assert_eq!(spec.rate_504, 0.2);
        assert_eq!(spec.rate_429, 0.1);
        assert_eq!(spec.rate_503, 0.1);
        assert!("500:0.1".parse::<FaultSpec>().is_err());
        assert!("504:2".parse::<FaultSpec>().is_err());
        assert!("504:0.6,429:0.6".parse::<FaultSpec>().is_err());
        assert!("504".parse::<FaultSpec>().is_err());
    }

    #[test]
    fn rpc_faults_before_and_after_the_call() {
        let called = std::cell::Cell::new(0);
        let call = || {
            called.set(called.get() + 1);
            Reply::empty(200)
        };
        assert_eq!(rpc(Fault::None, call).status, 200);
        assert_eq!(rpc(Fault::Status503, call).status, 503);
        assert_eq!(rpc(Fault::Status429, call).status, 429);
        assert_eq!(called.get(), 1, "429 and 503 come before the call");
        // A 504 after the call was done or not: over many, both happen.
        for _ in 0..64 {
            assert_eq!(rpc(Fault::Status504, call).status, 504);
        }
        assert!(called.get() > 1 && called.get() < 65, "{}", called.get());
    }
}
