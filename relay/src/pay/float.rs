//! `airgap-relay float`: the plan file (the signer's format, `docs/plan-format.md`) of the
//! payment from the issuing account that brings the base account to its target plus what the
//! queue still has to pay, with the issuer's next sequence number filled in. Signed offline,
//! carried back and submitted, it lets the rows the float held back go.
use super::net::{Net, NetError};
use super::row;
use airgap::account::AccountId;
use airgap::amount::Amount;
use airgap::asset::Asset;
use airgap::network::Network;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FloatError {
    #[error("the float is for an issued asset (CODE:ISSUER): the issuing account pays it")]
    Native,
    #[error("{0} does not exist on the network")]
    NoAccount(AccountId),
    #[error("{base} has no trustline to {asset}")]
    NoTrustline { base: AccountId, asset: String },
    #[error("{0}")]
    Server(String),
    #[error("the amount to send is larger than any Stellar amount")]
    TooLarge,
}

/// What the float needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    /// The base account's balance now.
    pub balance: Amount,
    /// What the queue still has to pay (`pending` and `sending`).
    pub queued: Amount,
    /// What to send: target + queued − balance (zero when the base account has enough).
    pub send: Amount,
}

/// How much the issuer must send for the base account to hold `target` after paying `queued`.
pub fn need(
    net: &dyn Net,
    base: &AccountId,
    asset: &Asset,
    target: Amount,
    queued: Amount,
) -> Result<Need, FloatError> {
    let Asset::Credit { code, issuer } = asset else {
        return Err(FloatError::Native);
    };
    let acct = net
        .account(base, std::slice::from_ref(asset))
        .map_err(|e| FloatError::Server(e.to_string()))?
        .ok_or(FloatError::NoAccount(*base))?;
    let line = acct
        .trustline(code.as_str(), &issuer.to_string())
        .ok_or_else(|| FloatError::NoTrustline {
            base: *base,
            asset: format!("{code}:{issuer}"),
        })?;
    let balance: Amount = line
        .balance
        .parse()
        .map_err(|e| FloatError::Server(format!("the balance of {base}: {e}")))?;
    let want = i128::from(target.stroops()) + i128::from(queued.stroops());
    let send = (want - i128::from(balance.stroops())).max(0);
    let send = i64::try_from(send)
        .ok()
        .and_then(|s| Amount::from_stroops(s).ok())
        .ok_or(FloatError::TooLarge)?;
    Ok(Need {
        balance,
        queued,
        send,
    })
}

/// The plan: one payment of `amount` of `asset` from its issuer to `base`, at the issuer's next
/// sequence number (read now).
pub fn plan(
    net: &dyn Net,
    network: &Network,
    base: &AccountId,
    asset: &Asset,
    amount: Amount,
) -> Result<serde_json::Value, FloatError> {
    let Asset::Credit { code, issuer } = asset else {
        return Err(FloatError::Native);
    };
    let acct = net
        .account(issuer, &[])
        .map_err(|e| FloatError::Server(e.to_string()))?
        .ok_or(FloatError::NoAccount(*issuer))?;
    let seq = acct
        .sequence()
        .ok_or_else(|| FloatError::Server(format!("{issuer}'s sequence is not a number")))?;
    Ok(json!({
        "network": match network {
            Network::Custom(p) => p.as_str(),
            named => named.name(),
        },
        "source": issuer.to_string(),
        "sequence": (seq + 1).to_string(),
        "memo": {"text": "float top-up"},
        "operations": [{
            "type": "payment",
            "destination": base.to_string(),
            "asset": format!("{code}:{issuer}"),
            "amount": amount.to_horizon_string(),
        }],
    }))
}

/// What the base account may still pay per asset: its balance, less what is `sending`, less the
/// float's minimum. `sending` is read first: a row that lands in between is then counted twice
/// (too careful), never not at all. Balances are read once per claim, each asset's trustline when
/// first needed (Stellar RPC cannot list them).
pub struct Room {
    base: AccountId,
    sending: BTreeMap<String, i128>,
    min: i128,
    /// Balance per asset text (`None`: no trustline), as read in this claim.
    balances: Mutex<BTreeMap<String, Option<i128>>>,
}

impl Room {
    pub fn new(
        base: AccountId,
        sending: BTreeMap<String, i128>,
        min: Amount,
        acct: &airgap::horizon::Account,
    ) -> Room {
        let mut balances = BTreeMap::new();
        read_balances(acct, &mut balances);
        Room {
            base,
            sending,
            min: i128::from(min.stroops()),
            balances: Mutex::new(balances),
        }
    }

    pub fn left(&self, net: &dyn Net, asset: &airgap::asset::Asset) -> Result<i128, NetError> {
        let text = row::asset_text(asset);
        let mut balances = self.balances.lock().unwrap_or_else(|e| e.into_inner());
        if !balances.contains_key(&text) {
            let acct = net
                .account(&self.base, std::slice::from_ref(asset))?
                .ok_or_else(|| {
                    NetError(format!("the base account {} does not exist", self.base))
                })?;
            read_balances(&acct, &mut balances);
            balances.entry(text.clone()).or_insert(None);
        }
        Ok(match balances.get(&text).copied().flatten() {
            None => 0,
            Some(b) => b - self.sending.get(&text).copied().unwrap_or(0) - self.min,
        })
    }
}

fn read_balances(acct: &airgap::horizon::Account, into: &mut BTreeMap<String, Option<i128>>) {
    for b in &acct.balances {
        let asset = match (&b.asset_code, &b.asset_issuer) {
            (Some(c), Some(i)) => format!("{c}:{i}"),
            _ if b.asset_type == "native" => "native".to_string(),
            _ => continue,
        };
        let Ok(balance) = b.balance.parse::<Amount>() else {
            continue;
        };
        into.insert(asset, Some(i128::from(balance.stroops())));
    }
}
