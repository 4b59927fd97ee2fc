//! The second pass of `submit`: the blobs go out from the index, in the operator's order with
//! one worker, or with `--jobs N` in per-account lanes (each source account's blobs in sequence
//! order, up to N accounts at once). Each blob is decided, journaled, reported, then filed away.

use super::send::submit_one;
use super::{
    note, print, record_from_journal, unsent, Counts, Options, Ready, Record, Status, SubmitError,
};
use crate::index::{Index, Item};
use crate::inputs;
use crate::journal::{Decision, SharedJournal, State};
use airgap::account::AccountId;
use airgap::envelope;
use airgap::horizon::codes::ResultCodes;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// What the workers of a run share.
pub(super) struct Run<'a> {
    pub(super) opts: &'a Options,
    pub(super) index: Mutex<Index>,
    pub(super) journal: Option<SharedJournal>,
    pub(super) directory: Option<PathBuf>,
    pub(super) counts: Mutex<Counts>,
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
