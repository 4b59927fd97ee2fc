//! `airgap-relay submit` over both backends, Horizon and Stellar RPC (issue 13), against the
//! sandbox with ledgers that close on a short clock (`--close-every 300ms`): the same run, the same
//! records, the same exit codes, the same guarantees (nothing lost, applied once, reported once).
//! The RPC-only cases (`TRY_AGAIN_LATER`, `DUPLICATE`) are driven through the sandbox's queue,
//! which follows stellar-core's admission rules.

use crate::relay_support::*;
use crate::util::{python, run_python, show};
use airgap::amount::Amount;
use airgap::asset::Asset;
use airgap::build::{OpBody, OpSpec, TimeWindow};
use airgap::keys::SecretSeed;
use airgap::network::Network;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::process::Stdio;

const NET: Network = Network::Standalone;
const CADENCE: &[&str] = &["--close-every", "300ms", "--txsub-timeout", "5s"];

fn bump() -> OpSpec {
    OpSpec::new(OpBody::BumpSequence { to: 0 })
}

fn pay(to: &SecretSeed, xlm: &str) -> OpSpec {
    OpSpec::new(OpBody::Payment {
        destination: to.public_key(),
        asset: Asset::Native,
        amount: xlm.parse::<Amount>().unwrap(),
    })
}

/// `submit` over `backend` with `extra` arguments and inputs.
fn submit(sb: &Sandbox, backend: Backend, extra: &[&str]) -> std::process::Output {
    let [flag, url] = backend.args(&sb.url);
    relay()
        .args(["submit", &flag, &url, "--json", "--timeout", "60s"])
        .args(extra)
        .output()
        .unwrap()
}

/// The keys of a record: the JSON lines have one shape whichever server was asked.
fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn set(keys: &[&str]) -> BTreeSet<String> {
    keys.iter().map(|k| k.to_string()).collect()
}

/// Success, failure in a ledger, a rejection before any ledger, stored outcomes on a rerun, a
/// wrong network, a fee bump and a blob not valid yet: records and exit codes as over Horizon.
fn outcomes_and_exit_codes(backend: Backend) {
    let sb = Sandbox::start(CADENCE);
    let (a, b) = (
        SecretSeed::generate().unwrap(),
        SecretSeed::generate().unwrap(),
    );
    sb.fund(&a.public_key());
    sb.fund(&b.public_key());
    let seq = sb.next_sequence(&a.public_key());
    let dir = tempfile::tempdir().unwrap();
    let ok = write(dir.path(), "ok.xdr", &blob(&a, seq, vec![bump()], &NET));
    // more than the account holds: fails in its ledger, fee charged, sequence used
    let fails = write(
        dir.path(),
        "fails.xdr",
        &blob(&a, seq + 1, vec![pay(&b, "1000000")], &NET),
    );
    let (ok, fails) = (ok.to_str().unwrap(), fails.to_str().unwrap());

    // --network disagreeing with the server: refused before anything is sent
    let o = submit(&sb, backend, &["--network", "testnet", ok]);
    assert_eq!(code(&o), 1, "{}", show(&o));
    assert_eq!(sb.next_sequence(&a.public_key()), seq, "nothing was sent");

    let o = submit(&sb, backend, &[ok, fails]);
    assert_eq!(code(&o), 2, "{}", show(&o));
    let recs = records(&o);
    assert_eq!(recs.len(), 2, "{}", show(&o));
    assert_eq!(recs[0]["status"], "success", "{}", recs[0]);
    assert_eq!(recs[1]["status"], "failed", "{}", recs[1]);
    assert_eq!(recs[1]["result_codes"]["transaction"], "tx_failed");
    assert_eq!(recs[1]["result_codes"]["operations"][0], "op_underfunded");
    let (l0, l1) = (
        recs[0]["ledger"].as_u64().unwrap(),
        recs[1]["ledger"].as_u64().unwrap(),
    );
    assert!(l0 < l1, "one transaction per account per ledger: {l0} {l1}");
    assert_eq!(
        keys(&recs[0]),
        set(&[
            "input",
            "hash",
            "status",
            "ledger",
            "result_codes",
            "message"
        ])
    );
    assert_eq!(
        keys(&recs[1]),
        set(&[
            "input",
            "hash",
            "status",
            "ledger",
            "result_codes",
            "message",
            "explanations"
        ])
    );
    assert_eq!(
        sb.next_sequence(&a.public_key()),
        seq + 2,
        "each applied once"
    );

    // Again: their stored outcomes, same ledgers, nothing sent.
    let o = submit(&sb, backend, &[ok, fails]);
    assert_eq!(code(&o), 2, "{}", show(&o));
    let again = records(&o);
    assert_eq!(again[0]["ledger"], l0);
    assert_eq!(again[1]["ledger"], l1);
    assert!(
        again[0]["message"]
            .as_str()
            .unwrap()
            .contains("already there"),
        "{}",
        again[0]
    );
    assert_eq!(sb.next_sequence(&a.public_key()), seq + 2);

    // A used sequence number, never in a ledger: rejected, no ledger, exit 2.
    let stale = write(
        dir.path(),
        "stale.xdr",
        &blob(&a, seq + 1, vec![bump()], &NET),
    );
    let o = submit(&sb, backend, &[stale.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", show(&o));
    let r = &records(&o)[0];
    assert_eq!(r["status"], "failed", "{r}");
    assert_eq!(r["ledger"], Value::Null, "{r}");
    assert_eq!(r["result_codes"]["transaction"], "tx_bad_seq", "{r}");

    // A fee bump paid by an online key: the inner blob untouched, the bump applied.
    let payer = SecretSeed::generate().unwrap();
    sb.fund(&payer.public_key());
    let inner = write(
        dir.path(),
        "inner.xdr",
        &blob(&a, seq + 2, vec![bump()], &NET),
    );
    let key_file = dir.path().join("payer.key");
    std::fs::write(&key_file, format!("{}\n", &*payer.to_strkey())).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let key_arg = format!("file:{}", key_file.display());
    let o = submit(
        &sb,
        backend,
        &[
            "--fee-bump-key",
            &key_arg,
            "--max-fee",
            "10000",
            inner.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&o), 0, "{}", show(&o));
    let r = &records(&o)[0];
    assert_eq!(r["status"], "success", "{r}");
    assert_eq!(
        r["hash"],
        hash_of(&std::fs::read_to_string(&inner).unwrap(), &NET).as_str()
    );
    assert!(
        r["fee_bump_hash"].is_string() && r["fee_bump_hash"] != r["hash"],
        "{r}"
    );
    assert_eq!(sb.next_sequence(&a.public_key()), seq + 3);

    // Not valid for an hour (tx_too_early): pending in place, exit 3, nothing applied.
    let early = blob_signed_by(
        &a.public_key(),
        seq + 3,
        vec![bump()],
        &[&a],
        &NET,
        TimeWindow {
            min: now() + 3600,
            max: now() + 7200,
        },
    );
    let early = write(dir.path(), "early.xdr", &early);
    let o = submit(&sb, backend, &[early.to_str().unwrap()]);
    assert_eq!(code(&o), 3, "{}", show(&o));
    let r = &records(&o)[0];
    assert_eq!(r["status"], "pending", "{r}");
    assert!(
        r["message"].as_str().unwrap().contains("not valid yet"),
        "{r}"
    );
    assert_eq!(sb.next_sequence(&a.public_key()), seq + 3);
}

#[test]
fn outcomes_and_exit_codes_over_horizon() {
    outcomes_and_exit_codes(Backend::Horizon);
}

#[test]
fn outcomes_and_exit_codes_over_rpc() {
    outcomes_and_exit_codes(Backend::Rpc);
}

/// A directory of blobs from several accounts with `--jobs`: every account's blobs in sequence
/// order, one per account per ledger, each applied once, printed once, filed in done/.
fn lanes_through_300ms_ledgers(backend: Backend) {
    let sb = Sandbox::start(CADENCE);
    let dir = tempfile::tempdir().unwrap();
    let (accounts, per) = (4, 3);
    let mut owner: HashMap<String, (usize, i64)> = HashMap::new();
    let mut keys = Vec::new();
    for a in 0..accounts {
        let s = SecretSeed::generate().unwrap();
        sb.fund(&s.public_key());
        let seq = sb.next_sequence(&s.public_key());
        for i in 0..per {
            let text = blob(&s, seq + i, vec![bump()], &NET);
            owner.insert(hash_of(&text, &NET), (a, i));
            // names in reverse sequence order: the relay still sends each lane in order
            write(dir.path(), &format!("{a}-{}.xdr", per - i), &text);
        }
        keys.push((s, seq));
    }
    let d = dir.path().to_str().unwrap();
    let o = submit(&sb, backend, &["--jobs", "4", d]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let recs = records(&o);
    assert_eq!(recs.len(), owner.len(), "{}", show(&o));
    let mut ledgers: HashMap<usize, Vec<(i64, u64)>> = HashMap::new();
    let mut seen = BTreeSet::new();
    for r in &recs {
        assert_eq!(r["status"], "success", "{r}");
        let h = r["hash"].as_str().unwrap().to_string();
        let (a, i) = owner[&h];
        assert!(seen.insert(h), "printed once: {r}");
        ledgers
            .entry(a)
            .or_default()
            .push((i, r["ledger"].as_u64().unwrap()));
    }
    for (a, mut l) in ledgers {
        l.sort();
        assert!(
            l.windows(2).all(|w| w[0].1 < w[1].1),
            "account {a}: in sequence order, one per ledger: {l:?}"
        );
    }
    for (s, seq) in &keys {
        assert_eq!(
            sb.next_sequence(&s.public_key()),
            seq + per,
            "applied once each"
        );
    }
    let done = std::fs::read_dir(dir.path().join("done")).unwrap().count();
    assert_eq!(done, owner.len());
    // a rerun has nothing left to do and prints nothing again
    let o = submit(&sb, backend, &[d]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert!(records(&o).is_empty(), "{}", show(&o));
}

#[test]
fn lanes_through_300ms_ledgers_over_horizon() {
    lanes_through_300ms_ledgers(Backend::Horizon);
}

#[test]
fn lanes_through_300ms_ledgers_over_rpc() {
    lanes_through_300ms_ledgers(Backend::Rpc);
}

/// Over RPC, with 4 s ledgers (room for two relays to start under a loaded CI): another client puts the account's first transaction in the queue
/// right after a ledger closed; then two relays run at once, one with that same blob (the server
/// answers DUPLICATE: it is polled, never sent as new) and one with the account's next blob (the
/// server answers TRY_AGAIN_LATER: it is sent again, the same bytes, after the ledger closed).
/// Both succeed, each applied once, each printed once; each relay said which answer it waited out.
#[test]
fn rpc_duplicate_is_polled_and_try_again_later_is_waited_out() {
    let sb = Sandbox::start(&["--close-every", "4s", "--txsub-timeout", "10s"]);
    let a = SecretSeed::generate().unwrap();
    sb.fund(&a.public_key());
    let seq = sb.next_sequence(&a.public_key());
    let dir = tempfile::tempdir().unwrap();
    let first_text = blob(&a, seq, vec![bump()], &NET);
    let first = write(dir.path(), "first.xdr", &first_text);
    let second = write(
        dir.path(),
        "second.xdr",
        &blob(&a, seq + 1, vec![bump()], &NET),
    );
    // Wait for a ledger to close, then send the first blob (sendTransaction, stdlib only).
    let script = r#"
import json, sys, time, urllib.request
url, tx = sys.argv[1], sys.argv[2]
def call(method, params=None):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}})
    req = urllib.request.Request(url, body.encode(), {"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req, timeout=10))["result"]
start = call("getLatestLedger")["sequence"]
while call("getLatestLedger")["sequence"] == start:
    time.sleep(0.02)
r = call("sendTransaction", {"transaction": tx})
assert r["status"] == "PENDING", r
"#;
    let rpc_url = format!("{}/rpc", sb.url);
    let o = run_python(python().args(["-c", script, &rpc_url, &first_text]), None);
    assert!(o.status.success(), "{}", show(&o));
    let spawn = |p: &std::path::Path| {
        relay()
            .args(["submit", "--rpc", &rpc_url, "--json", "--timeout", "60s"])
            .arg(p)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (dup, later) = (spawn(&first), spawn(&second));
    let (dup, later) = (
        dup.wait_with_output().unwrap(),
        later.wait_with_output().unwrap(),
    );
    for (o, answer) in [(&dup, "DUPLICATE"), (&later, "TRY_AGAIN_LATER")] {
        assert_eq!(code(o), 0, "{}", show(o));
        let recs = records(o);
        assert_eq!(recs.len(), 1, "{}", show(o));
        assert_eq!(recs[0]["status"], "success", "{}", show(o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(answer),
            "the relay met {answer} (if not, the other client's send and the relays fell in \
             different ledgers): {}",
            show(o)
        );
    }
    let l1 = records(&dup)[0]["ledger"].as_u64().unwrap();
    let l2 = records(&later)[0]["ledger"].as_u64().unwrap();
    assert!(l1 < l2, "{l1} {l2}");
    assert_eq!(
        sb.next_sequence(&a.public_key()),
        seq + 2,
        "each applied once"
    );
}

/// `--rpc` with `--horizon` (or both environment variables) is refused (exit 1), but a flag wins
/// over the other server's environment variable; a URL that is not one is refused (exit 1); an RPC
/// server that does not answer is exit 3 with nothing sent (safe to run again).
#[test]
fn rpc_arguments_and_an_unreachable_server() {
    let dir = tempfile::tempdir().unwrap();
    let a = SecretSeed::generate().unwrap();
    let b = write(dir.path(), "b.xdr", &blob(&a, 1, vec![bump()], &NET));
    let b = b.to_str().unwrap();
    let stderr = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).into_owned();
    let o = run(&[
        "submit",
        "--rpc",
        "http://127.0.0.1:9/rpc",
        "--horizon",
        "http://127.0.0.1:9",
        b,
    ]);
    assert_eq!(code(&o), 1, "{}", show(&o));
    assert!(
        stderr(&o).contains("both --horizon and --rpc"),
        "{}",
        show(&o)
    );
    let o = relay()
        .args(["submit", b])
        .env("HORIZON_URL", "http://127.0.0.1:9")
        .env("STELLAR_RPC_URL", "http://127.0.0.1:9/rpc")
        .output()
        .unwrap();
    assert_eq!(code(&o), 1, "{}", show(&o));
    assert!(
        stderr(&o).contains("both --horizon and --rpc"),
        "{}",
        show(&o)
    );
    let o = run(&["submit", "--rpc", "ftp://x", b]);
    assert_eq!(code(&o), 1, "{}", show(&o));
    assert!(stderr(&o).contains("not a Stellar RPC URL"), "{}", show(&o));
    // port 9 (discard) on loopback: nothing listens there. --rpc wins over HORIZON_URL.
    let o = relay()
        .args([
            "submit",
            "--rpc",
            "http://127.0.0.1:9/rpc",
            "--timeout",
            "2s",
            b,
        ])
        .env("HORIZON_URL", "http://127.0.0.1:8")
        .output()
        .unwrap();
    assert_eq!(code(&o), 3, "{}", show(&o));
    assert!(
        stderr(&o).contains("Stellar RPC at http://127.0.0.1:9/rpc could not be reached"),
        "{}",
        show(&o)
    );
    assert!(records(&o).is_empty(), "{}", show(&o));
    // and --horizon wins over STELLAR_RPC_URL
    let o = relay()
        .args([
            "submit",
            "--horizon",
            "http://127.0.0.1:9",
            "--timeout",
            "2s",
            b,
        ])
        .env("STELLAR_RPC_URL", "http://127.0.0.1:8/rpc")
        .output()
        .unwrap();
    assert_eq!(code(&o), 3, "{}", show(&o));
    assert!(!stderr(&o).contains("Stellar RPC"), "{}", show(&o));
}
