//! The alerts waiting to be delivered: a FIFO bounded in size (when full, the oldest alert
//! that is not being delivered right now is dropped and counted), and the retry policy
//! (a doubling backoff with a ceiling, then give up after a number of attempts).

use crate::smtp::message::Message;
use std::collections::VecDeque;
use std::time::Duration;

/// Limits of the queue and the retry policy (`Policy::default()` is what the daemon uses;
/// tests shrink it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Most alerts held, the one being delivered included (at least 2).
    pub capacity: usize,
    /// Wait before the first retry; doubled after each failed attempt...
    pub retry_first: Duration,
    /// ...up to this.
    pub retry_max: Duration,
    /// Attempts per alert (the first included) before it is given up.
    pub max_attempts: u32,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            capacity: 64,
            retry_first: Duration::from_secs(5),
            retry_max: Duration::from_secs(60),
            max_attempts: 10,
        }
    }
}

impl Policy {
    /// The wait after `failed` failed attempts (1, 2, ...): `retry_first` doubled each
    /// time, at most `retry_max`.
    pub fn backoff(&self, failed: u32) -> Duration {
        let shift = failed.saturating_sub(1).min(20);
        self.retry_first
            .saturating_mul(1u32 << shift)
            .min(self.retry_max)
    }
}

/// One alert waiting (or being delivered).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub message: Message,
    /// Failed attempts so far.
    pub failures: u32,
}

/// The bounded FIFO. The front is the next (or current) delivery.
#[derive(Clone, Debug, Default)]
pub struct Queue {
    items: VecDeque<Pending>,
    /// The front is being delivered (it is never the one dropped).
    in_flight: bool,
}

impl Queue {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Adds `message` at the back; when that makes more than `capacity`, drops and returns
    /// the oldest alert not in flight.
    pub fn push(&mut self, message: Message, capacity: usize) -> Option<Pending> {
        self.items.push_back(Pending {
            message,
            failures: 0,
        });
        if self.items.len() > capacity.max(2) {
            let oldest = usize::from(self.in_flight);
            return self.items.remove(oldest);
        }
        None
    }

    /// The front, now in flight.
    pub fn start(&mut self) -> Option<&Pending> {
        let front = self.items.front()?;
        self.in_flight = true;
        Some(front)
    }

    /// The delivery of the front ended. `done` (delivered, refused for good or given up):
    /// it leaves the queue; otherwise it stays at the front for a retry, one more failure
    /// counted. Returns the front as it now is.
    pub fn finish(&mut self, done: bool) -> Option<Pending> {
        self.in_flight = false;
        if done {
            self.items.pop_front()
        } else {
            let front = self.items.front_mut()?;
            front.failures += 1;
            Some(front.clone())
        }
    }

    pub fn in_flight(&self) -> bool {
        self.in_flight
    }

    /// The subjects waiting, front first (for status and tests).
    pub fn subjects(&self) -> Vec<String> {
        self.items
            .iter()
            .map(|p| p.message.subject.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Message {
        Message {
            date: String::new(),
            from: String::new(),
            to: vec![],
            subject: s.into(),
            body: String::new(),
        }
    }

    #[test]
    fn bounded_drops_the_oldest_not_in_flight() {
        let mut q = Queue::default();
        assert!(q.push(m("a"), 3).is_none());
        assert!(q.push(m("b"), 3).is_none());
        assert!(q.push(m("c"), 3).is_none());
        assert_eq!(q.push(m("d"), 3).unwrap().message.subject, "a");
        assert_eq!(q.subjects(), ["b", "c", "d"]);
        q.start();
        assert!(q.in_flight());
        assert_eq!(q.push(m("e"), 3).unwrap().message.subject, "c");
        assert_eq!(q.subjects(), ["b", "d", "e"]);
        // A retried alert keeps its place and its count.
        assert_eq!(q.finish(false).unwrap().failures, 1);
        assert!(!q.in_flight());
        q.start();
        assert_eq!(q.finish(false).unwrap().failures, 2);
        assert_eq!(q.finish(true).unwrap().message.subject, "b");
        assert_eq!(q.subjects(), ["d", "e"]);
        assert_eq!(q.len(), 2);
    }

    #[test]
    fn backoff_doubles_up_to_the_ceiling() {
        let p = Policy::default();
        let secs: Vec<u64> = (1..=7).map(|n| p.backoff(n).as_secs()).collect();
        assert_eq!(secs, [5, 10, 20, 40, 60, 60, 60]);
        assert_eq!(p.backoff(u32::MAX), Duration::from_secs(60));
    }
}
