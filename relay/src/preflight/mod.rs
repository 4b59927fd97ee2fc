//! Preflight by simulation: the ledger entries a transaction touches (the accounts of every
//! source, destination, trustor and issuer, with their trustlines and data entries) are read from
//! the network through a [`LedgerSource`], loaded into the sandbox's ledger engine
//! (`airgap_sandbox::ledger`: stellar-core's rules as a pure function, the project's one model of
//! them), and the transaction is applied there. The prediction is the result codes the engine
//! gives and what would change, in words.
//!
//! Blobs are predicted one after another on the same simulated ledger, so a ceremony's later
//! steps see the earlier ones applied (in the order `submit` sends them). Where the prediction
//! cannot be made (an operation or an entry the engine does not model, a source that did not
//! answer) it says so and guesses nothing.
use airgap::account::AccountId;
use airgap::envelope;
use airgap::horizon::codes::{self, ResultCodes};
use airgap::network::Network;
use airgap::review::op_type_name;
use airgap_sandbox::ledger::{self, Ledger, Verdict};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use stellar_xdr::{ChangeTrustAsset, OperationBody, TransactionEnvelope};
use xdr_entries::issued_asset_key;

pub mod rpc_source;
pub mod source;
mod words;
pub mod xdr_entries;

pub use rpc_source::RpcSource;
pub use source::{EntryKey, HorizonSource, LedgerSource, SourceError};
pub use words::authorization;

/// What the engine predicts for one blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Predicted {
    /// Applied, every operation successful.
    Success,
    /// Applied as a failure: the fee is charged and the sequence number used.
    Failed,
    /// Refused before any ledger: nothing applied, no fee.
    Rejected,
    /// Not valid yet (`tx_too_early`): the same blob is valid later.
    Pending,
    /// Could not be predicted; `reason` says why.
    Unknown,
}

/// The prediction for one blob.
#[derive(Debug, Clone, Serialize)]
pub struct Prediction {
    pub outcome: Predicted,
    /// The last closed ledger whose entries were read from the network.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ledger: Option<u32>,
    /// How many blobs before it in this run are predicted applied to those entries first.
    #[serde(skip_serializing_if = "is_zero")]
    pub after: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_codes: Option<ResultCodes>,
    /// One sentence per failing code.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub explanations: Vec<String>,
    /// What would change, one line each (balances, flags, thresholds, signers, trustlines, data).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
    /// Changes worth a warning of their own.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// When it is not valid yet: its min time (unix seconds), when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<u64>,
    /// Why it could not be predicted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// True when the reason is a source that did not answer (worth running again).
    #[serde(skip)]
    pub unreachable: bool,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Prediction {
    fn unknown(reason: String) -> Prediction {
        Prediction {
            outcome: Predicted::Unknown,
            ledger: None,
            after: 0,
            result_codes: None,
            explanations: Vec::new(),
            changes: Vec::new(),
            warnings: Vec::new(),
            valid_from: None,
            reason: Some(reason),
            unreachable: false,
        }
    }

    /// The code to name when it would not succeed: the first failing operation's, else the
    /// (inner) transaction's.
    pub fn code(&self) -> Option<String> {
        let c = self.result_codes.as_ref()?;
        let tx = c.inner_transaction.as_deref().unwrap_or(&c.transaction);
        c.operations
            .iter()
            .find(|o| *o != "op_success")
            .cloned()
            .or_else(|| (!matches!(tx, "tx_success")).then(|| tx.to_string()))
    }
}

/// The simulated ledger of one run: entries read on first use, blobs applied in turn.
pub struct Preflight<S: LedgerSource> {
    source: S,
    network: Network,
    /// `None` until the header is read (or when it could not be: then `why_not`).
    ledger: Option<Ledger>,
    why_not: Option<(String, bool)>,
    /// The ledger the entries were read at, and how many blobs were applied on top since.
    read_at: u32,
    applied: usize,
    /// Accounts read so far (present or not).
    loaded: BTreeSet<[u8; 32]>,
    /// Trustlines and data entries read so far by key (present or not), for a source that
    /// reads them by key.
    fetched: BTreeSet<([u8; 32], EntryKey)>,
    /// Accounts whose entries the engine cannot hold faithfully, and why.
    unmodeled: BTreeMap<[u8; 32], String>,
    /// Accounts an earlier blob of this run may have changed in ways not simulated: a source
    /// whose sequence number an earlier blob did not use, or any account an unpredicted blob
    /// touches. Later blobs touching them are not predicted.
    tainted: BTreeMap<[u8; 32], String>,
}

/// The accounts `env` reads or writes.
fn touched(env: &TransactionEnvelope) -> Vec<[u8; 32]> {
    let tx = envelope::transaction(env);
    let source = envelope::source(env);
    let mut out = vec![source.0];
    if let TransactionEnvelope::TxFeeBump(fb) = env {
        out.push(AccountId::from_muxed(&fb.tx.fee_source).0);
    }
    for op in tx.operations.iter() {
        out.push(envelope::op_source(op, source).0);
        let issuer = |a: &stellar_xdr::Asset| match a {
            stellar_xdr::Asset::CreditAlphanum4(c) => Some(AccountId::from_xdr(&c.issuer).0),
            stellar_xdr::Asset::CreditAlphanum12(c) => Some(AccountId::from_xdr(&c.issuer).0),
            stellar_xdr::Asset::Native => None,
        };
        match &op.body {
            OperationBody::CreateAccount(c) => out.push(AccountId::from_xdr(&c.destination).0),
            OperationBody::Payment(p) => {
                out.push(AccountId::from_muxed(&p.destination).0);
                out.extend(issuer(&p.asset));
            }
            OperationBody::ChangeTrust(c) => match &c.line {
                ChangeTrustAsset::CreditAlphanum4(a) => out.push(AccountId::from_xdr(&a.issuer).0),
                ChangeTrustAsset::CreditAlphanum12(a) => out.push(AccountId::from_xdr(&a.issuer).0),
                _ => {}
            },
            OperationBody::AllowTrust(a) => out.push(AccountId::from_xdr(&a.trustor).0),
            OperationBody::SetTrustLineFlags(a) => out.push(AccountId::from_xdr(&a.trustor).0),
            OperationBody::Clawback(c) => out.push(AccountId::from_muxed(&c.from).0),
            OperationBody::AccountMerge(d) => out.push(AccountId::from_muxed(d).0),
            OperationBody::SetOptions(o) => {
                out.extend(o.inflation_dest.as_ref().map(|d| AccountId::from_xdr(d).0));
            }
            _ => {}
        }
    }
    let mut seen = BTreeSet::new();
    out.retain(|a| seen.insert(*a));
    out
}

/// The engine's key of an issued asset; `None` for the native asset or a code that is not one.
fn xdr_asset_key(a: &stellar_xdr::Asset) -> Option<ledger::AssetKey> {
    match a {
        stellar_xdr::Asset::CreditAlphanum4(c) => issued_asset_key(&c.asset_code.0, &c.issuer),
        stellar_xdr::Asset::CreditAlphanum12(c) => issued_asset_key(&c.asset_code.0, &c.issuer),
        stellar_xdr::Asset::Native => None,
    }
}

/// The trustlines and data entries `env` reads or writes, with their accounts (an issuer holds
/// no trustline to its own asset).
fn touched_entries(env: &TransactionEnvelope) -> Vec<([u8; 32], EntryKey)> {
    let tx = envelope::transaction(env);
    let source = envelope::source(env);
    let mut out = Vec::new();
    let mut line = |holder: [u8; 32], key: Option<ledger::AssetKey>| {
        if let Some(k) = key.filter(|k| k.issuer != holder) {
            out.push((holder, EntryKey::Trustline(k)));
        }
    };
    let mut data = Vec::new();
    for op in tx.operations.iter() {
        let s = envelope::op_source(op, source).0;
        match &op.body {
            OperationBody::Payment(p) => {
                line(s, xdr_asset_key(&p.asset));
                line(
                    AccountId::from_muxed(&p.destination).0,
                    xdr_asset_key(&p.asset),
                );
            }
            OperationBody::ChangeTrust(c) => match &c.line {
                ChangeTrustAsset::CreditAlphanum4(a) => {
                    line(s, issued_asset_key(&a.asset_code.0, &a.issuer))
                }
                ChangeTrustAsset::CreditAlphanum12(a) => {
                    line(s, issued_asset_key(&a.asset_code.0, &a.issuer))
                }
                _ => {}
            },
            OperationBody::AllowTrust(a) => {
                let code: &[u8] = match &a.asset {
                    stellar_xdr::AssetCode::CreditAlphanum4(c) => &c.0,
                    stellar_xdr::AssetCode::CreditAlphanum12(c) => &c.0,
                };
                let issuer = stellar_xdr::AccountId(stellar_xdr::PublicKey::PublicKeyTypeEd25519(
                    stellar_xdr::Uint256(s),
                ));
                line(
                    AccountId::from_xdr(&a.trustor).0,
                    issued_asset_key(code, &issuer),
                );
            }
            OperationBody::SetTrustLineFlags(a) => {
                line(AccountId::from_xdr(&a.trustor).0, xdr_asset_key(&a.asset))
            }
            OperationBody::Clawback(c) => {
                line(AccountId::from_muxed(&c.from).0, xdr_asset_key(&c.asset))
            }
            OperationBody::ManageData(d) => {
                if let Ok(name) = String::from_utf8(d.data_name.to_vec()) {
                    data.push((s, EntryKey::Data(name)));
                }
            }
            _ => {}
        }
    }
    out.extend(data);
    let mut seen = BTreeSet::new();
    out.retain(|k| seen.insert(k.clone()));
    out
}

/// The first operation the engine does not model, in words.
fn unmodeled_operation(env: &TransactionEnvelope) -> Option<String> {
    if matches!(env, TransactionEnvelope::TxV0(_)) {
        return Some("a v0 envelope (the preflight engine takes v1 and fee-bump envelopes)".into());
    }
    let tx = envelope::transaction(env);
    tx.operations.iter().enumerate().find_map(|(i, op)| {
        let modeled = match &op.body {
            OperationBody::ChangeTrust(c) => !matches!(c.line, ChangeTrustAsset::PoolShare(_)),
            OperationBody::CreateAccount(_)
            | OperationBody::Payment(_)
            | OperationBody::SetOptions(_)
            | OperationBody::AllowTrust(_)
            | OperationBody::AccountMerge(_)
            | OperationBody::ManageData(_)
            | OperationBody::BumpSequence(_)
            | OperationBody::Clawback(_)
            | OperationBody::SetTrustLineFlags(_) => true,
            _ => false,
        };
        (!modeled).then(|| {
            format!(
                "operation {} ({}) is not one the preflight engine models",
                i + 1,
                op_type_name(&op.body)
            )
        })
    })
}

impl<S: LedgerSource> Preflight<S> {
    pub fn new(source: S, network: Network) -> Preflight<S> {
        Preflight {
            source,
            network,
            ledger: None,
            why_not: None,
            read_at: 0,
            applied: 0,
            loaded: BTreeSet::new(),
            fetched: BTreeSet::new(),
            unmodeled: BTreeMap::new(),
            tainted: BTreeMap::new(),
        }
    }

    /// The source (for reads the checks share with the preflight).
    pub fn source(&mut self) -> &mut S {
        &mut self.source
    }

    pub fn source_ref(&self) -> &S {
        &self.source
    }

    /// The simulated ledger, the header read on first use.
    fn ledger(&mut self) -> Result<&mut Ledger, (String, bool)> {
        if self.ledger.is_none() && self.why_not.is_none() {
            match self.source.header() {
                Ok(h)
                    if h.base_fee != ledger::BASE_FEE || h.base_reserve != ledger::BASE_RESERVE =>
                {
                    self.why_not = Some((
                        format!(
                            "the network's base fee ({} stroops) and reserve ({} stroops) are not the {} and {} the preflight engine applies",
                            h.base_fee,
                            h.base_reserve,
                            ledger::BASE_FEE,
                            ledger::BASE_RESERVE
                        ),
                        false,
                    ));
                }
                Ok(h) => {
                    self.read_at = h.header.ledger_seq;
                    let passphrase = self.network.passphrase().to_string();
                    self.ledger = Some(Ledger::from_parts(
                        &passphrase,
                        h.header,
                        ledger::State::default(),
                    ));
                }
                Err(e) => {
                    self.why_not = Some((
                        format!("the last closed ledger could not be read ({e})"),
                        e.is_transient(),
                    ));
                }
            }
        }
        match (&mut self.ledger, &self.why_not) {
            (Some(l), _) => Ok(l),
            (None, Some(w)) => Err(w.clone()),
            (None, None) => Err(("no ledger".into(), false)),
        }
    }

    /// Read the entries of `accounts` not read yet, and (from a source that reads by key) the
    /// trustlines and data entries of `keys` not read or simulated yet. `Err((why, transient))`
    /// when one could not be read.
    fn load(
        &mut self,
        accounts: &[[u8; 32]],
        keys: &[([u8; 32], EntryKey)],
    ) -> Result<(), (String, bool)> {
        let by_key = !self.source.lists_entries();
        for a in accounts {
            let mut wanted: Vec<EntryKey> = Vec::new();
            if by_key {
                self.ledger()?;
                let (Some(l), fetched) = (&self.ledger, &self.fetched) else {
                    continue;
                };
                let state = &l.state;
                for (owner, k) in keys.iter().filter(|(owner, _)| owner == a) {
                    let simulated = match k {
                        EntryKey::Trustline(t) => {
                            state.trustlines.contains_key(&(*owner, t.clone()))
                        }
                        EntryKey::Data(n) => state.data.contains_key(&(*owner, n.clone())),
                    };
                    if !simulated && !fetched.contains(&(*owner, k.clone())) {
                        wanted.push(k.clone());
                    }
                }
            }
            let again = self.loaded.contains(a);
            if again && wanted.is_empty() {
                continue;
            }
            let entries = self.source.account(&AccountId(*a), &wanted).map_err(|e| {
                (
                    format!("the entries of {} could not be read ({e})", AccountId(*a)),
                    e.is_transient(),
                )
            })?;
            self.loaded.insert(*a);
            self.fetched.extend(wanted.iter().map(|k| (*a, k.clone())));
            let Some(entries) = entries else { continue };
            if !entries.unmodeled.is_empty() {
                self.unmodeled.insert(*a, entries.unmodeled.join(" and "));
            }
            let state = &mut self.ledger()?.state;
            // An account read before: only the entries asked for now (the simulation holds the
            // account and what earlier blobs did to it).
            let fresh = |k: &EntryKey| !again || wanted.contains(k);
            for (key, line) in entries.trustlines {
                if fresh(&EntryKey::Trustline(key.clone())) {
                    state.trustlines.insert((*a, key), line);
                }
            }
            for (name, entry) in entries.data {
                if fresh(&EntryKey::Data(name.clone())) {
                    state.data.insert((*a, name), entry);
                }
            }
            if !again {
                state.accounts.insert(*a, entries.account);
            }
        }
        Ok(())
    }

    /// Predict `env` (named `input`) at `now` (unix seconds, the network's clock), after the
    /// blobs predicted before it; an applied prediction becomes part of the simulated ledger.
    pub fn predict(&mut self, env: &TransactionEnvelope, input: &str, now: u64) -> Prediction {
        let accounts = touched(env);
        let source = envelope::source(env).0;
        let taint = |p: &mut Preflight<S>, why: String, all: bool| {
            let marked: Vec<[u8; 32]> = if all { accounts.clone() } else { vec![source] };
            for a in marked {
                p.tainted.entry(a).or_insert_with(|| why.clone());
            }
        };
        if let Some(why) = unmodeled_operation(env) {
            taint(
                self,
                format!("the earlier blob {input} could not be predicted"),
                true,
            );
            return Prediction::unknown(why);
        }
        if let Some(why) = accounts.iter().find_map(|a| self.tainted.get(a)) {
            let p = Prediction::unknown(format!("it depends on what is not predicted here: {why}"));
            taint(
                self,
                format!("the earlier blob {input} could not be predicted"),
                true,
            );
            return p;
        }
        let loaded = self
            .ledger()
            .map(|_| ())
            .and_then(|()| self.load(&accounts, &touched_entries(env)));
        if let Err((why, transient)) = loaded {
            taint(
                self,
                format!("the earlier blob {input} could not be predicted"),
                true,
            );
            return Prediction {
                unreachable: transient,
                ..Prediction::unknown(why)
            };
        }
        let unmodeled = accounts
            .iter()
            .find_map(|a| Some((*a, self.unmodeled.get(a)?.clone())));
        if let Some((a, why)) = unmodeled {
            taint(
                self,
                format!("the earlier blob {input} could not be predicted"),
                true,
            );
            return Prediction::unknown(format!(
                "{} holds {why}, which the preflight engine does not model",
                AccountId(a)
            ));
        }
        let hash = envelope::hash(env, &self.network);
        let xdr = envelope::encode(env);
        let ledger = match self.ledger() {
            Ok(l) => l,
            Err((why, _)) => return Prediction::unknown(why),
        };
        let verdict = match ledger.evaluate(env, &xdr, hash, now) {
            Ok(v) => v,
            Err(e) => {
                taint(
                    self,
                    format!("the earlier blob {input} could not be predicted"),
                    true,
                );
                return Prediction::unknown(format!("the preflight engine failed: {e}"));
            }
        };
        let types: Vec<String> = envelope::transaction(env)
            .operations
            .iter()
            .map(|op| op_type_name(&op.body))
            .collect();
        let mut p = Prediction {
            ledger: Some(self.read_at),
            after: self.applied,
            ..Prediction::unknown(String::new())
        };
        p.reason = None;
        match verdict {
            Verdict::Rejected(result) => {
                let c = ResultCodes::of(&result);
                let tx = c.inner_transaction.as_deref().unwrap_or(&c.transaction);
                p.outcome = if tx == "tx_too_early" {
                    let (min, _) = envelope::time_bounds(&envelope::transaction(env));
                    p.valid_from = (min > now).then_some(min);
                    Predicted::Pending
                } else {
                    Predicted::Rejected
                };
                p.explanations = c.explain(&types);
                if tx == "tx_bad_seq" {
                    p.explanations.push(self.sequence_words(env));
                }
                p.result_codes = Some(c);
                let why = format!(
                    "the earlier blob {input} from the same source is predicted {}",
                    if p.outcome == Predicted::Pending {
                        "not valid yet"
                    } else {
                        "to be rejected"
                    }
                );
                taint(self, why, false);
            }
            Verdict::Included(closed) => {
                let c = codes::from_result_xdr(&closed.tx.result_xdr).unwrap_or_default();
                p.outcome = if closed.tx.successful {
                    Predicted::Success
                } else {
                    Predicted::Failed
                };
                if !closed.tx.successful {
                    p.explanations = c.explain(&types);
                }
                p.result_codes = Some(c);
                if let Some(ledger) = self.ledger.as_mut() {
                    p.changes = words::changes(&ledger.state, &closed.state);
                    p.warnings = words::warnings(&ledger.state, &closed.state);
                    ledger.commit(&closed);
                    self.applied += 1;
                }
            }
        }
        p
    }

    /// Why the sequence number is wrong, from the simulated account.
    fn sequence_words(&self, env: &TransactionEnvelope) -> String {
        let source = envelope::source(env);
        let seq = envelope::sequence(env);
        let current = self
            .ledger
            .as_ref()
            .and_then(|l| l.state.accounts.get(&source.0))
            .map(|a| a.seq_num);
        match current {
            Some(c) if seq <= c => format!(
                "sequence {seq} is already used ({source} is at {c}); rebuild with sequence {} unless this very transaction was already applied",
                c.saturating_add(1)
            ),
            Some(c) => format!(
                "sequence {seq} is ahead of {source}'s next sequence {}: transactions with the sequence numbers between must be applied first",
                c.saturating_add(1)
            ),
            None => format!("{source} does not exist"),
        }
    }
}
