//! Transaction sets and ledger headers as stellar-core builds them: the generalized transaction set
//! (its XDR hash is the set's hash), the apply order (`TxSetFrame.cpp`,
//! `sortedForApplySequential`: each source account's transactions by sequence number, in batches,
//! each batch sorted by full hash XOR the set's hash), and the `LedgerHeader` whose XDR hash is the
//! ledger's hash.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};
use stellar_xdr::{
    GeneralizedTransactionSet, Hash, LedgerHeader, LedgerHeaderExt, Limits, ParallelTxsComponent,
    StellarValue, StellarValueExt, TimePoint, TransactionEnvelope, TransactionPhase,
    TransactionSetV1, TxSetComponent, TxSetComponentTxsMaybeDiscountedFee, WriteXdr,
};

use super::entries::{BASE_FEE, BASE_RESERVE, PROTOCOL_VERSION};
use super::LedgerError;

/// What the apply order needs of a transaction: its source account, sequence number and full
/// hash (the outer hash of a fee bump).
#[derive(Clone, Copy, Debug)]
pub(super) struct Ordered {
    pub(super) source: [u8; 32],
    pub(super) seq: i64,
    pub(super) hash: [u8; 32],
}

/// The generalized transaction set of a ledger (protocol ≥ 20): the classic phase with the
/// transactions sorted by full hash, and an empty Soroban phase.
pub(super) fn generalized_set(
    previous_ledger_hash: [u8; 32],
    txs: &[(TransactionEnvelope, [u8; 32])],
) -> Result<GeneralizedTransactionSet, LedgerError> {
    let mut sorted: Vec<&(TransactionEnvelope, [u8; 32])> = txs.iter().collect();
    sorted.sort_by_key(|t| t.1);
    let classic =
        TxSetComponent::TxsetCompTxsMaybeDiscountedFee(TxSetComponentTxsMaybeDiscountedFee {
            base_fee: Some(BASE_FEE),
            txs: sorted
                .into_iter()
                .map(|(env, _)| env.clone())
                .collect::<Vec<_>>()
                .try_into()?,
        });
    let components = if txs.is_empty() {
        Vec::new()
    } else {
        vec![classic]
    };
    Ok(GeneralizedTransactionSet::V1(TransactionSetV1 {
        previous_ledger_hash: Hash(previous_ledger_hash),
        phases: vec![
            TransactionPhase::V0(components.try_into()?),
            TransactionPhase::V1(ParallelTxsComponent {
                base_fee: None,
                execution_stages: Default::default(),
            }),
        ]
        .try_into()?,
    }))
}

/// SHA-256 of an XDR value.
pub(super) fn xdr_hash(value: &impl WriteXdr) -> Result<[u8; 32], LedgerError> {
    Ok(Sha256::digest(value.to_xdr(Limits::none())?).into())
}

fn less_than_xored(l: &[u8; 32], r: &[u8; 32], x: &[u8; 32]) -> bool {
    for i in 0..32 {
        let (a, b) = (l[i] ^ x[i], r[i] ^ x[i]);
        if a != b {
            return a < b;
        }
    }
    false
}

/// Indices of `txs` in stellar-core's apply order (`sortedForApplySequential`): batch *i* holds
/// the *i*-th transaction (by sequence number) of every source account, and each batch is sorted
/// by full hash XOR the set's hash, so no one can choose their place.
pub(super) fn apply_order(txs: &[Ordered], set_hash: &[u8; 32]) -> Vec<usize> {
    let mut by_source: BTreeMap<[u8; 32], Vec<usize>> = BTreeMap::new();
    for (i, t) in txs.iter().enumerate() {
        by_source.entry(t.source).or_default().push(i);
    }
    let mut queues: Vec<Vec<usize>> = by_source.into_values().collect();
    for q in &mut queues {
        q.sort_by_key(|i| txs.get(*i).map_or(0, |t| t.seq));
        q.reverse(); // pop from the back = lowest sequence first
    }
    let mut out = Vec::with_capacity(txs.len());
    loop {
        let mut batch: Vec<usize> = queues.iter_mut().filter_map(Vec::pop).collect();
        if batch.is_empty() {
            break;
        }
        batch.sort_by(|a, b| {
            let (ha, hb) = (
                txs.get(*a).map_or([0; 32], |t| t.hash),
                txs.get(*b).map_or([0; 32], |t| t.hash),
            );
            if less_than_xored(&ha, &hb, set_hash) {
                std::cmp::Ordering::Less
            } else if less_than_xored(&hb, &ha, set_hash) {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        });
        out.extend(batch);
    }
    out
}

/// The values of a ledger header that change from ledger to ledger.
pub(super) struct HeaderValues {
    pub(super) ledger_seq: u32,
    pub(super) previous_hash: [u8; 32],
    pub(super) tx_set_hash: [u8; 32],
    pub(super) tx_set_result_hash: [u8; 32],
    pub(super) close_time: u64,
    pub(super) total_coins: i64,
    pub(super) fee_pool: i64,
}

/// The ledger's `LedgerHeader` (no bucket list: its hash is zero; no upgrades, no skip list).
pub(super) fn ledger_header(v: &HeaderValues) -> LedgerHeader {
    LedgerHeader {
        ledger_version: PROTOCOL_VERSION,
        previous_ledger_hash: Hash(v.previous_hash),
        scp_value: StellarValue {
            tx_set_hash: Hash(v.tx_set_hash),
            close_time: TimePoint(v.close_time),
            upgrades: Default::default(),
            ext: StellarValueExt::Basic,
        },
        tx_set_result_hash: Hash(v.tx_set_result_hash),
        bucket_list_hash: Hash([0; 32]),
        ledger_seq: v.ledger_seq,
        total_coins: v.total_coins,
        fee_pool: v.fee_pool,
        inflation_seq: 0,
        id_pool: 0,
        base_fee: u32::try_from(BASE_FEE).unwrap_or(u32::MAX),
        base_reserve: u32::try_from(BASE_RESERVE).unwrap_or(u32::MAX),
        max_tx_set_size: 1000,
        skip_list: [Hash([0; 32]), Hash([0; 32]), Hash([0; 32]), Hash([0; 32])],
        ext: LedgerHeaderExt::V0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(source: u8, seq: i64, hash: u8) -> Ordered {
        Ordered {
            source: [source; 32],
            seq,
            hash: [hash; 32],
        }
    }

    // TxSetFrame.cpp, sortedForApplySequential: per-account sequence order across batches, and
    // within a batch the order of (full hash XOR set hash).
    #[test]
    fn apply_order_is_cores() {
        let txs = [t(1, 2, 0x10), t(1, 1, 0x20), t(2, 5, 0x30), t(3, 7, 0x01)];
        let zero = [0u8; 32];
        // batch 1: (1,seq 1,0x20), (2,0x30), (3,0x01) by hash; batch 2: (1, seq 2)
        assert_eq!(apply_order(&txs, &zero), vec![3, 1, 2, 0]);
        // XOR with 0x30 turns 0x30 into the smallest: 0x30^0x30=0, 0x20^0x30=0x10, 0x01^0x30=0x31
        assert_eq!(apply_order(&txs, &[0x30; 32]), vec![2, 1, 3, 0]);
    }
}
