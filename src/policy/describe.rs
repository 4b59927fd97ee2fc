//! A policy, and what it refuses, in words for people.
use super::{Policy, OPERATION_TYPES, VERSION};
use crate::asset::Asset;
use crate::build::{flag_names, ACCOUNT_FLAGS};
use crate::network::Network;
use std::fmt;

/// An asset as it appears in an envelope, named for people: the policy's form (`native`,
/// `CODE:G…`) when the library can write it, with a note for a short code in the 12-byte form
/// (a different asset on Stellar than the 4-byte one).
pub(super) fn asset_name(a: &stellar_xdr::Asset) -> String {
    let view = Asset::from_xdr(a);
    match (a, &view.issuer) {
        (stellar_xdr::Asset::Native, _) | (_, None) => "native".into(),
        (stellar_xdr::Asset::CreditAlphanum12(_), Some(issuer)) if view.code.len() <= 4 => {
            format!("{}:{issuer} (in the 12-byte code form)", view.code)
        }
        (_, Some(issuer)) => format!("{}:{issuer}", view.code),
    }
}

pub(super) use crate::amount::sum_words as amount_words;

/// A network for people: its name, or for a custom network its passphrase (escaped).
pub(super) fn network_words(n: &Network) -> String {
    match n {
        Network::Custom(p) => format!(
            "the custom network \"{}\"",
            crate::review::escape_bytes(p.as_bytes())
        ),
        other => other.name().to_string(),
    }
}

pub(super) fn list<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn flag_list(bits: u32) -> String {
    if bits == 0 {
        "none".into()
    } else {
        flag_names(bits, &ACCOUNT_FLAGS).join(", ")
    }
}

impl Policy {
    /// The policy in plain words, to print with the review.
    pub fn describe(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(s, "Signing policy (version {VERSION}):");
        if let Some(c) = &self.comment {
            let _ = writeln!(s, "  note: {}", crate::review::escape_bytes(c.as_bytes()));
        }
        let _ = writeln!(
            s,
            "  networks: only {}",
            list(&self.networks.iter().map(network_words).collect::<Vec<_>>())
        );
        match &self.source_accounts {
            None => {
                let _ = writeln!(s, "  source accounts: any");
            }
            Some(l) if l.is_empty() => {
                let _ = writeln!(s, "  source accounts: none (nothing can be signed)");
            }
            Some(l) => {
                let _ = writeln!(
                    s,
                    "  source accounts (the transaction's, the fee payer's and every operation's): only"
                );
                for a in l {
                    let _ = writeln!(s, "    {a}");
                }
            }
        }
        match &self.operations {
            None => {
                let _ = writeln!(
                    s,
                    "  operations: any the policy can govern ({})",
                    list(&OPERATION_TYPES)
                );
            }
            Some(l) if l.is_empty() => {
                let _ = writeln!(s, "  operations: none (nothing can be signed)");
            }
            Some(l) => {
                let _ = writeln!(s, "  operations: only {}", list(l));
            }
        }
        match &self.destinations {
            None => {
                let _ = writeln!(s, "  destinations: any account may receive any asset");
            }
            Some(map) => {
                let _ = writeln!(
                    s,
                    "  destinations (payment, create_account, account_merge): only"
                );
                for (asset, accounts) in map {
                    if accounts.is_empty() {
                        let _ = writeln!(s, "    {asset} → no account");
                    } else {
                        let _ = writeln!(s, "    {asset} →");
                        for a in accounts {
                            let _ = writeln!(s, "      {a}");
                        }
                    }
                }
                let _ = writeln!(s, "    any other asset → no account");
            }
        }
        for (label, limits) in [
            ("per transaction", &self.max_amount_per_tx),
            ("per batch", &self.max_amount_per_batch),
        ] {
            match limits {
                None => {
                    let _ = writeln!(s, "  amounts {label}: no limit");
                }
                Some(l) => {
                    let _ = writeln!(
                        s,
                        "  amounts {label} (payment, create_account, clawback): at most"
                    );
                    for (asset, max) in l {
                        let _ = writeln!(s, "    {max} {asset}");
                    }
                    let _ = writeln!(s, "    0 of any other asset");
                }
            }
        }
        let _ = writeln!(
            s,
            "  may set account flags: {}",
            flag_list(self.may_set_flags)
        );
        let _ = writeln!(
            s,
            "  may clear account flags: {}",
            flag_list(self.may_clear_flags)
        );
        let yes_no = |b: bool| if b { "ALLOWED" } else { "refused" };
        let _ = writeln!(
            s,
            "  set auth_immutable: {}",
            yes_no(self.allow_auth_immutable)
        );
        let _ = writeln!(
            s,
            "  change the master key weight: {}",
            yes_no(self.allow_master_weight_change)
        );
        let _ = writeln!(
            s,
            "  remove a signer: {}",
            yes_no(self.allow_signer_removal)
        );
        let _ = writeln!(s, "  account_merge: {}", yes_no(self.allow_account_merge));
        match &self.signer_changes {
            None => {
                let _ = writeln!(s, "  add or re-weight a signer: refused");
            }
            Some(c) => {
                let kinds = if c.kinds.is_empty() {
                    "no kind".to_string()
                } else {
                    list(&c.kinds)
                };
                let keys = match &c.keys {
                    None => "any key".to_string(),
                    Some(k) if k.is_empty() => "no key".to_string(),
                    Some(k) => format!("only {}", list(k)),
                };
                let _ = writeln!(
                    s,
                    "  add or re-weight a signer: ALLOWED for {kinds}; {keys}"
                );
            }
        }
        let _ = writeln!(
            s,
            "  change a threshold: {}",
            yes_no(self.allow_threshold_changes)
        );
        let _ = writeln!(
            s,
            "  fees: at most {} XLM per transaction; validity: at most {}",
            amount_words(i128::from(self.max_fee)),
            crate::review::duration_words(self.max_validity)
        );
        let _ = writeln!(
            s,
            "  preconditions beyond time bounds: {}",
            if self.allow_preconditions.is_empty() {
                "none".to_string()
            } else {
                list(&self.allow_preconditions)
            }
        );
        if self.muxed_destinations.is_empty() {
            let _ = writeln!(s, "  muxed destinations (M…): none");
        } else {
            let pairs: Vec<String> = self
                .muxed_destinations
                .iter()
                .map(|(a, id)| format!("{a} ID {id}"))
                .collect();
            let _ = writeln!(s, "  muxed destinations (M…): only {}", pairs.join(", "));
        }
        for (a, kind) in &self.required_memos {
            let _ = writeln!(s, "  payments to {a} need a memo ({kind})");
        }
        if self.require_offline {
            let _ = writeln!(
                s,
                "  the signer must be offline: no network interface but loopback up"
            );
        }
        s
    }
}
