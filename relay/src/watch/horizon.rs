//! Watching over Horizon: one payments stream per watched account
//! (`GET /accounts/{id}/payments?join=transactions&cursor=…`, Server-Sent Events), each on a
//! thread of its own, from the stored cursor and never from `now`.
//!
//! Each connection starts with `GET /`: its `history_elder_ledger` is checked against the
//! cursor (Horizon silently moves an older cursor forward, so the watcher must look itself), and
//! its latest ledger H is what a quiet stream proves: a stream opened after H was ingested that
//! closes normally (Horizon's goodbye after its idle timeout, fewer records than the limit) has
//! delivered every record up to H, so the cursor moves to H even when nothing came. Reconnecting
//! after a goodbye is routine and silent; failures are said on stderr when they repeat, then
//! every few seconds, with backoff and jitter between attempts.
use super::classify::{self, Rules};
use super::sse::Events;
use super::{gap_of, position, Edges, Msg, SAY_EVERY};
use crate::db::{Cursor, Source};
use crate::horizon::{Horizon, HorizonError};
use crate::online::backoff;
use crate::progress::say;
use airgap::horizon::Payment;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Records per connection (Horizon's most); the stream closes after that many and is opened
/// again at once.
pub const LIMIT: usize = 200;

/// A stream that sends nothing for this long is taken for dead (Horizon says goodbye at 55 s).
pub const IDLE: Duration = Duration::from_secs(65);

/// The oldest and latest ledgers Horizon holds (`GET /`).
pub fn edges(h: &Horizon) -> Result<Edges, HorizonError> {
    let (root, _) = h.root(crate::horizon::GET_REQUEST_TIMEOUT)?;
    Ok(Edges {
        oldest: root.history_elder_ledger.max(1),
        latest: root.history_latest_ledger,
    })
}

/// Where a Horizon stream resumes from a stored cursor: its own paging token, or, for one the
/// RPC backend wrote, the start of the ledger after the one it had read through.
pub fn resume_from(c: &Cursor) -> Cursor {
    match c.source {
        Source::Horizon => c.clone(),
        Source::Rpc => position(&c.account, Source::Horizon, c.ledger),
    }
}

/// How one connection ended.
enum End {
    /// Horizon's goodbye.
    Closed,
    /// Stopped, or the recording loop is gone.
    Stop,
}

/// Read `account`'s payments from `start` on, for ever (until `stop`), sending what they credit.
pub fn reader(
    url: String,
    account: String,
    start: Cursor,
    rules: Arc<Rules>,
    tx: Sender<Msg>,
    stop: Arc<AtomicBool>,
) {
    let h = match Horizon::new(&url) {
        Ok(h) => h,
        Err(e) => {
            let _ = tx.send(Msg::Fatal(e.to_string()));
            return;
        }
    };
    let mut cursor = resume_from(&start);
    let mut failures = 0u32;
    let mut said: Option<Instant> = None;
    while !stop.load(Ordering::SeqCst) {
        let result = connection(&h, &account, &mut cursor, &rules, &tx, &stop);
        match result {
            Ok(End::Stop) => return,
            Ok(End::Closed) => {
                if said.take().is_some() {
                    say(format!(
                        "the payments stream of {account} is back after {failures} failed attempts"
                    ));
                }
                failures = 0;
            }
            Err(Failure::Fatal(why)) => {
                let _ = tx.send(Msg::Fatal(why));
                return;
            }
            Err(Failure::Retry(why)) => {
                failures += 1;
                // One failure is routine (a proxy's idle cut, a restart); say it when it repeats,
                // then every few seconds while it goes on.
                if failures >= 2 && said.is_none_or(|t| t.elapsed() >= SAY_EVERY) {
                    say(format!(
                        "the payments stream of {account} failed {failures} times in a row ({why}); still trying, from {}",
                        cursor.cursor
                    ));
                    said = Some(Instant::now());
                }
                if super::sleep_unless_stopped(backoff(failures - 1), &stop) {
                    return;
                }
            }
        }
    }
}

enum Failure {
    Retry(String),
    Fatal(String),
}

fn connection(
    h: &Horizon,
    account: &str,
    cursor: &mut Cursor,
    rules: &Rules,
    tx: &Sender<Msg>,
    stop: &AtomicBool,
) -> Result<End, Failure> {
    let retry = |e: &dyn std::fmt::Display| Failure::Retry(e.to_string());
    let edges = edges(h).map_err(|e| retry(&e))?;
    if let Some(gap) = gap_of(account, cursor.ledger, edges.oldest) {
        let resume = position(account, Source::Horizon, edges.oldest - 1);
        let msg = Msg::Gap {
            gap,
            stood_at: cursor.ledger,
            elder: edges.oldest,
            resume: resume.clone(),
        };
        if tx.send(msg).is_err() {
            return Ok(End::Stop);
        }
        *cursor = resume;
    }
    let path = format!(
        "/accounts/{account}/payments?join=transactions&limit={LIMIT}&cursor={}",
        cursor.cursor
    );
    let body = h
        .stream(&path, Some(&cursor.cursor), IDLE)
        .map_err(|e| match &e {
            HorizonError::Status { status, .. } if !e.is_transient() && *status != 404 => {
                Failure::Fatal(e.to_string())
            }
            _ => retry(&e),
        })?;
    let mut n = 0usize;
    for event in Events::new(body) {
        if stop.load(Ordering::SeqCst) {
            return Ok(End::Stop);
        }
        let event = event.map_err(|e| retry(&format!("the stream broke: {e}")))?;
        match event.event.as_str() {
            "open" => {}
            "close" => {
                // Everything up to the ledger Horizon had before this connection was read,
                // unless the stream closed because it reached its limit.
                if n < LIMIT && edges.latest > cursor.ledger {
                    let quiet = position(account, Source::Horizon, edges.latest);
                    if tx
                        .send(Msg::Batch {
                            cursors: vec![quiet.clone()],
                            rows: vec![],
                        })
                        .is_err()
                    {
                        return Ok(End::Stop);
                    }
                    *cursor = quiet;
                }
                return Ok(End::Closed);
            }
            "error" => return Err(retry(&format!("Horizon said: {}", event.data))),
            _ => {
                let record: Payment = serde_json::from_str(&event.data)
                    .map_err(|e| Failure::Fatal(format!("a payment record cannot be read: {e}")))?;
                let credit = classify::from_horizon(&record, account)
                    .map_err(|e| Failure::Fatal(e.to_string()))?;
                let (ledger, _) = classify::toid_parts(&record.paging_token).ok_or_else(|| {
                    Failure::Fatal(format!("paging token {:?}", record.paging_token))
                })?;
                let next = Cursor {
                    account: account.to_string(),
                    stream: super::STREAM.to_string(),
                    source: Source::Horizon,
                    cursor: record.paging_token.clone(),
                    // Read through the ledger before this record's (the rest of its own may
                    // still come).
                    ledger: ledger - 1,
                };
                let rows = credit.map(|c| c.into_row(rules)).into_iter().collect();
                if tx
                    .send(Msg::Batch {
                        cursors: vec![next.clone()],
                        rows,
                    })
                    .is_err()
                {
                    return Ok(End::Stop);
                }
                *cursor = next;
                n += 1;
            }
        }
    }
    Err(retry(&"the stream ended without Horizon's goodbye"))
}
