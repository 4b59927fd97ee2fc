//! `submit`: send signed blobs to Horizon or Stellar RPC and find out, for certain, what became
//! of each. The run (checks, journal, lanes, fee bump, filing, exit codes) is one. The server is
//! read through the relay's network-client trait ([`crate::net::Net`]: its network, the accounts'
//! signers); only sending one blob until its outcome is known differs, behind [`Server`] (`send`
//! for Horizon, `rpc` for Stellar RPC).
//!
//! Rules this module keeps:
//! * Nothing is sent unless every input parses and every signature verifies for the network
//!   the server serves (Horizon's `GET /`, RPC's `getNetwork`), and `--network`, when given,
//!   agrees with it.
//! * An envelope is never rebuilt or altered after it was first sent: retries send the same bytes
//!   (the journal keeps them, so a resumed run sends the same bytes too).
//! * Before the first send of each blob the relay asks `GET /transactions/{hash}`: a transaction
//!   already in a ledger is reported with its stored outcome and not sent. Between that check and
//!   the send, Horizon's own idempotency covers us: resubmitting a hash it already holds returns
//!   the stored result.
//! * Memory does not grow with the number of blobs: a first pass reads and checks each input
//!   and puts it in a temporary on-disk index ([`crate::index`]); the second pass sends from it.
//! * A blob's outcome is committed to the journal together with "reported" before its line is
//!   printed, so a decided outcome is printed by at most one run.
//! * With `--jobs N`, up to N source accounts are served at once, each in sequence order.
//! * 504 → poll `GET /transactions/{hash}`, then resubmit the same bytes, until `--timeout`;
//!   429 → wait `Retry-After`; 503/5xx/connection errors → capped exponential backoff with jitter.
//!
//! * A blob that is not valid yet (`tx_too_early`) is pending, not failed: it stays in place and
//!   its line says when it becomes valid; with `--wait` the run waits for it and sends it then.
//! * A directory run's exit code covers the whole directory: the blobs decided by earlier runs
//!   (the journal) count too, so a rerun after everything was decided exits with that outcome.
//! * There is no preflight here: `inspect` predicts; `submit` sends whatever the operator gives
//!   and reports what the network decided (a prediction must never block what the network would
//!   accept).
//!
//! Layout: this file holds the records and the run; `check` the first pass (read, check,
//! index), `lanes` the second (workers and per-account lanes), `send` sending one blob until
//! its outcome is known, `filing` moving decided blobs into `done/` and `failed/` (the line a
//! terminal shows is `crate::progress`).

mod check;
pub mod filing;
mod lanes;
pub mod rpc;
mod send;

use crate::expect::ExpectedHash;
use crate::index::IndexError;
use crate::inputs::{self, InputError};
use crate::journal::{Journal, JournalError, NewEntry, State};
use crate::progress;
use airgap::account::AccountId;
use airgap::envelope;
use airgap::feebump;
use airgap::horizon::codes::{self, ResultCodes};
use airgap::horizon::Transaction as TxRecord;
use airgap::keys::SecretSeed;
use airgap::network::Network;
use airgap::review::op_type_name;
use check::{check_inputs, refuse_all, Check};
use lanes::{lock, Run};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;
use std::time::Duration;
use stellar_xdr::TransactionEnvelope;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SubmitError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error("writing the results failed: {0}")]
    Output(std::io::Error),
}

/// How a run sends one blob: the one place the two backends differ (everything else, reading
/// the network and the accounts' signers included, goes through [`crate::net::Net`]).
pub enum Server {
    /// Horizon: `POST /transactions` (synchronous), `GET /transactions/{hash}`.
    Horizon(crate::horizon::Horizon),
    /// Stellar RPC: `sendTransaction`, then `getTransaction` by hash.
    Rpc(crate::rpc::Rpc),
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
    /// The server through the relay's network-client trait: accounts (their signers).
    pub net: Box<dyn crate::net::Net>,
    /// How each blob is sent.
    pub server: Server,
    /// The network the server serves (checked against `--network` when connecting).
    pub network: Network,
    pub timeout: Duration,
    pub json: bool,
    pub fee_bump: Option<FeeBump>,
    pub journal: Option<PathBuf>,
    /// How many source accounts to submit for at once (1: strictly in the operator's order).
    pub jobs: usize,
    /// Wait for blobs that are not valid yet (`tx_too_early`) instead of leaving them pending.
    pub wait: bool,
    /// `--expect-hash`: any other blob refuses the run.
    pub expect: Vec<ExpectedHash>,
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
    progress::clear();
    let written = writeln!(out, "{text}")
        .and_then(|_| out.flush())
        .map_err(SubmitError::Output);
    drop(out);
    progress::redraw();
    written
}

fn note(msg: impl AsRef<str>) {
    progress::say(msg);
}

/// A blob on its way out: what the index holds, with its envelope decoded again.
struct Ready {
    input: String,
    path: Option<PathBuf>,
    text: String,
    env: TransactionEnvelope,
    hash: String,
    source: AccountId,
}

/// The fee bump of `env` for `--fee-bump-key` (signed; the same bytes every time, as ed25519 is
/// deterministic): its base64 and hash.
fn fee_bump(opts: &Options, env: &TransactionEnvelope) -> Result<Option<(String, String)>, String> {
    let Some(fb) = &opts.fee_bump else {
        return Ok(None);
    };
    let net = &opts.network;
    let mut outer =
        feebump::wrap(env, fb.seed.public_key(), fb.max_fee).map_err(|e| e.to_string())?;
    envelope::sign(&mut outer, net, &fb.seed).map_err(|e| e.to_string())?;
    Ok(Some((
        envelope::encode(&outer),
        hex::encode(envelope::hash(&outer, net)),
    )))
}

#[derive(Default)]
struct Counts([u64; 4]);

impl Counts {
    fn add(&mut self, s: Status) {
        self.0[s as usize] += 1;
        progress::count(s as usize);
        progress::redraw();
    }

    fn exit_code(&self) -> u8 {
        let all = [
            Status::Success,
            Status::Failed,
            Status::Pending,
            Status::Error,
        ];
        exit_code(all.into_iter().filter(|s| self.0[*s as usize] > 0))
    }
}

/// Run `submit` over the inputs named by `args`. Returns the exit code.
pub fn run(opts: Options, args: &[String]) -> Result<u8, SubmitError> {
    let check = check_inputs(&opts, args)?;
    if check.refused > 0 || check.unreachable.is_some() {
        return refuse_all(&check, opts.json);
    }
    let Check { mut index, .. } = check;
    index.order()?;
    let mut journal = match &opts.journal {
        Some(p) => Some(Journal::open(p)?),
        None => None,
    };
    // What earlier runs decided: part of a directory run's outcome.
    let decided_before = match (&journal, inputs::directory(args)?) {
        (Some(j), Some(_)) => j.decided()?,
        _ => (0, 0),
    };
    if let Some(j) = journal.as_mut() {
        // Every blob is in the journal before anything is sent, a page per commit.
        let mut after = 0;
        loop {
            let page = index.in_slot_order(after)?;
            let Some((last, _)) = page.last() else { break };
            after = *last;
            let rows: Vec<NewEntry<'_>> = page
                .iter()
                .filter_map(|(_, it)| {
                    Some(NewEntry {
                        hash: it.hash.as_deref()?,
                        input: &it.input,
                        source: it.source?.to_string(),
                        sequence: it.sequence.to_string(),
                    })
                })
                .collect();
            j.insert_all(&rows)?;
        }
    }
    let directory = inputs::directory(args)?;
    let total = index.count()?;
    if total == 0 {
        if let Some(dir) = &directory {
            note(format!(
                "nothing left to send in {}: every blob of it is decided (the journal: {} succeeded, {} failed; `airgap-relay journal {}` lists them)",
                dir.display(),
                decided_before.0,
                decided_before.1,
                dir.display()
            ));
        }
    }
    let blob_dir = match &directory {
        Some(d) => match filing::BlobDir::open(d) {
            Ok(b) => Some(b),
            Err(e) => {
                note(format!("decided blobs will not be moved: {e}"));
                None
            }
        },
        None => None,
    };
    let jobs = opts.jobs.max(1);
    if directory.is_some() {
        progress::start(total, opts.json);
    }
    let run = Run {
        opts: &opts,
        index: Mutex::new(index),
        journal: journal.map(Journal::share),
        directory,
        blob_dir,
        counts: Mutex::new(Counts::default()),
        retried_failed: std::sync::atomic::AtomicU64::new(0),
        failure: Mutex::new(None),
        stop: AtomicBool::new(false),
    };
    if jobs == 1 {
        if let Err(e) = run.all_in_order() {
            run.fail(e);
        }
    } else {
        let next_lane = Mutex::new(0i64);
        std::thread::scope(|s| {
            for _ in 0..jobs {
                s.spawn(|| {
                    if let Err(e) = run.lanes(&next_lane) {
                        run.fail(e);
                    }
                });
            }
        });
    }
    progress::finish();
    if let Some(e) = lock(&run.failure).take() {
        return Err(e);
    }
    let mut counts = lock(&run.counts);
    // Earlier runs' decisions (a blob sent again by this run counts by its new outcome).
    let retried = run.retried_failed.load(std::sync::atomic::Ordering::SeqCst);
    if decided_before.0 > 0 {
        counts.0[Status::Success as usize] += 1;
    }
    if decided_before.1 > retried {
        counts.0[Status::Failed as usize] += 1;
    }
    Ok(counts.exit_code())
}

impl Record {
    /// A record with no outcome from a ledger (pending, or refused before or by Horizon); the
    /// records of outcomes start from it.
    fn new(input: String, hash: Option<String>, status: Status, message: String) -> Record {
        Record {
            input,
            hash,
            status,
            ledger: None,
            result_codes: None,
            message,
            fee_bump_hash: None,
            explanations: Vec::new(),
        }
    }
}

/// The record of a blob ready to send with no outcome from a ledger.
fn unsent(r: &Ready, status: Status, message: String) -> Record {
    Record::new(r.input.clone(), Some(r.hash.clone()), status, message)
}

fn record_from_journal(r: &Ready, e: &crate::journal::Entry) -> Record {
    let result_codes: Option<ResultCodes> = e
        .result_codes
        .clone()
        .and_then(|v| serde_json::from_value(v).ok());
    let explanations = result_codes
        .as_ref()
        .map(|c| c.explain(&op_types(&r.env)))
        .unwrap_or_default();
    let status = match e.state {
        State::Success => Status::Success,
        _ => Status::Failed,
    };
    Record {
        ledger: e.ledger.map(|l| l as u64),
        result_codes,
        fee_bump_hash: e.submitted_hash.clone().filter(|h| *h != r.hash),
        explanations,
        ..unsent(r, status, e.message.clone().unwrap_or_default())
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
fn from_ledger(r: &Ready, rec: &TxRecord, fee_bump_hash: Option<String>, how: &str) -> Record {
    in_ledger(
        r,
        rec.ledger,
        rec.successful,
        Some(&rec.result_xdr),
        fee_bump_hash,
        how,
    )
}

/// The record of a transaction in ledger `ledger` (from Horizon's record or RPC's
/// `getTransaction`): the same line and JSON whichever server said it.
fn in_ledger(
    r: &Ready,
    ledger: u32,
    successful: bool,
    result_xdr: Option<&str>,
    fee_bump_hash: Option<String>,
    how: &str,
) -> Record {
    let codes = result_xdr.and_then(codes::from_result_xdr);
    let (status, message, explanations) = if successful {
        let message = format!("in ledger {ledger}{how}");
        (Status::Success, message, Vec::new())
    } else {
        let message = format!(
            "failed in ledger {ledger}{how}; the fee was charged and the sequence number used"
        );
        let explanations = codes
            .as_ref()
            .map(|c| c.explain(&op_types(&r.env)))
            .unwrap_or_default();
        (Status::Failed, message, explanations)
    };
    Record {
        ledger: Some(u64::from(ledger)),
        result_codes: codes,
        fee_bump_hash,
        explanations,
        ..unsent(r, status, message)
    }
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
