//! The second pass of `submit`: the blobs go out from the index, in the operator's order with
//! one worker, or with `--jobs N` in per-account lanes (each source account's blobs in sequence
//! order, up to N accounts at once). Each blob is decided, journaled, reported, then filed away.

use super::filing::BlobDir;
use super::send::submit_one;
use super::{
    note, print, record_from_journal, unsent, Counts, Options, Ready, Record, Status, SubmitError,
};
use crate::index::{Index, Item};
use crate::journal::{Decision, Entry, SharedJournal, State};
use airgap::account::AccountId;
use airgap::envelope;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

/// What the workers of a run share.
pub(super) struct Run<'a> {
    pub(super) opts: &'a Options,
    pub(super) index: Mutex<Index>,
    pub(super) journal: Option<SharedJournal>,
    pub(super) directory: Option<PathBuf>,
    /// The directory, opened once: decided blobs are moved relative to it.
    pub(super) blob_dir: Option<BlobDir>,
    pub(super) counts: Mutex<Counts>,
    /// Blobs rejected by an earlier run and sent again by this one.
    pub(super) retried_failed: AtomicU64,
    /// The first error that stops the run (journal or stdout); every worker stops after it.
    pub(super) failure: Mutex<Option<SubmitError>>,
    pub(super) stop: AtomicBool,
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A worker that panicked cannot have left a half-made change behind in these (SQLite
    // transactions are atomic), so a poisoned lock is used as it is.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Run<'_> {
    pub(super) fn fail(&self, e: SubmitError) {
        lock(&self.failure).get_or_insert(e);
        self.stop.store(true, Ordering::SeqCst);
    }

    pub(super) fn journal(&self) -> Option<&SharedJournal> {
        self.journal.as_ref()
    }

    /// One worker in order: every blob of the run in slot order.
    pub(super) fn all_in_order(&self) -> Result<(), SubmitError> {
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
    pub(super) fn lanes(&self, next_lane: &Mutex<i64>) -> Result<(), SubmitError> {
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
                let message = format!("not sent: {why}");
                let rec = Record::new(item.input, item.hash, Status::Error, message);
                lock(&self.counts).add(rec.status);
                return print(&rec, self.opts.json);
            }
        };
        let stored = match self.journal() {
            Some(j) => j.get(&r.hash)?,
            None => None,
        };
        let decided = stored.as_ref().filter(|e| e.state.is_final());
        // A rejection applied nothing: the blob may be accepted now (time has passed, signers
        // changed), so a blob rejected by an earlier run that is given again is sent again.
        let rejected_before = decided.is_some_and(|e| !in_a_ledger(e));
        if let Some(e) = decided.filter(|_| !rejected_before) {
            // Decided in a ledger by an earlier run: that outcome never changes.
            let rec = record_from_journal(&r, e);
            if self.directory.is_some() && e.reported {
                // Printed by the run that decided it; only the move may be left to do. A blob
                // another run has moved away meanwhile is no longer this run's business.
                if r.path.as_ref().is_some_and(|p| p.exists()) {
                    note(format!(
                        "{} was decided by an earlier run ({}{}; `airgap-relay journal` lists it); filing it away",
                        r.input,
                        status_word(rec.status),
                        rec.ledger.map(|l| format!(" in ledger {l}")).unwrap_or_default()
                    ));
                    self.file_away(&r, &rec)?;
                    lock(&self.counts).add(rec.status);
                }
                note_blocked(blocked, &r, &rec);
                return Ok(());
            }
            if let Some(j) = self.journal() {
                j.reported(&r.hash)?;
            }
            print(&rec, self.opts.json)?;
            self.file_away(&r, &rec)?;
            note_blocked(blocked, &r, &rec);
            lock(&self.counts).add(rec.status);
            return Ok(());
        }
        let rec = if let Some(why) = blocked.get(&r.source) {
            unsent(
                &r,
                Status::Pending,
                format!("not sent: {why}; run again once that is resolved"),
            )
        } else {
            if let Some(e) = decided {
                note(format!(
                    "{} was rejected by an earlier run ({}); nothing was applied then, so it is sent again",
                    r.input,
                    e.message.as_deref().unwrap_or("no message")
                ));
                self.retried_failed.fetch_add(1, Ordering::SeqCst);
            }
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
                // The decision recorded `to`; record the move only if it went elsewhere.
                match (self.rename(&r, &rec, &to), self.journal()) {
                    (Some(went), Some(j)) if went != to => j.moved(&r.hash, &went)?,
                    _ => {}
                }
            }
            note_blocked(blocked, &r, &rec);
            lock(&self.counts).add(rec.status);
            return Ok(());
        };
        print(&rec, self.opts.json)?;
        note_blocked(blocked, &r, &rec);
        lock(&self.counts).add(rec.status);
        Ok(())
    }

    /// Where a decided blob of a directory run goes (a free name in `done/` or `failed/`), or
    /// `None` (not decided, not a file of the directory, or no real directory to put it in).
    fn destination(&self, r: &Ready, rec: &Record) -> Option<PathBuf> {
        let (dir, path) = (self.blob_dir.as_ref()?, r.path.as_ref()?);
        let success = match rec.status {
            Status::Success => true,
            Status::Failed => false,
            _ => return None,
        };
        if !path.exists() {
            return None;
        }
        match dir.destination(path, success) {
            Ok(to) => Some(to),
            Err(e) => {
                note(format!("{} stays where it is: {e}", path.display()));
                None
            }
        }
    }

    /// Move the blob to `to` (or the next free name if `to` was taken meanwhile); returns where
    /// it went, or `None` (said on stderr) when it could not be moved.
    fn rename(&self, r: &Ready, rec: &Record, to: &Path) -> Option<PathBuf> {
        let (dir, path) = (self.blob_dir.as_ref()?, r.path.as_ref()?);
        match dir.move_to(path, to, rec.status == Status::Success) {
            Ok(went) => Some(went),
            Err(e) => {
                note(format!(
                    "could not move {} to {} after its outcome was recorded: {e}",
                    path.display(),
                    to.display()
                ));
                None
            }
        }
    }

    /// Move a decided blob of a directory run (outcome already durable) and record where.
    fn file_away(&self, r: &Ready, rec: &Record) -> Result<(), SubmitError> {
        let Some(to) = self.destination(r, rec) else {
            return Ok(());
        };
        if let (Some(went), Some(j)) = (self.rename(r, rec, &to), self.journal()) {
            j.moved(&r.hash, &went)?;
        }
        Ok(())
    }
}

/// Did the journal's decided outcome reach a ledger (success, or failed with the fee charged)?
fn in_a_ledger(e: &Entry) -> bool {
    e.state == State::Success || e.ledger.is_some()
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Success => "success",
        Status::Failed => "failed",
        Status::Pending => "pending",
        Status::Error => "error",
    }
}

/// Later blobs of the same source wait when this one did not use its sequence number.
fn note_blocked(blocked: &mut HashMap<AccountId, String>, r: &Ready, rec: &Record) {
    // A failure in a ledger names its ledger; a rejection before any ledger does not.
    let applied = match rec.status {
        Status::Success => true,
        Status::Failed => rec.ledger.is_some(),
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
