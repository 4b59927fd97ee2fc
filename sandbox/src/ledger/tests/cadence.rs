//! stellar-core's rules for a ledger that closes on a clock with a transaction queue: each test
//! names the stellar-core source file (stellar/stellar-core, `src/`) whose rule it holds the
//! sandbox to. Expected codes are core's; nothing here was produced by running this code first.

use super::*;
use crate::admission::as_core_keeps;
use crate::clock::upper_offset;
use crate::queue::{Admission, Queue};
use std::time::Duration;

/// A candidate for the queue or a ledger.
fn candidate(env: TransactionEnvelope, hash: [u8; 32]) -> Candidate {
    Candidate {
        envelope_xdr: airgap::envelope::encode(&env),
        env,
        hash,
    }
}

impl World {
    /// Close the next ledger with `txs` at `close_time` and commit it.
    fn close(&mut self, txs: &[Candidate], close_time: u64) -> ClosedLedger {
        let closed = self.ledger.close_ledger(txs, close_time).unwrap();
        self.ledger.commit_ledger(&closed);
        closed
    }

    /// Bump `k`'s sequence number to `to` in a ledger of its own.
    fn bump_to(&mut self, k: &SigningKey, to: i64) {
        let v = self.submit(
            k,
            vec![op(
                None,
                OperationBody::BumpSequence(BumpSequenceOp {
                    bump_to: SequenceNumber(to),
                }),
            )],
            &[k],
        );
        assert_eq!(codes(&v), ("tx_success", vec!["op_success"]));
    }

    fn pay_tx(&self, from: &SigningKey, seq: i64, fee: u32, cond: Preconditions) -> Tx {
        Tx {
            source: from.clone(),
            seq,
            fee,
            cond,
            ops: vec![op(None, payment(&key(9), Asset::Native, XLM))],
        }
    }
}

fn result_codes(r: &TransactionResult) -> (String, Vec<String>) {
    let c = ResultCodes::of(r);
    (c.transaction, c.operations)
}

fn stored_codes(tx: &StoredTx) -> (String, Vec<String>) {
    result_codes(&TransactionResult::from_xdr_base64(&tx.result_xdr, Limits::none()).unwrap())
}

fn lcl(w: &World) -> CheckAt {
    CheckAt::last_closed(
        w.ledger.header.ledger_seq,
        w.ledger.header.close_time,
        0,
        10,
    )
}

// TransactionFrame.cpp, isBadSeq: a sequence number equal to the starting sequence of the
// ledger whose header is read is bad; admission (TransactionQueue.cpp, canAdd) reads the last
// closed ledger's header.
#[test]
fn starting_sequence_of_the_last_closed_ledger_is_bad_at_admission() {
    let mut w = World::new();
    let a = key(1);
    w.fund(&a, 100 * XLM); // ledger 2
    w.fund(&key(9), 100 * XLM); // ledger 3
    let lcl_seq = i64::from(w.ledger.header.ledger_seq) + 1; // the bump closes ledger 4
    w.bump_to(&a, (lcl_seq << 32) - 1);
    assert_eq!(w.ledger.header.ledger_seq, 4);
    let (env, hash) = sign(
        &w.ledger,
        w.pay_tx(&a, 4i64 << 32, 100, Preconditions::None),
        &[&a],
    );
    let r = w.ledger.check_valid(&env, hash, lcl(&w)).unwrap().unwrap();
    assert_eq!(result_codes(&r), ("tx_bad_seq".into(), vec![]));
    let mut q = Queue::default();
    let adm = q
        .try_add(
            &w.ledger,
            candidate(env, hash),
            0,
            upper_offset(Duration::from_secs(5), NOW, NOW),
        )
        .unwrap();
    assert!(matches!(adm, Admission::Error(r) if ResultCodes::of(&r).transaction == "tx_bad_seq"));
    assert!(q.is_empty());
}

// TransactionFrame.cpp (isBadSeq read at apply against the new header; commonPreApply) and
// LedgerManagerImpl.cpp (processFeesSeqNums before applyTransactions): a sequence number equal
// to the next ledger's starting sequence passes admission, then fails in the ledger with
// tx_bad_seq, its fee charged and its sequence number not consumed.
#[test]
fn next_ledger_starting_sequence_is_admitted_then_fails_with_the_fee_charged() {
    let mut w = World::new();
    let a = key(1);
    w.fund(&a, 100 * XLM); // ledger 2
    w.fund(&key(9), 100 * XLM); // ledger 3
    w.bump_to(&a, (5i64 << 32) - 1); // ledger 4
    let seq = 5i64 << 32;
    let (env, hash) = sign(
        &w.ledger,
        w.pay_tx(&a, seq, 100, Preconditions::None),
        &[&a],
    );
    assert!(w.ledger.check_valid(&env, hash, lcl(&w)).unwrap().is_none());
    let mut q = Queue::default();
    let adm = q.try_add(&w.ledger, candidate(env, hash), 0, 10).unwrap();
    assert_eq!(adm, Admission::Pending);
    let balance = w.acc(&a).balance;
    let txs = q.take_for_ledger(&w.ledger, NOW).unwrap();
    assert_eq!(txs.len(), 1);
    let closed = w.close(&txs, NOW);
    assert_eq!(closed.record.sequence, 5);
    let tx = &closed.txs[0];
    assert!(!tx.successful);
    assert_eq!(stored_codes(tx), ("tx_bad_seq".into(), vec![]));
    assert_eq!(tx.fee_charged, 100);
    assert_eq!(w.acc(&a).balance, balance - 100);
    assert_eq!(w.seq(&a), seq - 1);
}

// TransactionFrame.cpp (isTooLate, isTooEarly: the last closed ledger's close time plus the
// offsets) with TransactionUtils.cpp (getUpperBoundCloseTimeOffset: expected close time × 2 plus
// the time since the last close) at admission (TransactionQueue.cpp, lower offset 0).
#[test]
fn time_bounds_are_checked_against_the_last_close_plus_cores_offset() {
    let mut w = World::new();
    let a = key(1);
    w.fund(&a, 100 * XLM);
    let close = w.ledger.header.close_time;
    let upper = upper_offset(Duration::from_secs(5), close, close + 1); // 5 × 2 + 1
    assert_eq!(upper, 11);
    let bounds = |min: u64, max: u64| {
        Preconditions::Time(TimeBounds {
            min_time: TimePoint(min),
            max_time: TimePoint(max),
        })
    };
    let try_add = |w: &World, cond| {
        let (env, hash) = sign(&w.ledger, w.pay_tx(&a, w.seq(&a) + 1, 100, cond), &[&a]);
        let adm = Queue::default()
            .try_add(&w.ledger, candidate(env, hash), 0, upper)
            .unwrap();
        match adm {
            Admission::Error(r) => ResultCodes::of(&r).transaction,
            other => other.status().to_string(),
        }
    };
    // valid at the wall clock, but expired by the time the next ledger can close
    assert_eq!(try_add(&w, bounds(0, close + 10)), "tx_too_late");
    assert_eq!(try_add(&w, bounds(0, close + 11)), "PENDING");
    // valid from a time the last closed ledger has not reached
    assert_eq!(try_add(&w, bounds(close + 1, 0)), "tx_too_early");
    assert_eq!(try_add(&w, bounds(close, 0)), "PENDING");
}

// TransactionFrame.cpp, isTooEarlyForAccount: minSeqAge against the last closed ledger's close
// time (lower offset 0 at admission) and minSeqLedgerGap against the next ledger.
#[test]
fn min_seq_age_and_gap_at_admission() {
    let mut w = World::new();
    let a = key(1);
    w.fund(&a, 100 * XLM); // the account's sequence time: ledger 2, NOW
    let v2 = |age: u64, gap: u32| {
        Preconditions::V2(stellar_xdr::PreconditionsV2 {
            time_bounds: None,
            ledger_bounds: None,
            min_seq_num: None,
            min_seq_age: stellar_xdr::Duration(age),
            min_seq_ledger_gap: gap,
            extra_signers: Default::default(),
        })
    };
    w.bump_to(&a, 0); // ledger 3 at NOW: sequence time NOW, sequence ledger 3
    let check = |w: &World, cond, at: CheckAt| {
        let (env, hash) = sign(&w.ledger, w.pay_tx(&a, w.seq(&a) + 1, 100, cond), &[&a]);
        w.ledger
            .check_valid(&env, hash, at)
            .unwrap()
            .map(|r| ResultCodes::of(&r).transaction)
    };
    let later = CheckAt::last_closed(3, NOW + 30, 0, 10);
    assert_eq!(
        check(&w, v2(31, 0), later),
        Some("tx_bad_minseq_age_or_gap".into())
    );
    assert_eq!(check(&w, v2(30, 0), later), None);
    // the gap counts to the next ledger (4): 3 + 1 = 4 is met, 2 is not
    assert_eq!(check(&w, v2(0, 1), later), None);
    assert_eq!(
        check(&w, v2(0, 2), later),
        Some("tx_bad_minseq_age_or_gap".into())
    );
}

// CommandHandler.cpp (tx: convertForV13 before the queue) and TransactionBridge.cpp
// (convertForV13): a V0 envelope is taken as the V1 envelope with the same hash and signatures,
// and applied.
#[test]
fn v0_envelopes_are_converted_and_applied() {
    let mut w = World::new();
    let a = key(1);
    w.fund(&a, 100 * XLM);
    w.fund(&key(9), 100 * XLM);
    let (v1, hash) = sign(
        &w.ledger,
        w.pay_tx(&a, w.seq(&a) + 1, 100, Preconditions::None),
        &[&a],
    );
    let TransactionEnvelope::Tx(e) = &v1 else {
        panic!("v1 envelope")
    };
    let v0 = TransactionEnvelope::TxV0(stellar_xdr::TransactionV0Envelope {
        tx: stellar_xdr::TransactionV0 {
            source_account_ed25519: Uint256(id(&a)),
            fee: e.tx.fee,
            seq_num: e.tx.seq_num.clone(),
            time_bounds: None,
            memo: Memo::None,
            operations: e.tx.operations.clone(),
            ext: stellar_xdr::TransactionV0Ext::V0,
        },
        signatures: e.signatures.clone(),
    });
    let network = Network::from_passphrase(&w.ledger.passphrase);
    assert_eq!(airgap::envelope::hash(&v0, &network), hash);
    // stellar-core's TransactionFrame refuses V0 itself; what arrives is converted first
    let r = w.ledger.check_valid(&v0, hash, lcl(&w)).unwrap().unwrap();
    assert_eq!(result_codes(&r).0, "tx_not_supported");
    let converted = as_core_keeps(&v0).unwrap();
    assert_eq!(converted, v1);
    let mut q = Queue::default();
    assert_eq!(
        q.try_add(&w.ledger, candidate(converted, hash), 0, 10)
            .unwrap(),
        Admission::Pending
    );
    let txs = q.take_for_ledger(&w.ledger, NOW).unwrap();
    let closed = w.close(&txs, NOW);
    assert_eq!(
        stored_codes(&closed.txs[0]),
        ("tx_success".into(), vec!["op_success".into()])
    );
    assert_eq!(closed.txs[0].hash, hash);
}

// TransactionQueue.cpp, canAdd / tryAdd: one transaction per source account (TRY_AGAIN_LATER),
// DUPLICATE for the same one or a queued fee bump's inner transaction, txBAD_SEQ below the
// queued sequence number, a fee bump of the same sequence number replaces it only at ten times
// the fee per operation (FEE_MULTIPLIER), else txINSUFFICIENT_FEE with the fee needed.
#[test]
fn one_transaction_per_account_duplicates_and_replace_by_fee() {
    let mut w = World::new();
    let (a, relay) = (key(1), key(3));
    w.fund(&a, 100 * XLM);
    w.fund(&relay, 100 * XLM);
    let seq = w.seq(&a) + 1;
    let (first, first_hash) = sign(
        &w.ledger,
        w.pay_tx(&a, seq, 100, Preconditions::None),
        &[&a],
    );
    let (second, second_hash) = sign(
        &w.ledger,
        w.pay_tx(&a, seq + 1, 100, Preconditions::None),
        &[&a],
    );
    let mut q = Queue::default();
    let add = |q: &mut Queue, env: &TransactionEnvelope, hash| {
        q.try_add(&w.ledger, candidate(env.clone(), hash), 0, 10)
            .unwrap()
    };
    assert_eq!(add(&mut q, &first, first_hash), Admission::Pending);
    assert_eq!(add(&mut q, &first, first_hash), Admission::Duplicate);
    assert_eq!(add(&mut q, &second, second_hash), Admission::TryAgainLater);
    // a fee bump of the queued transaction at 5× the fee per operation (1000 over 2 ops = 500
    // against 100) is refused with the fee that would do: 10 × 100 × 2 = 2000
    let (bump5, bump5_hash) = super::transactions::fee_bump(&w.ledger, &relay, 1000, first.clone());
    let Admission::Error(r) = add(&mut q, &bump5, bump5_hash) else {
        panic!("a 5× replacement is refused")
    };
    assert_eq!(ResultCodes::of(&r).transaction, "tx_insufficient_fee");
    assert_eq!(r.fee_charged, 2000);
    let (bump10, bump10_hash) =
        super::transactions::fee_bump(&w.ledger, &relay, 2000, first.clone());
    assert_eq!(add(&mut q, &bump10, bump10_hash), Admission::Pending);
    // the inner transaction of the queued fee bump is a duplicate
    assert_eq!(add(&mut q, &first, first_hash), Admission::Duplicate);
    // a fee bump of another sequence number waits
    let (bump_next, bump_next_hash) =
        super::transactions::fee_bump(&w.ledger, &relay, 20_000, second.clone());
    assert_eq!(
        add(&mut q, &bump_next, bump_next_hash),
        Admission::TryAgainLater
    );
    // below the queued sequence number
    let (old, old_hash) = sign(
        &w.ledger,
        w.pay_tx(&a, seq - 1, 100, Preconditions::None),
        &[&a],
    );
    let Admission::Error(r) = add(&mut q, &old, old_hash) else {
        panic!("a lower sequence number is refused")
    };
    assert_eq!(ResultCodes::of(&r).transaction, "tx_bad_seq");
    // the replacement is what the ledger applies
    let txs = q.take_for_ledger(&w.ledger, NOW).unwrap();
    assert_eq!(txs.len(), 1);
    assert_eq!(txs[0].hash, bump10_hash);
    let relay_balance = w.acc(&relay).balance;
    let closed = w.close(&txs, NOW);
    assert_eq!(closed.txs[0].inner_hash, Some(first_hash));
    assert_eq!(w.acc(&relay).balance, relay_balance - 200);
    assert!(q.is_empty());
}

// TransactionQueue.cpp (canAdd: the fee source must afford this fee on top of its queued ones)
// and TxSetUtils.cpp (trimInvalid at nomination, with the next close time's offsets; HerderImpl.cpp
// bans what it drops, TRANSACTION_QUEUE_BAN_LEDGERS).
#[test]
fn queued_fees_and_transactions_that_expire_before_their_ledger() {
    let mut w = World::new();
    let (a, b, c, poor) = (key(1), key(2), key(5), key(4));
    w.fund(&a, 100 * XLM);
    w.fund(&b, 100 * XLM);
    w.fund(&c, 100 * XLM);
    // 3,000 stroops above its reserve: one fee of 2,000, not two
    w.fund(&poor, 2 * BASE_RESERVE + 3000);
    let mut q = Queue::default();
    // a transaction valid at admission that expires before the next ledger closes
    let close = w.ledger.header.close_time;
    let expiring = Preconditions::Time(TimeBounds {
        min_time: TimePoint(0),
        max_time: TimePoint(close + 2),
    });
    let (env, hash) = sign(&w.ledger, w.pay_tx(&a, w.seq(&a) + 1, 100, expiring), &[&a]);
    assert_eq!(
        q.try_add(&w.ledger, candidate(env.clone(), hash), 0, 0)
            .unwrap(),
        Admission::Pending
    );
    // two fee bumps paid by `poor`: the second one exceeds what it can afford
    let (inner_b, _) = sign(
        &w.ledger,
        w.pay_tx(&b, w.seq(&b) + 1, 100, Preconditions::None),
        &[&b],
    );
    let (fb1, fb1_hash) = super::transactions::fee_bump(&w.ledger, &poor, 2000, inner_b);
    assert_eq!(
        q.try_add(&w.ledger, candidate(fb1, fb1_hash), 0, 10)
            .unwrap(),
        Admission::Pending
    );
    let (inner_c, _) = sign(
        &w.ledger,
        w.pay_tx(&c, w.seq(&c) + 1, 100, Preconditions::None),
        &[&c],
    );
    let (fb2, fb2_hash) = super::transactions::fee_bump(&w.ledger, &poor, 2000, inner_c);
    let Admission::Error(r) = q
        .try_add(&w.ledger, candidate(fb2, fb2_hash), 0, 10)
        .unwrap()
    else {
        panic!("the fee source cannot pay both")
    };
    assert_eq!(ResultCodes::of(&r).transaction, "tx_insufficient_balance");
    // the next ledger closes at close + 5: the expiring one is dropped and banned
    let txs = q.take_for_ledger(&w.ledger, close + 5).unwrap();
    assert_eq!(
        txs.iter().map(|c| c.hash).collect::<Vec<_>>(),
        vec![fb1_hash]
    );
    w.close(&txs, close + 5);
    q.after_close(w.ledger.header.ledger_seq);
    assert_eq!(
        q.try_add(&w.ledger, candidate(env, hash), 0, 100).unwrap(),
        Admission::TryAgainLater
    );
}

// PathPaymentStrictReceiveOpFrame.cpp and PathPaymentStrictSendOpFrame.cpp (with
// PathPaymentOpFrameBase.cpp): a path that stays in one asset needs no offer and pays; any
// conversion needs the order book and fails as core fails a hop without offers; the send
// maximum and the destination minimum still hold.
#[test]
fn path_payments_without_an_order_book() {
    let mut w = World::new();
    let (issuer, a, b) = (key(1), key(2), key(3));
    w.fund(&issuer, 100 * XLM);
    w.fund(&a, 100 * XLM);
    w.fund(&b, 100 * XLM);
    for k in [&a, &b] {
        assert!(included(&w.submit(
            k,
            vec![op(None, trust(&issuer, 1000))],
            &[k]
        )));
    }
    assert!(included(&w.submit(
        &issuer,
        vec![op(None, payment(&a, usd(&issuer), 500))],
        &[&issuer]
    )));
    let receive = |send: Asset, max: i64, dest: Asset, amount: i64, path: Vec<Asset>| {
        OperationBody::PathPaymentStrictReceive(stellar_xdr::PathPaymentStrictReceiveOp {
            send_asset: send,
            send_max: max,
            destination: muxed(&b),
            dest_asset: dest,
            dest_amount: amount,
            path: path.try_into().unwrap(),
        })
    };
    let send = |send: Asset, amount: i64, dest: Asset, min: i64, path: Vec<Asset>| {
        OperationBody::PathPaymentStrictSend(stellar_xdr::PathPaymentStrictSendOp {
            send_asset: send,
            send_amount: amount,
            destination: muxed(&b),
            dest_asset: dest,
            dest_min: min,
            path: path.try_into().unwrap(),
        })
    };
    let usd = usd(&issuer);
    let v = w.submit(
        &a,
        vec![op(
            None,
            receive(usd.clone(), 100, usd.clone(), 100, vec![]),
        )],
        &[&a],
    );
    assert_eq!(codes(&v), ("tx_success", vec!["op_success"]));
    let v = w.submit(
        &a,
        vec![op(
            None,
            send(usd.clone(), 50, usd.clone(), 50, vec![usd.clone()]),
        )],
        &[&a],
    );
    assert_eq!(codes(&v), ("tx_success", vec!["op_success"]));
    assert_eq!(
        w.ledger.state.trustlines[&(id(&b), usd_key(&issuer))].balance,
        150
    );
    // a conversion crosses the order book, which holds no offers
    let v = w.submit(
        &a,
        vec![op(
            None,
            receive(Asset::Native, XLM, usd.clone(), 10, vec![]),
        )],
        &[&a],
    );
    assert_eq!(codes(&v), ("tx_failed", vec!["op_too_few_offers"]));
    let v = w.submit(
        &a,
        vec![op(
            None,
            send(usd.clone(), 10, usd.clone(), 1, vec![Asset::Native]),
        )],
        &[&a],
    );
    assert_eq!(codes(&v), ("tx_failed", vec!["op_too_few_offers"]));
    // the bounds
    let v = w.submit(
        &a,
        vec![op(None, receive(usd.clone(), 9, usd.clone(), 10, vec![]))],
        &[&a],
    );
    assert_eq!(codes(&v), ("tx_failed", vec!["op_over_source_max"]));
    let v = w.submit(
        &a,
        vec![op(None, send(usd.clone(), 10, usd.clone(), 11, vec![]))],
        &[&a],
    );
    assert_eq!(codes(&v), ("tx_failed", vec!["op_under_dest_min"]));
    // and the payment rules: the destination trusts the asset
    let v = w.submit(
        &a,
        vec![op(None, send(usd.clone(), 10, usd, 10, vec![]))],
        &[&a],
    );
    assert!(included(&v));
}
