//! Closing a ledger, as stellar-core's `LedgerManagerImpl::applyLedger`: the transaction set in
//! apply order (`txset`), every fee taken first (`processFeesSeqNums`), then each transaction
//! applied in turn (`applyTransactions`, `TransactionFrame::apply`), then the header, the ledger
//! record and the stored transactions with their results, meta and events.

use stellar_xdr::{
    FeeBumpTransactionInnerTx, LedgerEntryChanges, Limits, Transaction, TransactionEnvelope,
    TransactionEvent, TransactionResult, TransactionResultPair, TransactionResultSet, WriteXdr,
};

use super::apply::{remove_one_time_signer, TxApplied};
use super::entries::{muxed_bytes, Header, LedgerRecord, State, StoredTx, BASE_FEE};
use super::events::fee_event;
use super::txset::{self, HeaderValues, Ordered};
use super::{Closed, Ledger, LedgerError};
use crate::{meta, results};

/// A transaction for the next ledger: its envelope (V1 or fee bump; a V0 envelope is applied as
/// the V1 envelope it converts to), that envelope as base64 XDR, and its hash.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub env: TransactionEnvelope,
    pub envelope_xdr: String,
    pub hash: [u8; 32],
}

/// A closed ledger and its transactions in application order: persist it, then
/// [`Ledger::commit_ledger`] it.
#[derive(Clone, Debug)]
pub struct ClosedLedger {
    pub state: State,
    pub header: Header,
    pub record: LedgerRecord,
    pub txs: Vec<StoredTx>,
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

/// `base fee × max(1, operations + extra)` (a fee bump counts as one more operation).
pub(super) fn fee_for_ops(ops: usize, extra: usize) -> i64 {
    let n = i64::try_from(ops.saturating_add(extra)).unwrap_or(i64::MAX);
    BASE_FEE.saturating_mul(n.max(1))
}

/// `processFeeSeqNum`: charge `min(offered, minimum)` (the sandbox never surges), never more
/// than the payer holds, even below its reserve; returns the fee.
fn charge_fee(state: &mut State, payer: [u8; 32], offered: i64, minimum: i64) -> i64 {
    let mut fee = offered.min(minimum).max(0);
    if let Some(acc) = state.accounts.get_mut(&payer) {
        fee = fee.min(acc.balance).max(0);
        acc.balance -= fee;
    } else {
        fee = 0;
    }
    fee
}

/// One transaction of the set, unpacked.
struct Member<'a> {
    candidate: &'a Candidate,
    /// The (inner) transaction, its signatures and its hash.
    tx: Transaction,
    sigs: Vec<stellar_xdr::DecoratedSignature>,
    tx_hash: [u8; 32],
    /// Fee bump: (fee source, outer fee).
    bump: Option<([u8; 32], i64)>,
}

impl<'a> Member<'a> {
    fn new(candidate: &'a Candidate) -> Member<'a> {
        match &candidate.env {
            TransactionEnvelope::TxFeeBump(fb) => {
                let FeeBumpTransactionInnerTx::Tx(inner) = &fb.tx.inner_tx;
                Member {
                    candidate,
                    tx: inner.tx.clone(),
                    sigs: inner.signatures.to_vec(),
                    tx_hash: [0; 32], // set by the caller, which knows the network
                    bump: Some((muxed_bytes(&fb.tx.fee_source), fb.tx.fee)),
                }
            }
            env => {
                let v1 = airgap::envelope::inner_v1(env);
                Member {
                    candidate,
                    tx: v1.tx,
                    sigs: v1.signatures.to_vec(),
                    tx_hash: candidate.hash,
                    bump: None,
                }
            }
        }
    }

    fn ops(&self) -> usize {
        self.tx.operations.len()
    }

    fn payer(&self) -> [u8; 32] {
        self.bump
            .map_or_else(|| muxed_bytes(&self.tx.source_account), |(p, _)| p)
    }

    /// `(offered, minimum)` fee.
    fn fee(&self) -> (i64, i64) {
        match self.bump {
            Some((_, outer)) => (outer, fee_for_ops(self.ops(), 1)),
            None => (i64::from(self.tx.fee), fee_for_ops(self.ops(), 0)),
        }
    }
}

impl Ledger {
    /// Close the next ledger at `close_time` (never before the last close) with `txs`, as
    /// stellar-core applies a transaction set: apply order, all fees first, then each
    /// transaction validated again and applied (failures keep the fee; a transaction that
    /// passed its sequence check consumes its sequence number). `txs` are taken as they are:
    /// choosing them (the queue, `checkValid` at admission) is the caller's.
    pub fn close_ledger(
        &self,
        txs: &[Candidate],
        close_time: u64,
    ) -> Result<ClosedLedger, LedgerError> {
        let next_seq = self
            .header
            .ledger_seq
            .checked_add(1)
            .ok_or(LedgerError::LedgerSequenceExhausted)?;
        let at = Closing {
            next_seq,
            close_time: close_time.max(self.header.close_time),
        };
        let network = airgap::network::Network::from_passphrase(&self.passphrase);
        let mut members: Vec<Member<'_>> = txs.iter().map(Member::new).collect();
        for m in &mut members {
            if m.bump.is_some() {
                m.tx_hash = airgap::envelope::tx_hash(&m.tx, &network);
            }
        }
        let set_envs: Vec<(TransactionEnvelope, [u8; 32])> =
            txs.iter().map(|c| (c.env.clone(), c.hash)).collect();
        let tx_set = txset::generalized_set(self.header.hash, &set_envs)?;
        let tx_set_hash = txset::xdr_hash(&tx_set)?;
        let ordered: Vec<Ordered> = members
            .iter()
            .map(|m| Ordered {
                source: muxed_bytes(&m.tx.source_account),
                seq: m.tx.seq_num.0,
                hash: m.candidate.hash,
            })
            .collect();
        let order = txset::apply_order(&ordered, &tx_set_hash);

        // fees first, in apply order
        let mut state = self.state.clone();
        let mut fees = Vec::with_capacity(order.len());
        for &i in &order {
            let Some(m) = members.get(i) else { continue };
            let before = state.clone();
            let (offered, minimum) = m.fee();
            let charged = charge_fee(&mut state, m.payer(), offered, minimum);
            let changes = settle(&before, &mut state, at)?;
            let event = fee_event(self.network_id, m.payer(), charged)?;
            fees.push((charged, changes, event));
        }

        // then each transaction
        let mut stored = Vec::with_capacity(order.len());
        let mut pairs = Vec::with_capacity(order.len());
        let mut fee_total: i64 = 0;
        for (n, (&i, (charged, fee_changes, fee_ev))) in order.iter().zip(fees).enumerate() {
            let Some(m) = members.get(i) else { continue };
            fee_total = fee_total.saturating_add(charged);
            let pre = state.clone();
            if m.bump.is_some() {
                remove_one_time_signer(&mut state, m.payer(), m.candidate.hash);
            }
            let applied = self.apply_tx(
                &mut state,
                &pre,
                &m.tx,
                &m.sigs,
                m.tx_hash,
                m.bump.is_none(),
                at,
            )?;
            let order_no = u32::try_from(n + 1).unwrap_or(u32::MAX);
            let (tx, result) =
                self.stored_tx(m, applied, charged, fee_changes, fee_ev, order_no, at)?;
            pairs.push(TransactionResultPair {
                transaction_hash: stellar_xdr::Hash(m.candidate.hash),
                result,
            });
            stored.push(tx);
        }

        let mut header = self.header.clone();
        header.fee_pool = header.fee_pool.saturating_add(fee_total);
        state.stamp_changes(&self.state, next_seq, at.close_time);
        let results_set = TransactionResultSet {
            results: pairs.try_into()?,
        };
        let values = HeaderValues {
            ledger_seq: next_seq,
            previous_hash: self.header.hash,
            tx_set_hash,
            tx_set_result_hash: txset::xdr_hash(&results_set)?,
            close_time: at.close_time,
            total_coins: header.total_coins,
            fee_pool: header.fee_pool,
        };
        let ledger_header = txset::ledger_header(&values);
        let header_xdr = ledger_header.to_xdr_base64(Limits::none())?;
        let ledger_hash = txset::xdr_hash(&ledger_header)?;
        let ops = |t: &StoredTx| u32::try_from(t.operation_count).unwrap_or(u32::MAX);
        let record = LedgerRecord {
            sequence: next_seq,
            hash: ledger_hash,
            prev_hash: self.header.hash,
            close_time: at.close_time,
            successful_transaction_count: count(stored.iter().filter(|t| t.successful)),
            failed_transaction_count: count(stored.iter().filter(|t| !t.successful)),
            operation_count: stored.iter().filter(|t| t.successful).map(ops).sum(),
            tx_set_operation_count: stored.iter().map(ops).sum(),
            fee_pool: header.fee_pool,
            total_coins: header.total_coins,
            header_xdr,
            tx_set_hash,
        };
        header.ledger_seq = next_seq;
        header.close_time = at.close_time;
        header.hash = ledger_hash;
        Ok(ClosedLedger {
            state,
            header,
            record,
            txs: stored,
        })
    }

    /// Accept a ledger closed by [`Ledger::close_ledger`] (after it was persisted).
    pub fn commit_ledger(&mut self, closed: &ClosedLedger) {
        self.state = closed.state.clone();
        self.header = closed.header.clone();
    }

    /// The stored transaction: its result (a fee bump's around its inner one), meta and events.
    #[allow(clippy::too_many_arguments)]
    fn stored_tx(
        &self,
        m: &Member<'_>,
        applied: TxApplied,
        charged: i64,
        fee_changes: LedgerEntryChanges,
        fee_ev: TransactionEvent,
        application_order: u32,
        at: Closing,
    ) -> Result<(StoredTx, TransactionResult), LedgerError> {
        let TxApplied {
            outcome,
            meta,
            events,
        } = applied;
        let own = |fee: i64| -> Result<TransactionResult, LedgerError> {
            Ok(match &outcome {
                Err(code) => results::tx_error(fee, code.clone()),
                Ok((failed, ops)) => results::tx_with_ops(fee, *failed, ops.clone())?,
            })
        };
        let success = matches!(outcome, Ok((false, _)));
        let result = match m.bump {
            None => own(charged)?,
            Some(_) => {
                let inner_fee = i64::from(m.tx.fee).min(fee_for_ops(m.ops(), 0));
                results::fee_bump(charged, success, m.tx_hash, own(inner_fee)?)?
            }
        };
        let op_events = events
            .iter()
            .map(|evs| {
                evs.iter()
                    .map(|e| e.to_xdr_base64(Limits::none()))
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let stored = StoredTx {
            hash: m.candidate.hash,
            inner_hash: m.bump.map(|_| m.tx_hash),
            ledger: at.next_seq,
            close_time: at.close_time,
            envelope_xdr: m.candidate.envelope_xdr.clone(),
            result_xdr: results::to_base64(&result)?,
            result_meta_xdr: meta.to_xdr_base64(Limits::none())?,
            fee_meta_xdr: fee_changes.to_xdr_base64(Limits::none())?,
            successful: success,
            fee_charged: charged,
            application_order,
            operation_count: m.ops(),
            op_events,
            tx_events: vec![fee_ev.to_xdr_base64(Limits::none())?],
        };
        Ok((stored, result))
    }

    /// The one-transaction ledger of [`Ledger::evaluate`].
    pub(super) fn close_one(
        &self,
        candidate: Candidate,
        close_time: u64,
    ) -> Result<Closed, LedgerError> {
        let closed = self.close_ledger(std::slice::from_ref(&candidate), close_time)?;
        let ClosedLedger {
            state,
            header,
            record,
            mut txs,
        } = closed;
        let tx = txs.pop().ok_or(LedgerError::EmptyLedger)?;
        Ok(Closed {
            state,
            header,
            record,
            tx,
        })
    }
}

fn count<T>(it: impl Iterator<Item = T>) -> u32 {
    u32::try_from(it.count()).unwrap_or(u32::MAX)
}
