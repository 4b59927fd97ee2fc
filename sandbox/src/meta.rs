//! Ledger entries as stellar-xdr `LedgerEntry` values, and the entry changes between two states
//! (`LedgerEntryChanges`, `TransactionMeta`) for Horizon's `fee_meta_xdr` / `result_meta_xdr`.

use stellar_xdr::{
    AccountEntry, AccountEntryExt, AccountEntryExtensionV1, AccountEntryExtensionV1Ext,
    AccountEntryExtensionV2, AccountEntryExtensionV2Ext, AccountEntryExtensionV3, AccountId,
    AlphaNum12, AlphaNum4, AssetCode12, AssetCode4, DataEntryExt, DataValue, ExtensionPoint,
    LedgerEntry, LedgerEntryChange, LedgerEntryChanges, LedgerEntryData, LedgerEntryExt, LedgerKey,
    LedgerKeyAccount, LedgerKeyData, LedgerKeyTrustLine, Liabilities, OperationMeta, PublicKey,
    SequenceNumber, Signer, SignerKey, SignerKeyEd25519SignedPayload, SponsorshipDescriptor,
    String32, String64, Thresholds, TimePoint, TransactionMeta, TransactionMetaV3, TrustLineAsset,
    TrustLineEntry, TrustLineEntryExt, Uint256,
};

use super::ledger::{Account, AssetKey, DataEntry, SignerKind, State, Trustline};

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    #[error("a ledger entry does not fit its XDR type: {0}")]
    Xdr(#[from] stellar_xdr::Error),
}

fn account_id(bytes: &[u8; 32]) -> AccountId {
    AccountId(PublicKey::PublicKeyTypeEd25519(Uint256(*bytes)))
}

fn signer_key(kind: &SignerKind) -> Result<SignerKey, MetaError> {
    Ok(match kind {
        SignerKind::Ed25519(k) => SignerKey::Ed25519(Uint256(*k)),
        SignerKind::PreAuthTx(h) => SignerKey::PreAuthTx(Uint256(*h)),
        SignerKind::HashX(h) => SignerKey::HashX(Uint256(*h)),
        SignerKind::SignedPayload { key, payload } => {
            SignerKey::Ed25519SignedPayload(SignerKeyEd25519SignedPayload {
                ed25519: Uint256(*key),
                payload: payload.clone().try_into()?,
            })
        }
    })
}

fn trustline_asset(asset: &AssetKey) -> Result<TrustLineAsset, MetaError> {
    let issuer = account_id(&asset.issuer);
    let code = asset.code.as_bytes();
    Ok(if code.len() <= 4 {
        let mut c = [0u8; 4];
        c[..code.len()].copy_from_slice(code);
        TrustLineAsset::CreditAlphanum4(AlphaNum4 {
            asset_code: AssetCode4(c),
            issuer,
        })
    } else {
        let mut c = [0u8; 12];
        let n = code.len().min(12);
        c[..n].copy_from_slice(&code[..n]);
        TrustLineAsset::CreditAlphanum12(AlphaNum12 {
            asset_code: AssetCode12(c),
            issuer,
        })
    })
}

pub fn account_entry(acc: &Account) -> Result<LedgerEntry, MetaError> {
    let signers: Vec<Signer> = acc
        .signers
        .iter()
        .map(|s| {
            Ok(Signer {
                key: signer_key(&s.key)?,
                weight: s.weight,
            })
        })
        .collect::<Result<_, MetaError>>()?;
    let ext = if acc.seq_ledger == 0 {
        AccountEntryExt::V0
    } else {
        // sequence metadata lives in extension v3, under v1 and v2 (core writes them together)
        AccountEntryExt::V1(AccountEntryExtensionV1 {
            liabilities: Liabilities {
                buying: 0,
                selling: 0,
            },
            ext: AccountEntryExtensionV1Ext::V2(AccountEntryExtensionV2 {
                num_sponsored: 0,
                num_sponsoring: 0,
                signer_sponsoring_i_ds: vec![SponsorshipDescriptor(None); signers.len()]
                    .try_into()?,
                ext: AccountEntryExtensionV2Ext::V3(AccountEntryExtensionV3 {
                    ext: ExtensionPoint::V0,
                    seq_ledger: acc.seq_ledger,
                    seq_time: TimePoint(acc.seq_time),
                }),
            }),
        })
    };
    Ok(LedgerEntry {
        last_modified_ledger_seq: acc.last_modified_ledger,
        data: LedgerEntryData::Account(AccountEntry {
            account_id: account_id(&acc.id),
            balance: acc.balance,
            seq_num: SequenceNumber(acc.seq_num),
            num_sub_entries: acc.num_sub_entries,
            inflation_dest: acc.inflation_dest.as_ref().map(account_id),
            flags: acc.flags,
            home_domain: String32(acc.home_domain.as_bytes().to_vec().try_into()?),
            thresholds: Thresholds(acc.thresholds),
            signers: signers.try_into()?,
            ext,
        }),
        ext: LedgerEntryExt::V0,
    })
}

pub fn trustline_entry(
    owner: &[u8; 32],
    asset: &AssetKey,
    line: &Trustline,
) -> Result<LedgerEntry, MetaError> {
    Ok(LedgerEntry {
        last_modified_ledger_seq: line.last_modified_ledger,
        data: LedgerEntryData::Trustline(TrustLineEntry {
            account_id: account_id(owner),
            asset: trustline_asset(asset)?,
            balance: line.balance,
            limit: line.limit,
            flags: line.flags,
            ext: TrustLineEntryExt::V0,
        }),
        ext: LedgerEntryExt::V0,
    })
}

pub fn data_entry(
    owner: &[u8; 32],
    name: &str,
    entry: &DataEntry,
) -> Result<LedgerEntry, MetaError> {
    Ok(LedgerEntry {
        last_modified_ledger_seq: entry.last_modified_ledger,
        data: LedgerEntryData::Data(stellar_xdr::DataEntry {
            account_id: account_id(owner),
            data_name: String64(name.as_bytes().to_vec().try_into()?),
            data_value: DataValue(entry.value.clone().try_into()?),
            ext: DataEntryExt::V0,
        }),
        ext: LedgerEntryExt::V0,
    })
}

/// One entry's change: `State` + `Updated`, `Created`, or `State` + `Removed`.
fn push_change(
    out: &mut Vec<LedgerEntryChange>,
    before: Option<LedgerEntry>,
    after: Option<LedgerEntry>,
    key: impl FnOnce() -> Result<LedgerKey, MetaError>,
) -> Result<(), MetaError> {
    match (before, after) {
        (None, Some(a)) => out.push(LedgerEntryChange::Created(a)),
        (Some(b), Some(a)) => {
            if b != a {
                out.push(LedgerEntryChange::State(b));
                out.push(LedgerEntryChange::Updated(a));
            }
        }
        (Some(b), None) => {
            out.push(LedgerEntryChange::State(b));
            out.push(LedgerEntryChange::Removed(key()?));
        }
        (None, None) => {}
    }
    Ok(())
}

/// The entry changes from `before` to `after`.
pub fn changes(before: &State, after: &State) -> Result<LedgerEntryChanges, MetaError> {
    let mut out = Vec::new();
    let mut ids: Vec<&[u8; 32]> = before
        .accounts
        .keys()
        .chain(after.accounts.keys())
        .collect();
    ids.sort();
    ids.dedup();
    for id in ids {
        let b = before.accounts.get(id);
        let a = after.accounts.get(id);
        if b == a {
            continue;
        }
        push_change(
            &mut out,
            b.map(account_entry).transpose()?,
            a.map(account_entry).transpose()?,
            || {
                Ok(LedgerKey::Account(LedgerKeyAccount {
                    account_id: account_id(id),
                }))
            },
        )?;
    }
    let mut lines: Vec<&([u8; 32], AssetKey)> = before
        .trustlines
        .keys()
        .chain(after.trustlines.keys())
        .collect();
    lines.sort();
    lines.dedup();
    for key in lines {
        let (b, a) = (before.trustlines.get(key), after.trustlines.get(key));
        if b == a {
            continue;
        }
        let (owner, asset) = key;
        push_change(
            &mut out,
            b.map(|l| trustline_entry(owner, asset, l)).transpose()?,
            a.map(|l| trustline_entry(owner, asset, l)).transpose()?,
            || {
                Ok(LedgerKey::Trustline(LedgerKeyTrustLine {
                    account_id: account_id(owner),
                    asset: trustline_asset(asset)?,
                }))
            },
        )?;
    }
    let mut data: Vec<&([u8; 32], String)> = before.data.keys().chain(after.data.keys()).collect();
    data.sort();
    data.dedup();
    for key in data {
        let (b, a) = (before.data.get(key), after.data.get(key));
        if b == a {
            continue;
        }
        let (owner, name) = key;
        push_change(
            &mut out,
            b.map(|e| data_entry(owner, name, e)).transpose()?,
            a.map(|e| data_entry(owner, name, e)).transpose()?,
            || {
                Ok(LedgerKey::Data(LedgerKeyData {
                    account_id: account_id(owner),
                    data_name: String64(name.as_bytes().to_vec().try_into()?),
                }))
            },
        )?;
    }
    Ok(out.try_into()?)
}

/// `TransactionMeta` v3: changes before the operations (sequence number, one-time signers), one
/// `OperationMeta` per operation (none when the transaction failed), nothing after.
pub fn transaction_meta(
    tx_changes_before: LedgerEntryChanges,
    operations: Vec<LedgerEntryChanges>,
) -> Result<TransactionMeta, MetaError> {
    let operations: Vec<OperationMeta> = operations
        .into_iter()
        .map(|changes| OperationMeta { changes })
        .collect();
    Ok(TransactionMeta::V3(TransactionMetaV3 {
        ext: ExtensionPoint::V0,
        tx_changes_before,
        operations: operations.try_into()?,
        tx_changes_after: Default::default(),
        soroban_meta: None,
    }))
}
