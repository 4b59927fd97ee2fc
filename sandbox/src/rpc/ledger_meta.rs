//! A closed ledger as stellar-core hands it to RPC: its `LedgerHeader` and its `LedgerCloseMeta`
//! (v2: the header, the generalized transaction set, and each transaction's result, fee changes
//! and meta in apply order), built from what the sandbox stored.

use stellar_xdr::{
    ExtensionPoint, GeneralizedTransactionSet, Hash, LedgerCloseMeta, LedgerCloseMetaExt,
    LedgerCloseMetaV2, LedgerEntryChanges, LedgerHeader, LedgerHeaderExt, LedgerHeaderHistoryEntry,
    LedgerHeaderHistoryEntryExt, ParallelTxsComponent, StellarValue, StellarValueExt, TimePoint,
    TransactionEnvelope, TransactionMeta, TransactionPhase, TransactionResult,
    TransactionResultMetaV1, TransactionResultPair, TransactionSetV1, TxSetComponent,
    TxSetComponentTxsMaybeDiscountedFee,
};

use super::xdr;
use super::Result;
use crate::ledger::{LedgerRecord, BASE_FEE, BASE_RESERVE, PROTOCOL_VERSION};
use crate::server::Inner;

/// The header of a ledger stored before headers were kept, rebuilt from its record.
fn rebuilt_header(r: &LedgerRecord) -> LedgerHeader {
    LedgerHeader {
        ledger_version: PROTOCOL_VERSION,
        previous_ledger_hash: Hash(r.prev_hash),
        scp_value: StellarValue {
            tx_set_hash: Hash(r.tx_set_hash),
            close_time: TimePoint(r.close_time),
            upgrades: Default::default(),
            ext: StellarValueExt::Basic,
        },
        tx_set_result_hash: Hash([0; 32]),
        bucket_list_hash: Hash([0; 32]),
        ledger_seq: r.sequence,
        total_coins: r.total_coins,
        fee_pool: r.fee_pool,
        inflation_seq: 0,
        id_pool: 0,
        base_fee: u32::try_from(BASE_FEE).unwrap_or(u32::MAX),
        base_reserve: u32::try_from(BASE_RESERVE).unwrap_or(u32::MAX),
        max_tx_set_size: 1000,
        skip_list: [Hash([0; 32]), Hash([0; 32]), Hash([0; 32]), Hash([0; 32])],
        ext: LedgerHeaderExt::V0,
    }
}

/// `(headerXdr, metadataXdr)` of a ledger in the history.
pub(super) fn header_and_meta(inner: &Inner, record: &LedgerRecord) -> Result<(String, String)> {
    let header: LedgerHeader = if record.header_xdr.is_empty() {
        rebuilt_header(record)
    } else {
        xdr::decode(&record.header_xdr)?
    };
    let txs: Vec<_> = inner.history.txs_in(record.sequence).collect();
    let mut envelopes: Vec<(TransactionEnvelope, [u8; 32])> = Vec::with_capacity(txs.len());
    let mut processing = Vec::with_capacity(txs.len());
    for tx in &txs {
        let env: TransactionEnvelope = xdr::decode(&tx.envelope_xdr)?;
        envelopes.push((env, tx.hash));
        let result: TransactionResult = xdr::decode(&tx.result_xdr)?;
        let fee: LedgerEntryChanges = xdr::decode(&tx.fee_meta_xdr)?;
        let meta: TransactionMeta = xdr::decode(&tx.result_meta_xdr)?;
        processing.push(TransactionResultMetaV1 {
            ext: ExtensionPoint::V0,
            result: TransactionResultPair {
                transaction_hash: Hash(tx.hash),
                result,
            },
            fee_processing: fee,
            tx_apply_processing: meta,
            post_tx_apply_fee_processing: Default::default(),
        });
    }
    envelopes.sort_by_key(|(_, h)| *h);
    let components = if envelopes.is_empty() {
        Vec::new()
    } else {
        vec![TxSetComponent::TxsetCompTxsMaybeDiscountedFee(
            TxSetComponentTxsMaybeDiscountedFee {
                base_fee: Some(BASE_FEE),
                txs: to_vecm(envelopes.into_iter().map(|(e, _)| e).collect())?,
            },
        )]
    };
    let tx_set = GeneralizedTransactionSet::V1(TransactionSetV1 {
        previous_ledger_hash: Hash(record.prev_hash),
        phases: to_vecm(vec![
            TransactionPhase::V0(to_vecm(components)?),
            TransactionPhase::V1(ParallelTxsComponent {
                base_fee: None,
                execution_stages: Default::default(),
            }),
        ])?,
    });
    let meta = LedgerCloseMeta::V2(LedgerCloseMetaV2 {
        ext: LedgerCloseMetaExt::V0,
        ledger_header: LedgerHeaderHistoryEntry {
            hash: Hash(record.hash),
            header: header.clone(),
            ext: LedgerHeaderHistoryEntryExt::V0,
        },
        tx_set,
        tx_processing: to_vecm(processing)?,
        upgrades_processing: Default::default(),
        scp_info: Default::default(),
        total_byte_size_of_live_soroban_state: 0,
        evicted_keys: Default::default(),
    });
    Ok((xdr::encode(&header)?, xdr::encode(&meta)?))
}

fn to_vecm<T>(v: Vec<T>) -> Result<stellar_xdr::VecM<T>> {
    v.try_into()
        .map_err(|_| super::RpcError::internal("too many items for XDR"))
}
