//! Stellar RPC on the sandbox's ledger: JSON-RPC 2.0 at `POST /rpc` (stellar-rpc's
//! `cmd/stellar-rpc/internal/methods/*.go` and the request and response types of
//! `protocols/rpc`, read for field names and shapes).
//!
//! The messages are the library's types (`airgap::rpc`: the envelope, each method's parameters and
//! result), written here and read by the relay's RPC client.
//!
//! This file: the JSON-RPC envelope (single calls and batches, stellar-rpc's error codes from
//! jrpc2) and the method table. `methods`: network, ledgers, entries, fees, submission and
//! transactions; `events`: `getEvents` with CAP-67 classic events; `xdr`: base64 or SEP-51 JSON
//! (`xdrFormat`); `ledger_meta`: the latest ledger's header and close meta.

use std::io::Read;

use airgap::rpc::{code, method, ErrorObject, Response};
use serde::Serialize;
use serde_json::Value;
use tiny_http::Request;

use crate::server::{Reply, Shared};

mod events;
mod ledger_meta;
mod methods;
mod xdr;

/// The largest request body read (stellar-rpc's HTTP server limits requests too).
const MAX_BODY: u64 = 512 * 1024;

/// A JSON-RPC error (the library's type, `airgap::rpc`).
pub type RpcError = ErrorObject;

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
                RpcError::new(code::INVALID_REQUEST, "request too large"),
            ),
        );
    }
    let parsed: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            let err = RpcError::new(code::PARSE_ERROR, format!("invalid JSON: {e}"));
            return Reply::json(200, &failure(Value::Null, err));
        }
    };
    match parsed {
        Value::Array(calls) if calls.is_empty() => Reply::json(
            200,
            &failure(
                Value::Null,
                RpcError::new(code::INVALID_REQUEST, "empty request batch"),
            ),
        ),
        Value::Array(calls) => {
            let answers: Vec<Response<Value>> =
                calls.iter().filter_map(|c| call(shared, c)).collect();
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

fn failure(id: Value, err: RpcError) -> Response<Value> {
    Response::failure(id, err)
}

/// One call: its answer, or `None` for a notification. The envelope is checked field by field
/// (not read as `airgap::rpc::Request`) so that a bad call still gets its own `id` back.
fn call(shared: &Shared, request: &Value) -> Option<Response<Value>> {
    let Some(obj) = request.as_object() else {
        return Some(failure(
            Value::Null,
            RpcError::new(code::INVALID_REQUEST, "invalid request"),
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
            RpcError::new(code::INVALID_REQUEST, "invalid request"),
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
                    RpcError::params("parameters must be an object of named parameters"),
                )
            })
        }
    };
    let result = dispatch(shared, method, &params);
    let id = id?;
    Some(match result {
        Ok(result) => Response::success(id, result),
        Err(err) => failure(id, err),
    })
}

/// A typed result as the JSON it is answered with.
fn value(result: Result<impl Serialize>) -> Result<Value> {
    serde_json::to_value(result?).map_err(|e| RpcError::internal(format!("answer: {e}")))
}

fn dispatch(shared: &Shared, name: &str, params: &Value) -> Result<Value> {
    match name {
        method::GET_HEALTH => value(methods::get_health(shared)),
        method::GET_NETWORK => value(methods::get_network(shared)),
        method::GET_VERSION_INFO => value(methods::get_version_info()),
        method::GET_LATEST_LEDGER => value(methods::get_latest_ledger(shared)),
        method::GET_FEE_STATS => value(methods::get_fee_stats(shared)),
        method::GET_LEDGER_ENTRIES => value(methods::get_ledger_entries(shared, params)),
        method::SEND_TRANSACTION => value(methods::send_transaction(shared, params)),
        method::GET_TRANSACTION => value(methods::get_transaction(shared, params)),
        method::GET_TRANSACTIONS => value(methods::get_transactions(shared, params)),
        method::GET_EVENTS => value(events::get_events(shared, params)),
        method::SIMULATE_TRANSACTION => Err(RpcError::new(
            code::INVALID_REQUEST,
            "simulateTransaction is not available: this rehearsal ledger has no Soroban (no \
             contracts to simulate); classic transactions need no simulation",
        )),
        _ => Err(RpcError::new(
            code::METHOD_NOT_FOUND,
            format!("method not found: {name:?}"),
        )),
    }
}

/// The named parameters as the method's parameter type (`airgap::rpc`).
fn params_as<T: serde::de::DeserializeOwned>(params: &Value) -> Result<T> {
    serde_json::from_value(params.clone())
        .map_err(|e| RpcError::params(format!("invalid parameters: {e}")))
}
