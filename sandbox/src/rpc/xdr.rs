//! `xdrFormat`: XDR fields as base64 (`fooXdr`), or with `"json"` as SEP-51 JSON (`fooJson`),
//! the `stellar-xdr` crate's serde form (what stellar-cli prints), as stellar-rpc's `xdr2json`.

use serde_json::{Map, Value};
use stellar_xdr::{Limits, ReadXdr, WriteXdr};

use super::{Result, RpcError};

/// How XDR fields are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Base64,
    Json,
}

/// `xdrFormat` from the parameters (`IsValidFormat`).
pub fn format(params: &Value) -> Result<Format> {
    match params.get("xdrFormat").and_then(Value::as_str) {
        None | Some("") | Some("base64") => Ok(Format::Base64),
        Some("json") => Ok(Format::Json),
        Some(other) => Err(RpcError::params(format!(
            "got '{other}': expected base64, json for optional 'xdrFormat'"
        ))),
    }
}

/// An XDR value as SEP-51 JSON.
pub fn to_json<T: serde::Serialize>(value: &T) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| RpcError::internal(format!("XDR to JSON: {e}")))
}

/// Decode stored base64 XDR.
pub fn decode<T: ReadXdr>(base64: &str) -> Result<T> {
    T::from_xdr_base64(base64, Limits::none())
        .map_err(|e| RpcError::internal(format!("stored XDR does not decode: {e}")))
}

/// Encode XDR as base64.
pub fn encode<T: WriteXdr>(value: &T) -> Result<String> {
    value
        .to_xdr_base64(Limits::none())
        .map_err(|e| RpcError::internal(format!("XDR encoding: {e}")))
}

/// Put a stored base64 field into `out` as `{name}Xdr`, or decoded as `{name}Json`.
pub fn put<T: ReadXdr + serde::Serialize>(
    out: &mut Map<String, Value>,
    name: &str,
    base64: &str,
    fmt: Format,
) -> Result<()> {
    match fmt {
        Format::Base64 => {
            out.insert(format!("{name}Xdr"), Value::String(base64.to_string()));
        }
        Format::Json => {
            let value: T = decode(base64)?;
            out.insert(format!("{name}Json"), to_json(&value)?);
        }
    }
    Ok(())
}

/// Decode base64 XDR from a request, with bounded length and depth.
pub fn decode_untrusted<T: ReadXdr>(base64: &str) -> std::result::Result<T, stellar_xdr::Error> {
    T::from_xdr_base64(
        base64,
        Limits {
            depth: 100,
            len: 64 * 1024,
        },
    )
}
