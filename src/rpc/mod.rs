//! Stellar RPC's JSON-RPC messages as types: the one model the relay's RPC client reads and the
//! sandbox's RPC server writes, as [`crate::horizon`] is for Horizon (reference:
//! `../shared/reference/stellar-rpc.md`, after stellar-rpc's `protocols/rpc` request and response
//! types and its `cmd/stellar-rpc/internal/methods/*.go` handlers).
//!
//! This file: the JSON-RPC 2.0 envelope ([`Request`], [`Response`], [`ErrorObject`] and
//! stellar-rpc's error [`code`]s), `xdrFormat` ([`XdrFormat`]) and the integers stellar-rpc writes
//! as JSON strings. [`methods`]: the parameters and results of every method the sandbox serves
//! (`getHealth`, `getNetwork`, `getVersionInfo`, `getLatestLedger`, `getFeeStats`,
//! `getLedgerEntries`, `sendTransaction`, `getTransaction`, `getTransactions`); [`events`]:
//! `getEvents`.
//!
//! XDR fields come in two spellings, as stellar-rpc writes them: base64 under `fooXdr` (the
//! default), or with `"xdrFormat": "json"` SEP-51 JSON under `fooJson`; both are optional fields
//! of the same type, and a writer fills the one its format asks for.
//!
//! Reading is lenient where servers differ: integers stellar-rpc writes as strings (close times)
//! read from strings or numbers, fields a client does not act on default when missing. Only
//! shapes here: no I/O.
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub mod events;
pub mod methods;

pub use events::{EventFilter, EventInfo, GetEventsParams, GetEventsResult};
pub use methods::{
    FeeDistribution, GetFeeStatsResult, GetHealthResult, GetLatestLedgerResult,
    GetLedgerEntriesParams, GetLedgerEntriesResult, GetNetworkResult, GetTransactionParams,
    GetTransactionResult, GetTransactionsParams, GetTransactionsResult, GetVersionInfoResult,
    LedgerEntryResult, Pagination, SendStatus, SendTransactionParams, SendTransactionResult,
    TransactionDetails, TransactionEvents, TransactionInfo, TxStatus,
};

/// The protocol version every message carries.
pub const JSONRPC: &str = "2.0";

/// Method names.
pub mod method {
    pub const GET_HEALTH: &str = "getHealth";
    pub const GET_NETWORK: &str = "getNetwork";
    pub const GET_VERSION_INFO: &str = "getVersionInfo";
    pub const GET_LATEST_LEDGER: &str = "getLatestLedger";
    pub const GET_FEE_STATS: &str = "getFeeStats";
    pub const GET_LEDGER_ENTRIES: &str = "getLedgerEntries";
    pub const SEND_TRANSACTION: &str = "sendTransaction";
    pub const GET_TRANSACTION: &str = "getTransaction";
    pub const GET_TRANSACTIONS: &str = "getTransactions";
    pub const GET_EVENTS: &str = "getEvents";
    pub const SIMULATE_TRANSACTION: &str = "simulateTransaction";
}

/// jrpc2's error codes, as stellar-rpc answers them.
pub mod code {
    pub const PARSE_ERROR: i64 = -32700;
    pub const INVALID_REQUEST: i64 = -32600;
    pub const METHOD_NOT_FOUND: i64 = -32601;
    pub const INVALID_PARAMS: i64 = -32602;
    pub const INTERNAL_ERROR: i64 = -32603;
}

/// One call. `params` are named (stellar-rpc's handlers take them by name); a call without `id`
/// is a notification and gets no answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Request<P> {
    pub jsonrpc: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Value>,
    pub method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<P>,
}

impl<P> Request<P> {
    /// A call of `method` with `params`, numbered `id`.
    pub fn new(id: u64, method: &str, params: Option<P>) -> Request<P> {
        Request {
            jsonrpc: JSONRPC.to_string(),
            id: Some(Value::from(id)),
            method: method.to_string(),
            params,
        }
    }
}

/// The answer to one call: `result` or `error`, with the call's `id` (`null` when the call could
/// not be read).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Response<R> {
    pub jsonrpc: String,
    #[serde(default)]
    pub id: Value,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub result: Option<R>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorObject>,
}

fn none<R>() -> Option<R> {
    None
}

impl<R> Response<R> {
    pub fn success(id: Value, result: R) -> Response<R> {
        Response {
            jsonrpc: JSONRPC.to_string(),
            id,
            result: Some(result),
            error: None,
        }
    }

    pub fn failure(id: Value, error: ErrorObject) -> Response<R> {
        Response {
            jsonrpc: JSONRPC.to_string(),
            id,
            result: None,
            error: Some(error),
        }
    }
}

/// A JSON-RPC error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorObject {
    pub code: i64,
    #[serde(default)]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl ErrorObject {
    pub fn new(code: i64, message: impl Into<String>) -> ErrorObject {
        ErrorObject {
            code,
            message: message.into(),
            data: None,
        }
    }

    pub fn params(message: impl Into<String>) -> ErrorObject {
        ErrorObject::new(code::INVALID_PARAMS, message)
    }

    pub fn internal(message: impl Into<String>) -> ErrorObject {
        ErrorObject::new(code::INTERNAL_ERROR, message)
    }
}

impl std::fmt::Display for ErrorObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (JSON-RPC error {})", self.message, self.code)
    }
}

/// `xdrFormat`: how XDR fields are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum XdrFormat {
    /// Base64 under `fooXdr` (also what an absent or empty `xdrFormat` means).
    #[default]
    Base64,
    /// SEP-51 JSON under `fooJson`.
    Json,
}

impl XdrFormat {
    /// stellar-rpc's `IsValidFormat`: absent, empty or `base64`, or `json`.
    pub fn parse(given: Option<&str>) -> Result<XdrFormat, String> {
        match given {
            None | Some("") | Some("base64") => Ok(XdrFormat::Base64),
            Some("json") => Ok(XdrFormat::Json),
            Some(other) => Err(format!(
                "got '{other}': expected base64, json for optional 'xdrFormat'"
            )),
        }
    }

    /// The parameter as a request carries it (`None` for the default).
    pub fn param(self) -> Option<String> {
        match self {
            XdrFormat::Base64 => None,
            XdrFormat::Json => Some("json".into()),
        }
    }
}

/// Integers stellar-rpc writes as JSON strings (`json:",string"` in Go): written as strings,
/// read from strings or numbers.
pub mod int_string {
    use serde::{de, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumOrText {
        Num(u64),
        Text(String),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        match NumOrText::deserialize(d)? {
            NumOrText::Num(n) => Ok(n),
            NumOrText::Text(t) => t.trim().parse().map_err(de::Error::custom),
        }
    }

    /// The same for an optional field (absent or `null`: `None`).
    pub mod option {
        use super::NumOrText;
        use serde::{de, Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
            match v {
                Some(n) => s.collect_str(n),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
            match Option::<NumOrText>::deserialize(d)? {
                None => Ok(None),
                Some(NumOrText::Num(n)) => Ok(Some(n)),
                Some(NumOrText::Text(t)) => t.trim().parse().map(Some).map_err(de::Error::custom),
            }
        }
    }
}

/// Integers stellar-rpc writes as JSON numbers, read leniently from strings too.
pub mod int_lenient {
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(*v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        super::int_string::deserialize(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn envelope_round_trips_and_reads_errors() {
        let req = Request::new(3, method::GET_HEALTH, None::<Value>);
        assert_eq!(
            serde_json::to_value(&req).unwrap(),
            json!({"jsonrpc": "2.0", "id": 3, "method": "getHealth"})
        );
        let ok: Response<GetHealthResult> = serde_json::from_value(json!({
            "jsonrpc": "2.0", "id": 3, "result": {"status": "healthy", "latestLedger": 9,
            "latestLedgerCloseTime": 100, "oldestLedger": 1, "ledgerRetentionWindow": 120960}
        }))
        .unwrap();
        assert_eq!(ok.result.unwrap().latest_ledger, 9);
        let err: Response<GetHealthResult> = serde_json::from_value(json!({
            "jsonrpc": "2.0", "id": 3, "error": {"code": -32601, "message": "method not found"}
        }))
        .unwrap();
        assert!(err.result.is_none());
        assert_eq!(err.error.unwrap().code, code::METHOD_NOT_FOUND);
        let failure: Response<Value> = Response::failure(Value::Null, ErrorObject::params("bad"));
        assert_eq!(
            serde_json::to_value(&failure).unwrap(),
            json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32602, "message": "bad"}})
        );
    }

    #[test]
    fn xdr_format_as_stellar_rpc_validates_it() {
        assert_eq!(XdrFormat::parse(None), Ok(XdrFormat::Base64));
        assert_eq!(XdrFormat::parse(Some("")), Ok(XdrFormat::Base64));
        assert_eq!(XdrFormat::parse(Some("json")), Ok(XdrFormat::Json));
        assert!(XdrFormat::parse(Some("yaml"))
            .unwrap_err()
            .contains("expected base64, json"));
    }

    #[test]
    fn string_integers_read_from_strings_and_numbers() {
        #[derive(Serialize, Deserialize)]
        struct T {
            #[serde(with = "int_string")]
            a: u64,
            #[serde(with = "int_string::option", default)]
            b: Option<u64>,
        }
        let t: T = serde_json::from_value(json!({"a": "12", "b": 7})).unwrap();
        assert_eq!((t.a, t.b), (12, Some(7)));
        let t: T = serde_json::from_value(json!({"a": 5})).unwrap();
        assert_eq!(t.b, None);
        assert_eq!(
            serde_json::to_value(T { a: 1, b: Some(2) }).unwrap(),
            json!({"a": "1", "b": "2"})
        );
        assert!(serde_json::from_value::<T>(json!({"a": "x"})).is_err());
    }
}
