//! `account G…`: what the signer needs to know about an account, read through the network-client
//! trait (Horizon or Stellar RPC).
//!
//! Over Horizon the report lists every balance. Stellar RPC reads ledger entries by key and
//! cannot list an account's trustlines: over RPC the report has the native balance, and the
//! trustlines to the assets asked for (`--asset`), and says which assets it could not see.
use crate::net::{Net, NetError};
use crate::online;
use airgap::account::AccountId;
use airgap::amount::Amount;
use airgap::asset::Asset;
use airgap::horizon::{Account, Signer, Thresholds};
use airgap::network::Network;
use airgap::review::escape_bytes;
use serde::Serialize;
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccountError {
    #[error("account {0} does not exist on {1}")]
    NotFound(AccountId, String),
    #[error(transparent)]
    Net(#[from] NetError),
}

/// What a report lists of the account's trustlines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lines {
    /// Every trustline (Horizon lists them).
    All,
    /// Only the assets asked for (Stellar RPC reads entries by key).
    Asked,
}

/// The account as the relay reports it (`--json`), with `next_sequence` for `--sequence`.
#[derive(Debug, Serialize)]
pub struct AccountReport {
    pub account_id: String,
    pub network: String,
    /// The passphrase itself, so that a context read on a custom network can be matched with the
    /// signer's `--network` too (the name alone says only "custom network").
    pub network_passphrase: String,
    pub sequence: String,
    /// What the signer's `--sequence` wants for the next transaction: sequence + 1.
    pub next_sequence: String,
    pub thresholds: Thresholds,
    pub signers: Vec<Signer>,
    pub flags: Vec<&'static str>,
    pub home_domain: Option<String>,
    pub subentry_count: u32,
    pub balances: Vec<BalanceReport>,
    /// Over Stellar RPC, which cannot list trustlines: `asked` (only the native balance and the
    /// trustlines to the assets asked for are listed). Absent over Horizon (every balance).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trustlines_listed: Option<&'static str>,
    /// Assets asked for (`--asset`) that the account holds no trustline to.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub no_trustline: Vec<String>,
    /// When the relay read the account (RFC 3339, UTC): the offline signer shows the context's
    /// age and warns when it is stale (`airgap::context`).
    pub read_at: String,
}

#[derive(Debug, Serialize)]
pub struct BalanceReport {
    /// `XLM` or `CODE:ISSUER`.
    pub asset: String,
    pub balance: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
    /// Trustlines: `authorized`, `maintain_liabilities` or `unauthorized`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clawback_enabled: Option<bool>,
}

/// Horizon strings are untrusted: printable and short before they reach a terminal.
fn clean(s: &str, max: usize) -> String {
    escape_bytes(&s.as_bytes()[..s.len().min(max)])
}

/// Horizon writes amounts with 7 decimals; show them through the one amount parser we have.
fn amount(s: &str) -> String {
    s.parse::<Amount>()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| clean(s, 40))
}

/// The account `id` on `network`, read through `net` (retrying until `deadline`), with its
/// trustlines to `assets` (over Horizon, all of them; `lines` says which the report lists).
pub fn report(
    net: &dyn Net,
    network: &Network,
    lines: Lines,
    id: &AccountId,
    assets: &[Asset],
    deadline: Instant,
) -> Result<AccountReport, AccountError> {
    let acct: Account = online::retry_until(deadline, || net.account(id, assets))?
        .ok_or_else(|| AccountError::NotFound(*id, network.to_string()))?;
    let seq = acct.sequence().ok_or_else(|| {
        NetError(format!(
            "bad answer: the sequence of {id} is not a number: {}",
            clean(&acct.sequence, 40)
        ))
    })?;
    let no_trustline = assets
        .iter()
        .filter_map(|a| match a {
            Asset::Credit { code, issuer }
                if *issuer != *id
                    && acct.trustline(code.as_str(), &issuer.to_string()).is_none() =>
            {
                Some(format!("{code}:{issuer}"))
            }
            _ => None,
        })
        .collect();
    let balances = acct
        .balances
        .iter()
        .map(|b| {
            let is_native = b.asset_type == "native";
            let asset = if is_native {
                "XLM".to_string()
            } else {
                format!(
                    "{}:{}",
                    clean(b.asset_code.as_deref().unwrap_or("?"), 12),
                    clean(b.asset_issuer.as_deref().unwrap_or("?"), 56)
                )
            };
            let authorization = (!is_native).then(|| {
                if b.is_authorized == Some(true) {
                    "authorized"
                } else if b.is_authorized_to_maintain_liabilities == Some(true) {
                    "maintain_liabilities"
                } else {
                    "unauthorized"
                }
            });
            BalanceReport {
                asset,
                balance: amount(&b.balance),
                limit: b.limit.as_deref().map(amount),
                authorization,
                clawback_enabled: (!is_native).then(|| b.is_clawback_enabled == Some(true)),
            }
        })
        .collect();
    Ok(AccountReport {
        account_id: id.to_string(),
        network: network.name().to_string(),
        network_passphrase: network.passphrase().to_string(),
        sequence: seq.to_string(),
        next_sequence: seq.saturating_add(1).to_string(),
        thresholds: acct.thresholds,
        signers: acct
            .signers
            .iter()
            .map(|s| Signer {
                key: clean(&s.key, 100),
                weight: s.weight,
                kind: clean(&s.kind, 40),
                sponsor: None,
            })
            .collect(),
        flags: acct.flags.names(),
        home_domain: acct.home_domain.as_deref().map(|d| clean(d, 64)),
        subentry_count: acct.subentry_count,
        balances,
        trustlines_listed: (lines == Lines::Asked).then_some("asked"),
        no_trustline,
        read_at: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    })
}

impl AccountReport {
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(s, "Account {} on {}", self.account_id, self.network);
        let _ = writeln!(s, "  sequence       {}", self.sequence);
        let _ = writeln!(
            s,
            "  next_sequence  {}   (pass this to airgap-signer --sequence)",
            self.next_sequence
        );
        let t = &self.thresholds;
        let _ = writeln!(
            s,
            "  thresholds     low {}, medium {}, high {}",
            t.low_threshold, t.med_threshold, t.high_threshold
        );
        let flags = if self.flags.is_empty() {
            "none".to_string()
        } else {
            self.flags.join(", ")
        };
        let _ = writeln!(s, "  flags          {flags}");
        let _ = writeln!(
            s,
            "  home domain    {}",
            self.home_domain.as_deref().unwrap_or("none")
        );
        let _ = writeln!(s, "  subentries     {}", self.subentry_count);
        let _ = writeln!(s, "  read at        {}", self.read_at);
        let _ = writeln!(s, "Signers ({}):", self.signers.len());
        for sg in &self.signers {
            let _ = writeln!(s, "  {} weight {} ({})", sg.key, sg.weight, sg.kind);
        }
        let _ = writeln!(s, "Balances ({}):", self.balances.len());
        for b in &self.balances {
            let mut line = format!("  {} {}", b.balance, b.asset);
            if let Some(l) = &b.limit {
                line.push_str(&format!(", limit {l}"));
            }
            if let Some(a) = b.authorization {
                line.push_str(&format!(", {a}"));
            }
            if b.clawback_enabled == Some(true) {
                line.push_str(", clawback enabled");
            }
            let _ = writeln!(s, "{line}");
        }
        for a in &self.no_trustline {
            let _ = writeln!(s, "  no trustline to {a}");
        }
        if self.trustlines_listed.is_some() {
            let _ = writeln!(
                s,
                "  (Stellar RPC cannot list trustlines: only XLM and the --asset ones asked for are shown)"
            );
        }
        s
    }
}
