//! Submissions: `POST /transactions` (Horizon's txsub: its own pre-checks, a stored outcome if
//! the hash is known, else core's queue, then a wait for the ledger, 504 after the txsub
//! timeout), `POST /transactions_async` (core's answer relayed: 201 `PENDING`, 409 `DUPLICATE`,
//! 503 `TRY_AGAIN_LATER`, 400 `ERROR`), and friendbot.

use std::io::Read;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use airgap::network::Network;
use rand::Rng;
use stellar_xdr::{
    Limits, ReadXdr, TransactionEnvelope, TransactionResult, TransactionResultResult,
};
use tiny_http::Request;

use crate::admission::admit;
use crate::faults::{self, Fault};
use crate::ledger::StoredTx;
use crate::queue::Admission;
use crate::server::{query_param, respond, Inner, Reply, Routed, Shared, MAX_WAITERS};
use crate::{problems, resources, results, FRIENDBOT_STROOPS};

/// Horizon's default `--max-http-request-size`.
const MAX_REQUEST_BYTES: u64 = 200 * 1024;

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
    let tx = airgap::envelope::transaction(env);
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
        return Err(Reply::problem(&problems::unsupported_media_type()));
    }
    let mut body = Vec::new();
    let read = req
        .as_reader()
        .take(MAX_REQUEST_BYTES + 1)
        .read_to_end(&mut body);
    if read.is_err() || body.len() as u64 > MAX_REQUEST_BYTES {
        // Horizon's MaxBytesHandler makes the form unreadable: no `tx`, a malformed envelope.
        return Err(Reply::problem(&problems::malformed("", None)));
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

/// An answer that waits for a ledger: a submission Horizon's txsub is waiting for, or friendbot.
pub(crate) struct Wait {
    what: Waiting,
    /// The envelope as submitted, for the answer.
    raw: String,
    deadline: Instant,
}

enum Waiting {
    /// A submitted transaction, by hash.
    Tx([u8; 32]),
    /// Friendbot for this account, not queued yet (the root account had a transaction queued).
    Friendbot([u8; 32]),
}

/// The answer for a transaction in the ledger, seen through the submitted `hash` (outer or inner
/// hash of a fee bump).
fn stored_reply(shared: &Shared, raw: &str, tx: &StoredTx, hash: [u8; 32]) -> Reply {
    if tx.successful {
        return match resources::transaction(&shared.base, tx, hash) {
            Ok(v) => Reply::hal(&v),
            Err(_) => Reply::problem(&problems::server_error()),
        };
    }
    match TransactionResult::from_xdr_base64(&tx.result_xdr, Limits::none()) {
        Ok(r) => failed_reply(raw, &r, tx.inner_hash == Some(hash)),
        Err(_) => Reply::problem(&problems::server_error()),
    }
}

/// 400 `transaction_failed` (see [`problems::transaction_failed`]).
fn failed_reply(raw: &str, result: &TransactionResult, inner_view: bool) -> Reply {
    match problems::transaction_failed(raw, result, inner_view) {
        Ok(p) => Reply::problem(&p),
        Err(_) => Reply::problem(&problems::server_error()),
    }
}

/// Core's queue, under the lock; the ledger's waiters are woken after.
fn to_core(
    shared: &Shared,
    env: &TransactionEnvelope,
    raw: &str,
    hash: [u8; 32],
) -> Option<Admission> {
    let close_every = shared.timing.close_every;
    let admission = {
        let mut inner = shared.lock();
        admit(&mut inner, env, raw, hash, close_every)
    };
    if close_every.is_zero() {
        shared.ledger_closed();
    }
    admission.ok()
}

/// `POST /transactions` (`is_async` false) and `POST /transactions_async`, with the fault rolled
/// for this request.
pub(crate) fn submit(
    shared: &Shared,
    req: &mut Request,
    query: &str,
    fault: Fault,
    is_async: bool,
) -> Routed {
    if fault == Fault::Status429 {
        // Horizon's rate limiter runs before any handler.
        return faults::rate_limit_reply().into();
    }
    let raw = match read_tx_param(req, query) {
        Ok(raw) => raw,
        Err(reply) => return reply.into(),
    };
    let env = match decode_envelope(&raw) {
        Ok(env) => env,
        Err(e) => {
            let error = is_async.then_some(e.as_str());
            return Reply::problem(&problems::malformed(&raw, error)).into();
        }
    };
    let hash = envelope_hash(&env);
    let hash_hex = hex::encode(hash);
    let mut rng = rand::thread_rng();
    match fault {
        Fault::None | Fault::Status429 => {}
        Fault::Status503 => {
            return match rng.gen_range(0..3) {
                0 if is_async => Reply::hal_status(
                    503,
                    &resources::async_status("TRY_AGAIN_LATER", &hash_hex, None),
                ),
                0 | 1 => Reply::problem(&problems::stale_history()),
                _ => faults::plain_503(),
            }
            .into()
        }
        Fault::Status504 => {
            // A real timeout says nothing about the outcome: submitted or not, at random.
            if rng.gen::<bool>() && !horizon_bad_seq(&env) {
                let known = shared.lock().history.contains(&hash);
                if !known {
                    let _ = to_core(shared, &env, &raw, hash);
                }
            }
            return match rng.gen_range(0..4) {
                0 => Reply::problem(&problems::legacy_timeout()),
                1 => faults::bare_504(),
                _ if is_async => faults::bare_504(),
                _ => Reply::problem(&problems::submission_timeout(&raw, &hash_hex)),
            }
            .into();
        }
    }
    if horizon_bad_seq(&env) {
        let canned = results::tx_error(0, TransactionResultResult::TxBadSeq);
        return if is_async {
            async_error(&hash_hex, &canned)
        } else {
            failed_reply(&raw, &canned, false)
        }
        .into();
    }
    if is_async {
        // Horizon relays core's answer without looking in its database.
        return match to_core(shared, &env, &raw, hash) {
            Some(Admission::Pending) => {
                Reply::hal_status(201, &resources::async_status("PENDING", &hash_hex, None))
            }
            Some(Admission::Duplicate) => {
                Reply::hal_status(409, &resources::async_status("DUPLICATE", &hash_hex, None))
            }
            Some(Admission::TryAgainLater) => Reply::hal_status(
                503,
                &resources::async_status("TRY_AGAIN_LATER", &hash_hex, None),
            ),
            Some(Admission::Error(result)) => async_error(&hash_hex, &result),
            None => Reply::problem(&problems::server_error()),
        }
        .into();
    }
    // txsub: a hash already in the history database gets its stored answer
    if let Some(reply) = known_answer(shared, &raw, hash) {
        return reply.into();
    }
    match to_core(shared, &env, &raw, hash) {
        Some(Admission::Error(mut result)) => {
            if let Some(reply) = known_answer(shared, &raw, hash) {
                return reply.into();
            }
            // txsub answers core's txBAD_SEQ with its canned ErrBadSequence (fee 0).
            if matches!(result.result, TransactionResultResult::TxBadSeq) {
                result = results::tx_error(0, TransactionResultResult::TxBadSeq);
            }
            failed_reply(&raw, &result, false).into()
        }
        // TRY_AGAIN_LATER is success to txsub too: it waits, and usually times out
        Some(_) => {
            if let Some(reply) = known_answer(shared, &raw, hash) {
                return reply.into();
            }
            let first = *shared
                .lock()
                .open_submissions
                .entry(hash)
                .or_insert_with(Instant::now);
            Routed::Later(Wait {
                what: Waiting::Tx(hash),
                raw,
                deadline: first + shared.timing.txsub_timeout,
            })
        }
        None => Reply::problem(&problems::server_error()).into(),
    }
}

/// The stored answer when `hash` is in the history.
fn known_answer(shared: &Shared, raw: &str, hash: [u8; 32]) -> Option<Reply> {
    let inner = shared.lock();
    inner
        .history
        .tx(&hash)
        .map(|tx| stored_reply(shared, raw, tx, hash))
}

/// Answer `req` once the awaited transaction is in a ledger, or with Horizon's 504 at the
/// deadline, on a thread of its own.
pub(crate) fn answer_later(shared: &Arc<Shared>, req: Request, wait: Wait) {
    if shared.waiters.fetch_add(1, Ordering::SeqCst) >= MAX_WAITERS {
        shared.waiters.fetch_sub(1, Ordering::SeqCst);
        return respond(req, faults::plain_503());
    }
    let shared = Arc::clone(shared);
    std::thread::spawn(move || {
        let reply = wait_for(&shared, wait);
        respond(req, reply);
        shared.waiters.fetch_sub(1, Ordering::SeqCst);
    });
}

fn wait_for(shared: &Shared, mut wait: Wait) -> Reply {
    loop {
        if let Waiting::Friendbot(dest) = wait.what {
            match friendbot_step(shared, dest) {
                Step::Done(reply) => return reply,
                Step::Queued(hash, raw) => {
                    wait.what = Waiting::Tx(hash);
                    wait.raw = raw;
                    wait.deadline = Instant::now() + shared.timing.txsub_timeout;
                    continue;
                }
                Step::Busy => {}
            }
        }
        let mut inner = shared.lock();
        if let Waiting::Tx(hash) = wait.what {
            if let Some(tx) = inner.history.tx(&hash) {
                return stored_reply(shared, &wait.raw, tx, hash);
            }
        }
        let now = Instant::now();
        if now >= wait.deadline || shared.stop.load(Ordering::SeqCst) {
            if let Waiting::Tx(hash) = wait.what {
                let expired = inner
                    .open_submissions
                    .get(&hash)
                    .is_some_and(|first| *first + shared.timing.txsub_timeout <= now);
                if expired {
                    inner.open_submissions.remove(&hash);
                }
                return Reply::problem(&problems::submission_timeout(
                    &wait.raw,
                    &hex::encode(hash),
                ));
            }
            return Reply::problem(&problems::legacy_timeout());
        }
        let left = wait.deadline - now;
        drop(shared.wait_for_ledger(inner, left.min(Duration::from_millis(500))));
    }
}

fn async_error(hash_hex: &str, result: &TransactionResult) -> Reply {
    match results::to_base64(result) {
        Ok(x) => Reply::hal_status(400, &resources::async_status("ERROR", hash_hex, Some(x))),
        Err(_) => Reply::problem(&problems::server_error()),
    }
}

/// One try of friendbot.
enum Step {
    Done(Reply),
    /// Queued: wait for this hash (its envelope as base64).
    Queued([u8; 32], String),
    /// The root account has a transaction queued already: try after the next ledger.
    Busy,
}

fn friendbot_step(shared: &Shared, dest: [u8; 32]) -> Step {
    let close_every = shared.timing.close_every;
    let step = {
        let mut inner = shared.lock();
        friendbot_try(&mut inner, dest, close_every)
    };
    if close_every.is_zero() {
        shared.ledger_closed();
    }
    match step {
        Ok(Some((hash, raw))) => {
            let known = {
                let inner = shared.lock();
                inner
                    .history
                    .tx(&hash)
                    .map(|tx| stored_reply(shared, &raw, tx, hash))
            };
            match known {
                Some(reply) => Step::Done(reply),
                None => Step::Queued(hash, raw),
            }
        }
        Ok(None) => Step::Busy,
        Err(reply) => Step::Done(reply),
    }
}

/// Queue friendbot's create_account from the root account: `Ok(Some(hash, envelope))` when
/// queued, `Ok(None)` when the root account is busy.
fn friendbot_try(
    inner: &mut Inner,
    dest: [u8; 32],
    close_every: Duration,
) -> Result<Option<([u8; 32], String)>, Reply> {
    if inner.ledger.state.accounts.contains_key(&dest) {
        return Err(Reply::problem(&problems::bad_request(
            "addr",
            "account already funded to starting balance",
        )));
    }
    let Ok((env, raw, hash)) = inner.ledger.friendbot_envelope(dest, FRIENDBOT_STROOPS) else {
        return Err(Reply::problem(&problems::server_error()));
    };
    match admit(inner, &env, &raw, hash, close_every) {
        Ok(Admission::Pending | Admission::Duplicate) => Ok(Some((hash, raw))),
        Ok(Admission::TryAgainLater) => Ok(None),
        Ok(Admission::Error(result)) => Err(failed_reply(&raw, &result, false)),
        Err(_) => Err(Reply::problem(&problems::server_error())),
    }
}

/// `GET|POST /friendbot?addr=G…`: a create_account of 10,000 XLM from the root account, answered
/// when its ledger closes.
pub(crate) fn friendbot(shared: &Shared, query: &str) -> Routed {
    let addr = query_param(query, "addr").unwrap_or_default();
    let Ok(key) = stellar_strkey::ed25519::PublicKey::from_string(&addr) else {
        return Reply::problem(&problems::bad_request(
            "addr",
            "Account ID must start with `G` and contain 56 alphanum characters",
        ))
        .into();
    };
    match friendbot_step(shared, key.0) {
        Step::Done(reply) => reply.into(),
        Step::Queued(hash, raw) => Routed::Later(Wait {
            what: Waiting::Tx(hash),
            raw,
            deadline: Instant::now() + shared.timing.txsub_timeout,
        }),
        Step::Busy => Routed::Later(Wait {
            what: Waiting::Friendbot(key.0),
            raw: String::new(),
            deadline: Instant::now() + shared.timing.txsub_timeout,
        }),
    }
}
