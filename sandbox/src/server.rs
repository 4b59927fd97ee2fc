//! The HTTP server: a few worker threads take requests from one loopback listener, route each to
//! its handler ([`crate::reads`], [`crate::submission`], [`crate::rpc`]) and answer with Horizon's
//! headers. Answers that wait for a ledger (a synchronous submission, friendbot) and streams run
//! on threads of their own, so the workers keep serving.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use airgap::horizon::Problem;
use rand::Rng;
use serde::Serialize;
use tiny_http::{Header, Method, Request, Response, Server};

use crate::faults::{self, Fault, FaultSpec};
use crate::history::History;
use crate::ledger::Ledger;
use crate::queue::Queue;
use crate::reads::{self, open_stream, wants_stream, Collection::*};
use crate::store::Store;
use crate::{clock, rpc, submission};
use crate::{problems, resources, SandboxConfig, SandboxError, SandboxHandle, PASSPHRASE};

const WORKERS: usize = 4;
/// Most answers waiting for a ledger at once (Horizon's `--max-concurrent-requests`); more get
/// chi's plain-text 503.
pub(crate) const MAX_WAITERS: usize = 1000;

/// The ledger, the queue and the history, behind one lock.
pub(crate) struct Inner {
    pub(crate) ledger: Ledger,
    pub(crate) store: Store,
    pub(crate) history: History,
    pub(crate) queue: Queue,
    /// Horizon txsub's open submissions: hash → when it was first submitted.
    pub(crate) open_submissions: HashMap<[u8; 32], Instant>,
}

/// The sandbox's timing, from its configuration.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timing {
    /// `Duration::ZERO`: one ledger per submission.
    pub(crate) close_every: Duration,
    /// Horizon's txsub timeout for `POST /transactions`.
    pub(crate) txsub_timeout: Duration,
    /// Horizon's connection timeout, after which a stream says goodbye.
    pub(crate) stream_timeout: Duration,
}

/// What every request handler shares.
pub struct Shared {
    /// The sandbox's own URL, for links.
    pub(crate) base: String,
    faults: FaultSpec,
    rpc_faults: FaultSpec,
    inner: Mutex<Inner>,
    /// Notified after each closed ledger.
    closed: Condvar,
    pub(crate) stop: Arc<AtomicBool>,
    pub(crate) streams: AtomicUsize,
    pub(crate) waiters: AtomicUsize,
    pub(crate) timing: Timing,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // Nothing panics while holding the lock; if it ever did, the state was not committed.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Release the lock until a ledger closes or `timeout` passes.
    pub(crate) fn wait_for_ledger<'a>(
        &self,
        guard: MutexGuard<'a, Inner>,
        timeout: Duration,
    ) -> MutexGuard<'a, Inner> {
        match self.closed.wait_timeout(guard, timeout) {
            Ok((g, _)) => g,
            Err(e) => e.into_inner().0,
        }
    }

    /// Wake everything waiting for a ledger.
    pub(crate) fn ledger_closed(&self) {
        self.closed.notify_all();
    }
}

pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

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

/// Start a sandbox in this process: its workers serve until [`SandboxHandle::shutdown`].
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
    let stop = Arc::new(AtomicBool::new(false));
    let shared = Arc::new(Shared {
        base: format!("http://{addr}"),
        faults: config.faults,
        rpc_faults: config.rpc_faults,
        inner: Mutex::new(Inner {
            ledger: loaded.ledger,
            store,
            history: History::new(loaded.txs, loaded.ledgers, config.retain_ledgers),
            queue: Queue::default(),
            open_submissions: HashMap::new(),
        }),
        closed: Condvar::new(),
        stop: Arc::clone(&stop),
        streams: AtomicUsize::new(0),
        waiters: AtomicUsize::new(0),
        timing: Timing {
            close_every: config.close_every,
            txsub_timeout: config.txsub_timeout,
            stream_timeout: config.stream_timeout,
        },
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
    if !config.close_every.is_zero() {
        workers.push(clock::spawn(Arc::clone(&shared), config.close_every));
    }
    Ok(SandboxHandle::new(addr, server, stop, workers))
}

/// An answer's body, serialized.
enum Body {
    Hal(Vec<u8>),
    Json(Vec<u8>),
    Problem(Vec<u8>),
    Text(&'static str),
    Empty,
}

/// An answer: status, body and the headers beyond Horizon's common ones.
pub(crate) struct Reply {
    pub(crate) status: u16,
    body: Body,
    headers: Vec<(&'static str, String)>,
}

impl Reply {
    fn new(status: u16, body: Body) -> Reply {
        Reply {
            status,
            body,
            headers: Vec::new(),
        }
    }

    /// A resource (HAL JSON), 200.
    pub(crate) fn hal(value: &impl Serialize) -> Reply {
        Reply::hal_status(200, value)
    }

    pub(crate) fn hal_status(status: u16, value: &impl Serialize) -> Reply {
        Reply::new(
            status,
            Body::Hal(serde_json::to_vec_pretty(value).unwrap_or_default()),
        )
    }

    /// A problem; its status is the one inside the problem.
    pub(crate) fn problem(problem: &Problem) -> Reply {
        Reply::new(
            problem.status,
            Body::Problem(serde_json::to_vec_pretty(problem).unwrap_or_default()),
        )
    }

    /// Plain JSON (`application/json`), as Stellar RPC answers.
    pub(crate) fn json(status: u16, value: &impl Serialize) -> Reply {
        Reply::new(
            status,
            Body::Json(serde_json::to_vec(value).unwrap_or_default()),
        )
    }

    /// Plain text, as chi's and tiny_http's own answers are.
    pub(crate) fn text(status: u16, text: &'static str) -> Reply {
        Reply::new(status, Body::Text(text))
    }

    pub(crate) fn empty(status: u16) -> Reply {
        Reply::new(status, Body::Empty)
    }

    pub(crate) fn with_header(mut self, name: &'static str, value: String) -> Reply {
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
    let mut reply = match route(shared, &mut req) {
        Routed::Now(reply) => reply,
        Routed::Later(wait) => return submission::answer_later(shared, req, wait),
    };
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
pub(crate) fn respond(req: Request, reply: Reply) {
    let (content_type, bytes) = match &reply.body {
        Body::Hal(v) => (Some("application/hal+json; charset=utf-8"), v.clone()),
        Body::Json(v) => (Some("application/json"), v.clone()),
        Body::Problem(v) => (Some("application/problem+json; charset=utf-8"), v.clone()),
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

pub(crate) fn query_param(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// An answer now, or once a ledger closes.
pub(crate) enum Routed {
    Now(Reply),
    Later(submission::Wait),
}

impl From<Reply> for Routed {
    fn from(reply: Reply) -> Routed {
        Routed::Now(reply)
    }
}

/// Which handler answers: by method and path segments (a trailing `/` is ignored).
fn route(shared: &Shared, req: &mut Request) -> Routed {
    let url = req.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((url.as_str(), ""));
    let trimmed = path.trim_end_matches('/');
    let path = if trimmed.is_empty() { "/" } else { trimmed };
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let method = req.method().clone();

    if segments.first() == Some(&"friendbot") && segments.len() == 1 {
        return match method {
            Method::Get | Method::Post => submission::friendbot(shared, query),
            _ => Reply::problem(&problems::not_found()).into(),
        };
    }
    if segments.as_slice() == ["rpc"] {
        // Stellar RPC on the same listener; Horizon's faults are Horizon's, RPC's its own.
        return match method {
            Method::Post => {
                faults::rpc(shared.rpc_faults.roll(), || rpc::handle(shared, req)).into()
            }
            _ => rpc::method_not_allowed().into(),
        };
    }

    let fault = shared.faults.roll();
    match (&method, segments.as_slice()) {
        (Method::Post, ["transactions"]) => submission::submit(shared, req, query, fault, false),
        (Method::Post, ["transactions_async"]) => {
            submission::submit(shared, req, query, fault, true)
        }
        _ => get(shared, &method, &segments, query, fault).into(),
    }
}

/// The `GET` routes.
fn get(shared: &Shared, method: &Method, segments: &[&str], query: &str, fault: Fault) -> Reply {
    match (method, segments) {
        (Method::Get, _) if fault != Fault::None => faults::get_fault(fault),
        (Method::Get, [""]) => {
            let inner = shared.lock();
            Reply::hal(&resources::root(
                &shared.base,
                &inner.ledger.header,
                inner.history.elder(),
                PASSPHRASE,
            ))
        }
        (Method::Get, ["accounts", id]) => reads::account(shared, id),
        (Method::Get, ["transactions", hash]) => reads::transaction(shared, hash),
        (Method::Get, ["fee_stats"]) => {
            let inner = shared.lock();
            Reply::hal(&resources::fee_stats(&inner.ledger.header))
        }
        (Method::Get, ["ledgers"]) => reads::ledgers(shared, query),
        (Method::Get, ["ledgers", seq]) => reads::ledger(shared, seq),
        (Method::Get, ["payments"]) => reads::collection(shared, Payments, None, query),
        (Method::Get, ["transactions"]) => reads::collection(shared, Transactions, None, query),
        (Method::Get, ["accounts", id, "payments"]) => match reads::parse_account(id) {
            Ok(account) => reads::collection(shared, Payments, Some(account), query),
            Err(reply) => reply,
        },
        (Method::Get, ["accounts", id, "transactions"]) => match reads::parse_account(id) {
            Ok(account) => reads::collection(shared, Transactions, Some(account), query),
            Err(reply) => reply,
        },
        _ => Reply::problem(&problems::not_found()),
    }
}
