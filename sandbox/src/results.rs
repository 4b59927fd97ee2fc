//! Result codes: stellar-xdr `TransactionResult` values, their base64 XDR, and the strings Horizon
//! prints in `extras.result_codes` (Horizon `internal/codes`; see docs/sandbox.md).

use stellar_xdr::{
    AccountMergeResult, AllowTrustResult, BumpSequenceResult, ChangeTrustResult, ClawbackResult,
    CreateAccountResult, Hash, InnerTransactionResult, InnerTransactionResultExt,
    InnerTransactionResultPair, InnerTransactionResultResult, Limits, ManageDataResult,
    OperationResult, OperationResultTr, PaymentResult, SetOptionsResult, SetTrustLineFlagsResult,
    TransactionResult, TransactionResultExt, TransactionResultResult, VecM, WriteXdr,
};

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    #[error("cannot encode a transaction result as XDR: {0}")]
    Xdr(#[from] stellar_xdr::Error),
    #[error("more operation results than XDR allows")]
    TooManyResults,
    #[error("a fee bump cannot wrap a fee bump")]
    NestedFeeBump,
}

/// `TransactionResult` with no operation results (every tx-level error code).
pub fn tx_error(fee_charged: i64, result: TransactionResultResult) -> TransactionResult {
    TransactionResult {
        fee_charged,
        result,
        ext: TransactionResultExt::V0,
    }
}

/// `TransactionResult` for `txSUCCESS` (`failed == false`) or `txFAILED` with per-op results.
pub fn tx_with_ops(
    fee_charged: i64,
    failed: bool,
    ops: Vec<OperationResult>,
) -> Result<TransactionResult, ResultsError> {
    let ops: VecM<OperationResult> = ops.try_into().map_err(|_| ResultsError::TooManyResults)?;
    let result = if failed {
        TransactionResultResult::TxFailed(ops)
    } else {
        TransactionResultResult::TxSuccess(ops)
    };
    Ok(tx_error(fee_charged, result))
}

/// A fee-bump result: `txFEE_BUMP_INNER_SUCCESS` / `txFEE_BUMP_INNER_FAILED` around the inner
/// transaction's result.
pub fn fee_bump(
    fee_charged: i64,
    success: bool,
    inner_hash: [u8; 32],
    inner: TransactionResult,
) -> Result<TransactionResult, ResultsError> {
    use InnerTransactionResultResult as I;
    use TransactionResultResult as R;
    let inner_result = match inner.result {
        R::TxSuccess(ops) => I::TxSuccess(ops),
        R::TxFailed(ops) => I::TxFailed(ops),
        R::TxTooEarly => I::TxTooEarly,
        R::TxTooLate => I::TxTooLate,
        R::TxMissingOperation => I::TxMissingOperation,
        R::TxBadSeq => I::TxBadSeq,
        R::TxBadAuth => I::TxBadAuth,
        R::TxInsufficientBalance => I::TxInsufficientBalance,
        R::TxNoAccount => I::TxNoAccount,
        R::TxInsufficientFee => I::TxInsufficientFee,
        R::TxBadAuthExtra => I::TxBadAuthExtra,
        R::TxInternalError => I::TxInternalError,
        R::TxNotSupported => I::TxNotSupported,
        R::TxBadSponsorship => I::TxBadSponsorship,
        R::TxBadMinSeqAgeOrGap => I::TxBadMinSeqAgeOrGap,
        R::TxMalformed => I::TxMalformed,
        R::TxSorobanInvalid => I::TxSorobanInvalid,
        R::TxFrozenKeyAccessed => I::TxFrozenKeyAccessed,
        R::TxFeeBumpInnerSuccess(_) | R::TxFeeBumpInnerFailed(_) => {
            return Err(ResultsError::NestedFeeBump)
        }
    };
    let pair = InnerTransactionResultPair {
        transaction_hash: Hash(inner_hash),
        result: InnerTransactionResult {
            fee_charged: inner.fee_charged,
            result: inner_result,
            ext: InnerTransactionResultExt::V0,
        },
    };
    let result = if success {
        TransactionResultResult::TxFeeBumpInnerSuccess(pair)
    } else {
        TransactionResultResult::TxFeeBumpInnerFailed(pair)
    };
    Ok(tx_error(fee_charged, result))
}

/// The inner transaction's code of a fee-bump result (Horizon's `inner_transaction`).
pub fn inner_tx_code(result: &TransactionResult) -> Option<&'static str> {
    use InnerTransactionResultResult as I;
    let pair = match &result.result {
        TransactionResultResult::TxFeeBumpInnerSuccess(p)
        | TransactionResultResult::TxFeeBumpInnerFailed(p) => p,
        _ => return None,
    };
    Some(match &pair.result.result {
        I::TxSuccess(_) => "tx_success",
        I::TxFailed(_) => "tx_failed",
        I::TxTooEarly => "tx_too_early",
        I::TxTooLate => "tx_too_late",
        I::TxMissingOperation => "tx_missing_operation",
        I::TxBadSeq => "tx_bad_seq",
        I::TxBadAuth => "tx_bad_auth",
        I::TxInsufficientBalance => "tx_insufficient_balance",
        I::TxNoAccount => "tx_no_source_account",
        I::TxInsufficientFee => "tx_insufficient_fee",
        I::TxBadAuthExtra => "tx_bad_auth_extra",
        I::TxInternalError => "tx_internal_error",
        I::TxNotSupported => "tx_not_supported",
        I::TxBadSponsorship => "tx_bad_sponsorship",
        I::TxBadMinSeqAgeOrGap => "tx_bad_minseq_age_or_gap",
        I::TxMalformed => "tx_malformed",
        I::TxSorobanInvalid => "tx_soroban_invalid",
        I::TxFrozenKeyAccessed => "tx_frozen_key_accessed",
    })
}

/// Base64 XDR of a `TransactionResult`.
pub fn to_base64(result: &TransactionResult) -> Result<String, ResultsError> {
    Ok(result.to_xdr_base64(Limits::none())?)
}

/// Horizon's `extras.result_codes.transaction` string.
pub fn tx_code(result: &TransactionResult) -> &'static str {
    use TransactionResultResult as R;
    match &result.result {
        R::TxFeeBumpInnerSuccess(_) => "tx_fee_bump_inner_success",
        R::TxFeeBumpInnerFailed(_) => "tx_fee_bump_inner_failed",
        R::TxSuccess(_) => "tx_success",
        R::TxFailed(_) => "tx_failed",
        R::TxTooEarly => "tx_too_early",
        R::TxTooLate => "tx_too_late",
        R::TxMissingOperation => "tx_missing_operation",
        R::TxBadSeq => "tx_bad_seq",
        R::TxBadAuth => "tx_bad_auth",
        R::TxInsufficientBalance => "tx_insufficient_balance",
        R::TxNoAccount => "tx_no_source_account",
        R::TxInsufficientFee => "tx_insufficient_fee",
        R::TxBadAuthExtra => "tx_bad_auth_extra",
        R::TxInternalError => "tx_internal_error",
        R::TxNotSupported => "tx_not_supported",
        R::TxBadSponsorship => "tx_bad_sponsorship",
        R::TxBadMinSeqAgeOrGap => "tx_bad_minseq_age_or_gap",
        R::TxMalformed => "tx_malformed",
        R::TxSorobanInvalid => "tx_soroban_invalid",
        R::TxFrozenKeyAccessed => "tx_frozen_key_accessed",
    }
}

/// Horizon's `extras.result_codes.operations`: one string per op, only for results that carry
/// operation results (`tx_success`, `tx_failed`).
pub fn op_codes(result: &TransactionResult) -> Option<Vec<&'static str>> {
    use InnerTransactionResultResult as I;
    match &result.result {
        TransactionResultResult::TxSuccess(ops) | TransactionResultResult::TxFailed(ops) => {
            Some(ops.iter().map(op_code).collect())
        }
        TransactionResultResult::TxFeeBumpInnerSuccess(p)
        | TransactionResultResult::TxFeeBumpInnerFailed(p) => match &p.result.result {
            I::TxSuccess(ops) | I::TxFailed(ops) => Some(ops.iter().map(op_code).collect()),
            _ => None,
        },
        _ => None,
    }
}

/// Horizon's string for one operation result (the inner code for `opINNER`).
pub fn op_code(result: &OperationResult) -> &'static str {
    match result {
        OperationResult::OpInner(tr) => inner_code(tr),
        OperationResult::OpBadAuth => "op_bad_auth",
        OperationResult::OpNoAccount => "op_no_source_account",
        OperationResult::OpNotSupported => "op_not_supported",
        OperationResult::OpTooManySubentries => "op_too_many_subentries",
        OperationResult::OpExceededWorkLimit => "op_exceeded_work_limit",
        OperationResult::OpTooManySponsoring => "op_too_many_sponsoring",
    }
}

const OP_SUCCESS: &str = "op_success";
const OP_MALFORMED: &str = "op_malformed";

fn inner_code(tr: &OperationResultTr) -> &'static str {
    match tr {
        OperationResultTr::CreateAccount(r) => match r {
            CreateAccountResult::Success => OP_SUCCESS,
            CreateAccountResult::Malformed => OP_MALFORMED,
            CreateAccountResult::Underfunded => "op_underfunded",
            CreateAccountResult::LowReserve => "op_low_reserve",
            CreateAccountResult::AlreadyExist => "op_already_exists",
        },
        OperationResultTr::Payment(r) => match r {
            PaymentResult::Success => OP_SUCCESS,
            PaymentResult::Malformed => OP_MALFORMED,
            PaymentResult::Underfunded => "op_underfunded",
            PaymentResult::SrcNoTrust => "op_src_no_trust",
            PaymentResult::SrcNotAuthorized => "op_src_not_authorized",
            PaymentResult::NoDestination => "op_no_destination",
            PaymentResult::NoTrust => "op_no_trust",
            PaymentResult::NotAuthorized => "op_not_authorized",
            PaymentResult::LineFull => "op_line_full",
            PaymentResult::NoIssuer => "op_no_issuer",
        },
        OperationResultTr::SetOptions(r) => match r {
            SetOptionsResult::Success => OP_SUCCESS,
            SetOptionsResult::LowReserve => "op_low_reserve",
            SetOptionsResult::TooManySigners => "op_too_many_signers",
            SetOptionsResult::BadFlags => "op_bad_flags",
            SetOptionsResult::InvalidInflation => "op_invalid_inflation",
            SetOptionsResult::CantChange => "op_cant_change",
            SetOptionsResult::UnknownFlag => "op_unknown_flag",
            SetOptionsResult::ThresholdOutOfRange => "op_threshold_out_of_range",
            SetOptionsResult::BadSigner => "op_bad_signer",
            SetOptionsResult::InvalidHomeDomain => "op_invalid_home_domain",
            SetOptionsResult::AuthRevocableRequired => "op_auth_revocable_required",
        },
        OperationResultTr::ChangeTrust(r) => match r {
            ChangeTrustResult::Success => OP_SUCCESS,
            ChangeTrustResult::Malformed => OP_MALFORMED,
            ChangeTrustResult::NoIssuer => "op_no_issuer",
            ChangeTrustResult::InvalidLimit => "op_invalid_limit",
            ChangeTrustResult::LowReserve => "op_low_reserve",
            ChangeTrustResult::SelfNotAllowed => "op_self_not_allowed",
            ChangeTrustResult::TrustLineMissing => "op_trust_line_missing",
            ChangeTrustResult::CannotDelete => "op_cannot_delete",
            ChangeTrustResult::NotAuthMaintainLiabilities => "op_not_aut_maintain_liabilities",
        },
        OperationResultTr::AllowTrust(r) => match r {
            AllowTrustResult::Success => OP_SUCCESS,
            AllowTrustResult::Malformed => OP_MALFORMED,
            AllowTrustResult::NoTrustLine => "op_no_trust",
            AllowTrustResult::TrustNotRequired => "op_not_required",
            AllowTrustResult::CantRevoke => "op_cant_revoke",
            AllowTrustResult::SelfNotAllowed => "op_self_not_allowed",
            AllowTrustResult::LowReserve => "op_low_reserve",
        },
        OperationResultTr::AccountMerge(r) => match r {
            AccountMergeResult::Success(_) => OP_SUCCESS,
            AccountMergeResult::Malformed => OP_MALFORMED,
            AccountMergeResult::NoAccount => "op_no_account",
            AccountMergeResult::ImmutableSet => "op_immutable_set",
            AccountMergeResult::HasSubEntries => "op_has_sub_entries",
            AccountMergeResult::SeqnumTooFar => "op_seq_num_too_far",
            AccountMergeResult::DestFull => "op_dest_full",
            AccountMergeResult::IsSponsor => "op_is_sponsor",
        },
        OperationResultTr::ManageData(r) => match r {
            ManageDataResult::Success => OP_SUCCESS,
            ManageDataResult::NotSupportedYet => "op_not_supported_yet",
            ManageDataResult::NameNotFound => "op_data_name_not_found",
            ManageDataResult::LowReserve => "op_low_reserve",
            ManageDataResult::InvalidName => "op_data_invalid_name",
        },
        OperationResultTr::BumpSequence(r) => match r {
            BumpSequenceResult::Success => OP_SUCCESS,
            BumpSequenceResult::BadSeq => "op_bad_seq",
        },
        OperationResultTr::Clawback(r) => match r {
            ClawbackResult::Success => OP_SUCCESS,
            ClawbackResult::Malformed => OP_MALFORMED,
            ClawbackResult::NotClawbackEnabled => "op_not_clawback_enabled",
            ClawbackResult::NoTrust => "op_no_trust",
            ClawbackResult::Underfunded => "op_underfunded",
        },
        OperationResultTr::SetTrustLineFlags(r) => match r {
            SetTrustLineFlagsResult::Success => OP_SUCCESS,
            SetTrustLineFlagsResult::Malformed => OP_MALFORMED,
            SetTrustLineFlagsResult::NoTrustLine => "op_no_trust",
            SetTrustLineFlagsResult::CantRevoke => "op_cant_revoke",
            SetTrustLineFlagsResult::InvalidState => "op_invalid_state",
            SetTrustLineFlagsResult::LowReserve => "op_low_reserve",
        },
        // The sandbox never produces inner results for other operation types (they are answered
        // with the outer code opNOT_SUPPORTED); keep Horizon's generic spelling if one appears.
        _ => "op_inner",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected strings are the [computed]/[real] samples of the Horizon reference §10.5.
    #[test]
    fn encodes_reference_samples() {
        let r = tx_error(0, TransactionResultResult::TxBadSeq);
        assert_eq!(to_base64(&r).unwrap(), "AAAAAAAAAAD////7AAAAAA==");
        let r = tx_with_ops(
            100,
            false,
            vec![OperationResult::OpInner(OperationResultTr::Payment(
                PaymentResult::Success,
            ))],
        )
        .unwrap();
        assert_eq!(
            to_base64(&r).unwrap(),
            "AAAAAAAAAGQAAAAAAAAAAQAAAAAAAAABAAAAAAAAAAA="
        );
        let r = tx_with_ops(
            100,
            true,
            vec![OperationResult::OpInner(OperationResultTr::Payment(
                PaymentResult::Underfunded,
            ))],
        )
        .unwrap();
        assert_eq!(
            to_base64(&r).unwrap(),
            "AAAAAAAAAGT/////AAAAAQAAAAAAAAAB/////gAAAAA="
        );
        assert_eq!(op_codes(&r).unwrap(), vec!["op_underfunded"]);
        let r = tx_error(100, TransactionResultResult::TxBadAuth);
        assert_eq!(to_base64(&r).unwrap(), "AAAAAAAAAGT////6AAAAAA==");
        assert_eq!(tx_code(&r), "tx_bad_auth");
        assert!(op_codes(&r).is_none());
    }
}
