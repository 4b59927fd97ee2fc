//! The transaction queue, as stellar-core's `TransactionQueue` (`TransactionQueue.cpp`,
//! `canAdd`/`tryAdd`) and the nomination that empties it into the next ledger
//! (`HerderImpl::triggerNextLedger`, `TxSetUtils::trimInvalid`).
//!
//! Admission, in core's order: a banned hash is `TRY_AGAIN_LATER`; a negative fee is
//! `txMALFORMED`; when the source account already has a transaction queued, the same one (or a
//! fee bump's inner transaction) is `DUPLICATE`, a lower sequence number `txBAD_SEQ`, anything but
//! a fee bump of the same sequence number `TRY_AGAIN_LATER` (one transaction per source account),
//! and that fee bump must offer ten times the queued fee per operation or is `txINSUFFICIENT_FEE`
//! (replace-by-fee, `FEE_MULTIPLIER`); then `checkValid` against the last closed ledger (lower
//! close-time offset 0, upper `getUpperBoundCloseTimeOffset`, ledger bounds for the next ledger);
//! then the fee source must afford this fee on top of the fees it already has queued
//! (`txINSUFFICIENT_BALANCE`).
//!
//! Nomination takes every queued transaction that is still valid against the last closed ledger
//! with both offsets set to the next close time minus the last, and whose fee source can pay all
//! its queued fees; the rest are dropped and banned for [`BAN_LEDGERS`] ledgers. The sandbox
//! has no ledger capacity limit and never surges, so nothing else stays behind.

use std::collections::HashMap;

use stellar_xdr::{TransactionEnvelope, TransactionResult, TransactionResultResult};

use crate::ledger::{
    available_balance, fee_for, muxed_bytes, Candidate, CheckAt, Ledger, LedgerError,
};
use crate::results;

/// stellar-core's `FEE_MULTIPLIER`: a replacing fee bump pays ten times the fee per operation.
pub const FEE_MULTIPLIER: i128 = 10;
/// stellar-core's `TRANSACTION_QUEUE_BAN_LEDGERS` default: how long a dropped transaction stays
/// banned.
pub const BAN_LEDGERS: u32 = 10;

/// Core's answer to a submission (`TransactionQueue::AddResultCode`, as `/tx` names it).
#[derive(Clone, Debug, PartialEq)]
pub enum Admission {
    Pending,
    Duplicate,
    TryAgainLater,
    Error(TransactionResult),
}

impl Admission {
    /// The status string of stellar-core's `/tx` and of RPC's `sendTransaction`.
    pub fn status(&self) -> &'static str {
        match self {
            Admission::Pending => "PENDING",
            Admission::Duplicate => "DUPLICATE",
            Admission::TryAgainLater => "TRY_AGAIN_LATER",
            Admission::Error(_) => "ERROR",
        }
    }
}

/// A queued transaction and what admission needs of it.
#[derive(Clone, Debug)]
struct Queued {
    candidate: Candidate,
    seq: i64,
    fee_source: [u8; 32],
    /// The full fee it offers (the outer fee of a fee bump).
    fee: i64,
    /// Operations, a fee bump counting one more.
    ops: i64,
    /// The inner transaction's hash of a fee bump.
    inner_hash: Option<[u8; 32]>,
    is_fee_bump: bool,
}

/// What admission reads of an envelope.
fn describe(candidate: &Candidate, ledger: &Ledger) -> Queued {
    let env = &candidate.env;
    let tx = airgap::envelope::transaction(env);
    let (fee_source, fee, ops, inner_hash, is_fee_bump) = match env {
        TransactionEnvelope::TxFeeBump(fb) => (
            muxed_bytes(&fb.tx.fee_source),
            fb.tx.fee,
            i64::try_from(tx.operations.len()).unwrap_or(i64::MAX) + 1,
            Some(airgap::envelope::tx_hash(&tx, &ledger.network())),
            true,
        ),
        _ => (
            muxed_bytes(&tx.source_account),
            i64::from(tx.fee),
            i64::try_from(tx.operations.len()).unwrap_or(i64::MAX),
            None,
            false,
        ),
    };
    Queued {
        candidate: candidate.clone(),
        seq: tx.seq_num.0,
        fee_source,
        fee,
        ops: ops.max(1),
        inner_hash,
        is_fee_bump,
    }
}

/// The queue: at most one transaction per source account.
#[derive(Debug, Default)]
pub struct Queue {
    by_source: HashMap<[u8; 32], Queued>,
    /// Hash → the last closed ledger until which it stays banned.
    banned: HashMap<[u8; 32], u32>,
}

impl Queue {
    pub fn is_empty(&self) -> bool {
        self.by_source.is_empty()
    }

    pub fn len(&self) -> usize {
        self.by_source.len()
    }

    /// Whether a transaction with this hash (or inner hash) is queued.
    pub fn contains(&self, hash: &[u8; 32]) -> bool {
        self.by_source
            .values()
            .any(|q| q.candidate.hash == *hash || q.inner_hash == Some(*hash))
    }

    /// Fees queued for `fee_source`, without the transaction of `except_source`.
    fn queued_fees(&self, fee_source: [u8; 32], except_source: Option<[u8; 32]>) -> i64 {
        self.by_source
            .iter()
            .filter(|(src, q)| q.fee_source == fee_source && Some(**src) != except_source)
            .map(|(_, q)| q.fee)
            .sum()
    }

    /// `TransactionQueue::tryAdd`, against the last closed ledger `ledger`, with `upper_offset`
    /// (`getUpperBoundCloseTimeOffset`) on its close time.
    pub fn try_add(
        &mut self,
        ledger: &Ledger,
        candidate: Candidate,
        lower_offset: u64,
        upper_offset: u64,
    ) -> Result<Admission, LedgerError> {
        if self.banned.contains_key(&candidate.hash) {
            return Ok(Admission::TryAgainLater);
        }
        let new = describe(&candidate, ledger);
        let error = |code| Admission::Error(results::tx_error(fee_for(new_ops(&new)), code));
        if new.fee < 0 {
            return Ok(error(TransactionResultResult::TxMalformed));
        }
        let tx = airgap::envelope::transaction(&candidate.env);
        let source = muxed_bytes(&tx.source_account);
        let mut replaces = false;
        if let Some(current) = self.by_source.get(&source) {
            let duplicate = current.candidate.hash == candidate.hash
                || (current.is_fee_bump && current.inner_hash == Some(candidate.hash));
            if duplicate {
                return Ok(Admission::Duplicate);
            }
            if new.seq < current.seq {
                return Ok(error(TransactionResultResult::TxBadSeq));
            }
            if !new.is_fee_bump || new.seq != current.seq {
                return Ok(Admission::TryAgainLater);
            }
            // canReplaceByFee: newFee * oldOps >= FEE_MULTIPLIER * oldFee * newOps
            let needed = FEE_MULTIPLIER * i128::from(current.fee) * i128::from(new.ops);
            if i128::from(new.fee) * i128::from(current.ops) < needed {
                let old_ops = i128::from(current.ops);
                let min_fee = i64::try_from((needed + old_ops - 1) / old_ops).unwrap_or(i64::MAX);
                return Ok(Admission::Error(results::tx_error(
                    min_fee,
                    TransactionResultResult::TxInsufficientFee,
                )));
            }
            replaces = true;
        }
        let at = CheckAt::last_closed(
            ledger.header.ledger_seq,
            ledger.header.close_time,
            lower_offset,
            upper_offset,
        );
        if let Some(invalid) = ledger.check_valid(&candidate.env, candidate.hash, at)? {
            return Ok(Admission::Error(invalid));
        }
        let queued = self.queued_fees(new.fee_source, replaces.then_some(source));
        let affordable = ledger
            .state
            .accounts
            .get(&new.fee_source)
            .is_some_and(|acc| available_balance(acc) - new.fee >= queued);
        if !affordable {
            return Ok(error(TransactionResultResult::TxInsufficientBalance));
        }
        self.by_source.insert(source, new);
        Ok(Admission::Pending)
    }

    /// Empty the queue into the next ledger closing at `next_close`: the transactions still valid
    /// (`trimInvalid` with both offsets `next_close - last close`) whose fee sources can pay all
    /// their fees; the others are banned. Sorted by hash, as a transaction set holds them.
    pub fn take_for_ledger(
        &mut self,
        ledger: &Ledger,
        next_close: u64,
    ) -> Result<Vec<Candidate>, LedgerError> {
        let lcl = &ledger.header;
        let offset = next_close.saturating_sub(lcl.close_time);
        let at = CheckAt::last_closed(lcl.ledger_seq, lcl.close_time, offset, offset);
        let mut valid: Vec<Queued> = Vec::new();
        for (_, q) in self.by_source.drain() {
            if ledger
                .check_valid(&q.candidate.env, q.candidate.hash, at)?
                .is_none()
            {
                valid.push(q);
            } else {
                self.banned
                    .insert(q.candidate.hash, lcl.ledger_seq.saturating_add(BAN_LEDGERS));
            }
        }
        let mut totals: HashMap<[u8; 32], i64> = HashMap::new();
        for q in &valid {
            *totals.entry(q.fee_source).or_default() += q.fee;
        }
        let mut out = Vec::with_capacity(valid.len());
        for q in valid {
            let total = totals.get(&q.fee_source).copied().unwrap_or(0);
            let pays = ledger
                .state
                .accounts
                .get(&q.fee_source)
                .is_some_and(|acc| available_balance(acc) >= total);
            if pays {
                out.push(q.candidate);
            } else {
                self.banned
                    .insert(q.candidate.hash, lcl.ledger_seq.saturating_add(BAN_LEDGERS));
            }
        }
        out.sort_by_key(|c| c.hash);
        Ok(out)
    }

    /// After ledger `closed_seq` closed: bans that ran out are lifted.
    pub fn after_close(&mut self, closed_seq: u32) {
        self.banned.retain(|_, until| *until >= closed_seq);
    }
}

fn new_ops(q: &Queued) -> usize {
    usize::try_from(q.ops).unwrap_or(usize::MAX)
}
