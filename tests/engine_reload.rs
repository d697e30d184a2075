//! Reload with keepalived's semantics: matched by (VRID, family, interface, unicast), Master
//! stays Master, addresses are diffed, removed instances release, new ones start.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

#[path = "engine_util.rs"]
mod util;

use keepalived_rs::config::model::{Config, ScriptCommand, TrackRef, VrrpScript};
use keepalived_rs::config::Span;
use keepalived_rs::engine::Engine;
use keepalived_rs::event::{Action, Event, ScriptOutcome};
use keepalived_rs::vrrp::State;
use std::net::Ipv4Addr;
use std::time::Duration;
use util::*;

fn engine(config: &Config) -> Engine {
    let mut e = Engine::new(config);
    e.handle(
        at("0"),
        Event::Interface(eth0(
            Ipv4Addr::new(192, 0, 2, 1),
            "fe80::1".parse().unwrap(),
            true,
        )),
    );
    e.handle(at("0"), Event::Startup);
    drain(&mut e);
    e
}

fn drain(e: &mut Engine) -> Vec<Action> {
    std::iter::from_fn(|| e.poll_action()).collect()
}

fn run(e: &mut Engine, t: &str) {
    while let Some(d) = e.next_deadline().filter(|d| *d <= at(t)) {
        e.handle(d, Event::Timers);
        drain(e);
    }
}

fn addr_actions(acts: &[Action]) -> Vec<String> {
    acts.iter()
        .filter_map(|a| match a {
            Action::AddAddress { ifname, addr } => Some(format!("add {ifname} {}", addr.addr)),
            Action::DelAddress { ifname, addr } => Some(format!("del {ifname} {}", addr.addr)),
            _ => None,
        })
        .collect()
}

#[test]
fn unchanged_master_stays_master_silently() {
    let cfg = config(vec![inst("VI_1", 100)]);
    let mut e = engine(&cfg);
    run(&mut e, "5");
    e.handle(at("5.2"), Event::Reload(Box::new(cfg.clone())));
    let acts = drain(&mut e);
    assert!(acts.is_empty(), "{acts:?}");
    assert_eq!(e.instance_states()[0].1, State::Master);
    assert_eq!(
        e.next_deadline(),
        Some(at("5.609375")),
        "advert schedule kept"
    );
    assert_eq!(
        e.instance_stats("VI_1").unwrap().adverts_sent,
        2,
        "counters kept"
    );
}

#[test]
fn master_diffs_addresses_and_announces_new_ones() {
    let cfg = config(vec![inst("VI_1", 100)]);
    let mut e = engine(&cfg);
    run(&mut e, "5");
    let mut c = inst("VI_renamed", 120);
    c.vips = vec![vip("192.0.2.101")];
    e.handle(at("5.2"), Event::Reload(Box::new(config(vec![c]))));
    let acts = drain(&mut e);
    assert_eq!(
        addr_actions(&acts),
        vec!["del eth0 192.0.2.100", "add eth0 192.0.2.101"]
    );
    assert_eq!(
        acts.iter()
            .filter(|a| matches!(a, Action::SendGratuitousArp { .. }))
            .count(),
        5
    );
    assert_eq!(
        e.instance_states()[0],
        ("VI_renamed".to_string(), State::Master, 120)
    );
}

#[test]
fn vip_moving_between_masters_is_deleted_before_added() {
    let mut a = inst("VI_A", 255);
    a.vips = vec![vip("192.0.2.100"), vip("192.0.2.101")];
    let mut b = inst("VI_B", 255);
    b.vrid = 52;
    b.vips = vec![vip("192.0.2.200")];
    let mut e = engine(&config(vec![a.clone(), b.clone()]));
    // Move .101 from A to B; B comes first in the new file.
    a.vips = vec![vip("192.0.2.100")];
    b.vips = vec![vip("192.0.2.200"), vip("192.0.2.101")];
    e.handle(at("1.5"), Event::Reload(Box::new(config(vec![b, a]))));
    let acts = drain(&mut e);
    assert_eq!(
        addr_actions(&acts),
        vec!["del eth0 192.0.2.101", "add eth0 192.0.2.101"]
    );
}

#[test]
fn removed_master_sends_priority_zero_and_releases() {
    let cfg = config(vec![inst("VI_1", 100)]);
    let mut e = engine(&cfg);
    run(&mut e, "5");
    let mut cfg2 = config(vec![]);
    cfg2.global.vrrp_notify_fifo = Some("/f".into());
    e.handle(at("5.2"), Event::Reload(Box::new(cfg2.clone())));
    let acts = drain(&mut e);
    assert_eq!(addr_actions(&acts), vec!["del eth0 192.0.2.100"]);
    assert!(acts.contains(&Action::WriteFifo {
        path: "/f".into(),
        line: "INSTANCE \"VI_1\" FAULT 100\n".into()
    }));
    assert_eq!(e.instance_stats("VI_1"), None);
    assert_eq!(e.next_deadline(), None);
    let p0 = acts
        .iter()
        .filter(|a| matches!(a, Action::SendAdvert(_)))
        .count();
    assert_eq!(p0, 1);
}

#[test]
fn backup_keeps_down_timer_and_new_instance_starts() {
    let cfg = config(vec![inst("VI_1", 100)]);
    let mut e = engine(&cfg);
    e.handle(
        at("1"),
        util::advert_packet("eth0", "192.0.2.2".parse().unwrap(), 255, &advert(200, 100)),
    );
    let mut other = inst("VI_2", 100);
    other.vrid = 60;
    e.handle(
        at("2"),
        Event::Reload(Box::new(config(vec![inst("VI_1", 100), other]))),
    );
    let states = e.instance_states();
    assert_eq!(states[0].1, State::Backup);
    assert_eq!(states[1].1, State::Backup);
    assert_eq!(e.instance_timers("VI_1").unwrap().0, Some(at("4.609375")));
    assert_eq!(e.instance_timers("VI_2").unwrap().0, Some(at("5.609375")));
}

#[test]
fn track_script_state_carries_over() {
    let mut c = inst("VI_1", 100);
    c.track_scripts = vec![TrackRef {
        name: "chk".into(),
        weight: None,
        reverse: false,
        span: Span::default(),
    }];
    let cfg = Config {
        vrrp_scripts: vec![VrrpScript {
            name: "chk".into(),
            span: Span::default(),
            script: ScriptCommand::from_argv(&["/chk"]),
            interval: Duration::from_secs(5),
            timeout: None,
            weight: 0,
            reverse: false,
            rise: 1,
            fall: 1,
            init_fail: false,
        }],
        ..config(vec![c])
    };
    let mut e = Engine::new(&cfg);
    e.handle(
        at("0"),
        Event::Interface(eth0(
            Ipv4Addr::new(192, 0, 2, 1),
            "fe80::1".parse().unwrap(),
            true,
        )),
    );
    e.handle(at("0"), Event::Startup);
    e.handle(at("0"), Event::Timers);
    let run = drain(&mut e)
        .into_iter()
        .find_map(|a| match a {
            Action::RunScript { run: Some(r), .. } => Some(r),
            _ => None,
        })
        .unwrap();
    e.handle(
        at("0.5"),
        Event::ScriptExited {
            run,
            outcome: ScriptOutcome::Exited(2),
        },
    );
    assert_eq!(e.instance_states()[0].1, State::Fault);
    e.handle(at("1"), Event::Reload(Box::new(cfg.clone())));
    assert_eq!(
        e.instance_states()[0].1,
        State::Fault,
        "script still failed"
    );
    assert_eq!(
        e.next_deadline(),
        Some(at("5")),
        "next run where it was due"
    );
}

#[test]
fn fifo_write_vrrp_states_on_reload_writes_every_state() {
    let mut cfg = config(vec![inst("VI_1", 100)]);
    cfg.global.notify_fifo = Some("/run/k.fifo".into());
    let mut e = engine(&cfg);
    run(&mut e, "5");
    let fifo_lines = |acts: &[Action]| -> Vec<String> {
        acts.iter()
            .filter_map(|a| match a {
                Action::WriteFifo { line, .. } => Some(line.clone()),
                _ => None,
            })
            .collect()
    };
    // By default a reload writes nothing to the FIFO (no state changed).
    e.handle(at("5.2"), Event::Reload(Box::new(cfg.clone())));
    assert!(fifo_lines(&drain(&mut e)).is_empty());
    cfg.global.fifo_write_vrrp_states_on_reload = true;
    e.handle(at("5.4"), Event::Reload(Box::new(cfg.clone())));
    assert_eq!(
        fifo_lines(&drain(&mut e)),
        vec!["INSTANCE \"VI_1\" MASTER 100\n".to_string()]
    );
}
