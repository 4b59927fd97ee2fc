//! SEP-11 txrep: the human-readable `field: value` form of a transaction envelope.
//!
//! [`to_txrep`] writes the text the Python stellar-sdk (`stellar_sdk.sep.txrep.to_txrep`) writes
//! for the same envelope, line for line, comments included, with these deliberate exceptions
//! where the SDK's text loses information (txrep must recompile to the exact same bytes):
//!
//! * `setOptionsOp.clearFlags` / `setFlags` present with the value 0 are written as present
//!   (`_present: true` then `0`); the SDK writes `_present: false`.
//! * `allowTrustOp.authorize` is written `true` for 1 and `false` for 0 as the SDK does, and as
//!   the bare number for any other value (2 is "authorized to maintain liabilities"); the SDK
//!   writes `true` for every non-zero value.
//! * A home domain or data name that is not UTF-8 is written as bare hex, as the SDK writes a
//!   non-UTF-8 text memo; the SDK cannot render such an envelope at all.
//! * A time bound after 9999-12-31 gets no date comment; the SDK cannot render it.
//!
//! Strings are written as the SDK writes them (JSON string syntax with ASCII-only output:
//! `\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`, `\u00XX` for other control bytes and DEL, `\uXXXX`
//! for everything outside printable ASCII); a text memo that is not UTF-8 is bare hex.
//!
//! [`from_txrep`] reads that text, and the SEP-11 forms the SDK does not write (`\xHH` escapes in
//! strings, `0` for an empty opaque value). It is stricter than SEP-11 in ways meant for a
//! signing tool: every field must be given exactly once (no defaults, no overriding by a later
//! line; only `tx.ext.v`, `feeBump.tx.innerTx.type` and `feeBump.tx.ext.v` may be left out), a
//! line that names no field of the envelope is an error, integers are plain decimal (no octal
//! or hex), and the native asset must be spelled `native`, `NATIVE`, `XLM` or `TestXLM`.

use std::cell::Cell;
use std::collections::HashMap;
use std::fmt::{Display, Write as _};

use stellar_strkey::{ed25519, Strkey};
use stellar_xdr::{
    AccountId, AllowTrustOp, AlphaNum12, AlphaNum4, Asset, AssetCode, AssetCode12, AssetCode4,
    BumpSequenceOp, ChangeTrustAsset, ChangeTrustOp, ClawbackOp, CreateAccountOp, DataValue,
    DecoratedSignature, Duration, FeeBumpTransaction, FeeBumpTransactionEnvelope,
    FeeBumpTransactionExt, FeeBumpTransactionInnerTx, Hash, LedgerBounds,
    LiquidityPoolConstantProductParameters, LiquidityPoolParameters, ManageDataOp, Memo,
    MuxedAccount, MuxedAccountMed25519, Operation, OperationBody, OperationType, PaymentOp,
    Preconditions, PreconditionsV2, PublicKey, SequenceNumber, SetOptionsOp, SetTrustLineFlagsOp,
    Signature, SignatureHint, Signer, SignerKey, SignerKeyEd25519SignedPayload, String32, String64,
    TimeBounds, TimePoint, Transaction, TransactionEnvelope, TransactionExt, TransactionV0,
    TransactionV0Envelope, TransactionV0Ext, TransactionV1Envelope, Uint256,
};

/// Why an envelope could not be written as txrep, or txrep text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxrepError {
    /// The envelope or text uses something this module does not handle (an operation type, an
    /// extension); `line` is set when reading text.
    #[error("{}txrep support does not cover {what}.", at_line(.line))]
    Unsupported { what: String, line: Option<usize> },
    /// A line of the text is malformed or holds a value that is not valid for its field.
    #[error("line {line}: {reason}.")]
    Malformed { line: usize, reason: String },
    /// A field the envelope needs has no line in the text.
    #[error("the txrep has no line for `{key}`.")]
    Missing { key: String },
    /// The envelope holds a value txrep cannot express (for example an empty signed payload).
    #[error("the envelope cannot be written as txrep because {reason}.")]
    Unrepresentable { reason: String },
}

fn at_line(line: &Option<usize>) -> String {
    match line {
        Some(n) => format!("line {n}: "),
        None => String::new(),
    }
}

type Result<T> = std::result::Result<T, TxrepError>;

const TRUE: &str = "true";
const FALSE: &str = "false";
const MAX_SIGNATURES: usize = 20;
const MAX_OPERATIONS: usize = stellar_xdr::MAX_OPS_PER_TX as usize;
const MAX_EXTRA_SIGNERS: usize = 2;

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/// Writes `env` as txrep, one `field: value` line per field, lines joined by `\n` (no final
/// newline), in the order and with the comments the Python stellar-sdk uses.
pub fn to_txrep(env: &TransactionEnvelope) -> Result<String> {
    let mut w = Writer::default();
    match env {
        TransactionEnvelope::TxV0(e) => {
            w.put("type", "ENVELOPE_TYPE_TX_V0");
            let tx = v0_as_v1(&e.tx);
            write_tx(&mut w, "tx.", &tx)?;
            write_signatures(&mut w, "", &e.signatures);
        }
        TransactionEnvelope::Tx(e) => {
            w.put("type", "ENVELOPE_TYPE_TX");
            write_tx(&mut w, "tx.", &e.tx)?;
            write_signatures(&mut w, "", &e.signatures);
        }
        TransactionEnvelope::TxFeeBump(e) => {
            let fb = &e.tx;
            let FeeBumpTransactionInnerTx::Tx(inner) = &fb.inner_tx;
            w.put("type", "ENVELOPE_TYPE_TX_FEE_BUMP");
            w.put_muxed("feeBump.tx.feeSource", &fb.fee_source);
            w.put("feeBump.tx.fee", fb.fee);
            w.put("feeBump.tx.innerTx.type", "ENVELOPE_TYPE_TX");
            write_tx(&mut w, "feeBump.tx.innerTx.tx.", &inner.tx)?;
            write_signatures(&mut w, "feeBump.tx.innerTx.", &inner.signatures);
            match fb.ext {
                FeeBumpTransactionExt::V0 => w.put("feeBump.tx.ext.v", 0),
            }
            write_signatures(&mut w, "feeBump.", &e.signatures);
        }
    }
    Ok(w.lines.join("\n"))
}

#[derive(Default)]
struct Writer {
    lines: Vec<String>,
}

impl Writer {
    fn put(&mut self, key: &str, value: impl Display) {
        self.lines.push(format!("{key}: {value}"));
    }

    fn put_c(&mut self, key: &str, value: impl Display, comment: Option<String>) {
        match comment {
            Some(c) => self.lines.push(format!("{key}: {value} ({c})")),
            None => self.put(key, value),
        }
    }

    fn put_bool(&mut self, key: &str, value: bool) {
        self.put(key, if value { TRUE } else { FALSE });
    }

    fn put_amount(&mut self, key: &str, stroops: i64) {
        self.put_c(key, stroops, Some(amount_comment(stroops)));
    }

    fn put_muxed(&mut self, key: &str, account: &MuxedAccount) {
        match account {
            MuxedAccount::Ed25519(k) => self.put(key, g_address(&k.0)),
            MuxedAccount::MuxedEd25519(m) => {
                let addr = format!(
                    "{}",
                    ed25519::MuxedAccount {
                        ed25519: m.ed25519.0,
                        id: m.id,
                    }
                );
                let comment = format!(
                    "accountID: {}, accountMuxedID: {}",
                    g_address(&m.ed25519.0),
                    m.id
                );
                self.put_c(key, addr, Some(comment));
            }
        }
    }

    fn put_time(&mut self, key: &str, t: u64) {
        self.put_c(key, t, utc_comment(t));
    }
}

fn v0_as_v1(tx: &TransactionV0) -> Transaction {
    Transaction {
        source_account: MuxedAccount::Ed25519(tx.source_account_ed25519.clone()),
        fee: tx.fee,
        seq_num: tx.seq_num.clone(),
        cond: match &tx.time_bounds {
            Some(tb) => Preconditions::Time(tb.clone()),
            None => Preconditions::None,
        },
        memo: tx.memo.clone(),
        operations: tx.operations.clone(),
        ext: TransactionExt::V0,
    }
}

fn write_tx(w: &mut Writer, p: &str, tx: &Transaction) -> Result<()> {
    if let TransactionExt::V1(_) = tx.ext {
        return Err(TxrepError::Unsupported {
            what: "Soroban transaction data (transaction extension v1)".into(),
            line: None,
        });
    }
    w.put_muxed(&format!("{p}sourceAccount"), &tx.source_account);
    w.put(&format!("{p}fee"), tx.fee);
    w.put(&format!("{p}seqNum"), tx.seq_num.0);
    write_cond(w, &format!("{p}cond."), &tx.cond)?;
    write_memo(w, p, &tx.memo);
    w.put(&format!("{p}operations.len"), tx.operations.len());
    for (i, op) in tx.operations.iter().enumerate() {
        write_op(w, &format!("{p}operations[{i}]."), op)?;
    }
    w.put(&format!("{p}ext.v"), 0);
    Ok(())
}

fn write_cond(w: &mut Writer, p: &str, cond: &Preconditions) -> Result<()> {
    match cond {
        Preconditions::None => w.put(&format!("{p}type"), "PRECOND_NONE"),
        Preconditions::Time(tb) => {
            w.put(&format!("{p}type"), "PRECOND_TIME");
            write_time_bounds(w, p, tb);
        }
        Preconditions::V2(v2) => {
            w.put(&format!("{p}type"), "PRECOND_V2");
            match &v2.time_bounds {
                Some(tb) => {
                    w.put_bool(&format!("{p}timeBounds._present"), true);
                    write_time_bounds(w, p, tb);
                }
                None => w.put_bool(&format!("{p}timeBounds._present"), false),
            }
            match &v2.ledger_bounds {
                Some(lb) => {
                    w.put_bool(&format!("{p}ledgerBounds._present"), true);
                    w.put(&format!("{p}ledgerBounds.minLedger"), lb.min_ledger);
                    w.put(&format!("{p}ledgerBounds.maxLedger"), lb.max_ledger);
                }
                None => w.put_bool(&format!("{p}ledgerBounds._present"), false),
            }
            match &v2.min_seq_num {
                Some(n) => {
                    w.put_bool(&format!("{p}minSeqNum._present"), true);
                    w.put(&format!("{p}minSeqNum"), n.0);
                }
                None => w.put_bool(&format!("{p}minSeqNum._present"), false),
            }
            w.put(&format!("{p}minSeqAge"), v2.min_seq_age.0);
            w.put(&format!("{p}minSeqLedgerGap"), v2.min_seq_ledger_gap);
            w.put(&format!("{p}extraSigners.len"), v2.extra_signers.len());
            for (i, key) in v2.extra_signers.iter().enumerate() {
                let k = format!("{p}extraSigners[{i}]");
                let (ty, field) = signer_key_kind(key);
                w.put(&format!("{k}.type"), ty);
                w.put(&format!("{k}.{field}"), signer_key_strkey(key)?);
            }
        }
    }
    Ok(())
}

fn write_time_bounds(w: &mut Writer, p: &str, tb: &TimeBounds) {
    w.put_time(&format!("{p}timeBounds.minTime"), tb.min_time.0);
    w.put_time(&format!("{p}timeBounds.maxTime"), tb.max_time.0);
}

fn write_memo(w: &mut Writer, p: &str, memo: &Memo) {
    let ty = format!("{p}memo.type");
    match memo {
        Memo::None => w.put(&ty, "MEMO_NONE"),
        Memo::Text(t) => {
            w.put(&ty, "MEMO_TEXT");
            w.put(&format!("{p}memo.text"), string_value(t.as_slice()));
        }
        Memo::Id(id) => {
            w.put(&ty, "MEMO_ID");
            w.put(&format!("{p}memo.id"), id);
        }
        Memo::Hash(h) => {
            w.put(&ty, "MEMO_HASH");
            w.put(&format!("{p}memo.hash"), hex::encode(h.0));
        }
        Memo::Return(h) => {
            w.put(&ty, "MEMO_RETURN");
            w.put(&format!("{p}memo.retHash"), hex::encode(h.0));
        }
    }
}

fn write_signatures(w: &mut Writer, p: &str, sigs: &[DecoratedSignature]) {
    w.put(&format!("{p}signatures.len"), sigs.len());
    for (i, s) in sigs.iter().enumerate() {
        w.put(&format!("{p}signatures[{i}].hint"), hex::encode(s.hint.0));
        w.put(
            &format!("{p}signatures[{i}].signature"),
            hex::encode(s.signature.0.as_slice()),
        );
    }
}

fn write_op(w: &mut Writer, p: &str, op: &Operation) -> Result<()> {
    let Some(name) = supported_op_name(&op.body) else {
        return Err(TxrepError::Unsupported {
            what: format!(
                "the {} operation (`{}`)",
                op_type_name(op.body.discriminant()),
                p.trim_end_matches('.')
            ),
            line: None,
        });
    };
    match &op.source_account {
        Some(m) => {
            w.put_bool(&format!("{p}sourceAccount._present"), true);
            w.put_muxed(&format!("{p}sourceAccount"), m);
        }
        None => w.put_bool(&format!("{p}sourceAccount._present"), false),
    }
    w.put(&format!("{p}body.type"), name);
    let b = |field: &str| format!("{p}body.{}.{field}", body_field(name));
    match &op.body {
        OperationBody::CreateAccount(o) => {
            w.put(&b("destination"), account_id_str(&o.destination));
            w.put_amount(&b("startingBalance"), o.starting_balance);
        }
        OperationBody::Payment(o) => {
            w.put_muxed(&b("destination"), &o.destination);
            w.put(&b("asset"), asset_str(&o.asset));
            w.put_amount(&b("amount"), o.amount);
        }
        OperationBody::SetOptions(o) => {
            let mut opt = |field: &str, value: Option<String>| match value {
                Some(v) => {
                    w.put_bool(&b(&format!("{field}._present")), true);
                    w.put(&b(field), v);
                }
                None => w.put_bool(&b(&format!("{field}._present")), false),
            };
            opt(
                "inflationDest",
                o.inflation_dest.as_ref().map(account_id_str),
            );
            opt("clearFlags", o.clear_flags.map(|v| v.to_string()));
            opt("setFlags", o.set_flags.map(|v| v.to_string()));
            opt("masterWeight", o.master_weight.map(|v| v.to_string()));
            opt("lowThreshold", o.low_threshold.map(|v| v.to_string()));
            opt("medThreshold", o.med_threshold.map(|v| v.to_string()));
            opt("highThreshold", o.high_threshold.map(|v| v.to_string()));
            opt(
                "homeDomain",
                o.home_domain.as_ref().map(|d| string_value(d.0.as_slice())),
            );
            match &o.signer {
                Some(s) => {
                    w.put_bool(&b("signer._present"), true);
                    w.put(&b("signer.key"), signer_key_strkey(&s.key)?);
                    w.put(&b("signer.weight"), s.weight);
                }
                None => w.put_bool(&b("signer._present"), false),
            }
        }
        OperationBody::ChangeTrust(o) => {
            match &o.line {
                ChangeTrustAsset::Native => {
                    w.put(&b("line.type"), "ASSET_TYPE_NATIVE");
                    w.put(&b("line"), asset_str(&Asset::Native));
                }
                ChangeTrustAsset::CreditAlphanum4(a) => {
                    w.put(&b("line.type"), "ASSET_TYPE_CREDIT_ALPHANUM4");
                    w.put(&b("line"), asset_str(&Asset::CreditAlphanum4(a.clone())));
                }
                ChangeTrustAsset::CreditAlphanum12(a) => {
                    w.put(&b("line.type"), "ASSET_TYPE_CREDIT_ALPHANUM12");
                    w.put(&b("line"), asset_str(&Asset::CreditAlphanum12(a.clone())));
                }
                ChangeTrustAsset::PoolShare(
                    LiquidityPoolParameters::LiquidityPoolConstantProduct(cp),
                ) => {
                    w.put(&b("line.type"), "ASSET_TYPE_POOL_SHARE");
                    let lp = "line.liquidityPool.constantProduct";
                    w.put(&b(&format!("{lp}.assetA")), asset_str(&cp.asset_a));
                    w.put(&b(&format!("{lp}.assetB")), asset_str(&cp.asset_b));
                    w.put(&b(&format!("{lp}.fee")), cp.fee);
                }
            }
            w.put_amount(&b("limit"), o.limit);
        }
        OperationBody::AllowTrust(o) => {
            w.put(&b("trustor"), account_id_str(&o.trustor));
            let code = match &o.asset {
                AssetCode::CreditAlphanum4(c) => code_str(&c.0, false),
                AssetCode::CreditAlphanum12(c) => code_str(&c.0, true),
            };
            w.put(&b("asset"), code);
            match o.authorize {
                0 => w.put(&b("authorize"), FALSE),
                1 => w.put(&b("authorize"), TRUE),
                n => w.put(&b("authorize"), n),
            }
        }
        OperationBody::AccountMerge(dest) => {
            w.put_muxed(&format!("{p}body.destination"), dest);
        }
        OperationBody::ManageData(o) => {
            w.put(&b("dataName"), string_value(o.data_name.0.as_slice()));
            match &o.data_value {
                Some(v) => {
                    w.put_bool(&b("dataValue._present"), true);
                    w.put(&b("dataValue"), hex::encode(v.0.as_slice()));
                }
                None => w.put_bool(&b("dataValue._present"), false),
            }
        }
        OperationBody::BumpSequence(o) => w.put(&b("bumpTo"), o.bump_to.0),
        OperationBody::Clawback(o) => {
            w.put(&b("asset"), asset_str(&o.asset));
            w.put_muxed(&b("from"), &o.from);
            w.put_amount(&b("amount"), o.amount);
        }
        OperationBody::SetTrustLineFlags(o) => {
            w.put(&b("trustor"), account_id_str(&o.trustor));
            w.put(&b("asset"), asset_str(&o.asset));
            w.put(&b("clearFlags"), o.clear_flags);
            w.put(&b("setFlags"), o.set_flags);
        }
        // supported_op_name returned None for every other body.
        _ => {
            return Err(TxrepError::Unsupported {
                what: format!("the {name} operation"),
                line: None,
            })
        }
    }
    Ok(())
}

/// The txrep `body.type` of the operations this module handles.
fn supported_op_name(body: &OperationBody) -> Option<&'static str> {
    Some(match body {
        OperationBody::CreateAccount(_) => "CREATE_ACCOUNT",
        OperationBody::Payment(_) => "PAYMENT",
        OperationBody::SetOptions(_) => "SET_OPTIONS",
        OperationBody::ChangeTrust(_) => "CHANGE_TRUST",
        OperationBody::AllowTrust(_) => "ALLOW_TRUST",
        OperationBody::AccountMerge(_) => "ACCOUNT_MERGE",
        OperationBody::ManageData(_) => "MANAGE_DATA",
        OperationBody::BumpSequence(_) => "BUMP_SEQUENCE",
        OperationBody::Clawback(_) => "CLAWBACK",
        OperationBody::SetTrustLineFlags(_) => "SET_TRUST_LINE_FLAGS",
        _ => return None,
    })
}

/// `CREATE_ACCOUNT` → `createAccountOp`: the body's field name in the XDR union.
fn body_field(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c);
            upper = false;
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out.push_str("Op");
    out
}

/// `ExtendFootprintTtl` → `EXTEND_FOOTPRINT_TTL`: the XDR enum name of an operation type.
fn op_type_name(t: OperationType) -> String {
    let mut out = String::new();
    for (i, c) in t.name().chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

fn g_address(key: &[u8; 32]) -> String {
    format!("{}", ed25519::PublicKey(*key))
}

fn account_id_str(a: &AccountId) -> String {
    let PublicKey::PublicKeyTypeEd25519(k) = &a.0;
    g_address(&k.0)
}

fn asset_str(a: &Asset) -> String {
    match a {
        Asset::Native => "native".into(),
        Asset::CreditAlphanum4(a) => {
            format!(
                "{}:{}",
                code_str(&a.asset_code.0, false),
                account_id_str(&a.issuer)
            )
        }
        Asset::CreditAlphanum12(a) => {
            format!(
                "{}:{}",
                code_str(&a.asset_code.0, true),
                account_id_str(&a.issuer)
            )
        }
    }
}

/// An asset code as SEP-11 normalized txrep writes it: trailing NULs dropped, `\`, `:`, `"` and
/// bytes outside 0x21..=0x7e escaped, a 12-byte code padded with `\x00` to 5 bytes so it reads
/// back as a 12-byte code. For every valid code this is the bare code, as the SDK writes it.
fn code_str(code: &[u8], twelve: bool) -> String {
    let len = code.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let shown = if twelve { len.max(5) } else { len };
    let mut out = String::new();
    for &b in &code[..shown.min(code.len())] {
        match b {
            b'\\' => out.push_str("\\\\"),
            b':' => out.push_str("\\:"),
            // A value that starts with `"` reads as a quoted string: never write a bare one.
            b'"' => out.push_str("\\x22"),
            0x21..=0x7e => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out
}

fn signer_key_kind(key: &SignerKey) -> (&'static str, &'static str) {
    match key {
        SignerKey::Ed25519(_) => ("SIGNER_KEY_TYPE_ED25519", "ed25519"),
        SignerKey::PreAuthTx(_) => ("SIGNER_KEY_TYPE_PRE_AUTH_TX", "preAuthTx"),
        SignerKey::HashX(_) => ("SIGNER_KEY_TYPE_HASH_X", "hashX"),
        SignerKey::Ed25519SignedPayload(_) => (
            "SIGNER_KEY_TYPE_ED25519_SIGNED_PAYLOAD",
            "ed25519SignedPayload",
        ),
    }
}

fn signer_key_strkey(key: &SignerKey) -> Result<String> {
    Ok(match key {
        SignerKey::Ed25519(k) => g_address(&k.0),
        SignerKey::PreAuthTx(k) => format!("{}", Strkey::PreAuthTx(stellar_strkey::PreAuthTx(k.0))),
        SignerKey::HashX(k) => format!("{}", Strkey::HashX(stellar_strkey::HashX(k.0))),
        SignerKey::Ed25519SignedPayload(sp) => format!(
            "{}",
            ed25519::SignedPayload::new(sp.ed25519.0, sp.payload.as_slice()).map_err(|_| {
                TxrepError::Unrepresentable {
                    reason: "a signed-payload signer key has an empty payload, which has no strkey"
                        .into(),
                }
            })?
        ),
    })
}

/// A string field as the SDK writes it: UTF-8 text as a JSON string literal with ASCII-only
/// output (Python `json.dumps`), anything else as bare lower-case hex.
fn string_value(bytes: &[u8]) -> String {
    let Ok(s) = std::str::from_utf8(bytes) else {
        return hex::encode(bytes);
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
        }
    }
    out.push('"');
    out
}

/// The amount comment the SDK writes: `str(Decimal(stroops) / Decimal(10**7))`.
fn amount_comment(stroops: i64) -> String {
    let v = i128::from(stroops);
    if v == 0 {
        return "0".into();
    }
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    if a < 10 {
        // Python's Decimal prints 0.0000001 .. 0.0000009 in exponent form.
        return format!("{sign}{a}E-7");
    }
    let int = a / 10_000_000;
    let frac = a % 10_000_000;
    if frac == 0 {
        return format!("{sign}{int}");
    }
    let digits = format!("{frac:07}");
    format!("{sign}{int}.{}", digits.trim_end_matches('0'))
}

/// The date comment the SDK writes for a time bound, `None` after year 9999.
fn utc_comment(t: u64) -> Option<String> {
    const MAX: u64 = 253_402_300_799; // 9999-12-31 23:59:59 UTC
    if t > MAX {
        return None;
    }
    let secs = i64::try_from(t).ok()?;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    Some(format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.000000+00:00 (UTC)",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    ))
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/// Reads txrep text back into the envelope it describes. Errors name the line and the reason.
pub fn from_txrep(text: &str) -> Result<TransactionEnvelope> {
    let m = Fields::parse(text)?;
    let (ty, ty_line) = m.bare("type")?;
    let env = match ty {
        "ENVELOPE_TYPE_TX" => {
            let tx = read_tx(&m, "tx.")?;
            let signatures = read_signatures(&m, "")?;
            TransactionEnvelope::Tx(TransactionV1Envelope { tx, signatures })
        }
        "ENVELOPE_TYPE_TX_V0" => {
            let tx = read_tx(&m, "tx.")?;
            let signatures = read_signatures(&m, "")?;
            TransactionEnvelope::TxV0(TransactionV0Envelope {
                tx: v1_as_v0(&m, tx)?,
                signatures,
            })
        }
        "ENVELOPE_TYPE_TX_FEE_BUMP" => {
            let fee_source = m.muxed("feeBump.tx.feeSource")?;
            let fee = m.int::<i64>("feeBump.tx.fee")?;
            if let Some((v, line)) = m.optional_bare("feeBump.tx.innerTx.type")? {
                if v != "ENVELOPE_TYPE_TX" {
                    return Err(malformed(
                        line,
                        format!("the inner transaction of a fee bump must be ENVELOPE_TYPE_TX, not {}", q(v)),
                    ));
                }
            }
            let tx = read_tx(&m, "feeBump.tx.innerTx.tx.")?;
            let inner_sigs = read_signatures(&m, "feeBump.tx.innerTx.")?;
            if let Some((v, line)) = m.optional_bare("feeBump.tx.ext.v")? {
                if v != "0" {
                    return Err(malformed(line, format!("`feeBump.tx.ext.v` must be 0, not {}", q(v))));
                }
            }
            let signatures = read_signatures(&m, "feeBump.")?;
            TransactionEnvelope::TxFeeBump(FeeBumpTransactionEnvelope {
                tx: FeeBumpTransaction {
                    fee_source,
                    fee,
                    inner_tx: FeeBumpTransactionInnerTx::Tx(TransactionV1Envelope {
                        tx,
                        signatures: inner_sigs,
                    }),
                    ext: FeeBumpTransactionExt::V0,
                },
                signatures,
            })
        }
        other => {
            return Err(malformed(
                ty_line,
                format!(
                    "{} is not an envelope type; expected ENVELOPE_TYPE_TX, ENVELOPE_TYPE_TX_FEE_BUMP or ENVELOPE_TYPE_TX_V0",
                    q(other)
                ),
            ))
        }
    };
    m.check_all_used()?;
    Ok(env)
}

/// A value quoted for an error message; one shaped like a secret seed (`S` and 55 more strkey
/// characters) is not repeated, so a mistaken paste does not end up in logs.
fn q(v: &str) -> String {
    let seed_like = v.len() == 56
        && v.starts_with('S')
        && v.bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b));
    if seed_like {
        "a value shaped like a secret seed (not repeated here)".into()
    } else {
        format!("`{v}`")
    }
}

fn malformed(line: usize, reason: impl Into<String>) -> TxrepError {
    TxrepError::Malformed {
        line,
        reason: reason.into(),
    }
}

fn v1_as_v0(m: &Fields, tx: Transaction) -> Result<TransactionV0> {
    let MuxedAccount::Ed25519(source) = tx.source_account else {
        return Err(malformed(
            m.line_of("tx.sourceAccount"),
            "a ENVELOPE_TYPE_TX_V0 source account must be a G… account, not a muxed M… account",
        ));
    };
    let time_bounds = match tx.cond {
        Preconditions::None => None,
        Preconditions::Time(tb) => Some(tb),
        Preconditions::V2(_) => {
            return Err(malformed(
                m.line_of("tx.cond.type"),
                "a ENVELOPE_TYPE_TX_V0 transaction can only have PRECOND_NONE or PRECOND_TIME",
            ))
        }
    };
    Ok(TransactionV0 {
        source_account_ed25519: source,
        fee: tx.fee,
        seq_num: tx.seq_num,
        time_bounds,
        memo: tx.memo,
        operations: tx.operations,
        ext: TransactionV0Ext::V0,
    })
}

fn read_tx(m: &Fields, p: &str) -> Result<Transaction> {
    let source_account = m.muxed(&format!("{p}sourceAccount"))?;
    let fee = m.int::<u32>(&format!("{p}fee"))?;
    let seq_num = SequenceNumber(m.int::<i64>(&format!("{p}seqNum"))?);
    let cond = read_cond(m, &format!("{p}cond."))?;
    let memo = read_memo(m, p)?;
    let len_key = format!("{p}operations.len");
    let n = m.len(&len_key, MAX_OPERATIONS)?;
    let mut ops = Vec::new();
    for i in 0..n {
        ops.push(read_op(m, &format!("{p}operations[{i}]."))?);
    }
    let operations = ops
        .try_into()
        .map_err(|_| malformed(m.line_of(&len_key), "too many operations"))?;
    let ext_key = format!("{p}ext.v");
    if let Some((v, line)) = m.optional_bare(&ext_key)? {
        match v {
            "0" => {}
            "1" => {
                return Err(TxrepError::Unsupported {
                    what: "Soroban transaction data (transaction extension v1)".into(),
                    line: Some(line),
                })
            }
            _ => {
                return Err(malformed(
                    line,
                    format!("`{ext_key}` must be 0, not {}", q(v)),
                ))
            }
        }
    }
    Ok(Transaction {
        source_account,
        fee,
        seq_num,
        cond,
        memo,
        operations,
        ext: TransactionExt::V0,
    })
}

fn read_cond(m: &Fields, p: &str) -> Result<Preconditions> {
    let (ty, line) = m.bare(&format!("{p}type"))?;
    Ok(match ty {
        "PRECOND_NONE" => Preconditions::None,
        "PRECOND_TIME" => Preconditions::Time(read_time_bounds(m, p)?),
        "PRECOND_V2" => {
            let time_bounds = if m.present(&format!("{p}timeBounds"))? {
                Some(read_time_bounds(m, p)?)
            } else {
                None
            };
            let ledger_bounds = if m.present(&format!("{p}ledgerBounds"))? {
                Some(LedgerBounds {
                    min_ledger: m.int(&format!("{p}ledgerBounds.minLedger"))?,
                    max_ledger: m.int(&format!("{p}ledgerBounds.maxLedger"))?,
                })
            } else {
                None
            };
            let min_seq_num = if m.present(&format!("{p}minSeqNum"))? {
                Some(SequenceNumber(m.int(&format!("{p}minSeqNum"))?))
            } else {
                None
            };
            let min_seq_age = Duration(m.int(&format!("{p}minSeqAge"))?);
            let min_seq_ledger_gap = m.int(&format!("{p}minSeqLedgerGap"))?;
            let len_key = format!("{p}extraSigners.len");
            let n = m.len(&len_key, MAX_EXTRA_SIGNERS)?;
            let mut signers = Vec::new();
            for i in 0..n {
                let k = format!("{p}extraSigners[{i}]");
                let (ty, ty_line) = m.bare(&format!("{k}.type"))?;
                let field = match ty {
                    "SIGNER_KEY_TYPE_ED25519" => "ed25519",
                    "SIGNER_KEY_TYPE_PRE_AUTH_TX" => "preAuthTx",
                    "SIGNER_KEY_TYPE_HASH_X" => "hashX",
                    "SIGNER_KEY_TYPE_ED25519_SIGNED_PAYLOAD" => "ed25519SignedPayload",
                    other => {
                        return Err(malformed(
                            ty_line,
                            format!("{} is not a signer key type", q(other)),
                        ))
                    }
                };
                let key_field = format!("{k}.{field}");
                let key = m.signer_key(&key_field)?;
                if signer_key_kind(&key).1 != field {
                    return Err(malformed(
                        m.line_of(&key_field),
                        format!("the key is not of type {ty}"),
                    ));
                }
                signers.push(key);
            }
            let extra_signers = signers
                .try_into()
                .map_err(|_| malformed(m.line_of(&len_key), "too many extra signers"))?;
            Preconditions::V2(PreconditionsV2 {
                time_bounds,
                ledger_bounds,
                min_seq_num,
                min_seq_age,
                min_seq_ledger_gap,
                extra_signers,
            })
        }
        other => {
            return Err(malformed(
                line,
                format!(
                "{} is not a precondition type; expected PRECOND_NONE, PRECOND_TIME or PRECOND_V2",
                q(other)
            ),
            ))
        }
    })
}

fn read_time_bounds(m: &Fields, p: &str) -> Result<TimeBounds> {
    Ok(TimeBounds {
        min_time: TimePoint(m.int(&format!("{p}timeBounds.minTime"))?),
        max_time: TimePoint(m.int(&format!("{p}timeBounds.maxTime"))?),
    })
}

fn read_memo(m: &Fields, p: &str) -> Result<Memo> {
    let (ty, line) = m.bare(&format!("{p}memo.type"))?;
    Ok(match ty {
        "MEMO_NONE" => Memo::None,
        "MEMO_TEXT" => {
            let key = format!("{p}memo.text");
            let bytes = m.string(&key)?;
            Memo::Text(bytes.try_into().map_err(|_| {
                malformed(m.line_of(&key), "a text memo can hold at most 28 bytes")
            })?)
        }
        "MEMO_ID" => Memo::Id(m.int(&format!("{p}memo.id"))?),
        "MEMO_HASH" => Memo::Hash(Hash(m.fixed_opaque(&format!("{p}memo.hash"))?)),
        "MEMO_RETURN" => Memo::Return(Hash(m.fixed_opaque(&format!("{p}memo.retHash"))?)),
        other => {
            return Err(malformed(
                line,
                format!("{} is not a memo type; expected MEMO_NONE, MEMO_TEXT, MEMO_ID, MEMO_HASH or MEMO_RETURN", q(other)),
            ))
        }
    })
}

fn read_signatures(
    m: &Fields,
    p: &str,
) -> Result<stellar_xdr::VecM<DecoratedSignature, { MAX_SIGNATURES as u32 }>> {
    let len_key = format!("{p}signatures.len");
    let n = m.len(&len_key, MAX_SIGNATURES)?;
    let mut sigs = Vec::new();
    for i in 0..n {
        let hint = SignatureHint(m.fixed_opaque(&format!("{p}signatures[{i}].hint"))?);
        let sig_key = format!("{p}signatures[{i}].signature");
        let bytes = m.opaque(&sig_key)?;
        let signature = Signature(bytes.try_into().map_err(|_| {
            malformed(m.line_of(&sig_key), "a signature can hold at most 64 bytes")
        })?);
        sigs.push(DecoratedSignature { hint, signature });
    }
    sigs.try_into()
        .map_err(|_| malformed(m.line_of(&len_key), "too many signatures"))
}

fn read_op(m: &Fields, p: &str) -> Result<Operation> {
    let source_account = if m.present(&format!("{p}sourceAccount"))? {
        Some(m.muxed(&format!("{p}sourceAccount"))?)
    } else {
        None
    };
    let (name, line) = m.bare(&format!("{p}body.type"))?;
    let bf = body_field(name);
    let b = |field: &str| format!("{p}body.{bf}.{field}");
    let body = match name {
        "CREATE_ACCOUNT" => OperationBody::CreateAccount(CreateAccountOp {
            destination: m.account_id(&b("destination"))?,
            starting_balance: m.int(&b("startingBalance"))?,
        }),
        "PAYMENT" => OperationBody::Payment(PaymentOp {
            destination: m.muxed(&b("destination"))?,
            asset: m.asset(&b("asset"))?,
            amount: m.int(&b("amount"))?,
        }),
        "SET_OPTIONS" => {
            let opt_u32 = |field: &str| -> Result<Option<u32>> {
                if m.present(&b(field))? {
                    Ok(Some(m.int(&b(field))?))
                } else {
                    Ok(None)
                }
            };
            let inflation_dest = if m.present(&b("inflationDest"))? {
                Some(m.account_id(&b("inflationDest"))?)
            } else {
                None
            };
            let clear_flags = opt_u32("clearFlags")?;
            let set_flags = opt_u32("setFlags")?;
            let master_weight = opt_u32("masterWeight")?;
            let low_threshold = opt_u32("lowThreshold")?;
            let med_threshold = opt_u32("medThreshold")?;
            let high_threshold = opt_u32("highThreshold")?;
            let home_domain = if m.present(&b("homeDomain"))? {
                let key = b("homeDomain");
                let bytes = m.string(&key)?;
                Some(String32(bytes.try_into().map_err(|_| {
                    malformed(m.line_of(&key), "a home domain can hold at most 32 bytes")
                })?))
            } else {
                None
            };
            let signer = if m.present(&b("signer"))? {
                Some(Signer {
                    key: m.signer_key(&b("signer.key"))?,
                    weight: m.int(&b("signer.weight"))?,
                })
            } else {
                None
            };
            OperationBody::SetOptions(SetOptionsOp {
                inflation_dest,
                clear_flags,
                set_flags,
                master_weight,
                low_threshold,
                med_threshold,
                high_threshold,
                home_domain,
                signer,
            })
        }
        "CHANGE_TRUST" => {
            let (lt, lt_line) = m.bare(&b("line.type"))?;
            let line = match lt {
                "ASSET_TYPE_POOL_SHARE" => {
                    let lp = "line.liquidityPool.constantProduct";
                    ChangeTrustAsset::PoolShare(
                        LiquidityPoolParameters::LiquidityPoolConstantProduct(
                            LiquidityPoolConstantProductParameters {
                                asset_a: m.asset(&b(&format!("{lp}.assetA")))?,
                                asset_b: m.asset(&b(&format!("{lp}.assetB")))?,
                                fee: m.int(&b(&format!("{lp}.fee")))?,
                            },
                        ),
                    )
                }
                "ASSET_TYPE_NATIVE"
                | "ASSET_TYPE_CREDIT_ALPHANUM4"
                | "ASSET_TYPE_CREDIT_ALPHANUM12" => {
                    let key = b("line");
                    let (asset, t) = match m.asset(&key)? {
                        Asset::Native => (ChangeTrustAsset::Native, "ASSET_TYPE_NATIVE"),
                        Asset::CreditAlphanum4(a) => (
                            ChangeTrustAsset::CreditAlphanum4(a),
                            "ASSET_TYPE_CREDIT_ALPHANUM4",
                        ),
                        Asset::CreditAlphanum12(a) => (
                            ChangeTrustAsset::CreditAlphanum12(a),
                            "ASSET_TYPE_CREDIT_ALPHANUM12",
                        ),
                    };
                    if t != lt {
                        return Err(malformed(
                            m.line_of(&key),
                            format!("the asset is of type {t} but `line.type` says {lt}"),
                        ));
                    }
                    asset
                }
                other => {
                    return Err(malformed(
                        lt_line,
                        format!("{} is not an asset type", q(other)),
                    ))
                }
            };
            OperationBody::ChangeTrust(ChangeTrustOp {
                line,
                limit: m.int(&b("limit"))?,
            })
        }
        "ALLOW_TRUST" => {
            let trustor = m.account_id(&b("trustor"))?;
            let key = b("asset");
            let (code, code_line) = m.bare(&key)?;
            let bytes = unescape_code(code).map_err(|r| malformed(code_line, r))?;
            let asset = match bytes.len() {
                0..=4 => AssetCode::CreditAlphanum4(AssetCode4(pad(&bytes))),
                5..=12 => AssetCode::CreditAlphanum12(AssetCode12(pad(&bytes))),
                _ => {
                    return Err(malformed(
                        code_line,
                        "an asset code can hold at most 12 bytes",
                    ))
                }
            };
            let akey = b("authorize");
            let (auth, auth_line) = m.bare(&akey)?;
            let authorize = match auth {
                TRUE => 1,
                FALSE => 0,
                n => parse_decimal::<u32>(n).ok_or_else(|| {
                    malformed(
                        auth_line,
                        format!("{} is not valid for `{akey}`; expected true, false or an unsigned 32-bit integer", q(n)),
                    )
                })?,
            };
            OperationBody::AllowTrust(AllowTrustOp {
                trustor,
                asset,
                authorize,
            })
        }
        "ACCOUNT_MERGE" => OperationBody::AccountMerge(m.muxed(&format!("{p}body.destination"))?),
        "MANAGE_DATA" => {
            let key = b("dataName");
            let name_bytes = m.string(&key)?;
            let data_name = String64(name_bytes.try_into().map_err(|_| {
                malformed(m.line_of(&key), "a data name can hold at most 64 bytes")
            })?);
            let data_value = if m.present(&b("dataValue"))? {
                let vkey = b("dataValue");
                let bytes = m.opaque(&vkey)?;
                Some(DataValue(bytes.try_into().map_err(|_| {
                    malformed(m.line_of(&vkey), "a data value can hold at most 64 bytes")
                })?))
            } else {
                None
            };
            OperationBody::ManageData(ManageDataOp {
                data_name,
                data_value,
            })
        }
        "BUMP_SEQUENCE" => OperationBody::BumpSequence(BumpSequenceOp {
            bump_to: SequenceNumber(m.int(&b("bumpTo"))?),
        }),
        "CLAWBACK" => OperationBody::Clawback(ClawbackOp {
            asset: m.asset(&b("asset"))?,
            from: m.muxed(&b("from"))?,
            amount: m.int(&b("amount"))?,
        }),
        "SET_TRUST_LINE_FLAGS" => OperationBody::SetTrustLineFlags(SetTrustLineFlagsOp {
            trustor: m.account_id(&b("trustor"))?,
            asset: m.asset(&b("asset"))?,
            clear_flags: m.int(&b("clearFlags"))?,
            set_flags: m.int(&b("setFlags"))?,
        }),
        other => {
            let known = OperationType::VARIANTS
                .iter()
                .any(|t| op_type_name(*t) == other);
            return Err(if known {
                TxrepError::Unsupported {
                    what: format!("the {other} operation"),
                    line: Some(line),
                }
            } else {
                malformed(line, format!("{} is not an operation type", q(other)))
            });
        }
    };
    Ok(Operation {
        source_account,
        body,
    })
}

fn pad<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    for (o, b) in out.iter_mut().zip(bytes) {
        *o = *b;
    }
    out
}

/// Reads a plain decimal integer: optional `-`, digits, no leading zero (SEP-11 reads a leading
/// zero as octal, the SDK as decimal, so such text is refused rather than guessed at).
fn parse_decimal<T: std::str::FromStr>(s: &str) -> Option<T> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || (digits.len() > 1 && digits.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

/// Decodes an escaped asset code (`\xHH`, `\` before any other character).
fn unescape_code(s: &str) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('x') => {
                    let h: String = chars.by_ref().take(2).collect();
                    let byte = (h.len() == 2)
                        .then(|| u8::from_str_radix(&h, 16).ok())
                        .flatten()
                        .ok_or_else(|| {
                            "`\\x` in an asset code must be followed by two hex digits".to_string()
                        })?;
                    out.push(byte);
                }
                Some(e) if e.is_ascii_graphic() => out.push(e as u8),
                _ => return Err("an asset code has a `\\` with nothing printable after it".into()),
            },
            c if c.is_ascii_graphic() => out.push(c as u8),
            _ => {
                return Err(
                    "an asset code may only hold printable ASCII; write other bytes as `\\xHH`"
                        .into(),
                )
            }
        }
    }
    Ok(out)
}

/// The position of the first `:` not escaped by `\`.
fn unescaped_colon(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            ':' => return Some(i),
            _ => {}
        }
    }
    None
}

/// A parsed value: a quoted string (already unescaped, as bytes) or a bare token.
enum Value {
    Quoted(Vec<u8>),
    Bare(String),
}

struct Entry {
    line: usize,
    value: Value,
    used: Cell<bool>,
}

/// The `field: value` lines of a txrep text, keyed by field; each read marks the field used.
struct Fields {
    map: HashMap<String, Entry>,
}

impl Fields {
    fn parse(text: &str) -> Result<Self> {
        let mut map: HashMap<String, Entry> = HashMap::new();
        for (i, raw) in text.split('\n').enumerate() {
            let line = i + 1;
            let l = raw.strip_suffix('\r').unwrap_or(raw);
            if l.trim().is_empty() || l.starts_with(':') {
                continue;
            }
            let Some((key, rest)) = l.split_once(':') else {
                return Err(malformed(
                    line,
                    "expected `field: value`, a comment starting with `:`, or a blank line",
                ));
            };
            let key = key.trim();
            if !valid_field(key) {
                return Err(malformed(
                    line,
                    format!("`{key}` is not a valid field name"),
                ));
            }
            let rest = rest.trim_start();
            let value = if let Some(q) = rest.strip_prefix('"') {
                let (bytes, after) = unquote(q).map_err(|r| malformed(line, r))?;
                if !(after.is_empty() || after.starts_with([' ', '\t'])) {
                    return Err(malformed(
                        line,
                        "text follows the closing quote without a space before it",
                    ));
                }
                Value::Quoted(bytes)
            } else {
                let token = rest.split([' ', '\t']).next().unwrap_or("");
                Value::Bare(token.to_string())
            };
            if let Some(prev) = map.get(key) {
                return Err(malformed(
                    line,
                    format!("`{key}` was already given on line {}", prev.line),
                ));
            }
            map.insert(
                key.to_string(),
                Entry {
                    line,
                    value,
                    used: Cell::new(false),
                },
            );
        }
        Ok(Self { map })
    }

    fn check_all_used(&self) -> Result<()> {
        let unused = self
            .map
            .iter()
            .filter(|(_, e)| !e.used.get())
            .min_by_key(|(_, e)| e.line);
        match unused {
            Some((key, e)) => Err(malformed(
                e.line,
                format!("`{key}` is not a field of this envelope"),
            )),
            None => Ok(()),
        }
    }

    fn line_of(&self, key: &str) -> usize {
        self.map.get(key).map_or(0, |e| e.line)
    }

    fn entry(&self, key: &str) -> Result<&Entry> {
        let e = self.map.get(key).ok_or_else(|| TxrepError::Missing {
            key: key.to_string(),
        })?;
        e.used.set(true);
        Ok(e)
    }

    fn bare(&self, key: &str) -> Result<(&str, usize)> {
        let e = self.entry(key)?;
        match &e.value {
            Value::Bare(s) => Ok((s.as_str(), e.line)),
            Value::Quoted(_) => Err(malformed(
                e.line,
                format!("`{key}` takes an unquoted value, not a quoted string"),
            )),
        }
    }

    fn optional_bare(&self, key: &str) -> Result<Option<(&str, usize)>> {
        if self.map.contains_key(key) {
            self.bare(key).map(Some)
        } else {
            Ok(None)
        }
    }

    fn int<T: std::str::FromStr + IntKind>(&self, key: &str) -> Result<T> {
        let (v, line) = self.bare(key)?;
        parse_decimal(v).ok_or_else(|| {
            malformed(
                line,
                format!(
                    "{} is not valid for `{key}`; expected {}",
                    q(v),
                    T::DESCRIPTION
                ),
            )
        })
    }

    fn len(&self, key: &str, max: usize) -> Result<usize> {
        let n: u32 = self.int(key)?;
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        if n > max {
            return Err(malformed(
                self.line_of(key),
                format!("`{key}` is {n}, more than the {max} allowed"),
            ));
        }
        Ok(n)
    }

    fn present(&self, base: &str) -> Result<bool> {
        let key = format!("{base}._present");
        let (v, line) = self.bare(&key)?;
        match v {
            TRUE => Ok(true),
            FALSE => Ok(false),
            _ => Err(malformed(
                line,
                format!("{} is not valid for `{key}`; expected true or false", q(v)),
            )),
        }
    }

    fn strkey(&self, key: &str) -> Result<(Strkey, usize)> {
        let (v, line) = self.bare(key)?;
        // The value is not echoed: a mistaken paste could be a secret seed.
        if v.starts_with('S') {
            return Err(malformed(
                line,
                format!("`{key}` holds what looks like a secret seed (S…), never put one in txrep"),
            ));
        }
        Strkey::from_string(v)
            .map(|k| (k, line))
            .map_err(|e| malformed(line, format!("`{key}` is not a valid strkey: {e}")))
    }

    fn account_id(&self, key: &str) -> Result<AccountId> {
        match self.strkey(key)? {
            (Strkey::PublicKeyEd25519(k), _) => {
                Ok(AccountId(PublicKey::PublicKeyTypeEd25519(Uint256(k.0))))
            }
            (_, line) => Err(malformed(
                line,
                format!("`{key}` must be an account ID (G…)"),
            )),
        }
    }

    fn muxed(&self, key: &str) -> Result<MuxedAccount> {
        match self.strkey(key)? {
            (Strkey::PublicKeyEd25519(k), _) => Ok(MuxedAccount::Ed25519(Uint256(k.0))),
            (Strkey::MuxedAccountEd25519(k), _) => {
                Ok(MuxedAccount::MuxedEd25519(MuxedAccountMed25519 {
                    id: k.id,
                    ed25519: Uint256(k.ed25519),
                }))
            }
            (_, line) => Err(malformed(
                line,
                format!("`{key}` must be an account (G…) or a muxed account (M…)"),
            )),
        }
    }

    fn signer_key(&self, key: &str) -> Result<SignerKey> {
        match self.strkey(key)? {
            (Strkey::PublicKeyEd25519(k), _) => Ok(SignerKey::Ed25519(Uint256(k.0))),
            (Strkey::PreAuthTx(k), _) => Ok(SignerKey::PreAuthTx(Uint256(k.0))),
            (Strkey::HashX(k), _) => Ok(SignerKey::HashX(Uint256(k.0))),
            (Strkey::SignedPayloadEd25519(sp), line) => Ok(SignerKey::Ed25519SignedPayload(
                SignerKeyEd25519SignedPayload {
                    ed25519: Uint256(*sp.ed25519()),
                    payload: sp.payload().to_vec().try_into().map_err(|_| {
                        malformed(line, "a signed payload can hold at most 64 bytes")
                    })?,
                },
            )),
            (_, line) => Err(malformed(
                line,
                format!("`{key}` must be a signer key (G…, T…, X… or P…)"),
            )),
        }
    }

    fn asset(&self, key: &str) -> Result<Asset> {
        let (v, line) = self.bare(key)?;
        let Some(colon) = unescaped_colon(v) else {
            return match v {
                "native" | "NATIVE" | "XLM" | "TestXLM" => Ok(Asset::Native),
                _ => Err(malformed(
                    line,
                    format!(
                        "{} is not an asset; expected `native` or `CODE:ISSUER`",
                        q(v)
                    ),
                )),
            };
        };
        let code = unescape_code(&v[..colon]).map_err(|r| malformed(line, r))?;
        let issuer_str = &v[colon + 1..];
        let issuer = match Strkey::from_string(issuer_str) {
            Ok(Strkey::PublicKeyEd25519(k)) => {
                AccountId(PublicKey::PublicKeyTypeEd25519(Uint256(k.0)))
            }
            _ => {
                return Err(malformed(
                    line,
                    format!("the issuer in `{key}` is not a valid account ID (G…)"),
                ))
            }
        };
        match code.len() {
            0..=4 => Ok(Asset::CreditAlphanum4(AlphaNum4 {
                asset_code: AssetCode4(pad(&code)),
                issuer,
            })),
            5..=12 => Ok(Asset::CreditAlphanum12(AlphaNum12 {
                asset_code: AssetCode12(pad(&code)),
                issuer,
            })),
            _ => Err(malformed(line, "an asset code can hold at most 12 bytes")),
        }
    }

    /// Variable-length opaque: lower- or upper-case hex, even length; empty or `0` is no bytes.
    fn opaque(&self, key: &str) -> Result<Vec<u8>> {
        let (v, line) = self.bare(key)?;
        if v.is_empty() || v == "0" {
            return Ok(Vec::new());
        }
        hex::decode(v).map_err(|_| {
            malformed(
                line,
                format!("`{key}` must be hex with an even number of digits"),
            )
        })
    }

    fn fixed_opaque<const N: usize>(&self, key: &str) -> Result<[u8; N]> {
        let line = self.line_of(key);
        let bytes = self.opaque(key)?;
        bytes.try_into().map_err(|b: Vec<u8>| {
            malformed(
                line,
                format!(
                    "`{key}` must be {N} bytes ({} hex digits), not {}",
                    N * 2,
                    b.len()
                ),
            )
        })
    }

    /// A string field: a quoted string, or bare hex for bytes that are not UTF-8.
    fn string(&self, key: &str) -> Result<Vec<u8>> {
        let e = self.entry(key)?;
        match &e.value {
            Value::Quoted(b) => Ok(b.clone()),
            Value::Bare(v) => hex::decode(v).map_err(|_| {
                malformed(
                    e.line,
                    format!(
                        "`{key}` must be a quoted string (or hex for bytes that are not UTF-8)"
                    ),
                )
            }),
        }
    }
}

/// What `Fields::int` says it expected.
trait IntKind {
    const DESCRIPTION: &'static str;
}
impl IntKind for u32 {
    const DESCRIPTION: &'static str = "a decimal integer from 0 to 4294967295";
}
impl IntKind for i32 {
    const DESCRIPTION: &'static str = "a decimal integer from -2147483648 to 2147483647";
}
impl IntKind for u64 {
    const DESCRIPTION: &'static str = "a decimal integer from 0 to 18446744073709551615";
}
impl IntKind for i64 {
    const DESCRIPTION: &'static str =
        "a decimal integer from -9223372036854775808 to 9223372036854775807";
}

/// SEP-11 field syntax: tags of letters, digits and `_` joined by `.`, `[n]` indexes.
fn valid_field(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'[' | b']'))
}

/// Decodes a quoted string whose opening quote is already consumed; returns the bytes and the
/// text after the closing quote. Reads the SDK's escapes (JSON: `\" \\ \/ \n \r \t \b \f \uXXXX`)
/// and SEP-11's `\xHH`.
fn unquote(s: &str) -> std::result::Result<(Vec<u8>, &str), String> {
    let mut out = Vec::new();
    let mut it = s.char_indices();
    while let Some((i, c)) = it.next() {
        match c {
            '"' => return Ok((out, &s[i + 1..])),
            '\\' => {
                let Some((_, e)) = it.next() else { break };
                match e {
                    '"' => out.push(b'"'),
                    '\\' => out.push(b'\\'),
                    '/' => out.push(b'/'),
                    'n' => out.push(b'\n'),
                    'r' => out.push(b'\r'),
                    't' => out.push(b'\t'),
                    'b' => out.push(0x08),
                    'f' => out.push(0x0c),
                    'x' => {
                        let h = take_hex(&mut it, 2)?;
                        out.push(u8::try_from(h).map_err(|_| "bad `\\x` escape".to_string())?);
                    }
                    'u' => {
                        let u = take_hex(&mut it, 4)?;
                        let c = if (0xd800..0xdc00).contains(&u) {
                            let low = match (it.next(), it.next()) {
                                (Some((_, '\\')), Some((_, 'u'))) => take_hex(&mut it, 4)?,
                                _ => return Err("a `\\u` high surrogate is not followed by a `\\u` low surrogate".into()),
                            };
                            if !(0xdc00..0xe000).contains(&low) {
                                return Err(
                                    "a `\\u` high surrogate is not followed by a low surrogate"
                                        .into(),
                                );
                            }
                            char::from_u32(0x10000 + ((u - 0xd800) << 10) + (low - 0xdc00))
                        } else {
                            char::from_u32(u)
                        };
                        let c =
                            c.ok_or_else(|| "a `\\u` escape is a lone surrogate".to_string())?;
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    }
                    other => {
                        return Err(format!("`\\{other}` is not a known escape in a string"));
                    }
                }
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    Err("the string has no closing quote".into())
}

fn take_hex(it: &mut std::str::CharIndices<'_>, n: usize) -> std::result::Result<u32, String> {
    let mut v = 0u32;
    for _ in 0..n {
        let d = it
            .next()
            .and_then(|(_, c)| c.to_digit(16))
            .ok_or_else(|| format!("an escape in a string needs {n} hex digits"))?;
        v = v * 16 + d;
    }
    Ok(v)
}
