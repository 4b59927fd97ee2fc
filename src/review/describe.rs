//! Each operation in words (its effects) and as data (its details), every field of it; the
//! preconditions as data. Names in the details are Horizon's and the SDKs' (docs/formats.md).
use super::{amount, amount_json, muxed_id, PreconditionsReview};
use crate::account::AccountId;
use crate::asset::AssetCode;
use crate::build::{flag_names, ACCOUNT_FLAGS, TRUSTLINE_FLAGS};
use crate::text::escape_bytes;
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use stellar_xdr::{
    ChangeTrustAsset, Limits, MuxedAccount, OperationBody, Preconditions, SignerKey, WriteXdr,
};

/// An account as an operation names it: the `G…` account, and for a muxed account (`M…`) its ID
/// and the `M…` address.
#[derive(Clone, Debug, Serialize)]
pub struct AccountRef {
    pub account: AccountId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub muxed_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub muxed_address: Option<String>,
}

pub fn account_ref(m: &MuxedAccount) -> AccountRef {
    AccountRef {
        account: AccountId::from_muxed(m),
        muxed_id: muxed_id(m),
        muxed_address: match m {
            MuxedAccount::Ed25519(_) => None,
            MuxedAccount::MuxedEd25519(x) => Some(
                stellar_strkey::ed25519::MuxedAccount {
                    ed25519: x.ed25519.0,
                    id: x.id,
                }
                .to_string()
                .as_str()
                .to_owned(),
            ),
        },
    }
}

/// A muxed account in words: `G…`, or `G… (muxed ID 7, M…)`.
pub(super) fn muxed_words(m: &MuxedAccount) -> String {
    let r = account_ref(m);
    match (r.muxed_id, r.muxed_address) {
        (Some(id), Some(address)) => format!("{} (muxed ID {id}, {address})", r.account),
        _ => r.account.to_string(),
    }
}

/// An asset code's bytes for display (trailing padding dropped, odd bytes escaped), and a note
/// when the 12-byte form holds a code of 4 characters or fewer: `USD` in the 12-byte form is a
/// different asset from `USD` in the 4-byte form, and looks the same.
fn code_words(bytes: &[u8], twelve: bool) -> String {
    let code = AssetCode::from_xdr_bytes(bytes);
    if twelve && lookalike_12(bytes) {
        format!("{code} (12-byte code form)")
    } else {
        code
    }
}

/// A 12-byte code whose characters would fit the 4-byte form.
pub(super) fn lookalike_12(bytes: &[u8]) -> bool {
    bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1) <= 4
}

pub(super) fn asset_words(a: &stellar_xdr::Asset) -> String {
    match a {
        stellar_xdr::Asset::Native => "XLM (native)".into(),
        stellar_xdr::Asset::CreditAlphanum4(x) => format!(
            "{}:{}",
            code_words(&x.asset_code.0, false),
            AccountId::from_xdr(&x.issuer)
        ),
        stellar_xdr::Asset::CreditAlphanum12(x) => format!(
            "{}:{}",
            code_words(&x.asset_code.0, true),
            AccountId::from_xdr(&x.issuer)
        ),
    }
}

/// An asset as data: its type, its code (escaped, and its raw bytes in hex) and its issuer.
pub fn asset_json(a: &stellar_xdr::Asset) -> Value {
    match a {
        stellar_xdr::Asset::Native => json!({"type": "native"}),
        stellar_xdr::Asset::CreditAlphanum4(x) => json!({
            "type": "credit_alphanum4",
            "code": AssetCode::from_xdr_bytes(&x.asset_code.0),
            "code_hex": hex::encode(x.asset_code.0),
            "issuer": AccountId::from_xdr(&x.issuer),
        }),
        stellar_xdr::Asset::CreditAlphanum12(x) => json!({
            "type": "credit_alphanum12",
            "code": AssetCode::from_xdr_bytes(&x.asset_code.0),
            "code_hex": hex::encode(x.asset_code.0),
            "issuer": AccountId::from_xdr(&x.issuer),
        }),
    }
}

fn trust_asset(a: &ChangeTrustAsset) -> (String, Value) {
    let plain = |x: stellar_xdr::Asset| (asset_words(&x), asset_json(&x));
    match a {
        ChangeTrustAsset::Native => plain(stellar_xdr::Asset::Native),
        ChangeTrustAsset::CreditAlphanum4(x) => {
            plain(stellar_xdr::Asset::CreditAlphanum4(x.clone()))
        }
        ChangeTrustAsset::CreditAlphanum12(x) => {
            plain(stellar_xdr::Asset::CreditAlphanum12(x.clone()))
        }
        ChangeTrustAsset::PoolShare(p) => {
            let stellar_xdr::LiquidityPoolParameters::LiquidityPoolConstantProduct(c) = p;
            // The pool ID is the SHA-256 of the parameters' XDR, as stellar-core computes it.
            let id = hex::encode(Sha256::digest(p.to_xdr(Limits::none()).unwrap_or_default()));
            (
                format!(
                    "the liquidity pool shares of {} / {} (constant product, fee {} basis points, pool ID {id})",
                    asset_words(&c.asset_a),
                    asset_words(&c.asset_b),
                    c.fee
                ),
                json!({
                    "type": "liquidity_pool_shares",
                    "asset_a": asset_json(&c.asset_a),
                    "asset_b": asset_json(&c.asset_b),
                    "fee": c.fee,
                    "liquidity_pool_id": id,
                }),
            )
        }
    }
}

fn bytes_json(b: &[u8]) -> Value {
    json!({"text": escape_bytes(b), "hex": hex::encode(b)})
}

fn flags_json(bits: Option<u32>, table: &[(&'static str, u32)]) -> (Value, Value) {
    match bits {
        None => (Value::Null, Value::Null),
        Some(b) => (json!(b), json!(flag_names(b, table))),
    }
}

/// A signer key's kind and strkey (`G…`, `T…`, `X…`, `P…`), in words and as data.
pub fn signer_key_json(key: &SignerKey) -> (String, Value) {
    match key {
        SignerKey::Ed25519(k) => {
            let g = AccountId(k.0);
            (format!("key {g}"), json!({"kind": "ed25519", "key": g}))
        }
        SignerKey::PreAuthTx(h) => {
            let t = stellar_strkey::PreAuthTx(h.0)
                .to_string()
                .as_str()
                .to_owned();
            (
                format!("pre-authorized transaction {t} (hash {})", hex::encode(h.0)),
                json!({"kind": "pre_auth_tx", "key": t, "hash": hex::encode(h.0)}),
            )
        }
        SignerKey::HashX(h) => {
            let x = stellar_strkey::HashX(h.0).to_string().as_str().to_owned();
            (
                format!("hash(x) {x} (SHA-256 {})", hex::encode(h.0)),
                json!({"kind": "hash_x", "key": x, "hash": hex::encode(h.0)}),
            )
        }
        SignerKey::Ed25519SignedPayload(p) => {
            let key =
                stellar_strkey::ed25519::SignedPayload::new(p.ed25519.0, p.payload.as_slice())
                    .map(|s| s.to_string().as_str().to_owned())
                    .unwrap_or_default();
            let g = AccountId(p.ed25519.0);
            (
                format!(
                    "signed payload {key} (key {g}, payload {})",
                    hex::encode(p.payload.as_slice())
                ),
                json!({
                    "kind": "ed25519_signed_payload",
                    "key": key,
                    "ed25519": g,
                    "payload": hex::encode(p.payload.as_slice()),
                }),
            )
        }
    }
}

/// The preconditions as data.
pub(super) fn preconditions(cond: &Preconditions) -> PreconditionsReview {
    let tb =
        |t: &stellar_xdr::TimeBounds| json!({"min_time": t.min_time.0, "max_time": t.max_time.0});
    match cond {
        Preconditions::None => PreconditionsReview {
            kind: "none",
            time_bounds: None,
            ledger_bounds: None,
            min_seq_num: None,
            min_seq_age: 0,
            min_seq_ledger_gap: 0,
            extra_signers: Vec::new(),
        },
        Preconditions::Time(t) => PreconditionsReview {
            kind: "time",
            time_bounds: Some(tb(t)),
            ledger_bounds: None,
            min_seq_num: None,
            min_seq_age: 0,
            min_seq_ledger_gap: 0,
            extra_signers: Vec::new(),
        },
        Preconditions::V2(p) => PreconditionsReview {
            kind: "v2",
            time_bounds: p.time_bounds.as_ref().map(tb),
            ledger_bounds: p
                .ledger_bounds
                .as_ref()
                .map(|l| json!({"min_ledger": l.min_ledger, "max_ledger": l.max_ledger})),
            min_seq_num: p.min_seq_num.as_ref().map(|s| s.0.to_string()),
            min_seq_age: p.min_seq_age.0,
            min_seq_ledger_gap: p.min_seq_ledger_gap,
            extra_signers: p
                .extra_signers
                .iter()
                .map(|k| signer_key_json(k).1)
                .collect(),
        },
    }
}

/// One operation's effects in words and its details as data; `None` for an operation type the
/// review cannot describe.
pub(super) fn operation(body: &OperationBody, source: &AccountId) -> Option<(Vec<String>, Value)> {
    let mut effects = Vec::new();
    let details = match body {
        OperationBody::CreateAccount(o) => {
            let dest = AccountId::from_xdr(&o.destination);
            effects.push(format!(
                "create account {dest} with a starting balance of {} XLM, paid by {source}",
                amount(o.starting_balance),
            ));
            json!({"destination": dest, "starting_balance": amount_json(o.starting_balance)})
        }
        OperationBody::Payment(o) => {
            effects.push(format!(
                "pay {} {} from {source} to {}",
                amount(o.amount),
                asset_words(&o.asset),
                muxed_words(&o.destination)
            ));
            json!({
                "destination": account_ref(&o.destination),
                "asset": asset_json(&o.asset),
                "amount": amount_json(o.amount),
            })
        }
        OperationBody::ChangeTrust(o) => {
            let (what, line) = trust_asset(&o.line);
            effects.push(if o.limit == 0 {
                format!("remove {source}'s trustline to {what}")
            } else if o.limit == i64::MAX {
                format!("{source} trusts {what} with no limit (the maximum)")
            } else {
                format!("{source} trusts {what} up to {}", amount(o.limit))
            });
            json!({"line": line, "limit": amount_json(o.limit)})
        }
        OperationBody::AllowTrust(o) => {
            let who = AccountId::from_xdr(&o.trustor);
            let (code, raw, kind) = match &o.asset {
                stellar_xdr::AssetCode::CreditAlphanum4(x) => {
                    (code_words(&x.0, false), x.0.to_vec(), "credit_alphanum4")
                }
                stellar_xdr::AssetCode::CreditAlphanum12(x) => {
                    (code_words(&x.0, true), x.0.to_vec(), "credit_alphanum12")
                }
            };
            effects.push(match o.authorize {
                0 => format!("REVOKE {who}'s authorization to hold {code} issued by {source}"),
                1 => format!("authorize {who} to hold and trade {code} issued by {source}"),
                2 => format!(
                    "authorize {who} only to maintain liabilities in {code} issued by {source}"
                ),
                n => format!("set unknown authorization {n} on {who}'s {code} trustline"),
            });
            json!({
                "trustor": who,
                "asset_type": kind,
                "asset_code": AssetCode::from_xdr_bytes(&raw),
                "asset_code_hex": hex::encode(&raw),
                "authorize": o.authorize,
            })
        }
        OperationBody::SetTrustLineFlags(o) => {
            let who = AccountId::from_xdr(&o.trustor);
            let set = flag_names(o.set_flags, &TRUSTLINE_FLAGS);
            let clear = flag_names(o.clear_flags, &TRUSTLINE_FLAGS);
            let mut parts = Vec::new();
            if !set.is_empty() {
                parts.push(format!("set {}", set.join(", ")));
            }
            if !clear.is_empty() {
                parts.push(format!("clear {}", clear.join(", ")));
            }
            if parts.is_empty() {
                parts.push("change nothing".into());
            }
            effects.push(format!(
                "on {who}'s trustline to {}: {}",
                asset_words(&o.asset),
                parts.join("; ")
            ));
            json!({
                "trustor": who,
                "asset": asset_json(&o.asset),
                "set_flags": o.set_flags,
                "set_flag_names": set,
                "clear_flags": o.clear_flags,
                "clear_flag_names": clear,
            })
        }
        OperationBody::SetOptions(o) => set_options(o, source, &mut effects),
        OperationBody::Clawback(o) => {
            effects.push(format!(
                "claw back {} {} from {}",
                amount(o.amount),
                asset_words(&o.asset),
                muxed_words(&o.from)
            ));
            json!({
                "from": account_ref(&o.from),
                "asset": asset_json(&o.asset),
                "amount": amount_json(o.amount),
            })
        }
        OperationBody::ManageData(o) => {
            let name = escape_bytes(o.data_name.as_slice());
            match &o.data_value {
                Some(v) => effects.push(format!(
                    "set data entry \"{name}\" of {source} to \"{}\"",
                    escape_bytes(v.as_slice())
                )),
                None => effects.push(format!("delete data entry \"{name}\" of {source}")),
            }
            json!({
                "name": bytes_json(o.data_name.as_slice()),
                "value": o.data_value.as_ref().map(|v| bytes_json(v.as_slice())),
            })
        }
        OperationBody::BumpSequence(o) => {
            effects.push(format!(
                "bump {source}'s sequence number to {}",
                o.bump_to.0
            ));
            json!({"bump_to": o.bump_to.0.to_string()})
        }
        OperationBody::AccountMerge(d) => {
            let dest = muxed_words(d);
            effects.push(format!(
                "MERGE account {source} into {dest}: {source} is deleted and its XLM moves to {}",
                AccountId::from_muxed(d)
            ));
            json!({"destination": account_ref(d)})
        }
        _ => return None,
    };
    Some((effects, details))
}

fn set_options(
    o: &stellar_xdr::SetOptionsOp,
    source: &AccountId,
    effects: &mut Vec<String>,
) -> Value {
    if let Some(d) = &o.inflation_dest {
        effects.push(format!(
            "set the inflation destination of {source} to {}",
            AccountId::from_xdr(d)
        ));
    }
    if let Some(bits) = o.set_flags {
        effects.push(format!(
            "set account flags on {source}: {}",
            flag_names(bits, &ACCOUNT_FLAGS).join(", ")
        ));
    }
    if let Some(bits) = o.clear_flags {
        effects.push(format!(
            "clear account flags on {source}: {}",
            flag_names(bits, &ACCOUNT_FLAGS).join(", ")
        ));
    }
    if let Some(d) = &o.home_domain {
        if d.is_empty() {
            effects.push(format!("remove the home domain of {source}"));
        } else {
            effects.push(format!(
                "set the home domain of {source} to \"{}\"",
                escape_bytes(d.as_slice())
            ));
        }
    }
    if let Some(w) = o.master_weight {
        effects.push(format!("set the master key weight of {source} to {w}"));
    }
    for (name, v) in [
        ("low", o.low_threshold),
        ("medium", o.med_threshold),
        ("high", o.high_threshold),
    ] {
        if let Some(t) = v {
            effects.push(format!("set the {name} threshold of {source} to {t}"));
        }
    }
    let signer = o.signer.as_ref().map(|s| {
        let (words, mut data) = signer_key_json(&s.key);
        if s.weight == 0 {
            effects.push(format!("REMOVE signer {words} from {source}"));
        } else {
            effects.push(format!(
                "add or change signer {words} on {source}, weight {}",
                s.weight
            ));
        }
        data["weight"] = json!(s.weight);
        data
    });
    if effects.is_empty() {
        effects.push(format!("change nothing on {source} (an empty set_options)"));
    }
    let (set_flags, set_flag_names) = flags_json(o.set_flags, &ACCOUNT_FLAGS);
    let (clear_flags, clear_flag_names) = flags_json(o.clear_flags, &ACCOUNT_FLAGS);
    json!({
        "inflation_dest": o.inflation_dest.as_ref().map(AccountId::from_xdr),
        "clear_flags": clear_flags,
        "clear_flag_names": clear_flag_names,
        "set_flags": set_flags,
        "set_flag_names": set_flag_names,
        "master_weight": o.master_weight,
        "low_threshold": o.low_threshold,
        "med_threshold": o.med_threshold,
        "high_threshold": o.high_threshold,
        "home_domain": o.home_domain.as_ref().map(|d| bytes_json(d.as_slice())),
        "signer": signer,
    })
}
