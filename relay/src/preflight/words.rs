//! What a predicted transaction changes, in words: balances, flags, thresholds and signers before
//! and after, trustlines and data entries made, changed or removed. And the one change worth a
//! warning of its own: a trustline that was fully authorized left only authorized to maintain
//! liabilities (the end of an authorization sandwich run on a holder that was authorized before).
use airgap::account::AccountId;
use airgap::amount::Amount;
use airgap::build::{flag_names, ACCOUNT_FLAGS};
use airgap::review::escape_bytes;
use airgap_sandbox::ledger::{
    Account, AssetKey, SignerKind, State, Trustline, TL_AUTHORIZED,
    TL_AUTHORIZED_TO_MAINTAIN_LIABILITIES, TL_CLAWBACK_ENABLED,
};

fn id(bytes: &[u8; 32]) -> String {
    AccountId(*bytes).to_string()
}

fn amount(stroops: i64) -> String {
    Amount::from_stroops(stroops).map_or_else(|_| format!("{stroops} stroops"), |a| a.to_string())
}

fn asset(a: &AssetKey) -> String {
    format!("{}:{}", escape_bytes(a.code.as_bytes()), id(&a.issuer))
}

/// A trustline's authorization in words.
pub fn authorization(flags: u32) -> &'static str {
    if flags & TL_AUTHORIZED != 0 {
        "authorized"
    } else if flags & TL_AUTHORIZED_TO_MAINTAIN_LIABILITIES != 0 {
        "authorized to maintain liabilities"
    } else {
        "not authorized"
    }
}

fn line_words(t: &Trustline) -> String {
    let clawback = if t.flags & TL_CLAWBACK_ENABLED != 0 {
        ", clawback enabled"
    } else {
        ""
    };
    format!(
        "balance {}, limit {}, {}{clawback}",
        amount(t.balance),
        amount(t.limit),
        authorization(t.flags)
    )
}

fn flags_words(flags: u32) -> String {
    let names = flag_names(flags, &ACCOUNT_FLAGS);
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

fn signer_words(k: &SignerKind) -> String {
    match k {
        SignerKind::Ed25519(b) => id(b),
        SignerKind::PreAuthTx(h) => format!("pre-authorized transaction {}", hex::encode(h)),
        SignerKind::HashX(h) => format!("hash-x {}", hex::encode(h)),
        SignerKind::SignedPayload { key, .. } => format!("signed payload of {}", id(key)),
    }
}

fn account_changes(out: &mut Vec<String>, a: &Account, b: &Account) {
    let who = id(&a.id);
    if a.balance != b.balance {
        out.push(format!(
            "{who}: XLM balance {} → {}",
            amount(a.balance),
            amount(b.balance)
        ));
    }
    if a.flags != b.flags {
        out.push(format!(
            "{who}: flags {} → {}",
            flags_words(a.flags),
            flags_words(b.flags)
        ));
    }
    if a.home_domain != b.home_domain {
        let d = |s: &str| {
            if s.is_empty() {
                "(none)".to_string()
            } else {
                format!("\"{}\"", escape_bytes(s.as_bytes()))
            }
        };
        out.push(format!(
            "{who}: home domain {} → {}",
            d(&a.home_domain),
            d(&b.home_domain)
        ));
    }
    if a.thresholds != b.thresholds {
        let t = |x: [u8; 4]| format!("{}/{}/{}/{}", x[0], x[1], x[2], x[3]);
        out.push(format!(
            "{who}: master weight/low/medium/high thresholds {} → {}",
            t(a.thresholds),
            t(b.thresholds)
        ));
    }
    for s in &a.signers {
        match b.signers.iter().find(|n| n.key == s.key) {
            None => out.push(format!(
                "{who}: signer {} (weight {}) removed",
                signer_words(&s.key),
                s.weight
            )),
            Some(n) if n.weight != s.weight => out.push(format!(
                "{who}: signer {} weight {} → {}",
                signer_words(&s.key),
                s.weight,
                n.weight
            )),
            Some(_) => {}
        }
    }
    for n in b
        .signers
        .iter()
        .filter(|n| !a.signers.iter().any(|s| s.key == n.key))
    {
        out.push(format!(
            "{who}: signer {} added with weight {}",
            signer_words(&n.key),
            n.weight
        ));
    }
    if a.inflation_dest != b.inflation_dest {
        let d = |x: &Option<[u8; 32]>| x.as_ref().map_or_else(|| "(none)".into(), id);
        out.push(format!(
            "{who}: inflation destination {} → {}",
            d(&a.inflation_dest),
            d(&b.inflation_dest)
        ));
    }
}

/// Every change from `before` to `after`, one line each (sequence numbers and last-modified
/// stamps left out).
pub fn changes(before: &State, after: &State) -> Vec<String> {
    let mut out = Vec::new();
    for (k, a) in &before.accounts {
        match after.accounts.get(k) {
            None => out.push(format!("{}: removed (merged into another account)", id(k))),
            Some(b) => account_changes(&mut out, a, b),
        }
    }
    for (k, b) in after
        .accounts
        .iter()
        .filter(|(k, _)| !before.accounts.contains_key(*k))
    {
        out.push(format!("{}: created with {} XLM", id(k), amount(b.balance)));
    }
    for ((owner, key), a) in &before.trustlines {
        let line = format!("{}'s {} trustline", id(owner), asset(key));
        match after.trustlines.get(&(*owner, key.clone())) {
            None => out.push(format!("{line}: removed")),
            Some(b) => {
                if a.flags & !TL_CLAWBACK_ENABLED != b.flags & !TL_CLAWBACK_ENABLED {
                    out.push(format!(
                        "{line}: {} → {}",
                        authorization(a.flags),
                        authorization(b.flags)
                    ));
                }
                if a.flags & TL_CLAWBACK_ENABLED != b.flags & TL_CLAWBACK_ENABLED {
                    let on = |f: u32| {
                        if f & TL_CLAWBACK_ENABLED != 0 {
                            "enabled"
                        } else {
                            "disabled"
                        }
                    };
                    out.push(format!(
                        "{line}: clawback {} → {}",
                        on(a.flags),
                        on(b.flags)
                    ));
                }
                if a.balance != b.balance {
                    out.push(format!(
                        "{line}: balance {} → {}",
                        amount(a.balance),
                        amount(b.balance)
                    ));
                }
                if a.limit != b.limit {
                    out.push(format!(
                        "{line}: limit {} → {}",
                        amount(a.limit),
                        amount(b.limit)
                    ));
                }
            }
        }
    }
    for ((owner, key), b) in after
        .trustlines
        .iter()
        .filter(|(k, _)| !before.trustlines.contains_key(*k))
    {
        out.push(format!(
            "{}'s {} trustline: created ({})",
            id(owner),
            asset(key),
            line_words(b)
        ));
    }
    for ((owner, name), a) in &before.data {
        let entry = format!(
            "{}'s data entry \"{}\"",
            id(owner),
            escape_bytes(name.as_bytes())
        );
        match after.data.get(&(*owner, name.clone())) {
            None => out.push(format!("{entry}: removed")),
            Some(b) if b.value != a.value => out.push(format!(
                "{entry}: \"{}\" → \"{}\"",
                escape_bytes(&a.value),
                escape_bytes(&b.value)
            )),
            Some(_) => {}
        }
    }
    for ((owner, name), b) in after
        .data
        .iter()
        .filter(|(k, _)| !before.data.contains_key(*k))
    {
        out.push(format!(
            "{}'s data entry \"{}\": set to \"{}\"",
            id(owner),
            escape_bytes(name.as_bytes()),
            escape_bytes(&b.value)
        ));
    }
    out
}

/// Trustlines fully authorized before and only authorized to maintain liabilities after.
pub fn warnings(before: &State, after: &State) -> Vec<String> {
    before
        .trustlines
        .iter()
        .filter(|(_, a)| a.flags & TL_AUTHORIZED != 0)
        .filter_map(|((owner, key), _)| {
            let b = after.trustlines.get(&(*owner, key.clone()))?;
            (b.flags & TL_AUTHORIZED == 0 && b.flags & TL_AUTHORIZED_TO_MAINTAIN_LIABILITIES != 0)
                .then(|| {
                    format!(
                        "{}'s {} trustline was fully authorized and is left only authorized to maintain liabilities: it can no longer receive {} until it is authorized again",
                        id(owner),
                        asset(key),
                        escape_bytes(key.code.as_bytes())
                    )
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sandwich_on_an_authorized_holder_is_warned_and_worded() {
        let (holder, issuer) = ([1u8; 32], [2u8; 32]);
        let key = AssetKey {
            code: "USD".into(),
            issuer,
        };
        let line = |flags, balance| Trustline {
            balance,
            limit: 1_000_000_000,
            flags,
            last_modified_ledger: 0,
        };
        let mut before = State::default();
        before
            .trustlines
            .insert((holder, key.clone()), line(TL_AUTHORIZED, 0));
        let mut after = before.clone();
        after.trustlines.insert(
            (holder, key.clone()),
            line(TL_AUTHORIZED_TO_MAINTAIN_LIABILITIES, 250_000_000),
        );
        let c = changes(&before, &after);
        let who = id(&holder);
        assert_eq!(
            c,
            [
                format!(
                    "{who}'s USD:{} trustline: authorized → authorized to maintain liabilities",
                    id(&issuer)
                ),
                format!("{who}'s USD:{} trustline: balance 0 → 25", id(&issuer)),
            ]
        );
        assert_eq!(warnings(&before, &after).len(), 1);
        // Maintain → authorized → maintain (the sandwich as meant): nothing to warn about.
        let mut was_maintain = before.clone();
        was_maintain.trustlines.insert(
            (holder, key.clone()),
            line(TL_AUTHORIZED_TO_MAINTAIN_LIABILITIES, 0),
        );
        assert!(warnings(&was_maintain, &after).is_empty());
    }
}
