//! Helpers for the tests against the sandbox: start `airgap-relay sandbox` on loopback (the one
//! way the tests start a sandbox: `Sandbox::start`), fund accounts with friendbot, run the relay
//! against it, build and sign blobs with the library, set a ledger state up (`submit_all`), and
//! hold `inspect`'s prediction to what `submit` then gets (`assert_inspect_predicts_submit`),
//! the same over Horizon and over Stellar RPC (`inspect_records`).

use crate::util::{python, run_python, scrubbed, show};
use airgap::account::AccountId;
use airgap::build::{self, MemoSpec, OpSpec, TimeWindow, TxSpec};
use airgap::envelope;
use airgap::keys::SecretSeed;
use airgap::network::Network;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

/// `airgap-relay` with a scrubbed environment (no HORIZON_URL / STELLAR_NETWORK leaking in from
/// the developer's shell).
pub fn relay() -> Command {
    scrubbed("airgap-relay")
}

/// Run `airgap-relay ARGS` and collect its output.
pub fn run(args: &[&str]) -> Output {
    relay().args(args).output().expect("run airgap-relay")
}

pub fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code (not killed by a signal)")
}

/// The JSON records on stdout, one per line.
pub fn records(o: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// A sandbox process, killed when dropped.
pub struct Sandbox {
    child: Child,
    /// Its Horizon URL; Stellar RPC is at `{url}/rpc`.
    pub url: String,
}

impl Sandbox {
    pub fn start(extra: &[&str]) -> Sandbox {
        Sandbox::start_on("127.0.0.1:0", extra)
    }

    /// A sandbox on a given loopback address (to restart one where it was).
    pub fn start_on(listen: &str, extra: &[&str]) -> Sandbox {
        Sandbox::start_with(listen, extra, Stdio::null())
    }

    /// A sandbox whose stderr (its panics, if any) is appended to `log`.
    pub fn start_logged(listen: &str, extra: &[&str], log: &Path) -> Sandbox {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("sandbox log");
        Sandbox::start_with(listen, extra, Stdio::from(file))
    }

    fn start_with(listen: &str, extra: &[&str], stderr: Stdio) -> Sandbox {
        // One ledger per submission unless a test asks for a cadence: most tests want speed.
        let cadence: &[&str] = if extra.contains(&"--close-every") {
            &[]
        } else {
            &["--close-every", "0"]
        };
        let mut child = relay()
            .args(["sandbox", "--listen", listen])
            .args(cadence)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start the sandbox");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("sandbox address line");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("sandbox said {line:?}"))
            .to_string();
        assert!(
            url.starts_with("http://127.0.0.1:"),
            "sandbox said {line:?}"
        );
        Sandbox { child, url }
    }

    /// Fund a new account with friendbot (through Python's standard library: the test crate has
    /// no HTTP client of its own). Retries, since a sandbox with faults may refuse the first try.
    pub fn fund(&self, id: &AccountId) {
        let script = r#"
import sys, urllib.request, time
err = None
for i in range(50):
    try:
        urllib.request.urlopen(sys.argv[1] + "/friendbot?addr=" + sys.argv[2], timeout=10).read()
        sys.exit(0)
    except Exception as e:
        err = e
        time.sleep(0.2)
sys.exit("friendbot: %s" % err)
"#;
        let o = run_python(
            python().args(["-c", script, &self.url, &id.to_string()]),
            None,
        );
        assert!(o.status.success(), "friendbot failed: {}", show(&o));
    }

    /// The account as `airgap-relay account --json` reports it.
    pub fn account(&self, id: &AccountId) -> Value {
        let o = run(&[
            "account",
            "--horizon",
            &self.url,
            "--json",
            "--timeout",
            "30s",
            &id.to_string(),
        ]);
        assert_eq!(code(&o), 0, "{}", show(&o));
        records(&o).remove(0)
    }

    pub fn next_sequence(&self, id: &AccountId) -> i64 {
        self.account(id)["next_sequence"]
            .as_str()
            .expect("next_sequence")
            .parse()
            .expect("number")
    }

    /// The sandbox's exit status if it has ended by itself (`None` while it runs).
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Kill the sandbox process now (it is also killed on drop).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// Build and sign a transaction of `ops` from `seed`'s account at `sequence`, valid for an hour.
pub fn blob(seed: &SecretSeed, sequence: i64, ops: Vec<OpSpec>, network: &Network) -> String {
    blob_with_fee(seed, sequence, ops, network, 100)
}

pub fn blob_with_fee(
    seed: &SecretSeed,
    sequence: i64,
    ops: Vec<OpSpec>,
    network: &Network,
    base_fee: u32,
) -> String {
    let spec = TxSpec {
        network: network.clone(),
        source: seed.public_key(),
        sequence,
        base_fee,
        time: TimeWindow {
            min: 0,
            max: now() + 3600,
        },
        memo: MemoSpec::None,
        operations: ops,
    };
    let mut env = build::envelope(build::build(&spec).expect("build"));
    envelope::sign(&mut env, network, seed).expect("sign");
    envelope::encode(&env)
}

/// The hash of a blob, as Horizon computes it.
pub fn hash_of(blob: &str, network: &Network) -> String {
    hex::encode(envelope::hash(
        &envelope::decode(blob).expect("decode"),
        network,
    ))
}

pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, format!("{text}\n")).expect("write blob");
    p
}

/// Build a transaction of `ops` from `source` at `sequence` within `time`, signed by each of
/// `keys` in turn (the source's key and, for operations with their own source, theirs).
pub fn blob_signed_by(
    source: &AccountId,
    sequence: i64,
    ops: Vec<OpSpec>,
    keys: &[&SecretSeed],
    network: &Network,
    time: TimeWindow,
) -> String {
    let spec = TxSpec {
        network: network.clone(),
        source: *source,
        sequence,
        base_fee: 100,
        time,
        memo: MemoSpec::None,
        operations: ops,
    };
    let mut env = build::envelope(build::build(&spec).expect("build"));
    for k in keys {
        envelope::sign(&mut env, network, k).expect("sign");
    }
    envelope::encode(&env)
}

/// An hour from now, no lower bound: the window of test blobs.
pub fn next_hour() -> TimeWindow {
    TimeWindow {
        min: 0,
        max: now() + 3600,
    }
}

/// Submit each blob in turn (as files named in order, one `submit` run), asserting that every
/// one succeeded: the setup of a ledger state for a test.
pub fn submit_all(sb: &Sandbox, blobs: &[String]) {
    let dir = tempfile::tempdir().expect("temp dir");
    let paths: Vec<String> = blobs
        .iter()
        .enumerate()
        .map(|(i, b)| {
            write(dir.path(), &format!("{i:03}.xdr"), b)
                .display()
                .to_string()
        })
        .collect();
    let mut args = vec!["submit", "--horizon", &sb.url, "--json", "--timeout", "30s"];
    args.extend(paths.iter().map(String::as_str));
    let o = run(&args);
    assert_eq!(code(&o), 0, "setup: {}", show(&o));
}

/// The result codes of a record (submit's `result_codes`, or inspect's prediction's), as
/// `transaction / inner: [operations]` for messages and comparison.
pub fn codes_of(v: &Value) -> Option<String> {
    let c = v.as_object()?;
    let ops: Vec<&str> = c
        .get("operations")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    Some(format!(
        "{} / {}: [{}]",
        c.get("transaction")?.as_str()?,
        c.get("inner_transaction")
            .and_then(Value::as_str)
            .unwrap_or("-"),
        ops.join(", ")
    ))
}

/// `inspect --json` of `inputs` (files, or one directory) against `sb`: its output, and its
/// records by blob hash.
pub fn inspect_records(
    sb: &Sandbox,
    inputs: &[&str],
) -> (Output, std::collections::HashMap<String, Value>) {
    let by_hash = |o: &Output| -> std::collections::HashMap<String, Value> {
        records(o)
            .into_iter()
            .filter_map(|r| Some((r["hash"].as_str()?.to_string(), r)))
            .collect()
    };
    let inspected = inspect_over("--horizon", &sb.url, inputs);
    let predictions = by_hash(&inspected);
    // The same inputs over Stellar RPC (the sandbox's POST /rpc): the same predictions.
    let over_rpc = inspect_over("--rpc", &format!("{}/rpc", sb.url), inputs);
    assert_eq!(code(&over_rpc), code(&inspected), "{}", show(&over_rpc));
    let rpc_predictions = by_hash(&over_rpc);
    assert_eq!(
        rpc_predictions.len(),
        predictions.len(),
        "{}",
        show(&over_rpc)
    );
    for (hash, h) in &predictions {
        let r = &rpc_predictions[hash];
        assert_eq!(
            prediction_of(r),
            prediction_of(h),
            "over RPC and over Horizon:\n{r}\n{h}"
        );
    }
    (inspected, predictions)
}

/// `inspect --json INPUTS` over `backend` (`--horizon` or `--rpc`) at `url`.
pub fn inspect_over(backend: &str, url: &str, inputs: &[&str]) -> Output {
    let mut args = vec!["inspect", backend, url, "--json"];
    args.extend(inputs);
    run(&args)
}

/// A record's prediction without the ledger it read (one may close between two runs).
pub fn prediction_of(record: &Value) -> Value {
    let mut p = record["prediction"].clone();
    if let Some(o) = p.as_object_mut() {
        o.remove("ledger");
    }
    p
}

/// Assert, for every record `submitted` (a `submit --json` run) printed, that inspect predicted
/// the result codes submit got: the prediction for its blob is looked up by hash in
/// `predictions` (from [`inspect_records`]; `inspected` is that run, for messages). Returns the
/// (inspect, submit) record pairs in the order submit reported them.
pub fn assert_predicted(
    predictions: &std::collections::HashMap<String, Value>,
    inspected: &Output,
    submitted: &Output,
) -> Vec<(Value, Value)> {
    let mut pairs = Vec::new();
    for s in records(submitted) {
        let hash = s["hash"].as_str().unwrap_or_default().to_string();
        let i = predictions
            .get(&hash)
            .unwrap_or_else(|| panic!("inspect said nothing of {hash}: {}", show(inspected)))
            .clone();
        let predicted = codes_of(&i["prediction"]["result_codes"]);
        let got = codes_of(&s["result_codes"]);
        assert!(
            got.is_some(),
            "submit decided nothing for {}: {s}",
            s["input"]
        );
        assert_eq!(
            predicted, got,
            "inspect predicted one thing, submit got another for {}:\ninspect: {i}\nsubmit: {s}",
            s["input"]
        );
        pairs.push((i, s));
    }
    pairs
}

/// `inspect --json` and then `submit --json` of the same inputs (files, or one directory) against
/// `sb`, as an operator following the runbook would, asserting for every blob that the result
/// codes inspect predicted are the codes submit got. Returns inspect's and submit's records, by
/// blob hash in the order submit reported them, and submit's exit code.
pub fn assert_inspect_predicts_submit(sb: &Sandbox, inputs: &[&str]) -> (Vec<(Value, Value)>, i32) {
    let (inspected, predictions) = inspect_records(sb, inputs);
    let mut args = vec!["submit", "--horizon", &sb.url, "--json", "--timeout", "30s"];
    args.extend(inputs);
    let submitted = run(&args);
    let pairs = assert_predicted(&predictions, &inspected, &submitted);
    (pairs, code(&submitted))
}

/// The server `submit` goes through: the same tests run over both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Horizon,
    Rpc,
}

impl Backend {
    /// `--horizon URL` or `--rpc URL/rpc` for a server (a sandbox, or a proxy in front of one)
    /// at `base`, the Horizon root.
    pub fn args(self, base: &str) -> [String; 2] {
        match self {
            Backend::Horizon => ["--horizon".into(), base.to_string()],
            Backend::Rpc => ["--rpc".into(), format!("{base}/rpc")],
        }
    }
}
