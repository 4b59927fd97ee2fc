//! `airgap_sandbox`: a Horizon-compatible rehearsal ledger on loopback (`airgap-relay sandbox`).
//!
//! It speaks Horizon's HTTP contract (the routes a relay and the Stellar SDKs use) and applies the
//! classic operations an asset issuer needs with stellar-core's validity rules, one transaction per
//! ledger. It is not a validator: no consensus, no history archives, no Soroban, no DEX.
//!
//! Layout: this file holds the server and the routes; [`ledger`] the state and the rules;
//! [`results`] result codes; [`meta`] entries and transaction meta as XDR; [`store`] SQLite
//! persistence; [`json`] Horizon's JSON shapes;
//! [`stream`] Server-Sent Events.

pub mod json;
pub mod ledger;
pub mod meta;
pub mod results;
pub mod store;
pub mod stream;

use std::collections::HashMap;
use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
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
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stop serving and wait for the workers (requests in flight are finished first).
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
    /// By hash (a fee bump under its outer and its inner hash).
    txs: HashMap<[u8; 32], StoredTx>,
    /// Transaction hashes in ledger order.
    order: Vec<[u8; 32]>,
    ledgers: Vec<LedgerRecord>,
}

pub struct Shared {
    base: String,
    faults: FaultSpec,
    inner: Mutex<Inner>,
    stop: Arc<AtomicBool>,
    streams: AtomicUsize,
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

/// Start a sandbox in this process.
/// A listener whose accepted connections have Nagle's algorithm off (Linux copies TCP_NODELAY
/// to accepted sockets). tiny_http writes a response through a 1 KiB buffer, so a larger body
/// leaves in a second segment; with Nagle on, that segment waited for the client's delayed ACK
/// and every transaction took 40 ms longer (measured: 45 ms → under 1 ms per submission).
fn nodelay_listener(addr: SocketAddr) -> Result<std::net::TcpListener, SandboxError> {
    let bind = |e: std::io::Error| SandboxError::Bind {
        addr,
        reason: e.to_string(),
    };
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        None,
    )
    .map_err(bind)?;
    socket.set_reuse_address(true).map_err(bind)?;
    socket.set_nodelay(true).map_err(bind)?;
    socket.bind(&addr.into()).map_err(bind)?;
    socket.listen(128).map_err(bind)?;
    Ok(socket.into())
}

pub fn start(config: SandboxConfig) -> Result<SandboxHandle, SandboxError> {
    if !config.listen.ip().is_loopback() {
        return Err(SandboxError::NotLoopback(config.listen));
    }
    let mut store = Store::open(config.state.as_deref())?;
    let loaded = store.load_or_init(PASSPHRASE, now())?;
    let server = Server::from_listener(nodelay_listener(config.listen)?, None).map_err(|e| {
        SandboxError::Bind {
            addr: config.listen,
            reason: e.to_string(),
        }
    })?;
    let addr = server.server_addr().to_ip().ok_or(SandboxError::Bind {
        addr: config.listen,
        reason: "not an IP listener".into(),
    })?;
    let mut order: Vec<&StoredTx> = loaded
        .txs
        .iter()
        .filter(|(h, tx)| **h == tx.hash)
        .map(|(_, tx)| tx)
        .collect();
    order.sort_by_key(|tx| tx.ledger);
    let order = order.into_iter().map(|tx| tx.hash).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let shared = Arc::new(Shared {
        base: format!("http://{addr}"),
        faults: config.faults,
        inner: Mutex::new(Inner {
            ledger: loaded.ledger,
            store,
            txs: loaded.txs,
            order,
            ledgers: loaded.ledgers,
        }),
        stop: Arc::clone(&stop),
        streams: AtomicUsize::new(0),
    });
    let server = Arc::new(server);
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

fn handle(shared: &Arc<Shared>, mut req: Request) {
    if wants_stream(&req) {
        return open_stream(shared, req);
    }
    let mut reply = route(shared, &mut req);
    if shared.faults.rate_429 > 0.0 && reply.status != 429 {
        // With rate limiting on, Horizon reports the quota on every (non-streaming) answer.
        let remaining: u32 = rand::thread_rng().gen_range(1..=100);
        reply = reply
            .with_header("X-Ratelimit-Limit", "101".into())
            .with_header("X-Ratelimit-Remaining", remaining.to_string())
            .with_header("X-Ratelimit-Reset", (101 - remaining).to_string());
    }
    respond(req, reply);
}

/// Send a reply with Horizon's common headers.
fn respond(req: Request, reply: Reply) {
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
        (Method::Get, ["payments"]) => get_payments(shared, None, query),
        (Method::Get, ["accounts", id, "payments"]) => match parse_account(id) {
            Ok(account) => get_payments(shared, Some(account), query),
            Err(reply) => reply,
        },
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

fn parse_account(id: &str) -> Result<[u8; 32], Reply> {
    stellar_strkey::ed25519::PublicKey::from_string(id)
        .map(|k| k.0)
        .map_err(|_| {
            Reply::problem(json::bad_request(
                "account_id",
                "Account ID must start with `G` and contain 56 alphanum characters",
            ))
        })
}

fn get_account(shared: &Shared, id: &str) -> Reply {
    let key = match parse_account(id) {
        Ok(key) => key,
        Err(reply) => return reply,
    };
    let inner = shared.lock();
    let latest = inner.ledger.header.ledger_seq.to_string();
    match inner.ledger.state.accounts.get(&key) {
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
        Some(tx) => match json::transaction(&shared.base, tx, hash) {
            Ok(v) => Reply::hal(v),
            Err(_) => Reply::problem(json::server_error()),
        },
        None => Reply::problem(json::not_found()),
    }
}

fn get_ledgers(shared: &Shared, query: &str) -> Reply {
    let p = match paging(query) {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    let cursor = match cursor_token(shared, p.cursor.as_deref(), p.desc) {
        Ok(c) => c,
        Err(reply) => return reply,
    };
    let token = |r: &LedgerRecord| i64::from(r.sequence) << 32;
    let inner = shared.lock();
    let records: Vec<&LedgerRecord> = if p.desc {
        inner
            .ledgers
            .iter()
            .rev()
            .filter(|r| token(r) < cursor)
            .take(p.limit)
            .collect()
    } else {
        inner
            .ledgers
            .iter()
            .filter(|r| token(r) > cursor)
            .take(p.limit)
            .collect()
    };
    let order = if p.desc { "desc" } else { "asc" };
    Reply::hal(json::ledgers_page(&shared.base, &records, order, p.limit))
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

/// Paging parameters (`cursor`, `order`, `limit`) as Horizon validates them.
struct Paging {
    cursor: Option<String>,
    desc: bool,
    limit: usize,
}

fn paging(query: &str) -> Result<Paging, Reply> {
    let order = query_param(query, "order").unwrap_or_default();
    let desc = match order.as_str() {
        "" | "asc" => false,
        "desc" => true,
        _ => {
            return Err(Reply::problem(json::bad_request(
                "order",
                "order: Must be one of \"asc\" or \"desc\"",
            )))
        }
    };
    let limit = match query_param(query, "limit").filter(|l| !l.is_empty()) {
        None => 10,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=200).contains(&n) => n,
            _ => {
                return Err(Reply::problem(json::bad_request(
                    "limit",
                    "limit: Must be between 1 and 200",
                )))
            }
        },
    };
    let cursor = query_param(query, "cursor").filter(|c| !c.is_empty());
    Ok(Paging {
        cursor,
        desc,
        limit,
    })
}

/// A paging token from a cursor (`now` = after the latest ledger).
fn cursor_token(shared: &Shared, cursor: Option<&str>, desc: bool) -> Result<i64, Reply> {
    match cursor {
        None if desc => Ok(i64::MAX),
        None => Ok(0),
        Some("now") => {
            let latest = i64::from(shared.lock().ledger.header.ledger_seq);
            Ok(((latest + 1) << 32) - 1)
        }
        Some(c) => c.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            Reply::problem(json::bad_request(
                "cursor",
                "cursor: Must be a non-negative integer",
            ))
        }),
    }
}

/// Payment-type operations of successful transactions after `cursor` (before it when `desc`),
/// for one account or all.
fn payments_after(
    shared: &Shared,
    account: Option<[u8; 32]>,
    cursor: i64,
    desc: bool,
    limit: usize,
) -> Vec<(i64, Value)> {
    let inner = shared.lock();
    let mut out = Vec::new();
    let hashes: Box<dyn Iterator<Item = &[u8; 32]>> = if desc {
        Box::new(inner.order.iter().rev())
    } else {
        Box::new(inner.order.iter())
    };
    for hash in hashes {
        let Some(tx) = inner.txs.get(hash) else {
            continue;
        };
        let ledger_end = (i64::from(tx.ledger) + 1) << 32;
        let ledger_start = i64::from(tx.ledger) << 32;
        if !tx.successful || (!desc && ledger_end <= cursor) || (desc && ledger_start >= cursor) {
            continue;
        }
        let mut ops = json::payment_ops(&shared.base, tx);
        if desc {
            ops.reverse();
        }
        for op in ops {
            let after = if desc {
                op.token < cursor
            } else {
                op.token > cursor
            };
            let mine = account.is_none_or(|a| op.participants.contains(&a));
            if after && mine {
                out.push((op.token, op.record));
                if out.len() >= limit {
                    return out;
                }
            }
        }
    }
    out
}

fn get_payments(shared: &Shared, account: Option<[u8; 32]>, query: &str) -> Reply {
    let p = match paging(query) {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    let cursor = match cursor_token(shared, p.cursor.as_deref(), p.desc) {
        Ok(c) => c,
        Err(reply) => return reply,
    };
    let records = payments_after(shared, account, cursor, p.desc, p.limit);
    let path = match account {
        Some(a) => format!("/accounts/{}/payments", json::g_address(&a)),
        None => "/payments".to_string(),
    };
    let order = if p.desc { "desc" } else { "asc" };
    Reply::hal(json::operations_page(
        &shared.base,
        &path,
        &records,
        order,
        p.limit,
    ))
}

/// `Accept: text/event-stream` on a streamable route.
fn wants_stream(req: &Request) -> bool {
    let accepts = req
        .headers()
        .iter()
        .any(|h| h.field.equiv("Accept") && h.value.as_str().contains("text/event-stream"));
    if !accepts || *req.method() != Method::Get {
        return false;
    }
    let path = req
        .url()
        .split('?')
        .next()
        .unwrap_or("")
        .trim_end_matches('/');
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    matches!(
        segments.as_slice(),
        ["payments"] | ["accounts", _, "payments"]
    )
}

/// Answer a streaming request on its own thread.
fn open_stream(shared: &Arc<Shared>, req: Request) {
    let url = req.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((url.as_str(), ""));
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let account = match segments.as_slice() {
        ["accounts", id, "payments"] => match parse_account(id) {
            Ok(a) => Some(a),
            Err(reply) => return respond(req, reply),
        },
        _ => None,
    };
    let p = match paging(query) {
        Ok(p) => p,
        Err(reply) => return respond(req, reply),
    };
    // a reconnecting EventSource sends the last id it saw
    let last_event_id = req
        .headers()
        .iter()
        .find(|h| h.field.equiv("Last-Event-ID"))
        .map(|h| h.value.as_str().to_string());
    let cursor = last_event_id.or(p.cursor);
    let cursor = match cursor_token(shared, cursor.as_deref(), false) {
        Ok(c) => c,
        Err(reply) => return respond(req, reply),
    };
    if shared.streams.fetch_add(1, Ordering::SeqCst) >= stream::MAX_STREAMS {
        shared.streams.fetch_sub(1, Ordering::SeqCst);
        return respond(req, plain_503());
    }
    let source: stream::Source = Box::new(move |shared: &Shared, after: i64| {
        payments_after(shared, account, after, false, 200)
    });
    let events = stream::Events::new(Arc::clone(shared), source, cursor, p.limit);
    let shared = Arc::clone(shared);
    std::thread::spawn(move || {
        stream::serve(req, events);
        shared.streams.fetch_sub(1, Ordering::SeqCst);
    });
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
        // Horizon's MaxBytesHandler makes the form unreadable: no `tx`, a malformed envelope.
        return Err(Reply::problem(json::malformed("", None)));
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
                order,
                ledgers,
            } = &mut *inner;
            if store.commit(&ledger.state, &closed).is_err() {
                return Outcome::Internal;
            }
            ledger.commit(&closed);
            txs.insert(closed.tx.hash, closed.tx.clone());
            if let Some(inner) = closed.tx.inner_hash {
                txs.insert(inner, closed.tx.clone());
            }
            ledgers.push(closed.record.clone());
            order.push(closed.tx.hash);
            Outcome::Included(closed.tx)
        }
    }
}

/// The answer for a transaction in the ledger, seen through the submitted `hash` (outer or inner
/// hash of a fee bump).
fn stored_reply(shared: &Shared, raw: &str, tx: &StoredTx, hash: [u8; 32]) -> Reply {
    if tx.successful {
        return match json::transaction(&shared.base, tx, hash) {
            Ok(v) => Reply::hal(v),
            Err(_) => Reply::problem(json::server_error()),
        };
    }
    match TransactionResult::from_xdr_base64(&tx.result_xdr, Limits::none())
        .map_err(json::JsonError::from)
        .and_then(|r| json::transaction_failed(raw, &r, tx.inner_hash == Some(hash)))
    {
        Ok(v) => Reply::problem(v),
        Err(_) => Reply::problem(json::server_error()),
    }
}

fn submit(shared: &Shared, req: &mut Request, query: &str, fault: Fault, is_async: bool) -> Reply {
    if fault == Fault::Status429 {
        // Horizon's rate limiter runs before any handler.
        return rate_limit_reply();
    }
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
        Fault::None | Fault::Status429 => {}
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
            match json::transaction_failed(&raw, &canned, false) {
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
        Outcome::Included(tx) => stored_reply(shared, &raw, &tx, hash),
        Outcome::Rejected(mut result) => {
            // txsub answers core's txBAD_SEQ with its canned ErrBadSequence (fee 0).
            if matches!(result.result, TransactionResultResult::TxBadSeq) {
                result = results::tx_error(0, TransactionResultResult::TxBadSeq);
            }
            match json::transaction_failed(&raw, &result, false) {
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
        Outcome::Included(tx) => stored_reply(shared, &raw, &tx, hash),
        Outcome::Rejected(result) => match json::transaction_failed(&raw, &result, false) {
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
