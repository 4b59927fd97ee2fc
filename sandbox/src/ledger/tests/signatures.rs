//! Signatures: thresholds per operation and source account, hash(x) and pre-authorized signers.

use super::*;

#[test]
fn thresholds_and_op_source_signatures() {
    let mut w = World::new();
    let (a, b, cosigner) = (key(1), key(2), key(3));
    w.fund(&a, 100 * XLM);
    w.fund(&b, 100 * XLM);
    let add_signer = OperationBody::SetOptions(SetOptionsOp {
        signer: Some(Signer {
            key: SignerKey::Ed25519(Uint256(id(&cosigner))),
            weight: 1,
        }),
        med_threshold: Some(2),
        high_threshold: Some(2),
        ..Default::default()
    });
    assert!(included(&w.submit(&a, vec![op(None, add_signer)], &[&a])));
    assert_eq!(w.acc(&a).num_sub_entries, 1);
    // medium op with one key: op_bad_auth, rejected
    let v = w.submit(&a, vec![op(None, payment(&b, Asset::Native, XLM))], &[&a]);
    assert_eq!(codes(&v), ("tx_failed", vec!["op_bad_auth"]));
    assert!(!included(&v));
    let v = w.submit(
        &a,
        vec![op(None, payment(&b, Asset::Native, XLM))],
        &[&a, &cosigner],
    );
    assert_eq!(codes(&v), ("tx_success", vec!["op_success"]));
    // low op (bump_sequence) with one key is enough
    let v = w.submit(
        &a,
        vec![op(
            None,
            OperationBody::BumpSequence(BumpSequenceOp {
                bump_to: SequenceNumber(0),
            }),
        )],
        &[&a],
    );
    assert!(included(&v));
    // an op with another source account needs that account's signature
    let v = w.submit(
        &a,
        vec![op(
            Some(&b),
            OperationBody::BumpSequence(BumpSequenceOp {
                bump_to: SequenceNumber(0),
            }),
        )],
        &[&a],
    );
    assert_eq!(codes(&v), ("tx_failed", vec!["op_bad_auth"]));
    let v = w.submit(
        &a,
        vec![op(
            Some(&b),
            OperationBody::BumpSequence(BumpSequenceOp {
                bump_to: SequenceNumber(0),
            }),
        )],
        &[&a, &b],
    );
    assert!(included(&v));
}

#[test]
fn hash_x_and_pre_authorized_signers() {
    let mut w = World::new();
    let (a, b) = (key(1), key(2));
    w.fund(&a, 100 * XLM);
    w.fund(&b, 100 * XLM);
    // hash-x signer: the preimage is the "signature"
    let preimage = b"open sesame".to_vec();
    let x: [u8; 32] = Sha256::digest(&preimage).into();
    let add = |key: SignerKey| {
        OperationBody::SetOptions(SetOptionsOp {
            signer: Some(Signer { key, weight: 1 }),
            ..Default::default()
        })
    };
    assert!(included(&w.submit(
        &a,
        vec![op(None, add(SignerKey::HashX(Uint256(x))))],
        &[&a]
    )));
    let tx = Tx {
        source: a.clone(),
        seq: w.seq(&a) + 1,
        fee: 100,
        cond: Preconditions::None,
        ops: vec![op(None, payment(&b, Asset::Native, XLM))],
    };
    let (env, hash) = sign(&w.ledger, tx, &[]);
    let TransactionEnvelope::Tx(mut v1) = env else {
        panic!("v1");
    };
    v1.signatures = vec![DecoratedSignature {
        hint: SignatureHint(hint_of(&x)),
        signature: stellar_xdr::Signature(preimage.try_into().unwrap()),
    }]
    .try_into()
    .unwrap();
    let v = w
        .ledger
        .evaluate(&TransactionEnvelope::Tx(v1), "", hash, NOW)
        .unwrap();
    assert_eq!(codes(&v), ("tx_success", vec!["op_success"]));
    if let Verdict::Included(c) = &v {
        w.ledger.commit(c);
    }

    // pre-authorized transaction: no signature at all, and the signer is consumed
    let future = Tx {
        source: a.clone(),
        seq: w.seq(&a) + 2,
        fee: 100,
        cond: Preconditions::None,
        ops: vec![op(None, payment(&b, Asset::Native, XLM))],
    };
    let (_, pre_hash) = sign(&w.ledger, future, &[]);
    assert!(included(&w.submit(
        &a,
        vec![op(None, add(SignerKey::PreAuthTx(Uint256(pre_hash))))],
        &[&a]
    )));
    assert_eq!(w.acc(&a).num_sub_entries, 2);
    let future = Tx {
        source: a.clone(),
        seq: w.seq(&a) + 1,
        fee: 100,
        cond: Preconditions::None,
        ops: vec![op(None, payment(&b, Asset::Native, XLM))],
    };
    let v = w.submit_tx(future, &[]);
    assert_eq!(codes(&v), ("tx_success", vec!["op_success"]));
    assert_eq!(w.acc(&a).num_sub_entries, 1);
    assert!(!w
        .acc(&a)
        .signers
        .iter()
        .any(|s| s.key == SignerKind::PreAuthTx(pre_hash)));
}
