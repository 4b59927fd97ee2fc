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
//! * Memory does not grow with the number of blobs: a first pass reads and checks each input
//!   and puts it in a temporary on-disk index ([`crate::index`]); the second pass sends from it.
//! * A blob's outcome is committed to the journal together with "reported" before its line is
//!   printed, so a decided outcome is printed by at most one run.
//! * With `--jobs N`, up to N source accounts are served at once, each in sequence order.
//! * 504 → poll `GET /transactions/{hash}`, then resubmit the same bytes, until `--timeout`;
//!   429 → wait `Retry-After`; 503/5xx/connection errors → capped exponential backoff with jitter.
use crate::horizon::{HorizonError, Submission, SUBMIT_REQUEST_TIMEOUT};
use crate::index::{Index, IndexError, Item};
use crate::inputs::{self, Blob, InputError};
use crate::journal::{Decision, Journal, JournalError, NewEntry, SharedJournal, State};
use crate::online::{self, Online};
use crate::sigcheck;
use airgap::account::AccountId;
use airgap::carry;
use airgap::envelope;
use airgap::feebump;
use airgap::horizon::codes::{self, ResultCodes};
use airgap::horizon::Transaction as TxRecord;
use airgap::keys::SecretSeed;
use airgap::review::op_type_name;
use serde::Serialize;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
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
    /// How many source accounts to submit for at once (1: strictly in the operator's order).
    pub jobs: usize,
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
    let net = &opts.online.network;
    let mut outer =
        feebump::wrap(env, fb.seed.public_key(), fb.max_fee).map_err(|e| e.to_string())?;
    envelope::sign(&mut outer, net, &fb.seed).map_err(|e| e.to_string())?;
    Ok(Some((
        envelope::encode(&outer),
        hex::encode(envelope::hash(&outer, net)),
    )))
}

/// The first pass: read every input (one at a time), check it, and put it in the index.
struct Check<'a> {
    opts: &'a Options,
    deadline: Instant,
    /// Each signing account's signers as Horizon knows them (one look-up per account).
    signers_of: HashMap<AccountId, Vec<AccountId>>,
    unreachable: Option<String>,
    refused: usize,
    index: Index,
    failure: Option<SubmitError>,
}

impl Check<'_> {
    fn blob(&mut self, blob: Blob) {
        if self.failure.is_some() {
            return;
        }
        let item = self.item(blob);
        self.refused += usize::from(item.refusal.is_some());
        if let Err(e) = self.index.add(&item) {
            self.failure = Some(e.into());
        }
    }

    fn item(&mut self, blob: Blob) -> Item {
        let net = &self.opts.online.network;
        let mut item = Item {
            input: blob.input,
            path: blob.path,
            text: blob.text,
            hash: None,
            source: None,
            sequence: 0,
            refusal: None,
        };
        let env = match &blob.envelope {
            Ok(env) => env,
            Err(e) => {
                item.refusal = Some(format!("not sent: {e}"));
                return item;
            }
        };
        item.hash = Some(hex::encode(envelope::hash(env, net)));
        item.source = Some(envelope::source(env));
        item.sequence = envelope::sequence(env);
        // Candidates: the accounts' own keys and their signers as Horizon knows them.
        let mut candidates = Vec::new();
        for acct in sigcheck::signing_accounts(env) {
            candidates.push(acct);
            let (opts, deadline, unreachable) = (self.opts, self.deadline, &mut self.unreachable);
            let keys = self.signers_of.entry(acct).or_insert_with(|| {
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
            item.refusal = Some(format!("not sent: {why}"));
        } else if let Err(e) = fee_bump(self.opts, env) {
            item.refusal = Some(format!("not sent: {e}"));
        }
        item
    }
}

/// Read and check every input into a new index. Directories are listed into the index and read
/// in file-name order; nothing is held in memory per blob.
fn check_inputs<'a>(opts: &'a Options, args: &[String]) -> Result<Check<'a>, SubmitError> {
    let mut check = Check {
        opts,
        deadline: Instant::now() + opts.timeout,
        signers_of: HashMap::new(),
        unreachable: None,
        refused: 0,
        index: Index::new()?,
        failure: None,
    };
    let mut frames = carry::Frames::new();
    match inputs::directory(args)? {
        Some(dir) => {
            let mut listed: Result<(), IndexError> = Ok(());
            inputs::list_dir(&dir, &mut |p| {
                if listed.is_ok() {
                    listed = check.index.add_name(&p);
                }
            })?;
            listed?;
            let mut last: Option<PathBuf> = None;
            loop {
                let page = check.index.names_after(last.as_deref())?;
                let Some(end) = page.last().cloned() else {
                    break;
                };
                for p in &page {
                    inputs::read_file(p, &mut frames, &mut |b| check.blob(b))?;
                }
                last = Some(end);
            }
        }
        None => {
            for a in args {
                inputs::read_arg(a, &mut frames, &mut |b| check.blob(b))?;
            }
        }
    }
    inputs::finish_frames(frames, &mut |b| check.blob(b));
    match check.failure.take() {
        Some(e) => Err(e),
        None => Ok(check),
    }
}

/// Nothing is sent: print why for each input, in the order read; returns the exit code.
fn refuse_all(check: &Check<'_>, json: bool) -> Result<u8, SubmitError> {
    let mut counts = Counts::default();
    let mut after = 0;
    loop {
        let page = check.index.in_read_order(after)?;
        let Some((last, _)) = page.last() else { break };
        after = *last;
        for (_, item) in page {
            let (status, message) = match (item.refusal, &check.unreachable) {
                (Some(w), _) => (Status::Error, w),
                (None, Some(u)) if check.refused == 0 => (
                    Status::Pending,
                    format!("not sent: the signers of its accounts could not be read ({u}); run again"),
                ),
                (None, _) => (
                    Status::Error,
                    "not sent, because another input of this run was refused; fix or remove that input and run again".to_string(),
                ),
            };
            counts.add(status);
            print(
                &Record {
                    input: item.input,
                    hash: item.hash,
                    status,
                    ledger: None,
                    result_codes: None,
                    message,
                    fee_bump_hash: None,
                    explanations: Vec::new(),
                },
                json,
            )?;
        }
    }
    note("nothing was sent.");
    Ok(counts.exit_code())
}

/// How many inputs ended in each status.
#[derive(Default)]
struct Counts([u64; 4]);

impl Counts {
    fn add(&mut self, s: Status) {
        self.0[s as usize] += 1;
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

/// What the workers of a run share.
struct Run<'a> {
    opts: &'a Options,
    index: Mutex<Index>,
    journal: Option<SharedJournal>,
    directory: Option<PathBuf>,
    counts: Mutex<Counts>,
    /// The first error that stops the run (journal or stdout); every worker stops after it.
    failure: Mutex<Option<SubmitError>>,
    stop: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A worker that panicked cannot have left a half-made change behind in these (SQLite
    // transactions are atomic), so a poisoned lock is used as it is.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Run<'_> {
    fn fail(&self, e: SubmitError) {
        lock(&self.failure).get_or_insert(e);
        self.stop.store(true, Ordering::SeqCst);
    }

    fn journal(&self) -> Option<&SharedJournal> {
        self.journal.as_ref()
    }

    /// One worker in order: every blob of the run in slot order.
    fn all_in_order(&self) -> Result<(), SubmitError> {
        let mut blocked = HashMap::new();
        let mut after = 0;
        loop {
            let page = lock(&self.index).in_slot_order(after)?;
            let Some((last, _)) = page.last() else {
                return Ok(());
            };
            after = *last;
            for (_, item) in page {
                if self.stop.load(Ordering::SeqCst) {
                    return Ok(());
                }
                self.one(item, &mut blocked)?;
            }
        }
    }

    /// A worker of `--jobs N`: takes the next account's lane and sends its blobs in sequence
    /// order, until no lane is left.
    fn lanes(&self, next_lane: &Mutex<i64>) -> Result<(), SubmitError> {
        loop {
            let lane = {
                let mut cursor = lock(next_lane);
                match lock(&self.index).next_lane(*cursor)? {
                    Some((first, source)) => {
                        *cursor = first;
                        source
                    }
                    None => return Ok(()),
                }
            };
            let mut blocked = HashMap::new();
            let mut after = 0;
            loop {
                if self.stop.load(Ordering::SeqCst) {
                    return Ok(());
                }
                let next = lock(&self.index).next_in_lane(&lane, after)?;
                let Some((slot, item)) = next else { break };
                after = slot;
                self.one(item, &mut blocked)?;
            }
        }
    }

    /// Decide, report and file one blob.
    fn one(&self, item: Item, blocked: &mut HashMap<AccountId, String>) -> Result<(), SubmitError> {
        let decoded = envelope::decode(&item.text).map_err(|e| e.to_string());
        let r = match (decoded, item.hash.clone(), item.source) {
            (Ok(env), Some(hash), Some(source)) => Ready {
                input: item.input,
                path: item.path,
                text: item.text,
                env,
                hash,
                source,
            },
            // The first pass checked every blob, so this is not expected; it is still reported.
            (decoded, ..) => {
                let why = decoded.err().unwrap_or_else(|| "no source account".into());
                let rec = Record {
                    input: item.input,
                    hash: item.hash,
                    status: Status::Error,
                    ledger: None,
                    result_codes: None,
                    message: format!("not sent: {why}"),
                    fee_bump_hash: None,
                    explanations: Vec::new(),
                };
                lock(&self.counts).add(rec.status);
                return print(&rec, self.opts.json);
            }
        };
        let stored = match self.journal() {
            Some(j) => j.get(&r.hash)?,
            None => None,
        };
        let rec = if let Some(e) = stored.as_ref().filter(|e| e.state.is_final()) {
            // Decided by an earlier run.
            let rec = record_from_journal(&r, e);
            if self.directory.is_some() && e.reported {
                // Printed by the run that decided it; only the move may be left to do. A blob
                // another run has moved away meanwhile is no longer this run's business.
                if r.path.as_ref().is_some_and(|p| p.exists()) {
                    self.file_away(&r, &rec)?;
                    lock(&self.counts).add(rec.status);
                }
                note_blocked(blocked, &r, &rec);
                return Ok(());
            }
            if let Some(j) = self.journal() {
                j.reported(&r.hash)?;
            }
            rec
        } else if let Some(why) = blocked.get(&r.source) {
            unsent(
                &r,
                Status::Pending,
                format!("not sent: {why}; run again once that is resolved"),
            )
        } else {
            let resend = stored
                .as_ref()
                .and_then(|e| Some((e.submitted.clone()?, e.submitted_hash.clone()?)));
            let (rec, last_response) = submit_one(self, &r, resend)?;
            let moved_to = self.destination(&r, &rec);
            if let Some(j) = self.journal() {
                let codes = rec
                    .result_codes
                    .as_ref()
                    .and_then(|c| serde_json::to_value(c).ok());
                // The outcome and "reported" are one commit, made before the line is printed:
                // a decided outcome is printed by at most one run. (A kill between this commit
                // and the print loses only the line; `airgap-relay journal` still has it.)
                j.decide(
                    &r.hash,
                    Decision {
                        state: state_of(rec.status),
                        ledger: rec.ledger,
                        result_codes: codes,
                        message: rec.message.clone(),
                        last_response,
                        moved_to: moved_to.clone(),
                    },
                )?;
            }
            print(&rec, self.opts.json)?;
            if let Some(to) = moved_to {
                self.rename(&r, &to);
            }
            note_blocked(blocked, &r, &rec);
            lock(&self.counts).add(rec.status);
            return Ok(());
        };
        print(&rec, self.opts.json)?;
        self.file_away(&r, &rec)?;
        note_blocked(blocked, &r, &rec);
        lock(&self.counts).add(rec.status);
        Ok(())
    }

    /// Where a decided blob of a directory run goes (`done/` or `failed/`), or `None`.
    fn destination(&self, r: &Ready, rec: &Record) -> Option<PathBuf> {
        let (dir, path) = (self.directory.as_ref()?, r.path.as_ref()?);
        let success = match rec.status {
            Status::Success => true,
            Status::Failed => false,
            _ => return None,
        };
        if !path.exists() {
            return None;
        }
        match inputs::finished_path(dir, path, success) {
            Ok(to) => Some(to),
            Err(e) => {
                note(format!("cannot make a place for {}: {e}", path.display()));
                None
            }
        }
    }

    fn rename(&self, r: &Ready, to: &Path) {
        if let Some(path) = &r.path {
            if let Err(e) = std::fs::rename(path, to) {
                note(format!(
                    "could not move {} to {} after its outcome was recorded: {e}",
                    path.display(),
                    to.display()
                ));
            }
        }
    }

    /// Move a decided blob of a directory run (outcome already durable) and record where.
    fn file_away(&self, r: &Ready, rec: &Record) -> Result<(), SubmitError> {
        let Some(to) = self.destination(r, rec) else {
            return Ok(());
        };
        self.rename(r, &to);
        if let Some(j) = self.journal() {
            j.moved(&r.hash, &to)?;
        }
        Ok(())
    }
}

/// Later blobs of the same source wait when this one did not use its sequence number.
fn note_blocked(blocked: &mut HashMap<AccountId, String>, r: &Ready, rec: &Record) {
    let applied = match rec.status {
        Status::Success => true,
        Status::Failed => rec.result_codes.as_ref().is_some_and(ResultCodes::applied),
        _ => false,
    };
    if !applied && !blocked.contains_key(&r.source) {
        let status = serde_json::to_value(rec.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        blocked.insert(
            r.source,
            format!(
                "the earlier blob {} from the same source account ended {status}",
                r.input
            ),
        );
    }
}

fn state_of(s: Status) -> State {
    match s {
        Status::Success => State::Success,
        Status::Failed => State::Failed,
        Status::Pending => State::Pending,
        Status::Error => State::Error,
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
    let jobs = opts.jobs.max(1);
    let run = Run {
        opts: &opts,
        index: Mutex::new(index),
        journal: journal.map(Journal::share),
        directory,
        counts: Mutex::new(Counts::default()),
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
    if let Some(e) = lock(&run.failure).take() {
        return Err(e);
    }
    let code = lock(&run.counts).exit_code();
    Ok(code)
}

/// The record of a blob with no outcome from a ledger (pending, or refused before or by Horizon).
fn unsent(r: &Ready, status: Status, message: String) -> Record {
    Record {
        input: r.input.clone(),
        hash: Some(r.hash.clone()),
        status,
        ledger: None,
        result_codes: None,
        message,
        fee_bump_hash: None,
        explanations: Vec::new(),
    }
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
    Record {
        input: r.input.clone(),
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
fn from_ledger(r: &Ready, rec: &TxRecord, fee_bump_hash: Option<String>, how: &str) -> Record {
    let codes = codes::from_result_xdr(&rec.result_xdr);
    if rec.successful {
        Record {
            input: r.input.clone(),
            hash: Some(r.hash.clone()),
            status: Status::Success,
            ledger: Some(u64::from(rec.ledger)),
            result_codes: codes,
            message: format!("in ledger {}{how}", rec.ledger),
            fee_bump_hash,
            explanations: Vec::new(),
        }
    } else {
        let explanations = codes
            .as_ref()
            .map(|c| c.explain(&op_types(&r.env)))
            .unwrap_or_default();
        Record {
            input: r.input.clone(),
            hash: Some(r.hash.clone()),
            status: Status::Failed,
            ledger: Some(u64::from(rec.ledger)),
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

/// What a look-up by hash settled on.
enum Lookup {
    Found(Box<TxRecord>),
    /// Horizon answered: no such transaction.
    Absent,
    /// Horizon could not be asked before the deadline.
    Unknown(String),
}

/// Look the transaction up until Horizon gives an answer (found or not) or the deadline passes.
fn settled_lookup(opts: &Options, hashes: &[&str], deadline: Instant) -> Lookup {
    loop {
        let last = match stored_outcome(opts, hashes) {
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
fn submit_one(
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
    let rec = send_until_known(run, r, &bytes, &sent_hash, &mut last_response)?;
    Ok((rec, last_response))
}

/// Send `bytes` (hash `sent_hash`) until the outcome is known or the deadline passes.
fn send_until_known(
    run: &Run<'_>,
    r: &Ready,
    bytes: &str,
    sent_hash: &str,
    last_response: &mut Option<String>,
) -> Result<Record, SubmitError> {
    let opts = run.opts;
    let deadline = Instant::now() + opts.timeout;
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
        if let Some(j) = run.journal() {
            // Durable before the request goes out, with the answer to the previous attempt.
            j.sending(&r.hash, &sent_hash, bytes, last_response.as_deref())?;
        }
        note(format!("sending {} ({})", r.input, short(&sent_hash)));
        let wait: Duration;
        match opts
            .online
            .horizon
            .submit(bytes, online::budget(deadline, SUBMIT_REQUEST_TIMEOUT))
        {
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
                        // tx_bad_seq after an earlier attempt (of this run or an earlier one)
                        // may mean that attempt landed: only a definite "not there" rules it out.
                        if codes.transaction == "tx_bad_seq"
                            || codes.inner_transaction.as_deref() == Some("tx_bad_seq")
                        {
                            match settled_lookup(opts, &lookups, deadline) {
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
                        if codes.applied() {
                            // In a ledger: its record names the ledger (Horizon's 400 does not).
                            // A decided outcome is never recorded without it.
                            let span = deadline.saturating_duration_since(Instant::now());
                            return Ok(match poll(opts, &lookups, deadline, span) {
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
