//! Ledger entries as Stellar RPC's `getLedgerEntries` gives them (stellar-xdr `AccountEntry`,
//! `TrustLineEntry`, `DataEntry`), read into the engine's entries ([`AccountEntries`]): the
//! one conversion from XDR entries, beside [`super::source::entries_from_horizon`] for Horizon's
//! account resource. [`horizon_account`] writes them as Horizon's account resource (with the
//! sandbox's own writer), so what reads an account (`pay`, `account`, signer sets) reads one
//! model over either backend.
//!
//! The entries come from a server: anything that does not convert exactly is an error, never a
//! guess.
use super::source::{AccountEntries, SourceError};
use airgap::horizon::Account as HorizonAccount;
use airgap_sandbox::ledger::{
    self, AccountSigner, AssetKey, DataEntry, SignerKind, State, Trustline,
};
use stellar_xdr::{
    AccountEntry, AccountEntryExt, AccountEntryExtensionV1Ext, AccountEntryExtensionV2Ext,
    AccountId as XdrAccountId, PublicKey, SignerKey, TrustLineAsset, TrustLineEntry,
    TrustLineEntryExt,
};

fn unusable(what: &str, why: impl Into<String>) -> SourceError {
    SourceError::Unusable {
        what: what.to_string(),
        why: why.into(),
    }
}

fn id_bytes(id: &XdrAccountId) -> [u8; 32] {
    let XdrAccountId(PublicKey::PublicKeyTypeEd25519(k)) = id;
    k.0
}

fn signer_kind(key: &SignerKey) -> SignerKind {
    match key {
        SignerKey::Ed25519(k) => SignerKind::Ed25519(k.0),
        SignerKey::PreAuthTx(h) => SignerKind::PreAuthTx(h.0),
        SignerKey::HashX(h) => SignerKind::HashX(h.0),
        SignerKey::Ed25519SignedPayload(p) => SignerKind::SignedPayload {
            key: p.ed25519.0,
            payload: p.payload.to_vec(),
        },
    }
}

/// The engine's key of an issued asset from its XDR code and issuer; `None` for a code that is
/// not one (its bytes up to the first NUL must be alphanumeric ASCII, at least one).
pub fn issued_asset_key(code: &[u8], issuer: &XdrAccountId) -> Option<AssetKey> {
    let code: Vec<u8> = code.iter().copied().take_while(|b| *b != 0).collect();
    if code.is_empty() || !code.iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    Some(AssetKey {
        code: String::from_utf8(code).ok()?,
        issuer: id_bytes(issuer),
    })
}

/// The engine's asset key of a trustline's asset; `None` for pool shares (not modelled).
pub fn asset_key(what: &str, asset: &TrustLineAsset) -> Result<Option<AssetKey>, SourceError> {
    let (code, issuer) = match asset {
        TrustLineAsset::CreditAlphanum4(a) => (&a.asset_code.0[..], &a.issuer),
        TrustLineAsset::CreditAlphanum12(a) => (&a.asset_code.0[..], &a.issuer),
        TrustLineAsset::Native | TrustLineAsset::PoolShare(_) => return Ok(None),
    };
    issued_asset_key(code, issuer)
        .map(Some)
        .ok_or_else(|| unusable(what, "an asset code is not valid"))
}

/// The engine's entries for one account from its XDR entries: the account (last modified in
/// ledger `modified`), and those of its trustlines and data entries that were read (RPC reads
/// entries by key: it cannot list an account's others).
pub fn entries_from_xdr(
    a: &AccountEntry,
    modified: u32,
    lines: &[(TrustLineEntry, u32)],
    data: &[(stellar_xdr::DataEntry, u32)],
) -> Result<AccountEntries, SourceError> {
    let id = id_bytes(&a.account_id);
    let what = format!(
        "the account entry of {}",
        airgap::account::AccountId::from_xdr(&a.account_id)
    );
    let mut unmodeled = Vec::new();
    let (mut seq_ledger, mut seq_time) = (0, 0);
    if let AccountEntryExt::V1(v1) = &a.ext {
        if v1.liabilities.buying != 0 || v1.liabilities.selling != 0 {
            unmodeled.push("open offers (liabilities on its balances)".to_string());
        }
        if let AccountEntryExtensionV1Ext::V2(v2) = &v1.ext {
            if v2.num_sponsored != 0 || v2.num_sponsoring != 0 {
                unmodeled.push("sponsored reserves".to_string());
            }
            if let AccountEntryExtensionV2Ext::V3(v3) = &v2.ext {
                seq_ledger = v3.seq_ledger;
                seq_time = v3.seq_time.0;
            }
        }
    }
    let mut signers: Vec<AccountSigner> = a
        .signers
        .iter()
        .map(|s| AccountSigner {
            key: signer_kind(&s.key),
            weight: s.weight,
        })
        .collect();
    signers.sort_by(|x, y| x.key.cmp(&y.key));
    let home_domain = String::from_utf8(a.home_domain.to_vec())
        .map_err(|_| unusable(&what, "its home domain is not UTF-8"))?;
    let account = ledger::Account {
        num_sub_entries: a.num_sub_entries,
        flags: a.flags,
        thresholds: a.thresholds.0,
        home_domain,
        inflation_dest: a.inflation_dest.as_ref().map(id_bytes),
        signers,
        seq_ledger,
        seq_time,
        last_modified_ledger: modified,
        ..ledger::Account::new(id, a.balance, a.seq_num.0)
    };
    let mut trustlines = Vec::new();
    for (t, modified) in lines {
        if id_bytes(&t.account_id) != id {
            return Err(unusable(&what, "a trustline of another account"));
        }
        if let TrustLineEntryExt::V1(v1) = &t.ext {
            if v1.liabilities.buying != 0 || v1.liabilities.selling != 0 {
                unmodeled.push("open offers (liabilities on its balances)".to_string());
            }
        }
        match asset_key(&what, &t.asset)? {
            None => unmodeled.push("liquidity-pool shares".to_string()),
            Some(key) => trustlines.push((
                key,
                Trustline {
                    balance: t.balance,
                    limit: t.limit,
                    flags: t.flags,
                    last_modified_ledger: *modified,
                },
            )),
        }
    }
    let mut entries = Vec::new();
    for (d, modified) in data {
        if id_bytes(&d.account_id) != id {
            return Err(unusable(&what, "a data entry of another account"));
        }
        let name = String::from_utf8(d.data_name.to_vec())
            .map_err(|_| unusable(&what, "a data entry's name is not UTF-8"))?;
        entries.push((
            name,
            DataEntry {
                value: d.data_value.to_vec(),
                last_modified_ledger: *modified,
            },
        ));
    }
    unmodeled.sort();
    unmodeled.dedup();
    Ok(AccountEntries {
        account,
        trustlines,
        data: entries,
        unmodeled,
    })
}

/// The entries as Horizon's account resource (the sandbox's writer), listing only the
/// trustlines and data entries that were read.
pub fn horizon_account(e: &AccountEntries) -> HorizonAccount {
    let mut state = State::default();
    let id = e.account.id;
    for (k, t) in &e.trustlines {
        state.trustlines.insert((id, k.clone()), t.clone());
    }
    for (n, d) in &e.data {
        state.data.insert((id, n.clone()), d.clone());
    }
    airgap_sandbox::resources::account("", &e.account, &state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use airgap_sandbox::ledger::{Account, TL_AUTHORIZED};
    use stellar_xdr::LedgerEntryData;

    /// The sandbox writes its entries as XDR (what its RPC serves); reading them back gives the
    /// same entries.
    #[test]
    fn xdr_entries_read_back_as_the_entries_they_were_written_from() {
        let (id, issuer) = ([7u8; 32], [9u8; 32]);
        let mut acc = Account::new(id, 123_456_789, 42 << 32 | 5);
        acc.flags = ledger::AUTH_REQUIRED;
        acc.thresholds = [2, 1, 2, 3];
        acc.home_domain = "example.com".into();
        acc.inflation_dest = Some([3; 32]);
        acc.signers = vec![AccountSigner {
            key: SignerKind::HashX([5; 32]),
            weight: 2,
        }];
        acc.seq_ledger = 40;
        acc.seq_time = 1_700_000_000;
        acc.num_sub_entries = 3;
        acc.last_modified_ledger = 41;
        let key = AssetKey {
            code: "LONGCODE1".into(),
            issuer,
        };
        let line = Trustline {
            balance: 5,
            limit: i64::MAX,
            flags: TL_AUTHORIZED,
            last_modified_ledger: 3,
        };
        let data = DataEntry {
            value: vec![0, 1, 255],
            last_modified_ledger: 4,
        };
        let LedgerEntryData::Account(a) = airgap_sandbox::meta::account_entry(&acc).unwrap().data
        else {
            unreachable!()
        };
        let LedgerEntryData::Trustline(t) = airgap_sandbox::meta::trustline_entry(&id, &key, &line)
            .unwrap()
            .data
        else {
            unreachable!()
        };
        let LedgerEntryData::Data(d) = airgap_sandbox::meta::data_entry(&id, "name", &data)
            .unwrap()
            .data
        else {
            unreachable!()
        };
        let read = entries_from_xdr(&a, 41, &[(t, 3)], &[(d, 4)]).unwrap();
        assert!(read.unmodeled.is_empty(), "{:?}", read.unmodeled);
        let mut expected = acc.clone();
        expected.last_modified_time = 0;
        assert_eq!(read.account, expected);
        assert_eq!(read.trustlines, vec![(key, line)]);
        assert_eq!(read.data, vec![("name".to_string(), data)]);
        let h = horizon_account(&read);
        assert_eq!(h.sequence, (42i64 << 32 | 5).to_string());
        assert_eq!(h.balances.len(), 2);
        assert_eq!(h.thresholds.high_threshold, 3);
    }
}
