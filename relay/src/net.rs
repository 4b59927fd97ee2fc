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
#[error("{}", self.message())]
pub struct NetError(pub String);

/// The prefix of a [`NetError`] whose server was reached but refused the request (a wrong URL,
/// a method it does not have): trying again will not help either, but it is not a bad answer.
const REFUSED: &str = "refused: ";

impl NetError {
    /// A server that answers something its API does not: trying again will not help.
    pub fn is_permanent(&self) -> bool {
        self.0.starts_with("bad answer")
    }

    /// The server did not answer, or was busy: worth trying again.
    pub fn is_transient(&self) -> bool {
        !self.is_permanent() && !self.0.starts_with(REFUSED)
    }

    /// The message without the kind (for an operator).
    pub fn message(&self) -> &str {
        self.0.strip_prefix(REFUSED).unwrap_or(&self.0)
    }
}

impl From<HorizonError> for NetError {
    fn from(e: HorizonError) -> NetError {
        match e {
            HorizonError::BadBody { .. } | HorizonError::BadUrl(_) => {
                NetError(format!("bad answer: {e}"))
            }
            e if !e.is_transient() => NetError(format!("{REFUSED}{e}")),
            e => NetError(e.to_string()),
        }
    }
}

impl From<RpcError> for NetError {
    fn from(e: RpcError) -> NetError {
        match e {
            RpcError::BadBody { .. } | RpcError::BadUrl(_) => NetError(format!("bad answer: {e}")),
            RpcError::Refused { .. } => NetError(format!("{REFUSED}{e}")),
            RpcError::Status { .. } if !e.is_transient() => NetError(format!("{REFUSED}{e}")),
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
        let mut account = xdr_entries::horizon_account(&entries);
        with_liabilities(&mut account, &a, &lines);
        Ok(Some(account))
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

/// The buying and selling liabilities (open offers) of the entries, on the balances they belong
/// to: the sandbox's entries that `horizon_account` writes from have none, and `pay`'s room
/// check needs them (a destination's buying liabilities take room under its limit).
fn with_liabilities(
    account: &mut Account,
    entry: &stellar_xdr::AccountEntry,
    lines: &[(stellar_xdr::TrustLineEntry, u32)],
) {
    use stellar_xdr::{AccountEntryExt, Liabilities, TrustLineEntryExt};
    let text = |stroops: i64| {
        airgap::amount::Amount::from_stroops(stroops)
            .map(|a| a.to_horizon_string())
            .ok()
    };
    let set = |balance: &mut airgap::horizon::Balance, l: &Liabilities| {
        balance.buying_liabilities = text(l.buying);
        balance.selling_liabilities = text(l.selling);
    };
    for balance in &mut account.balances {
        if balance.asset_type == "native" {
            if let AccountEntryExt::V1(v1) = &entry.ext {
                set(balance, &v1.liabilities);
            }
            continue;
        }
        let line = lines.iter().map(|(t, _)| t).find(|t| {
            matches!(xdr_entries::asset_key("", &t.asset), Ok(Some(k))
                if balance.asset_code.as_deref() == Some(k.code.as_str())
                    && balance.asset_issuer.as_deref()
                        == Some(AccountId(k.issuer).to_string().as_str()))
        });
        if let Some(TrustLineEntryExt::V1(v1)) = line.map(|t| &t.ext) {
            set(balance, &v1.liabilities);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Liabilities the XDR entries hold reach the balances (the sandbox's entries have none):
    /// entries written by the sandbox, given liabilities, read back as Horizon's balances.
    #[test]
    fn liabilities_reach_the_balances() {
        use airgap_sandbox::ledger::{self, AssetKey, Trustline, TL_AUTHORIZED};
        use stellar_xdr::{
            AccountEntryExt, AccountEntryExtensionV1, AccountEntryExtensionV1Ext, Liabilities,
            TrustLineEntryExt, TrustLineEntryV1, TrustLineEntryV1Ext,
        };
        let (id, issuer) = ([7u8; 32], [9u8; 32]);
        let acc = ledger::Account::new(id, 500_000_000, 1 << 32);
        let key = AssetKey {
            code: "USD".into(),
            issuer,
        };
        let line = Trustline {
            balance: 50_000_000,
            limit: 1_000_000_000,
            flags: TL_AUTHORIZED,
            last_modified_ledger: 3,
        };
        let LedgerEntryData::Account(mut a) =
            airgap_sandbox::meta::account_entry(&acc).unwrap().data
        else {
            unreachable!()
        };
        let LedgerEntryData::Trustline(mut t) =
            airgap_sandbox::meta::trustline_entry(&id, &key, &line)
                .unwrap()
                .data
        else {
            unreachable!()
        };
        a.ext = AccountEntryExt::V1(AccountEntryExtensionV1 {
            liabilities: Liabilities {
                buying: 0,
                selling: 12_345,
            },
            ext: AccountEntryExtensionV1Ext::V0,
        });
        t.ext = TrustLineEntryExt::V1(TrustLineEntryV1 {
            liabilities: Liabilities {
                buying: 30_000_000,
                selling: 1,
            },
            ext: TrustLineEntryV1Ext::V0,
        });
        let lines = vec![(t, 3)];
        let entries = xdr_entries::entries_from_xdr(&a, 4, &lines, &[]).unwrap();
        let mut account = xdr_entries::horizon_account(&entries);
        with_liabilities(&mut account, &a, &lines);
        let find = |native: bool| {
            account
                .balances
                .iter()
                .find(|b| (b.asset_type == "native") == native)
                .unwrap()
                .clone()
        };
        let (native, usd) = (find(true), find(false));
        assert_eq!(native.selling_liabilities.as_deref(), Some("0.0012345"));
        assert_eq!(native.buying_liabilities.as_deref(), Some("0.0000000"));
        assert_eq!(usd.buying_liabilities.as_deref(), Some("3.0000000"));
        assert_eq!(usd.selling_liabilities.as_deref(), Some("0.0000001"));
    }

    #[test]
    fn errors_say_whether_to_try_again() {
        let unreachable = NetError::from(RpcError::Unreachable {
            url: "u".into(),
            reason: "r".into(),
        });
        assert!(unreachable.is_transient() && !unreachable.is_permanent());
        let busy = NetError::from(RpcError::Status {
            retry_after: None,
            url: "u".into(),
            method: "m".into(),
            status: 503,
        });
        assert!(busy.is_transient());
        let wrong_url = NetError::from(RpcError::Status {
            retry_after: None,
            url: "u".into(),
            method: "m".into(),
            status: 404,
        });
        assert!(!wrong_url.is_transient() && !wrong_url.is_permanent());
        assert!(!wrong_url.to_string().starts_with(REFUSED), "{wrong_url}");
        let refused = NetError::from(RpcError::Refused {
            method: "m".into(),
            code: -32601,
            message: "no".into(),
        });
        assert!(!refused.is_transient());
        let junk = NetError::from(RpcError::BadBody {
            method: "m".into(),
            reason: "r".into(),
        });
        assert!(junk.is_permanent() && !junk.is_transient());
    }

    /// `RpcNet` against the sandbox's RPC with 1 s ledgers (the two sends of one ledger fit well
    /// inside one, as in `rpc::tests`): what `pay` reads (passphrase,
    /// account with the trustlines asked for, close time, outcome) and what each send settles:
    /// landed, TRY_AGAIN_LATER unknown (never a failure), a resend of an applied envelope landed
    /// (not `tx_bad_seq`), a sequence gap rejected.
    #[test]
    fn rpc_net_against_the_sandbox() {
        use airgap::keys::SecretSeed;

        let mut config = airgap_sandbox::SandboxConfig::ephemeral();
        config.close_every = Duration::from_secs(1);
        let sandbox = airgap_sandbox::start(config).unwrap();
        let net = RpcNet::new(&sandbox.rpc_url()).unwrap();
        assert_eq!(net.passphrase().unwrap(), airgap_sandbox::PASSPHRASE);
        let key = SecretSeed::generate().unwrap();
        let id = key.public_key();
        let usd: Asset = format!("USD:{}", SecretSeed::generate().unwrap().public_key())
            .parse()
            .unwrap();
        assert_eq!(net.account(&id, &[]).unwrap(), None);
        ureq::get(&format!("{}/friendbot?addr={id}", sandbox.url()))
            .call()
            .unwrap();
        let acct = net
            .account(&id, &[usd.clone(), Asset::Native])
            .unwrap()
            .unwrap();
        assert_eq!(
            acct.balances.len(),
            1,
            "no USD trustline: the native balance"
        );
        assert_eq!(acct.account_id, id.to_string());
        let seq = acct.sequence().unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(net.last_close_time().unwrap() + 60 > now);
        let tx = |sequence: i64| crate::test_support::create_account_tx(&key, sequence);
        let (first, second) = (tx(seq + 1), tx(seq + 2));
        // the first holds the account's one place in the next ledger
        assert!(matches!(
            net.rpc().send(&first.0).unwrap(),
            rpc::Sent::Pending { .. }
        ));
        match net.send(&second.0, &second.1) {
            Sent::Unknown(why) => assert!(why.contains("TRY_AGAIN_LATER"), "{why}"),
            other => panic!("TRY_AGAIN_LATER is not {other:?}"),
        }
        let landed = match net.send(&first.0, &first.1) {
            Sent::Landed(o) => o,
            other => panic!("DUPLICATE was not polled to its ledger: {other:?}"),
        };
        assert!(landed.successful && landed.code == "tx_success");
        assert_eq!(net.outcome(&first.1).unwrap(), Some(landed.clone()));
        // sent again after it applied: its ledger, not tx_bad_seq
        assert_eq!(net.send(&first.0, &first.1), Sent::Landed(landed));
        let Sent::Landed(o) = net.send(&second.0, &second.1) else {
            panic!("the second was not applied once its account's place was free")
        };
        assert!(o.successful);
        let gap = tx(seq + 9);
        assert_eq!(
            net.send(&gap.0, &gap.1),
            Sent::Rejected("tx_bad_seq".into())
        );
        assert_eq!(net.outcome(&gap.1).unwrap(), None);
        sandbox.shutdown();
    }
}
