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
//! - permissions (`may_set_flags`, `may_clear_flags`, `allow_…`): absent means not permitted.
//!
//! `networks` is required.
use crate::account::{AccountId, AccountIdError};
use crate::amount::{Amount, AmountError};
use crate::asset::{Asset, AssetError};
use crate::build::{self, flag_names, BuildError, ACCOUNT_FLAGS};
use crate::envelope;
use crate::network::{Network, NetworkError};
use crate::review::op_type_name;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use stellar_xdr::{OperationBody, TransactionEnvelope};

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
}

/// A JSON object read as its key/value pairs in order, duplicates kept (so they can be refused).
#[derive(Debug)]
struct Pairs<V>(Vec<(String, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Pairs<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct PairsVisitor<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for PairsVisitor<V> {
            type Value = Pairs<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object whose keys are assets (native or CODE:ISSUER)")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, V>()? {
                    out.push((k, v));
                }
                Ok(Pairs(out))
            }
        }
        d.deserialize_map(PairsVisitor(std::marker::PhantomData))
    }
}

/// A policy file as written, before its values are checked.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    version: u32,
    comment: Option<String>,
    networks: Vec<String>,
    source_accounts: Option<Vec<String>>,
    operations: Option<Vec<String>>,
    destinations: Option<Pairs<Vec<String>>>,
    max_amount_per_tx: Option<Pairs<String>>,
    max_amount_per_batch: Option<Pairs<String>>,
    #[serde(default)]
    may_set_flags: Vec<String>,
    #[serde(default)]
    may_clear_flags: Vec<String>,
    #[serde(default)]
    allow_auth_immutable: bool,
    #[serde(default)]
    allow_master_weight_change: bool,
    #[serde(default)]
    allow_signer_removal: bool,
    #[serde(default)]
    allow_account_merge: bool,
    #[serde(default)]
    require_offline: bool,
}

fn parse_account(field: String, text: &str) -> Result<AccountId, PolicyError> {
    text.parse()
        .map_err(|source| PolicyError::Account { field, source })
}

fn parse_accounts(field: &str, texts: &[String]) -> Result<Vec<AccountId>, PolicyError> {
    let mut out: Vec<AccountId> = Vec::new();
    for (i, t) in texts.iter().enumerate() {
        let a = parse_account(format!("{field}[{i}]"), t)?;
        if !out.contains(&a) {
            out.push(a);
        }
    }
    Ok(out)
}

/// Asset keys of a map, each parsed once; the same asset twice is an error.
fn parse_asset_map<V, T>(
    field: &str,
    pairs: Pairs<V>,
    mut value: impl FnMut(String, V) -> Result<T, PolicyError>,
) -> Result<Vec<(Asset, T)>, PolicyError> {
    let mut out: Vec<(Asset, T)> = Vec::new();
    for (key, v) in pairs.0 {
        let asset: Asset = key.parse().map_err(|source| PolicyError::Asset {
            field: format!("{field}.{key}"),
            source,
        })?;
        if out.iter().any(|(a, _)| *a == asset) {
            return Err(PolicyError::DuplicateAsset {
                field: field.to_string(),
                key: asset.to_string(),
            });
        }
        let t = value(format!("{field}.{asset}"), v)?;
        out.push((asset, t));
    }
    Ok(out)
}

fn parse_limits(field: &str, pairs: Pairs<String>) -> Result<Vec<(Asset, Amount)>, PolicyError> {
    parse_asset_map(field, pairs, |f, text| {
        text.parse()
            .map_err(|source| PolicyError::Amount { field: f, source })
    })
}

fn parse_flags(field: &str, names: &[String]) -> Result<u32, PolicyError> {
    build::account_flags(names).map_err(|source| PolicyError::Flag {
        field: field.to_string(),
        source,
    })
}

/// Read a policy file. Every value is checked; nothing is guessed.
pub fn parse(text: &str) -> Result<Policy, PolicyError> {
    let raw: RawPolicy = serde_json::from_str(text)?;
    if raw.version != VERSION {
        return Err(PolicyError::Version(raw.version));
    }
    let mut networks: Vec<Network> = Vec::new();
    for (i, t) in raw.networks.iter().enumerate() {
        let n: Network = t.parse().map_err(|source| PolicyError::Network {
            field: format!("networks[{i}]"),
            source,
        })?;
        if !networks.contains(&n) {
            networks.push(n);
        }
    }
    if networks.is_empty() {
        return Err(PolicyError::NoNetworks);
    }
    let source_accounts = match &raw.source_accounts {
        None => None,
        Some(list) => Some(parse_accounts("source_accounts", list)?),
    };
    let operations = match &raw.operations {
        None => None,
        Some(list) => {
            let mut out: Vec<&'static str> = Vec::new();
            for name in list {
                let known = OPERATION_TYPES
                    .iter()
                    .find(|t| **t == name.trim())
                    .ok_or_else(|| PolicyError::UnknownOperation(name.clone()))?;
                if !out.contains(known) {
                    out.push(known);
                }
            }
            Some(out)
        }
    };
    let destinations = match raw.destinations {
        None => None,
        Some(pairs) => Some(parse_asset_map("destinations", pairs, |f, list| {
            parse_accounts(&f, &list)
        })?),
    };
    let max_amount_per_tx = match raw.max_amount_per_tx {
        None => None,
        Some(p) => Some(parse_limits("max_amount_per_tx", p)?),
    };
    let max_amount_per_batch = match raw.max_amount_per_batch {
        None => None,
        Some(p) => Some(parse_limits("max_amount_per_batch", p)?),
    };
    let may_set_flags = parse_flags("may_set_flags", &raw.may_set_flags)?;
    if may_set_flags & AUTH_IMMUTABLE != 0 {
        return Err(PolicyError::ImmutableInSetFlags);
    }
    let may_clear_flags = parse_flags("may_clear_flags", &raw.may_clear_flags)?;
    Ok(Policy {
        comment: raw.comment,
        networks,
        source_accounts,
        operations,
        destinations,
        max_amount_per_tx,
        max_amount_per_batch,
        may_set_flags,
        may_clear_flags,
        allow_auth_immutable: raw.allow_auth_immutable,
        allow_master_weight_change: raw.allow_master_weight_change,
        allow_signer_removal: raw.allow_signer_removal,
        allow_account_merge: raw.allow_account_merge,
        require_offline: raw.require_offline,
    })
}

/// The policy a new keystore gets: every network but pubnet; the ten operation types; setting and
/// clearing auth_required, auth_revocable and auth_clawback_enabled; nothing irreversible.
/// It is the same policy as [`default_text`].
pub fn default_for_new_keystore() -> Policy {
    Policy {
        comment: Some(DEFAULT_COMMENT.to_string()),
        networks: vec![Network::Testnet, Network::Futurenet, Network::Standalone],
        source_accounts: None,
        operations: Some(OPERATION_TYPES.to_vec()),
        destinations: None,
        max_amount_per_tx: None,
        max_amount_per_batch: None,
        may_set_flags: 1 | 2 | 8,
        may_clear_flags: 1 | 2 | 8,
        allow_auth_immutable: false,
        allow_master_weight_change: false,
        allow_signer_removal: false,
        allow_account_merge: false,
        require_offline: false,
    }
}

const DEFAULT_COMMENT: &str = "Default policy of a new keystore: test networks only. To sign for pubnet, add pubnet to networks and set source_accounts, destinations and limits for your issuer.";

/// The JSON text of [`default_for_new_keystore`], to write next to a new keystore.
pub fn default_text() -> String {
    format!(
        r#"{{
  "version": 1,
  "comment": "{DEFAULT_COMMENT}",
  "networks": ["testnet", "futurenet", "standalone"],
  "operations": [
    "create_account", "payment", "change_trust", "allow_trust", "set_trust_line_flags",
    "set_options", "clawback", "manage_data", "bump_sequence", "account_merge"
  ],
  "may_set_flags": ["auth_required", "auth_revocable", "auth_clawback_enabled"],
  "may_clear_flags": ["auth_required", "auth_revocable", "auth_clawback_enabled"],
  "allow_auth_immutable": false,
  "allow_master_weight_change": false,
  "allow_signer_removal": false,
  "allow_account_merge": false
}}
"#
    )
}

/// An asset as it appears in an envelope, named for people: the policy's form (`native`,
/// `CODE:G…`) when the library can write it, with a note for a short code in the 12-byte form
/// (a different asset on Stellar than the 4-byte one).
fn asset_name(a: &stellar_xdr::Asset) -> String {
    let view = Asset::from_xdr(a);
    match (a, &view.issuer) {
        (stellar_xdr::Asset::Native, _) | (_, None) => "native".into(),
        (stellar_xdr::Asset::CreditAlphanum12(_), Some(issuer)) if view.code.len() <= 4 => {
            format!("{}:{issuer} (in the 12-byte code form)", view.code)
        }
        (_, Some(issuer)) => format!("{}:{issuer}", view.code),
    }
}

/// Stroops as an amount for people; sums may exceed what one Stellar amount holds.
fn amount_words(stroops: i128) -> String {
    match i64::try_from(stroops).ok().map(Amount::from_stroops) {
        Some(Ok(a)) => a.to_string(),
        _ if stroops < 0 => format!("{stroops} stroops"),
        _ => format!("more than {}", crate::amount::MAX),
    }
}

/// A network for people: its name, or for a custom network its passphrase (escaped).
fn network_words(n: &Network) -> String {
    match n {
        Network::Custom(p) => format!(
            "the custom network \"{}\"",
            crate::review::escape_bytes(p.as_bytes())
        ),
        other => other.name().to_string(),
    }
}

fn list<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn flag_list(bits: u32) -> String {
    if bits == 0 {
        "none".into()
    } else {
        flag_names(bits, &ACCOUNT_FLAGS).join(", ")
    }
}

/// What one transaction moves: per asset, the total and the operation at which each total grew.
type Moves = Vec<(stellar_xdr::Asset, i128, Vec<usize>)>;

fn add_move(moves: &mut Moves, asset: &stellar_xdr::Asset, stroops: i64, op: usize) {
    // A negative amount is malformed and moves nothing; it must not lower a total.
    let s = i128::from(stroops.max(0));
    match moves.iter_mut().find(|(a, _, _)| a == asset) {
        Some((_, total, ops)) => {
            *total = total.saturating_add(s);
            ops.push(op);
        }
        None => moves.push((asset.clone(), s, vec![op])),
    }
}

impl Policy {
    /// Check one transaction against every rule, the per-batch limits included (one transaction is
    /// a batch of one). The first rule broken is returned.
    pub fn check(&self, env: &TransactionEnvelope, network: &Network) -> Result<(), Violation> {
        let moves = self.check_tx(env, network)?;
        self.check_batch_totals(&[moves])
    }

    /// Check a batch: every transaction against the per-transaction rules, then the batch's totals
    /// against `max_amount_per_batch`. Any violation refuses the whole batch.
    pub fn check_batch(&self, envs: &[(TransactionEnvelope, Network)]) -> Result<(), Violation> {
        let mut all = Vec::with_capacity(envs.len());
        for (i, (env, network)) in envs.iter().enumerate() {
            let moves = self.check_tx(env, network).map_err(|mut v| {
                v.transaction = Some(i + 1);
                v
            })?;
            all.push(moves);
        }
        self.check_batch_totals(&all)
    }

    fn check_tx(&self, env: &TransactionEnvelope, network: &Network) -> Result<Moves, Violation> {
        if !self
            .networks
            .iter()
            .any(|n| n.passphrase() == network.passphrase())
        {
            return Err(violation(
                "networks",
                format!(
                    "this transaction is for {} (\"{}\"), and the policy allows only {}.",
                    network.name(),
                    crate::review::escape_bytes(network.passphrase().as_bytes()),
                    list(&self.networks.iter().map(network_words).collect::<Vec<_>>())
                ),
                None,
            ));
        }
        let tx = envelope::transaction(env);
        let tx_source = AccountId::from_muxed(&tx.source_account);
        if let Some(allowed) = &self.source_accounts {
            let refuse = |who: &str, acct: &AccountId, op: Option<usize>| {
                violation(
                    "source_accounts",
                    format!(
                        "{who} {acct}, which is not among the policy's source accounts ({}).",
                        list(allowed)
                    ),
                    op,
                )
            };
            if !allowed.contains(&tx_source) {
                return Err(refuse(
                    "the transaction's source account is",
                    &tx_source,
                    None,
                ));
            }
            if let TransactionEnvelope::TxFeeBump(fb) = env {
                let fee_source = AccountId::from_muxed(&fb.tx.fee_source);
                if !allowed.contains(&fee_source) {
                    return Err(refuse("the fee bump's fee is paid by", &fee_source, None));
                }
            }
            for (i, op) in tx.operations.iter().enumerate() {
                if let Some(s) = &op.source_account {
                    let acct = AccountId::from_muxed(s);
                    if !allowed.contains(&acct) {
                        return Err(refuse(
                            &format!("operation {} acts for", i + 1),
                            &acct,
                            Some(i + 1),
                        ));
                    }
                }
            }
        }
        let mut moves: Moves = Vec::new();
        for (i, op) in tx.operations.iter().enumerate() {
            let index = i + 1;
            let acting = op
                .source_account
                .as_ref()
                .map_or(tx_source, AccountId::from_muxed);
            self.check_op(&op.body, index, &acting, &mut moves)?;
        }
        for (asset, total, ops) in &moves {
            self.check_limit(
                "max_amount_per_tx",
                self.max_amount_per_tx.as_deref(),
                asset,
                *total,
                "this transaction",
                "per transaction",
                ops.last().copied(),
            )?;
        }
        Ok(moves)
    }

    fn check_op(
        &self,
        body: &OperationBody,
        index: usize,
        acting: &AccountId,
        moves: &mut Moves,
    ) -> Result<(), Violation> {
        let kind = op_type_name(body);
        let Some(known) = OPERATION_TYPES.iter().find(|t| **t == kind) else {
            return Err(violation(
                "operations",
                format!("operation {index} is a {kind} operation, which no policy can allow because the policy cannot tell what it moves or to whom."),
                Some(index),
            ));
        };
        if let Some(allowed) = &self.operations {
            if !allowed.contains(known) {
                return Err(violation(
                    "operations",
                    format!(
                        "operation {index} is a {kind} operation, and the policy allows only {}.",
                        if allowed.is_empty() {
                            "no operation at all".to_string()
                        } else {
                            list(allowed)
                        }
                    ),
                    Some(index),
                ));
            }
        }
        match body {
            OperationBody::CreateAccount(o) => {
                let asset = stellar_xdr::Asset::Native;
                let dest = AccountId::from_xdr(&o.destination);
                self.check_destination(&asset, &dest, index, "creates account")?;
                add_move(moves, &asset, o.starting_balance, index);
            }
            OperationBody::Payment(o) => {
                let dest = AccountId::from_muxed(&o.destination);
                self.check_destination(&o.asset, &dest, index, "pays")?;
                add_move(moves, &o.asset, o.amount, index);
            }
            OperationBody::Clawback(o) => add_move(moves, &o.asset, o.amount, index),
            OperationBody::AccountMerge(d) => {
                if !self.allow_account_merge {
                    return Err(violation(
                        "allow_account_merge",
                        format!("operation {index} merges account {acting} into {} and deletes it, and the policy does not allow account_merge.", AccountId::from_muxed(d)),
                        Some(index),
                    ));
                }
                let dest = AccountId::from_muxed(d);
                self.check_destination(&stellar_xdr::Asset::Native, &dest, index, "merges into")?;
            }
            OperationBody::SetOptions(o) => self.check_set_options(o, index, acting)?,
            _ => {}
        }
        Ok(())
    }

    fn check_set_options(
        &self,
        o: &stellar_xdr::SetOptionsOp,
        index: usize,
        acting: &AccountId,
    ) -> Result<(), Violation> {
        if let Some(bits) = o.set_flags {
            if bits & AUTH_IMMUTABLE != 0 && !self.allow_auth_immutable {
                return Err(violation(
                    "allow_auth_immutable",
                    format!("operation {index} sets auth_immutable on {acting}, which can never be undone, and the policy does not allow it."),
                    Some(index),
                ));
            }
            let outside = bits & !(self.may_set_flags | AUTH_IMMUTABLE);
            if outside != 0 {
                return Err(violation(
                    "may_set_flags",
                    format!(
                        "operation {index} sets {} on {acting}, and the policy may set only {}.",
                        flag_list(outside),
                        flag_list(self.may_set_flags)
                    ),
                    Some(index),
                ));
            }
        }
        if let Some(bits) = o.clear_flags {
            let outside = bits & !self.may_clear_flags;
            if outside != 0 {
                return Err(violation(
                    "may_clear_flags",
                    format!(
                        "operation {index} clears {} on {acting}, and the policy may clear only {}.",
                        flag_list(outside),
                        flag_list(self.may_clear_flags)
                    ),
                    Some(index),
                ));
            }
        }
        if let Some(w) = o.master_weight {
            if !self.allow_master_weight_change {
                return Err(violation(
                    "allow_master_weight_change",
                    format!("operation {index} sets the master key weight of {acting} to {w}, and the policy does not allow master weight changes."),
                    Some(index),
                ));
            }
        }
        if let Some(s) = &o.signer {
            if s.weight == 0 && !self.allow_signer_removal {
                return Err(violation(
                    "allow_signer_removal",
                    format!("operation {index} removes a signer from {acting}, and the policy does not allow signer removal."),
                    Some(index),
                ));
            }
        }
        Ok(())
    }

    fn check_destination(
        &self,
        asset: &stellar_xdr::Asset,
        dest: &AccountId,
        index: usize,
        verb: &str,
    ) -> Result<(), Violation> {
        let Some(map) = &self.destinations else {
            return Ok(());
        };
        let name = asset_name(asset);
        match map.iter().find(|(a, _)| a.to_xdr() == *asset) {
            None => Err(violation(
                "destinations",
                format!("operation {index} {verb} {dest} with {name}, and the policy lists no account that may receive {name}."),
                Some(index),
            )),
            Some((a, allowed)) if !allowed.contains(dest) => Err(violation(
                format!("destinations.{a}"),
                format!(
                    "operation {index} {verb} {dest} with {name}, and the policy allows only {} to receive it.",
                    if allowed.is_empty() { "no account".to_string() } else { list(allowed) }
                ),
                Some(index),
            )),
            Some(_) => Ok(()),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn check_limit(
        &self,
        field: &str,
        limits: Option<&[(Asset, Amount)]>,
        asset: &stellar_xdr::Asset,
        total: i128,
        what: &str,
        per: &str,
        operation: Option<usize>,
    ) -> Result<(), Violation> {
        let Some(limits) = limits else {
            return Ok(());
        };
        let name = asset_name(asset);
        match limits.iter().find(|(a, _)| a.to_xdr() == *asset) {
            None => Err(violation(
                field,
                format!("{what} moves {} {name}, and the policy sets no {per} limit for {name}, so none of it may be moved.", amount_words(total)),
                operation,
            )),
            Some((a, max)) if total > i128::from(max.stroops()) => Err(violation(
                format!("{field}.{a}"),
                format!("{what} moves {} {name} in total, more than the {max} the policy allows {per}.", amount_words(total)),
                operation,
            )),
            Some(_) => Ok(()),
        }
    }

    fn check_batch_totals(&self, per_tx: &[Moves]) -> Result<(), Violation> {
        let Some(limits) = self.max_amount_per_batch.as_deref() else {
            return Ok(());
        };
        // Per asset: the running total, and the transaction that first brought it over its limit.
        let mut totals: BTreeMap<stellar_xdr::Asset, (i128, usize)> = BTreeMap::new();
        for (i, moves) in per_tx.iter().enumerate() {
            for (asset, total, _) in moves {
                let entry = totals.entry(asset.clone()).or_insert((0, i + 1));
                let limit = limits
                    .iter()
                    .find(|(a, _)| a.to_xdr() == *asset)
                    .map_or(-1, |(_, m)| i128::from(m.stroops()));
                let was_within = entry.0 <= limit;
                entry.0 = entry.0.saturating_add(*total);
                if was_within && entry.0 > limit {
                    entry.1 = i + 1;
                }
            }
        }
        let single = per_tx.len() == 1;
        for (asset, (total, crossing)) in &totals {
            let what = if single {
                "this transaction".to_string()
            } else {
                format!("the batch of {} transactions", per_tx.len())
            };
            self.check_limit(
                "max_amount_per_batch",
                Some(limits),
                asset,
                *total,
                &what,
                "per batch",
                None,
            )
            .map_err(|mut v| {
                if !single {
                    v.transaction = Some(*crossing);
                    v.message = format!(
                        "{}; transaction {crossing} brings it over, so no transaction of the batch is signed.",
                        v.message.trim_end_matches('.')
                    );
                }
                v
            })?;
        }
        Ok(())
    }

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
        if self.require_offline {
            let _ = writeln!(
                s,
                "  the signer must be offline: no network interface but loopback up"
            );
        }
        s
    }

    /// Whether the policy requires the signing machine to be offline (`require_offline`): the
    /// signer checks its network interfaces; the policy only says so.
    pub fn require_offline(&self) -> bool {
        self.require_offline
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::{OpBody, OpSpec, SetOptionsSpec, TimeWindow, TxSpec};

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
        assert!(parsed.check(&e, &Network::Testnet).is_ok());
        let v = parsed.check(&e, &Network::Pubnet).unwrap_err();
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

    #[test]
    fn negative_amounts_do_not_lower_totals() {
        let mut m = Moves::new();
        add_move(&mut m, &stellar_xdr::Asset::Native, 10, 1);
        add_move(&mut m, &stellar_xdr::Asset::Native, -5, 2);
        assert_eq!(m[0].1, 10);
    }
}
