//! Ledger entries for the preflight from Stellar RPC: the last closed ledger from
//! `getLatestLedger` (its `headerXdr`: sequence, close time, base fee and reserve), accounts and
//! the trustlines and data entries a transaction touches from `getLedgerEntries` (RPC reads
//! entries by key; it cannot list an account's others), read into the engine's entries by
//! [`super::xdr_entries`]. Reads are retried until the deadline while the server does not answer.
use super::source::{AccountEntries, EntryKey, LedgerHeader, LedgerSource, SourceError};
use super::xdr_entries::{entries_from_xdr, horizon_account};
use crate::net::{trustline_key, NetError};
use crate::online;
use crate::rpc::{Rpc, MAX_LEDGER_KEYS};
use airgap::account::AccountId;
use airgap::asset::Asset;
use airgap::horizon::Account as HorizonAccount;
use airgap_sandbox::ledger::Header;
use std::collections::HashMap;
use std::time::Instant;
use stellar_xdr::{
    LedgerEntryData, LedgerKey, LedgerKeyAccount, LedgerKeyData, Limits, ReadXdr, String64,
};

/// Ledger entries from Stellar RPC.
pub struct RpcSource<'a> {
    rpc: &'a Rpc,
    deadline: Instant,
    /// Accounts as Horizon's resource (for signer sets), read once per run.
    accounts: HashMap<AccountId, Option<HorizonAccount>>,
    /// Set when RPC did not answer a read.
    pub unreachable: bool,
}

impl<'a> RpcSource<'a> {
    pub fn new(rpc: &'a Rpc, deadline: Instant) -> RpcSource<'a> {
        RpcSource {
            rpc,
            deadline,
            accounts: HashMap::new(),
            unreachable: false,
        }
    }

    fn read<T>(&mut self, f: impl FnMut() -> Result<T, NetError>) -> Result<T, SourceError> {
        online::retry_until(self.deadline, f).map_err(|e| {
            self.unreachable |= e.is_transient();
            SourceError::Net(e)
        })
    }
}

fn unusable(what: &str, why: impl Into<String>) -> SourceError {
    SourceError::Unusable {
        what: what.to_string(),
        why: why.into(),
    }
}

/// The ledger key of one of `id`'s entries; `None` for what cannot be one (an issuer's own
/// asset, a data name longer than 64 bytes: the engine refuses those itself).
fn ledger_key(id: &AccountId, key: &EntryKey) -> Option<LedgerKey> {
    match key {
        EntryKey::Trustline(t) => {
            let asset = Asset::Credit {
                code: t.code.parse().ok()?,
                issuer: AccountId(t.issuer),
            };
            trustline_key(id, &asset)
        }
        EntryKey::Data(name) => Some(LedgerKey::Data(LedgerKeyData {
            account_id: id.to_xdr(),
            data_name: String64(name.as_bytes().to_vec().try_into().ok()?),
        })),
    }
}

impl LedgerSource for RpcSource<'_> {
    fn header(&mut self) -> Result<LedgerHeader, SourceError> {
        let rpc = self.rpc;
        let latest = self.read(|| Ok(rpc.latest_ledger()?))?;
        let what = format!("Stellar RPC's ledger {}", latest.sequence);
        let xdr = latest
            .header_xdr
            .as_deref()
            .ok_or_else(|| unusable(&what, "getLatestLedger has no headerXdr"))?;
        let limits = Limits {
            depth: 100,
            len: 65_536,
        };
        let h = stellar_xdr::LedgerHeader::from_xdr_base64(xdr, limits)
            .map_err(|e| unusable(&what, format!("its headerXdr cannot be read: {e}")))?;
        if h.ledger_seq != latest.sequence {
            return Err(unusable(&what, "its headerXdr is of another ledger"));
        }
        let mut hash = [0u8; 32];
        // The hash only names the ledger; a missing one does not change any outcome.
        if let Ok(bytes) = hex::decode(&latest.id) {
            if bytes.len() == 32 {
                hash.copy_from_slice(&bytes);
            }
        }
        Ok(LedgerHeader {
            header: Header {
                ledger_seq: h.ledger_seq,
                close_time: h.scp_value.close_time.0,
                hash,
                fee_pool: h.fee_pool,
                total_coins: h.total_coins,
            },
            base_fee: i64::from(h.base_fee),
            base_reserve: i64::from(h.base_reserve),
        })
    }

    fn account(
        &mut self,
        id: &AccountId,
        keys: &[EntryKey],
    ) -> Result<Option<AccountEntries>, SourceError> {
        let mut all = vec![LedgerKey::Account(LedgerKeyAccount {
            account_id: id.to_xdr(),
        })];
        all.extend(keys.iter().filter_map(|k| ledger_key(id, k)));
        let rpc = self.rpc;
        let mut found = Vec::new();
        for chunk in all.chunks(MAX_LEDGER_KEYS) {
            found.extend(self.read(|| Ok(rpc.ledger_entries(chunk)?))?.entries);
        }
        let (mut account, mut lines, mut data) = (None, Vec::new(), Vec::new());
        for (_, entry, modified) in found {
            match entry {
                LedgerEntryData::Account(a) if a.account_id == id.to_xdr() => {
                    account = Some((a, modified))
                }
                LedgerEntryData::Trustline(t) => lines.push((t, modified)),
                LedgerEntryData::Data(d) => data.push((d, modified)),
                _ => {}
            }
        }
        match account {
            None => Ok(None),
            Some((a, modified)) => entries_from_xdr(&a, modified, &lines, &data).map(Some),
        }
    }

    fn lists_entries(&self) -> bool {
        false
    }

    fn signer_account(&mut self, id: &AccountId) -> Option<HorizonAccount> {
        if !self.accounts.contains_key(id) {
            let read = self.account(id, &[]).ok()?;
            self.accounts
                .insert(*id, read.as_ref().map(horizon_account));
        }
        self.accounts.get(id).cloned().flatten()
    }

    fn unreachable(&self) -> bool {
        self.unreachable
    }
}
