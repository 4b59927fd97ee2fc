//! What a credit to a watched account is, once for both backends: its `status` and `kind`
//! ([`Rules`]), its customer ([`customer`]), and how a Horizon payment record becomes a row
//! ([`from_horizon`]). The RPC side builds the same [`Credit`] from events and transactions.
use crate::db::{Deposit, Kind, MemoType, Status};
use airgap::amount::Amount;
use airgap::asset::Asset;
use airgap::horizon::{AssetFields, Payment, PaymentDetails};
use base64::Engine as _;
use std::collections::BTreeSet;
use stellar_xdr::{
    Limits, OperationResult, OperationResultTr, ReadXdr, TransactionResult, TransactionResultResult,
};

/// Who is watched and what is accepted.
#[derive(Debug, Clone)]
pub struct Rules {
    /// The watched accounts (`G…`).
    pub accounts: BTreeSet<String>,
    /// The accepted assets, as the tables write them (`native`, `CODE:ISSUER`).
    pub accepted: BTreeSet<String>,
    /// The issuers of the accepted assets.
    pub issuers: BTreeSet<String>,
}

impl Rules {
    pub fn new(accounts: &[airgap::account::AccountId], accepted: &[Asset]) -> Rules {
        Rules {
            accounts: accounts.iter().map(ToString::to_string).collect(),
            accepted: accepted.iter().map(ToString::to_string).collect(),
            issuers: accepted
                .iter()
                .filter_map(|a| match a {
                    Asset::Native => None,
                    Asset::Credit { issuer, .. } => Some(issuer.to_string()),
                })
                .collect(),
        }
    }

    /// `internal` (from a watched account or an accepted asset's issuer) wins; then
    /// `unaccepted` (an asset not accepted), `deposit` (with a customer), `unattributed`.
    pub fn status(&self, sender: &str, asset: &str, customer: Option<&str>) -> Status {
        if self.accounts.contains(sender) || self.issuers.contains(sender) {
            Status::Internal
        } else if !self.accepted.contains(asset) {
            Status::Unaccepted
        } else if customer.is_some() {
            Status::Deposit
        } else {
            Status::Unattributed
        }
    }
}

/// A credit found by either backend, before the rules decide its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credit {
    pub tx_hash: String,
    pub op_index: u32,
    pub ledger: u32,
    pub closed_at: String,
    pub account: String,
    pub sender: String,
    /// The muxed ID of the destination, when it was an `M…` address.
    pub muxed_id: Option<u64>,
    pub memo: Memo,
    pub asset: String,
    pub amount: Amount,
    pub kind: Kind,
}

/// A transaction's memo as the tables keep it: the type, and the text a customer is named by
/// (ID as decimal, text as given, hash and return as lowercase hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memo {
    pub kind: MemoType,
    pub value: Option<String>,
}

impl Memo {
    pub const NONE: Memo = Memo {
        kind: MemoType::None,
        value: None,
    };

    pub fn from_xdr(m: &stellar_xdr::Memo) -> Memo {
        let (kind, value) = match m {
            stellar_xdr::Memo::None => (MemoType::None, None),
            stellar_xdr::Memo::Text(t) => (MemoType::Text, Some(text(t.as_slice()))),
            stellar_xdr::Memo::Id(id) => (MemoType::Id, Some(id.to_string())),
            stellar_xdr::Memo::Hash(h) => (MemoType::Hash, Some(hex::encode(h.0))),
            stellar_xdr::Memo::Return(h) => (MemoType::Return, Some(hex::encode(h.0))),
        };
        Memo { kind, value }
    }
}

/// A text memo's bytes as stored: as given when they are UTF-8 (any character, escaped only
/// when shown); otherwise the bytes as Horizon's `memo` shows them, invalid sequences replaced.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The customer: the muxed ID if the destination was `M…`, else the memo; `None` without either.
pub fn customer(muxed_id: Option<u64>, memo: &Memo) -> Option<String> {
    muxed_id
        .map(|id| id.to_string())
        .or_else(|| memo.value.clone())
}

impl Credit {
    pub fn into_row(self, rules: &Rules) -> Deposit {
        let customer = customer(self.muxed_id, &self.memo);
        let status = rules.status(&self.sender, &self.asset, customer.as_deref());
        Deposit {
            tx_hash: self.tx_hash,
            op_index: self.op_index,
            ledger: self.ledger,
            closed_at: self.closed_at,
            account: self.account,
            sender: self.sender,
            customer,
            memo_type: self.memo.kind,
            asset: self.asset,
            amount: self.amount,
            kind: self.kind,
            status,
        }
    }
}

/// `burn` for a credit to the asset's own issuer (the asset leaves circulation), else `kind`.
pub fn kind_for(kind: Kind, account: &str, asset: &str) -> Kind {
    match asset.split_once(':') {
        Some((_, issuer)) if issuer == account => Kind::Burn,
        _ => kind,
    }
}

/// Why a Horizon record could not be read as a credit (a server that does not answer as
/// Horizon does).
#[derive(Debug, thiserror::Error)]
#[error("payment record {token}: {why}")]
pub struct RecordError {
    pub token: String,
    pub why: String,
}

/// The ledger and 0-based operation index of a Horizon paging token (a TOID: ledger << 32 |
/// transaction order << 12 | operation order from 1).
pub fn toid_parts(token: &str) -> Option<(u32, u32)> {
    let t: i64 = token.parse().ok()?;
    let ledger = u32::try_from(t >> 32).ok()?;
    let op = u32::try_from(t & 0xfff).ok()?.checked_sub(1)?;
    Some((ledger, op))
}

/// A TOID cursor before everything in `ledger`.
pub fn ledger_start(ledger: u32) -> String {
    (i64::from(ledger) << 32).to_string()
}

/// The credit a payment record makes to `watched`, if any. A failed transaction, an operation
/// `watched` is not credited by, and a record of another type are `None`.
pub fn from_horizon(record: &Payment, watched: &str) -> Result<Option<Credit>, RecordError> {
    let bad = |why: String| RecordError {
        token: record.paging_token.clone(),
        why,
    };
    if !record.transaction_successful {
        return Ok(None);
    }
    let (ledger, op_index) =
        toid_parts(&record.paging_token).ok_or_else(|| bad("not a TOID paging token".into()))?;
    let parse_amount = |s: &str| {
        s.parse::<Amount>()
            .map_err(|e| bad(format!("amount {s:?}: {e}")))
    };
    let muxed = |id: &Option<String>| {
        id.as_deref()
            .map(|s| s.parse::<u64>().map_err(|_| bad(format!("muxed ID {s:?}"))))
            .transpose()
    };
    let (sender, muxed_id, asset, amount, kind) = match &record.details {
        PaymentDetails::Payment {
            asset,
            parties,
            amount: a,
        } if parties.to == watched => (
            parties.from.clone(),
            muxed(&parties.to_muxed_id)?,
            asset_name(asset).map_err(bad)?,
            parse_amount(a)?,
            Kind::Payment,
        ),
        PaymentDetails::PathPaymentStrictReceive {
            asset,
            parties,
            amount: a,
            ..
        }
        | PaymentDetails::PathPaymentStrictSend {
            asset,
            parties,
            amount: a,
            ..
        } if parties.to == watched => (
            parties.from.clone(),
            muxed(&parties.to_muxed_id)?,
            asset_name(asset).map_err(bad)?,
            parse_amount(a)?,
            Kind::PathPayment,
        ),
        PaymentDetails::CreateAccount {
            starting_balance,
            funder,
            account,
            ..
        } if account == watched => (
            funder.clone(),
            None,
            "native".to_string(),
            parse_amount(starting_balance)?,
            Kind::CreateAccount,
        ),
        PaymentDetails::AccountMerge {
            account,
            into,
            into_muxed_id,
            ..
        } if into == watched => {
            let tx = record
                .transaction
                .as_ref()
                .ok_or_else(|| bad("an account merge without its transaction (join)".into()))?;
            let merged = merged_amount(&tx.result_xdr, op_index).map_err(bad)?;
            (
                account.clone(),
                muxed(into_muxed_id)?,
                "native".to_string(),
                merged,
                Kind::AccountMerge,
            )
        }
        _ => return Ok(None),
    };
    let tx = record
        .transaction
        .as_ref()
        .ok_or_else(|| bad("no joined transaction (join=transactions)".into()))?;
    let memo = horizon_memo(tx).map_err(bad)?;
    let kind = kind_for(kind, watched, &asset);
    Ok(Some(Credit {
        tx_hash: record.transaction_hash.clone(),
        op_index,
        ledger,
        closed_at: record.created_at.clone(),
        account: watched.to_string(),
        sender,
        muxed_id,
        memo,
        asset,
        amount,
        kind,
    }))
}

/// `native` or `CODE:ISSUER`, from Horizon's asset fields.
fn asset_name(a: &AssetFields) -> Result<String, String> {
    match (a.asset_type.as_str(), &a.asset_code, &a.asset_issuer) {
        ("native", _, _) => Ok("native".into()),
        (_, Some(code), Some(issuer)) => Ok(format!("{code}:{issuer}")),
        (t, _, _) => Err(format!("asset of type {t:?} without code and issuer")),
    }
}

/// The memo of a joined transaction: Horizon writes an ID as decimal, text as the text (its
/// exact bytes in `memo_bytes`, base64), hash and return as base64.
fn horizon_memo(tx: &airgap::horizon::Transaction) -> Result<Memo, String> {
    let b64 = |s: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(s)
            .map_err(|e| format!("memo {s:?} is not base64: {e}"))
    };
    let value = tx.memo.clone().unwrap_or_default();
    Ok(match tx.memo_type.as_str() {
        "" | "none" => Memo::NONE,
        "id" => Memo {
            kind: MemoType::Id,
            value: Some(value),
        },
        "text" => Memo {
            kind: MemoType::Text,
            value: Some(match &tx.memo_bytes {
                Some(bytes) => text(&b64(bytes)?),
                None => value,
            }),
        },
        "hash" => Memo {
            kind: MemoType::Hash,
            value: Some(hex::encode(b64(&value)?)),
        },
        "return" => Memo {
            kind: MemoType::Return,
            value: Some(hex::encode(b64(&value)?)),
        },
        other => return Err(format!("memo type {other:?}")),
    })
}

/// What an account merge moved: its result in the transaction's `result_xdr`
/// (`ACCOUNT_MERGE_SUCCESS` carries the source account's balance). Horizon's payment record of
/// a merge has no amount; its effects (`account_credited`) and the result agree.
pub fn merged_amount(result_xdr: &str, op_index: u32) -> Result<Amount, String> {
    let limits = Limits {
        depth: 64,
        len: 1 << 20,
    };
    let result = TransactionResult::from_xdr_base64(result_xdr, limits)
        .map_err(|e| format!("result_xdr cannot be read: {e}"))?;
    let ops = match &result.result {
        TransactionResultResult::TxSuccess(ops) => ops.as_slice(),
        TransactionResultResult::TxFeeBumpInnerSuccess(pair) => match &pair.result.result {
            stellar_xdr::InnerTransactionResultResult::TxSuccess(ops) => ops.as_slice(),
            _ => return Err("the inner transaction did not succeed".into()),
        },
        _ => return Err("the transaction did not succeed".into()),
    };
    match ops.get(op_index as usize) {
        Some(OperationResult::OpInner(OperationResultTr::AccountMerge(
            stellar_xdr::AccountMergeResult::Success(stroops),
        ))) => Amount::from_stroops(*stroops).map_err(|e| format!("merged {stroops}: {e}")),
        _ => Err(format!(
            "operation {op_index} is not a successful account merge"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toids() {
        let t = (123_i64 << 32) | (2 << 12) | 3;
        assert_eq!(toid_parts(&t.to_string()), Some((123, 2)));
        assert_eq!(toid_parts("0"), None);
        assert_eq!(toid_parts("x"), None);
        assert_eq!(ledger_start(5), (5_i64 << 32).to_string());
    }

    #[test]
    fn status_rules() {
        let g = |c: char| format!("G{}", c.to_string().repeat(55));
        let rules = Rules {
            accounts: [g('A')].into(),
            accepted: ["USD:ISSUER".to_string()].into(),
            issuers: ["ISSUER".to_string()].into(),
        };
        assert_eq!(rules.status(&g('A'), "native", None), Status::Internal);
        assert_eq!(
            rules.status("ISSUER", "USD:ISSUER", Some("1")),
            Status::Internal
        );
        assert_eq!(rules.status("X", "native", Some("1")), Status::Unaccepted);
        assert_eq!(rules.status("X", "USD:ISSUER", Some("1")), Status::Deposit);
        assert_eq!(rules.status("X", "USD:ISSUER", None), Status::Unattributed);
    }

    #[test]
    fn customer_is_the_muxed_id_first() {
        let memo = Memo {
            kind: MemoType::Text,
            value: Some("abc".into()),
        };
        assert_eq!(customer(Some(7), &memo).as_deref(), Some("7"));
        assert_eq!(customer(None, &memo).as_deref(), Some("abc"));
        assert_eq!(customer(None, &Memo::NONE), None);
    }

    #[test]
    fn burns_are_credits_to_the_issuer() {
        assert_eq!(kind_for(Kind::Payment, "GI", "USD:GI"), Kind::Burn);
        assert_eq!(kind_for(Kind::PathPayment, "GI", "USD:GI"), Kind::Burn);
        assert_eq!(kind_for(Kind::Payment, "GB", "USD:GI"), Kind::Payment);
        assert_eq!(kind_for(Kind::Payment, "GB", "native"), Kind::Payment);
    }
}
