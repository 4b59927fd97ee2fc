//! `inspect`: the library's review of each blob, what can be checked offline (signatures, time
//! bounds), and online the **prediction**: the blob applied by the sandbox's ledger engine to the
//! entries it touches, read from Horizon or Stellar RPC ([`crate::preflight`]: `HorizonSource`,
//! `RpcSource`), in the order `submit` would send
//! the blobs. The prediction is the one verdict on whether the network would accept it; the other
//! online checks explain (who signed and with what weight, fees in recent ledgers).
use crate::expect::{self, ExpectedHash};
use crate::horizon::HorizonError;
use crate::inputs::{self, Inputs};
use crate::net::NetError;
use crate::online::{self, Online};
use crate::preflight::{HorizonSource, LedgerSource, Predicted, Prediction, Preflight, RpcSource};
use crate::rpc::Rpc;
use crate::sigcheck;
use airgap::account::AccountId;
use airgap::envelope;
use airgap::horizon::FeeStats;
use airgap::network::Network;
use airgap::review::{self, duration_words, Review};
use airgap::weights::{self, SignerSet};
use serde::Serialize;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use stellar_xdr::TransactionEnvelope;

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
    /// Could not be checked (offline, Horizon did not answer, or not predictable).
    Unknown,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub check: &'static str,
    pub outcome: Outcome,
    /// True when submitting now would fail because of this.
    pub would_fail: bool,
    /// The result code it would fail with (or, for a blob not valid yet, `tx_too_early`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub message: String,
}

fn check(check: &'static str, outcome: Outcome, message: String) -> Check {
    Check {
        check,
        outcome,
        would_fail: false,
        code: None,
        message,
    }
}
fn ok(name: &'static str, message: String) -> Check {
    check(name, Outcome::Ok, message)
}
fn warn(name: &'static str, message: String) -> Check {
    check(name, Outcome::Warning, message)
}
fn unknown(name: &'static str, message: String) -> Check {
    check(name, Outcome::Unknown, message)
}
fn fail(name: &'static str, code: &str, message: String) -> Check {
    Check {
        would_fail: true,
        code: Some(code.to_string()),
        ..check(name, Outcome::Fail, message)
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
    /// What the network would do with it (online only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prediction: Option<Prediction>,
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The server `inspect` reads online.
#[derive(Clone, Copy)]
pub enum Server<'a> {
    /// Horizon (connected: its network checked, its clock read).
    Horizon(&'a Online),
    /// Stellar RPC (its network checked by the caller through `getNetwork`).
    Rpc(&'a Rpc),
}

/// What `inspect` is asked to do.
pub struct Options<'a> {
    pub online: Option<Server<'a>>,
    pub timeout: Duration,
    pub json: bool,
    /// `--expect-hash`: blobs with another hash are refused.
    pub expect: &'a [ExpectedHash],
}

pub fn run(inputs: &Inputs, net: &Network, opts: &Options<'_>) -> Result<u8, InspectError> {
    let (online, json) = (opts.online, opts.json);
    let started = Instant::now();
    let deadline = started + opts.timeout;
    let local_now = unix(SystemTime::now());
    // The network's clock: Horizon's (its Date header) at connecting, or over RPC the last
    // ledger's close time (what stellar-core checks time bounds against).
    let (horizon_clock, clock_name) = match online {
        Some(Server::Horizon(o)) => (o.clock.map(unix), "Horizon's clock"),
        Some(Server::Rpc(r)) => (
            r.latest_ledger().ok().and_then(|l| l.close_time),
            "the last ledger's close time",
        ),
        None => (None, ""),
    };
    let clock_name = horizon_clock.map(|_| clock_name);
    // The network's clock now: at connecting, plus the time since.
    let now = || horizon_clock.unwrap_or(local_now) + started.elapsed().as_secs();
    let fee_stats = online.map(|o| fee_stats(o, deadline));
    let mut preflight = online.map(|o| {
        let source: Box<dyn LedgerSource + '_> = match o {
            Server::Horizon(o) => Box::new(HorizonSource::new(o, deadline)),
            Server::Rpc(r) => Box::new(RpcSource::new(r, deadline)),
        };
        Preflight::new(source, net.clone())
    });
    let mut worst = 0u8;
    let mut unreachable = false;
    // In the order submit sends them, so a chain of blobs is predicted as a chain.
    for i in inputs::submit_order(&inputs.blobs) {
        let blob = &inputs.blobs[i];
        let mut rec = InspectRecord {
            input: blob.input.clone(),
            hash: None,
            review: None,
            error: None,
            checks: Vec::new(),
            prediction: None,
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
        let hash = hex::encode(envelope::hash(env, net));
        rec.hash = Some(hash.clone());
        let refused =
            expect::refusal(opts.expect, &hash).or_else(|| inputs::claimed_hash_refusal(blob, net));
        if let Some(why) = refused {
            rec.error = Some(why);
            worst = worst.max(1);
            emit(&rec, json);
            continue;
        }
        // Candidates for naming signers: the accounts' own keys, plus their signers when online.
        let mut candidates = sigcheck::signing_accounts(env);
        let mut sets = Vec::new();
        if let Some(p) = preflight.as_mut() {
            for a in sigcheck::signing_accounts(env) {
                if let Some(found) = p.source().signer_account(&a) {
                    sets.push(SignerSet::from_horizon(a, &found));
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
        match review::review(env, net, now(), &candidates) {
            Ok(r) => rec.review = Some(r),
            Err(e) => {
                rec.error = Some(e.to_string());
                worst = worst.max(1);
            }
        }
        rec.checks
            .push(signature_check(env, net, &candidates, online.is_some()));
        rec.checks.push(time_check(env, now(), clock_name));
        match (preflight.as_mut(), online) {
            (Some(p), Some(o)) => {
                if let Some((ledger, successful)) = stored(o, &hash, deadline) {
                    rec.checks.push(warn(
                        "already_submitted",
                        format!(
                            "this transaction is already in ledger {ledger} ({}); submitting it again reports that stored outcome",
                            if successful { "successful" } else { "failed" }
                        ),
                    ));
                } else {
                    let prediction = p.predict(env, &blob.input, now());
                    unreachable |= prediction.unreachable;
                    rec.checks.extend(prediction_checks(&prediction));
                    rec.prediction = Some(prediction);
                }
                rec.checks.extend(weight_checks(env, net, &sets));
                rec.checks.push(fee_check(env, fee_stats.as_ref()));
            }
            _ => rec.checks.push(unknown(
                "online",
                "offline: nothing was predicted (sequence, signature weight, fee, the accounts' entries)".into(),
            )),
        }
        if rec.checks.iter().any(|c| c.would_fail) {
            worst = worst.max(2);
        }
        emit(&rec, json);
    }
    unreachable |= preflight
        .as_ref()
        .is_some_and(|p| p.source_ref().unreachable())
        || matches!(fee_stats, Some(Err(ref e)) if e.is_transient());
    Ok(match worst {
        0 if unreachable => 3,
        w => w,
    })
}

/// The transaction's ledger and success, if it is in a ledger already.
fn stored(server: Server<'_>, hash: &str, deadline: Instant) -> Option<(u32, bool)> {
    match server {
        Server::Horizon(o) => o
            .horizon
            .transaction(hash, online::budget(deadline, Duration::from_secs(10)))
            .ok()
            .flatten()
            .map(|tx| (tx.ledger, tx.successful)),
        Server::Rpc(r) => {
            let t = r.transaction(hash).ok()?;
            match t.details.status {
                airgap::rpc::TxStatus::Success => Some((t.details.ledger?, true)),
                airgap::rpc::TxStatus::Failed => Some((t.details.ledger?, false)),
                _ => None,
            }
        }
    }
}

/// Fees charged in recent ledgers: Horizon's `/fee_stats`, or RPC's `getFeeStats` (its
/// `inclusionFee`, the fees charged per operation of classic transactions) with the base fee
/// of the latest ledger's header.
fn fee_stats(server: Server<'_>, deadline: Instant) -> Result<FeeStats, NetError> {
    match server {
        Server::Horizon(o) => Ok(online::retry(deadline, |t| o.horizon.fee_stats(t))?),
        Server::Rpc(r) => {
            let stats = online::retry_until(deadline, || r.fee_stats())?;
            let header = RpcSource::new(r, deadline)
                .header()
                .map_err(|e| NetError(e.to_string()))?;
            let f = stats.inclusion_fee;
            Ok(FeeStats {
                last_ledger: stats.latest_ledger.to_string(),
                last_ledger_base_fee: header.base_fee.to_string(),
                ledger_capacity_usage: String::new(),
                fee_charged: airgap::horizon::FeeDistribution {
                    max: f.max,
                    min: f.min,
                    mode: f.mode,
                    p10: f.p10,
                    p20: f.p20,
                    p30: f.p30,
                    p40: f.p40,
                    p50: f.p50,
                    p60: f.p60,
                    p70: f.p70,
                    p80: f.p80,
                    p90: f.p90,
                    p95: f.p95,
                    p99: f.p99,
                },
                max_fee: Default::default(),
            })
        }
    }
}

/// The prediction as checks: its verdict, and a warning per change worth one.
fn prediction_checks(p: &Prediction) -> Vec<Check> {
    let at = match (p.ledger, p.after) {
        (Some(l), 0) => format!(" (stellar-core's rules on the entries of ledger {l})"),
        (Some(l), 1) => {
            format!(" (stellar-core's rules on the entries of ledger {l}, after the blob above)")
        }
        (Some(l), n) => format!(
            " (stellar-core's rules on the entries of ledger {l}, after the {n} blobs above)"
        ),
        (None, _) => String::new(),
    };
    let code = p.code();
    let codes = p
        .result_codes
        .as_ref()
        .map(|c| {
            let mut s = c
                .inner_transaction
                .clone()
                .map_or(c.transaction.clone(), |i| {
                    format!("{} / {i}", c.transaction)
                });
            if !c.operations.is_empty() {
                s.push_str(&format!(" [{}]", c.operations.join(", ")));
            }
            s
        })
        .unwrap_or_default();
    let mut out = vec![match p.outcome {
        Predicted::Success => ok("prediction", format!("would succeed: {codes}{at}")),
        Predicted::Failed => fail(
            "prediction",
            code.as_deref().unwrap_or("tx_failed"),
            format!("would fail in a ledger: {codes}; the fee is charged and the sequence number used{at}"),
        ),
        Predicted::Rejected => fail(
            "prediction",
            code.as_deref().unwrap_or("tx_failed"),
            format!("would be rejected: {codes}; nothing is applied and no fee charged{at}"),
        ),
        Predicted::Pending => Check {
            code: Some("tx_too_early".into()),
            ..warn(
                "prediction",
                match p.valid_from {
                    Some(t) => format!(
                        "not valid yet: valid from {} ({} from now); submit leaves it pending, `submit --wait` waits for it",
                        review::time_words(t),
                        duration_words(t.saturating_sub(unix(SystemTime::now())))
                    ),
                    None => "not valid yet (its ledger bounds have not started); submit leaves it pending, `submit --wait` waits for it".into(),
                },
            )
        },
        Predicted::Unknown => unknown(
            "prediction",
            format!(
                "not predicted: {}",
                p.reason.as_deref().unwrap_or("no reason given")
            ),
        ),
    }];
    out.extend(
        p.warnings
            .iter()
            .map(|w| warn("trustline_authorization", w.clone())),
    );
    out
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
        let code = match (&c.code, c.would_fail) {
            (Some(k), true) => format!(" [would fail: {k}]"),
            _ => String::new(),
        };
        println!("  {tag} {}: {}{code}", c.check, c.message);
    }
    if let Some(p) = &rec.prediction {
        if !p.explanations.is_empty() {
            println!("Why:");
            for e in &p.explanations {
                println!("  {e}");
            }
        }
        if !p.changes.is_empty() {
            println!("Predicted changes:");
            for c in &p.changes {
                println!("  {c}");
            }
        }
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
        // `submit` refuses to send it (sigcheck): nothing would reach the network.
        Some(why) if online => fail("signatures", "tx_bad_auth", format!("{why}; submit refuses to send it")),
        Some(why) => warn(
            "signatures",
            format!("{why} (offline: it may be another signer of the account; inspect online to be sure)"),
        ),
    }
}

/// The time bounds in words. Online the prediction gives the verdict; offline an expired blob is
/// certain to fail (time only moves on), while one not valid yet is pending, not failed.
/// The time bounds against `now`, read from the network's clock (`network_clock` names it) or,
/// without one, this machine's.
fn time_check(env: &TransactionEnvelope, now: u64, network_clock: Option<&str>) -> Check {
    let (min, max) = envelope::time_bounds(&envelope::transaction(env));
    let horizon_clock = network_clock.is_some();
    let clock = network_clock.unwrap_or("this machine's clock");
    if min > now {
        return Check {
            code: Some("tx_too_early".into()),
            ..warn(
                "time_bounds",
                format!(
                    "valid only from {} ({} from now by {clock}): submitting before then leaves it pending",
                    review::time_words(min),
                    duration_words(min - now)
                ),
            )
        };
    }
    if max != 0 && max < now {
        let message = format!(
            "expired {} ago by {clock}; it can never be applied: build and sign a new one",
            duration_words(now - max)
        );
        return if horizon_clock {
            warn("time_bounds", message)
        } else {
            fail("time_bounds", "tx_too_late", message)
        };
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

/// Signature weight against each threshold the envelope needs (`airgap::weights`, with the
/// signer sets Horizon reports): the transaction's, each operation's, then the fee bump's. These
/// explain; the prediction says whether the network accepts it.
fn weight_checks(env: &TransactionEnvelope, net: &Network, sets: &[SignerSet]) -> Vec<Check> {
    // `weigh` lists the fee bump first; here it comes last, after what it pays for.
    let (fee_bump, tx): (Vec<_>, Vec<_>) = weights::weigh(env, net, sets)
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
        let Some(w) = r.weight else {
            out.push(unknown(
                "signature_weight",
                format!("{what}: {src} does not exist (yet), or the server did not answer for it"),
            ));
            continue;
        };
        let (name, needed, have) = (r.category.name(), w.threshold, w.present);
        out.push(if w.missing == 0 {
            ok(
                "signature_weight",
                format!("{what}: weight {have} meets {src}'s {name} threshold {needed}"),
            )
        } else {
            warn(
                "signature_weight",
                format!("{what}: weight {have} is below {src}'s {name} threshold {needed}; more signers must sign"),
            )
        });
    }
    out
}

/// Fees charged in recent ledgers, against the blob's (the base fee itself is the prediction's).
fn fee_check(env: &TransactionEnvelope, stats: Option<&Result<FeeStats, NetError>>) -> Check {
    let Some(Ok(stats)) = stats else {
        return unknown("fee", "the server's fee statistics did not answer".into());
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
    if per_op < p90 {
        return warn(
            "fee",
            format!("{per_op} stroops per operation; recent ledgers charged {p50} (median) to {p90} (90th percentile), base fee {base}: in a surge it may wait or time out"),
        );
    }
    ok("fee", format!("{per_op} stroops per operation covers recent fees (median {p50}, 90th percentile {p90})"))
}
