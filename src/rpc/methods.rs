//! Parameters and results of the methods other than `getEvents` (stellar-rpc's
//! `protocols/rpc`: `get_health.go`, `get_network.go`, `get_version_info.go`,
//! `get_latest_ledger.go`, `get_fee_stats.go`, `get_ledger_entries.go`, `send_transaction.go`,
//! `get_transaction.go`, `get_transactions.go`).
//!
//! Field spellings and encodings are stellar-rpc's, quirks included: `getTransaction`'s
//! `createdAt` and close times are strings, `getTransactions`' are numbers.
use super::{int_lenient, int_string};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `getHealth`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetHealthResult {
    /// `healthy`.
    pub status: String,
    pub latest_ledger: u32,
    #[serde(default, with = "int_lenient")]
    pub latest_ledger_close_time: u64,
    #[serde(default)]
    pub oldest_ledger: u32,
    #[serde(default)]
    pub ledger_retention_window: u32,
}

/// `getNetwork`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetNetworkResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub friendbot_url: Option<String>,
    /// The network the server serves: check it before sending anything signed.
    pub passphrase: String,
    #[serde(default)]
    pub protocol_version: u32,
}

/// `getVersionInfo`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GetVersionInfoResult {
    pub version: String,
    pub commit_hash: String,
    pub build_timestamp: String,
    pub captive_core_version: String,
    pub protocol_version: u32,
}

/// `getLatestLedger`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLatestLedgerResult {
    /// The ledger's hash, hex.
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub protocol_version: u32,
    pub sequence: u32,
    /// Unix seconds (a string on the wire).
    #[serde(
        default,
        with = "int_string::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub close_time: Option<u64>,
    /// Base64 `LedgerHeader`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_xdr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_json: Option<Value>,
    /// Base64 `LedgerCloseMeta`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_xdr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_json: Option<Value>,
}

/// Fees of recent ledgers (`inclusionFee`, `sorobanInclusionFee`): stroops per operation as
/// strings, nearest-rank percentiles.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FeeDistribution {
    pub max: String,
    pub min: String,
    pub mode: String,
    pub p10: String,
    pub p20: String,
    pub p30: String,
    pub p40: String,
    pub p50: String,
    pub p60: String,
    pub p70: String,
    pub p80: String,
    pub p90: String,
    pub p95: String,
    pub p99: String,
    pub transaction_count: String,
    pub ledger_count: u32,
}

/// `getFeeStats`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetFeeStatsResult {
    #[serde(default)]
    pub soroban_inclusion_fee: FeeDistribution,
    pub inclusion_fee: FeeDistribution,
    #[serde(default)]
    pub latest_ledger: u32,
}

/// `getLedgerEntries` parameters: base64 `LedgerKey`s (at most 200).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLedgerEntriesParams {
    #[serde(default)]
    pub keys: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xdr_format: Option<String>,
}

/// `getLedgerEntries`: the entries found (keys not found are left out).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLedgerEntriesResult {
    #[serde(default)]
    pub entries: Vec<LedgerEntryResult>,
    pub latest_ledger: u32,
}

/// One entry: its key, its `LedgerEntryData` and its `LedgerEntryExt`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LedgerEntryResult {
    /// Base64 `LedgerKey`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_json: Option<Value>,
    /// Base64 `LedgerEntryData`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xdr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_json: Option<Value>,
    /// Base64 `LedgerEntryExt` (sponsorship).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ext_xdr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ext_json: Option<Value>,
    #[serde(default)]
    pub last_modified_ledger_seq: u32,
    /// Soroban entries only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_until_ledger_seq: Option<u32>,
}

/// `sendTransaction` parameters: a base64 envelope.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendTransactionParams {
    #[serde(default)]
    pub transaction: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xdr_format: Option<String>,
}

/// What stellar-core's queue said (`sendTransaction`'s `status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SendStatus {
    /// Admitted to the queue: poll `getTransaction`.
    Pending,
    /// Already in the queue: poll, never send it again as new.
    Duplicate,
    /// Not taken now (one transaction per source account per ledger, or a replacement without
    /// ten times the fee): wait for the next ledger and send the same bytes again.
    TryAgainLater,
    /// Refused at admission; `errorResultXdr` says why. Never applied, no fee.
    Error,
    /// A status this model does not know.
    #[serde(other)]
    Unknown,
}

impl SendStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SendStatus::Pending => "PENDING",
            SendStatus::Duplicate => "DUPLICATE",
            SendStatus::TryAgainLater => "TRY_AGAIN_LATER",
            SendStatus::Error => "ERROR",
            SendStatus::Unknown => "UNKNOWN",
        }
    }
}

/// `sendTransaction`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendTransactionResult {
    pub status: SendStatus,
    /// The envelope's hash (the outer hash of a fee bump), hex.
    #[serde(default)]
    pub hash: String,
    #[serde(default)]
    pub latest_ledger: u32,
    #[serde(default, with = "int_string")]
    pub latest_ledger_close_time: u64,
    /// `ERROR` only: base64 `TransactionResult`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_result_xdr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_result_json: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostic_events_xdr: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostic_events_json: Option<Vec<Value>>,
}

/// `getTransaction` parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetTransactionParams {
    /// 64 hex digits.
    #[serde(default)]
    pub hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xdr_format: Option<String>,
}

/// A transaction's status in RPC's store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TxStatus {
    /// In a ledger, successful.
    Success,
    /// In a ledger, failed: the fee was charged and the sequence number used.
    Failed,
    /// Not in any ledger RPC holds (not yet, or never, or older than its retention window).
    NotFound,
    #[serde(other)]
    Unknown,
}

/// A transaction's events by kind, each list as its format asks (only the kinds it has).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionEvents {
    /// Base64 `TransactionEvent`s (fees).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_events_xdr: Option<Vec<String>>,
    /// Per operation, base64 `ContractEvent`s (CAP-67 events of classic operations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_events_xdr: Option<Vec<Vec<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_events_json: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_events_json: Option<Vec<Vec<Value>>>,
}

/// A transaction as RPC's store holds it (`TransactionDetails`): only `status` and `txHash` when
/// it is not found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionDetails {
    pub status: TxStatus,
    #[serde(default)]
    pub tx_hash: String,
    /// Its place in the ledger's apply order, from 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_order: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_bump: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub envelope_xdr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub envelope_json: Option<Value>,
    /// Base64 `TransactionResult`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_xdr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_json: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_meta_xdr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_meta_json: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<TransactionEvents>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger: Option<u32>,
}

impl TransactionDetails {
    /// A transaction RPC does not hold.
    pub fn not_found(tx_hash: String) -> TransactionDetails {
        TransactionDetails {
            status: TxStatus::NotFound,
            tx_hash,
            application_order: None,
            fee_bump: None,
            envelope_xdr: None,
            envelope_json: None,
            result_xdr: None,
            result_json: None,
            result_meta_xdr: None,
            result_meta_json: None,
            events: None,
            ledger: None,
        }
    }
}

/// `getTransaction`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetTransactionResult {
    pub latest_ledger: u32,
    #[serde(default, with = "int_string")]
    pub latest_ledger_close_time: u64,
    #[serde(default)]
    pub oldest_ledger: u32,
    #[serde(default, with = "int_string")]
    pub oldest_ledger_close_time: u64,
    #[serde(flatten)]
    pub details: TransactionDetails,
    /// The close time of its ledger, unix seconds (a string here, a number in
    /// `getTransactions`: stellar-rpc's own inconsistency).
    #[serde(
        default,
        with = "int_string::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<u64>,
}

/// Paging: a cursor from an earlier page, and the most items to return.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pagination {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

/// `getTransactions` parameters: `startLedger`, or a cursor.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetTransactionsParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_ledger: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Pagination>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xdr_format: Option<String>,
}

/// One transaction of `getTransactions`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionInfo {
    #[serde(flatten)]
    pub details: TransactionDetails,
    /// The close time of its ledger, unix seconds.
    #[serde(default, with = "int_lenient")]
    pub created_at: u64,
}

/// `getTransactions`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetTransactionsResult {
    #[serde(default)]
    pub transactions: Vec<TransactionInfo>,
    pub latest_ledger: u32,
    #[serde(default, with = "int_lenient")]
    pub latest_ledger_close_timestamp: u64,
    #[serde(default)]
    pub oldest_ledger: u32,
    #[serde(default, with = "int_lenient")]
    pub oldest_ledger_close_timestamp: u64,
    /// Where the next page starts.
    #[serde(default)]
    pub cursor: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// stellar-rpc's answers (as the SDKs' tests and stellar-docs show them) read as these types,
    /// and write back with the same fields and encodings.
    #[test]
    fn stellar_rpc_answers_read_and_write_back() {
        let sent = json!({"status": "ERROR", "hash": "ab", "latestLedger": 45,
            "latestLedgerCloseTime": "1717000000", "errorResultXdr": "AAAAAAAAAGT////7AAAAAA=="});
        let r: SendTransactionResult = serde_json::from_value(sent.clone()).unwrap();
        assert_eq!(r.status, SendStatus::Error);
        assert_eq!(r.latest_ledger_close_time, 1_717_000_000);
        assert_eq!(serde_json::to_value(&r).unwrap(), sent);
        let r: SendTransactionResult =
            serde_json::from_value(json!({"status": "SOMETHING_NEW", "hash": "ab"})).unwrap();
        assert_eq!(r.status, SendStatus::Unknown);

        let found = json!({"latestLedger": 9, "latestLedgerCloseTime": "100",
            "oldestLedger": 1, "oldestLedgerCloseTime": "50", "status": "SUCCESS",
            "txHash": "cd", "applicationOrder": 1, "feeBump": false, "envelopeXdr": "AAAA",
            "resultXdr": "BBBB", "resultMetaXdr": "CCCC", "events": {}, "ledger": 8,
            "createdAt": "99"});
        let t: GetTransactionResult = serde_json::from_value(found.clone()).unwrap();
        assert_eq!(t.details.status, TxStatus::Success);
        assert_eq!((t.details.ledger, t.created_at), (Some(8), Some(99)));
        assert_eq!(serde_json::to_value(&t).unwrap(), found);
        let missing = json!({"latestLedger": 9, "latestLedgerCloseTime": "100",
            "oldestLedger": 1, "oldestLedgerCloseTime": "50", "status": "NOT_FOUND",
            "txHash": "cd"});
        let t: GetTransactionResult = serde_json::from_value(missing.clone()).unwrap();
        assert_eq!(t.details, TransactionDetails::not_found("cd".into()));
        assert_eq!(serde_json::to_value(&t).unwrap(), missing);

        let page = json!({"transactions": [{"status": "FAILED", "txHash": "ef",
            "applicationOrder": 2, "feeBump": true, "envelopeXdr": "AAAA", "resultXdr": "BBBB",
            "resultMetaXdr": "CCCC", "events": {"contractEventsXdr": [["DDDD"]]}, "ledger": 3,
            "createdAt": 77}], "latestLedger": 4, "latestLedgerCloseTimestamp": 80,
            "oldestLedger": 1, "oldestLedgerCloseTimestamp": 10, "cursor": "12884905985"});
        let p: GetTransactionsResult = serde_json::from_value(page.clone()).unwrap();
        assert_eq!(p.transactions[0].created_at, 77);
        assert_eq!(serde_json::to_value(&p).unwrap(), page);

        let entries = json!({"entries": [{"key": "AAAA", "xdr": "BBBB", "extXdr": "AAAAAA==",
            "lastModifiedLedgerSeq": 4}], "latestLedger": 5});
        let e: GetLedgerEntriesResult = serde_json::from_value(entries.clone()).unwrap();
        assert_eq!(e.entries[0].xdr.as_deref(), Some("BBBB"));
        assert_eq!(serde_json::to_value(&e).unwrap(), entries);

        let latest = json!({"id": "aa", "protocolVersion": 23, "sequence": 7,
            "closeTime": "1717", "headerXdr": "AAAA", "metadataXdr": "BBBB"});
        let l: GetLatestLedgerResult = serde_json::from_value(latest.clone()).unwrap();
        assert_eq!((l.sequence, l.close_time), (7, Some(1717)));
        assert_eq!(serde_json::to_value(&l).unwrap(), latest);
        // an older server without the close time or the header
        let l: GetLatestLedgerResult =
            serde_json::from_value(json!({"id": "aa", "protocolVersion": 22, "sequence": 7}))
                .unwrap();
        assert_eq!((l.close_time, l.header_xdr), (None, None));
    }
}
