//! The engine's timer index: a hierarchical timer wheel (Varghese & Lauck scheme 7, laid
//! out like tokio's) with exact deadlines.
//!
//! - Deadlines are exact `u64` nanoseconds. Slots only *index* timers: a timer sits in the
//!   slot of its tick (`deadline >> TICK_SHIFT`, about 1 ms) at the level chosen by the
//!   highest 6-bit group in which its tick differs from the wheel's `elapsed` tick. Nothing
//!   is ever rounded: a timer fires when `now >= deadline`, never a nanosecond early or late
//!   relative to the `now` the caller passes.
//! - 8 levels x 64 slots cover every tick of a `u64` nanosecond clock, so far-future
//!   deadlines up to [`Instant::MAX`] need no overflow list.
//! - Storage is a slab of nodes with generation-checked handles; each slot is an intrusive
//!   doubly linked list over slab indices, each level has a 64-bit occupancy bitmap.
//!   Insert and cancel are O(1) (cancel of a timer already due: O(log n) in the due batch).
//! - Cascading is lazy: a higher-level slot is re-filed into lower levels only when the
//!   wheel advances to its start. Timers whose tick has been reached move to the *due
//!   batch*, kept sorted by (deadline, insertion sequence), so timers with equal deadlines
//!   fire in insertion order.
//! - The wheel reads no clock: `elapsed` moves forward only in [`TimerWheel::pop_expired`].
//!
//! Invariant that makes `next_deadline` cheap: every due-batch timer precedes every timer at
//! level 0, which precede every timer at level 1, and so on; within a level the slots are in
//! time order from the elapsed position. The earliest timer is therefore the last of the
//! due batch, or the earliest timer of the first occupied slot of the lowest occupied level.

use super::Instant;
use std::cell::Cell;

/// log2 of the tick in nanoseconds: 2^20 ns = 1.048576 ms.
const TICK_SHIFT: u32 = 20;
/// log2 of the slots per level.
const LEVEL_BITS: u32 = 6;
const SLOTS: usize = 1 << LEVEL_BITS;
/// Enough levels for every tick of a u64 nanosecond clock (64 - 20 = 44 bits <= 8 x 6).
const LEVELS: usize = 8;
const NIL: u32 = u32::MAX;

/// Names one inserted timer. Carries a generation so a handle to a fired or cancelled timer
/// can never cancel (or observe) a later timer that reuses its slot.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TimerHandle {
    index: u32,
    generation: u32,
}

/// Where a slab node is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Place {
    Free,
    Wheel { level: u8, slot: u8 },
    Due,
}

struct Node<T> {
    deadline: u64,
    seq: u64,
    prev: u32,
    next: u32,
    generation: u32,
    place: Place,
    value: Option<T>,
}

/// Due-batch entry: (deadline ns, insertion sequence, slab index); the batch is sorted in
/// *descending* order so the earliest timer pops from the end.
type DueKey = (u64, u64, u32);

/// The cached answer of `next_deadline`.
#[derive(Clone, Copy, Debug)]
enum Next {
    Unknown,
    Known(Option<Instant>),
}

/// Timers with exact deadlines; due timers pop in deadline order, ties in insertion order.
pub struct TimerWheel<T> {
    nodes: Vec<Node<T>>,
    free: Vec<u32>,
    heads: [[u32; SLOTS]; LEVELS],
    occupied: [u64; LEVELS],
    /// Timers whose tick has been reached, sorted descending by (deadline, seq).
    due: Vec<DueKey>,
    /// The wheel's position, in ticks: every timer in a slot has a tick > elapsed, every
    /// timer in `due` a tick <= elapsed.
    elapsed: u64,
    seq: u64,
    len: usize,
    next: Cell<Next>,
}

impl<T> Default for TimerWheel<T> {
    fn default() -> Self {
        Self::new()
    }
}

fn tick_of(deadline_ns: u64) -> u64 {
    deadline_ns >> TICK_SHIFT
}

/// The level for a timer at tick `when` (> `elapsed`): the highest differing 6-bit group.
fn level_for(elapsed: u64, when: u64) -> usize {
    let masked = (elapsed ^ when) | (SLOTS as u64 - 1);
    let significant = 63 - masked.leading_zeros();
    (significant / LEVEL_BITS) as usize
}

fn slot_for(when: u64, level: usize) -> usize {
    ((when >> (LEVEL_BITS as usize * level)) as usize) & (SLOTS - 1)
}

impl<T> TimerWheel<T> {
    pub fn new() -> Self {
        TimerWheel {
            nodes: Vec::new(),
            free: Vec::new(),
            heads: [[NIL; SLOTS]; LEVELS],
            occupied: [0; LEVELS],
            due: Vec::new(),
            elapsed: 0,
            seq: 0,
            len: 0,
            next: Cell::new(Next::Known(None)),
        }
    }

    /// Number of armed timers.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Arms a timer firing at exactly `deadline`.
    pub fn insert(&mut self, deadline: Instant, value: T) -> TimerHandle {
        let seq = self.seq;
        self.seq += 1;
        let node = Node {
            deadline: deadline.as_nanos(),
            seq,
            prev: NIL,
            next: NIL,
            generation: 0,
            place: Place::Free,
            value: Some(value),
        };
        let index = match self.free.pop() {
            Some(i) => {
                let slot = &mut self.nodes[i as usize];
                let generation = slot.generation;
                *slot = Node { generation, ..node };
                i
            }
            None => {
                let i = u32::try_from(self.nodes.len())
                    .ok()
                    .filter(|i| *i != NIL)
                    .expect("timer wheel: more than 2^32 - 1 timers");
                self.nodes.push(node);
                i
            }
        };
        self.len += 1;
        self.place(index);
        if let Next::Known(current) = self.next.get() {
            let earlier = match current {
                None => true,
                Some(c) => deadline < c,
            };
            if earlier {
                self.next.set(Next::Known(Some(deadline)));
            }
        }
        TimerHandle {
            index,
            generation: self.nodes[index as usize].generation,
        }
    }

    /// Disarms a timer; returns its value if it was still armed.
    pub fn cancel(&mut self, handle: TimerHandle) -> Option<T> {
        let node = self.live(handle)?;
        let (deadline, seq, place) = (node.deadline, node.seq, node.place);
        match place {
            Place::Free => return None,
            Place::Wheel { level, slot } => self.unlink(handle.index, level, slot),
            Place::Due => {
                let key = (deadline, seq, handle.index);
                let pos = self
                    .due
                    .binary_search_by(|k| key.cmp(k))
                    .expect("timer wheel: due timer missing from the due batch");
                self.due.remove(pos);
            }
        }
        if let Next::Known(Some(next)) = self.next.get() {
            if next.as_nanos() == deadline {
                self.next.set(Next::Unknown);
            }
        }
        Some(self.release(handle.index))
    }

    /// The deadline of a still-armed timer.
    pub fn deadline(&self, handle: TimerHandle) -> Option<Instant> {
        self.live(handle).map(|n| Instant::from_nanos(n.deadline))
    }

    /// The earliest armed deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        if let Next::Known(n) = self.next.get() {
            return n;
        }
        let n = self.compute_next();
        self.next.set(Next::Known(n));
        n
    }

    /// Removes and returns the earliest timer due at or before `now`.
    pub fn pop_expired(&mut self, now: Instant) -> Option<(Instant, T)> {
        if self.due.is_empty() {
            self.advance(tick_of(now.as_nanos()));
        }
        let &(deadline, _, index) = self.due.last()?;
        if deadline > now.as_nanos() {
            return None;
        }
        self.due.pop();
        self.next.set(Next::Unknown);
        Some((Instant::from_nanos(deadline), self.release(index)))
    }

    // ===== internals =====

    /// The node a handle names, if the handle is current and the timer armed.
    fn live(&self, handle: TimerHandle) -> Option<&Node<T>> {
        self.nodes
            .get(handle.index as usize)
            .filter(|n| n.generation == handle.generation && n.place != Place::Free)
    }

    /// Files node `index` (not linked anywhere) by its tick relative to `elapsed`.
    fn place(&mut self, index: u32) {
        let node = &self.nodes[index as usize];
        let when = tick_of(node.deadline);
        if when <= self.elapsed {
            let key = (node.deadline, node.seq, index);
            let pos = self
                .due
                .binary_search_by(|k| key.cmp(k))
                .unwrap_or_else(|p| p);
            self.due.insert(pos, key);
            self.nodes[index as usize].place = Place::Due;
        } else {
            let level = level_for(self.elapsed, when);
            let slot = slot_for(when, level);
            self.link(index, level, slot);
        }
    }

    fn link(&mut self, index: u32, level: usize, slot: usize) {
        let head = self.heads[level][slot];
        {
            let n = &mut self.nodes[index as usize];
            n.prev = NIL;
            n.next = head;
            n.place = Place::Wheel {
                level: level as u8,
                slot: slot as u8,
            };
        }
        if head != NIL {
            self.nodes[head as usize].prev = index;
        }
        self.heads[level][slot] = index;
        self.occupied[level] |= 1 << slot;
    }

    fn unlink(&mut self, index: u32, level: u8, slot: u8) {
        let (level, slot) = (level as usize, slot as usize);
        let (prev, next) = {
            let n = &self.nodes[index as usize];
            (n.prev, n.next)
        };
        if prev == NIL {
            self.heads[level][slot] = next;
        } else {
            self.nodes[prev as usize].next = next;
        }
        if next != NIL {
            self.nodes[next as usize].prev = prev;
        }
        if self.heads[level][slot] == NIL {
            self.occupied[level] &= !(1 << slot);
        }
        let n = &mut self.nodes[index as usize];
        n.prev = NIL;
        n.next = NIL;
    }

    /// Frees a node that is no longer linked anywhere and returns its value.
    fn release(&mut self, index: u32) -> T {
        let n = &mut self.nodes[index as usize];
        n.place = Place::Free;
        n.generation = n.generation.wrapping_add(1);
        self.free.push(index);
        self.len -= 1;
        n.value
            .take()
            .expect("timer wheel: armed node without a value")
    }

    /// The first occupied slot after `elapsed`: (level, slot, start tick). Lower levels are
    /// always earlier (see the module comment).
    fn first_slot(&self) -> Option<(usize, usize, u64)> {
        for level in 0..LEVELS {
            let shift = LEVEL_BITS as usize * level;
            let current = slot_for(self.elapsed, level);
            // Occupied slots are strictly after the elapsed position within the level.
            let after = if current == SLOTS - 1 {
                0
            } else {
                self.occupied[level] & (u64::MAX << (current + 1))
            };
            if after != 0 {
                let slot = after.trailing_zeros() as usize;
                let block = shift + LEVEL_BITS as usize;
                let prefix = if block >= 64 {
                    0
                } else {
                    (self.elapsed >> block) << block
                };
                return Some((level, slot, prefix | ((slot as u64) << shift)));
            }
        }
        None
    }

    /// Moves the wheel to tick `to`: every timer whose tick is <= `to` ends up in the due
    /// batch, higher-level slots reached on the way are cascaded.
    fn advance(&mut self, to: u64) {
        let before = self.due.len();
        while let Some((level, slot, start)) = self.first_slot() {
            if start > to {
                break;
            }
            self.elapsed = start;
            let mut index = self.heads[level][slot];
            self.heads[level][slot] = NIL;
            self.occupied[level] &= !(1 << slot);
            while index != NIL {
                let next = self.nodes[index as usize].next;
                let node = &mut self.nodes[index as usize];
                node.prev = NIL;
                node.next = NIL;
                let when = tick_of(node.deadline);
                if when <= start {
                    node.place = Place::Due;
                    self.due.push((node.deadline, node.seq, index));
                } else {
                    let l = level_for(start, when);
                    self.link(index, l, slot_for(when, l));
                }
                index = next;
            }
        }
        self.elapsed = self.elapsed.max(to);
        if self.due.len() != before {
            self.due.sort_unstable_by(|a, b| b.cmp(a));
        }
    }

    fn compute_next(&self) -> Option<Instant> {
        if let Some(&(deadline, _, _)) = self.due.last() {
            return Some(Instant::from_nanos(deadline));
        }
        let (level, slot, _) = self.first_slot()?;
        let mut index = self.heads[level][slot];
        let mut best = u64::MAX;
        while index != NIL {
            let n = &self.nodes[index as usize];
            best = best.min(n.deadline);
            index = n.next;
        }
        Some(Instant::from_nanos(best))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ns: u64) -> Instant {
        Instant::from_nanos(ns)
    }

    #[test]
    fn level_selection() {
        assert_eq!(level_for(0, 1), 0);
        assert_eq!(level_for(0, 63), 0);
        assert_eq!(level_for(0, 64), 1);
        assert_eq!(level_for(63, 64), 1);
        assert_eq!(level_for(0, 1 << 12), 2);
        assert_eq!(level_for(0, tick_of(u64::MAX)), LEVELS - 1);
    }

    #[test]
    fn exact_deadlines_within_one_tick() {
        let mut w = TimerWheel::new();
        // Three deadlines inside the same 1 ms tick, inserted out of order.
        w.insert(at(5_000_300), 'c');
        w.insert(at(5_000_100), 'a');
        w.insert(at(5_000_200), 'b');
        assert_eq!(w.next_deadline(), Some(at(5_000_100)));
        assert_eq!(w.pop_expired(at(5_000_099)), None);
        assert_eq!(w.pop_expired(at(5_000_100)), Some((at(5_000_100), 'a')));
        assert_eq!(w.pop_expired(at(5_000_150)), None);
        assert_eq!(w.next_deadline(), Some(at(5_000_200)));
        assert_eq!(w.pop_expired(at(9_000_000)), Some((at(5_000_200), 'b')));
        assert_eq!(w.pop_expired(at(9_000_000)), Some((at(5_000_300), 'c')));
        assert!(w.is_empty());
        assert_eq!(w.next_deadline(), None);
    }

    #[test]
    fn cascades_and_ties_fire_in_insertion_order() {
        let mut w = TimerWheel::new();
        let d = at(3_609_375_000);
        for v in 0..10 {
            w.insert(d, v);
        }
        w.insert(at(1), 100);
        assert_eq!(w.pop_expired(at(2)), Some((at(1), 100)));
        let fired: Vec<i32> = std::iter::from_fn(|| w.pop_expired(d).map(|(_, v)| v)).collect();
        assert_eq!(fired, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn past_and_max_deadlines() {
        let mut w = TimerWheel::new();
        w.insert(Instant::MAX, "never");
        assert_eq!(w.pop_expired(at(10_000_000_000)), None);
        // Inserted in the past relative to the wheel position: due at once.
        let h = w.insert(at(5), "late");
        assert_eq!(w.deadline(h), Some(at(5)));
        assert_eq!(w.next_deadline(), Some(at(5)));
        assert_eq!(w.pop_expired(at(10_000_000_000)), Some((at(5), "late")));
        assert_eq!(w.next_deadline(), Some(Instant::MAX));
        assert_eq!(w.pop_expired(Instant::MAX), Some((Instant::MAX, "never")));
    }
}
