//! SEP-11 txrep checked against the Python stellar-sdk (`stellar_sdk.sep.txrep`).
//!
//! `tests/txrep/oracle.py cases` builds every test envelope with the SDK and gives its XDR and the
//! SDK's txrep of it; `oracle.py parse` runs the SDK's `from_txrep` on texts we give it. Nothing
//! expected here comes from this crate's own output. These tests need Python 3 with stellar-sdk
//! (`python3 -m pip install -r tests/requirements.txt`); without it they fail, they do not skip.
//! Set `AIRGAP_TEST_PYTHON` to use another interpreter than `python3`.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use airgap::txrep::{from_txrep, to_txrep, TxrepError};
use serde_json::Value;
use stellar_xdr::{
    Limits, Memo, MuxedAccount, Operation, OperationBody, ReadXdr, TransactionEnvelope,
    TransactionExt, WriteXdr,
};

use crate::util::{python, repo_root, run_python, PYTHON_HINT};

/// Cases whose SDK txrep the SDK's own `from_txrep` does not read back to the same envelope.
/// Kept exact: if an SDK release fixes one, the test says so and the entry goes.
const SDK_SELF_ROUNDTRIP_FAILS: &[(&str, &str)] = &[
    (
        "memo_text_unicode_and_controls",
        "the SDK writes JSON escapes (\\u00e9, \\t, \\r) but its reader only decodes \\n and takes any other escaped character literally",
    ),
    ("set_options_home_domain_unicode", "as above, \\u escapes"),
    ("manage_data_unicode_name", "as above, \\u and \\t escapes"),
    (
        "manage_data_empty_value",
        "the SDK writes an empty data value as nothing after `: ` and its reader then fails on it",
    ),
    (
        "set_options_signed_payload_signer",
        "the SDK reader accepts only G, X and T signer keys in set_options",
    ),
    (
        "allow_trust_maintain_liabilities",
        "lossy SDK text: authorize 2 is written `true`, read back as 1",
    ),
    (
        "set_options_zero_flags",
        "lossy SDK text: clearFlags/setFlags present with 0 are written `_present: false`",
    ),
];

/// Cases where the SDK's text loses information, so reading it gives what the SDK reads from it
/// (checked against the SDK's reading), not the original envelope.
const SDK_TEXT_LOSSY: &[&str] = &["allow_trust_maintain_liabilities", "set_options_zero_flags"];

/// Cases where the SDK's `from_txrep` cannot read our txrep (reader limits listed above; for
/// authorize 2 our `2` is not a bool to it). For set_options_zero_flags it reads ours correctly.
const SDK_CANNOT_READ_OURS: &[&str] = &[
    "memo_text_unicode_and_controls",
    "set_options_home_domain_unicode",
    "manage_data_unicode_name",
    "manage_data_empty_value",
    "set_options_signed_payload_signer",
    "allow_trust_maintain_liabilities",
];

fn oracle(cmd: &str, stdin: &str) -> Value {
    let script = repo_root().join("tests/txrep/oracle.py");
    let out = run_python(python().arg(script).arg(cmd), Some(stdin.as_bytes()));
    assert!(
        out.status.success(),
        "oracle.py {cmd} failed ({}): {}\n{PYTHON_HINT}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("oracle output is JSON")
}

struct Case {
    name: String,
    xdr: String,
    txrep: String,
    sdk_self_roundtrip: bool,
    sdk_self_error: Option<String>,
    sdk_self_xdr: Option<String>,
}

/// The oracle's cases, built once per test binary.
fn sdk_cases() -> &'static [Case] {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES.get_or_init(load_cases)
}

fn load_cases() -> Vec<Case> {
    let v = oracle("cases", "");
    v.as_array()
        .expect("a JSON list")
        .iter()
        .map(|c| Case {
            name: c["name"].as_str().expect("name").to_string(),
            xdr: c["xdr"].as_str().expect("xdr").to_string(),
            txrep: c["txrep"].as_str().expect("txrep").to_string(),
            sdk_self_roundtrip: c["sdk_self_roundtrip"].as_bool().expect("flag"),
            sdk_self_error: c["sdk_self_error"].as_str().map(str::to_string),
            sdk_self_xdr: c["sdk_self_xdr"].as_str().map(str::to_string),
        })
        .collect()
}

fn sdk_parse(texts: &[String]) -> Vec<Result<String, String>> {
    let v = oracle("parse", &serde_json::to_string(texts).expect("json"));
    v.as_array()
        .expect("a JSON list")
        .iter()
        .map(|r| match r["xdr"].as_str() {
            Some(x) => Ok(x.to_string()),
            None => Err(r["error"].as_str().unwrap_or("?").to_string()),
        })
        .collect()
}

fn decode(xdr: &str) -> TransactionEnvelope {
    TransactionEnvelope::from_xdr_base64(xdr, Limits::none()).expect("SDK XDR decodes")
}

fn encode(env: &TransactionEnvelope) -> String {
    env.to_xdr_base64(Limits::none()).expect("encodes")
}

/// The documented differences between our text and the SDK's, undone on our text so the rest
/// can be compared byte for byte. Each applies to one named case only and must change something.
fn normalize(case: &str, ours: &str) -> String {
    let out = match case {
        // We keep `_present: true` + `0`; the SDK drops a present 0 flag (its IntFlag(0) is falsy).
        "set_options_zero_flags" => {
            let lines: Vec<&str> = ours.lines().collect();
            let mut out = Vec::new();
            let mut i = 0;
            while i < lines.len() {
                let l = lines[i];
                let zero_flag = ["clearFlags", "setFlags"].iter().find_map(|f| {
                    let present = l.strip_suffix(&format!("{f}._present: true"))?;
                    (lines.get(i + 1) == Some(&format!("{present}{f}: 0").as_str()))
                        .then(|| format!("{present}{f}._present: false"))
                });
                match zero_flag {
                    Some(n) => {
                        out.push(n);
                        i += 2;
                    }
                    None => {
                        out.push(l.to_string());
                        i += 1;
                    }
                }
            }
            out.join("\n")
        }
        // We write authorize 2 as `2`; the SDK writes every non-zero authorize as `true`.
        "allow_trust_maintain_liabilities" => {
            ours.replace("allowTrustOp.authorize: 2", "allowTrustOp.authorize: true")
        }
        _ => return ours.to_string(),
    };
    assert_ne!(out, ours, "{case}: the normalization no longer applies");
    out
}

fn first_difference(a: &str, b: &str) -> String {
    let (al, bl): (Vec<_>, Vec<_>) = (a.lines().collect(), b.lines().collect());
    for i in 0..al.len().max(bl.len()) {
        if al.get(i) != bl.get(i) {
            return format!(
                "line {}:\n  ours: {:?}\n  sdk:  {:?}",
                i + 1,
                al.get(i),
                bl.get(i)
            );
        }
    }
    "no line differs (line endings?)".into()
}

#[test]
fn txrep_matches_the_python_sdk() {
    let cases = sdk_cases();
    assert!(
        cases.len() >= 30,
        "the oracle gave only {} cases",
        cases.len()
    );
    let mut failures = Vec::new();
    let mut ours_all = Vec::new();

    for c in cases {
        let env = decode(&c.xdr);

        // 1. Our text is the SDK's text.
        let ours = match to_txrep(&env) {
            Ok(t) => t,
            Err(e) => {
                failures.push(format!("{}: to_txrep failed: {e}", c.name));
                ours_all.push(String::new());
                continue;
            }
        };
        let normalized = normalize(&c.name, &ours);
        if normalized != c.txrep {
            failures.push(format!(
                "{}: text differs from the SDK's at {}",
                c.name,
                first_difference(&normalized, &c.txrep)
            ));
        }

        // 2. The SDK's own round trip fails exactly where documented.
        let documented = SDK_SELF_ROUNDTRIP_FAILS.iter().any(|(n, _)| *n == c.name);
        if c.sdk_self_roundtrip == documented {
            failures.push(format!(
                "{}: the SDK's own txrep round trip {} ({:?}), the list says otherwise",
                c.name,
                if c.sdk_self_roundtrip {
                    "works"
                } else {
                    "fails"
                },
                c.sdk_self_error
            ));
        }

        // 3. We read the SDK's text: to the original envelope, or, where the SDK's text is lossy,
        //    to what the SDK itself reads from it.
        let want = if SDK_TEXT_LOSSY.contains(&c.name.as_str()) {
            c.sdk_self_xdr.clone()
        } else {
            Some(c.xdr.clone())
        };
        match (from_txrep(&c.txrep), want) {
            (Ok(got), Some(want)) if encode(&got) == want => {}
            (Ok(got), want) => failures.push(format!(
                "{}: reading the SDK's text gave {} instead of {want:?}",
                c.name,
                encode(&got)
            )),
            (Err(e), _) => failures.push(format!("{}: reading the SDK's text failed: {e}", c.name)),
        }

        // 4. We read our own text back to the same envelope.
        match from_txrep(&ours) {
            Ok(back) if back == env => {}
            Ok(back) => failures.push(format!(
                "{}: our text reads back as {} not {}",
                c.name,
                encode(&back),
                c.xdr
            )),
            Err(e) => failures.push(format!("{}: reading our text failed: {e}", c.name)),
        }
        ours_all.push(ours);
    }

    // 5. The SDK reads our text to the same envelope, except where its reader cannot.
    let parsed = sdk_parse(&ours_all);
    for (c, r) in cases.iter().zip(&parsed) {
        let expected_to_fail = SDK_CANNOT_READ_OURS.contains(&c.name.as_str());
        let ok = r.as_ref().is_ok_and(|x| *x == c.xdr);
        if ok == expected_to_fail {
            failures.push(format!(
                "{}: the SDK reading our text {} ({r:?}), the list says otherwise",
                c.name,
                if ok {
                    "works"
                } else {
                    "does not give the envelope"
                }
            ));
        }
    }

    // The cases cover what stellar-airgap builds.
    let all_text: String = cases
        .iter()
        .map(|c| c.txrep.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let needed = [
        "body.type: CREATE_ACCOUNT",
        "body.type: PAYMENT",
        "body.type: CHANGE_TRUST",
        "body.type: ALLOW_TRUST",
        "body.type: SET_TRUST_LINE_FLAGS",
        "body.type: SET_OPTIONS",
        "body.type: CLAWBACK",
        "body.type: MANAGE_DATA",
        "body.type: BUMP_SEQUENCE",
        "body.type: ACCOUNT_MERGE",
        "memo.type: MEMO_NONE",
        "memo.type: MEMO_TEXT",
        "memo.type: MEMO_ID",
        "memo.type: MEMO_HASH",
        "memo.type: MEMO_RETURN",
        "cond.type: PRECOND_NONE",
        "cond.type: PRECOND_TIME",
        "cond.type: PRECOND_V2",
        "type: ENVELOPE_TYPE_TX_FEE_BUMP",
        "type: ENVELOPE_TYPE_TX_V0",
        "signer.key: T",
        "signer.key: X",
        "signer.key: P",
        "feeBump.signatures[0].signature",
        "\nsignatures[0].signature",
        "signatures[1].signature",
        "accountMuxedID",
    ];
    let missing: BTreeSet<_> = needed.iter().filter(|n| !all_text.contains(*n)).collect();
    assert!(missing.is_empty(), "no SDK case covers {missing:?}");

    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// -------------------------------------------------------------------------------------------
// Behaviour the SDK has no say in: errors, strictness, envelopes it cannot render. These start
// from an SDK-built envelope and change it; the expectations are about errors and round trips,
// not about text this crate produced.
// -------------------------------------------------------------------------------------------

fn sdk_case(name: &str) -> &'static Case {
    sdk_cases()
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no oracle case {name}"))
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line contains {needle:?}"))
        + 1
}

fn malformed_at(text: &str) -> (usize, String) {
    match from_txrep(text) {
        Err(TxrepError::Malformed { line, reason }) => (line, reason),
        other => panic!("expected a Malformed error, got {other:?}"),
    }
}

fn first_tx(env: &mut TransactionEnvelope) -> &mut stellar_xdr::Transaction {
    match env {
        TransactionEnvelope::Tx(e) => &mut e.tx,
        other => panic!("not a v1 envelope: {other:?}"),
    }
}

#[test]
fn unsupported_operations_are_named_not_panicked_on() {
    let c = sdk_case("memo_text_plain");
    let mut env = decode(&c.xdr);
    let tx = first_tx(&mut env);
    let mut ops: Vec<Operation> = tx.operations.to_vec();
    ops.push(Operation {
        source_account: None,
        body: OperationBody::Inflation,
    });
    tx.operations = ops.try_into().expect("2 ops fit");
    match to_txrep(&env) {
        Err(e @ TxrepError::Unsupported { line: None, .. }) => {
            assert!(
                e.to_string()
                    .contains("the INFLATION operation (`tx.operations[1]`)"),
                "{e}"
            )
        }
        other => panic!("expected Unsupported, got {other:?}"),
    }

    // The same in text: the SDK's own body.type names for operations we do not handle.
    for name in ["MANAGE_SELL_OFFER", "INVOKE_HOST_FUNCTION", "INFLATION"] {
        let text = c
            .txrep
            .replace("body.type: BUMP_SEQUENCE", &format!("body.type: {name}"));
        let want_line = line_of(&text, &format!("body.type: {name}"));
        match from_txrep(&text) {
            Err(e @ TxrepError::Unsupported { line: Some(l), .. }) => {
                assert_eq!(l, want_line);
                assert!(e.to_string().contains(name), "{e}");
            }
            other => panic!("{name}: expected Unsupported, got {other:?}"),
        }
    }
    let text = c
        .txrep
        .replace("body.type: BUMP_SEQUENCE", "body.type: BUMP_SEQUENCES");
    let (line, reason) = malformed_at(&text);
    assert_eq!(line, line_of(&text, "BUMP_SEQUENCES"));
    assert!(reason.contains("not an operation type"), "{reason}");
}

#[test]
fn soroban_extension_is_unsupported() {
    let c = sdk_case("memo_text_plain");
    let text = c.txrep.replace("tx.ext.v: 0", "tx.ext.v: 1");
    assert!(matches!(
        from_txrep(&text),
        Err(TxrepError::Unsupported { line: Some(_), .. })
    ));
    let mut env = decode(&c.xdr);
    first_tx(&mut env).ext = TransactionExt::V1(Default::default());
    assert!(matches!(
        to_txrep(&env),
        Err(TxrepError::Unsupported { line: None, .. })
    ));
}

#[test]
fn malformed_text_is_rejected_with_line_and_reason() {
    let c = sdk_case("signed_twice");
    let base = c.txrep.as_str();
    let fee = "tx.fee: 100";
    assert!(base.contains(fee), "fixture changed: {base}");

    // Each edit: (what to replace, replacement, text in the reason).
    let edits: &[(&str, &str, &str)] = &[
        (fee, "tx.fee 100", "expected `field: value`"),
        (fee, "tx.fee: 1o0", "not valid for `tx.fee`"),
        (fee, "tx.fee: 0100", "not valid for `tx.fee`"),
        (fee, "tx.fee: 4294967296", "not valid for `tx.fee`"),
        (fee, "tx.fee: -1", "not valid for `tx.fee`"),
        (fee, "tx.fee: \"100\"", "unquoted value"),
        (fee, "tx fee: 100", "not a valid field name"),
        (fee, "tx.fee: 100\ntx.fee: 300", "already given on line"),
        (
            fee,
            "tx.fee: 100\ntx.feeX: 1",
            "not a field of this envelope",
        ),
        (
            "tx.memo.text: \"two signatures\"",
            "tx.memo.text: \"two signatures",
            "no closing quote",
        ),
        (
            "tx.memo.text: \"two signatures\"",
            "tx.memo.text: \"two \\q signatures\"",
            "not a known escape",
        ),
        (
            "tx.memo.text: \"two signatures\"",
            "tx.memo.text: \"two signatures\"x",
            "closing quote",
        ),
        (
            "tx.memo.text: \"two signatures\"",
            "tx.memo.text: \"this memo is longer than twenty-eight bytes\"",
            "at most 28 bytes",
        ),
        (
            "tx.memo.type: MEMO_TEXT",
            "tx.memo.type: MEMO_TEXTS",
            "not a memo type",
        ),
        (
            "tx.operations.len: 1",
            "tx.operations.len: 101",
            "more than the 100 allowed",
        ),
        (
            "signatures.len: 2",
            "signatures.len: 21",
            "more than the 20 allowed",
        ),
        (
            "type: ENVELOPE_TYPE_TX",
            "type: ENVELOPE_TYPE_TXX",
            "not an envelope type",
        ),
        (
            "sourceAccount._present: false",
            "sourceAccount._present: maybe",
            "expected true or false",
        ),
        (
            "paymentOp.asset: USD:",
            "paymentOp.asset: USD",
            "is not an asset",
        ),
        (
            "paymentOp.asset: USD:",
            "paymentOp.asset: TOOLONGASSETCODE:",
            "at most 12 bytes",
        ),
        (
            "signatures[0].hint: ",
            "signatures[0].hint: abc",
            "even number",
        ),
        (
            "signatures[0].hint: ",
            "signatures[0].hint: 00",
            "must be 4 bytes",
        ),
        (
            "cond.type: PRECOND_NONE",
            "cond.type: PRECOND_V3",
            "not a precondition type",
        ),
    ];
    for (from, to, why) in edits {
        assert!(base.contains(from), "fixture lacks {from:?}");
        let text = base.replacen(from, to, 1);
        // The offending line is the last line the edit wrote.
        let last = to.lines().last().expect("non-empty");
        let (line, reason) = malformed_at(&text);
        assert_eq!(line, line_of(&text, last), "{to:?}: {reason}");
        assert!(
            reason.contains(why),
            "{to:?}: reason {reason:?} lacks {why:?}"
        );
        let msg = from_txrep(&text).expect_err("is an error").to_string();
        assert!(
            msg.starts_with(&format!("line {line}: ")) && msg.ends_with('.'),
            "{msg}"
        );
    }

    // A missing line is named.
    let text: String = base
        .lines()
        .filter(|l| !l.starts_with("tx.seqNum"))
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(
        from_txrep(&text),
        Err(TxrepError::Missing {
            key: "tx.seqNum".into()
        })
    );
}

#[test]
fn strkey_errors_do_not_echo_the_value() {
    let c = sdk_case("memo_text_plain");
    let src = c
        .txrep
        .lines()
        .find_map(|l| l.strip_prefix("tx.sourceAccount: "))
        .expect("source line")
        .to_string();
    // Something shaped like a secret seed pasted by mistake (an S and the account's own tail).
    let seed = format!("S{}", &src[1..]);
    let text = c.txrep.replace(&src, &seed);
    let err = from_txrep(&text)
        .expect_err("a seed is not an account")
        .to_string();
    assert!(err.contains("secret seed") && !err.contains(&seed), "{err}");
    // Nor in a field that is not a key at all.
    for field in ["tx.fee: 100", "tx.memo.type: MEMO_TEXT"] {
        let (name, _) = field.split_once(": ").expect("field");
        let text = c.txrep.replace(field, &format!("{name}: {seed}"));
        let err = from_txrep(&text)
            .expect_err("a seed is not a value")
            .to_string();
        assert!(err.contains("secret seed") && !err.contains(&seed), "{err}");
    }

    let mut bad = src.clone();
    bad.replace_range(10..11, if &src[10..11] == "A" { "B" } else { "A" });
    let text = c.txrep.replace(&src, &bad);
    let err = from_txrep(&text).expect_err("bad checksum").to_string();
    assert!(!err.contains(&bad), "{err}");
}

#[test]
fn comments_blank_lines_and_crlf_are_accepted() {
    let c = sdk_case("fee_bump_signed");
    let mut text = String::from(": a full-line comment\n\n");
    for l in c.txrep.lines() {
        text.push_str(l);
        if l.ends_with(": 0") || l.ends_with(": 100") {
            text.push_str("   trailing comment");
        }
        text.push_str("\r\n");
        text.push_str(":\r\n   \r\n");
    }
    assert_eq!(encode(&from_txrep(&text).expect("reads")), c.xdr);
}

#[test]
fn sep11_string_forms_are_read() {
    // SEP-11 writes non-ASCII bytes as \xHH; the SDK writes \uXXXX. Both read to the same bytes.
    let c = sdk_case("memo_text_plain");
    let from = "tx.memo.text: \"Enjoy this transaction\"";
    assert!(c.txrep.contains(from));
    let sep11 = from_txrep(&c.txrep.replace(from, r#"tx.memo.text: "caf\xc3\xa9 \x00""#))
        .expect("SEP-11 escapes");
    let json = from_txrep(&c.txrep.replace(from, r#"tx.memo.text: "caf\u00e9 \u0000""#))
        .expect("JSON escapes");
    let raw = from_txrep(&c.txrep.replace(from, "tx.memo.text: \"café \\x00\"")).expect("raw");
    let want = Memo::Text(b"caf\xc3\xa9 \x00".to_vec().try_into().expect("fits"));
    for env in [&sep11, &json, &raw] {
        match env {
            TransactionEnvelope::Tx(e) => assert_eq!(e.tx.memo, want),
            other => panic!("{other:?}"),
        }
    }
    // SEP-11's `0` for an empty opaque value reads like the SDK's empty value.
    let c = sdk_case("manage_data_empty_value");
    let sdk_empty = from_txrep(&c.txrep).expect("SDK form");
    let sep11_empty =
        from_txrep(&c.txrep.replace("dataValue: ", "dataValue: 0")).expect("SEP-11 form");
    assert_eq!(sdk_empty, sep11_empty);
    assert_eq!(encode(&sdk_empty), c.xdr);
}

/// Envelopes the SDK cannot build or render: still written and read back losslessly.
#[test]
fn values_outside_the_sdk_round_trip() {
    let c = sdk_case("payment_muxed_everywhere");
    let mut env = decode(&c.xdr);
    let tx = first_tx(&mut env);
    tx.cond = stellar_xdr::Preconditions::Time(stellar_xdr::TimeBounds {
        min_time: stellar_xdr::TimePoint(253_402_300_800),
        max_time: stellar_xdr::TimePoint(u64::MAX),
    });
    let issuer = match &tx.source_account {
        MuxedAccount::MuxedEd25519(m) => m.ed25519.clone(),
        MuxedAccount::Ed25519(k) => k.clone(),
    };
    let issuer_id = stellar_xdr::AccountId(stellar_xdr::PublicKey::PublicKeyTypeEd25519(issuer));
    let weird4 = stellar_xdr::Asset::CreditAlphanum4(stellar_xdr::AlphaNum4 {
        asset_code: stellar_xdr::AssetCode4(*b"a:\\\x00"),
        issuer: issuer_id.clone(),
    });
    let short12 = stellar_xdr::Asset::CreditAlphanum12(stellar_xdr::AlphaNum12 {
        asset_code: stellar_xdr::AssetCode12(*b"AB\0\0\0\0\0\0\0\0\0\0"),
        issuer: issuer_id.clone(),
    });
    let mut ops: Vec<Operation> = tx.operations.to_vec();
    for asset in [weird4, short12] {
        ops.push(Operation {
            source_account: None,
            body: OperationBody::Clawback(stellar_xdr::ClawbackOp {
                asset,
                from: MuxedAccount::Ed25519(stellar_xdr::Uint256([9; 32])),
                amount: -5,
            }),
        });
    }
    ops.push(Operation {
        source_account: None,
        body: OperationBody::SetOptions(stellar_xdr::SetOptionsOp {
            inflation_dest: None,
            clear_flags: Some(0),
            set_flags: None,
            master_weight: None,
            low_threshold: None,
            med_threshold: None,
            high_threshold: None,
            home_domain: Some(stellar_xdr::String32(
                b"\xff\xfe".to_vec().try_into().expect("fits"),
            )),
            signer: None,
        }),
    });
    ops.push(Operation {
        source_account: None,
        body: OperationBody::ManageData(stellar_xdr::ManageDataOp {
            data_name: stellar_xdr::String64(b"\xc3".to_vec().try_into().expect("fits")),
            data_value: Some(stellar_xdr::DataValue(Default::default())),
        }),
    });
    ops.push(Operation {
        source_account: None,
        body: OperationBody::AllowTrust(stellar_xdr::AllowTrustOp {
            trustor: issuer_id,
            asset: stellar_xdr::AssetCode::CreditAlphanum12(stellar_xdr::AssetCode12(
                *b"ABCDEFGHIJKL",
            )),
            authorize: 7,
        }),
    });
    tx.operations = ops.try_into().expect("fits");
    let text = to_txrep(&env).expect("renders");
    assert_eq!(from_txrep(&text).expect("reads back"), env, "{text}");
    // Past year 9999 there is no date comment (the SDK raises there).
    assert!(text.contains(&format!("maxTime: {}\n", u64::MAX)), "{text}");
}

#[test]
fn empty_signed_payload_cannot_be_written() {
    let c = sdk_case("set_options_signed_payload_signer");
    let mut env = decode(&c.xdr);
    let tx = first_tx(&mut env);
    let mut ops = tx.operations.to_vec();
    if let OperationBody::SetOptions(o) = &mut ops[0].body {
        if let Some(s) = &mut o.signer {
            if let stellar_xdr::SignerKey::Ed25519SignedPayload(p) = &mut s.key {
                p.payload = Default::default();
            }
        }
    }
    tx.operations = ops.try_into().expect("fits");
    assert!(matches!(
        to_txrep(&env),
        Err(TxrepError::Unrepresentable { .. })
    ));
}
