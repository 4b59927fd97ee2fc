//! Transaction results: the stellar-xdr `TransactionResult` values the ledger produces and their
//! base64 XDR. Horizon's strings for them are the library's (`airgap::horizon::codes`).

use stellar_xdr::{
    Hash, InnerTransactionResult, InnerTransactionResultExt, InnerTransactionResultPair,
    InnerTransactionResultResult, Limits, OperationResult, TransactionResult, TransactionResultExt,
    TransactionResultResult, VecM, WriteXdr,
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

/// Base64 XDR of a `TransactionResult`.
pub fn to_base64(result: &TransactionResult) -> Result<String, ResultsError> {
    Ok(result.to_xdr_base64(Limits::none())?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use airgap::horizon::codes::ResultCodes;
    use stellar_xdr::{OperationResultTr, PaymentResult};

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
        assert_eq!(ResultCodes::of(&r).operations, vec!["op_underfunded"]);
        let r = tx_error(100, TransactionResultResult::TxBadAuth);
        assert_eq!(to_base64(&r).unwrap(), "AAAAAAAAAGT////6AAAAAA==");
        assert_eq!(ResultCodes::of(&r).transaction, "tx_bad_auth");
        assert!(ResultCodes::of(&r).operations.is_empty());
    }
}
