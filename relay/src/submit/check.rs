//! The first pass of `submit`: read every input, one at a time, check it (it decodes, its
//! signatures verify for the network the server serves, a fee bump can be made around it) and put it
//! in the run's index. If anything is refused, nothing is sent: every input is reported.

use super::{fee_bump, note, print, Counts, Options, Record, Status, SubmitError};
use crate::expect;
use crate::index::{Index, IndexError, Item};
use crate::inputs::{self, Blob, InputError};
use crate::online;
use crate::sigcheck;
use airgap::account::AccountId;
use airgap::carry;
use airgap::envelope;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

/// The first pass: read every input (one at a time), check it, and put it in the index.
pub(super) struct Check<'a> {
    opts: &'a Options,
    deadline: Instant,
    /// Each signing account's signers as the server knows them (one look-up per account).
    signers_of: HashMap<AccountId, Vec<AccountId>>,
    pub(super) unreachable: Option<String>,
    pub(super) refused: usize,
    pub(super) index: Index,
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
        let net = &self.opts.network;
        let claimed = inputs::claimed_hash_refusal(&blob, net);
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
        let hash = hex::encode(envelope::hash(env, net));
        if let Some(why) = expect::refusal(&self.opts.expect, &hash).or(claimed) {
            item.refusal = Some(format!("not sent: {why}"));
            item.hash = Some(hash);
            return item;
        }
        item.hash = Some(hash);
        item.source = Some(envelope::source(env));
        item.sequence = envelope::sequence(env);
        // Candidates: the accounts' own keys and their signers as the server knows them.
        let mut candidates = Vec::new();
        for acct in sigcheck::signing_accounts(env) {
            candidates.push(acct);
            let (opts, deadline, unreachable) = (self.opts, self.deadline, &mut self.unreachable);
            let keys = self.signers_of.entry(acct).or_insert_with(|| {
                match online::retry_until(deadline, || opts.net.account(&acct, &[])) {
                    Ok(Some(a)) => a
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
pub(super) fn check_inputs<'a>(
    opts: &'a Options,
    args: &[String],
) -> Result<Check<'a>, SubmitError> {
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
            let found = inputs::list_dir(&dir, &mut |p| {
                if listed.is_ok() {
                    listed = check.index.add_name(&p);
                }
            });
            match found {
                // Every blob filed away by earlier runs: the journal has the outcome.
                Err(InputError::EmptyDirectory(_))
                    if opts.journal.as_ref().is_some_and(|j| j.is_file()) => {}
                other => {
                    other?;
                }
            }
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
pub(super) fn refuse_all(check: &Check<'_>, json: bool) -> Result<u8, SubmitError> {
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
            print(&Record::new(item.input, item.hash, status, message), json)?;
        }
    }
    note("nothing was sent.");
    Ok(counts.exit_code())
}
