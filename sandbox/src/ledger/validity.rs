//! Validity: stellar-core's `checkValid` for a transaction (preconditions, sequence, fee,
//! signatures per source account and threshold) and `doCheckValid` for each operation (the
//! state-independent checks that make an operation malformed).

use airgap::account::AccountId as Account32;
use airgap::weights::Category;
use stellar_xdr::{
    AccountMergeResult, AllowTrustResult, Asset, BumpSequenceResult, ChangeTrustAsset,
    ChangeTrustResult, ClawbackResult, CreateAccountResult, DecoratedSignature, ManageDataResult,
    MuxedAccount, Operation, OperationBody, OperationResult, OperationResultTr, PaymentResult,
    Preconditions, SequenceNumber, SetOptionsOp, SetOptionsResult, SetTrustLineFlagsResult,
    Transaction, TransactionExt, TransactionResult, TransactionResultResult, Uint256,
};

use super::apply::inner;
use super::close::{fee_for_ops, Closing};
use super::entries::{
    account_id_bytes, allow_trust_asset, asset_key, available, is_string_valid, muxed_bytes,
    signer_kind, starting_sequence, AssetKey, SignerKind, ALL_ACCOUNT_FLAGS, TL_ALL_FLAGS,
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

impl Ledger {
    /// stellar-core's `checkValid` for one transaction (`charge_fee == false` for the inner
    /// transaction of a fee bump). `None` when valid.
    pub(super) fn validate(
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
        let low = needed_weight(source_acc, Category::Low);
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
        let source = airgap::envelope::op_source(op, Account32(tx_source)).0;
        match self.state.accounts.get(&source) {
            Some(acc) => {
                let needed = needed_for_op(acc, &op.body);
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
}
