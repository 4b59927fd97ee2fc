//! Fee bumps: wrap a signed transaction in a fee-bump transaction paid by another account.
//!
//! The inner envelope is carried unchanged: same transaction, same signatures, same hash. Only a v0
//! envelope is restated as the v1 envelope it is hashed as (its hash and signatures stay valid),
//! because a fee bump can only carry a v1 envelope.
use crate::account::AccountId;
use crate::envelope;
use stellar_xdr::{
    FeeBumpTransaction, FeeBumpTransactionEnvelope, FeeBumpTransactionExt,
    FeeBumpTransactionInnerTx, TransactionEnvelope, VecM,
};

/// Stellar's minimum base fee per operation, in stroops.
pub const MIN_BASE_FEE: i64 = 100;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum FeeBumpError {
    #[error("the envelope is already a fee bump; a fee bump cannot be wrapped again")]
    AlreadyFeeBump,
    #[error("the inner transaction has no signatures; sign it before paying its fee")]
    Unsigned,
    #[error("a fee bump of {offered} stroops is too low for this transaction: it must be at least {needed} stroops")]
    FeeTooLow { offered: i64, needed: i64 },
}

/// The smallest fee a fee bump around `inner` may offer, at `base_fee` stroops per operation:
/// the outer transaction counts as one more operation, and its fee rate may not be lower than the
/// inner transaction's (stellar-core's two rules for fee bumps).
pub fn min_fee(inner: &TransactionEnvelope, base_fee: i64) -> i64 {
    let tx = envelope::transaction(inner);
    let ops = i64::try_from(tx.operations.len())
        .unwrap_or(i64::MAX)
        .max(1);
    let by_base = base_fee.saturating_mul(ops.saturating_add(1));
    // outer_fee * ops >= inner_fee * (ops + 1), rounded up.
    let inner_fee = i64::from(tx.fee);
    let by_rate = inner_fee
        .saturating_mul(ops.saturating_add(1))
        .saturating_add(ops - 1)
        / ops;
    by_base.max(by_rate)
}

/// Wrap `inner` in an unsigned fee-bump envelope whose fee (`max_fee` stroops in total) is paid
/// by `fee_source`. Sign the result with the fee source's key ([`envelope::sign`]).
pub fn wrap(
    inner: &TransactionEnvelope,
    fee_source: AccountId,
    max_fee: i64,
) -> Result<TransactionEnvelope, FeeBumpError> {
    if matches!(inner, TransactionEnvelope::TxFeeBump(_)) {
        return Err(FeeBumpError::AlreadyFeeBump);
    }
    let inner_v1 = envelope::inner_v1(inner);
    if inner_v1.signatures.is_empty() {
        return Err(FeeBumpError::Unsigned);
    }
    let needed = min_fee(inner, MIN_BASE_FEE);
    if max_fee < needed {
        return Err(FeeBumpError::FeeTooLow {
            offered: max_fee,
            needed,
        });
    }
    Ok(TransactionEnvelope::TxFeeBump(FeeBumpTransactionEnvelope {
        tx: FeeBumpTransaction {
            fee_source: fee_source.to_muxed(),
            fee: max_fee,
            inner_tx: FeeBumpTransactionInnerTx::Tx(inner_v1),
            ext: FeeBumpTransactionExt::V0,
        },
        signatures: VecM::default(),
    }))
}

/// The inner envelope of a fee bump, as a v1 envelope (for any other envelope: `None`).
pub fn inner(env: &TransactionEnvelope) -> Option<TransactionEnvelope> {
    match env {
        TransactionEnvelope::TxFeeBump(fb) => match &fb.tx.inner_tx {
            FeeBumpTransactionInnerTx::Tx(e) => Some(TransactionEnvelope::Tx(e.clone())),
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::{self, MemoSpec, OpBody, OpSpec, TimeWindow, TxSpec};
    use crate::keys::SecretSeed;
    use crate::network::Network;

    fn signed(ops: usize, base_fee: u32) -> (TransactionEnvelope, Network) {
        let seed = SecretSeed::generate().unwrap();
        let net = Network::Testnet;
        let spec = TxSpec {
            network: net.clone(),
            source: seed.public_key(),
            sequence: 5,
            base_fee,
            time: TimeWindow::default(),
            memo: MemoSpec::None,
            operations: (0..ops)
                .map(|_| OpSpec::new(OpBody::BumpSequence { to: 0 }))
                .collect(),
        };
        let mut env = build::envelope(build::build(&spec).unwrap());
        envelope::sign(&mut env, &net, &seed).unwrap();
        (env, net)
    }

    #[test]
    fn wraps_without_touching_the_inner_envelope() {
        let (inner_env, net) = signed(2, 100);
        let payer = SecretSeed::generate().unwrap();
        assert_eq!(min_fee(&inner_env, MIN_BASE_FEE), 300);
        assert_eq!(
            wrap(&inner_env, payer.public_key(), 299),
            Err(FeeBumpError::FeeTooLow {
                offered: 299,
                needed: 300
            })
        );
        let mut outer = wrap(&inner_env, payer.public_key(), 1000).unwrap();
        envelope::sign(&mut outer, &net, &payer).unwrap();
        assert_eq!(inner(&outer).unwrap(), inner_env);
        assert_eq!(envelope::source(&outer), envelope::source(&inner_env));
        assert_ne!(
            envelope::hash(&outer, &net),
            envelope::hash(&inner_env, &net)
        );
        assert_eq!(
            wrap(&outer, payer.public_key(), 1000),
            Err(FeeBumpError::AlreadyFeeBump)
        );
    }

    #[test]
    fn fee_rate_rule() {
        // inner pays 1000 per op for 1 op: the bump must pay at least 2000 for 2 "ops".
        let (inner_env, _) = signed(1, 1000);
        assert_eq!(min_fee(&inner_env, MIN_BASE_FEE), 2000);
    }
}
