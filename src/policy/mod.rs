//! The signing policy: what a signer may sign (see `docs/policy.md`).
//!
//! A policy is a JSON file. Serde checks its shape (unknown fields are errors), then the library's
//! own parsers check every value: networks with [`Network`], accounts with [`AccountId`], assets
//! with [`Asset`], amounts with [`Amount`], account flags with [`build::account_flags`].
//!
//! [`Policy::check`] and [`Policy::check_batch`] read the envelope itself — the bytes that would be
//! signed — and return the first rule it breaks as a [`Violation`]. A batch is refused whole.
//!
//! Two kinds of field:
//! - restrictions (`source_accounts`, `operations`, `destinations`, `max_amount_per_tx`,
//!   `max_amount_per_batch`): absent means that rule restricts nothing; present means it is the
//!   complete list, and anything not in it is refused;
//! - permissions (`may_set_flags`, `may_clear_flags`, `allow_…`, `muxed_destinations`): absent
//!   means not permitted;
//! - limits (`max_fee`, `max_validity`): absent means the default (1 XLM, 30 days).
//!
//! `networks` is required. A policy bound to a keystore is known by its SHA-256 ([`digest`]).
//!
//! `parse` reads a policy file, `check` holds envelopes against it, `describe` says it (and what it
//! refuses) in words; the types they share are here.
use crate::account::{AccountId, AccountIdError};
use crate::amount::{Amount, AmountError};
use crate::asset::{Asset, AssetError};
use crate::build::BuildError;
use crate::network::{Network, NetworkError};
use std::fmt;
use std::path::{Path, PathBuf};

/// The policy format version this library reads and writes.
pub const VERSION: u32 = 1;

/// The operation types a policy can govern, as [`op_type_name`] names them. Any other operation
/// type is always refused: the policy cannot tell what it moves or to whom.
pub const OPERATION_TYPES: [&str; 10] = [
    "create_account",
    "payment",
    "change_trust",
    "allow_trust",
    "set_trust_line_flags",
    "set_options",
    "clawback",
    "manage_data",
    "bump_sequence",
    "account_merge",
];

/// The `auth_immutable` account flag bit; governed by `allow_auth_immutable`, never by
/// `may_set_flags`.
const AUTH_IMMUTABLE: u32 = 4;

/// The kinds of signer `allow_signer_changes.kinds` names (as the review's `details` do).
pub const SIGNER_KINDS: [&str; 4] = ["ed25519", "pre_auth_tx", "hash_x", "ed25519_signed_payload"];

/// The preconditions beyond time bounds that `allow_preconditions` may allow.
pub const PRECONDITIONS: [&str; 5] = [
    "ledger_bounds",
    "min_seq_num",
    "min_seq_age",
    "min_seq_ledger_gap",
    "extra_signers",
];

/// The memo kinds `required_memos` may ask for: `any` memo, or one of the four types.
pub const MEMO_KINDS: [&str; 5] = ["any", "text", "id", "hash", "return"];

/// The default of `max_fee`: 1 XLM per transaction, in stroops.
pub const DEFAULT_MAX_FEE: i64 = crate::review::DEFAULT_MAX_FEE;
/// The default of `max_validity`: 30 days, in seconds.
pub const DEFAULT_MAX_VALIDITY: u64 = crate::review::DEFAULT_MAX_VALIDITY;

/// The SHA-256 of a policy file's bytes: what a keystore binds (docs/keystore.md).
pub fn digest(text: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(text).into()
}

/// The default policy file of a keystore: the keystore's file name with `.policy.json` appended
/// (`issuer.keystore` → `issuer.keystore.policy.json`), in the same directory.
pub fn default_path_for(keystore: &Path) -> PathBuf {
    let mut name = keystore.file_name().unwrap_or_default().to_os_string();
    name.push(".policy.json");
    keystore.with_file_name(name)
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    #[error("the policy is not valid JSON of the policy format: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the policy has version {0}, and this signer reads only version {VERSION} policies")]
    Version(u32),
    #[error("networks lists no network, so the policy would refuse every transaction; list at least one")]
    NoNetworks,
    #[error("{field}: {source}")]
    Network { field: String, source: NetworkError },
    #[error("{field}: {source}")]
    Account {
        field: String,
        source: AccountIdError,
    },
    #[error("{field}: {source}")]
    Asset { field: String, source: AssetError },
    #[error("{field}: {source}")]
    Amount { field: String, source: AmountError },
    #[error("{field}: {source}")]
    Flag { field: String, source: BuildError },
    #[error("operations: \"{0}\" is not an operation type a policy can allow; use {types}", types = OPERATION_TYPES.join(", "))]
    UnknownOperation(String),
    #[error("{field}: the asset {key} is listed twice; list each asset once")]
    DuplicateAsset { field: String, key: String },
    #[error("may_set_flags: auth_immutable is governed by allow_auth_immutable alone; remove it from may_set_flags")]
    ImmutableInSetFlags,
    #[error("{field}: {source}")]
    Duration { field: String, source: BuildError },
    #[error("max_validity: must be longer than 0 seconds")]
    ZeroValidity,
    #[error("{field}: \"{value}\" is not a kind of signer; use {kinds}", kinds = SIGNER_KINDS.join(", "))]
    SignerKind { field: String, value: String },
    #[error("{field}: \"{value}\" is not a signer key (G…, T…, X… or P…)")]
    SignerKey { field: String, value: String },
    #[error("allow_preconditions: \"{0}\" is not a precondition a policy can allow; use {list}", list = PRECONDITIONS.join(", "))]
    UnknownPrecondition(String),
    #[error("{field}: \"{value}\" is not a memo kind; use {kinds}", kinds = MEMO_KINDS.join(", "))]
    MemoKind { field: String, value: String },
    #[error("{field}: \"{value}\" is not a muxed account ID (a whole number from 0 to 18446744073709551615)")]
    MuxedId { field: String, value: String },
}

/// A transaction (or batch) outside the policy: the rule it breaks and what it does.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Violation {
    /// The policy field broken, e.g. `networks` or `max_amount_per_tx.USD:G…`.
    pub rule: String,
    /// One sentence: what the transaction does and what the policy allows.
    pub message: String,
    /// The operation concerned, numbered from 1 as in the review.
    pub operation: Option<usize>,
    /// In [`Policy::check_batch`]: the transaction concerned, numbered from 1 in batch order.
    pub transaction: Option<usize>,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "refused by the signing policy (rule {}): ", self.rule)?;
        if let Some(t) = self.transaction {
            write!(f, "transaction {t}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for Violation {}

fn violation(rule: impl Into<String>, message: String, operation: Option<usize>) -> Violation {
    Violation {
        rule: rule.into(),
        message,
        operation,
        transaction: None,
    }
}

/// What a signer may sign. Build one with [`parse`] or [`default_for_new_keystore`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    comment: Option<String>,
    networks: Vec<Network>,
    source_accounts: Option<Vec<AccountId>>,
    operations: Option<Vec<&'static str>>,
    destinations: Option<Vec<(Asset, Vec<AccountId>)>>,
    max_amount_per_tx: Option<Vec<(Asset, Amount)>>,
    max_amount_per_batch: Option<Vec<(Asset, Amount)>>,
    may_set_flags: u32,
    may_clear_flags: u32,
    allow_auth_immutable: bool,
    allow_master_weight_change: bool,
    allow_signer_removal: bool,
    allow_account_merge: bool,
    require_offline: bool,
    /// The most a transaction may pay in fees (for a fee bump, the outer fee), in stroops.
    max_fee: i64,
    /// The longest a transaction may stay valid, in seconds from the time of signing.
    max_validity: u64,
    /// Which signers `set_options` may add or re-weight; `None`: none.
    signer_changes: Option<SignerChanges>,
    allow_threshold_changes: bool,
    /// The preconditions beyond time bounds that may appear (names from [`PRECONDITIONS`]).
    allow_preconditions: Vec<&'static str>,
    /// The muxed destinations (`M…`) that may receive: account and ID.
    muxed_destinations: Vec<(AccountId, u64)>,
    /// Destinations that need a memo, and which kind (from [`MEMO_KINDS`]).
    required_memos: Vec<(AccountId, &'static str)>,
}

/// What `allow_signer_changes` allows: the kinds of signer, and when `keys` is given, only those
/// keys (strkeys: `G…`, `T…`, `X…`, `P…`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignerChanges {
    pub kinds: Vec<&'static str>,
    pub keys: Option<Vec<String>>,
}

impl Policy {
    /// Whether the policy requires the signing machine to be offline (`require_offline`): the
    /// signer checks its network interfaces; the policy only says so.
    pub fn require_offline(&self) -> bool {
        self.require_offline
    }

    /// The most a transaction may pay in fees, in stroops (`max_fee`).
    pub fn max_fee(&self) -> i64 {
        self.max_fee
    }

    /// The longest a transaction may stay valid, in seconds (`max_validity`).
    pub fn max_validity(&self) -> u64 {
        self.max_validity
    }
}

mod check;
mod describe;
mod parse;

pub use parse::{default_for_new_keystore, default_text, parse};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::{self, OpBody, OpSpec, SetOptionsSpec, TimeWindow, TxSpec};
    use crate::envelope;
    use crate::review::op_type_name;
    use stellar_xdr::TransactionEnvelope;

    fn acct(n: u8) -> AccountId {
        AccountId([n; 32])
    }

    fn env(ops: Vec<OpBody>) -> TransactionEnvelope {
        let spec = TxSpec {
            network: Network::Testnet,
            source: acct(1),
            sequence: 2,
            base_fee: 100,
            time: TimeWindow { min: 0, max: 10 },
            memo: Default::default(),
            operations: ops.into_iter().map(OpSpec::new).collect(),
        };
        build::envelope(build::build(&spec).expect("test spec builds"))
    }

    #[test]
    fn default_text_is_default_policy() {
        let parsed = parse(&default_text()).expect("default text parses");
        assert_eq!(parsed, default_for_new_keystore());
        let e = env(vec![OpBody::BumpSequence { to: 5 }]);
        assert!(parsed.check(&e, &Network::Testnet, 0).is_ok());
        let v = parsed.check(&e, &Network::Pubnet, 0).unwrap_err();
        assert_eq!(v.rule, "networks");
    }

    #[test]
    fn operation_types_are_review_names() {
        let a = acct(2);
        let usd: Asset = format!("USD:{}", acct(1)).parse().expect("asset");
        let bodies = vec![
            OpBody::CreateAccount {
                destination: a,
                starting_balance: Amount::from_stroops(1).expect("amount"),
            },
            OpBody::Payment {
                destination: a,
                asset: Asset::Native,
                amount: Amount::from_stroops(1).expect("amount"),
            },
            OpBody::ChangeTrust {
                asset: usd.clone(),
                limit: None,
            },
            OpBody::AllowTrust {
                trustor: a,
                code: "USD".parse().expect("code"),
                authorize: build::Authorize::Full,
            },
            OpBody::SetTrustLineFlags {
                trustor: a,
                asset: usd.clone(),
                set: 1,
                clear: 0,
            },
            OpBody::SetOptions(SetOptionsSpec::default()),
            OpBody::Clawback {
                from: a,
                asset: usd,
                amount: Amount::from_stroops(1).expect("amount"),
            },
            OpBody::ManageData {
                name: "x".into(),
                value: None,
            },
            OpBody::BumpSequence { to: 9 },
            OpBody::AccountMerge { destination: a },
        ];
        let tx = envelope::transaction(&env(bodies));
        let names: Vec<String> = tx
            .operations
            .iter()
            .map(|o| op_type_name(&o.body))
            .collect();
        assert_eq!(names, OPERATION_TYPES.map(String::from).to_vec());
    }

    #[test]
    fn default_path() {
        assert_eq!(
            default_path_for(Path::new("/keys/issuer.keystore")),
            PathBuf::from("/keys/issuer.keystore.policy.json")
        );
    }
}
