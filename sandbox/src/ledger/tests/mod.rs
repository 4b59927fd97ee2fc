//! Unit tests of the ledger rules. Expected codes are stellar-core's (as named in the Horizon
//! reference §10), never values produced by this code. This file: the helpers (keys, a `World`
//! that submits and funds, codes of a verdict); the tests are in the files named below.

use super::*;
use airgap::horizon::codes::ResultCodes;
use ed25519_dalek::SigningKey;
use stellar_xdr::{
    AllowTrustOp, AlphaNum4, Asset, AssetCode, AssetCode4, BumpSequenceOp, ChangeTrustAsset,
    ChangeTrustOp, ClawbackOp, DataValue, FeeBumpTransactionEnvelope, FeeBumpTransactionInnerTx,
    ManageDataOp, PaymentOp, SetOptionsOp, SetTrustLineFlagsOp, Signer, SignerKey, String64,
    TimeBounds, TimePoint, TransactionMeta, TransactionV1Envelope,
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

mod cadence;
mod events;
mod invariants;
mod operations;
mod signatures;
mod transactions;
