//! Horizon's JSON resources as types: the one model the relay's client reads and the sandbox
//! writes (reference: `../shared/reference/horizon-api.md`, after Go's `protocols/horizon`).
//!
//! `GET /` is a [`Root`], `GET /accounts/{id}` an [`Account`], `GET /transactions/{hash}` and a
//! successful `POST /transactions` a [`Transaction`], `GET /fee_stats` a [`FeeStats`], a ledger a
//! [`Ledger`], a payment-type operation a [`Payment`], a list of records a [`Page`], an error a
//! [`Problem`] (its `extras.result_codes` are [`codes::ResultCodes`]), and `POST
//! /transactions_async` an [`AsyncSubmission`].
//!
//! Reading is lenient where Horizon versions differ: only the fields a client acts on are required
//! (an account's ID, sequence, thresholds and flags; a transaction's hash, ledger and success; the
//! network passphrase; the base fee and fee percentiles); every other field defaults when it is
//! missing. Writing fills each field as Horizon does, and leaves out what Horizon leaves out.
//! Only shapes here: no I/O.
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub mod codes;
mod payments;

pub use payments::{AssetFields, Parties, Payment, PaymentDetails, SourceAssetFields};

/// `_links`: a resource's related URLs, by relation name.
pub type Links = BTreeMap<String, Link>;

/// One HAL link (`templated` when `href` holds an RFC 6570 template such as `{?cursor}`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub href: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub templated: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Link {
    pub fn to(href: impl Into<String>) -> Link {
        Link {
            href: href.into(),
            templated: false,
        }
    }

    pub fn templated(href: impl Into<String>) -> Link {
        Link {
            href: href.into(),
            templated: true,
        }
    }
}

/// `GET /`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Root {
    #[serde(rename = "_links", default)]
    pub links: Links,
    #[serde(default)]
    pub horizon_version: String,
    #[serde(default)]
    pub core_version: String,
    #[serde(default)]
    pub ingest_latest_ledger: u32,
    #[serde(default)]
    pub history_latest_ledger: u32,
    #[serde(default)]
    pub history_latest_ledger_closed_at: String,
    #[serde(default)]
    pub history_elder_ledger: u32,
    #[serde(default)]
    pub core_latest_ledger: u32,
    /// The network the server serves: check it before sending anything signed.
    pub network_passphrase: String,
    #[serde(default)]
    pub current_protocol_version: u32,
    #[serde(default)]
    pub supported_protocol_version: u32,
    #[serde(default)]
    pub core_supported_protocol_version: u32,
}

/// `GET /accounts/{id}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    #[serde(rename = "_links", default)]
    pub links: Links,
    #[serde(default)]
    pub id: String,
    pub account_id: String,
    /// The last sequence number used (int64 as a string); the next transaction uses one more.
    pub sequence: String,
    /// Ledger and time of the last sequence-number change, once the account acted after
    /// protocol 19.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_ledger: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_time: Option<String>,
    #[serde(default)]
    pub subentry_count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inflation_destination: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_domain: Option<String>,
    #[serde(default)]
    pub last_modified_ledger: u32,
    /// RFC 3339; Horizon may send `null`.
    #[serde(default)]
    pub last_modified_time: Option<String>,
    pub thresholds: Thresholds,
    pub flags: Flags,
    /// Trustlines first, the native balance last.
    #[serde(default)]
    pub balances: Vec<Balance>,
    /// The master key last (with the master weight).
    #[serde(default)]
    pub signers: Vec<Signer>,
    /// Data entries: name → base64 value.
    #[serde(default)]
    pub data: BTreeMap<String, String>,
    #[serde(default)]
    pub num_sponsoring: u32,
    #[serde(default)]
    pub num_sponsored: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sponsor: Option<String>,
    #[serde(default)]
    pub paging_token: String,
}

impl Account {
    /// The account's sequence number; `None` when Horizon's string is not a number.
    pub fn sequence(&self) -> Option<i64> {
        self.sequence.parse().ok()
    }

    /// The trustline to `code:issuer`, if the account has one.
    pub fn trustline(&self, code: &str, issuer: &str) -> Option<&Balance> {
        self.balances.iter().find(|b| {
            b.asset_code.as_deref() == Some(code) && b.asset_issuer.as_deref() == Some(issuer)
        })
    }
}

/// An account's thresholds (the master key's weight is one of its signers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thresholds {
    pub low_threshold: u8,
    pub med_threshold: u8,
    pub high_threshold: u8,
}

/// An account's authorization flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flags {
    #[serde(default)]
    pub auth_required: bool,
    #[serde(default)]
    pub auth_revocable: bool,
    #[serde(default)]
    pub auth_immutable: bool,
    #[serde(default)]
    pub auth_clawback_enabled: bool,
}

impl Flags {
    /// The names of the flags that are set.
    pub fn names(&self) -> Vec<&'static str> {
        [
            (self.auth_required, "auth_required"),
            (self.auth_revocable, "auth_revocable"),
            (self.auth_immutable, "auth_immutable"),
            (self.auth_clawback_enabled, "auth_clawback_enabled"),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, n)| n)
        .collect()
    }
}

/// One signer of an account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signer {
    pub key: String,
    pub weight: u8,
    /// `ed25519_public_key`, `sha256_hash`, `preauth_tx` or `ed25519_signed_payload`.
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sponsor: Option<String>,
}

/// One balance: the native one, or a trustline's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    pub balance: String,
    /// Trustlines only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buying_liabilities: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selling_liabilities: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_ledger: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_authorized: Option<bool>,
    /// True when authorized, or authorized to maintain liabilities only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_authorized_to_maintain_liabilities: Option<bool>,
    /// Present only when true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_clawback_enabled: Option<bool>,
    /// `native`, `credit_alphanum4`, `credit_alphanum12` or `liquidity_pool_shares`.
    pub asset_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_issuer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liquidity_pool_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sponsor: Option<String>,
}

/// `GET /fee_stats` (every value a string of stroops).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeStats {
    #[serde(default)]
    pub last_ledger: String,
    pub last_ledger_base_fee: String,
    #[serde(default)]
    pub ledger_capacity_usage: String,
    /// Fees charged per operation in recent ledgers.
    pub fee_charged: FeeDistribution,
    /// Fees bid per operation in recent ledgers.
    #[serde(default)]
    pub max_fee: FeeDistribution,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeDistribution {
    #[serde(default)]
    pub max: String,
    #[serde(default)]
    pub min: String,
    #[serde(default)]
    pub mode: String,
    #[serde(default)]
    pub p10: String,
    #[serde(default)]
    pub p20: String,
    #[serde(default)]
    pub p30: String,
    #[serde(default)]
    pub p40: String,
    pub p50: String,
    #[serde(default)]
    pub p60: String,
    #[serde(default)]
    pub p70: String,
    #[serde(default)]
    pub p80: String,
    pub p90: String,
    #[serde(default)]
    pub p95: String,
    #[serde(default)]
    pub p99: String,
}

impl FeeDistribution {
    /// The same fee at every percentile.
    pub fn flat(fee: &str) -> FeeDistribution {
        let s = || fee.to_string();
        FeeDistribution {
            max: s(),
            min: s(),
            mode: s(),
            p10: s(),
            p20: s(),
            p30: s(),
            p40: s(),
            p50: s(),
            p60: s(),
            p70: s(),
            p80: s(),
            p90: s(),
            p95: s(),
            p99: s(),
        }
    }
}

/// A transaction in a ledger (`GET /transactions/{hash}`, or a 200 from submission), successful
/// or failed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    #[serde(rename = "_links", default)]
    pub links: Links,
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub paging_token: String,
    pub successful: bool,
    /// 64 lowercase hex digits: the hash that was asked for (outer or inner for a fee bump).
    pub hash: String,
    pub ledger: u32,
    /// The ledger's close time, RFC 3339.
    #[serde(default)]
    pub created_at: String,
    #[serde(default)]
    pub source_account: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_muxed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_muxed_id: Option<String>,
    #[serde(default)]
    pub source_account_sequence: String,
    #[serde(default)]
    pub fee_account: String,
    #[serde(default)]
    pub fee_charged: String,
    #[serde(default)]
    pub max_fee: String,
    #[serde(default)]
    pub operation_count: u32,
    #[serde(default)]
    pub envelope_xdr: String,
    /// Base64 `TransactionResult`.
    #[serde(default)]
    pub result_xdr: String,
    /// Left out when Horizon runs without transaction meta.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_meta_xdr: Option<String>,
    #[serde(default)]
    pub fee_meta_xdr: String,
    /// `none`, `text`, `id`, `hash` or `return`.
    #[serde(default)]
    pub memo_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memo: Option<String>,
    /// Text memos only: the bytes, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memo_bytes: Option<String>,
    #[serde(default)]
    pub signatures: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preconditions: Option<Preconditions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_bump_transaction: Option<FeeBumpTransaction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inner_transaction: Option<InnerTransaction>,
}

/// A transaction's preconditions (only those it has).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Preconditions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timebounds: Option<TimeBounds>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ledgerbounds: Option<LedgerBounds>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_account_sequence: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_account_sequence_age: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_account_sequence_ledger_gap: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra_signers: Vec<String>,
}

/// Unix seconds as strings; no `max_time` means no upper bound.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TimeBounds {
    pub min_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_time: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LedgerBounds {
    pub min_ledger: u32,
    pub max_ledger: u32,
}

/// The outer transaction of a fee bump.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeBumpTransaction {
    pub hash: String,
    #[serde(default)]
    pub signatures: Vec<String>,
}

/// The transaction inside a fee bump.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InnerTransaction {
    pub hash: String,
    #[serde(default)]
    pub signatures: Vec<String>,
    #[serde(default)]
    pub max_fee: String,
}

/// A closed ledger.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    #[serde(rename = "_links", default)]
    pub links: Links,
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub paging_token: String,
    #[serde(default)]
    pub hash: String,
    /// Left out for the first ledger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev_hash: Option<String>,
    pub sequence: u32,
    #[serde(default)]
    pub successful_transaction_count: u32,
    #[serde(default)]
    pub failed_transaction_count: Option<u32>,
    #[serde(default)]
    pub operation_count: u32,
    #[serde(default)]
    pub tx_set_operation_count: Option<u32>,
    #[serde(default)]
    pub closed_at: String,
    #[serde(default)]
    pub total_coins: String,
    #[serde(default)]
    pub fee_pool: String,
    #[serde(default)]
    pub base_fee_in_stroops: i64,
    #[serde(default)]
    pub base_reserve_in_stroops: i64,
    #[serde(default)]
    pub max_tx_set_size: u32,
    #[serde(default)]
    pub protocol_version: u32,
}

/// A HAL page of records: `_links` (`self`, `next`, `prev`) and `_embedded.records`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    #[serde(rename = "_links", default)]
    pub links: Links,
    #[serde(rename = "_embedded")]
    pub embedded: Embedded<T>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Embedded<T> {
    pub records: Vec<T>,
}

/// An RFC 7807 problem, as Horizon answers every error.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Problem {
    /// `https://stellar.org/horizon-errors/<kind>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extras: Option<ProblemExtras>,
}

impl Problem {
    /// The part of `type` after its last `/`: `transaction_failed`, `rate_limit_exceeded`, ….
    pub fn kind_suffix(&self) -> &str {
        self.kind.rsplit('/').next().unwrap_or(&self.kind)
    }
}

/// What a problem carries besides its text, by kind: the field at fault (`bad_request`), the
/// envelope and the error (`transaction_malformed`), the hash (`transaction_submission_timeout`),
/// the result (`transaction_failed`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProblemExtras {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invalid_field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub envelope_xdr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_codes: Option<codes::ResultCodes>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_xdr: Option<String>,
}

/// `POST /transactions_async`: `PENDING`, `DUPLICATE`, `TRY_AGAIN_LATER` or `ERROR` (with the
/// result).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AsyncSubmission {
    pub tx_status: String,
    pub hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_result_xdr: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The [real] samples of the Horizon reference (§2.4, §5, §6, §7) read as these types, and
    /// what a client acts on comes out.
    #[test]
    fn reads_the_reference_samples() {
        let root: Root = serde_json::from_str(
            r#"{"_links": {"fee_stats": {"href": "https://horizon.stellar.org/fee_stats"}},
            "horizon_version": "22.0.1", "core_version": "stellar-core 22.1.0",
            "ingest_latest_ledger": 54837706, "history_latest_ledger": 54837706,
            "history_latest_ledger_closed_at": "2024-12-15T11:39:19Z",
            "history_elder_ledger": 48530161, "core_latest_ledger": 54837706,
            "network_passphrase": "Public Global Stellar Network ; September 2015",
            "current_protocol_version": 22, "supported_protocol_version": 22,
            "core_supported_protocol_version": 22}"#,
        )
        .unwrap();
        assert_eq!(
            root.network_passphrase,
            "Public Global Stellar Network ; September 2015"
        );
        let account: Account = serde_json::from_str(
            r#"{"id": "GAYOLLLUIZE4DZMBB2ZBKGBUBZLIOYU6XFLW37GBP2VZD3ABNXCW4BVA",
            "account_id": "GAYOLLLUIZE4DZMBB2ZBKGBUBZLIOYU6XFLW37GBP2VZD3ABNXCW4BVA",
            "sequence": "120192344791187470", "subentry_count": 5,
            "last_modified_ledger": 28105812, "last_modified_time": null,
            "num_sponsoring": 0, "num_sponsored": 0,
            "thresholds": {"low_threshold": 0, "med_threshold": 0, "high_threshold": 0},
            "flags": {"auth_required": false, "auth_revocable": false, "auth_immutable": false,
                      "auth_clawback_enabled": false},
            "balances": [
              {"balance": "3.0000000", "limit": "922337203685.4775807",
               "buying_liabilities": "0.0000000", "selling_liabilities": "0.0000000",
               "last_modified_ledger": 27984507, "is_authorized": true,
               "is_clawback_enabled": false, "asset_type": "credit_alphanum4",
               "asset_code": "EURT",
               "asset_issuer": "GAP5LETOV6YIE62YAM56STDANPRDO7ZFDBGSNHJQIYGGKSMOZAHOOS2S"},
              {"balance": "72.8563792", "buying_liabilities": "0.0000000",
               "selling_liabilities": "0.0000000", "asset_type": "native"}],
            "signers": [{"weight": 1, "type": "ed25519_public_key",
              "key": "GAYOLLLUIZE4DZMBB2ZBKGBUBZLIOYU6XFLW37GBP2VZD3ABNXCW4BVA"}],
            "data": {}, "paging_token": ""}"#,
        )
        .unwrap();
        assert_eq!(account.sequence(), Some(120192344791187470));
        assert!(account
            .trustline(
                "EURT",
                "GAP5LETOV6YIE62YAM56STDANPRDO7ZFDBGSNHJQIYGGKSMOZAHOOS2S"
            )
            .is_some());
        assert_eq!(account.signers[0].kind, "ed25519_public_key");
        let fees: FeeStats = serde_json::from_str(
            r#"{"last_ledger": "43277313", "last_ledger_base_fee": "100",
            "ledger_capacity_usage": "1",
            "fee_charged": {"max": "5500", "min": "5000", "mode": "5000", "p10": "5000",
              "p20": "5000", "p30": "5000", "p40": "5000", "p50": "5001", "p60": "5001",
              "p70": "5066", "p80": "5066", "p90": "5500", "p95": "5500", "p99": "5500"},
            "max_fee": {"max": "616065406", "min": "5000", "mode": "10003", "p10": "10000",
              "p20": "10003", "p30": "10003", "p40": "20005", "p50": "20005", "p60": "50020",
              "p70": "50020", "p80": "150000", "p90": "500000", "p95": "500000",
              "p99": "1490000"}}"#,
        )
        .unwrap();
        assert_eq!(
            (fees.fee_charged.p50.as_str(), fees.fee_charged.p90.as_str()),
            ("5001", "5500")
        );
        let tx: Transaction = serde_json::from_str(
            r#"{"memo": "Test Transaction", "memo_bytes": "VGVzdCBUcmFuc2FjdGlvbg==",
            "id": "8ef0c6d60357bf91b0b0d7800b747ff02bf73117d3e017690cbff641ca67f124",
            "paging_token": "599470060347392", "successful": true,
            "hash": "8ef0c6d60357bf91b0b0d7800b747ff02bf73117d3e017690cbff641ca67f124",
            "ledger": 139575, "created_at": "2021-03-25T21:14:11Z",
            "source_account": "GCIHAQVWZH2AB5BB5NP63FBSIREG77LQZZNUVKD2LN2IOCLOT6N72MJN",
            "source_account_sequence": "599336916353025",
            "fee_account": "GCIHAQVWZH2AB5BB5NP63FBSIREG77LQZZNUVKD2LN2IOCLOT6N72MJN",
            "fee_charged": "100", "max_fee": "100", "operation_count": 1,
            "result_xdr": "AAAAAAAAAGQAAAAAAAAAAQAAAAAAAAABAAAAAAAAAAA=",
            "memo_type": "text", "signatures": []}"#,
        )
        .unwrap();
        assert_eq!((tx.ledger, tx.successful), (139575, true));
    }

    /// Only what a client acts on is required: a bare transaction record reads; one without its
    /// ledger does not.
    #[test]
    fn only_what_a_client_acts_on_is_required() {
        let tx: Transaction =
            serde_json::from_str(r#"{"hash": "ab", "ledger": 7, "successful": false}"#).unwrap();
        assert_eq!(tx.result_xdr, "");
        assert!(
            serde_json::from_str::<Transaction>(r#"{"hash": "ab", "successful": true}"#).is_err()
        );
        assert!(serde_json::from_str::<Root>("{}").is_err());
    }

    #[test]
    fn payments_by_type() {
        let p = Payment {
            links: Links::new(),
            id: "12884905985".into(),
            paging_token: "12884905985".into(),
            transaction_successful: true,
            source_account: "GA".into(),
            source_account_muxed: None,
            source_account_muxed_id: None,
            details: PaymentDetails::Payment {
                asset: AssetFields {
                    asset_type: "native".into(),
                    asset_code: None,
                    asset_issuer: None,
                },
                parties: Parties {
                    from: "GA".into(),
                    to: "GB".into(),
                    to_muxed: Some("MB".into()),
                    to_muxed_id: Some("7".into()),
                    ..Default::default()
                },
                amount: "1.0000000".into(),
            },
            type_i: 1,
            created_at: String::new(),
            transaction_hash: String::new(),
            transaction: None,
        };
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["type"], "payment");
        assert_eq!(v["asset_type"], "native");
        assert!(v.get("asset_code").is_none());
        assert_eq!(v["from"], "GA");
        assert_eq!(v["to_muxed_id"], "7");
        assert!(v.get("from_muxed").is_none() && v.get("transaction").is_none());
        assert_eq!(serde_json::from_value::<Payment>(v).unwrap(), p);
        // a kind the model does not hold is read, not refused
        let other: Payment =
            serde_json::from_str(r#"{"id": "1", "type": "manage_sell_offer", "type_i": 3}"#)
                .unwrap();
        assert_eq!(other.details, PaymentDetails::Other);
        // Horizon's path payment record (GO protocols/horizon/operations: PathPaymentStrictSend)
        let send: Payment = serde_json::from_str(
            r#"{"id": "2", "type": "path_payment_strict_send", "type_i": 13,
                "asset_type": "native", "from": "GA", "to": "GB", "amount": "2.0000000",
                "path": [], "source_amount": "2.0000000", "destination_min": "1.0000000",
                "source_asset_type": "native"}"#,
        )
        .unwrap();
        let PaymentDetails::PathPaymentStrictSend {
            amount, parties, ..
        } = send.details
        else {
            panic!("a strict-send path payment")
        };
        assert_eq!((amount.as_str(), parties.to.as_str()), ("2.0000000", "GB"));
    }
}
