//! The relay's Stellar RPC client (JSON-RPC 2.0 over HTTP POST, bounded reads). The messages are
//! the library's types (`airgap::rpc`, the same the sandbox writes); this module adds only the
//! transport and what the relay decides from an answer: `sendTransaction`'s status as a
//! [`Sent`], ledger entries by key (accounts, trustlines, data), the latest ledger. `watch`
//! reads it through `watch::rpc::Calls`.
use airgap::horizon::codes::ResultCodes;
use airgap::rpc::{
    method, EventFilter, GetEventsParams, GetEventsResult, GetFeeStatsResult, GetHealthResult,
    GetLatestLedgerResult, GetLedgerEntriesParams, GetLedgerEntriesResult, GetNetworkResult,
    GetTransactionParams, GetTransactionResult, Pagination, Request, Response, SendStatus,
    SendTransactionParams,
};
use serde::Serialize;
use serde_json::Value;
use std::io::Read;
use std::time::Duration;
use stellar_xdr::{
    AccountEntry, AccountId, LedgerEntryData, LedgerKey, LedgerKeyAccount, LedgerKeyTrustLine,
    Limits, ReadXdr, TransactionResult, TrustLineAsset, TrustLineEntry, WriteXdr,
};

/// The most bytes read from one answer (a page of 1000 events is a few hundred kilobytes).
pub const MAX_BODY: u64 = 16 << 20;
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// `getLedgerEntries` takes at most this many keys.
pub const MAX_LEDGER_KEYS: usize = 200;

/// Bounds for XDR read from a server (it is untrusted).
const XDR_LIMITS: Limits = Limits {
    depth: 200,
    len: 4 << 20,
};

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
        /// How long the server asked to be left alone (`Retry-After`, on 429 and 503).
        retry_after: Option<std::time::Duration>,
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

impl RpcError {
    /// The server did not answer, or was busy (429, 5xx): worth trying again.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            RpcError::Unreachable { .. }
                | RpcError::Status {
                    status: 429 | 500..=599,
                    ..
                }
        )
    }

    /// The wait the server asked for before the next request (`Retry-After`), if any.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            RpcError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// What `sendTransaction` said, as the relay acts on it.
#[derive(Clone, Debug, PartialEq)]
pub enum Sent {
    /// In the queue: poll `getTransaction` for `hash`.
    Pending { hash: String },
    /// Already in the queue (or a ledger): poll, never send it again as new.
    Duplicate { hash: String },
    /// Not taken now (one transaction per source account per ledger, or a replacement below ten
    /// times the fee): wait for a ledger after `latest_ledger` and send the same bytes again.
    TryAgainLater { latest_ledger: u32 },
    /// Refused at admission (never applied, no fee): the result and its codes.
    Error {
        result: Box<TransactionResult>,
        codes: ResultCodes,
    },
}

impl Sent {
    /// The relay's reading of a `sendTransaction` answer.
    pub fn from_result(r: airgap::rpc::SendTransactionResult) -> Result<Sent, String> {
        match r.status {
            SendStatus::Pending => Ok(Sent::Pending { hash: r.hash }),
            SendStatus::Duplicate => Ok(Sent::Duplicate { hash: r.hash }),
            SendStatus::TryAgainLater => Ok(Sent::TryAgainLater {
                latest_ledger: r.latest_ledger,
            }),
            SendStatus::Error => {
                let b64 = r
                    .error_result_xdr
                    .ok_or("status ERROR without errorResultXdr")?;
                let result = TransactionResult::from_xdr_base64(&b64, XDR_LIMITS)
                    .map_err(|e| format!("errorResultXdr cannot be read: {e}"))?;
                let codes = ResultCodes::of(&result);
                Ok(Sent::Error {
                    result: Box::new(result),
                    codes,
                })
            }
            SendStatus::Unknown => Err("a sendTransaction status this relay does not know".into()),
        }
    }
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
    pub fn call<P: Serialize, T: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        params: Option<P>,
    ) -> Result<T, RpcError> {
        let body = serde_json::to_string(&Request::new(1, method, params)).map_err(|e| {
            RpcError::BadBody {
                method: method.into(),
                reason: format!("the request cannot be written: {e}"),
            }
        })?;
        let resp = match self
            .agent
            .post(&self.url)
            .set("Content-Type", "application/json")
            .send_string(&body)
        {
            Ok(r) => r,
            Err(ureq::Error::Status(status, resp)) => {
                return Err(RpcError::Status {
                    url: self.url.clone(),
                    method: method.into(),
                    status,
                    retry_after: crate::horizon::retry_after(&resp),
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
        read_answer(method, &text)
    }

    pub fn health(&self) -> Result<GetHealthResult, RpcError> {
        self.call(method::GET_HEALTH, None::<Value>)
    }

    pub fn network(&self) -> Result<GetNetworkResult, RpcError> {
        self.call(method::GET_NETWORK, None::<Value>)
    }

    pub fn latest_ledger(&self) -> Result<GetLatestLedgerResult, RpcError> {
        self.call(method::GET_LATEST_LEDGER, None::<Value>)
    }

    pub fn fee_stats(&self) -> Result<GetFeeStatsResult, RpcError> {
        self.call(method::GET_FEE_STATS, None::<Value>)
    }

    /// `getEvents` from `start_ledger`, or after `cursor` when given.
    pub fn events(
        &self,
        start_ledger: Option<u32>,
        cursor: Option<&str>,
        filters: &[EventFilter],
        limit: u32,
    ) -> Result<GetEventsResult, RpcError> {
        let params = GetEventsParams {
            start_ledger,
            filters: Some(filters.to_vec()),
            pagination: Some(Pagination {
                cursor: cursor.map(str::to_string),
                limit: Some(u64::from(limit)),
            }),
            ..Default::default()
        };
        self.call(method::GET_EVENTS, Some(params))
    }

    /// `getTransaction` by hash (hex).
    pub fn transaction(&self, hash: &str) -> Result<GetTransactionResult, RpcError> {
        let params = GetTransactionParams {
            hash: hash.to_string(),
            xdr_format: None,
        };
        self.call(method::GET_TRANSACTION, Some(params))
    }

    /// `sendTransaction` of a base64 envelope, read as the relay acts on it.
    pub fn send(&self, envelope_b64: &str) -> Result<Sent, RpcError> {
        let params = SendTransactionParams {
            transaction: envelope_b64.to_string(),
            xdr_format: None,
        };
        let r = self.call(method::SEND_TRANSACTION, Some(params))?;
        Sent::from_result(r).map_err(|reason| RpcError::BadBody {
            method: method::SEND_TRANSACTION.into(),
            reason,
        })
    }

    /// `getLedgerEntries` of `keys` (at most [`MAX_LEDGER_KEYS`]): the entries found, each with
    /// its key, data and last-modified ledger, and the latest ledger.
    pub fn ledger_entries(&self, keys: &[LedgerKey]) -> Result<LedgerEntries, RpcError> {
        let bad = |reason: String| RpcError::BadBody {
            method: method::GET_LEDGER_ENTRIES.into(),
            reason,
        };
        let params = GetLedgerEntriesParams {
            keys: keys
                .iter()
                .map(|k| k.to_xdr_base64(Limits::none()))
                .collect::<Result<_, _>>()
                .map_err(|e| bad(format!("a key cannot be written: {e}")))?,
            xdr_format: None,
        };
        let r: GetLedgerEntriesResult = self.call(method::GET_LEDGER_ENTRIES, Some(params))?;
        let mut entries = Vec::with_capacity(r.entries.len());
        for e in r.entries {
            let (Some(key), Some(data)) = (e.key, e.xdr) else {
                return Err(bad("an entry without key or xdr".into()));
            };
            let key = LedgerKey::from_xdr_base64(&key, XDR_LIMITS)
                .map_err(|e| bad(format!("a key cannot be read: {e}")))?;
            let data = LedgerEntryData::from_xdr_base64(&data, XDR_LIMITS)
                .map_err(|e| bad(format!("an entry cannot be read: {e}")))?;
            entries.push((key, data, e.last_modified_ledger_seq));
        }
        Ok(LedgerEntries {
            entries,
            latest_ledger: r.latest_ledger,
        })
    }

    /// An account's entry; `None` when it does not exist.
    pub fn account(&self, id: &AccountId) -> Result<Option<AccountEntry>, RpcError> {
        let key = LedgerKey::Account(LedgerKeyAccount {
            account_id: id.clone(),
        });
        Ok(self
            .ledger_entries(&[key])?
            .entries
            .into_iter()
            .find_map(|(_, data, _)| match data {
                LedgerEntryData::Account(a) => Some(a),
                _ => None,
            }))
    }

    /// A trustline; `None` when the account does not hold one for `asset`.
    pub fn trustline(
        &self,
        id: &AccountId,
        asset: TrustLineAsset,
    ) -> Result<Option<TrustLineEntry>, RpcError> {
        let key = LedgerKey::Trustline(LedgerKeyTrustLine {
            account_id: id.clone(),
            asset,
        });
        Ok(self
            .ledger_entries(&[key])?
            .entries
            .into_iter()
            .find_map(|(_, data, _)| match data {
                LedgerEntryData::Trustline(t) => Some(t),
                _ => None,
            }))
    }
}

/// `getLedgerEntries`' answer, decoded.
#[derive(Clone, Debug)]
pub struct LedgerEntries {
    /// `(key, data, last modified ledger)` of each entry found (absent keys are left out).
    pub entries: Vec<(LedgerKey, LedgerEntryData, u32)>,
    pub latest_ledger: u32,
}

/// A JSON-RPC answer's `result` as `T`, or its error.
fn read_answer<T: serde::de::DeserializeOwned>(method: &str, text: &[u8]) -> Result<T, RpcError> {
    let bad = |reason: String| RpcError::BadBody {
        method: method.into(),
        reason,
    };
    let answer: Response<Value> = serde_json::from_slice(text).map_err(|e| bad(e.to_string()))?;
    if let Some(err) = answer.error {
        return Err(RpcError::Refused {
            method: method.into(),
            code: err.code,
            message: airgap::text::escape_bytes(err.message.as_bytes()),
        });
    }
    let result = answer.result.ok_or_else(|| bad("no result".into()))?;
    serde_json::from_value(result).map_err(|e| bad(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sent(v: Value) -> Result<Sent, String> {
        Sent::from_result(serde_json::from_value(v).unwrap())
    }

    #[test]
    fn send_statuses_as_the_relay_acts_on_them() {
        assert_eq!(
            sent(json!({"status": "PENDING", "hash": "ab", "latestLedger": 4,
                "latestLedgerCloseTime": "9"})),
            Ok(Sent::Pending { hash: "ab".into() })
        );
        assert_eq!(
            sent(
                json!({"status": "DUPLICATE", "hash": "ab", "latestLedger": 4,
                "latestLedgerCloseTime": "9"})
            ),
            Ok(Sent::Duplicate { hash: "ab".into() })
        );
        assert_eq!(
            sent(
                json!({"status": "TRY_AGAIN_LATER", "hash": "ab", "latestLedger": 4,
                "latestLedgerCloseTime": "9"})
            ),
            Ok(Sent::TryAgainLater { latest_ledger: 4 })
        );
        // tx_bad_seq, fee 100: written by stellar-xdr, not by hand
        let result = TransactionResult {
            fee_charged: 100,
            result: stellar_xdr::TransactionResultResult::TxBadSeq,
            ext: stellar_xdr::TransactionResultExt::V0,
        };
        let b64 = result.to_xdr_base64(Limits::none()).unwrap();
        match sent(json!({"status": "ERROR", "hash": "ab", "latestLedger": 4,
            "latestLedgerCloseTime": "9", "errorResultXdr": b64}))
        {
            Ok(Sent::Error { result: r, codes }) => {
                assert_eq!(*r, result);
                assert_eq!(codes.transaction, "tx_bad_seq");
            }
            other => panic!("{other:?}"),
        }
        assert!(sent(json!({"status": "ERROR", "hash": "ab"})).is_err());
        assert!(sent(json!({"status": "ERROR", "hash": "ab", "errorResultXdr": "!!"})).is_err());
        assert!(sent(json!({"status": "LATER_MAYBE", "hash": "ab"})).is_err());
    }

    #[test]
    fn answers_errors_and_junk() {
        let ok: GetHealthResult = read_answer(
            "getHealth",
            br#"{"jsonrpc":"2.0","id":1,"result":{"status":"healthy","latestLedger":9,"oldestLedger":1}}"#,
        )
        .unwrap();
        assert_eq!(ok.latest_ledger, 9);
        match read_answer::<GetHealthResult>(
            "getHealth",
            b"{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32601,\"message\":\"no\\u001b[2J\"}}",
        ) {
            Err(RpcError::Refused { code, message, .. }) => {
                assert_eq!(code, -32601);
                assert!(!message.contains('\u{1b}'), "{message:?}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            read_answer::<GetHealthResult>("getHealth", b"<html>"),
            Err(RpcError::BadBody { .. })
        ));
        assert!(matches!(
            read_answer::<GetHealthResult>("getHealth", br#"{"jsonrpc":"2.0","id":1}"#),
            Err(RpcError::BadBody { .. })
        ));
    }

    /// The client against the sandbox's RPC with 1 s ledgers (the sends of one ledger fit well
    /// inside one): every `sendTransaction` status the relay acts on, produced by the sandbox's
    /// queue (stellar-core's admission rules), and the reads `pay` and the preflight need.
    /// A busy server's `Retry-After` reaches the caller (the submit loop waits that long
    /// instead of polling every 100 ms).
    #[test]
    fn a_busy_servers_retry_after_is_kept() {
        let mut config = airgap_sandbox::SandboxConfig::ephemeral();
        config.rpc_faults = "429:1".parse().unwrap();
        let sandbox = airgap_sandbox::start(config).unwrap();
        let rpc = Rpc::new(&sandbox.rpc_url()).unwrap();
        let e = rpc.health().unwrap_err();
        assert!(matches!(e, RpcError::Status { status: 429, .. }), "{e:?}");
        assert_eq!(e.retry_after(), Some(Duration::from_secs(1)));
    }

    #[test]
    fn against_the_sandbox_every_send_status_and_the_reads() {
        use airgap::keys::SecretSeed;
        use airgap::rpc::TxStatus;
        use std::time::Instant;

        let mut config = airgap_sandbox::SandboxConfig::ephemeral();
        config.close_every = Duration::from_secs(1);
        let sandbox = airgap_sandbox::start(config).unwrap();
        let rpc = Rpc::new(&sandbox.rpc_url()).unwrap();
        assert_eq!(
            rpc.network().unwrap().passphrase,
            airgap_sandbox::PASSPHRASE
        );
        assert_eq!(rpc.health().unwrap().status, "healthy");

        let key = SecretSeed::generate().unwrap();
        let id = key.public_key();
        assert_eq!(rpc.account(&id.to_xdr()).unwrap(), None);
        ureq::get(&format!("{}/friendbot?addr={id}", sandbox.url()))
            .call()
            .unwrap();
        let seq = rpc.account(&id.to_xdr()).unwrap().unwrap().seq_num.0;
        let usdc = TrustLineAsset::CreditAlphanum4(stellar_xdr::AlphaNum4 {
            asset_code: stellar_xdr::AssetCode4(*b"USDC"),
            issuer: id.to_xdr(),
        });
        assert_eq!(rpc.trustline(&id.to_xdr(), usdc).unwrap(), None);

        let tx = |sequence: i64| crate::test_support::create_account_tx(&key, sequence).0;
        let (first, second) = (tx(seq + 1), tx(seq + 2));
        let Sent::Pending { hash } = rpc.send(&first).unwrap() else {
            panic!("the first transaction was not admitted")
        };
        assert_eq!(
            rpc.send(&first).unwrap(),
            Sent::Duplicate { hash: hash.clone() }
        );
        let Sent::TryAgainLater { latest_ledger } = rpc.send(&second).unwrap() else {
            panic!("a second transaction of the account in the same ledger was admitted")
        };

        let applied = |hash: &str| {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let t = rpc.transaction(hash).unwrap();
                if t.details.status != TxStatus::NotFound || Instant::now() > deadline {
                    return t;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        };
        let t = applied(&hash);
        assert_eq!(t.details.status, TxStatus::Success);
        assert!(t.details.ledger.unwrap() > latest_ledger);
        assert!(rpc.latest_ledger().unwrap().sequence >= t.details.ledger.unwrap());
        // with nothing of the account queued: a sequence gap is refused at admission
        match rpc.send(&tx(seq + 5)).unwrap() {
            Sent::Error { codes, .. } => assert_eq!(codes.transaction, "tx_bad_seq"),
            other => panic!("a sequence gap was not refused: {other:?}"),
        }
        // the same bytes, sent again after the ledger closed, are admitted and applied
        let Sent::Pending { hash } = rpc.send(&second).unwrap() else {
            panic!("the second transaction was not admitted after the close")
        };
        assert_eq!(applied(&hash).details.status, TxStatus::Success);
        assert_eq!(
            rpc.account(&id.to_xdr()).unwrap().unwrap().seq_num.0,
            seq + 2
        );
        let missing = rpc.transaction(&"00".repeat(32)).unwrap();
        assert_eq!(missing.details.status, TxStatus::NotFound);
        sandbox.shutdown();
    }
}
