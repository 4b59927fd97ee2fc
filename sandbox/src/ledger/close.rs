//! Fees and closing: what a transaction is charged, and the next ledger closed by it (header,
//! record, stored transaction and its meta).

use sha2::{Digest, Sha256};
use stellar_xdr::{
    LedgerEntryChanges, Limits, OperationResult, Transaction, TransactionMeta, TransactionResult,
    TransactionResultResult, WriteXdr,
};

use super::apply::remove_one_time_signer;
use super::entries::{LedgerRecord, State, StoredTx, BASE_FEE};
use super::{Closed, Ledger, LedgerError, Verdict};
use crate::{meta, results};

/// A rejection before the ledger: nothing is charged or stored (`fee` is what the result reports).
pub(super) fn rejected(fee: i64, code: TransactionResultResult) -> Result<Verdict, LedgerError> {
    Ok(Verdict::Rejected(results::tx_error(fee, code)))
}

/// A transaction applied to a copy of the state, before its ledger is closed.
pub(super) struct Applied {
    state: State,
    result: TransactionResult,
    fee: i64,
    failed: bool,
    fee_changes: LedgerEntryChanges,
    meta: TransactionMeta,
}

/// Stamp `last_modified_*` on what changed since `before`, and return the changes as XDR.
pub(super) fn settle(
    before: &State,
    after: &mut State,
    at: Closing,
) -> Result<LedgerEntryChanges, LedgerError> {
    after.stamp_changes(before, at.next_seq, at.close_time);
    Ok(meta::changes(before, after)?)
}

/// The ledger being closed.
#[derive(Clone, Copy, Debug)]
pub(super) struct Closing {
    pub(super) next_seq: u32,
    pub(super) close_time: u64,
}

/// Who pays for a transaction, and how much: `min(offered, minimum)`, never more than the payer
/// holds. For a fee bump, the hash of the fee bump itself, whose one-time signer on the payer is
/// consumed.
pub(super) struct Fee {
    pub(super) payer: [u8; 32],
    pub(super) offered: i64,
    pub(super) minimum: i64,
    pub(super) fee_bump_hash: Option<[u8; 32]>,
}

/// `base fee × max(1, operations + extra)` (a fee bump counts as one more operation).
pub(super) fn fee_for_ops(ops: usize, extra: usize) -> i64 {
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

impl Ledger {
    /// Charge the fee, then apply `tx` (hash `tx_hash`) on a copy of the state; `result` makes the
    /// transaction's result from the fee charged, whether it failed, and the operations' results.
    pub(super) fn pay_and_apply(
        &self,
        fee: Fee,
        tx: &Transaction,
        tx_hash: [u8; 32],
        at: Closing,
        result: impl FnOnce(i64, bool, Vec<OperationResult>) -> Result<TransactionResult, LedgerError>,
    ) -> Result<Applied, LedgerError> {
        let mut state = self.state.clone();
        let charged = charge_fee(&mut state, fee.payer, fee.offered, fee.minimum);
        let fee_changes = settle(&self.state, &mut state, at)?;
        let pre = state.clone();
        if let Some(hash) = fee.fee_bump_hash {
            remove_one_time_signer(&mut state, fee.payer, hash);
        }
        let (failed, ops, meta) = self.apply_tx(&mut state, &pre, tx, tx_hash, at)?;
        Ok(Applied {
            state,
            result: result(charged, failed, ops)?,
            fee: charged,
            failed,
            fee_changes,
            meta,
        })
    }

    /// Close the next ledger with this one transaction.
    pub(super) fn close(
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
}
