//! What wakes an idle lane before its next poll: on PostgreSQL, a notification that a row
//! became `pending` (schema migration 3's triggers; [`Listener`]). SQLite has none, so its lanes
//! poll. The poll stays on PostgreSQL too, as the fallback while the listening connection is
//! down: a notification is a hint to look now, never the only way a row is found.
use super::Ctx;
use crate::db::{DbError, Listener};
use crate::online::backoff;
use crate::progress::say;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// A counter the listener moves on each notification, and the lanes wait on.
#[derive(Default)]
pub(super) struct Wake {
    generation: Mutex<u64>,
    rang: Condvar,
}

impl Wake {
    /// The count now: read it before looking at the queue, and sleep on it after finding nothing,
    /// so a row queued in between is never slept through.
    pub(super) fn seen(&self) -> u64 {
        *self.generation.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn ring(&self) {
        *self.generation.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.rang.notify_all();
    }

    /// Sleep until `d` has passed or the count has moved past `seen`; true if `stop` was set.
    pub(super) fn sleep(&self, seen: u64, d: Duration, stop: &AtomicBool) -> bool {
        let until = Instant::now() + d;
        let mut g = self.generation.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if stop.load(Ordering::SeqCst) {
                return true;
            }
            let now = Instant::now();
            if *g != seen || now >= until {
                return false;
            }
            // Short steps, so a stop is seen promptly.
            g = self
                .rang
                .wait_timeout(g, (until - now).min(Duration::from_millis(100)))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// Whether to listen at all: PostgreSQL only. `Some(None)`: PostgreSQL, but the first attempt
/// failed (said on stderr); [`listen`] tries again while the lanes poll.
pub(super) fn start(ctx: &Ctx<'_>) -> Option<Option<Listener>> {
    match Listener::open(ctx.target) {
        Ok(None) => None,
        Ok(Some(l)) => {
            say(format!(
                "listening for queued rows (PostgreSQL NOTIFY {}); polling every {}s as well",
                crate::db::schema::PAYMENTS_CHANNEL,
                ctx.opts.poll.as_secs()
            ));
            Some(Some(l))
        }
        Err(e) => {
            say(not_listening(ctx, &e));
            Some(None)
        }
    }
}

fn not_listening(ctx: &Ctx<'_>, e: &DbError) -> String {
    format!(
        "not listening for queued rows: {e}; polling every {}s until listening",
        ctx.opts.poll.as_secs()
    )
}

/// The listener's thread: ring on each notification until `stop` or `done`; on a lost
/// connection, say so once, rely on the poll, and listen again with backoff.
pub(super) fn listen(ctx: &Ctx<'_>, first: Option<Listener>, done: &AtomicBool) {
    let over = || ctx.stop.load(Ordering::SeqCst) || done.load(Ordering::SeqCst);
    let mut listener = first;
    let mut attempt = 0u32;
    while !over() {
        let Some(l) = listener.as_mut() else {
            // In short steps, so the end of the lanes is seen promptly.
            let until = Instant::now() + backoff(attempt);
            while Instant::now() < until && !over() {
                std::thread::sleep(Duration::from_millis(100));
            }
            if over() {
                return;
            }
            attempt += 1;
            match Listener::open(ctx.target) {
                Ok(Some(l)) => {
                    say("listening for queued rows again");
                    listener = Some(l);
                    attempt = 0;
                    // Rows queued while nobody listened.
                    ctx.wake.ring();
                }
                Ok(None) => return,
                Err(_) => {}
            }
            continue;
        };
        match l.wait(Duration::from_millis(250)) {
            Ok(true) => ctx.wake.ring(),
            Ok(false) => {}
            Err(e) => {
                say(not_listening(ctx, &e));
                listener = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ring_after_seen_ends_the_sleep_and_one_before_is_not_slept_through() {
        let w = Wake::default();
        let stop = AtomicBool::new(false);
        let seen = w.seen();
        w.ring();
        // Rung between `seen` and the sleep: no sleep at all (a 10-minute one would hang here).
        assert!(!w.sleep(seen, Duration::from_secs(600), &stop));
        let seen = w.seen();
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(50));
                w.ring();
            });
            assert!(!w.sleep(seen, Duration::from_secs(600), &stop));
        });
        stop.store(true, Ordering::SeqCst);
        assert!(w.sleep(w.seen(), Duration::from_secs(600), &stop));
    }
}
