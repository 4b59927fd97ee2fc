//! Issue 12, the relay's side: an operator's day without false alarms. One regression test per
//! relay-side item of the list, against the sandbox binary, real `airgap-relay` (and
//! `airgap-signer` where the item is about what it writes). Here: what `inspect` predicts, merge,
//! batch's JSON Lines, `--expect-hash`; `operator_exits.rs`: what `submit` does at the edges.

use crate::relay_support::*;
use crate::util::{scrubbed, show};
use airgap::account::AccountId;
use airgap::amount::Amount;
use airgap::asset::Asset;
use airgap::build::{self, OpBody, OpSpec, SetOptionsSpec};
use airgap::keys::SecretSeed;
use airgap::network::Network;
use serde_json::Value;
use std::path::Path;

pub(crate) const NET: Network = Network::Standalone;

pub(crate) fn seed() -> SecretSeed {
    SecretSeed::generate().expect("random seed")
}

pub(crate) fn usd(issuer: &SecretSeed) -> Asset {
    format!("USD:{}", issuer.public_key()).parse().unwrap()
}

pub(crate) fn amount(a: &str) -> Amount {
    a.parse().unwrap()
}

pub(crate) fn set_options(spec: SetOptionsSpec) -> OpSpec {
    OpSpec::new(OpBody::SetOptions(spec))
}

pub(crate) fn flags(trustor: &SecretSeed, asset: &Asset, set: u32, clear: u32) -> OpSpec {
    OpSpec::new(OpBody::SetTrustLineFlags {
        trustor: trustor.public_key(),
        asset: asset.clone(),
        set,
        clear,
    })
}

pub(crate) fn pay(to: AccountId, asset: &Asset, a: &str) -> OpSpec {
    OpSpec::new(OpBody::Payment {
        destination: to,
        asset: asset.clone(),
        amount: amount(a),
    })
}

pub(crate) fn trust(asset: &Asset) -> OpSpec {
    OpSpec::new(OpBody::ChangeTrust {
        asset: asset.clone(),
        limit: None,
    })
}

/// A blob of `ops` from `key`'s account, signed by it (and `more`), at its next sequence.
pub(crate) fn signed(
    sb: &Sandbox,
    key: &SecretSeed,
    ops: Vec<OpSpec>,
    more: &[&SecretSeed],
) -> String {
    let mut keys = vec![key];
    keys.extend(more);
    let seq = sb.next_sequence(&key.public_key());
    blob_signed_by(&key.public_key(), seq, ops, &keys, &NET, next_hour())
}

pub(crate) fn checks(r: &Value) -> &Vec<Value> {
    r["checks"].as_array().expect("checks")
}

pub(crate) fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub(crate) fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Issue 12: "inspect checks each operation against the ledger as it is before the transaction,
/// so the tool's own authorization sandwich and plan files get FAIL … op_not_authorized and exit
/// 2 — then submit succeeds." Now both are predicted to succeed, and do.
#[test]
fn the_sandwich_and_a_plan_are_predicted_to_succeed_and_do() {
    let sb = Sandbox::start(&[]);
    let (issuer, base, holder) = (seed(), seed(), seed());
    for k in [&issuer, &base, &holder] {
        sb.fund(&k.public_key());
    }
    let asset = usd(&issuer);
    // An authorization-required asset; the base account holds some, left authorized to maintain
    // liabilities; the holder's new trustline is not authorized.
    submit_all(
        &sb,
        &[signed(
            &sb,
            &issuer,
            vec![set_options(SetOptionsSpec {
                set_flags: Some(1 | 2),
                ..Default::default()
            })],
            &[],
        )],
    );
    submit_all(&sb, &[signed(&sb, &base, vec![trust(&asset)], &[])]);
    submit_all(&sb, &[signed(&sb, &holder, vec![trust(&asset)], &[])]);
    submit_all(
        &sb,
        &[signed(
            &sb,
            &issuer,
            vec![
                flags(&base, &asset, 1, 0),
                pay(base.public_key(), &asset, "1000"),
                flags(&base, &asset, 2, 1),
            ],
            &[],
        )],
    );

    // The library's sandwich: base pays holder 25 USD; signed by the issuer and the base.
    let dir = tempfile::tempdir().unwrap();
    let ops = build::authorization_sandwich(
        base.public_key(),
        holder.public_key(),
        asset.clone(),
        amount("25"),
    );
    let sandwich = write(
        dir.path(),
        "sandwich.xdr",
        &signed(&sb, &issuer, ops, &[&base]),
    );
    let o = run(&["inspect", "--horizon", &sb.url, sandwich.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(!text.contains("FAIL"), "{text}");
    assert!(text.contains("ok      prediction: would succeed"), "{text}");
    assert!(
        text.contains(&format!(
            "{}'s USD:{} trustline: balance 0 → 25",
            holder.public_key(),
            issuer.public_key()
        )),
        "{text}"
    );
    let (pairs, exit) = assert_inspect_predicts_submit(&sb, &[sandwich.to_str().unwrap()]);
    assert_eq!(exit, 0);
    let (inspected, submitted) = &pairs[0];
    assert_eq!(submitted["status"], "success", "{submitted}");
    assert!(
        checks(inspected).iter().all(|c| c["would_fail"] == false),
        "{inspected}"
    );
    // Neither holder was fully authorized before: nothing to warn about.
    assert!(inspected["prediction"]["warnings"].is_null(), "{inspected}");

    // A plan file (the library's reading of one): the issuer creates an account that trusts the
    // asset (its own operation), authorizes it and pays it, in one transaction. Each operation
    // checked against the ledger before the transaction failed: the account did not exist yet.
    let new = seed();
    let plan = serde_json::json!({
        "network": "standalone",
        "source": issuer.public_key().to_string(),
        "sequence": sb.next_sequence(&issuer.public_key()).to_string(),
        "max_time": now() + 3600,
        "operations": [
            {"type": "create_account", "destination": new.public_key().to_string(), "starting_balance": "5"},
            {"type": "change_trust", "source": new.public_key().to_string(), "asset": format!("USD:{}", issuer.public_key())},
            {"type": "set_trust_line_flags", "trustor": new.public_key().to_string(), "asset": format!("USD:{}", issuer.public_key()), "set_flags": ["authorized"]},
            {"type": "payment", "destination": new.public_key().to_string(), "asset": format!("USD:{}", issuer.public_key()), "amount": "10"}
        ]
    });
    let spec = airgap::plan::parse(&plan.to_string())
        .unwrap()
        .resolve(&airgap::plan::Overrides::default(), now())
        .unwrap();
    let mut env = build::envelope(build::build(&spec).unwrap());
    for k in [&issuer, &new] {
        airgap::envelope::sign(&mut env, &NET, k).unwrap();
    }
    let plan_blob = write(dir.path(), "plan.xdr", &airgap::envelope::encode(&env));
    let (pairs, exit) = assert_inspect_predicts_submit(&sb, &[plan_blob.to_str().unwrap()]);
    assert_eq!(exit, 0);
    let (inspected, _) = &pairs[0];
    assert_eq!(inspected["prediction"]["outcome"], "success", "{inspected}");
    let changes = inspected["prediction"]["changes"].to_string();
    assert!(
        changes.contains(&format!("{}: created with 5 XLM", new.public_key())),
        "{changes}"
    );
}

/// Issue 12: "After an authorization sandwich, a holder that was fully authorized is left
/// authorized_to_maintain_liabilities (the base account then can't receive top-ups); nothing says
/// so." Inspect now says so, in the changes and as a warning of its own.
#[test]
fn a_sandwich_that_leaves_an_authorized_holder_maintaining_liabilities_is_warned() {
    let sb = Sandbox::start(&[]);
    let (issuer, base, holder) = (seed(), seed(), seed());
    for k in [&issuer, &base, &holder] {
        sb.fund(&k.public_key());
    }
    let asset = usd(&issuer);
    // Revocable but not authorization-required: new trustlines are fully authorized.
    submit_all(
        &sb,
        &[signed(
            &sb,
            &issuer,
            vec![set_options(SetOptionsSpec {
                set_flags: Some(2),
                ..Default::default()
            })],
            &[],
        )],
    );
    submit_all(&sb, &[signed(&sb, &base, vec![trust(&asset)], &[])]);
    submit_all(&sb, &[signed(&sb, &holder, vec![trust(&asset)], &[])]);
    submit_all(
        &sb,
        &[signed(
            &sb,
            &issuer,
            vec![pay(base.public_key(), &asset, "100")],
            &[],
        )],
    );
    let dir = tempfile::tempdir().unwrap();
    let ops = build::authorization_sandwich(
        base.public_key(),
        holder.public_key(),
        asset.clone(),
        amount("5"),
    );
    let p = write(
        dir.path(),
        "sandwich.xdr",
        &signed(&sb, &issuer, ops, &[&base]),
    );
    let o = run(&["inspect", "--horizon", &sb.url, p.to_str().unwrap()]);
    // A warning, not a failure: the transaction succeeds.
    assert_eq!(code(&o), 0, "{}", show(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    let line = |who: &SecretSeed| {
        format!(
            "warning trustline_authorization: {}'s USD:{} trustline was fully authorized and is left only authorized to maintain liabilities",
            who.public_key(),
            issuer.public_key()
        )
    };
    assert!(text.contains(&line(&base)), "{text}");
    assert!(text.contains(&line(&holder)), "{text}");
    assert!(
        text.contains(&format!(
            "{}'s USD:{} trustline: authorized → authorized to maintain liabilities",
            base.public_key(),
            issuer.public_key()
        )),
        "{text}"
    );
    let (_, exit) = assert_inspect_predicts_submit(&sb, &[p.to_str().unwrap()]);
    assert_eq!(exit, 0);
    let acct = sb.account(&base.public_key());
    let line = acct["balances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["asset"].as_str().unwrap_or_default().starts_with("USD:"))
        .unwrap()
        .clone();
    assert_eq!(line["authorization"], "maintain_liabilities", "{acct}");
}

/// Issue 12: "`merge` of co-signers' copies without `--signers` … keeps 0 signatures, writes an
/// envelope with none, and exits 0. `airgap-relay merge` cannot fetch the signer set itself."
#[test]
fn merge_refuses_to_drop_cosigners_and_reads_the_signer_sets_from_horizon_or_rpc() {
    let sb = Sandbox::start(&[]);
    let (issuer, cosigner, holder) = (seed(), seed(), seed());
    sb.fund(&issuer.public_key());
    sb.fund(&holder.public_key());
    // 2 of 2: the issuer's master key and a co-signer, weight 1 each, every threshold 2.
    submit_all(
        &sb,
        &[signed(
            &sb,
            &issuer,
            vec![set_options(SetOptionsSpec {
                signer: Some((cosigner.public_key(), 1)),
                low_threshold: Some(2),
                med_threshold: Some(2),
                high_threshold: Some(2),
                ..Default::default()
            })],
            &[],
        )],
    );
    let seq = sb.next_sequence(&issuer.public_key());
    let unsigned = blob_signed_by(
        &issuer.public_key(),
        seq,
        vec![pay(holder.public_key(), &Asset::Native, "1")],
        &[],
        &NET,
        next_hour(),
    );
    let sign = |key: &SecretSeed| {
        let mut env = airgap::envelope::decode(&unsigned).unwrap();
        airgap::envelope::sign(&mut env, &NET, key).unwrap();
        airgap::envelope::encode(&env)
    };
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "issuer.xdr", &sign(&issuer));
    let b = write(dir.path(), "cosigner.xdr", &sign(&cosigner));
    let out = dir.path().join("merged.xdr");
    let (a, b, out_s) = (
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        out.to_str().unwrap(),
    );
    // The runbook's command without --signers: refused, nothing written.
    let o = run(&["merge", a, b, "--network", "standalone", "--out", out_s]);
    assert_eq!(code(&o), 1, "{}", show(&o));
    assert!(!out.exists());
    assert!(o.stdout.is_empty());
    let err = stderr(&o);
    assert!(
        err.contains("1 signature would be dropped") && err.contains("in copy 2"),
        "{err}"
    );
    assert!(
        err.contains("--horizon") && err.contains("--signers"),
        "{err}"
    );
    // The signer's merge (the same library call) refuses too, naming --signers.
    let o = scrubbed("airgap-signer")
        .args(["merge", a, b, "--network", "standalone", "--out", out_s])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(!out.exists());
    assert!(stderr(&o).contains("--signers"), "{}", show(&o));
    // With --horizon (or --rpc: the same through the network-client trait) the relay reads the
    // issuer's signer set itself: both kept, weight complete, the same merged envelope.
    let rpc = format!("{}/rpc", sb.url);
    let over_rpc = dir.path().join("merged-rpc.xdr");
    for (backend, url, out) in [
        ("--horizon", sb.url.as_str(), out_s),
        ("--rpc", rpc.as_str(), over_rpc.to_str().unwrap()),
    ] {
        let o = run(&[
            "merge",
            a,
            b,
            "--network",
            "standalone",
            backend,
            url,
            "--out",
            out,
        ]);
        assert_eq!(code(&o), 0, "{backend}: {}", show(&o));
        let err = stderr(&o);
        assert!(err.contains("2 signatures kept"), "{backend}: {err}");
        assert!(!err.contains("MISSING"), "{backend}: {err}");
        // a server of another network is refused before anything is merged
        let o = run(&["merge", a, b, "--network", "testnet", backend, url]);
        assert_eq!(code(&o), 1, "{backend}: {}", show(&o));
        assert!(stderr(&o).contains("serves standalone"), "{}", show(&o));
    }
    assert_eq!(
        std::fs::read(&over_rpc).unwrap(),
        std::fs::read(&out).unwrap()
    );
    let (pairs, exit) = assert_inspect_predicts_submit(&sb, &[out_s]);
    assert_eq!((exit, pairs[0].1["status"].as_str()), (0, Some("success")));
}

/// Issue 12: "The relay can't read `batch`'s output (`not valid base64`)." It reads the JSON
/// Lines `airgap-signer batch` writes, one blob per line, and holds each line's hash to its
/// envelope.
#[test]
fn the_relay_reads_the_json_lines_batch_writes() {
    let sb = Sandbox::start(&[]);
    let (issuer, holder) = (seed(), seed());
    sb.fund(&issuer.public_key());
    sb.fund(&holder.public_key());
    let seq = sb.next_sequence(&issuer.public_key());
    let dir = crate::util::TestDir::new();
    let plans: Vec<String> = (0..3)
        .map(|i| {
            serde_json::json!({
                "network": "standalone",
                "source": issuer.public_key().to_string(),
                "sequence": (seq + i).to_string(),
                "operations": [{"type": "payment", "destination": holder.public_key().to_string(),
                                "asset": "native", "amount": "1"}]
            })
            .to_string()
        })
        .collect();
    dir.write("topups.jsonl", plans.join("\n") + "\n");
    let o = dir
        .command("airgap-signer")
        .args([
            "batch",
            "topups.jsonl",
            "--network",
            "standalone",
            "--key",
            "env:K",
            "--yes",
            "--out",
            "signed.jsonl",
        ])
        .env("K", &*issuer.to_strkey())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", show(&o));
    let signed = dir.join("signed.jsonl");
    let signed_s = signed.to_str().unwrap();
    // decode reads three envelopes.
    let o = run(&["decode", signed_s]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 3);
    // A line whose hash is not its envelope's: the whole submit is refused, nothing sent.
    let text = std::fs::read_to_string(&signed).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut tampered = lines.clone();
    tampered[1]["hash"] = Value::String("0".repeat(64));
    let t = dir.write(
        "tampered.jsonl",
        tampered
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("\n"),
    );
    let o = run(&[
        "submit",
        "--horizon",
        &sb.url,
        "--json",
        t.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 1, "{}", show(&o));
    let recs = records(&o);
    assert!(recs[1]["message"]
        .as_str()
        .unwrap()
        .contains("the line says its hash is 0000"));
    assert_eq!(sb.next_sequence(&issuer.public_key()), seq, "nothing sent");
    // The batch as written: predicted as a chain, then submitted, each line in turn.
    let (pairs, exit) = assert_inspect_predicts_submit(&sb, &[signed_s]);
    assert_eq!(exit, 0);
    assert_eq!(pairs.len(), 3);
    for (i, (_, s)) in pairs.iter().enumerate() {
        assert_eq!(s["input"], format!("{signed_s}:{}", i + 1));
        assert_eq!(s["hash"], lines[i]["hash"]);
    }
    assert_eq!(sb.next_sequence(&issuer.public_key()), seq + 3);
}

/// Issue 12: "A QR photo of a different envelope is submitted without question: nothing ties
/// what the operator approved offline to what the relay sends." `--expect-hash` does.
#[test]
fn expect_hash_refuses_a_photo_of_another_envelope() {
    let sb = Sandbox::start(&[]);
    let (issuer, holder) = (seed(), seed());
    sb.fund(&issuer.public_key());
    sb.fund(&holder.public_key());
    let seq = sb.next_sequence(&issuer.public_key());
    let dir = tempfile::tempdir().unwrap();
    let envelope = |a: &str| {
        blob_signed_by(
            &issuer.public_key(),
            seq,
            vec![pay(holder.public_key(), &Asset::Native, a)],
            &[&issuer],
            &NET,
            next_hour(),
        )
    };
    let (approved, other) = (envelope("1"), envelope("2"));
    let (approved_hash, other_hash) = (hash_of(&approved, &NET), hash_of(&other, &NET));
    let photo = |name: &str, b64: &str| {
        let code = airgap::qr::encode::single_qr(b64).unwrap();
        let p = dir.path().join(name);
        std::fs::write(&p, airgap::qr::encode::render_png(&code).unwrap()).unwrap();
        p.display().to_string()
    };
    let wrong = photo("other.png", &other);
    let right = photo("approved.png", &approved);
    // What the operator read across: the first 8 digits, in capitals.
    let expect = approved_hash[..8].to_uppercase();

    let o = run(&[
        "decode",
        "--network",
        "standalone",
        "--expect-hash",
        &expect,
        &wrong,
    ]);
    assert_eq!(code(&o), 1, "{}", show(&o));
    assert!(o.stdout.is_empty());
    assert!(stderr(&o).contains(&other_hash), "{}", show(&o));
    let o = run(&[
        "inspect",
        "--horizon",
        &sb.url,
        "--json",
        "--expect-hash",
        &expect,
        &wrong,
    ]);
    assert_eq!(code(&o), 1, "{}", show(&o));
    assert!(records(&o)[0]["error"]
        .as_str()
        .unwrap()
        .contains(&other_hash));
    let o = run(&[
        "submit",
        "--horizon",
        &sb.url,
        "--json",
        "--expect-hash",
        &expect,
        &wrong,
    ]);
    assert_eq!(code(&o), 1, "{}", show(&o));
    let r = &records(&o)[0];
    assert_eq!(r["status"], "error");
    assert!(r["message"].as_str().unwrap().contains(&other_hash), "{r}");
    assert_eq!(sb.next_sequence(&issuer.public_key()), seq, "nothing sent");
    // Too short to mean anything: a usage error.
    let o = run(&[
        "submit",
        "--horizon",
        &sb.url,
        "--expect-hash",
        "abc123",
        &right,
    ]);
    assert_eq!(code(&o), 1, "{}", show(&o));
    // The approved envelope goes through.
    let o = run(&[
        "submit",
        "--horizon",
        &sb.url,
        "--json",
        "--expect-hash",
        &expect,
        &right,
    ]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert_eq!(records(&o)[0]["hash"], approved_hash.as_str());
}

/// What the engine does not model is not guessed at: the prediction says `unknown` and why, and
/// nothing fails because of it (here a v0 envelope, which the sandbox's engine does not take).
#[test]
fn what_the_engine_does_not_model_is_unknown_not_fail() {
    let sb = Sandbox::start(&[]);
    let issuer = seed();
    sb.fund(&issuer.public_key());
    let seq = sb.next_sequence(&issuer.public_key());
    let b = blob_signed_by(
        &issuer.public_key(),
        seq,
        vec![OpSpec::new(OpBody::BumpSequence { to: 0 })],
        &[],
        &NET,
        next_hour(),
    );
    let stellar_xdr::TransactionEnvelope::Tx(v1) = airgap::envelope::decode(&b).unwrap() else {
        panic!("a v1 envelope");
    };
    let t = v1.tx;
    let mut env = stellar_xdr::TransactionEnvelope::TxV0(stellar_xdr::TransactionV0Envelope {
        tx: stellar_xdr::TransactionV0 {
            source_account_ed25519: stellar_xdr::Uint256(issuer.public_key().0),
            fee: t.fee,
            seq_num: t.seq_num,
            time_bounds: match t.cond {
                stellar_xdr::Preconditions::Time(tb) => Some(tb),
                _ => None,
            },
            memo: t.memo,
            operations: t.operations,
            ext: stellar_xdr::TransactionV0Ext::V0,
        },
        signatures: Default::default(),
    });
    airgap::envelope::sign(&mut env, &NET, &issuer).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "v0.xdr", &airgap::envelope::encode(&env));
    let o = run(&[
        "inspect",
        "--horizon",
        &sb.url,
        "--json",
        p.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let r = &records(&o)[0];
    assert_eq!(r["prediction"]["outcome"], "unknown", "{r}");
    assert!(
        r["prediction"]["reason"]
            .as_str()
            .unwrap()
            .contains("a v0 envelope"),
        "{r}"
    );
    let prediction = checks(r)
        .iter()
        .find(|c| c["check"] == "prediction")
        .unwrap();
    assert_eq!(prediction["outcome"], "unknown");
    assert!(checks(r).iter().all(|c| c["would_fail"] == false), "{r}");
}
