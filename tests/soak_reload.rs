//! Soak: memory stays flat over 24 simulated hours of two routers' engines on one wire, each
//! reloaded every minute (alternating between two configurations that change a priority,
//! add and remove an instance, a track script and addresses) while the Master's link flaps
//! every three hours. The heap is measured by a counting allocator after every simulated
//! hour: the second half of the day must not use more than the first half plus a small
//! slack, so a leak of one allocation per reload (2 880 reloads) would show. The engines
//! are driven directly (a two-engine wire written here), so nothing but their own state
//! and the test's two configurations is on the heap.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

use keepalived_rs::config::model::Config;
use keepalived_rs::config::{load_str, LoadOptions};
use keepalived_rs::engine::Engine;
use keepalived_rs::event::{Action, Event, InterfaceState, ReceivedPacket, ScriptOutcome};
use keepalived_rs::sched::Instant;
use keepalived_rs::vrrp::State;
use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

/// The system allocator, counting the bytes currently allocated.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; only counted.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            LIVE.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const HOURS: u64 = 24;

fn hours() -> u64 {
    std::env::var("SOAK_HOURS")
        .ok()
        .and_then(|h| h.parse().ok())
        .unwrap_or(HOURS)
}

fn config(router: u8, variant: bool) -> String {
    let prio = if router == 1 { 150 } else { 100 };
    let mut c = format!("global_defs {{\n    router_id r{router}\n}}\n");
    if variant {
        c.push_str(
            "vrrp_script chk {\n    script \"/bin/true\"\n    interval 5\n    weight -20\n}\n",
        );
    }
    let _ = write!(
        c,
        "vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority {p}
    advert_int 1
    version 3
    virtual_ipaddress {{
        192.0.2.100/24
        {extra}
    }}
    {track}
}}
",
        p = if variant { prio + 10 } else { prio },
        extra = if variant { "192.0.2.101/24" } else { "" },
        track = if variant {
            "track_script {\n        chk\n    }"
        } else {
            ""
        },
    );
    let second = if variant {
        (53, "192.0.2.130")
    } else {
        (52, "192.0.2.120")
    };
    let _ = write!(
        c,
        "vrrp_instance VI_{vrid} {{
    state BACKUP
    interface eth0
    virtual_router_id {vrid}
    priority {prio}
    advert_int 1
    version 3
    virtual_ipaddress {{
        {addr}/24
    }}
}}
",
        vrid = second.0,
        addr = second.1
    );
    c
}

/// Loads a configuration from text (as the daemon would at start or on SIGHUP).
fn load(text: &str) -> Config {
    let l = load_str(
        text,
        Path::new("/soak/keepalived.conf"),
        &LoadOptions::default(),
    );
    assert!(l.can_run(), "{:?}", l.diagnostics);
    l.config
}

fn interface(router: u8) -> InterfaceState {
    InterfaceState {
        name: "eth0".into(),
        index: 2,
        up: true,
        mac: [2, 0, 0, 0, 0, router],
        ipv4: vec![Ipv4Addr::new(192, 0, 2, router)],
        ipv6: vec![Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, u16::from(router))],
    }
}

/// Two engines on one wire: adverts of one are heard by the other at the same instant,
/// scripts succeed at once, everything else is accepted as done.
struct Wire {
    engines: [Engine; 2],
    /// Whether router i's link is up (a down link neither sends nor hears).
    up: [bool; 2],
    reloads: u64,
}

impl Wire {
    fn settle(&mut self, now: Instant) {
        loop {
            let mut moved = false;
            for i in 0..2 {
                while let Some(a) = self.engines[i].poll_action() {
                    moved = true;
                    match a {
                        Action::SendAdvert(p) if self.up[0] && self.up[1] => {
                            self.engines[1 - i].handle(
                                now,
                                Event::Packet(ReceivedPacket {
                                    ifname: "eth0".into(),
                                    src: p.src,
                                    dst: p.dst,
                                    ttl: p.ttl,
                                    payload: p.payload,
                                }),
                            );
                        }
                        Action::RunScript { run: Some(run), .. } => self.engines[i].handle(
                            now,
                            Event::ScriptExited {
                                run,
                                outcome: ScriptOutcome::Exited(0),
                            },
                        ),
                        _ => {}
                    }
                }
            }
            if !moved {
                return;
            }
        }
    }

    /// Runs both engines' timers up to `until`.
    fn run_until(&mut self, until: Instant) {
        loop {
            let next = self.engines.iter().filter_map(|e| e.next_deadline()).min();
            match next {
                Some(t) if t <= until => {
                    for e in &mut self.engines {
                        e.fire_due(t);
                    }
                    self.settle(t);
                }
                _ => return,
            }
        }
    }
}

#[test]
fn memory_stays_flat_over_a_day_of_reloads_every_minute() {
    let texts: Vec<[String; 2]> = (1..=2u8)
        .map(|r| [config(r, false), config(r, true)])
        .collect();
    let mut wire = Wire {
        engines: [
            Engine::new(&load(&texts[0][0])),
            Engine::new(&load(&texts[1][0])),
        ],
        up: [true, true],
        reloads: 0,
    };
    let t0 = Instant::ZERO;
    for (i, e) in wire.engines.iter_mut().enumerate() {
        e.handle(t0, Event::Interface(interface(i as u8 + 1)));
        e.handle(t0, Event::Startup);
    }
    wire.settle(t0);
    let mut samples = Vec::new();
    for minute in 1..=hours() * 60 {
        let at = |s: u64| t0 + Duration::from_secs((minute - 1) * 60 + s);
        let variant = usize::from(minute % 2 == 1);
        // Router 1 reloads at :00, router 2 at :30; every 3 hours router 1's link flaps.
        wire.run_until(at(0));
        wire.engines[0].handle(at(0), Event::Reload(Box::new(load(&texts[0][variant]))));
        wire.settle(at(0));
        if minute % 180 == 0 {
            wire.run_until(at(10));
            wire.up[0] = false;
            let mut down = interface(1);
            down.up = false;
            wire.engines[0].handle(at(10), Event::Interface(down));
            wire.settle(at(10));
            wire.run_until(at(20));
            wire.up[0] = true;
            wire.engines[0].handle(at(20), Event::Interface(interface(1)));
            wire.settle(at(20));
        }
        wire.run_until(at(30));
        wire.engines[1].handle(at(30), Event::Reload(Box::new(load(&texts[1][variant]))));
        wire.settle(at(30));
        wire.reloads += 2;
        wire.run_until(at(60));
        if minute % 60 == 0 {
            samples.push(LIVE.load(Ordering::Relaxed));
        }
    }
    let states: Vec<_> = wire.engines.iter().map(|e| e.instance_states()).collect();
    eprintln!(
        "{} reloads; live heap by simulated hour (bytes): {samples:?}; final states {states:?}",
        wire.reloads
    );
    assert!(
        states[0]
            .iter()
            .any(|(n, s, _)| n == "VI_1" && *s == State::Master),
        "router 1 (higher priority) should end as Master of VI_1: {states:?}"
    );
    let half = samples.len() / 2;
    let first = *samples[..half].iter().max().unwrap();
    let second = *samples[half..].iter().max().unwrap();
    // A leak of one 16-byte allocation per reload over the second half (1 440 reloads)
    // would add 23 KB: the slack is well under that.
    assert!(
        second <= first + 8 * 1024,
        "heap grew from {first} B (max of hours 1-{half}) to {second} B (max of hours {}-{})",
        half + 1,
        hours()
    );
}
