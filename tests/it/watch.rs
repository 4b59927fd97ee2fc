//! `airgap-relay watch` against the sandbox, with the Python SDK as the oracle of what the ledger
//! holds (tests/watch/scenario.py): every credit recorded exactly once while the watcher is
//! SIGKILLed at random moments, on SQLite and PostgreSQL, over Horizon and RPC and switching
//! between them; gaps refused and accepted; two watchers on one database; quiet streams closed by
//! the server; restarts from the stored cursor; a database that fails mid-run.
//!
//! Sizes for longer runs: `AIRGAP_WATCH_PAYMENTS` (500), `AIRGAP_WATCH_SENDERS` (20),
//! `AIRGAP_WATCH_KILLS` (10 per watcher, at least); `AIRGAP_WATCH_ONLY=sqlite-horizon,…` runs
//! only the kill test's watchers named.
use crate::relay_support::{relay, Sandbox};
use crate::util::{python, run_python, show, TestDir};
use airgap_relay::db::{Db, Entry, Target};
use rand::Rng;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The scenario's accounts.
struct Accounts {
    state: PathBuf,
    issuer: String,
    base: String,
}

fn scenario(cmd: &str, sandbox: &Sandbox, state: &Path, extra: &[&str]) -> Value {
    let o = run_python(
        python()
            .arg("tests/watch/scenario.py")
            .arg(cmd)
            .arg(&sandbox.url)
            .arg(state)
            .args(extra),
        None,
    );
    assert!(o.status.success(), "scenario.py {cmd}: {}", show(&o));
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("scenario.py {cmd}: {e}: {}", show(&o)))
}

fn setup(sandbox: &Sandbox, dir: &TestDir, senders: u64) -> Accounts {
    let state = dir.join("state.json");
    let v = scenario(
        "setup",
        sandbox,
        &state,
        &["--senders", &senders.to_string()],
    );
    Accounts {
        state,
        issuer: v["issuer"].as_str().unwrap().into(),
        base: v["base"].as_str().unwrap().into(),
    }
}

/// The rows the SDK's view of the ledger says `watch` must hold, keyed by (tx_hash, op_index).
fn expected(sandbox: &Sandbox, a: &Accounts) -> BTreeMap<(String, u64), Value> {
    let v = scenario("expect", sandbox, &a.state, &[]);
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let key = (
                r["tx_hash"].as_str().unwrap().to_string(),
                r["op_index"].as_u64().unwrap(),
            );
            (key, r.clone())
        })
        .collect()
}

/// Every row of `stellar_deposits`, as `--json` prints it, without `id` and `recorded_at`.
fn rows(target: &Target) -> Vec<Value> {
    let mut db = Db::open(target).expect("open the watcher's database");
    db.deposits(0, 1_000_000)
        .unwrap()
        .into_iter()
        .map(|r| {
            let mut v = serde_json::to_value(&r).unwrap();
            let o = v.as_object_mut().unwrap();
            o.remove("id");
            o.remove("recorded_at");
            v
        })
        .collect()
}

fn deposit_rows(target: &Target) -> BTreeMap<(String, u64), Value> {
    let mut out = BTreeMap::new();
    for r in rows(target) {
        let key = (
            r["tx_hash"].as_str().unwrap().to_string(),
            r["op_index"].as_u64().unwrap(),
        );
        assert!(
            out.insert(key.clone(), r).is_none(),
            "{key:?} recorded twice"
        );
    }
    out
}

/// How `watch` reads: over Horizon or RPC.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Via {
    Horizon,
    Rpc,
}

/// One `airgap-relay watch` process at a time on one database, restarted at will.
struct Watcher {
    name: String,
    target: Target,
    via: Via,
    args: Vec<String>,
    child: Option<Child>,
    kills: u32,
    out: PathBuf,
    err: PathBuf,
}

impl Watcher {
    fn new(
        name: &str,
        dir: &TestDir,
        target: Target,
        via: Via,
        a: &Accounts,
        sandbox: &Sandbox,
    ) -> Watcher {
        let args = vec![
            "--account".into(),
            a.base.clone(),
            "--account".into(),
            a.issuer.clone(),
            "--asset".into(),
            format!("USD:{}", a.issuer),
            "--from".into(),
            "oldest".into(),
            "--json".into(),
            "--network".into(),
            "standalone".into(),
        ];
        let _ = sandbox;
        Watcher {
            name: name.into(),
            target,
            via,
            args,
            child: None,
            kills: 0,
            out: dir.join(&format!("{name}.jsonl")),
            err: dir.join(&format!("{name}.err")),
        }
    }

    fn start(&mut self, sandbox: &Sandbox) {
        let append = |p: &Path| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .unwrap()
        };
        let mut cmd = relay();
        cmd.arg("watch").args(&self.args);
        match self.via {
            Via::Horizon => cmd.args(["--horizon", &sandbox.url]),
            Via::Rpc => cmd.args(["--rpc", &format!("{}/rpc", sandbox.url)]),
        };
        match &self.target {
            // The URL from the environment, as an anchor keeps a password off the command line.
            Target::Postgres(url) => cmd.env("DATABASE_URL", url),
            Target::Sqlite(p) => cmd.arg("--db").arg(p),
        };
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::from(append(&self.out)))
            .stderr(Stdio::from(append(&self.err)))
            .spawn()
            .expect("start airgap-relay watch");
        self.child = Some(child);
    }

    fn sigkill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
            self.kills += 1;
        }
    }

    /// SIGTERM: the watcher finishes its transaction and exits 0.
    fn sigterm(&mut self) {
        let mut c = self.child.take().expect("a running watcher");
        let st = std::process::Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status()
            .unwrap();
        assert!(st.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = c.try_wait().unwrap() {
                assert_eq!(status.code(), Some(0), "{}: {}", self.name, self.stderr());
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not stop on SIGTERM",
                self.name
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.err).unwrap_or_default()
    }

    /// The ids printed with `--json`, over every run.
    fn printed_ids(&self) -> Vec<i64> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.ends_with('}'))
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter_map(|v| v["id"].as_i64())
            .collect()
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Wait until the watcher's database holds `n` rows (or fail, naming what it said).
fn wait_for_rows(w: &Watcher, n: usize, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let have = rows(&w.target).len();
        if have >= n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{}: {have} rows of {n} after {within:?}; stderr:\n{}",
            w.name,
            w.stderr()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn assert_rows_are(w: &Watcher, want: &BTreeMap<(String, u64), Value>) {
    let got = deposit_rows(&w.target);
    let missing: Vec<_> = want.keys().filter(|k| !got.contains_key(*k)).collect();
    let extra: Vec<_> = got.keys().filter(|k| !want.contains_key(*k)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{}: missing {missing:?}, extra {extra:?}",
        w.name
    );
    for (k, v) in want {
        assert_eq!(&got[k], v, "{}: row {k:?}", w.name);
    }
    // With --json each recorded row is printed by the run that recorded it, never twice (a run
    // killed between its commit and its print prints nothing of that batch).
    let ids = w.printed_ids();
    let distinct: BTreeSet<_> = ids.iter().collect();
    assert_eq!(ids.len(), distinct.len(), "{}: a row printed twice", w.name);
}

fn pg_or_sqlite(dir: &TestDir, name: &str, pg: bool) -> Target {
    if pg {
        airgap_relay::db::testing::pg_database()
            .unwrap_or_else(|| Target::Sqlite(dir.join(&format!("{name}.db"))))
    } else {
        Target::Sqlite(dir.join(&format!("{name}.db")))
    }
}

/// The kill test: redemptions of every kind while each watcher is SIGKILLed at random
/// moments, at least `AIRGAP_WATCH_KILLS` times, then exactly the rows the SDK's view implies.
#[test]
fn killed_at_random_moments_every_credit_is_recorded_once() {
    let payments = env_num("AIRGAP_WATCH_PAYMENTS", 500);
    let senders = env_num("AIRGAP_WATCH_SENDERS", 20);
    let min_kills = env_num("AIRGAP_WATCH_KILLS", 10) as u32;
    let sandbox = Sandbox::start(&["--close-every", "150ms", "--stream-timeout", "5s"]);
    let dir = TestDir::new();
    let a = setup(&sandbox, &dir, senders);
    let mut watchers = vec![
        Watcher::new(
            "sqlite-horizon",
            &dir,
            pg_or_sqlite(&dir, "sh", false),
            Via::Horizon,
            &a,
            &sandbox,
        ),
        Watcher::new(
            "postgres-horizon",
            &dir,
            pg_or_sqlite(&dir, "ph", true),
            Via::Horizon,
            &a,
            &sandbox,
        ),
        Watcher::new(
            "sqlite-rpc",
            &dir,
            pg_or_sqlite(&dir, "sr", false),
            Via::Rpc,
            &a,
            &sandbox,
        ),
        Watcher::new(
            "postgres-rpc",
            &dir,
            pg_or_sqlite(&dir, "pr", true),
            Via::Rpc,
            &a,
            &sandbox,
        ),
        // Horizon for the first half of its kills, then RPC on the same database.
        Watcher::new(
            "switching",
            &dir,
            pg_or_sqlite(&dir, "sw", false),
            Via::Horizon,
            &a,
            &sandbox,
        ),
    ];
    // AIRGAP_WATCH_ONLY=sqlite-horizon,… runs only those (to look at one closely).
    if let Ok(only) = std::env::var("AIRGAP_WATCH_ONLY") {
        watchers.retain(|w| only.split(',').any(|n| n == w.name));
    }
    for w in &mut watchers {
        w.start(&sandbox);
    }
    let mut pay = python()
        .arg("tests/watch/scenario.py")
        .args(["pay", &sandbox.url])
        .arg(&a.state)
        .args(["--payments", &payments.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("scenario.py pay");
    let mut rng = rand::thread_rng();
    let started = Instant::now();
    let mut paying = true;
    while paying || watchers.iter().any(|w| w.kills < min_kills) {
        std::thread::sleep(Duration::from_millis(rng.gen_range(40..250)));
        let i = rng.gen_range(0..watchers.len());
        let w = &mut watchers[i];
        w.sigkill();
        if w.name == "switching" && w.kills == min_kills / 2 {
            w.via = Via::Rpc;
        }
        w.start(&sandbox);
        if paying && pay.try_wait().unwrap().is_some() {
            paying = false;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "the payments took too long"
        );
    }
    let out = pay.wait_with_output().unwrap();
    assert!(out.status.success(), "scenario.py pay: {}", show(&out));
    let want = expected(&sandbox, &a);
    assert!(
        want.len() as u64 >= payments,
        "the scenario made {} credits",
        want.len()
    );
    for w in &mut watchers {
        wait_for_rows(w, want.len(), Duration::from_secs(180));
        w.sigterm();
        assert_rows_are(w, &want);
        eprintln!("{}: {} rows, {} kills", w.name, want.len(), w.kills);
    }
}

/// A small scenario and one watcher's arguments, for the tests below.
fn small(extra_sandbox: &[&str]) -> (Sandbox, TestDir, Accounts) {
    let mut args = vec!["--close-every", "100ms"];
    args.extend_from_slice(extra_sandbox);
    let sandbox = Sandbox::start(&args);
    let dir = TestDir::new();
    let a = setup(&sandbox, &dir, 2);
    (sandbox, dir, a)
}

fn pay_one(sandbox: &Sandbox, a: &Accounts, memo: &str) -> (String, u32) {
    let v = scenario("payone", sandbox, &a.state, &["--memo-text", memo]);
    (
        v["hash"].as_str().unwrap().to_string(),
        v["ledger"].as_u64().unwrap() as u32,
    )
}

fn latest_ledger(sandbox: &Sandbox) -> u32 {
    let o = run_python(
        python().args([
            "-c",
            "import json,sys,urllib.request;print(json.load(urllib.request.urlopen(sys.argv[1]))['history_latest_ledger'])",
            &sandbox.url,
        ]),
        None,
    );
    String::from_utf8_lossy(&o.stdout)
        .trim()
        .parse()
        .expect("a ledger")
}

fn stored_cursor(target: &Target, account: &str) -> Option<airgap_relay::db::Cursor> {
    Db::open(target)
        .unwrap()
        .cursor(account, "payments")
        .unwrap()
}

fn wait_until(what: &str, within: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !f() {
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A watcher that runs until it exits by itself; its exit code.
fn run_to_exit(w: &mut Watcher, sandbox: &Sandbox) -> i32 {
    w.start(sandbox);
    let mut c = w.child.take().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(st) = c.try_wait().unwrap() {
            return st.code().expect("an exit code");
        }
        if Instant::now() > deadline {
            let _ = c.kill();
            panic!("{} did not exit: {}", w.name, w.stderr());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Horizon silently starts a stream whose cursor is older than its history at the oldest ledger
/// it has; the watcher looks itself: exit 1, nothing recorded, how many ledgers are missing and
/// what to do. With --accept-gap the gap is a row of its own and the watcher goes on.
#[test]
fn a_cursor_older_than_the_history_is_refused_then_recorded_as_a_gap() {
    let (sandbox, dir, a) = small(&["--retain-ledgers", "5"]);
    for via in [Via::Horizon, Via::Rpc] {
        let name = format!("gap-{via:?}");
        let target = Target::Sqlite(dir.join(&format!("{name}.db")));
        let mut w = Watcher::new(&name, &dir, target.clone(), via, &a, &sandbox);
        w.args.retain(|x| x != "oldest");
        w.args.retain(|x| x != "--from");
        w.start(&sandbox);
        wait_until("the first cursor", Duration::from_secs(20), || {
            stored_cursor(&target, &a.base).is_some()
        });
        w.sigterm();
        let stood = stored_cursor(&target, &a.base).unwrap().ledger;
        // A payment the watcher will never see, and the history moving past it.
        let (_, paid_in) = pay_one(&sandbox, &a, "missed");
        wait_until(
            "the history to move past the cursor",
            Duration::from_secs(20),
            || latest_ledger(&sandbox) > paid_in.max(stood) + 8,
        );
        assert_eq!(run_to_exit(&mut w, &sandbox), 1, "{}", w.stderr());
        let err = w.stderr();
        assert!(err.contains("ledgers) can no longer be read"), "{err}");
        assert!(err.contains("--accept-gap"), "{err}");
        assert!(rows(&target).is_empty(), "nothing recorded");
        assert_eq!(stored_cursor(&target, &a.base).unwrap().ledger, stood);

        w.args.push("--accept-gap".into());
        w.start(&sandbox);
        wait_until("the gap rows", Duration::from_secs(20), || {
            rows(&target).len() >= 2
        });
        w.sigterm();
        let mut db = Db::open(&target).unwrap();
        let gaps: Vec<_> = db
            .deposits(0, 100)
            .unwrap()
            .into_iter()
            .filter_map(|r| match r.entry {
                Entry::Gap(g) => Some(g),
                Entry::Deposit(_) => None,
            })
            .collect();
        let base_gap = gaps
            .iter()
            .find(|g| g.account == a.base)
            .expect("the base's gap");
        assert_eq!(base_gap.from_ledger, stood + 1, "{gaps:?}");
        assert!(
            base_gap.to_ledger >= paid_in,
            "the missed payment is inside the gap: {gaps:?}"
        );
        assert!(w.stderr().contains("recording the gap and going on"));
    }
}

/// Two watchers on one PostgreSQL database, both running all along: each deposit is one row,
/// printed by exactly one of them.
#[test]
fn two_watchers_on_one_postgres_database_record_each_deposit_once() {
    let Some(target) = airgap_relay::db::testing::pg_database() else {
        return;
    };
    let sandbox = Sandbox::start(&["--close-every", "100ms"]);
    let dir = TestDir::new();
    let a = setup(&sandbox, &dir, 4);
    let mut one = Watcher::new("one", &dir, target.clone(), Via::Horizon, &a, &sandbox);
    let mut two = Watcher::new("two", &dir, target.clone(), Via::Horizon, &a, &sandbox);
    one.start(&sandbox);
    two.start(&sandbox);
    scenario("pay", &sandbox, &a.state, &["--payments", "40"]);
    let want = expected(&sandbox, &a);
    wait_for_rows(&one, want.len(), Duration::from_secs(60));
    // Let both catch up fully before they stop.
    std::thread::sleep(Duration::from_secs(2));
    one.sigterm();
    two.sigterm();
    let got = deposit_rows(&target);
    assert_eq!(got.len(), want.len());
    for (k, v) in &want {
        assert_eq!(&got[k], v);
    }
    let mut printed = one.printed_ids();
    printed.extend(two.printed_ids());
    let distinct: BTreeSet<_> = printed.iter().collect();
    assert_eq!(
        printed.len(),
        distinct.len(),
        "a deposit printed by both watchers"
    );
    assert_eq!(
        printed.len(),
        want.len(),
        "every deposit printed by one watcher"
    );
}

/// The server closes quiet streams (here after 1 s; Horizon: 55 s) and sends nothing between
/// events: the watcher reconnects without a word and misses nothing, and its cursor follows
/// the ledger while nothing comes (so a restart does not start far back).
#[test]
fn quiet_streams_closed_by_the_server_lose_nothing() {
    let (sandbox, dir, a) = small(&["--stream-timeout", "1s"]);
    let target = Target::Sqlite(dir.join("quiet.db"));
    let mut w = Watcher::new("quiet", &dir, target.clone(), Via::Horizon, &a, &sandbox);
    w.start(&sandbox);
    std::thread::sleep(Duration::from_millis(3500));
    let before = stored_cursor(&target, &a.base).unwrap().ledger;
    let (hash, _) = pay_one(&sandbox, &a, "after a quiet while");
    std::thread::sleep(Duration::from_millis(3500));
    let (hash2, _) = pay_one(&sandbox, &a, "and another");
    wait_until("both payments", Duration::from_secs(20), || {
        let got = deposit_rows(&target);
        got.contains_key(&(hash.clone(), 0)) && got.contains_key(&(hash2.clone(), 0))
    });
    let after_quiet = stored_cursor(&target, &a.base).unwrap().ledger;
    std::thread::sleep(Duration::from_millis(2500));
    let later = stored_cursor(&target, &a.base).unwrap().ledger;
    w.sigterm();
    assert!(after_quiet > before, "the cursor moved with the ledger");
    assert!(
        later > after_quiet,
        "the cursor follows quiet ledgers: {after_quiet} → {later}"
    );
    let err = w.stderr();
    assert!(
        !err.contains("failed"),
        "reconnecting after a goodbye is routine: {err}"
    );
    let want = expected(&sandbox, &a);
    assert_rows_are(&w, &want);
}

/// A restart resumes from the stored cursor, never from now, whatever --from says.
#[test]
fn a_restart_resumes_from_the_stored_cursor() {
    let (sandbox, dir, a) = small(&[]);
    let target = Target::Sqlite(dir.join("restart.db"));
    let mut w = Watcher::new("restart", &dir, target.clone(), Via::Horizon, &a, &sandbox);
    w.args.retain(|x| x != "oldest" && x != "--from");
    w.args.extend(["--from".to_string(), "now".to_string()]);
    w.start(&sandbox);
    wait_until("the first cursor", Duration::from_secs(20), || {
        stored_cursor(&target, &a.base).is_some()
    });
    let (first, _) = pay_one(&sandbox, &a, "while running");
    wait_until("the first payment", Duration::from_secs(20), || {
        deposit_rows(&target).contains_key(&(first.clone(), 0))
    });
    w.sigterm();
    // Paid while no watcher runs.
    let (missed, _) = pay_one(&sandbox, &a, "while stopped");
    let (missed2, _) = pay_one(&sandbox, &a, "while stopped 2");
    w.start(&sandbox);
    wait_until(
        "the payments made while stopped",
        Duration::from_secs(20),
        || {
            let got = deposit_rows(&target);
            got.contains_key(&(missed.clone(), 0)) && got.contains_key(&(missed2.clone(), 0))
        },
    );
    w.sigterm();
    let got = deposit_rows(&target);
    assert_eq!(got[&(missed.clone(), 0)]["customer"], "while stopped");
    assert_eq!(got.len(), 3, "{got:?}");
}

/// A transaction that fails (here a trigger refuses one memo, as a database that fails
/// mid-run) is tried again and never skipped: the cursor stays before the row that could not
/// be recorded, nothing after it is recorded before it, and once the database takes it again
/// every row is there.
#[test]
fn a_failing_database_never_lets_the_cursor_pass_an_unrecorded_row() {
    let (sandbox, dir, a) = small(&[]);
    let mut targets = vec![Target::Sqlite(dir.join("fail.db"))];
    targets.extend(airgap_relay::db::testing::pg_database());
    for target in targets {
        let name = if matches!(target, Target::Sqlite(_)) {
            "fail-sqlite"
        } else {
            "fail-postgres"
        };
        let mut w = Watcher::new(name, &dir, target.clone(), Via::Horizon, &a, &sandbox);
        w.args.retain(|x| x != "oldest" && x != "--from");
        w.start(&sandbox);
        wait_until("the first cursor", Duration::from_secs(20), || {
            stored_cursor(&target, &a.base).is_some()
        });
        poison(&target, true);
        let (bad, bad_ledger) = pay_one(&sandbox, &a, "poison");
        let (after, _) = pay_one(&sandbox, &a, "after the poison");
        wait_until("the failure said", Duration::from_secs(20), || {
            w.stderr().contains("recording failed")
        });
        std::thread::sleep(Duration::from_secs(1));
        let c = stored_cursor(&target, &a.base).unwrap();
        assert!(
            c.ledger < bad_ledger,
            "the cursor passed the unrecorded row: {c:?}"
        );
        assert!(deposit_rows(&target).is_empty(), "nothing after it either");
        poison(&target, false);
        wait_until("both rows", Duration::from_secs(30), || {
            let got = deposit_rows(&target);
            got.contains_key(&(bad.clone(), 0)) && got.contains_key(&(after.clone(), 0))
        });
        w.sigterm();
        assert!(
            w.stderr().contains("recording works again"),
            "{}",
            w.stderr()
        );
    }
}

/// A trigger that refuses any deposit whose customer is `poison` (or drop it).
fn poison(target: &Target, on: bool) {
    match target {
        Target::Sqlite(p) => {
            let c = rusqlite::Connection::open(p).unwrap();
            c.busy_timeout(Duration::from_secs(10)).unwrap();
            c.execute_batch(if on {
                "CREATE TRIGGER poison BEFORE INSERT ON stellar_deposits WHEN NEW.customer = 'poison'
                 BEGIN SELECT RAISE(ABORT, 'poisoned'); END;"
            } else {
                "DROP TRIGGER poison;"
            })
            .unwrap();
        }
        Target::Postgres(url) => {
            let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
            c.batch_execute(if on {
                "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN IF NEW.customer = 'poison' THEN RAISE EXCEPTION 'poisoned'; END IF;
                 RETURN NEW; END $$;
                 CREATE TRIGGER poison BEFORE INSERT ON stellar_deposits
                 FOR EACH ROW EXECUTE FUNCTION poison();"
            } else {
                "DROP TRIGGER poison ON stellar_deposits; DROP FUNCTION poison();"
            })
            .unwrap();
        }
    }
}
