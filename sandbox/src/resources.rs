//! The ledger's entries, transactions and ledgers as Horizon's resources: the library's types of
//! them (`airgap::horizon`, which the relay's client reads), filled as Horizon fills them
//! (reference: /work/shared/reference/horizon-api.md). Problems are in [`crate::problems`].

use airgap::horizon::{self as h, Balance, Embedded, FeeDistribution, Link, Links, Page};
use base64::Engine as _;
use stellar_xdr::{Limits, Memo, Preconditions, ReadXdr, TransactionEnvelope};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::history::toid;
use crate::ledger::{
    muxed_bytes, signer_kind, Account, Header, LedgerRecord, SignerKind, State, StoredTx, BASE_FEE,
    BASE_RESERVE, PROTOCOL_VERSION, TL_AUTHORIZED, TL_AUTHORIZED_TO_MAINTAIN_LIABILITIES,
    TL_CLAWBACK_ENABLED,
};

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum ResourceError {
    #[error("stored envelope cannot be decoded: {0}")]
    Xdr(#[from] stellar_xdr::Error),
    #[error(transparent)]
    Results(#[from] crate::results::ResultsError),
}

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

/// `_links` from `(relation, link)` pairs.
pub(crate) fn links<const N: usize>(pairs: [(&str, Link); N]) -> Links {
    pairs
        .into_iter()
        .map(|(rel, link)| (rel.to_string(), link))
        .collect()
}

/// A collection's URL, templated for paging.
pub(crate) fn paged(href: String) -> Link {
    Link::templated(format!("{href}{{?cursor,limit,order}}"))
}

/// `POST /transactions_async`.
pub fn async_status(
    status: &str,
    hash: &str,
    error_result_xdr: Option<String>,
) -> h::AsyncSubmission {
    h::AsyncSubmission {
        tx_status: status.into(),
        hash: hash.into(),
        error_result_xdr,
    }
}

fn signatures(sigs: &[stellar_xdr::DecoratedSignature]) -> Vec<String> {
    sigs.iter().map(|s| b64(s.signature.0.as_slice())).collect()
}

/// The `Transaction` resource of `GET /transactions/{hash}` and a 200 submission, seen through
/// `requested` (for a fee bump, the outer or the inner hash).
pub fn transaction(
    base: &str,
    tx: &StoredTx,
    requested: [u8; 32],
) -> Result<h::Transaction, ResourceError> {
    let env = TransactionEnvelope::from_xdr_base64(&tx.envelope_xdr, Limits::none())?;
    let fee_bump = match &env {
        TransactionEnvelope::TxFeeBump(fb) => Some(fb),
        _ => None,
    };
    let inner_env = airgap::envelope::inner_v1(&env);
    let inner_view = fee_bump.is_none() || tx.inner_hash == Some(requested);
    let hash = hex::encode(if fee_bump.is_some() {
        requested
    } else {
        tx.hash
    });
    let paging = toid(tx.ledger, tx.order(), 0).to_string();
    let t = &inner_env.tx;
    let source = g_address(&muxed_bytes(&t.source_account));
    let (account_muxed, account_muxed_id) = match &t.source_account {
        stellar_xdr::MuxedAccount::MuxedEd25519(med) => {
            let muxed = stellar_strkey::ed25519::MuxedAccount {
                ed25519: med.ed25519.0,
                id: med.id,
            };
            (
                Some(muxed.to_string().to_string()),
                Some(med.id.to_string()),
            )
        }
        stellar_xdr::MuxedAccount::Ed25519(_) => (None, None),
    };
    let (memo_type, memo, memo_bytes) = match &t.memo {
        Memo::None => ("none", None, None),
        Memo::Text(text) => (
            "text",
            Some(String::from_utf8_lossy(text.as_slice()).into_owned()),
            Some(b64(text.as_slice())),
        ),
        Memo::Id(id) => ("id", Some(id.to_string()), None),
        Memo::Hash(x) => ("hash", Some(b64(&x.0)), None),
        Memo::Return(x) => ("return", Some(b64(&x.0)), None),
    };
    let mut resource = h::Transaction {
        links: links([
            ("self", Link::to(format!("{base}/transactions/{hash}"))),
            ("account", Link::to(format!("{base}/accounts/{source}"))),
            ("ledger", Link::to(format!("{base}/ledgers/{}", tx.ledger))),
            (
                "operations",
                paged(format!("{base}/transactions/{hash}/operations")),
            ),
            (
                "effects",
                paged(format!("{base}/transactions/{hash}/effects")),
            ),
            (
                "precedes",
                Link::to(format!("{base}/transactions?order=asc&cursor={paging}")),
            ),
            (
                "succeeds",
                Link::to(format!("{base}/transactions?order=desc&cursor={paging}")),
            ),
            (
                "transaction",
                Link::to(format!("{base}/transactions/{hash}")),
            ),
        ]),
        id: hash.clone(),
        paging_token: paging,
        successful: tx.successful,
        hash,
        ledger: tx.ledger,
        created_at: rfc3339(tx.close_time),
        source_account: source.clone(),
        account_muxed,
        account_muxed_id,
        source_account_sequence: t.seq_num.0.to_string(),
        fee_account: source,
        fee_charged: tx.fee_charged.to_string(),
        max_fee: t.fee.to_string(),
        operation_count: u32::try_from(t.operations.len()).unwrap_or(u32::MAX),
        envelope_xdr: tx.envelope_xdr.clone(),
        result_xdr: tx.result_xdr.clone(),
        result_meta_xdr: (!tx.result_meta_xdr.is_empty()).then(|| tx.result_meta_xdr.clone()),
        fee_meta_xdr: if tx.fee_meta_xdr.is_empty() {
            // an empty LedgerEntryChanges, for transactions stored before meta existed
            "AAAAAA==".to_string()
        } else {
            tx.fee_meta_xdr.clone()
        },
        memo_type: memo_type.into(),
        memo,
        memo_bytes,
        signatures: signatures(&inner_env.signatures),
        preconditions: preconditions(&t.cond),
        fee_bump_transaction: None,
        inner_transaction: None,
    };
    if let Some(fb) = fee_bump {
        resource.fee_account = g_address(&muxed_bytes(&fb.tx.fee_source));
        resource.max_fee = fb.tx.fee.to_string();
        resource.fee_bump_transaction = Some(h::FeeBumpTransaction {
            hash: hex::encode(tx.hash),
            signatures: signatures(&fb.signatures),
        });
        resource.inner_transaction = Some(h::InnerTransaction {
            hash: hex::encode(tx.inner_hash.unwrap_or_default()),
            signatures: signatures(&inner_env.signatures),
            max_fee: t.fee.to_string(),
        });
        if !inner_view {
            resource.signatures = signatures(&fb.signatures);
        }
    }
    Ok(resource)
}

fn preconditions(cond: &Preconditions) -> Option<h::Preconditions> {
    let timebounds = |tb: &stellar_xdr::TimeBounds| h::TimeBounds {
        min_time: tb.min_time.0.to_string(),
        max_time: (tb.max_time.0 != 0).then(|| tb.max_time.0.to_string()),
    };
    match cond {
        Preconditions::None => None,
        Preconditions::Time(tb) => Some(h::Preconditions {
            timebounds: Some(timebounds(tb)),
            ..Default::default()
        }),
        Preconditions::V2(v2) => {
            let p = h::Preconditions {
                timebounds: v2.time_bounds.as_ref().map(timebounds),
                ledgerbounds: v2.ledger_bounds.as_ref().map(|lb| h::LedgerBounds {
                    min_ledger: lb.min_ledger,
                    max_ledger: lb.max_ledger,
                }),
                min_account_sequence: v2.min_seq_num.as_ref().map(|min| min.0.to_string()),
                min_account_sequence_age: (v2.min_seq_age.0 != 0)
                    .then(|| v2.min_seq_age.0.to_string()),
                min_account_sequence_ledger_gap: (v2.min_seq_ledger_gap != 0)
                    .then_some(v2.min_seq_ledger_gap),
                extra_signers: v2
                    .extra_signers
                    .iter()
                    .map(|k| signer_strkey(&signer_kind(k)))
                    .collect(),
            };
            (p != h::Preconditions::default()).then_some(p)
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
pub fn account(base: &str, acc: &Account, state: &State) -> h::Account {
    let id = g_address(&acc.id);
    let mut balances: Vec<Balance> = state
        .trustlines
        .range(
            (
                acc.id,
                crate::ledger::AssetKey {
                    code: String::new(),
                    issuer: [0; 32],
                },
            )..,
        )
        .take_while(|((owner, _), _)| *owner == acc.id)
        .map(|((_, asset), line)| Balance {
            balance: amount(line.balance),
            limit: Some(amount(line.limit)),
            buying_liabilities: Some(amount(0)),
            selling_liabilities: Some(amount(0)),
            last_modified_ledger: Some(line.last_modified_ledger),
            is_authorized: Some(line.flags & TL_AUTHORIZED != 0),
            is_authorized_to_maintain_liabilities: Some(
                line.flags & (TL_AUTHORIZED | TL_AUTHORIZED_TO_MAINTAIN_LIABILITIES) != 0,
            ),
            is_clawback_enabled: (line.flags & TL_CLAWBACK_ENABLED != 0).then_some(true),
            asset_type: if asset.code.len() <= 4 {
                "credit_alphanum4"
            } else {
                "credit_alphanum12"
            }
            .into(),
            asset_code: Some(asset.code.clone()),
            asset_issuer: Some(g_address(&asset.issuer)),
            liquidity_pool_id: None,
            sponsor: None,
        })
        .collect();
    balances.push(Balance {
        balance: amount(acc.balance),
        limit: None,
        buying_liabilities: Some(amount(0)),
        selling_liabilities: Some(amount(0)),
        last_modified_ledger: None,
        is_authorized: None,
        is_authorized_to_maintain_liabilities: None,
        is_clawback_enabled: None,
        asset_type: "native".into(),
        asset_code: None,
        asset_issuer: None,
        liquidity_pool_id: None,
        sponsor: None,
    });
    let signer = |key: String, weight: u32, kind: &str| h::Signer {
        key,
        weight: u8::try_from(weight).unwrap_or(u8::MAX),
        kind: kind.into(),
        sponsor: None,
    };
    let mut signers: Vec<h::Signer> = acc
        .signers
        .iter()
        .map(|s| signer(signer_strkey(&s.key), s.weight, signer_type(&s.key)))
        .collect();
    signers.push(signer(
        id.clone(),
        u32::from(acc.thresholds[0]),
        "ed25519_public_key",
    ));
    let data = state
        .data
        .range((acc.id, String::new())..)
        .take_while(|((owner, _), _)| *owner == acc.id)
        .map(|((_, name), entry)| (name.clone(), b64(&entry.value)))
        .collect();
    let account = format!("{base}/accounts/{id}");
    h::Account {
        links: links([
            ("self", Link::to(account.clone())),
            ("transactions", paged(format!("{account}/transactions"))),
            ("operations", paged(format!("{account}/operations"))),
            ("payments", paged(format!("{account}/payments"))),
            ("effects", paged(format!("{account}/effects"))),
            ("offers", paged(format!("{account}/offers"))),
            ("trades", paged(format!("{account}/trades"))),
            ("data", Link::templated(format!("{account}/data/{{key}}"))),
        ]),
        id: id.clone(),
        account_id: id.clone(),
        sequence: acc.seq_num.to_string(),
        sequence_ledger: (acc.seq_ledger != 0).then_some(acc.seq_ledger),
        sequence_time: (acc.seq_ledger != 0).then(|| acc.seq_time.to_string()),
        subentry_count: acc.num_sub_entries,
        inflation_destination: acc.inflation_dest.as_ref().map(g_address),
        home_domain: (!acc.home_domain.is_empty()).then(|| acc.home_domain.clone()),
        last_modified_ledger: acc.last_modified_ledger,
        last_modified_time: Some(rfc3339(acc.last_modified_time)),
        thresholds: h::Thresholds {
            low_threshold: acc.thresholds[1],
            med_threshold: acc.thresholds[2],
            high_threshold: acc.thresholds[3],
        },
        flags: h::Flags {
            auth_required: acc.flags & crate::ledger::AUTH_REQUIRED != 0,
            auth_revocable: acc.flags & crate::ledger::AUTH_REVOCABLE != 0,
            auth_immutable: acc.flags & crate::ledger::AUTH_IMMUTABLE != 0,
            auth_clawback_enabled: acc.flags & crate::ledger::AUTH_CLAWBACK_ENABLED != 0,
        },
        balances,
        signers,
        data,
        num_sponsoring: 0,
        num_sponsored: 0,
        sponsor: None,
        paging_token: id,
    }
}

/// `GET /` (`elder`: the oldest ledger held).
pub fn root(base: &str, header: &Header, elder: u32, passphrase: &str) -> h::Root {
    h::Root {
        links: links([
            (
                "account",
                Link::templated(format!("{base}/accounts/{{account_id}}")),
            ),
            ("fee_stats", Link::to(format!("{base}/fee_stats"))),
            (
                "friendbot",
                Link::templated(format!("{base}/friendbot{{?addr}}")),
            ),
            (
                "ledger",
                Link::templated(format!("{base}/ledgers/{{sequence}}")),
            ),
            ("ledgers", paged(format!("{base}/ledgers"))),
            ("self", Link::to(base)),
            (
                "transaction",
                Link::templated(format!("{base}/transactions/{{hash}}")),
            ),
            ("transactions", paged(format!("{base}/transactions"))),
        ]),
        horizon_version: concat!("airgap-relay-sandbox-", env!("CARGO_PKG_VERSION")).into(),
        core_version: "none (stellar-airgap rehearsal ledger, not stellar-core)".into(),
        ingest_latest_ledger: header.ledger_seq,
        history_latest_ledger: header.ledger_seq,
        history_latest_ledger_closed_at: rfc3339(header.close_time),
        history_elder_ledger: elder,
        core_latest_ledger: header.ledger_seq,
        network_passphrase: passphrase.into(),
        current_protocol_version: PROTOCOL_VERSION,
        supported_protocol_version: PROTOCOL_VERSION,
        core_supported_protocol_version: PROTOCOL_VERSION,
    }
}

/// `GET /fee_stats`: every transaction pays the base fee in the sandbox.
pub fn fee_stats(header: &Header) -> h::FeeStats {
    let base_fee = BASE_FEE.to_string();
    h::FeeStats {
        last_ledger: header.ledger_seq.to_string(),
        last_ledger_base_fee: base_fee.clone(),
        ledger_capacity_usage: "0.01".into(),
        fee_charged: FeeDistribution::flat(&base_fee),
        max_fee: FeeDistribution::flat(&base_fee),
    }
}

/// One `Ledger` resource.
pub fn ledger(base: &str, r: &LedgerRecord) -> h::Ledger {
    let seq = r.sequence;
    let this = format!("{base}/ledgers/{seq}");
    h::Ledger {
        links: links([
            ("self", Link::to(this.clone())),
            ("transactions", paged(format!("{this}/transactions"))),
            ("operations", paged(format!("{this}/operations"))),
            ("payments", paged(format!("{this}/payments"))),
            ("effects", paged(format!("{this}/effects"))),
        ]),
        id: hex::encode(r.hash),
        paging_token: toid(seq, 0, 0).to_string(),
        hash: hex::encode(r.hash),
        prev_hash: (seq > 1).then(|| hex::encode(r.prev_hash)),
        sequence: seq,
        successful_transaction_count: r.successful_transaction_count,
        failed_transaction_count: Some(r.failed_transaction_count),
        operation_count: r.operation_count,
        tx_set_operation_count: Some(r.tx_set_operation_count),
        closed_at: rfc3339(r.close_time),
        total_coins: amount(r.total_coins),
        fee_pool: amount(r.fee_pool),
        base_fee_in_stroops: BASE_FEE,
        base_reserve_in_stroops: BASE_RESERVE,
        max_tx_set_size: 100,
        protocol_version: PROTOCOL_VERSION,
    }
}

/// A HAL page of `records` (each with its paging token) of the collection at `base` + `path`.
pub fn page<T>(
    base: &str,
    path: &str,
    records: Vec<(i64, T)>,
    desc: bool,
    limit: usize,
) -> Page<T> {
    let (order, reverse) = if desc {
        ("desc", "asc")
    } else {
        ("asc", "desc")
    };
    let token = |r: Option<&(i64, T)>| r.map(|(t, _)| t.to_string()).unwrap_or_default();
    let (first, last) = (token(records.first()), token(records.last()));
    let url = |cursor: &str, order: &str| {
        Link::to(format!(
            "{base}{path}?cursor={cursor}&limit={limit}&order={order}"
        ))
    };
    Page {
        links: links([
            ("self", url("", order)),
            ("next", url(&last, order)),
            ("prev", url(&first, reverse)),
        ]),
        embedded: Embedded {
            records: records.into_iter().map(|(_, r)| r).collect(),
        },
    }
}

/// A HAL page of ledgers.
pub fn ledgers_page(
    base: &str,
    records: &[&LedgerRecord],
    desc: bool,
    limit: usize,
) -> Page<h::Ledger> {
    let records = records
        .iter()
        .map(|r| (toid(r.sequence, 0, 0), ledger(base, r)))
        .collect();
    page(base, "/ledgers", records, desc, limit)
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
