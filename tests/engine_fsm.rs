//! One test per RFC transition (reference §3): I1-I2, B2-B6, M2-M6, driving a single engine
//! with decoded adverts and asserting the exact timer deadlines.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

#[path = "engine_util.rs"]
mod util;

use keepalived_rs::config::model::{Config, VrrpVersion};
use keepalived_rs::engine::Engine;
use keepalived_rs::event::{Action, Event};
use keepalived_rs::sched::Instant;
use keepalived_rs::vrrp::packet::Advert;
use keepalived_rs::vrrp::State;
use std::net::Ipv4Addr;
use std::time::Duration;
use util::*;

fn started(cfg: Config, t: &str) -> Engine {
    let mut e = Engine::new(&cfg);
    e.handle(
        at(t),
        Event::Interface(eth0(
            Ipv4Addr::new(192, 0, 2, 1),
            "fe80::1".parse().unwrap(),
            true,
        )),
    );
    e.handle(at(t), Event::Startup);
    drain(&mut e);
    e
}

fn drain(e: &mut Engine) -> Vec<Action> {
    std::iter::from_fn(|| e.poll_action()).collect()
}

fn fire(e: &mut Engine, t: &str) -> Vec<Action> {
    let now = at(t);
    assert_eq!(e.next_deadline(), Some(now), "a timer is due at {t}");
    e.handle(now, Event::Timers);
    drain(e)
}

fn rx(e: &mut Engine, t: &str, from: &str, a: Advert) -> Vec<Action> {
    e.handle(
        at(t),
        util::advert_packet("eth0", from.parse().unwrap(), 255, &a),
    );
    drain(e)
}

fn timers(e: &Engine) -> (Option<Instant>, Option<Instant>) {
    e.instance_timers("VI_1").unwrap()
}

fn state(e: &Engine) -> State {
    e.instance_states()[0].1
}

fn adverts(acts: &[Action]) -> usize {
    acts.iter()
        .filter(|a| matches!(a, Action::SendAdvert(_)))
        .count()
}

/// R1 p100 Master since 3.609375 (adverts at .609375).
fn master() -> Engine {
    let mut e = started(config(vec![inst("VI_1", 100)]), "0");
    fire(&mut e, "3.609375");
    assert_eq!(state(&e), State::Master);
    e
}

#[test]
fn i1_owner_startup_is_master() {
    let e = started(config(vec![inst("VI_1", 255)]), "7");
    assert_eq!(state(&e), State::Master);
    assert_eq!(timers(&e), (None, Some(at("8"))));
}

#[test]
fn i2_startup_is_backup_state_master_below_255_still_waits() {
    let mut c = inst("VI_1", 100);
    c.initial_state = keepalived_rs::config::model::InitialState::Master;
    let e = started(config(vec![c]), "1");
    assert_eq!(state(&e), State::Backup);
    assert_eq!(timers(&e), (Some(at("4.609375")), None));
}

#[test]
fn b2_backup_shutdown_sends_nothing() {
    let mut e = started(config(vec![inst("VI_1", 100)]), "0");
    e.handle(at("1"), Event::Shutdown);
    let acts = drain(&mut e);
    assert_eq!(adverts(&acts), 0);
    assert_eq!(timers(&e), (None, None));
    assert_eq!(state(&e), State::Stop);
}

#[test]
fn b3_down_timer_makes_master_with_own_interval() {
    let mut e = started(config(vec![inst("VI_1", 100)]), "0");
    // Learn 200 cs from a p200 master, then let it die.
    rx(&mut e, "1", "192.0.2.2", advert(200, 200));
    assert_eq!(timers(&e).0, Some(at("8.21875")));
    let acts = fire(&mut e, "8.21875");
    assert_eq!(adverts(&acts), 1);
    // Adver_Timer uses our own 100 cs.
    assert_eq!(timers(&e), (None, Some(at("9.21875"))));
}

#[test]
fn b4_priority_zero_gives_skew_time_and_learns_nothing() {
    let mut e = started(config(vec![inst("VI_1", 100)]), "0");
    rx(&mut e, "1", "192.0.2.2", advert(200, 200));
    rx(&mut e, "2", "192.0.2.2", advert(0, 400));
    // Skew with the learned 200 cs: 156 * 2 / 256 = 1.21875.
    assert_eq!(timers(&e).0, Some(at("3.21875")));
    assert_eq!(e.instance_stats("VI_1").unwrap().priority_zero_received, 1);
}

#[test]
fn b5_accepts_higher_and_equal_and_learns_interval() {
    let mut e = started(config(vec![inst("VI_1", 100)]), "0");
    rx(&mut e, "1", "192.0.2.2", advert(100, 100));
    assert_eq!(timers(&e).0, Some(at("4.609375")));
    rx(&mut e, "2", "192.0.2.0", advert(150, 50));
    // 3 * 0.5 + 156 * 0.5 / 256 = 1.8046875
    assert_eq!(timers(&e).0, Some(at("3.8046875")));
}

#[test]
fn b5_v2_uses_own_interval() {
    let mut c = inst("VI_1", 100);
    c.version = VrrpVersion::V2;
    let mut e = started(config(vec![c]), "0");
    let a = Advert {
        version: VrrpVersion::V2,
        ..advert(200, 100)
    };
    rx(&mut e, "1", "192.0.2.2", a);
    assert_eq!(timers(&e).0, Some(at("4.609375")));
}

#[test]
fn b6_lower_priority_discarded_timer_keeps_running() {
    let mut e = started(config(vec![inst("VI_1", 100)]), "0");
    rx(&mut e, "1", "192.0.2.2", advert(50, 100));
    assert_eq!(timers(&e).0, Some(at("3.609375")));
    // nopreempt accepts it.
    let mut c = inst("VI_1", 100);
    c.nopreempt = true;
    let mut e = started(config(vec![c]), "0");
    rx(&mut e, "1", "192.0.2.2", advert(50, 100));
    assert_eq!(timers(&e).0, Some(at("4.609375")));
}

#[test]
fn m2_master_shutdown_one_priority_zero() {
    let mut e = master();
    e.handle(at("5"), Event::Shutdown);
    let acts = drain(&mut e);
    assert_eq!(adverts(&acts), 1);
    assert_eq!(e.instance_stats("VI_1").unwrap().priority_zero_sent, 1);
    assert_eq!(e.next_deadline(), None);
}

#[test]
fn m3_adver_timer() {
    let mut e = master();
    assert_eq!(adverts(&fire(&mut e, "4.609375")), 1);
    assert_eq!(timers(&e).1, Some(at("5.609375")));
}

#[test]
fn m4_priority_zero_sends_and_resets() {
    let mut e = master();
    let acts = rx(&mut e, "4", "192.0.2.2", advert(0, 100));
    assert_eq!(adverts(&acts), 1);
    assert_eq!(timers(&e).1, Some(at("5")));
}

#[test]
fn m5_higher_priority_demotes_and_learns() {
    let mut e = master();
    let acts = rx(&mut e, "4", "192.0.2.2", advert(200, 200));
    assert_eq!(adverts(&acts), 0);
    assert_eq!(state(&e), State::Backup);
    assert_eq!(timers(&e), (Some(at("11.21875")), None));
    // Equal priority, higher address also demotes.
    let mut e = master();
    rx(&mut e, "4", "192.0.2.2", advert(100, 100));
    assert_eq!(state(&e), State::Backup);
}

#[test]
fn m5_higher_prio_send_advert() {
    let mut c = inst("VI_1", 100);
    c.higher_prio_send_advert = true;
    let mut e = started(config(vec![c]), "0");
    fire(&mut e, "3.609375");
    let acts = rx(&mut e, "4", "192.0.2.2", advert(200, 100));
    assert_eq!(adverts(&acts), 1);
    assert_eq!(state(&e), State::Backup);
}

#[test]
fn m6_lower_or_smaller_address_keeps_master_and_readvertises() {
    let mut e = master();
    let acts = rx(&mut e, "4", "192.0.2.0", advert(100, 100));
    assert_eq!(state(&e), State::Master);
    assert_eq!(adverts(&acts), 1);
    assert_eq!(
        timers(&e).1,
        Some(at("4.609375")),
        "periodic schedule unchanged"
    );
    let acts = rx(&mut e, "4.2", "192.0.2.9", advert(99, 100));
    assert_eq!(adverts(&acts), 1);
}

#[test]
fn m6_lower_prio_garp_and_notify() {
    let mut c = inst("VI_1", 100);
    c.garp.lower_prio_repeat = Some(2);
    c.garp.lower_prio_delay = Duration::from_secs(1);
    c.notify.master_rx_lower_pri = Some(Box::new(
        keepalived_rs::config::model::ScriptCommand::from_argv(&["/lp.sh"]),
    ));
    let mut cfg = config(vec![c]);
    cfg.global.vrrp_notify_fifo = Some("/f".into());
    let mut e = started(cfg, "0");
    fire(&mut e, "3.609375");
    let acts = rx(&mut e, "4", "192.0.2.9", advert(50, 100));
    assert!(acts.contains(&Action::WriteFifo {
        path: "/f".into(),
        line: "INSTANCE \"VI_1\" MASTER_RX_LOWER_PRI 100\n".into()
    }));
    assert!(acts
        .iter()
        .any(|a| matches!(a, Action::RunScript { run: None, .. })));
    fire(&mut e, "4.609375");
    let acts = fire(&mut e, "5");
    let garps = acts
        .iter()
        .filter(|a| matches!(a, Action::SendGratuitousArp { .. }))
        .count();
    assert_eq!(garps, 2);
}

#[test]
fn m7_owner_backup_still_preempts_nopreempt() {
    // An owner demoted by a duplicate owner (E-8298) discards lower adverts even with
    // nopreempt.
    let mut c = inst("VI_1", 255);
    c.nopreempt = true;
    let mut e = started(config(vec![c]), "0");
    rx(&mut e, "0.5", "192.0.2.2", advert(255, 100));
    assert_eq!(state(&e), State::Backup);
    let d = timers(&e).0;
    rx(&mut e, "1", "192.0.2.3", advert(200, 100));
    assert_eq!(timers(&e).0, d, "lower advert does not reset the timer");
}
