//! `airgap-relay pay` against the sandbox, with the Python SDK as the oracle of what the ledger
//! holds (tests/pay/scenario.py): every valid row paid exactly once while `pay` is SIGKILLed at
//! random moments behind chaos-proxy (dropped connections, answers lost after the sandbox acted)
//! and the sandbox injects 504s and is restarted, on SQLite and PostgreSQL; invalid rows failed
//! with their reason and no fee; a second `pay` on SQLite refused; two workers on one PostgreSQL
//! database; the float round trip through the offline signer.
//!
//! Sizes: `AIRGAP_PAY_ROWS` (300), `AIRGAP_PAY_KILLS` (10, at least).
use crate::relay_support::{relay, Sandbox};
use crate::util::{python, run_python, scrubbed, show, TestDir};
use airgap::amount::Amount;
use airgap_relay::db::{Db, PaymentState, Target};
use rand::Rng;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn scenario(args: &[&str]) -> Value {
    let o = run_python(python().arg("tests/pay/scenario.py").args(args), None);
    assert!(o.status.success(), "scenario.py {args:?}: {}", show(&o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("scenario.py: {e}: {}", show(&o)))
}

/// The accounts, the keys (in 0600 files) and the queue of one scenario.
struct World {
    dir: TestDir,
    state: Value,
    rows: Vec<Value>,
    target: Target,
}

impl World {
    fn new(sandbox: &Sandbox, channels: usize, rows: u64, base_usd: &str, pg: bool) -> World {
        let dir = TestDir::new();
        let state_path = dir.join("state.json");
        let sp = state_path.to_str().unwrap();
        scenario(&[
            "setup",
            &sandbox.url,
            sp,
            "--channels",
            &channels.to_string(),
            "--dests",
            "12",
            "--base-usd",
            base_usd,
        ]);
        let state: Value = serde_json::from_slice(&std::fs::read(&state_path).unwrap()).unwrap();
        let csv = dir.join("rows.csv");
        let rows = scenario(&[
            "rows",
            sp,
            "--rows",
            &rows.to_string(),
            "--csv",
            csv.to_str().unwrap(),
        ]);
        let key = |name: &str, seed: &str| {
            let p = dir.join(name);
            std::fs::write(&p, format!("{seed}\n")).unwrap();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
            }
        };
        key("base.key", state["base_seed"].as_str().unwrap());
        for (i, c) in state["channels"].as_array().unwrap().iter().enumerate() {
            key(&format!("ch{i}.key"), c.as_str().unwrap());
        }
        let target = if pg {
            airgap_relay::db::testing::pg_database()
                .unwrap_or_else(|| Target::Sqlite(dir.join("q.db")))
        } else {
            Target::Sqlite(dir.join("q.db"))
        };
        let w = World {
            dir,
            state,
            rows: rows.as_array().unwrap().clone(),
            target,
        };
        let o = crate::util::run(
            w.with_db(&mut relay()).args(["pay", "enqueue", "--csv"]),
            Some(&std::fs::read(&csv).unwrap()),
        );
        assert!(o.status.success(), "pay enqueue: {}", show(&o));
        w
    }

    fn with_db<'a>(&self, cmd: &'a mut std::process::Command) -> &'a mut std::process::Command {
        match &self.target {
            Target::Postgres(url) => cmd.env("DATABASE_URL", url),
            Target::Sqlite(p) => cmd.env("DATABASE_URL", p),
        }
    }

    /// `pay` over Horizon with channels `chans` (indexes), as a child writing to
    /// `name`.{out,err}.
    fn pay(&self, horizon: &str, chans: &[usize], name: &str, extra: &[&str]) -> Child {
        self.pay_over("--horizon", horizon, chans, name, extra)
    }

    /// `pay` over `backend` (`--horizon` or `--rpc`) at `url`.
    fn pay_over(
        &self,
        backend: &str,
        url: &str,
        chans: &[usize],
        name: &str,
        extra: &[&str],
    ) -> Child {
        let mut keys = vec![
            "--source".to_string(),
            format!("file:{}", self.dir.join("base.key").display()),
        ];
        for c in chans {
            keys.push("--channel".into());
            keys.push(format!(
                "file:{}",
                self.dir.join(&format!("ch{c}.key")).display()
            ));
        }
        self.pay_keys(backend, url, &keys, &[], name, extra)
    }

    /// A keystore `name` (0600, the cheapest scrypt the format allows) holding `seed`, sealed
    /// under `pass` by the library's keystore writer.
    fn keystore(&self, name: &str, seed: &str, pass: &str) -> String {
        use airgap::keys::keystore::{seal, KdfParams};
        let seed = airgap::keys::SecretSeed::from_strkey(seed).unwrap();
        let text = seal(
            seed.bytes(),
            pass.as_bytes(),
            KdfParams::new(10, 8, 1).unwrap(),
        )
        .unwrap();
        let p = self.dir.join(name);
        std::fs::write(&p, text).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        p.display().to_string()
    }

    /// `pay` over `backend` at `url` with the key arguments `keys` and the environment `env`.
    fn pay_keys(
        &self,
        backend: &str,
        url: &str,
        keys: &[String],
        env: &[(&str, &str)],
        name: &str,
        extra: &[&str],
    ) -> Child {
        let append = |p: &Path| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .unwrap()
        };
        let mut cmd = relay();
        self.with_db(&mut cmd)
            .args(["pay", backend, url, "--network", "standalone", "--json"])
            .args(["--tx-timeout", "8s"])
            .args(keys)
            .envs(env.iter().copied());
        if !extra.contains(&"--poll") {
            cmd.args(["--poll", "1s"]);
        }
        cmd.args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::from(append(&self.dir.join(&format!("{name}.out")))))
            .stderr(Stdio::from(append(&self.dir.join(&format!("{name}.err")))))
            .spawn()
            .expect("start airgap-relay pay")
    }

    /// SIGTERM to a continuous `pay` named `name`: it finishes what it holds and exits 0.
    fn stop_with_sigterm(&self, child: &mut Child, name: &str) {
        let st = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(st.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(s) = child.try_wait().unwrap() {
                assert_eq!(s.code(), Some(0), "{}", self.stderr(name));
                break;
            }
            assert!(Instant::now() < deadline, "did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stderr(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(&format!("{name}.err"))).unwrap_or_default()
    }

    /// Run `pay --once` to the end; its exit code.
    fn pay_once(&self, horizon: &str, chans: &[usize], name: &str, extra: &[&str]) -> i32 {
        self.pay_once_over("--horizon", horizon, chans, name, extra)
    }

    /// Run `pay --once` over `backend` at `url` to the end; its exit code.
    fn pay_once_over(
        &self,
        backend: &str,
        url: &str,
        chans: &[usize],
        name: &str,
        extra: &[&str],
    ) -> i32 {
        let mut args = vec!["--once"];
        args.extend_from_slice(extra);
        let status = self
            .pay_over(backend, url, chans, name, &args)
            .wait()
            .unwrap();
        status
            .code()
            .unwrap_or_else(|| panic!("{name} killed: {}", self.stderr(name)))
    }

    /// Every row as the database holds it.
    fn rows_in_db(&self) -> BTreeMap<String, airgap_relay::db::Payment> {
        let mut db = Db::open(&self.target).unwrap();
        let mut out = BTreeMap::new();
        for s in [
            PaymentState::Pending,
            PaymentState::Sending,
            PaymentState::Done,
            PaymentState::Failed,
        ] {
            for p in db.payments_in(s).unwrap() {
                out.insert(p.request.id.clone(), p);
            }
        }
        out
    }

    /// The SDK's view of the ledger, held to the queue: each valid row paid exactly once, by
    /// the envelope its row names, from a channel (or the base account), to the right account
    /// and muxed ID, asset, amount and memo; no transaction at all for an invalid row; every
    /// destination's balance what the rows paid it.
    fn verify(&self, sandbox_url: &str, chans: &[String]) {
        let db = self.rows_in_db();
        let view = scenario(&[
            "ledger",
            sandbox_url,
            self.dir.join("state.json").to_str().unwrap(),
        ]);
        let mut by_amount: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
        for p in view["payments"].as_array().unwrap() {
            by_amount
                .entry(p["amount"].as_str().unwrap().to_string())
                .or_default()
                .push(p);
        }
        let base = self.state["base"].as_str().unwrap();
        let mut paid: BTreeMap<(String, String), i64> = BTreeMap::new();
        for r in &self.rows {
            let id = r["id"].as_str().unwrap();
            let row = db
                .get(id)
                .unwrap_or_else(|| panic!("{id} not in the queue"));
            let amount_text = r["amount"].as_str().unwrap();
            match r["valid"].as_str() {
                Some(why) => {
                    assert_eq!(row.state, PaymentState::Failed, "{id}: {row:?}");
                    let result = row.result.as_deref().unwrap_or_default();
                    assert!(result.starts_with(why), "{id}: {result}");
                    assert_eq!(row.tx_hash, None, "{id}: an envelope was built");
                    if let Ok(a) = amount_text.parse::<Amount>() {
                        assert!(
                            !by_amount.contains_key(&a.to_horizon_string()),
                            "{id}: a transaction in the ledger (a fee charged) for an invalid row"
                        );
                    }
                }
                None => {
                    assert_eq!(row.state, PaymentState::Done, "{id}: {row:?}");
                    let amount = amount_text.parse::<Amount>().unwrap().to_horizon_string();
                    let found = by_amount.get(&amount).cloned().unwrap_or_default();
                    let ok: Vec<_> = found.iter().filter(|p| p["successful"] == true).collect();
                    assert_eq!(ok.len(), 1, "{id} paid {} times: {found:?}", ok.len());
                    let p = ok[0];
                    assert_eq!(p["tx_hash"].as_str(), row.tx_hash.as_deref(), "{id}");
                    let dest = r["destination"].as_str().unwrap();
                    if dest.starts_with('M') {
                        assert_eq!(p["to_muxed"].as_str(), Some(dest), "{id}");
                    } else {
                        assert_eq!(p["to"].as_str(), Some(dest), "{id}");
                    }
                    assert_eq!(p["asset"], r["asset"], "{id}");
                    assert_eq!(p["memo_type"], r["memo_type"], "{id}");
                    assert_eq!(p["memo"], r["memo"], "{id}");
                    let src = p["tx_source"].as_str().unwrap();
                    assert!(
                        chans.iter().any(|c| c == src) || src == base,
                        "{id}: from {src}"
                    );
                    *paid
                        .entry((
                            p["to"].as_str().unwrap().to_string(),
                            r["asset"].as_str().unwrap().to_string(),
                        ))
                        .or_default() += amount_text.parse::<Amount>().unwrap().stroops();
                }
            }
        }
        // Balances: 100 XLM each at creation plus the native rows; the issued assets start at 0.
        let balances = &view["balances"];
        for d in self.state["dests"].as_array().unwrap() {
            let d = d.as_str().unwrap();
            for asset in [
                format!("USD:{}", self.state["issuer"].as_str().unwrap()),
                format!("EUR:{}", self.state["other"].as_str().unwrap()),
                "native".to_string(),
            ] {
                let start = if asset == "native" {
                    100 * 10_000_000
                } else {
                    0
                };
                let want = start
                    + paid
                        .get(&(d.to_string(), asset.clone()))
                        .copied()
                        .unwrap_or(0);
                let got: Amount = balances[d][&asset].as_str().unwrap().parse().unwrap();
                assert_eq!(got.stroops(), want, "{d} {asset}");
            }
        }
        for who in ["untrusting", "unauthorized"] {
            let a = self.state[who].as_str().unwrap();
            let got: Amount = balances[a]["native"].as_str().unwrap().parse().unwrap();
            assert_eq!(got.stroops(), 100 * 10_000_000, "{who} was paid or charged");
        }
    }
}

struct Proxy(Child, String);

impl Proxy {
    fn start(upstream: &str, options: &str, log: &Path) -> Proxy {
        let mut child = scrubbed("chaos-proxy")
            .args([
                "--listen",
                "127.0.0.1:0",
                "--upstream",
                upstream,
                "--seed",
                "17",
            ])
            .args(options.split_whitespace())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(std::fs::File::create(log).unwrap()))
            .spawn()
            .expect("start chaos-proxy");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line.trim().rsplit(' ').next().unwrap().to_string();
        Proxy(child, format!("http://{addr}"))
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn kill(c: &mut Child) {
    let _ = c.kill();
    let _ = c.wait();
}

/// The kill-and-fault test, on one database.
/// Over Horizon (`rpc` false) the sandbox answers 504 after accepting and 503s on Horizon's
/// routes; over Stellar RPC (`rpc` true) it does the same to `POST /rpc` as a gateway in front of
/// stellar-rpc would (`--rpc-fault`). The proxy's dropped connections and lost answers and the
/// sandbox's restart apply to both.
fn killed_and_faulted(pg: bool, rpc: bool) {
    let n = env_num("AIRGAP_PAY_ROWS", 300);
    let min_kills = env_num("AIRGAP_PAY_KILLS", 10);
    let started = Instant::now();
    let state_file = tempfile::NamedTempFile::new().unwrap();
    let state_arg = state_file.path().to_str().unwrap().to_string();
    let cadence = ["--close-every", "200ms", "--state", state_arg.as_str()];
    let mut sandbox = Sandbox::start(&cadence);
    let addr = sandbox.url.trim_start_matches("http://").to_string();
    let w = World::new(&sandbox, 4, n, "1000000", pg);
    let chans: Vec<String> = w.state["channel_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    // From here on: 504s after accepting and 503s from the sandbox, dropped connections and
    // answers lost after the sandbox acted from the proxy.
    let faulted = |sb: &mut Sandbox| {
        sb.stop();
        let mut args = cadence.to_vec();
        args.extend_from_slice(&["--fault", "504:0.05,503:0.03"]);
        args.extend_from_slice(&["--rpc-fault", "504:0.05,503:0.03"]);
        *sb = Sandbox::start_on(&addr, &args);
    };
    faulted(&mut sandbox);
    let proxy = Proxy::start(
        &addr,
        "--drop 0.03 --lose-response 0.03",
        &w.dir.join("proxy.err"),
    );
    let (backend, url) = if rpc {
        ("--rpc", format!("{}/rpc", proxy.1))
    } else {
        ("--horizon", proxy.1.clone())
    };
    let mut rng = rand::thread_rng();
    let mut kills = 0;
    while kills < min_kills {
        let mut child = w.pay_over(backend, &url, &[0, 1, 2, 3], "pay", &[]);
        std::thread::sleep(Duration::from_millis(rng.gen_range(300..1500)));
        kill(&mut child);
        kills += 1;
        if kills == min_kills / 2 {
            // The sandbox itself restarts (from its state file) in the middle of the run.
            faulted(&mut sandbox);
        }
    }
    // Then let it finish; the faults go on.
    let mut code = -1;
    for _ in 0..5 {
        code = w.pay_once_over(backend, &url, &[0, 1, 2, 3], "pay", &[]);
        if code == 2 {
            break;
        }
    }
    assert_eq!(code, 2, "the invalid rows fail: {}", w.stderr("pay"));
    w.verify(&sandbox.url, &chans);
    let spoiled = std::fs::read_to_string(w.dir.join("proxy.err"))
        .unwrap_or_default()
        .lines()
        .count();
    let err = w.stderr("pay");
    let rebuilt = err.matches("expired unused").count();
    let unknown = err.matches("looking it up").count();
    assert!(spoiled > 0, "the proxy spoiled nothing");
    if rpc {
        assert!(
            err.contains("answered HTTP 504") || err.contains("answered HTTP 503"),
            "no injected RPC fault reached pay: {err}"
        );
    }
    eprintln!(
        "pay kill test ({}, {backend}): {n} rows, {kills} SIGKILLs, {spoiled} exchanges spoiled, {unknown} outcomes looked up, {rebuilt} envelopes rebuilt, {:?}",
        if pg { "postgres" } else { "sqlite" },
        started.elapsed()
    );
}

#[test]
fn killed_at_random_moments_with_faults_every_row_paid_once_sqlite() {
    killed_and_faulted(false, false);
}

#[test]
fn killed_at_random_moments_with_faults_every_row_paid_once_sqlite_rpc() {
    killed_and_faulted(false, true);
}

#[test]
fn killed_at_random_moments_with_faults_every_row_paid_once_postgres_rpc() {
    if airgap_relay::db::testing::pg_database().is_none() {
        return;
    }
    killed_and_faulted(true, true);
}

#[test]
fn killed_at_random_moments_with_faults_every_row_paid_once_postgres() {
    if airgap_relay::db::testing::pg_database().is_none() {
        return;
    }
    killed_and_faulted(true, false);
}

/// `pay --once --rpc` against the sandbox's Stellar RPC with 200 ms ledgers (so
/// `TRY_AGAIN_LATER` and `DUPLICATE` come up): every valid row paid exactly once, the invalid
/// ones failed without a fee, balances as the rows paid (read with the Python SDK).
#[test]
fn pay_once_over_rpc_every_row_paid_once() {
    let sandbox = Sandbox::start(&["--close-every", "200ms"]);
    let w = World::new(&sandbox, 2, 40, "1000000", false);
    let chans: Vec<String> = w.state["channel_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    let rpc = format!("{}/rpc", sandbox.url);
    let status = w
        .pay_over("--rpc", &rpc, &[0, 1], "rpc", &["--once"])
        .wait()
        .unwrap();
    let invalid = w.rows.iter().any(|r| r["valid"].is_string());
    let want = if invalid { 2 } else { 0 };
    assert_eq!(status.code(), Some(want), "{}", w.stderr("rpc"));
    w.verify(&sandbox.url, &chans);
    let out = std::fs::read_to_string(w.dir.join("rpc.out")).unwrap();
    assert_eq!(out.lines().count(), w.rows.len(), "each row reported once");
}

/// On SQLite one `pay` at a time: a second says who holds the queue and exits 1.
#[test]
fn a_second_pay_on_sqlite_is_refused() {
    let sandbox = Sandbox::start(&["--close-every", "200ms"]);
    let w = World::new(&sandbox, 1, 6, "1000000", false);
    let mut first = w.pay(&sandbox.url, &[0], "first", &[]);
    std::thread::sleep(Duration::from_millis(700));
    let code = w.pay_once(&sandbox.url, &[0], "second", &[]);
    kill(&mut first);
    assert_eq!(code, 1, "{}", w.stderr("second"));
    let err = w.stderr("second");
    assert!(
        err.contains("another airgap-relay pay is already running"),
        "{err}"
    );
}

/// Two workers on one PostgreSQL database, each with its own channels: every row paid once,
/// both paid some.
#[test]
fn two_workers_on_one_postgres_database() {
    if airgap_relay::db::testing::pg_database().is_none() {
        return;
    }
    let sandbox = Sandbox::start(&["--close-every", "200ms"]);
    // 160 rows: one worker alone needs at least 80 ledgers (16 s) for them, so the second,
    // started once the first has claimed a row, always finds rows left however loaded the
    // machine is (started together, a slow start let the first pay all of 60 rows).
    let w = World::new(&sandbox, 4, 160, "1000000", true);
    let chans: Vec<String> = w.state["channel_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    let mut a = w.pay(&sandbox.url, &[0, 1], "a", &["--once"]);
    let a_worker = format!("pay-{}", a.id());
    let deadline = Instant::now() + Duration::from_secs(60);
    while !w
        .rows_in_db()
        .values()
        .any(|p| p.worker.as_deref() == Some(a_worker.as_str()))
    {
        assert!(
            Instant::now() < deadline,
            "the first worker claimed nothing: {}",
            w.stderr("a")
        );
        assert!(a.try_wait().unwrap().is_none(), "{}", w.stderr("a"));
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut b = w.pay(&sandbox.url, &[2, 3], "b", &["--once"]);
    let (ca, cb) = (a.wait().unwrap().code(), b.wait().unwrap().code());
    assert!(
        ca.is_some() && cb.is_some(),
        "{}\n{}",
        w.stderr("a"),
        w.stderr("b")
    );
    w.verify(&sandbox.url, &chans);
    let workers: std::collections::BTreeSet<_> = w
        .rows_in_db()
        .values()
        .filter(|p| p.state == PaymentState::Done)
        .filter_map(|p| p.worker.clone())
        .collect();
    assert_eq!(workers.len(), 2, "both workers paid some: {workers:?}");
}

/// `--float-min` holds rows back; `float` writes the top-up plan with the issuer's next
/// sequence; airgap-signer signs it; `submit` lands it; the held rows then go.
#[test]
fn the_float_round_trip() {
    float_round_trip("--horizon");
}

/// The same over Stellar RPC (`pay --rpc`, `float --rpc`; the top-up is submitted over Horizon):
/// the float's room is read trustline by trustline, as RPC cannot list them.
#[test]
fn the_float_round_trip_over_rpc() {
    float_round_trip("--rpc");
}

fn float_round_trip(backend: &str) {
    let sandbox = Sandbox::start(&["--close-every", "200ms"]);
    let url = match backend {
        "--rpc" => format!("{}/rpc", sandbox.url),
        _ => sandbox.url.clone(),
    };
    // 12 rows of USD, EUR and native (about 1.0x each); the base account holds only 5 USD.
    let w = World::new(&sandbox, 2, 12, "5", false);
    let code = w.pay_once_over(backend, &url, &[0, 1], "p1", &["--float-min", "2"]);
    assert_eq!(code, 2, "invalid rows failed: {}", w.stderr("p1"));
    let issuer = w.state["issuer"].as_str().unwrap();
    let usd = format!("USD:{issuer}");
    let waiting: Vec<_> = w
        .rows_in_db()
        .into_values()
        .filter(|p| p.state == PaymentState::Pending)
        .collect();
    assert!(
        !waiting.is_empty() && waiting.iter().all(|p| p.request.asset == usd),
        "{waiting:?}"
    );
    assert!(w
        .stderr("p1")
        .contains("would take the base account below --float-min"));
    let plan = w.dir.join("float.json");
    let o = crate::util::run(
        w.with_db(&mut relay()).args([
            "float",
            "--account",
            w.state["base"].as_str().unwrap(),
            "--asset",
            &usd,
            "--target",
            "3",
            backend,
            &url,
            "--network",
            "standalone",
            "--out",
            plan.to_str().unwrap(),
        ]),
        None,
    );
    assert!(o.status.success(), "float: {}", show(&o));
    let p: Value = serde_json::from_slice(&std::fs::read(&plan).unwrap()).unwrap();
    assert_eq!(p["source"], issuer);
    let issuer_id: airgap::account::AccountId = issuer.parse().unwrap();
    assert_eq!(
        p["sequence"].as_str().unwrap(),
        sandbox.next_sequence(&issuer_id).to_string()
    );
    // The offline side: the issuer's key signs the plan.
    let blob = w.dir.join("float.xdr");
    let mut sign = w.dir.command("airgap-signer");
    sign.arg("plan")
        .arg(&plan)
        .args([
            "--yes",
            "--out",
            blob.to_str().unwrap(),
            "--key",
            "env:ISSUER_KEY",
        ])
        .env("ISSUER_KEY", w.state["issuer_seed"].as_str().unwrap());
    let o = crate::util::run(&mut sign, None);
    assert!(o.status.success(), "airgap-signer plan: {}", show(&o));
    let o = crate::util::run(
        relay().args([
            "submit",
            "--horizon",
            &sandbox.url,
            "--network",
            "standalone",
            blob.to_str().unwrap(),
        ]),
        None,
    );
    assert!(o.status.success(), "submit: {}", show(&o));
    let code = w.pay_once_over(backend, &url, &[0, 1], "p2", &["--float-min", "2"]);
    assert_eq!(
        code,
        0,
        "the held rows go: {}\n{}\n{}",
        w.stderr("p1"),
        w.stderr("p2"),
        std::fs::read_to_string(w.dir.join("p2.out")).unwrap_or_default()
    );
    let left = w
        .rows_in_db()
        .into_values()
        .filter(|p| p.state == PaymentState::Pending)
        .count();
    assert_eq!(left, 0);
    let chans: Vec<String> = w.state["channel_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    w.verify(&sandbox.url, &chans);
    // The float: target 3 after the queue was paid.
    let base: airgap::account::AccountId = w.state["base"].as_str().unwrap().parse().unwrap();
    let acct = sandbox.account(&base);
    let usd_balance = acct["balances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["asset"] == usd.as_str())
        .and_then(|b| b["balance"].as_str())
        .map(|b| b.parse::<Amount>().unwrap());
    assert_eq!(usd_balance, Some("3".parse().unwrap()), "{acct}");
}

/// A `sending` row whose envelope can never land (a sequence number its channel will not
/// reach) is sent again, unchanged, until a closed ledger passes its upper time bound; only then
/// does it get a new envelope, which pays it once.
#[test]
fn an_envelope_that_cannot_land_is_rebuilt_only_after_its_time_bound() {
    use airgap_relay::db::Claim;
    use airgap_relay::pay::row;
    let sandbox = Sandbox::start(&["--close-every", "200ms"]);
    let w = World::new(&sandbox, 1, 1, "1000000", false);
    let network = airgap::network::Network::Standalone;
    let base =
        airgap::keys::SecretSeed::from_strkey(w.state["base_seed"].as_str().unwrap()).unwrap();
    let chan_seed = w.state["channels"][0].as_str().unwrap();
    let channel = row::Channel {
        seed: airgap::keys::SecretSeed::from_strkey(chan_seed).unwrap(),
        id: w.state["channel_ids"][0].as_str().unwrap().parse().unwrap(),
    };
    let seq = sandbox.next_sequence(&channel.id);
    let max_time = crate::relay_support::now() + 4;
    let mut db = Db::open(&w.target).unwrap();
    let signing = row::Signing {
        network: &network,
        base: &base,
        fee: 100,
    };
    // As a run that died would leave it: `sending`, on an envelope 5 sequence numbers ahead.
    let claimed = db
        .claim_and_mark(1, "dead-run", |p| {
            let payout = row::parse(p).map_err(|e| e.to_string())?;
            Ok::<_, String>(Claim::Send(
                row::sign(&signing, &payout, &channel, seq + 5, max_time).unwrap(),
            ))
        })
        .unwrap();
    let first = claimed[0].payment.clone();
    assert_eq!(first.state, PaymentState::Sending);
    let code = w.pay_once(&sandbox.url, &[0], "p", &[]);
    assert_eq!(code, 2, "the invalid rows fail: {}", w.stderr("p"));
    let after = w.rows_in_db()[&first.request.id].clone();
    assert_eq!(after.state, PaymentState::Done, "{}", w.stderr("p"));
    assert_eq!(after.attempts, 2);
    assert_ne!(after.tx_hash, first.tx_hash);
    let err = w.stderr("p");
    assert!(err.contains("tx_bad_seq"), "{err}");
    assert!(err.contains("expired unused"), "{err}");
    let chans = vec![channel.id.to_string()];
    w.verify(&sandbox.url, &chans);
}

/// Without `--once`, `pay` runs until SIGTERM, finishes what it holds, and exits 0; rows queued
/// while it runs are paid.
#[test]
fn continuous_pay_pays_rows_queued_later_and_stops_on_sigterm() {
    let sandbox = Sandbox::start(&["--close-every", "200ms"]);
    let w = World::new(&sandbox, 1, 0, "1000000", false);
    let mut child = w.pay(&sandbox.url, &[0], "c", &[]);
    std::thread::sleep(Duration::from_millis(500));
    let dest = w.state["dests"][0].as_str().unwrap();
    let o = crate::util::run(
        w.with_db(&mut relay()).args([
            "pay",
            "enqueue",
            "--id",
            "late-1",
            "--destination",
            dest,
            "--asset",
            "native",
            "--amount",
            "2.5",
            "--memo-type",
            "text",
            "--memo",
            "late",
        ]),
        None,
    );
    assert!(o.status.success(), "{}", show(&o));
    let deadline = Instant::now() + Duration::from_secs(30);
    while w.rows_in_db()["late-1"].state != PaymentState::Done {
        assert!(Instant::now() < deadline, "not paid: {}", w.stderr("c"));
        std::thread::sleep(Duration::from_millis(200));
    }
    w.stop_with_sigterm(&mut child, "c");
    let printed = std::fs::read_to_string(w.dir.join("c.out")).unwrap();
    assert_eq!(printed.matches("\"late-1\"").count(), 1, "{printed}");
}

/// Keys from keystores (`keystore:PATH`, the passphrase from the environment): a wrong
/// passphrase exits 1 with a sentence saying so before anything is claimed or spent; the right
/// ones pay the queue. Neither a seed nor a passphrase is ever printed.
#[test]
fn pay_with_keys_from_keystores() {
    let sandbox = Sandbox::start(&["--close-every", "200ms"]);
    let w = World::new(&sandbox, 1, 8, "1000000", false);
    let base_seed = w.state["base_seed"].as_str().unwrap();
    let chan_seed = w.state["channels"][0].as_str().unwrap();
    let (base_pass, chan_pass) = ("base keystore passphrase", "channel keystore passphrase");
    let base_ks = w.keystore("base.ks", base_seed, base_pass);
    let chan_ks = w.keystore("ch0.ks", chan_seed, chan_pass);
    // The base keystore's passphrase from --passphrase-env, the channel's from its own variable.
    let keys = [
        "--source".to_string(),
        format!("keystore:{base_ks}"),
        "--channel".to_string(),
        format!("keystore:{chan_ks}?passphrase-env=CHAN_PASS"),
        "--passphrase-env".to_string(),
        "BASE_PASS".to_string(),
    ];
    let base: airgap::account::AccountId = w.state["base"].as_str().unwrap().parse().unwrap();
    let chan: airgap::account::AccountId =
        w.state["channel_ids"][0].as_str().unwrap().parse().unwrap();
    let sequences = || (sandbox.next_sequence(&base), sandbox.next_sequence(&chan));
    let before = sequences();
    let wrong = [
        ("BASE_PASS", base_pass),
        ("CHAN_PASS", "not the passphrase"),
    ];
    let code = w
        .pay_keys(
            "--horizon",
            &sandbox.url,
            &keys,
            &wrong,
            "wrong",
            &["--once"],
        )
        .wait()
        .unwrap()
        .code();
    let err = w.stderr("wrong");
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "--channel: cannot open the keystore {chan_ks}: the passphrase is wrong"
        )),
        "{err}"
    );
    assert!(err.contains("nothing was paid"), "{err}");
    assert!(
        w.rows_in_db()
            .values()
            .all(|p| p.state == PaymentState::Pending && p.tx_hash.is_none()),
        "a row was touched: {:?}",
        w.rows_in_db()
    );
    assert_eq!(sequences(), before, "a transaction was sent");
    let right = [("BASE_PASS", base_pass), ("CHAN_PASS", chan_pass)];
    let code = w
        .pay_keys(
            "--horizon",
            &sandbox.url,
            &keys,
            &right,
            "right",
            &["--once"],
        )
        .wait()
        .unwrap()
        .code();
    assert_eq!(
        code,
        Some(2),
        "the invalid rows fail: {}",
        w.stderr("right")
    );
    w.verify(&sandbox.url, &[chan.to_string()]);
    for name in ["wrong", "right"] {
        let out = std::fs::read_to_string(w.dir.join(&format!("{name}.out"))).unwrap();
        let err = w.stderr(name);
        for secret in [&base_seed[1..], &chan_seed[1..], base_pass, chan_pass] {
            assert!(
                !out.contains(secret) && !err.contains(secret),
                "{name}: a secret printed"
            );
        }
    }
}

/// On PostgreSQL a continuous `pay` listens (NOTIFY from the table's trigger): rows queued with
/// plain SQL are paid long before its poll, here ten minutes, would have looked, also after the
/// server dropped the listening connection.
#[test]
fn continuous_pay_on_postgres_pays_rows_queued_by_plain_sql_before_its_poll() {
    if airgap_relay::db::testing::pg_database().is_none() {
        return;
    }
    let sandbox = Sandbox::start(&["--close-every", "200ms"]);
    let w = World::new(&sandbox, 1, 0, "1000000", true);
    let Target::Postgres(url) = &w.target else {
        panic!("not on PostgreSQL")
    };
    let mut child = w.pay(&sandbox.url, &[0], "n", &["--poll", "600s"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !w.stderr("n").contains("listening for queued rows") {
        assert!(
            Instant::now() < deadline,
            "not listening: {}",
            w.stderr("n")
        );
        assert!(child.try_wait().unwrap().is_none(), "{}", w.stderr("n"));
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut sql = postgres::Client::connect(url, postgres::NoTls).unwrap();
    let dest = w.state["dests"][0].as_str().unwrap();
    // The second row is queued once the first is paid: the worker has looked at the queue since
    // and found it empty, so only a notification can bring it back before ten minutes. Before
    // the third, the server drops the listening connection: the worker listens again.
    for (id, amount) in [("sql-1", "3.25"), ("sql-2", "4.5"), ("sql-3", "5.75")] {
        if id == "sql-3" {
            let dropped = sql
                .query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE query = 'LISTEN stellar_payments'",
                    &[],
                )
                .unwrap();
            assert_eq!(dropped.len(), 1, "one listening connection");
            let deadline = Instant::now() + Duration::from_secs(60);
            while !w.stderr("n").contains("listening for queued rows again") {
                assert!(
                    Instant::now() < deadline,
                    "not listening again: {}",
                    w.stderr("n")
                );
                assert!(child.try_wait().unwrap().is_none(), "{}", w.stderr("n"));
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        sql.execute(
            "INSERT INTO stellar_payments (id, destination, asset, amount, memo_type, memo) \
             VALUES ($1, $2, 'native', $3, 'text', 'by hand')",
            &[&id, &dest, &amount],
        )
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(90);
        while w.rows_in_db()[id].state != PaymentState::Done {
            assert!(
                Instant::now() < deadline,
                "{id} not paid: {:?}\n{}",
                w.rows_in_db()[id],
                w.stderr("n")
            );
            assert!(child.try_wait().unwrap().is_none(), "{}", w.stderr("n"));
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    w.stop_with_sigterm(&mut child, "n");
    let printed = std::fs::read_to_string(w.dir.join("n.out")).unwrap();
    for id in ["sql-1", "sql-2", "sql-3"] {
        assert_eq!(
            printed.matches(&format!("\"{id}\"")).count(),
            1,
            "{printed}"
        );
    }
}
