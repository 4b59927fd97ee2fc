//! `airgap-relay watch`: every credit to the watched accounts recorded exactly once.
//!
//! Readers ([`horizon`]: one payments stream per account; [`rpc`]: `getEvents` for all of them)
//! turn what the server says into [`Msg`]s: rows and where each account's cursor goes next, in
//! order. This module's loop records them, each group of messages in **one database
//! transaction** ([`Db::record_batch`]: rows and cursors together, the unique key absorbing
//! what was seen before, a cursor never moving backwards). A SIGKILL at any instant leaves the
//! database before or after a transaction; the restart reads again from the stored cursor. A
//! failed transaction is tried again, never skipped: a cursor never passes a row not recorded.
//! SIGINT and SIGTERM are seen between transactions.
//!
//! Before anything is recorded, each stored cursor is compared with the oldest ledger the
//! server holds: a cursor older than that is a gap ([`WatchError::Gap`]), refused unless the
//! operator accepts it (`--accept-gap`: a row of its own, [`Db::record_gap`]).
pub mod classify;
pub mod horizon;
pub mod rpc;
pub mod sse;

use crate::db::{Cursor, Db, DbError, Deposit, Gap, Recorded, Source, Target};
use crate::online::backoff;
use crate::progress::say;
use classify::Rules;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The name of every watched stream in `stellar_cursor`.
pub const STREAM: &str = "payments";

/// How often, at most, a failing loop says it is still failing.
pub const SAY_EVERY: Duration = Duration::from_secs(3);

/// The most rows recorded in one transaction.
const MAX_ROWS: usize = 2_000;

/// Where a stream with no cursor starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum From {
    /// After the latest ledger the server has.
    Now,
    /// At the oldest ledger the server holds.
    Oldest,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub accounts: Vec<airgap::account::AccountId>,
    pub rules: Rules,
    /// The accepted assets (their Stellar Asset Contracts' `burn` events, over RPC).
    pub assets: Vec<airgap::asset::Asset>,
    pub from: From,
    pub accept_gap: bool,
    /// `--network`: refuse a server of another network.
    pub network: Option<airgap::network::Network>,
}

/// Which server to read.
#[derive(Debug, Clone)]
pub enum Backend {
    Horizon(String),
    Rpc(String),
}

/// Watch until `stop` is set (Ok) or something the operator must see happens (Err): a gap
/// without `--accept-gap`, a server that is not what it should be, a row the tables refuse.
/// `out` sees each row as it is recorded (once).
pub fn run(
    backend: &Backend,
    target: &Target,
    opts: &Options,
    stop: Arc<AtomicBool>,
    mut out: impl FnMut(&Recorded),
) -> Result<(), WatchError> {
    let mut db = Db::open(target)?;
    let (tx, rx) = std::sync::mpsc::channel();
    let server = match backend {
        Backend::Horizon(url) => {
            let h =
                crate::horizon::Horizon::new(url).map_err(|e| WatchError::Server(e.to_string()))?;
            let (root, _) = patiently("Horizon", &stop, || {
                h.root(crate::horizon::GET_REQUEST_TIMEOUT)
            })?;
            check_network(opts, &root.network_passphrase, url)?;
            let edges = patiently("Horizon", &stop, || horizon::edges(&h))?;
            let starts = starts(&mut db, opts, Source::Horizon, url, edges, &mut out)?;
            let rules = Arc::new(opts.rules.clone());
            for start in starts {
                let (url, tx, stop, rules) = (
                    url.clone(),
                    tx.clone(),
                    Arc::clone(&stop),
                    Arc::clone(&rules),
                );
                let account = start.account.clone();
                std::thread::Builder::new()
                    .name(format!("watch {account}"))
                    .spawn(move || horizon::reader(url, account, start, rules, tx, stop))
                    .map_err(|e| WatchError::Server(format!("cannot start a reader: {e}")))?;
            }
            url.clone()
        }
        Backend::Rpc(url) => rpc::start(url, &mut db, opts, &stop, tx.clone(), &mut out)?,
    };
    drop(tx);
    record_loop(&mut db, target, opts, &server, rx, &stop, out)
}

/// Refuse a server of another network than `--network`.
pub fn check_network(opts: &Options, served: &str, url: &str) -> Result<(), WatchError> {
    match &opts.network {
        Some(n) if n.passphrase() != served => Err(WatchError::NetworkMismatch {
            given: n.to_string(),
            served: airgap::network::Network::from_passphrase(served).to_string(),
            url: url.to_string(),
        }),
        _ => Ok(()),
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WatchError {
    /// Ledgers the stored cursor needs are no longer held by the server.
    #[error("{account} stands at ledger {stood_at}, but {server} keeps ledgers from {elder} on: ledgers {from}..={to} ({missing} ledgers) can no longer be read there")]
    Gap {
        account: String,
        server: String,
        stood_at: u32,
        elder: u32,
        from: u32,
        to: u32,
        missing: u32,
    },
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("--network says {given}, but the server at {url} serves {served}")]
    NetworkMismatch {
        given: String,
        served: String,
        url: String,
    },
    /// The server answered something its API does not (a record that cannot be read).
    #[error("{0}")]
    Server(String),
    /// Stopped (a signal) before the server could be reached.
    #[error("stopped before the server answered")]
    Stopped,
}

/// What readers tell the recording loop, in order.
#[derive(Debug)]
pub enum Msg {
    /// Rows (possibly none) and where the accounts' cursors go once they are recorded.
    Batch {
        cursors: Vec<Cursor>,
        rows: Vec<Deposit>,
    },
    /// The server no longer holds `gap`'s ledgers; the stream goes on at `resume`.
    Gap {
        gap: Gap,
        stood_at: u32,
        elder: u32,
        resume: Cursor,
    },
    /// The reader cannot go on.
    Fatal(String),
}

/// The oldest and latest ledgers a server holds.
#[derive(Debug, Clone, Copy)]
pub struct Edges {
    pub oldest: u32,
    pub latest: u32,
}

/// Where each account starts: its stored cursor, or `--from` for one that has none. Refuses
/// (or, with `--accept-gap`, records) a cursor older than the server's history. Nothing is
/// recorded before every account has been checked.
pub fn starts(
    db: &mut Db,
    opts: &Options,
    source: Source,
    server: &str,
    edges: Edges,
    mut out: impl FnMut(&Recorded),
) -> Result<Vec<Cursor>, WatchError> {
    let mut stored = Vec::new();
    for a in &opts.accounts {
        stored.push(db.cursor(&a.to_string(), STREAM)?);
    }
    let mut gaps = Vec::new();
    for (a, s) in opts.accounts.iter().zip(&stored) {
        if let Some(c) = s {
            if let Some(gap) = gap_of(&a.to_string(), c.ledger, edges.oldest) {
                if !opts.accept_gap {
                    return Err(gap_error(&gap, c.ledger, edges.oldest, server));
                }
                gaps.push(gap);
            }
        }
    }
    let mut out_cursors = Vec::new();
    for (a, s) in opts.accounts.iter().zip(stored) {
        let account = a.to_string();
        let cursor = match s {
            Some(c) => match gaps.iter().find(|g| g.account == account) {
                Some(gap) => {
                    let resume = position(&account, source, edges.oldest.saturating_sub(1));
                    say(format!(
                        "{}; recording the gap and going on (--accept-gap)",
                        gap_error(gap, c.ledger, edges.oldest, server)
                    ));
                    if let Some(r) = db.record_gap(&resume, gap)? {
                        out(&r);
                    }
                    resume
                }
                None => c,
            },
            None => {
                let through = match opts.from {
                    From::Now => edges.latest,
                    From::Oldest => edges.oldest.saturating_sub(1),
                };
                let c = position(&account, source, through);
                let batch = db.record_batch(std::slice::from_ref(&c), &[])?;
                batch.held.into_iter().next().unwrap_or(c)
            }
        };
        out_cursors.push(cursor);
    }
    Ok(out_cursors)
}

/// A cursor of `source` for a stream read through `ledger` (nothing after it).
pub fn position(account: &str, source: Source, ledger: u32) -> Cursor {
    Cursor {
        account: account.to_string(),
        stream: STREAM.to_string(),
        source,
        cursor: match source {
            Source::Horizon => classify::ledger_start(ledger.saturating_add(1)),
            Source::Rpc => rpc::ledger_cursor(ledger.saturating_add(1)),
        },
        ledger,
    }
}

/// The ledgers a stream read through `through` misses when the server holds `oldest` on.
pub fn gap_of(account: &str, through: u32, oldest: u32) -> Option<Gap> {
    (through.saturating_add(1) < oldest).then(|| Gap {
        account: account.to_string(),
        from_ledger: through + 1,
        to_ledger: oldest - 1,
    })
}

pub fn gap_error(gap: &Gap, stood_at: u32, elder: u32, server: &str) -> WatchError {
    WatchError::Gap {
        account: gap.account.clone(),
        server: server.to_string(),
        stood_at,
        elder,
        from: gap.from_ledger,
        to: gap.to_ledger,
        missing: gap.to_ledger - gap.from_ledger + 1,
    }
}

/// Record what the readers send until `stop` is set (Ok) or a reader fails (Err). Each group
/// of messages waiting is one transaction; a failed transaction is tried again (with a fresh
/// connection) until it commits or `stop` is set, and nothing after it is recorded before it.
pub fn record_loop(
    db: &mut Db,
    target: &Target,
    opts: &Options,
    server: &str,
    rx: Receiver<Msg>,
    stop: &AtomicBool,
    mut out: impl FnMut(&Recorded),
) -> Result<(), WatchError> {
    let mut waiting: Option<Msg> = None;
    loop {
        if stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        let first = match waiting.take() {
            Some(m) => m,
            None => match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout) => continue,
                // The readers end when they see the stop too.
                Err(RecvTimeoutError::Disconnected) if stop.load(Ordering::SeqCst) => return Ok(()),
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(WatchError::Server("every reader stopped".into()))
                }
            },
        };
        match first {
            Msg::Fatal(why) => return Err(WatchError::Server(why)),
            Msg::Gap {
                gap,
                stood_at,
                elder,
                resume,
            } => {
                if !opts.accept_gap {
                    return Err(gap_error(&gap, stood_at, elder, server));
                }
                say(format!(
                    "{}; recording the gap and going on (--accept-gap)",
                    gap_error(&gap, stood_at, elder, server)
                ));
                let recorded = with_patience(db, target, stop, |db| db.record_gap(&resume, &gap))?;
                if let Some(Some(r)) = recorded {
                    out(&r);
                }
            }
            Msg::Batch { cursors, rows } => {
                let mut by_account: BTreeMap<String, Cursor> = BTreeMap::new();
                let mut all_rows = rows;
                for c in cursors {
                    by_account.insert(c.account.clone(), c);
                }
                // Everything already waiting joins this transaction, up to a gap or a failure.
                while all_rows.len() < MAX_ROWS {
                    match rx.try_recv() {
                        Ok(Msg::Batch { cursors, rows }) => {
                            all_rows.extend(rows);
                            for c in cursors {
                                by_account.insert(c.account.clone(), c);
                            }
                        }
                        Ok(other) => {
                            waiting = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                let cursors: Vec<Cursor> = by_account.into_values().collect();
                let batch =
                    with_patience(db, target, stop, |db| db.record_batch(&cursors, &all_rows))?;
                match batch {
                    Some(b) => b.new.iter().for_each(&mut out),
                    // Stopped while the database was failing: nothing of it was recorded, and
                    // the restart reads it again.
                    None => return Ok(()),
                }
            }
        }
    }
}

/// Run one transaction until it commits: on failure, say so (when it repeats, then every few
/// seconds), wait with backoff, reconnect and try the same again. `None` when stopped first.
fn with_patience<T>(
    db: &mut Db,
    target: &Target,
    stop: &AtomicBool,
    mut f: impl FnMut(&mut Db) -> Result<T, DbError>,
) -> Result<Option<T>, WatchError> {
    let mut attempt = 0u32;
    let mut said: Option<Instant> = None;
    loop {
        match f(db) {
            Ok(v) => {
                if said.is_some() {
                    say(format!(
                        "recording works again after {attempt} failed attempts"
                    ));
                }
                return Ok(Some(v));
            }
            // A row the tables refuse is a bug of the watcher: trying again cannot help.
            Err(e @ DbError::InvalidRow(_)) => return Err(e.into()),
            Err(e) => {
                if said.is_none_or(|t| t.elapsed() >= SAY_EVERY) {
                    say(format!(
                        "recording failed ({e}); nothing of it was recorded and the cursor stays; trying again"
                    ));
                    said = Some(Instant::now());
                }
                let wait = backoff(attempt);
                attempt += 1;
                if sleep_unless_stopped(wait, stop) {
                    return Ok(None);
                }
                // A connection that broke stays broken: open a new one (if the database is
                // back). Until it is, the old one is kept and the next try fails again.
                if let Ok(fresh) = Db::open(target) {
                    *db = fresh;
                }
            }
        }
    }
}

/// Sleep `d` in short steps; true if `stop` was set meanwhile.
pub fn sleep_unless_stopped(d: Duration, stop: &AtomicBool) -> bool {
    let until = Instant::now() + d;
    while Instant::now() < until {
        if stop.load(Ordering::SeqCst) {
            return true;
        }
        std::thread::sleep((until - Instant::now()).min(Duration::from_millis(100)));
    }
    stop.load(Ordering::SeqCst)
}

/// SIGINT and SIGTERM set the returned flag (the loop finishes its transaction and returns);
/// a second one ends the process at once with status 1.
pub fn stop_on_signals() -> std::io::Result<Arc<AtomicBool>> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [SIGINT, SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(sig, 1, Arc::clone(&stop))?;
        signal_hook::flag::register(sig, Arc::clone(&stop))?;
    }
    Ok(stop)
}

/// Retry `f` (a read of the server) with backoff until it answers or `stop` is set, saying so
/// on stderr when it repeats, then every few seconds.
pub fn patiently<T, E: std::fmt::Display>(
    what: &str,
    stop: &AtomicBool,
    mut f: impl FnMut() -> Result<T, E>,
) -> Result<T, WatchError> {
    let mut attempt = 0u32;
    let mut said: Option<Instant> = None;
    loop {
        match f() {
            Ok(v) => {
                if said.is_some() {
                    say(format!("{what} answers again"));
                }
                return Ok(v);
            }
            Err(e) => {
                if attempt >= 1 && said.is_none_or(|t| t.elapsed() >= SAY_EVERY) {
                    say(format!(
                        "{e}; {} failed attempts, still trying (Ctrl-C stops)",
                        attempt + 1
                    ));
                    said = Some(Instant::now());
                }
                let wait = backoff(attempt);
                attempt += 1;
                if sleep_unless_stopped(wait, stop) {
                    return Err(WatchError::Stopped);
                }
            }
        }
    }
}

/// A recorded row as one line for people: untrusted text (a memo) escaped.
pub fn row_line(r: &Recorded) -> String {
    match &r.entry {
        crate::db::Entry::Deposit(d) => format!(
            "{} {} {} to {} from {} customer {} ({} {}:{} in ledger {})",
            d.status.as_str(),
            d.amount.to_horizon_string(),
            d.asset,
            d.account,
            d.sender,
            d.customer.as_deref().map_or("-".to_string(), |c| format!(
                "\"{}\"",
                airgap::text::escape_bytes(c.as_bytes())
            )),
            d.kind.as_str(),
            d.tx_hash,
            d.op_index,
            d.ledger
        ),
        crate::db::Entry::Gap(g) => format!(
            "gap: ledgers {}..={} of {} were never read",
            g.from_ledger, g.to_ledger, g.account
        ),
    }
}
