//! Submitting one envelope over Stellar RPC with submit's guarantees (`sendTransaction`, then
//! `getTransaction` by hash):
//! - `TRY_AGAIN_LATER` (one transaction per source account per ledger) is waited out: the same
//!   bytes are sent again once a later ledger closed; never reported as a failure;
//! - `DUPLICATE` is polled, never sent again as new;
//! - `ERROR` is read from `errorResultXdr` (codes through `airgap::horizon::codes`), but only
//!   after `getTransaction` says the hash is in no ledger: an earlier send whose answer was lost
//!   may have applied it (a resend then reads `tx_bad_seq`);
//! - `NOT_FOUND` is final only when the transaction's max time is before the latest ledger's
//!   close time (no later ledger can take it); before that, a transaction the queue dropped is
//!   sent again, same bytes, once per ledger;
//! - a server that does not answer is retried until the deadline, which leaves it `Pending`
//!   (safe to run again: the hash is polled before anything is resent).
use std::time::{Duration, Instant, SystemTime};

use airgap::horizon::codes::ResultCodes;
use airgap::rpc::TxStatus;

use super::lanes::Run;
use super::send::{not_valid_yet, short, valid_from, wait_until_valid};
use super::{in_ledger, note, op_types, unsent, Ready, Record, Status, SubmitError};
use crate::online;
use crate::rpc::{Rpc, RpcError, Sent};

/// `submit`'s sender over Stellar RPC: look the hash up first (a transaction already in a ledger
/// is reported with its outcome and not sent), make the bytes durable in the journal, then
/// [`submit`] them until decided; the record is the one Horizon's sender would write.
pub(super) fn send_until_known(
    run: &Run<'_>,
    rpc: &Rpc,
    r: &Ready,
    bytes: &str,
    sent_hash: &str,
) -> Result<Record, SubmitError> {
    let opts = run.opts;
    let fee_bump_hash = (sent_hash != r.hash).then(|| sent_hash.to_string());
    let base = |status, message: String| Record {
        fee_bump_hash: fee_bump_hash.clone(),
        ..unsent(r, status, message)
    };
    let applied = |o: &Outcome, how: &str| match o {
        Outcome::Applied {
            ledger,
            successful,
            result_xdr,
        } => Some(in_ledger(
            r,
            *ledger,
            *successful,
            result_xdr.as_deref(),
            fee_bump_hash.clone(),
            how,
        )),
        _ => None,
    };
    // Already in a ledger? Then its outcome is the answer; nothing is sent.
    let first = Instant::now() + Duration::from_secs(5).min(opts.timeout);
    match online::retry_until(first, || lookup(rpc, sent_hash)) {
        Ok((Some(done), _, _)) => {
            if let Some(rec) = applied(
                &done,
                " (already there: its stored outcome; nothing was sent)",
            ) {
                return Ok(rec);
            }
        }
        Ok(_) => {}
        Err(e) => note(format!(
            "could not look {} up first ({e}); sending it",
            r.hash
        )),
    }
    let (_, max_time) = airgap::envelope::time_bounds(&airgap::envelope::transaction(&r.env));
    loop {
        if let Some(j) = run.journal() {
            // Durable before the request goes out.
            j.sending(&r.hash, sent_hash, bytes, None)?;
        }
        note(format!("sending {} ({})", r.input, short(sent_hash)));
        let deadline = Instant::now() + opts.timeout;
        let outcome = submit(rpc, bytes, sent_hash, Some(max_time), deadline);
        return Ok(match outcome {
            Outcome::Applied {
                ledger,
                successful,
                result_xdr,
            } => in_ledger(
                r,
                ledger,
                successful,
                result_xdr.as_deref(),
                fee_bump_hash.clone(),
                "",
            ),
            Outcome::Refused { codes } => {
                let tx_code = codes
                    .inner_transaction
                    .as_deref()
                    .unwrap_or(&codes.transaction);
                if tx_code == "tx_too_early" {
                    let now = SystemTime::now();
                    let from = valid_from(&r.env);
                    if opts.wait {
                        wait_until_valid(r, from, now);
                        continue;
                    }
                    return Ok(Record {
                        result_codes: Some(codes),
                        ..base(Status::Pending, not_valid_yet(from, now))
                    });
                }
                Record {
                    explanations: codes.explain(&op_types(&r.env)),
                    result_codes: Some(codes),
                    ..base(
                        Status::Failed,
                        "rejected by the network; nothing was applied and no fee was charged"
                            .to_string(),
                    )
                }
            }
            Outcome::Expired {
                max_time,
                latest_close,
            } => {
                let codes = match &fee_bump_hash {
                    Some(_) => ResultCodes {
                        transaction: "tx_fee_bump_inner_failed".into(),
                        inner_transaction: Some("tx_too_late".into()),
                        operations: Vec::new(),
                    },
                    None => ResultCodes {
                        transaction: "tx_too_late".into(),
                        inner_transaction: None,
                        operations: Vec::new(),
                    },
                };
                Record {
                    explanations: codes.explain(&op_types(&r.env)),
                    result_codes: Some(codes),
                    ..base(
                        Status::Failed,
                        format!(
                            "in no ledger, and its time bounds ended ({}) before the latest ledger closed ({}): it can never apply; nothing was applied and no fee was charged",
                            airgap::review::time_words(max_time),
                            airgap::review::time_words(latest_close)
                        ),
                    )
                }
            }
            Outcome::Pending { reason } => base(
                Status::Pending,
                format!(
                    "outcome not known after {}s ({reason}); nothing was changed: run the same command again, it sends the same bytes only",
                    opts.timeout.as_secs()
                ),
            ),
        });
    }
}

/// How often `getTransaction` and `getLatestLedger` are polled: small against a 5 s ledger, so
/// an account's next transaction goes out right after its previous one's ledger closed.
pub const POLL: Duration = Duration::from_millis(100);

/// How one envelope ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// In a ledger; `successful` or failed (fee charged, sequence used).
    Applied {
        ledger: u32,
        successful: bool,
        result_xdr: Option<String>,
    },
    /// Refused at admission, in no ledger: never applied, no fee.
    Refused { codes: ResultCodes },
    /// Not found after its max time passed the latest ledger's close time: it can never apply.
    Expired { max_time: u64, latest_close: u64 },
    /// Not decided before the deadline (the server did not answer, or the ledger did not take it
    /// yet): run again.
    Pending { reason: String },
}

impl Outcome {
    /// The submit status (and so the exit code) this outcome is.
    pub fn status(&self) -> Status {
        match self {
            Outcome::Applied {
                successful: true, ..
            } => Status::Success,
            // Refused or expired is decided by the network too, as a rejection over Horizon is:
            // failed (exit 2), nothing applied.
            Outcome::Applied { .. } | Outcome::Refused { .. } | Outcome::Expired { .. } => {
                Status::Failed
            }
            Outcome::Pending { .. } => Status::Pending,
        }
    }
}

/// The transaction by hash, if RPC holds it in a ledger: `Ok(None)` for `NOT_FOUND`, with the
/// latest ledger's sequence and close time.
fn lookup(rpc: &Rpc, hash: &str) -> Result<(Option<Outcome>, u32, u64), RpcError> {
    let t = rpc.transaction(hash)?;
    let found = match t.details.status {
        TxStatus::Success | TxStatus::Failed => Some(Outcome::Applied {
            ledger: t.details.ledger.unwrap_or(0),
            successful: t.details.status == TxStatus::Success,
            result_xdr: t.details.result_xdr,
        }),
        TxStatus::NotFound | TxStatus::Unknown => None,
    };
    Ok((found, t.latest_ledger, t.latest_ledger_close_time))
}

/// Send `envelope_b64` (whose hash is `hash`, hex) and follow it until it is decided or
/// `deadline` passes. `max_time` is the transaction's upper time bound (0 or `None`: none).
pub fn submit(
    rpc: &Rpc,
    envelope_b64: &str,
    hash: &str,
    max_time: Option<u64>,
    deadline: Instant,
) -> Outcome {
    let max_time = max_time.filter(|t| *t != 0);
    let mut last_error = String::from("no answer yet");
    // the ledger after which the bytes are sent (again); 0: send now
    let mut send_after: u32 = 0;
    // requests failed in a row (for the backoff)
    let mut failures: u32 = 0;
    loop {
        if Instant::now() > deadline {
            return Outcome::Pending { reason: last_error };
        }
        // Idempotent: ask by hash before every send, so nothing is reported twice or misread.
        let latest = match lookup(rpc, hash) {
            Ok((Some(done), _, _)) => return done,
            Ok((None, latest, close)) => {
                if let Some(max) = max_time {
                    if max < close {
                        return Outcome::Expired {
                            max_time: max,
                            latest_close: close,
                        };
                    }
                }
                latest
            }
            Err(e) => {
                last_error = e.to_string();
                pause(&e, &mut failures, deadline);
                continue;
            }
        };
        failures = 0;
        if latest <= send_after {
            std::thread::sleep(POLL);
            continue;
        }
        match rpc.send(envelope_b64) {
            // queued: poll until a later ledger, then look again (and resend if it was dropped)
            Ok(Sent::Pending { .. }) => send_after = latest,
            Ok(Sent::Duplicate { .. }) => {
                note(format!(
                    "{}: DUPLICATE (the server holds it already): polling it, not sending it as new",
                    short(hash)
                ));
                send_after = latest;
            }
            Ok(Sent::TryAgainLater { latest_ledger }) => {
                note(format!(
                    "{}: TRY_AGAIN_LATER (its account's one transaction of ledger {} is taken): the same bytes go again once it closed",
                    short(hash),
                    latest_ledger + 1
                ));
                send_after = latest_ledger;
                last_error = "the account's one transaction per ledger was taken".into();
            }
            Ok(Sent::Error { codes, .. }) => {
                // an earlier send may have applied it: only the hash's absence makes it final
                match lookup(rpc, hash) {
                    Ok((Some(done), _, _)) => return done,
                    Ok((None, _, _)) => return Outcome::Refused { codes },
                    Err(e) => last_error = e.to_string(),
                }
            }
            Err(e) => {
                last_error = e.to_string();
                pause(&e, &mut failures, deadline);
                continue;
            }
        }
        std::thread::sleep(POLL);
    }
}

/// After a failed request: the wait the server asked for (`Retry-After`), else capped
/// exponential backoff with jitter, not past `deadline`.
fn pause(e: &RpcError, failures: &mut u32, deadline: Instant) {
    let wait = e
        .retry_after()
        .unwrap_or_else(|| online::backoff(*failures))
        .max(POLL);
    *failures = failures.saturating_add(1);
    online::sleep_until_deadline(wait, deadline);
}

#[cfg(test)]
mod tests {
    use super::*;
    use airgap::keys::SecretSeed;

    /// Over the sandbox's RPC with 300 ms ledgers: a second transaction of one account is held by
    /// TRY_AGAIN_LATER and still lands; a resend of an applied one is reported applied (not
    /// tx_bad_seq); a stale sequence is refused with its code; each lands exactly once.
    #[test]
    fn guarantees_over_the_sandbox() {
        let mut config = airgap_sandbox::SandboxConfig::ephemeral();
        config.close_every = Duration::from_millis(300);
        let sandbox = airgap_sandbox::start(config).unwrap();
        let rpc = Rpc::new(&sandbox.rpc_url()).unwrap();
        let key = SecretSeed::generate().unwrap();
        let id = key.public_key();
        ureq::get(&format!("{}/friendbot?addr={id}", sandbox.url()))
            .call()
            .unwrap();
        let seq = rpc.account(&id.to_xdr()).unwrap().unwrap().seq_num.0;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let tx = |sequence: i64| crate::test_support::create_account_tx(&key, sequence);
        let deadline = || Instant::now() + Duration::from_secs(20);
        let (first, second) = (tx(seq + 1), tx(seq + 2));
        assert!(matches!(rpc.send(&first.0).unwrap(), Sent::Pending { .. }));
        // the first holds the account's place in this ledger
        let two = submit(&rpc, &second.0, &second.1, Some(now + 3600), deadline());
        assert_eq!(two.status(), Status::Success, "{two:?}");
        let one = submit(&rpc, &first.0, &first.1, Some(now + 3600), deadline());
        assert_eq!(one.status(), Status::Success, "{one:?}");
        let (Outcome::Applied { ledger: l1, .. }, Outcome::Applied { ledger: l2, .. }) =
            (&one, &two)
        else {
            unreachable!()
        };
        assert!(l1 < l2, "one transaction per account per ledger");
        // sent again after it applied: still the applied outcome, not a refusal
        assert_eq!(submit(&rpc, &first.0, &first.1, None, deadline()), one);
        let stale = tx(seq + 1);
        match submit(&rpc, &stale.0, &stale.1, None, deadline()) {
            Outcome::Refused { codes } => assert_eq!(codes.transaction, "tx_bad_seq"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            rpc.account(&id.to_xdr()).unwrap().unwrap().seq_num.0,
            seq + 2
        );
        sandbox.shutdown();
    }
}
