//! One row of the queue: its content read with the library's parsers (a malformed row is failed
//! with the reason), the checks against the destination's account that spend nothing, and the
//! signed envelope that pays it.
use crate::db::{Payment, Signed};
use airgap::account::{AccountId, Destination};
use airgap::amount::Amount;
use airgap::asset::Asset;
use airgap::build::{self, MemoSpec, OpBody, OpSpec, TimeWindow, TxSpec};
use airgap::envelope;
use airgap::horizon::Account;
use airgap::keys::SecretSeed;
use airgap::network::Network;

/// A row's content, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payout {
    pub destination: Destination,
    pub asset: Asset,
    pub amount: Amount,
    pub memo: MemoSpec,
}

/// Read a row as the anchor wrote it; `Err` is the reason it is failed (`malformed: …`).
pub fn parse(p: &Payment) -> Result<Payout, String> {
    let r = &p.request;
    let bad = |what: &str, e: &dyn std::fmt::Display| format!("malformed: {what}: {e}");
    let destination: Destination = r.destination.parse().map_err(|e| bad("destination", &e))?;
    let asset: Asset = r.asset.parse().map_err(|e| bad("asset", &e))?;
    let amount = r
        .amount
        .trim()
        .parse::<Amount>()
        .and_then(Amount::positive)
        .map_err(|e| bad("amount", &e))?;
    let memo = memo(&r.memo_type, r.memo.as_deref()).map_err(|e| bad("memo", &e))?;
    Ok(Payout {
        destination,
        asset,
        amount,
        memo,
    })
}

fn memo(kind: &str, value: Option<&str>) -> Result<MemoSpec, String> {
    let need = || value.ok_or_else(|| format!("memo_type {kind} needs a memo"));
    match kind.trim() {
        "none" | "" => match value {
            None => Ok(MemoSpec::None),
            Some(_) => Err("a memo with memo_type none".into()),
        },
        "text" => MemoSpec::text(need()?).map_err(|e| e.to_string()),
        "id" => MemoSpec::id(need()?).map_err(|e| e.to_string()),
        "hash" => MemoSpec::hash(need()?).map_err(|e| e.to_string()),
        "return" => MemoSpec::ret(need()?).map_err(|e| e.to_string()),
        other => Err(format!(
            "memo_type {other:?} is not none, id, text, hash or return"
        )),
    }
}

/// The canonical text of an asset, as `stellar_payments.asset` and Horizon's balances name it.
pub fn asset_text(a: &Asset) -> String {
    match a {
        Asset::Native => "native".into(),
        Asset::Credit { code, issuer } => format!("{code}:{issuer}"),
    }
}

/// The checks that spend nothing: the destination exists, and for an issued asset (unless the
/// destination is its issuer) holds an authorized trustline with room for the amount.
/// `Err` is the reason the row is failed.
pub fn precheck(p: &Payout, dest: Option<&Account>) -> Result<(), String> {
    let account = p.destination.account;
    let Some(dest) = dest else {
        return Err(format!("destination_missing: {account} does not exist"));
    };
    let Asset::Credit { code, issuer } = &p.asset else {
        return Ok(());
    };
    if *issuer == account {
        return Ok(());
    }
    let Some(line) = dest.trustline(code.as_str(), &issuer.to_string()) else {
        return Err(format!(
            "no_trustline: {account} has no trustline to {code}:{issuer}"
        ));
    };
    if line.is_authorized == Some(false) {
        return Err(format!(
            "not_authorized: {account}'s trustline to {code} is not authorized"
        ));
    }
    let num = |s: Option<&String>| s.and_then(|v| v.parse::<Amount>().ok());
    let (Some(balance), Some(limit)) = (num(Some(&line.balance)), num(line.limit.as_ref())) else {
        return Ok(());
    };
    let buying = num(line.buying_liabilities.as_ref()).unwrap_or(Amount::ZERO);
    let room = limit.stroops() - balance.stroops() - buying.stroops();
    if p.amount.stroops() > room {
        return Err(format!(
            "over_limit: {account} can take {} more {code} (limit {})",
            Amount::from_stroops(room.max(0))
                .unwrap_or(Amount::ZERO)
                .to_horizon_string(),
            limit.to_horizon_string()
        ));
    }
    Ok(())
}

/// Whose sequence number and fee a transaction uses: a channel account, or the base account.
pub struct Channel {
    pub seed: SecretSeed,
    pub id: AccountId,
}

/// What signing needs besides the row.
pub struct Signing<'a> {
    pub network: &'a Network,
    pub base: &'a SecretSeed,
    /// The fee of a one-payment transaction, in stroops.
    pub fee: u32,
}

/// Build and sign the payment of `p` from the base account, with `channel` as the
/// transaction's source at `sequence`, valid until `max_time` (Unix seconds).
pub fn sign(
    s: &Signing<'_>,
    p: &Payout,
    channel: &Channel,
    sequence: i64,
    max_time: u64,
) -> Result<Signed, String> {
    let base = s.base.public_key();
    let op = OpSpec {
        // The payment's source is the base account; when the channel is the base account, the
        // transaction's source already is.
        source: (channel.id != base).then_some(base),
        body: OpBody::Payment {
            destination: p.destination.account,
            asset: p.asset.clone(),
            amount: p.amount,
        },
    };
    let spec = TxSpec {
        network: s.network.clone(),
        source: channel.id,
        sequence,
        base_fee: s.fee,
        time: TimeWindow {
            min: 0,
            max: max_time,
        },
        memo: p.memo.clone(),
        operations: vec![op],
    };
    let mut tx = build::build(&spec).map_err(|e| e.to_string())?;
    // A muxed destination (M…): the same payment to the account, with the ID the receiver
    // reads.
    let mut ops = tx.operations.to_vec();
    if let Some(stellar_xdr::OperationBody::Payment(pay)) = ops.first_mut().map(|o| &mut o.body) {
        pay.destination = p.destination.to_muxed();
    }
    tx.operations = ops.try_into().map_err(|_| "one operation".to_string())?;
    let mut env = build::envelope(tx);
    envelope::sign(&mut env, s.network, &channel.seed).map_err(|e| e.to_string())?;
    if channel.id != base {
        envelope::sign(&mut env, s.network, s.base).map_err(|e| e.to_string())?;
    }
    Ok(Signed {
        envelope: envelope::encode(&env),
        tx_hash: hex::encode(envelope::hash(&env, s.network)),
        max_time,
        channel: channel.id.to_string(),
    })
}

/// The sequence number an envelope uses.
pub fn sequence_of(envelope_b64: &str) -> Option<i64> {
    envelope::decode(envelope_b64)
        .ok()
        .map(|e| envelope::sequence(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{NewPayment, PaymentState};

    fn row(dest: &str, asset: &str, amount: &str, memo_type: &str, memo: Option<&str>) -> Payment {
        Payment {
            request: NewPayment {
                id: "r".into(),
                customer: None,
                destination: dest.into(),
                asset: asset.into(),
                amount: amount.into(),
                memo_type: memo_type.into(),
                memo: memo.map(str::to_string),
            },
            state: PaymentState::Pending,
            tx_hash: None,
            envelope: None,
            max_time: None,
            channel: None,
            worker: None,
            result: None,
            ledger: None,
            attempts: 0,
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    const G: &str = "GBZXN7PIRZGNMHGA7MUUUF4GWPY5AYPV6LY4UV2GL6VJGIQRXFDNMADI";

    #[test]
    fn malformed_rows_say_why() {
        let usd = format!("USD:{G}");
        for (r, why) in [
            (row("GBAD", "native", "1", "none", None), "destination"),
            (row(G, "USD", "1", "none", None), "asset"),
            (row(G, &usd, "1.00000001", "none", None), "amount"),
            (row(G, &usd, "0", "none", None), "amount"),
            (row(G, &usd, "-1", "none", None), "amount"),
            (row(G, &usd, "1", "id", Some("x")), "memo"),
            (row(G, &usd, "1", "text", None), "memo"),
            (row(G, &usd, "1", "text", Some(&"x".repeat(29))), "memo"),
            (row(G, &usd, "1", "none", Some("x")), "memo"),
            (row(G, &usd, "1", "weird", Some("x")), "memo"),
        ] {
            let e = parse(&r).unwrap_err();
            assert!(e.starts_with(&format!("malformed: {why}")), "{e}");
        }
        assert!(parse(&row(G, &usd, "1.5", "id", Some("7"))).is_ok());
    }
}
