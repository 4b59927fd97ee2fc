//! The review: what an envelope does, in plain words, for the operator to read before signing.
//!
//! The review is built from the envelope itself — the bytes that will be signed — never from what
//! the operator asked for, so a compromised machine cannot show one thing and have another signed.
use crate::account::AccountId;
use crate::amount::Amount;
use crate::asset::{Asset, AssetCode};
use crate::build::{flag_names, ACCOUNT_FLAGS, TRUSTLINE_FLAGS};
use crate::envelope;
use crate::network::Network;
use serde::Serialize;
use stellar_xdr::{Memo, OperationBody, SignerKey, TransactionEnvelope};

/// Untrusted bytes (memo text, home domain, data entries, asset codes) made safe to print:
/// printable ASCII stays, everything else becomes `\xNN`, so control characters cannot rewrite
/// the operator's terminal and look-alike characters cannot hide.
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Irreversible or able to lock the account or lose funds.
    Danger,
    /// Worth a second look.
    Warning,
}

#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub message: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct OperationReview {
    pub index: usize,
    /// Horizon's name: `payment`, `set_options`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The account the operation acts for (its own source, or the transaction's).
    pub source: AccountId,
    /// True when the operation names its own source account.
    pub own_source: bool,
    /// One line per effect, in plain words.
    pub effects: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SignatureReview {
    /// The signature hint, hex.
    pub hint: String,
    /// The key that made it, when it is one of the keys the review was told about.
    pub signer: Option<AccountId>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Review {
    pub network: String,
    pub network_passphrase: String,
    pub envelope_type: &'static str,
    pub source: AccountId,
    pub sequence: String,
    /// The most the transaction may pay, in stroops.
    pub max_fee: i64,
    /// For a fee bump: the account that pays the fee.
    pub fee_source: Option<AccountId>,
    pub min_time: u64,
    /// 0 means no upper bound.
    pub max_time: u64,
    pub memo_type: &'static str,
    pub memo: Option<String>,
    pub operations: Vec<OperationReview>,
    /// The transaction hash, hex: compare it on both machines.
    pub hash: String,
    pub signatures: Vec<SignatureReview>,
    pub findings: Vec<Finding>,
    /// The time the review was made (unix seconds), for the relative times in the text.
    #[serde(skip)]
    pub now: u64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReviewError {
    #[error("operation {index} is a {kind} operation, which this tool cannot describe; it will not sign what it cannot show you")]
    Unsupported { index: usize, kind: String },
}

fn amount(stroops: i64) -> String {
    match Amount::from_stroops(stroops) {
        Ok(a) => a.to_string(),
        Err(_) => format!("{stroops} stroops (negative: invalid)"),
    }
}

fn asset_words(a: &stellar_xdr::Asset) -> String {
    Asset::from_xdr(a).to_string()
}

fn trust_asset_words(a: &stellar_xdr::ChangeTrustAsset) -> String {
    match a {
        stellar_xdr::ChangeTrustAsset::Native => "XLM (native)".into(),
        stellar_xdr::ChangeTrustAsset::CreditAlphanum4(x) => {
            asset_words(&stellar_xdr::Asset::CreditAlphanum4(x.clone()))
        }
        stellar_xdr::ChangeTrustAsset::CreditAlphanum12(x) => {
            asset_words(&stellar_xdr::Asset::CreditAlphanum12(x.clone()))
        }
        stellar_xdr::ChangeTrustAsset::PoolShare(_) => "a liquidity pool share".into(),
    }
}

fn code_words(c: &stellar_xdr::AssetCode) -> String {
    match c {
        stellar_xdr::AssetCode::CreditAlphanum4(x) => AssetCode::from_xdr_bytes(&x.0),
        stellar_xdr::AssetCode::CreditAlphanum12(x) => AssetCode::from_xdr_bytes(&x.0),
    }
}

/// `SetTrustLineFlags` → `set_trust_line_flags`: XDR variant names as Horizon writes them.
pub fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// The operation's type as Horizon names it.
pub fn op_type_name(body: &OperationBody) -> String {
    match body {
        OperationBody::SetTrustLineFlags(_) => "set_trust_line_flags".into(),
        OperationBody::AccountMerge(_) => "account_merge".into(),
        other => snake_case(other.name()),
    }
}

/// What the envelope does, for a person. `known_keys` are the public keys the caller knows of
/// (keys about to sign, signers from an account file), used to name who made each signature.
pub fn review(
    env: &TransactionEnvelope,
    network: &Network,
    now: u64,
    known_keys: &[AccountId],
) -> Result<Review, ReviewError> {
    let tx = envelope::transaction(env);
    let tx_source = AccountId::from_muxed(&tx.source_account);
    let h = envelope::hash(env, network);
    let (envelope_type, max_fee, fee_source) = match env {
        TransactionEnvelope::TxV0(_) => ("transaction (v0)", i64::from(tx.fee), None),
        TransactionEnvelope::Tx(_) => ("transaction", i64::from(tx.fee), None),
        TransactionEnvelope::TxFeeBump(fb) => (
            "fee bump",
            fb.tx.fee,
            Some(AccountId::from_muxed(&fb.tx.fee_source)),
        ),
    };
    let (min_time, max_time) = envelope::time_bounds(&tx);
    let (memo_type, memo) = match &tx.memo {
        Memo::None => ("none", None),
        Memo::Text(t) => ("text", Some(format!("\"{}\"", escape_bytes(t.as_slice())))),
        Memo::Id(i) => ("id", Some(i.to_string())),
        Memo::Hash(x) => ("hash", Some(hex::encode(x.0))),
        Memo::Return(x) => ("return", Some(hex::encode(x.0))),
    };
    let mut findings = Vec::new();
    let mut danger = |m: String| {
        findings.push(Finding {
            severity: Severity::Danger,
            message: m,
        })
    };
    if network.is_pubnet() {
        danger("PUBNET: this transaction acts on the public network, with real assets.".into());
    }
    let mut operations = Vec::new();
    let mut later = Vec::new();
    for (i, op) in tx.operations.iter().enumerate() {
        let index = i + 1;
        let source = crate::envelope::op_source(op, tx_source);
        let mut effects = Vec::new();
        let mut e = |s: String| effects.push(s);
        match &op.body {
            OperationBody::CreateAccount(o) => e(format!(
                "create account {} with a starting balance of {} XLM, paid by {}",
                AccountId::from_xdr(&o.destination),
                amount(o.starting_balance),
                source
            )),
            OperationBody::Payment(o) => e(format!(
                "pay {} {} from {} to {}",
                amount(o.amount),
                asset_words(&o.asset),
                source,
                AccountId::from_muxed(&o.destination)
            )),
            OperationBody::ChangeTrust(o) => {
                let what = trust_asset_words(&o.line);
                if o.limit == 0 {
                    e(format!("remove {source}'s trustline to {what}"));
                } else if o.limit == i64::MAX {
                    e(format!(
                        "{source} trusts {what} with no limit (the maximum)"
                    ));
                } else {
                    e(format!("{source} trusts {what} up to {}", amount(o.limit)));
                }
            }
            OperationBody::AllowTrust(o) => {
                let who = AccountId::from_xdr(&o.trustor);
                let code = code_words(&o.asset);
                e(match o.authorize {
                    0 => format!("REVOKE {who}'s authorization to hold {code} issued by {source}"),
                    1 => format!("authorize {who} to hold and trade {code} issued by {source}"),
                    2 => format!(
                        "authorize {who} only to maintain liabilities in {code} issued by {source}"
                    ),
                    n => format!("set unknown authorization {n} on {who}'s {code} trustline"),
                })
            }
            OperationBody::SetTrustLineFlags(o) => {
                let who = AccountId::from_xdr(&o.trustor);
                let set = flag_names(o.set_flags, &TRUSTLINE_FLAGS);
                let clear = flag_names(o.clear_flags, &TRUSTLINE_FLAGS);
                let mut parts = Vec::new();
                if !set.is_empty() {
                    parts.push(format!("set {}", set.join(", ")));
                }
                if !clear.is_empty() {
                    parts.push(format!("clear {}", clear.join(", ")));
                }
                if parts.is_empty() {
                    parts.push("change nothing".into());
                }
                e(format!(
                    "on {who}'s trustline to {}: {}",
                    asset_words(&o.asset),
                    parts.join("; ")
                ))
            }
            OperationBody::SetOptions(o) => {
                review_set_options(o, &source, index, &mut effects, &mut findings);
            }
            OperationBody::Clawback(o) => {
                e(format!(
                    "claw back {} {} from {}",
                    amount(o.amount),
                    asset_words(&o.asset),
                    AccountId::from_muxed(&o.from)
                ));
                later.push(Finding {
                    severity: Severity::Warning,
                    message: format!(
                        "operation {index} claws back funds: it succeeds only if the issuer has auth_revocable and auth_clawback_enabled and the trustline was opened after auth_clawback_enabled was set."
                    ),
                });
            }
            OperationBody::ManageData(o) => {
                let name = escape_bytes(o.data_name.as_slice());
                match &o.data_value {
                    Some(v) => e(format!(
                        "set data entry \"{name}\" of {source} to \"{}\"",
                        escape_bytes(v.as_slice())
                    )),
                    None => e(format!("delete data entry \"{name}\" of {source}")),
                }
            }
            OperationBody::BumpSequence(o) => e(format!(
                "bump {source}'s sequence number to {}",
                o.bump_to.0
            )),
            OperationBody::AccountMerge(d) => {
                let dest = AccountId::from_muxed(d);
                e(format!("MERGE account {source} into {dest}: {source} is deleted and its XLM moves to {dest}"));
                later.push(Finding {
                    severity: Severity::Danger,
                    message: format!("operation {index} deletes account {source} (account_merge): this cannot be undone."),
                });
            }
            other => {
                return Err(ReviewError::Unsupported {
                    index,
                    kind: op_type_name(other),
                });
            }
        }
        operations.push(OperationReview {
            index,
            kind: op_type_name(&op.body),
            source,
            own_source: op.source_account.is_some(),
            effects,
        });
    }
    findings.extend(later);
    if max_time == 0 {
        findings.push(Finding {
            severity: Severity::Danger,
            message: "no upper time bound: once signed, this envelope stays valid forever, and whoever holds it can submit it at any time.".into(),
        });
    } else if max_time < now {
        findings.push(Finding {
            severity: Severity::Warning,
            message: format!(
                "the time bounds ended {} ago: the network will refuse it as too late.",
                duration_words(now - max_time)
            ),
        });
    }
    let signatures = envelope::signatures(env)
        .iter()
        .map(|s| SignatureReview {
            hint: hex::encode(s.hint.0),
            signer: envelope::signer_of(&h, s, known_keys),
        })
        .collect();
    Ok(Review {
        network: network.name().to_string(),
        network_passphrase: network.passphrase().to_string(),
        envelope_type,
        source: tx_source,
        sequence: tx.seq_num.0.to_string(),
        max_fee,
        fee_source,
        min_time,
        max_time,
        memo_type,
        memo,
        operations,
        hash: hex::encode(h),
        signatures,
        findings,
        now,
    })
}

fn review_set_options(
    o: &stellar_xdr::SetOptionsOp,
    source: &AccountId,
    index: usize,
    effects: &mut Vec<String>,
    findings: &mut Vec<Finding>,
) {
    let danger = |findings: &mut Vec<Finding>, m: String| {
        findings.push(Finding {
            severity: Severity::Danger,
            message: m,
        })
    };
    if let Some(bits) = o.set_flags {
        effects.push(format!(
            "set account flags on {source}: {}",
            flag_names(bits, &ACCOUNT_FLAGS).join(", ")
        ));
        if bits & 4 != 0 {
            danger(findings, format!(
                "operation {index} sets auth_immutable on {source}: its authorization flags can never be changed again and the account can never be merged."
            ));
        }
        if bits & 8 != 0 && bits & 2 == 0 {
            findings.push(Finding {
                severity: Severity::Warning,
                message: format!(
                    "operation {index} sets auth_clawback_enabled without auth_revocable: stellar-core refuses that unless {source} already has auth_revocable."
                ),
            });
        }
    }
    if let Some(bits) = o.clear_flags {
        effects.push(format!(
            "clear account flags on {source}: {}",
            flag_names(bits, &ACCOUNT_FLAGS).join(", ")
        ));
    }
    if let Some(d) = &o.home_domain {
        if d.is_empty() {
            effects.push(format!("remove the home domain of {source}"));
        } else {
            effects.push(format!(
                "set the home domain of {source} to \"{}\"",
                escape_bytes(d.as_slice())
            ));
        }
    }
    if let Some(w) = o.master_weight {
        effects.push(format!("set the master key weight of {source} to {w}"));
        if w == 0 {
            danger(findings, format!(
                "operation {index} sets the master key weight of {source} to 0: the master key can never sign for it again."
            ));
        }
    }
    for (name, v) in [
        ("low", o.low_threshold),
        ("medium", o.med_threshold),
        ("high", o.high_threshold),
    ] {
        if let Some(t) = v {
            effects.push(format!("set the {name} threshold of {source} to {t}"));
        }
    }
    if let Some(s) = &o.signer {
        let key = match &s.key {
            SignerKey::Ed25519(k) => AccountId(k.0).to_string(),
            SignerKey::PreAuthTx(h) => format!("pre-authorized transaction {}", hex::encode(h.0)),
            SignerKey::HashX(h) => format!("hash(x) {}", hex::encode(h.0)),
            SignerKey::Ed25519SignedPayload(p) => {
                format!("signed payload of {}", AccountId(p.ed25519.0))
            }
        };
        if s.weight == 0 {
            effects.push(format!("REMOVE signer {key} from {source}"));
            danger(
                findings,
                format!("operation {index} removes signer {key} from {source}."),
            );
        } else {
            effects.push(format!(
                "add or update signer {key} on {source} with weight {}",
                s.weight
            ));
        }
    }
    if let Some(d) = &o.inflation_dest {
        effects.push(format!(
            "set the inflation destination of {source} to {}",
            AccountId::from_xdr(d)
        ));
    }
    // Lockout: a threshold no signer known to this operation can reach. The account may have
    // signers this envelope does not show, so this is a warning about what the envelope alone implies.
    let highest = [o.low_threshold, o.med_threshold, o.high_threshold]
        .into_iter()
        .flatten()
        .max();
    if let Some(t) = highest {
        // Weights are u32 in the XDR: add them as u64 so hostile values cannot overflow.
        let master = u64::from(o.master_weight.unwrap_or(1));
        let added = u64::from(o.signer.as_ref().map_or(0, |s| s.weight));
        let given = master + added;
        if u64::from(t) > given {
            danger(findings, format!(
                "operation {index} sets a threshold of {t} on {source}, more than the weight this transaction gives its keys ({given}): unless the account has other signers worth at least {}, it is locked out.",
                u64::from(t) - given
            ));
        }
    }
    if effects.is_empty() {
        effects.push(format!("change nothing on {source} (an empty set_options)"));
    }
}

/// `2h 5m`, `3d 4h`, `45s`.
pub fn duration_words(secs: u64) -> String {
    let (d, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

/// A unix time as `2026-11-21 12:00:00 UTC`.
pub fn time_words(t: u64) -> String {
    let fmt =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    i64::try_from(t)
        .ok()
        .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
        .and_then(|d| d.format(&fmt).ok())
        .unwrap_or_else(|| format!("unix time {t}"))
}

fn relative(t: u64, now: u64) -> String {
    if t >= now {
        format!("in {}", duration_words(t - now))
    } else {
        format!("{} ago", duration_words(now - t))
    }
}

impl Review {
    /// The review as text for a terminal.
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(s, "Transaction to review ({})", self.envelope_type);
        let _ = writeln!(
            s,
            "  network     {} — \"{}\"",
            self.network.to_uppercase(),
            self.network_passphrase
        );
        let _ = writeln!(s, "  source      {}", self.source);
        let _ = writeln!(s, "  sequence    {}", self.sequence);
        let ops = self.operations.len().max(1) as i64;
        let _ = writeln!(
            s,
            "  max fee     {} stroops ({} XLM; {} per operation)",
            self.max_fee,
            amount(self.max_fee),
            self.max_fee / ops
        );
        if let Some(f) = &self.fee_source {
            let _ = writeln!(s, "  fee paid by {f}");
        }
        let min = if self.min_time == 0 {
            "no lower bound".to_string()
        } else {
            format!(
                "{} ({})",
                time_words(self.min_time),
                relative(self.min_time, self.now)
            )
        };
        let max = if self.max_time == 0 {
            "NO UPPER BOUND".to_string()
        } else {
            format!(
                "{} ({})",
                time_words(self.max_time),
                relative(self.max_time, self.now)
            )
        };
        let _ = writeln!(s, "  valid from  {min}");
        let _ = writeln!(s, "  valid until {max}");
        match &self.memo {
            None => {
                let _ = writeln!(s, "  memo        none");
            }
            Some(m) => {
                let _ = writeln!(s, "  memo        {} {m}", self.memo_type);
            }
        }
        let _ = writeln!(s, "Operations ({}):", self.operations.len());
        for op in &self.operations {
            let src = if op.own_source {
                format!(" [source {}]", op.source)
            } else {
                String::new()
            };
            let _ = writeln!(s, "  {}. {}{src}", op.index, op.kind);
            for e in &op.effects {
                let _ = writeln!(s, "       {e}");
            }
        }
        let _ = writeln!(s, "Transaction hash: {}", self.hash);
        if self.signatures.is_empty() {
            let _ = writeln!(s, "Signatures: none yet");
        } else {
            let _ = writeln!(s, "Signatures ({}):", self.signatures.len());
            for sig in &self.signatures {
                match &sig.signer {
                    Some(k) => {
                        let _ = writeln!(s, "  hint {}  by {k}", sig.hint);
                    }
                    None => {
                        let _ = writeln!(s, "  hint {}  (signer not known here)", sig.hint);
                    }
                }
            }
        }
        for f in &self.findings {
            let tag = match f.severity {
                Severity::Danger => "!! DANGER",
                Severity::Warning => "!  warning",
            };
            let _ = writeln!(s, "{tag}: {}", f.message);
        }
        s
    }
}
