//! CAP-67 events of classic operations, held to stellar-core's `EventManager.cpp`
//! (`eventForTransferWithIssuerCheck`, `getPossibleMuxedData`, `newClawbackEvent`,
//! `newSetAuthorizedEvent`, `TxEventManager::newFeeEvent`) and `TransactionUtils.cpp`
//! (`getAssetContractID`, `makeSep0011AssetStringSCVal`, `makeClassicMemoSCVal`).

use super::*;
use stellar_xdr::{
    ContractEvent, ContractEventBody, Int128Parts, ScAddress, ScVal, TransactionEvent,
    TransactionEventStage,
};

/// Submit with a memo; commit when included.
fn submit_memo(w: &mut World, source: &SigningKey, body: OperationBody, memo: Memo) -> Verdict {
    let tx = Transaction {
        source_account: muxed(source),
        fee: 100,
        seq_num: SequenceNumber(w.seq(source) + 1),
        cond: Preconditions::None,
        memo,
        operations: vec![op(None, body)].try_into().unwrap(),
        ext: TransactionExt::V0,
    };
    let unsigned = TransactionEnvelope::Tx(TransactionV1Envelope {
        tx: tx.clone(),
        signatures: Default::default(),
    });
    let network = Network::from_passphrase(&w.ledger.passphrase);
    let hash = airgap::envelope::hash(&unsigned, &network);
    let sig = DecoratedSignature {
        hint: SignatureHint(hint_of(&id(source))),
        signature: stellar_xdr::Signature(
            source.sign(&hash).to_bytes().to_vec().try_into().unwrap(),
        ),
    };
    let env = TransactionEnvelope::Tx(TransactionV1Envelope {
        tx,
        signatures: vec![sig].try_into().unwrap(),
    });
    let v = w.ledger.evaluate(&env, "", hash, NOW).unwrap();
    if let Verdict::Included(c) = &v {
        w.ledger.commit(c);
    }
    v
}

/// The events of each operation of an included transaction.
fn events(v: &Verdict) -> Vec<ContractEvent> {
    let Verdict::Included(c) = v else {
        panic!("included")
    };
    c.tx.op_events
        .iter()
        .flatten()
        .map(|e| ContractEvent::from_xdr_base64(e, Limits::none()).unwrap())
        .collect()
}

fn sym(s: &str) -> ScVal {
    ScVal::Symbol(stellar_xdr::ScSymbol(s.try_into().unwrap()))
}

fn addr(k: &SigningKey) -> ScVal {
    ScVal::Address(ScAddress::Account(account_id(k)))
}

fn string(s: &str) -> ScVal {
    ScVal::String(stellar_xdr::ScString(s.try_into().unwrap()))
}

fn i128v(n: i64) -> ScVal {
    ScVal::I128(Int128Parts {
        hi: 0,
        lo: n as u64,
    })
}

fn map(amount: i64, id: ScVal) -> ScVal {
    ScVal::Map(Some(stellar_xdr::ScMap(
        vec![
            stellar_xdr::ScMapEntry {
                key: sym("amount"),
                val: i128v(amount),
            },
            stellar_xdr::ScMapEntry {
                key: sym("to_muxed_id"),
                val: id,
            },
        ]
        .try_into()
        .unwrap(),
    )))
}

/// `(contract, topics, data)` of an event.
fn parts(e: &ContractEvent) -> ([u8; 32], Vec<ScVal>, ScVal) {
    let ContractEventBody::V0(b) = &e.body;
    (
        e.contract_id.as_ref().unwrap().0 .0,
        b.topics.to_vec(),
        b.data.clone(),
    )
}

fn g(k: &SigningKey) -> String {
    stellar_strkey::ed25519::PublicKey(id(k))
        .to_string()
        .to_string()
}

#[test]
fn classic_operations_emit_cap67_events() {
    let mut w = World::new();
    let network = Network::from_passphrase(&w.ledger.passphrase);
    let (issuer, a, b) = (key(1), key(2), key(3));
    w.fund(&issuer, 100 * XLM);
    w.fund(&a, 100 * XLM);
    w.fund(&b, 100 * XLM);
    let native_id = airgap::sac::contract_id(&Asset::Native, &network);
    let usd_id = airgap::sac::contract_id(&usd(&issuer), &network);
    let usd_name = format!("USD:{}", g(&issuer));

    // a lumen payment with an ID memo: the memo is the customer, `to_muxed_id` a u64
    let v = submit_memo(&mut w, &a, payment(&b, Asset::Native, 5), Memo::Id(42));
    let (contract, topics, data) = parts(&events(&v)[0]);
    assert_eq!(contract, native_id);
    assert_eq!(
        topics,
        vec![sym("transfer"), addr(&a), addr(&b), string("native")]
    );
    assert_eq!(data, map(5, ScVal::U64(42)));
    // its fee event, before all transactions, on the native contract
    let Verdict::Included(c) = &v else { panic!() };
    let fee = TransactionEvent::from_xdr_base64(&c.tx.tx_events[0], Limits::none()).unwrap();
    assert_eq!(fee.stage, TransactionEventStage::BeforeAllTxs);
    assert_eq!(
        parts(&fee.event),
        (native_id, vec![sym("fee"), addr(&a)], i128v(100))
    );

    // to a muxed address: the ID is the muxed one (the text memo is not used), the topic is G…
    let to_muxed = MuxedAccount::MuxedEd25519(stellar_xdr::MuxedAccountMed25519 {
        id: 7,
        ed25519: Uint256(id(&b)),
    });
    let body = OperationBody::Payment(PaymentOp {
        destination: to_muxed,
        asset: Asset::Native,
        amount: 6,
    });
    let memo = Memo::Text("order 9".try_into().unwrap());
    let (_, topics, data) = parts(&events(&submit_memo(&mut w, &a, body, memo))[0]);
    assert_eq!(topics[2], addr(&b));
    assert_eq!(data, map(6, ScVal::U64(7)));

    // without memo or muxed destination, the bare amount
    let (_, _, data) =
        parts(&events(&w.submit(&a, vec![op(None, payment(&b, Asset::Native, 7))], &[&a]))[0]);
    assert_eq!(data, i128v(7));

    // issuance is a mint, a payment to the issuer a burn (its amount bare, even with a memo)
    assert!(included(&w.submit(
        &issuer,
        vec![op(None, set_flags(AUTH_REVOCABLE | AUTH_CLAWBACK_ENABLED))],
        &[&issuer]
    )));
    assert!(included(&w.submit(
        &a,
        vec![op(None, trust(&issuer, 1000))],
        &[&a]
    )));
    let v = submit_memo(
        &mut w,
        &issuer,
        payment(&a, usd(&issuer), 300),
        Memo::Text("t".try_into().unwrap()),
    );
    let (contract, topics, data) = parts(&events(&v)[0]);
    assert_eq!(contract, usd_id);
    assert_eq!(topics, vec![sym("mint"), addr(&a), string(&usd_name)]);
    assert_eq!(data, map(300, string("t")));
    let v = submit_memo(
        &mut w,
        &a,
        payment(&issuer, usd(&issuer), 20),
        Memo::Hash(stellar_xdr::Hash([9; 32])),
    );
    let (_, topics, data) = parts(&events(&v)[0]);
    assert_eq!(topics, vec![sym("burn"), addr(&a), string(&usd_name)]);
    assert_eq!(data, i128v(20));

    // clawback and authorization
    let claw = OperationBody::Clawback(ClawbackOp {
        asset: usd(&issuer),
        from: muxed(&a),
        amount: 30,
    });
    let (_, topics, data) = parts(&events(&w.submit(&issuer, vec![op(None, claw)], &[&issuer]))[0]);
    assert_eq!(topics, vec![sym("clawback"), addr(&a), string(&usd_name)]);
    assert_eq!(data, i128v(30));
    let deauth = OperationBody::SetTrustLineFlags(SetTrustLineFlagsOp {
        trustor: account_id(&a),
        asset: usd(&issuer),
        clear_flags: TL_AUTHORIZED,
        set_flags: 0,
    });
    let (_, topics, data) =
        parts(&events(&w.submit(&issuer, vec![op(None, deauth)], &[&issuer]))[0]);
    assert_eq!(
        topics,
        vec![sym("set_authorized"), addr(&a), string(&usd_name)]
    );
    assert_eq!(data, ScVal::Bool(false));

    // a failed transaction reports no operation events
    let v = w.submit(&a, vec![op(None, payment(&b, usd(&issuer), 1))], &[&a]);
    assert!(included(&v));
    assert!(events(&v).is_empty());
}
