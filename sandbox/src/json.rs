//! Horizon's JSON resource and problem shapes (reference: /work/shared/reference/horizon-api.md).

use base64::Engine as _;
use serde_json::{json, Map, Value};
use stellar_xdr::{Limits, Memo, Preconditions, ReadXdr, TransactionEnvelope, TransactionResult};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::ledger::{
    muxed_bytes, signer_kind, Account, Header, LedgerRecord, SignerKind, State, StoredTx, BASE_FEE,
    BASE_RESERVE, PROTOCOL_VERSION, TL_AUTHORIZED, TL_AUTHORIZED_TO_MAINTAIN_LIABILITIES,
    TL_CLAWBACK_ENABLED,
};
use super::results;

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    #[error("stored envelope cannot be decoded: {0}")]
    Xdr(#[from] stellar_xdr::Error),
    #[error(transparent)]
    Results(#[from] results::ResultsError),
}

const PROBLEM_HOST: &str = "https://stellar.org/horizon-errors/";
const TX_FAILED_DETAIL: &str = "The transaction failed when submitted to the stellar network. The `extras.result_codes` field on this response contains further details.  Descriptions of each code can be found at: https://developers.stellar.org/api/errors/http-status-codes/horizon-specific/transaction-failed/";
const MALFORMED_DETAIL: &str = "Horizon could not decode the transaction envelope in this request. A transaction should be an XDR TransactionEnvelope struct encoded using base64.  The envelope read from this request is echoed in the `extras.envelope_xdr` field of this response for your convenience.";
const NOT_FOUND_DETAIL: &str = "The resource at the url requested was not found.  This usually occurs for one of two reasons:  The url requested is not valid, or no data in our database could be found with the parameters provided.";

/// Lumens or asset units: stroops as a decimal string with 7 fractional digits.
pub fn amount(stroops: i64) -> String {
    let sign = if stroops < 0 { "-" } else { "" };
    let abs = stroops.unsigned_abs();
    format!("{sign}{}.{:07}", abs / 10_000_000, abs % 10_000_000)
}

pub fn rfc3339(unix: u64) -> String {
    i64::try_from(unix)
        .ok()
        .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_string())
}

pub fn g_address(bytes: &[u8; 32]) -> String {
    stellar_strkey::ed25519::PublicKey(*bytes)
        .to_string()
        .to_string()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn link(href: String) -> Value {
    json!({ "href": href })
}

fn templated(href: String) -> Value {
    json!({ "href": href, "templated": true })
}

/// An RFC 7807 problem in Horizon's shape.
pub fn problem(status: u16, kind: &str, title: &str, detail: &str, extras: Option<Value>) -> Value {
    let mut p = Map::new();
    p.insert(
        "type".into(),
        Value::String(format!("{PROBLEM_HOST}{kind}")),
    );
    p.insert("title".into(), Value::String(title.into()));
    p.insert("status".into(), Value::from(status));
    p.insert("detail".into(), Value::String(detail.into()));
    if let Some(extras) = extras {
        p.insert("extras".into(), extras);
    }
    Value::Object(p)
}

pub fn not_found() -> Value {
    problem(404, "not_found", "Resource Missing", NOT_FOUND_DETAIL, None)
}

pub fn bad_request(field: &str, reason: &str) -> Value {
    problem(
        400,
        "bad_request",
        "Bad Request",
        "The request you sent was invalid in some way.",
        Some(json!({ "invalid_field": field, "reason": reason })),
    )
}

pub fn malformed(envelope_xdr: &str, error: Option<&str>) -> Value {
    let mut extras = Map::new();
    extras.insert("envelope_xdr".into(), Value::String(envelope_xdr.into()));
    if let Some(e) = error {
        extras.insert("error".into(), Value::String(e.into()));
    }
    problem(
        400,
        "transaction_malformed",
        "Transaction Malformed",
        MALFORMED_DETAIL,
        Some(Value::Object(extras)),
    )
}

pub fn unsupported_media_type() -> Value {
    problem(
        415,
        "unsupported_media_type",
        "Unsupported Media Type",
        "The request has an unsupported content type. Presently, the only supported content type is application/x-www-form-urlencoded.",
        None,
    )
}

pub fn server_error() -> Value {
    problem(
        500,
        "server_error",
        "Internal Server Error",
        "An error occurred while processing this request.  This is usually due to a bug within the server software.  Trying this request again may succeed if the bug is transient, otherwise please report this issue to the issue tracker at: https://github.com/stellar/stellar-horizon/issues. Please include this response in your issue.",
        None,
    )
}

pub fn submission_timeout(envelope_xdr: &str, hash: &str) -> Value {
    problem(
        504,
        "transaction_submission_timeout",
        "Transaction Submission Timeout",
        "Your transaction submission request has timed out. This does not necessarily mean the submission has failed. Before resubmitting, please use the transaction hash provided in `extras.hash` to poll the GET /transactions endpoint for sometime and check if it was included in a ledger.",
        Some(json!({ "envelope_xdr": envelope_xdr, "hash": hash })),
    )
}

pub fn legacy_timeout() -> Value {
    problem(
        504,
        "timeout",
        "Timeout",
        "Your request timed out before completing.  Please try your request again. If you are submitting a transaction make sure you are sending exactly the same transaction (with the same sequence number).",
        None,
    )
}

pub fn stale_history() -> Value {
    problem(
        503,
        "stale_history",
        "Historical DB Is Too Stale",
        "This horizon instance is configured to reject client requests when it can determine that the history database is lagging too far behind the connected instance of Stellar-Core or read replica. It's also possible that Stellar-Core is out of sync. Please try again later.",
        None,
    )
}

pub fn rate_limited() -> Value {
    problem(
        429,
        "rate_limit_exceeded",
        "Rate Limit Exceeded",
        "The rate limit for the requesting IP address is over its alloted limit.  The allowed limit and requests left per time period are communicated to clients via the http response headers 'X-RateLimit-*' headers.",
        None,
    )
}

/// 400 `transaction_failed` for a result (rejected, or failed in a ledger). For a fee bump,
/// `inner_view` is true when the inner transaction's hash was submitted: then only the inner code
/// is reported, as Horizon does.
pub fn transaction_failed(
    envelope_xdr: &str,
    result: &TransactionResult,
    inner_view: bool,
) -> Result<Value, JsonError> {
    let mut codes = Map::new();
    let outer = results::tx_code(result);
    match results::inner_tx_code(result) {
        Some(inner) if inner_view => {
            codes.insert("transaction".into(), Value::String(inner.into()));
        }
        Some(inner) => {
            codes.insert("transaction".into(), Value::String(outer.into()));
            codes.insert("inner_transaction".into(), Value::String(inner.into()));
        }
        None => {
            codes.insert("transaction".into(), Value::String(outer.into()));
        }
    }
    if let Some(ops) = results::op_codes(result) {
        codes.insert("operations".into(), json!(ops));
    }
    Ok(problem(
        400,
        "transaction_failed",
        "Transaction Failed",
        TX_FAILED_DETAIL,
        Some(json!({
            "envelope_xdr": envelope_xdr,
            "result_codes": Value::Object(codes),
            "result_xdr": results::to_base64(result)?,
        })),
    ))
}

/// `POST /transactions_async` body.
pub fn async_status(status: &str, hash: &str, error_result_xdr: Option<String>) -> Value {
    let mut m = Map::new();
    m.insert("tx_status".into(), Value::String(status.into()));
    m.insert("hash".into(), Value::String(hash.into()));
    if let Some(x) = error_result_xdr {
        m.insert("error_result_xdr".into(), Value::String(x));
    }
    Value::Object(m)
}

fn toid(ledger: u32, tx_order: u32) -> i64 {
    (i64::from(ledger) << 32) | (i64::from(tx_order) << 12)
}

fn signatures_json(sigs: &[stellar_xdr::DecoratedSignature]) -> Value {
    Value::Array(
        sigs.iter()
            .map(|s| Value::String(b64(s.signature.0.as_slice())))
            .collect(),
    )
}

/// The `Transaction` resource of `GET /transactions/{hash}` and a 200 submission, seen through
/// `requested` (for a fee bump, the outer or the inner hash).
pub fn transaction(base: &str, tx: &StoredTx, requested: [u8; 32]) -> Result<Value, JsonError> {
    let env = TransactionEnvelope::from_xdr_base64(&tx.envelope_xdr, Limits::none())?;
    let (inner_env, fee_bump) = match &env {
        TransactionEnvelope::Tx(e) => (e.clone(), None),
        TransactionEnvelope::TxFeeBump(fb) => {
            let stellar_xdr::FeeBumpTransactionInnerTx::Tx(inner) = &fb.tx.inner_tx;
            (inner.clone(), Some(fb))
        }
        TransactionEnvelope::TxV0(e) => (
            stellar_xdr::TransactionV1Envelope {
                tx: airgap::envelope::v0_as_v1(e),
                signatures: e.signatures.clone(),
            },
            None,
        ),
    };
    let inner_view = fee_bump.is_none() || tx.inner_hash == Some(requested);
    let hash = hex::encode(if fee_bump.is_some() {
        requested
    } else {
        tx.hash
    });
    let paging = toid(tx.ledger, 1).to_string();
    let t = &inner_env.tx;
    let source = g_address(&muxed_bytes(&t.source_account));
    let mut m = Map::new();
    m.insert(
        "_links".into(),
        json!({
            "self": link(format!("{base}/transactions/{hash}")),
            "account": link(format!("{base}/accounts/{source}")),
            "ledger": link(format!("{base}/ledgers/{}", tx.ledger)),
            "operations": templated(format!("{base}/transactions/{hash}/operations{{?cursor,limit,order}}")),
            "effects": templated(format!("{base}/transactions/{hash}/effects{{?cursor,limit,order}}")),
            "precedes": link(format!("{base}/transactions?order=asc&cursor={paging}")),
            "succeeds": link(format!("{base}/transactions?order=desc&cursor={paging}")),
            "transaction": link(format!("{base}/transactions/{hash}")),
        }),
    );
    m.insert("id".into(), Value::String(hash.clone()));
    m.insert("paging_token".into(), Value::String(paging));
    m.insert("successful".into(), Value::Bool(tx.successful));
    m.insert("hash".into(), Value::String(hash));
    m.insert("ledger".into(), Value::from(tx.ledger));
    m.insert("created_at".into(), Value::String(rfc3339(tx.close_time)));
    m.insert("source_account".into(), Value::String(source.clone()));
    if let stellar_xdr::MuxedAccount::MuxedEd25519(med) = &t.source_account {
        let muxed = stellar_strkey::ed25519::MuxedAccount {
            ed25519: med.ed25519.0,
            id: med.id,
        };
        m.insert(
            "account_muxed".into(),
            Value::String(muxed.to_string().to_string()),
        );
        m.insert("account_muxed_id".into(), Value::String(med.id.to_string()));
    }
    m.insert(
        "source_account_sequence".into(),
        Value::String(t.seq_num.0.to_string()),
    );
    m.insert(
        "fee_charged".into(),
        Value::String(tx.fee_charged.to_string()),
    );
    m.insert("operation_count".into(), Value::from(t.operations.len()));
    m.insert(
        "envelope_xdr".into(),
        Value::String(tx.envelope_xdr.clone()),
    );
    m.insert("result_xdr".into(), Value::String(tx.result_xdr.clone()));
    if !tx.result_meta_xdr.is_empty() {
        m.insert(
            "result_meta_xdr".into(),
            Value::String(tx.result_meta_xdr.clone()),
        );
    }
    let fee_meta = if tx.fee_meta_xdr.is_empty() {
        "AAAAAA==" // an empty LedgerEntryChanges, for transactions stored before meta existed
    } else {
        tx.fee_meta_xdr.as_str()
    };
    m.insert("fee_meta_xdr".into(), Value::String(fee_meta.to_string()));
    match fee_bump {
        None => {
            m.insert("fee_account".into(), Value::String(source));
            m.insert("max_fee".into(), Value::String(t.fee.to_string()));
            m.insert("signatures".into(), signatures_json(&inner_env.signatures));
        }
        Some(fb) => {
            m.insert(
                "fee_account".into(),
                Value::String(g_address(&muxed_bytes(&fb.tx.fee_source))),
            );
            m.insert("max_fee".into(), Value::String(fb.tx.fee.to_string()));
            m.insert(
                "fee_bump_transaction".into(),
                json!({
                    "hash": hex::encode(tx.hash),
                    "signatures": signatures_json(&fb.signatures),
                }),
            );
            m.insert(
                "inner_transaction".into(),
                json!({
                    "hash": hex::encode(tx.inner_hash.unwrap_or_default()),
                    "signatures": signatures_json(&inner_env.signatures),
                    "max_fee": t.fee.to_string(),
                }),
            );
            let sigs = if inner_view {
                signatures_json(&inner_env.signatures)
            } else {
                signatures_json(&fb.signatures)
            };
            m.insert("signatures".into(), sigs);
        }
    }
    match &t.memo {
        Memo::None => {
            m.insert("memo_type".into(), Value::String("none".into()));
        }
        Memo::Text(text) => {
            m.insert("memo_type".into(), Value::String("text".into()));
            m.insert(
                "memo".into(),
                Value::String(String::from_utf8_lossy(text.as_slice()).into_owned()),
            );
            m.insert("memo_bytes".into(), Value::String(b64(text.as_slice())));
        }
        Memo::Id(id) => {
            m.insert("memo_type".into(), Value::String("id".into()));
            m.insert("memo".into(), Value::String(id.to_string()));
        }
        Memo::Hash(h) => {
            m.insert("memo_type".into(), Value::String("hash".into()));
            m.insert("memo".into(), Value::String(b64(&h.0)));
        }
        Memo::Return(h) => {
            m.insert("memo_type".into(), Value::String("return".into()));
            m.insert("memo".into(), Value::String(b64(&h.0)));
        }
    }
    if let Some(p) = preconditions(&t.cond) {
        m.insert("preconditions".into(), p);
    }
    Ok(Value::Object(m))
}

fn preconditions(cond: &Preconditions) -> Option<Value> {
    let timebounds = |tb: &stellar_xdr::TimeBounds| {
        let mut t = Map::new();
        t.insert("min_time".into(), Value::String(tb.min_time.0.to_string()));
        if tb.max_time.0 != 0 {
            t.insert("max_time".into(), Value::String(tb.max_time.0.to_string()));
        }
        Value::Object(t)
    };
    match cond {
        Preconditions::None => None,
        Preconditions::Time(tb) => Some(json!({ "timebounds": timebounds(tb) })),
        Preconditions::V2(v2) => {
            let mut p = Map::new();
            if let Some(tb) = &v2.time_bounds {
                p.insert("timebounds".into(), timebounds(tb));
            }
            if let Some(lb) = &v2.ledger_bounds {
                p.insert(
                    "ledgerbounds".into(),
                    json!({ "min_ledger": lb.min_ledger, "max_ledger": lb.max_ledger }),
                );
            }
            if let Some(min) = &v2.min_seq_num {
                p.insert(
                    "min_account_sequence".into(),
                    Value::String(min.0.to_string()),
                );
            }
            if v2.min_seq_age.0 != 0 {
                p.insert(
                    "min_account_sequence_age".into(),
                    Value::String(v2.min_seq_age.0.to_string()),
                );
            }
            if v2.min_seq_ledger_gap != 0 {
                p.insert(
                    "min_account_sequence_ledger_gap".into(),
                    Value::from(v2.min_seq_ledger_gap),
                );
            }
            if !v2.extra_signers.is_empty() {
                let keys: Vec<Value> = v2
                    .extra_signers
                    .iter()
                    .map(|k| Value::String(signer_strkey(&signer_kind(k))))
                    .collect();
                p.insert("extra_signers".into(), Value::Array(keys));
            }
            (!p.is_empty()).then_some(Value::Object(p))
        }
    }
}

fn signer_strkey(kind: &SignerKind) -> String {
    match kind {
        SignerKind::Ed25519(k) => g_address(k),
        SignerKind::PreAuthTx(h) => stellar_strkey::PreAuthTx(*h).to_string().to_string(),
        SignerKind::HashX(h) => stellar_strkey::HashX(*h).to_string().to_string(),
        SignerKind::SignedPayload { key, payload } => {
            stellar_strkey::ed25519::SignedPayload::new(*key, payload)
                .map(|p| p.to_string().to_string())
                .unwrap_or_default()
        }
    }
}

fn signer_type(kind: &SignerKind) -> &'static str {
    match kind {
        SignerKind::Ed25519(_) => "ed25519_public_key",
        SignerKind::PreAuthTx(_) => "preauth_tx",
        SignerKind::HashX(_) => "sha256_hash",
        SignerKind::SignedPayload { .. } => "ed25519_signed_payload",
    }
}

/// The `Account` resource of `GET /accounts/{id}`.
pub fn account(base: &str, acc: &Account, state: &State) -> Value {
    let id = g_address(&acc.id);
    let mut balances: Vec<Value> = state
        .trustlines
        .range(
            (
                acc.id,
                super::ledger::AssetKey {
                    code: String::new(),
                    issuer: [0; 32],
                },
            )..,
        )
        .take_while(|((owner, _), _)| *owner == acc.id)
        .map(|((_, asset), line)| {
            let mut b = Map::new();
            b.insert("balance".into(), Value::String(amount(line.balance)));
            b.insert("limit".into(), Value::String(amount(line.limit)));
            b.insert("buying_liabilities".into(), Value::String(amount(0)));
            b.insert("selling_liabilities".into(), Value::String(amount(0)));
            b.insert(
                "last_modified_ledger".into(),
                Value::from(line.last_modified_ledger),
            );
            b.insert(
                "is_authorized".into(),
                Value::Bool(line.flags & TL_AUTHORIZED != 0),
            );
            b.insert(
                "is_authorized_to_maintain_liabilities".into(),
                Value::Bool(
                    line.flags & (TL_AUTHORIZED | TL_AUTHORIZED_TO_MAINTAIN_LIABILITIES) != 0,
                ),
            );
            if line.flags & TL_CLAWBACK_ENABLED != 0 {
                b.insert("is_clawback_enabled".into(), Value::Bool(true));
            }
            let asset_type = if asset.code.len() <= 4 {
                "credit_alphanum4"
            } else {
                "credit_alphanum12"
            };
            b.insert("asset_type".into(), Value::String(asset_type.into()));
            b.insert("asset_code".into(), Value::String(asset.code.clone()));
            b.insert(
                "asset_issuer".into(),
                Value::String(g_address(&asset.issuer)),
            );
            Value::Object(b)
        })
        .collect();
    balances.push(json!({
        "balance": amount(acc.balance),
        "buying_liabilities": amount(0),
        "selling_liabilities": amount(0),
        "asset_type": "native",
    }));
    let mut signers: Vec<Value> = acc
        .signers
        .iter()
        .map(|s| {
            json!({
                "weight": s.weight,
                "key": signer_strkey(&s.key),
                "type": signer_type(&s.key),
            })
        })
        .collect();
    signers.push(json!({
        "weight": acc.thresholds[0],
        "key": id,
        "type": "ed25519_public_key",
    }));
    let mut data = Map::new();
    for ((owner, name), entry) in state
        .data
        .range((acc.id, String::new())..)
        .take_while(|((owner, _), _)| *owner == acc.id)
    {
        let _ = owner;
        data.insert(name.clone(), Value::String(b64(&entry.value)));
    }
    let paged = |what: &str| {
        templated(format!(
            "{base}/accounts/{id}/{what}{{?cursor,limit,order}}"
        ))
    };
    let mut m = Map::new();
    m.insert(
        "_links".into(),
        json!({
            "self": link(format!("{base}/accounts/{id}")),
            "transactions": paged("transactions"),
            "operations": paged("operations"),
            "payments": paged("payments"),
            "effects": paged("effects"),
            "offers": paged("offers"),
            "trades": paged("trades"),
            "data": templated(format!("{base}/accounts/{id}/data/{{key}}")),
        }),
    );
    m.insert("id".into(), Value::String(id.clone()));
    m.insert("account_id".into(), Value::String(id.clone()));
    m.insert("sequence".into(), Value::String(acc.seq_num.to_string()));
    if acc.seq_ledger != 0 {
        m.insert("sequence_ledger".into(), Value::from(acc.seq_ledger));
        m.insert(
            "sequence_time".into(),
            Value::String(acc.seq_time.to_string()),
        );
    }
    m.insert("subentry_count".into(), Value::from(acc.num_sub_entries));
    if let Some(dest) = &acc.inflation_dest {
        m.insert(
            "inflation_destination".into(),
            Value::String(g_address(dest)),
        );
    }
    if !acc.home_domain.is_empty() {
        m.insert("home_domain".into(), Value::String(acc.home_domain.clone()));
    }
    m.insert(
        "last_modified_ledger".into(),
        Value::from(acc.last_modified_ledger),
    );
    m.insert(
        "last_modified_time".into(),
        Value::String(rfc3339(acc.last_modified_time)),
    );
    m.insert(
        "thresholds".into(),
        json!({
            "low_threshold": acc.thresholds[1],
            "med_threshold": acc.thresholds[2],
            "high_threshold": acc.thresholds[3],
        }),
    );
    m.insert(
        "flags".into(),
        json!({
            "auth_required": acc.flags & super::ledger::AUTH_REQUIRED != 0,
            "auth_revocable": acc.flags & super::ledger::AUTH_REVOCABLE != 0,
            "auth_immutable": acc.flags & super::ledger::AUTH_IMMUTABLE != 0,
            "auth_clawback_enabled": acc.flags & super::ledger::AUTH_CLAWBACK_ENABLED != 0,
        }),
    );
    m.insert("balances".into(), Value::Array(balances));
    m.insert("signers".into(), Value::Array(signers));
    m.insert("data".into(), Value::Object(data));
    m.insert("num_sponsoring".into(), Value::from(0));
    m.insert("num_sponsored".into(), Value::from(0));
    m.insert("paging_token".into(), Value::String(id));
    Value::Object(m)
}

/// `GET /`.
pub fn root(base: &str, header: &Header, passphrase: &str) -> Value {
    json!({
        "_links": {
            "account": templated(format!("{base}/accounts/{{account_id}}")),
            "fee_stats": link(format!("{base}/fee_stats")),
            "friendbot": templated(format!("{base}/friendbot{{?addr}}")),
            "ledger": templated(format!("{base}/ledgers/{{sequence}}")),
            "ledgers": templated(format!("{base}/ledgers{{?cursor,limit,order}}")),
            "self": link(base.to_string()),
            "transaction": templated(format!("{base}/transactions/{{hash}}")),
            "transactions": templated(format!("{base}/transactions{{?cursor,limit,order}}")),
        },
        "horizon_version": concat!("airgap-relay-sandbox-", env!("CARGO_PKG_VERSION")),
        "core_version": "none (stellar-airgap rehearsal ledger, not stellar-core)",
        "ingest_latest_ledger": header.ledger_seq,
        "history_latest_ledger": header.ledger_seq,
        "history_latest_ledger_closed_at": rfc3339(header.close_time),
        "history_elder_ledger": 1,
        "core_latest_ledger": header.ledger_seq,
        "network_passphrase": passphrase,
        "current_protocol_version": PROTOCOL_VERSION,
        "supported_protocol_version": PROTOCOL_VERSION,
        "core_supported_protocol_version": PROTOCOL_VERSION,
    })
}

/// `GET /fee_stats`: every transaction pays the base fee in the sandbox.
pub fn fee_stats(header: &Header) -> Value {
    let dist = |v: i64| {
        let s = v.to_string();
        json!({
            "max": s, "min": s, "mode": s,
            "p10": s, "p20": s, "p30": s, "p40": s, "p50": s,
            "p60": s, "p70": s, "p80": s, "p90": s, "p95": s, "p99": s,
        })
    };
    json!({
        "last_ledger": header.ledger_seq.to_string(),
        "last_ledger_base_fee": BASE_FEE.to_string(),
        "ledger_capacity_usage": "0.01",
        "fee_charged": dist(BASE_FEE),
        "max_fee": dist(BASE_FEE),
    })
}

/// One `Ledger` resource.
pub fn ledger(base: &str, r: &LedgerRecord) -> Value {
    let paging = toid(r.sequence, 0).to_string();
    let seq = r.sequence;
    let mut m = Map::new();
    m.insert(
        "_links".into(),
        json!({
            "self": link(format!("{base}/ledgers/{seq}")),
            "transactions": templated(format!("{base}/ledgers/{seq}/transactions{{?cursor,limit,order}}")),
            "operations": templated(format!("{base}/ledgers/{seq}/operations{{?cursor,limit,order}}")),
            "payments": templated(format!("{base}/ledgers/{seq}/payments{{?cursor,limit,order}}")),
            "effects": templated(format!("{base}/ledgers/{seq}/effects{{?cursor,limit,order}}")),
        }),
    );
    m.insert("id".into(), Value::String(hex::encode(r.hash)));
    m.insert("paging_token".into(), Value::String(paging));
    m.insert("hash".into(), Value::String(hex::encode(r.hash)));
    if r.sequence > 1 {
        m.insert("prev_hash".into(), Value::String(hex::encode(r.prev_hash)));
    }
    m.insert("sequence".into(), Value::from(seq));
    m.insert(
        "successful_transaction_count".into(),
        Value::from(r.successful_transaction_count),
    );
    m.insert(
        "failed_transaction_count".into(),
        Value::from(r.failed_transaction_count),
    );
    m.insert("operation_count".into(), Value::from(r.operation_count));
    m.insert(
        "tx_set_operation_count".into(),
        Value::from(r.tx_set_operation_count),
    );
    m.insert("closed_at".into(), Value::String(rfc3339(r.close_time)));
    m.insert("total_coins".into(), Value::String(amount(r.total_coins)));
    m.insert("fee_pool".into(), Value::String(amount(r.fee_pool)));
    m.insert("base_fee_in_stroops".into(), Value::from(BASE_FEE));
    m.insert("base_reserve_in_stroops".into(), Value::from(BASE_RESERVE));
    m.insert("max_tx_set_size".into(), Value::from(100));
    m.insert("protocol_version".into(), Value::from(PROTOCOL_VERSION));
    Value::Object(m)
}

/// A HAL page of ledgers.
pub fn ledgers_page(base: &str, records: &[&LedgerRecord], order: &str, limit: usize) -> Value {
    let recs: Vec<Value> = records.iter().map(|r| ledger(base, r)).collect();
    let cursor = |r: Option<&&LedgerRecord>| {
        r.map(|r| toid(r.sequence, 0).to_string())
            .unwrap_or_default()
    };
    let reverse = if order == "asc" { "desc" } else { "asc" };
    json!({
        "_links": {
            "self": link(format!("{base}/ledgers?cursor=&limit={limit}&order={order}")),
            "next": link(format!("{base}/ledgers?cursor={}&limit={limit}&order={order}", cursor(records.last()))),
            "prev": link(format!("{base}/ledgers?cursor={}&limit={limit}&order={reverse}", cursor(records.first()))),
        },
        "_embedded": { "records": recs },
    })
}

/// A payment-type operation (`create_account`, `payment`, `account_merge`) of a transaction.
pub struct PaymentOp {
    /// The operation's id and paging token (TOID).
    pub token: i64,
    /// Accounts taking part (source, destination, funder, created or merged account).
    pub participants: Vec<[u8; 32]>,
    pub record: Value,
}

fn asset_fields(m: &mut Map<String, Value>, asset: &stellar_xdr::Asset) {
    match asset {
        stellar_xdr::Asset::Native => {
            m.insert("asset_type".into(), Value::String("native".into()));
        }
        stellar_xdr::Asset::CreditAlphanum4(a) => {
            let code: String = a
                .asset_code
                .0
                .iter()
                .take_while(|b| **b != 0)
                .map(|b| char::from(*b))
                .collect();
            m.insert(
                "asset_type".into(),
                Value::String("credit_alphanum4".into()),
            );
            m.insert("asset_code".into(), Value::String(code));
            m.insert(
                "asset_issuer".into(),
                Value::String(g_address(&super::ledger::account_id_bytes(&a.issuer))),
            );
        }
        stellar_xdr::Asset::CreditAlphanum12(a) => {
            let code: String = a
                .asset_code
                .0
                .iter()
                .take_while(|b| **b != 0)
                .map(|b| char::from(*b))
                .collect();
            m.insert(
                "asset_type".into(),
                Value::String("credit_alphanum12".into()),
            );
            m.insert("asset_code".into(), Value::String(code));
            m.insert(
                "asset_issuer".into(),
                Value::String(g_address(&super::ledger::account_id_bytes(&a.issuer))),
            );
        }
    }
}

/// The payment-type operations of a stored transaction, as Horizon's operation records
/// (only for successful transactions: Horizon's `include_failed` defaults to false).
pub fn payment_ops(base: &str, tx: &StoredTx) -> Vec<PaymentOp> {
    let Ok(env) = TransactionEnvelope::from_xdr_base64(&tx.envelope_xdr, Limits::none()) else {
        return Vec::new();
    };
    let t = match &env {
        TransactionEnvelope::Tx(e) => e.tx.clone(),
        TransactionEnvelope::TxFeeBump(fb) => {
            let stellar_xdr::FeeBumpTransactionInnerTx::Tx(inner) = &fb.tx.inner_tx;
            inner.tx.clone()
        }
        TransactionEnvelope::TxV0(e) => airgap::envelope::v0_as_v1(e),
    };
    let tx_source = muxed_bytes(&t.source_account);
    let hash = hex::encode(tx.hash);
    let mut out = Vec::new();
    for (i, op) in t.operations.iter().enumerate() {
        let index = i64::try_from(i).unwrap_or(0) + 1;
        let token = toid(tx.ledger, 1) | index;
        let source = op.source_account.as_ref().map_or(tx_source, muxed_bytes);
        let mut m = Map::new();
        let participants = match &op.body {
            stellar_xdr::OperationBody::CreateAccount(c) => {
                let account = super::ledger::account_id_bytes(&c.destination);
                m.insert("type".into(), Value::String("create_account".into()));
                m.insert("type_i".into(), Value::from(0));
                m.insert(
                    "starting_balance".into(),
                    Value::String(amount(c.starting_balance)),
                );
                m.insert("funder".into(), Value::String(g_address(&source)));
                m.insert("account".into(), Value::String(g_address(&account)));
                vec![source, account]
            }
            stellar_xdr::OperationBody::Payment(p) => {
                let to = muxed_bytes(&p.destination);
                m.insert("type".into(), Value::String("payment".into()));
                m.insert("type_i".into(), Value::from(1));
                asset_fields(&mut m, &p.asset);
                m.insert("from".into(), Value::String(g_address(&source)));
                m.insert("to".into(), Value::String(g_address(&to)));
                m.insert("amount".into(), Value::String(amount(p.amount)));
                vec![source, to]
            }
            stellar_xdr::OperationBody::AccountMerge(dest) => {
                let into = muxed_bytes(dest);
                m.insert("type".into(), Value::String("account_merge".into()));
                m.insert("type_i".into(), Value::from(8));
                m.insert("account".into(), Value::String(g_address(&source)));
                m.insert("into".into(), Value::String(g_address(&into)));
                vec![source, into]
            }
            _ => continue,
        };
        let id = token.to_string();
        m.insert(
            "_links".into(),
            json!({
                "self": link(format!("{base}/operations/{id}")),
                "transaction": link(format!("{base}/transactions/{hash}")),
                "effects": link(format!("{base}/operations/{id}/effects")),
                "succeeds": link(format!("{base}/effects?order=desc&cursor={id}")),
                "precedes": link(format!("{base}/effects?order=asc&cursor={id}")),
            }),
        );
        m.insert("id".into(), Value::String(id.clone()));
        m.insert("paging_token".into(), Value::String(id));
        m.insert("transaction_successful".into(), Value::Bool(tx.successful));
        m.insert("source_account".into(), Value::String(g_address(&source)));
        m.insert("created_at".into(), Value::String(rfc3339(tx.close_time)));
        m.insert("transaction_hash".into(), Value::String(hash.clone()));
        out.push(PaymentOp {
            token,
            participants,
            record: Value::Object(m),
        });
    }
    out
}

/// A HAL page of operation records.
pub fn operations_page(
    base: &str,
    path: &str,
    records: &[(i64, Value)],
    order: &str,
    limit: usize,
) -> Value {
    let reverse = if order == "asc" { "desc" } else { "asc" };
    let last = records
        .last()
        .map(|(t, _)| t.to_string())
        .unwrap_or_default();
    let first = records
        .first()
        .map(|(t, _)| t.to_string())
        .unwrap_or_default();
    let recs: Vec<Value> = records.iter().map(|(_, v)| v.clone()).collect();
    json!({
        "_links": {
            "self": link(format!("{base}{path}?cursor=&limit={limit}&order={order}")),
            "next": link(format!("{base}{path}?cursor={last}&limit={limit}&order={order}")),
            "prev": link(format!("{base}{path}?cursor={first}&limit={limit}&order={reverse}")),
        },
        "_embedded": { "records": recs },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_have_seven_decimals() {
        assert_eq!(amount(0), "0.0000000");
        assert_eq!(amount(99_999_999_900), "9999.9999900");
        assert_eq!(amount(i64::MAX), "922337203685.4775807");
        assert_eq!(amount(-5), "-0.0000005");
    }
}
