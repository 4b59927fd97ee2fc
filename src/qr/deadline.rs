//! When an attempt must stop: at a point in time, or earlier when another attempt running beside
//! it has already read what the caller wanted.
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// A deadline that can also be called off early (checked wherever the detectors check the clock).
#[derive(Clone, Copy, Debug)]
pub(super) struct Deadline<'a> {
    at: Instant,
    cancel: Option<&'a AtomicBool>,
}

impl<'a> Deadline<'a> {
    /// Stop at `at`.
    pub(super) fn at(at: Instant) -> Deadline<'static> {
        Deadline { at, cancel: None }
    }

    /// Stop at `at`, or as soon as `cancel` is set.
    pub(super) fn cancellable(at: Instant, cancel: &'a AtomicBool) -> Deadline<'a> {
        Deadline {
            at,
            cancel: Some(cancel),
        }
    }

    /// Whether the time is up (or the work was called off).
    pub(super) fn passed(&self) -> bool {
        self.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) || Instant::now() >= self.at
    }

    /// Whether `cost` more work ends before the deadline (false once called off).
    pub(super) fn allows(&self, cost: std::time::Duration) -> bool {
        !self.passed() && Instant::now() + cost < self.at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn passes_at_its_time_or_when_called_off() {
        let flag = AtomicBool::new(false);
        let later = Instant::now() + Duration::from_secs(60);
        let d = Deadline::cancellable(later, &flag);
        assert!(!d.passed());
        assert!(d.allows(Duration::from_secs(1)));
        assert!(!d.allows(Duration::from_secs(120)));
        flag.store(true, Ordering::Relaxed);
        assert!(d.passed());
        assert!(!d.allows(Duration::ZERO));
        assert!(Deadline::at(Instant::now()).passed());
        assert!(!Deadline::at(later).passed());
    }
}
