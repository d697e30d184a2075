//! The daemon's clock: CLOCK_MONOTONIC read as an engine [`Instant`] (nanoseconds since the
//! daemon started), and a one-shot absolute `timerfd` the reactor arms for the next deadline
//! so that `epoll_wait` needs no timeout and wakes with sub-millisecond accuracy.

use crate::sched::Instant;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec as u64)
}

/// Monotonic time relative to a start point.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    start_ns: u64,
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock {
    /// A clock whose epoch is now.
    pub fn new() -> Clock {
        Clock {
            start_ns: monotonic_ns(),
        }
    }

    /// The current instant.
    pub fn now(&self) -> Instant {
        Instant::from_nanos(monotonic_ns().saturating_sub(self.start_ns))
    }

    /// The CLOCK_MONOTONIC value (ns) of an engine instant.
    pub fn to_monotonic_ns(&self, at: Instant) -> u64 {
        self.start_ns.saturating_add(at.as_nanos())
    }
}

/// A CLOCK_MONOTONIC timerfd armed as an absolute one-shot timer.
pub struct TimerFd {
    fd: OwnedFd,
    armed: Option<u64>,
}

impl TimerFd {
    pub fn new() -> io::Result<TimerFd> {
        // SAFETY: plain syscall; the result is checked.
        let fd = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh descriptor we own.
        Ok(TimerFd {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            armed: None,
        })
    }

    /// Arms the timer for the absolute CLOCK_MONOTONIC time `at_ns` (`None` disarms).
    /// A time already past fires at once. Re-arming for the same time is a no-op.
    pub fn arm(&mut self, at_ns: Option<u64>) -> io::Result<()> {
        if self.armed == at_ns {
            return Ok(());
        }
        let value = match at_ns {
            // 0 would disarm: a past deadline is armed at 1 ns, which fires immediately.
            Some(ns) => libc::timespec {
                tv_sec: (ns.max(1) / 1_000_000_000) as libc::time_t,
                tv_nsec: (ns.max(1) % 1_000_000_000) as libc::c_long,
            },
            None => libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
        };
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: value,
        };
        // SAFETY: valid fd and itimerspec.
        let rc = unsafe {
            libc::timerfd_settime(
                self.fd.as_raw_fd(),
                libc::TFD_TIMER_ABSTIME,
                &spec,
                std::ptr::null_mut(),
            )
        };
        if rc < 0 {
            self.armed = None;
            return Err(io::Error::last_os_error());
        }
        self.armed = at_ns;
        Ok(())
    }

    /// Reads (and so clears) the expiry count after the fd became readable.
    pub fn clear(&mut self) {
        let mut buf = [0u8; 8];
        // SAFETY: reading 8 bytes into our buffer; EAGAIN is fine.
        let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), 8) };
        if n == 8 {
            self.armed = None;
        }
    }
}

impl AsRawFd for TimerFd {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// A fresh random number from the kernel (the seeds of `${_RANDOM}` and the checkers'
/// `warmup`); the monotonic clock and the pid when the pool cannot answer.
pub fn random_u64() -> u64 {
    let mut buf = [0u8; 8];
    // SAFETY: getrandom writes at most buf.len() bytes into buf.
    let n = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), libc::GRND_NONBLOCK) };
    if n == buf.len() as isize {
        return u64::from_ne_bytes(buf);
    }
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    t ^ (u64::from(std::process::id()) << 32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn clock_is_monotonic_and_starts_near_zero() {
        let c = Clock::new();
        let a = c.now();
        let b = c.now();
        assert!(b >= a);
        assert!(a.saturating_since(Instant::ZERO) < Duration::from_secs(1));
    }

    #[test]
    fn timerfd_fires_at_the_absolute_deadline() {
        let c = Clock::new();
        let mut t = TimerFd::new().unwrap();
        let deadline = c.now() + Duration::from_millis(20);
        t.arm(Some(c.to_monotonic_ns(deadline))).unwrap();
        let mut pfd = libc::pollfd {
            fd: t.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut pfd, 1, 1000) };
        assert_eq!(n, 1);
        let woke = c.now();
        assert!(woke >= deadline, "woke {woke} before {deadline}");
        // Generous bound for a loaded machine: the point is "not early, not a whole tick".
        assert!(
            woke - deadline < Duration::from_millis(50),
            "late: {:?}",
            woke - deadline
        );
        t.clear();
        // Disarmed: no further expiry.
        t.arm(None).unwrap();
        let n = unsafe { libc::poll(&mut pfd, 1, 30) };
        assert_eq!(n, 0);
    }
}
