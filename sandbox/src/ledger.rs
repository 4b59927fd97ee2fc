//! The sandbox ledger: accounts, trustlines and data entries, and the rules that validate and
//! apply one transaction at a time (after stellar-core's `TransactionFrame` and `*OpFrame`s, read
//! for protocol 23 behaviour). No HTTP and no storage here: [`Ledger::evaluate`] is a pure
//! function of the current state that returns either a rejection (nothing changes) or the next
//! closed ledger, which the caller persists and then [`Ledger::commit`]s.

use std::collections::BTreeMap;

use airgap::network::Network;
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use stellar_xdr::{
    AccountId, AccountMergeResult, AllowTrustOp, AllowTrustResult, Asset, AssetCode,
    BumpSequenceOp, BumpSequenceResult, ChangeTrustAsset, ChangeTrustOp, ChangeTrustResult,
    ClawbackOp, ClawbackResult, CreateAccountOp, CreateAccountResult, DecoratedSignature,
    FeeBumpTransactionEnvelope, FeeBumpTransactionInnerTx, LedgerEntryChanges, Limits,
    ManageDataOp, ManageDataResult, Memo, MuxedAccount, Operation, OperationBody, OperationResult,
    OperationResultTr, PaymentOp, PaymentResult, Preconditions, PublicKey, SequenceNumber,
    SetOptionsOp, SetOptionsResult, SetTrustLineFlagsOp, SetTrustLineFlagsResult, SignatureHint,
    SignerKey, Transaction, TransactionEnvelope, TransactionExt, TransactionMeta,
    TransactionResult, TransactionResultResult, TransactionV1Envelope, Uint256, WriteXdr,
};

use super::meta::{self, MetaError};
use super::results::{self, ResultsError};

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
const ALL_ACCOUNT_FLAGS: u32 = 0xF;

/// Trustline flags (XDR `TrustLineFlags`).
pub const TL_AUTHORIZED: u32 = 0x1;
pub const TL_AUTHORIZED_TO_MAINTAIN_LIABILITIES: u32 = 0x2;
pub const TL_CLAWBACK_ENABLED: u32 = 0x4;
const TL_AUTH_FLAGS: u32 = 0x3;
const TL_ALL_FLAGS: u32 = 0x7;

/// Errors of this module (internal failures, never a verdict on a transaction).
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error(transparent)]
    Results(#[from] ResultsError),
    #[error("XDR encoding failed: {0}")]
    Xdr(#[from] stellar_xdr::Error),
    #[error("ledger sequence exhausted")]
    LedgerSequenceExhausted,
    #[error(transparent)]
    Meta(#[from] MetaError),
}

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
}

/// The next ledger, closed by one transaction; persist it, then [`Ledger::commit`] it.
#[derive(Debug)]
pub struct Closed {
    pub state: State,
    pub header: Header,
    pub record: LedgerRecord,
    pub tx: StoredTx,
}

/// What stellar-core would do with a submitted envelope.
#[derive(Debug)]
pub enum Verdict {
    /// Rejected while validating: no fee, no sequence number, not stored.
    Rejected(TransactionResult),
    /// Included in a new ledger: successful, or failed with the fee and sequence consumed.
    Included(Box<Closed>),
}

/// The whole sandbox ledger.
#[derive(Clone, Debug)]
pub struct Ledger {
    passphrase: String,
    network_id: [u8; 32],
    pub header: Header,
    pub state: State,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Threshold {
    Low,
    Medium,
    High,
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

fn available(acc: &Account) -> i64 {
    acc.balance.saturating_sub(min_balance(acc))
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
fn asset_key(asset: &Asset) -> Option<Result<AssetKey, ()>> {
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

fn allow_trust_asset(code: &AssetCode, issuer: [u8; 32]) -> Option<AssetKey> {
    let code = match code {
        AssetCode::CreditAlphanum4(c) => code_from_bytes(&c.0, 1),
        AssetCode::CreditAlphanum12(c) => code_from_bytes(&c.0, 5),
    }?;
    Some(AssetKey { code, issuer })
}

fn is_string_valid(bytes: &[u8]) -> bool {
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

fn threshold_level(body: &OperationBody) -> Threshold {
    match body {
        OperationBody::BumpSequence(_)
        | OperationBody::AllowTrust(_)
        | OperationBody::SetTrustLineFlags(_) => Threshold::Low,
        OperationBody::AccountMerge(_) => Threshold::High,
        OperationBody::SetOptions(op)
            if op.master_weight.is_some()
                || op.low_threshold.is_some()
                || op.med_threshold.is_some()
                || op.high_threshold.is_some()
                || op.signer.is_some() =>
        {
            Threshold::High
        }
        _ => Threshold::Medium,
    }
}

fn needed_weight(acc: &Account, level: Threshold) -> u32 {
    let [_, low, med, high] = acc.thresholds;
    u32::from(match level {
        Threshold::Low => low,
        Threshold::Medium => med,
        Threshold::High => high,
    })
}

fn signers_of(acc: &Account) -> Vec<(SignerKind, u32)> {
    let mut out = Vec::with_capacity(acc.signers.len() + 1);
    if acc.thresholds[0] > 0 {
        out.push((SignerKind::Ed25519(acc.id), u32::from(acc.thresholds[0])));
    }
    out.extend(acc.signers.iter().map(|s| (s.key.clone(), s.weight)));
    out
}

fn hint_of(bytes: &[u8; 32]) -> [u8; 4] {
    [bytes[28], bytes[29], bytes[30], bytes[31]]
}

fn ed25519_verify(key: &[u8; 32], message: &[u8], sig: &DecoratedSignature) -> bool {
    let Ok(vk) = VerifyingKey::from_bytes(key) else {
        return false;
    };
    let Ok(signature) = Signature::from_slice(sig.signature.0.as_slice()) else {
        return false;
    };
    vk.verify(message, &signature).is_ok()
}

/// Signature weight accounting for one transaction (stellar-core's `SignatureChecker`).
struct SigChecker<'a> {
    hash: [u8; 32],
    sigs: &'a [DecoratedSignature],
    used: Vec<bool>,
}

impl<'a> SigChecker<'a> {
    fn new(hash: [u8; 32], sigs: &'a [DecoratedSignature]) -> Self {
        SigChecker {
            hash,
            sigs,
            used: vec![false; sigs.len()],
        }
    }

    fn matches(&self, sig: &DecoratedSignature, signer: &SignerKind) -> bool {
        let SignatureHint(hint) = sig.hint;
        match signer {
            SignerKind::Ed25519(key) => {
                hint == hint_of(key) && ed25519_verify(key, &self.hash, sig)
            }
            SignerKind::HashX(x) => {
                hint == hint_of(x) && {
                    let digest: [u8; 32] = Sha256::digest(sig.signature.0.as_slice()).into();
                    digest == *x
                }
            }
            SignerKind::SignedPayload { key, payload } => {
                let mut payload_hint = [0u8; 4];
                if payload.len() >= 4 {
                    payload_hint.copy_from_slice(&payload[payload.len() - 4..]);
                } else {
                    payload_hint[..payload.len()].copy_from_slice(payload);
                }
                let key_hint = hint_of(key);
                let expected: Vec<u8> = key_hint
                    .iter()
                    .zip(payload_hint.iter())
                    .map(|(a, b)| a ^ b)
                    .collect();
                hint.as_slice() == expected.as_slice() && ed25519_verify(key, payload, sig)
            }
            SignerKind::PreAuthTx(_) => false,
        }
    }

    /// True when the signatures reach `needed` (at least one matching signer is always needed).
    fn check(&mut self, signers: &[(SignerKind, u32)], needed: u32) -> bool {
        let mut total: u32 = 0;
        for (key, weight) in signers {
            if let SignerKind::PreAuthTx(h) = key {
                if *h == self.hash {
                    total = total.saturating_add((*weight).min(255));
                    if total >= needed {
                        return true;
                    }
                }
            }
        }
        let classes: [fn(&SignerKind) -> bool; 3] = [
            |k| matches!(k, SignerKind::HashX(_)),
            |k| matches!(k, SignerKind::Ed25519(_)),
            |k| matches!(k, SignerKind::SignedPayload { .. }),
        ];
        for class in classes {
            let mut candidates: Vec<&(SignerKind, u32)> =
                signers.iter().filter(|(k, _)| class(k)).collect();
            for i in 0..self.sigs.len() {
                let Some(sig) = self.sigs.get(i) else { break };
                if let Some(pos) = candidates.iter().position(|(k, _)| self.matches(sig, k)) {
                    if let Some(flag) = self.used.get_mut(i) {
                        *flag = true;
                    }
                    let (_, weight) = candidates.remove(pos);
                    total = total.saturating_add((*weight).min(255));
                    if total >= needed {
                        return true;
                    }
                }
            }
        }
        false
    }

    fn all_used(&self) -> bool {
        self.used.iter().all(|u| *u)
    }
}

/// Per-transaction values the operations need.
struct TxCtx {
    ledger_seq: u32,
    close_time: u64,
}

fn inner(tr: OperationResultTr) -> OperationResult {
    OperationResult::OpInner(tr)
}

/// The success result of an operation's type (what core leaves in unchecked slots).
fn success_of(body: &OperationBody) -> OperationResult {
    match body {
        OperationBody::CreateAccount(_) => inner(OperationResultTr::CreateAccount(
            CreateAccountResult::Success,
        )),
        OperationBody::Payment(_) => inner(OperationResultTr::Payment(PaymentResult::Success)),
        OperationBody::SetOptions(_) => {
            inner(OperationResultTr::SetOptions(SetOptionsResult::Success))
        }
        OperationBody::ChangeTrust(_) => {
            inner(OperationResultTr::ChangeTrust(ChangeTrustResult::Success))
        }
        OperationBody::AllowTrust(_) => {
            inner(OperationResultTr::AllowTrust(AllowTrustResult::Success))
        }
        OperationBody::AccountMerge(_) => inner(OperationResultTr::AccountMerge(
            AccountMergeResult::Success(0),
        )),
        OperationBody::ManageData(_) => {
            inner(OperationResultTr::ManageData(ManageDataResult::Success))
        }
        OperationBody::BumpSequence(_) => {
            inner(OperationResultTr::BumpSequence(BumpSequenceResult::Success))
        }
        OperationBody::Clawback(_) => inner(OperationResultTr::Clawback(ClawbackResult::Success)),
        OperationBody::SetTrustLineFlags(_) => inner(OperationResultTr::SetTrustLineFlags(
            SetTrustLineFlagsResult::Success,
        )),
        _ => OperationResult::OpNotSupported,
    }
}

fn is_op_success(r: &OperationResult) -> bool {
    airgap::horizon::codes::op_code(r) == "op_success"
}

/// stellar-core's `doCheckValid`: state-independent checks; `Some(result)` when malformed.
fn check_op_valid(source: [u8; 32], body: &OperationBody) -> Option<OperationResult> {
    match body {
        OperationBody::CreateAccount(op) => {
            let bad = op.starting_balance < 0 || account_id_bytes(&op.destination) == source;
            bad.then(|| {
                inner(OperationResultTr::CreateAccount(
                    CreateAccountResult::Malformed,
                ))
            })
        }
        OperationBody::Payment(op) => {
            let bad = op.amount <= 0 || matches!(asset_key(&op.asset), Some(Err(())));
            bad.then(|| inner(OperationResultTr::Payment(PaymentResult::Malformed)))
        }
        OperationBody::ChangeTrust(op) => {
            let malformed = inner(OperationResultTr::ChangeTrust(ChangeTrustResult::Malformed));
            if op.limit < 0 {
                return Some(malformed);
            }
            match change_trust_asset(&op.line) {
                ChangeTrustLine::Credit(Ok(key)) if key.issuer != source => None,
                ChangeTrustLine::PoolShare => Some(OperationResult::OpNotSupported),
                _ => Some(malformed),
            }
        }
        OperationBody::AllowTrust(op) => {
            let malformed = inner(OperationResultTr::AllowTrust(AllowTrustResult::Malformed));
            let bad = op.authorize > TL_AUTHORIZED_TO_MAINTAIN_LIABILITIES
                || allow_trust_asset(&op.asset, source).is_none()
                || account_id_bytes(&op.trustor) == source;
            bad.then_some(malformed)
        }
        OperationBody::SetTrustLineFlags(op) => {
            let bad = match asset_key(&op.asset) {
                Some(Ok(key)) => key.issuer != source,
                _ => true,
            } || account_id_bytes(&op.trustor) == source
                || op.set_flags & op.clear_flags != 0
                || op.set_flags & !TL_ALL_FLAGS != 0
                || op.set_flags & TL_AUTH_FLAGS == TL_AUTH_FLAGS
                || op.set_flags & TL_CLAWBACK_ENABLED != 0
                || op.clear_flags & !TL_ALL_FLAGS != 0;
            bad.then(|| {
                inner(OperationResultTr::SetTrustLineFlags(
                    SetTrustLineFlagsResult::Malformed,
                ))
            })
        }
        OperationBody::Clawback(op) => {
            // core compares the muxed account as given: an M-address of the issuer is not "self"
            let bad = op.from == MuxedAccount::Ed25519(Uint256(source))
                || op.amount < 1
                || match asset_key(&op.asset) {
                    Some(Ok(key)) => key.issuer != source,
                    _ => true,
                };
            bad.then(|| inner(OperationResultTr::Clawback(ClawbackResult::Malformed)))
        }
        OperationBody::SetOptions(op) => check_set_options(source, op),
        OperationBody::ManageData(op) => {
            let name = op.data_name.0.as_slice();
            let bad = name.is_empty() || !is_string_valid(name);
            bad.then(|| inner(OperationResultTr::ManageData(ManageDataResult::InvalidName)))
        }
        OperationBody::BumpSequence(op) => (op.bump_to.0 < 0)
            .then(|| inner(OperationResultTr::BumpSequence(BumpSequenceResult::BadSeq))),
        OperationBody::AccountMerge(dest) => (muxed_bytes(dest) == source).then(|| {
            inner(OperationResultTr::AccountMerge(
                AccountMergeResult::Malformed,
            ))
        }),
        _ => Some(OperationResult::OpNotSupported),
    }
}

fn check_set_options(source: [u8; 32], op: &SetOptionsOp) -> Option<OperationResult> {
    let res = |r| Some(inner(OperationResultTr::SetOptions(r)));
    let unknown = |f: Option<u32>| f.is_some_and(|f| f & !ALL_ACCOUNT_FLAGS != 0);
    if unknown(op.set_flags) || unknown(op.clear_flags) {
        return res(SetOptionsResult::UnknownFlag);
    }
    if let (Some(set), Some(clear)) = (op.set_flags, op.clear_flags) {
        if set & clear != 0 {
            return res(SetOptionsResult::BadFlags);
        }
    }
    let weights = [
        op.master_weight,
        op.low_threshold,
        op.med_threshold,
        op.high_threshold,
    ];
    if weights.iter().flatten().any(|w| *w > 255) {
        return res(SetOptionsResult::ThresholdOutOfRange);
    }
    if let Some(signer) = &op.signer {
        let kind = signer_kind(&signer.key);
        let empty_payload =
            matches!(&kind, SignerKind::SignedPayload { payload, .. } if payload.is_empty());
        if kind == SignerKind::Ed25519(source) || signer.weight > 255 || empty_payload {
            return res(SetOptionsResult::BadSigner);
        }
    }
    if let Some(domain) = &op.home_domain {
        if !is_string_valid(domain.0.as_slice()) {
            return res(SetOptionsResult::InvalidHomeDomain);
        }
    }
    None
}

enum ChangeTrustLine {
    Credit(Result<AssetKey, ()>),
    Native,
    PoolShare,
}

fn change_trust_asset(line: &ChangeTrustAsset) -> ChangeTrustLine {
    match line {
        ChangeTrustAsset::Native => ChangeTrustLine::Native,
        ChangeTrustAsset::CreditAlphanum4(a) => {
            match asset_key(&Asset::CreditAlphanum4(a.clone())) {
                Some(r) => ChangeTrustLine::Credit(r),
                None => ChangeTrustLine::Native,
            }
        }
        ChangeTrustAsset::CreditAlphanum12(a) => {
            match asset_key(&Asset::CreditAlphanum12(a.clone())) {
                Some(r) => ChangeTrustLine::Credit(r),
                None => ChangeTrustLine::Native,
            }
        }
        ChangeTrustAsset::PoolShare(_) => ChangeTrustLine::PoolShare,
    }
}

enum NewEntry {
    Ok,
    LowReserve,
    TooManySubentries,
}

/// Reserve one more subentry on `acc` (stellar-core's createEntryWithPossibleSponsorship without
/// a sponsor).
fn add_subentry(acc: &mut Account) -> NewEntry {
    if acc.num_sub_entries >= SUBENTRY_LIMIT {
        return NewEntry::TooManySubentries;
    }
    if available(acc) < BASE_RESERVE {
        return NewEntry::LowReserve;
    }
    acc.num_sub_entries += 1;
    NewEntry::Ok
}

impl State {
    fn apply_op(&mut self, ctx: &TxCtx, source: [u8; 32], body: &OperationBody) -> OperationResult {
        if !self.accounts.contains_key(&source) {
            return OperationResult::OpNoAccount;
        }
        if let Some(err) = check_op_valid(source, body) {
            return err;
        }
        match body {
            OperationBody::CreateAccount(op) => inner(OperationResultTr::CreateAccount(
                self.create_account(ctx, source, op),
            )),
            OperationBody::Payment(op) => {
                inner(OperationResultTr::Payment(self.payment(source, op)))
            }
            OperationBody::ChangeTrust(op) => self
                .change_trust(source, op)
                .unwrap_or_else(|r| inner(OperationResultTr::ChangeTrust(r))),
            OperationBody::AllowTrust(op) => {
                inner(OperationResultTr::AllowTrust(self.allow_trust(source, op)))
            }
            OperationBody::SetTrustLineFlags(op) => inner(OperationResultTr::SetTrustLineFlags(
                self.set_trust_line_flags(source, op),
            )),
            OperationBody::Clawback(op) => {
                inner(OperationResultTr::Clawback(self.clawback(source, op)))
            }
            OperationBody::SetOptions(op) => self
                .set_options(source, op)
                .unwrap_or_else(|r| inner(OperationResultTr::SetOptions(r))),
            OperationBody::ManageData(op) => self
                .manage_data(source, op)
                .unwrap_or_else(|r| inner(OperationResultTr::ManageData(r))),
            OperationBody::BumpSequence(op) => inner(OperationResultTr::BumpSequence(
                self.bump_sequence(ctx, source, op),
            )),
            OperationBody::AccountMerge(dest) => inner(OperationResultTr::AccountMerge(
                self.merge(ctx, source, dest),
            )),
            _ => OperationResult::OpNotSupported,
        }
    }

    fn create_account(
        &mut self,
        ctx: &TxCtx,
        source: [u8; 32],
        op: &CreateAccountOp,
    ) -> CreateAccountResult {
        let dest = account_id_bytes(&op.destination);
        if self.accounts.contains_key(&dest) {
            return CreateAccountResult::AlreadyExist;
        }
        if op.starting_balance < 2 * BASE_RESERVE {
            return CreateAccountResult::LowReserve;
        }
        let Some(src) = self.accounts.get_mut(&source) else {
            return CreateAccountResult::Underfunded;
        };
        if available(src) < op.starting_balance {
            return CreateAccountResult::Underfunded;
        }
        src.balance -= op.starting_balance;
        self.accounts.insert(
            dest,
            Account {
                id: dest,
                balance: op.starting_balance,
                seq_num: starting_sequence(ctx.ledger_seq),
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
            },
        );
        CreateAccountResult::Success
    }

    fn payment(&mut self, source: [u8; 32], op: &PaymentOp) -> PaymentResult {
        let dest = muxed_bytes(&op.destination);
        match asset_key(&op.asset) {
            None => {
                if dest == source {
                    return PaymentResult::Success;
                }
                // destination first, then the source (core applies it as a path payment)
                let Some(dest_acc) = self.accounts.get_mut(&dest) else {
                    return PaymentResult::NoDestination;
                };
                let Some(new_balance) = dest_acc.balance.checked_add(op.amount) else {
                    return PaymentResult::LineFull;
                };
                dest_acc.balance = new_balance;
                let Some(src) = self.accounts.get_mut(&source) else {
                    return PaymentResult::Malformed;
                };
                if op.amount > available(src) {
                    return PaymentResult::Underfunded;
                }
                src.balance -= op.amount;
                PaymentResult::Success
            }
            Some(Err(())) => PaymentResult::Malformed,
            Some(Ok(asset)) => {
                let bypass_issuer_check = asset.issuer == dest;
                if !bypass_issuer_check && !self.accounts.contains_key(&dest) {
                    return PaymentResult::NoDestination;
                }
                if dest != asset.issuer {
                    let Some(line) = self.trustlines.get_mut(&(dest, asset.clone())) else {
                        return PaymentResult::NoTrust;
                    };
                    if line.flags & TL_AUTHORIZED == 0 {
                        return PaymentResult::NotAuthorized;
                    }
                    match line.balance.checked_add(op.amount) {
                        Some(b) if b <= line.limit => line.balance = b,
                        _ => return PaymentResult::LineFull,
                    }
                }
                if source != asset.issuer {
                    let Some(line) = self.trustlines.get_mut(&(source, asset)) else {
                        return PaymentResult::SrcNoTrust;
                    };
                    if line.flags & TL_AUTHORIZED == 0 {
                        return PaymentResult::SrcNotAuthorized;
                    }
                    if line.balance < op.amount {
                        return PaymentResult::Underfunded;
                    }
                    line.balance -= op.amount;
                }
                PaymentResult::Success
            }
        }
    }

    fn change_trust(
        &mut self,
        source: [u8; 32],
        op: &ChangeTrustOp,
    ) -> Result<OperationResult, ChangeTrustResult> {
        let ChangeTrustLine::Credit(Ok(asset)) = change_trust_asset(&op.line) else {
            return Err(ChangeTrustResult::Malformed);
        };
        if asset.issuer == source {
            return Err(ChangeTrustResult::SelfNotAllowed);
        }
        let key = (source, asset.clone());
        let issuer_flags = self.accounts.get(&asset.issuer).map(|a| a.flags);
        if let Some(line) = self.trustlines.get_mut(&key) {
            if op.limit < line.balance {
                return Err(ChangeTrustResult::InvalidLimit);
            }
            if op.limit == 0 {
                self.trustlines.remove(&key);
                if let Some(acc) = self.accounts.get_mut(&source) {
                    acc.num_sub_entries = acc.num_sub_entries.saturating_sub(1);
                }
            } else {
                if issuer_flags.is_none() {
                    return Err(ChangeTrustResult::NoIssuer);
                }
                line.limit = op.limit;
            }
            return Ok(inner(OperationResultTr::ChangeTrust(
                ChangeTrustResult::Success,
            )));
        }
        if op.limit == 0 {
            return Err(ChangeTrustResult::InvalidLimit);
        }
        let Some(issuer_flags) = issuer_flags else {
            return Err(ChangeTrustResult::NoIssuer);
        };
        let mut flags = 0;
        if issuer_flags & AUTH_REQUIRED == 0 {
            flags |= TL_AUTHORIZED;
        }
        if issuer_flags & AUTH_CLAWBACK_ENABLED != 0 {
            flags |= TL_CLAWBACK_ENABLED;
        }
        let Some(acc) = self.accounts.get_mut(&source) else {
            return Ok(OperationResult::OpNoAccount);
        };
        match add_subentry(acc) {
            NewEntry::Ok => {}
            NewEntry::LowReserve => return Err(ChangeTrustResult::LowReserve),
            NewEntry::TooManySubentries => return Ok(OperationResult::OpTooManySubentries),
        }
        self.trustlines.insert(
            key,
            Trustline {
                balance: 0,
                limit: op.limit,
                flags,
                last_modified_ledger: 0,
            },
        );
        Ok(inner(OperationResultTr::ChangeTrust(
            ChangeTrustResult::Success,
        )))
    }

    fn allow_trust(&mut self, source: [u8; 32], op: &AllowTrustOp) -> AllowTrustResult {
        let trustor = account_id_bytes(&op.trustor);
        if trustor == source {
            return AllowTrustResult::SelfNotAllowed;
        }
        let Some(asset) = allow_trust_asset(&op.asset, source) else {
            return AllowTrustResult::Malformed;
        };
        let revocable = self
            .accounts
            .get(&source)
            .is_some_and(|a| a.flags & AUTH_REVOCABLE != 0);
        if !revocable && op.authorize == 0 {
            return AllowTrustResult::CantRevoke;
        }
        let Some(line) = self.trustlines.get_mut(&(trustor, asset)) else {
            return AllowTrustResult::NoTrustLine;
        };
        let expected = (line.flags & !TL_AUTH_FLAGS) | op.authorize;
        if !revocable
            && line.flags & TL_AUTHORIZED != 0
            && expected & TL_AUTHORIZED_TO_MAINTAIN_LIABILITIES != 0
        {
            return AllowTrustResult::CantRevoke;
        }
        line.flags = expected;
        AllowTrustResult::Success
    }

    fn set_trust_line_flags(
        &mut self,
        source: [u8; 32],
        op: &SetTrustLineFlagsOp,
    ) -> SetTrustLineFlagsResult {
        let Some(Ok(asset)) = asset_key(&op.asset) else {
            return SetTrustLineFlagsResult::Malformed;
        };
        let revocable = self
            .accounts
            .get(&source)
            .is_some_and(|a| a.flags & AUTH_REVOCABLE != 0);
        if !revocable {
            let clearing_any_auth = op.clear_flags & TL_AUTH_FLAGS != 0;
            let setting_authorized = op.set_flags & TL_AUTHORIZED != 0;
            if clearing_any_auth && !setting_authorized {
                return SetTrustLineFlagsResult::CantRevoke;
            }
        }
        let trustor = account_id_bytes(&op.trustor);
        let Some(line) = self.trustlines.get_mut(&(trustor, asset)) else {
            return SetTrustLineFlagsResult::NoTrustLine;
        };
        let expected = (line.flags & !op.clear_flags) | op.set_flags;
        if expected & TL_AUTH_FLAGS == TL_AUTH_FLAGS {
            return SetTrustLineFlagsResult::InvalidState;
        }
        line.flags = expected;
        SetTrustLineFlagsResult::Success
    }

    fn clawback(&mut self, _source: [u8; 32], op: &ClawbackOp) -> ClawbackResult {
        let Some(Ok(asset)) = asset_key(&op.asset) else {
            return ClawbackResult::Malformed;
        };
        let from = muxed_bytes(&op.from);
        let Some(line) = self.trustlines.get_mut(&(from, asset)) else {
            return ClawbackResult::NoTrust;
        };
        if line.flags & TL_CLAWBACK_ENABLED == 0 {
            return ClawbackResult::NotClawbackEnabled;
        }
        if line.balance < op.amount {
            return ClawbackResult::Underfunded;
        }
        line.balance -= op.amount;
        ClawbackResult::Success
    }

    fn set_options(
        &mut self,
        source: [u8; 32],
        op: &SetOptionsOp,
    ) -> Result<OperationResult, SetOptionsResult> {
        if let Some(dest) = &op.inflation_dest {
            let dest = account_id_bytes(dest);
            if dest != source && !self.accounts.contains_key(&dest) {
                return Err(SetOptionsResult::InvalidInflation);
            }
        }
        let Some(acc) = self.accounts.get_mut(&source) else {
            return Ok(OperationResult::OpNoAccount);
        };
        if let Some(dest) = &op.inflation_dest {
            acc.inflation_dest = Some(account_id_bytes(dest));
        }
        if let Some(clear) = op.clear_flags {
            if clear & ALL_ACCOUNT_FLAGS != 0 && acc.flags & AUTH_IMMUTABLE != 0 {
                return Err(SetOptionsResult::CantChange);
            }
            acc.flags &= !clear;
        }
        if let Some(set) = op.set_flags {
            if set & ALL_ACCOUNT_FLAGS != 0 && acc.flags & AUTH_IMMUTABLE != 0 {
                return Err(SetOptionsResult::CantChange);
            }
            acc.flags |= set;
        }
        if (op.set_flags.is_some() || op.clear_flags.is_some())
            && acc.flags & AUTH_CLAWBACK_ENABLED != 0
            && acc.flags & AUTH_REVOCABLE == 0
        {
            return Err(SetOptionsResult::AuthRevocableRequired);
        }
        if let Some(domain) = &op.home_domain {
            acc.home_domain = domain.0.iter().map(|b| char::from(*b)).collect();
        }
        let set_weight = |slot: &mut u8, value: Option<u32>| {
            if let Some(v) = value {
                *slot = u8::try_from(v & 0xFF).unwrap_or(u8::MAX);
            }
        };
        set_weight(&mut acc.thresholds[0], op.master_weight);
        set_weight(&mut acc.thresholds[1], op.low_threshold);
        set_weight(&mut acc.thresholds[2], op.med_threshold);
        set_weight(&mut acc.thresholds[3], op.high_threshold);
        if let Some(signer) = &op.signer {
            let kind = signer_kind(&signer.key);
            let pos = acc.signers.binary_search_by(|s| s.key.cmp(&kind));
            if signer.weight > 0 {
                match pos {
                    Ok(i) => {
                        if let Some(s) = acc.signers.get_mut(i) {
                            s.weight = signer.weight;
                        }
                    }
                    Err(i) => {
                        if acc.signers.len() >= MAX_SIGNERS {
                            return Err(SetOptionsResult::TooManySigners);
                        }
                        match add_subentry(acc) {
                            NewEntry::Ok => {}
                            NewEntry::LowReserve => return Err(SetOptionsResult::LowReserve),
                            NewEntry::TooManySubentries => {
                                return Ok(OperationResult::OpTooManySubentries)
                            }
                        }
                        acc.signers.insert(
                            i,
                            AccountSigner {
                                key: kind,
                                weight: signer.weight,
                            },
                        );
                    }
                }
            } else if let Ok(i) = pos {
                acc.signers.remove(i);
                acc.num_sub_entries = acc.num_sub_entries.saturating_sub(1);
            }
        }
        Ok(inner(OperationResultTr::SetOptions(
            SetOptionsResult::Success,
        )))
    }

    fn manage_data(
        &mut self,
        source: [u8; 32],
        op: &ManageDataOp,
    ) -> Result<OperationResult, ManageDataResult> {
        let name: String = op.data_name.0.iter().map(|b| char::from(*b)).collect();
        let key = (source, name);
        match &op.data_value {
            Some(value) => {
                if let Some(entry) = self.data.get_mut(&key) {
                    entry.value = value.0.to_vec();
                } else {
                    let Some(acc) = self.accounts.get_mut(&source) else {
                        return Ok(OperationResult::OpNoAccount);
                    };
                    match add_subentry(acc) {
                        NewEntry::Ok => {}
                        NewEntry::LowReserve => return Err(ManageDataResult::LowReserve),
                        NewEntry::TooManySubentries => {
                            return Ok(OperationResult::OpTooManySubentries)
                        }
                    }
                    self.data.insert(
                        key,
                        DataEntry {
                            value: value.0.to_vec(),
                            last_modified_ledger: 0,
                        },
                    );
                }
            }
            None => {
                if self.data.remove(&key).is_none() {
                    return Err(ManageDataResult::NameNotFound);
                }
                if let Some(acc) = self.accounts.get_mut(&source) {
                    acc.num_sub_entries = acc.num_sub_entries.saturating_sub(1);
                }
            }
        }
        Ok(inner(OperationResultTr::ManageData(
            ManageDataResult::Success,
        )))
    }

    fn bump_sequence(
        &mut self,
        ctx: &TxCtx,
        source: [u8; 32],
        op: &BumpSequenceOp,
    ) -> BumpSequenceResult {
        if let Some(acc) = self.accounts.get_mut(&source) {
            if op.bump_to.0 > acc.seq_num {
                acc.seq_num = op.bump_to.0;
            }
            // protocol >= 19: the sequence metadata is refreshed even when nothing is bumped
            acc.seq_ledger = ctx.ledger_seq;
            acc.seq_time = ctx.close_time;
        }
        BumpSequenceResult::Success
    }

    fn merge(&mut self, ctx: &TxCtx, source: [u8; 32], dest: &MuxedAccount) -> AccountMergeResult {
        let dest = muxed_bytes(dest);
        if !self.accounts.contains_key(&dest) {
            return AccountMergeResult::NoAccount;
        }
        let Some(src) = self.accounts.get(&source) else {
            return AccountMergeResult::NoAccount;
        };
        if src.flags & AUTH_IMMUTABLE != 0 {
            return AccountMergeResult::ImmutableSet;
        }
        if usize::try_from(src.num_sub_entries).ok() != Some(src.signers.len()) {
            return AccountMergeResult::HasSubEntries;
        }
        if src.seq_num >= starting_sequence(ctx.ledger_seq) {
            return AccountMergeResult::SeqnumTooFar;
        }
        let amount = src.balance;
        let Some(dest_acc) = self.accounts.get_mut(&dest) else {
            return AccountMergeResult::NoAccount;
        };
        let Some(new_balance) = dest_acc.balance.checked_add(amount) else {
            return AccountMergeResult::DestFull;
        };
        dest_acc.balance = new_balance;
        self.accounts.remove(&source);
        AccountMergeResult::Success(amount)
    }

    /// Stamp `last_modified_*` on every entry that differs from `before`.
    fn stamp_changes(&mut self, before: &State, ledger_seq: u32, close_time: u64) {
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

/// Preconditions flattened (stellar-core reads `PRECOND_TIME` and `PRECOND_V2` alike).
struct Conditions {
    min_time: u64,
    max_time: u64,
    min_ledger: u32,
    max_ledger: u32,
    min_seq_num: Option<i64>,
    min_seq_age: u64,
    min_seq_ledger_gap: u32,
    extra_signers: Vec<SignerKind>,
}

fn conditions(cond: &Preconditions) -> Conditions {
    let mut c = Conditions {
        min_time: 0,
        max_time: 0,
        min_ledger: 0,
        max_ledger: 0,
        min_seq_num: None,
        min_seq_age: 0,
        min_seq_ledger_gap: 0,
        extra_signers: Vec::new(),
    };
    match cond {
        Preconditions::None => {}
        Preconditions::Time(tb) => {
            c.min_time = tb.min_time.0;
            c.max_time = tb.max_time.0;
        }
        Preconditions::V2(v2) => {
            if let Some(tb) = &v2.time_bounds {
                c.min_time = tb.min_time.0;
                c.max_time = tb.max_time.0;
            }
            if let Some(lb) = &v2.ledger_bounds {
                c.min_ledger = lb.min_ledger;
                c.max_ledger = lb.max_ledger;
            }
            c.min_seq_num = v2.min_seq_num.as_ref().map(|s: &SequenceNumber| s.0);
            c.min_seq_age = v2.min_seq_age.0;
            c.min_seq_ledger_gap = v2.min_seq_ledger_gap;
            c.extra_signers = v2.extra_signers.iter().map(signer_kind).collect();
        }
    }
    c
}

fn rejected(fee: i64, code: TransactionResultResult) -> Result<Verdict, LedgerError> {
    Ok(Verdict::Rejected(results::tx_error(fee, code)))
}

/// A transaction applied to a copy of the state, before its ledger is closed.
struct Applied {
    state: State,
    result: TransactionResult,
    fee: i64,
    failed: bool,
    fee_changes: LedgerEntryChanges,
    meta: TransactionMeta,
}

/// Stamp `last_modified_*` on what changed since `before`, and return the changes as XDR.
fn settle(
    before: &State,
    after: &mut State,
    at: Closing,
) -> Result<LedgerEntryChanges, LedgerError> {
    after.stamp_changes(before, at.next_seq, at.close_time);
    Ok(meta::changes(before, after)?)
}

/// The ledger being closed.
#[derive(Clone, Copy, Debug)]
struct Closing {
    next_seq: u32,
    close_time: u64,
}

/// Why a transaction is invalid: a tx-level code, or the per-op results of `tx_failed`.
enum Invalid {
    Tx(TransactionResultResult),
    Ops(Vec<OperationResult>),
}

impl Invalid {
    fn into_result(self, fee: i64) -> Result<TransactionResult, LedgerError> {
        Ok(match self {
            Invalid::Tx(code) => results::tx_error(fee, code),
            Invalid::Ops(ops) => results::tx_with_ops(fee, true, ops)?,
        })
    }
}

/// `base fee × max(1, operations + extra)` (a fee bump counts as one more operation).
fn fee_for_ops(ops: usize, extra: usize) -> i64 {
    let n = i64::try_from(ops.saturating_add(extra)).unwrap_or(i64::MAX);
    BASE_FEE.saturating_mul(n.max(1))
}

/// Charge `min(max_fee, min_fee)` (never more than the balance) to `payer`; returns the fee.
fn charge_fee(state: &mut State, payer: [u8; 32], max_fee: i64, min_fee: i64) -> i64 {
    let mut fee = max_fee.min(min_fee).max(0);
    if let Some(acc) = state.accounts.get_mut(&payer) {
        fee = fee.min(acc.balance).max(0);
        acc.balance -= fee;
    } else {
        fee = 0;
    }
    fee
}

/// Remove a pre-authorized-transaction signer for `hash` from `account`, if present.
fn remove_one_time_signer(state: &mut State, account: [u8; 32], hash: [u8; 32]) {
    if let Some(acc) = state.accounts.get_mut(&account) {
        let before = acc.signers.len();
        acc.signers.retain(|s| s.key != SignerKind::PreAuthTx(hash));
        let removed = u32::try_from(before - acc.signers.len()).unwrap_or(0);
        acc.num_sub_entries = acc.num_sub_entries.saturating_sub(removed);
    }
}

impl Ledger {
    /// Ledger 1: the root account holds every lumen, as in stellar-core's genesis.
    pub fn genesis(passphrase: &str, now: u64) -> Ledger {
        let network_id = network_id(passphrase);
        let root = root_key(&network_id).verifying_key().to_bytes();
        let mut state = State::default();
        state.accounts.insert(
            root,
            Account {
                id: root,
                balance: TOTAL_COINS,
                seq_num: 0,
                num_sub_entries: 0,
                flags: 0,
                thresholds: [1, 0, 0, 0],
                home_domain: String::new(),
                inflation_dest: None,
                signers: Vec::new(),
                seq_ledger: 0,
                seq_time: 0,
                last_modified_ledger: 1,
                last_modified_time: now,
            },
        );
        Ledger {
            passphrase: passphrase.to_string(),
            network_id,
            header: Header {
                ledger_seq: 1,
                close_time: now,
                hash: Sha256::digest(b"stellar-airgap sandbox genesis").into(),
                fee_pool: 0,
                total_coins: TOTAL_COINS,
            },
            state,
        }
    }

    /// The genesis ledger record (ledger 1).
    pub fn genesis_record(&self) -> LedgerRecord {
        LedgerRecord {
            sequence: 1,
            hash: self.header.hash,
            prev_hash: [0; 32],
            close_time: self.header.close_time,
            successful_transaction_count: 0,
            failed_transaction_count: 0,
            operation_count: 0,
            tx_set_operation_count: 0,
            fee_pool: 0,
            total_coins: TOTAL_COINS,
        }
    }

    /// A ledger restored from storage.
    pub fn from_parts(passphrase: &str, header: Header, state: State) -> Ledger {
        Ledger {
            passphrase: passphrase.to_string(),
            network_id: network_id(passphrase),
            header,
            state,
        }
    }

    /// The root account's address bytes.
    #[cfg(test)]
    pub fn root_id(&self) -> [u8; 32] {
        root_key(&self.network_id).verifying_key().to_bytes()
    }

    /// Accept the closed ledger produced by [`Ledger::evaluate`] (after it was persisted).
    pub fn commit(&mut self, closed: &Closed) {
        self.state = closed.state.clone();
        self.header = closed.header.clone();
    }

    /// Validate `env` (hash `hash`) as stellar-core would, and if it is valid, apply it in a new
    /// ledger closing at `now` (never before the previous close time).
    pub fn evaluate(
        &self,
        env: &TransactionEnvelope,
        envelope_xdr: &str,
        hash: [u8; 32],
        now: u64,
    ) -> Result<Verdict, LedgerError> {
        let next_seq = self
            .header
            .ledger_seq
            .checked_add(1)
            .ok_or(LedgerError::LedgerSequenceExhausted)?;
        let close_time = now.max(self.header.close_time);
        let at = Closing {
            next_seq,
            close_time,
        };
        match env {
            TransactionEnvelope::TxV0(e) => rejected(
                fee_for_ops(e.tx.operations.len(), 0),
                TransactionResultResult::TxNotSupported,
            ),
            TransactionEnvelope::Tx(e) => {
                let min_fee = fee_for_ops(e.tx.operations.len(), 0);
                if let Some(invalid) = self.validate(&e.tx, &e.signatures, hash, true, at) {
                    return Ok(Verdict::Rejected(invalid.into_result(min_fee)?));
                }
                let mut state = self.state.clone();
                let source = muxed_bytes(&e.tx.source_account);
                let fee = charge_fee(&mut state, source, i64::from(e.tx.fee), min_fee);
                let fee_changes = settle(&self.state, &mut state, at)?;
                let pre = state.clone();
                let (failed, ops, meta) = self.apply_tx(&mut state, &pre, &e.tx, hash, at)?;
                let result = results::tx_with_ops(fee, failed, ops)?;
                let applied = Applied {
                    state,
                    result,
                    fee,
                    failed,
                    fee_changes,
                    meta,
                };
                self.close(applied, &e.tx, envelope_xdr, hash, None, at)
            }
            TransactionEnvelope::TxFeeBump(e) => self.evaluate_fee_bump(e, envelope_xdr, hash, at),
        }
    }

    /// stellar-core's `FeeBumpTransactionFrame::checkValid` and apply.
    fn evaluate_fee_bump(
        &self,
        env: &FeeBumpTransactionEnvelope,
        envelope_xdr: &str,
        hash: [u8; 32],
        at: Closing,
    ) -> Result<Verdict, LedgerError> {
        let FeeBumpTransactionInnerTx::Tx(inner) = &env.tx.inner_tx;
        let inner_tx = &inner.tx;
        let inner_hash =
            airgap::envelope::tx_hash(inner_tx, &Network::from_passphrase(&self.passphrase));
        let n_inner = inner_tx.operations.len();
        let min_outer = fee_for_ops(n_inner, 1);
        let min_inner = fee_for_ops(n_inner, 0);
        let outer_fee = env.tx.fee;
        if outer_fee < 0 {
            return rejected(min_outer, TransactionResultResult::TxMalformed);
        }
        if outer_fee < min_outer {
            return rejected(min_outer, TransactionResultResult::TxInsufficientFee);
        }
        // the outer fee rate must be at least the inner one
        let v1 = i128::from(outer_fee) * i128::from(min_inner);
        let v2 = i128::from(inner_tx.fee) * i128::from(min_outer);
        if v1 < v2 {
            let needed = (v2 + i128::from(min_inner) - 1) / i128::from(min_inner.max(1));
            let needed = i64::try_from(needed).unwrap_or(i64::MAX);
            return rejected(needed, TransactionResultResult::TxInsufficientFee);
        }
        let fee_source = muxed_bytes(&env.tx.fee_source);
        let Some(fee_acc) = self.state.accounts.get(&fee_source) else {
            return rejected(min_outer, TransactionResultResult::TxNoAccount);
        };
        let mut checker = SigChecker::new(hash, &env.signatures);
        if !checker.check(&signers_of(fee_acc), needed_weight(fee_acc, Threshold::Low)) {
            return rejected(min_outer, TransactionResultResult::TxBadAuth);
        }
        if available(fee_acc) < outer_fee {
            return rejected(min_outer, TransactionResultResult::TxInsufficientBalance);
        }
        if !checker.all_used() {
            return rejected(min_outer, TransactionResultResult::TxBadAuthExtra);
        }
        if let Some(invalid) = self.validate(inner_tx, &inner.signatures, inner_hash, false, at) {
            let inner_result = invalid.into_result(0)?;
            let result = results::fee_bump(min_outer, false, inner_hash, inner_result)?;
            return Ok(Verdict::Rejected(result));
        }
        let mut state = self.state.clone();
        let fee = charge_fee(&mut state, fee_source, outer_fee, min_outer);
        let fee_changes = settle(&self.state, &mut state, at)?;
        let pre = state.clone();
        remove_one_time_signer(&mut state, fee_source, hash);
        let (failed, ops, meta) = self.apply_tx(&mut state, &pre, inner_tx, inner_hash, at)?;
        let inner_fee = i64::from(inner_tx.fee).min(min_inner);
        let inner_result = results::tx_with_ops(inner_fee, failed, ops)?;
        let result = results::fee_bump(fee, !failed, inner_hash, inner_result)?;
        let applied = Applied {
            state,
            result,
            fee,
            failed,
            fee_changes,
            meta,
        };
        self.close(applied, inner_tx, envelope_xdr, hash, Some(inner_hash), at)
    }

    /// stellar-core's `checkValid` for one transaction (`charge_fee == false` for the inner
    /// transaction of a fee bump). `None` when valid.
    fn validate(
        &self,
        tx: &Transaction,
        sigs: &[DecoratedSignature],
        hash: [u8; 32],
        charge_fee: bool,
        at: Closing,
    ) -> Option<Invalid> {
        let Closing {
            next_seq,
            close_time,
        } = at;
        let min_fee = fee_for_ops(tx.operations.len(), 0);
        // commonValidPreSeqNum
        if !matches!(tx.ext, TransactionExt::V0) {
            return Some(Invalid::Tx(TransactionResultResult::TxMalformed));
        }
        let cond = conditions(&tx.cond);
        if cond.extra_signers.len() == 2 && cond.extra_signers.first() == cond.extra_signers.get(1)
            || cond.extra_signers.iter().any(
                |s| matches!(s, SignerKind::SignedPayload { payload, .. } if payload.is_empty()),
            )
        {
            return Some(Invalid::Tx(TransactionResultResult::TxMalformed));
        }
        if tx.operations.is_empty() {
            return Some(Invalid::Tx(TransactionResultResult::TxMissingOperation));
        }
        if (cond.min_time != 0 && cond.min_time > close_time) || cond.min_ledger > next_seq {
            return Some(Invalid::Tx(TransactionResultResult::TxTooEarly));
        }
        if (cond.max_time != 0 && cond.max_time < close_time)
            || (cond.max_ledger != 0 && cond.max_ledger <= next_seq)
        {
            return Some(Invalid::Tx(TransactionResultResult::TxTooLate));
        }
        if charge_fee && i64::from(tx.fee) < min_fee {
            return Some(Invalid::Tx(TransactionResultResult::TxInsufficientFee));
        }
        let source = muxed_bytes(&tx.source_account);
        let Some(source_acc) = self.state.accounts.get(&source) else {
            return Some(Invalid::Tx(TransactionResultResult::TxNoAccount));
        };

        // commonValid
        let current = source_acc.seq_num;
        let seq = tx.seq_num.0;
        let bad_seq = seq == starting_sequence(next_seq)
            || match cond.min_seq_num {
                Some(min) => current < min || current >= seq,
                None => current == i64::MAX || current + 1 != seq,
            };
        if bad_seq {
            return Some(Invalid::Tx(TransactionResultResult::TxBadSeq));
        }
        let too_early_for_account = cond.min_seq_age > close_time
            || close_time - cond.min_seq_age < source_acc.seq_time
            || cond.min_seq_ledger_gap > next_seq
            || next_seq - cond.min_seq_ledger_gap < source_acc.seq_ledger;
        if too_early_for_account {
            return Some(Invalid::Tx(TransactionResultResult::TxBadMinSeqAgeOrGap));
        }
        let mut checker = SigChecker::new(hash, sigs);
        let low = needed_weight(source_acc, Threshold::Low);
        let mut authorized = checker.check(&signers_of(source_acc), low);
        if authorized && !cond.extra_signers.is_empty() {
            let extra: Vec<(SignerKind, u32)> =
                cond.extra_signers.iter().map(|k| (k.clone(), 1)).collect();
            let needed = u32::try_from(extra.len()).unwrap_or(u32::MAX);
            authorized = checker.check(&extra, needed);
        }
        if !authorized {
            return Some(Invalid::Tx(TransactionResultResult::TxBadAuth));
        }
        if charge_fee && available(source_acc) < i64::from(tx.fee) {
            return Some(Invalid::Tx(TransactionResultResult::TxInsufficientBalance));
        }

        // operations: signatures per source account and threshold, then doCheckValid
        let mut op_results: Vec<OperationResult> = tx
            .operations
            .iter()
            .map(|op| success_of(&op.body))
            .collect();
        for (i, op) in tx.operations.iter().enumerate() {
            if let Some(err) = self.check_op(&mut checker, source, op) {
                if let Some(slot) = op_results.get_mut(i) {
                    *slot = err;
                }
                return Some(Invalid::Ops(op_results));
            }
        }
        if !checker.all_used() {
            return Some(Invalid::Tx(TransactionResultResult::TxBadAuthExtra));
        }
        None
    }

    fn check_op(
        &self,
        checker: &mut SigChecker<'_>,
        tx_source: [u8; 32],
        op: &Operation,
    ) -> Option<OperationResult> {
        let source = op.source_account.as_ref().map_or(tx_source, muxed_bytes);
        match self.state.accounts.get(&source) {
            Some(acc) => {
                let needed = needed_weight(acc, threshold_level(&op.body));
                if !checker.check(&signers_of(acc), needed) {
                    return Some(OperationResult::OpBadAuth);
                }
            }
            None => {
                // an explicit op source that does not exist yet must still have signed
                if !checker.check(&[(SignerKind::Ed25519(source), 1)], 0) {
                    return Some(OperationResult::OpBadAuth);
                }
            }
        }
        check_op_valid(source, &op.body)
    }

    /// Consume the sequence number and one-time signers, then apply the operations, each on top
    /// of the previous ones; any failure rolls all operation effects back. `pre` is the state
    /// the transaction meta's "changes before" start from. Returns
    /// `(failed, operation results, meta)`.
    fn apply_tx(
        &self,
        state: &mut State,
        pre: &State,
        tx: &Transaction,
        hash: [u8; 32],
        at: Closing,
    ) -> Result<(bool, Vec<OperationResult>, TransactionMeta), LedgerError> {
        let source = muxed_bytes(&tx.source_account);
        if let Some(acc) = state.accounts.get_mut(&source) {
            acc.seq_num = tx.seq_num.0;
            acc.seq_ledger = at.next_seq;
            acc.seq_time = at.close_time;
        }
        // one-time (pre-authorized transaction) signers are consumed whatever the outcome
        remove_one_time_signer(state, source, hash);
        for op in tx.operations.iter() {
            if let Some(op_source) = op.source_account.as_ref().map(muxed_bytes) {
                remove_one_time_signer(state, op_source, hash);
            }
        }
        let ctx = TxCtx {
            ledger_seq: at.next_seq,
            close_time: at.close_time,
        };
        let changes_before = settle(pre, state, at)?;
        let mut work = state.clone();
        let mut op_results = Vec::with_capacity(tx.operations.len());
        let mut op_changes = Vec::with_capacity(tx.operations.len());
        let mut failed = false;
        for op in tx.operations.iter() {
            let op_source = op.source_account.as_ref().map_or(source, muxed_bytes);
            let before = work.clone();
            let result = work.apply_op(&ctx, op_source, &op.body);
            if is_op_success(&result) {
                op_changes.push(settle(&before, &mut work, at)?);
            } else {
                failed = true;
                work = before;
            }
            op_results.push(result);
        }
        if failed {
            // a failed transaction reports no operation changes
            op_changes.clear();
        } else {
            *state = work;
        }
        let meta = meta::transaction_meta(changes_before, op_changes)?;
        Ok((failed, op_results, meta))
    }

    /// Close the next ledger with this one transaction.
    fn close(
        &self,
        applied: Applied,
        tx: &Transaction,
        envelope_xdr: &str,
        hash: [u8; 32],
        inner_hash: Option<[u8; 32]>,
        at: Closing,
    ) -> Result<Verdict, LedgerError> {
        let Closing {
            next_seq,
            close_time,
        } = at;
        let Applied {
            mut state,
            result,
            fee,
            failed,
            fee_changes,
            meta,
        } = applied;
        let mut header = self.header.clone();
        header.fee_pool = header.fee_pool.saturating_add(fee);
        state.stamp_changes(&self.state, next_seq, close_time);
        let result_xdr = results::to_base64(&result)?;
        let ops_u32 = u32::try_from(tx.operations.len()).unwrap_or(u32::MAX);
        let mut h = Sha256::new();
        h.update(header.hash);
        h.update(next_seq.to_be_bytes());
        h.update(close_time.to_be_bytes());
        h.update(hash);
        let ledger_hash: [u8; 32] = h.finalize().into();
        let record = LedgerRecord {
            sequence: next_seq,
            hash: ledger_hash,
            prev_hash: header.hash,
            close_time,
            successful_transaction_count: u32::from(!failed),
            failed_transaction_count: u32::from(failed),
            operation_count: if failed { 0 } else { ops_u32 },
            tx_set_operation_count: ops_u32,
            fee_pool: header.fee_pool,
            total_coins: header.total_coins,
        };
        header.ledger_seq = next_seq;
        header.close_time = close_time;
        header.hash = ledger_hash;
        let stored = StoredTx {
            hash,
            inner_hash,
            ledger: next_seq,
            close_time,
            envelope_xdr: envelope_xdr.to_string(),
            result_xdr,
            result_meta_xdr: meta.to_xdr_base64(Limits::none())?,
            fee_meta_xdr: fee_changes.to_xdr_base64(Limits::none())?,
            successful: !failed,
            fee_charged: fee,
        };
        Ok(Verdict::Included(Box::new(Closed {
            state,
            header,
            record,
            tx: stored,
        })))
    }

    /// A signed create_account from the root account (friendbot), as base64 envelope XDR.
    pub fn friendbot_envelope(
        &self,
        destination: [u8; 32],
        amount: i64,
    ) -> Result<(TransactionEnvelope, String, [u8; 32]), LedgerError> {
        let key = root_key(&self.network_id);
        let root = key.verifying_key().to_bytes();
        let seq = self
            .state
            .accounts
            .get(&root)
            .map_or(0, |a| a.seq_num)
            .saturating_add(1);
        let tx = Transaction {
            source_account: MuxedAccount::Ed25519(Uint256(root)),
            fee: 100,
            seq_num: SequenceNumber(seq),
            cond: Preconditions::None,
            memo: Memo::None,
            operations: vec![Operation {
                source_account: None,
                body: OperationBody::CreateAccount(CreateAccountOp {
                    destination: AccountId(PublicKey::PublicKeyTypeEd25519(Uint256(destination))),
                    starting_balance: amount,
                }),
            }]
            .try_into()?,
            ext: TransactionExt::V0,
        };
        let unsigned = TransactionEnvelope::Tx(TransactionV1Envelope {
            tx: tx.clone(),
            signatures: Default::default(),
        });
        let hash = airgap::envelope::hash(&unsigned, &Network::from_passphrase(&self.passphrase));
        let signature = key.sign(&hash);
        let decorated = DecoratedSignature {
            hint: SignatureHint(hint_of(&root)),
            signature: stellar_xdr::Signature(signature.to_bytes().to_vec().try_into()?),
        };
        let env = TransactionEnvelope::Tx(TransactionV1Envelope {
            tx,
            signatures: vec![decorated].try_into()?,
        });
        let xdr = env.to_xdr_base64(Limits::none())?;
        Ok((env, xdr, hash))
    }
}

#[cfg(test)]
mod tests;
