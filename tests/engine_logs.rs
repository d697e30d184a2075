//! The log lines users grep for (keepalived's wording) and the rate limit of discard logs
//! (at most one line per instance per kind per second of engine time).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

#[path = "engine_util.rs"]
mod util;

use keepalived_rs::engine::Engine;
use keepalived_rs::event::Event;
use std::net::Ipv4Addr;
use std::sync::Mutex;
use util::*;

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, r: &log::Record) {
        LINES.lock().unwrap().push(r.args().to_string());
    }
    fn flush(&self) {}
}

static LOGGER: Capture = Capture;

fn lines_with(prefix: &str) -> Vec<String> {
    LINES
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.starts_with(prefix))
        .cloned()
        .collect()
}

#[test]
fn keepalived_wording_and_rate_limit() {
    log::set_logger(&LOGGER).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
    let mut e = Engine::new(&config(vec![inst("VI_1", 100)]));
    e.set_log_prefix("h1");
    e.handle(
        at("0"),
        Event::Interface(eth0(
            Ipv4Addr::new(192, 0, 2, 1),
            "fe80::1".parse().unwrap(),
            true,
        )),
    );
    e.handle(at("0"), Event::Startup);
    e.handle(at("3.609375"), Event::Timers);
    let src = "192.0.2.2".parse().unwrap();
    // 20 lower-priority adverts within one second of engine time, then one more later.
    for i in 0..20 {
        let t = at(&format!("4.{:02}", i));
        e.handle(t, util::advert_packet("eth0", src, 255, &advert(50, 100)));
    }
    e.handle(
        at("5.5"),
        util::advert_packet("eth0", src, 255, &advert(50, 100)),
    );
    e.handle(
        at("6"),
        util::advert_packet("eth0", src, 255, &advert(200, 100)),
    );
    let all = lines_with("h1: ");
    let want = [
        "h1: (VI_1) Entering BACKUP STATE (init)",
        "h1: (VI_1) Transition to MASTER STATE",
        "h1: (VI_1) Entering MASTER STATE",
        "h1: (VI_1) Sending/queueing gratuitous ARPs on eth0 for 192.0.2.100",
        "h1: (VI_1) Received advert from 192.0.2.2 with lower priority 50, ours 100, forcing new election",
        "h1: (VI_1) Master received advert from 192.0.2.2 with higher priority 200, ours 100",
        "h1: (VI_1) Entering BACKUP STATE",
    ];
    for w in want {
        assert!(all.iter().any(|l| l == w), "missing {w:?} in {all:#?}");
    }
    let lower = all
        .iter()
        .filter(|l| l.contains("with lower priority 50"))
        .count();
    assert_eq!(
        lower, 2,
        "one line for the burst within a second, one at 5.5"
    );
}
