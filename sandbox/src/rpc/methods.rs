//! The methods other than `getEvents`, after stellar-rpc's handlers
//! (`cmd/stellar-rpc/internal/methods/`: `get_health.go`, `get_network.go`,
//! `get_latest_ledger.go`, `get_fee_stats.go` with `feewindow/feewindow.go`,
//! `get_ledger_entries.go`, `send_transaction.go`, `get_transaction.go`, `get_transactions.go`).

use airgap::rpc::{
    FeeDistribution, GetFeeStatsResult, GetHealthResult, GetLatestLedgerResult,
    GetLedgerEntriesParams, GetLedgerEntriesResult, GetNetworkResult, GetTransactionParams,
    GetTransactionResult, GetTransactionsParams, GetTransactionsResult, GetVersionInfoResult,
    LedgerEntryResult, SendStatus, SendTransactionParams, SendTransactionResult,
    TransactionDetails, TransactionEvents, TransactionInfo, TxStatus, XdrFormat,
};
use serde_json::Value;
use stellar_xdr::{
    LedgerEntryData, LedgerEntryExt, LedgerKey, TransactionEnvelope, TransactionEvent,
    TransactionMeta, TransactionResult,
};

use super::xdr;
use super::{code, ledger_meta, params_as, Result, RpcError};
use crate::history::{parse_toid, toid};
use crate::ledger::{AssetKey, LedgerRecord, StoredTx, PROTOCOL_VERSION};
use crate::meta;
use crate::queue::Admission;
use crate::server::{Inner, Shared};
use crate::{admission, PASSPHRASE};

/// RPC's default `--history-retention-window` (about 7 days of 5 s ledgers), reported when the
/// sandbox keeps all its history.
pub const DEFAULT_RETENTION_WINDOW: u32 = 120_960;
/// RPC's `--classic-fee-stats-retention-window`.
const FEE_WINDOW: usize = 10;
const MAX_LEDGER_KEYS: usize = 200;
const MAX_TRANSACTIONS_LIMIT: usize = 200;
const DEFAULT_TRANSACTIONS_LIMIT: usize = 50;

/// `(sequence, close time)` of the latest and the oldest ledger held.
pub(super) struct Range {
    pub(super) latest: u32,
    pub(super) latest_close: u64,
    pub(super) oldest: u32,
    pub(super) oldest_close: u64,
}

pub(super) fn range(inner: &Inner) -> Range {
    let close = |r: Option<&LedgerRecord>| r.map_or(0, |r| r.close_time);
    let ledgers = inner.history.ledgers();
    Range {
        latest: inner.ledger.header.ledger_seq,
        latest_close: inner.ledger.header.close_time,
        oldest: inner.history.elder(),
        oldest_close: close(ledgers.first()),
    }
}

pub(super) fn get_health(shared: &Shared) -> Result<GetHealthResult> {
    let inner = shared.lock();
    let r = range(&inner);
    Ok(GetHealthResult {
        status: "healthy".into(),
        latest_ledger: r.latest,
        latest_ledger_close_time: r.latest_close,
        oldest_ledger: r.oldest,
        ledger_retention_window: inner.history.retain().unwrap_or(DEFAULT_RETENTION_WINDOW),
    })
}

pub(super) fn get_network(shared: &Shared) -> Result<GetNetworkResult> {
    Ok(GetNetworkResult {
        friendbot_url: Some(format!("{}/friendbot", shared.base)),
        passphrase: PASSPHRASE.into(),
        protocol_version: PROTOCOL_VERSION,
    })
}

pub(super) fn get_version_info() -> Result<GetVersionInfoResult> {
    Ok(GetVersionInfoResult {
        version: concat!("airgap-sandbox-", env!("CARGO_PKG_VERSION")).into(),
        commit_hash: String::new(),
        build_timestamp: String::new(),
        captive_core_version: "none (stellar-airgap rehearsal ledger, not stellar-core)".into(),
        protocol_version: PROTOCOL_VERSION,
    })
}

pub(super) fn get_latest_ledger(shared: &Shared) -> Result<GetLatestLedgerResult> {
    let inner = shared.lock();
    let header = &inner.ledger.header;
    let record = inner
        .history
        .latest()
        .ok_or_else(|| RpcError::internal("could not get latest ledger"))?;
    let (header_xdr, meta_xdr) = ledger_meta::header_and_meta(&inner, record)?;
    Ok(GetLatestLedgerResult {
        id: hex::encode(header.hash),
        protocol_version: PROTOCOL_VERSION,
        sequence: header.ledger_seq,
        close_time: Some(header.close_time),
        header_xdr: Some(header_xdr),
        header_json: None,
        metadata_xdr: Some(meta_xdr),
        metadata_json: None,
    })
}

/// `computeFeeDistribution`: nearest-rank percentiles of the fees charged per operation.
fn distribution(mut fees: Vec<u64>, ledger_count: usize) -> FeeDistribution {
    let ledger_count = u32::try_from(ledger_count).unwrap_or(u32::MAX);
    if fees.is_empty() {
        let z = || "0".to_string();
        return FeeDistribution {
            max: z(),
            min: z(),
            mode: z(),
            p10: z(),
            p20: z(),
            p30: z(),
            p40: z(),
            p50: z(),
            p60: z(),
            p70: z(),
            p80: z(),
            p90: z(),
            p95: z(),
            p99: z(),
            transaction_count: z(),
            ledger_count: 0,
        };
    }
    fees.sort_unstable();
    let n = fees.len() as u64;
    let pct = |p: u64| {
        let kth = (p * n).div_ceil(100).max(1);
        fees.get(usize::try_from(kth - 1).unwrap_or(0))
            .copied()
            .unwrap_or(0)
            .to_string()
    };
    // the mode: the most repeated fee, the smallest on a tie
    let mut mode = fees[0];
    let (mut best, mut run) = (0usize, 0usize);
    for w in fees.windows(2) {
        if w[0] == w[1] {
            run += 1;
            if run > best {
                best = run;
                mode = w[0];
            }
        } else {
            run = 0;
        }
    }
    FeeDistribution {
        max: fees[fees.len() - 1].to_string(),
        min: fees[0].to_string(),
        mode: mode.to_string(),
        p10: pct(10),
        p20: pct(20),
        p30: pct(30),
        p40: pct(40),
        p50: pct(50),
        p60: pct(60),
        p70: pct(70),
        p80: pct(80),
        p90: pct(90),
        p95: pct(95),
        p99: pct(99),
        transaction_count: fees.len().to_string(),
        ledger_count,
    }
}

pub(super) fn get_fee_stats(shared: &Shared) -> Result<GetFeeStatsResult> {
    let inner = shared.lock();
    let ledgers = inner.history.ledgers();
    let window = &ledgers[ledgers.len().saturating_sub(FEE_WINDOW)..];
    let mut fees = Vec::new();
    for record in window {
        for tx in inner.history.txs_in(record.sequence) {
            let ops = tx.operation_count.max(1) as u64;
            fees.push(u64::try_from(tx.fee_charged).unwrap_or(0) / ops);
        }
    }
    Ok(GetFeeStatsResult {
        soroban_inclusion_fee: distribution(Vec::new(), 0),
        inclusion_fee: distribution(fees, window.len()),
        latest_ledger: inner.ledger.header.ledger_seq,
    })
}

/// The entry a key names, as `(LedgerEntryData, last modified ledger)`: accounts, trustlines
/// and data entries (the sandbox holds nothing else).
fn entry_for(inner: &Inner, key: &LedgerKey) -> Result<Option<(LedgerEntryData, u32)>> {
    let state = &inner.ledger.state;
    let entry = match key {
        LedgerKey::Account(k) => state
            .accounts
            .get(&crate::ledger::account_id_bytes(&k.account_id))
            .map(meta::account_entry),
        LedgerKey::Trustline(k) => {
            let owner = crate::ledger::account_id_bytes(&k.account_id);
            match trustline_key(&k.asset) {
                Some(asset) => state
                    .trustlines
                    .get(&(owner, asset.clone()))
                    .map(|line| meta::trustline_entry(&owner, &asset, line)),
                None => None,
            }
        }
        LedgerKey::Data(k) => {
            let owner = crate::ledger::account_id_bytes(&k.account_id);
            let name: String = k.data_name.0.iter().map(|b| char::from(*b)).collect();
            state
                .data
                .get(&(owner, name.clone()))
                .map(|e| meta::data_entry(&owner, &name, e))
        }
        _ => None,
    };
    let entry = entry
        .transpose()
        .map_err(|e| RpcError::internal(e.to_string()))?;
    Ok(entry.map(|e| (e.data, e.last_modified_ledger_seq)))
}

fn trustline_key(asset: &stellar_xdr::TrustLineAsset) -> Option<AssetKey> {
    let (code, issuer): (&[u8], &stellar_xdr::AccountId) = match asset {
        stellar_xdr::TrustLineAsset::CreditAlphanum4(a) => (&a.asset_code.0, &a.issuer),
        stellar_xdr::TrustLineAsset::CreditAlphanum12(a) => (&a.asset_code.0, &a.issuer),
        _ => return None,
    };
    Some(AssetKey {
        code: airgap::asset::AssetCode::from_xdr_bytes(code),
        issuer: crate::ledger::account_id_bytes(issuer),
    })
}

pub(super) fn get_ledger_entries(
    shared: &Shared,
    params: &Value,
) -> Result<GetLedgerEntriesResult> {
    let p: GetLedgerEntriesParams = params_as(params)?;
    let fmt = xdr::format(p.xdr_format.as_deref())?;
    let keys = p.keys;
    if keys.len() > MAX_LEDGER_KEYS {
        return Err(RpcError::params(format!(
            "key count ({}) exceeds maximum supported ({MAX_LEDGER_KEYS})",
            keys.len()
        )));
    }
    let mut decoded = Vec::with_capacity(keys.len());
    for (i, k) in keys.iter().enumerate() {
        let key = xdr::decode_untrusted::<LedgerKey>(k).map_err(|_| {
            RpcError::params(format!("cannot unmarshal key value {k} at index {i}"))
        })?;
        if matches!(key, LedgerKey::Ttl(_)) {
            return Err(RpcError::params(
                "ledger ttl entries cannot be queried directly",
            ));
        }
        decoded.push(key);
    }
    let inner = shared.lock();
    let mut entries = Vec::new();
    for key in &decoded {
        let Some((data, modified)) = entry_for(&inner, key)? else {
            continue;
        };
        let (key, key_json) = xdr::either(key, fmt)?;
        let (data, data_json) = xdr::either(&data, fmt)?;
        let (ext, ext_json) = xdr::either(&LedgerEntryExt::V0, fmt)?;
        entries.push(LedgerEntryResult {
            key,
            key_json,
            xdr: data,
            data_json,
            ext_xdr: ext,
            ext_json,
            last_modified_ledger_seq: modified,
            live_until_ledger_seq: None,
        });
    }
    Ok(GetLedgerEntriesResult {
        entries,
        latest_ledger: inner.ledger.header.ledger_seq,
    })
}

pub(super) fn send_transaction(shared: &Shared, params: &Value) -> Result<SendTransactionResult> {
    let p: SendTransactionParams = params_as(params)?;
    let fmt = xdr::format(p.xdr_format.as_deref())?;
    let raw = p.transaction;
    let env = airgap::envelope::decode(&raw).map_err(|_| RpcError::params("invalid_xdr"))?;
    let hash = airgap::envelope::hash(&env, &airgap::network::Network::from_passphrase(PASSPHRASE));
    let close_every = shared.timing.close_every;
    let (admitted, latest, latest_close) = {
        let mut inner = shared.lock();
        let (latest, latest_close) = (
            inner.ledger.header.ledger_seq,
            inner.ledger.header.close_time,
        );
        let admitted = admission::admit(&mut inner, &env, &raw, hash, close_every);
        (admitted, latest, latest_close)
    };
    if close_every.is_zero() {
        shared.ledger_closed();
    }
    let admitted =
        admitted.map_err(|_| RpcError::internal("could not submit transaction to stellar-core"))?;
    let status = match &admitted {
        Admission::Pending => SendStatus::Pending,
        Admission::Duplicate => SendStatus::Duplicate,
        Admission::TryAgainLater => SendStatus::TryAgainLater,
        Admission::Error(_) => SendStatus::Error,
    };
    let (error_result_xdr, error_result_json) = match &admitted {
        Admission::Error(result) => xdr::either(result, fmt)?,
        _ => (None, None),
    };
    Ok(SendTransactionResult {
        status,
        hash: hex::encode(hash),
        latest_ledger: latest,
        latest_ledger_close_time: latest_close,
        error_result_xdr,
        error_result_json,
        diagnostic_events_xdr: None,
        diagnostic_events_json: None,
    })
}

/// `Some` unless empty (RPC leaves out event lists a transaction does not have).
fn nonempty<T>(v: Vec<T>) -> Option<Vec<T>> {
    (!v.is_empty()).then_some(v)
}

/// The fields of a transaction found in the history (`TransactionDetails`).
fn details(tx: &StoredTx, fmt: XdrFormat) -> Result<TransactionDetails> {
    let (envelope_xdr, envelope_json) = xdr::stored::<TransactionEnvelope>(&tx.envelope_xdr, fmt)?;
    let (result_xdr, result_json) = xdr::stored::<TransactionResult>(&tx.result_xdr, fmt)?;
    let (result_meta_xdr, result_meta_json) =
        xdr::stored::<TransactionMeta>(&tx.result_meta_xdr, fmt)?;
    let events = match fmt {
        XdrFormat::Base64 => TransactionEvents {
            transaction_events_xdr: nonempty(tx.tx_events.clone()),
            contract_events_xdr: nonempty(tx.op_events.clone()),
            ..Default::default()
        },
        XdrFormat::Json => {
            let tx_events = tx
                .tx_events
                .iter()
                .map(|e| xdr::decode::<TransactionEvent>(e).and_then(|v| xdr::to_json(&v)))
                .collect::<Result<Vec<_>>>()?;
            let op_events = tx
                .op_events
                .iter()
                .map(|evs| {
                    evs.iter()
                        .map(|e| {
                            xdr::decode::<stellar_xdr::ContractEvent>(e)
                                .and_then(|v| xdr::to_json(&v))
                        })
                        .collect::<Result<Vec<_>>>()
                })
                .collect::<Result<Vec<_>>>()?;
            TransactionEvents {
                transaction_events_json: nonempty(tx_events),
                contract_events_json: nonempty(op_events),
                ..Default::default()
            }
        }
    };
    Ok(TransactionDetails {
        status: if tx.successful {
            TxStatus::Success
        } else {
            TxStatus::Failed
        },
        tx_hash: hex::encode(tx.hash),
        application_order: Some(tx.order()),
        fee_bump: Some(tx.inner_hash.is_some()),
        envelope_xdr,
        envelope_json,
        result_xdr,
        result_json,
        result_meta_xdr,
        result_meta_json,
        events: Some(events),
        ledger: Some(tx.ledger),
    })
}

pub(super) fn get_transaction(shared: &Shared, params: &Value) -> Result<GetTransactionResult> {
    let p: GetTransactionParams = params_as(params)?;
    let fmt = xdr::format(p.xdr_format.as_deref())?;
    let hash = p.hash;
    if hash.len() != 64 {
        return Err(RpcError::params(format!(
            "unexpected hash length ({})",
            hash.len()
        )));
    }
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(&hash, &mut bytes)
        .map_err(|e| RpcError::params(format!("incorrect hash: {e}")))?;
    let inner = shared.lock();
    let r = range(&inner);
    let (details, created_at) = match inner.history.tx(&bytes) {
        None => (TransactionDetails::not_found(hash), None),
        Some(tx) => {
            let mut d = details(tx, fmt)?;
            d.tx_hash = hash;
            (d, Some(tx.close_time))
        }
    };
    Ok(GetTransactionResult {
        latest_ledger: r.latest,
        latest_ledger_close_time: r.latest_close,
        oldest_ledger: r.oldest,
        oldest_ledger_close_time: r.oldest_close,
        details,
        created_at,
    })
}

pub(super) fn get_transactions(shared: &Shared, params: &Value) -> Result<GetTransactionsResult> {
    let p: GetTransactionsParams = params_as(params)?;
    let fmt = xdr::format(p.xdr_format.as_deref())?;
    let start_ledger = p.start_ledger.unwrap_or(0);
    let pagination = p.pagination.unwrap_or_default();
    let cursor = pagination.cursor.as_deref().filter(|c| !c.is_empty());
    let limit = match pagination.limit {
        None | Some(0) => DEFAULT_TRANSACTIONS_LIMIT,
        Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
    };
    let inner = shared.lock();
    let r = range(&inner);
    if limit > MAX_TRANSACTIONS_LIMIT {
        return Err(RpcError::new(
            code::INVALID_REQUEST,
            format!("limit must not exceed {MAX_TRANSACTIONS_LIMIT}"),
        ));
    }
    // the first transaction to return, as (ledger, order)
    let (first_ledger, first_order) = match cursor {
        Some(c) if start_ledger != 0 => {
            return Err(RpcError::new(
                code::INVALID_REQUEST,
                format!("startLedger ({start_ledger}) and cursor ({c}) cannot both be set"),
            ))
        }
        Some(c) => {
            let id: i64 = c.parse().map_err(|e| RpcError::params(format!("{e}")))?;
            let (ledger, order, _) = parse_toid(id);
            (ledger, order + 1)
        }
        None if start_ledger < r.oldest || start_ledger > r.latest => {
            return Err(RpcError::new(
                code::INVALID_REQUEST,
                format!(
                    "start ledger ({start_ledger}) must be between the oldest ledger: {} and the latest ledger: {} for this rpc instance",
                    r.oldest, r.latest
                ),
            ))
        }
        None => (start_ledger, 1),
    };
    let mut txs = Vec::new();
    let mut last = (first_ledger, first_order.saturating_sub(1));
    for tx in inner
        .history
        .txs_after(toid(first_ledger, first_order, 0) - 1)
    {
        txs.push(TransactionInfo {
            details: details(tx, fmt)?,
            created_at: tx.close_time,
        });
        last = (tx.ledger, tx.order());
        if txs.len() >= limit {
            break;
        }
    }
    if txs.len() < limit {
        // the page reached the end of the history: the cursor stands after everything held, so
        // the next page starts with the next ledger's transactions (stellar-rpc's cursor then
        // names the latest ledger, with the order of its last transaction)
        let in_latest = inner
            .history
            .txs_in(r.latest)
            .last()
            .map_or(0, |t| t.order());
        last = (r.latest, in_latest);
    }
    Ok(GetTransactionsResult {
        transactions: txs,
        latest_ledger: r.latest,
        latest_ledger_close_timestamp: r.latest_close,
        oldest_ledger: r.oldest,
        oldest_ledger_close_timestamp: r.oldest_close,
        cursor: toid(last.0, last.1, 1).to_string(),
    })
}
