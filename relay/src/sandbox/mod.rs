//! `airgap-relay sandbox`: a Horizon-compatible rehearsal ledger on loopback.
//!
//! It speaks Horizon's HTTP contract (the routes a relay and the Stellar SDKs use) and applies the
//! classic operations an asset issuer needs with stellar-core's validity rules, one transaction per
//! ledger. It is not a validator: no consensus, no history archives, no Soroban, no DEX.
//!
//! Layout: this file holds the server and the routes; [`ledger`] the state and the rules;
//! [`results`] result codes; [`store`] SQLite persistence; [`json`] Horizon's JSON shapes.

pub mod json;
pub mod ledger;
pub mod results;
pub mod store;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use airgap::network::Network;
use rand::Rng;
use serde_json::Value;
use stellar_xdr::{
    FeeBumpTransactionInnerTx, Limits, ReadXdr, TransactionEnvelope, TransactionResult,
    TransactionResultResult,
};
use tiny_http::{Header, Method, Request, Response, Server};

use ledger::{Ledger, LedgerRecord, StoredTx, Verdict};
use store::{Store, StoreError};

/// Network passphrase of the sandbox (stellar-core's standalone network).
pub const PASSPHRASE: &str = airgap::network::STANDALONE;
/// Friendbot's starting balance: 10,000 XLM.
pub const FRIENDBOT_STROOPS: i64 = 10_000 * 10_000_000;
/// Horizon's default `--max-http-request-size`.
const MAX_REQUEST_BYTES: u64 = 200 * 1024;
const WORKERS: usize = 4;

pub const LONG_ABOUT: &str = "\
Run a local Horizon-compatible ledger on loopback for rehearsals and tests.

THIS IS A REHEARSAL LEDGER, NOT A VALIDATOR. It is not stellar-core: there is no consensus, no \
peer network, no history archive, and nothing it accepts exists on any real Stellar network. It \
applies create_account, payment, change_trust, set_options, allow_trust, set_trust_line_flags, \
clawback, manage_data, bump_sequence and account_merge with stellar-core's validity rules and \
answers with Horizon's JSON, so that a signing ceremony can be rehearsed end to end before the \
real one.

Network passphrase: \"Standalone Network ; February 2017\". GET /friendbot?addr=G... funds a new \
account with 10,000 XLM from the root account. Each accepted transaction closes one ledger.

--fault injects Horizon's real error answers at the given rates, e.g. --fault 504:0.2,429:0.1,503:0.1 \
(an injected 504 on submission may or may not have applied the transaction, as a real timeout).";

/// Command-line arguments of `airgap-relay sandbox`.
#[derive(Debug, clap::Args)]
pub struct SandboxArgs {
    /// Loopback address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8000")]
    pub listen: SocketAddr,
    /// SQLite file that keeps the ledger across restarts (default: in memory only).
    #[arg(long, value_name = "PATH")]
    pub state: Option<PathBuf>,
    /// Inject faults: comma-separated STATUS:RATE with STATUS in 429, 503, 504.
    #[arg(long, value_name = "SPEC")]
    pub fault: Option<FaultSpec>,
}

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("the sandbox only listens on loopback addresses, not {0}")]
    NotLoopback(SocketAddr),
    #[error("cannot listen on {addr}: {reason}")]
    Bind { addr: SocketAddr, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("invalid --fault spec: {0}")]
    FaultSpec(String),
    #[error("cannot write to stdout: {0}")]
    Io(#[from] std::io::Error),
}

/// Fault injection rates.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaultSpec {
    pub rate_504: f64,
    pub rate_429: f64,
    pub rate_503: f64,
}

impl FromStr for FaultSpec {
    type Err = SandboxError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut spec = FaultSpec::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (code, rate) = part
                .split_once(':')
                .ok_or_else(|| SandboxError::FaultSpec(format!("{part:?} is not STATUS:RATE")))?;
            let rate: f64 = rate
                .trim()
                .parse()
                .map_err(|_| SandboxError::FaultSpec(format!("bad rate in {part:?}")))?;
            if !(0.0..=1.0).contains(&rate) {
                return Err(SandboxError::FaultSpec(format!(
                    "rate in {part:?} must be between 0 and 1"
                )));
            }
            match code.trim() {
                "504" => spec.rate_504 = rate,
                "429" => spec.rate_429 = rate,
                "503" => spec.rate_503 = rate,
                other => {
                    return Err(SandboxError::FaultSpec(format!(
                        "status {other:?} is not one of 429, 503, 504"
                    )))
                }
            }
        }
        if spec.rate_504 + spec.rate_429 + spec.rate_503 > 1.0 {
            return Err(SandboxError::FaultSpec(
                "rates add up to more than 1".into(),
            ));
        }
        Ok(spec)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    None,
    Status504,
    Status429,
    Status503,
}

impl FaultSpec {
    fn roll(&self) -> Fault {
        let total = self.rate_504 + self.rate_429 + self.rate_503;
        if total <= 0.0 {
            return Fault::None;
        }
        let x: f64 = rand::thread_rng().gen();
        if x < self.rate_504 {
            Fault::Status504
        } else if x < self.rate_504 + self.rate_429 {
            Fault::Status429
        } else if x < total {
            Fault::Status503
        } else {
            Fault::None
        }
    }
}

/// Configuration of an in-process sandbox.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    pub listen: SocketAddr,
    pub state: Option<PathBuf>,
    pub faults: FaultSpec,
}

impl SandboxConfig {
    /// A sandbox on a free loopback port, in memory, without faults.
    #[allow(dead_code)] // used by tests and by in-process callers such as `rehearse`
    pub fn ephemeral() -> SandboxConfig {
        SandboxConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            state: None,
            faults: FaultSpec::default(),
        }
    }
}

/// A running sandbox.
pub struct SandboxHandle {
    addr: SocketAddr,
    server: Arc<Server>,
    stop: Arc<AtomicBool>,
    workers: Vec<JoinHandle<()>>,
}

impl SandboxHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Horizon URL of the sandbox (`http://127.0.0.1:PORT`).
    #[allow(dead_code)] // used by tests and by in-process callers such as `rehearse`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stop serving and wait for the workers (requests in flight are finished first).
    #[allow(dead_code)] // used by tests and by in-process callers such as `rehearse`
    pub fn shutdown(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for _ in 0..self.workers.len() {
            self.server.unblock();
        }
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }

    /// Serve until the process ends.
    pub fn wait(mut self) {
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

struct Inner {
    ledger: Ledger,
    store: Store,
    txs: HashMap<[u8; 32], StoredTx>,
    ledgers: Vec<LedgerRecord>,
}

struct Shared {
    base: String,
    faults: FaultSpec,
    inner: Mutex<Inner>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Nothing panics while holding the lock; if it ever did, the state was not committed.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `airgap-relay sandbox`: serve until killed.
pub fn run(args: SandboxArgs) -> Result<(), SandboxError> {
    let handle = start(SandboxConfig {
        listen: args.listen,
        state: args.state,
        faults: args.fault.unwrap_or_default(),
    })?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on http://{}", handle.addr())?;
    out.flush()?;
    drop(out);
    eprintln!(
        "airgap-relay sandbox: rehearsal ledger, NOT a validator; network passphrase {PASSPHRASE:?}"
    );
    handle.wait();
    Ok(())
}

/// Start a sandbox in this process.
pub fn start(config: SandboxConfig) -> Result<SandboxHandle, SandboxError> {
    if !config.listen.ip().is_loopback() {
        return Err(SandboxError::NotLoopback(config.listen));
    }
    let mut store = Store::open(config.state.as_deref())?;
    let loaded = store.load_or_init(PASSPHRASE, now())?;
    let server = Server::http(config.listen).map_err(|e| SandboxError::Bind {
        addr: config.listen,
        reason: e.to_string(),
    })?;
    let addr = server.server_addr().to_ip().ok_or(SandboxError::Bind {
        addr: config.listen,
        reason: "not an IP listener".into(),
    })?;
    let shared = Arc::new(Shared {
        base: format!("http://{addr}"),
        faults: config.faults,
        inner: Mutex::new(Inner {
            ledger: loaded.ledger,
            store,
            txs: loaded.txs,
            ledgers: loaded.ledgers,
        }),
    });
    let server = Arc::new(server);
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::with_capacity(WORKERS);
    for _ in 0..WORKERS {
        let server = Arc::clone(&server);
        let stop = Arc::clone(&stop);
        let shared = Arc::clone(&shared);
        workers.push(std::thread::spawn(move || loop {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            match server.recv_timeout(Duration::from_millis(250)) {
                Ok(Some(req)) => handle(&shared, req),
                Ok(None) => {}
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }));
    }
    Ok(SandboxHandle {
        addr,
        server,
        stop,
        workers,
    })
}

enum Body {
    Hal(Value),
    Problem(Value),
    Text(&'static str),
    Empty,
}

struct Reply {
    status: u16,
    body: Body,
    headers: Vec<(&'static str, String)>,
}

impl Reply {
    fn hal(value: Value) -> Reply {
        Reply {
            status: 200,
            body: Body::Hal(value),
            headers: Vec::new(),
        }
    }

    fn hal_status(status: u16, value: Value) -> Reply {
        Reply {
            status,
            body: Body::Hal(value),
            headers: Vec::new(),
        }
    }

    /// A problem; its status is the one inside the problem.
    fn problem(value: Value) -> Reply {
        let status = value
            .get("status")
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or(500);
        Reply {
            status,
            body: Body::Problem(value),
            headers: Vec::new(),
        }
    }

    fn with_header(mut self, name: &'static str, value: String) -> Reply {
        self.headers.push((name, value));
        self
    }
}

fn header(name: &str, value: &str) -> Option<Header> {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).ok()
}

fn handle(shared: &Shared, mut req: Request) {
    let reply = route(shared, &mut req);
    let (content_type, bytes) = match &reply.body {
        Body::Hal(v) => (
            Some("application/hal+json; charset=utf-8"),
            serde_json::to_vec_pretty(v).unwrap_or_default(),
        ),
        Body::Problem(v) => (
            Some("application/problem+json; charset=utf-8"),
            serde_json::to_vec_pretty(v).unwrap_or_default(),
        ),
        Body::Text(t) => (Some("text/plain; charset=utf-8"), t.as_bytes().to_vec()),
        Body::Empty => (None, Vec::new()),
    };
    let mut response = Response::from_data(bytes).with_status_code(reply.status);
    let mut headers = vec![
        ("Cache-Control", "no-cache, no-store, max-age=0".to_string()),
        ("Access-Control-Allow-Origin", "*".to_string()),
        (
            "Access-Control-Expose-Headers",
            "Date, Latest-Ledger".to_string(),
        ),
    ];
    if let Some(ct) = content_type {
        headers.push(("Content-Type", ct.to_string()));
    }
    if matches!(reply.body, Body::Hal(_)) {
        headers.push(("Content-Disposition", "inline".to_string()));
    }
    headers.extend(reply.headers);
    for (name, value) in headers {
        if let Some(h) = header(name, &value) {
            response.add_header(h);
        }
    }
    let _ = req.respond(response);
}

fn query_param(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn route(shared: &Shared, req: &mut Request) -> Reply {
    let url = req.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((url.as_str(), ""));
    let trimmed = path.trim_end_matches('/');
    let path = if trimmed.is_empty() { "/" } else { trimmed };
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let method = req.method().clone();

    if segments.first() == Some(&"friendbot") && segments.len() == 1 {
        return match method {
            Method::Get | Method::Post => friendbot(shared, query),
            _ => Reply::problem(json::not_found()),
        };
    }

    let fault = shared.faults.roll();
    match (&method, segments.as_slice()) {
        (Method::Post, ["transactions"]) => submit(shared, req, query, fault, false),
        (Method::Post, ["transactions_async"]) => submit(shared, req, query, fault, true),
        (Method::Get, _) if fault != Fault::None => get_fault(fault),
        (Method::Get, [""]) => {
            let inner = shared.lock();
            Reply::hal(json::root(&shared.base, &inner.ledger.header, PASSPHRASE))
        }
        (Method::Get, ["accounts", id]) => get_account(shared, id),
        (Method::Get, ["transactions", hash]) => get_transaction(shared, hash),
        (Method::Get, ["fee_stats"]) => {
            let inner = shared.lock();
            Reply::hal(json::fee_stats(&inner.ledger.header))
        }
        (Method::Get, ["ledgers"]) => get_ledgers(shared, query),
        (Method::Get, ["ledgers", seq]) => get_ledger(shared, seq),
        _ => Reply::problem(json::not_found()),
    }
}

fn rate_limit_reply() -> Reply {
    Reply::problem(json::rate_limited())
        .with_header("X-Ratelimit-Limit", "101".into())
        .with_header("X-Ratelimit-Remaining", "0".into())
        .with_header("X-Ratelimit-Reset", "1".into())
        .with_header("Retry-After", "1".into())
}

fn plain_503() -> Reply {
    Reply {
        status: 503,
        body: Body::Text("Server capacity exceeded."),
        headers: Vec::new(),
    }
}

fn bare_504() -> Reply {
    Reply {
        status: 504,
        body: Body::Empty,
        headers: Vec::new(),
    }
}

fn get_fault(fault: Fault) -> Reply {
    let coin: bool = rand::thread_rng().gen();
    match fault {
        Fault::Status429 => rate_limit_reply(),
        Fault::Status503 if coin => Reply::problem(json::stale_history()),
        Fault::Status503 => plain_503(),
        Fault::Status504 if coin => Reply::problem(json::legacy_timeout()),
        _ => bare_504(),
    }
}

fn get_account(shared: &Shared, id: &str) -> Reply {
    let Ok(key) = stellar_strkey::ed25519::PublicKey::from_string(id) else {
        return Reply::problem(json::bad_request(
            "account_id",
            "Account ID must start with `G` and contain 56 alphanum characters",
        ));
    };
    let inner = shared.lock();
    let latest = inner.ledger.header.ledger_seq.to_string();
    match inner.ledger.state.accounts.get(&key.0) {
        Some(acc) => Reply::hal(json::account(&shared.base, acc, &inner.ledger.state))
            .with_header("Latest-Ledger", latest),
        None => Reply::problem(json::not_found()),
    }
}

fn parse_hash(hash: &str) -> Option<[u8; 32]> {
    if hash.len() != 64 || !hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(hash, &mut out).ok()?;
    Some(out)
}

fn get_transaction(shared: &Shared, hash: &str) -> Reply {
    let Some(hash) = parse_hash(hash) else {
        return Reply::problem(json::bad_request(
            "tx_id",
            "Transaction hash must be a hex-encoded, lowercase SHA-256 hash",
        ));
    };
    let inner = shared.lock();
    match inner.txs.get(&hash) {
        Some(tx) => match json::transaction(&shared.base, tx) {
            Ok(v) => Reply::hal(v),
            Err(_) => Reply::problem(json::server_error()),
        },
        None => Reply::problem(json::not_found()),
    }
}

fn get_ledgers(shared: &Shared, query: &str) -> Reply {
    let order = query_param(query, "order").unwrap_or_else(|| "asc".into());
    if order != "asc" && order != "desc" {
        return Reply::problem(json::bad_request(
            "order",
            "order: Must be one of \"asc\" or \"desc\"",
        ));
    }
    let limit = match query_param(query, "limit").filter(|l| !l.is_empty()) {
        None => 10,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=200).contains(&n) => n,
            _ => {
                return Reply::problem(json::bad_request(
                    "limit",
                    "limit: Must be between 1 and 200",
                ))
            }
        },
    };
    let cursor = match query_param(query, "cursor").filter(|c| !c.is_empty() && c != "now") {
        None => None,
        Some(c) => match c.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n >> 32),
            _ => {
                return Reply::problem(json::bad_request(
                    "cursor",
                    "cursor: Must be a non-negative integer",
                ))
            }
        },
    };
    let inner = shared.lock();
    let records: Vec<&LedgerRecord> = if order == "asc" {
        inner
            .ledgers
            .iter()
            .filter(|r| cursor.is_none_or(|c| i64::from(r.sequence) > c))
            .take(limit)
            .collect()
    } else {
        inner
            .ledgers
            .iter()
            .rev()
            .filter(|r| cursor.is_none_or(|c| i64::from(r.sequence) < c))
            .take(limit)
            .collect()
    };
    Reply::hal(json::ledgers_page(&shared.base, &records, &order, limit))
}

fn get_ledger(shared: &Shared, seq: &str) -> Reply {
    let Ok(seq) = seq.parse::<u32>() else {
        return Reply::problem(json::bad_request(
            "sequence",
            "Ledger sequence must be a positive integer",
        ));
    };
    let inner = shared.lock();
    match inner.ledgers.iter().find(|r| r.sequence == seq) {
        Some(r) => Reply::hal(json::ledger(&shared.base, r)),
        None => Reply::problem(json::not_found()),
    }
}

/// Decode a submitted envelope (`airgap::envelope`: limits, no trailing bytes).
fn decode_envelope(raw: &str) -> Result<TransactionEnvelope, String> {
    airgap::envelope::decode(raw).map_err(|e| e.to_string())
}

/// Transaction hash on the sandbox network (outer hash for fee bumps).
fn envelope_hash(env: &TransactionEnvelope) -> [u8; 32] {
    airgap::envelope::hash(env, &Network::Standalone)
}

/// Horizon's own pre-check (txsub): negative sequence or an impossible `minSeqNum`.
fn horizon_bad_seq(env: &TransactionEnvelope) -> bool {
    let tx = match env {
        TransactionEnvelope::TxV0(e) => return e.tx.seq_num.0 < 0,
        TransactionEnvelope::Tx(e) => &e.tx,
        TransactionEnvelope::TxFeeBump(e) => match &e.tx.inner_tx {
            FeeBumpTransactionInnerTx::Tx(inner) => &inner.tx,
        },
    };
    let seq = tx.seq_num.0;
    let min_seq = match &tx.cond {
        stellar_xdr::Preconditions::V2(v2) => v2.min_seq_num.as_ref().map(|s| s.0),
        _ => None,
    };
    seq < 0 || min_seq.is_some_and(|m| m < 0 || m >= seq)
}

fn read_tx_param(req: &mut Request, query: &str) -> Result<String, Reply> {
    let content_type = req
        .headers()
        .iter()
        .find(|h| h.field.equiv("Content-Type"))
        .map(|h| h.value.as_str().to_string())
        .unwrap_or_default();
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if !matches!(
        media.as_str(),
        "" | "application/x-www-form-urlencoded" | "multipart/form-data"
    ) {
        return Err(Reply::problem(json::unsupported_media_type()));
    }
    let mut body = Vec::new();
    let read = req
        .as_reader()
        .take(MAX_REQUEST_BYTES + 1)
        .read_to_end(&mut body);
    if read.is_err() || body.len() as u64 > MAX_REQUEST_BYTES {
        return Err(Reply::problem(json::malformed(
            "",
            Some("request too large"),
        )));
    }
    let from_body = if media == "application/x-www-form-urlencoded" {
        form_urlencoded::parse(&body)
            .find(|(k, _)| k == "tx")
            .map(|(_, v)| v.into_owned())
    } else {
        None
    };
    Ok(from_body
        .or_else(|| query_param(query, "tx"))
        .unwrap_or_default())
}

/// What the ledger did with a submission.
enum Outcome {
    /// Included now or earlier (the stored transaction).
    Included(StoredTx),
    Rejected(TransactionResult),
    Internal,
}

/// Validate and apply under the ledger lock; a known hash returns its stored transaction.
fn process(
    shared: &Shared,
    env: &TransactionEnvelope,
    raw: &str,
    hash: [u8; 32],
    check_known: bool,
) -> Outcome {
    let mut inner = shared.lock();
    if check_known {
        if let Some(tx) = inner.txs.get(&hash) {
            return Outcome::Included(tx.clone());
        }
    }
    let verdict = match inner.ledger.evaluate(env, raw, hash, now()) {
        Ok(v) => v,
        Err(_) => return Outcome::Internal,
    };
    match verdict {
        Verdict::Rejected(result) => Outcome::Rejected(result),
        Verdict::Included(closed) => {
            let Inner {
                ledger,
                store,
                txs,
                ledgers,
            } = &mut *inner;
            if store.commit(&ledger.state, &closed).is_err() {
                return Outcome::Internal;
            }
            ledger.commit(&closed);
            txs.insert(closed.tx.hash, closed.tx.clone());
            ledgers.push(closed.record.clone());
            Outcome::Included(closed.tx)
        }
    }
}

fn stored_reply(shared: &Shared, raw: &str, tx: &StoredTx) -> Reply {
    if tx.successful {
        return match json::transaction(&shared.base, tx) {
            Ok(v) => Reply::hal(v),
            Err(_) => Reply::problem(json::server_error()),
        };
    }
    match TransactionResult::from_xdr_base64(&tx.result_xdr, Limits::none())
        .map_err(json::JsonError::from)
        .and_then(|r| json::transaction_failed(raw, &r))
    {
        Ok(v) => Reply::problem(v),
        Err(_) => Reply::problem(json::server_error()),
    }
}

fn submit(shared: &Shared, req: &mut Request, query: &str, fault: Fault, is_async: bool) -> Reply {
    let raw = match read_tx_param(req, query) {
        Ok(raw) => raw,
        Err(reply) => return reply,
    };
    let env = match decode_envelope(&raw) {
        Ok(env) => env,
        Err(e) => {
            let error = is_async.then_some(e.as_str());
            return Reply::problem(json::malformed(&raw, error));
        }
    };
    let hash = envelope_hash(&env);
    let hash_hex = hex::encode(hash);
    let mut rng = rand::thread_rng();
    match fault {
        Fault::None => {}
        Fault::Status429 => return rate_limit_reply(),
        Fault::Status503 => {
            return match rng.gen_range(0..3) {
                0 if is_async => {
                    Reply::hal_status(503, json::async_status("TRY_AGAIN_LATER", &hash_hex, None))
                }
                0 | 1 => Reply::problem(json::stale_history()),
                _ => plain_503(),
            }
        }
        Fault::Status504 => {
            // A real timeout says nothing about the outcome: apply or not, at random.
            if rng.gen::<bool>() && !horizon_bad_seq(&env) {
                let _ = process(shared, &env, &raw, hash, !is_async);
            }
            return match rng.gen_range(0..4) {
                0 => Reply::problem(json::legacy_timeout()),
                1 => bare_504(),
                _ if is_async => bare_504(),
                _ => Reply::problem(json::submission_timeout(&raw, &hash_hex)),
            };
        }
    }
    if horizon_bad_seq(&env) {
        let canned = results::tx_error(0, TransactionResultResult::TxBadSeq);
        return if is_async {
            async_error(&hash_hex, &canned)
        } else {
            match json::transaction_failed(&raw, &canned) {
                Ok(v) => Reply::problem(v),
                Err(_) => Reply::problem(json::server_error()),
            }
        };
    }
    if is_async {
        // Horizon relays core's answer without looking in its database.
        return match process(shared, &env, &raw, hash, false) {
            Outcome::Included(_) => {
                Reply::hal_status(201, json::async_status("PENDING", &hash_hex, None))
            }
            Outcome::Rejected(result) => async_error(&hash_hex, &result),
            Outcome::Internal => Reply::problem(json::server_error()),
        };
    }
    match process(shared, &env, &raw, hash, true) {
        Outcome::Included(tx) => stored_reply(shared, &raw, &tx),
        Outcome::Rejected(mut result) => {
            // txsub answers core's txBAD_SEQ with its canned ErrBadSequence (fee 0).
            if matches!(result.result, TransactionResultResult::TxBadSeq) {
                result = results::tx_error(0, TransactionResultResult::TxBadSeq);
            }
            match json::transaction_failed(&raw, &result) {
                Ok(v) => Reply::problem(v),
                Err(_) => Reply::problem(json::server_error()),
            }
        }
        Outcome::Internal => Reply::problem(json::server_error()),
    }
}

fn async_error(hash_hex: &str, result: &TransactionResult) -> Reply {
    match results::to_base64(result) {
        Ok(x) => Reply::hal_status(400, json::async_status("ERROR", hash_hex, Some(x))),
        Err(_) => Reply::problem(json::server_error()),
    }
}

fn friendbot(shared: &Shared, query: &str) -> Reply {
    let addr = query_param(query, "addr").unwrap_or_default();
    let Ok(key) = stellar_strkey::ed25519::PublicKey::from_string(&addr) else {
        return Reply::problem(json::bad_request(
            "addr",
            "Account ID must start with `G` and contain 56 alphanum characters",
        ));
    };
    let built = {
        let inner = shared.lock();
        if inner.ledger.state.accounts.contains_key(&key.0) {
            return Reply::problem(json::bad_request(
                "addr",
                "account already funded to starting balance",
            ));
        }
        inner.ledger.friendbot_envelope(key.0, FRIENDBOT_STROOPS)
    };
    let Ok((env, raw, hash)) = built else {
        return Reply::problem(json::server_error());
    };
    match process(shared, &env, &raw, hash, true) {
        Outcome::Included(tx) => stored_reply(shared, &raw, &tx),
        Outcome::Rejected(result) => match json::transaction_failed(&raw, &result) {
            Ok(v) => Reply::problem(v),
            Err(_) => Reply::problem(json::server_error()),
        },
        Outcome::Internal => Reply::problem(json::server_error()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_spec_parses_and_rejects() {
        let spec: FaultSpec = "504:0.2,429:0.1,503:0.1".parse().unwrap();
        assert_eq!(spec.rate_504, 0.2);
        assert_eq!(spec.rate_429, 0.1);
        assert_eq!(spec.rate_503, 0.1);
        assert!("500:0.1".parse::<FaultSpec>().is_err());
        assert!("504:2".parse::<FaultSpec>().is_err());
        assert!("504:0.6,429:0.6".parse::<FaultSpec>().is_err());
        assert!("504".parse::<FaultSpec>().is_err());
    }

    #[test]
    fn refuses_non_loopback() {
        let mut config = SandboxConfig::ephemeral();
        config.listen = SocketAddr::from(([0, 0, 0, 0], 0));
        assert!(matches!(start(config), Err(SandboxError::NotLoopback(_))));
    }

    #[test]
    fn starts_and_shuts_down_in_process() {
        let handle = start(SandboxConfig::ephemeral()).unwrap();
        assert_ne!(handle.addr().port(), 0);
        assert!(handle.url().starts_with("http://127.0.0.1:"));
        handle.shutdown();
    }
}
