//! The findings: computed over the whole transaction, operations in order, so that several
//! `set_options` on one account are weighed together, and each one true. What the envelope alone
//! cannot tell (an account's current signers, thresholds, flags) is said to be unknown, or is
//! known from [`Options`].
use super::describe::{account_ref, lookalike_12, signer_key_json};
use super::{
    amount, duration_words, time_words, Finding, Options, Severity, DEFAULT_MAX_FEE,
    DEFAULT_MAX_VALIDITY,
};
use crate::account::AccountId;
use crate::asset::AssetCode;
use crate::envelope;
use crate::network::Network;
use crate::weights::SignerSet;
use stellar_xdr::{MuxedAccount, OperationBody, Preconditions, SetOptionsOp, Transaction};

pub(super) struct Input<'a> {
    pub tx: &'a Transaction,
    pub network: &'a Network,
    pub now: u64,
    /// The fee the transaction may pay (for a fee bump, the outer fee).
    pub max_fee: i64,
    pub options: &'a Options<'a>,
}

const AUTH_REVOCABLE: u32 = 2;
const AUTH_IMMUTABLE: u32 = 4;
const AUTH_CLAWBACK: u32 = 8;

struct Out(Vec<Finding>);

impl Out {
    fn danger(&mut self, code: &'static str, op: Option<usize>, message: String, short: String) {
        self.0
            .push(finding(Severity::Danger, code, op, message, short));
    }
    fn warning(&mut self, code: &'static str, op: Option<usize>, message: String, short: String) {
        self.0
            .push(finding(Severity::Warning, code, op, message, short));
    }
}

fn finding(
    severity: Severity,
    code: &'static str,
    operation: Option<usize>,
    message: String,
    short: String,
) -> Finding {
    Finding {
        severity,
        code,
        message,
        short,
        operation,
    }
}

/// What is known of one account's signers and thresholds while the operations are applied in
/// order: all of it when its signer set was given, else only what this transaction sets.
struct Account {
    id: AccountId,
    /// Whether the account's signer set (before the transaction) is known.
    known: bool,
    master: Option<u64>,
    /// Signers other than the master key, by strkey, with their weights.
    signers: Vec<(String, u64)>,
    /// low, medium, high.
    thresholds: [Option<u64>; 3],
    /// Account flags, when known.
    flags: Option<u32>,
    /// The last operation that changed a weight, a signer or a threshold.
    changed_at: Option<usize>,
    /// Whether the master weight was set by this transaction.
    master_set: bool,
}

impl Account {
    fn new(id: AccountId, sets: &[SignerSet], flags: &[(AccountId, u32)]) -> Account {
        let flags = flags.iter().find(|(a, _)| *a == id).map(|(_, f)| *f);
        match sets.iter().find(|s| s.account == id) {
            Some(s) => Account {
                id,
                known: true,
                master: Some(
                    s.signers
                        .iter()
                        .find(|(k, _)| *k == id)
                        .map_or(0, |(_, w)| u64::from(*w)),
                ),
                signers: s
                    .signers
                    .iter()
                    .filter(|(k, _)| *k != id)
                    .map(|(k, w)| (k.to_string(), u64::from(*w)))
                    .chain(
                        s.other_signers
                            .iter()
                            .map(|(k, w)| (k.clone(), u64::from(*w))),
                    )
                    .collect(),
                thresholds: [
                    Some(u64::from(s.thresholds.low)),
                    Some(u64::from(s.thresholds.medium)),
                    Some(u64::from(s.thresholds.high)),
                ],
                flags,
                changed_at: None,
                master_set: false,
            },
            None => Account {
                id,
                known: false,
                master: None,
                signers: Vec::new(),
                thresholds: [None; 3],
                flags,
                changed_at: None,
                master_set: false,
            },
        }
    }
}

const THRESHOLD_NAMES: [&str; 3] = ["low", "medium", "high"];

/// Authorization of one trustline as the operations leave it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Auth {
    Full,
    Maintain,
    Other,
}

struct Trustline {
    trustor: AccountId,
    /// The asset in words (escaped).
    asset: String,
    /// The asset's identity (XDR bytes), to tell trustlines apart.
    key: Vec<u8>,
    fully_authorized_at: Option<usize>,
    last: Auth,
    last_op: usize,
}

pub(super) fn findings(i: &Input<'_>) -> Vec<Finding> {
    let mut out = Out(Vec::new());
    let tx = i.tx;
    let tx_source = AccountId::from_muxed(&tx.source_account);
    if i.network.is_pubnet() {
        out.danger(
            "pubnet",
            None,
            "PUBNET: this transaction acts on the public network, with real assets.".into(),
            "PUBNET: the public network, real assets".into(),
        );
    }
    fee(i, &mut out);
    validity(i, &mut out);
    if let Preconditions::V2(p) = &tx.cond {
        if let Some(min) = &p.min_seq_num {
            out.danger("min_seq_num", None, format!(
                "the transaction sets min_seq_num {}: it is valid whenever {tx_source}'s sequence number is anywhere from {} to {}, not only at {}, so once signed it can apply at more than one point of the account's history.",
                min.0, min.0, tx.seq_num.0.saturating_sub(1), tx.seq_num.0.saturating_sub(1)
            ), format!("min_seq_num {}: valid at more than one sequence number", min.0));
        }
        if !p.extra_signers.is_empty() {
            let keys: Vec<String> = p
                .extra_signers
                .iter()
                .map(|k| signer_key_json(k).0)
                .collect();
            out.danger("extra_signers", None, format!(
                "the transaction requires extra signers ({}): it is valid only with their signatures too; a signed payload signer ties it to a signature over other data.",
                keys.join("; ")
            ), format!("{} extra signer{} required (extra_signers)", keys.len(), if keys.len() == 1 { "" } else { "s" }));
        }
    }
    let mut accounts: Vec<Account> = Vec::new();
    let mut trustlines: Vec<Trustline> = Vec::new();
    let mut later = Vec::new();
    for (n, op) in tx.operations.iter().enumerate() {
        let index = n + 1;
        let source = envelope::op_source(op, tx_source);
        if op.source_account.is_some() && source != tx_source {
            out.danger("operation_source", Some(index), format!(
                "operation {index} acts for {source}, not for the transaction's source {tx_source}: a signature by a key of {source} authorizes it."
            ), format!("op {index} acts for {}, not the transaction's source", source.short()));
        }
        match &op.body {
            OperationBody::Payment(o) => {
                muxed_destination(&mut out, index, "pays", &o.destination);
                lookalike(&mut out, index, &o.asset);
            }
            OperationBody::AccountMerge(d) => {
                later.push(finding(
                    Severity::Danger,
                    "account_merge",
                    Some(index),
                    format!("operation {index} deletes account {source} (account_merge): this cannot be undone."),
                    format!("op {index} deletes {} (account_merge)", source.short()),
                ));
                muxed_destination(&mut out, index, "merges into", d);
            }
            OperationBody::Clawback(o) => {
                lookalike(&mut out, index, &o.asset);
                later.push(finding(
                    Severity::Warning,
                    "clawback",
                    Some(index),
                    format!(
                        "operation {index} claws back funds: it succeeds only if the issuer has auth_revocable and auth_clawback_enabled and the trustline was opened after auth_clawback_enabled was set."
                    ),
                    format!("op {index} claws back funds"),
                ));
            }
            OperationBody::ChangeTrust(o) => match &o.line {
                stellar_xdr::ChangeTrustAsset::CreditAlphanum12(a) => lookalike(
                    &mut out,
                    index,
                    &stellar_xdr::Asset::CreditAlphanum12(a.clone()),
                ),
                stellar_xdr::ChangeTrustAsset::PoolShare(p) => {
                    let stellar_xdr::LiquidityPoolParameters::LiquidityPoolConstantProduct(c) = p;
                    lookalike(&mut out, index, &c.asset_a);
                    lookalike(&mut out, index, &c.asset_b);
                }
                _ => {}
            },
            OperationBody::AllowTrust(o) => {
                let (code, key, twelve) = match &o.asset {
                    stellar_xdr::AssetCode::CreditAlphanum4(c) => {
                        (c.0.to_vec(), c.0.to_vec(), false)
                    }
                    stellar_xdr::AssetCode::CreditAlphanum12(c) => {
                        (c.0.to_vec(), c.0.to_vec(), true)
                    }
                };
                if twelve && lookalike_12(&code) {
                    out.warning(
                        "code_lookalike",
                        Some(index),
                        lookalike_words(index, &code),
                        lookalike_short(index, &code),
                    );
                }
                let mut id = key;
                id.extend_from_slice(&source.0);
                let state = match o.authorize {
                    1 => Auth::Full,
                    2 => Auth::Maintain,
                    _ => Auth::Other,
                };
                let asset = format!("{}:{source}", AssetCode::from_xdr_bytes(&code));
                track(
                    &mut trustlines,
                    AccountId::from_xdr(&o.trustor),
                    asset,
                    id,
                    state,
                    index,
                );
            }
            OperationBody::SetTrustLineFlags(o) => {
                lookalike(&mut out, index, &o.asset);
                let state = if o.set_flags & 1 != 0 {
                    Auth::Full
                } else if o.set_flags & 2 != 0 && o.clear_flags & 1 != 0 {
                    Auth::Maintain
                } else {
                    Auth::Other
                };
                if o.set_flags & 3 != 0 || o.clear_flags & 3 != 0 {
                    let key = stellar_xdr::WriteXdr::to_xdr(&o.asset, stellar_xdr::Limits::none())
                        .unwrap_or_default();
                    track(
                        &mut trustlines,
                        AccountId::from_xdr(&o.trustor),
                        super::describe::asset_words(&o.asset),
                        key,
                        state,
                        index,
                    );
                }
            }
            OperationBody::SetOptions(o) => {
                let k = match accounts.iter().position(|a| a.id == source) {
                    Some(k) => k,
                    None => {
                        accounts.push(Account::new(source, i.options.signer_sets, i.options.flags));
                        accounts.len() - 1
                    }
                };
                set_options(&mut out, index, o, &mut accounts[k]);
            }
            _ => {}
        }
    }
    for a in &accounts {
        lockout(&mut out, a);
    }
    for t in &trustlines {
        if t.last == Auth::Maintain {
            if let Some(first) = t.fully_authorized_at {
                out.warning("maintain_liabilities", Some(t.last_op), format!(
                    "operation {} leaves {}'s trustline to {} authorized_to_maintain_liabilities, after operation {first} authorized it fully: it keeps its balance but cannot receive more until it is authorized again.",
                    t.last_op, t.trustor, t.asset
                ), format!("op {} leaves {}'s trustline maintain-liabilities only", t.last_op, t.trustor.short()));
            }
        }
    }
    out.0.extend(later);
    out.0
}

fn fee(i: &Input<'_>, out: &mut Out) {
    let (limit, whose) = match i.options.max_fee {
        Some(m) => (m, "the signing policy's max_fee"),
        None => (
            DEFAULT_MAX_FEE,
            "the 1 XLM a transaction normally needs at most",
        ),
    };
    if i.max_fee > limit {
        out.danger("fee", None, format!(
            "the transaction may pay up to {} XLM in fees ({} stroops), more than {whose} ({} XLM).",
            amount(i.max_fee),
            i.max_fee,
            amount(limit)
        ), format!("fee up to {} XLM (more than {} XLM)", amount(i.max_fee), amount(limit)));
    }
}

fn validity(i: &Input<'_>, out: &mut Out) {
    let (_, max) = envelope::time_bounds(i.tx);
    let (limit, whose) = match i.options.max_validity {
        Some(v) => (v, "the signing policy's max_validity"),
        None => (DEFAULT_MAX_VALIDITY, "30 days"),
    };
    if max == 0 {
        out.danger("no_upper_bound", None, "no upper time bound: once signed, this envelope stays valid forever, and whoever holds it can submit it at any time.".into(), "no upper time bound: valid forever once signed".into());
    } else if max < i.now {
        out.warning(
            "expired",
            None,
            format!(
                "the time bounds ended {} ago: the network will refuse it as too late.",
                duration_words(i.now - max)
            ),
            "the time bounds have ended".into(),
        );
    } else if max - i.now > limit {
        out.danger("validity", None, format!(
            "the transaction stays valid until {} ({} from now), longer than {whose} ({}): whoever holds the signed envelope can submit it until then.",
            time_words(max),
            duration_words(max - i.now),
            duration_words(limit)
        ), format!("valid for {} (more than {})", duration_words(max - i.now), duration_words(limit)));
    }
}

fn muxed_destination(out: &mut Out, index: usize, verb: &str, m: &MuxedAccount) {
    let r = account_ref(m);
    if let (Some(id), Some(address)) = (r.muxed_id, r.muxed_address) {
        out.warning("muxed_destination", Some(index), format!(
            "operation {index} {verb} the muxed account {address}: account {} with ID {id}; check that this ID is the one the recipient expects.",
            r.account
        ), format!("op {index} {verb} a muxed account (ID {id})"));
    }
}

fn lookalike_words(index: usize, code: &[u8]) -> String {
    let c = AssetCode::from_xdr_bytes(code);
    format!(
        "operation {index} names the asset code {c} in the 12-byte form: a different asset from {c} in the usual 4-byte form, though both show as {c}."
    )
}

fn lookalike_short(index: usize, code: &[u8]) -> String {
    format!(
        "op {index}: {} in the 12-byte code form",
        AssetCode::from_xdr_bytes(code)
    )
}

fn lookalike(out: &mut Out, index: usize, a: &stellar_xdr::Asset) {
    if let stellar_xdr::Asset::CreditAlphanum12(x) = a {
        if lookalike_12(&x.asset_code.0) {
            out.warning(
                "code_lookalike",
                Some(index),
                lookalike_words(index, &x.asset_code.0),
                lookalike_short(index, &x.asset_code.0),
            );
        }
    }
}

fn track(
    lines: &mut Vec<Trustline>,
    trustor: AccountId,
    asset: String,
    key: Vec<u8>,
    state: Auth,
    index: usize,
) {
    let k = match lines
        .iter()
        .position(|t| t.trustor == trustor && t.key == key)
    {
        Some(k) => k,
        None => {
            lines.push(Trustline {
                trustor,
                asset,
                key,
                fully_authorized_at: None,
                last: Auth::Other,
                last_op: index,
            });
            lines.len() - 1
        }
    };
    let t = &mut lines[k];
    if state == Auth::Full && t.fully_authorized_at.is_none() {
        t.fully_authorized_at = Some(index);
    }
    t.last = state;
    t.last_op = index;
}

fn set_options(out: &mut Out, index: usize, o: &SetOptionsOp, a: &mut Account) {
    let src = a.id;
    let short = src.short();
    if let Some(bits) = o.set_flags {
        if bits & AUTH_IMMUTABLE != 0 {
            out.danger("auth_immutable", Some(index), format!(
                "operation {index} sets auth_immutable on {src}: its authorization flags can never be changed again and the account can never be merged."
            ), format!("op {index} sets auth_immutable on {short}: irreversible"));
        }
        let revocable_now = a.flags.is_some_and(|f| f & AUTH_REVOCABLE != 0);
        if bits & AUTH_CLAWBACK != 0 && bits & AUTH_REVOCABLE == 0 && !revocable_now {
            let known = if a.flags.is_some() {
                format!("and the account context says {src} does not have it")
            } else {
                format!("and whether {src} has it is not known here")
            };
            out.danger("clawback_without_revocable", Some(index), format!(
                "operation {index} sets auth_clawback_enabled without auth_revocable: stellar-core refuses that unless {src} already has auth_revocable, {known}."
            ), format!("op {index} sets auth_clawback_enabled without auth_revocable"));
        }
    }
    // The flags as this operation leaves them, when they were known.
    if let Some(f) = a.flags.as_mut() {
        *f = (*f & !o.clear_flags.unwrap_or(0)) | o.set_flags.unwrap_or(0);
    }
    if let Some(w) = o.master_weight {
        let w = u64::from(w);
        let alone = |prefix: &str| {
            if w == 0 {
                format!("{prefix}the master key alone can no longer sign for it")
            } else {
                String::new()
            }
        };
        match a.master {
            Some(old) if w < old => out.danger("master_weight_change", Some(index), format!(
                "operation {index} lowers the master key weight of {src} from {old} to {w}{}.",
                alone(": ")
            ), format!("op {index} lowers the master weight of {short} from {old} to {w}")),
            Some(_) => {}
            None => out.danger("master_weight_change", Some(index), format!(
                "operation {index} sets the master key weight of {src} to {w}; its current weight is not known here (pass --account), so this may lower it{}.",
                alone(": at 0 ")
            ), format!("op {index} sets the master weight of {short} to {w} (now: unknown)")),
        }
        a.master = Some(w);
        a.master_set = true;
        a.changed_at = Some(index);
    }
    // The thresholds of one operation in one finding: those lowered, and those whose current
    // value is not known.
    let mut lowered = Vec::new();
    let mut unknown = Vec::new();
    for (k, v) in [o.low_threshold, o.med_threshold, o.high_threshold]
        .into_iter()
        .enumerate()
    {
        let Some(t) = v else { continue };
        let t = u64::from(t);
        let name = THRESHOLD_NAMES[k];
        match a.thresholds[k] {
            Some(old) if t < old => lowered.push(format!("{name} from {old} to {t}")),
            Some(_) => {}
            None => unknown.push(format!("{name} to {t}")),
        }
        a.thresholds[k] = Some(t);
        a.changed_at = Some(index);
    }
    if !lowered.is_empty() {
        out.danger("threshold_change", Some(index), format!(
            "operation {index} lowers the threshold{} of {src}: {}; fewer signatures than before can then act for it.",
            if lowered.len() == 1 { "" } else { "s" },
            lowered.join(", ")
        ), format!("op {index} lowers thresholds of {short}: {}", lowered.join(", ")));
    }
    if !unknown.is_empty() {
        out.danger("threshold_change", Some(index), format!(
            "operation {index} sets the threshold{} of {src}: {}; the current values are not known here (pass --account), so this may lower them.",
            if unknown.len() == 1 { "" } else { "s" },
            unknown.join(", ")
        ), format!("op {index} sets thresholds of {short}: {} (now: unknown)", unknown.join(", ")));
    }
    if let Some(s) = &o.signer {
        let (words, data) = signer_key_json(&s.key);
        let key = data["key"].as_str().unwrap_or_default().to_string();
        let kind = data["kind"].as_str().unwrap_or_default();
        let key_short = if key.len() > 12 {
            format!("{}…{}", &key[..4], &key[key.len() - 4..])
        } else {
            key.clone()
        };
        let w = u64::from(s.weight);
        let old = a.signers.iter().position(|(k, _)| *k == key);
        if w == 0 {
            out.danger(
                "signer_removal",
                Some(index),
                format!("operation {index} removes signer {words} from {src}."),
                format!("op {index} removes {kind} signer {key_short} from {short}"),
            );
            if let Some(p) = old {
                a.signers.remove(p);
            }
        } else {
            let (message, brief) = match (old, a.known) {
                (Some(p), _) => (format!(
                    "operation {index} changes the weight of signer {words} on {src} from {} to {w}: that signer's signatures count for {w} from now on.",
                    a.signers[p].1
                ), format!("op {index} re-weights {kind} signer {key_short} of {short} to {w}")),
                (None, true) => (format!(
                    "operation {index} adds signer {words} to {src} with weight {w}: whoever holds it can sign for {src}."
                ), format!("op {index} adds {kind} signer {key_short} to {short}, weight {w}")),
                (None, false) => (format!(
                    "operation {index} adds or re-weights signer {words} on {src}, weight {w}: whoever holds it can sign for {src}."
                ), format!("op {index} adds/re-weights {kind} signer {key_short} on {short}, weight {w}")),
            };
            out.danger("signer_change", Some(index), message, brief);
            match old {
                Some(p) => a.signers[p].1 = w,
                None => a.signers.push((key, w)),
            }
        }
        a.changed_at = Some(index);
    }
}

/// Whether the signers left can still reach the thresholds. Weights are u32 in the XDR (any value
/// in a hostile envelope): sums are u64.
fn lockout(out: &mut Out, a: &Account) {
    let Some(at) = a.changed_at else { return };
    let src = a.id;
    let others: u64 = a.signers.iter().map(|(_, w)| *w).sum();
    if a.known {
        let total = a.master.unwrap_or(0) + others;
        let failing: Vec<(&str, u64)> = THRESHOLD_NAMES
            .iter()
            .zip(a.thresholds)
            .filter_map(|(n, t)| {
                let needed = t.unwrap_or(0).max(1);
                (total < needed).then_some((*n, needed))
            })
            .collect();
        if !failing.is_empty() {
            let names: Vec<String> = failing.iter().map(|(n, t)| format!("{n} ({t})")).collect();
            out.danger("lockout", Some(at), format!(
                "after operation {at}, the signers of {src} (its master key included) weigh {total} in all, less than its {} threshold{} need{}: it is locked out; no such operation can ever be signed for it again.",
                names.join(", "),
                if names.len() == 1 { "" } else { "s" },
                if names.len() == 1 { "s" } else { "" },
            ), format!("op {at} locks {} out: its signers weigh {total}, {} needed", src.short(), names.join(", ")));
        }
        return;
    }
    // Not known: only what this transaction sets.
    let Some(t) = a.thresholds.iter().flatten().max().copied() else {
        return;
    };
    let given = if a.master_set {
        a.master.unwrap_or(0) + others
    } else {
        others
    };
    if t > given {
        let who = if a.master_set {
            "the account has other signers"
        } else {
            "its master key and the signers this transaction does not set are"
        };
        out.danger("lockout", Some(at), format!(
            "operation {at} sets a threshold of {t} on {src}, more than the weight this transaction gives its keys ({given}): unless {who} worth at least {}, it is locked out.",
            t - given
        ), format!("op {at}: threshold {t} on {} > weight given here ({given}): lockout?", src.short()));
    }
}
