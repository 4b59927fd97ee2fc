//! Unit tests of the ledger rules. Expected codes are stellar-core's (as named in the Horizon
//! reference §10), never values produced by this code.

use super::*;
use airgap::horizon::codes::ResultCodes;
use stellar_xdr::{
    AlphaNum4, AssetCode4, ChangeTrustAsset, DataValue, Signer, String64, TimeBounds, TimePoint,
    TransactionV1Envelope,
};

const NOW: u64 = 1_700_000_000;
const XLM: i64 = 10_000_000;

fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

fn id(k: &SigningKey) -> [u8; 32] {
    k.verifying_key().to_bytes()
}

fn account_id(k: &SigningKey) -> AccountId {
    AccountId(PublicKey::PublicKeyTypeEd25519(Uint256(id(k))))
}

fn muxed(k: &SigningKey) -> MuxedAccount {
    MuxedAccount::Ed25519(Uint256(id(k)))
}

fn op(source: Option<&SigningKey>, body: OperationBody) -> Operation {
    Operation {
        source_account: source.map(muxed),
        body,
    }
}

fn usd(issuer: &SigningKey) -> Asset {
    Asset::CreditAlphanum4(AlphaNum4 {
        asset_code: AssetCode4(*b"USD\0"),
        issuer: account_id(issuer),
    })
}

fn usd_line(issuer: &SigningKey) -> ChangeTrustAsset {
    ChangeTrustAsset::CreditAlphanum4(AlphaNum4 {
        asset_code: AssetCode4(*b"USD\0"),
        issuer: account_id(issuer),
    })
}

fn usd_key(issuer: &SigningKey) -> AssetKey {
    AssetKey {
        code: "USD".into(),
        issuer: id(issuer),
    }
}

struct Tx {
    source: SigningKey,
    seq: i64,
    fee: u32,
    cond: Preconditions,
    ops: Vec<Operation>,
}

fn sign(ledger: &Ledger, tx: Tx, signers: &[&SigningKey]) -> (TransactionEnvelope, [u8; 32]) {
    let tx = Transaction {
        source_account: muxed(&tx.source),
        fee: tx.fee,
        seq_num: SequenceNumber(tx.seq),
        cond: tx.cond,
        memo: Memo::None,
        operations: tx.ops.try_into().unwrap(),
        ext: TransactionExt::V0,
    };
    let unsigned = TransactionEnvelope::Tx(TransactionV1Envelope {
        tx: tx.clone(),
        signatures: Default::default(),
    });
    let hash = airgap::envelope::hash(&unsigned, &Network::from_passphrase(&ledger.passphrase));
    let sigs: Vec<DecoratedSignature> = signers
        .iter()
        .map(|k| DecoratedSignature {
            hint: SignatureHint(hint_of(&id(k))),
            signature: stellar_xdr::Signature(
                k.sign(&hash).to_bytes().to_vec().try_into().unwrap(),
            ),
        })
        .collect();
    (
        TransactionEnvelope::Tx(TransactionV1Envelope {
            tx,
            signatures: sigs.try_into().unwrap(),
        }),
        hash,
    )
}

struct World {
    ledger: Ledger,
}

impl World {
    fn new() -> World {
        World {
            ledger: Ledger::genesis(super::super::PASSPHRASE, NOW),
        }
    }

    fn seq(&self, k: &SigningKey) -> i64 {
        self.ledger.state.accounts[&id(k)].seq_num
    }

    fn acc(&self, k: &SigningKey) -> &Account {
        &self.ledger.state.accounts[&id(k)]
    }

    /// Submit with the next sequence number and the minimum fee; commit when included.
    fn submit(
        &mut self,
        source: &SigningKey,
        ops: Vec<Operation>,
        signers: &[&SigningKey],
    ) -> Verdict {
        let fee = 100 * u32::try_from(ops.len()).unwrap();
        let tx = Tx {
            source: source.clone(),
            seq: self.seq(source) + 1,
            fee,
            cond: Preconditions::None,
            ops,
        };
        self.submit_tx(tx, signers)
    }

    fn submit_tx(&mut self, tx: Tx, signers: &[&SigningKey]) -> Verdict {
        let (env, hash) = sign(&self.ledger, tx, signers);
        let verdict = self.ledger.evaluate(&env, "", hash, NOW).unwrap();
        if let Verdict::Included(closed) = &verdict {
            self.ledger.commit(closed);
        }
        verdict
    }

    fn fund(&mut self, k: &SigningKey, amount: i64) {
        let root = root_key(&self.ledger.network_id);
        let v = self.submit(
            &root.clone(),
            vec![op(
                None,
                OperationBody::CreateAccount(CreateAccountOp {
                    destination: account_id(k),
                    starting_balance: amount,
                }),
            )],
            &[&root],
        );
        assert_eq!(codes(&v), ("tx_success", vec!["op_success"]));
    }
}

/// The transaction code and the operation codes of a verdict, compared with
/// `("tx_…", vec!["op_…", …])`.
#[derive(Debug)]
struct Codes(String, Vec<String>);

impl PartialEq<(&str, Vec<&str>)> for Codes {
    fn eq(&self, (tx, ops): &(&str, Vec<&str>)) -> bool {
        self.0 == *tx && self.1 == *ops
    }
}

fn codes(v: &Verdict) -> Codes {
    let result = match v {
        Verdict::Rejected(r) => r.clone(),
        Verdict::Included(c) => {
            TransactionResult::from_xdr_base64(&c.tx.result_xdr, Limits::none()).unwrap()
        }
    };
    let codes = ResultCodes::of(&result);
    Codes(codes.transaction, codes.operations)
}

fn included(v: &Verdict) -> bool {
    matches!(v, Verdict::Included(_))
}

use stellar_xdr::ReadXdr;

fn payment(to: &SigningKey, asset: Asset, amount: i64) -> OperationBody {
    OperationBody::Payment(PaymentOp {
        destination: muxed(to),
        asset,
        amount,
    })
}

fn set_flags(flags: u32) -> OperationBody {
    OperationBody::SetOptions(SetOptionsOp {
        set_flags: Some(flags),
        ..Default::default()
    })
}

fn trust(issuer: &SigningKey, limit: i64) -> OperationBody {
    OperationBody::ChangeTrust(ChangeTrustOp {
        line: usd_line(issuer),
        limit,
    })
}

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

fn fee_bump(
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
