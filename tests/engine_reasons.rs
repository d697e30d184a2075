//! The reason of the last transition (extension: `--status`, metrics), as the engine's
//! snapshot shows it after each kind of transition: startup, master down timer, priority 0,
//! higher priority / higher address, tracking and link faults, fault cleared, sync group,
//! reload and shutdown.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

#[path = "engine_util.rs"]
mod util;

use keepalived_rs::config::{self, model::Config, LoadOptions};
use keepalived_rs::engine::Engine;
use keepalived_rs::event::{Action, Event, ScriptOutcome, ScriptRunId};
use keepalived_rs::vrrp::State;
use std::net::Ipv4Addr;
use std::path::Path;
use util::*;

fn load(text: &str) -> Config {
    let l = config::load_str(text, Path::new("t.conf"), &LoadOptions::default());
    assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
    l.config
}

fn eth(name: &str, index: u32, up: bool) -> Event {
    let mut st = eth0(Ipv4Addr::new(192, 0, 2, 1), "fe80::1".parse().unwrap(), up);
    st.name = name.into();
    st.index = index;
    Event::Interface(st)
}

fn started(cfg: &Config, ifaces: &[&str]) -> Engine {
    let mut e = Engine::new(cfg);
    for (k, i) in ifaces.iter().enumerate() {
        e.handle(at("0"), eth(i, 2 + k as u32, true));
    }
    e.handle(at("0"), Event::Startup);
    drain(&mut e);
    e
}

fn drain(e: &mut Engine) -> Vec<Action> {
    std::iter::from_fn(|| e.poll_action()).collect()
}

/// (state, reason) of instance `name` at `t`.
fn why(e: &Engine, t: &str, name: &str) -> (State, String) {
    let snap = e.snapshot(at(t));
    let i = snap
        .instances
        .iter()
        .find(|i| i.cfg.name == name)
        .expect("instance");
    let reason = i
        .last_transition_reason
        .as_ref()
        .map(|r| r.to_string())
        .unwrap_or_default();
    (i.state, reason)
}

/// Fires the timers due at `t` and returns the track script run they started.
fn next_run(e: &mut Engine, t: &str) -> ScriptRunId {
    e.handle(at(t), Event::Timers);
    drain(e)
        .into_iter()
        .find_map(|a| match a {
            Action::RunScript { run: Some(r), .. } => Some(r),
            _ => None,
        })
        .expect("a track script run")
}

fn exited(e: &mut Engine, t: &str, run: ScriptRunId, code: i32) {
    let outcome = ScriptOutcome::Exited(code);
    e.handle(at(t), Event::ScriptExited { run, outcome });
    drain(e);
}

fn rx(e: &mut Engine, t: &str, from: &str, prio: u8) {
    e.handle(
        at(t),
        advert_packet("eth0", from.parse().unwrap(), 255, &advert(prio, 100)),
    );
    drain(e);
}

const PAIR: &str = "
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    version 3
    virtual_ipaddress { 192.0.2.100/24 }
}
";

#[test]
fn startup_master_down_and_demotions() {
    let mut e = started(&load(PAIR), &["eth0"]);
    assert_eq!(why(&e, "0", "VI_1"), (State::Backup, "startup".to_string()));
    e.handle(at("3.609375"), Event::Timers);
    drain(&mut e);
    assert_eq!(
        why(&e, "4", "VI_1"),
        (State::Master, "master down timer".to_string())
    );
    rx(&mut e, "5", "192.0.2.2", 200);
    assert_eq!(
        why(&e, "5", "VI_1"),
        (
            State::Backup,
            "higher priority advert from 192.0.2.2 (priority 200)".to_string()
        )
    );
    // The Master resigns: B4, then the skew time, and the reason says so.
    rx(&mut e, "6", "192.0.2.2", 0);
    let (down, _) = e.instance_timers("VI_1").unwrap();
    let down = down.expect("down timer");
    e.handle(down, Event::Timers);
    drain(&mut e);
    assert_eq!(
        why(&e, "7", "VI_1"),
        (
            State::Master,
            "priority 0 received from 192.0.2.2".to_string()
        )
    );
    // Equal priority from a higher address.
    rx(&mut e, "8", "192.0.2.9", 100);
    assert_eq!(
        why(&e, "8", "VI_1"),
        (
            State::Backup,
            "same priority advert from higher address 192.0.2.9".to_string()
        )
    );
    // A regular advert re-arms the down timer as plain silence again.
    rx(&mut e, "9", "192.0.2.9", 100);
    let (down, _) = e.instance_timers("VI_1").unwrap();
    e.handle(down.expect("down timer"), Event::Timers);
    drain(&mut e);
    assert_eq!(why(&e, "20", "VI_1").1, "master down timer");
    e.handle(at("21"), Event::Shutdown);
    drain(&mut e);
    assert_eq!(why(&e, "21", "VI_1"), (State::Stop, "shutdown".to_string()));
}

#[test]
fn faults_name_what_failed_and_clearing_says_so() {
    let text = "
vrrp_script chk_nginx {
    script /bin/true
    interval 1
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    version 3
    virtual_ipaddress { 192.0.2.100/24 }
    track_interface { eth1 }
    track_script { chk_nginx weight 0 }
}
";
    let mut e = started(&load(text), &["eth0", "eth1"]);
    // The script's first run fails, the next one succeeds.
    let run = next_run(&mut e, "0");
    exited(&mut e, "0.5", run, 1);
    assert_eq!(
        why(&e, "0.5", "VI_1"),
        (State::Fault, "tracking: chk_nginx failed".to_string())
    );
    let run = next_run(&mut e, "1");
    exited(&mut e, "1", run, 0);
    assert_eq!(
        why(&e, "1", "VI_1"),
        (State::Backup, "fault cleared".to_string())
    );
    e.handle(at("1"), eth("eth1", 3, false));
    drain(&mut e);
    assert_eq!(
        why(&e, "1", "VI_1"),
        (State::Fault, "tracking: eth1 down".to_string())
    );
    e.handle(at("2"), eth("eth1", 3, true));
    drain(&mut e);
    assert_eq!(
        why(&e, "2", "VI_1"),
        (State::Backup, "fault cleared".to_string())
    );
    e.handle(at("3"), eth("eth0", 2, false));
    drain(&mut e);
    assert_eq!(
        why(&e, "3", "VI_1"),
        (State::Fault, "link down: eth0".to_string())
    );
}

#[test]
fn sync_group_members_follow_with_the_group_as_reason() {
    let text = "
vrrp_sync_group G {
    group { VI_1 VI_2 }
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    version 3
    virtual_ipaddress { 192.0.2.100/24 }
}
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 52
    priority 100
    advert_int 1
    version 3
    virtual_ipaddress { 192.0.2.101/24 }
    track_interface { eth1 }
}
";
    let mut e = started(&load(text), &["eth0", "eth1"]);
    e.handle(at("1"), eth("eth1", 3, false));
    drain(&mut e);
    assert_eq!(
        why(&e, "1", "VI_2"),
        (State::Fault, "tracking: eth1 down".to_string())
    );
    assert_eq!(
        why(&e, "1", "VI_1"),
        (
            State::Fault,
            "tracking: sync group G: VI_2 in fault".to_string()
        )
    );
}

#[test]
fn reload_keeps_the_reason_of_a_kept_instance_and_names_a_new_one() {
    let mut e = started(&load(PAIR), &["eth0"]);
    let two = format!(
        "{PAIR}
vrrp_instance VI_2 {{
    interface eth0
    virtual_router_id 52
    priority 100
    advert_int 1
    version 3
    virtual_ipaddress {{ 192.0.2.101/24 }}
}}
"
    );
    e.handle(at("1"), Event::Reload(Box::new(load(&two))));
    drain(&mut e);
    assert_eq!(why(&e, "1", "VI_1").1, "startup");
    assert_eq!(why(&e, "1", "VI_2"), (State::Backup, "reload".to_string()));
}
