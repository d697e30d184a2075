//! The engine's timer index.
//!
//! PLACEHOLDER implementation over a `BTreeMap` so the rest of the engine can be written
//! against the final API; the hierarchical wheel replaces the internals (issue 3, item 1)
//! without changing the API below.

use super::Instant;
use std::collections::BTreeMap;

/// Names one inserted timer. Carries a generation so a handle to a fired or cancelled timer
/// can never cancel (or observe) a later timer that reuses its slot.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TimerHandle {
    index: u32,
    generation: u32,
}

/// Timers with exact deadlines; due timers pop in deadline order, ties in insertion order.
pub struct TimerWheel<T> {
    seq: u64,
    by_deadline: BTreeMap<(Instant, u64), (TimerHandle, T)>,
    slots: Vec<Option<(Instant, u64)>>,
    generations: Vec<u32>,
    free: Vec<u32>,
}

impl<T> Default for TimerWheel<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> TimerWheel<T> {
    pub fn new() -> Self {
        TimerWheel {
            seq: 0,
            by_deadline: BTreeMap::new(),
            slots: Vec::new(),
            generations: Vec::new(),
            free: Vec::new(),
        }
    }

    /// Number of armed timers.
    pub fn len(&self) -> usize {
        self.by_deadline.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_deadline.is_empty()
    }

    /// Arms a timer firing at exactly `deadline`.
    pub fn insert(&mut self, deadline: Instant, value: T) -> TimerHandle {
        let index = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(None);
                self.generations.push(0);
                (self.slots.len() - 1) as u32
            }
        };
        let handle = TimerHandle {
            index,
            generation: self.generations[index as usize],
        };
        let key = (deadline, self.seq);
        self.seq += 1;
        self.slots[index as usize] = Some(key);
        self.by_deadline.insert(key, (handle, value));
        handle
    }

    /// Disarms a timer; returns its value if it was still armed.
    pub fn cancel(&mut self, handle: TimerHandle) -> Option<T> {
        let i = handle.index as usize;
        if self.generations.get(i) != Some(&handle.generation) {
            return None;
        }
        let key = self.slots[i].take()?;
        self.release(handle.index);
        self.by_deadline.remove(&key).map(|(_, v)| v)
    }

    /// The deadline of a still-armed timer.
    pub fn deadline(&self, handle: TimerHandle) -> Option<Instant> {
        let i = handle.index as usize;
        if self.generations.get(i) != Some(&handle.generation) {
            return None;
        }
        self.slots[i].map(|(d, _)| d)
    }

    /// The earliest armed deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.by_deadline.keys().next().map(|(d, _)| *d)
    }

    /// Removes and returns the earliest timer due at or before `now`.
    pub fn pop_expired(&mut self, now: Instant) -> Option<(Instant, T)> {
        let (&key, _) = self.by_deadline.iter().next()?;
        if key.0 > now {
            return None;
        }
        let (handle, value) = self.by_deadline.remove(&key)?;
        self.slots[handle.index as usize] = None;
        self.release(handle.index);
        Some((key.0, value))
    }

    fn release(&mut self, index: u32) {
        let g = &mut self.generations[index as usize];
        *g = g.wrapping_add(1);
        self.free.push(index);
    }
}
