//! Writing an envelope as txrep, line for line as the Python stellar-sdk writes it.
use std::fmt::Display;
use std::fmt::Write as _;
use stellar_strkey::ed25519;
use stellar_strkey::Strkey;

use super::{body_field, op_type_name, signer_key_kind, Result, TxrepError, FALSE, TRUE};
use stellar_xdr::{
    AccountId, Asset, AssetCode, ChangeTrustAsset, DecoratedSignature, FeeBumpTransactionExt,
    FeeBumpTransactionInnerTx, LiquidityPoolParameters, Memo, MuxedAccount, Operation,
    OperationBody, Preconditions, PublicKey, SignerKey, TimeBounds, Transaction,
    TransactionEnvelope, TransactionExt,
};

/// Writes `env` as txrep, one `field: value` line per field, lines joined by `\n` (no final
/// newline), in the order and with the comments the Python stellar-sdk uses.
pub fn to_txrep(env: &TransactionEnvelope) -> Result<String> {
    let mut w = Writer::default();
    match env {
        TransactionEnvelope::TxV0(e) => {
            w.put("type", "ENVELOPE_TYPE_TX_V0");
            let tx = crate::envelope::v0_as_v1(e);
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
