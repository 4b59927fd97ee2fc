//! Merging copies of one transaction signed in different places into one envelope.
//!
//! Each co-signer signs their own copy of the same envelope; [`merge`] checks that the copies hold
//! the same transaction (comparing their SEP-11 txrep without signatures, so a difference is named
//! by its field), then keeps each distinct signature once, in the order of the copies.
//!
//! Signatures are kept only when they verify against one of the known keys for this transaction
//! and network. stellar-core refuses an envelope carrying a signature that none of the signers it
//! checks can use (`tx_bad_auth_extra`), and a signature made for another network or transaction
//! verifies against no one; so an unverifiable signature can only harm the merged envelope. [`merge`]
//! lists each dropped signature in the [`MergeReport`] with the copy it came from and why; the
//! commands' [`merge_with_signers`] refuses instead ([`MergeError::Unattributed`]): a co-signer's
//! signature is unattributable only because the accounts' signer sets were not given, and an
//! envelope quietly stripped of it is not what the co-signers meant to hand over.
use crate::account::AccountId;
use crate::envelope::{self, MAX_SIGNATURES};
use crate::network::Network;
use crate::weights::{self, SignerSet, Weights};
use serde::Serialize;
use stellar_xdr::{DecoratedSignature, TransactionEnvelope, VecM};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum MergeError {
    #[error("there is nothing to merge: give at least two copies of the transaction")]
    NoCopies,
    #[error(
        "copy {copy} holds a different transaction than copy 1: the first difference is {field}"
    )]
    Differs { copy: usize, field: String },
    /// Signatures that verify against no key known for the transaction: merging would drop them.
    #[error("{} would be dropped: {} verif{} against no key known for this transaction and network (the source accounts' own, and the signers given)", plural(.0.len(), "signature"), list(.0), if .0.len() == 1 { "ies" } else { "y" })]
    Unattributed(Vec<DroppedSignature>),
}

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn list(dropped: &[DroppedSignature]) -> String {
    let each: Vec<String> = dropped
        .iter()
        .map(|d| format!("hint {} in copy {}", d.hint, d.copy))
        .collect();
    each.join(", ")
}

/// Why a signature was left out of the merged envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// It verifies against none of the known keys (another signer, another network, or damaged).
    NotVerified,
    /// The envelope already held [`MAX_SIGNATURES`] signatures.
    OverLimit,
}

#[derive(Clone, Debug, Serialize)]
pub struct KeptSignature {
    /// The signature hint, hex.
    pub hint: String,
    pub signer: AccountId,
    /// The copy it was first found in, numbered from 1.
    pub copy: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DroppedSignature {
    pub hint: String,
    pub copy: usize,
    pub reason: DropReason,
    /// For [`DropReason::OverLimit`]: the key that made it.
    pub signer: Option<AccountId>,
}

/// What [`merge`] did.
#[derive(Clone, Debug, Serialize)]
pub struct MergeReport {
    pub copies: usize,
    /// The transaction hash, hex.
    pub hash: String,
    pub kept: Vec<KeptSignature>,
    /// Signatures found again in a later copy (or twice in one), left out.
    pub duplicates: usize,
    pub dropped: Vec<DroppedSignature>,
}

/// The envelope without its (outer) signatures: for a fee bump the inner signatures are part of
/// what the outer signatures sign, so they stay.
fn without_signatures(env: &TransactionEnvelope) -> TransactionEnvelope {
    let mut bare = env.clone();
    set_signatures(&mut bare, VecM::default());
    bare
}

fn set_signatures(env: &mut TransactionEnvelope, sigs: VecM<DecoratedSignature, 20>) {
    match env {
        TransactionEnvelope::TxV0(e) => e.signatures = sigs,
        TransactionEnvelope::Tx(e) => e.signatures = sigs,
        TransactionEnvelope::TxFeeBump(e) => e.signatures = sigs,
    }
}

fn txrep_lines(env: &TransactionEnvelope) -> Option<Vec<String>> {
    crate::txrep::to_txrep(env)
        .ok()
        .map(|t| t.lines().map(str::to_string).collect())
}

fn key_of(line: &str) -> String {
    line.split_once(':')
        .map_or(line, |(k, _)| k)
        .trim()
        .to_string()
}

/// The first field in which `other` differs from `first`, named by its txrep key; `None` when the
/// transactions are the same.
fn first_difference(first: &TransactionEnvelope, other: &TransactionEnvelope) -> Option<String> {
    let (first, other) = (without_signatures(first), without_signatures(other));
    if envelope::to_bytes(&first) == envelope::to_bytes(&other) {
        return None;
    }
    match (txrep_lines(&first), txrep_lines(&other)) {
        (Some(a), Some(b)) => {
            let at = a
                .iter()
                .zip(&b)
                .position(|(x, y)| x != y)
                .unwrap_or(a.len().min(b.len()));
            let line = a.get(at).or_else(|| b.get(at));
            Some(line.map_or_else(|| "the transaction".to_string(), |l| key_of(l)))
        }
        // Operations txrep cannot write: the bytes differ, but no field can be named.
        _ => Some("somewhere in the transaction's bytes (an operation txrep cannot show)".into()),
    }
}

/// Combine the signatures of `copies` of one transaction for `network`. `known_signers` are the
/// keys a signature may come from (the transaction's and operations' source accounts and the
/// signers of their signer sets); see the module documentation for what happens to others.
pub fn merge(
    copies: &[TransactionEnvelope],
    network: &Network,
    known_signers: &[AccountId],
) -> Result<(TransactionEnvelope, MergeReport), MergeError> {
    let first = copies.first().ok_or(MergeError::NoCopies)?;
    for (i, c) in copies.iter().enumerate().skip(1) {
        if let Some(field) = first_difference(first, c) {
            return Err(MergeError::Differs { copy: i + 1, field });
        }
    }
    let hash = envelope::hash(first, network);
    let mut kept: Vec<(DecoratedSignature, KeptSignature)> = Vec::new();
    let mut duplicates = 0;
    let mut dropped = Vec::new();
    for (i, c) in copies.iter().enumerate() {
        for sig in envelope::signatures(c) {
            if kept.iter().any(|(s, _)| s == sig) {
                duplicates += 1;
                continue;
            }
            let hint = hex::encode(sig.hint.0);
            match envelope::signer_of(&hash, sig, known_signers) {
                None => dropped.push(DroppedSignature {
                    hint,
                    copy: i + 1,
                    reason: DropReason::NotVerified,
                    signer: None,
                }),
                // Ed25519 signatures are deterministic, but a key's second, different valid
                // signature adds no weight: one per key.
                Some(k) if kept.iter().any(|(_, ks)| ks.signer == k) => duplicates += 1,
                Some(k) if kept.len() >= MAX_SIGNATURES => dropped.push(DroppedSignature {
                    hint,
                    copy: i + 1,
                    reason: DropReason::OverLimit,
                    signer: Some(k),
                }),
                Some(k) => kept.push((
                    sig.clone(),
                    KeptSignature {
                        hint,
                        signer: k,
                        copy: i + 1,
                    },
                )),
            }
        }
    }
    let mut merged = first.clone();
    let sigs: Vec<DecoratedSignature> = kept.iter().map(|(s, _)| s.clone()).collect();
    // At most MAX_SIGNATURES by construction.
    let sigs: VecM<DecoratedSignature, 20> = sigs.try_into().unwrap_or_default();
    set_signatures(&mut merged, sigs);
    Ok((
        merged,
        MergeReport {
            copies: copies.len(),
            hash: hex::encode(hash),
            kept: kept.into_iter().map(|(_, k)| k).collect(),
            duplicates,
            dropped,
        },
    ))
}

/// What a `merge` command makes of its copies and `--signers` sets ([`merge_with_signers`]).
pub struct Merged {
    pub envelope: TransactionEnvelope,
    pub report: MergeReport,
    /// The keys a signature may come from: the source accounts of the transaction and the
    /// signers of the sets (for the review to name who signed).
    pub known: Vec<AccountId>,
    /// The weight present and missing, when signer sets were given.
    pub weights: Option<Weights>,
}

/// [`merge`] the copies, keeping the signatures of the transaction's source accounts and of the
/// signers in `sets`, and weigh the result against the sets: both binaries' `merge` commands.
/// Refused ([`MergeError::Unattributed`]) when a signature verifies against none of those keys.
pub fn merge_with_signers(
    copies: &[TransactionEnvelope],
    network: &Network,
    sets: &[SignerSet],
) -> Result<Merged, MergeError> {
    let first = copies.first().ok_or(MergeError::NoCopies)?;
    let mut known = source_accounts(first);
    known.extend(weights::signer_keys(sets));
    let (envelope, report) = merge(copies, network, &known)?;
    let unattributed: Vec<DroppedSignature> = report
        .dropped
        .iter()
        .filter(|d| d.reason == DropReason::NotVerified)
        .cloned()
        .collect();
    if !unattributed.is_empty() {
        return Err(MergeError::Unattributed(unattributed));
    }
    let weights = (!sets.is_empty()).then(|| weights::weigh(&envelope, network, sets));
    Ok(Merged {
        envelope,
        report,
        known,
        weights,
    })
}

impl Merged {
    /// The merge report, then the weights when signer sets were given: for a terminal.
    pub fn to_text(&self) -> String {
        let mut text = self.report.to_text();
        if let Some(w) = &self.weights {
            text.push_str(&w.to_text());
        }
        text
    }
}

impl MergeReport {
    /// The report for a terminal.
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "Merged {} copies of transaction {}: {} signature{} kept, {} duplicate{} left out.",
            self.copies,
            self.hash,
            self.kept.len(),
            if self.kept.len() == 1 { "" } else { "s" },
            self.duplicates,
            if self.duplicates == 1 { "" } else { "s" },
        );
        for k in &self.kept {
            let _ = writeln!(
                s,
                "  kept    hint {}  by {} (copy {})",
                k.hint, k.signer, k.copy
            );
        }
        for d in &self.dropped {
            let why = match d.reason {
                DropReason::NotVerified => "verifies against no known key for this transaction and network (pass --signers for the accounts' other signers)".to_string(),
                DropReason::OverLimit => format!(
                    "by {}: the envelope already holds {MAX_SIGNATURES} signatures, the most Stellar allows",
                    d.signer.map(|k| k.to_string()).unwrap_or_default()
                ),
            };
            let _ = writeln!(s, "  DROPPED hint {}  (copy {}): {why}", d.hint, d.copy);
        }
        s
    }
}

/// The accounts whose keys may sign `env`: the (inner) transaction's source, every operation's
/// own source, and for a fee bump the fee source.
pub fn source_accounts(env: &TransactionEnvelope) -> Vec<AccountId> {
    let tx = envelope::transaction(env);
    let mut out = vec![AccountId::from_muxed(&tx.source_account)];
    if let TransactionEnvelope::TxFeeBump(fb) = env {
        out.push(AccountId::from_muxed(&fb.tx.fee_source));
    }
    for op in tx.operations.iter() {
        if let Some(s) = &op.source_account {
            out.push(AccountId::from_muxed(s));
        }
    }
    let mut seen = Vec::new();
    out.retain(|a| {
        let new = !seen.contains(a);
        seen.push(*a);
        new
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::{self, OpBody, OpSpec, TimeWindow, TxSpec};
    use crate::keys::SecretSeed;

    fn seed(n: u8) -> SecretSeed {
        SecretSeed::from_bytes(zeroize::Zeroizing::new([n; 32]))
    }

    fn payment(amount: &str, source: AccountId) -> TransactionEnvelope {
        let spec = TxSpec {
            network: Network::Testnet,
            source,
            sequence: 7,
            base_fee: 100,
            time: TimeWindow {
                min: 0,
                max: 1_900_000_000,
            },
            memo: Default::default(),
            operations: vec![OpSpec::new(OpBody::Payment {
                destination: seed(9).public_key(),
                asset: "native".parse().expect("asset"),
                amount: amount.parse().expect("amount"),
            })],
        };
        build::envelope(build::build(&spec).expect("builds"))
    }

    #[test]
    fn combines_drops_duplicates_and_unknown_keys() {
        let (a, b, stranger) = (seed(1), seed(2), seed(3));
        let base = payment("10", a.public_key());
        let n = Network::Testnet;
        let mut c1 = base.clone();
        envelope::sign(&mut c1, &n, &a).expect("sign");
        let mut c2 = base.clone();
        envelope::sign(&mut c2, &n, &b).expect("sign");
        envelope::sign(&mut c2, &n, &a).expect("sign");
        let mut c3 = base.clone();
        envelope::sign(&mut c3, &n, &stranger).expect("sign");
        let known = [a.public_key(), b.public_key()];
        let (merged, report) = merge(&[c1, c2, c3], &n, &known).expect("merges");
        assert_eq!(envelope::signatures(&merged).len(), 2);
        assert_eq!(report.duplicates, 1);
        assert_eq!(report.dropped.len(), 1);
        assert_eq!(report.dropped[0].copy, 3);
        assert_eq!(report.kept[0].signer, a.public_key());
        assert_eq!(report.kept[1].signer, b.public_key());
    }

    #[test]
    fn the_commands_merge_refuses_to_drop_a_signature_it_cannot_attribute() {
        let (a, b) = (seed(1), seed(2));
        let base = payment("10", a.public_key());
        let n = Network::Testnet;
        let mut c1 = base.clone();
        envelope::sign(&mut c1, &n, &a).expect("sign");
        let mut c2 = base.clone();
        envelope::sign(&mut c2, &n, &b).expect("sign");
        // b is a co-signer of a's account, but no signer set says so.
        let Err(MergeError::Unattributed(dropped)) =
            merge_with_signers(&[c1.clone(), c2.clone()], &n, &[])
        else {
            panic!("merged without knowing b");
        };
        assert_eq!(dropped.len(), 1);
        assert_eq!(dropped[0].copy, 2);
        assert_eq!(dropped[0].hint, hex::encode(b.public_key().hint()));
        let set = SignerSet {
            account: a.public_key(),
            thresholds: crate::weights::Thresholds {
                low: 2,
                medium: 2,
                high: 2,
            },
            signers: vec![(a.public_key(), 1), (b.public_key(), 1)],
            other_signers: Vec::new(),
        };
        let merged = merge_with_signers(&[c1, c2], &n, &[set]).expect("b is known now");
        assert_eq!(envelope::signatures(&merged.envelope).len(), 2);
        assert!(merged.weights.is_some_and(|w| w.complete()));
    }

    #[test]
    fn names_the_first_differing_field() {
        let a = seed(1);
        let e = merge(
            &[payment("10", a.public_key()), payment("11", a.public_key())],
            &Network::Testnet,
            &[],
        )
        .unwrap_err();
        assert_eq!(
            e,
            MergeError::Differs {
                copy: 2,
                field: "tx.operations[0].body.paymentOp.amount".into()
            }
        );
        assert_eq!(
            merge(&[], &Network::Testnet, &[]).unwrap_err(),
            MergeError::NoCopies
        );
    }
}
