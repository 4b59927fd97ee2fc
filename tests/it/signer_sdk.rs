//! `airgap-signer` against Stellar's SDKs, byte for byte.
//!
//! Every test runs the real binary in a temp dir with a scrubbed environment and compares what it
//! writes with what Python's stellar-sdk builds and signs from the same inputs at test time
//! (tests/oracle/sdk_oracle.py); signatures are also checked with the JavaScript SDK (tests/js).
//! Needs `pip install -r tests/requirements.txt` and `npm ci --prefix tests/js`; without them the
//! tests fail with that hint.

use std::process::Output;

use crate::util::{
    js_verify, oracle, oracle_json, oracle_try, run, show, Key, TestDir, ALICE, BOB, COSIGNER,
    DEST, ISSUER,
};
use serde_json::{json, Value};

const ALL_KEYS: [&Key; 4] = [&ISSUER, &ALICE, &COSIGNER, &BOB];

const SEQUENCE: &str = "1234567890123";
const MIN_TIME: &str = "1700000000";
const MAX_TIME: &str = "1900000000";
const TESTNET: &str = "Test SDF Network ; September 2015";

fn usd() -> String {
    format!("USD:{}", ISSUER.public)
}

fn key_arg(key: &Key) -> String {
    format!("env:{}", key.var)
}

/// Run `airgap-signer ARGS` in `dir` with every test key's secret in its environment variable.
fn signer_in(dir: &TestDir, args: &[String], env: &[(&str, &str)], stdin: Option<&[u8]>) -> Output {
    let mut cmd = dir.command("airgap-signer");
    for key in ALL_KEYS {
        cmd.env(key.var, key.secret);
    }
    for (var, value) in env {
        cmd.env(var, value);
    }
    run(cmd.args(args), stdin)
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// `command…` followed by the options every build test shares, then `--key env:…` per key.
fn tx_args(command: &[&str], keys: &[&Key]) -> Vec<String> {
    tx_args_on("testnet", command, keys)
}

/// `tx_args` for another network.
fn tx_args_on(network: &str, command: &[&str], keys: &[&Key]) -> Vec<String> {
    let mut args = strings(command);
    args.extend(strings(&[
        "--network",
        network,
        "--sequence",
        SEQUENCE,
        "--min-time",
        MIN_TIME,
        "--max-time",
        MAX_TIME,
        "--yes",
    ]));
    for key in keys {
        args.push("--key".into());
        args.push(key_arg(key));
    }
    args
}

/// The one line a successful command wrote to stdout.
fn stdout_line(out: &Output) -> String {
    assert!(out.status.success(), "airgap-signer failed:\n{}", show(out));
    let stdout = String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8");
    let line = stdout
        .strip_suffix('\n')
        .unwrap_or_else(|| panic!("stdout must end in a newline:\n{}", show(out)));
    assert!(
        !line.contains('\n'),
        "stdout must be one line:\n{}",
        show(out)
    );
    line.to_owned()
}

/// A plan (docs/plan-format.md) with the shared transaction fields and these operations.
fn plan(operations: Value) -> Value {
    json!({
        "network": "testnet",
        "source": ISSUER.public,
        "sequence": SEQUENCE,
        "fee": 100,
        "min_time": MIN_TIME.parse::<u64>().unwrap(),
        "max_time": MAX_TIME.parse::<u64>().unwrap(),
        "operations": operations,
    })
}

/// What the Python SDK builds from `plan`, signed by `keys` in order.
fn sdk_build(plan: &Value, keys: &[&Key]) -> String {
    let secrets: Vec<&str> = keys.iter().map(|k| k.secret).collect();
    oracle("build", &json!({"plan": plan, "secrets": secrets}))
}

/// Byte-exact comparison; on a mismatch, show both envelopes as the SDK reads them.
fn assert_same_envelope(got: &str, want: &str, network: &str) {
    if got == want {
        return;
    }
    let read = |envelope: &str| {
        oracle_try("decode", &json!({"envelope": envelope, "network": network}))
            .unwrap_or_else(|e| format!("(the SDK cannot read it: {e})"))
    };
    panic!(
        "airgap-signer's envelope differs from the SDK's\n  got:  {got}\n  want: {want}\n\
         got, as the SDK reads it:\n{}\nwant, as the SDK reads it:\n{}",
        read(got),
        read(want)
    );
}

/// Run a build command with the shared options and `keys`, and compare with the SDK's build of
/// `plan` signed by the same keys.
fn check(command: &[&str], keys: &[&Key], plan: Value) -> String {
    let dir = TestDir::new();
    let got = stdout_line(&signer_in(&dir, &tx_args(command, keys), &[], None));
    assert_same_envelope(&got, &sdk_build(&plan, keys), "testnet");
    got
}

/// Signers of each signature in `envelope` according to the Python and the JS SDK (which must agree).
fn verified_signers(envelope: &str, network: &str, candidates: &[&Key]) -> Vec<Value> {
    let input = json!({
        "envelope": envelope,
        "network": network,
        "public_keys": candidates.iter().map(|k| k.public).collect::<Vec<_>>(),
    });
    let py = oracle_json("verify", &input);
    let js = js_verify(&input);
    assert_eq!(py, js, "the Python and JS SDKs disagree about {envelope}");
    py["signatures"]
        .as_array()
        .expect("signatures")
        .iter()
        .map(|s| s["signer"].clone())
        .collect()
}

// ---- build commands, one operation each ------------------------------------------------------

#[test]
fn set_options_every_field() {
    check(
        &[
            "set-options",
            "--set-flags",
            "auth-required,auth-revocable",
            "--clear-flags",
            "auth-clawback-enabled",
            "--home-domain",
            "example.com",
            "--master-weight",
            "2",
            "--low-threshold",
            "1",
            "--med-threshold",
            "2",
            "--high-threshold",
            "3",
            "--signer",
            &format!("{}:1", COSIGNER.public),
            "--inflation-dest",
            BOB.public,
        ],
        &[&ISSUER],
        plan(json!([{
            "type": "set_options",
            "set_flags": ["auth_required", "auth_revocable"],
            "clear_flags": ["auth_clawback_enabled"],
            "home_domain": "example.com",
            "master_weight": 2,
            "low_threshold": 1,
            "med_threshold": 2,
            "high_threshold": 3,
            "signer": {"key": COSIGNER.public, "weight": 1},
            "inflation_dest": BOB.public,
        }])),
    );
}

#[test]
fn set_options_immutable_flag() {
    check(
        &["set-options", "--set-flags", "auth-immutable"],
        &[&ISSUER],
        plan(json!([{"type": "set_options", "set_flags": ["auth_immutable"]}])),
    );
}

#[test]
fn set_options_repeated_signer_becomes_one_op_each() {
    let mut want = plan(json!([
        {"type": "set_options", "home_domain": "example.com",
         "signer": {"key": ALICE.public, "weight": 1}},
        {"type": "set_options", "signer": {"key": BOB.public, "weight": 2}},
        {"type": "set_options", "signer": {"key": COSIGNER.public, "weight": 0}},
    ]));
    want["fee"] = json!(250);
    check(
        &[
            "set-options",
            "--home-domain",
            "example.com",
            "--signer",
            &format!("{}:1", ALICE.public),
            "--signer",
            &format!("{}:2", BOB.public),
            "--signer",
            &format!("{}:0", COSIGNER.public),
            "--fee",
            "250",
        ],
        &[&ISSUER],
        want,
    );
}

#[test]
fn create_account() {
    check(
        &[
            "create-account",
            "--destination",
            DEST,
            "--starting-balance",
            "10.5",
        ],
        &[&ISSUER],
        plan(json!([{"type": "create_account", "destination": DEST, "starting_balance": "10.5"}])),
    );
}

#[test]
fn payment_native() {
    check(
        &[
            "payment",
            "--destination",
            BOB.public,
            "--asset",
            "native",
            "--amount",
            "1234.5678901",
        ],
        &[&ISSUER],
        plan(
            json!([{"type": "payment", "destination": BOB.public, "asset": "native",
                     "amount": "1234.5678901"}]),
        ),
    );
}

#[test]
fn payment_credit_alphanum4_and_alphanum12() {
    for asset in [usd(), format!("LONGCODE1234:{}", ISSUER.public)] {
        check(
            &[
                "payment",
                "--destination",
                BOB.public,
                "--asset",
                &asset,
                "--amount",
                "0.0000001",
            ],
            &[&ISSUER],
            plan(
                json!([{"type": "payment", "destination": BOB.public, "asset": asset,
                         "amount": "0.0000001"}]),
            ),
        );
    }
}

#[test]
fn change_trust_default_limit_and_explicit_limits() {
    // The holder's key is the only --key, so the transaction's source defaults to the holder.
    let mut want = plan(json!([{"type": "change_trust", "asset": usd()}]));
    want["source"] = json!(ALICE.public);
    check(&["change-trust", "--asset", &usd()], &[&ALICE], want);

    for limit in ["1000.25", "0"] {
        let mut want = plan(json!([{"type": "change_trust", "asset": usd(), "limit": limit}]));
        want["source"] = json!(ALICE.public);
        check(
            &["change-trust", "--asset", &usd(), "--limit", limit],
            &[&ALICE],
            want,
        );
    }
}

#[test]
fn allow_trust_each_authorization() {
    for (cli, plan_value) in [
        ("full", "full"),
        ("maintain-liabilities", "maintain_liabilities"),
        ("none", "none"),
    ] {
        check(
            &[
                "allow-trust",
                "--trustor",
                ALICE.public,
                "--asset",
                "USD",
                "--authorize",
                cli,
            ],
            &[&ISSUER],
            plan(
                json!([{"type": "allow_trust", "trustor": ALICE.public, "asset": "USD",
                         "authorize": plan_value}]),
            ),
        );
    }
}

#[test]
fn set_trustline_flags_set_and_clear() {
    check(
        &[
            "set-trustline-flags",
            "--trustor",
            ALICE.public,
            "--asset",
            &usd(),
            "--set-flags",
            "authorized",
            "--clear-flags",
            "authorized-to-maintain-liabilities,clawback-enabled",
        ],
        &[&ISSUER],
        plan(
            json!([{"type": "set_trust_line_flags", "trustor": ALICE.public, "asset": usd(),
                     "set_flags": ["authorized"],
                     "clear_flags": ["authorized_to_maintain_liabilities", "clawback_enabled"]}]),
        ),
    );
}

#[test]
fn set_trustline_flags_set_only() {
    check(
        &[
            "set-trustline-flags",
            "--trustor",
            ALICE.public,
            "--asset",
            &usd(),
            "--set-flags",
            "authorized-to-maintain-liabilities",
        ],
        &[&ISSUER],
        plan(
            json!([{"type": "set_trust_line_flags", "trustor": ALICE.public, "asset": usd(),
                     "set_flags": ["authorized_to_maintain_liabilities"]}]),
        ),
    );
}

#[test]
fn clawback_largest_amount() {
    check(
        &[
            "clawback",
            "--from",
            ALICE.public,
            "--asset",
            &usd(),
            "--amount",
            "922337203685.4775807",
        ],
        &[&ISSUER],
        plan(
            json!([{"type": "clawback", "from": ALICE.public, "asset": usd(),
                     "amount": "922337203685.4775807"}]),
        ),
    );
}

#[test]
fn manage_data_set_and_delete() {
    check(
        &["manage-data", "--name", "ceremony", "--value", "2026-11-21"],
        &[&ISSUER],
        plan(json!([{"type": "manage_data", "name": "ceremony", "value": "2026-11-21"}])),
    );
    check(
        &["manage-data", "--name", "ceremony"],
        &[&ISSUER],
        plan(json!([{"type": "manage_data", "name": "ceremony"}])),
    );
}

#[test]
fn bump_sequence_to_i64_max() {
    check(
        &["bump-sequence", "--to", "9223372036854775807"],
        &[&ISSUER],
        plan(json!([{"type": "bump_sequence", "to": "9223372036854775807"}])),
    );
}

#[test]
fn account_merge() {
    check(
        &["account-merge", "--destination", BOB.public],
        &[&ISSUER],
        plan(json!([{"type": "account_merge", "destination": BOB.public}])),
    );
}

// ---- transaction options ---------------------------------------------------------------------

fn payment_args() -> Vec<&'static str> {
    vec![
        "payment",
        "--destination",
        BOB.public,
        "--asset",
        "native",
        "--amount",
        "1",
    ]
}

fn payment_plan() -> Value {
    plan(json!([{"type": "payment", "destination": BOB.public, "asset": "native", "amount": "1"}]))
}

#[test]
fn every_memo_kind() {
    let hash = "0123456789abcdef".repeat(4);
    let cases = [
        (
            "--memo-text",
            "ceremony 1".to_owned(),
            json!({"text": "ceremony 1"}),
        ),
        // 28 bytes of UTF-8, the limit.
        (
            "--memo-text",
            "café ✓ 0123456789abcdefg".to_owned(),
            json!({"text": "café ✓ 0123456789abcdefg"}),
        ),
        (
            "--memo-id",
            "18446744073709551615".to_owned(),
            json!({"id": "18446744073709551615"}),
        ),
        ("--memo-hash", hash.clone(), json!({"hash": hash})),
        ("--memo-return", hash.clone(), json!({"return": hash})),
    ];
    for (option, value, memo) in cases {
        let mut args = payment_args();
        args.extend([option, value.as_str()]);
        let mut want = payment_plan();
        want["memo"] = memo;
        check(&args, &[&ISSUER], want);
    }
}

#[test]
fn fee_is_per_operation() {
    let mut args = payment_args();
    args.extend(["--fee", "12345"]);
    let mut want = payment_plan();
    want["fee"] = json!(12345);
    check(&args, &[&ISSUER], want);
}

#[test]
fn rfc3339_time_bounds() {
    let dir = TestDir::new();
    let mut args = strings(&payment_args());
    args.extend(strings(&[
        "--network",
        "testnet",
        "--sequence",
        SEQUENCE,
        "--min-time",
        "2026-11-21T08:00:00Z",
        "--max-time",
        "2026-11-22T09:30:00+01:00",
        "--yes",
        "--key",
        &key_arg(&ISSUER),
    ]));
    let got = stdout_line(&signer_in(&dir, &args, &[], None));
    let mut want = payment_plan();
    want["min_time"] = json!("2026-11-21T08:00:00Z");
    want["max_time"] = json!("2026-11-22T09:30:00+01:00");
    assert_same_envelope(&got, &sdk_build(&want, &[&ISSUER]), "testnet");
}

#[test]
fn networks_by_name_passphrase_and_environment() {
    let cases: [(Option<&str>, Option<&str>, &str); 6] = [
        (Some(TESTNET), None, "testnet"),
        (Some("pubnet"), None, "pubnet"),
        (Some("futurenet"), None, "futurenet"),
        (Some("standalone"), None, "standalone"),
        (
            Some("Private Issuer Network ; 2026"),
            None,
            "Private Issuer Network ; 2026",
        ),
        (None, Some("futurenet"), "futurenet"),
    ];
    for (option, env, network) in cases {
        let dir = TestDir::new();
        let mut args = strings(&payment_args());
        if let Some(n) = option {
            args.extend(strings(&["--network", n]));
        }
        args.extend(strings(&[
            "--sequence",
            SEQUENCE,
            "--min-time",
            MIN_TIME,
            "--max-time",
            MAX_TIME,
            "--yes",
            "--key",
            &key_arg(&ISSUER),
        ]));
        let env: Vec<(&str, &str)> = env.map(|n| ("STELLAR_NETWORK", n)).into_iter().collect();
        let got = stdout_line(&signer_in(&dir, &args, &env, None));
        let mut want = payment_plan();
        want["network"] = json!(network);
        assert_same_envelope(&got, &sdk_build(&want, &[&ISSUER]), network);
    }
}

/// `--valid-for` (and its 24h default) count from now, so the upper bound is checked against the
/// clock around the run, and the bytes against the SDK built with the bound the signer chose.
#[test]
fn valid_for_and_the_default_upper_time_bound() {
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    for (extra, seconds) in [(vec!["--valid-for", "2h"], 7200), (vec![], 86400)] {
        let dir = TestDir::new();
        let mut args = strings(&payment_args());
        args.extend(strings(&[
            "--network",
            "testnet",
            "--sequence",
            SEQUENCE,
            "--min-time",
            MIN_TIME,
            "--yes",
            "--key",
            &key_arg(&ISSUER),
        ]));
        args.extend(strings(&extra));
        let before = now();
        let got = stdout_line(&signer_in(&dir, &args, &[], None));
        let after = now();
        let read = oracle_json("decode", &json!({"envelope": got, "network": "testnet"}));
        let max_time = read["max_time"].as_u64().expect("max_time");
        assert!(
            (before + seconds..=after + seconds).contains(&max_time),
            "{extra:?}: max_time {max_time} is not {seconds}s after the run ({before}..={after})"
        );
        let mut want = payment_plan();
        want["max_time"] = json!(max_time);
        assert_same_envelope(&got, &sdk_build(&want, &[&ISSUER]), "testnet");
    }
}

#[test]
fn explicit_source_signed_by_another_key() {
    let mut args = payment_args();
    args.extend(["--source", ISSUER.public]);
    check(&args, &[&COSIGNER], payment_plan());
}

#[test]
fn unsigned_envelope() {
    let mut args = payment_args();
    args.extend(["--source", ISSUER.public, "--unsigned"]);
    let got = check(&args, &[], payment_plan());
    assert!(verified_signers(&got, "testnet", &[&ISSUER]).is_empty());
}

#[test]
fn multisig_two_keys_sign_in_order() {
    let got = check(
        &["set-options", "--master-weight", "1"],
        &[&ISSUER, &COSIGNER],
        plan(json!([{"type": "set_options", "master_weight": 1}])),
    );
    assert_eq!(
        verified_signers(&got, "testnet", &ALL_KEYS),
        [json!(ISSUER.public), json!(COSIGNER.public)]
    );
}

#[test]
fn authorized_payment_is_the_five_op_sandwich() {
    let asset = usd();
    let (a, b) = (ALICE.public, BOB.public);
    let authorize = |trustor: &str| {
        json!({"type": "set_trust_line_flags", "trustor": trustor, "asset": asset,
               "set_flags": ["authorized"], "clear_flags": ["authorized_to_maintain_liabilities"]})
    };
    let deauthorize = |trustor: &str| {
        json!({"type": "set_trust_line_flags", "trustor": trustor, "asset": asset,
               "set_flags": ["authorized_to_maintain_liabilities"], "clear_flags": ["authorized"]})
    };
    let want = plan(json!([
        authorize(a),
        authorize(b),
        {"type": "payment", "source": a, "destination": b, "asset": asset, "amount": "25.5"},
        deauthorize(b),
        deauthorize(a),
    ]));
    let got = check(
        &[
            "authorized-payment",
            "--from",
            a,
            "--to",
            b,
            "--asset",
            &asset,
            "--amount",
            "25.5",
        ],
        &[&ISSUER, &ALICE],
        want,
    );
    assert_eq!(
        verified_signers(&got, "testnet", &ALL_KEYS),
        [json!(ISSUER.public), json!(ALICE.public)]
    );
}

// ---- output formats --------------------------------------------------------------------------

#[test]
fn review_goes_to_stderr_and_envelope_alone_to_stdout() {
    let dir = TestDir::new();
    let out = signer_in(&dir, &tx_args(&payment_args(), &[&ISSUER]), &[], None);
    let line = stdout_line(&out);
    assert_same_envelope(&line, &sdk_build(&payment_plan(), &[&ISSUER]), "testnet");
    assert!(
        !out.stderr.is_empty(),
        "the review must go to stderr:\n{}",
        show(&out)
    );
}

#[test]
fn out_file_holds_base64_and_newline() {
    let dir = TestDir::new();
    let mut args = tx_args(&payment_args(), &[&ISSUER]);
    args.extend(strings(&["--out", "payment.xdr"]));
    let out = signer_in(&dir, &args, &[], None);
    assert!(out.status.success(), "{}", show(&out));
    let written = std::fs::read_to_string(dir.join("payment.xdr")).expect("--out file");
    let want = sdk_build(&payment_plan(), &[&ISSUER]);
    assert_eq!(written, format!("{want}\n"));
}

#[test]
fn format_txrep_round_trips_through_the_sdk() {
    // Only allow_trust "full" here: the Python SDK writes allow_trust's authorize as a boolean, so
    // "maintain_liabilities" (2) does not survive its own txrep round trip.
    let mut want_plan = plan(json!([
        {"type": "set_options", "set_flags": ["auth_required", "auth_revocable"],
         "home_domain": "example.com", "signer": {"key": COSIGNER.public, "weight": 1}},
        {"type": "allow_trust", "trustor": ALICE.public, "asset": "USD", "authorize": "full"},
    ]));
    want_plan["memo"] = json!({"text": "ceremony 1"});
    let dir = TestDir::new();
    let mut args = tx_args(
        &[
            "plan",
            dir.write("plan.json", want_plan.to_string())
                .to_str()
                .unwrap(),
        ],
        &[&ISSUER],
    );
    args.extend(strings(&["--format", "txrep"]));
    let out = signer_in(&dir, &args, &[], None);
    assert!(out.status.success(), "{}", show(&out));
    let txrep = String::from_utf8(out.stdout).expect("txrep is UTF-8");
    let back = oracle("from_txrep", &json!({"txrep": txrep, "network": "testnet"}));
    assert_same_envelope(&back, &sdk_build(&want_plan, &[&ISSUER]), "testnet");
}

#[test]
fn format_json_carries_the_sdk_hash() {
    let dir = TestDir::new();
    let mut args = tx_args(&payment_args(), &[&ISSUER]);
    args.extend(strings(&["--format", "json"]));
    let out = signer_in(&dir, &args, &[], None);
    assert!(out.status.success(), "{}", show(&out));
    let got: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("--format json is not JSON ({e}):\n{}", show(&out)));
    let envelope = sdk_build(&payment_plan(), &[&ISSUER]);
    let sdk = oracle_json(
        "decode",
        &json!({"envelope": envelope, "network": "testnet"}),
    );
    assert_eq!(got["hash"], sdk["hash"], "{got:#}");
}

#[test]
fn format_sep7_uri_carries_the_sdk_envelope() {
    for network in ["testnet", "pubnet"] {
        let dir = TestDir::new();
        let mut args = tx_args_on(network, &payment_args(), &[&ISSUER]);
        args.extend(strings(&["--format", "sep7"]));
        let uri = stdout_line(&signer_in(&dir, &args, &[], None));
        let mut want = payment_plan();
        want["network"] = json!(network);
        // With the network given, the SDK checks the URI's network_passphrase against it (SEP-7
        // lets a public-network URI leave it out).
        let read = oracle_json("sep7", &json!({"uri": uri, "network": network}));
        assert_same_envelope(
            read["xdr"].as_str().expect("xdr"),
            &sdk_build(&want, &[&ISSUER]),
            network,
        );
    }
    // Any network but the public one must be named in the URI itself.
    let dir = TestDir::new();
    let mut args = tx_args(&payment_args(), &[&ISSUER]);
    args.extend(strings(&["--format", "sep7"]));
    let uri = stdout_line(&signer_in(&dir, &args, &[], None));
    let read = oracle_json("sep7", &json!({"uri": uri}));
    assert_eq!(read["network_passphrase"], json!(TESTNET));
}

// ---- plan and batch files --------------------------------------------------------------------

fn many_ops_plan() -> Value {
    let usd = usd();
    let mut p = plan(json!([
        {"type": "set_options", "set_flags": ["auth_required", "auth_revocable", "auth_clawback_enabled"],
         "home_domain": "issuer.example", "low_threshold": 1, "med_threshold": 2, "high_threshold": 2,
         "signer": {"key": COSIGNER.public, "weight": 1}},
        {"type": "create_account", "destination": DEST, "starting_balance": "2.5"},
        {"type": "change_trust", "asset": usd, "source": ALICE.public},
        {"type": "change_trust", "asset": format!("LONGCODE1234:{}", ISSUER.public),
         "limit": "1000", "source": ALICE.public},
        {"type": "allow_trust", "trustor": ALICE.public, "asset": "USD", "authorize": "maintain_liabilities"},
        {"type": "set_trust_line_flags", "trustor": ALICE.public, "asset": usd,
         "set_flags": ["authorized"], "clear_flags": ["authorized_to_maintain_liabilities"]},
        {"type": "payment", "destination": ALICE.public, "asset": usd, "amount": "1000"},
        {"type": "payment", "source": ALICE.public, "destination": DEST, "asset": "native",
         "amount": "0.0000001"},
        {"type": "clawback", "from": ALICE.public, "asset": usd, "amount": "0.5"},
        {"type": "manage_data", "name": "ceremony", "value": "2026-11-21", "source": ALICE.public},
        {"type": "manage_data", "name": "old"},
        {"type": "bump_sequence", "to": "1234567890200"},
        {"type": "account_merge", "destination": ISSUER.public, "source": ALICE.public},
    ]));
    p["memo"] = json!({"id": 42});
    p["fee"] = json!(1000);
    p["min_time"] = json!("2026-11-21T00:00:00Z");
    p
}

#[test]
fn plan_file_many_op_types_and_sources() {
    let want = many_ops_plan();
    let dir = TestDir::new();
    let file = dir.write("plan.json", serde_json::to_string_pretty(&want).unwrap());
    let args = strings(&[
        "plan",
        file.to_str().unwrap(),
        "--yes",
        "--key",
        &key_arg(&ISSUER),
        "--key",
        &key_arg(&ALICE),
    ]);
    let got = stdout_line(&signer_in(&dir, &args, &[], None));
    assert_same_envelope(&got, &sdk_build(&want, &[&ISSUER, &ALICE]), "testnet");
    assert_eq!(
        verified_signers(&got, "testnet", &ALL_KEYS),
        [json!(ISSUER.public), json!(ALICE.public)]
    );
}

#[test]
fn command_line_overrides_the_plan_file() {
    let file_plan = payment_plan();
    let dir = TestDir::new();
    let file = dir.write("plan.json", file_plan.to_string());
    let args = strings(&[
        "plan",
        file.to_str().unwrap(),
        "--network",
        "pubnet",
        "--sequence",
        "777",
        "--fee",
        "300",
        "--memo-text",
        "override",
        "--yes",
        "--key",
        &key_arg(&ISSUER),
    ]);
    let got = stdout_line(&signer_in(&dir, &args, &[], None));
    let mut want = file_plan;
    want["network"] = json!("pubnet");
    want["sequence"] = json!(777);
    want["fee"] = json!(300);
    want["memo"] = json!({"text": "override"});
    assert_same_envelope(&got, &sdk_build(&want, &[&ISSUER]), "pubnet");
}

#[test]
fn batch_builds_one_envelope_per_line() {
    let mut plans = vec![
        payment_plan(),
        many_ops_plan(),
        plan(json!([
            {"type": "set_options", "master_weight": 0, "source": ALICE.public},
        ])),
    ];
    for (i, p) in plans.iter_mut().enumerate() {
        p["sequence"] = json!((1234567890123u64 + i as u64).to_string());
    }
    let dir = TestDir::new();
    let mut jsonl = String::new();
    for p in &plans {
        jsonl.push_str(&p.to_string());
        jsonl.push_str("\n\n"); // blank lines are ignored
    }
    let file = dir.write("plans.jsonl", jsonl);
    let args = strings(&[
        "batch",
        file.to_str().unwrap(),
        "--yes",
        "--key",
        &key_arg(&ISSUER),
        "--key",
        &key_arg(&ALICE),
    ]);
    let out = signer_in(&dir, &args, &[], None);
    assert!(out.status.success(), "{}", show(&out));
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), plans.len(), "{}", show(&out));
    for (line, p) in lines.iter().zip(&plans) {
        let got: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let want = sdk_build(p, &[&ISSUER, &ALICE]);
        assert_same_envelope(
            got["envelope"].as_str().expect("envelope"),
            &want,
            "testnet",
        );
        let sdk = oracle_json("decode", &json!({"envelope": want, "network": "testnet"}));
        assert_eq!(got["hash"], sdk["hash"], "{line}");
        assert_eq!(got["sequence"], p["sequence"], "{line}");
    }
}

// ---- sign, inspect, keys ---------------------------------------------------------------------

#[test]
fn sign_adds_signatures_to_an_sdk_envelope() {
    let want_plan = many_ops_plan();
    let unsigned = sdk_build(&want_plan, &[]);
    let dir = TestDir::new();
    let file = dir.write("unsigned.xdr", format!("{unsigned}\n"));
    let args = strings(&[
        "sign",
        file.to_str().unwrap(),
        "--network",
        "testnet",
        "--yes",
        "--key",
        &key_arg(&ISSUER),
        "--key",
        &key_arg(&ALICE),
    ]);
    let got = stdout_line(&signer_in(&dir, &args, &[], None));
    let want = oracle(
        "sign",
        &json!({"envelope": unsigned, "network": "testnet",
                "secrets": [ISSUER.secret, ALICE.secret]}),
    );
    assert_same_envelope(&got, &want, "testnet");
    assert_eq!(
        verified_signers(&got, "testnet", &ALL_KEYS),
        [json!(ISSUER.public), json!(ALICE.public)]
    );
}

#[test]
fn sign_from_stdin_keeps_existing_signatures() {
    let signed_once = sdk_build(&payment_plan(), &[&ISSUER]);
    let dir = TestDir::new();
    let args = strings(&[
        "sign",
        "-",
        "--network",
        "testnet",
        "--yes",
        "--key",
        &key_arg(&COSIGNER),
    ]);
    let got = stdout_line(&signer_in(
        &dir,
        &args,
        &[],
        Some(format!("{signed_once}\n").as_bytes()),
    ));
    let want = oracle(
        "sign",
        &json!({"envelope": signed_once, "network": "testnet", "secrets": [COSIGNER.secret]}),
    );
    assert_same_envelope(&got, &want, "testnet");
    assert_eq!(
        verified_signers(&got, "testnet", &ALL_KEYS),
        [json!(ISSUER.public), json!(COSIGNER.public)]
    );
}

#[test]
fn inspect_reviews_an_sdk_envelope_without_a_key() {
    let envelope = sdk_build(&many_ops_plan(), &[&ISSUER]);
    let dir = TestDir::new();
    let file = dir.write("tx.xdr", format!("{envelope}\n"));
    let out = signer_in(
        &dir,
        &strings(&["inspect", file.to_str().unwrap()]),
        &[("STELLAR_NETWORK", "testnet")],
        None,
    );
    assert!(out.status.success(), "{}", show(&out));
    // A review an issuer signs from must name the accounts in full.
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for account in [ISSUER.public, ALICE.public, DEST] {
        assert!(text.contains(account), "{account} missing:\n{}", show(&out));
    }
}

#[test]
fn keys_public_matches_the_sdk() {
    for key in ALL_KEYS {
        let dir = TestDir::new();
        let out = signer_in(
            &dir,
            &strings(&["keys", "public", "--key", &key_arg(key)]),
            &[],
            None,
        );
        let want = oracle("public", &json!({"secret": key.secret}));
        assert_eq!(stdout_line(&out), want);
        assert_eq!(
            want, key.public,
            "the test key constants disagree with the SDK"
        );
    }
}

// ---- refusals --------------------------------------------------------------------------------

/// The signer must refuse cleanly: exit code 1, a message on stderr, no panic, nothing written.
fn assert_refused(dir: &TestDir, args: &[String], stdin: Option<&[u8]>) {
    let out = signer_in(dir, args, &[("STELLAR_NETWORK", "testnet")], stdin);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(!stderr.trim().is_empty(), "no message:\n{}", show(&out));
    assert!(!stderr.contains("panicked"), "{}", show(&out));
    assert!(
        !dir.join("out.xdr").exists(),
        "--out was written:\n{}",
        show(&out)
    );
}

/// A build command that must be refused, with `--out out.xdr`; `sdk_plan` is the same input as a
/// plan, which the SDK must refuse too (so the input really is invalid).
fn check_refused(command: &[&str], sdk_plan: Option<Value>) {
    if let Some(p) = sdk_plan {
        let secrets = [ISSUER.secret];
        assert!(
            oracle_try("build", &json!({"plan": p, "secrets": secrets})).is_err(),
            "the SDK accepts {p}: the test input is not invalid"
        );
    }
    let dir = TestDir::new();
    let mut args = tx_args(command, &[&ISSUER]);
    args.extend(strings(&["--out", "out.xdr"]));
    assert_refused(&dir, &args, None);
}

/// A payment the signer and the SDK must both refuse.
fn refuse_payment(destination: &str, asset: &str, amount: &str) {
    let sdk_plan = plan(
        json!([{"type": "payment", "destination": destination, "asset": asset,
                                "amount": amount}]),
    );
    check_refused(
        &[
            "payment",
            "--destination",
            destination,
            "--asset",
            asset,
            "--amount",
            amount,
        ],
        Some(sdk_plan),
    );
}

#[test]
fn refuses_a_wrong_strkey_checksum() {
    let mut bad = BOB.public.to_owned();
    let last = bad.pop().unwrap();
    bad.push(if last == 'A' { 'B' } else { 'A' });
    refuse_payment(&bad, "native", "1");
}

#[test]
fn refuses_an_amount_with_eight_decimals() {
    refuse_payment(BOB.public, "native", "1.00000001");
}

#[test]
fn refuses_an_amount_over_the_i64_limit() {
    refuse_payment(BOB.public, "native", "922337203685.4775808");
}

#[test]
fn refuses_a_fourteen_character_asset_code() {
    refuse_payment(
        BOB.public,
        &format!("ABCDEFGHIJKLMN:{}", ISSUER.public),
        "1",
    );
}

#[test]
fn refuses_an_unknown_flag() {
    check_refused(
        &[
            "set-options",
            "--set-flags",
            "auth-required,auth-everything",
        ],
        None,
    );
    check_refused(
        &[
            "set-trustline-flags",
            "--trustor",
            ALICE.public,
            "--asset",
            &usd(),
            "--set-flags",
            "authorised",
        ],
        None,
    );
}

#[test]
fn refuses_a_plan_with_an_unknown_field() {
    let mut top = payment_plan();
    top["colour"] = json!("red");
    let mut in_op = payment_plan();
    in_op["operations"][0]["memo"] = json!("misplaced");
    for p in [top, in_op] {
        assert!(
            oracle_try("build", &json!({"plan": p})).is_err(),
            "the SDK oracle accepts {p}"
        );
        let dir = TestDir::new();
        let file = dir.write("plan.json", p.to_string());
        let args = strings(&[
            "plan",
            file.to_str().unwrap(),
            "--yes",
            "--key",
            &key_arg(&ISSUER),
            "--out",
            "out.xdr",
        ]);
        assert_refused(&dir, &args, None);
    }
}

#[test]
fn inspect_refuses_a_truncated_envelope() {
    let envelope = sdk_build(&payment_plan(), &[&ISSUER]);
    // Whole base64 quanta, so what is left is valid base64 of a cut-off XDR envelope.
    let cut = &envelope[..envelope.len() / 2 / 4 * 4];
    assert!(oracle_try("decode", &json!({"envelope": cut, "network": "testnet"})).is_err());
    let dir = TestDir::new();
    let file = dir.write("cut.xdr", format!("{cut}\n"));
    assert_refused(&dir, &strings(&["inspect", file.to_str().unwrap()]), None);
    assert_refused(&dir, &strings(&["inspect", "-"]), Some(cut.as_bytes()));
}
