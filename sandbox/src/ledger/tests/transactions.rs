//! Whole transactions: genesis, rejections that change nothing, failures that consume the fee
//! and the sequence number, fee bumps, preconditions, hostile envelopes.

use super::*;

#[test]
fn genesis_and_create_account() {
    let mut w = World::new();
    let root = w.ledger.root_id();
    assert_eq!(w.ledger.state.accounts[&root].balance, TOTAL_COINS);
    let a = key(1);
    w.fund(&a, 100 * XLM);
    // created in ledger 2: sequence number ledger << 32
    assert_eq!(w.seq(&a), 2i64 << 32);
    assert_eq!(w.acc(&a).balance, 100 * XLM);
    assert_eq!(w.ledger.header.ledger_seq, 2);
    assert_eq!(w.ledger.header.fee_pool, 100);
}

#[test]
fn rejected_transactions_change_nothing() {
    let mut w = World::new();
    let a = key(1);
    w.fund(&a, 100 * XLM);
    let before = w.ledger.state.clone();
    let bump = || {
        vec![op(
            None,
            OperationBody::BumpSequence(BumpSequenceOp {
                bump_to: SequenceNumber(0),
            }),
        )]
    };

    let v = w.submit_tx(
        Tx {
            source: a.clone(),
            seq: w.seq(&a) + 2,
            fee: 100,
            cond: Preconditions::None,
            ops: bump(),
        },
        &[&a],
    );
    assert_eq!(codes(&v), ("tx_bad_seq", vec![]));
    let v = w.submit_tx(
        Tx {
            source: a.clone(),
            seq: w.seq(&a) + 1,
            fee: 99,
            cond: Preconditions::None,
            ops: bump(),
        },
        &[&a],
    );
    assert_eq!(codes(&v), ("tx_insufficient_fee", vec![]));
    let late = Preconditions::Time(TimeBounds {
        min_time: TimePoint(0),
        max_time: TimePoint(NOW - 1),
    });
    let v = w.submit_tx(
        Tx {
            source: a.clone(),
            seq: w.seq(&a) + 1,
            fee: 100,
            cond: late,
            ops: bump(),
        },
        &[&a],
    );
    assert_eq!(codes(&v), ("tx_too_late", vec![]));
    let early = Preconditions::Time(TimeBounds {
        min_time: TimePoint(NOW + 60),
        max_time: TimePoint(0),
    });
    let v = w.submit_tx(
        Tx {
            source: a.clone(),
            seq: w.seq(&a) + 1,
            fee: 100,
            cond: early,
            ops: bump(),
        },
        &[&a],
    );
    assert_eq!(codes(&v), ("tx_too_early", vec![]));
    let v = w.submit(&a, bump(), &[&key(9)]);
    assert_eq!(codes(&v), ("tx_bad_auth", vec![]));
    let v = w.submit(&a, bump(), &[&a, &key(9)]);
    assert_eq!(codes(&v), ("tx_bad_auth_extra", vec![]));
    let v = w.submit_tx(
        Tx {
            source: key(7),
            seq: 1,
            fee: 100,
            cond: Preconditions::None,
            ops: bump(),
        },
        &[&key(7)],
    );
    assert_eq!(codes(&v), ("tx_no_source_account", vec![]));
    // malformed operation: rejected at validation with tx_failed, not applied
    let v = w.submit(
        &a,
        vec![op(
            None,
            OperationBody::ManageData(ManageDataOp {
                data_name: String64("".try_into().unwrap()),
                data_value: None,
            }),
        )],
        &[&a],
    );
    assert_eq!(codes(&v), ("tx_failed", vec!["op_data_invalid_name"]));
    assert!(!included(&v));
    assert_eq!(w.ledger.state, before);
    assert_eq!(w.ledger.header.ledger_seq, 2);
}

#[test]
fn failed_transaction_consumes_fee_and_sequence_and_rolls_back_ops() {
    let mut w = World::new();
    let (a, b) = (key(1), key(2));
    w.fund(&a, 100 * XLM);
    w.fund(&b, 100 * XLM);
    let seq = w.seq(&a);
    let v = w.submit(
        &a,
        vec![
            op(None, payment(&b, Asset::Native, XLM)),
            op(None, payment(&b, Asset::Native, 1000 * XLM)),
        ],
        &[&a],
    );
    assert_eq!(
        codes(&v),
        ("tx_failed", vec!["op_success", "op_underfunded"])
    );
    assert!(included(&v));
    assert_eq!(w.seq(&a), seq + 1);
    assert_eq!(w.acc(&a).balance, 100 * XLM - 200);
    assert_eq!(w.acc(&b).balance, 100 * XLM);
}

#[test]
fn hostile_envelopes_do_not_panic() {
    let w = World::new();
    let a = key(1);
    let tx = Tx {
        source: a.clone(),
        seq: i64::MAX,
        fee: u32::MAX,
        cond: Preconditions::None,
        ops: vec![op(None, payment(&a, Asset::Native, i64::MAX))],
    };
    let (env, hash) = sign(&w.ledger, tx, &[&a]);
    assert!(w.ledger.evaluate(&env, "", hash, u64::MAX).is_ok());
    let root = root_key(&w.ledger.network_id);
    let tx = Tx {
        source: root.clone(),
        seq: 1,
        fee: 100,
        cond: Preconditions::None,
        ops: vec![op(None, payment(&a, Asset::Native, i64::MAX))],
    };
    let (env, hash) = sign(&w.ledger, tx, &[&root]);
    let v = w.ledger.evaluate(&env, "", hash, NOW).unwrap();
    assert_eq!(codes(&v), ("tx_failed", vec!["op_no_destination"]));
}

pub(super) fn fee_bump(
    ledger: &Ledger,
    fee_source: &SigningKey,
    fee: i64,
    inner: TransactionEnvelope,
) -> (TransactionEnvelope, [u8; 32]) {
    let TransactionEnvelope::Tx(inner) = inner else {
        panic!("v1 inner envelope expected");
    };
    let fb = stellar_xdr::FeeBumpTransaction {
        fee_source: muxed(fee_source),
        fee,
        inner_tx: FeeBumpTransactionInnerTx::Tx(inner),
        ext: stellar_xdr::FeeBumpTransactionExt::V0,
    };
    let unsigned = TransactionEnvelope::TxFeeBump(FeeBumpTransactionEnvelope {
        tx: fb.clone(),
        signatures: Default::default(),
    });
    let network = Network::from_passphrase(&ledger.passphrase);
    let hash = airgap::envelope::hash(&unsigned, &network);
    let sig = DecoratedSignature {
        hint: SignatureHint(hint_of(&id(fee_source))),
        signature: stellar_xdr::Signature(
            fee_source
                .sign(&hash)
                .to_bytes()
                .to_vec()
                .try_into()
                .unwrap(),
        ),
    };
    (
        TransactionEnvelope::TxFeeBump(FeeBumpTransactionEnvelope {
            tx: fb,
            signatures: vec![sig].try_into().unwrap(),
        }),
        hash,
    )
}

#[test]
fn fee_bumps() {
    let mut w = World::new();
    let (a, b, relay) = (key(1), key(2), key(3));
    w.fund(&a, 10 * XLM);
    w.fund(&b, 10 * XLM);
    w.fund(&relay, 10 * XLM);
    let inner = |w: &World, seq: i64, amount: i64| {
        sign(
            &w.ledger,
            Tx {
                source: a.clone(),
                seq,
                fee: 100,
                cond: Preconditions::None,
                ops: vec![op(None, payment(&b, Asset::Native, amount))],
            },
            &[&a],
        )
    };
    // outer fee below 100 × (ops + 1)
    let (env, _) = inner(&w, w.seq(&a) + 1, XLM);
    let (fb, hash) = fee_bump(&w.ledger, &relay, 199, env);
    let v = w.ledger.evaluate(&fb, "", hash, NOW).unwrap();
    assert_eq!(codes(&v), ("tx_insufficient_fee", vec![]));
    // inner bad sequence: rejected as tx_fee_bump_inner_failed / tx_bad_seq
    let (env, _) = inner(&w, w.seq(&a) + 5, XLM);
    let (fb, hash) = fee_bump(&w.ledger, &relay, 400, env);
    let Verdict::Rejected(r) = w.ledger.evaluate(&fb, "", hash, NOW).unwrap() else {
        panic!("expected a rejection");
    };
    let c = ResultCodes::of(&r);
    assert_eq!(c.transaction, "tx_fee_bump_inner_failed");
    assert_eq!(c.inner_transaction.as_deref(), Some("tx_bad_seq"));
    // success: the fee source pays min(outer fee, 100 × (ops + 1)), the inner source's
    // sequence number is consumed
    let (a_bal, relay_bal, seq) = (w.acc(&a).balance, w.acc(&relay).balance, w.seq(&a));
    let (env, inner_hash) = inner(&w, seq + 1, XLM);
    let (fb, hash) = fee_bump(&w.ledger, &relay, 400, env);
    let v = w.ledger.evaluate(&fb, "", hash, NOW).unwrap();
    assert_eq!(codes(&v), ("tx_fee_bump_inner_success", vec!["op_success"]));
    let Verdict::Included(closed) = &v else {
        panic!("expected inclusion");
    };
    assert_eq!(closed.tx.inner_hash, Some(inner_hash));
    assert_eq!(closed.tx.fee_charged, 200);
    w.ledger.commit(closed);
    assert_eq!(w.acc(&relay).balance, relay_bal - 200);
    assert_eq!(w.acc(&a).balance, a_bal - XLM);
    assert_eq!(w.seq(&a), seq + 1);
    // inner failure in the ledger: fee charged to the fee source, tx_fee_bump_inner_failed
    let (env, _) = inner(&w, seq + 2, 100 * XLM);
    let (fb, hash) = fee_bump(&w.ledger, &relay, 400, env);
    let v = w.ledger.evaluate(&fb, "", hash, NOW).unwrap();
    assert!(included(&v));
    assert_eq!(
        codes(&v),
        ("tx_fee_bump_inner_failed", vec!["op_underfunded"])
    );
}

#[test]
fn preconditions_v2() {
    let mut w = World::new();
    let a = key(1);
    w.fund(&a, 100 * XLM);
    let bump = || {
        vec![op(
            None,
            OperationBody::BumpSequence(BumpSequenceOp {
                bump_to: SequenceNumber(0),
            }),
        )]
    };
    let v2 = |min_seq: Option<i64>, age: u64, gap: u32| {
        Preconditions::V2(stellar_xdr::PreconditionsV2 {
            time_bounds: None,
            ledger_bounds: None,
            min_seq_num: min_seq.map(SequenceNumber),
            min_seq_age: stellar_xdr::Duration(age),
            min_seq_ledger_gap: gap,
            extra_signers: Default::default(),
        })
    };
    let seq = w.seq(&a);
    // minSeqNum relaxes the sequence check: any seq above the account's, if account >= min
    let v = w.submit_tx(
        Tx {
            source: a.clone(),
            seq: seq + 10,
            fee: 100,
            cond: v2(Some(seq), 0, 0),
            ops: bump(),
        },
        &[&a],
    );
    assert!(included(&v));
    assert_eq!(w.seq(&a), seq + 10);
    // the account just used its sequence in this ledger: a gap of 5 ledgers is not met
    let v = w.submit_tx(
        Tx {
            source: a.clone(),
            seq: seq + 11,
            fee: 100,
            cond: v2(None, 0, 5),
            ops: bump(),
        },
        &[&a],
    );
    assert_eq!(codes(&v), ("tx_bad_minseq_age_or_gap", vec![]));
    let v = w.submit_tx(
        Tx {
            source: a.clone(),
            seq: seq + 11,
            fee: 100,
            cond: v2(None, 3600, 0),
            ops: bump(),
        },
        &[&a],
    );
    assert_eq!(codes(&v), ("tx_bad_minseq_age_or_gap", vec![]));
    // ledger bounds
    let lb = Preconditions::V2(stellar_xdr::PreconditionsV2 {
        time_bounds: None,
        ledger_bounds: Some(stellar_xdr::LedgerBounds {
            min_ledger: 0,
            max_ledger: w.ledger.header.ledger_seq + 1,
        }),
        min_seq_num: None,
        min_seq_age: stellar_xdr::Duration(0),
        min_seq_ledger_gap: 0,
        extra_signers: Default::default(),
    });
    let v = w.submit_tx(
        Tx {
            source: a.clone(),
            seq: seq + 11,
            fee: 100,
            cond: lb,
            ops: bump(),
        },
        &[&a],
    );
    assert_eq!(codes(&v), ("tx_too_late", vec![]));
}
