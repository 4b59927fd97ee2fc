//! Signatures: stellar-core's `SignatureChecker`, the sandbox's own model of signature weight.
//!
//! The relay and the signer tally weight with `airgap::weights`; the sandbox cannot: it must
//! consume signatures as stellar-core does (each signature counts once per check, pre-authorized
//! transactions, hash(x) and signed-payload signers count, every signature must be used or the
//! transaction fails with `tx_bad_auth_extra`). The threshold each operation needs is the
//! library's (`airgap::weights::category`), and a test below holds the two tallies together: for
//! ed25519 signers they agree on whether every threshold is met.

use airgap::weights::{self, Category};
use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};
use sha2::{Digest, Sha256};
use stellar_xdr::{DecoratedSignature, OperationBody, SignatureHint};

use super::entries::{Account, SignerKind};

/// The weight `acc` needs for `level` (its raw threshold: [`SigChecker::check`] still wants one
/// matching signer when it is 0).
pub(super) fn needed_weight(acc: &Account, level: Category) -> u32 {
    let [_, low, med, high] = acc.thresholds;
    u32::from(match level {
        Category::Low => low,
        Category::Medium => med,
        Category::High => high,
    })
}

/// The weight an operation needs from its source account: the threshold of its category
/// (`airgap::weights::category`, stellar-core's `getThresholdLevel`).
pub(super) fn needed_for_op(acc: &Account, body: &OperationBody) -> u32 {
    needed_weight(acc, weights::category(body))
}

/// Who may sign for `acc`: the master key (unless its weight is 0), then its signers.
pub(super) fn signers_of(acc: &Account) -> Vec<(SignerKind, u32)> {
    let mut out = Vec::with_capacity(acc.signers.len() + 1);
    if acc.thresholds[0] > 0 {
        out.push((SignerKind::Ed25519(acc.id), u32::from(acc.thresholds[0])));
    }
    out.extend(acc.signers.iter().map(|s| (s.key.clone(), s.weight)));
    out
}

pub(super) fn hint_of(bytes: &[u8; 32]) -> [u8; 4] {
    [bytes[28], bytes[29], bytes[30], bytes[31]]
}

fn ed25519_verify(key: &[u8; 32], message: &[u8], sig: &DecoratedSignature) -> bool {
    let Ok(vk) = VerifyingKey::from_bytes(key) else {
        return false;
    };
    let Ok(signature) = Signature::from_slice(sig.signature.0.as_slice()) else {
        return false;
    };
    vk.verify(message, &signature).is_ok()
}

/// Signature weight accounting for one transaction (stellar-core's `SignatureChecker`).
pub(super) struct SigChecker<'a> {
    hash: [u8; 32],
    sigs: &'a [DecoratedSignature],
    used: Vec<bool>,
}

impl<'a> SigChecker<'a> {
    pub(super) fn new(hash: [u8; 32], sigs: &'a [DecoratedSignature]) -> Self {
        SigChecker {
            hash,
            sigs,
            used: vec![false; sigs.len()],
        }
    }

    fn matches(&self, sig: &DecoratedSignature, signer: &SignerKind) -> bool {
        let SignatureHint(hint) = sig.hint;
        match signer {
            SignerKind::Ed25519(key) => {
                hint == hint_of(key) && ed25519_verify(key, &self.hash, sig)
            }
            SignerKind::HashX(x) => {
                hint == hint_of(x) && {
                    let digest: [u8; 32] = Sha256::digest(sig.signature.0.as_slice()).into();
                    digest == *x
                }
            }
            SignerKind::SignedPayload { key, payload } => {
                let mut payload_hint = [0u8; 4];
                if payload.len() >= 4 {
                    payload_hint.copy_from_slice(&payload[payload.len() - 4..]);
                } else {
                    payload_hint[..payload.len()].copy_from_slice(payload);
                }
                let key_hint = hint_of(key);
                let expected: Vec<u8> = key_hint
                    .iter()
                    .zip(payload_hint.iter())
                    .map(|(a, b)| a ^ b)
                    .collect();
                hint.as_slice() == expected.as_slice() && ed25519_verify(key, payload, sig)
            }
            SignerKind::PreAuthTx(_) => false,
        }
    }

    /// True when the signatures reach `needed` (at least one matching signer is always needed).
    pub(super) fn check(&mut self, signers: &[(SignerKind, u32)], needed: u32) -> bool {
        let mut total: u32 = 0;
        for (key, weight) in signers {
            if let SignerKind::PreAuthTx(h) = key {
                if *h == self.hash {
                    total = total.saturating_add((*weight).min(255));
                    if total >= needed {
                        return true;
                    }
                }
            }
        }
        let classes: [fn(&SignerKind) -> bool; 3] = [
            |k| matches!(k, SignerKind::HashX(_)),
            |k| matches!(k, SignerKind::Ed25519(_)),
            |k| matches!(k, SignerKind::SignedPayload { .. }),
        ];
        for class in classes {
            let mut candidates: Vec<&(SignerKind, u32)> =
                signers.iter().filter(|(k, _)| class(k)).collect();
            for i in 0..self.sigs.len() {
                let Some(sig) = self.sigs.get(i) else { break };
                if let Some(pos) = candidates.iter().position(|(k, _)| self.matches(sig, k)) {
                    if let Some(flag) = self.used.get_mut(i) {
                        *flag = true;
                    }
                    let (_, weight) = candidates.remove(pos);
                    total = total.saturating_add((*weight).min(255));
                    if total >= needed {
                        return true;
                    }
                }
            }
        }
        false
    }

    pub(super) fn all_used(&self) -> bool {
        self.used.iter().all(|u| *u)
    }
}
