//! Random operations never break the ledger's invariants.

use super::*;

/// Ledger-wide invariants that every closed ledger must keep.
fn check_invariants(l: &Ledger) {
    let total: i128 = l
        .state
        .accounts
        .values()
        .map(|a| i128::from(a.balance))
        .sum::<i128>()
        + i128::from(l.header.fee_pool);
    assert_eq!(
        total,
        i128::from(TOTAL_COINS),
        "lumens created or destroyed"
    );
    for (id, acc) in &l.state.accounts {
        let lines = l.state.trustlines.keys().filter(|(a, _)| a == id).count();
        let data = l.state.data.keys().filter(|(a, _)| a == id).count();
        let expected = lines + data + acc.signers.len();
        assert_eq!(
            acc.num_sub_entries as usize,
            expected,
            "subentry count of {}",
            hex::encode(id)
        );
        assert!(acc.balance >= 0);
        assert!(acc.signers.windows(2).all(|w| w[0].key < w[1].key));
    }
    for ((owner, _), line) in &l.state.trustlines {
        assert!(l.state.accounts.contains_key(owner), "orphan trustline");
        assert!(line.balance >= 0 && line.balance <= line.limit);
        assert_ne!(line.flags & TL_AUTH_FLAGS, TL_AUTH_FLAGS);
    }
    for (owner, _) in l.state.data.keys() {
        assert!(l.state.accounts.contains_key(owner), "orphan data entry");
    }
}

#[test]
fn random_operations_keep_ledger_invariants() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed);
    let mut w = World::new();
    let keys: Vec<SigningKey> = (1..=6).map(key).collect();
    for k in &keys {
        w.fund(k, 50 * XLM);
    }
    let issuer = keys[0].clone();
    let mut included_count = 0;
    for _ in 0..200 {
        let k = &keys[rng.gen_range(0..keys.len())];
        if !w.ledger.state.accounts.contains_key(&id(k)) {
            continue;
        }
        let other = &keys[rng.gen_range(0..keys.len())];
        let amount = rng.gen_range(-2..40) * XLM / 4;
        let body = match rng.gen_range(0..14) {
            0 => payment(other, Asset::Native, amount),
            1 | 2 => payment(other, usd(&issuer), amount),
            3 => trust(&issuer, rng.gen_range(0..3) * 5 * XLM),
            4 => set_flags(rng.gen_range(0..16)),
            5 => OperationBody::SetOptions(SetOptionsOp {
                clear_flags: Some(rng.gen_range(0..16)),
                ..Default::default()
            }),
            6 => OperationBody::SetOptions(SetOptionsOp {
                signer: Some(Signer {
                    key: SignerKey::Ed25519(Uint256(id(other))),
                    weight: rng.gen_range(0..3),
                }),
                ..Default::default()
            }),
            7 => OperationBody::ManageData(ManageDataOp {
                data_name: String64("k".try_into().unwrap()),
                data_value: rng
                    .gen_bool(0.5)
                    .then(|| DataValue(b"v".to_vec().try_into().unwrap())),
            }),
            8 => OperationBody::SetTrustLineFlags(SetTrustLineFlagsOp {
                trustor: account_id(other),
                asset: usd(&issuer),
                clear_flags: rng.gen_range(0..4),
                set_flags: rng.gen_range(0..3),
            }),
            9 => OperationBody::Clawback(ClawbackOp {
                asset: usd(&issuer),
                from: muxed(other),
                amount,
            }),
            10 => OperationBody::AccountMerge(muxed(other)),
            11 => OperationBody::CreateAccount(CreateAccountOp {
                destination: account_id(other),
                starting_balance: amount,
            }),
            12 => OperationBody::AllowTrust(AllowTrustOp {
                trustor: account_id(other),
                asset: AssetCode::CreditAlphanum4(AssetCode4(*b"USD\0")),
                authorize: rng.gen_range(0..3),
            }),
            _ => OperationBody::BumpSequence(BumpSequenceOp {
                bump_to: SequenceNumber(0),
            }),
        };
        let mut ops = vec![op(None, body)];
        if rng.gen_bool(0.2) {
            ops.push(op(None, payment(other, Asset::Native, XLM)));
        }
        let before = (w.ledger.state.clone(), w.ledger.header.clone());
        let ops_len = ops.len();
        let v = w.submit(k, ops, &[k]);
        match &v {
            Verdict::Rejected(_) => {
                assert_eq!(w.ledger.state, before.0, "a rejection changed the ledger");
                assert_eq!(w.ledger.header, before.1);
            }
            Verdict::Included(closed) => {
                included_count += 1;
                assert_eq!(w.ledger.header.ledger_seq, before.1.ledger_seq + 1);
                // the meta is valid XDR: operation changes only for a successful transaction
                let meta =
                    TransactionMeta::from_xdr_base64(&closed.tx.result_meta_xdr, Limits::none())
                        .unwrap();
                let TransactionMeta::V3(v3) = meta else {
                    panic!("meta v3 expected");
                };
                let n_ops = if closed.tx.successful { ops_len } else { 0 };
                assert_eq!(v3.operations.len(), n_ops);
                stellar_xdr::LedgerEntryChanges::from_xdr_base64(
                    &closed.tx.fee_meta_xdr,
                    Limits::none(),
                )
                .unwrap();
            }
        }
        check_invariants(&w.ledger);
    }
    assert!(
        included_count > 40,
        "too few transactions applied: {included_count}"
    );
}
