//! A minimal Stellar RPC client (JSON-RPC 2.0 over HTTP POST, bounded reads): the read methods
//! `watch` needs — `getHealth`, `getNetwork`, `getEvents`, `getTransaction` — and their answers
//! as types. The relay's full RPC client (issue 13: typed models in the library, submission, a
//! network-client trait) takes its place when it lands; `watch::rpc::Calls` is what `watch`
//! asks of either.
use serde::Deserialize;
use serde_json::{json, Value};
use std::io::Read;
use std::time::Duration;

/// The most bytes read from one answer (a page of 1000 events is a few hundred kilobytes).
pub const MAX_BODY: u64 = 16 << 20;
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RpcError {
    #[error("Stellar RPC at {url} could not be reached: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("Stellar RPC at {url} answered HTTP {status} to {method}")]
    Status {
        url: String,
        method: String,
        status: u16,
    },
    #[error("Stellar RPC refused {method}: {message} ({code})")]
    Refused {
        method: String,
        code: i64,
        message: String,
    },
    #[error("Stellar RPC's answer to {method} is not what Stellar RPC sends: {reason}")]
    BadBody { method: String, reason: String },
    #[error("\"{0}\" is not a Stellar RPC URL; write http://HOST:PORT/PATH or https://HOST/PATH")]
    BadUrl(String),
}

/// `getHealth`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    #[serde(default)]
    pub status: String,
    pub latest_ledger: u32,
    pub oldest_ledger: u32,
}

/// `getNetwork`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkInfo {
    pub passphrase: String,
    #[serde(default)]
    pub protocol_version: u32,
}

/// `getEvents`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Events {
    #[serde(default)]
    pub events: Vec<EventInfo>,
    pub cursor: String,
    pub latest_ledger: u32,
    #[serde(default)]
    pub oldest_ledger: u32,
}

/// One event of `getEvents`, its topics and value base64 `ScVal`s.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventInfo {
    pub id: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    pub ledger: u32,
    pub ledger_closed_at: String,
    #[serde(default)]
    pub contract_id: String,
    pub tx_hash: String,
    #[serde(default)]
    pub transaction_index: u32,
    pub operation_index: u32,
    #[serde(default)]
    pub topic: Vec<String>,
    pub value: String,
}

/// `getTransaction`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionInfo {
    /// `SUCCESS`, `FAILED` or `NOT_FOUND`.
    pub status: String,
    #[serde(default)]
    pub ledger: Option<u32>,
    #[serde(default)]
    pub envelope_xdr: Option<String>,
    #[serde(default)]
    pub result_xdr: Option<String>,
    #[serde(default)]
    pub fee_bump: bool,
}

/// A Stellar RPC server.
pub struct Rpc {
    agent: ureq::Agent,
    url: String,
}

impl Rpc {
    pub fn new(url: &str) -> Result<Rpc, RpcError> {
        let url = url.trim().to_string();
        let ok_scheme = url.starts_with("http://") || url.starts_with("https://");
        if !ok_scheme || url.contains(char::is_whitespace) || url.len() < 10 {
            return Err(RpcError::BadUrl(url));
        }
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(10))
            .timeout(REQUEST_TIMEOUT)
            .redirects(0)
            .user_agent(concat!("airgap-relay/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Rpc { agent, url })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Call `method` with `params`; its `result`, read as `T`.
    pub fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        params: Value,
    ) -> Result<T, RpcError> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let resp = match self
            .agent
            .post(&self.url)
            .set("Content-Type", "application/json")
            .send_string(&body.to_string())
        {
            Ok(r) => r,
            Err(ureq::Error::Status(status, _)) => {
                return Err(RpcError::Status {
                    url: self.url.clone(),
                    method: method.into(),
                    status,
                })
            }
            Err(ureq::Error::Transport(t)) => {
                return Err(RpcError::Unreachable {
                    url: self.url.clone(),
                    reason: t.to_string(),
                })
            }
        };
        let mut text = Vec::new();
        resp.into_reader()
            .take(MAX_BODY)
            .read_to_end(&mut text)
            .map_err(|e| RpcError::Unreachable {
                url: self.url.clone(),
                reason: format!("reading the answer failed: {e}"),
            })?;
        let bad = |reason: String| RpcError::BadBody {
            method: method.into(),
            reason,
        };
        let v: Value = serde_json::from_slice(&text).map_err(|e| bad(e.to_string()))?;
        if let Some(err) = v.get("error") {
            return Err(RpcError::Refused {
                method: method.into(),
                code: err.get("code").and_then(Value::as_i64).unwrap_or(0),
                message: airgap::text::escape_bytes(
                    err.get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .as_bytes(),
                ),
            });
        }
        let result = v
            .get("result")
            .cloned()
            .ok_or_else(|| bad("no result".into()))?;
        serde_json::from_value(result).map_err(|e| bad(e.to_string()))
    }

    pub fn health(&self) -> Result<Health, RpcError> {
        self.call("getHealth", Value::Null)
    }

    pub fn network(&self) -> Result<NetworkInfo, RpcError> {
        self.call("getNetwork", Value::Null)
    }

    /// `getEvents` from `start_ledger`, or after `cursor` when given.
    pub fn events(
        &self,
        start_ledger: Option<u32>,
        cursor: Option<&str>,
        filters: &Value,
        limit: u32,
    ) -> Result<Events, RpcError> {
        let mut pagination = json!({"limit": limit});
        if let Some(c) = cursor {
            pagination["cursor"] = json!(c);
        }
        let mut params = json!({"filters": filters, "pagination": pagination});
        if let Some(l) = start_ledger {
            params["startLedger"] = json!(l);
        }
        self.call("getEvents", params)
    }

    pub fn transaction(&self, hash: &str) -> Result<TransactionInfo, RpcError> {
        self.call("getTransaction", json!({"hash": hash}))
    }
}
