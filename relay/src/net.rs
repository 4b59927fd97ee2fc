//! The relay's one network-client trait, [`Net`]: what the commands ask of the network (the
//! passphrase, accounts, the last close time, a transaction's outcome, sending an envelope) and
//! nothing else, with two implementations: Horizon ([`HorizonNet`], over [`crate::horizon`]) and
//! Stellar RPC ([`RpcNet`], over [`crate::rpc`]). `pay`, `account` and `merge` read the network
//! through it.
//!
//! Accounts are the library's model (`airgap::horizon::Account`) over either backend. RPC reads
//! entries by key and cannot list an account's trustlines: [`Net::account`] takes the assets
//! whose trustlines the caller needs (Horizon lists them all anyway).
use crate::horizon::{Horizon, HorizonError, Submission, GET_REQUEST_TIMEOUT};
use crate::preflight::xdr_entries;
use crate::rpc::{self, Rpc, RpcError};
use airgap::account::AccountId;
use airgap::asset::Asset;
use airgap::horizon::codes::{self, ResultCodes};
use airgap::horizon::Account;
use airgap::rpc::TxStatus;
use std::time::{Duration, Instant};
use stellar_xdr::{
    LedgerEntryData, LedgerKey, LedgerKeyAccount, LedgerKeyTrustLine, TrustLineAsset,
};

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

impl From<RpcError> for NetError {
    fn from(e: RpcError) -> NetError {
        match e {
            RpcError::BadBody { .. } | RpcError::BadUrl(_) => NetError(format!("bad answer: {e}")),
            e => NetError(e.to_string()),
        }
    }
}

/// The network as the relay's commands see it.
pub trait Net: Send + Sync {
    /// The URL, for messages.
    fn url(&self) -> &str;
    /// The network passphrase the server serves.
    fn passphrase(&self) -> Result<String, NetError>;
    /// An account (native balance, sequence, thresholds, signers, flags), `None` when it does
    /// not exist, with its trustlines to `assets` (those it holds; Horizon lists the others too,
    /// RPC cannot).
    fn account(&self, id: &AccountId, assets: &[Asset]) -> Result<Option<Account>, NetError>;
    /// The close time (Unix seconds) of the last closed ledger.
    fn last_close_time(&self) -> Result<u64, NetError>;
    /// The transaction's outcome if it is in a ledger, `None` if it is not (yet).
    fn outcome(&self, hash: &str) -> Result<Option<Outcome>, NetError>;
    /// Submit the envelope (base64) whose hash is `hash`.
    fn send(&self, envelope: &str, hash: &str) -> Sent;
}

/// The network over Horizon.
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

    fn account(&self, id: &AccountId, _assets: &[Asset]) -> Result<Option<Account>, NetError> {
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

/// The network over Stellar RPC.
pub struct RpcNet {
    rpc: Rpc,
}

impl RpcNet {
    pub fn new(url: &str) -> Result<RpcNet, NetError> {
        Ok(RpcNet {
            rpc: Rpc::new(url)?,
        })
    }

    /// The client, for calls beyond the trait.
    pub fn rpc(&self) -> &Rpc {
        &self.rpc
    }
}

/// The trustline key of `asset` for `id`; `None` for the native asset and for the issuer's own
/// asset (an issuer holds no trustline to it).
pub fn trustline_key(id: &AccountId, asset: &Asset) -> Option<LedgerKey> {
    let asset = match asset.to_xdr() {
        stellar_xdr::Asset::CreditAlphanum4(a) if a.issuer != id.to_xdr() => {
            TrustLineAsset::CreditAlphanum4(a)
        }
        stellar_xdr::Asset::CreditAlphanum12(a) if a.issuer != id.to_xdr() => {
            TrustLineAsset::CreditAlphanum12(a)
        }
        _ => return None,
    };
    Some(LedgerKey::Trustline(LedgerKeyTrustLine {
        account_id: id.to_xdr(),
        asset,
    }))
}

fn rpc_outcome(d: &airgap::rpc::TransactionDetails) -> Option<Outcome> {
    let successful = match d.status {
        TxStatus::Success => true,
        TxStatus::Failed => false,
        TxStatus::NotFound | TxStatus::Unknown => return None,
    };
    let code = if successful {
        "tx_success".to_string()
    } else {
        d.result_xdr
            .as_deref()
            .and_then(codes::from_result_xdr)
            .map(|c| first_code(&c))
            .unwrap_or_else(|| "tx_failed".into())
    };
    Some(Outcome {
        ledger: d.ledger.unwrap_or(0),
        successful,
        code,
    })
}

impl Net for RpcNet {
    fn url(&self) -> &str {
        self.rpc.url()
    }

    fn passphrase(&self) -> Result<String, NetError> {
        Ok(self.rpc.network()?.passphrase)
    }

    fn account(&self, id: &AccountId, assets: &[Asset]) -> Result<Option<Account>, NetError> {
        let mut keys = vec![LedgerKey::Account(LedgerKeyAccount {
            account_id: id.to_xdr(),
        })];
        for a in assets {
            if let Some(k) = trustline_key(id, a) {
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
        }
        if keys.len() > rpc::MAX_LEDGER_KEYS {
            return Err(NetError(format!(
                "bad answer: {} trustlines asked of {id} at once; at most {} can be",
                keys.len() - 1,
                rpc::MAX_LEDGER_KEYS - 1
            )));
        }
        let found = self.rpc.ledger_entries(&keys)?;
        let mut account = None;
        let mut lines = Vec::new();
        for (_, data, modified) in found.entries {
            match data {
                LedgerEntryData::Account(a) if a.account_id == id.to_xdr() => {
                    account = Some((a, modified))
                }
                LedgerEntryData::Trustline(t) => lines.push((t, modified)),
                _ => {}
            }
        }
        let Some((a, modified)) = account else {
            return Ok(None);
        };
        let entries = xdr_entries::entries_from_xdr(&a, modified, &lines, &[])
            .map_err(|e| NetError(format!("bad answer: {e}")))?;
        Ok(Some(xdr_entries::horizon_account(&entries)))
    }

    fn last_close_time(&self) -> Result<u64, NetError> {
        let l = self.rpc.latest_ledger()?;
        if let Some(t) = l.close_time {
            return Ok(t);
        }
        // Older servers leave closeTime out of getLatestLedger; getTransaction always says it.
        Ok(self
            .rpc
            .transaction(&"00".repeat(32))?
            .latest_ledger_close_time)
    }

    fn outcome(&self, hash: &str) -> Result<Option<Outcome>, NetError> {
        Ok(rpc_outcome(&self.rpc.transaction(hash)?.details))
    }

    /// `sendTransaction`, then (like Horizon's synchronous submit) `getTransaction` until its
    /// ledger or [`SEND_TIMEOUT`]. `DUPLICATE` is polled, never resent as new; `TRY_AGAIN_LATER`
    /// is unknown (the caller looks the hash up and sends the same bytes again); `ERROR` is a
    /// rejection only once `getTransaction` says the hash is in no ledger (an earlier send whose
    /// answer was lost may have applied it).
    fn send(&self, envelope: &str, hash: &str) -> Sent {
        match self.rpc.send(envelope) {
            Err(e) => Sent::Unknown(e.to_string()),
            Ok(rpc::Sent::TryAgainLater { latest_ledger }) => Sent::Unknown(format!(
                "TRY_AGAIN_LATER (the account's one transaction in the ledger after {latest_ledger} is taken)"
            )),
            Ok(rpc::Sent::Error { codes, .. }) => match self.outcome(hash) {
                Ok(Some(o)) => Sent::Landed(o),
                Ok(None) => Sent::Rejected(codes.transaction),
                Err(e) => Sent::Unknown(format!(
                    "{} (not yet known to be in no ledger: {e})",
                    codes.transaction
                )),
            },
            Ok(rpc::Sent::Pending { .. }) | Ok(rpc::Sent::Duplicate { .. }) => {
                let deadline = Instant::now() + SEND_TIMEOUT;
                loop {
                    match self.outcome(hash) {
                        Ok(Some(o)) => return Sent::Landed(o),
                        Ok(None) if Instant::now() < deadline => {}
                        Ok(None) => return Sent::Unknown("queued, in no ledger yet".into()),
                        Err(e) => return Sent::Unknown(e.to_string()),
                    }
                    std::thread::sleep(crate::submit::rpc::POLL);
                }
            }
        }
    }
}
