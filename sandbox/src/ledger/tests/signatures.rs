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

/// The sandbox's signature checker (stellar-core's rules) and the library's tally
/// (`airgap::weights::weigh`, which the relay's `inspect` uses) agree on whether each threshold an
/// envelope needs is met: the transaction's, and each operation's for its own source or the
/// transaction's, for random ed25519 signer sets, thresholds, operations and signatures. The
/// library reads each account as the sandbox serves it (`resources::account`).
#[test]
fn core_checker_and_library_tally_agree() {
    use super::super::signatures::{needed_weight, signers_of, SigChecker};
    use airgap::weights::{self, SignerSet};
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(0xa9ee);
    let keys: Vec<SigningKey> = (40..48).map(key).collect();
    let (mut met, mut unmet) = (0, 0);
    for _ in 0..400 {
        let mut w = World::new();
        // Two accounts, each with a random master weight, thresholds and signers.
        for owner in &keys[..2] {
            let mut signers = Vec::new();
            for k in &keys[2..] {
                if rng.gen_bool(0.5) {
                    signers.push(AccountSigner {
                        key: SignerKind::Ed25519(id(k)),
                        weight: rng.gen_range(1..=4),
                    });
                }
            }
            signers.sort_by(|a, b| a.key.cmp(&b.key));
            let acc = Account {
                num_sub_entries: u32::try_from(signers.len()).unwrap(),
                thresholds: [
                    rng.gen_range(0..=3),
                    rng.gen_range(0..=6),
                    rng.gen_range(0..=6),
                    rng.gen_range(0..=6),
                ],
                signers,
                ..Account::new(id(owner), 1000 * XLM, 1)
            };
            w.ledger.state.accounts.insert(acc.id, acc);
        }
        // One to three operations of each threshold category, some with the second account as
        // their source.
        let ops: Vec<Operation> = (0..rng.gen_range(1..=3))
            .map(|_| {
                let body = match rng.gen_range(0..3) {
                    0 => OperationBody::BumpSequence(BumpSequenceOp {
                        bump_to: SequenceNumber(0),
                    }),
                    1 => payment(&keys[1], Asset::Native, XLM),
                    _ => OperationBody::SetOptions(SetOptionsOp {
                        inflation_dest: None,
                        clear_flags: None,
                        set_flags: None,
                        master_weight: Some(1),
                        low_threshold: None,
                        med_threshold: None,
                        high_threshold: None,
                        home_domain: None,
                        signer: None,
                    }),
                };
                op(rng.gen_bool(0.5).then_some(&keys[1]), body)
            })
            .collect();
        let signed_by: Vec<&SigningKey> = keys.iter().filter(|_| rng.gen_bool(0.4)).collect();
        let tx = Tx {
            source: keys[0].clone(),
            seq: 2,
            fee: 1000,
            cond: Preconditions::None,
            ops,
        };
        let (env, hash) = sign(&w.ledger, tx, &signed_by);
        let sets: Vec<SignerSet> = keys[..2]
            .iter()
            .map(|k| {
                let served = crate::resources::account(
                    "http://sandbox",
                    &w.ledger.state.accounts[&id(k)],
                    &w.ledger.state,
                );
                SignerSet::from_horizon(airgap::account::AccountId(id(k)), &served)
            })
            .collect();
        let tally = weights::weigh(&env, &Network::Standalone, &sets);
        let sigs = airgap::envelope::signatures(&env);
        for r in &tally.requirements {
            let acc = &w.ledger.state.accounts[&r.account.0];
            let core =
                SigChecker::new(hash, sigs).check(&signers_of(acc), needed_weight(acc, r.category));
            let library = r.weight.as_ref().is_some_and(|w| w.missing == 0);
            assert_eq!(core, library, "{} of {}: {:?}", r.what, r.account, r.weight);
            if core {
                met += 1;
            } else {
                unmet += 1;
            }
        }
    }
    assert!(
        met > 100 && unmet > 100,
        "both outcomes are exercised: {met} met, {unmet} not"
    );
}
