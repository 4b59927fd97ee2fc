//! Horizon's payment-type operation records (`operations.Base` with `create_account`, `payment`,
//! both path payments and `account_merge`), as the payments collections and streams carry them.

use serde::{Deserialize, Serialize};

use super::{Links, Transaction};

/// A payment-type operation record (`GET /payments`, `GET /accounts/{id}/payments`, and their
/// streams; Horizon's `operations.Base` with its payment kinds).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    #[serde(rename = "_links", default)]
    pub links: Links,
    /// The operation's ID, also its paging token.
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub paging_token: String,
    #[serde(default)]
    pub transaction_successful: bool,
    #[serde(default)]
    pub source_account: String,
    /// The operation's source as an `M…` address, when it was muxed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_account_muxed: Option<String>,
    /// Its muxed ID (a decimal string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_account_muxed_id: Option<String>,
    /// `type` and what the operation of that type moved.
    #[serde(flatten)]
    pub details: PaymentDetails,
    #[serde(default)]
    pub type_i: u32,
    #[serde(default)]
    pub created_at: String,
    #[serde(default)]
    pub transaction_hash: String,
    /// The whole transaction, with `join=transactions`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction: Option<Box<Transaction>>,
}

/// What a payment-type operation moved, by its `type`. `*_muxed` / `*_muxed_id` name an `M…`
/// address and its ID where the operation used one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PaymentDetails {
    CreateAccount {
        starting_balance: String,
        funder: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        funder_muxed: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        funder_muxed_id: Option<String>,
        account: String,
    },
    Payment {
        #[serde(flatten)]
        asset: AssetFields,
        #[serde(flatten)]
        parties: Parties,
        amount: String,
    },
    PathPaymentStrictReceive {
        #[serde(flatten)]
        asset: AssetFields,
        #[serde(flatten)]
        parties: Parties,
        /// What the destination received.
        amount: String,
        path: Vec<AssetFields>,
        /// What the source sent ("0.0000000" unless the transaction succeeded).
        source_amount: String,
        source_max: String,
        #[serde(flatten)]
        source_asset: SourceAssetFields,
    },
    PathPaymentStrictSend {
        #[serde(flatten)]
        asset: AssetFields,
        #[serde(flatten)]
        parties: Parties,
        /// What the destination received ("0.0000000" unless the transaction succeeded).
        amount: String,
        path: Vec<AssetFields>,
        source_amount: String,
        destination_min: String,
        #[serde(flatten)]
        source_asset: SourceAssetFields,
    },
    AccountMerge {
        account: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        account_muxed: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        account_muxed_id: Option<String>,
        into: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        into_muxed: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        into_muxed_id: Option<String>,
    },
    /// Another kind: read, never written here.
    #[serde(other)]
    Other,
}

/// Sender and receiver of a payment or path payment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parties {
    pub from: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_muxed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_muxed_id: Option<String>,
    pub to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_muxed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_muxed_id: Option<String>,
}

/// An asset as Horizon spells it inside a record: `asset_type`, then code and issuer for credit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetFields {
    pub asset_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_issuer: Option<String>,
}

/// A path payment's send asset: `source_asset_type`, then code and issuer for credit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceAssetFields {
    pub source_asset_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_asset_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_asset_issuer: Option<String>,
}
