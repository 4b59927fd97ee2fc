//! Signer sets and thresholds: how much signature weight an envelope carries for each account that
//! must authorize it, and how much is missing (see `docs/signers.md`).
//!
//! A [`SignerSet`] is read from an account file: the JSON of Horizon's `GET /accounts/{id}` or of
//! `airgap-relay account G… --json`. [`weigh`] applies stellar-core's rules to an envelope: the
//! transaction's source account needs its low threshold; each operation's source account needs the
//! threshold of the operation's category ([`category`]); a threshold of 0 still needs one signature
//! of weight at least 1; each signer counts once, however many signatures it made.
use crate::account::AccountId;
use crate::envelope;
use crate::envelope::op_type_name;
use crate::files::GuardedReadError;
use crate::network::Network;
use crate::text::escape_bytes;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use stellar_xdr::{DecoratedSignature, OperationBody, TransactionEnvelope};

/// Which of an account's thresholds an operation needs (stellar-core's `ThresholdLevel`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Low,
    Medium,
    High,
}

impl Category {
    pub fn name(self) -> &'static str {
        match self {
            Category::Low => "low",
            Category::Medium => "medium",
            Category::High => "high",
        }
    }
}

/// The threshold category of an operation, as stellar-core's `getThresholdLevel` defines it:
/// allow_trust, set_trust_line_flags, bump_sequence (and inflation, claim_claimable_balance,
/// extend_footprint_ttl, restore_footprint) are low; account_merge is high; set_options is high
/// when it changes the master weight, a threshold or a signer, else medium; all others are medium.
pub fn category(body: &OperationBody) -> Category {
    match body {
        OperationBody::AllowTrust(_)
        | OperationBody::SetTrustLineFlags(_)
        | OperationBody::BumpSequence(_)
        | OperationBody::Inflation
        | OperationBody::ClaimClaimableBalance(_)
        | OperationBody::ExtendFootprintTtl(_)
        | OperationBody::RestoreFootprint(_) => Category::Low,
        OperationBody::AccountMerge(_) => Category::High,
        OperationBody::SetOptions(o)
            if o.master_weight.is_some()
                || o.low_threshold.is_some()
                || o.med_threshold.is_some()
                || o.high_threshold.is_some()
                || o.signer.is_some() =>
        {
            Category::High
        }
        _ => Category::Medium,
    }
}

/// An account's thresholds (the master key's weight is one of its signers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Thresholds {
    pub low: u8,
    pub medium: u8,
    pub high: u8,
}

impl Thresholds {
    pub fn of(&self, c: Category) -> u8 {
        match c {
            Category::Low => self.low,
            Category::Medium => self.medium,
            Category::High => self.high,
        }
    }
}

/// Who may sign for an account, with what weight, and the weight each category needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SignerSet {
    pub account: AccountId,
    pub thresholds: Thresholds,
    /// Ed25519 signers (the master key included, as Horizon lists it), weight above 0.
    pub signers: Vec<(AccountId, u8)>,
    /// Signers of other kinds (pre-authorized transactions, hash(x), signed payloads), by their
    /// key as written: they are listed but never counted here.
    pub other_signers: Vec<(String, u8)>,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WeightsError {
    #[error("the account file is not the JSON of an account (Horizon's GET /accounts/{{id}} or `airgap-relay account G… --json`): {0}")]
    Json(#[from] serde_json::Error),
    #[error("account_id: {0}")]
    Account(crate::account::AccountIdError),
    #[error("signers[{index}].key: {source}")]
    SignerKey {
        index: usize,
        source: crate::account::AccountIdError,
    },
    #[error("signers[{index}].weight is {weight}; signer weights are 0 to 255")]
    Weight { index: usize, weight: u32 },
    #[error("signers[{index}]: the signer {key} is listed twice")]
    DuplicateSigner { index: usize, key: String },
    #[error("two account files describe the same account {0}; pass one per account")]
    DuplicateAccount(AccountId),
}

#[derive(Deserialize)]
struct RawAccount {
    account_id: String,
    thresholds: RawThresholds,
    signers: Vec<RawSigner>,
}

#[derive(Deserialize)]
struct RawThresholds {
    low_threshold: u8,
    med_threshold: u8,
    high_threshold: u8,
}

#[derive(Deserialize)]
struct RawSigner {
    key: String,
    weight: u32,
}

/// Read an account file. Fields other than `account_id`, `thresholds` and `signers` are ignored,
/// so Horizon's whole account JSON can be saved as it is. Signers of weight 0 are left out (they
/// cannot sign); a key that is not `G…` is kept in [`SignerSet::other_signers`].
pub fn parse_signers(text: &str) -> Result<SignerSet, WeightsError> {
    let raw: RawAccount = serde_json::from_str(text)?;
    let account: AccountId = raw.account_id.parse().map_err(WeightsError::Account)?;
    let mut signers: Vec<(AccountId, u8)> = Vec::new();
    let mut other_signers: Vec<(String, u8)> = Vec::new();
    for (index, s) in raw.signers.iter().enumerate() {
        let weight = u8::try_from(s.weight).map_err(|_| WeightsError::Weight {
            index,
            weight: s.weight,
        })?;
        let key = s.key.trim();
        let dup = || WeightsError::DuplicateSigner {
            index,
            key: escape_bytes(key.as_bytes()),
        };
        if key.starts_with('G') {
            let id: AccountId = key
                .parse()
                .map_err(|source| WeightsError::SignerKey { index, source })?;
            if signers.iter().any(|(k, _)| *k == id) {
                return Err(dup());
            }
            if weight > 0 {
                signers.push((id, weight));
            }
        } else if key.starts_with(['T', 'X', 'P']) {
            if other_signers.iter().any(|(k, _)| k == key) {
                return Err(dup());
            }
            if weight > 0 {
                other_signers.push((escape_bytes(key.as_bytes()), weight));
            }
        } else {
            // Refused through the one account parser, which never echoes a secret.
            let source =
                key.parse::<AccountId>()
                    .err()
                    .unwrap_or(crate::account::AccountIdError::Invalid(escape_bytes(
                        key.as_bytes(),
                    )));
            return Err(WeightsError::SignerKey { index, source });
        }
    }
    Ok(SignerSet {
        account,
        thresholds: Thresholds {
            low: raw.thresholds.low_threshold,
            medium: raw.thresholds.med_threshold,
            high: raw.thresholds.high_threshold,
        },
        signers,
        other_signers,
    })
}

/// Why `--signers` files could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignersFileError {
    #[error("cannot read the signers file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the signers file {} can be changed by other users (mode {mode:04o}), so it cannot be trusted", path.display())]
    Writable { path: PathBuf, mode: u32 },
    /// Refused for another reason of [`crate::files::read_guarded`] (another owner, too large, not text).
    #[error("the signers file {} cannot be trusted: {reason}", path.display())]
    Refused {
        path: PathBuf,
        reason: GuardedReadError,
    },
    #[error("the signers file {}: {source}", path.display())]
    Parse { path: PathBuf, source: WeightsError },
    /// Two files describe one account.
    #[error(transparent)]
    Distinct(WeightsError),
}

/// Read `--signers` files, one account each (see [`parse_signers`]): what both binaries do with
/// them. A file its group or other users could have written is refused
/// ([`crate::files::read_guarded`]): it decides whose signatures count.
pub fn load_signer_sets(paths: &[PathBuf]) -> Result<Vec<SignerSet>, SignersFileError> {
    let mut sets = Vec::with_capacity(paths.len());
    for p in paths {
        let path = || p.to_path_buf();
        let text = crate::files::read_guarded(p).map_err(|e| match e {
            GuardedReadError::Writable { mode } => {
                SignersFileError::Writable { path: path(), mode }
            }
            GuardedReadError::Io(source) => SignersFileError::Read {
                path: path(),
                source,
            },
            reason => SignersFileError::Refused {
                path: path(),
                reason,
            },
        })?;
        let set = parse_signers(&text).map_err(|source| SignersFileError::Parse {
            path: path(),
            source,
        })?;
        sets.push(set);
    }
    check_distinct(&sets).map_err(SignersFileError::Distinct)?;
    Ok(sets)
}

/// Every Ed25519 signer of `sets`: the keys a signature for these accounts may come from.
pub fn signer_keys(sets: &[SignerSet]) -> Vec<AccountId> {
    sets.iter()
        .flat_map(|s| s.signers.iter().map(|(k, _)| *k))
        .collect()
}

impl SignerSet {
    /// The signer set of `account` as Horizon reports it: its ed25519 signers of weight above 0
    /// (the master key among them), and the signers of other kinds, listed but never counted.
    pub fn from_horizon(account: AccountId, horizon: &crate::horizon::Account) -> SignerSet {
        let live = horizon.signers.iter().filter(|s| s.weight > 0);
        SignerSet {
            account,
            thresholds: Thresholds {
                low: horizon.thresholds.low_threshold,
                medium: horizon.thresholds.med_threshold,
                high: horizon.thresholds.high_threshold,
            },
            signers: live
                .clone()
                .filter(|s| s.kind == "ed25519_public_key")
                .filter_map(|s| Some((s.key.parse::<AccountId>().ok()?, s.weight)))
                .collect(),
            other_signers: live
                .filter(|s| s.kind != "ed25519_public_key")
                .map(|s| (escape_bytes(s.key.as_bytes()), s.weight))
                .collect(),
        }
    }
}

/// Refuse two sets for one account.
pub fn check_distinct(sets: &[SignerSet]) -> Result<(), WeightsError> {
    for (i, s) in sets.iter().enumerate() {
        if sets[..i].iter().any(|o| o.account == s.account) {
            return Err(WeightsError::DuplicateAccount(s.account));
        }
    }
    Ok(())
}

/// What one account must authorize, and how far the signatures get it.
#[derive(Clone, Debug, Serialize)]
pub struct Requirement {
    /// `transaction` (the source's low threshold, for the sequence number and fee), `fee bump`,
    /// or the operation's type.
    pub what: String,
    /// The operation, numbered from 1 as in the review; `None` for the transaction itself.
    pub operation: Option<usize>,
    pub account: AccountId,
    pub category: Category,
    /// `None` when no signer set of this account was given.
    pub weight: Option<Weight>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Weight {
    /// The account's threshold for the category.
    pub threshold: u8,
    /// The weight needed: the threshold, and at least 1.
    pub needed: u32,
    /// The weight of the valid signatures present.
    pub present: u32,
    /// `needed - present`, 0 when enough.
    pub missing: u32,
    /// The signers whose signatures are present, with their weights.
    pub signed_by: Vec<(AccountId, u8)>,
}

/// The requirements of an envelope: the transaction's first, then one per operation.
#[derive(Clone, Debug, Serialize)]
pub struct Weights {
    pub requirements: Vec<Requirement>,
}

fn weigh_one(
    set: Option<&SignerSet>,
    category: Category,
    hash: &[u8; 32],
    sigs: &[DecoratedSignature],
) -> Option<Weight> {
    let set = set?;
    let threshold = set.thresholds.of(category);
    let signed_by: Vec<(AccountId, u8)> = set
        .signers
        .iter()
        .filter(|(k, _)| {
            sigs.iter()
                .any(|s| envelope::signer_of(hash, s, std::slice::from_ref(k)).is_some())
        })
        .copied()
        .collect();
    let present: u32 = signed_by.iter().map(|(_, w)| u32::from(*w)).sum();
    let needed = u32::from(threshold).max(1);
    Some(Weight {
        threshold,
        needed,
        present,
        missing: needed.saturating_sub(present),
        signed_by,
    })
}

/// Weigh the signatures of `env` for `network` against the signer sets given. Accounts without a
/// set get a requirement with no weight. For a fee bump, the fee source is weighed with the outer
/// signatures and the inner transaction with its own.
pub fn weigh(env: &TransactionEnvelope, network: &Network, sets: &[SignerSet]) -> Weights {
    let find = |a: &AccountId| sets.iter().find(|s| s.account == *a);
    let mut requirements = Vec::new();
    let (inner_hash, inner_sigs): ([u8; 32], Vec<DecoratedSignature>) = match env {
        TransactionEnvelope::TxFeeBump(fb) => {
            let fee_source = AccountId::from_muxed(&fb.tx.fee_source);
            let h = envelope::hash(env, network);
            requirements.push(Requirement {
                what: "fee bump".into(),
                operation: None,
                account: fee_source,
                category: Category::Low,
                weight: weigh_one(find(&fee_source), Category::Low, &h, &fb.signatures),
            });
            let stellar_xdr::FeeBumpTransactionInnerTx::Tx(inner) = &fb.tx.inner_tx;
            let inner_env = TransactionEnvelope::Tx(inner.clone());
            (
                envelope::hash(&inner_env, network),
                inner.signatures.to_vec(),
            )
        }
        other => (
            envelope::hash(other, network),
            envelope::signatures(other).to_vec(),
        ),
    };
    let tx = envelope::transaction(env);
    let source = AccountId::from_muxed(&tx.source_account);
    requirements.push(Requirement {
        what: "transaction".into(),
        operation: None,
        account: source,
        category: Category::Low,
        weight: weigh_one(find(&source), Category::Low, &inner_hash, &inner_sigs),
    });
    for (i, op) in tx.operations.iter().enumerate() {
        let account = envelope::op_source(op, source);
        let c = category(&op.body);
        requirements.push(Requirement {
            what: op_type_name(&op.body),
            operation: Some(i + 1),
            account,
            category: c,
            weight: weigh_one(find(&account), c, &inner_hash, &inner_sigs),
        });
    }
    Weights { requirements }
}

impl Weights {
    /// True when every requirement has a known signer set and enough weight.
    pub fn complete(&self) -> bool {
        self.requirements
            .iter()
            .all(|r| r.weight.as_ref().is_some_and(|w| w.missing == 0))
    }

    /// The weight table for a terminal.
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(s, "Signature weight (stellar-core's thresholds):");
        for r in &self.requirements {
            let label = match r.operation {
                Some(i) => format!("{i}. {}", r.what),
                None => r.what.clone(),
            };
            let _ = write!(
                s,
                "  {label}: {} threshold of {}: ",
                r.category.name(),
                r.account
            );
            match &r.weight {
                None => {
                    let _ = writeln!(
                        s,
                        "signer set not known (pass --signers with the account's JSON)"
                    );
                }
                Some(w) => {
                    let by = if w.signed_by.is_empty() {
                        "no signer".to_string()
                    } else {
                        w.signed_by
                            .iter()
                            .map(|(k, wt)| format!("{k} ({wt})"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    let verdict = if w.missing == 0 {
                        "enough".to_string()
                    } else {
                        format!("MISSING {}", w.missing)
                    };
                    let _ = writeln!(
                        s,
                        "threshold {}, needs {}, has {} from {by}: {verdict}",
                        w.threshold, w.needed, w.present
                    );
                }
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = r#"{
      "id": "GDJBPTCG4YVAIVCENBJV77PA7ZVK6KLBYY56MG7BUR4IR77MPQBKOQ46",
      "account_id": "GDJBPTCG4YVAIVCENBJV77PA7ZVK6KLBYY56MG7BUR4IR77MPQBKOQ46",
      "sequence": "12",
      "thresholds": {"low_threshold": 1, "med_threshold": 2, "high_threshold": 3},
      "flags": {"auth_required": false},
      "signers": [
        {"weight": 1, "key": "GC6W3JOQFTUD5KBXYFBJOZ7LGYL3UZIKP4SF7CMQDIBYCC2QFCWDITD3", "type": "ed25519_public_key"},
        {"weight": 0, "key": "GA7KNSBDPBKKUUP773OMF36DTILH3WS2LYMPGQGSUMSIUDUDX4BVEEMV", "type": "ed25519_public_key"},
        {"weight": 2, "key": "GDJBPTCG4YVAIVCENBJV77PA7ZVK6KLBYY56MG7BUR4IR77MPQBKOQ46", "type": "ed25519_public_key"}
      ]
    }"#;

    #[test]
    fn reads_horizon_account_json() {
        let s = parse_signers(ACCOUNT).expect("parses");
        assert_eq!(
            s.account.to_string(),
            "GDJBPTCG4YVAIVCENBJV77PA7ZVK6KLBYY56MG7BUR4IR77MPQBKOQ46"
        );
        assert_eq!(
            s.thresholds,
            Thresholds {
                low: 1,
                medium: 2,
                high: 3
            }
        );
        // The weight-0 signer cannot sign and is left out.
        assert_eq!(s.signers.len(), 2);
    }

    #[test]
    fn refuses_bad_signers() {
        let bad_weight = ACCOUNT.replace("\"weight\": 2", "\"weight\": 256");
        assert!(matches!(
            parse_signers(&bad_weight),
            Err(WeightsError::Weight { index: 2, .. })
        ));
        let secret = ACCOUNT.replace(
            "GC6W3JOQFTUD5KBXYFBJOZ7LGYL3UZIKP4SF7CMQDIBYCC2QFCWDITD3",
            "SCOLX4NHU6ZYZLN7ACCNJGQ5CQIWLXZ4DDXGBCMOO7LOSWK3S7PPSZTI",
        );
        let e = parse_signers(&secret).unwrap_err().to_string();
        assert!(!e.contains("COLX4NHU"), "never echo a secret: {e}");
        assert!(parse_signers("{}").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn loads_files_no_one_else_could_write() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, mode: u32| {
            let p = dir.path().join(name);
            std::fs::write(&p, ACCOUNT).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
            p
        };
        let (ok, open) = (file("ok.json", 0o644), file("open.json", 0o664));
        let sets = load_signer_sets(std::slice::from_ref(&ok)).expect("loads");
        assert_eq!(signer_keys(&sets).len(), 2);
        assert!(matches!(
            load_signer_sets(&[open]),
            Err(SignersFileError::Writable { mode: 0o664, .. })
        ));
        assert!(matches!(
            load_signer_sets(&[ok.clone(), ok]),
            Err(SignersFileError::Distinct(WeightsError::DuplicateAccount(
                _
            )))
        ));
        assert!(matches!(
            load_signer_sets(&[dir.path().join("absent.json")]),
            Err(SignersFileError::Read { .. })
        ));
    }

    #[test]
    fn categories_follow_stellar_core() {
        use stellar_xdr::{BumpSequenceOp, SequenceNumber, SetOptionsOp};
        assert_eq!(
            category(&OperationBody::BumpSequence(BumpSequenceOp {
                bump_to: SequenceNumber(1)
            })),
            Category::Low
        );
        let empty = SetOptionsOp {
            inflation_dest: None,
            clear_flags: None,
            set_flags: Some(1),
            master_weight: None,
            low_threshold: None,
            med_threshold: None,
            high_threshold: None,
            home_domain: None,
            signer: None,
        };
        assert_eq!(
            category(&OperationBody::SetOptions(empty.clone())),
            Category::Medium
        );
        let high = SetOptionsOp {
            med_threshold: Some(2),
            ..empty
        };
        assert_eq!(category(&OperationBody::SetOptions(high)), Category::High);
    }
}
