//! The operations an issuer uses: reserves, trust and authorization, payments, flags, clawback,
//! data, bump_sequence and merge.

use super::*;

#[test]
fn reserves_for_accounts_and_subentries() {
    let mut w = World::new();
    let (a, issuer) = (key(1), key(2));
    w.fund(&issuer, 100 * XLM);
    let v = w.submit(
        &issuer,
        vec![op(
            None,
            OperationBody::CreateAccount(CreateAccountOp {
                destination: account_id(&a),
                starting_balance: XLM - 1,
            }),
        )],
        &[&issuer],
    );
    assert_eq!(codes(&v), ("tx_failed", vec!["op_low_reserve"]));
    // exactly (2 + 0) × 0.5 XLM, plus one fee: cannot afford a trustline (needs 1.5 XLM)
    w.fund(&a, XLM + 100);
    let v = w.submit(&a, vec![op(None, trust(&issuer, i64::MAX))], &[&a]);
    assert_eq!(codes(&v), ("tx_failed", vec!["op_low_reserve"]));
    assert_eq!(w.acc(&a).balance, XLM);
    assert_eq!(min_balance(w.acc(&a)), XLM);
}

#[test]
fn trust_authorization_and_payments() {
    let mut w = World::new();
    let (issuer, holder) = (key(1), key(2));
    w.fund(&issuer, 100 * XLM);
    w.fund(&holder, 100 * XLM);
    let v = w.submit(
        &issuer,
        vec![op(None, payment(&holder, usd(&issuer), 5))],
        &[&issuer],
    );
    assert_eq!(codes(&v), ("tx_failed", vec!["op_no_trust"]));
    assert!(included(&w.submit(
        &issuer,
        vec![op(None, set_flags(AUTH_REQUIRED))],
        &[&issuer]
    )));
    assert!(included(&w.submit(
        &holder,
        vec![op(None, trust(&issuer, 1000))],
        &[&holder]
    )));
    assert_eq!(
        w.ledger.state.trustlines[&(id(&holder), usd_key(&issuer))].flags,
        0
    );
    let v = w.submit(
        &issuer,
        vec![op(None, payment(&holder, usd(&issuer), 5))],
        &[&issuer],
    );
    assert_eq!(codes(&v), ("tx_failed", vec!["op_not_authorized"]));
    let allow = |authorize| {
        OperationBody::AllowTrust(AllowTrustOp {
            trustor: account_id(&holder),
            asset: AssetCode::CreditAlphanum4(AssetCode4(*b"USD\0")),
            authorize,
        })
    };
    assert!(included(&w.submit(
        &issuer,
        vec![op(None, allow(TL_AUTHORIZED))],
        &[&issuer]
    )));
    let v = w.submit(
        &issuer,
        vec![op(None, payment(&holder, usd(&issuer), 1001))],
        &[&issuer],
    );
    assert_eq!(codes(&v), ("tx_failed", vec!["op_line_full"]));
    let v = w.submit(
        &issuer,
        vec![op(None, payment(&holder, usd(&issuer), 600))],
        &[&issuer],
    );
    assert_eq!(codes(&v), ("tx_success", vec!["op_success"]));
    // holder pays back to the issuer (burn), cannot overspend
    let v = w.submit(
        &holder,
        vec![op(None, payment(&issuer, usd(&issuer), 601))],
        &[&holder],
    );
    assert_eq!(codes(&v), ("tx_failed", vec!["op_underfunded"]));
    assert!(included(&w.submit(
        &holder,
        vec![op(None, payment(&issuer, usd(&issuer), 100))],
        &[&holder]
    )));
    assert_eq!(
        w.ledger.state.trustlines[&(id(&holder), usd_key(&issuer))].balance,
        500
    );
    // not revocable: revoking is refused
    let v = w.submit(&issuer, vec![op(None, allow(0))], &[&issuer]);
    assert_eq!(codes(&v), ("tx_failed", vec!["op_cant_revoke"]));
    // cannot lower the limit under the balance, cannot delete a funded line
    let v = w.submit(&holder, vec![op(None, trust(&issuer, 0))], &[&holder]);
    assert_eq!(codes(&v), ("tx_failed", vec!["op_invalid_limit"]));
    // trusting one's own asset is malformed
    let v = w.submit(&issuer, vec![op(None, trust(&issuer, 10))], &[&issuer]);
    assert_eq!(codes(&v), ("tx_failed", vec!["op_malformed"]));
}

#[test]
fn issuer_flags_clawback_and_immutability() {
    let mut w = World::new();
    let (issuer, holder) = (key(1), key(2));
    w.fund(&issuer, 100 * XLM);
    w.fund(&holder, 100 * XLM);
    let v = w.submit(
        &issuer,
        vec![op(None, set_flags(AUTH_CLAWBACK_ENABLED))],
        &[&issuer],
    );
    assert_eq!(codes(&v), ("tx_failed", vec!["op_auth_revocable_required"]));
    assert!(included(&w.submit(
        &issuer,
        vec![op(None, set_flags(AUTH_REVOCABLE | AUTH_CLAWBACK_ENABLED))],
        &[&issuer]
    )));
    assert!(included(&w.submit(
        &holder,
        vec![op(None, trust(&issuer, i64::MAX))],
        &[&holder]
    )));
    let line = &w.ledger.state.trustlines[&(id(&holder), usd_key(&issuer))];
    assert_eq!(line.flags, TL_AUTHORIZED | TL_CLAWBACK_ENABLED);
    assert!(included(&w.submit(
        &issuer,
        vec![op(None, payment(&holder, usd(&issuer), 50))],
        &[&issuer]
    )));
    let claw = |amount| {
        OperationBody::Clawback(ClawbackOp {
            asset: usd(&issuer),
            from: muxed(&holder),
            amount,
        })
    };
    let v = w.submit(&issuer, vec![op(None, claw(51))], &[&issuer]);
    assert_eq!(codes(&v), ("tx_failed", vec!["op_underfunded"]));
    let v = w.submit(&issuer, vec![op(None, claw(20))], &[&issuer]);
    assert_eq!(codes(&v), ("tx_success", vec!["op_success"]));
    // set_trust_line_flags: both auth flags at once is an invalid state; revoking is allowed now
    let stlf = |set, clear| {
        OperationBody::SetTrustLineFlags(SetTrustLineFlagsOp {
            trustor: account_id(&holder),
            asset: usd(&issuer),
            clear_flags: clear,
            set_flags: set,
        })
    };
    let v = w.submit(
        &issuer,
        vec![op(None, stlf(TL_AUTHORIZED_TO_MAINTAIN_LIABILITIES, 0))],
        &[&issuer],
    );
    assert_eq!(codes(&v), ("tx_failed", vec!["op_invalid_state"]));
    let v = w.submit(&issuer, vec![op(None, stlf(0, TL_AUTHORIZED))], &[&issuer]);
    assert!(included(&v));
    let v = w.submit(
        &issuer,
        vec![op(None, stlf(TL_CLAWBACK_ENABLED, 0))],
        &[&issuer],
    );
    assert_eq!(codes(&v), ("tx_failed", vec!["op_malformed"]));
    // immutable: no flag can change any more, and the account cannot merge
    assert!(included(&w.submit(
        &issuer,
        vec![op(None, set_flags(AUTH_IMMUTABLE))],
        &[&issuer]
    )));
    let clear = OperationBody::SetOptions(SetOptionsOp {
        clear_flags: Some(AUTH_REVOCABLE),
        ..Default::default()
    });
    let v = w.submit(&issuer, vec![op(None, clear)], &[&issuer]);
    assert_eq!(codes(&v), ("tx_failed", vec!["op_cant_change"]));
    let v = w.submit(
        &issuer,
        vec![op(None, OperationBody::AccountMerge(muxed(&holder)))],
        &[&issuer],
    );
    assert_eq!(codes(&v), ("tx_failed", vec!["op_immutable_set"]));
}

#[test]
fn data_bump_and_merge() {
    let mut w = World::new();
    let (a, b) = (key(1), key(2));
    w.fund(&a, 100 * XLM);
    w.fund(&b, 100 * XLM);
    let data = |v: Option<&[u8]>| {
        OperationBody::ManageData(ManageDataOp {
            data_name: String64("note".try_into().unwrap()),
            data_value: v.map(|v| DataValue(v.to_vec().try_into().unwrap())),
        })
    };
    let v = w.submit(&a, vec![op(None, data(None))], &[&a]);
    assert_eq!(codes(&v), ("tx_failed", vec!["op_data_name_not_found"]));
    assert!(included(&w.submit(
        &a,
        vec![op(None, data(Some(b"x")))],
        &[&a]
    )));
    assert_eq!(w.acc(&a).num_sub_entries, 1);
    let v = w.submit(
        &a,
        vec![op(None, OperationBody::AccountMerge(muxed(&b)))],
        &[&a],
    );
    assert_eq!(codes(&v), ("tx_failed", vec!["op_has_sub_entries"]));
    assert!(included(&w.submit(&a, vec![op(None, data(None))], &[&a])));
    assert_eq!(w.acc(&a).num_sub_entries, 0);
    // bumping into the current ledger's starting sequence blocks merging
    let far = starting_sequence(w.ledger.header.ledger_seq + 2);
    assert!(included(&w.submit(
        &a,
        vec![op(
            None,
            OperationBody::BumpSequence(BumpSequenceOp {
                bump_to: SequenceNumber(far)
            })
        )],
        &[&a]
    )));
    assert_eq!(w.seq(&a), far);
    let v = w.submit(
        &a,
        vec![op(None, OperationBody::AccountMerge(muxed(&b)))],
        &[&a],
    );
    assert_eq!(codes(&v), ("tx_failed", vec!["op_seq_num_too_far"]));
    // a fresh account merges; a later op sourced by it then has no account
    let c = key(3);
    w.fund(&c, 10 * XLM);
    let v = w.submit(
        &c,
        vec![
            op(None, OperationBody::AccountMerge(muxed(&b))),
            op(
                None,
                OperationBody::BumpSequence(BumpSequenceOp {
                    bump_to: SequenceNumber(0),
                }),
            ),
        ],
        &[&c],
    );
    assert_eq!(
        codes(&v),
        ("tx_failed", vec!["op_success", "op_no_source_account"])
    );
    let b_before = w.acc(&b).balance;
    let v = w.submit(
        &c,
        vec![op(None, OperationBody::AccountMerge(muxed(&b)))],
        &[&c],
    );
    assert_eq!(codes(&v), ("tx_success", vec!["op_success"]));
    assert!(!w.ledger.state.accounts.contains_key(&id(&c)));
    assert_eq!(w.acc(&b).balance, b_before + 10 * XLM - 200 - 100);
}
