//! Plan files: a transaction described as JSON (see `docs/plan-format.md`). Unknown fields are
//! errors. Parsing happens in two steps: serde checks the shape, then the library's own parsers
//! (amounts, assets, accounts, flags) check the values, so a plan and a command line are held to
//! exactly the same rules.
use crate::account::AccountId;
use crate::build::{
    self, BuildError, MemoSpec, OpBody, OpSpec, SetOptionsSpec, TimeWindow, TxSpec,
};
use crate::network::Network;
use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    #[error("the plan is not valid JSON of the plan format: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{field}: {source}")]
    Field { field: String, source: BuildError },
    #[error("operation {index} ({kind}): {source}")]
    Operation {
        index: usize,
        kind: &'static str,
        source: BuildError,
    },
    #[error("the plan gives no {0}, and none was given on the command line")]
    Missing(&'static str),
    #[error("network: {0}")]
    Network(#[from] crate::network::NetworkError),
    #[error("the memo must have exactly one of text, id, hash or return")]
    BadMemo,
}

/// A JSON value that may be a number or a string holding one (i64 values exceed what JSON
/// numbers carry safely, so both are accepted).
#[derive(Debug, Deserialize, Clone)]
#[serde(untagged)]
pub enum NumOrText {
    Num(u64),
    Text(String),
}

impl NumOrText {
    pub fn text(&self) -> String {
        match self {
            NumOrText::Num(n) => n.to_string(),
            NumOrText::Text(t) => t.clone(),
        }
    }
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawMemo {
    text: Option<String>,
    id: Option<NumOrText>,
    hash: Option<String>,
    #[serde(rename = "return")]
    ret: Option<String>,
}

/// A plan file as written, before its values are checked.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawPlan {
    pub network: Option<String>,
    pub source: Option<String>,
    pub sequence: Option<NumOrText>,
    pub fee: Option<u32>,
    pub min_time: Option<NumOrText>,
    pub max_time: Option<NumOrText>,
    pub memo: Option<RawMemo>,
    #[serde(default)]
    pub operations: Vec<RawOp>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum RawOp {
    CreateAccount {
        source: Option<String>,
        destination: String,
        starting_balance: String,
    },
    Payment {
        source: Option<String>,
        destination: String,
        asset: String,
        amount: String,
    },
    ChangeTrust {
        source: Option<String>,
        asset: String,
        limit: Option<String>,
    },
    AllowTrust {
        source: Option<String>,
        trustor: String,
        asset: String,
        authorize: String,
    },
    SetTrustLineFlags {
        source: Option<String>,
        trustor: String,
        asset: String,
        #[serde(default)]
        set_flags: Vec<String>,
        #[serde(default)]
        clear_flags: Vec<String>,
    },
    SetOptions(RawSetOptions),
    Clawback {
        source: Option<String>,
        from: String,
        asset: String,
        amount: String,
    },
    ManageData {
        source: Option<String>,
        name: String,
        value: Option<String>,
    },
    BumpSequence {
        source: Option<String>,
        to: NumOrText,
    },
    AccountMerge {
        source: Option<String>,
        destination: String,
    },
}

/// A `set_options` operation as written; a named struct so that `airgap-signer set-options` can
/// fill in only what its options give (`..Default::default()`).
#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct RawSetOptions {
    pub source: Option<String>,
    #[serde(default)]
    pub set_flags: Vec<String>,
    #[serde(default)]
    pub clear_flags: Vec<String>,
    pub home_domain: Option<String>,
    pub master_weight: Option<u8>,
    pub low_threshold: Option<u8>,
    pub med_threshold: Option<u8>,
    pub high_threshold: Option<u8>,
    pub inflation_dest: Option<String>,
    pub signer: Option<RawSigner>,
}

/// A signer to add, change or (weight 0) remove: `{"key": "G…", "weight": N}` in a plan, `G…:N`
/// on the command line ([`FromStr`](std::str::FromStr), the one reading of that form).
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawSigner {
    pub key: String,
    pub weight: u8,
}

impl std::str::FromStr for RawSigner {
    type Err = BuildError;
    fn from_str(s: &str) -> Result<RawSigner, BuildError> {
        let (key, weight) = build::parse_signer(s)?;
        Ok(RawSigner {
            key: key.to_string(),
            weight,
        })
    }
}

/// Values given on the command line, which win over the file's.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub network: Option<Network>,
    pub source: Option<AccountId>,
    pub sequence: Option<i64>,
    pub base_fee: Option<u32>,
    pub min_time: Option<u64>,
    pub max_time: Option<u64>,
    pub memo: Option<MemoSpec>,
}

pub fn parse(text: &str) -> Result<RawPlan, PlanError> {
    Ok(serde_json::from_str(text)?)
}

fn field<T>(name: &str, r: Result<T, impl Into<BuildError>>) -> Result<T, PlanError> {
    r.map_err(|e| PlanError::Field {
        field: name.to_string(),
        source: e.into(),
    })
}

/// An empty list is the same as an absent one: the field stays out of the operation.
fn flags(
    list: &[String],
    parse: fn(&[String]) -> Result<u32, BuildError>,
) -> Result<Option<u32>, BuildError> {
    if list.is_empty() {
        return Ok(None);
    }
    parse(list).map(Some)
}

impl RawOp {
    fn kind(&self) -> &'static str {
        match self {
            RawOp::CreateAccount { .. } => "create_account",
            RawOp::Payment { .. } => "payment",
            RawOp::ChangeTrust { .. } => "change_trust",
            RawOp::AllowTrust { .. } => "allow_trust",
            RawOp::SetTrustLineFlags { .. } => "set_trust_line_flags",
            RawOp::SetOptions { .. } => "set_options",
            RawOp::Clawback { .. } => "clawback",
            RawOp::ManageData { .. } => "manage_data",
            RawOp::BumpSequence { .. } => "bump_sequence",
            RawOp::AccountMerge { .. } => "account_merge",
        }
    }

    fn source(&self) -> &Option<String> {
        match self {
            RawOp::CreateAccount { source, .. }
            | RawOp::Payment { source, .. }
            | RawOp::ChangeTrust { source, .. }
            | RawOp::AllowTrust { source, .. }
            | RawOp::SetTrustLineFlags { source, .. }
            | RawOp::SetOptions(RawSetOptions { source, .. })
            | RawOp::Clawback { source, .. }
            | RawOp::ManageData { source, .. }
            | RawOp::BumpSequence { source, .. }
            | RawOp::AccountMerge { source, .. } => source,
        }
    }

    /// Check the values and turn them into an operation: the one reading of an operation's
    /// values, for plan files and `airgap-signer`'s operation commands alike.
    pub fn to_spec(&self) -> Result<OpSpec, BuildError> {
        let acct = |s: &str| -> Result<AccountId, BuildError> { Ok(s.parse()?) };
        let body = match self {
            RawOp::CreateAccount {
                destination,
                starting_balance,
                ..
            } => OpBody::CreateAccount {
                destination: acct(destination)?,
                starting_balance: starting_balance.parse()?,
            },
            RawOp::Payment {
                destination,
                asset,
                amount,
                ..
            } => OpBody::Payment {
                destination: acct(destination)?,
                asset: asset.parse()?,
                amount: amount.parse::<crate::amount::Amount>()?.positive()?,
            },
            RawOp::ChangeTrust { asset, limit, .. } => OpBody::ChangeTrust {
                asset: asset.parse::<crate::asset::Asset>()?.require_credit()?,
                limit: limit.as_deref().map(str::parse).transpose()?,
            },
            RawOp::AllowTrust {
                trustor,
                asset,
                authorize,
                ..
            } => OpBody::AllowTrust {
                trustor: acct(trustor)?,
                code: asset.parse()?,
                authorize: authorize.parse()?,
            },
            RawOp::SetTrustLineFlags {
                trustor,
                asset,
                set_flags,
                clear_flags,
                ..
            } => OpBody::SetTrustLineFlags {
                trustor: acct(trustor)?,
                asset: asset.parse::<crate::asset::Asset>()?.require_credit()?,
                set: flags(set_flags, build::trustline_flags)?.unwrap_or(0),
                clear: flags(clear_flags, build::trustline_flags)?.unwrap_or(0),
            },
            RawOp::SetOptions(o) => OpBody::SetOptions(SetOptionsSpec {
                set_flags: flags(&o.set_flags, build::account_flags)?,
                clear_flags: flags(&o.clear_flags, build::account_flags)?,
                home_domain: o.home_domain.clone(),
                master_weight: o.master_weight,
                low_threshold: o.low_threshold,
                med_threshold: o.med_threshold,
                high_threshold: o.high_threshold,
                signer: o
                    .signer
                    .as_ref()
                    .map(|s| Ok::<_, BuildError>((acct(&s.key)?, s.weight)))
                    .transpose()?,
                inflation_dest: o.inflation_dest.as_deref().map(acct).transpose()?,
            }),
            RawOp::Clawback {
                from,
                asset,
                amount,
                ..
            } => OpBody::Clawback {
                from: acct(from)?,
                asset: asset.parse::<crate::asset::Asset>()?.require_credit()?,
                amount: amount.parse::<crate::amount::Amount>()?.positive()?,
            },
            RawOp::ManageData { name, value, .. } => OpBody::ManageData {
                name: name.clone(),
                value: value.as_ref().map(|v| v.as_bytes().to_vec()),
            },
            RawOp::BumpSequence { to, .. } => OpBody::BumpSequence {
                to: build::parse_sequence(&to.text())?,
            },
            RawOp::AccountMerge { destination, .. } => OpBody::AccountMerge {
                destination: acct(destination)?,
            },
        };
        Ok(OpSpec {
            source: self.source().as_deref().map(acct).transpose()?,
            body,
        })
    }
}

impl RawPlan {
    /// Resolve the plan into a transaction spec; `now` (unix seconds) sets the default upper time
    /// bound of 24 hours from now when neither the plan nor the command line gives one.
    pub fn resolve(&self, o: &Overrides, now: u64) -> Result<TxSpec, PlanError> {
        let network = match (&o.network, &self.network) {
            (Some(n), _) => n.clone(),
            (None, Some(n)) => n.parse()?,
            (None, None) => return Err(PlanError::Missing("network")),
        };
        let source = match (o.source, &self.source) {
            (Some(s), _) => s,
            (None, Some(s)) => field("source", s.parse::<AccountId>())?,
            (None, None) => return Err(PlanError::Missing("source")),
        };
        let sequence = match (o.sequence, &self.sequence) {
            (Some(s), _) => s,
            (None, Some(s)) => field("sequence", build::parse_sequence(&s.text()))?,
            (None, None) => return Err(PlanError::Missing("sequence")),
        };
        let time_of = |name, v: &Option<NumOrText>| {
            v.as_ref()
                .map(|t| field(name, build::parse_time(&t.text())))
                .transpose()
        };
        let min = match o.min_time {
            Some(t) => t,
            None => time_of("min_time", &self.min_time)?.unwrap_or(0),
        };
        let max = match o.max_time {
            Some(t) => t,
            None => time_of("max_time", &self.max_time)?.unwrap_or(now + 86_400),
        };
        let memo = match (&o.memo, &self.memo) {
            (Some(m), _) => m.clone(),
            (None, None) => MemoSpec::None,
            (None, Some(m)) => match (&m.text, &m.id, &m.hash, &m.ret) {
                (Some(t), None, None, None) => field("memo", MemoSpec::text(t))?,
                (None, Some(i), None, None) => field("memo", MemoSpec::id(&i.text()))?,
                (None, None, Some(h), None) => field("memo", MemoSpec::hash(h))?,
                (None, None, None, Some(r)) => field("memo", MemoSpec::ret(r))?,
                _ => return Err(PlanError::BadMemo),
            },
        };
        let operations = self
            .operations
            .iter()
            .enumerate()
            .map(|(i, op)| {
                op.to_spec().map_err(|source| PlanError::Operation {
                    index: i + 1,
                    kind: op.kind(),
                    source,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TxSpec {
            network,
            source,
            sequence,
            base_fee: o.base_fee.or(self.fee).unwrap_or(build::DEFAULT_BASE_FEE),
            time: TimeWindow { min, max },
            memo,
            operations,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_refused() {
        let err = parse(r#"{"network":"testnet","operations":[],"colour":"red"}"#).unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
        let err = parse(r#"{"operations":[{"type":"payment","destination":"G","asset":"native","amount":"1","memo":"x"}]}"#)
            .unwrap_err();
        assert!(err.to_string().contains("memo"), "{err}");
        let err = parse(r#"{"operations":[{"type":"paymnet"}]}"#).unwrap_err();
        assert!(err.to_string().contains("paymnet"), "{err}");
    }
}
