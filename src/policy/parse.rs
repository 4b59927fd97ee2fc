//! Reading a policy file: serde checks its shape, the library's parsers every value.
use super::{
    Policy, PolicyError, SignerChanges, AUTH_IMMUTABLE, DEFAULT_MAX_FEE, DEFAULT_MAX_VALIDITY,
    MEMO_KINDS, OPERATION_TYPES, PRECONDITIONS, SIGNER_KINDS, VERSION,
};
use crate::account::AccountId;
use crate::amount::Amount;
use crate::asset::Asset;
use crate::build;
use crate::network::Network;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::fmt;

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
    max_fee: Option<String>,
    max_validity: Option<String>,
    allow_signer_changes: Option<RawSignerChanges>,
    #[serde(default)]
    allow_threshold_changes: bool,
    #[serde(default)]
    allow_preconditions: Vec<String>,
    #[serde(default)]
    muxed_destinations: Vec<RawMuxed>,
    required_memos: Option<Pairs<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSignerChanges {
    kinds: Vec<String>,
    keys: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMuxed {
    account: String,
    id: crate::plan::NumOrText,
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
    let max_fee = match &raw.max_fee {
        None => DEFAULT_MAX_FEE,
        Some(t) => t
            .parse::<Amount>()
            .map_err(|source| PolicyError::Amount {
                field: "max_fee".into(),
                source,
            })?
            .stroops(),
    };
    let max_validity = match &raw.max_validity {
        None => DEFAULT_MAX_VALIDITY,
        Some(t) => build::parse_duration(t).map_err(|source| PolicyError::Duration {
            field: "max_validity".into(),
            source,
        })?,
    };
    if max_validity == 0 {
        return Err(PolicyError::ZeroValidity);
    }
    let signer_changes = match raw.allow_signer_changes {
        None => None,
        Some(c) => Some(parse_signer_changes(c)?),
    };
    let mut allow_preconditions = Vec::new();
    for name in &raw.allow_preconditions {
        let known = PRECONDITIONS
            .iter()
            .find(|p| **p == name.trim())
            .ok_or_else(|| {
                PolicyError::UnknownPrecondition(crate::text::escape_bytes(name.as_bytes()))
            })?;
        if !allow_preconditions.contains(known) {
            allow_preconditions.push(*known);
        }
    }
    let mut muxed_destinations = Vec::new();
    for (i, m) in raw.muxed_destinations.iter().enumerate() {
        let account = parse_account(format!("muxed_destinations[{i}].account"), &m.account)?;
        let text = m.id.text();
        let id: u64 = text.trim().parse().map_err(|_| PolicyError::MuxedId {
            field: format!("muxed_destinations[{i}].id"),
            value: crate::text::escape_bytes(text.as_bytes()),
        })?;
        if !muxed_destinations.contains(&(account, id)) {
            muxed_destinations.push((account, id));
        }
    }
    let mut required_memos: Vec<(AccountId, &'static str)> = Vec::new();
    for (key, kind) in raw.required_memos.map(|p| p.0).unwrap_or_default() {
        let field = format!(
            "required_memos.{}",
            crate::text::escape_bytes(key.as_bytes())
        );
        let account = parse_account(field.clone(), &key)?;
        let kind = MEMO_KINDS
            .iter()
            .find(|k| **k == kind.trim())
            .ok_or_else(|| PolicyError::MemoKind {
                field,
                value: crate::text::escape_bytes(kind.as_bytes()),
            })?;
        match required_memos.iter_mut().find(|(a, _)| *a == account) {
            Some(entry) => entry.1 = kind,
            None => required_memos.push((account, kind)),
        }
    }
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
        max_fee,
        max_validity,
        signer_changes,
        allow_threshold_changes: raw.allow_threshold_changes,
        allow_preconditions,
        muxed_destinations,
        required_memos,
    })
}

/// `allow_signer_changes`: the kinds, and the keys when listed (each a signer strkey).
fn parse_signer_changes(c: RawSignerChanges) -> Result<SignerChanges, PolicyError> {
    let mut kinds = Vec::new();
    for (i, k) in c.kinds.iter().enumerate() {
        let known = SIGNER_KINDS
            .iter()
            .find(|s| **s == k.trim())
            .ok_or_else(|| PolicyError::SignerKind {
                field: format!("allow_signer_changes.kinds[{i}]"),
                value: crate::text::escape_bytes(k.as_bytes()),
            })?;
        if !kinds.contains(known) {
            kinds.push(*known);
        }
    }
    let keys = match c.keys {
        None => None,
        Some(list) => {
            let mut out: Vec<String> = Vec::new();
            for (i, k) in list.iter().enumerate() {
                let field = format!("allow_signer_changes.keys[{i}]");
                if crate::account::looks_like_secret(k) {
                    return Err(PolicyError::Account {
                        field,
                        source: crate::account::AccountIdError::SecretKey("S…".into()),
                    });
                }
                let ok = matches!(
                    stellar_strkey::Strkey::from_string(k.trim()),
                    Ok(stellar_strkey::Strkey::PublicKeyEd25519(_)
                        | stellar_strkey::Strkey::PreAuthTx(_)
                        | stellar_strkey::Strkey::HashX(_)
                        | stellar_strkey::Strkey::SignedPayloadEd25519(_))
                );
                if !ok {
                    return Err(PolicyError::SignerKey {
                        field,
                        value: crate::text::escape_bytes(k.as_bytes()),
                    });
                }
                let key = k.trim().to_string();
                if !out.contains(&key) {
                    out.push(key);
                }
            }
            Some(out)
        }
    };
    Ok(SignerChanges { kinds, keys })
}

/// The policy a new keystore gets: every network but pubnet; the ten operation types; setting and
/// clearing auth_required, auth_revocable and auth_clawback_enabled; nothing irreversible, no
/// change to signers or thresholds, no preconditions beyond time bounds, no muxed destination;
/// at most 1 XLM of fees and 30 days of validity.
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
        max_fee: DEFAULT_MAX_FEE,
        max_validity: DEFAULT_MAX_VALIDITY,
        signer_changes: None,
        allow_threshold_changes: false,
        allow_preconditions: Vec::new(),
        muxed_destinations: Vec::new(),
        required_memos: Vec::new(),
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
  "allow_account_merge": false,
  "allow_threshold_changes": false,
  "allow_preconditions": [],
  "max_fee": "1",
  "max_validity": "30d"
}}
"#
    )
}
