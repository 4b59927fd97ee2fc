//! Operation records as Horizon ingests them (`operations.Base` and its payment kinds, from
//! Horizon's operation processor): the payment-type operations of a transaction with their
//! paging tokens (TOIDs, operation order from 1), muxed addresses split into the account and its
//! `*_muxed` / `*_muxed_id`, and who takes part in an operation or a transaction (Horizon's
//! participants, which `/accounts/{id}/payments` and `/accounts/{id}/transactions` select on).

use airgap::horizon::{self as h, AssetFields, Link, Parties, PaymentDetails, SourceAssetFields};
use stellar_xdr::{
    Asset, Limits, MuxedAccount, Operation, OperationBody, ReadXdr, TransactionEnvelope,
};

use crate::history::toid;
use crate::ledger::{account_id_bytes, muxed_bytes, StoredTx};
use crate::resources::{amount, g_address, links, rfc3339, transaction, ResourceError};

/// A payment-type operation of a stored transaction.
pub struct PaymentRecord {
    /// The operation's id and paging token (TOID).
    pub token: i64,
    /// Accounts taking part (source, destination, funder, created or merged account).
    pub participants: Vec<[u8; 32]>,
    pub record: h::Payment,
}

/// `(G…, M…, muxed id)` of a maybe-muxed account.
fn split(m: &MuxedAccount) -> (String, Option<String>, Option<String>) {
    match m {
        MuxedAccount::Ed25519(k) => (g_address(&k.0), None, None),
        MuxedAccount::MuxedEd25519(med) => {
            let muxed = stellar_strkey::ed25519::MuxedAccount {
                ed25519: med.ed25519.0,
                id: med.id,
            };
            (
                g_address(&med.ed25519.0),
                Some(muxed.to_string().to_string()),
                Some(med.id.to_string()),
            )
        }
    }
}

pub fn asset_fields(asset: &Asset) -> AssetFields {
    let credit = |kind: &str, code: &[u8], issuer: &stellar_xdr::AccountId| AssetFields {
        asset_type: kind.into(),
        asset_code: Some(airgap::asset::AssetCode::from_xdr_bytes(code)),
        asset_issuer: Some(g_address(&account_id_bytes(issuer))),
    };
    match asset {
        Asset::Native => AssetFields {
            asset_type: "native".into(),
            asset_code: None,
            asset_issuer: None,
        },
        Asset::CreditAlphanum4(a) => credit("credit_alphanum4", &a.asset_code.0, &a.issuer),
        Asset::CreditAlphanum12(a) => credit("credit_alphanum12", &a.asset_code.0, &a.issuer),
    }
}

fn source_asset_fields(asset: &Asset) -> SourceAssetFields {
    let a = asset_fields(asset);
    SourceAssetFields {
        source_asset_type: a.asset_type,
        source_asset_code: a.asset_code,
        source_asset_issuer: a.asset_issuer,
    }
}

fn parties(from: &MuxedAccount, to: &MuxedAccount) -> Parties {
    let (from, from_muxed, from_muxed_id) = split(from);
    let (to, to_muxed, to_muxed_id) = split(to);
    Parties {
        from,
        from_muxed,
        from_muxed_id,
        to,
        to_muxed,
        to_muxed_id,
    }
}

/// The operation's source, the transaction's when it names none.
fn op_source(op: &Operation, tx_source: &MuxedAccount) -> MuxedAccount {
    op.source_account
        .clone()
        .unwrap_or_else(|| tx_source.clone())
}

/// The decoded envelope of a stored transaction.
pub fn envelope(tx: &StoredTx) -> Result<TransactionEnvelope, ResourceError> {
    Ok(TransactionEnvelope::from_xdr_base64(
        &tx.envelope_xdr,
        Limits::none(),
    )?)
}

/// The payment-type operations of a stored transaction (`create_account`, `payment`, both path
/// payments, `account_merge`), as Horizon's operation records; `join` embeds the transaction.
pub fn payments(base: &str, tx: &StoredTx, join: bool) -> Vec<PaymentRecord> {
    let Ok(env) = envelope(tx) else {
        return Vec::new();
    };
    let t = airgap::envelope::transaction(&env);
    let hash = hex::encode(tx.hash);
    let joined = if join {
        transaction(base, tx, tx.hash).ok().map(Box::new)
    } else {
        None
    };
    let zero = amount(0);
    let mut out = Vec::new();
    for (i, op) in t.operations.iter().enumerate() {
        let index = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let token = toid(tx.ledger, tx.order(), index);
        let source = op_source(op, &t.source_account);
        let src = muxed_bytes(&source);
        let (details, type_i, participants) = match &op.body {
            OperationBody::CreateAccount(c) => {
                let account = account_id_bytes(&c.destination);
                let (funder, funder_muxed, funder_muxed_id) = split(&source);
                let details = PaymentDetails::CreateAccount {
                    starting_balance: amount(c.starting_balance),
                    funder,
                    funder_muxed,
                    funder_muxed_id,
                    account: g_address(&account),
                };
                (details, 0, vec![src, account])
            }
            OperationBody::Payment(p) => {
                let details = PaymentDetails::Payment {
                    asset: asset_fields(&p.asset),
                    parties: parties(&source, &p.destination),
                    amount: amount(p.amount),
                };
                (details, 1, vec![src, muxed_bytes(&p.destination)])
            }
            OperationBody::PathPaymentStrictReceive(p) => {
                let details = PaymentDetails::PathPaymentStrictReceive {
                    asset: asset_fields(&p.dest_asset),
                    parties: parties(&source, &p.destination),
                    amount: amount(p.dest_amount),
                    path: p.path.iter().map(asset_fields).collect(),
                    // no offers are crossed: what was sent is what was received
                    source_amount: if tx.successful {
                        amount(p.dest_amount)
                    } else {
                        zero.clone()
                    },
                    source_max: amount(p.send_max),
                    source_asset: source_asset_fields(&p.send_asset),
                };
                (details, 2, vec![src, muxed_bytes(&p.destination)])
            }
            OperationBody::PathPaymentStrictSend(p) => {
                let details = PaymentDetails::PathPaymentStrictSend {
                    asset: asset_fields(&p.dest_asset),
                    parties: parties(&source, &p.destination),
                    amount: if tx.successful {
                        amount(p.send_amount)
                    } else {
                        zero.clone()
                    },
                    path: p.path.iter().map(asset_fields).collect(),
                    source_amount: amount(p.send_amount),
                    destination_min: amount(p.dest_min),
                    source_asset: source_asset_fields(&p.send_asset),
                };
                (details, 13, vec![src, muxed_bytes(&p.destination)])
            }
            OperationBody::AccountMerge(dest) => {
                let (account, account_muxed, account_muxed_id) = split(&source);
                let (into, into_muxed, into_muxed_id) = split(dest);
                let details = PaymentDetails::AccountMerge {
                    account,
                    account_muxed,
                    account_muxed_id,
                    into,
                    into_muxed,
                    into_muxed_id,
                };
                (details, 8, vec![src, muxed_bytes(dest)])
            }
            _ => continue,
        };
        let id = token.to_string();
        let (source_account, source_account_muxed, source_account_muxed_id) = split(&source);
        let record = h::Payment {
            links: links([
                ("self", Link::to(format!("{base}/operations/{id}"))),
                (
                    "transaction",
                    Link::to(format!("{base}/transactions/{hash}")),
                ),
                (
                    "effects",
                    Link::to(format!("{base}/operations/{id}/effects")),
                ),
                (
                    "succeeds",
                    Link::to(format!("{base}/effects?order=desc&cursor={id}")),
                ),
                (
                    "precedes",
                    Link::to(format!("{base}/effects?order=asc&cursor={id}")),
                ),
            ]),
            id: id.clone(),
            paging_token: id,
            transaction_successful: tx.successful,
            source_account,
            source_account_muxed,
            source_account_muxed_id,
            details,
            type_i,
            created_at: rfc3339(tx.close_time),
            transaction_hash: hash.clone(),
            transaction: joined.clone(),
        };
        out.push(PaymentRecord {
            token,
            participants,
            record,
        });
    }
    out
}

/// Accounts taking part in one operation (`source`: its source account).
fn op_participants(source: [u8; 32], body: &OperationBody) -> Vec<[u8; 32]> {
    let mut out = vec![source];
    match body {
        OperationBody::CreateAccount(c) => out.push(account_id_bytes(&c.destination)),
        OperationBody::Payment(p) => out.push(muxed_bytes(&p.destination)),
        OperationBody::PathPaymentStrictReceive(p) => out.push(muxed_bytes(&p.destination)),
        OperationBody::PathPaymentStrictSend(p) => out.push(muxed_bytes(&p.destination)),
        OperationBody::AccountMerge(d) => out.push(muxed_bytes(d)),
        OperationBody::AllowTrust(a) => out.push(account_id_bytes(&a.trustor)),
        OperationBody::SetTrustLineFlags(f) => out.push(account_id_bytes(&f.trustor)),
        OperationBody::Clawback(c) => out.push(muxed_bytes(&c.from)),
        _ => {}
    }
    out
}

/// Accounts taking part in a transaction: its source, a fee bump's fee source, and every
/// operation's participants.
pub fn tx_participants(env: &TransactionEnvelope) -> Vec<[u8; 32]> {
    let t = airgap::envelope::transaction(env);
    let tx_source = muxed_bytes(&t.source_account);
    let mut out = vec![tx_source];
    if let TransactionEnvelope::TxFeeBump(fb) = env {
        out.push(muxed_bytes(&fb.tx.fee_source));
    }
    for op in t.operations.iter() {
        let source = op.source_account.as_ref().map_or(tx_source, muxed_bytes);
        out.extend(op_participants(source, &op.body));
    }
    out.sort();
    out.dedup();
    out
}
