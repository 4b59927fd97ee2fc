//! CAP-67 events of classic operations, as stellar-core emits them with `EMIT_CLASSIC_EVENTS`
//! (`EventManager.cpp`: `OpEventManager` and `TxEventManager`): each asset movement is an event of
//! the asset's Stellar Asset Contract (`airgap::sac`), with the SEP-11 asset string as the last
//! topic:
//!
//! * `["transfer", from, to, asset]`, or `["mint", to, asset]` when the issuer pays, or
//!   `["burn", from, asset]` when the issuer is paid (`eventForTransferWithIssuerCheck`);
//!   addresses lose their muxed ID in topics (`getAddressWithDroppedMuxedInfo`); the data is the
//!   amount (`i128`), or `{amount, to_muxed_id}` when the destination is muxed (its ID, `u64`) or
//!   the transaction has a memo (text → string, id → u64, hash/return → bytes) —
//!   `getPossibleMuxedData`; burns carry the bare amount;
//! * `["clawback", from, asset]` (amount), `["set_authorized", trustor, asset]` (bool);
//! * a transaction-level `["fee", fee_source]` on the native contract (amount charged), stage
//!   "before all transactions".

use stellar_xdr::{
    AccountId, Asset, ContractEvent, ContractEventBody, ContractEventType, ContractEventV0,
    ContractId, ExtensionPoint, Hash, Int128Parts, Memo, MuxedAccount, MuxedEd25519Account,
    PublicKey, ScAddress, ScBytes, ScMap, ScMapEntry, ScString, ScSymbol, ScVal, TransactionEvent,
    TransactionEventStage, Uint256,
};

use super::entries::{account_id_bytes, AssetKey, TL_AUTHORIZED};
use super::LedgerError;

/// An account, maybe muxed, as an `ScAddress`.
fn address(m: &MuxedAccount) -> ScAddress {
    match m {
        MuxedAccount::Ed25519(k) => ScAddress::Account(account(k.0)),
        MuxedAccount::MuxedEd25519(med) => ScAddress::MuxedAccount(MuxedEd25519Account {
            id: med.id,
            ed25519: med.ed25519.clone(),
        }),
    }
}

fn account(bytes: [u8; 32]) -> AccountId {
    AccountId(PublicKey::PublicKeyTypeEd25519(Uint256(bytes)))
}

/// The address without its muxed ID (`getAddressWithDroppedMuxedInfo`).
fn dropped(a: &ScAddress) -> ScAddress {
    match a {
        ScAddress::MuxedAccount(m) => ScAddress::Account(account(m.ed25519.0)),
        other => other.clone(),
    }
}

fn account_bytes_of(a: &ScAddress) -> Option<[u8; 32]> {
    match a {
        ScAddress::Account(id) => Some(account_id_bytes(id)),
        ScAddress::MuxedAccount(m) => Some(m.ed25519.0),
        _ => None,
    }
}

fn symbol(s: &str) -> Result<ScVal, LedgerError> {
    Ok(ScVal::Symbol(ScSymbol(s.try_into()?)))
}

fn i128_val(amount: i64) -> ScVal {
    ScVal::I128(Int128Parts {
        hi: if amount < 0 { -1 } else { 0 },
        lo: amount as u64,
    })
}

/// The SEP-11 string of an asset: `native` or `CODE:G…`.
pub fn sep11(asset: &Asset) -> String {
    match asset {
        Asset::Native => "native".into(),
        Asset::CreditAlphanum4(a) => format!(
            "{}:{}",
            airgap::asset::AssetCode::from_xdr_bytes(&a.asset_code.0),
            g(account_id_bytes(&a.issuer))
        ),
        Asset::CreditAlphanum12(a) => format!(
            "{}:{}",
            airgap::asset::AssetCode::from_xdr_bytes(&a.asset_code.0),
            g(account_id_bytes(&a.issuer))
        ),
    }
}

fn g(bytes: [u8; 32]) -> String {
    stellar_strkey::ed25519::PublicKey(bytes)
        .to_string()
        .to_string()
}

fn issuer_of(asset: &Asset) -> Option<[u8; 32]> {
    match asset {
        Asset::Native => None,
        Asset::CreditAlphanum4(a) => Some(account_id_bytes(&a.issuer)),
        Asset::CreditAlphanum12(a) => Some(account_id_bytes(&a.issuer)),
    }
}

fn is_issuer(a: &ScAddress, asset: &Asset) -> bool {
    issuer_of(asset).is_some_and(|i| account_bytes_of(a) == Some(i))
}

/// The classic asset of a trustline key.
pub(super) fn asset_of_key(key: &AssetKey) -> Asset {
    let issuer = account(key.issuer);
    let code = key.code.as_bytes();
    if code.len() <= 4 {
        let mut c = [0u8; 4];
        c[..code.len()].copy_from_slice(code);
        Asset::CreditAlphanum4(stellar_xdr::AlphaNum4 {
            asset_code: stellar_xdr::AssetCode4(c),
            issuer,
        })
    } else {
        let mut c = [0u8; 12];
        let n = code.len().min(12);
        c[..n].copy_from_slice(&code[..n]);
        Asset::CreditAlphanum12(stellar_xdr::AlphaNum12 {
            asset_code: stellar_xdr::AssetCode12(c),
            issuer,
        })
    }
}

/// Builds the events of one transaction's operations on one network.
pub(super) struct Events<'a> {
    pub(super) network_id: [u8; 32],
    pub(super) memo: &'a Memo,
}

impl Events<'_> {
    fn event(
        &self,
        asset: &Asset,
        topics: Vec<ScVal>,
        data: ScVal,
    ) -> Result<ContractEvent, LedgerError> {
        let id = airgap::sac::contract_id_for(asset, self.network_id);
        Ok(ContractEvent {
            ext: ExtensionPoint::V0,
            contract_id: Some(ContractId(Hash(id))),
            type_: ContractEventType::Contract,
            body: ContractEventBody::V0(ContractEventV0 {
                topics: topics.try_into()?,
                data,
            }),
        })
    }

    fn asset_topic(asset: &Asset) -> Result<ScVal, LedgerError> {
        Ok(ScVal::String(ScString(sep11(asset).try_into()?)))
    }

    /// `getPossibleMuxedData`.
    fn muxed_data(&self, to: &ScAddress, amount: i64, allow: bool) -> Result<ScVal, LedgerError> {
        let to_muxed = match to {
            ScAddress::MuxedAccount(m) => Some(ScVal::U64(m.id)),
            _ => None,
        };
        let memo = match (to, self.memo) {
            (ScAddress::Account(_), Memo::Text(t)) => {
                Some(ScVal::String(ScString(t.as_slice().to_vec().try_into()?)))
            }
            (ScAddress::Account(_), Memo::Id(id)) => Some(ScVal::U64(*id)),
            (ScAddress::Account(_), Memo::Hash(h) | Memo::Return(h)) => {
                Some(ScVal::Bytes(ScBytes(h.0.to_vec().try_into()?)))
            }
            _ => None,
        };
        match to_muxed.or(memo) {
            Some(id) if allow => Ok(ScVal::Map(Some(ScMap(
                vec![
                    ScMapEntry {
                        key: symbol("amount")?,
                        val: i128_val(amount),
                    },
                    ScMapEntry {
                        key: symbol("to_muxed_id")?,
                        val: id,
                    },
                ]
                .try_into()?,
            )))),
            _ => Ok(i128_val(amount)),
        }
    }

    /// `newTransferEvent`.
    fn transfer(
        &self,
        asset: &Asset,
        from: &ScAddress,
        to: &ScAddress,
        amount: i64,
        allow: bool,
    ) -> Result<ContractEvent, LedgerError> {
        let topics = vec![
            symbol("transfer")?,
            ScVal::Address(dropped(from)),
            ScVal::Address(dropped(to)),
            Self::asset_topic(asset)?,
        ];
        self.event(asset, topics, self.muxed_data(to, amount, allow)?)
    }

    /// `eventForTransferWithIssuerCheck`: a transfer, or a mint from the issuer, or a burn to it.
    pub(super) fn movement(
        &self,
        asset: &Asset,
        from: &MuxedAccount,
        to: &MuxedAccount,
        amount: i64,
    ) -> Result<ContractEvent, LedgerError> {
        let (from, to) = (address(from), address(to));
        match (is_issuer(&from, asset), is_issuer(&to, asset)) {
            (true, false) => {
                let topics = vec![
                    symbol("mint")?,
                    ScVal::Address(dropped(&to)),
                    Self::asset_topic(asset)?,
                ];
                self.event(asset, topics, self.muxed_data(&to, amount, true)?)
            }
            (false, true) => {
                let topics = vec![
                    symbol("burn")?,
                    ScVal::Address(dropped(&from)),
                    Self::asset_topic(asset)?,
                ];
                self.event(asset, topics, i128_val(amount))
            }
            _ => self.transfer(asset, &from, &to, amount, true),
        }
    }

    /// A lumen transfer to an account (create_account: the destination is never muxed).
    pub(super) fn native_to_account(
        &self,
        from: &MuxedAccount,
        to: [u8; 32],
        amount: i64,
    ) -> Result<ContractEvent, LedgerError> {
        let to = ScAddress::Account(account(to));
        self.transfer(&Asset::Native, &address(from), &to, amount, true)
    }

    /// A lumen transfer between two accounts, maybe muxed (account_merge).
    pub(super) fn native(
        &self,
        from: &MuxedAccount,
        to: &MuxedAccount,
        amount: i64,
    ) -> Result<ContractEvent, LedgerError> {
        self.transfer(&Asset::Native, &address(from), &address(to), amount, true)
    }

    /// `newClawbackEvent`.
    pub(super) fn clawback(
        &self,
        asset: &Asset,
        from: &MuxedAccount,
        amount: i64,
    ) -> Result<ContractEvent, LedgerError> {
        let topics = vec![
            symbol("clawback")?,
            ScVal::Address(dropped(&address(from))),
            Self::asset_topic(asset)?,
        ];
        self.event(asset, topics, i128_val(amount))
    }

    /// `newSetAuthorizedEvent`: whether the trustline ends up authorized.
    pub(super) fn set_authorized(
        &self,
        asset: &Asset,
        trustor: [u8; 32],
        flags: u32,
    ) -> Result<ContractEvent, LedgerError> {
        let topics = vec![
            symbol("set_authorized")?,
            ScVal::Address(ScAddress::Account(account(trustor))),
            Self::asset_topic(asset)?,
        ];
        self.event(asset, topics, ScVal::Bool(flags & TL_AUTHORIZED != 0))
    }
}

/// `TxEventManager::newFeeEvent`: the fee charged to `fee_source`, before all transactions.
pub(super) fn fee_event(
    network_id: [u8; 32],
    fee_source: [u8; 32],
    amount: i64,
) -> Result<TransactionEvent, LedgerError> {
    let memo = Memo::None;
    let events = Events {
        network_id,
        memo: &memo,
    };
    let topics = vec![
        symbol("fee")?,
        ScVal::Address(ScAddress::Account(account(fee_source))),
    ];
    Ok(TransactionEvent {
        stage: TransactionEventStage::BeforeAllTxs,
        event: events.event(&Asset::Native, topics, i128_val(amount))?,
    })
}
