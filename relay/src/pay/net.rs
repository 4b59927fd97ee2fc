//! What `pay` asks of the network, as a small seam: the calls the exactly-once protocol needs and
//! nothing else. Horizon ([`HorizonNet`]) is one implementation; Stellar RPC is to be the second
//! (over the relay's one RPC client), not a rewrite of the loop.
use crate::horizon::{Horizon, HorizonError, Submission, GET_REQUEST_TIMEOUT};
use airgap::account::AccountId;
use airgap::horizon::codes::{self, ResultCodes};
use airgap::horizon::Account;
use std::time::Duration;

/// How long `POST /transactions` may take before the outcome is unknown (then polled by hash).
const SEND_TIMEOUT: Duration = Duration::from_secs(35);

/// A transaction's outcome, read from a ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub ledger: u32,
    pub successful: bool,
    /// `tx_success`, or the first failing code: the failing operation's (`op_no_trust`), else
    /// the transaction's.
    pub code: String,
}

/// What sending an envelope settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// In a ledger.
    Landed(Outcome),
    /// Refused before any ledger (`tx_bad_seq`, `tx_too_late`, `tx_insufficient_fee`, …): the
    /// fee was not charged, the sequence number not used.
    Rejected(String),
    /// Accepted or maybe accepted, outcome unknown (504, a dropped connection, 5xx, 429):
    /// look it up by hash.
    Unknown(String),
}

/// A failure to ask (the network may be fine; try again).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NetError(pub String);

impl NetError {
    /// A server that answers something its API does not: trying again will not help.
    pub fn is_permanent(&self) -> bool {
        self.0.starts_with("bad answer")
    }
}

impl From<HorizonError> for NetError {
    fn from(e: HorizonError) -> NetError {
        match e {
            HorizonError::BadBody { .. } | HorizonError::BadUrl(_) => {
                NetError(format!("bad answer: {e}"))
            }
            e => NetError(e.to_string()),
        }
    }
}

/// The network as `pay` sees it.
pub trait Net: Send + Sync {
    /// The URL, for messages.
    fn url(&self) -> &str;
    /// The network passphrase the server serves.
    fn passphrase(&self) -> Result<String, NetError>;
    /// An account (balances, trustlines, sequence), `None` when it does not exist.
    fn account(&self, id: &AccountId) -> Result<Option<Account>, NetError>;
    /// The close time (Unix seconds) of the last closed ledger.
    fn last_close_time(&self) -> Result<u64, NetError>;
    /// The transaction's outcome if it is in a ledger, `None` if it is not (yet).
    fn outcome(&self, hash: &str) -> Result<Option<Outcome>, NetError>;
    /// Submit the envelope (base64) whose hash is `hash`.
    fn send(&self, envelope: &str, hash: &str) -> Sent;
}

/// `pay` over Horizon.
pub struct HorizonNet {
    h: Horizon,
}

impl HorizonNet {
    pub fn new(url: &str) -> Result<HorizonNet, NetError> {
        Ok(HorizonNet {
            h: Horizon::new(url)?,
        })
    }
}

/// The code a row's `result` keeps: `tx_success`, the first failing operation's code, or the
/// transaction's.
pub fn first_code(c: &ResultCodes) -> String {
    if c.transaction == "tx_success" {
        return c.transaction.clone();
    }
    c.operations
        .iter()
        .find(|o| o.as_str() != "op_success")
        .cloned()
        .unwrap_or_else(|| c.transaction.clone())
}

fn outcome_of(rec: &airgap::horizon::Transaction) -> Outcome {
    let code = if rec.successful {
        "tx_success".to_string()
    } else {
        codes::from_result_xdr(&rec.result_xdr)
            .map(|c| first_code(&c))
            .unwrap_or_else(|| "tx_failed".into())
    };
    Outcome {
        ledger: rec.ledger,
        successful: rec.successful,
        code,
    }
}

/// RFC 3339 to Unix seconds.
pub fn unix_time(rfc3339: &str) -> Option<u64> {
    let t = time::OffsetDateTime::parse(
        rfc3339.trim(),
        &time::format_description::well_known::Rfc3339,
    )
    .ok()?;
    u64::try_from(t.unix_timestamp()).ok()
}

impl Net for HorizonNet {
    fn url(&self) -> &str {
        self.h.url()
    }

    fn passphrase(&self) -> Result<String, NetError> {
        Ok(self.h.root(GET_REQUEST_TIMEOUT)?.0.network_passphrase)
    }

    fn account(&self, id: &AccountId) -> Result<Option<Account>, NetError> {
        Ok(self.h.account(id, GET_REQUEST_TIMEOUT)?.map(|(a, _)| a))
    }

    fn last_close_time(&self) -> Result<u64, NetError> {
        let l = self.h.latest_ledger(GET_REQUEST_TIMEOUT)?;
        unix_time(&l.closed_at).ok_or_else(|| {
            NetError(format!(
                "bad answer: ledger {} closed at {:?}",
                l.sequence, l.closed_at
            ))
        })
    }

    fn outcome(&self, hash: &str) -> Result<Option<Outcome>, NetError> {
        Ok(self
            .h
            .transaction(hash, GET_REQUEST_TIMEOUT)?
            .map(|r| outcome_of(&r)))
    }

    fn send(&self, envelope: &str, hash: &str) -> Sent {
        match self.h.submit(envelope, SEND_TIMEOUT) {
            Err(e) => Sent::Unknown(e.to_string()),
            Ok((Submission::Success(rec), _)) => Sent::Landed(outcome_of(&rec)),
            Ok((
                Submission::Failed {
                    transaction,
                    operations,
                    ..
                },
                _,
            )) => {
                let c = ResultCodes {
                    transaction: transaction.clone(),
                    inner_transaction: None,
                    operations,
                };
                if c.applied() {
                    // In a ledger (fee charged): read the record for its ledger.
                    match self.outcome(hash) {
                        Ok(Some(o)) => Sent::Landed(o),
                        _ => Sent::Unknown(format!("{} (its ledger not read yet)", first_code(&c))),
                    }
                } else {
                    Sent::Rejected(transaction)
                }
            }
            Ok((Submission::Malformed(why), _)) => Sent::Rejected(format!("tx_malformed: {why}")),
            Ok((Submission::Timeout, _)) => Sent::Unknown("Horizon answered 504".into()),
            Ok((Submission::RateLimited(_), _)) => Sent::Unknown("Horizon answered 429".into()),
            Ok((Submission::Unavailable(s, why), _)) => {
                Sent::Unknown(format!("Horizon answered {s}: {why}"))
            }
            Ok((Submission::Refused(s, why), _)) => {
                Sent::Unknown(format!("Horizon refused it ({s}): {why}"))
            }
        }
    }
}
