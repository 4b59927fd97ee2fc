//! Validity: stellar-core's `checkValid` for a transaction (preconditions, sequence, fee,
//! signatures per source account and threshold) and `doCheckValid` for each operation (the
//! state-independent checks that make an operation malformed).

use airgap::account::AccountId as Account32;
use airgap::network::Network;
use airgap::weights::Category;
use stellar_xdr::{
    AccountMergeResult, AllowTrustResult, Asset, BumpSequenceResult, ChangeTrustAsset,
    ChangeTrustResult, ClawbackResult, CreateAccountResult, DecoratedSignature,
    FeeBumpTransactionEnvelope, FeeBumpTransactionInnerTx, ManageDataResult, MuxedAccount,
    Operation, OperationBody, OperationResult, OperationResultTr, PathPaymentStrictReceiveResult,
    PathPaymentStrictSendResult, PaymentResult, Preconditions, SequenceNumber, SetOptionsOp,
    SetOptionsResult, SetTrustLineFlagsResult, Transaction, TransactionEnvelope, TransactionExt,
    TransactionResult, TransactionResultResult, Uint256,
};

use super::apply::inner;
use super::close::fee_for_ops;
use super::entries::{
    account_id_bytes, allow_trust_asset, asset_key, available, is_string_valid, muxed_bytes,
    signer_kind, starting_sequence, AssetKey, SignerKind, State, ALL_ACCOUNT_FLAGS, TL_ALL_FLAGS,
    TL_AUTHORIZED_TO_MAINTAIN_LIABILITIES, TL_AUTH_FLAGS, TL_CLAWBACK_ENABLED,
};
use super::signatures::{needed_for_op, needed_weight, signers_of, SigChecker};
use super::{Ledger, LedgerError};
use crate::results;

/// The success result of an operation's type (what core leaves in unchecked slots).
pub(super) fn success_of(body: &OperationBody) -> OperationResult {
    match body {
        OperationBody::CreateAccount(_) => inner(OperationResultTr::CreateAccount(
            CreateAccountResult::Success,
        )),
        OperationBody::Payment(_) => inner(OperationResultTr::Payment(PaymentResult::Success)),
        OperationBody::PathPaymentStrictReceive(_) => {
            inner(OperationResultTr::PathPaymentStrictReceive(
                PathPaymentStrictReceiveResult::Success(Default::default()),
            ))
        }
        OperationBody::PathPaymentStrictSend(_) => inner(OperationResultTr::PathPaymentStrictSend(
            PathPaymentStrictSendResult::Success(Default::default()),
        )),
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

/// stellar-core's `doCheckValid`: state-independent checks; `Some(result)` when malformed.
pub(super) fn check_op_valid(source: [u8; 32], body: &OperationBody) -> Option<OperationResult> {
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
        OperationBody::PathPaymentStrictReceive(op) => {
            let bad = op.dest_amount <= 0
                || op.send_max <= 0
                || any_invalid_asset(&op.send_asset, &op.dest_asset, &op.path);
            bad.then(|| {
                inner(OperationResultTr::PathPaymentStrictReceive(
                    PathPaymentStrictReceiveResult::Malformed,
                ))
            })
        }
        OperationBody::PathPaymentStrictSend(op) => {
            let bad = op.send_amount <= 0
                || op.dest_min <= 0
                || any_invalid_asset(&op.send_asset, &op.dest_asset, &op.path);
            bad.then(|| {
                inner(OperationResultTr::PathPaymentStrictSend(
                    PathPaymentStrictSendResult::Malformed,
                ))
            })
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

/// A path payment's assets fail stellar-core's `isAssetValid` (send, destination or a hop).
fn any_invalid_asset(send: &Asset, dest: &Asset, path: &[Asset]) -> bool {
    std::iter::once(send)
        .chain(std::iter::once(dest))
        .chain(path.iter())
        .any(|a| matches!(asset_key(a), Some(Err(()))))
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

pub(super) enum ChangeTrustLine {
    Credit(Result<AssetKey, ()>),
    Native,
    PoolShare,
}

pub(super) fn change_trust_asset(line: &ChangeTrustAsset) -> ChangeTrustLine {
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

/// Why a transaction is invalid: a tx-level code, or the per-op results of `tx_failed`.
pub(super) enum Invalid {
    Tx(TransactionResultResult),
    Ops(Vec<OperationResult>),
}

impl Invalid {
    pub(super) fn into_result(self, fee: i64) -> Result<TransactionResult, LedgerError> {
        Ok(match self {
            Invalid::Tx(code) => results::tx_error(fee, code),
            Invalid::Ops(ops) => results::tx_with_ops(fee, true, ops)?,
        })
    }
}

/// Where a check stands: the ledger header it reads and the offsets on its close time
/// (stellar-core's `checkValid` arguments: `lowerBoundCloseTimeOffset`,
/// `upperBoundCloseTimeOffset` and `validationLedgerSeq`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckAt {
    /// Sequence of the header the check reads: `isBadSeq` refuses its starting sequence number.
    pub header_seq: u32,
    /// The ledger whose bounds (`ledgerBounds`, `minSeqLedgerGap`) are checked.
    pub ledger_seq: u32,
    /// The header's close time.
    pub close_time: u64,
    /// Added to the close time for `minTime` and `minSeqAge`.
    pub lower_offset: u64,
    /// Added to the close time for `maxTime`.
    pub upper_offset: u64,
}

impl CheckAt {
    /// While applying in ledger `ledger_seq` closing at `close_time` (no offsets).
    pub fn apply(ledger_seq: u32, close_time: u64) -> CheckAt {
        CheckAt {
            header_seq: ledger_seq,
            ledger_seq,
            close_time,
            lower_offset: 0,
            upper_offset: 0,
        }
    }

    /// Against the last closed ledger, for the next one (`TransactionQueue::canAdd`: lower offset
    /// 0, upper offset `getUpperBoundCloseTimeOffset`; `HerderImpl::triggerNextLedger`: both the
    /// next close time minus the last).
    pub fn last_closed(lcl_seq: u32, lcl_close_time: u64, lower: u64, upper: u64) -> CheckAt {
        CheckAt {
            header_seq: lcl_seq,
            ledger_seq: lcl_seq.saturating_add(1),
            close_time: lcl_close_time,
            lower_offset: lower,
            upper_offset: upper,
        }
    }
}

/// How far validation got (stellar-core's `ValidationType`): applying consumes the sequence
/// number from `InvalidUpdateSeqNum` on, and runs the operations only at `MaybeValid`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Stage {
    Invalid,
    InvalidUpdateSeqNum,
    InvalidPostAuth,
    MaybeValid,
}

/// stellar-core's `commonValid` (with `commonValidPreSeqNum`): the transaction-level checks, in
/// core's order, on `state`. `applying`: the fee was already taken, so the balance check only
/// asks that the account is not below its reserve (`feeToPay = 0`). Returns how far it got and,
/// unless `MaybeValid`, the code.
pub(super) fn common_valid(
    state: &State,
    tx: &Transaction,
    checker: &mut SigChecker<'_>,
    at: CheckAt,
    charge_fee: bool,
    applying: bool,
) -> (Stage, Option<TransactionResultResult>) {
    let fail = |stage, code| (stage, Some(code));
    let min_fee = fee_for_ops(tx.operations.len(), 0);
    // commonValidPreSeqNum
    if !matches!(tx.ext, TransactionExt::V0) {
        return fail(Stage::Invalid, TransactionResultResult::TxMalformed);
    }
    let cond = conditions(&tx.cond);
    if cond.extra_signers.len() == 2 && cond.extra_signers.first() == cond.extra_signers.get(1)
        || cond
            .extra_signers
            .iter()
            .any(|s| matches!(s, SignerKind::SignedPayload { payload, .. } if payload.is_empty()))
    {
        return fail(Stage::Invalid, TransactionResultResult::TxMalformed);
    }
    if tx.operations.is_empty() {
        return fail(Stage::Invalid, TransactionResultResult::TxMissingOperation);
    }
    let lower = at.close_time.saturating_add(at.lower_offset);
    let upper = at.close_time.saturating_add(at.upper_offset);
    if (cond.min_time != 0 && cond.min_time > lower) || cond.min_ledger > at.ledger_seq {
        return fail(Stage::Invalid, TransactionResultResult::TxTooEarly);
    }
    if (cond.max_time != 0 && cond.max_time < upper)
        || (cond.max_ledger != 0 && cond.max_ledger <= at.ledger_seq)
    {
        return fail(Stage::Invalid, TransactionResultResult::TxTooLate);
    }
    if charge_fee && i64::from(tx.fee) < min_fee {
        return fail(Stage::Invalid, TransactionResultResult::TxInsufficientFee);
    }
    let source = muxed_bytes(&tx.source_account);
    let Some(source_acc) = state.accounts.get(&source) else {
        return fail(Stage::Invalid, TransactionResultResult::TxNoAccount);
    };

    // commonValid: isBadSeq against the header being read
    let current = source_acc.seq_num;
    let seq = tx.seq_num.0;
    let bad_seq = seq == starting_sequence(at.header_seq)
        || match cond.min_seq_num {
            Some(min) => current < min || current >= seq,
            None => current == i64::MAX || current + 1 != seq,
        };
    if bad_seq {
        return fail(Stage::Invalid, TransactionResultResult::TxBadSeq);
    }
    let too_early_for_account = cond.min_seq_age > lower
        || lower - cond.min_seq_age < source_acc.seq_time
        || cond.min_seq_ledger_gap > at.ledger_seq
        || at.ledger_seq - cond.min_seq_ledger_gap < source_acc.seq_ledger;
    if too_early_for_account {
        return fail(
            Stage::InvalidUpdateSeqNum,
            TransactionResultResult::TxBadMinSeqAgeOrGap,
        );
    }
    let low = needed_weight(source_acc, Category::Low);
    let mut authorized = checker.check(&signers_of(source_acc), low);
    if authorized && !cond.extra_signers.is_empty() {
        let extra: Vec<(SignerKind, u32)> =
            cond.extra_signers.iter().map(|k| (k.clone(), 1)).collect();
        let needed = u32::try_from(extra.len()).unwrap_or(u32::MAX);
        authorized = checker.check(&extra, needed);
    }
    if !authorized {
        return fail(
            Stage::InvalidUpdateSeqNum,
            TransactionResultResult::TxBadAuth,
        );
    }
    let fee_to_pay = if applying { 0 } else { i64::from(tx.fee) };
    if charge_fee && available(source_acc) < fee_to_pay {
        return fail(
            Stage::InvalidPostAuth,
            TransactionResultResult::TxInsufficientBalance,
        );
    }
    (Stage::MaybeValid, None)
}

/// stellar-core's `checkValid` for one transaction on `state` (`charge_fee == false` for the
/// inner transaction of a fee bump): `commonValid`, then each operation's signature and
/// `doCheckValid` (stopping at the first that fails), then every signature used. `None` when
/// valid.
pub(super) fn validate(
    state: &State,
    tx: &Transaction,
    sigs: &[DecoratedSignature],
    hash: [u8; 32],
    charge_fee: bool,
    at: CheckAt,
) -> Option<Invalid> {
    let mut checker = SigChecker::new(hash, sigs);
    if let (_, Some(code)) = common_valid(state, tx, &mut checker, at, charge_fee, false) {
        return Some(Invalid::Tx(code));
    }
    let source = muxed_bytes(&tx.source_account);
    let mut op_results: Vec<OperationResult> = tx
        .operations
        .iter()
        .map(|op| success_of(&op.body))
        .collect();
    for (i, op) in tx.operations.iter().enumerate() {
        let err = check_op_signature(state, &mut checker, source, op)
            .or_else(|| check_op_valid(op_source_of(op, source), &op.body));
        if let Some(err) = err {
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

/// The operation's source account bytes (the transaction's when it names none).
pub(super) fn op_source_of(op: &Operation, tx_source: [u8; 32]) -> [u8; 32] {
    airgap::envelope::op_source(op, Account32(tx_source)).0
}

/// stellar-core's `OperationFrame::checkSignature`: the operation's source account signed for
/// the operation's threshold; `Some(opBAD_AUTH)` when not.
pub(super) fn check_op_signature(
    state: &State,
    checker: &mut SigChecker<'_>,
    tx_source: [u8; 32],
    op: &Operation,
) -> Option<OperationResult> {
    let source = op_source_of(op, tx_source);
    let signed = match state.accounts.get(&source) {
        Some(acc) => checker.check(&signers_of(acc), needed_for_op(acc, &op.body)),
        // an explicit op source that does not exist yet must still have signed
        None => checker.check(&[(SignerKind::Ed25519(source), 1)], 0),
    };
    (!signed).then_some(OperationResult::OpBadAuth)
}

impl Ledger {
    /// stellar-core's `checkValid` of `env` on this ledger's state, as seen from `at`: `None`
    /// when valid, else the result stellar-core answers (fee = what the transaction would be
    /// charged, as core reports it). A fee bump is checked as `FeeBumpTransactionFrame`
    /// (outer fee, fee source, its signatures and balance), then its inner transaction without
    /// its fee checks. A V0 envelope is `tx_not_supported` (stellar-core converts V0 envelopes
    /// where they arrive, `CommandHandler::tx`; see [`airgap::envelope::inner_v1`]).
    pub fn check_valid(
        &self,
        env: &TransactionEnvelope,
        hash: [u8; 32],
        at: CheckAt,
    ) -> Result<Option<TransactionResult>, LedgerError> {
        match env {
            TransactionEnvelope::TxV0(e) => Ok(Some(results::tx_error(
                fee_for_ops(e.tx.operations.len(), 0),
                TransactionResultResult::TxNotSupported,
            ))),
            TransactionEnvelope::Tx(e) => {
                let min_fee = fee_for_ops(e.tx.operations.len(), 0);
                validate(&self.state, &e.tx, &e.signatures, hash, true, at)
                    .map(|invalid| invalid.into_result(min_fee))
                    .transpose()
            }
            TransactionEnvelope::TxFeeBump(e) => self.check_fee_bump(e, hash, at),
        }
    }

    /// stellar-core's `FeeBumpTransactionFrame::checkValid`.
    fn check_fee_bump(
        &self,
        env: &FeeBumpTransactionEnvelope,
        hash: [u8; 32],
        at: CheckAt,
    ) -> Result<Option<TransactionResult>, LedgerError> {
        let FeeBumpTransactionInnerTx::Tx(inner) = &env.tx.inner_tx;
        let inner_tx = &inner.tx;
        let inner_hash =
            airgap::envelope::tx_hash(inner_tx, &Network::from_passphrase(&self.passphrase));
        let n_inner = inner_tx.operations.len();
        let min_outer = fee_for_ops(n_inner, 1);
        let min_inner = fee_for_ops(n_inner, 0);
        let outer_fee = env.tx.fee;
        let reject = |fee, code| Ok(Some(results::tx_error(fee, code)));
        if outer_fee < 0 {
            return reject(min_outer, TransactionResultResult::TxMalformed);
        }
        if outer_fee < min_outer {
            return reject(min_outer, TransactionResultResult::TxInsufficientFee);
        }
        // the outer fee rate must be at least the inner one
        let v1 = i128::from(outer_fee) * i128::from(min_inner);
        let v2 = i128::from(inner_tx.fee) * i128::from(min_outer);
        if v1 < v2 {
            let needed = (v2 + i128::from(min_inner) - 1) / i128::from(min_inner.max(1));
            let needed = i64::try_from(needed).unwrap_or(i64::MAX);
            return reject(needed, TransactionResultResult::TxInsufficientFee);
        }
        let fee_source = muxed_bytes(&env.tx.fee_source);
        let Some(fee_acc) = self.state.accounts.get(&fee_source) else {
            return reject(min_outer, TransactionResultResult::TxNoAccount);
        };
        let mut checker = SigChecker::new(hash, &env.signatures);
        if !checker.check(&signers_of(fee_acc), needed_weight(fee_acc, Category::Low)) {
            return reject(min_outer, TransactionResultResult::TxBadAuth);
        }
        if available(fee_acc) < outer_fee {
            return reject(min_outer, TransactionResultResult::TxInsufficientBalance);
        }
        if !checker.all_used() {
            return reject(min_outer, TransactionResultResult::TxBadAuthExtra);
        }
        if let Some(invalid) = validate(
            &self.state,
            inner_tx,
            &inner.signatures,
            inner_hash,
            false,
            at,
        ) {
            let inner_result = invalid.into_result(0)?;
            return Ok(Some(results::fee_bump(
                min_outer,
                false,
                inner_hash,
                inner_result,
            )?));
        }
        Ok(None)
    }
}
