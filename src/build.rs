//! Building transactions from what an operator means: a [`TxSpec`] of [`OpSpec`]s becomes the
//! exact `Transaction` Stellar's SDKs would build from the same inputs.
use crate::account::AccountId;
use crate::amount::Amount;
use crate::asset::{Asset, AssetCode};
use crate::network::Network;
use stellar_xdr::{
    AllowTrustOp, BumpSequenceOp, ChangeTrustOp, ClawbackOp, CreateAccountOp, DataValue, Hash,
    ManageDataOp, Memo, Operation, OperationBody, PaymentOp, Preconditions, SequenceNumber,
    SetOptionsOp, SetTrustLineFlagsOp, Signer, SignerKey, String32, String64, StringM, TimeBounds,
    TimePoint, Transaction, TransactionExt, Uint256,
};

/// The most operations one transaction may hold.
pub const MAX_OPERATIONS: usize = 100;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    #[error("a transaction needs at least one operation")]
    NoOperations,
    #[error("a transaction holds at most {MAX_OPERATIONS} operations; this one has {0}")]
    TooManyOperations(usize),
    #[error("the fee of {base_fee} stroops × {ops} operations is more than a transaction can pay (4294967295 stroops)")]
    FeeOverflow { base_fee: u32, ops: usize },
    #[error(
        "the sequence number must be positive; read next_sequence off `airgap-relay account G…`"
    )]
    BadSequence,
    #[error("the time bounds are reversed: min time {min} is after max time {max}")]
    ReversedTimeBounds { min: u64, max: u64 },
    #[error("\"{0}\" is not a known account flag; use auth-required, auth-revocable, auth-immutable or auth-clawback-enabled")]
    UnknownAccountFlag(String),
    #[error("\"{0}\" is not a known trustline flag; use authorized, authorized-to-maintain-liabilities or clawback-enabled")]
    UnknownTrustLineFlag(String),
    #[error("\"{0}\" is not an authorization level; use full, maintain-liabilities or none")]
    UnknownAuthorize(String),
    #[error("the memo text is {0} bytes; a text memo holds at most 28")]
    MemoTooLong(usize),
    #[error("\"{0}\" is not a memo ID; it must be a whole number from 0 to 18446744073709551615")]
    BadMemoId(String),
    #[error("\"{0}\" is not a 32-byte hash; write 64 hexadecimal digits")]
    BadHash(String),
    #[error("the home domain is {0} bytes; it may be at most 32")]
    HomeDomainTooLong(usize),
    #[error("the data name must be 1 to 64 bytes; this one is {0}")]
    BadDataName(usize),
    #[error("the data value is {0} bytes; it may be at most 64")]
    DataValueTooLong(usize),
    #[error("the same flag \"{0}\" is both set and cleared")]
    FlagSetAndCleared(String),
    #[error(
        "\"{0}\" is not a time; write unix seconds (1700000000) or RFC 3339 (2026-11-21T12:00:00Z)"
    )]
    BadTime(String),
    #[error("\"{0}\" is not a duration; write for example 30m, 24h or 7d")]
    BadDuration(String),
    #[error("\"{0}\" is not a signer; write G…:WEIGHT with a weight from 0 to 255")]
    BadSigner(String),
    #[error("{0} is not a sequence number; it must be a whole number greater than 0")]
    BadSequenceText(String),
    #[error(transparent)]
    Amount(#[from] crate::amount::AmountError),
    #[error(transparent)]
    Asset(#[from] crate::asset::AssetError),
    #[error(transparent)]
    Account(#[from] crate::account::AccountIdError),
}

/// Account flags as `set_options` sets them.
pub const ACCOUNT_FLAGS: [(&str, u32); 4] = [
    ("auth_required", 1),
    ("auth_revocable", 2),
    ("auth_immutable", 4),
    ("auth_clawback_enabled", 8),
];
/// Trustline flags as `set_trust_line_flags` sets them.
pub const TRUSTLINE_FLAGS: [(&str, u32); 3] = [
    ("authorized", 1),
    ("authorized_to_maintain_liabilities", 2),
    ("clawback_enabled", 4),
];

fn flag_bits<S: AsRef<str>>(
    names: &[S],
    table: &[(&str, u32)],
    unknown: fn(String) -> BuildError,
) -> Result<u32, BuildError> {
    let mut bits = 0;
    for name in names {
        let n = name.as_ref().trim();
        if n.is_empty() {
            continue;
        }
        let key = n.to_ascii_lowercase().replace('-', "_");
        let bit = table
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, b)| *b)
            .ok_or_else(|| unknown(n.to_string()))?;
        bits |= bit;
    }
    Ok(bits)
}

/// `auth-required,auth_revocable` → bits. Kebab and snake case both work.
pub fn account_flags<S: AsRef<str>>(names: &[S]) -> Result<u32, BuildError> {
    flag_bits(names, &ACCOUNT_FLAGS, BuildError::UnknownAccountFlag)
}

pub fn trustline_flags<S: AsRef<str>>(names: &[S]) -> Result<u32, BuildError> {
    flag_bits(names, &TRUSTLINE_FLAGS, BuildError::UnknownTrustLineFlag)
}

/// Names of the bits set in `bits`, for display.
pub fn flag_names(bits: u32, table: &[(&'static str, u32)]) -> Vec<String> {
    let mut names: Vec<String> = table
        .iter()
        .filter(|(_, b)| bits & b != 0)
        .map(|(n, _)| n.to_string())
        .collect();
    let unknown = bits & !table.iter().fold(0, |acc, (_, b)| acc | b);
    if unknown != 0 {
        names.push(format!("unknown bits {unknown:#x}"));
    }
    names
}

/// `allow_trust`'s authorization level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Authorize {
    Full,
    MaintainLiabilities,
    None,
}

impl std::str::FromStr for Authorize {
    type Err = BuildError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "full" | "authorized" => Ok(Authorize::Full),
            "maintain_liabilities" | "authorized_to_maintain_liabilities" => {
                Ok(Authorize::MaintainLiabilities)
            }
            "none" | "unauthorized" => Ok(Authorize::None),
            _ => Err(BuildError::UnknownAuthorize(s.to_string())),
        }
    }
}

impl Authorize {
    fn bits(self) -> u32 {
        match self {
            Authorize::Full => 1,
            Authorize::MaintainLiabilities => 2,
            Authorize::None => 0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum MemoSpec {
    #[default]
    None,
    Text(String),
    Id(u64),
    Hash([u8; 32]),
    Return([u8; 32]),
}

impl MemoSpec {
    pub fn text(s: &str) -> Result<MemoSpec, BuildError> {
        if s.len() > 28 {
            return Err(BuildError::MemoTooLong(s.len()));
        }
        Ok(MemoSpec::Text(s.to_string()))
    }
    pub fn id(s: &str) -> Result<MemoSpec, BuildError> {
        s.trim()
            .parse()
            .map(MemoSpec::Id)
            .map_err(|_| BuildError::BadMemoId(s.to_string()))
    }
    pub fn hash(s: &str) -> Result<MemoSpec, BuildError> {
        parse_hash(s).map(MemoSpec::Hash)
    }
    pub fn ret(s: &str) -> Result<MemoSpec, BuildError> {
        parse_hash(s).map(MemoSpec::Return)
    }

    fn to_xdr(&self) -> Result<Memo, BuildError> {
        Ok(match self {
            MemoSpec::None => Memo::None,
            MemoSpec::Text(t) => Memo::Text(
                StringM::try_from(t.as_bytes().to_vec())
                    .map_err(|_| BuildError::MemoTooLong(t.len()))?,
            ),
            MemoSpec::Id(i) => Memo::Id(*i),
            MemoSpec::Hash(h) => Memo::Hash(Hash(*h)),
            MemoSpec::Return(h) => Memo::Return(Hash(*h)),
        })
    }
}

fn parse_hash(s: &str) -> Result<[u8; 32], BuildError> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s.trim(), &mut out).map_err(|_| BuildError::BadHash(s.to_string()))?;
    Ok(out)
}

/// Time bounds in unix seconds; `max == 0` means no upper bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TimeWindow {
    pub min: u64,
    pub max: u64,
}

/// Unix seconds or an RFC 3339 time.
pub fn parse_time(s: &str) -> Result<u64, BuildError> {
    let t = s.trim();
    if let Ok(n) = t.parse::<u64>() {
        return Ok(n);
    }
    let bad = || BuildError::BadTime(s.to_string());
    let dt = time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
        .map_err(|_| bad())?;
    u64::try_from(dt.unix_timestamp()).map_err(|_| bad())
}

/// `30s`, `15m`, `24h`, `7d` (or combinations such as `1d12h`), in seconds.
pub fn parse_duration(s: &str) -> Result<u64, BuildError> {
    let bad = || BuildError::BadDuration(s.to_string());
    let t = s.trim();
    if t.is_empty() {
        return Err(bad());
    }
    let mut total: u64 = 0;
    let mut num = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: u64 = num.parse().map_err(|_| bad())?;
        num.clear();
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return Err(bad()),
        };
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
    }
    if !num.is_empty() {
        return Err(bad());
    }
    Ok(total)
}

/// `G…:WEIGHT`.
pub fn parse_signer(s: &str) -> Result<(AccountId, u8), BuildError> {
    let bad = || {
        if crate::account::looks_like_secret(s) {
            // Never echo a secret typed where a signer's public key belongs.
            BuildError::Account(crate::account::AccountIdError::SecretKey("S…".into()))
        } else {
            BuildError::BadSigner(s.to_string())
        }
    };
    let (key, weight) = s.trim().rsplit_once(':').ok_or_else(bad)?;
    let weight: u8 = weight.parse().map_err(|_| bad())?;
    Ok((key.parse()?, weight))
}

/// A whole number > 0, as text (plan files and command lines carry i64 values as strings).
pub fn parse_sequence(s: &str) -> Result<i64, BuildError> {
    match s.trim().parse::<i64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(BuildError::BadSequenceText(s.to_string())),
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SetOptionsSpec {
    pub set_flags: Option<u32>,
    pub clear_flags: Option<u32>,
    pub home_domain: Option<String>,
    pub master_weight: Option<u8>,
    pub low_threshold: Option<u8>,
    pub med_threshold: Option<u8>,
    pub high_threshold: Option<u8>,
    pub signer: Option<(AccountId, u8)>,
    pub inflation_dest: Option<AccountId>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpBody {
    CreateAccount {
        destination: AccountId,
        starting_balance: Amount,
    },
    Payment {
        destination: AccountId,
        asset: Asset,
        amount: Amount,
    },
    /// `limit: None` is the maximum.
    ChangeTrust {
        asset: Asset,
        limit: Option<Amount>,
    },
    AllowTrust {
        trustor: AccountId,
        code: AssetCode,
        authorize: Authorize,
    },
    SetTrustLineFlags {
        trustor: AccountId,
        asset: Asset,
        set: u32,
        clear: u32,
    },
    SetOptions(SetOptionsSpec),
    Clawback {
        from: AccountId,
        asset: Asset,
        amount: Amount,
    },
    ManageData {
        name: String,
        value: Option<Vec<u8>>,
    },
    BumpSequence {
        to: i64,
    },
    AccountMerge {
        destination: AccountId,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpSpec {
    pub source: Option<AccountId>,
    pub body: OpBody,
}

impl OpSpec {
    pub fn new(body: OpBody) -> OpSpec {
        OpSpec { source: None, body }
    }
}

/// Everything a transaction is built from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxSpec {
    pub network: Network,
    pub source: AccountId,
    /// The transaction's own sequence number (account sequence + 1).
    pub sequence: i64,
    /// Base fee per operation, in stroops.
    pub base_fee: u32,
    pub time: TimeWindow,
    pub memo: MemoSpec,
    pub operations: Vec<OpSpec>,
}

/// The default base fee per operation, in stroops (Stellar's minimum).
pub const DEFAULT_BASE_FEE: u32 = 100;

/// The authorization sandwich: the issuer (the transaction source) authorizes `from` and `to`,
/// `from` pays `to`, then the issuer returns both to authorized-to-maintain-liabilities.
pub fn authorization_sandwich(
    from: AccountId,
    to: AccountId,
    asset: Asset,
    amount: Amount,
) -> Vec<OpSpec> {
    let flags = |trustor, set, clear| {
        OpSpec::new(OpBody::SetTrustLineFlags {
            trustor,
            asset: asset.clone(),
            set,
            clear,
        })
    };
    vec![
        flags(from, 1, 2),
        flags(to, 1, 2),
        OpSpec {
            source: Some(from),
            body: OpBody::Payment {
                destination: to,
                asset: asset.clone(),
                amount,
            },
        },
        flags(to, 2, 1),
        flags(from, 2, 1),
    ]
}

fn op_to_xdr(op: &OpSpec) -> Result<Operation, BuildError> {
    let body = match &op.body {
        OpBody::CreateAccount {
            destination,
            starting_balance,
        } => OperationBody::CreateAccount(CreateAccountOp {
            destination: destination.to_xdr(),
            starting_balance: starting_balance.stroops(),
        }),
        OpBody::Payment {
            destination,
            asset,
            amount,
        } => OperationBody::Payment(PaymentOp {
            destination: destination.to_muxed(),
            asset: asset.to_xdr(),
            amount: amount.positive()?.stroops(),
        }),
        OpBody::ChangeTrust { asset, limit } => OperationBody::ChangeTrust(ChangeTrustOp {
            line: asset.clone().require_credit()?.to_change_trust(),
            limit: limit.unwrap_or(crate::amount::MAX).stroops(),
        }),
        OpBody::AllowTrust {
            trustor,
            code,
            authorize,
        } => OperationBody::AllowTrust(AllowTrustOp {
            trustor: trustor.to_xdr(),
            asset: code.to_xdr(),
            authorize: authorize.bits(),
        }),
        OpBody::SetTrustLineFlags {
            trustor,
            asset,
            set,
            clear,
        } => {
            if set & clear != 0 {
                return Err(BuildError::FlagSetAndCleared(
                    flag_names(set & clear, &TRUSTLINE_FLAGS).join(", "),
                ));
            }
            OperationBody::SetTrustLineFlags(SetTrustLineFlagsOp {
                trustor: trustor.to_xdr(),
                asset: asset.clone().require_credit()?.to_xdr(),
                clear_flags: *clear,
                set_flags: *set,
            })
        }
        OpBody::SetOptions(s) => {
            if let (Some(a), Some(b)) = (s.set_flags, s.clear_flags) {
                if a & b != 0 {
                    return Err(BuildError::FlagSetAndCleared(
                        flag_names(a & b, &ACCOUNT_FLAGS).join(", "),
                    ));
                }
            }
            let home_domain = match &s.home_domain {
                None => None,
                Some(d) => Some(String32::from(
                    StringM::<32>::try_from(d.as_bytes().to_vec())
                        .map_err(|_| BuildError::HomeDomainTooLong(d.len()))?,
                )),
            };
            OperationBody::SetOptions(SetOptionsOp {
                inflation_dest: s.inflation_dest.map(|a| a.to_xdr()),
                clear_flags: s.clear_flags,
                set_flags: s.set_flags,
                master_weight: s.master_weight.map(u32::from),
                low_threshold: s.low_threshold.map(u32::from),
                med_threshold: s.med_threshold.map(u32::from),
                high_threshold: s.high_threshold.map(u32::from),
                home_domain,
                signer: s.signer.map(|(key, weight)| Signer {
                    key: SignerKey::Ed25519(Uint256(key.0)),
                    weight: u32::from(weight),
                }),
            })
        }
        OpBody::Clawback {
            from,
            asset,
            amount,
        } => OperationBody::Clawback(ClawbackOp {
            asset: asset.clone().require_credit()?.to_xdr(),
            from: from.to_muxed(),
            amount: amount.positive()?.stroops(),
        }),
        OpBody::ManageData { name, value } => {
            let data_name = StringM::<64>::try_from(name.as_bytes().to_vec())
                .ok()
                .filter(|n| !n.is_empty())
                .ok_or(BuildError::BadDataName(name.len()))?;
            let data_value = match value {
                None => None,
                Some(v) => Some(DataValue(
                    v.clone()
                        .try_into()
                        .map_err(|_| BuildError::DataValueTooLong(v.len()))?,
                )),
            };
            OperationBody::ManageData(ManageDataOp {
                data_name: String64::from(data_name),
                data_value,
            })
        }
        OpBody::BumpSequence { to } => OperationBody::BumpSequence(BumpSequenceOp {
            bump_to: SequenceNumber(*to),
        }),
        OpBody::AccountMerge { destination } => OperationBody::AccountMerge(destination.to_muxed()),
    };
    Ok(Operation {
        source_account: op.source.map(|a| a.to_muxed()),
        body,
    })
}

/// Build the transaction. Validation happens here, once, for every way of describing one.
pub fn build(spec: &TxSpec) -> Result<Transaction, BuildError> {
    let n = spec.operations.len();
    if n == 0 {
        return Err(BuildError::NoOperations);
    }
    if n > MAX_OPERATIONS {
        return Err(BuildError::TooManyOperations(n));
    }
    let fee = u32::try_from(n)
        .ok()
        .and_then(|n| spec.base_fee.checked_mul(n))
        .ok_or(BuildError::FeeOverflow {
            base_fee: spec.base_fee,
            ops: n,
        })?;
    if spec.sequence <= 0 {
        return Err(BuildError::BadSequence);
    }
    let TimeWindow { min, max } = spec.time;
    if max != 0 && min > max {
        return Err(BuildError::ReversedTimeBounds { min, max });
    }
    let ops: Vec<Operation> = spec
        .operations
        .iter()
        .map(op_to_xdr)
        .collect::<Result<_, _>>()?;
    Ok(Transaction {
        source_account: spec.source.to_muxed(),
        fee,
        seq_num: SequenceNumber(spec.sequence),
        cond: Preconditions::Time(TimeBounds {
            min_time: TimePoint(min),
            max_time: TimePoint(max),
        }),
        memo: spec.memo.to_xdr()?,
        operations: ops
            .try_into()
            .map_err(|_| BuildError::TooManyOperations(n))?,
        ext: TransactionExt::V0,
    })
}

/// An unsigned v1 envelope around the transaction.
pub fn envelope(tx: Transaction) -> stellar_xdr::TransactionEnvelope {
    stellar_xdr::TransactionEnvelope::Tx(stellar_xdr::TransactionV1Envelope {
        tx,
        signatures: stellar_xdr::VecM::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_and_times() {
        assert_eq!(
            account_flags(&["auth-required", "auth_revocable"]).unwrap(),
            3
        );
        assert!(matches!(
            account_flags(&["auth-requried"]),
            Err(BuildError::UnknownAccountFlag(_))
        ));
        assert_eq!(
            trustline_flags(&["authorized-to-maintain-liabilities"]).unwrap(),
            2
        );
        assert_eq!(parse_time("1700000000").unwrap(), 1_700_000_000);
        assert_eq!(parse_time("2023-11-14T22:13:20Z").unwrap(), 1_700_000_000);
        assert_eq!(
            parse_time("2023-11-14T23:13:20+01:00").unwrap(),
            1_700_000_000
        );
        assert!(parse_time("tomorrow").is_err());
        assert_eq!(parse_duration("24h").unwrap(), 86_400);
        assert_eq!(parse_duration("1d12h").unwrap(), 129_600);
        assert!(parse_duration("12").is_err());
        assert!(parse_duration("h").is_err());
    }
}
