//! The reference's §5 scenarios with exact times, on engines wired by hand (each one's
//! encoded adverts fed as the others' packets).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

#[path = "engine_util.rs"]
mod util;

use keepalived_rs::config::model::VrrpVersion;
use keepalived_rs::event::Action;
use keepalived_rs::vrrp::State;
use std::time::Duration;
use util::*;

fn times(v: &[&str]) -> Vec<keepalived_rs::sched::Instant> {
    v.iter().map(|s| at(s)).collect()
}

#[test]
fn s01_lone_backup_becomes_master_at_3_609375() {
    let mut lan = Lan::new();
    let r1 = lan.host(1, vec![inst("VI_1", 100)]);
    lan.start(r1, "0");
    lan.run_until("0");
    assert_eq!(lan.state(r1), State::Backup);
    assert_eq!(lan.engine(r1).next_deadline(), Some(at("3.609375")));
    assert!(lan.adverts(r1).is_empty());
    lan.run_until("6.7");
    assert_eq!(lan.master_at(r1), times(&["3.609375"]));
    let a: Vec<_> = lan.adverts(r1).into_iter().map(|(t, _)| t).collect();
    assert_eq!(a, times(&["3.609375", "4.609375", "5.609375", "6.609375"]));
}

#[test]
fn s02_owner_is_master_at_once() {
    let mut lan = Lan::new();
    let r1 = lan.host(1, vec![inst("VI_1", 255)]);
    lan.start(r1, "0");
    lan.run_until("3");
    assert_eq!(lan.transitions(r1), vec![(at("0"), State::Master)]);
    let a: Vec<_> = lan.adverts(r1).into_iter().map(|(t, _)| t).collect();
    assert_eq!(a, times(&["0", "1", "2", "3"]));
    let garps = lan
        .actions_at(r1, "0")
        .into_iter()
        .filter(|a| matches!(a, Action::SendGratuitousArp { .. }))
        .count();
    assert_eq!(garps, 5, "garp_master_repeat 5 at interval 0");
}

#[test]
fn s03_higher_priority_wins_startup() {
    let mut lan = Lan::new();
    let r1 = lan.host(1, vec![inst("VI_1", 100)]);
    let r2 = lan.host(2, vec![inst("VI_1", 200)]);
    lan.start(r1, "0");
    lan.start(r2, "0");
    lan.run_until("20");
    assert_eq!(lan.master_at(r2), times(&["3.21875"]));
    assert!(lan.master_at(r1).is_empty());
    assert_eq!(lan.state(r1), State::Backup);
    // R2's last advert before 20 was at 19.21875.
    assert_eq!(lan.engine(r1).next_deadline(), Some(at("22.828125")));
}

fn r2_master_r1_backup() -> (Lan, usize, usize) {
    let mut lan = Lan::new();
    let r1 = lan.host(1, vec![inst("VI_1", 100)]);
    let r2 = lan.host(2, vec![inst("VI_1", 200)]);
    lan.start(r1, "0");
    lan.start(r2, "0");
    (lan, r1, r2)
}

#[test]
fn s04_master_killed() {
    let (mut lan, r1, r2) = r2_master_r1_backup();
    // R2 is Master since 3.21875, adverts at 4.21875 ... 10.21875; make the last one at 10
    // by killing it right after.
    lan.kill(r2, "10.3");
    lan.run_until("20");
    let last = lan.adverts(r2).last().unwrap().0;
    assert_eq!(last, at("10.21875"));
    assert_eq!(
        lan.master_at(r1),
        vec![at("10.21875") + Duration::from_nanos(3_609_375_000)]
    );
}

#[test]
fn s05_master_stopped_gracefully_skew_only() {
    let (mut lan, r1, r2) = r2_master_r1_backup();
    lan.stop(r2, "10");
    lan.run_until("20");
    let p0: Vec<_> = lan
        .adverts(r2)
        .into_iter()
        .filter(|(_, p)| *p == 0)
        .collect();
    assert_eq!(p0, vec![(at("10"), 0)], "exactly one priority-0 advert");
    assert_eq!(lan.adverts(r2).last().unwrap().0, at("10"));
    assert_eq!(lan.master_at(r1), times(&["10.609375"]));
    let st = lan.engine(r1).instance_stats("VI_1").unwrap();
    assert_eq!(st.priority_zero_received, 1);
}

#[test]
fn s06_s07_three_routers() {
    for graceful in [false, true] {
        let mut lan = Lan::new();
        let r1 = lan.host(1, vec![inst("VI_1", 100)]);
        let r2 = lan.host(2, vec![inst("VI_1", 150)]);
        let r3 = lan.host(3, vec![inst("VI_1", 255)]);
        for h in [r1, r2, r3] {
            lan.start(h, "0");
        }
        if graceful {
            lan.stop(r3, "10");
        } else {
            lan.kill(r3, "10.5");
        }
        lan.run_until("30");
        let want = if graceful { "10.4140625" } else { "13.4140625" };
        assert_eq!(lan.master_at(r2), times(&[want]), "graceful={graceful}");
        assert!(lan.master_at(r1).is_empty());
    }
}

#[test]
fn s08_preemption_by_higher_priority() {
    let mut lan = Lan::new();
    let r1 = lan.host(1, vec![inst("VI_1", 100)]);
    let r2 = lan.host(2, vec![inst("VI_1", 200)]);
    lan.start(r1, "0");
    lan.start(r2, "20");
    lan.run_until("30");
    assert_eq!(lan.master_at(r1), times(&["3.609375"]));
    assert_eq!(lan.master_at(r2), times(&["23.21875"]));
    assert_eq!(
        lan.transitions(r1).last().unwrap(),
        &(at("23.21875"), State::Backup)
    );
    // R1 released the VIP when it stepped down.
    assert!(lan
        .actions_at(r1, "23.21875")
        .iter()
        .any(|a| matches!(a, Action::DelAddress { .. })));
    let st = lan.engine(r2).instance_stats("VI_1").unwrap();
    assert!(st.adverts_received >= 3);
}

#[test]
fn s09_nopreempt_stays_backup() {
    let mut lan = Lan::new();
    let r1 = lan.host(1, vec![inst("VI_1", 100)]);
    let mut c = inst("VI_1", 200);
    c.nopreempt = true;
    let r2 = lan.host(2, vec![c]);
    lan.start(r1, "0");
    lan.start(r2, "20");
    lan.run_until("60");
    assert!(lan.master_at(r2).is_empty());
    assert_eq!(lan.state(r1), State::Master);
}

#[test]
fn s10_owner_preempts_even_without_preempt() {
    let mut lan = Lan::new();
    let r2 = lan.host(2, vec![inst("VI_1", 200)]);
    let mut c = inst("VI_1", 255);
    c.nopreempt = true;
    let r1 = lan.host(1, vec![c]);
    lan.start(r2, "0");
    lan.start(r1, "20");
    lan.run_until("30");
    assert_eq!(lan.master_at(r1), times(&["20"]));
    assert_eq!(
        lan.transitions(r2).last().unwrap(),
        &(at("20"), State::Backup)
    );
}

#[test]
fn s11_equal_priority_tie_break() {
    let mut lan = Lan::new();
    let r1 = lan.host(1, vec![inst("VI_1", 100)]);
    let r2 = lan.host(2, vec![inst("VI_1", 100)]);
    lan.start(r1, "0");
    lan.start(r2, "0");
    lan.run_until("10");
    assert_eq!(lan.master_at(r1), times(&["3.609375"]));
    assert_eq!(lan.master_at(r2), times(&["3.609375"]));
    assert_eq!(lan.state(r1), State::Backup);
    assert_eq!(lan.state(r2), State::Master);
    // R2's extra RFC 9568 advert at 3.609375 on R1's lower advert.
    let r2_at_start: Vec<_> = lan
        .adverts(r2)
        .into_iter()
        .filter(|(t, _)| *t == at("3.609375"))
        .collect();
    assert_eq!(r2_at_start.len(), 2);
}

#[test]
fn s12_no_preemption_by_address() {
    let mut lan = Lan::new();
    let r1 = lan.host(1, vec![inst("VI_1", 100)]);
    let r2 = lan.host(2, vec![inst("VI_1", 100)]);
    lan.start(r1, "0");
    lan.start(r2, "10");
    lan.run_until("60");
    assert!(lan.master_at(r2).is_empty());
}

#[test]
fn s13_ipv6_tie_break_unsigned() {
    let mut lan = Lan::new();
    let r1 = lan.host(1, vec![inst6("VI_6", 100)]);
    let r2 = lan.host(2, vec![inst6("VI_6", 100)]);
    lan.hosts[r2].ll = "fe80::8000:0:0:1".parse().unwrap();
    lan.start(r1, "0");
    lan.start(r2, "0");
    lan.run_until("8");
    assert_eq!(lan.state(r1), State::Backup);
    assert_eq!(lan.state(r2), State::Master);
    let unsolicited = lan.hosts[r2]
        .log
        .iter()
        .filter(|(_, a)| matches!(a, Action::SendUnsolicitedNa { .. }))
        .count();
    assert_eq!(unsolicited, 2 * 5, "one NA per VIP, five rounds");
}

#[test]
fn s14_half_second_interval() {
    let mut lan = Lan::new();
    let mut c1 = inst("VI_1", 100);
    c1.advert_int = Duration::from_millis(500);
    let mut c2 = inst("VI_1", 200);
    c2.advert_int = Duration::from_millis(500);
    let r1 = lan.host(1, vec![c1]);
    let r2 = lan.host(2, vec![c2]);
    lan.start(r1, "0");
    lan.start(r2, "0");
    // R2 master at 1.609375 (3*0.5 + 0.109375), adverts every 0.5 s.
    lan.kill(r2, "10.2");
    lan.run_until("20");
    let last = lan.adverts(r2).last().unwrap().0;
    assert_eq!(last, at("10.109375"));
    assert_eq!(
        lan.master_at(r1),
        vec![last + Duration::from_nanos(1_804_687_500)]
    );
}

#[test]
fn s15_interval_learning() {
    let mut lan = Lan::new();
    let r1 = lan.host(1, vec![inst("VI_1", 100)]);
    let mut c2 = inst("VI_1", 200);
    c2.advert_int = Duration::from_secs(3);
    let r2 = lan.host(2, vec![c2]);
    lan.start(r2, "0");
    lan.start(r1, "10");
    lan.kill(r2, "31");
    lan.run_until("60");
    let last = lan.adverts(r2).last().unwrap().0;
    // R2: master at 3*3 + 56*3/256 = 9.65625, then every 3 s.
    assert_eq!(last, at("30.65625"));
    assert_eq!(
        lan.master_at(r1),
        vec![last + Duration::from_nanos(10_828_125_000)]
    );
    let st = lan.engine(r1).instance_stats("VI_1").unwrap();
    assert!(st.interval_mismatches > 0);
    // After promotion R1 advertises every 1 s.
    let a: Vec<_> = lan.adverts(r1).into_iter().map(|(t, _)| t).collect();
    assert_eq!(a[1] - a[0], Duration::from_secs(1));
}

#[test]
fn s16_learning_on_demotion() {
    let mut lan = Lan::new();
    let r1 = lan.host(1, vec![inst("VI_1", 100)]);
    lan.start(r1, "0");
    lan.inject(r1, "10", "192.0.2.2", &advert(200, 200));
    lan.run_until("30");
    assert_eq!(lan.transitions(r1)[2], (at("10"), State::Backup));
    assert_eq!(lan.master_at(r1), times(&["3.609375", "17.21875"]));
}

#[test]
fn s17_v2_interval_mismatch_two_masters() {
    let mut lan = Lan::new();
    let mut c1 = inst("VI_1", 100);
    c1.version = VrrpVersion::V2;
    let mut c2 = inst("VI_1", 200);
    c2.version = VrrpVersion::V2;
    c2.advert_int = Duration::from_secs(2);
    let r1 = lan.host(1, vec![c1]);
    let r2 = lan.host(2, vec![c2]);
    lan.start(r1, "0");
    lan.start(r2, "0");
    lan.run_until("10");
    assert_eq!(lan.master_at(r1), times(&["3.609375"]));
    assert_eq!(lan.master_at(r2), times(&["6.21875"]));
    assert!(
        lan.engine(r1)
            .instance_stats("VI_1")
            .unwrap()
            .interval_errors
            > 0
    );
}

#[test]
fn s18_v2_skew_independent_of_interval() {
    let mut lan = Lan::new();
    let mut c = inst("VI_1", 100);
    c.version = VrrpVersion::V2;
    c.advert_int = Duration::from_secs(3);
    let r1 = lan.host(1, vec![c]);
    lan.start(r1, "0");
    lan.run_until("12");
    assert_eq!(lan.master_at(r1), times(&["9.609375"]));
}

fn lone_master_at_integer_seconds(prio: u8) -> (Lan, usize) {
    let mut lan = Lan::new();
    let r1 = lan.host(1, vec![inst("VI_1", prio)]);
    lan.start(r1, "0");
    // Owner-style start at an integer second is easiest with priority 255; for other
    // priorities make it master and then check relative times.
    (lan, r1)
}

#[test]
fn s19_priority_zero_at_master_resets_adver_timer() {
    let (mut lan, r1) = lone_master_at_integer_seconds(255);
    lan.inject(r1, "10.5", "192.0.2.2", &advert(0, 100));
    lan.run_until("12");
    let a: Vec<_> = lan
        .adverts(r1)
        .into_iter()
        .map(|(t, _)| t)
        .filter(|t| *t >= at("10"))
        .collect();
    assert_eq!(a, times(&["10", "10.5", "11.5"]));
    assert_eq!(lan.state(r1), State::Master);
}

#[test]
fn s20_lower_priority_at_master_readvertises_unless_lower_prio_no_advert() {
    for (v2, no_advert) in [(false, false), (false, true), (true, false), (true, true)] {
        let mut lan = Lan::new();
        let mut c = inst("VI_1", 255);
        c.lower_prio_no_advert = no_advert;
        let mut a = advert(100, 100);
        if v2 {
            c.version = VrrpVersion::V2;
            a.version = VrrpVersion::V2;
        }
        let r1 = lan.host(1, vec![c]);
        lan.start(r1, "0");
        lan.inject(r1, "10.3", "192.0.2.2", &a);
        lan.run_until("11");
        let got: Vec<_> = lan
            .adverts(r1)
            .into_iter()
            .map(|(t, _)| t)
            .filter(|t| *t >= at("10"))
            .collect();
        if no_advert {
            assert_eq!(got, times(&["10", "11"]), "v2={v2}");
        } else {
            assert_eq!(got, times(&["10", "10.3", "11"]), "v2={v2}");
        }
        assert_eq!(lan.state(r1), State::Master);
    }
}

#[test]
fn s21_higher_priority_at_master() {
    let mut lan = Lan::new();
    let r1 = lan.host(1, vec![inst("VI_1", 100)]);
    lan.start(r1, "0");
    lan.inject(r1, "10.3", "192.0.2.2", &advert(200, 100));
    lan.run_until("20");
    assert_eq!(lan.master_at(r1), times(&["3.609375", "13.909375"]));
    let at103 = lan.actions_at(r1, "10.3");
    assert!(at103.iter().any(|a| matches!(a, Action::DelAddress { .. })));
    assert!(!at103.iter().any(|a| matches!(a, Action::SendAdvert(_))));
}

#[test]
fn s22_backup_shutdown_sends_nothing() {
    let (mut lan, r1, r2) = r2_master_r1_backup();
    lan.stop(r1, "10");
    lan.run_until("20");
    assert!(lan.adverts(r1).is_empty());
    assert!(!lan.hosts[r1]
        .log
        .iter()
        .any(|(_, a)| matches!(a, Action::SendGratuitousArp { .. })));
    assert_eq!(lan.master_at(r2).len(), 1);
}

#[test]
fn s23_master_shutdown_one_priority_zero() {
    let (mut lan, r1) = lone_master_at_integer_seconds(255);
    lan.stop(r1, "10");
    lan.run_until("20");
    let at10: Vec<_> = lan
        .adverts(r1)
        .into_iter()
        .filter(|(t, _)| *t == at("10"))
        .collect();
    // The periodic advert at 10 fires first (timers before the scheduled stop? no: the stop
    // is applied first), so exactly one priority-0 advert and nothing after.
    assert!(at10.contains(&(at("10"), 0)));
    assert_eq!(lan.adverts(r1).iter().filter(|(_, p)| *p == 0).count(), 1);
    assert!(lan.hosts[r1]
        .log
        .iter()
        .any(|(_, a)| matches!(a, Action::DelAddress { .. })));
}

#[test]
fn s47_preempt_delay() {
    for (delay, want) in [(5, "28.21875"), (0, "23.71875")] {
        let mut lan = Lan::new();
        let r1 = lan.host(1, vec![inst("VI_1", 100)]);
        let mut c2 = inst("VI_1", 200);
        c2.preempt_delay = Duration::from_secs(delay);
        let r2 = lan.host(2, vec![c2]);
        // R1 Master with adverts at integer seconds: make it the owner-style start by
        // starting it at t=-3.609375 ... instead start at 0.390625 so that it is master at 4.
        lan.start(r1, "0.390625");
        lan.start(r2, "20.5");
        lan.run_until("40");
        assert_eq!(lan.master_at(r1)[0], at("4"));
        assert_eq!(lan.master_at(r2), times(&[want]), "preempt_delay {delay}");
    }
}

#[test]
fn s48_nopreempt_restart_then_graceful_stop() {
    let mut lan = Lan::new();
    let r1 = lan.host(1, vec![inst("VI_1", 100)]);
    let mut c2 = inst("VI_1", 200);
    c2.nopreempt = true;
    let r2 = lan.host(2, vec![c2]);
    lan.start(r1, "0.390625");
    lan.start(r2, "20");
    lan.stop(r1, "40");
    lan.run_until("50");
    assert_eq!(lan.master_at(r2), times(&["40.21875"]));
}

#[test]
fn s39_duplicate_owners_resolve_by_election() {
    let mut lan = Lan::new();
    let r1 = lan.host(1, vec![inst("VI_1", 255)]);
    let r2 = lan.host(2, vec![inst("VI_1", 255)]);
    lan.start(r1, "0");
    lan.start(r2, "0");
    lan.run_until("10");
    assert_eq!(lan.state(r1), State::Backup);
    assert_eq!(lan.state(r2), State::Master);
    assert!(
        lan.engine(r1)
            .instance_stats("VI_1")
            .unwrap()
            .owner_conflicts
            > 0
    );
    // strict: both stay Master
    let mut lan = Lan::new();
    let mut c = inst("VI_1", 255);
    c.strict_mode = true;
    let r1 = lan.host(1, vec![c.clone()]);
    let r2 = lan.host(2, vec![c]);
    lan.start(r1, "0");
    lan.start(r2, "0");
    lan.run_until("10");
    assert_eq!(
        (lan.state(r1), lan.state(r2)),
        (State::Master, State::Master)
    );
}

fn many(lan: &mut Lan, n: u8, prio: u8, count: u8) -> usize {
    let insts = (1..=count)
        .map(|v| {
            let mut c = inst(&format!("VI_{v}"), prio.wrapping_add(v % 7));
            c.vrid = v;
            c
        })
        .collect();
    lan.host(n, insts)
}

#[test]
fn hundred_instances_twenty_minutes_is_deterministic_and_stable() {
    let run = || {
        let mut lan = Lan::new();
        let r1 = many(&mut lan, 1, 100, 100);
        let r2 = many(&mut lan, 2, 150, 100);
        lan.start(r2, "0");
        lan.start(r1, "1");
        lan.kill(r2, "600.5");
        lan.run_until("1200");
        let log: Vec<String> = lan.hosts[r1]
            .log
            .iter()
            .map(|(t, a)| format!("{t} {a:?}"))
            .collect();
        let states = lan.engine(r1).instance_states();
        (log, states)
    };
    let started = std::time::Instant::now();
    let (log_a, states) = run();
    let (log_b, _) = run();
    assert_eq!(log_a, log_b, "same inputs, same trace");
    assert!(
        states.iter().all(|s| s.1 == State::Master),
        "R1 took over every VRID after R2 died"
    );
    // R1 became Master exactly once per VRID, after R2's death.
    let masters = log_a.iter().filter(|l| l.contains("to: Master")).count();
    assert_eq!(masters, 100);
    eprintln!(
        "2 x 100 instances x 20 min simulated twice in {:?}",
        started.elapsed()
    );
}
