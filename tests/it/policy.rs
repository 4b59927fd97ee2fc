//! The signing policy: for each rule kind, an envelope it allows and one it refuses.
use airgap::account::AccountId;
use airgap::amount::Amount;
use airgap::asset::Asset;
use airgap::build::{self, OpBody, OpSpec, SetOptionsSpec, TimeWindow, TxSpec};
use airgap::network::Network;
use airgap::policy::{self, Policy, PolicyError, Violation};
use stellar_xdr::TransactionEnvelope;

/// When the transactions are checked: a day before they expire (`tx_from`'s max time), within
/// every policy's max_validity.
const NOW: u64 = 1_900_000_000 - 86_400;

/// A valid account ID made of one repeated byte.
fn acct(n: u8) -> AccountId {
    AccountId([n; 32])
}

fn issuer() -> AccountId {
    acct(1)
}

fn usd() -> Asset {
    format!("USD:{}", issuer()).parse().expect("asset")
}

fn amt(s: &str) -> Amount {
    s.parse().expect("amount")
}

fn tx_from(source: AccountId, ops: Vec<OpSpec>) -> TransactionEnvelope {
    let spec = TxSpec {
        network: Network::Testnet,
        source,
        sequence: 100,
        base_fee: 100,
        time: TimeWindow {
            min: 0,
            max: 1_900_000_000,
        },
        memo: Default::default(),
        operations: ops,
    };
    build::envelope(build::build(&spec).expect("test transaction builds"))
}

/// A transaction from the issuer with these operations (no per-operation sources).
fn tx(ops: Vec<OpBody>) -> TransactionEnvelope {
    tx_from(issuer(), ops.into_iter().map(OpSpec::new).collect())
}

fn pay(to: AccountId, asset: Asset, amount: &str) -> OpBody {
    OpBody::Payment {
        destination: to,
        asset,
        amount: amt(amount),
    }
}

fn set_options(s: SetOptionsSpec) -> OpBody {
    OpBody::SetOptions(s)
}

fn policy(extra: &str) -> Policy {
    let text = format!(r#"{{"version": 1, "networks": ["testnet"]{extra}}}"#);
    policy::parse(&text).unwrap_or_else(|e| panic!("test policy parses: {e}\n{text}"))
}

fn refused(p: &Policy, env: &TransactionEnvelope) -> Violation {
    match p.check(env, &Network::Testnet, NOW) {
        Ok(()) => panic!("the policy allowed what it should refuse"),
        Err(v) => v,
    }
}

fn allowed(p: &Policy, env: &TransactionEnvelope) {
    if let Err(v) = p.check(env, &Network::Testnet, NOW) {
        panic!("the policy refused what it should allow: {v}");
    }
}

// networks

#[test]
fn networks() {
    let p = policy("");
    let env = tx(vec![OpBody::BumpSequence { to: 200 }]);
    assert!(p.check(&env, &Network::Testnet, NOW).is_ok());
    let v = p.check(&env, &Network::Pubnet, NOW).unwrap_err();
    assert_eq!(v.rule, "networks");
    assert_eq!(v.operation, None);
    assert!(v.message.contains("pubnet"), "{}", v.message);
    assert!(v.message.contains("testnet"), "{}", v.message);

    // A passphrase names a network too, and a custom one is compared by passphrase.
    let p = policy::parse(
        r#"{"version": 1, "networks": ["Test SDF Network ; September 2015", "My Net ; 2024"]}"#,
    )
    .expect("parses");
    assert!(p.check(&env, &Network::Testnet, NOW).is_ok());
    assert!(p
        .check(&env, &Network::Custom("My Net ; 2024".into()), NOW)
        .is_ok());
    let v = p
        .check(&env, &Network::Custom("Other Net ; 2024".into()), NOW)
        .unwrap_err();
    assert_eq!(v.rule, "networks");
    // A passphrase from the online side never reaches the terminal raw.
    let v = p
        .check(&env, &Network::Custom("Evil \x1b[2J Net".into()), NOW)
        .unwrap_err();
    assert!(!v.message.contains('\x1b'), "{}", v.message);
    assert!(v.message.contains("\\x1b"), "{}", v.message);
}

// source_accounts

#[test]
fn source_accounts_transaction_source() {
    let p = policy(&format!(r#", "source_accounts": ["{}"]"#, issuer()));
    allowed(&p, &tx(vec![OpBody::BumpSequence { to: 200 }]));
    let other = tx_from(acct(9), vec![OpSpec::new(OpBody::BumpSequence { to: 200 })]);
    let v = refused(&p, &other);
    assert_eq!(v.rule, "source_accounts");
    assert!(v.message.contains(&acct(9).to_string()), "{}", v.message);
}

#[test]
fn source_accounts_apply_to_every_operation() {
    let p = policy(&format!(r#", "source_accounts": ["{}"]"#, issuer()));
    let ops = |src| {
        vec![
            OpSpec::new(OpBody::BumpSequence { to: 200 }),
            OpSpec {
                source: Some(src),
                body: pay(acct(3), Asset::Native, "1"),
            },
        ]
    };
    allowed(&p, &tx_from(issuer(), ops(issuer())));
    let v = refused(&p, &tx_from(issuer(), ops(acct(7))));
    assert_eq!(v.rule, "source_accounts");
    assert_eq!(v.operation, Some(2));
    assert!(v.message.contains(&acct(7).to_string()), "{}", v.message);
}

#[test]
fn source_accounts_apply_to_the_fee_bump_payer() {
    let p = policy(&format!(r#", "source_accounts": ["{}"]"#, issuer()));
    let inner = match tx(vec![OpBody::BumpSequence { to: 200 }]) {
        TransactionEnvelope::Tx(v1) => v1,
        _ => unreachable!("build makes v1 envelopes"),
    };
    let bump = |payer: AccountId| {
        TransactionEnvelope::TxFeeBump(stellar_xdr::FeeBumpTransactionEnvelope {
            tx: stellar_xdr::FeeBumpTransaction {
                fee_source: payer.to_muxed(),
                fee: 400,
                inner_tx: stellar_xdr::FeeBumpTransactionInnerTx::Tx(inner.clone()),
                ext: stellar_xdr::FeeBumpTransactionExt::V0,
            },
            signatures: Default::default(),
        })
    };
    allowed(&p, &bump(issuer()));
    let v = refused(&p, &bump(acct(8)));
    assert_eq!(v.rule, "source_accounts");
    assert!(v.message.contains("fee"), "{}", v.message);
}

// operations

#[test]
fn operations() {
    let p = policy(r#", "operations": ["payment", "set_options"]"#);
    allowed(&p, &tx(vec![pay(acct(2), usd(), "5")]));
    let v = refused(
        &p,
        &tx(vec![
            pay(acct(2), usd(), "5"),
            OpBody::Clawback {
                from: acct(2),
                asset: usd(),
                amount: amt("5"),
            },
        ]),
    );
    assert_eq!(v.rule, "operations");
    assert_eq!(v.operation, Some(2));
    assert!(v.message.contains("clawback"), "{}", v.message);
}

#[test]
fn operations_the_policy_cannot_govern_are_always_refused() {
    // No `operations` field: every governable type is allowed, but not a path payment.
    let p = policy("");
    let mut env = tx(vec![pay(acct(2), usd(), "5")]);
    allowed(&p, &env);
    if let TransactionEnvelope::Tx(v1) = &mut env {
        let mut ops = v1.tx.operations.to_vec();
        ops[0].body = stellar_xdr::OperationBody::PathPaymentStrictSend(
            stellar_xdr::PathPaymentStrictSendOp {
                send_asset: usd().to_xdr(),
                send_amount: 50_000_000,
                destination: acct(2).to_muxed(),
                dest_asset: stellar_xdr::Asset::Native,
                dest_min: 1,
                path: Default::default(),
            },
        );
        v1.tx.operations = ops.try_into().expect("one operation");
    }
    let v = refused(&p, &env);
    assert_eq!(v.rule, "operations");
    assert!(
        v.message.contains("path_payment_strict_send"),
        "{}",
        v.message
    );
}

// destinations

#[test]
fn destinations() {
    let p = policy(&format!(
        r#", "destinations": {{"USD:{}": ["{}"], "native": ["{}"]}}"#,
        issuer(),
        acct(2),
        acct(3)
    ));
    allowed(
        &p,
        &tx(vec![
            pay(acct(2), usd(), "5"),
            pay(acct(3), Asset::Native, "5"),
            OpBody::CreateAccount {
                destination: acct(3),
                starting_balance: amt("2"),
            },
        ]),
    );
    let v = refused(
        &p,
        &tx(vec![pay(acct(2), usd(), "5"), pay(acct(4), usd(), "1")]),
    );
    assert_eq!(v.rule, format!("destinations.USD:{}", issuer()));
    assert_eq!(v.operation, Some(2));
    assert!(v.message.contains(&acct(4).to_string()), "{}", v.message);

    // create_account sends native.
    let v = refused(
        &p,
        &tx(vec![OpBody::CreateAccount {
            destination: acct(2),
            starting_balance: amt("2"),
        }]),
    );
    assert_eq!(v.rule, "destinations.native");

    // An asset the map does not list may be sent to no one.
    let eur: Asset = format!("EUR:{}", issuer()).parse().expect("asset");
    let v = refused(&p, &tx(vec![pay(acct(2), eur, "1")]));
    assert_eq!(v.rule, "destinations");
    assert!(v.message.contains("EUR:"), "{}", v.message);
}

#[test]
fn destinations_tell_4_and_12_byte_codes_apart() {
    let p = policy(&format!(
        r#", "destinations": {{"USD:{}": ["{}"]}}"#,
        issuer(),
        acct(2)
    ));
    let mut env = tx(vec![pay(acct(2), usd(), "5")]);
    allowed(&p, &env);
    if let TransactionEnvelope::Tx(v1) = &mut env {
        let mut ops = v1.tx.operations.to_vec();
        if let stellar_xdr::OperationBody::Payment(pay) = &mut ops[0].body {
            let mut code = [0u8; 12];
            code[..3].copy_from_slice(b"USD");
            pay.asset = stellar_xdr::Asset::CreditAlphanum12(stellar_xdr::AlphaNum12 {
                asset_code: stellar_xdr::AssetCode12(code),
                issuer: issuer().to_xdr(),
            });
        }
        v1.tx.operations = ops.try_into().expect("one operation");
    }
    let v = refused(&p, &env);
    assert_eq!(v.rule, "destinations");
    assert!(v.message.contains("12-byte"), "{}", v.message);
}

// max_amount_per_tx

#[test]
fn max_amount_per_tx() {
    let p = policy(&format!(
        r#", "max_amount_per_tx": {{"USD:{}": "1000", "native": "10"}}"#,
        issuer()
    ));
    // Exactly the limit, summed over operations.
    allowed(
        &p,
        &tx(vec![pay(acct(2), usd(), "600"), pay(acct(3), usd(), "400")]),
    );
    let v = refused(
        &p,
        &tx(vec![
            pay(acct(2), usd(), "600"),
            pay(acct(3), usd(), "400"),
            pay(acct(3), usd(), "0.0000001"),
        ]),
    );
    assert_eq!(v.rule, format!("max_amount_per_tx.USD:{}", issuer()));
    assert_eq!(v.operation, Some(3));
    assert!(v.message.contains("1000.0000001"), "{}", v.message);
    assert!(
        v.message.contains("1000 the policy allows"),
        "{}",
        v.message
    );

    // create_account starting balances count toward native.
    allowed(
        &p,
        &tx(vec![
            OpBody::CreateAccount {
                destination: acct(2),
                starting_balance: amt("5"),
            },
            pay(acct(2), Asset::Native, "5"),
        ]),
    );
    let v = refused(
        &p,
        &tx(vec![
            OpBody::CreateAccount {
                destination: acct(2),
                starting_balance: amt("6"),
            },
            pay(acct(2), Asset::Native, "5"),
        ]),
    );
    assert_eq!(v.rule, "max_amount_per_tx.native");

    // Clawbacks count toward their asset.
    let claw = |a: &str| OpBody::Clawback {
        from: acct(2),
        asset: usd(),
        amount: amt(a),
    };
    allowed(&p, &tx(vec![claw("1000")]));
    assert_eq!(
        refused(&p, &tx(vec![claw("1000"), claw("1")])).rule,
        format!("max_amount_per_tx.USD:{}", issuer())
    );

    // An asset with no limit listed may not be moved at all.
    let eur: Asset = format!("EUR:{}", issuer()).parse().expect("asset");
    let v = refused(&p, &tx(vec![pay(acct(2), eur, "1")]));
    assert_eq!(v.rule, "max_amount_per_tx");
}

// max_amount_per_batch

#[test]
fn max_amount_per_batch_refuses_the_whole_batch() {
    let p = policy(&format!(
        r#", "max_amount_per_tx": {{"USD:{0}": "1000"}}, "max_amount_per_batch": {{"USD:{0}": "2000"}}"#,
        issuer()
    ));
    let t = |a: &str| (tx(vec![pay(acct(2), usd(), a)]), Network::Testnet);
    // Each within the per-transaction limit, the sum exactly the batch limit.
    assert!(p.check_batch(&[t("1000"), t("500"), t("500")], NOW).is_ok());
    // Each still within the per-transaction limit, but the third brings the batch over.
    let batch = [t("1000"), t("500"), t("600"), t("1")];
    for (env, net) in &batch {
        assert!(p.check(env, net, NOW).is_ok(), "each alone is allowed");
    }
    let v = p.check_batch(&batch, NOW).unwrap_err();
    assert_eq!(v.rule, format!("max_amount_per_batch.USD:{}", issuer()));
    assert_eq!(v.transaction, Some(3));
    assert!(v.message.contains("2101"), "{}", v.message);
    assert!(
        v.message.contains("no transaction of the batch is signed"),
        "{}",
        v.message
    );

    // One transaction is a batch of one.
    let p = policy(&format!(
        r#", "max_amount_per_batch": {{"USD:{}": "10"}}"#,
        issuer()
    ));
    assert!(p.check(&t("10").0, &Network::Testnet, NOW).is_ok());
    assert_eq!(
        refused(&p, &t("11").0).rule,
        format!("max_amount_per_batch.USD:{}", issuer())
    );
}

#[test]
fn per_transaction_rules_in_a_batch_name_the_transaction() {
    let p = policy("");
    let ok = (tx(vec![OpBody::BumpSequence { to: 200 }]), Network::Testnet);
    let bad = (tx(vec![OpBody::BumpSequence { to: 200 }]), Network::Pubnet);
    assert!(p.check_batch(&[ok.clone(), ok.clone()], NOW).is_ok());
    let v = p.check_batch(&[ok.clone(), bad, ok], NOW).unwrap_err();
    assert_eq!(v.rule, "networks");
    assert_eq!(v.transaction, Some(2));
    assert!(v.to_string().contains("transaction 2"), "{v}");
}

// may_set_flags, may_clear_flags

#[test]
fn may_set_flags() {
    let p = policy(r#", "may_set_flags": ["auth_required", "auth-revocable"]"#);
    let set = |bits| {
        tx(vec![set_options(SetOptionsSpec {
            set_flags: Some(bits),
            ..Default::default()
        })])
    };
    allowed(&p, &set(1 | 2));
    let v = refused(&p, &set(1 | 8));
    assert_eq!(v.rule, "may_set_flags");
    assert!(v.message.contains("auth_clawback_enabled"), "{}", v.message);
    // Absent: no flag may be set.
    assert_eq!(refused(&policy(""), &set(1)).rule, "may_set_flags");
}

#[test]
fn may_clear_flags() {
    let p = policy(r#", "may_clear_flags": ["auth_revocable"]"#);
    let clear = |bits| {
        tx(vec![set_options(SetOptionsSpec {
            clear_flags: Some(bits),
            ..Default::default()
        })])
    };
    allowed(&p, &clear(2));
    let v = refused(&p, &clear(1));
    assert_eq!(v.rule, "may_clear_flags");
    assert!(v.message.contains("auth_required"), "{}", v.message);
}

// allow_auth_immutable, allow_master_weight_change, allow_signer_removal, allow_account_merge

#[test]
fn allow_auth_immutable() {
    let env = tx(vec![set_options(SetOptionsSpec {
        set_flags: Some(1 | 4),
        ..Default::default()
    })]);
    let v = refused(&policy(r#", "may_set_flags": ["auth_required"]"#), &env);
    assert_eq!(v.rule, "allow_auth_immutable");
    allowed(
        &policy(r#", "may_set_flags": ["auth_required"], "allow_auth_immutable": true"#),
        &env,
    );
}

#[test]
fn allow_master_weight_change() {
    let env = tx(vec![set_options(SetOptionsSpec {
        master_weight: Some(0),
        ..Default::default()
    })]);
    let v = refused(&policy(""), &env);
    assert_eq!(v.rule, "allow_master_weight_change");
    assert_eq!(v.operation, Some(1));
    allowed(&policy(r#", "allow_master_weight_change": true"#), &env);
}

#[test]
fn allow_signer_removal() {
    let signer = |w| {
        tx(vec![set_options(SetOptionsSpec {
            signer: Some((acct(5), w)),
            ..Default::default()
        })])
    };
    let p = policy("");
    // Adding a signer is governed by allow_signer_changes (issue 11), removing one by
    // allow_signer_removal.
    assert_eq!(refused(&p, &signer(1)).rule, "allow_signer_changes");
    allowed(
        &policy(r#", "allow_signer_changes": {"kinds": ["ed25519"]}"#),
        &signer(1),
    );
    let v = refused(&p, &signer(0));
    assert_eq!(v.rule, "allow_signer_removal");
    allowed(&policy(r#", "allow_signer_removal": true"#), &signer(0));
}

#[test]
fn allow_account_merge() {
    let env = tx(vec![OpBody::AccountMerge {
        destination: acct(3),
    }]);
    let v = refused(&policy(""), &env);
    assert_eq!(v.rule, "allow_account_merge");
    allowed(&policy(r#", "allow_account_merge": true"#), &env);
    // The merge destination receives native.
    let p = policy(&format!(
        r#", "allow_account_merge": true, "destinations": {{"native": ["{}"]}}"#,
        acct(4)
    ));
    assert_eq!(refused(&p, &env).rule, "destinations.native");
}

// parsing

#[test]
fn unknown_fields_are_refused() {
    let e = policy::parse(r#"{"version": 1, "networks": ["testnet"], "allow_everything": true}"#)
        .unwrap_err();
    assert!(matches!(e, PolicyError::Json(_)), "{e}");
    assert!(e.to_string().contains("allow_everything"), "{e}");
}

#[test]
fn values_are_checked() {
    let bad = |extra: &str| {
        policy::parse(&format!(
            r#"{{"version": 1, "networks": ["testnet"]{extra}}}"#
        ))
        .unwrap_err()
    };
    let g = issuer();
    assert!(matches!(
        policy::parse(r#"{"version": 2, "networks": ["testnet"]}"#),
        Err(PolicyError::Version(2))
    ));
    assert!(matches!(
        policy::parse(r#"{"version": 1}"#),
        Err(PolicyError::Json(_))
    ));
    assert!(matches!(
        policy::parse(r#"{"version": 1, "networks": []}"#),
        Err(PolicyError::NoNetworks)
    ));
    assert!(matches!(
        policy::parse(r#"{"version": 1, "networks": ["testnte"]}"#),
        Err(PolicyError::Network { .. })
    ));
    let typo = "GBZXN7PIRZGNMHGA7MUUUF4GWPY5AYPV6LY4UV2GL6VJGIQRXFDNMADJ";
    assert!(matches!(
        bad(&format!(r#", "source_accounts": ["{typo}"]"#)),
        PolicyError::Account { .. }
    ));
    assert!(matches!(
        bad(r#", "operations": ["path_payment_strict_send"]"#),
        PolicyError::UnknownOperation(_)
    ));
    assert!(matches!(
        bad(r#", "max_amount_per_tx": {"USD": "1"}"#),
        PolicyError::Asset { .. }
    ));
    assert!(matches!(
        bad(&format!(
            r#", "max_amount_per_tx": {{"USD:{g}": "1.00000001"}}"#
        )),
        PolicyError::Amount { .. }
    ));
    assert!(matches!(
        bad(&format!(r#", "max_amount_per_tx": {{"USD:{g}": 1000}}"#)),
        PolicyError::Json(_)
    ));
    assert!(matches!(
        bad(&format!(r#", "destinations": {{"USD:{g}": ["{typo}"]}}"#)),
        PolicyError::Account { .. }
    ));
    assert!(matches!(
        bad(r#", "may_set_flags": ["auth_requried"]"#),
        PolicyError::Flag { .. }
    ));
    assert!(matches!(
        bad(r#", "may_set_flags": ["auth_immutable"]"#),
        PolicyError::ImmutableInSetFlags
    ));
    // The same asset twice, whether as the same key or two spellings of it.
    assert!(matches!(
        bad(&format!(
            r#", "max_amount_per_tx": {{"USD:{g}": "1", "USD:{g}": "1000000"}}"#
        )),
        PolicyError::DuplicateAsset { .. }
    ));
    assert!(matches!(
        bad(r#", "max_amount_per_batch": {"native": "1", "NATIVE": "2"}"#),
        PolicyError::DuplicateAsset { .. }
    ));
}

// the default policy and the description

#[test]
fn default_policy_refuses_pubnet() {
    let p = policy::default_for_new_keystore();
    assert_eq!(
        policy::parse(&policy::default_text()).expect("default text parses"),
        p
    );
    let env = tx(vec![set_options(SetOptionsSpec {
        set_flags: Some(1 | 2),
        home_domain: Some("example.com".into()),
        ..Default::default()
    })]);
    assert!(p.check(&env, &Network::Testnet, NOW).is_ok());
    assert!(p.check(&env, &Network::Standalone, NOW).is_ok());
    let v = p.check(&env, &Network::Pubnet, NOW).unwrap_err();
    assert_eq!(v.rule, "networks");
    // Nothing irreversible by default.
    let merge = tx(vec![OpBody::AccountMerge {
        destination: acct(3),
    }]);
    assert_eq!(refused(&p, &merge).rule, "allow_account_merge");
}

#[test]
fn describe_names_every_rule() {
    let p = policy(&format!(
        r#", "source_accounts": ["{0}"], "max_amount_per_tx": {{"USD:{0}": "1000"}}, "may_set_flags": ["auth_required"], "allow_signer_removal": true"#,
        issuer()
    ));
    let d = p.describe();
    for want in [
        "testnet",
        &issuer().to_string(),
        "1000 USD:",
        "may set account flags: auth_required",
        "may clear account flags: none",
        "remove a signer: ALLOWED",
        "account_merge: refused",
        "set auth_immutable: refused",
        "change the master key weight: refused",
    ] {
        assert!(d.contains(want), "{want:?} missing from:\n{d}");
    }
    let d = policy::default_for_new_keystore().describe();
    assert!(
        d.contains("networks: only testnet, futurenet, standalone"),
        "{d}"
    );
}

#[test]
fn the_documented_policies_parse() {
    let doc = include_str!("../../docs/policy.md");
    let blocks: Vec<&str> = doc
        .split("```json\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .collect();
    assert_eq!(blocks.len(), 2, "the default and the issuer example");
    let default = policy::parse(blocks[0]).expect("documented default parses");
    assert_eq!(default, policy::default_for_new_keystore());
    let issuer = policy::parse(blocks[1]).expect("documented example parses");
    let i: AccountId = "GCEO4KQO4IWOIYSRMWL6LQWU3XWLDDBWAUYFXFLWG44YUJ6YH7V5AXYQ"
        .parse()
        .expect("issuer");
    let dist: AccountId = "GAH3GCWYTYYTQF3UUYN4F4TAHGYKWX74EKKZK5LJRJJ55FVUMM7KR4DF"
        .parse()
        .expect("distribution");
    let usd: Asset = format!("USD:{i}").parse().expect("asset");
    let ceremony = tx_from(
        i,
        vec![
            OpSpec::new(set_options(SetOptionsSpec {
                set_flags: Some(1 | 2 | 8),
                home_domain: Some("example.com".into()),
                ..Default::default()
            })),
            OpSpec::new(OpBody::CreateAccount {
                destination: dist,
                starting_balance: amt("10"),
            }),
            OpSpec {
                source: Some(dist),
                body: OpBody::ChangeTrust {
                    asset: usd.clone(),
                    limit: None,
                },
            },
            OpSpec::new(OpBody::SetTrustLineFlags {
                trustor: dist,
                asset: usd.clone(),
                set: 1,
                clear: 0,
            }),
            OpSpec::new(pay(dist, usd.clone(), "1000000")),
        ],
    );
    allowed(&issuer, &ceremony);
    assert_eq!(
        issuer
            .check(&ceremony, &Network::Pubnet, NOW)
            .unwrap_err()
            .rule,
        "networks"
    );
    let elsewhere = tx_from(i, vec![OpSpec::new(pay(acct(9), usd, "1"))]);
    assert_eq!(
        refused(&issuer, &elsewhere).rule,
        format!("destinations.USD:{i}")
    );
}
