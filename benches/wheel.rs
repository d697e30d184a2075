//! Timer wheel micro-benchmarks: plain `main`, `std::time::Instant`, ns/op printed.
//! `cargo bench --bench wheel`. A BTreeMap index (the design's reference model) runs the
//! same workloads for comparison.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

use keepalived_rs::sched::{Instant, TimerWheel};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant as Clock;

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

fn report(name: &str, ops: usize, start: Clock) {
    let ns = start.elapsed().as_nanos() as f64 / ops as f64;
    println!("{name:<52} {ns:>9.1} ns/op  ({ops} ops)");
}

/// Deadlines spread over 0-5 s, like VRRP advert and down timers.
fn deadlines(n: usize, seed: u64) -> Vec<u64> {
    let mut rng = XorShift(seed);
    (0..n).map(|_| rng.next() % 5_000_000_000).collect()
}

fn wheel_benches(n: usize) {
    let ds = deadlines(n, 0x1234_5678);
    let mut w: TimerWheel<u32> = TimerWheel::new();
    let start = Clock::now();
    let handles: Vec<_> = ds
        .iter()
        .enumerate()
        .map(|(i, d)| w.insert(Instant::from_nanos(*d), i as u32))
        .collect();
    report(&format!("wheel insert ({n} timers, 0-5 s)"), n, start);

    let start = Clock::now();
    for h in &handles {
        black_box(w.cancel(*h));
    }
    report(&format!("wheel cancel ({n} timers)"), n, start);

    for (i, d) in ds.iter().enumerate() {
        w.insert(Instant::from_nanos(*d), i as u32);
    }
    let start = Clock::now();
    let mut now = 0u64;
    let mut fired = 0usize;
    while fired < n {
        now += 1_000_000;
        while let Some(t) = w.pop_expired(Instant::from_nanos(now)) {
            black_box(t);
            fired += 1;
        }
    }
    report(
        &format!("wheel pop_expired, 1 ms steps ({n} timers)"),
        n,
        start,
    );

    // Steady state: every timer re-armed 1 s after it fires, next_deadline each loop.
    let mut w: TimerWheel<u32> = TimerWheel::new();
    for (i, d) in ds.iter().enumerate() {
        w.insert(Instant::from_nanos(*d % 1_000_000_000), i as u32);
    }
    let start = Clock::now();
    let mut now = Instant::ZERO;
    let mut fires = 0usize;
    while fires < 4 * n {
        now = w.next_deadline().expect("armed");
        while let Some((d, v)) = w.pop_expired(now) {
            w.insert(d + std::time::Duration::from_secs(1), v);
            fires += 1;
        }
    }
    black_box(now);
    report(
        &format!("wheel steady re-arm + next_deadline ({n} timers)"),
        fires,
        start,
    );
}

fn btree_benches(n: usize) {
    let ds = deadlines(n, 0x1234_5678);
    let mut m: BTreeMap<(u64, u64), u32> = BTreeMap::new();
    let start = Clock::now();
    for (i, d) in ds.iter().enumerate() {
        m.insert((*d, i as u64), i as u32);
    }
    report(&format!("btree insert ({n} timers, 0-5 s)"), n, start);
    let start = Clock::now();
    for (i, d) in ds.iter().enumerate() {
        black_box(m.remove(&(*d, i as u64)));
    }
    report(&format!("btree cancel ({n} timers)"), n, start);
    let mut seq = 0u64;
    for (i, d) in ds.iter().enumerate() {
        m.insert((*d % 1_000_000_000, seq), i as u32);
        seq += 1;
    }
    let start = Clock::now();
    let mut fires = 0usize;
    while fires < 4 * n {
        let now = m.keys().next().expect("armed").0;
        while let Some(entry) = m.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let ((d, _), v) = entry.remove_entry();
            m.insert((d + 1_000_000_000, seq), v);
            seq += 1;
            fires += 1;
        }
    }
    report(
        &format!("btree steady re-arm + next_deadline ({n} timers)"),
        fires,
        start,
    );
}

fn main() {
    for n in [1_000, 100_000] {
        wheel_benches(n);
        btree_benches(n);
    }
}
