//! Regressions: inputs that once crashed the library, each named after what it was. The inputs
//! the fuzzers found are also kept in fuzz/corpus/<target>/ (`crash-…`) and replayed by
//! tests/it/fuzz_corpus.rs.
use airgap::network::Network;
use airgap::review;
use stellar_xdr::{
    Memo, MuxedAccount, Operation, OperationBody, Preconditions, SequenceNumber, SetOptionsOp,
    Signer, SignerKey, Transaction, TransactionEnvelope, TransactionExt, TransactionV1Envelope,
    Uint256,
};

fn envelope_of(body: OperationBody) -> TransactionEnvelope {
    TransactionEnvelope::Tx(TransactionV1Envelope {
        tx: Transaction {
            source_account: MuxedAccount::Ed25519(Uint256([1; 32])),
            fee: 100,
            seq_num: SequenceNumber(1),
            cond: Preconditions::None,
            memo: Memo::None,
            operations: vec![Operation {
                source_account: None,
                body,
            }]
            .try_into()
            .unwrap(),
            ext: TransactionExt::V0,
        },
        signatures: Default::default(),
    })
}

/// Found by the envelope_xdr fuzz target: review added a set_options master weight and signer
/// weight (u32 each in the XDR, any value in a hostile envelope) in u32 and panicked on overflow.
#[test]
fn review_weight_overflow() {
    let signer = |weight| Signer {
        key: SignerKey::Ed25519(Uint256([2; 32])),
        weight,
    };
    for (master, added, threshold) in [
        (u32::MAX, 1, 1),
        (u32::MAX, u32::MAX, u32::MAX),
        (1, u32::MAX, 255),
    ] {
        let env = envelope_of(OperationBody::SetOptions(SetOptionsOp {
            inflation_dest: None,
            clear_flags: None,
            set_flags: None,
            master_weight: Some(master),
            low_threshold: None,
            med_threshold: None,
            high_threshold: Some(threshold),
            home_domain: None,
            signer: Some(signer(added)),
        }));
        let r = review::review(&env, &Network::Testnet, 0, &[]).expect("review");
        assert!(
            !r.findings.iter().any(|f| f.message.contains("locked out")),
            "weights {master} + {added} reach threshold {threshold}"
        );
    }
    // Still warned: a threshold above what the transaction gives.
    let env = envelope_of(OperationBody::SetOptions(SetOptionsOp {
        inflation_dest: None,
        clear_flags: None,
        set_flags: None,
        master_weight: Some(0),
        low_threshold: Some(u32::MAX),
        med_threshold: None,
        high_threshold: None,
        home_domain: None,
        signer: None,
    }));
    let r = review::review(&env, &Network::Testnet, 0, &[]).expect("review");
    let lockout = r
        .findings
        .iter()
        .find(|f| f.message.contains("locked out"))
        .expect("lockout finding");
    assert!(lockout.message.contains(&format!("at least {}", u32::MAX)));
}

/// Found by the carry fuzz target: `carry::pieces` sliced the text at byte 3 (`ur:`) and byte 12
/// (`web+stellar:`) to compare prefixes, and panicked when that byte fell inside a multi-byte
/// character.
#[test]
fn carry_prefix_char_boundary() {
    for text in [
        "UR:BYTES/1-2/LPA\nu\u{e9}\u{e9}\u{e9}",
        "ur:bytes/x\n\u{e9}\u{e9}\u{e9}\u{e9}",
        "a\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}",
        "web+stellar\u{e9}tx?xdr=AAAA",
        "\u{20ac}\u{20ac}\u{20ac}\u{20ac}x",
    ] {
        // An error is the right answer; a panic is the bug.
        let _ = airgap::carry::pieces(text.as_bytes());
    }
    assert!(matches!(
        airgap::carry::pieces("WEB+STELLAR:tx?xdr=AAAA".as_bytes())
            .unwrap()
            .as_slice(),
        [airgap::carry::Piece::Envelope { .. }]
    ));
}

/// Found by the envelope_xdr fuzz target: txrep wrote an asset code starting with `"` bare, and
/// read it back as the start of a quoted string, so `from_txrep(to_txrep(e))` failed. Codes are
/// letters and digits on the network, but a hostile envelope can hold any bytes.
#[test]
fn txrep_quote_in_asset_code() {
    use stellar_xdr::{AlphaNum12, AlphaNum4, Asset, AssetCode12, AssetCode4, PaymentOp};
    let issuer = || {
        stellar_xdr::AccountId(stellar_xdr::PublicKey::PublicKeyTypeEd25519(Uint256(
            [3; 32],
        )))
    };
    let assets = [
        Asset::CreditAlphanum4(AlphaNum4 {
            asset_code: AssetCode4(*b"\"SD\0"),
            issuer: issuer(),
        }),
        Asset::CreditAlphanum4(AlphaNum4 {
            asset_code: AssetCode4(*b"A\"\"\""),
            issuer: issuer(),
        }),
        Asset::CreditAlphanum12(AlphaNum12 {
            asset_code: AssetCode12(*b"\"LONG\"CODE\0\0"),
            issuer: issuer(),
        }),
    ];
    for asset in assets {
        let env = envelope_of(OperationBody::Payment(PaymentOp {
            destination: MuxedAccount::Ed25519(Uint256([2; 32])),
            asset,
            amount: 1,
        }));
        let text = airgap::txrep::to_txrep(&env).expect("to_txrep");
        assert_eq!(airgap::txrep::from_txrep(&text), Ok(env), "{text}");
    }
}
