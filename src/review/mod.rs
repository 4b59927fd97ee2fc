//! The review: what an envelope does, in plain words, for the operator to read before signing.
//!
//! The review is built from the envelope itself — the bytes that will be signed — never from what
//! the operator asked for, so a compromised machine cannot show one thing and have another signed.
//! Every field the signature covers is in it, in the text ([`Review::to_text`]) and in the JSON
//! (the fields of [`Review`], and the whole envelope in SEP-51 XDR-JSON, `xdr_json`); what the
//! review cannot describe (an operation type outside the ten it knows, Soroban data) is refused.
//!
//! The findings ([`Finding`]) are computed over the whole transaction, operations in order
//! (`findings.rs`), and each one is true: what is not known offline (an account's current signers,
//! thresholds and flags) is said to be unknown, and is known when the operator carries the
//! account's state across the gap ([`Options::signer_sets`], [`Options::flags`]).
use crate::account::AccountId;
use crate::amount::Amount;
use crate::envelope;
use crate::network::Network;
use crate::weights::SignerSet;
use serde::Serialize;
use stellar_xdr::{Memo, MuxedAccount, Preconditions, TransactionEnvelope, TransactionExt};

mod describe;
mod findings;
mod text;

pub use crate::envelope::{op_type_name, snake_case};
pub use crate::text::escape_bytes;
pub use describe::{account_ref, asset_json, signer_key_json, AccountRef};
pub use text::wrap;

/// The most a transaction may pay in fees before the review calls it dangerous, by default:
/// 1 XLM (a policy's `max_fee` replaces it).
pub const DEFAULT_MAX_FEE: i64 = 10_000_000;
/// The longest validity the review accepts without a danger finding, by default: 30 days (a
/// policy's `max_validity` replaces it).
pub const DEFAULT_MAX_VALIDITY: u64 = 30 * 86_400;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Irreversible, able to lock the account, move control of it, or lose funds.
    Danger,
    /// Worth a second look.
    Warning,
}

/// Something the operator must know before signing.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// What kind of finding (stable, for scripts and tests): `pubnet`, `signer_change`,
    /// `signer_removal`, `threshold_change`, `master_weight_change`, `lockout`, `auth_immutable`,
    /// `clawback_without_revocable`, `min_seq_num`, `extra_signers`, `fee`, `validity`,
    /// `no_upper_bound`, `expired`, `operation_source`, `account_merge`, `clawback`,
    /// `code_lookalike`, `muxed_destination`, `maintain_liabilities`.
    pub code: &'static str,
    pub message: String,
    /// The finding in one short line, for the summary above the question.
    pub short: String,
    /// The operation concerned, numbered from 1 as in the review.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<usize>,
}

#[derive(Clone, Debug, Serialize)]
pub struct OperationReview {
    pub index: usize,
    /// Horizon's name: `payment`, `set_options`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The account the operation acts for (its own source, or the transaction's).
    pub source: AccountId,
    /// The ID of the operation's own source when it is a muxed account (`M…`), as text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_muxed_id: Option<String>,
    /// True when the operation names its own source account.
    pub own_source: bool,
    /// One line per effect, in plain words.
    pub effects: Vec<String>,
    /// Every field of the operation, named as Horizon and the SDKs name them (docs/formats.md).
    pub details: serde_json::Value,
}

#[derive(Clone, Debug, Serialize)]
pub struct SignatureReview {
    /// The signature hint, hex.
    pub hint: String,
    /// The signature, hex.
    pub signature: String,
    /// The key that made it, when it is one of the keys the review was told about.
    pub signer: Option<AccountId>,
}

/// What the transaction pays.
#[derive(Clone, Debug, Serialize)]
pub struct Fee {
    /// The most the transaction may pay, in stroops (for a fee bump, the outer fee).
    pub stroops: i64,
    /// The same in XLM.
    pub xlm: String,
    /// The operations the fee pays for: the transaction's, and one more for a fee bump (as
    /// stellar-core counts them).
    pub operations: usize,
    /// `stroops / operations`: the bid per operation stellar-core compares with the base fee.
    pub per_operation: i64,
    /// For a fee bump: the inner transaction's own fee, in stroops (not paid: the outer fee is).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inner_fee: Option<u32>,
}

/// The transaction's preconditions: time bounds and, for preconditions v2, the rest.
#[derive(Clone, Debug, Serialize)]
pub struct PreconditionsReview {
    /// `none`, `time` (time bounds only) or `v2`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `{min_time, max_time}` in unix seconds (0 max: no upper bound), when present.
    pub time_bounds: Option<serde_json::Value>,
    /// `{min_ledger, max_ledger}` (0 max: no upper bound), when present.
    pub ledger_bounds: Option<serde_json::Value>,
    /// The lowest account sequence number the transaction is valid at, as text, when present.
    pub min_seq_num: Option<String>,
    /// Seconds that must pass after the account's sequence number last changed.
    pub min_seq_age: u64,
    /// Ledgers that must close after the account's sequence number last changed.
    pub min_seq_ledger_gap: u32,
    /// Signers whose signatures the transaction also needs.
    pub extra_signers: Vec<serde_json::Value>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Review {
    pub network: String,
    /// The passphrase signatures cover, escaped for display.
    pub network_passphrase: String,
    pub envelope_type: &'static str,
    pub source: AccountId,
    /// The ID of the transaction's source when it is a muxed account (`M…`), as text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_muxed_id: Option<String>,
    pub sequence: String,
    /// The most the transaction may pay, in stroops (for a fee bump, the outer fee).
    pub max_fee: i64,
    pub fee: Fee,
    /// For a fee bump: the account that pays the fee.
    pub fee_source: Option<AccountId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fee_source_muxed_id: Option<String>,
    pub min_time: u64,
    /// 0 means no upper bound.
    pub max_time: u64,
    pub preconditions: PreconditionsReview,
    pub memo_type: &'static str,
    /// The memo for display: text escaped and quoted, an ID, or hashes in hex.
    pub memo: Option<String>,
    /// The memo's bytes in hex (text memos, hashes), or the ID as text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memo_value: Option<String>,
    pub operations: Vec<OperationReview>,
    /// The transaction hash, hex: compare it on both machines.
    pub hash: String,
    pub signatures: Vec<SignatureReview>,
    /// For a fee bump: the inner transaction's signatures (over the inner transaction's hash).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inner_signatures: Option<Vec<SignatureReview>>,
    pub findings: Vec<Finding>,
    /// The whole envelope in SEP-51 XDR-JSON (the `stellar-xdr` crate's serde form, as
    /// stellar-cli's `tx decode` writes it).
    pub xdr_json: serde_json::Value,
    /// The time the review was made (unix seconds), for the relative times in the text.
    #[serde(skip)]
    pub now: u64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReviewError {
    #[error("operation {index} is a {kind} operation, which this tool cannot describe; it will not sign what it cannot show you")]
    Unsupported { index: usize, kind: String },
    #[error("the transaction carries Soroban data (resources, footprint and a resource fee), which this tool cannot describe; it will not sign what it cannot show you")]
    SorobanData,
    #[error("the envelope holds a value its XDR-JSON cannot carry (a signed-payload signer with an empty payload, say), so the JSON review could not show it whole; it will not sign what it cannot show you")]
    NotRepresentable,
}

/// What the review knows besides the envelope. The default knows nothing more and holds the
/// transaction to 1 XLM of fee and 30 days of validity.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options<'a> {
    /// A total fee above this (stroops) is a danger finding; `None`: [`DEFAULT_MAX_FEE`].
    pub max_fee: Option<i64>,
    /// A validity longer than this (seconds from now) is a danger finding; `None`:
    /// [`DEFAULT_MAX_VALIDITY`].
    pub max_validity: Option<u64>,
    /// The current signers and thresholds of accounts (from `--account` or `--signers`), so
    /// that changes to them are weighed against what is there.
    pub signer_sets: &'a [SignerSet],
    /// The current account flags of accounts (from `--account`).
    pub flags: &'a [(AccountId, u32)],
}

/// A muxed account's ID, as text, when it is one.
pub(crate) fn muxed_id(m: &MuxedAccount) -> Option<String> {
    match m {
        MuxedAccount::Ed25519(_) => None,
        MuxedAccount::MuxedEd25519(x) => Some(x.id.to_string()),
    }
}

/// An amount for people: the shortest exact form (`2.5`); a negative one (malformed) says so.
pub(crate) fn amount(stroops: i64) -> String {
    match Amount::from_stroops(stroops) {
        Ok(a) => a.to_string(),
        Err(_) => format!("{stroops} stroops (negative: invalid)"),
    }
}

/// An amount as Horizon writes it (`2.5000000`), sign included, for the JSON review.
pub(crate) fn amount_json(stroops: i64) -> String {
    let sign = if stroops < 0 { "-" } else { "" };
    let abs = stroops.unsigned_abs();
    format!("{sign}{}.{:07}", abs / 10_000_000, abs % 10_000_000)
}

/// What the envelope does, for a person. `known_keys` are the public keys the caller knows of
/// (keys about to sign, signers from an account file), used to name who made each signature.
pub fn review(
    env: &TransactionEnvelope,
    network: &Network,
    now: u64,
    known_keys: &[AccountId],
) -> Result<Review, ReviewError> {
    review_with(env, network, now, known_keys, &Options::default())
}

/// [`review`], knowing what `options` says about the accounts and the limits in force.
pub fn review_with(
    env: &TransactionEnvelope,
    network: &Network,
    now: u64,
    known_keys: &[AccountId],
    options: &Options<'_>,
) -> Result<Review, ReviewError> {
    let tx = envelope::transaction(env);
    if let TransactionExt::V1(_) = tx.ext {
        return Err(ReviewError::SorobanData);
    }
    let tx_source = AccountId::from_muxed(&tx.source_account);
    let h = envelope::hash(env, network);
    let ops = tx.operations.len();
    let (envelope_type, max_fee, fee_source, fee_source_muxed_id, paid_for, inner_fee) = match env {
        TransactionEnvelope::TxV0(_) => {
            ("transaction (v0)", i64::from(tx.fee), None, None, ops, None)
        }
        TransactionEnvelope::Tx(_) => ("transaction", i64::from(tx.fee), None, None, ops, None),
        TransactionEnvelope::TxFeeBump(fb) => (
            "fee bump",
            fb.tx.fee,
            Some(AccountId::from_muxed(&fb.tx.fee_source)),
            muxed_id(&fb.tx.fee_source),
            ops + 1,
            Some(tx.fee),
        ),
    };
    let fee = Fee {
        stroops: max_fee,
        xlm: amount(max_fee),
        operations: paid_for,
        per_operation: max_fee / i64::try_from(paid_for.max(1)).unwrap_or(i64::MAX),
        inner_fee,
    };
    let (min_time, max_time) = envelope::time_bounds(&tx);
    let preconditions = describe::preconditions(&tx.cond);
    let (memo_type, memo, memo_value) = match &tx.memo {
        Memo::None => ("none", None, None),
        Memo::Text(t) => (
            "text",
            Some(format!("\"{}\"", escape_bytes(t.as_slice()))),
            Some(hex::encode(t.as_slice())),
        ),
        Memo::Id(i) => ("id", Some(i.to_string()), Some(i.to_string())),
        Memo::Hash(x) => ("hash", Some(hex::encode(x.0)), Some(hex::encode(x.0))),
        Memo::Return(x) => ("return", Some(hex::encode(x.0)), Some(hex::encode(x.0))),
    };
    let mut operations = Vec::with_capacity(ops);
    for (i, op) in tx.operations.iter().enumerate() {
        let index = i + 1;
        let source = envelope::op_source(op, tx_source);
        let (effects, details) =
            describe::operation(&op.body, &source).ok_or_else(|| ReviewError::Unsupported {
                index,
                kind: op_type_name(&op.body),
            })?;
        operations.push(OperationReview {
            index,
            kind: op_type_name(&op.body),
            source,
            source_muxed_id: op.source_account.as_ref().and_then(muxed_id),
            own_source: op.source_account.is_some(),
            effects,
            details,
        });
    }
    // The JSON review carries the whole envelope; a value stellar-xdr's serde form cannot carry
    // (it writes `<INVALID:…>` for a signed payload without payload) would make that a lie.
    let xdr_json = serde_json::to_value(env).map_err(|_| ReviewError::NotRepresentable)?;
    match serde_json::from_value::<TransactionEnvelope>(xdr_json.clone()) {
        Ok(back) if back == *env => {}
        _ => return Err(ReviewError::NotRepresentable),
    }
    let findings = findings::findings(&findings::Input {
        tx: &tx,
        network,
        now,
        max_fee,
        options,
    });
    let sigs = |hash: &[u8; 32], list: &[stellar_xdr::DecoratedSignature]| {
        list.iter()
            .map(|s| SignatureReview {
                hint: hex::encode(s.hint.0),
                signature: hex::encode(s.signature.as_slice()),
                signer: envelope::signer_of(hash, s, known_keys),
            })
            .collect::<Vec<_>>()
    };
    let signatures = sigs(&h, envelope::signatures(env));
    let inner_signatures = match env {
        TransactionEnvelope::TxFeeBump(_) => {
            let inner = envelope::inner_v1(env);
            let inner_hash = envelope::tx_hash(&inner.tx, network);
            Some(sigs(&inner_hash, &inner.signatures))
        }
        _ => None,
    };
    Ok(Review {
        network: network.name().to_string(),
        network_passphrase: escape_bytes(network.passphrase().as_bytes()),
        envelope_type,
        source: tx_source,
        source_muxed_id: muxed_id(&tx.source_account),
        sequence: tx.seq_num.0.to_string(),
        max_fee,
        fee,
        fee_source,
        fee_source_muxed_id,
        min_time,
        max_time,
        preconditions,
        memo_type,
        memo,
        memo_value,
        operations,
        hash: hex::encode(h),
        signatures,
        inner_signatures,
        findings,
        xdr_json,
        now,
    })
}

impl Review {
    /// The danger findings, in order.
    pub fn dangers(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Danger)
    }
}

/// Whether a transaction's preconditions go beyond time bounds (preconditions v2 with anything
/// but time bounds set).
pub fn has_v2_preconditions(cond: &Preconditions) -> bool {
    match cond {
        Preconditions::V2(p) => {
            p.ledger_bounds.is_some()
                || p.min_seq_num.is_some()
                || p.min_seq_age.0 != 0
                || p.min_seq_ledger_gap != 0
                || !p.extra_signers.is_empty()
        }
        _ => false,
    }
}

/// `2h 5m`, `3d 4h`, `45s`.
pub fn duration_words(secs: u64) -> String {
    let (d, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

/// A unix time as `2026-11-21 12:00:00 UTC`.
pub fn time_words(t: u64) -> String {
    let fmt =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    i64::try_from(t)
        .ok()
        .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
        .and_then(|d| d.format(&fmt).ok())
        .unwrap_or_else(|| format!("unix time {t}"))
}

/// `in 2h 5m` or `3d 4h ago`.
pub fn relative(t: u64, now: u64) -> String {
    if t >= now {
        format!("in {}", duration_words(t - now))
    } else {
        format!("{} ago", duration_words(now - t))
    }
}
