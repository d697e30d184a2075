//! The retry arithmetic of one checker, keepalived 2.2.7's as observed: every check result
//! goes through [`Retry::record`], which says when the next check is due and whether the
//! checker's state changed.
//!
//! - A success: the next check after `delay_loop`; the checker is up.
//! - A failure while retries remain (`retry_it < retry`) and the checker has run before:
//!   the next check after `delay_before_retry`, no decision yet.
//! - Otherwise the failure is decisive: the checker is down, the retry count starts again
//!   and the next check is after `delay_loop`. A server therefore goes down after
//!   `retry + 1` consecutive failures spaced by `delay_before_retry`. The retries also run
//!   while the checker is down (silently), so a recovered server is seen at the first
//!   check of a cycle, not during its retries.
//! - The very first check decides at once (no retries), whatever its result.
//!
//! The first check comes 1 s after start-up plus a random part of `warmup`
//! ([`first_delay`]); keepalived 2.2.7 measured: 1.000 s with `warmup 0`, spread over
//! 1–4 s with `warmup 3`.

use std::time::Duration;

/// keepalived's fixed delay before the first check (its bootstrap delay).
pub const BOOTSTRAP: Duration = Duration::from_secs(1);

/// The delay from start-up to a checker's first check: [`BOOTSTRAP`] plus `warmup`
/// scaled by `unit` (a random number in `[0, 1)`).
pub fn first_delay(warmup: Duration, unit: f64) -> Duration {
    let unit = if unit.is_finite() {
        unit.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let ns = (warmup.as_nanos() as f64 * unit) as u64;
    BOOTSTRAP + Duration::from_nanos(ns.min(warmup.as_nanos() as u64))
}

/// The retry state of one checker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retry {
    /// The checker's verdict: up (its real server may be up) or down.
    pub up: bool,
    /// At least one check has decided.
    pub has_run: bool,
    /// Failures since the last decision (retries used).
    pub retry_it: u32,
}

/// What one result means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// When the next check is due, from now.
    pub next: Duration,
    /// The result decided the checker's state (a success, or a failure with no retry
    /// left); false for a failure that will be retried.
    pub decided: bool,
    /// The checker's state changed (up -> down or down -> up).
    pub changed: bool,
    /// This was the first decision of the checker.
    pub first: bool,
    /// Retries that preceded a decisive failure.
    pub retries: u32,
}

/// The timing options that [`Retry::record`] needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    pub retry: u32,
    pub delay_before_retry: Duration,
    pub delay_loop: Duration,
}

impl Retry {
    /// The state at start-up: up, unless `alpha`.
    pub fn new(alpha: bool) -> Retry {
        Retry {
            up: !alpha,
            has_run: false,
            retry_it: 0,
        }
    }

    /// Records one check result.
    pub fn record(&mut self, ok: bool, t: &Timing) -> Outcome {
        let first = !self.has_run;
        if !ok && self.has_run && self.retry_it < t.retry {
            self.retry_it += 1;
            return Outcome {
                next: t.delay_before_retry,
                decided: false,
                changed: false,
                first: false,
                retries: self.retry_it,
            };
        }
        let retries = self.retry_it;
        self.retry_it = 0;
        self.has_run = true;
        let changed = self.up != ok;
        self.up = ok;
        Outcome {
            next: t.delay_loop,
            decided: true,
            changed,
            first,
            retries,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(retry: u32) -> Timing {
        Timing {
            retry,
            delay_before_retry: Duration::from_secs(1),
            delay_loop: Duration::from_secs(3),
        }
    }

    #[test]
    fn first_failure_decides_without_retries() {
        let mut r = Retry::new(false);
        let o = r.record(false, &t(2));
        assert!(o.decided && o.changed && o.first);
        assert_eq!(o.next, Duration::from_secs(3));
        assert!(!r.up);
    }

    #[test]
    fn retry_plus_one_failures_take_it_down() {
        let mut r = Retry::new(false);
        assert!(r.record(true, &t(2)).first);
        let a = r.record(false, &t(2));
        let b = r.record(false, &t(2));
        assert!(!a.decided && !b.decided && r.up);
        assert_eq!(
            (a.next, b.next),
            (Duration::from_secs(1), Duration::from_secs(1))
        );
        let c = r.record(false, &t(2));
        assert!(c.decided && c.changed && !r.up);
        assert_eq!(c.retries, 2);
        assert_eq!(c.next, Duration::from_secs(3));
    }

    #[test]
    fn a_success_resets_the_retries() {
        let mut r = Retry::new(false);
        r.record(true, &t(1));
        r.record(false, &t(1));
        assert_eq!(r.retry_it, 1);
        let o = r.record(true, &t(1));
        assert!(o.decided && !o.changed && r.retry_it == 0);
        assert!(!r.record(false, &t(1)).decided);
    }

    #[test]
    fn retries_also_run_while_down_and_alpha_starts_down() {
        let mut r = Retry::new(true);
        assert!(!r.up);
        let o = r.record(false, &t(1));
        assert!(o.decided && !o.changed);
        assert!(!r.record(false, &t(1)).decided);
        let o = r.record(true, &t(1));
        assert!(o.changed && r.up);
    }

    #[test]
    fn warmup_bounds() {
        let w = Duration::from_secs(3);
        assert_eq!(first_delay(w, 0.0), Duration::from_secs(1));
        assert!(first_delay(w, 0.999_999) < Duration::from_secs(4));
        assert_eq!(first_delay(Duration::ZERO, 0.7), Duration::from_secs(1));
        assert_eq!(first_delay(w, f64::NAN), Duration::from_secs(1));
        assert_eq!(first_delay(w, 0.5), Duration::from_millis(2500));
    }
}
