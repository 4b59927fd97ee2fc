//! Where the preflight reads ledger entries from: a [`LedgerSource`] gives the last closed
//! ledger's header and, per account, the account entry with its trustlines and data entries, as
//! the sandbox's ledger engine holds them (`airgap_sandbox::ledger`). [`HorizonSource`] reads them
//! from Horizon (`GET /ledgers?order=desc&limit=1`, `GET /accounts/{id}`);
//! [`super::rpc_source::RpcSource`] from Stellar RPC (`getLatestLedger`, `getLedgerEntries` of
//! the keys a transaction touches: RPC cannot list an account's entries).
//!
//! Horizon's answers are untrusted: anything that does not convert exactly is an error (the
//! prediction is then "unknown"), never a guess.
use crate::horizon::HorizonError;
use crate::net::NetError;
use crate::online::{self, Online};
use airgap::account::AccountId;
use airgap::amount::Amount;
use airgap::horizon::{self as h, Account as HorizonAccount};
use airgap_sandbox::ledger::{
    self, AccountSigner, AssetKey, DataEntry, Header, SignerKind, Trustline, TL_AUTHORIZED,
    TL_AUTHORIZED_TO_MAINTAIN_LIABILITIES, TL_CLAWBACK_ENABLED,
};
use base64::Engine as _;
use std::collections::HashMap;
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The source did not answer (or answered with an error status).
    #[error(transparent)]
    Horizon(#[from] HorizonError),
    /// A Stellar RPC source did not answer (or answered with an error).
    #[error(transparent)]
    Net(#[from] NetError),
    /// It answered with something the engine's entries cannot be made from.
    #[error("{what} is not usable: {why}")]
    Unusable { what: String, why: String },
}

impl SourceError {
    /// Worth running again later (the source was unreachable or busy).
    pub fn is_transient(&self) -> bool {
        match self {
            SourceError::Horizon(e) => e.is_transient(),
            SourceError::Net(e) => e.is_transient(),
            SourceError::Unusable { .. } => false,
        }
    }
}

/// The last closed ledger as the engine's [`Header`], with the network's fee and reserve (which
/// the engine holds as constants: a network with others cannot be predicted).
#[derive(Clone, Debug)]
pub struct LedgerHeader {
    pub header: Header,
    pub base_fee: i64,
    pub base_reserve: i64,
}

/// One account's entries: the account, its trustlines and its data entries.
#[derive(Clone, Debug)]
pub struct AccountEntries {
    pub account: ledger::Account,
    pub trustlines: Vec<(AssetKey, Trustline)>,
    pub data: Vec<(String, DataEntry)>,
    /// What the account holds that the engine does not model (offers and their liabilities,
    /// sponsorships, liquidity-pool shares): a transaction touching it cannot be predicted.
    pub unmodeled: Vec<String>,
}

/// A trustline or data entry of an account, as a transaction reads or writes it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntryKey {
    Trustline(AssetKey),
    Data(String),
}

/// A reader of ledger entries for the preflight.
pub trait LedgerSource {
    /// The last closed ledger.
    fn header(&mut self) -> Result<LedgerHeader, SourceError>;
    /// An account with its trustlines and data entries, at least those of `keys` (a source that
    /// lists an account's entries gives them all); `None` when it does not exist.
    fn account(
        &mut self,
        id: &AccountId,
        keys: &[EntryKey],
    ) -> Result<Option<AccountEntries>, SourceError>;
    /// True when [`LedgerSource::account`] gives every trustline and data entry (Horizon): an
    /// account is then read once. False (Stellar RPC): entries are read by key, as needed.
    fn lists_entries(&self) -> bool {
        true
    }
    /// The account as Horizon's resource (its signer set, for the weight checks and names),
    /// read once per run; `None` when it does not exist or could not be read.
    fn signer_account(&mut self, id: &AccountId) -> Option<HorizonAccount>;
    /// Set once a read found the source unreachable.
    fn unreachable(&self) -> bool;
}

impl<S: LedgerSource + ?Sized> LedgerSource for Box<S> {
    fn header(&mut self) -> Result<LedgerHeader, SourceError> {
        (**self).header()
    }
    fn account(
        &mut self,
        id: &AccountId,
        keys: &[EntryKey],
    ) -> Result<Option<AccountEntries>, SourceError> {
        (**self).account(id, keys)
    }
    fn lists_entries(&self) -> bool {
        (**self).lists_entries()
    }
    fn signer_account(&mut self, id: &AccountId) -> Option<HorizonAccount> {
        (**self).signer_account(id)
    }
    fn unreachable(&self) -> bool {
        (**self).unreachable()
    }
}

/// Ledger entries from Horizon, each account read once (and shared with the checks that need
/// Horizon's own account resource: signer sets, names).
pub struct HorizonSource<'a> {
    online: &'a Online,
    deadline: Instant,
    accounts: HashMap<AccountId, Option<HorizonAccount>>,
    /// Set when Horizon did not answer a read.
    pub unreachable: bool,
}

impl<'a> HorizonSource<'a> {
    pub fn new(online: &'a Online, deadline: Instant) -> HorizonSource<'a> {
        HorizonSource {
            online,
            deadline,
            accounts: HashMap::new(),
            unreachable: false,
        }
    }

    /// Horizon's account resource (read once per run); `None` when the account does not exist.
    pub fn horizon_account(
        &mut self,
        id: &AccountId,
    ) -> Result<Option<&HorizonAccount>, HorizonError> {
        if !self.accounts.contains_key(id) {
            let (online, deadline) = (self.online, self.deadline);
            match online::retry(deadline, |t| online.horizon.account(id, t)) {
                Ok(a) => {
                    self.accounts.insert(*id, a.map(|(a, _)| a));
                }
                Err(e) => {
                    self.unreachable |= e.is_transient();
                    return Err(e);
                }
            }
        }
        Ok(self.accounts.get(id).and_then(Option::as_ref))
    }
}

impl LedgerSource for HorizonSource<'_> {
    fn header(&mut self) -> Result<LedgerHeader, SourceError> {
        let (online, deadline) = (self.online, self.deadline);
        let latest = online::retry(deadline, |t| online.horizon.latest_ledger(t));
        let latest = latest.inspect_err(|e| self.unreachable |= e.is_transient())?;
        header_from_horizon(&latest)
    }

    fn account(
        &mut self,
        id: &AccountId,
        _keys: &[EntryKey],
    ) -> Result<Option<AccountEntries>, SourceError> {
        match self.horizon_account(id)? {
            None => Ok(None),
            Some(a) => entries_from_horizon(a).map(Some),
        }
    }

    fn signer_account(&mut self, id: &AccountId) -> Option<HorizonAccount> {
        self.horizon_account(id).ok().flatten().cloned()
    }

    fn unreachable(&self) -> bool {
        self.unreachable
    }
}

fn unusable(what: impl Into<String>, why: impl Into<String>) -> SourceError {
    SourceError::Unusable {
        what: what.into(),
        why: why.into(),
    }
}

/// The engine's header from Horizon's latest ledger.
pub fn header_from_horizon(l: &h::Ledger) -> Result<LedgerHeader, SourceError> {
    let what = || format!("Horizon's ledger {}", l.sequence);
    let close_time = crate::net::unix_time(&l.closed_at)
        .ok_or_else(|| unusable(what(), "closed_at is not an RFC 3339 time"))?;
    let mut hash = [0u8; 32];
    // The hash only names the ledger; a missing one does not change any outcome.
    if let Ok(bytes) = hex::decode(&l.hash) {
        if bytes.len() == 32 {
            hash.copy_from_slice(&bytes);
        }
    }
    Ok(LedgerHeader {
        header: Header {
            ledger_seq: l.sequence,
            close_time,
            hash,
            fee_pool: 0,
            total_coins: ledger::TOTAL_COINS,
        },
        base_fee: l.base_fee_in_stroops,
        base_reserve: l.base_reserve_in_stroops,
    })
}

fn stroops(what: &str, s: &str) -> Result<i64, SourceError> {
    s.parse::<Amount>()
        .map(Amount::stroops)
        .map_err(|e| unusable(what, e.to_string()))
}

fn account_bytes(what: &str, s: &str) -> Result<[u8; 32], SourceError> {
    s.parse::<AccountId>()
        .map(|a| a.0)
        .map_err(|e| unusable(what, e.to_string()))
}

/// A signer key as Horizon spells it (`type` and strkey).
fn signer_kind(kind: &str, key: &str) -> Result<SignerKind, String> {
    use stellar_strkey::{ed25519, HashX, PreAuthTx};
    let bad = |e: stellar_strkey::DecodeError| format!("signer {key}: {e}");
    Ok(match kind {
        "ed25519_public_key" => {
            SignerKind::Ed25519(ed25519::PublicKey::from_string(key).map_err(bad)?.0)
        }
        "preauth_tx" => SignerKind::PreAuthTx(PreAuthTx::from_string(key).map_err(bad)?.0),
        "sha256_hash" => SignerKind::HashX(HashX::from_string(key).map_err(bad)?.0),
        "ed25519_signed_payload" => {
            let p = ed25519::SignedPayload::from_string(key).map_err(bad)?;
            SignerKind::SignedPayload {
                key: *p.ed25519(),
                payload: p.payload().to_vec(),
            }
        }
        other => return Err(format!("signer type {other:?} is unknown")),
    })
}

/// A trustline's flags from Horizon's three booleans (`is_authorized_to_maintain_liabilities`
/// is true for fully authorized lines too).
fn trustline_flags(b: &h::Balance) -> u32 {
    let mut flags = 0;
    if b.is_authorized == Some(true) {
        flags |= TL_AUTHORIZED;
    } else if b.is_authorized_to_maintain_liabilities == Some(true) {
        flags |= TL_AUTHORIZED_TO_MAINTAIN_LIABILITIES;
    }
    if b.is_clawback_enabled == Some(true) {
        flags |= TL_CLAWBACK_ENABLED;
    }
    flags
}

fn nonzero(s: Option<&String>) -> bool {
    s.is_some_and(|v| v.parse::<Amount>().map_or(true, |a| a.stroops() != 0))
}

/// The engine's entries for one account, from Horizon's account resource.
pub fn entries_from_horizon(a: &HorizonAccount) -> Result<AccountEntries, SourceError> {
    let what = format!(
        "Horizon's account {}",
        airgap::review::escape_bytes(a.account_id.as_bytes())
    );
    let id = account_bytes(&what, &a.account_id)?;
    let seq_num: i64 = a
        .sequence
        .parse()
        .map_err(|_| unusable(&what, "the sequence is not a number"))?;
    let mut unmodeled = Vec::new();
    let mut balance = None;
    let mut trustlines = Vec::new();
    for b in &a.balances {
        if nonzero(b.buying_liabilities.as_ref()) || nonzero(b.selling_liabilities.as_ref()) {
            unmodeled.push("open offers (liabilities on its balances)".to_string());
        }
        match b.asset_type.as_str() {
            "native" => balance = Some(stroops(&what, &b.balance)?),
            "credit_alphanum4" | "credit_alphanum12" => {
                let code = b.asset_code.clone().unwrap_or_default();
                let max = if b.asset_type == "credit_alphanum4" {
                    4
                } else {
                    12
                };
                let min = if max == 4 { 1 } else { 5 };
                if !(min..=max).contains(&code.len())
                    || !code.bytes().all(|c| c.is_ascii_alphanumeric())
                {
                    return Err(unusable(&what, "an asset code is not valid"));
                }
                let issuer = account_bytes(&what, b.asset_issuer.as_deref().unwrap_or_default())?;
                let limit = stroops(&what, b.limit.as_deref().unwrap_or_default())?;
                trustlines.push((
                    AssetKey { code, issuer },
                    Trustline {
                        balance: stroops(&what, &b.balance)?,
                        limit,
                        flags: trustline_flags(b),
                        last_modified_ledger: b.last_modified_ledger.unwrap_or(0),
                    },
                ));
            }
            "liquidity_pool_shares" => unmodeled.push("liquidity-pool shares".to_string()),
            other => {
                return Err(unusable(
                    &what,
                    format!("balance type {other:?} is unknown"),
                ))
            }
        }
    }
    let balance = balance.ok_or_else(|| unusable(&what, "it has no native balance"))?;
    let mut master = None;
    let mut signers = Vec::new();
    for s in &a.signers {
        let kind = signer_kind(&s.kind, &s.key).map_err(|why| unusable(&what, why))?;
        if kind == SignerKind::Ed25519(id) {
            master = Some(s.weight);
        } else {
            signers.push(AccountSigner {
                key: kind,
                weight: u32::from(s.weight),
            });
        }
    }
    signers.sort_by(|x, y| x.key.cmp(&y.key));
    let master =
        master.ok_or_else(|| unusable(&what, "its master key is not among its signers"))?;
    let mut data = Vec::new();
    for (name, value) in &a.data {
        let value = base64::engine::general_purpose::STANDARD
            .decode(value)
            .map_err(|_| unusable(&what, "a data value is not base64"))?;
        data.push((
            name.clone(),
            DataEntry {
                value,
                last_modified_ledger: 0,
            },
        ));
    }
    if a.num_sponsoring != 0 || a.num_sponsored != 0 || a.sponsor.is_some() {
        unmodeled.push("sponsored reserves".to_string());
    }
    let explained = trustlines.len() + data.len() + signers.len();
    if usize::try_from(a.subentry_count).is_ok_and(|n| n > explained) && unmodeled.is_empty() {
        unmodeled.push("subentries Horizon's account does not list (offers)".to_string());
    }
    unmodeled.dedup();
    let inflation_dest = a
        .inflation_destination
        .as_deref()
        .map(|d| account_bytes(&what, d))
        .transpose()?;
    let t = a.thresholds;
    let account = ledger::Account {
        num_sub_entries: a.subentry_count,
        flags: flag_bits(&a.flags),
        thresholds: [master, t.low_threshold, t.med_threshold, t.high_threshold],
        home_domain: a.home_domain.clone().unwrap_or_default(),
        inflation_dest,
        signers,
        seq_ledger: a.sequence_ledger.unwrap_or(0),
        seq_time: a
            .sequence_time
            .as_deref()
            .map_or(Ok(0), str::parse)
            .map_err(|_| unusable(&what, "sequence_time is not a number"))?,
        last_modified_ledger: a.last_modified_ledger,
        ..ledger::Account::new(id, balance, seq_num)
    };
    Ok(AccountEntries {
        account,
        trustlines,
        data,
        unmodeled,
    })
}

fn flag_bits(f: &h::Flags) -> u32 {
    [
        (f.auth_required, ledger::AUTH_REQUIRED),
        (f.auth_revocable, ledger::AUTH_REVOCABLE),
        (f.auth_immutable, ledger::AUTH_IMMUTABLE),
        (f.auth_clawback_enabled, ledger::AUTH_CLAWBACK_ENABLED),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .fold(0, |acc, (_, bit)| acc | bit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use airgap_sandbox::ledger::{Account, State};

    /// The sandbox writes Horizon's account resource from its entries; reading it back gives the
    /// same entries (the round trip the preflight relies on).
    #[test]
    fn horizon_account_reads_back_as_the_entries_it_was_written_from() {
        let (id, issuer, other) = ([7u8; 32], [9u8; 32], [3u8; 32]);
        let mut state = State::default();
        let mut acc = Account::new(id, 123_456_789, 42 << 32 | 5);
        acc.flags = ledger::AUTH_REQUIRED | ledger::AUTH_REVOCABLE;
        acc.thresholds = [2, 1, 2, 3];
        acc.home_domain = "example.com".into();
        acc.inflation_dest = Some(other);
        acc.signers = vec![
            AccountSigner {
                key: SignerKind::Ed25519(other),
                weight: 1,
            },
            AccountSigner {
                key: SignerKind::HashX([5; 32]),
                weight: 2,
            },
        ];
        acc.seq_ledger = 40;
        acc.seq_time = 1_700_000_000;
        acc.num_sub_entries = 5;
        state.accounts.insert(id, acc.clone());
        for (code, flags) in [
            ("USD", TL_AUTHORIZED | TL_CLAWBACK_ENABLED),
            ("EUR", TL_AUTHORIZED_TO_MAINTAIN_LIABILITIES),
            ("LONGCODE1", 0),
        ] {
            state.trustlines.insert(
                (
                    id,
                    AssetKey {
                        code: code.into(),
                        issuer,
                    },
                ),
                Trustline {
                    balance: 5,
                    limit: i64::MAX,
                    flags,
                    last_modified_ledger: 3,
                },
            );
        }
        state.data.insert(
            (id, "name".into()),
            DataEntry {
                value: vec![0, 1, 255],
                last_modified_ledger: 0,
            },
        );
        let written = airgap_sandbox::resources::account("http://x", &acc, &state);
        let read = entries_from_horizon(&written).unwrap();
        assert!(read.unmodeled.is_empty(), "{:?}", read.unmodeled);
        let mut expected = acc.clone();
        expected.last_modified_time = 0;
        assert_eq!(read.account, expected);
        let lines: Vec<_> = state
            .trustlines
            .iter()
            .map(|((_, k), v)| (k.clone(), v.clone()))
            .collect();
        let mut got = read.trustlines.clone();
        got.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(got, lines);
        assert_eq!(read.data[0].1.value, vec![0, 1, 255]);
    }

    #[test]
    fn offers_sponsorships_and_pool_shares_are_named_not_modelled() {
        let mut state = State::default();
        let acc = Account::new([1; 32], 50_000_000, 1);
        state.accounts.insert(acc.id, acc.clone());
        let mut a = airgap_sandbox::resources::account("http://x", &acc, &state);
        a.balances[0].selling_liabilities = Some("1.0000000".into());
        a.num_sponsoring = 1;
        let read = entries_from_horizon(&a).unwrap();
        assert_eq!(
            read.unmodeled,
            [
                "open offers (liabilities on its balances)",
                "sponsored reserves"
            ]
        );
        let mut a = airgap_sandbox::resources::account("http://x", &acc, &state);
        a.signers.clear();
        assert!(
            entries_from_horizon(&a).is_err(),
            "no master key: not a guess"
        );
    }
}
