//! The ledger cadence: with `--close-every PERIOD` a thread closes one ledger per period with
//! whatever the queue holds (empty ledgers too, as a network does); with `--close-every 0` each
//! admitted transaction closes a ledger of its own at once. Close times follow
//! `HerderImpl::triggerNextLedger`: the current time, or one second after the last close when the
//! clock has not moved past it (ledgers closing faster than once a second keep the last close
//! time instead: a real network cannot close them that fast).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::ledger::LedgerError;
use crate::server::{now, Inner, Shared};
use crate::store::StoreError;

/// The close period a network has when the sandbox closes one ledger per submission: stellar-core's
/// expected ledger close time on the public networks.
pub const NETWORK_CLOSE_SECS: u64 = 5;
/// stellar-core's `EXPECTED_CLOSE_TIME_MULT`.
const EXPECTED_CLOSE_TIME_MULT: u64 = 2;

/// Errors of closing a ledger.
#[derive(Debug, thiserror::Error)]
pub enum CloseError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `getUpperBoundCloseTimeOffset`: twice the expected close time (whole seconds of the period, or
/// the networks' 5 s with `--close-every 0`) plus the time since the last close.
pub fn upper_offset(close_every: Duration, lcl_close: u64, now: u64) -> u64 {
    let expected = if close_every.is_zero() {
        NETWORK_CLOSE_SECS
    } else {
        close_every.as_secs()
    };
    expected * EXPECTED_CLOSE_TIME_MULT + now.saturating_sub(lcl_close)
}

/// The next ledger's close time.
pub fn next_close_time(now: u64, lcl_close: u64, close_every: Duration) -> u64 {
    if now > lcl_close {
        now
    } else if close_every >= Duration::from_secs(1) {
        lcl_close + 1
    } else {
        lcl_close
    }
}

/// Close the next ledger with what the queue holds: persist it, index it, lift expired bans.
/// Returns the new ledger's sequence.
pub(crate) fn close_next(inner: &mut Inner, close_every: Duration) -> Result<u32, CloseError> {
    let now = now();
    let lcl = inner.ledger.header.clone();
    let close_time = next_close_time(now, lcl.close_time, close_every);
    let txs = inner.queue.take_for_ledger(&inner.ledger, close_time)?;
    let closed = inner.ledger.close_ledger(&txs, close_time)?;
    let pruned = inner.history.pruned_by(&closed);
    inner
        .store
        .commit_ledger(&inner.ledger.state, &closed, &pruned)?;
    inner.ledger.commit_ledger(&closed);
    inner.history.add(&closed, &pruned);
    inner.queue.after_close(closed.record.sequence);
    for tx in &closed.txs {
        inner.open_submissions.remove(&tx.hash);
        if let Some(h) = tx.inner_hash {
            inner.open_submissions.remove(&h);
        }
    }
    Ok(closed.record.sequence)
}

/// Start the thread that closes a ledger every `period`, on a fixed schedule.
pub(crate) fn spawn(shared: Arc<Shared>, period: Duration) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut next = Instant::now() + period;
        while !shared.stop.load(Ordering::SeqCst) {
            let left = next.saturating_duration_since(Instant::now());
            if !left.is_zero() {
                std::thread::sleep(left.min(Duration::from_millis(50)));
                continue;
            }
            {
                let mut inner = shared.lock();
                // A failure to store leaves the ledger where it was; the next tick tries again.
                let _ = close_next(&mut inner, period);
            }
            shared.ledger_closed();
            next += period;
            let now = Instant::now();
            if next < now {
                next = now + period;
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // TransactionUtils.cpp, getUpperBoundCloseTimeOffset: expected close time × 2 + drift.
    #[test]
    fn upper_offset_is_cores() {
        assert_eq!(upper_offset(Duration::from_secs(5), 100, 103), 13);
        assert_eq!(upper_offset(Duration::ZERO, 100, 100), 10);
        assert_eq!(upper_offset(Duration::from_millis(200), 100, 101), 1);
        assert_eq!(upper_offset(Duration::from_secs(1), 100, 90), 2);
    }

    // HerderImpl.cpp, triggerNextLedger: now, or the last close time + 1.
    #[test]
    fn close_times_move_forward() {
        assert_eq!(next_close_time(200, 100, Duration::from_secs(5)), 200);
        assert_eq!(next_close_time(100, 100, Duration::from_secs(5)), 101);
        assert_eq!(next_close_time(100, 100, Duration::from_millis(200)), 100);
    }
}
