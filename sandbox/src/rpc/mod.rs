//! Stellar RPC on the sandbox's ledger: JSON-RPC 2.0 at `POST /rpc` (stellar-rpc's
//! `cmd/stellar-rpc/internal/methods/*.go` and the request and response types of
//! `protocols/rpc`, read for field names and shapes).
//!
//! This file: the JSON-RPC envelope (single calls and batches, stellar-rpc's error codes from
//! jrpc2) and the method table. `methods`: network, ledgers, entries, fees, submission and
//! transactions; `events`: `getEvents` with CAP-67 classic events; `xdr`: base64 or SEP-51 JSON
//! (`xdrFormat`); `ledger_meta`: the latest ledger's header and close meta.

use std::io::Read;

use serde_json::{json, Value};
use tiny_http::Request;

use crate::server::{Reply, Shared};

mod events;
mod ledger_meta;
mod methods;
mod xdr;

/// The largest request body read (stellar-rpc's HTTP server limits requests too).
const MAX_BODY: u64 = 512 * 1024;

/// jrpc2's error codes, as stellar-rpc answers them.
pub mod code {
    pub const PARSE_ERROR: i64 = -32700;
    pub const INVALID_REQUEST: i64 = -32600;
    pub const METHOD_NOT_FOUND: i64 = -32601;
    pub const INVALID_PARAMS: i64 = -32602;
    pub const INTERNAL_ERROR: i64 = -32603;
}

/// A JSON-RPC error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
}

impl RpcError {
    pub fn new(code: i64, message: impl Into<String>) -> RpcError {
        RpcError {
            code,
            message: message.into(),
        }
    }

    pub fn params(message: impl Into<String>) -> RpcError {
        RpcError::new(code::INVALID_PARAMS, message)
    }

    pub fn internal(message: impl Into<String>) -> RpcError {
        RpcError::new(code::INTERNAL_ERROR, message)
    }
}

type Result<T> = std::result::Result<T, RpcError>;

/// `POST /rpc`.
pub(crate) fn handle(shared: &Shared, req: &mut Request) -> Reply {
    let mut body = Vec::new();
    let read = req.as_reader().take(MAX_BODY + 1).read_to_end(&mut body);
    if read.is_err() || body.len() as u64 > MAX_BODY {
        return Reply::json(
            413,
            &failure(
                Value::Null,
                &RpcError::new(code::INVALID_REQUEST, "request too large"),
            ),
        );
    }
    let parsed: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            let err = RpcError::new(code::PARSE_ERROR, format!("invalid JSON: {e}"));
            return Reply::json(200, &failure(Value::Null, &err));
        }
    };
    match parsed {
        Value::Array(calls) if calls.is_empty() => Reply::json(
            200,
            &failure(
                Value::Null,
                &RpcError::new(code::INVALID_REQUEST, "empty request batch"),
            ),
        ),
        Value::Array(calls) => {
            let answers: Vec<Value> = calls.iter().filter_map(|c| call(shared, c)).collect();
            Reply::json(200, &answers)
        }
        one => match call(shared, &one) {
            Some(answer) => Reply::json(200, &answer),
            // a notification (no id) gets no answer
            None => Reply::empty(204),
        },
    }
}

/// Any other method on `/rpc`.
pub(crate) fn method_not_allowed() -> Reply {
    Reply::text(405, "Method Not Allowed").with_header("Allow", "POST".into())
}

fn failure(id: Value, err: &RpcError) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": err.code, "message": err.message}})
}

/// One call: its answer, or `None` for a notification.
fn call(shared: &Shared, request: &Value) -> Option<Value> {
    let Some(obj) = request.as_object() else {
        return Some(failure(
            Value::Null,
            &RpcError::new(code::INVALID_REQUEST, "invalid request"),
        ));
    };
    let id = obj.get("id").cloned();
    let valid_id = matches!(
        id,
        None | Some(Value::Null | Value::String(_) | Value::Number(_))
    );
    let version_ok = obj.get("jsonrpc").and_then(Value::as_str) == Some("2.0");
    let method = obj.get("method").and_then(Value::as_str);
    let (Some(method), true, true) = (method, version_ok, valid_id) else {
        return Some(failure(
            id.unwrap_or(Value::Null),
            &RpcError::new(code::INVALID_REQUEST, "invalid request"),
        ));
    };
    let params = match obj.get("params") {
        None | Some(Value::Null) => Value::Object(Default::default()),
        Some(p @ Value::Object(_)) => p.clone(),
        // stellar-rpc's handlers take their parameters by name
        Some(Value::Array(a)) if a.is_empty() => Value::Object(Default::default()),
        Some(_) => {
            return id.map(|id| {
                failure(
                    id,
                    &RpcError::params("parameters must be an object of named parameters"),
                )
            })
        }
    };
    let result = dispatch(shared, method, &params);
    let id = id?;
    Some(match result {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err(err) => failure(id, &err),
    })
}

fn dispatch(shared: &Shared, method: &str, params: &Value) -> Result<Value> {
    match method {
        "getHealth" => methods::get_health(shared),
        "getNetwork" => methods::get_network(shared),
        "getVersionInfo" => methods::get_version_info(),
        "getLatestLedger" => methods::get_latest_ledger(shared),
        "getFeeStats" => methods::get_fee_stats(shared),
        "getLedgerEntries" => methods::get_ledger_entries(shared, params),
        "sendTransaction" => methods::send_transaction(shared, params),
        "getTransaction" => methods::get_transaction(shared, params),
        "getTransactions" => methods::get_transactions(shared, params),
        "getEvents" => events::get_events(shared, params),
        "simulateTransaction" => Err(RpcError::new(
            code::INVALID_REQUEST,
            "simulateTransaction is not available: this rehearsal ledger has no Soroban (no \
             contracts to simulate); classic transactions need no simulation",
        )),
        _ => Err(RpcError::new(
            code::METHOD_NOT_FOUND,
            format!("method not found: {method:?}"),
        )),
    }
}

/// A parameter by name, deserialized; absent is `None`.
fn param<T: serde::de::DeserializeOwned>(params: &Value, name: &str) -> Result<Option<T>> {
    match params.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|e| RpcError::params(format!("invalid {name}: {e}"))),
    }
}
