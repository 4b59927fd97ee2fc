//! The `GET` handlers: accounts, transactions, ledgers, payments (pages and streams), with
//! Horizon's validation of paths and paging parameters, and its cursor rule at the edge of the
//! retained history (`validateAndAdjustCursor`: an ascending page that starts before the oldest
//! ledger held starts at it, a descending one answers 410 `before_history`).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tiny_http::{Method, Request};

use crate::faults;
use crate::history::toid;
use crate::ledger::{LedgerRecord, StoredTx};
use crate::records;
use crate::server::{query_param, respond, Inner, Reply, Shared};
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
    match inner.history.tx(&hash) {
        Some(tx) => match resources::transaction(&shared.base, tx, hash) {
            Ok(v) => Reply::hal(&v),
            Err(_) => Reply::problem(&problems::server_error()),
        },
        None => Reply::problem(&problems::not_found()),
    }
}

/// `GET /ledgers`.
pub(crate) fn ledgers(shared: &Shared, query: &str) -> Reply {
    let p = match paging(query) {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    let inner = shared.lock();
    let cursor = match cursor_token(&inner, p.cursor.as_deref(), p.desc) {
        Ok(c) => c,
        Err(reply) => return reply,
    };
    let token = |r: &LedgerRecord| toid(r.sequence, 0, 0);
    let all = inner.history.ledgers();
    let records: Vec<&LedgerRecord> = if p.desc {
        all.iter()
            .rev()
            .filter(|r| token(r) < cursor)
            .take(p.limit)
            .collect()
    } else {
        all.iter()
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
    if seq < inner.history.elder() {
        return Reply::problem(&problems::before_history());
    }
    match inner.history.ledger(seq) {
        Some(r) => Reply::hal(&resources::ledger(&shared.base, r)),
        None => Reply::problem(&problems::not_found()),
    }
}

/// Paging parameters (`cursor`, `order`, `limit`) and the record options (`include_failed`,
/// `join`) as Horizon validates them.
struct Paging {
    cursor: Option<String>,
    desc: bool,
    limit: usize,
    include_failed: bool,
    join: bool,
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
    let include_failed = match query_param(query, "include_failed").as_deref() {
        None | Some("") | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(Reply::problem(&problems::bad_request(
                "include_failed",
                "Filter should be true or false",
            )))
        }
    };
    let join = match query_param(query, "join").as_deref() {
        None | Some("") => false,
        Some("transactions") => true,
        Some(_) => {
            return Err(Reply::problem(&problems::bad_request(
                "join",
                "Accepted values: transactions",
            )))
        }
    };
    let cursor = query_param(query, "cursor").filter(|c| !c.is_empty());
    Ok(Paging {
        cursor,
        desc,
        limit,
        include_failed,
        join,
    })
}

/// The paging token a cursor stands for, after Horizon's `validateAndAdjustCursor`: `now` is
/// after the latest ledger; ascending pages start no earlier than the oldest ledger held;
/// descending pages that would start at or before it are 410 `before_history`.
fn cursor_token(inner: &Inner, cursor: Option<&str>, desc: bool) -> Result<i64, Reply> {
    let given = match cursor {
        None => None,
        Some("now") => {
            let latest = inner.ledger.header.ledger_seq;
            Some(toid(latest.saturating_add(1), 0, 0) - 1)
        }
        Some(c) => Some(c.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            Reply::problem(&problems::bad_request(
                "cursor",
                "cursor: Must be a non-negative integer",
            ))
        })?),
    };
    let elder = toid(inner.history.elder(), 0, 0);
    match (desc, given) {
        (true, None) => Ok(i64::MAX),
        (true, Some(c)) if c <= elder => Err(Reply::problem(&problems::before_history())),
        (true, Some(c)) => Ok(c),
        (false, Some(c)) if c > elder => Ok(c),
        (false, _) => Ok(elder - 1),
    }
}

/// What a collection holds: payment records or transactions, for one account or all.
#[derive(Clone, Copy)]
pub(crate) enum Collection {
    Payments,
    Transactions,
}

/// The records of `what` after `cursor` (before it when `desc`), each with its paging token, as
/// compact JSON; the transactions considered stop at `limit` records.
#[allow(clippy::too_many_arguments)]
fn records(
    shared: &Shared,
    inner: &Inner,
    what: Collection,
    account: Option<[u8; 32]>,
    cursor: i64,
    p: &Paging,
) -> Vec<(i64, serde_json::Value)> {
    let mut out = Vec::new();
    let txs: Box<dyn Iterator<Item = &StoredTx>> = if p.desc {
        Box::new(inner.history.txs_before(cursor.saturating_add(1)))
    } else {
        // operations of the transaction holding the cursor may still follow it
        Box::new(inner.history.txs_after((cursor & !0xFFF) - 1))
    };
    for tx in txs {
        if !tx.successful && !p.include_failed {
            continue;
        }
        match what {
            Collection::Payments => {
                let mut ops = records::payments(&shared.base, tx, p.join);
                if p.desc {
                    ops.reverse();
                }
                for op in ops {
                    let in_range = if p.desc {
                        op.token < cursor
                    } else {
                        op.token > cursor
                    };
                    let mine = account.is_none_or(|a| op.participants.contains(&a));
                    if in_range && mine {
                        out.push((op.token, json(&op.record)));
                    }
                }
            }
            Collection::Transactions => {
                let token = toid(tx.ledger, tx.order(), 0);
                let in_range = if p.desc {
                    token < cursor
                } else {
                    token > cursor
                };
                let mine = account.is_none_or(|a| {
                    records::envelope(tx)
                        .map(|env| records::tx_participants(&env).contains(&a))
                        .unwrap_or(false)
                });
                if in_range && mine {
                    if let Ok(t) = resources::transaction(&shared.base, tx, tx.hash) {
                        out.push((token, json(&t)));
                    }
                }
            }
        }
        if out.len() >= p.limit {
            out.truncate(p.limit);
            break;
        }
    }
    out
}

fn json(v: &impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// `GET /payments`, `GET /accounts/{id}/payments`, `GET /transactions`,
/// `GET /accounts/{id}/transactions`.
pub(crate) fn collection(
    shared: &Shared,
    what: Collection,
    account: Option<[u8; 32]>,
    query: &str,
) -> Reply {
    let p = match paging(query) {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    let inner = shared.lock();
    let cursor = match cursor_token(&inner, p.cursor.as_deref(), p.desc) {
        Ok(c) => c,
        Err(reply) => return reply,
    };
    let found = records(shared, &inner, what, account, cursor, &p);
    drop(inner);
    let name = match what {
        Collection::Payments => "payments",
        Collection::Transactions => "transactions",
    };
    let path = match account {
        Some(a) => format!("/accounts/{}/{name}", resources::g_address(&a)),
        None => format!("/{name}"),
    };
    Reply::hal(&resources::page(
        &shared.base,
        &path,
        found,
        p.desc,
        p.limit,
    ))
}

/// The collection a path names, if it streams.
fn streamable<'a>(segments: &[&'a str]) -> Option<(Collection, Option<&'a str>)> {
    match segments {
        ["payments"] => Some((Collection::Payments, None)),
        ["transactions"] => Some((Collection::Transactions, None)),
        ["accounts", id, "payments"] => Some((Collection::Payments, Some(id))),
        ["accounts", id, "transactions"] => Some((Collection::Transactions, Some(id))),
        _ => None,
    }
}

fn segments_of(url: &str) -> Vec<&str> {
    let path = url.split('?').next().unwrap_or("").trim_end_matches('/');
    path.split('/').skip(1).collect()
}

/// `Accept: text/event-stream` on a streamable route.
pub(crate) fn wants_stream(req: &Request) -> bool {
    let accepts = req
        .headers()
        .iter()
        .any(|h| h.field.equiv("Accept") && h.value.as_str().contains("text/event-stream"));
    accepts && *req.method() == Method::Get && streamable(&segments_of(req.url())).is_some()
}

/// Answer a streaming request on its own thread.
pub(crate) fn open_stream(shared: &Arc<Shared>, req: Request) {
    let url = req.url().to_string();
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let Some((what, id)) = streamable(&segments_of(&url)) else {
        return respond(req, Reply::problem(&problems::not_found()));
    };
    let account = match id.map(parse_account).transpose() {
        Ok(a) => a,
        Err(reply) => return respond(req, reply),
    };
    let mut p = match paging(query) {
        Ok(p) => p,
        Err(reply) => return respond(req, reply),
    };
    if p.desc {
        // Horizon streams only ascending
        return respond(
            req,
            Reply::problem(&problems::bad_request(
                "order",
                "order: Must be \"asc\" when streaming",
            )),
        );
    }
    // a reconnecting EventSource sends the last id it saw
    let last_event_id = req
        .headers()
        .iter()
        .find(|h| h.field.equiv("Last-Event-ID"))
        .map(|h| h.value.as_str().to_string());
    if let Some(id) = last_event_id.filter(|id| !id.is_empty()) {
        p.cursor = Some(id);
    }
    let cursor = {
        let inner = shared.lock();
        cursor_token(&inner, p.cursor.as_deref(), false)
    };
    let cursor = match cursor {
        Ok(c) => c,
        Err(reply) => return respond(req, reply),
    };
    if shared.streams.fetch_add(1, Ordering::SeqCst) >= stream::MAX_STREAMS {
        shared.streams.fetch_sub(1, Ordering::SeqCst);
        return respond(req, faults::plain_503());
    }
    let limit = p.limit;
    let source: stream::Source = Box::new(move |shared: &Shared, inner: &Inner, after: i64| {
        // each round is a new page from the last id: ascending, adjusted to the history held
        let after = cursor_token(inner, Some(&after.to_string()), false).unwrap_or(after);
        let page = Paging {
            cursor: None,
            desc: false,
            limit: 200,
            include_failed: p.include_failed,
            join: p.join,
        };
        records(shared, inner, what, account, after, &page)
    });
    let events = stream::Events::new(Arc::clone(shared), source, cursor, limit);
    let shared = Arc::clone(shared);
    std::thread::spawn(move || {
        stream::serve(req, events);
        shared.streams.fetch_sub(1, Ordering::SeqCst);
    });
}
