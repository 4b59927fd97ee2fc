//! `inspect`: the library's review of each blob, then what can be checked offline (signatures) and
//! against Horizon (sequence, time bounds, signature weight, fee, counterparties). Every check says
//! whether submission would fail, with the result code it would fail with.
use crate::horizon::HorizonError;
use crate::inputs::Inputs;
use crate::online::{self, Online};
use crate::sigcheck;
use airgap::account::AccountId;
use airgap::asset::{Asset, AssetCode};
use airgap::envelope;
use airgap::horizon::{Account, FeeStats};
use airgap::network::Network;
use airgap::review::{self, duration_words, Review};
use airgap::weights::{self, SignerSet};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use stellar_xdr::{OperationBody, TransactionEnvelope};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InspectError {
    #[error(transparent)]
    Horizon(#[from] HorizonError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    Warning,
    Fail,
    /// Could not be checked (offline, or Horizon did not answer).
    Unknown,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub check: &'static str,
    pub outcome: Outcome,
    /// True when submitting now would fail because of this.
    pub would_fail: bool,
    /// The result code it would fail with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    pub message: String,
}

fn ok(check: &'static str, message: String) -> Check {
    Check {
        check,
        outcome: Outcome::Ok,
        would_fail: false,
        code: None,
        message,
    }
}
fn warn(check: &'static str, message: String) -> Check {
    Check {
        check,
        outcome: Outcome::Warning,
        would_fail: false,
        code: None,
        message,
    }
}
fn fail(check: &'static str, code: &'static str, message: String) -> Check {
    Check {
        check,
        outcome: Outcome::Fail,
        would_fail: true,
        code: Some(code),
        message,
    }
}
fn unknown(check: &'static str, message: String) -> Check {
    Check {
        check,
        outcome: Outcome::Unknown,
        would_fail: false,
        code: None,
        message,
    }
}

#[derive(Debug, Serialize)]
pub struct InspectRecord {
    pub input: String,
    pub hash: Option<String>,
    pub review: Option<Review>,
    /// Why the blob could not be reviewed at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub checks: Vec<Check>,
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Accounts read from Horizon once per run.
struct Accounts<'a> {
    online: &'a Online,
    deadline: Instant,
    cache: HashMap<AccountId, Option<Account>>,
    unreachable: bool,
}

impl Accounts<'_> {
    /// `Err(())` when Horizon did not answer.
    fn get(&mut self, id: &AccountId) -> Result<Option<&Account>, ()> {
        if !self.cache.contains_key(id) {
            match online::retry(self.deadline, |t| self.online.horizon.account(id, t)) {
                Ok(a) => {
                    self.cache.insert(*id, a.map(|(a, _)| a));
                }
                Err(_) => {
                    self.unreachable = true;
                    return Err(());
                }
            }
        }
        Ok(self.cache.get(id).and_then(Option::as_ref))
    }
}

pub fn run(
    inputs: &Inputs,
    net: &Network,
    online: Option<&Online>,
    timeout: Duration,
    json: bool,
) -> Result<u8, InspectError> {
    let deadline = Instant::now() + timeout;
    let local_now = unix(SystemTime::now());
    let horizon_now = online.and_then(|o| o.clock).map(unix);
    let fee_stats = online.map(|o| online::retry(deadline, |t| o.horizon.fee_stats(t)));
    let mut accounts = online.map(|o| Accounts {
        online: o,
        deadline,
        cache: HashMap::new(),
        unreachable: false,
    });
    // Every (source, sequence) among the inputs, so a chain of blobs reads as a chain.
    let planned: BTreeSet<(AccountId, i64)> = inputs
        .blobs
        .iter()
        .filter_map(|b| b.envelope.as_ref().ok())
        .map(|e| (envelope::source(e), envelope::sequence(e)))
        .collect();
    let mut worst = 0u8;
    for blob in &inputs.blobs {
        let mut rec = InspectRecord {
            input: blob.input.clone(),
            hash: None,
            review: None,
            error: None,
            checks: Vec::new(),
        };
        let env = match &blob.envelope {
            Ok(e) => e,
            Err(e) => {
                rec.error = Some(e.to_string());
                worst = worst.max(1);
                emit(&rec, json);
                continue;
            }
        };
        rec.hash = Some(hex::encode(envelope::hash(env, net)));
        // Candidates for naming signers: the accounts' own keys, plus their signers when online.
        let mut candidates = sigcheck::signing_accounts(env);
        if let Some(acc) = accounts.as_mut() {
            for a in sigcheck::signing_accounts(env) {
                if let Ok(Some(found)) = acc.get(&a) {
                    candidates.extend(
                        found
                            .signers
                            .iter()
                            .filter_map(|s| s.key.parse::<AccountId>().ok()),
                    );
                }
            }
        }
        candidates.sort();
        candidates.dedup();
        let now = horizon_now.unwrap_or(local_now);
        match review::review(env, net, now, &candidates) {
            Ok(r) => rec.review = Some(r),
            Err(e) => {
                rec.error = Some(e.to_string());
                worst = worst.max(1);
            }
        }
        rec.checks
            .push(signature_check(env, net, &candidates, online.is_some()));
        rec.checks.push(time_check(env, now, horizon_now.is_some()));
        if let (Some(acc), Some(o)) = (accounts.as_mut(), online) {
            let mut already = false;
            if let Ok(Some(tx)) = o.horizon.transaction(
                rec.hash.as_deref().unwrap_or_default(),
                online::budget(deadline, Duration::from_secs(10)),
            ) {
                already = true;
                rec.checks.push(warn(
                    "already_submitted",
                    format!(
                        "this transaction is already in ledger {} ({}); submitting it again reports that stored outcome",
                        tx.ledger,
                        if tx.successful { "successful" } else { "failed" }
                    ),
                ));
            }
            if !already {
                rec.checks.push(sequence_check(env, acc, &planned));
            }
            rec.checks.extend(weight_checks(env, net, acc));
            rec.checks.push(fee_check(env, fee_stats.as_ref()));
            rec.checks.extend(counterparty_checks(env, acc));
        } else {
            rec.checks.push(unknown(
                "online",
                "offline: sequence, signature weight, fee and counterparties were not checked"
                    .into(),
            ));
        }
        if rec.checks.iter().any(|c| c.would_fail) {
            worst = worst.max(2);
        }
        emit(&rec, json);
    }
    let unreachable = accounts.as_ref().is_some_and(|a| a.unreachable)
        || matches!(fee_stats, Some(Err(ref e)) if e.is_transient());
    Ok(match worst {
        0 if unreachable => 3,
        w => w,
    })
}

fn emit(rec: &InspectRecord, json: bool) {
    if json {
        println!("{}", serde_json::to_string(rec).unwrap_or_default());
        return;
    }
    println!("== {}", rec.input);
    if let Some(e) = &rec.error {
        println!("cannot review: {e}");
    }
    if let Some(r) = &rec.review {
        print!("{}", r.to_text());
    }
    if !rec.checks.is_empty() {
        println!("Checks:");
    }
    for c in &rec.checks {
        let tag = match c.outcome {
            Outcome::Ok => "ok     ",
            Outcome::Warning => "warning",
            Outcome::Fail => "FAIL   ",
            Outcome::Unknown => "unknown",
        };
        let code = c
            .code
            .map(|k| format!(" [would fail: {k}]"))
            .unwrap_or_default();
        println!("  {tag} {}: {}{code}", c.check, c.message);
    }
}

fn signature_check(
    env: &TransactionEnvelope,
    net: &Network,
    candidates: &[AccountId],
    online: bool,
) -> Check {
    let results = sigcheck::check(env, net, candidates);
    if results.is_empty() {
        return fail(
            "signatures",
            "tx_bad_auth",
            "no signatures: sign it with airgap-signer first".into(),
        );
    }
    match sigcheck::refusal(env, net, candidates) {
        None => {
            let names: Vec<String> = results
                .iter()
                .filter_map(|s| s.signer.map(|k| format!("{} ({})", k, s.envelope)))
                .collect();
            ok("signatures", format!("{} signature(s) verify for {}: {}", results.len(), net.name(), names.join(", ")))
        }
        Some(why) if online => fail("signatures", "tx_bad_auth", why),
        Some(why) => warn(
            "signatures",
            format!("{why} (offline: it may be another signer of the account; inspect online to be sure)"),
        ),
    }
}

fn time_check(env: &TransactionEnvelope, now: u64, horizon_clock: bool) -> Check {
    let (min, max) = envelope::time_bounds(&envelope::transaction(env));
    let clock = if horizon_clock {
        "Horizon's clock"
    } else {
        "this machine's clock"
    };
    if min > now {
        return fail(
            "time_bounds",
            "tx_too_early",
            format!(
                "valid only from {} ({} from now by {clock}); submitting now fails",
                review::time_words(min),
                duration_words(min - now)
            ),
        );
    }
    if max != 0 && max < now {
        return fail(
            "time_bounds",
            "tx_too_late",
            format!(
                "expired {} ago by {clock}; it can never be applied: build and sign a new one",
                duration_words(now - max)
            ),
        );
    }
    if max == 0 {
        return warn(
            "time_bounds",
            "no upper time bound: valid forever once signed".into(),
        );
    }
    if max - now < 120 {
        return warn(
            "time_bounds",
            format!(
                "expires in {} by {clock}: submit it now",
                duration_words(max - now)
            ),
        );
    }
    ok(
        "time_bounds",
        format!("valid for another {} by {clock}", duration_words(max - now)),
    )
}

fn sequence_check(
    env: &TransactionEnvelope,
    acc: &mut Accounts<'_>,
    planned: &BTreeSet<(AccountId, i64)>,
) -> Check {
    let source = envelope::source(env);
    let seq = envelope::sequence(env);
    let acct = match acc.get(&source) {
        Err(()) => {
            return unknown(
                "sequence",
                "Horizon did not answer for the source account".into(),
            )
        }
        Ok(None) => {
            return fail(
                "sequence",
                "tx_no_source_account",
                format!("the source account {source} does not exist on this network"),
            )
        }
        Ok(Some(a)) => a,
    };
    let Some(current) = acct.sequence() else {
        return unknown(
            "sequence",
            "Horizon's sequence for the source is not a number".into(),
        );
    };
    let next = current.saturating_add(1);
    if seq == next {
        return ok(
            "sequence",
            format!("{seq} is the source account's next sequence number"),
        );
    }
    if seq < next {
        return fail(
            "sequence",
            "tx_bad_seq",
            format!("stale: {seq} is already used (the account is at {current}); rebuild with sequence {next} unless this very transaction was already applied"),
        );
    }
    let missing: Vec<i64> = (next..seq)
        .filter(|s| !planned.contains(&(source, *s)))
        .take(5)
        .collect();
    if missing.is_empty() {
        return ok(
            "sequence",
            format!("{seq} follows other blobs given here (the account is at {current}); submit them in sequence order"),
        );
    }
    fail(
        "sequence",
        "tx_bad_seq",
        format!(
            "future: {seq} is ahead of the account's next sequence {next}; transactions with sequence {} must be applied first",
            missing.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
        ),
    )
}

/// Signature weight against each threshold the envelope needs (`airgap::weights`, with the
/// signer sets Horizon reports): the transaction's, each operation's, then the fee bump's.
fn weight_checks(env: &TransactionEnvelope, net: &Network, acc: &mut Accounts<'_>) -> Vec<Check> {
    let mut sets = Vec::new();
    for a in sigcheck::signing_accounts(env) {
        if let Ok(Some(found)) = acc.get(&a) {
            sets.push(SignerSet::from_horizon(a, found));
        }
    }
    // `weigh` lists the fee bump first; here it comes last, after what it pays for.
    let (fee_bump, tx): (Vec<_>, Vec<_>) = weights::weigh(env, net, &sets)
        .requirements
        .into_iter()
        .partition(|r| r.what == "fee bump");
    let mut out = Vec::new();
    for r in tx.into_iter().chain(fee_bump) {
        let what = match r.operation {
            Some(i) => format!("operation {i} ({})", r.what),
            None if r.what == "fee bump" => "the fee bump (its fee)".to_string(),
            None => "the transaction (fee and sequence)".to_string(),
        };
        let src = r.account;
        let w = match (acc.get(&src), r.weight) {
            (Ok(None), _) => {
                // A missing source is reported by the sequence check (or is created earlier).
                out.push(unknown(
                    "signature_weight",
                    format!("{what}: {src} does not exist (yet)"),
                ));
                continue;
            }
            (Ok(Some(_)), Some(w)) => w,
            // Horizon did not answer for it (or not before its signer set was read above).
            (Err(()), _) | (Ok(Some(_)), None) => {
                out.push(unknown(
                    "signature_weight",
                    format!("{what}: Horizon did not answer for {src}"),
                ));
                continue;
            }
        };
        let (name, needed, have) = (r.category.name(), w.threshold, w.present);
        if w.missing == 0 {
            out.push(ok(
                "signature_weight",
                format!("{what}: weight {have} meets {src}'s {name} threshold {needed}"),
            ));
        } else {
            let code = if r.operation.is_some() {
                "op_bad_auth"
            } else {
                "tx_bad_auth"
            };
            out.push(fail(
                "signature_weight",
                code,
                format!("{what}: weight {have} is below {src}'s {name} threshold {needed}; more signers must sign"),
            ));
        }
    }
    out
}

fn fee_check(env: &TransactionEnvelope, stats: Option<&Result<FeeStats, HorizonError>>) -> Check {
    let Some(Ok(stats)) = stats else {
        return unknown("fee", "Horizon's /fee_stats did not answer".into());
    };
    let tx = envelope::transaction(env);
    let ops = tx.operations.len().max(1) as i64;
    let (total, slots) = match env {
        TransactionEnvelope::TxFeeBump(fb) => (fb.tx.fee, ops + 1),
        _ => (i64::from(tx.fee), ops),
    };
    let per_op = total / slots;
    let base: i64 = stats.last_ledger_base_fee.parse().unwrap_or(100);
    let p50: i64 = stats.fee_charged.p50.parse().unwrap_or(base);
    let p90: i64 = stats.fee_charged.p90.parse().unwrap_or(base);
    if per_op < base {
        return fail(
            "fee",
            "tx_insufficient_fee",
            format!("{per_op} stroops per operation is below the network's base fee of {base}; submit with --fee-bump-key and --max-fee, or rebuild with a higher fee"),
        );
    }
    if per_op < p90 {
        return warn(
            "fee",
            format!("{per_op} stroops per operation; recent ledgers charged {p50} (median) to {p90} (90th percentile): in a surge it may wait or time out"),
        );
    }
    ok("fee", format!("{per_op} stroops per operation covers recent fees (median {p50}, 90th percentile {p90})"))
}

fn counterparty_checks(env: &TransactionEnvelope, acc: &mut Accounts<'_>) -> Vec<Check> {
    let tx = envelope::transaction(env);
    let tx_source = envelope::source(env);
    let mut out = Vec::new();
    for (i, op) in tx.operations.iter().enumerate() {
        let n = i + 1;
        let src = envelope::op_source(op, tx_source);
        match &op.body {
            OperationBody::CreateAccount(c) => {
                let dest = AccountId::from_xdr(&c.destination);
                match acc.get(&dest) {
                    Err(()) => out.push(unknown(
                        "destination",
                        format!("operation {n}: Horizon did not answer for {dest}"),
                    )),
                    Ok(Some(_)) => out.push(fail(
                        "destination",
                        "op_already_exists",
                        format!("operation {n}: account {dest} already exists"),
                    )),
                    Ok(None) => out.push(ok(
                        "destination",
                        format!("operation {n}: {dest} does not exist yet and will be created"),
                    )),
                }
            }
            OperationBody::Payment(p) => {
                let dest = AccountId::from_muxed(&p.destination);
                let view = Asset::from_xdr(&p.asset);
                out.push(holder_check(acc, n, &dest, &view, HolderRole::Destination));
            }
            OperationBody::AllowTrust(a) => {
                let trustor = AccountId::from_xdr(&a.trustor);
                let code = match &a.asset {
                    stellar_xdr::AssetCode::CreditAlphanum4(x) => AssetCode::from_xdr_bytes(&x.0),
                    stellar_xdr::AssetCode::CreditAlphanum12(x) => AssetCode::from_xdr_bytes(&x.0),
                };
                let view = airgap::asset::AssetView {
                    code,
                    issuer: Some(src),
                };
                out.push(holder_check(acc, n, &trustor, &view, HolderRole::Trustor));
            }
            OperationBody::SetTrustLineFlags(a) => {
                let trustor = AccountId::from_xdr(&a.trustor);
                out.push(holder_check(
                    acc,
                    n,
                    &trustor,
                    &Asset::from_xdr(&a.asset),
                    HolderRole::Trustor,
                ));
            }
            OperationBody::Clawback(c) => {
                let from = AccountId::from_muxed(&c.from);
                out.push(holder_check(
                    acc,
                    n,
                    &from,
                    &Asset::from_xdr(&c.asset),
                    HolderRole::ClawbackFrom,
                ));
            }
            OperationBody::AccountMerge(d) => {
                let dest = AccountId::from_muxed(d);
                match acc.get(&dest) {
                    Err(()) => out.push(unknown(
                        "destination",
                        format!("operation {n}: Horizon did not answer for {dest}"),
                    )),
                    Ok(None) => out.push(fail(
                        "destination",
                        "op_no_account",
                        format!("operation {n}: merge destination {dest} does not exist"),
                    )),
                    Ok(Some(_)) => out.push(ok(
                        "destination",
                        format!("operation {n}: merge destination {dest} exists"),
                    )),
                }
            }
            _ => {}
        }
    }
    out
}

enum HolderRole {
    Destination,
    Trustor,
    ClawbackFrom,
}

fn holder_check(
    acc: &mut Accounts<'_>,
    n: usize,
    who: &AccountId,
    asset: &airgap::asset::AssetView,
    role: HolderRole,
) -> Check {
    let acct = match acc.get(who) {
        Err(()) => {
            return unknown(
                "destination",
                format!("operation {n}: Horizon did not answer for {who}"),
            )
        }
        Ok(None) => {
            let code = match role {
                HolderRole::Destination => "op_no_destination",
                HolderRole::Trustor | HolderRole::ClawbackFrom => "op_no_trust",
            };
            return fail(
                "destination",
                code,
                format!("operation {n}: account {who} does not exist"),
            );
        }
        Ok(Some(a)) => a,
    };
    let Some(issuer) = asset.issuer else {
        return ok(
            "destination",
            format!("operation {n}: {who} exists (native XLM needs no trustline)"),
        );
    };
    if issuer == *who {
        return ok(
            "destination",
            format!("operation {n}: {who} is the issuer of {}", asset.code),
        );
    }
    let Some(line) = acct.trustline(&asset.code, &issuer.to_string()) else {
        return fail(
            "destination",
            "op_no_trust",
            format!("operation {n}: {who} has no trustline to {asset}"),
        );
    };
    match role {
        HolderRole::Destination if line.is_authorized != Some(true) => fail(
            "destination",
            "op_not_authorized",
            format!(
                "operation {n}: {who}'s trustline to {asset} is not authorized; authorize it first"
            ),
        ),
        HolderRole::ClawbackFrom if line.is_clawback_enabled != Some(true) => fail(
            "destination",
            "op_not_clawback_enabled",
            format!("operation {n}: {who}'s trustline to {asset} does not have clawback enabled"),
        ),
        _ => ok(
            "destination",
            format!(
                "operation {n}: {who} trusts {asset} ({})",
                if line.is_authorized == Some(true) {
                    "authorized"
                } else {
                    "not authorized"
                }
            ),
        ),
    }
}
