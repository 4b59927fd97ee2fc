//! End-to-end tests of `airgap-relay` against its own sandbox on loopback: real binaries, real
//! HTTP, blobs built and signed with the library.

use crate::relay_support::*;
use crate::util::{python, run_python, scrubbed, show};
use airgap::amount::Amount;
use airgap::asset::Asset;
use airgap::build::{OpBody, OpSpec};
use airgap::keys::SecretSeed;
use airgap::network::Network;
use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

const NET: Network = Network::Standalone;

fn seed() -> SecretSeed {
    SecretSeed::generate().expect("random seed")
}

fn pay(to: &SecretSeed, asset: &Asset, amount: &str) -> OpSpec {
    OpSpec::new(OpBody::Payment {
        destination: to.public_key(),
        asset: asset.clone(),
        amount: amount.parse::<Amount>().unwrap(),
    })
}

fn trust(asset: &Asset) -> OpSpec {
    OpSpec::new(OpBody::ChangeTrust {
        asset: asset.clone(),
        limit: None,
    })
}

fn bump(to: i64) -> OpSpec {
    OpSpec::new(OpBody::BumpSequence { to })
}

fn usd(issuer: &SecretSeed) -> Asset {
    format!("USD:{}", issuer.public_key()).parse().unwrap()
}

#[test]
fn submit_reports_success_failure_and_stored_outcomes() {
    let sb = Sandbox::start(&[]);
    let (issuer, holder) = (seed(), seed());
    sb.fund(&issuer.public_key());
    sb.fund(&holder.public_key());
    let dir = tempfile::tempdir().unwrap();
    let iseq = sb.next_sequence(&issuer.public_key());
    let hseq = sb.next_sequence(&holder.public_key());

    // A payment to an account without a trustline fails in the ledger: exit 2, op_no_trust.
    let no_trust = write(
        dir.path(),
        "no_trust.xdr",
        &blob(&issuer, iseq, vec![pay(&holder, &usd(&issuer), "10")], &NET),
    );
    let o = run(&[
        "submit",
        "--horizon",
        &sb.url,
        "--json",
        no_trust.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2, "{}", show(&o));
    let r = &records(&o)[0];
    assert_eq!(r["status"], "failed");
    assert_eq!(r["result_codes"]["transaction"], "tx_failed");
    assert_eq!(r["result_codes"]["operations"][0], "op_no_trust");
    assert!(
        r["ledger"].as_u64().is_some(),
        "a failure in a ledger names it: {r}"
    );
    let expl = r["explanations"][0].as_str().unwrap();
    assert!(
        expl.contains("op_no_trust") && expl.contains("trustline"),
        "{expl}"
    );

    // Trustline, then the payment: both succeed, exit 0, each with its ledger.
    let t = write(
        dir.path(),
        "trust.xdr",
        &blob(&holder, hseq, vec![trust(&usd(&issuer))], &NET),
    );
    let p = write(
        dir.path(),
        "pay.xdr",
        &blob(
            &issuer,
            iseq + 1,
            vec![pay(&holder, &usd(&issuer), "10")],
            &NET,
        ),
    );
    let o = run(&[
        "submit",
        "--horizon",
        &sb.url,
        "--json",
        t.to_str().unwrap(),
        p.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let recs = records(&o);
    assert_eq!(recs.len(), 2);
    for r in &recs {
        assert_eq!(r["status"], "success", "{r}");
        assert!(r["ledger"].as_u64().unwrap() > 0);
        for key in [
            "input",
            "hash",
            "status",
            "ledger",
            "result_codes",
            "message",
        ] {
            assert!(r.get(key).is_some(), "record lacks {key}: {r}");
        }
    }
    let pay_hash = hash_of(&std::fs::read_to_string(&p).unwrap(), &NET);
    assert_eq!(recs[1]["hash"], pay_hash.as_str());

    // The same blob again: its stored outcome, not a new decision; nothing is applied twice.
    let seq_before = sb.next_sequence(&issuer.public_key());
    let o = run(&[
        "submit",
        "--horizon",
        &sb.url,
        "--json",
        p.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let r = &records(&o)[0];
    assert_eq!(r["status"], "success");
    assert_eq!(r["ledger"], recs[1]["ledger"]);
    assert!(
        r["message"].as_str().unwrap().contains("stored outcome"),
        "{r}"
    );
    assert_eq!(sb.next_sequence(&issuer.public_key()), seq_before);

    // The account view the signer's --sequence needs, and the trustline's authorization.
    let acct = sb.account(&holder.public_key());
    let seq: i64 = acct["sequence"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        acct["next_sequence"].as_str().unwrap(),
        (seq + 1).to_string()
    );
    let line = acct["balances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["asset"].as_str().unwrap().starts_with("USD:"))
        .expect("USD trustline");
    assert_eq!(line["balance"], "10");
    assert_eq!(line["authorization"], "authorized");
    assert_eq!(acct["thresholds"]["low_threshold"], 0);
    assert_eq!(
        acct["signers"][0]["key"],
        holder.public_key().to_string().as_str()
    );

    // A transaction-level rejection (stale sequence): failed, not applied, exit 2.
    let stale = write(
        dir.path(),
        "stale.xdr",
        &blob(&issuer, iseq, vec![bump(0)], &NET),
    );
    let o = run(&[
        "submit",
        "--horizon",
        &sb.url,
        "--json",
        stale.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2, "{}", show(&o));
    let r = &records(&o)[0];
    assert_eq!(r["result_codes"]["transaction"], "tx_bad_seq");
    assert!(r["explanations"][0]
        .as_str()
        .unwrap()
        .starts_with("tx_bad_seq: "));
}

#[test]
fn refuses_before_sending_wrong_network_bad_blobs_and_network_mismatch() {
    let sb = Sandbox::start(&[]);
    let issuer = seed();
    sb.fund(&issuer.public_key());
    let seq = sb.next_sequence(&issuer.public_key());
    let dir = tempfile::tempdir().unwrap();
    let good = write(
        dir.path(),
        "good.xdr",
        &blob(&issuer, seq, vec![bump(0)], &NET),
    );
    let testnet = write(
        dir.path(),
        "testnet.xdr",
        &blob(&issuer, seq, vec![bump(0)], &Network::Testnet),
    );
    let junk = write(dir.path(), "junk.xdr", "this is not an envelope");

    // Signed for testnet, sent to a standalone Horizon: refused, exit 1, and the good blob in the
    // same run is not sent either.
    let o = run(&[
        "submit",
        "--horizon",
        &sb.url,
        "--json",
        good.to_str().unwrap(),
        testnet.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 1, "{}", show(&o));
    let recs = records(&o);
    assert_eq!(recs.len(), 2);
    assert!(recs.iter().all(|r| r["status"] == "error"), "{recs:?}");
    assert!(
        recs[1]["message"]
            .as_str()
            .unwrap()
            .contains("signed for testnet"),
        "{}",
        recs[1]
    );
    assert_eq!(
        sb.next_sequence(&issuer.public_key()),
        seq,
        "nothing was sent"
    );

    // Not an envelope: refused, exit 1.
    let o = run(&[
        "submit",
        "--horizon",
        &sb.url,
        "--json",
        junk.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 1, "{}", show(&o));
    assert_eq!(records(&o)[0]["status"], "error");

    // --network disagrees with Horizon: refused, exit 1, nothing sent.
    let o = run(&[
        "submit",
        "--horizon",
        &sb.url,
        "--network",
        "testnet",
        good.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 1, "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("serves standalone"),
        "{}",
        show(&o)
    );
    assert_eq!(
        sb.next_sequence(&issuer.public_key()),
        seq,
        "nothing was sent"
    );

    // Unsigned: refused.
    let unsigned = {
        let spec = airgap::build::TxSpec {
            network: NET,
            source: issuer.public_key(),
            sequence: seq,
            base_fee: 100,
            time: airgap::build::TimeWindow::default(),
            memo: airgap::build::MemoSpec::None,
            operations: vec![bump(0)],
        };
        airgap::envelope::encode(&airgap::build::envelope(
            airgap::build::build(&spec).unwrap(),
        ))
    };
    let u = write(dir.path(), "unsigned.xdr", &unsigned);
    let o = run(&[
        "submit",
        "--horizon",
        &sb.url,
        "--json",
        u.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 1, "{}", show(&o));

    // The good blob on its own goes through, read from stdin.
    let mut child = relay()
        .args([
            "submit",
            "--horizon",
            &sb.url,
            "--json",
            "--network",
            "standalone",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        child.stdin.as_mut().unwrap(),
        std::fs::read(&good).unwrap().as_slice(),
    )
    .unwrap();
    drop(child.stdin.take());
    let o = child.wait_with_output().unwrap();
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert_eq!(records(&o)[0]["input"], "-");
}

#[test]
fn unreachable_horizon_is_exit_3() {
    // A port nobody listens on (bind, read the port, close).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let issuer = seed();
    let b = write(dir.path(), "b.xdr", &blob(&issuer, 2, vec![bump(0)], &NET));
    let url = format!("http://127.0.0.1:{port}");
    let o = run(&[
        "submit",
        "--horizon",
        &url,
        "--timeout",
        "3s",
        b.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 3, "{}", show(&o));
    // Every request answered with a fault: also "try again later".
    let sb = Sandbox::start(&["--fault", "504:1"]);
    let o = run(&[
        "submit",
        "--horizon",
        &sb.url,
        "--timeout",
        "3s",
        b.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 3, "{}", show(&o));
}

/// Submit `n` chained blobs through a sandbox injecting `fault`; every one must end `success`,
/// each applied exactly once.
fn survives(fault: &str, n: i64) {
    survives_over(Backend::Horizon, fault, n);
}

/// The same over `backend`: over Stellar RPC the faults are `--rpc-fault`'s (429 and 503 before
/// the call, 504 after it, done or not), with ledgers every 300 ms.
fn survives_over(backend: Backend, fault: &str, n: i64) {
    let sb = match backend {
        Backend::Horizon => Sandbox::start(&["--fault", fault]),
        Backend::Rpc => Sandbox::start(&["--rpc-fault", fault, "--close-every", "300ms"]),
    };
    let [flag, url] = backend.args(&sb.url);
    let issuer = seed();
    sb.fund(&issuer.public_key());
    let seq = sb.next_sequence(&issuer.public_key());
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec![
        "submit".to_string(),
        flag,
        url,
        "--json".into(),
        "--timeout".into(),
        "90s".into(),
    ];
    for i in 0..n {
        let p = write(
            dir.path(),
            &format!("b{i}.xdr"),
            &blob(&issuer, seq + i, vec![bump(0)], &NET),
        );
        args.push(p.display().to_string());
    }
    let o = relay().args(&args).output().unwrap();
    assert_eq!(code(&o), 0, "fault {fault}: {}", show(&o));
    let recs = records(&o);
    assert_eq!(recs.len() as i64, n);
    assert!(recs.iter().all(|r| r["status"] == "success"), "{recs:?}");
    assert_eq!(
        sb.next_sequence(&issuer.public_key()),
        seq + n,
        "each applied exactly once"
    );
}

#[test]
fn jobs_serve_accounts_in_parallel_each_in_sequence_order() {
    // 429s make some lanes wait while others go on; every account must still see its blobs in
    // sequence order (file names are in reverse order), each applied once and printed once.
    let sb = Sandbox::start(&["--fault", "429:0.2"]);
    let dir = tempfile::tempdir().unwrap();
    let (accounts, per) = (5i64, 4i64);
    let mut expected = Vec::new();
    let mut hashes = Vec::new();
    for a in 0..accounts {
        let s = seed();
        sb.fund(&s.public_key());
        let seq = sb.next_sequence(&s.public_key());
        for i in 0..per {
            let text = blob(&s, seq + i, vec![bump(0)], &NET);
            hashes.push(hash_of(&text, &NET));
            write(
                dir.path(),
                &format!("{:03}.xdr", (accounts - a) * 100 + per - i),
                &text,
            );
        }
        expected.push((s.public_key(), seq + per));
    }
    let d = dir.path().to_str().unwrap();
    let o = run(&[
        "submit",
        "--horizon",
        &sb.url,
        "--json",
        "--timeout",
        "60s",
        "--jobs",
        "3",
        d,
    ]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let recs = records(&o);
    let mut printed: Vec<&str> = recs.iter().map(|r| r["hash"].as_str().unwrap()).collect();
    printed.sort();
    hashes.sort();
    assert_eq!(
        printed,
        hashes.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert!(recs.iter().all(|r| r["status"] == "success"), "{recs:?}");
    for (id, next) in expected {
        assert_eq!(
            sb.next_sequence(&id),
            next,
            "{id}: each blob applied exactly once"
        );
    }
    let done = std::fs::read_dir(dir.path().join("done")).unwrap().count() as i64;
    assert_eq!(done, accounts * per);
    // --jobs 0 is refused before anything happens.
    let o = run(&["submit", "--horizon", &sb.url, "--jobs", "0", d]);
    assert_eq!(code(&o), 1, "{}", show(&o));
    assert!(show(&o).contains("--jobs"), "{}", show(&o));
}

#[test]
fn failed_in_a_ledger_is_reported_with_its_ledger_through_faults() {
    // Horizon's 400 for tx_failed names no ledger; the relay must read it from the transaction's
    // record even when half of its look-ups fail (503), never record the outcome without it.
    let sb = Sandbox::start(&["--fault", "503:0.5"]);
    let dir = tempfile::tempdir().unwrap();
    let dest = seed();
    sb.fund(&dest.public_key());
    let mut args = vec![
        "submit".to_string(),
        "--horizon".into(),
        sb.url.clone(),
        "--json".into(),
        "--timeout".into(),
        "60s".into(),
    ];
    let n = 6;
    for i in 0..n {
        let s = seed();
        sb.fund(&s.public_key());
        let seq = sb.next_sequence(&s.public_key());
        let text = blob(&s, seq, vec![pay(&dest, &Asset::Native, "1000000")], &NET);
        args.push(
            write(dir.path(), &format!("{i}.xdr"), &text)
                .display()
                .to_string(),
        );
    }
    let o = relay().args(&args).output().unwrap();
    assert_eq!(code(&o), 2, "{}", show(&o));
    let first = records(&o);
    assert_eq!(first.len(), n);
    for r in &first {
        assert_eq!(r["status"], "failed", "{r}");
        assert_eq!(r["result_codes"]["transaction"], "tx_failed", "{r}");
        assert!(
            r["ledger"].is_u64(),
            "a failed-in-ledger outcome without its ledger: {r}"
        );
    }
    // Asked again, the stored outcomes name the same ledgers.
    let o = relay().args(&args).output().unwrap();
    assert_eq!(code(&o), 2, "{}", show(&o));
    for (a, b) in first.iter().zip(records(&o)) {
        assert_eq!(a["ledger"], b["ledger"], "{a} vs {b}");
    }
}

#[test]
fn survives_injected_504() {
    survives("504:0.4", 4);
}

#[test]
fn survives_injected_429() {
    survives("429:0.5", 4);
}

#[test]
fn survives_injected_503() {
    survives("503:0.5", 4);
}

#[test]
fn survives_mixed_faults() {
    survives("504:0.2,429:0.1,503:0.1", 5);
}

#[test]
fn survives_mixed_faults_over_rpc() {
    survives_over(Backend::Rpc, "504:0.2,429:0.2,503:0.2", 8);
}

#[test]
fn fee_bump_pays_with_an_online_key_and_leaves_the_inner_blob_alone() {
    let sb = Sandbox::start(&[]);
    let (issuer, payer) = (seed(), seed());
    sb.fund(&issuer.public_key());
    sb.fund(&payer.public_key());
    let seq = sb.next_sequence(&issuer.public_key());
    let dir = tempfile::tempdir().unwrap();
    let text = blob(&issuer, seq, vec![bump(0)], &NET);
    let b = write(dir.path(), "b.xdr", &text);
    let key = dir.path().join("fee.key");
    std::fs::write(&key, format!("{}\n", &*payer.to_strkey())).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let key_arg = format!("file:{}", key.display());
    let args = |k: &str| {
        vec![
            "submit".to_string(),
            "--horizon".into(),
            sb.url.clone(),
            "--json".into(),
            "--fee-bump-key".into(),
            k.to_string(),
            "--max-fee".into(),
            "1000".into(),
            b.display().to_string(),
        ]
    };
    // A key file others can read is refused before anything is sent.
    let o = relay().args(args(&key_arg)).output().unwrap();
    assert_eq!(code(&o), 1, "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("chmod 600"),
        "{}",
        show(&o)
    );
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    // An unset variable, or a bare secret on the command line: refused.
    let o = relay()
        .args(args("env:AIRGAP_TEST_UNSET_KEY"))
        .output()
        .unwrap();
    assert_eq!(code(&o), 1, "{}", show(&o));
    let bare = payer.to_strkey();
    let o = relay().args(args(&bare)).output().unwrap();
    assert_eq!(code(&o), 1, "{}", show(&o));
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains(&bare[1..]),
        "never echo a secret"
    );
    // Fee too low for two "operations" (inner op + the bump): refused.
    let mut low = args(&key_arg);
    low[7] = "150".into();
    let o = relay().args(&low).output().unwrap();
    assert_eq!(code(&o), 1, "{}", show(&o));
    let payer_before = sb.account(&payer.public_key());
    let journal = dir.path().join("j.sqlite");
    let mut with_journal = args(&key_arg);
    with_journal.insert(1, journal.display().to_string());
    with_journal.insert(1, "--journal".into());
    let o = relay().args(&with_journal).output().unwrap();
    let r = &records(&o)[0];
    assert_eq!(
        r["hash"],
        hash_of(&text, &NET).as_str(),
        "hash is the inner blob's"
    );
    let outer = r["fee_bump_hash"]
        .as_str()
        .expect("fee_bump_hash")
        .to_string();
    assert_ne!(outer, r["hash"].as_str().unwrap());
    assert_eq!(
        std::fs::read_to_string(&b).unwrap().trim(),
        text,
        "the blob file is untouched"
    );

    // What was sent, checked by Stellar's Python SDK: a fee bump of the unchanged inner envelope,
    // paid and signed by the payer, with the hash the relay reported.
    let script = r#"
import sqlite3, sys, json
from stellar_sdk import FeeBumpTransactionEnvelope, Keypair
db, passphrase, payer = sys.argv[1], sys.argv[2], sys.argv[3]
sent, sent_hash = sqlite3.connect(db).execute("select submitted, submitted_hash from blobs").fetchone()
fb = FeeBumpTransactionEnvelope.from_xdr(sent, passphrase)
assert fb.hash_hex() == sent_hash, "hash"
Keypair.from_public_key(payer).verify(fb.hash(), fb.signatures[0].signature)
inner = fb.transaction.inner_transaction_envelope
print(json.dumps({"inner_xdr": inner.to_xdr(), "fee_source": fb.transaction.fee_source.account_id,
                  "fee": fb.transaction.fee}))
"#;
    let py = run_python(
        python().args([
            "-c",
            script,
            journal.to_str().unwrap(),
            NET.passphrase(),
            &payer.public_key().to_string(),
        ]),
        None,
    );
    assert!(py.status.success(), "Python SDK check: {}", show(&py));
    let v: Value = serde_json::from_slice(&py.stdout).unwrap();
    assert_eq!(
        v["inner_xdr"],
        text.as_str(),
        "inner envelope byte for byte"
    );
    assert_eq!(v["fee_source"], payer.public_key().to_string().as_str());
    assert_eq!(v["fee"], 1000);

    // The sandbox applies fee bumps: the bump succeeds and the payer pays.
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert_eq!(r["status"], "success", "{r}");
    assert_eq!(sb.next_sequence(&issuer.public_key()), seq + 1);
    let xlm = |a: &Value| -> String {
        a["balances"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["asset"] == "XLM")
            .unwrap()["balance"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_ne!(xlm(&payer_before), xlm(&sb.account(&payer.public_key())));
    assert_eq!(xlm(&sb.account(&issuer.public_key())), "10000");
    // From an environment variable too (the inner transaction is already in: stored outcome).
    let o = relay()
        .args(args("env:AIRGAP_TEST_FEE_KEY"))
        .env("AIRGAP_TEST_FEE_KEY", &*payer.to_strkey())
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert!(records(&o)[0]["message"]
        .as_str()
        .unwrap()
        .contains("stored outcome"));
}

#[test]
fn directory_run_killed_and_resumed_loses_nothing_and_reports_once() {
    killed_and_resumed(Backend::Horizon);
}

/// The same over Stellar RPC (the 429s are Horizon's; the 500 ms ledgers alone keep the run long
/// enough to be killed in the middle).
#[test]
fn directory_run_killed_and_resumed_over_rpc() {
    killed_and_resumed(Backend::Rpc);
}

fn killed_and_resumed(backend: Backend) {
    // One transaction per account per ledger, with a ledger every 500 ms, makes the run take at
    // least 4 s, so it is always killed in the middle (with 429s alone it sometimes ran to the end
    // within the 300 ms below); the 429s with Retry-After: 1 are its faults.
    let sb = Sandbox::start(&["--fault", "429:0.4", "--close-every", "500ms"]);
    let [flag, url] = backend.args(&sb.url);
    let issuer = seed();
    sb.fund(&issuer.public_key());
    let seq = sb.next_sequence(&issuer.public_key());
    let dir = tempfile::tempdir().unwrap();
    let n = 8i64;
    // File names in reverse sequence order: the relay must still send them in sequence order.
    let mut hashes = Vec::new();
    for i in 0..n {
        let text = blob(&issuer, seq + i, vec![bump(0)], &NET);
        hashes.push(hash_of(&text, &NET));
        write(dir.path(), &format!("{:02}.xdr", n - i), &text);
    }
    let d = dir.path().to_str().unwrap().to_string();
    let mut child = relay()
        .args(["submit", &flag, &url, "--json", "--timeout", "60s", &d])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first_run = Vec::new();
    let mut line = String::new();
    // Wait for two outcomes, then SIGKILL (std's kill sends SIGKILL on Unix).
    let started = Instant::now();
    while first_run.len() < 2 && started.elapsed() < Duration::from_secs(60) {
        line.clear();
        if out.read_line(&mut line).unwrap() == 0 {
            break;
        }
        first_run.push(serde_json::from_str::<Value>(line.trim()).unwrap());
    }
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    let _ = child.wait();
    // Whatever the killed run managed to print before dying.
    let mut rest = String::new();
    let _ = std::io::Read::read_to_string(&mut out, &mut rest);
    for l in rest.lines().filter(|l| !l.trim().is_empty()) {
        first_run.push(serde_json::from_str(l).unwrap());
    }
    assert!(
        first_run.len() < n as usize,
        "the run was killed before the end"
    );

    let o = run(&["submit", &flag, &url, "--json", "--timeout", "60s", &d]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let second_run = records(&o);
    let mut seen: HashMap<String, usize> = HashMap::new();
    for r in first_run.iter().chain(&second_run) {
        assert_eq!(r["status"], "success", "{r}");
        *seen
            .entry(r["hash"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    for h in &hashes {
        assert_eq!(
            seen.get(h),
            Some(&1),
            "{h} reported exactly once across both runs: {seen:?}"
        );
    }
    assert_eq!(
        sb.next_sequence(&issuer.public_key()),
        seq + n,
        "each applied exactly once"
    );
    // Every blob is in done/, none left behind; the journal lists each once, all successful.
    let done: Vec<_> = std::fs::read_dir(dir.path().join("done"))
        .unwrap()
        .collect();
    assert_eq!(done.len() as i64, n);
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_type().unwrap().is_file() && !e.file_name().to_string_lossy().starts_with('.')
        })
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let o = run(&["journal", "--json", &d]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let entries = records(&o);
    assert_eq!(entries.len() as i64, n);
    assert!(
        entries
            .iter()
            .all(|e| e["state"] == "success" && e["reported"] == true),
        "{entries:?}"
    );
    // A third run has nothing left to do: it exits with the journal's outcome (every blob
    // succeeded), prints no record again, and says why on stderr.
    let o = run(&["submit", &flag, &url, "--json", &d]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert!(records(&o).is_empty(), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("every blob of it is decided"),
        "{}",
        show(&o)
    );
}

#[test]
fn horizon_lost_mid_run_is_pending_then_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("ledger.sqlite");
    let state_arg = state.to_str().unwrap().to_string();
    let mut sb = Sandbox::start(&["--state", &state_arg, "--fault", "429:0.3"]);
    let issuer = seed();
    sb.fund(&issuer.public_key());
    let seq = sb.next_sequence(&issuer.public_key());
    let blobs = dir.path().join("blobs");
    std::fs::create_dir(&blobs).unwrap();
    let n = 6i64;
    for i in 0..n {
        write(
            &blobs,
            &format!("{i:02}.xdr"),
            &blob(&issuer, seq + i, vec![bump(0)], &NET),
        );
    }
    let d = blobs.to_str().unwrap().to_string();
    let mut child = relay()
        .args([
            "submit",
            "--horizon",
            &sb.url,
            "--json",
            "--timeout",
            "4s",
            &d,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    // Horizon goes away after the first outcome.
    sb.stop();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(3),
        "pending or unreachable: {line}{rest}"
    );
    let first: Vec<Value> = std::iter::once(line.as_str())
        .chain(rest.lines())
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(first.len() as i64, n, "a record for every blob: {first:?}");
    assert!(first.iter().any(|r| r["status"] == "pending"), "{first:?}");
    assert!(
        first
            .iter()
            .all(|r| r["status"] == "success" || r["status"] == "pending"),
        "{first:?}"
    );

    // Horizon is back (same ledger, same address): the same command finishes the job.
    let addr = sb.url.trim_start_matches("http://").to_string();
    let sb = Sandbox::start_on(&addr, &["--state", &state_arg]);
    let o = run(&[
        "submit",
        "--horizon",
        &sb.url,
        "--json",
        "--timeout",
        "30s",
        &d,
    ]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let second = records(&o);
    let done_first = first.iter().filter(|r| r["status"] == "success").count();
    assert_eq!(
        second.len() + done_first,
        n as usize,
        "nothing reported twice: {second:?}"
    );
    assert!(
        second.iter().all(|r| r["status"] == "success"),
        "{second:?}"
    );
    assert_eq!(
        sb.next_sequence(&issuer.public_key()),
        seq + n,
        "each applied exactly once"
    );
}

#[test]
fn inspect_says_what_would_fail() {
    let sb = Sandbox::start(&[]);
    let (issuer, holder, stranger) = (seed(), seed(), seed());
    sb.fund(&issuer.public_key());
    sb.fund(&holder.public_key());
    let seq = sb.next_sequence(&issuer.public_key());
    let dir = tempfile::tempdir().unwrap();
    let ok = write(
        dir.path(),
        "ok.xdr",
        &blob(&issuer, seq, vec![pay(&holder, &Asset::Native, "1")], &NET),
    );
    let no_trust = write(
        dir.path(),
        "no_trust.xdr",
        &blob(&issuer, seq, vec![pay(&holder, &usd(&issuer), "1")], &NET),
    );
    let future = write(
        dir.path(),
        "future.xdr",
        &blob(
            &issuer,
            seq + 5,
            vec![pay(&holder, &Asset::Native, "1")],
            &NET,
        ),
    );
    let no_dest = write(
        dir.path(),
        "no_dest.xdr",
        &blob(
            &issuer,
            seq,
            vec![pay(&stranger, &Asset::Native, "1")],
            &NET,
        ),
    );
    let cheap = write(
        dir.path(),
        "cheap.xdr",
        &blob_with_fee(&issuer, seq, vec![bump(0)], &NET, 10),
    );

    let o = run(&[
        "inspect",
        "--horizon",
        &sb.url,
        "--json",
        ok.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let r = &records(&o)[0];
    assert_eq!(r["review"]["operations"][0]["type"], "payment");
    assert!(
        r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["would_fail"] == false),
        "{r}"
    );

    let cases = [
        (&no_trust, "op_no_trust"),
        (&future, "tx_bad_seq"),
        (&no_dest, "op_no_destination"),
        (&cheap, "tx_insufficient_fee"),
    ];
    for (path, code_expected) in cases {
        let o = run(&[
            "inspect",
            "--horizon",
            &sb.url,
            "--json",
            path.to_str().unwrap(),
        ]);
        assert_eq!(code(&o), 2, "{}", show(&o));
        let r = &records(&o)[0];
        let failing: Vec<&Value> = r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["would_fail"] == true)
            .collect();
        assert!(
            failing.iter().any(|c| c["code"] == code_expected),
            "{code_expected}: {r}"
        );
    }
    // Offline: the review and the signatures, nothing from Horizon.
    let o = run(&[
        "inspect",
        "--offline",
        "--network",
        "standalone",
        "--json",
        ok.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let r = &records(&o)[0];
    let sig = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "signatures")
        .unwrap();
    assert_eq!(sig["outcome"], "ok", "{r}");
}

#[test]
fn inspect_checks_the_fee_bump_payers_weight() {
    use airgap::build::SetOptionsSpec;
    use airgap::{envelope, feebump};
    let sb = Sandbox::start(&[]);
    let (issuer, payer) = (seed(), seed());
    sb.fund(&issuer.public_key());
    sb.fund(&payer.public_key());
    // The payer needs weight 2 for a fee; its master key alone has 1.
    let raise = blob(
        &payer,
        sb.next_sequence(&payer.public_key()),
        vec![OpSpec::new(OpBody::SetOptions(SetOptionsSpec {
            low_threshold: Some(2),
            ..Default::default()
        }))],
        &NET,
    );
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "raise.xdr", &raise);
    let o = run(&["submit", "--horizon", &sb.url, p.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let inner = blob(
        &issuer,
        sb.next_sequence(&issuer.public_key()),
        vec![bump(0)],
        &NET,
    );
    let inner = envelope::decode(&inner).unwrap();
    let mut outer = feebump::wrap(&inner, payer.public_key(), 10_000).unwrap();
    envelope::sign(&mut outer, &NET, &payer).unwrap();
    let p = write(dir.path(), "bumped.xdr", &envelope::encode(&outer));
    let o = run(&[
        "inspect",
        "--horizon",
        &sb.url,
        "--json",
        p.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2, "{}", show(&o));
    let r = &records(&o)[0];
    // The prediction (stellar-core's rules in the sandbox's engine) is the verdict: rejected,
    // tx_bad_auth. The weight lines explain it: the fee bump's is short.
    let prediction = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "prediction")
        .unwrap_or_else(|| panic!("no prediction: {r}"));
    assert_eq!(prediction["would_fail"], true, "{r}");
    assert_eq!(prediction["code"], "tx_bad_auth", "{r}");
    assert_eq!(r["prediction"]["outcome"], "rejected", "{r}");
    let check = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["message"]
                .as_str()
                .unwrap_or_default()
                .starts_with("the fee bump")
        })
        .unwrap_or_else(|| panic!("no fee-bump weight check: {r}"));
    assert_eq!(check["outcome"], "warning", "{r}");
    assert!(
        check["message"].as_str().unwrap().contains("is below"),
        "{r}"
    );
    // The inner transaction's own weight is fine.
    assert!(r["checks"].as_array().unwrap().iter().any(|c| c["message"]
        .as_str()
        .unwrap_or_default()
        .starts_with("the transaction")
        && c["would_fail"] == false));
}

#[test]
fn blobs_from_the_signer_go_through_the_relay() {
    let sb = Sandbox::start(&[]);
    let (issuer, holder) = (seed(), seed());
    sb.fund(&issuer.public_key());
    sb.fund(&holder.public_key());
    let dir = tempfile::tempdir().unwrap();
    let iseq = sb.next_sequence(&issuer.public_key()).to_string();
    let hseq = sb.next_sequence(&holder.public_key()).to_string();
    let asset = format!("USD:{}", issuer.public_key());
    let sign = |key: &SecretSeed, args: &[&str], out: &str| {
        let o = scrubbed("airgap-signer")
            .args(args)
            .args([
                "--network",
                "standalone",
                "--key",
                "env:AIRGAP_TEST_KEY",
                "--yes",
                "--out",
                out,
            ])
            .env("AIRGAP_TEST_KEY", &*key.to_strkey())
            .output()
            .expect("run airgap-signer");
        assert!(o.status.success(), "signer: {}", show(&o));
    };
    let blobs = dir.path().join("blobs");
    std::fs::create_dir(&blobs).unwrap();
    let p = |n: &str| blobs.join(n).display().to_string();
    sign(
        &holder,
        &["change-trust", "--asset", &asset, "--sequence", &hseq],
        &p("1-trust.xdr"),
    );
    sign(
        &issuer,
        &[
            "payment",
            "--destination",
            &holder.public_key().to_string(),
            "--asset",
            &asset,
            "--amount",
            "250",
            "--sequence",
            &iseq,
        ],
        &p("2-pay.xdr"),
    );
    let o = run(&["inspect", "--horizon", &sb.url, "--json", &p("1-trust.xdr")]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let o = run(&[
        "submit",
        "--horizon",
        &sb.url,
        "--network",
        "standalone",
        "--json",
        blobs.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let recs = records(&o);
    assert_eq!(recs.len(), 2);
    assert!(recs.iter().all(|r| r["status"] == "success"), "{recs:?}");
    let acct = sb.account(&holder.public_key());
    let line = acct["balances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["asset"] == asset.as_str())
        .unwrap()
        .clone();
    assert_eq!(line["balance"], "250");
}

#[test]
fn help_documents_the_exit_codes() {
    let o = run(&["submit", "--help"]);
    let text = String::from_utf8_lossy(&o.stdout);
    for needle in ["Exit codes:", "  0 ", "  1 ", "  2 ", "  3 "] {
        assert!(
            text.contains(needle),
            "{needle:?} missing from submit --help"
        );
    }
}
