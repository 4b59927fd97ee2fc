//! `xdrFormat`: XDR fields as base64 (`fooXdr`), or with `"json"` as SEP-51 JSON (`fooJson`),
//! the `stellar-xdr` crate's serde form (what stellar-cli prints), as stellar-rpc's `xdr2json`.

use airgap::rpc::XdrFormat;
use serde_json::Value;
use stellar_xdr::{Limits, ReadXdr, WriteXdr};

use super::{Result, RpcError};

/// `xdrFormat` from the parameters (`IsValidFormat`).
pub fn format(given: Option<&str>) -> Result<XdrFormat> {
    XdrFormat::parse(given).map_err(RpcError::params)
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

/// A value as its format asks: `(Some(base64), None)` or `(None, Some(json))`.
pub fn either<T: WriteXdr + serde::Serialize>(
    value: &T,
    fmt: XdrFormat,
) -> Result<(Option<String>, Option<Value>)> {
    Ok(match fmt {
        XdrFormat::Base64 => (Some(encode(value)?), None),
        XdrFormat::Json => (None, Some(to_json(value)?)),
    })
}

/// A stored base64 field as its format asks: kept as it is, or decoded into SEP-51 JSON.
pub fn stored<T: ReadXdr + serde::Serialize>(
    base64: &str,
    fmt: XdrFormat,
) -> Result<(Option<String>, Option<Value>)> {
    Ok(match fmt {
        XdrFormat::Base64 => (Some(base64.to_string()), None),
        XdrFormat::Json => (None, Some(to_json(&decode::<T>(base64)?)?)),
    })
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
