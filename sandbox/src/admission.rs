//! Handing a transaction to "stellar-core": what Horizon's txsub and RPC's `sendTransaction` both
//! do (`CommandHandler::tx`): a V0 envelope is converted to the V1 envelope it is hashed as
//! (`txbridge::convertForV13`, same hash, same signatures), then the queue admits it or not
//! (`TransactionQueue::tryAdd`). With `--close-every 0` an admitted transaction closes its own
//! ledger at once.

use std::time::Duration;

use stellar_xdr::TransactionEnvelope;

use crate::clock::{self, CloseError};
use crate::ledger::Candidate;
use crate::queue::Admission;
use crate::server::{now, Inner};

/// The envelope stellar-core keeps: a V0 envelope as its V1 form.
pub fn as_core_keeps(env: &TransactionEnvelope) -> Option<TransactionEnvelope> {
    match env {
        TransactionEnvelope::TxV0(_) => {
            Some(TransactionEnvelope::Tx(airgap::envelope::inner_v1(env)))
        }
        _ => None,
    }
}

/// Submit `env` (base64 `raw`, hash `hash`) to the queue; with no clock, close its ledger now.
/// The caller wakes the ledger's waiters (`Shared::ledger_closed`) once it dropped the lock.
pub(crate) fn admit(
    inner: &mut Inner,
    env: &TransactionEnvelope,
    raw: &str,
    hash: [u8; 32],
    close_every: Duration,
) -> Result<Admission, CloseError> {
    let candidate = match as_core_keeps(env) {
        Some(v1) => Candidate {
            envelope_xdr: airgap::envelope::encode(&v1),
            env: v1,
            hash,
        },
        None => Candidate {
            env: env.clone(),
            envelope_xdr: raw.to_string(),
            hash,
        },
    };
    let lcl_close = inner.ledger.header.close_time;
    let now = now();
    let upper = clock::upper_offset(close_every, lcl_close, now);
    // stellar-core admits against the last closed ledger with no lower offset (`minTime`,
    // `minSeqAge`): on a network that ledger is at most one period old. With no clock a ledger
    // closes only when a transaction arrives, so the last one may be hours old; the transaction's
    // own ledger closes now, and it is checked as an idle network would check it, against a ledger
    // closed just now.
    let lower = if close_every.is_zero() {
        now.saturating_sub(lcl_close)
    } else {
        0
    };
    let admission = inner
        .queue
        .try_add(&inner.ledger, candidate, lower, upper)?;
    if admission == Admission::Pending && close_every.is_zero() {
        clock::close_next(inner, close_every)?;
    }
    Ok(admission)
}
