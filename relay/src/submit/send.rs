//! Send and poll: one blob goes to Horizon until its outcome is certain or `--timeout` passes.
//! A 504 is polled by hash, a 429 waits `Retry-After`, 503s and connection errors back off with
//! jitter; the same bytes are sent every time.

use super::lanes::Run;
use super::{
    fee_bump, from_ledger, note, op_types, unsent, Ready, Record, Server, Status, SubmitError,
};
use crate::horizon::{Horizon, HorizonError, Submission, SUBMIT_REQUEST_TIMEOUT};
use crate::online;
use airgap::horizon::codes::ResultCodes;
use airgap::horizon::Transaction as TxRecord;
use airgap::review::{duration_words, time_words};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use stellar_xdr::TransactionEnvelope;

/// Look the transaction up by hash (inner first for a fee bump made here).
fn stored_outcome(h: &Horizon, hashes: &[&str]) -> Result<Option<TxRecord>, HorizonError> {
    // A look-up rides out a brief 429/503 (a few seconds), no more: callers loop anyway.
    let deadline = Instant::now() + Duration::from_secs(5);
    for hash in hashes {
        if let Some(rec) = online::retry(deadline, |t| h.transaction(hash, t))? {
            return Ok(Some(rec));
        }
    }
    Ok(None)
}

/// What a look-up by hash settled on.
enum Lookup {
    Found(Box<TxRecord>),
    /// Horizon answered: no such transaction.
    Absent,
    /// Horizon could not be asked before the deadline.
    Unknown(String),
}

/// Look the transaction up until Horizon gives an answer (found or not) or the deadline passes.
fn settled_lookup(h: &Horizon, hashes: &[&str], deadline: Instant) -> Lookup {
    loop {
        let last = match stored_outcome(h, hashes) {
            Ok(Some(rec)) => return Lookup::Found(Box::new(rec)),
            Ok(None) => return Lookup::Absent,
            Err(e) => e.to_string(),
        };
        if Instant::now() >= deadline
            || !online::sleep_until_deadline(Duration::from_millis(500), deadline)
        {
            return Lookup::Unknown(last);
        }
    }
}

/// Send one blob until its outcome is known or the timeout passes.
///
/// Returns the record and Horizon's last answer (kept in the journal with the outcome: answers
/// that decide nothing are not committed one by one).
pub(super) fn submit_one(
    run: &Run<'_>,
    r: &Ready,
    resend: Option<(String, String)>,
) -> Result<(Record, Option<String>), SubmitError> {
    let opts = run.opts;
    // The exact bytes to send: from the journal when an earlier run sent something, else the blob
    // as given (or the fee bump made around it, the same bytes the first pass checked).
    let (bytes, sent_hash) = match resend {
        Some(x) => x,
        None => match fee_bump(opts, &r.env) {
            Ok(Some(bump)) => bump,
            Ok(None) => (r.text.clone(), r.hash.clone()),
            Err(e) => return Ok((unsent(r, Status::Error, format!("not sent: {e}")), None)),
        },
    };
    let mut last_response: Option<String> = None;
    // The seam between the backends: everything around this line is the same run.
    let rec = match &opts.server {
        Server::Horizon(horizon) => {
            send_until_known(run, horizon, r, &bytes, &sent_hash, &mut last_response)?
        }
        Server::Rpc(rpc) => super::rpc::send_until_known(run, rpc, r, &bytes, &sent_hash)?,
    };
    Ok((rec, last_response))
}

/// Send `bytes` (hash `sent_hash`) until the outcome is known or the deadline passes.
fn send_until_known(
    run: &Run<'_>,
    h: &Horizon,
    r: &Ready,
    bytes: &str,
    sent_hash: &str,
    last_response: &mut Option<String>,
) -> Result<Record, SubmitError> {
    let opts = run.opts;
    let mut deadline = Instant::now() + opts.timeout;
    let sent_hash = sent_hash.to_string();
    let fee_bump_hash = (sent_hash != r.hash).then(|| sent_hash.clone());
    let mut lookups: Vec<&str> = vec![&r.hash];
    if sent_hash != r.hash {
        lookups.push(&sent_hash);
    }
    let base = |status, message: String| Record {
        fee_bump_hash: fee_bump_hash.clone(),
        ..unsent(r, status, message)
    };
    // Already in a ledger? Then its stored outcome is the answer; nothing is sent.
    match stored_outcome(h, &lookups) {
        Ok(Some(rec)) => {
            return Ok(from_ledger(
                r,
                &rec,
                fee_bump_hash.clone(),
                " (already there: its stored outcome; nothing was sent)",
            ))
        }
        Ok(None) => {}
        Err(e) => note(format!(
            "could not look {} up first ({e}); sending it",
            r.hash
        )),
    }
    let mut attempt: u32 = 0;
    let mut last: String;
    loop {
        if let Some(j) = run.journal() {
            // Durable before the request goes out, with the answer to the previous attempt.
            j.sending(&r.hash, &sent_hash, bytes, last_response.as_deref())?;
        }
        note(format!("sending {} ({})", r.input, short(&sent_hash)));
        let wait: Duration;
        match h.submit(bytes, online::budget(deadline, SUBMIT_REQUEST_TIMEOUT)) {
            Ok((answer, reply)) => {
                *last_response = Some(format!(
                    "{} {}",
                    reply.status,
                    String::from_utf8_lossy(&reply.body)
                ));
                match answer {
                    Submission::Success(rec) => {
                        return Ok(from_ledger(r, &rec, fee_bump_hash.clone(), ""));
                    }
                    Submission::Failed {
                        transaction,
                        inner_transaction,
                        operations,
                        ..
                    } => {
                        let codes = ResultCodes {
                            transaction,
                            inner_transaction,
                            operations,
                        };
                        let tx_code = codes
                            .inner_transaction
                            .as_deref()
                            .unwrap_or(&codes.transaction);
                        if tx_code == "tx_too_early" {
                            let now = reply.date.unwrap_or_else(SystemTime::now);
                            let from = valid_from(&r.env);
                            if opts.wait {
                                wait_until_valid(r, from, now);
                                // The time waited is not the blob's to send in.
                                deadline = Instant::now() + opts.timeout;
                                attempt = 0;
                                continue;
                            }
                            return Ok(Record {
                                result_codes: Some(codes),
                                ..base(Status::Pending, not_valid_yet(from, now))
                            });
                        }
                        // tx_bad_seq after an earlier attempt (of this run or an earlier one)
                        // may mean that attempt landed: only a definite "not there" rules it out.
                        if codes.transaction == "tx_bad_seq"
                            || codes.inner_transaction.as_deref() == Some("tx_bad_seq")
                        {
                            match settled_lookup(h, &lookups, deadline) {
                                Lookup::Found(rec) => {
                                    return Ok(from_ledger(
                                        r,
                                        &rec,
                                        fee_bump_hash.clone(),
                                        " (an earlier attempt)",
                                    ))
                                }
                                Lookup::Absent => {}
                                Lookup::Unknown(e) => {
                                    return Ok(base(
                                        Status::Pending,
                                        format!("Horizon answered tx_bad_seq, and whether an earlier attempt landed could not be read ({e}); run the same command again: it looks the hash up first"),
                                    ))
                                }
                            }
                        }
                        let explanations = codes.explain(&op_types(&r.env));
                        // tx_failed is also what stellar-core answers when an operation is
                        // invalid before any ledger (op_malformed, op_bad_auth, …): then the
                        // sequence number is not used, and no record will ever appear.
                        let rejected = codes.applied() && !sequence_used(h, r, deadline);
                        if codes.applied() && !rejected {
                            // In a ledger: its record names the ledger (Horizon's 400 does not).
                            // A decided outcome is never recorded without it.
                            let span = deadline.saturating_duration_since(Instant::now());
                            return Ok(match poll(h, &lookups, deadline, span) {
                                Some(rec) => from_ledger(r, &rec, fee_bump_hash.clone(), ""),
                                None => base(
                                    Status::Pending,
                                    format!(
                                        "Horizon says it failed in a ledger ({}), but its record could not be read yet; run the same command again to record it",
                                        codes.transaction
                                    ),
                                ),
                            });
                        }
                        return Ok(Record {
                            ledger: None,
                            result_codes: Some(codes),
                            explanations,
                            ..base(
                                Status::Failed,
                                "rejected by the network; nothing was applied and no fee was charged"
                                    .to_string(),
                            )
                        });
                    }
                    Submission::Malformed(detail) => {
                        return Ok(base(
                            Status::Error,
                            format!("Horizon could not decode the envelope ({detail}); nothing was applied"),
                        ));
                    }
                    Submission::Refused(status, detail) => {
                        return Ok(base(
                            Status::Error,
                            format!("Horizon refused the submission with {status} ({detail}); nothing was applied; check --horizon"),
                        ));
                    }
                    Submission::Timeout => {
                        last = "Horizon timed out (504): the outcome is not known yet".into();
                        note(format!(
                            "{last}; polling GET /transactions/{}",
                            short(&sent_hash)
                        ));
                        if let Some(rec) = poll(h, &lookups, deadline, Duration::from_secs(5)) {
                            return Ok(from_ledger(r, &rec, fee_bump_hash.clone(), ""));
                        }
                        wait = Duration::ZERO;
                    }
                    Submission::RateLimited(after) => {
                        let after = after.unwrap_or(Duration::from_secs(1));
                        last = format!(
                            "rate limited (429); Horizon asked to wait {}s",
                            after.as_secs()
                        );
                        note(&last);
                        wait = after;
                    }
                    Submission::Unavailable(status, detail) => {
                        last = format!("Horizon answered {status} ({detail})");
                        wait = online::backoff(attempt);
                        note(format!(
                            "{last}; {}",
                            online::next_try(attempt, wait, deadline)
                        ));
                    }
                }
            }
            Err(e) => {
                last = format!("{e}");
                wait = online::backoff(attempt);
                note(format!(
                    "{last}; {}",
                    online::next_try(attempt, wait, deadline)
                ));
            }
        }
        attempt += 1;
        if !wait.is_zero() && !online::sleep_until_deadline(wait, deadline) {
            break;
        }
        if Instant::now() >= deadline {
            break;
        }
        // Before sending again: did an earlier attempt land?
        if let Ok(Some(rec)) = stored_outcome(h, &lookups) {
            return Ok(from_ledger(r, &rec, fee_bump_hash.clone(), ""));
        }
    }
    Ok(base(
        Status::Pending,
        format!(
            "outcome not known after {}s ({last}); nothing was changed: run the same command again, it sends the same bytes only",
            opts.timeout.as_secs()
        ),
    ))
}

/// After Horizon answered `tx_failed`: has the (inner) transaction's source account used its
/// sequence number? Horizon answers a failure in a ledger only once the ledger is ingested, so an
/// account still below the transaction's sequence means it was rejected before any ledger. When
/// the account cannot be read, assume it was used (the outcome is then looked up, as before).
fn sequence_used(h: &Horizon, r: &Ready, deadline: Instant) -> bool {
    let source = airgap::envelope::source(&r.env);
    let seq = airgap::envelope::sequence(&r.env);
    let until = deadline.min(Instant::now() + Duration::from_secs(10));
    match online::retry(until, |t| h.account(&source, t)) {
        Ok(Some((account, _))) => account.sequence().is_none_or(|s| s >= seq),
        Ok(None) => false,
        Err(_) => true,
    }
}

/// Poll `GET /transactions/{hash}` about once a second for up to `span` (or the deadline).
fn poll(h: &Horizon, hashes: &[&str], deadline: Instant, span: Duration) -> Option<TxRecord> {
    let until = (Instant::now() + span).min(deadline);
    loop {
        if let Ok(Some(rec)) = stored_outcome(h, hashes) {
            return Some(rec);
        }
        if Instant::now() >= until || !online::sleep_until_deadline(Duration::from_secs(1), until) {
            return None;
        }
    }
}

pub(super) fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The blob's min time, when it has one (a blob held back by ledger bounds has none to wait for).
pub(super) fn valid_from(env: &TransactionEnvelope) -> Option<u64> {
    let (min, _) = airgap::envelope::time_bounds(&airgap::envelope::transaction(env));
    (min > 0).then_some(min)
}

/// The line of a blob that is not valid yet.
pub(super) fn not_valid_yet(from: Option<u64>, now: SystemTime) -> String {
    let when = match from {
        Some(t) if t > unix(now) => format!(
            "valid from {} (in {})",
            time_words(t),
            duration_words(t - unix(now))
        ),
        Some(t) => format!(
            "valid from {} by its time bounds; the network's clock has not got there yet",
            time_words(t)
        ),
        None => "valid only from a later ledger (its ledger bounds)".to_string(),
    };
    format!(
        "not valid yet (tx_too_early): {when}; nothing was applied and no fee charged. It stays where it is: run the same command then, or with --wait"
    )
}

/// `--wait`: sleep until the blob's min time (by Horizon's clock `now`), saying so; a blob held
/// back by its ledger bounds is tried again after about a ledger.
pub(super) fn wait_until_valid(r: &Ready, from: Option<u64>, now: SystemTime) {
    let left = from.map_or(0, |t| t.saturating_sub(unix(now)));
    let total = Duration::from_secs(left.max(5) + 1);
    note(format!(
        "{} is not valid yet (tx_too_early); waiting {} for it{} (interrupting is safe: run the same command again)",
        r.input,
        duration_words(total.as_secs()),
        from.map(|t| format!(", until {}", time_words(t))).unwrap_or_default()
    ));
    let end = Instant::now() + total;
    let mut next_note = Instant::now() + Duration::from_secs(300);
    while Instant::now() < end {
        std::thread::sleep(
            end.saturating_duration_since(Instant::now())
                .min(Duration::from_secs(30)),
        );
        if Instant::now() >= next_note && Instant::now() < end {
            note(format!(
                "still waiting for {}: {} left",
                r.input,
                duration_words(end.saturating_duration_since(Instant::now()).as_secs())
            ));
            next_note = Instant::now() + Duration::from_secs(300);
        }
    }
}
