//! `submit`: send signed blobs to Horizon and find out, for certain, what became of each.
//!
//! Rules this module keeps:
//! * Nothing is sent unless every input parses and every signature verifies for the network
//!   Horizon serves (`GET /`), and `--network`, when given, agrees with Horizon.
//! * An envelope is never rebuilt or altered after it was first sent: retries send the same bytes
//!   (the journal keeps them, so a resumed run sends the same bytes too).
//! * Before the first send of each blob the relay asks `GET /transactions/{hash}`: a transaction
//!   already in a ledger is reported with its stored outcome and not sent. Between that check and
//!   the send, Horizon's own idempotency covers us: resubmitting a hash it already holds returns
//!   the stored result.
//! * 504 → poll `GET /transactions/{hash}`, then resubmit the same bytes, until `--timeout`;
//!   429 → wait `Retry-After`; 503/5xx/connection errors → capped exponential backoff with jitter.
use crate::codes::{self, ResultCodes};
use crate::horizon::{HorizonError, Submission, TxRecord, SUBMIT_REQUEST_TIMEOUT};
use crate::inputs::{self, Blob, Inputs};
use crate::journal::{Journal, JournalError, State};
use crate::online::{self, Online};
use crate::sigcheck;
use airgap::account::AccountId;
use airgap::envelope;
use airgap::feebump;
use airgap::keys::SecretSeed;
use airgap::review::op_type_name;
use serde::Serialize;
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use stellar_xdr::TransactionEnvelope;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SubmitError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("writing the results failed: {0}")]
    Output(std::io::Error),
}

/// The outcome of one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// In a ledger, successful.
    Success,
    /// Decided by the network: failed (in a ledger or rejected by it).
    Failed,
    /// Not known yet, or not sent for now: safe to run again.
    Pending,
    /// Refused: bad input, wrong network, bad signatures, or refused by Horizon unapplied.
    Error,
}

impl Status {
    pub fn exit_code(self) -> u8 {
        match self {
            Status::Success => 0,
            Status::Error => 1,
            Status::Failed => 2,
            Status::Pending => 3,
        }
    }
}

/// The exit code of a run: 0 when everything succeeded; otherwise the most serious code present,
/// in the order 1 (refused), 2 (failed), 3 (pending).
pub fn exit_code(statuses: impl IntoIterator<Item = Status>) -> u8 {
    let codes: Vec<u8> = statuses.into_iter().map(Status::exit_code).collect();
    [1, 2, 3]
        .into_iter()
        .find(|c| codes.contains(c))
        .unwrap_or(0)
}

/// One JSON record per input.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    pub input: String,
    /// The hash of the blob as given (for a fee bump made here: of the inner transaction).
    pub hash: Option<String>,
    pub status: Status,
    pub ledger: Option<u64>,
    pub result_codes: Option<ResultCodes>,
    pub message: String,
    /// The hash of the fee-bump transaction actually submitted, when `--fee-bump-key` was used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fee_bump_hash: Option<String>,
    /// One plain sentence per failing result code.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub explanations: Vec<String>,
}

/// A fee account that pays for every blob of the run.
pub struct FeeBump {
    pub seed: SecretSeed,
    pub max_fee: i64,
}

pub struct Options {
    pub online: Online,
    pub timeout: Duration,
    pub json: bool,
    pub fee_bump: Option<FeeBump>,
    pub journal: Option<PathBuf>,
}

/// Print one record: JSON, or a line for people (explanations indented below).
fn print(rec: &Record, json: bool) -> Result<(), SubmitError> {
    let mut out = std::io::stdout().lock();
    let text = if json {
        serde_json::to_string(rec).unwrap_or_default()
    } else {
        let status = match rec.status {
            Status::Success => "success",
            Status::Failed => "FAILED ",
            Status::Pending => "pending",
            Status::Error => "ERROR  ",
        };
        let mut s = format!(
            "{status} {} {}",
            rec.hash.as_deref().unwrap_or("-"),
            rec.input
        );
        if let Some(l) = rec.ledger {
            s.push_str(&format!(" (ledger {l})"));
        }
        s.push_str(&format!("\n        {}", rec.message));
        for e in &rec.explanations {
            s.push_str(&format!("\n        {e}"));
        }
        s
    };
    writeln!(out, "{text}")
        .and_then(|_| out.flush())
        .map_err(SubmitError::Output)
}

fn note(msg: impl AsRef<str>) {
    eprintln!("airgap-relay: {}", msg.as_ref());
}

/// A blob that passed the checks, with what will be sent.
struct Ready<'a> {
    blob: &'a Blob,
    env: &'a TransactionEnvelope,
    hash: String,
    source: AccountId,
    /// For `--fee-bump-key`: the signed fee bump and its hash.
    bump: Option<(String, String)>,
}

/// Check every input before anything is sent; `Err` holds the records of a refused run.
fn preflight<'a>(
    opts: &Options,
    inputs: &'a Inputs,
    deadline: Instant,
) -> Result<Vec<Ready<'a>>, Vec<Record>> {
    let net = &opts.online.network;
    let mut signers_of: HashMap<AccountId, Vec<AccountId>> = HashMap::new();
    let mut refused: Vec<Option<String>> = Vec::new();
    let mut ready = Vec::new();
    let mut unreachable: Option<String> = None;
    for blob in &inputs.blobs {
        let env = match &blob.envelope {
            Ok(env) => env,
            Err(e) => {
                refused.push(Some(format!("not sent: {e}")));
                continue;
            }
        };
        // Candidates: the accounts' own keys and their signers as Horizon knows them.
        let mut candidates = Vec::new();
        for acct in sigcheck::signing_accounts(env) {
            candidates.push(acct);
            let keys = signers_of.entry(acct).or_insert_with(|| {
                match online::retry(deadline, |t| opts.online.horizon.account(&acct, t)) {
                    Ok(Some((a, _))) => a
                        .signers
                        .iter()
                        .filter(|s| s.kind == "ed25519_public_key")
                        .filter_map(|s| s.key.parse::<AccountId>().ok())
                        .collect(),
                    Ok(None) => Vec::new(),
                    Err(e) => {
                        unreachable.get_or_insert(e.to_string());
                        Vec::new()
                    }
                }
            });
            candidates.extend(keys.iter().copied());
        }
        if let Some(why) = sigcheck::refusal(env, net, &candidates) {
            refused.push(Some(format!("not sent: {why}")));
            continue;
        }
        let hash = hex::encode(envelope::hash(env, net));
        let bump = match &opts.fee_bump {
            None => None,
            Some(fb) => match feebump::wrap(env, fb.seed.public_key(), fb.max_fee) {
                Err(e) => {
                    refused.push(Some(format!("not sent: {e}")));
                    continue;
                }
                Ok(mut outer) => match envelope::sign(&mut outer, net, &fb.seed) {
                    Err(e) => {
                        refused.push(Some(format!("not sent: {e}")));
                        continue;
                    }
                    Ok(()) => Some((
                        envelope::encode(&outer),
                        hex::encode(envelope::hash(&outer, net)),
                    )),
                },
            },
        };
        refused.push(None);
        ready.push(Ready {
            blob,
            env,
            hash,
            source: envelope::source(env),
            bump,
        });
    }
    let any_refused = refused.iter().any(Option::is_some);
    if !any_refused && unreachable.is_none() {
        return Ok(ready);
    }
    // Nothing is sent: say why for each input.
    let records = inputs
        .blobs
        .iter()
        .zip(refused)
        .map(|(blob, why)| {
            let hash = blob
                .envelope
                .as_ref()
                .ok()
                .map(|e| hex::encode(envelope::hash(e, net)));
            let (status, message) = match (why, &unreachable) {
                (Some(w), _) => (Status::Error, w),
                (None, Some(u)) if !any_refused => (
                    Status::Pending,
                    format!("not sent: the signers of its accounts could not be read ({u}); run again"),
                ),
                (None, _) => (
                    Status::Error,
                    "not sent, because another input of this run was refused; fix or remove that input and run again".to_string(),
                ),
            };
            Record {
                input: blob.input.clone(),
                hash,
                status,
                ledger: None,
                result_codes: None,
                message,
                fee_bump_hash: None,
                explanations: Vec::new(),
            }
        })
        .collect();
    Err(records)
}

/// Run `submit`. Returns the exit code.
pub fn run(opts: Options, inputs: Inputs) -> Result<u8, SubmitError> {
    let preflight_deadline = Instant::now() + opts.timeout;
    let ready = match preflight(&opts, &inputs, preflight_deadline) {
        Ok(r) => r,
        Err(records) => {
            for r in &records {
                print(r, opts.json)?;
            }
            note("nothing was sent.");
            return Ok(exit_code(records.iter().map(|r| r.status)));
        }
    };
    let journal = match &opts.journal {
        Some(p) => Some(Journal::open(p)?),
        None => None,
    };
    let mut statuses = Vec::new();
    // A source account whose earlier blob is undecided or rejected unapplied: its later blobs
    // cannot succeed yet (their sequence numbers depend on it), so they wait.
    let mut blocked: HashMap<AccountId, String> = HashMap::new();
    let mut decided: HashMap<String, Record> = HashMap::new();
    for r in &ready {
        let in_dir = inputs.directory.is_some();
        if let Some(j) = &journal {
            j.insert(
                &r.hash,
                &r.blob.input,
                &r.source.to_string(),
                &envelope::sequence(r.env).to_string(),
            )?;
        }
        let stored = match &journal {
            Some(j) => j.get(&r.hash)?,
            None => None,
        };
        // Already decided by an earlier run (journal) or earlier in this run (same blob twice).
        let mut rec = if let Some(prev) = decided.get(&r.hash) {
            Record {
                input: r.blob.input.clone(),
                ..prev.clone()
            }
        } else if let Some(e) = stored.as_ref().filter(|e| e.state.is_final()) {
            let rec = record_from_journal(r, e);
            if in_dir && e.reported {
                // Printed by the run that decided it; only the move may be left to do. A blob
                // another run has moved away meanwhile is no longer this run's business.
                if r.blob.path.as_ref().is_some_and(|p| p.exists()) {
                    finish_move(&inputs, r, &rec, journal.as_ref())?;
                    statuses.push(rec.status);
                }
                continue;
            }
            rec
        } else if let Some(why) = blocked.get(&r.source) {
            Record {
                input: r.blob.input.clone(),
                hash: Some(r.hash.clone()),
                status: Status::Pending,
                ledger: None,
                result_codes: None,
                message: format!("not sent: {why}; run again once that is resolved"),
                fee_bump_hash: None,
                explanations: Vec::new(),
            }
        } else {
            let resend = stored
                .as_ref()
                .and_then(|e| Some((e.submitted.clone()?, e.submitted_hash.clone()?)));
            let rec = submit_one(&opts, r, resend, journal.as_ref())?;
            if let Some(j) = &journal {
                let codes = rec
                    .result_codes
                    .as_ref()
                    .and_then(|c| serde_json::to_value(c).ok());
                let state = match rec.status {
                    Status::Success => State::Success,
                    Status::Failed => State::Failed,
                    Status::Pending => State::Pending,
                    Status::Error => State::Error,
                };
                j.outcome(&r.hash, state, rec.ledger, codes.as_ref(), &rec.message)?;
            }
            rec
        };
        // Later blobs of the same source wait when this one did not use its sequence number.
        let applied = match rec.status {
            Status::Success => true,
            Status::Failed => rec.result_codes.as_ref().is_some_and(ResultCodes::applied),
            _ => false,
        };
        if !applied && !blocked.contains_key(&r.source) {
            blocked.insert(
                r.source,
                format!(
                    "the earlier blob {} from the same source account ended {}",
                    r.blob.input,
                    serde_json::to_value(rec.status)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default()
                ),
            );
        }
        rec.input = r.blob.input.clone();
        print(&rec, opts.json)?;
        if let Some(j) = &journal {
            j.reported(&r.hash)?;
        }
        finish_move(&inputs, r, &rec, journal.as_ref())?;
        statuses.push(rec.status);
        decided.insert(r.hash.clone(), rec);
    }
    Ok(exit_code(statuses))
}

/// In a directory run, move a decided blob to `done/` or `failed/` (after its outcome is durable).
fn finish_move(
    inputs: &Inputs,
    r: &Ready<'_>,
    rec: &Record,
    journal: Option<&Journal>,
) -> Result<(), SubmitError> {
    let (Some(dir), Some(path)) = (&inputs.directory, &r.blob.path) else {
        return Ok(());
    };
    let success = match rec.status {
        Status::Success => true,
        Status::Failed => false,
        _ => return Ok(()),
    };
    if !path.exists() {
        return Ok(());
    }
    match inputs::move_finished(dir, path, success) {
        Ok(to) => {
            if let Some(j) = journal {
                j.moved(&r.hash, &to)?;
            }
        }
        Err(e) => note(format!(
            "could not move {} after its outcome was recorded: {e}",
            path.display()
        )),
    }
    Ok(())
}

fn record_from_journal(r: &Ready<'_>, e: &crate::journal::Entry) -> Record {
    let result_codes: Option<ResultCodes> = e
        .result_codes
        .clone()
        .and_then(|v| serde_json::from_value(v).ok());
    let explanations = result_codes
        .as_ref()
        .map(|c| c.explain(&op_types(r.env)))
        .unwrap_or_default();
    Record {
        input: r.blob.input.clone(),
        hash: Some(r.hash.clone()),
        status: match e.state {
            State::Success => Status::Success,
            _ => Status::Failed,
        },
        ledger: e.ledger.map(|l| l as u64),
        result_codes,
        message: e.message.clone().unwrap_or_default(),
        fee_bump_hash: e.submitted_hash.clone().filter(|h| *h != r.hash),
        explanations,
    }
}

fn op_types(env: &TransactionEnvelope) -> Vec<String> {
    envelope::transaction(env)
        .operations
        .iter()
        .map(|op| op_type_name(&op.body))
        .collect()
}

/// What a transaction stored in a ledger says.
fn from_ledger(r: &Ready<'_>, rec: &TxRecord, fee_bump_hash: Option<String>, how: &str) -> Record {
    let codes = codes::from_result_xdr(&rec.result_xdr);
    if rec.successful {
        Record {
            input: r.blob.input.clone(),
            hash: Some(r.hash.clone()),
            status: Status::Success,
            ledger: Some(rec.ledger),
            result_codes: codes,
            message: format!("in ledger {}{how}", rec.ledger),
            fee_bump_hash,
            explanations: Vec::new(),
        }
    } else {
        let explanations = codes
            .as_ref()
            .map(|c| c.explain(&op_types(r.env)))
            .unwrap_or_default();
        Record {
            input: r.blob.input.clone(),
            hash: Some(r.hash.clone()),
            status: Status::Failed,
            ledger: Some(rec.ledger),
            result_codes: codes,
            message: format!(
                "failed in ledger {}{how}; the fee was charged and the sequence number used",
                rec.ledger
            ),
            fee_bump_hash,
            explanations,
        }
    }
}

/// Look the transaction up by hash (inner first for a fee bump made here).
fn stored_outcome(opts: &Options, hashes: &[&str]) -> Result<Option<TxRecord>, HorizonError> {
    // A look-up rides out a brief 429/503 (a few seconds), no more: callers loop anyway.
    let deadline = Instant::now() + Duration::from_secs(5);
    for h in hashes {
        if let Some(rec) = online::retry(deadline, |t| opts.online.horizon.transaction(h, t))? {
            return Ok(Some(rec));
        }
    }
    Ok(None)
}

/// Send one blob until its outcome is known or the timeout passes.
fn submit_one(
    opts: &Options,
    r: &Ready<'_>,
    resend: Option<(String, String)>,
    journal: Option<&Journal>,
) -> Result<Record, SubmitError> {
    let deadline = Instant::now() + opts.timeout;
    // The exact bytes to send: from the journal when an earlier run sent something, else the blob
    // as given (or the fee bump made around it).
    let (bytes, sent_hash) = match resend {
        Some(x) => x,
        None => match &r.bump {
            Some((b, h)) => (b.clone(), h.clone()),
            None => (r.blob.text.clone(), r.hash.clone()),
        },
    };
    let fee_bump_hash = (sent_hash != r.hash).then(|| sent_hash.clone());
    let mut lookups: Vec<&str> = vec![&r.hash];
    if sent_hash != r.hash {
        lookups.push(&sent_hash);
    }
    let base = |status, message: String| Record {
        input: r.blob.input.clone(),
        hash: Some(r.hash.clone()),
        status,
        ledger: None,
        result_codes: None,
        message,
        fee_bump_hash: fee_bump_hash.clone(),
        explanations: Vec::new(),
    };
    // Already in a ledger? Then its stored outcome is the answer; nothing is sent.
    match stored_outcome(opts, &lookups) {
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
        if let Some(j) = journal {
            j.sending(&r.hash, &sent_hash, &bytes)?;
        }
        note(format!("sending {} ({})", r.blob.input, short(&sent_hash)));
        let wait: Duration;
        match opts
            .online
            .horizon
            .submit(&bytes, online::budget(deadline, SUBMIT_REQUEST_TIMEOUT))
        {
            Ok((answer, reply)) => {
                if let Some(j) = journal {
                    j.response(
                        &r.hash,
                        &format!("{} {}", reply.status, String::from_utf8_lossy(&reply.body)),
                    )?;
                }
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
                        // tx_bad_seq after an earlier attempt may mean that attempt landed.
                        if codes.transaction == "tx_bad_seq"
                            || codes.inner_transaction.as_deref() == Some("tx_bad_seq")
                        {
                            if let Ok(Some(rec)) = stored_outcome(opts, &lookups) {
                                return Ok(from_ledger(
                                    r,
                                    &rec,
                                    fee_bump_hash.clone(),
                                    " (an earlier attempt)",
                                ));
                            }
                        }
                        let explanations = codes.explain(&op_types(r.env));
                        // Horizon's 400 does not name the ledger; the stored record does.
                        let ledger = if codes.applied() {
                            stored_outcome(opts, &lookups)
                                .ok()
                                .flatten()
                                .map(|t| t.ledger)
                        } else {
                            None
                        };
                        let message = if codes.applied() {
                            "failed in a ledger; the fee was charged and the sequence number used"
                                .to_string()
                        } else {
                            "rejected by the network; nothing was applied and no fee was charged"
                                .to_string()
                        };
                        return Ok(Record {
                            ledger,
                            result_codes: Some(codes),
                            explanations,
                            ..base(Status::Failed, message)
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
                        if let Some(rec) = poll(opts, &lookups, deadline, Duration::from_secs(5)) {
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
                        note(format!("{last}; retrying"));
                        wait = online::backoff(attempt);
                    }
                }
            }
            Err(e) => {
                last = format!("{e}");
                note(format!("{last}; retrying"));
                wait = online::backoff(attempt);
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
        if let Ok(Some(rec)) = stored_outcome(opts, &lookups) {
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

/// Poll `GET /transactions/{hash}` about once a second for up to `span` (or the deadline).
fn poll(opts: &Options, hashes: &[&str], deadline: Instant, span: Duration) -> Option<TxRecord> {
    let until = (Instant::now() + span).min(deadline);
    loop {
        if let Ok(Some(rec)) = stored_outcome(opts, hashes) {
            return Some(rec);
        }
        if Instant::now() >= until || !online::sleep_until_deadline(Duration::from_secs(1), until) {
            return None;
        }
    }
}

fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_code_precedence() {
        use Status::*;
        assert_eq!(exit_code([]), 0);
        assert_eq!(exit_code([Success, Success]), 0);
        assert_eq!(exit_code([Success, Pending]), 3);
        assert_eq!(exit_code([Pending, Failed]), 2);
        assert_eq!(exit_code([Pending, Failed, Error]), 1);
    }
}
