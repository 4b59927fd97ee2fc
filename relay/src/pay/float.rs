//! `airgap-relay float`: the plan file (the signer's format, `docs/plan-format.md`) of the
//! payment from the issuing account that brings the base account to its target plus what the
//! queue still has to pay, with the issuer's next sequence number filled in. Signed offline,
//! carried back and submitted, it lets the rows the float held back go.
use super::net::Net;
use airgap::account::AccountId;
use airgap::amount::Amount;
use airgap::asset::Asset;
use airgap::network::Network;
use serde_json::json;

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
