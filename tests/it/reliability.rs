//! Reliability (issue 6, "Prove it holds"): `airgap-relay submit` of a directory of blobs from many
//! accounts, against the sandbox with injected faults behind `chaos-proxy` (drops, delays,
//! truncated answers, lost answers), with the relay killed, with the sandbox killed, and the
//! signer killed mid-write. Every test checks the same invariants against the sandbox itself
//! (asked directly, not through the proxy): see `World::verify`.
//!
//! Short by default (CI runs it on every change); full size and reproduction with environment
//! variables, logged at the start of each test:
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `AIRGAP_RELIABILITY_SEED` | from the clock | seed of every random choice here and in the proxy |
//! | `AIRGAP_RELIABILITY_BLOBS` | 60 | blobs in the directory |
//! | `AIRGAP_RELIABILITY_ACCOUNTS` | 8 | source accounts (funded by friendbot) |
//! | `AIRGAP_RELIABILITY_KILLS` | 3 | SIGKILLs of the relay / of the sandbox |
//! | `AIRGAP_RELIABILITY_KILL_MAX_MS` | 2500 | kills land 100 ms to this long into a run |
//! | `AIRGAP_RELIABILITY_SIGNER_KILLS` | 8 | SIGKILLs of the signer |
//! | `AIRGAP_RELIABILITY_TIMEOUT` | `60s` | the relay's `--timeout` |
//! | `AIRGAP_RELIABILITY_JOBS` | 4 | the relay's `--jobs` (accounts served at once; 1: strictly in order) |
//! | `AIRGAP_RELIABILITY_FAULT` | `504:0.03,429:0.03,503:0.03` | the sandbox's `--fault` |
//! | `AIRGAP_RELIABILITY_PROXY` | `--drop 0.02 --truncate 0.02 --lose-response 0.04 --delay 0.1 --delay-ms 300` | chaos-proxy's options |
//!
//! Each test ends with a `RESULT …` line on stderr (`cargo test --test it reliability:: -- --nocapture`)
//! with the numbers recorded in docs/reliability.md.

use crate::relay_support::*;
use crate::util::{scrubbed, show};
use airgap::amount::Amount;
use airgap::asset::Asset;
use airgap::build::{OpBody, OpSpec};
use airgap::keys::SecretSeed;
use airgap::network::Network;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

const NET: Network = Network::Standalone;
/// At most this many relay runs to finish a directory after the faults and kills.
const MAX_FINISHING_RUNS: usize = 10;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} does not parse")),
        Err(_) => default,
    }
}

/// The sizes and faults of a test, from the environment.
#[derive(Debug, Clone)]
struct Params {
    seed: u64,
    blobs: usize,
    accounts: usize,
    kills: usize,
    kill_max_ms: u64,
    fault: String,
    proxy: String,
    /// The relay's `--timeout` (per input).
    timeout: String,
    /// The relay's `--jobs`.
    jobs: usize,
    /// The server the relay submits through (behind the proxy).
    backend: Backend,
    /// The sandbox's `--close-every` (`None`: one ledger per submission).
    cadence: Option<&'static str>,
}

impl Params {
    fn from_env(test: &str) -> Params {
        let clock = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        let p = Params {
            seed: env_or("AIRGAP_RELIABILITY_SEED", clock % 1_000_000_007),
            blobs: env_or("AIRGAP_RELIABILITY_BLOBS", 60),
            accounts: env_or("AIRGAP_RELIABILITY_ACCOUNTS", 8),
            kills: env_or("AIRGAP_RELIABILITY_KILLS", 3),
            kill_max_ms: env_or("AIRGAP_RELIABILITY_KILL_MAX_MS", 2500),
            fault: env_or(
                "AIRGAP_RELIABILITY_FAULT",
                "504:0.03,429:0.03,503:0.03".into(),
            ),
            proxy: env_or(
                "AIRGAP_RELIABILITY_PROXY",
                "--drop 0.02 --truncate 0.02 --lose-response 0.04 --delay 0.1 --delay-ms 300"
                    .into(),
            ),
            timeout: env_or("AIRGAP_RELIABILITY_TIMEOUT", "60s".into()),
            jobs: env_or("AIRGAP_RELIABILITY_JOBS", 4),
            backend: Backend::Horizon,
            cadence: None,
        };
        assert!(
            p.accounts >= 2,
            "at least two accounts (they pay each other)"
        );
        assert!(p.blobs >= p.accounts, "at least one blob per account");
        eprintln!(
            "{test}: AIRGAP_RELIABILITY_SEED={} AIRGAP_RELIABILITY_BLOBS={} \
             AIRGAP_RELIABILITY_ACCOUNTS={} AIRGAP_RELIABILITY_KILLS={} \
             AIRGAP_RELIABILITY_KILL_MAX_MS={} AIRGAP_RELIABILITY_FAULT={:?} \
             AIRGAP_RELIABILITY_PROXY={:?} AIRGAP_RELIABILITY_JOBS={}",
            p.seed, p.blobs, p.accounts, p.kills, p.kill_max_ms, p.fault, p.proxy, p.jobs
        );
        p
    }

    /// Over `backend`, with ledgers closing every `cadence`.
    fn over(mut self, backend: Backend, cadence: &'static str) -> Params {
        eprintln!("over {backend:?}, --close-every {cadence}");
        self.backend = backend;
        self.cadence = Some(cadence);
        self
    }
}

/// A key drawn from the test's seeded generator, so the seed reproduces the accounts too.
fn key(rng: &mut StdRng) -> SecretSeed {
    SecretSeed::from_bytes(zeroize::Zeroizing::new(rng.gen()))
}

// ---------------------------------------------------------------------------------------------
// Talking to the sandbox directly: plain HTTP/1.1 over loopback (the test crate has no client).

fn get_once(addr: &str, path: &str) -> Result<(u16, Value), String> {
    let mut s = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| format!("send: {e}"))?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(|e| format!("read: {e}"))?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").ok_or("no end of headers")?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("no status")?;
    let value = if body.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(body).map_err(|e| format!("{e}: {body}"))?
    };
    Ok((status, value))
}

/// GET from the sandbox itself, retrying its injected faults (429, 503, 504) and its restarts.
fn get(addr: &str, path: &str) -> (u16, Value) {
    let mut last = String::new();
    for _ in 0..1200 {
        match get_once(addr, path) {
            Ok((status, _)) if matches!(status, 429 | 503 | 504) => {
                last = format!("status {status}")
            }
            Ok(r) => return r,
            Err(e) => last = e,
        }
        thread::sleep(Duration::from_millis(50));
    }
    panic!("GET {path} from {addr}: {last}");
}

fn latest_ledger(addr: &str) -> u64 {
    let (status, v) = get(addr, "/");
    assert_eq!(status, 200, "{v}");
    v["history_latest_ledger"]
        .as_u64()
        .expect("history_latest_ledger")
}

fn sequence_of(addr: &str, seed: &SecretSeed) -> i64 {
    let (status, v) = get(addr, &format!("/accounts/{}", seed.public_key()));
    assert_eq!(status, 200, "{v}");
    v["sequence"].as_str().unwrap().parse().unwrap()
}

// ---------------------------------------------------------------------------------------------
// chaos-proxy

struct Proxy {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Proxy {
    fn start(upstream: &str, seed: u64, options: &str, log: &Path) -> Proxy {
        let stderr = std::fs::File::create(log).unwrap();
        let mut child = scrubbed("chaos-proxy")
            .args(["--listen", "127.0.0.1:0", "--upstream", upstream])
            .args(["--seed", &seed.to_string()])
            .args(options.split_whitespace())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start chaos-proxy");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line.trim().rsplit(' ').next().unwrap().to_string();
        assert!(addr.starts_with("127.0.0.1:"), "chaos-proxy said {line:?}");
        Proxy {
            child,
            url: format!("http://{addr}"),
            log: log.to_path_buf(),
        }
    }

    /// How many exchanges the proxy spoiled, by kind.
    fn counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        for line in text.lines() {
            let Some((_, what)) = line.split_once(": conn ") else {
                continue;
            };
            let Some((_, what)) = what.split_once(": ") else {
                continue;
            };
            let kind = if what.starts_with("truncate") {
                "truncate"
            } else if what.starts_with("lose-response") {
                "lose-response"
            } else if what.starts_with("drop") {
                "drop"
            } else if what.starts_with("delay") {
                "delay"
            } else if what.starts_with("upstream") {
                "upstream-down"
            } else {
                "other"
            };
            *counts.entry(kind.to_string()).or_default() += 1;
            if what.ends_with(", delayed") {
                *counts.entry("delay".to_string()).or_default() += 1;
            }
        }
        counts
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// The world: a sandbox with --state and --fault, funded accounts, a directory of blobs, a proxy.

struct Planned {
    name: String,
    hash: String,
    account: usize,
    sequence: i64,
    /// A payment of more than the account has: fails in the ledger (`op_underfunded`), fee and
    /// sequence number consumed.
    fail: bool,
}

/// One relay run.
struct RelayRun {
    exit: Option<i32>,
    killed: bool,
    records: Vec<Value>,
    /// A last line cut short by the kill.
    partial: Option<String>,
}

/// A relay run under way: its stdout is read line by line by a thread, so the records printed so
/// far can be looked at before it ends.
struct Running {
    child: Child,
    records: Arc<Mutex<Vec<Value>>>,
    reader: thread::JoinHandle<Option<String>>,
}

impl Running {
    fn printed(&self) -> Vec<Value> {
        self.records
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn finish(mut self, killed: bool) -> RelayRun {
        let status = self.child.wait().unwrap();
        let records = self.records;
        let partial = self.reader.join().unwrap();
        let records = records
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        RelayRun {
            exit: status.code(),
            killed,
            records,
            partial,
        }
    }
}

struct World {
    p: Params,
    rng: StdRng,
    /// Kept (not deleted) when the test fails, for its logs: see `Drop for World`.
    root: Option<tempfile::TempDir>,
    dir: PathBuf,
    state: PathBuf,
    sandbox: Sandbox,
    sandbox_addr: String,
    proxy: Proxy,
    accounts: Vec<SecretSeed>,
    /// Each account's `next_sequence` before the run.
    first_seq: Vec<i64>,
    plan: Vec<Planned>,
    /// Friendbot's transactions (the only others in the ledger).
    funding: BTreeSet<String>,
    ledger_before: u64,
    started: Instant,
}

impl World {
    fn new(p: Params) -> World {
        let started = Instant::now();
        let mut rng = StdRng::seed_from_u64(p.seed);
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("blobs");
        std::fs::create_dir(&dir).unwrap();
        let state = root.path().join("ledger.sqlite");
        let mut args = vec!["--state", state.to_str().unwrap(), "--fault", &p.fault];
        if let Some(c) = p.cadence {
            args.extend(["--close-every", c]);
        }
        if p.backend == Backend::Rpc {
            // the same rates on Stellar RPC, as a gateway in front of it would answer
            args.extend(["--rpc-fault", &p.fault]);
        }
        let sandbox = Sandbox::start_logged("127.0.0.1:0", &args, &root.path().join("sandbox.log"));
        let sandbox_addr = sandbox.url.trim_start_matches("http://").to_string();
        let accounts: Vec<SecretSeed> = (0..p.accounts).map(|_| key(&mut rng)).collect();
        let mut funding = BTreeSet::new();
        for a in &accounts {
            let (status, v) = get(
                &sandbox_addr,
                &format!("/friendbot?addr={}", a.public_key()),
            );
            assert_eq!(status, 200, "friendbot: {v}");
            funding.insert(v["hash"].as_str().unwrap().to_string());
        }
        let first_seq: Vec<i64> = accounts
            .iter()
            .map(|a| sequence_of(&sandbox_addr, a) + 1)
            .collect();
        // File names in a random order, so the directory order is not the sequence order.
        let mut names: Vec<usize> = (0..p.blobs).collect();
        for i in (1..names.len()).rev() {
            names.swap(i, rng.gen_range(0..=i));
        }
        let mut plan = Vec::new();
        for (j, &number) in names.iter().enumerate() {
            let account = j % p.accounts;
            let seq = first_seq[account] + (j / p.accounts) as i64;
            let fail = j % 10 == 7;
            let to = &accounts[(account + 1) % p.accounts];
            let amount = if fail { "1000000" } else { "1" };
            let op = OpSpec::new(OpBody::Payment {
                destination: to.public_key(),
                asset: Asset::Native,
                amount: amount.parse::<Amount>().unwrap(),
            });
            let text = blob(&accounts[account], seq, vec![op], &NET);
            let name = format!("{number:05}.xdr");
            write(&dir, &name, &text);
            plan.push(Planned {
                name,
                hash: hash_of(&text, &NET),
                account,
                sequence: seq,
                fail,
            });
        }
        let ledger_before = latest_ledger(&sandbox_addr);
        let proxy = Proxy::start(
            &sandbox_addr,
            p.seed,
            &p.proxy,
            &root.path().join("proxy.log"),
        );
        eprintln!(
            "setup: {} blobs from {} accounts in {:?} ({} designed to fail), ledger {ledger_before}",
            p.blobs,
            p.accounts,
            started.elapsed(),
            plan.iter().filter(|b| b.fail).count()
        );
        World {
            p,
            rng,
            root: Some(root),
            dir,
            state,
            sandbox,
            sandbox_addr,
            proxy,
            accounts,
            first_seq,
            plan,
            funding,
            ledger_before,
            started,
        }
    }

    fn root(&self) -> &Path {
        self.root.as_ref().expect("root").path()
    }

    fn relay_log(&self) -> PathBuf {
        self.root().join("relay.log")
    }

    /// The end of the relay's stderr and of the sandbox's, and whether the sandbox still runs.
    fn log_tail(&mut self) -> String {
        let tail = |path: PathBuf, n: usize| {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(n)..].join("\n")
        };
        format!(
            "--- relay stderr (end)\n{}\n--- sandbox stderr (end)\n{}\n--- sandbox: {}",
            tail(self.relay_log(), 40),
            tail(self.root().join("sandbox.log"), 20),
            match self.sandbox.exited() {
                Some(status) => format!("ENDED BY ITSELF: {status}"),
                None => "still running".into(),
            }
        )
    }

    fn spawn_relay(&self) -> Running {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.relay_log())
            .unwrap();
        let mut child = relay()
            .arg("submit")
            .args(self.p.backend.args(&self.proxy.url))
            .arg("--json")
            .args(["--timeout", &self.p.timeout])
            .args(["--jobs", &self.p.jobs.to_string()])
            .arg(&self.dir)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start airgap-relay submit");
        let out = child.stdout.take().unwrap();
        let records = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&records);
        let reader = thread::spawn(move || {
            let mut r = BufReader::new(out);
            loop {
                let mut line = Vec::new();
                match r.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => return None,
                    Ok(_) if !line.ends_with(b"\n") => {
                        return Some(String::from_utf8_lossy(&line).into_owned())
                    }
                    Ok(_) => {
                        let text = String::from_utf8_lossy(&line);
                        if text.trim().is_empty() {
                            continue;
                        }
                        let v: Value = serde_json::from_str(text.trim())
                            .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {text}"));
                        sink.lock().unwrap_or_else(PoisonError::into_inner).push(v);
                    }
                }
            }
        });
        Running {
            child,
            records,
            reader,
        }
    }

    /// A relay run, SIGKILLed after `kill_after` if it is still going then.
    fn run_relay(&self, kill_after: Option<Duration>) -> RelayRun {
        let mut running = self.spawn_relay();
        let Some(after) = kill_after else {
            return running.finish(false);
        };
        let deadline = Instant::now() + after;
        while Instant::now() < deadline {
            if running.child.try_wait().unwrap().is_some() {
                return running.finish(false);
            }
            thread::sleep(Duration::from_millis(5));
        }
        let killed = running.child.try_wait().unwrap().is_none();
        if killed {
            running.child.kill().unwrap();
        }
        running.finish(killed)
    }

    /// Blob files still waiting in the directory (not moved to done/ or failed/).
    fn blobs_left(&self) -> usize {
        std::fs::read_dir(&self.dir)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| {
                e.file_type().unwrap().is_file()
                    && !e.file_name().to_string_lossy().starts_with('.')
            })
            .count()
    }

    /// Rerun the relay (no faults of ours beyond the proxy's and the sandbox's) until the
    /// directory is done, at most `MAX_FINISHING_RUNS` times.
    fn finish(&mut self, runs: &mut Vec<RelayRun>) {
        for _ in 0..MAX_FINISHING_RUNS {
            if self.blobs_left() == 0 {
                return;
            }
            self.sandbox_alive();
            let run = self.run_relay(None);
            let exit = run.exit;
            let errors: Vec<&Value> = run
                .records
                .iter()
                .filter(|r| r["status"] == "error")
                .collect();
            assert!(
                errors.is_empty(),
                "records with status error: {errors:?}\n{}",
                self.log_tail()
            );
            runs.push(run);
            assert!(
                matches!(exit, Some(0 | 2 | 3)),
                "relay exit {exit:?}\n{}",
                self.log_tail()
            );
        }
        assert_eq!(
            self.blobs_left(),
            0,
            "{MAX_FINISHING_RUNS} runs did not finish the directory\n{}",
            self.log_tail()
        );
    }

    /// The sandbox is killed only by the tests that mean to; it must never end by itself.
    fn sandbox_alive(&mut self) {
        if self.sandbox.exited().is_some() {
            panic!("the sandbox ended by itself\n{}", self.log_tail());
        }
    }

    /// The journal file is a sound SQLite database, and `airgap-relay journal` lists it.
    fn journal_intact(&self) -> Vec<Value> {
        let path = self.dir.join(".airgap-journal.sqlite");
        if path.exists() {
            let db = rusqlite::Connection::open_with_flags(
                &path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            )
            .unwrap();
            let check: String = db
                .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .unwrap();
            assert_eq!(check, "ok", "journal integrity");
        }
        let o = run(&["journal", "--json", self.dir.to_str().unwrap()]);
        if !path.exists() {
            return Vec::new();
        }
        assert_eq!(code(&o), 0, "journal: {}", show(&o));
        records(&o)
    }

    /// Every outcome printed so far (success or failed, with its ledger) is in the sandbox's
    /// ledger, in that ledger, with that outcome. Returns how many were checked.
    fn printed_are_in_the_ledger(&self, printed: &[Value]) -> usize {
        let mut n = 0;
        for r in printed {
            let status = r["status"].as_str().unwrap();
            if status != "success" && status != "failed" {
                continue;
            }
            let hash = r["hash"].as_str().unwrap();
            let (code, tx) = get(&self.sandbox_addr, &format!("/transactions/{hash}"));
            assert_eq!(code, 200, "printed {r} but the sandbox says {tx}");
            assert_eq!(tx["ledger"], r["ledger"], "{r} vs {tx}");
            assert_eq!(tx["successful"], status == "success", "{r} vs {tx}");
            n += 1;
        }
        n
    }

    /// The invariants. `every_line` asks that each outcome was printed by exactly one run (no
    /// relay was killed, so no printed line can have been lost).
    fn verify(&mut self, runs: &[RelayRun], every_line: bool) -> Report {
        self.sandbox_alive();
        let by_hash: HashMap<&str, &Planned> =
            self.plan.iter().map(|b| (b.hash.as_str(), b)).collect();

        // The journal: sound, one row per blob, every one decided as designed and reported.
        let entries = self.journal_intact();
        assert_eq!(entries.len(), self.plan.len(), "one journal row per blob");
        let mut journal: HashMap<String, Value> = HashMap::new();
        for e in entries {
            let hash = e["hash"].as_str().unwrap().to_string();
            let b = by_hash
                .get(hash.as_str())
                .unwrap_or_else(|| panic!("journal row for an unknown hash: {e}"));
            let want = if b.fail { "failed" } else { "success" };
            assert_eq!(e["state"], want, "{}: {e}", b.name);
            assert_eq!(e["reported"], true, "{}: {e}", b.name);
            assert!(e["ledger"].as_u64().is_some(), "decided in a ledger: {e}");
            if b.fail {
                assert_eq!(e["result_codes"]["transaction"], "tx_failed", "{e}");
                assert_eq!(e["result_codes"]["operations"][0], "op_underfunded", "{e}");
            }
            assert!(journal.insert(hash, e).is_none(), "one row per hash");
        }

        // The sandbox, asked directly: each transaction where the journal says, with its outcome.
        for b in &self.plan {
            let e = &journal[&b.hash];
            let (status, tx) = get(&self.sandbox_addr, &format!("/transactions/{}", b.hash));
            assert_eq!(status, 200, "{} not in the ledger: {tx}", b.name);
            assert_eq!(tx["ledger"], e["ledger"], "{}: {tx} vs {e}", b.name);
            assert_eq!(tx["successful"], !b.fail, "{}: {tx}", b.name);
        }

        let latest = latest_ledger(&self.sandbox_addr);
        let ledgers: BTreeSet<u64> = journal
            .values()
            .map(|e| e["ledger"].as_u64().unwrap())
            .collect();
        if self.p.cadence.is_none() {
            // Nothing else in the ledger: one transaction per ledger, and every ledger since
            // the setup holds one of the journal's.
            assert_eq!(ledgers.len(), self.plan.len(), "distinct ledgers");
            let expected: BTreeSet<u64> = (self.ledger_before + 1..=latest).collect();
            assert_eq!(
                ledgers, expected,
                "the ledgers closed since the setup are exactly the journal's"
            );
        } else {
            // Ledgers on a clock: each account's blobs in sequence order, one per ledger, all
            // after the setup (nothing else: the sandbox's store is checked below).
            assert!(ledgers
                .iter()
                .all(|l| *l > self.ledger_before && *l <= latest));
            for i in 0..self.accounts.len() {
                let mine: Vec<u64> = self
                    .plan
                    .iter()
                    .filter(|b| b.account == i)
                    .map(|b| (b.sequence, journal[&b.hash]["ledger"].as_u64().unwrap()))
                    .collect::<BTreeMap<i64, u64>>()
                    .into_values()
                    .collect();
                assert!(
                    mine.windows(2).all(|w| w[0] < w[1]),
                    "account {i}: its blobs in sequence order, one per ledger: {mine:?}"
                );
            }
        }

        // Each account's sequence number moved by exactly its number of blobs (all applied).
        for (i, a) in self.accounts.iter().enumerate() {
            let mine = self.plan.iter().filter(|b| b.account == i).count() as i64;
            assert_eq!(
                sequence_of(&self.sandbox_addr, a),
                self.first_seq[i] + mine - 1,
                "account {i}: applied once each"
            );
        }

        // The files: none left, each in done/ or failed/ as decided.
        assert_eq!(self.blobs_left(), 0);
        let listing = |sub: &str| -> BTreeSet<String> {
            match std::fs::read_dir(self.dir.join(sub)) {
                Ok(rd) => rd
                    .filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect(),
                Err(_) => BTreeSet::new(),
            }
        };
        let names = |fail: bool| -> BTreeSet<String> {
            self.plan
                .iter()
                .filter(|b| b.fail == fail)
                .map(|b| b.name.clone())
                .collect()
        };
        assert_eq!(listing("done"), names(false), "done/");
        assert_eq!(listing("failed"), names(true), "failed/");

        // What the runs printed: each outcome by at most one run, agreeing with the journal.
        let mut printed: HashMap<&str, usize> = HashMap::new();
        for r in runs.iter().flat_map(|r| &r.records) {
            let status = r["status"].as_str().unwrap();
            assert_ne!(status, "error", "{r}");
            if status != "success" && status != "failed" {
                continue;
            }
            let hash = r["hash"].as_str().unwrap();
            let e = journal
                .get(hash)
                .unwrap_or_else(|| panic!("printed an unknown hash: {r}"));
            assert_eq!(e["state"], status, "{r} vs {e}");
            assert_eq!(e["ledger"], r["ledger"], "{r} vs {e}");
            *printed.entry(hash).or_default() += 1;
        }
        let twice: Vec<_> = printed.iter().filter(|(_, &n)| n > 1).collect();
        assert!(
            twice.is_empty(),
            "outcomes printed by more than one run: {twice:?}"
        );
        let unprinted = self.plan.len() - printed.len();
        if every_line {
            assert_eq!(unprinted, 0, "every outcome printed once");
        }

        // The sandbox's own store: its transactions are friendbot's and the journal's, no more.
        let proxy_counts = self.proxy.counts();
        self.sandbox.stop();
        let db = rusqlite::Connection::open(&self.state).unwrap();
        let mut stmt = db.prepare("SELECT hash FROM txs").unwrap();
        let stored: BTreeSet<String> = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let mut want: BTreeSet<String> = self.plan.iter().map(|b| b.hash.clone()).collect();
        want.extend(self.funding.iter().cloned());
        assert_eq!(stored, want, "the sandbox's stored transactions");

        Report {
            runs: runs.len(),
            killed: runs.iter().filter(|r| r.killed).count(),
            cut_lines: runs.iter().filter(|r| r.partial.is_some()).count(),
            printed: printed.len(),
            unprinted,
            failed: self.plan.iter().filter(|b| b.fail).count(),
            exits: runs.iter().map(|r| r.exit).collect(),
            proxy: proxy_counts,
            wall: self.started.elapsed(),
        }
    }
}

impl Drop for World {
    fn drop(&mut self) {
        if thread::panicking() {
            if let Some(root) = self.root.take() {
                eprintln!(
                    "kept the failed test's directory (relay.log, sandbox.log, proxy.log, \
                     blobs/, ledger.sqlite): {}",
                    root.keep().display()
                );
            }
        }
    }
}

struct Report {
    runs: usize,
    killed: usize,
    cut_lines: usize,
    printed: usize,
    unprinted: usize,
    failed: usize,
    exits: Vec<Option<i32>>,
    proxy: BTreeMap<String, usize>,
    wall: Duration,
}

impl Report {
    fn print(&self, test: &str, p: &Params, extra: &str) {
        eprintln!(
            "RESULT {test}: seed {} | {} blobs ({} designed to fail) from {} accounts | sandbox \
             --fault {} | proxy {} (spoiled: {:?}) | {} relay runs (exits {:?}), {} killed, {} \
             lines cut by a kill | {extra} | outcomes printed once: {}, printed twice: 0, decided \
             but not printed: {}, lost: 0 | wall {:.1} s",
            p.seed,
            p.blobs,
            self.failed,
            p.accounts,
            p.fault,
            p.proxy,
            self.proxy,
            self.runs,
            self.exits,
            self.killed,
            self.cut_lines,
            self.printed,
            self.unprinted,
            self.wall.as_secs_f64()
        );
    }
}

// ---------------------------------------------------------------------------------------------

/// Faults only: every blob decided, applied at most once, journal = ledger.
#[test]
fn faults_every_blob_decided_once_and_the_journal_matches_the_ledger() {
    faults(Params::from_env("faults"));
}

/// The same over Stellar RPC (the proxy's faults; the sandbox's `--fault` is Horizon's), with
/// ledgers every 300 ms: TRY_AGAIN_LATER and DUPLICATE answers among them.
#[test]
fn faults_over_rpc_at_300ms_ledgers() {
    faults(Params::from_env("faults-rpc").over(Backend::Rpc, "300ms"));
}

/// Over Horizon with ledgers every 300 ms (its synchronous submission waits for the ledger).
#[test]
fn faults_over_horizon_at_300ms_ledgers() {
    faults(Params::from_env("faults-horizon-cadence").over(Backend::Horizon, "300ms"));
}

fn faults(p: Params) {
    let mut w = World::new(p.clone());
    let mut runs = Vec::new();
    w.finish(&mut runs);
    let report = w.verify(&runs, true);
    report.print(
        &format!(
            "faults ({:?}, --close-every {})",
            p.backend,
            p.cadence.unwrap_or("0")
        ),
        &p,
        "no kills",
    );
}

/// The relay SIGKILLed at random moments, restarted each time, then run to the end.
#[test]
fn relay_killed_at_random_moments_loses_nothing_and_reports_once() {
    relay_kills(Params::from_env("relay-kills"));
}

/// The same over Stellar RPC with ledgers every 300 ms.
#[test]
fn relay_killed_over_rpc_at_300ms_ledgers() {
    relay_kills(Params::from_env("relay-kills-rpc").over(Backend::Rpc, "300ms"));
}

fn relay_kills(p: Params) {
    let mut w = World::new(p.clone());
    let mut runs = Vec::new();
    let mut moments = Vec::new();
    for k in 0..p.kills {
        if w.blobs_left() == 0 {
            eprintln!("kill {k}: the directory is already done");
            break;
        }
        let after = Duration::from_millis(w.rng.gen_range(100..=p.kill_max_ms.max(100)));
        let run = w.run_relay(Some(after));
        eprintln!(
            "kill {k}: after {after:?}: {} (printed {})",
            if run.killed {
                "killed"
            } else {
                "the run ended first"
            },
            run.records.len()
        );
        if run.killed {
            moments.push(after.as_millis());
        }
        runs.push(run);
        // After every kill: the journal is sound and can be listed.
        w.journal_intact();
        w.sandbox_alive();
    }
    w.finish(&mut runs);
    let report = w.verify(&runs, false);
    assert!(report.killed >= 1, "at least one kill landed mid-run");
    report.print(
        &format!(
            "relay-kills ({:?}, --close-every {})",
            p.backend,
            p.cadence.unwrap_or("0")
        ),
        &p,
        &format!("relay SIGKILLed at {moments:?} ms into its runs"),
    );
}

/// The sandbox (with `--state`) SIGKILLed mid-run and restarted on the same address; the relay
/// keeps going (or is run again).
#[test]
fn sandbox_killed_mid_run_keeps_every_acknowledged_transaction() {
    sandbox_kills(Params::from_env("sandbox-kills"));
}

/// The same over Stellar RPC with ledgers every 300 ms: what was queued for the ledger that never
/// closed is lost with the sandbox, and the relay sends the same bytes again.
#[test]
fn sandbox_killed_over_rpc_at_300ms_ledgers() {
    sandbox_kills(Params::from_env("sandbox-kills-rpc").over(Backend::Rpc, "300ms"));
}

fn sandbox_kills(p: Params) {
    let mut w = World::new(p.clone());
    let mut sandbox_args = vec![
        "--state".to_string(),
        w.state.to_str().unwrap().to_string(),
        "--fault".to_string(),
        p.fault.clone(),
    ];
    if let Some(c) = p.cadence {
        sandbox_args.extend(["--close-every".to_string(), c.to_string()]);
    }
    if p.backend == Backend::Rpc {
        sandbox_args.extend(["--rpc-fault".to_string(), p.fault.clone()]);
    }
    let sandbox_args: Vec<&str> = sandbox_args.iter().map(String::as_str).collect();
    let mut runs = Vec::new();
    let mut running = Some(w.spawn_relay());
    let mut checked = 0;
    let mut moments = Vec::new();
    for k in 0..p.kills {
        let wait = Duration::from_millis(w.rng.gen_range(200..=p.kill_max_ms.max(200)));
        thread::sleep(wait);
        if let Some(r) = running.as_mut() {
            if r.child.try_wait().unwrap().is_some() {
                runs.push(running.take().unwrap().finish(false));
            }
        }
        if w.blobs_left() == 0 {
            eprintln!("sandbox kill {k}: the directory is already done");
            break;
        }
        w.sandbox.stop();
        let down = Duration::from_millis(w.rng.gen_range(0..=800));
        moments.push((wait.as_millis(), down.as_millis()));
        thread::sleep(down);
        let log = w.root().join("sandbox.log");
        w.sandbox = Sandbox::start_logged(&w.sandbox_addr, &sandbox_args, &log);
        // Everything the relay heard acknowledged before the sandbox died is still there.
        let printed: Vec<Value> = runs
            .iter()
            .flat_map(|r| r.records.iter().cloned())
            .chain(running.iter().flat_map(Running::printed))
            .collect();
        checked = w.printed_are_in_the_ledger(&printed);
        eprintln!(
            "sandbox kill {k}: {wait:?} after the previous event, down {down:?}; \
             {checked} acknowledged outcomes still in the ledger"
        );
        if running.is_none() {
            running = Some(w.spawn_relay());
        }
    }
    if let Some(r) = running.take() {
        runs.push(r.finish(false));
    }
    w.finish(&mut runs);
    let report = w.verify(&runs, true);
    report.print(
        &format!(
            "sandbox-kills ({:?}, --close-every {})",
            p.backend,
            p.cadence.unwrap_or("0")
        ),
        &p,
        &format!(
            "sandbox SIGKILLed {} times (wait ms, down ms: {moments:?}); after each restart the \
             acknowledged outcomes were all in its ledger (last check: {checked})",
            moments.len()
        ),
    );
}

// ---------------------------------------------------------------------------------------------
// The signer killed mid-write.

/// What a signer run left in its output directory.
#[derive(Debug, Default)]
struct Outputs {
    xdr: Option<Vec<u8>>,
    gif: Option<Vec<u8>>,
    frames: Option<BTreeMap<String, Vec<u8>>>,
    leftovers: Vec<String>,
}

fn outputs(dir: &Path) -> Outputs {
    let read = |p: PathBuf| std::fs::read(p).ok();
    let frames = std::fs::read_dir(dir.join("frames")).ok().map(|rd| {
        rd.filter_map(Result::ok)
            .map(|e| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect()
    });
    let leftovers = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !["tx.xdr", "tx.gif", "frames"].contains(&n.as_str()))
        .collect();
    Outputs {
        xdr: read(dir.join("tx.xdr")),
        gif: read(dir.join("tx.gif")),
        frames,
        leftovers,
    }
}

/// A temporary name's shape: `.airgap-` + random letters (+ `.tmp` for a file), so a leftover is
/// reported by kind, not by its random part.
fn leftover_kind(dir: &Path, name: &str) -> String {
    let is_dir = dir.join(name).is_dir();
    let shape = if name.starts_with(".airgap-") && name.ends_with(".tmp") {
        ".airgap-XXXXXX.tmp"
    } else if name.starts_with(".airgap-") {
        ".airgap-XXXXXX"
    } else {
        name
    };
    format!(
        "{shape}{}",
        if is_dir { "/ (directory)" } else { " (file)" }
    )
}

/// The temporary entries (`.airgap-…`) in a directory.
fn temporaries(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(".airgap-"))
                .collect()
        })
        .unwrap_or_default()
}

/// Each output of a killed run is absent, or byte for byte the uninterrupted run's (`new`), or,
/// when the run was replacing outputs (`--force`), byte for byte the previous ones (`old`).
fn judge<T: PartialEq + std::fmt::Debug>(
    what: &str,
    got: &Option<T>,
    new: &Option<T>,
    old: Option<&Option<T>>,
) -> &'static str {
    match got {
        None => "absent",
        Some(_) if got == new => "new",
        Some(_) if old.is_some_and(|o| got == o) => "old",
        Some(g) => panic!("{what} is neither absent nor a complete output: {g:?}"),
    }
}

#[test]
fn signer_killed_mid_write_never_leaves_a_partial_output() {
    let p = Params::from_env("signer-kills");
    let kills: usize = env_or("AIRGAP_RELIABILITY_SIGNER_KILLS", 8);
    let mut rng = StdRng::seed_from_u64(p.seed);
    let sb = Sandbox::start(&[]);
    let (key, dest) = (key(&mut rng), key(&mut rng));
    sb.fund(&key.public_key());
    sb.fund(&dest.public_key());
    let seq = sb.next_sequence(&key.public_key());
    let root = tempfile::tempdir().unwrap();
    let dest_id = dest.public_key().to_string();
    let signer = |out: &Path, sequence: i64, force: bool| -> Command {
        let mut c = scrubbed("airgap-signer");
        c.args(["payment", "--destination", &dest_id, "--asset", "native"])
            .args(["--amount", "1", "--sequence", &sequence.to_string()])
            .args(["--network", "standalone"])
            .args(["--min-time", "0", "--max-time", "4000000000"])
            .args(["--key", "env:AIRGAP_TEST_KEY", "--yes"])
            .arg("--out")
            .arg(out.join("tx.xdr"))
            .arg("--qr")
            .arg(out.join("tx.gif"))
            .arg("--qr-frames")
            .arg(out.join("frames"))
            .env("AIRGAP_TEST_KEY", &*key.to_strkey())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if force {
            c.arg("--force");
        }
        c
    };

    // Uninterrupted runs: the reference bytes (the same twice over), the run time, and the
    // outputs of the sequence number after it (what a `--force` run replaces).
    let mut reference = Vec::new();
    let mut took = Duration::ZERO;
    for (i, sequence) in [seq, seq, seq + 1].into_iter().enumerate() {
        let out = root.path().join(format!("reference-{i}"));
        std::fs::create_dir(&out).unwrap();
        let start = Instant::now();
        let status = signer(&out, sequence, false).status().unwrap();
        took = took.max(start.elapsed());
        assert!(status.success(), "signer: {status:?}");
        reference.push(outputs(&out));
    }
    let old = reference.pop().unwrap();
    let new = reference.remove(0);
    assert_eq!(
        new.xdr, reference[0].xdr,
        "the signer's output is deterministic"
    );
    assert_eq!(new.gif, reference[0].gif);
    assert_eq!(new.frames, reference[0].frames);
    assert_ne!(new.xdr, old.xdr);
    assert!(new.leftovers.is_empty(), "{:?}", new.leftovers);
    let frames_n = new.frames.as_ref().unwrap().len();
    let old_dir = root.path().join("reference-2");

    // A third of the runs are killed at a random moment of the run time (a little past it too);
    // the others the moment the k-th temporary entry (k = 1, 2 or 3: the envelope, the GIF, the
    // frames directory) shows up, plus 0–2 ms: in the middle of a write. Every other run replaces
    // the previous outputs with --force.
    let span = (took.as_millis() as u64 * 11 / 10).max(50);
    let mut tally: BTreeMap<String, usize> = BTreeMap::new();
    let mut leftover_kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut a_leftover_dir = None;
    for i in 0..kills {
        let out = root.path().join(format!("run-{i}"));
        let force = i % 2 == 1;
        if force {
            copy_all(&old_dir, &out);
        } else {
            std::fs::create_dir(&out).unwrap();
        }
        let mut child = signer(&out, seq, force).spawn().unwrap();
        let start = Instant::now();
        let how = if i % 3 == 0 {
            let after = Duration::from_millis(rng.gen_range(0..=span));
            thread::sleep(after);
            format!("at {after:?}")
        } else {
            let k = rng.gen_range(1..=3usize);
            let extra = Duration::from_micros(rng.gen_range(0..=2000));
            let mut seen = BTreeSet::new();
            while child.try_wait().unwrap().is_none() && seen.len() < k {
                seen.extend(temporaries(&out));
                thread::sleep(Duration::from_micros(100));
            }
            thread::sleep(extra);
            format!("on temporary #{k} (+{extra:?}, at {:?})", start.elapsed())
        };
        let killed = child.try_wait().unwrap().is_none();
        if killed {
            child.kill().unwrap();
        }
        let status = child.wait().unwrap();
        assert!(
            killed || status.success(),
            "signer run {i} failed: {status:?}"
        );
        let got = outputs(&out);
        let o = force.then_some(());
        let verdict = format!(
            "xdr {}, gif {}, frames {}",
            judge("tx.xdr", &got.xdr, &new.xdr, o.map(|()| &old.xdr)),
            judge("tx.gif", &got.gif, &new.gif, o.map(|()| &old.gif)),
            judge("frames/", &got.frames, &new.frames, o.map(|()| &old.frames)),
        );
        let key = match (killed, force) {
            (false, _) => "finished before the kill".to_string(),
            (true, false) => format!("new run killed: {verdict}"),
            (true, true) => format!("--force run killed: {verdict}"),
        };
        *tally.entry(key).or_default() += 1;
        for name in &got.leftovers {
            *leftover_kinds.entry(leftover_kind(&out, name)).or_default() += 1;
        }
        if a_leftover_dir.is_none() && !got.leftovers.is_empty() {
            a_leftover_dir = Some(out.clone());
        }
        eprintln!(
            "signer kill {i}: {how}{}: {verdict}; leftovers {:?}",
            if force { ", --force" } else { "" },
            got.leftovers
        );
    }

    // The relay reads a directory holding the signer's blob and whatever a kill left behind (a
    // real leftover if one turned up, else a partial temporary file of the same shape): it takes
    // the blob and ignores the rest.
    let blobs = root.path().join("usb");
    std::fs::create_dir(&blobs).unwrap();
    let blob_bytes = new.xdr.as_ref().unwrap();
    std::fs::write(blobs.join("tx.xdr"), blob_bytes).unwrap();
    let mut planted = Vec::new();
    if let Some(d) = &a_leftover_dir {
        for name in temporaries(d) {
            copy_all(&d.join(&name), &blobs.join(&name));
            planted.push(leftover_kind(&blobs, &name));
        }
    }
    if !planted.iter().any(|k| k.contains(".tmp")) {
        let half = &blob_bytes[..blob_bytes.len() / 2];
        std::fs::write(blobs.join(".airgap-Ab12Cd.tmp"), half).unwrap();
        planted.push("synthesized .airgap-XXXXXX.tmp (half a blob)".into());
    }
    let o = run(&[
        "submit",
        "--horizon",
        &sb.url,
        "--json",
        blobs.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let recs = records(&o);
    assert_eq!(recs.len(), 1, "only the blob is read: {recs:?}");
    assert_eq!(recs[0]["status"], "success");
    eprintln!(
        "RESULT signer-kills: seed {} | {kills} runs of `airgap-signer payment --out tx.xdr --qr \
         tx.gif --qr-frames frames` ({frames_n} frames, uninterrupted run {took:?}), every \
         other one with --force over the previous outputs, SIGKILLed at random (0–{span} ms) or \
         on sight of a temporary file | outcomes {tally:?} | partial outputs: 0 | leftovers by \
         kind {leftover_kinds:?} | relay submit of a directory with {planted:?} beside the blob: \
         1 record, the blob's",
        p.seed
    );
}

fn copy_all(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap().filter_map(Result::ok) {
            copy_all(&e.path(), &to.join(e.file_name()));
        }
    } else {
        std::fs::copy(from, to).unwrap();
    }
}
