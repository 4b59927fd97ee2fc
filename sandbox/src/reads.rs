//! The `GET` handlers: accounts, transactions, ledgers and payments (pages and streams), with
//! Horizon's validation of paths and paging parameters.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use airgap::horizon::Payment;
use tiny_http::{Method, Request};

use crate::faults;
use crate::ledger::LedgerRecord;
use crate::server::{query_param, respond, Reply, Shared};
use crate::{problems, resources, stream};

/// An account ID from the path (`G…` only, as Horizon).
pub(crate) fn parse_account(id: &str) -> Result<[u8; 32], Reply> {
    stellar_strkey::ed25519::PublicKey::from_string(id)
        .map(|k| k.0)
        .map_err(|_| {
            Reply::problem(&problems::bad_request(
                "account_id",
                "Account ID must start with `G` and contain 56 alphanum characters",
            ))
        })
}

/// `GET /accounts/{id}`.
pub(crate) fn account(shared: &Shared, id: &str) -> Reply {
    let key = match parse_account(id) {
        Ok(key) => key,
        Err(reply) => return reply,
    };
    let inner = shared.lock();
    let latest = inner.ledger.header.ledger_seq.to_string();
    match inner.ledger.state.accounts.get(&key) {
        Some(acc) => Reply::hal(&resources::account(&shared.base, acc, &inner.ledger.state))
            .with_header("Latest-Ledger", latest),
        None => Reply::problem(&problems::not_found()),
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

/// `GET /transactions/{hash}` (a fee bump under its outer or its inner hash).
pub(crate) fn transaction(shared: &Shared, hash: &str) -> Reply {
    let Some(hash) = parse_hash(hash) else {
        return Reply::problem(&problems::bad_request(
            "tx_id",
            "Transaction hash must be a hex-encoded, lowercase SHA-256 hash",
        ));
    };
    let inner = shared.lock();
    match inner.txs.get(&hash) {
        Some(tx) => match resources::transaction(&shared.base, tx, hash) {
            Ok(v) => Reply::hal(&v),
            Err(_) => Reply::problem(&problems::server_error()),
        },
        None => Reply::problem(&problems::not_found()),
    }
}

/// `GET /ledgers`.
pub(crate) fn ledgers(shared: &Shared, query: &str) -> Reply {
    let (p, cursor) = match page_request(shared, query) {
        Ok(x) => x,
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
    Reply::hal(&resources::ledgers_page(
        &shared.base,
        &records,
        p.desc,
        p.limit,
    ))
}

/// `GET /ledgers/{sequence}`.
pub(crate) fn ledger(shared: &Shared, seq: &str) -> Reply {
    let Ok(seq) = seq.parse::<u32>() else {
        return Reply::problem(&problems::bad_request(
            "sequence",
            "Ledger sequence must be a positive integer",
        ));
    };
    let inner = shared.lock();
    match inner.ledgers.iter().find(|r| r.sequence == seq) {
        Some(r) => Reply::hal(&resources::ledger(&shared.base, r)),
        None => Reply::problem(&problems::not_found()),
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
            return Err(Reply::problem(&problems::bad_request(
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
                return Err(Reply::problem(&problems::bad_request(
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

/// The paging parameters of a request and the paging token its cursor stands for.
fn page_request(shared: &Shared, query: &str) -> Result<(Paging, i64), Reply> {
    let p = paging(query)?;
    let cursor = cursor_token(shared, p.cursor.as_deref(), p.desc)?;
    Ok((p, cursor))
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
            Reply::problem(&problems::bad_request(
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
) -> Vec<(i64, Payment)> {
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
        let mut ops = resources::payment_ops(&shared.base, tx);
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

/// `GET /payments` and `GET /accounts/{id}/payments`.
pub(crate) fn payments(shared: &Shared, account: Option<[u8; 32]>, query: &str) -> Reply {
    let (p, cursor) = match page_request(shared, query) {
        Ok(x) => x,
        Err(reply) => return reply,
    };
    let records = payments_after(shared, account, cursor, p.desc, p.limit);
    let path = match account {
        Some(a) => format!("/accounts/{}/payments", resources::g_address(&a)),
        None => "/payments".to_string(),
    };
    Reply::hal(&resources::page(
        &shared.base,
        &path,
        records,
        p.desc,
        p.limit,
    ))
}

/// `Accept: text/event-stream` on a streamable route.
pub(crate) fn wants_stream(req: &Request) -> bool {
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
pub(crate) fn open_stream(shared: &Arc<Shared>, req: Request) {
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
        return respond(req, faults::plain_503());
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
