//! Spreading timers that fall due together: adverts, GARP bursts, health checks.
//!
//! Instances that became Master in the same step (all of them, at start-up) would send
//! every advert in the same step for ever: 1 000 instances make one burst of 1 000
//! packets that takes the kernel 5-8 ms to send on a veth, so the last advert of the
//! burst leaves that late, and backups must take the whole burst at once. When more than
//! [`CROWD`] adverts of a step are armed for the same instant, the later ones are armed a
//! little earlier instead: by one step (a hundredth of the interval, at most [`STEP_MAX`])
//! per further [`CROWD`] ([`CROWD`] times 100 ms / interval below 100 ms, so a 10 ms
//! crowd wakes the loop no more often than a 100 ms one), wrapping at half the interval.
//! 1 000 instances at 100 ms become 32 groups of 32, 1 ms apart (a group takes the kernel
//! about 0.2 ms to send). An advert
//! is never late because of this, only early (once, by less than half the interval), which
//! a Backup's Master_Down_Interval (three intervals plus the skew) absorbs; from then on
//! each group keeps its own phase. Fewer than [`CROWD`] instances per instant (every
//! conformance scenario) are never moved.
//!
//! Timers whose exact instant matters less are spread the same way, but later rather
//! than earlier: the delayed GARP bursts (`garp_master_delay`, `garp_master_refresh`; a
//! thousand bursts in one step took the loop 4 ms, 5 000 frames and 1 000 log lines to
//! prepare) and the health checks (5 000 TCP_CHECKs started in one step would open 5 000
//! sockets before the loop could turn). A check moved is started at most half its
//! `delay_loop` later, once; it then keeps its own phase.

use crate::sched::Instant;
use std::time::Duration;

/// Adverts armed for one instant before the next ones are moved.
pub const CROWD: u32 = 32;
/// Checks armed for one instant before the next ones are moved: a check costs the loop
/// ten times what an advert does (a socket, a connect, its completion, a close).
pub const CHECK_CROWD: u32 = 8;
/// Periods shorter than this have proportionally larger groups.
pub const SCALE_FROM: Duration = Duration::from_millis(100);
/// The largest step between two groups.
pub const STEP_MAX: Duration = Duration::from_millis(1);

/// The timers armed in the current step, per deadline.
#[derive(Debug)]
pub struct Crowd {
    size: u32,
    /// The engine step being counted.
    current: Option<Instant>,
    armed: Vec<(Instant, u32)>,
}

impl Default for Crowd {
    /// Groups of [`CROWD`].
    fn default() -> Self {
        Crowd::of(CROWD)
    }
}

impl Crowd {
    /// Groups of `size` timers.
    pub fn of(size: u32) -> Crowd {
        Crowd {
            size: size.max(1),
            current: None,
            armed: Vec::new(),
        }
    }

    /// How far from `now + after` the next timer armed at step `now` for that instant is
    /// moved (adverts: earlier; GARP bursts and checks: later), for a timer that recurs
    /// every `period` (the step is a hundredth of it, the span half of it).
    pub fn spread(&mut self, now: Instant, after: Duration, period: Duration) -> Duration {
        if self.current != Some(now) {
            self.current = Some(now);
            self.armed.clear();
        }
        let at = now + after;
        let rank = match self.armed.iter_mut().find(|(t, _)| *t == at) {
            Some((_, n)) => {
                *n += 1;
                *n - 1
            }
            None => {
                self.armed.push((at, 1));
                0
            }
        };
        // Below 100 ms the groups grow in proportion (10 ms: ten times larger), so the
        // loop wakes about as often as at 100 ms: each wake-up costs a few microseconds.
        let scale = (SCALE_FROM.as_nanos() / period.as_nanos().max(1)).max(1);
        let size = u128::from(self.size) * scale;
        let group = (u128::from(rank) / size) as u32;
        if group == 0 {
            return Duration::ZERO;
        }
        let step = (period / 100).min(STEP_MAX).as_nanos() as u64;
        if step == 0 {
            return Duration::ZERO;
        }
        // Groups one step apart, wrapping below half the interval.
        let slots = (period / 2).as_nanos() as u64 / step;
        Duration::from_nanos((u64::from(group) % slots.max(1)) * step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Instant {
        Instant::from_nanos(ms * 1_000_000)
    }

    /// An advert of an instance at `ms` intervals armed at step `now`.
    fn advert(c: &mut Crowd, now: Instant, ms: u64) -> Duration {
        let every = Duration::from_millis(ms);
        c.spread(now, every, every)
    }

    #[test]
    fn a_small_crowd_is_left_alone() {
        let mut c = Crowd::default();
        for _ in 0..CROWD {
            assert_eq!(advert(&mut c, at(5), 100), Duration::ZERO);
        }
        // The next one is moved one step (1 ms at 100 ms).
        assert_eq!(advert(&mut c, at(5), 100), STEP_MAX);
    }

    #[test]
    fn groups_step_and_wrap_at_half_the_interval() {
        let mut c = Crowd::default();
        let leads: Vec<Duration> = (0..1000).map(|_| advert(&mut c, at(0), 100)).collect();
        assert_eq!(leads[32], Duration::from_millis(1));
        assert_eq!(leads[999], Duration::from_millis(31));
        // 10 ms: groups of 320 (ten times larger), steps of 0.1 ms.
        let mut c = Crowd::default();
        let leads: Vec<Duration> = (0..2000).map(|_| advert(&mut c, at(0), 10)).collect();
        assert_eq!(leads[319], Duration::ZERO);
        assert_eq!(leads[320], Duration::from_micros(100));
        assert_eq!(leads[999], Duration::from_micros(300));
        assert_eq!(leads[1999], Duration::from_micros(600));
        // 50 ms: groups of 64, steps of 0.5 ms, 50 slots; 4 000 instances wrap.
        let mut c = Crowd::default();
        let leads: Vec<Duration> = (0..4000).map(|_| advert(&mut c, at(0), 50)).collect();
        assert_eq!(leads[64], Duration::from_micros(500));
        assert_eq!(leads[49 * 64], Duration::from_micros(24500));
        assert_eq!(leads[50 * 64], Duration::ZERO);
        assert!(leads.iter().all(|l| *l < Duration::from_millis(25)));
        // 1 s: steps of 1 ms.
        let mut c = Crowd::default();
        let last = (0..1000).map(|_| advert(&mut c, at(0), 1000)).last();
        assert_eq!(last, Some(Duration::from_millis(31)));
    }

    #[test]
    fn counts_per_deadline_and_per_step() {
        let mut c = Crowd::default();
        for _ in 0..CROWD {
            advert(&mut c, at(0), 100);
        }
        // Another interval is another deadline: its own count.
        assert_eq!(advert(&mut c, at(0), 200), Duration::ZERO);
        assert_eq!(advert(&mut c, at(0), 100), STEP_MAX);
        // A check armed for the same instant with a 1 s period: its own step (1 ms).
        let mut c = Crowd::default();
        for _ in 0..CROWD {
            c.spread(at(0), Duration::ZERO, Duration::from_secs(1));
        }
        assert_eq!(
            c.spread(at(0), Duration::ZERO, Duration::from_secs(1)),
            Duration::from_millis(1)
        );
        // Checks come in groups of CHECK_CROWD.
        let mut c = Crowd::of(CHECK_CROWD);
        let lags: Vec<Duration> = (0..5000)
            .map(|_| c.spread(at(0), Duration::ZERO, Duration::from_secs(1)))
            .collect();
        assert_eq!(lags[7], Duration::ZERO);
        assert_eq!(lags[8], Duration::from_millis(1));
        assert!(lags.iter().all(|l| *l < Duration::from_millis(500)));
        // A new step starts counting again.
        assert_eq!(advert(&mut c, at(1), 100), Duration::ZERO);
    }
}
