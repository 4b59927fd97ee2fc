//! The ledger's entries (accounts, trustlines, data), its header and closed ledgers, the stored
//! transactions, and stellar-core's constants and small rules about them (reserves, asset codes,
//! signer keys).

use std::collections::BTreeMap;

use airgap::network::Network;
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use stellar_xdr::{AccountId, Asset, AssetCode, MuxedAccount, PublicKey, SignerKey, Uint256};

/// Base fee per operation, in stroops.
pub const BASE_FEE: i64 = 100;
/// Base reserve, in stroops (0.5 XLM).
pub const BASE_RESERVE: i64 = 5_000_000;
/// Protocol version the sandbox reports and follows.
pub const PROTOCOL_VERSION: u32 = 23;
/// 100 billion XLM, all held by the root account at genesis.
pub const TOTAL_COINS: i64 = 1_000_000_000_000_000_000;
/// Most signers an account may have besides its master key.
pub const MAX_SIGNERS: usize = 20;
/// Most subentries an account may own.
pub const SUBENTRY_LIMIT: u32 = 1000;

/// Account flags (XDR `AccountFlags`).
pub const AUTH_REQUIRED: u32 = 0x1;
pub const AUTH_REVOCABLE: u32 = 0x2;
pub const AUTH_IMMUTABLE: u32 = 0x4;
pub const AUTH_CLAWBACK_ENABLED: u32 = 0x8;
pub(super) const ALL_ACCOUNT_FLAGS: u32 = 0xF;

/// Trustline flags (XDR `TrustLineFlags`).
pub const TL_AUTHORIZED: u32 = 0x1;
pub const TL_AUTHORIZED_TO_MAINTAIN_LIABILITIES: u32 = 0x2;
pub const TL_CLAWBACK_ENABLED: u32 = 0x4;
pub(super) const TL_AUTH_FLAGS: u32 = 0x3;
pub(super) const TL_ALL_FLAGS: u32 = 0x7;

/// A key that may sign for an account.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SignerKind {
    Ed25519([u8; 32]),
    PreAuthTx([u8; 32]),
    HashX([u8; 32]),
    SignedPayload { key: [u8; 32], payload: Vec<u8> },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSigner {
    pub key: SignerKind,
    pub weight: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: [u8; 32],
    pub balance: i64,
    pub seq_num: i64,
    pub num_sub_entries: u32,
    pub flags: u32,
    /// master weight, low, medium, high
    pub thresholds: [u8; 4],
    pub home_domain: String,
    pub inflation_dest: Option<[u8; 32]>,
    /// Sorted by key, as stellar-core keeps them.
    pub signers: Vec<AccountSigner>,
    /// Ledger and close time of the last sequence-number change (0 = never, like Horizon's omitempty).
    pub seq_ledger: u32,
    pub seq_time: u64,
    pub last_modified_ledger: u32,
    pub last_modified_time: u64,
}

impl Account {
    /// A new account as stellar-core creates it: master weight 1, thresholds 0, no flags, no
    /// signers, no subentries.
    pub fn new(id: [u8; 32], balance: i64, seq_num: i64) -> Account {
        Account {
            id,
            balance,
            seq_num,
            num_sub_entries: 0,
            flags: 0,
            thresholds: [1, 0, 0, 0],
            home_domain: String::new(),
            inflation_dest: None,
            signers: Vec::new(),
            seq_ledger: 0,
            seq_time: 0,
            last_modified_ledger: 0,
            last_modified_time: 0,
        }
    }
}

/// A credit asset: code (1–4 characters → alphanum4, 5–12 → alphanum12) and issuer.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AssetKey {
    pub code: String,
    pub issuer: [u8; 32],
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trustline {
    pub balance: i64,
    pub limit: i64,
    pub flags: u32,
    pub last_modified_ledger: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataEntry {
    pub value: Vec<u8>,
    pub last_modified_ledger: u32,
}

/// All ledger entries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct State {
    pub accounts: BTreeMap<[u8; 32], Account>,
    pub trustlines: BTreeMap<([u8; 32], AssetKey), Trustline>,
    pub data: BTreeMap<([u8; 32], String), DataEntry>,
}

/// The last closed ledger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub ledger_seq: u32,
    pub close_time: u64,
    pub hash: [u8; 32],
    pub fee_pool: i64,
    pub total_coins: i64,
}

/// One closed ledger as Horizon shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerRecord {
    pub sequence: u32,
    pub hash: [u8; 32],
    pub prev_hash: [u8; 32],
    pub close_time: u64,
    pub successful_transaction_count: u32,
    pub failed_transaction_count: u32,
    pub operation_count: u32,
    pub tx_set_operation_count: u32,
    pub fee_pool: i64,
    pub total_coins: i64,
    /// The ledger's `LedgerHeader` (base64 XDR; its SHA-256 is `hash`). Empty for ledgers
    /// stored before headers were kept.
    #[serde(default)]
    pub header_xdr: String,
    /// SHA-256 of the ledger's generalized transaction set (zero before it was kept).
    #[serde(default)]
    pub tx_set_hash: [u8; 32],
}

/// A transaction included in a ledger (successful or failed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredTx {
    /// The submitted envelope's hash (outer hash for a fee bump).
    pub hash: [u8; 32],
    /// The inner transaction's hash of a fee bump.
    #[serde(default)]
    pub inner_hash: Option<[u8; 32]>,
    pub ledger: u32,
    pub close_time: u64,
    /// The envelope as submitted (base64 XDR).
    pub envelope_xdr: String,
    pub result_xdr: String,
    /// Base64 `TransactionMeta` (v3) and fee `LedgerEntryChanges`.
    #[serde(default)]
    pub result_meta_xdr: String,
    #[serde(default)]
    pub fee_meta_xdr: String,
    pub successful: bool,
    pub fee_charged: i64,
    /// 1-based place in its ledger's apply order (0 in records from before ledgers held more
    /// than one transaction: read it as 1).
    #[serde(default)]
    pub application_order: u32,
    /// Operations in the (inner) transaction.
    #[serde(default)]
    pub operation_count: usize,
    /// CAP-67 events of each operation, base64 `ContractEvent`s (empty unless successful).
    #[serde(default)]
    pub op_events: Vec<Vec<String>>,
    /// Transaction-level events (the fee), base64 `TransactionEvent`s.
    #[serde(default)]
    pub tx_events: Vec<String>,
}

impl StoredTx {
    /// Place in its ledger's apply order, from 1.
    pub fn order(&self) -> u32 {
        self.application_order.max(1)
    }
}

/// SHA-256 of the network passphrase.
pub fn network_id(passphrase: &str) -> [u8; 32] {
    Network::from_passphrase(passphrase).id()
}

/// The root account's key: stellar-core derives it from the network id used as an ed25519 seed.
pub fn root_key(network_id: &[u8; 32]) -> SigningKey {
    SigningKey::from_bytes(network_id)
}

/// Sequence number of accounts created in ledger `ledger_seq`.
pub fn starting_sequence(ledger_seq: u32) -> i64 {
    i64::from(ledger_seq) << 32
}

pub fn min_balance(acc: &Account) -> i64 {
    (2 + i64::from(acc.num_sub_entries)) * BASE_RESERVE
}

pub(super) fn available(acc: &Account) -> i64 {
    acc.balance.saturating_sub(min_balance(acc))
}

/// The balance above the reserve (`getAvailableBalance`, no liabilities in the sandbox).
pub fn available_balance(acc: &Account) -> i64 {
    available(acc)
}

/// The base fee for `ops` operations (`100 × max(1, ops)`).
pub fn fee_for(ops: usize) -> i64 {
    BASE_FEE.saturating_mul(i64::try_from(ops.max(1)).unwrap_or(i64::MAX))
}

pub fn account_id_bytes(id: &AccountId) -> [u8; 32] {
    let PublicKey::PublicKeyTypeEd25519(Uint256(bytes)) = &id.0;
    *bytes
}

pub fn muxed_bytes(m: &MuxedAccount) -> [u8; 32] {
    match m {
        MuxedAccount::Ed25519(Uint256(bytes)) => *bytes,
        MuxedAccount::MuxedEd25519(med) => med.ed25519.0,
    }
}

fn code_from_bytes(bytes: &[u8], min_len: usize) -> Option<String> {
    // stellar-core's isAssetValid: ASCII alphanumerics, trailing zeros only, 1+ (alphanum4) or
    // 5+ (alphanum12) characters.
    let len = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    let (code, rest) = bytes.split_at(len);
    if code.len() < min_len
        || rest.iter().any(|b| *b != 0)
        || !code.iter().all(|b| b.is_ascii_alphanumeric())
    {
        return None;
    }
    Some(code.iter().map(|b| char::from(*b)).collect())
}

/// `Some(Ok(key))` for a valid credit asset, `Some(Err(()))` for an invalid one, `None` for native.
pub(super) fn asset_key(asset: &Asset) -> Option<Result<AssetKey, ()>> {
    match asset {
        Asset::Native => None,
        Asset::CreditAlphanum4(a) => Some(
            code_from_bytes(&a.asset_code.0, 1)
                .map(|code| AssetKey {
                    code,
                    issuer: account_id_bytes(&a.issuer),
                })
                .ok_or(()),
        ),
        Asset::CreditAlphanum12(a) => Some(
            code_from_bytes(&a.asset_code.0, 5)
                .map(|code| AssetKey {
                    code,
                    issuer: account_id_bytes(&a.issuer),
                })
                .ok_or(()),
        ),
    }
}

pub(super) fn allow_trust_asset(code: &AssetCode, issuer: [u8; 32]) -> Option<AssetKey> {
    let code = match code {
        AssetCode::CreditAlphanum4(c) => code_from_bytes(&c.0, 1),
        AssetCode::CreditAlphanum12(c) => code_from_bytes(&c.0, 5),
    }?;
    Some(AssetKey { code, issuer })
}

pub(super) fn is_string_valid(bytes: &[u8]) -> bool {
    // stellar-core's isStringValid: printable ASCII only.
    bytes.iter().all(|b| (0x20..0x7f).contains(b))
}

pub fn signer_kind(key: &SignerKey) -> SignerKind {
    match key {
        SignerKey::Ed25519(Uint256(b)) => SignerKind::Ed25519(*b),
        SignerKey::PreAuthTx(Uint256(b)) => SignerKind::PreAuthTx(*b),
        SignerKey::HashX(Uint256(b)) => SignerKind::HashX(*b),
        SignerKey::Ed25519SignedPayload(p) => SignerKind::SignedPayload {
            key: p.ed25519.0,
            payload: p.payload.to_vec(),
        },
    }
}

impl State {
    /// Stamp `last_modified_*` on every entry that differs from `before`.
    pub(super) fn stamp_changes(&mut self, before: &State, ledger_seq: u32, close_time: u64) {
        for (id, acc) in self.accounts.iter_mut() {
            if before.accounts.get(id) != Some(acc) {
                acc.last_modified_ledger = ledger_seq;
                acc.last_modified_time = close_time;
            }
        }
        for (key, line) in self.trustlines.iter_mut() {
            if before.trustlines.get(key) != Some(line) {
                line.last_modified_ledger = ledger_seq;
            }
        }
        for (key, entry) in self.data.iter_mut() {
            if before.data.get(key) != Some(entry) {
                entry.last_modified_ledger = ledger_seq;
            }
        }
    }
}
