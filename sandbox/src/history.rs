//! The history the sandbox serves (Horizon's history database, RPC's retention window): closed
//! ledgers and their transactions, indexed by hash and by TOID (Horizon's paging tokens and RPC's
//! cursors), with the oldest ledgers dropped past `--retain-ledgers`.

use std::collections::HashMap;

use crate::ledger::{ClosedLedger, LedgerRecord, StoredTx};
use crate::store::Pruned;

/// A TOID (Horizon's `toid`, RPC's cursors): ledger sequence, transaction order from 1, operation
/// order from 1 (0 for the transaction itself).
pub fn toid(ledger: u32, tx_order: u32, op_order: u32) -> i64 {
    (i64::from(ledger) << 32) | (i64::from(tx_order & 0xF_FFFF) << 12) | i64::from(op_order & 0xFFF)
}

/// `(ledger, transaction order, operation order)` of a TOID.
pub fn parse_toid(id: i64) -> (u32, u32, u32) {
    let ledger = u32::try_from(id >> 32).unwrap_or(0);
    let tx = u32::try_from((id >> 12) & 0xF_FFFF).unwrap_or(0);
    let op = u32::try_from(id & 0xFFF).unwrap_or(0);
    (ledger, tx, op)
}

/// Closed ledgers and transactions, oldest first.
#[derive(Debug, Default)]
pub struct History {
    /// By hash: a fee bump under its outer and its inner hash.
    txs: HashMap<[u8; 32], StoredTx>,
    /// `(TOID, hash)` of every transaction, ascending.
    order: Vec<(i64, [u8; 32])>,
    /// The retained ledgers, ascending.
    ledgers: Vec<LedgerRecord>,
    /// How many ledgers to keep (`None`: all).
    retain: Option<u32>,
}

impl History {
    pub fn new(
        txs: HashMap<[u8; 32], StoredTx>,
        ledgers: Vec<LedgerRecord>,
        retain: Option<u32>,
    ) -> History {
        let mut order: Vec<(i64, [u8; 32])> = txs
            .iter()
            .filter(|(h, tx)| **h == tx.hash)
            .map(|(_, tx)| (toid(tx.ledger, tx.order(), 0), tx.hash))
            .collect();
        order.sort();
        History {
            txs,
            order,
            ledgers,
            retain,
        }
    }

    /// A transaction by hash (outer or inner).
    pub fn tx(&self, hash: &[u8; 32]) -> Option<&StoredTx> {
        self.txs.get(hash)
    }

    pub fn contains(&self, hash: &[u8; 32]) -> bool {
        self.txs.contains_key(hash)
    }

    /// Transactions with a TOID above `after`, ascending.
    pub fn txs_after(&self, after: i64) -> impl Iterator<Item = &StoredTx> + '_ {
        let start = self.order.partition_point(|(t, _)| *t <= after);
        self.order
            .get(start..)
            .unwrap_or_default()
            .iter()
            .filter_map(move |(_, h)| self.txs.get(h))
    }

    /// Transactions with a TOID below `before`, descending.
    pub fn txs_before(&self, before: i64) -> impl Iterator<Item = &StoredTx> + '_ {
        let end = self.order.partition_point(|(t, _)| *t < before);
        self.order
            .get(..end)
            .unwrap_or_default()
            .iter()
            .rev()
            .filter_map(move |(_, h)| self.txs.get(h))
    }

    /// The transactions of one ledger, in apply order.
    pub fn txs_in(&self, ledger: u32) -> impl Iterator<Item = &StoredTx> + '_ {
        self.txs_after(toid(ledger, 0, 0))
            .take_while(move |tx| tx.ledger == ledger)
    }

    pub fn ledgers(&self) -> &[LedgerRecord] {
        &self.ledgers
    }

    pub fn ledger(&self, seq: u32) -> Option<&LedgerRecord> {
        let i = self.ledgers.partition_point(|r| r.sequence < seq);
        self.ledgers.get(i).filter(|r| r.sequence == seq)
    }

    /// The oldest ledger still held (Horizon's `history_elder_ledger`, RPC's `oldestLedger`).
    pub fn elder(&self) -> u32 {
        self.ledgers.first().map_or(1, |r| r.sequence)
    }

    pub fn latest(&self) -> Option<&LedgerRecord> {
        self.ledgers.last()
    }

    /// The configured window, if any.
    pub fn retain(&self) -> Option<u32> {
        self.retain
    }

    /// What falls out of the window once `closed` is added.
    pub fn pruned_by(&self, closed: &ClosedLedger) -> Pruned {
        let Some(retain) = self.retain.filter(|r| *r > 0) else {
            return Pruned::default();
        };
        let keep_from = closed.record.sequence.saturating_sub(retain - 1).max(1);
        if self.elder() >= keep_from {
            return Pruned::default();
        }
        let cut = toid(keep_from, 0, 0);
        let end = self.order.partition_point(|(t, _)| *t < cut);
        Pruned {
            ledgers_below: Some(keep_from),
            txs: self
                .order
                .get(..end)
                .unwrap_or_default()
                .iter()
                .map(|(_, h)| *h)
                .collect(),
        }
    }

    /// Add a closed ledger (after it was persisted) and drop what `pruned` names.
    pub fn add(&mut self, closed: &ClosedLedger, pruned: &Pruned) {
        for tx in &closed.txs {
            self.order.push((toid(tx.ledger, tx.order(), 0), tx.hash));
            if let Some(inner) = tx.inner_hash {
                self.txs.insert(inner, tx.clone());
            }
            self.txs.insert(tx.hash, tx.clone());
        }
        self.ledgers.push(closed.record.clone());
        if let Some(below) = pruned.ledgers_below {
            let n = self.ledgers.partition_point(|r| r.sequence < below);
            self.ledgers.drain(..n);
            let cut = toid(below, 0, 0);
            let n = self.order.partition_point(|(t, _)| *t < cut);
            for (_, hash) in self.order.drain(..n) {
                if let Some(tx) = self.txs.remove(&hash) {
                    if let Some(inner) = tx.inner_hash {
                        self.txs.remove(&inner);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toids_round_trip() {
        // The paging tokens of two real transactions (Horizon reference §2.4 and §4): ledger
        // 27963785, 8th transaction; ledger 139575, 2nd.
        assert_eq!(toid(27963785, 8, 0), 120103542047408128);
        assert_eq!(toid(139575, 2, 0), 599470060347392);
        assert_eq!(parse_toid(toid(77, 5, 3)), (77, 5, 3));
    }
}
