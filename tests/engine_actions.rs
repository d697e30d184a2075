//! One engine driven event by event: exact actions and deadlines of each transition,
//! tracking (interface, script, file, process), FAULT, sync groups, notify, unicast, VMAC.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

#[path = "engine_util.rs"]
mod util;

use keepalived_rs::config::model::{
    Config, NotifyScripts, ScriptCommand, SyncGroup, TrackFile, TrackProcess, TrackRef,
    UnicastPeer, Vmac, VrrpScript,
};
use keepalived_rs::config::Span;
use keepalived_rs::engine::Engine;
use keepalived_rs::event::{Action, Event, ScriptOutcome, ScriptRunId};
use keepalived_rs::sched::Instant;
use keepalived_rs::vrrp::State;
use std::net::Ipv4Addr;
use std::time::Duration;
use util::*;

fn engine(config: Config) -> Engine {
    let mut e = Engine::new(&config);
    e.handle(
        at("0"),
        Event::Interface(eth0(
            Ipv4Addr::new(192, 0, 2, 1),
            "fe80::1".parse().unwrap(),
            true,
        )),
    );
    e
}

fn drain(e: &mut Engine) -> Vec<Action> {
    std::iter::from_fn(|| e.poll_action()).collect()
}

/// Fires timers until `t` (inclusive); returns (instant, action) pairs.
fn run(e: &mut Engine, t: &str) -> Vec<(Instant, Action)> {
    let until = at(t);
    let mut out = Vec::new();
    while let Some(d) = e.next_deadline().filter(|d| *d <= until) {
        e.handle(d, Event::Timers);
        out.extend(drain(e).into_iter().map(|a| (d, a)));
    }
    out
}

fn cmd(argv: &[&str]) -> ScriptCommand {
    ScriptCommand::from_argv(argv)
}

fn tref(name: &str, weight: Option<i32>) -> TrackRef {
    TrackRef {
        name: name.into(),
        weight,
        reverse: false,
        span: Span::default(),
    }
}

fn kinds(actions: &[Action]) -> Vec<&'static str> {
    actions
        .iter()
        .map(|a| match a {
            Action::SendAdvert(_) => "advert",
            Action::SendGratuitousArp { .. } => "garp",
            Action::SendUnsolicitedNa { .. } => "na",
            Action::AddAddress { .. } => "add",
            Action::DelAddress { .. } => "del",
            Action::StateChanged { .. } => "state",
            Action::PriorityChanged { .. } => "prio",
            Action::RunScript { .. } => "run",
            Action::WriteFifo { .. } => "fifo",
            Action::CreateVmac { .. } => "vmac",
            Action::DeleteVmac { .. } => "delvmac",
            Action::KillScript { .. } => "kill",
            _ => "other",
        })
        .collect()
}

#[test]
fn i2_backup_then_b3_master_exact_actions() {
    let mut e = engine(config(vec![inst("VI_1", 100)]));
    e.handle(at("0"), Event::Startup);
    assert_eq!(kinds(&drain(&mut e)), vec!["state"]);
    assert_eq!(
        e.instance_states(),
        vec![("VI_1".to_string(), State::Backup, 100)]
    );
    assert_eq!(e.next_deadline(), Some(at("3.609375")));
    let acts = run(&mut e, "3.609375");
    let k: Vec<_> = kinds(&acts.iter().map(|(_, a)| a.clone()).collect::<Vec<_>>());
    assert_eq!(
        k,
        vec!["state", "add", "advert", "garp", "garp", "garp", "garp", "garp"]
    );
    assert!(acts.iter().all(|(t, _)| *t == at("3.609375")));
    match &acts[2].1 {
        Action::SendAdvert(p) => {
            assert_eq!(p.src.to_string(), "192.0.2.1");
            assert_eq!(p.dst.to_string(), "224.0.0.18");
            assert_eq!(p.ifname, "eth0");
            assert_eq!(p.src_mac, None);
            // 31 33 64 01 00 64 cs cs c0 00 02 64 (pseudo-header form 05 72 for .1 source
            // is the reference's golden vector).
            assert_eq!(
                p.payload,
                vec![0x31, 0x33, 0x64, 0x01, 0x00, 0x64, 0x05, 0x72, 0xc0, 0x00, 0x02, 0x64]
            );
        }
        a => panic!("{a:?}"),
    }
    match &acts[3].1 {
        Action::SendGratuitousArp {
            ip, mac, ifname, ..
        } => {
            assert_eq!(ip.to_string(), "192.0.2.100");
            assert_eq!(ifname, "eth0");
            assert_eq!(*mac, [0x02, 0, 0, 0, 0, 1]);
        }
        a => panic!("{a:?}"),
    }
    // M3 every second, second GARP burst 5 s after takeover.
    let acts = run(&mut e, "8.609375");
    let adverts: Vec<_> = acts
        .iter()
        .filter(|(_, a)| matches!(a, Action::SendAdvert(_)))
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(
        adverts,
        ["4.609375", "5.609375", "6.609375", "7.609375", "8.609375"]
            .map(at)
            .to_vec()
    );
    let garps: Vec<_> = acts
        .iter()
        .filter(|(_, a)| matches!(a, Action::SendGratuitousArp { .. }))
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(garps, vec![at("8.609375"); 5]);
}

#[test]
fn garp_interval_spaces_rounds_and_refresh_repeats() {
    let mut c = inst("VI_1", 255);
    c.garp.interval = Duration::from_millis(10);
    c.garp.master_repeat = 3;
    c.garp.master_delay = Duration::ZERO;
    c.garp.master_refresh = Some(Duration::from_secs(2));
    let mut e = engine(config(vec![c]));
    e.handle(at("0"), Event::Startup);
    let first = drain(&mut e);
    assert_eq!(kinds(&first).iter().filter(|k| **k == "garp").count(), 1);
    let acts = run(&mut e, "4.5");
    let garps: Vec<_> = acts
        .iter()
        .filter(|(_, a)| matches!(a, Action::SendGratuitousArp { .. }))
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(garps, ["0.01", "0.02", "2", "4"].map(at).to_vec());
}

#[test]
fn owner_shutdown_sends_priority_zero_and_releases() {
    let mut c = inst("VI_1", 255);
    c.notify.stop = Some(Box::new(cmd(&["/stop.sh"])));
    let mut e = engine(config(vec![c]));
    e.handle(at("0"), Event::Startup);
    drain(&mut e);
    e.handle(at("2.5"), Event::Shutdown);
    let acts = drain(&mut e);
    assert_eq!(kinds(&acts), vec!["advert", "del", "state", "run"]);
    assert_eq!(e.next_deadline(), None, "every timer cancelled");
    assert_eq!(e.instance_states()[0].1, State::Stop);
    assert_eq!(e.instance_stats("VI_1").unwrap().priority_zero_sent, 1);
}

#[test]
fn interface_down_is_fault_and_up_returns_to_backup() {
    let mut e = engine(config(vec![inst("VI_1", 100)]));
    e.handle(at("0"), Event::Startup);
    run(&mut e, "5");
    drain(&mut e);
    assert_eq!(e.instance_states()[0].1, State::Master);
    e.handle(
        at("5.5"),
        Event::Interface(eth0(
            Ipv4Addr::new(192, 0, 2, 1),
            "fe80::1".parse().unwrap(),
            false,
        )),
    );
    let acts = drain(&mut e);
    assert_eq!(kinds(&acts), vec!["del", "state"]);
    assert_eq!(e.instance_states()[0].1, State::Fault);
    assert_eq!(e.next_deadline(), None);
    e.handle(
        at("7"),
        Event::Interface(eth0(
            Ipv4Addr::new(192, 0, 2, 1),
            "fe80::1".parse().unwrap(),
            true,
        )),
    );
    assert_eq!(kinds(&drain(&mut e)), vec!["state"]);
    assert_eq!(e.instance_states()[0].1, State::Backup);
    assert_eq!(e.next_deadline(), Some(at("10.609375")));
}

#[test]
fn unknown_interface_starts_in_fault() {
    let e0 = Engine::new(&config(vec![inst("VI_1", 100)]));
    let mut e = e0;
    e.handle(at("0"), Event::Startup);
    assert_eq!(e.instance_states()[0].1, State::Fault);
}

fn with_script(weight: i32, rise: u32, fall: u32) -> Config {
    let mut c = inst("VI_1", 100);
    c.track_scripts = vec![tref("chk", None)];
    Config {
        vrrp_scripts: vec![VrrpScript {
            name: "chk".into(),
            span: Span::default(),
            script: cmd(&["/bin/chk"]),
            interval: Duration::from_secs(2),
            timeout: None,
            weight,
            reverse: false,
            rise,
            fall,
            init_fail: false,
        }],
        ..config(vec![c])
    }
}

fn script_run(a: &Action) -> Option<ScriptRunId> {
    match a {
        Action::RunScript { run: Some(r), .. } => Some(*r),
        _ => None,
    }
}

#[test]
fn track_script_weight_zero_fault_and_skip_while_running() {
    let mut e = engine(with_script(0, 1, 1));
    e.handle(at("0"), Event::Startup);
    let acts = run(&mut e, "0");
    let runs: Vec<_> = acts.iter().filter_map(|(_, a)| script_run(a)).collect();
    assert_eq!(runs.len(), 1);
    match &acts
        .iter()
        .find(|(_, a)| script_run(a).is_some())
        .unwrap()
        .1
    {
        Action::RunScript {
            timeout, command, ..
        } => {
            assert_eq!(*timeout, Some(Duration::from_secs(2)));
            assert_eq!(command.argv, vec!["/bin/chk"]);
        }
        _ => unreachable!(),
    }
    // Still running at t=2: the run is skipped.
    let acts = run(&mut e, "2");
    assert!(acts.iter().all(|(_, a)| script_run(a).is_none()));
    e.handle(
        at("2.5"),
        Event::ScriptExited {
            run: runs[0],
            outcome: ScriptOutcome::Exited(1),
        },
    );
    assert_eq!(e.instance_states()[0].1, State::Fault);
    let acts = run(&mut e, "4");
    let r2: Vec<_> = acts.iter().filter_map(|(_, a)| script_run(a)).collect();
    assert_eq!(r2.len(), 1);
    assert_ne!(r2[0], runs[0]);
    // A stale run id changes nothing.
    e.handle(
        at("4.1"),
        Event::ScriptExited {
            run: runs[0],
            outcome: ScriptOutcome::Exited(0),
        },
    );
    assert_eq!(e.instance_states()[0].1, State::Fault);
    e.handle(
        at("4.2"),
        Event::ScriptExited {
            run: r2[0],
            outcome: ScriptOutcome::Exited(0),
        },
    );
    assert_eq!(e.instance_states()[0].1, State::Backup);
    assert_eq!(e.next_deadline(), Some(at("6")));
}

#[test]
fn track_script_negative_weight_with_fall_two() {
    let mut e = engine(with_script(-30, 1, 2));
    e.handle(at("0"), Event::Startup);
    let mut t = 0u64;
    let mut fail = |e: &mut Engine| {
        let d = e.next_deadline().unwrap();
        e.handle(d, Event::Timers);
        let run = drain(e).iter().find_map(script_run).expect("a run");
        t += 1;
        e.handle(
            d + Duration::from_millis(100),
            Event::ScriptExited {
                run,
                outcome: ScriptOutcome::TimedOut,
            },
        );
        drain(e)
    };
    let first = fail(&mut e);
    assert!(!kinds(&first).contains(&"prio"));
    assert_eq!(e.instance_states()[0].2, 100);
    let second = fail(&mut e);
    assert_eq!(
        second,
        vec![Action::PriorityChanged {
            instance: "VI_1".into(),
            priority: 70
        }]
    );
    assert_eq!(
        e.instance_states()[0],
        ("VI_1".to_string(), State::Backup, 70)
    );
}

#[test]
fn track_file_and_process() {
    let mut c = inst("VI_1", 100);
    c.track_files = vec![tref("tf", Some(10))];
    c.track_processes = vec![tref("nginx", None)];
    let cfg = Config {
        track_files: vec![TrackFile {
            name: "tf".into(),
            span: Span::default(),
            file: "/run/tf".into(),
            weight: 1,
            reverse: false,
            init_file: None,
        }],
        track_processes: vec![TrackProcess {
            name: "nginx".into(),
            span: Span::default(),
            process: vec!["nginx".into()],
            param_match: None,
            weight: 0,
            reverse: false,
            quorum: 2,
            quorum_max: None,
            delay: Duration::ZERO,
            fork_delay: None,
            terminate_delay: None,
            full_command: false,
        }],
        ..config(vec![c])
    };
    let mut e = engine(cfg);
    e.handle(at("0"), Event::Startup);
    e.handle(
        at("1"),
        Event::TrackFileValue {
            name: "tf".into(),
            value: Some(3),
        },
    );
    assert_eq!(e.instance_states()[0].2, 130);
    e.handle(
        at("1"),
        Event::TrackFileValue {
            name: "tf".into(),
            value: Some(-30),
        },
    );
    assert_eq!(e.instance_states()[0].1, State::Fault, "-300 < -253");
    e.handle(
        at("2"),
        Event::TrackFileValue {
            name: "tf".into(),
            value: None,
        },
    );
    assert_eq!(
        e.instance_states()[0],
        ("VI_1".to_string(), State::Backup, 100)
    );
    e.handle(
        at("3"),
        Event::TrackProcessCount {
            name: "nginx".into(),
            count: 1,
        },
    );
    assert_eq!(e.instance_states()[0].1, State::Fault);
    e.handle(
        at("4"),
        Event::TrackProcessCount {
            name: "nginx".into(),
            count: 2,
        },
    );
    assert_eq!(e.instance_states()[0].1, State::Backup);
}

#[test]
fn track_interface_weight_and_owner_priority_is_fixed() {
    let mut c = inst("VI_1", 100);
    c.track_interfaces = vec![tref("eth1", Some(-20))];
    let mut o = inst("VI_2", 255);
    o.vrid = 52;
    o.track_interfaces = vec![tref("eth1", Some(-20))];
    let mut e = engine(config(vec![c, o]));
    e.handle(at("0"), Event::Startup);
    let states = e.instance_states();
    assert_eq!(
        states[0],
        ("VI_1".to_string(), State::Backup, 80),
        "eth1 unknown = down"
    );
    assert_eq!(states[1], ("VI_2".to_string(), State::Master, 255));
    let mut eth1 = eth0(
        Ipv4Addr::new(198, 51, 100, 1),
        "fe80::1".parse().unwrap(),
        true,
    );
    eth1.name = "eth1".into();
    e.handle(at("1"), Event::Interface(eth1));
    assert_eq!(e.instance_states()[0].2, 100);
}

fn group_config() -> Config {
    let mut a = inst("VI_1", 200);
    a.notify.master = Some(Box::new(cmd(&["/m.sh"])));
    a.notify.any = Some(Box::new(cmd(&["/n.sh"])));
    let mut b = inst("VI_2", 100);
    b.vrid = 52;
    b.track_interfaces = vec![tref("eth1", Some(-50))];
    let mut cfg = config(vec![a, b]);
    cfg.global.vrrp_notify_fifo = Some("/run/ka.fifo".into());
    cfg.sync_groups = vec![SyncGroup {
        name: "G1".into(),
        span: Span::default(),
        members: vec!["VI_1".into(), "VI_2".into()],
        track_interfaces: vec![],
        track_scripts: vec![],
        track_files: vec![],
        track_processes: vec![],
        notify: NotifyScripts {
            any: Some(Box::new(cmd(&["/g.sh"]))),
            ..NotifyScripts::default()
        },
        smtp_alert: false,
        sync_group_tracking_weight: false,
        track_bfds: vec![],
        notify_priority_changes: false,
        global_tracking: false,
    }];
    cfg
}

#[test]
fn sync_group_members_follow_and_notify() {
    let mut e = engine(group_config());
    let mut eth1 = eth0(
        Ipv4Addr::new(198, 51, 100, 1),
        "fe80::1".parse().unwrap(),
        true,
    );
    eth1.name = "eth1".into();
    e.handle(at("0"), Event::Interface(eth1.clone()));
    e.handle(at("0"), Event::Startup);
    let acts = drain(&mut e);
    let fifo: Vec<_> = acts
        .iter()
        .filter_map(|a| match a {
            Action::WriteFifo { line, .. } => Some(line.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        fifo,
        vec![
            "INSTANCE \"VI_1\" BACKUP 200\n",
            "INSTANCE \"VI_2\" BACKUP 100\n",
            "GROUP \"G1\" BACKUP 0\n"
        ]
    );
    // VI_1's timer (3.21875) takes VI_2 along.
    let acts = run(&mut e, "3.21875");
    assert!(e.instance_states().iter().all(|s| s.1 == State::Master));
    let scripts: Vec<_> = acts
        .iter()
        .filter_map(|(_, a)| match a {
            Action::RunScript {
                run: None, command, ..
            } => Some(command.argv.join(" ")),
            _ => None,
        })
        .collect();
    assert_eq!(
        scripts,
        vec![
            "/m.sh",
            "/n.sh INSTANCE VI_1 MASTER 200",
            "/g.sh GROUP G1 MASTER 0"
        ]
    );
    // eth1 down: VI_2 would only lose weight, but in a sync group weights are forced to 0:
    // both go to FAULT.
    eth1.up = false;
    e.handle(at("5"), Event::Interface(eth1.clone()));
    assert!(
        e.instance_states().iter().all(|s| s.1 == State::Fault),
        "{:?}",
        e.instance_states()
    );
    let acts = drain(&mut e);
    assert_eq!(
        kinds(&acts).iter().filter(|k| **k == "advert").count(),
        2,
        "priority 0 from each master"
    );
    eth1.up = true;
    e.handle(at("6"), Event::Interface(eth1));
    assert!(e.instance_states().iter().all(|s| s.1 == State::Backup));
}

#[test]
fn sync_group_demotion_takes_members_to_backup() {
    let mut e = engine(group_config());
    let mut eth1 = eth0(
        Ipv4Addr::new(198, 51, 100, 1),
        "fe80::1".parse().unwrap(),
        true,
    );
    eth1.name = "eth1".into();
    e.handle(at("0"), Event::Interface(eth1));
    e.handle(at("0"), Event::Startup);
    run(&mut e, "4");
    drain(&mut e);
    let a = advert(250, 100);
    e.handle(
        at("4.5"),
        util::advert_packet("eth0", "192.0.2.9".parse().unwrap(), 255, &a),
    );
    assert!(e.instance_states().iter().all(|s| s.1 == State::Backup));
}

#[test]
fn unicast_peers_get_one_advert_each_and_skip_ttl() {
    let mut c = inst("VI_1", 255);
    c.unicast_src_ip = Some("192.0.2.1".parse().unwrap());
    c.unicast_peers = ["192.0.2.2", "192.0.2.3"]
        .iter()
        .map(|a| UnicastPeer {
            addr: a.parse().unwrap(),
            min_ttl: None,
            max_ttl: None,
        })
        .collect();
    let mut e = engine(config(vec![c]));
    e.handle(at("0"), Event::Startup);
    let dsts: Vec<_> = drain(&mut e)
        .into_iter()
        .filter_map(|a| match a {
            Action::SendAdvert(p) => Some(p.dst.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(dsts, vec!["192.0.2.2", "192.0.2.3"]);
    assert_eq!(e.instance_stats("VI_1").unwrap().adverts_sent, 2);
    // A peer's advert with TTL 64 is processed (owner, equal priority, higher address).
    e.handle(
        at("0.5"),
        util::advert_packet("eth0", "192.0.2.3".parse().unwrap(), 64, &advert(255, 100)),
    );
    assert_eq!(e.instance_states()[0].1, State::Backup);
}

#[test]
fn use_vmac_creates_macvlan_and_sends_from_it() {
    let mut c = inst("VI_1", 255);
    c.use_vmac = Some(Vmac {
        name: "vrrp.51".into(),
        mac: [0, 0, 0x5e, 0, 1, 51],
    });
    let mut e = engine(config(vec![c]));
    e.handle(at("0"), Event::Startup);
    let acts = drain(&mut e);
    assert_eq!(
        acts[0],
        Action::CreateVmac {
            name: "vrrp.51".into(),
            parent: "eth0".into(),
            mac: [0, 0, 0x5e, 0, 1, 51]
        }
    );
    for a in &acts {
        match a {
            Action::SendAdvert(p) => {
                assert_eq!(p.ifname, "vrrp.51");
                assert_eq!(p.src_mac, Some([0, 0, 0x5e, 0, 1, 51]));
            }
            Action::AddAddress { ifname, .. } => assert_eq!(ifname, "vrrp.51"),
            Action::SendGratuitousArp { mac, ifname, .. } => {
                assert_eq!(*mac, [0, 0, 0x5e, 0, 1, 51]);
                assert_eq!(ifname, "vrrp.51");
            }
            _ => {}
        }
    }
    e.handle(at("1.5"), Event::Shutdown);
    assert!(drain(&mut e).contains(&Action::DeleteVmac {
        name: "vrrp.51".into()
    }));
}

#[test]
fn ipv6_advert_source_is_link_local_and_first_address_link_local() {
    let mut c = inst6("VI_6", 255);
    c.vips = vec![vip("2001:db8::100"), vip("fe80::100")];
    let mut e = engine(config(vec![c]));
    e.handle(at("0"), Event::Startup);
    let p = drain(&mut e)
        .into_iter()
        .find_map(|a| match a {
            Action::SendAdvert(p) => Some(p),
            _ => None,
        })
        .unwrap();
    assert_eq!(p.src.to_string(), "fe80::1");
    assert_eq!(p.dst.to_string(), "ff02::12");
    let (adv, _) = keepalived_rs::vrrp::packet::decode(&p.payload, p.src, p.dst).unwrap();
    assert_eq!(adv.addresses[0].to_string(), "fe80::100");
}

#[test]
fn preempt_delay_counts_from_first_lower_advert() {
    let mut c = inst("VI_1", 200);
    c.preempt_delay = Duration::from_secs(5);
    let mut e = engine(config(vec![c]));
    e.handle(at("20.5"), Event::Startup);
    for s in 21..=27u32 {
        let t = at(&s.to_string());
        if e.next_deadline().is_some_and(|d| d <= t) {
            break;
        }
        e.handle(
            t,
            util::advert_packet("eth0", "192.0.2.9".parse().unwrap(), 255, &advert(100, 100)),
        );
    }
    assert_eq!(e.next_deadline(), Some(at("28.21875")));
}

#[test]
fn fifo_lines_go_to_both_fifos_and_priority_changes_are_announced() {
    let mut c = inst("VI_1", 100);
    c.notify_priority_changes = true;
    c.track_files = vec![tref("tf", Some(1))];
    let mut cfg = config(vec![c]);
    cfg.track_files = vec![TrackFile {
        name: "tf".into(),
        span: Span::default(),
        file: "/run/tf".into(),
        weight: 1,
        reverse: false,
        init_file: None,
    }];
    cfg.global.notify_fifo = Some("/run/all.fifo".into());
    cfg.global.vrrp_notify_fifo = Some("/run/vrrp.fifo".into());
    let mut e = engine(cfg);
    e.handle(at("0"), Event::Startup);
    let lines: Vec<_> = drain(&mut e)
        .into_iter()
        .filter_map(|a| match a {
            Action::WriteFifo { path, line } => Some((path, line)),
            _ => None,
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            (
                "/run/all.fifo".to_string(),
                "INSTANCE \"VI_1\" BACKUP 100\n".to_string()
            ),
            (
                "/run/vrrp.fifo".to_string(),
                "INSTANCE \"VI_1\" BACKUP 100\n".to_string()
            ),
        ]
    );
    e.handle(
        at("1"),
        Event::TrackFileValue {
            name: "tf".into(),
            value: Some(-10),
        },
    );
    let acts = drain(&mut e);
    assert!(acts.contains(&Action::WriteFifo {
        path: "/run/vrrp.fifo".into(),
        line: "INSTANCE \"VI_1\" BACKUP_PRIORITY 90\n".into()
    }));
}

#[test]
fn vrrp_startup_delay_postpones_startup() {
    let mut cfg = config(vec![inst("VI_1", 100)]);
    cfg.global.vrrp_startup_delay = Some(Duration::from_secs(10));
    let mut e = engine(cfg);
    e.handle(at("0"), Event::Startup);
    assert!(drain(&mut e).is_empty());
    assert_eq!(e.instance_states()[0].1, State::Initialize);
    assert_eq!(e.next_deadline(), Some(at("10")));
    run(&mut e, "10");
    assert_eq!(e.instance_states()[0].1, State::Backup);
    assert_eq!(e.next_deadline(), Some(at("13.609375")));
}

#[test]
fn global_mcast_group_is_the_default_destination() {
    let mut cfg = config(vec![inst("VI_1", 255)]);
    cfg.global.vrrp_mcast_group4 = Ipv4Addr::new(224, 0, 0, 42);
    let mut e = engine(cfg);
    e.handle(at("0"), Event::Startup);
    let dst = drain(&mut e).into_iter().find_map(|a| match a {
        Action::SendAdvert(p) => Some(p.dst.to_string()),
        _ => None,
    });
    assert_eq!(dst.as_deref(), Some("224.0.0.42"));
}

#[test]
fn accept_mode_blocks_vips_of_non_owner_masters_without_accept() {
    let mut a = inst("VI_1", 100);
    a.accept = false;
    let mut b = inst("VI_2", 255);
    b.vrid = 52;
    b.accept = false;
    b.vips = vec![vip("192.0.2.200")];
    let mut e = engine(config(vec![a, b]));
    e.handle(at("0"), Event::Startup);
    let blocks = |acts: &[Action]| -> Vec<(String, String, bool)> {
        acts.iter()
            .filter_map(|a| match a {
                Action::BlockAddress { instance, addr, .. } => {
                    Some((instance.clone(), addr.to_string(), true))
                }
                Action::UnblockAddress { instance, addr, .. } => {
                    Some((instance.clone(), addr.to_string(), false))
                }
                _ => None,
            })
            .collect()
    };
    // VI_1 is Backup; VI_2 is the owner (always accepts): nothing blocked.
    assert!(blocks(&drain(&mut e)).is_empty());
    let acts: Vec<Action> = run(&mut e, "3.609375").into_iter().map(|x| x.1).collect();
    assert_eq!(
        blocks(&acts),
        vec![("VI_1".to_string(), "192.0.2.100".to_string(), true)]
    );
    // The address is added before it is blocked.
    let add = acts
        .iter()
        .position(|a| matches!(a, Action::AddAddress { .. }));
    let block = acts
        .iter()
        .position(|a| matches!(a, Action::BlockAddress { .. }));
    assert!(add < block, "{acts:?}");
    // Demoted by a higher priority: unblocked, then released.
    e.handle(
        at("4"),
        util::advert_packet("eth0", "192.0.2.9".parse().unwrap(), 255, &advert(200, 100)),
    );
    let acts = drain(&mut e);
    assert_eq!(
        blocks(&acts),
        vec![("VI_1".to_string(), "192.0.2.100".to_string(), false)]
    );
    let unblock = acts
        .iter()
        .position(|a| matches!(a, Action::UnblockAddress { .. }));
    let del = acts
        .iter()
        .position(|a| matches!(a, Action::DelAddress { .. }));
    assert!(unblock < del, "{acts:?}");
}

#[test]
fn stats_report_and_clear() {
    let mut e = engine(config(vec![inst("VI_1", 255)]));
    e.handle(at("0"), Event::Startup);
    run(&mut e, "2");
    let r = e.stats_report();
    assert!(
        r.starts_with("VRRP Instance: VI_1\n  Advertisements:\n    Received: 0\n    Sent: 3\n"),
        "{r}"
    );
    assert!(r.contains("  Became master: 1\n"));
    e.clear_stats();
    assert_eq!(e.instance_stats("VI_1").unwrap().adverts_sent, 0);
}

#[test]
fn release_vips_deletes_unowned_vips_when_entering_backup_or_fault() {
    let dels = |acts: &[Action]| -> Vec<String> {
        acts.iter()
            .filter_map(|a| match a {
                Action::DelAddress { addr, .. } => Some(addr.addr.to_string()),
                _ => None,
            })
            .collect()
    };
    // Without -X a Backup never touches addresses it did not add.
    let mut e = engine(config(vec![inst("VI_1", 100)]));
    e.handle(at("0"), Event::Startup);
    assert!(dels(&drain(&mut e)).is_empty());
    // With -X, entering Backup deletes the VIPs (left over by someone else).
    let mut e = engine(config(vec![inst("VI_1", 100)]));
    e.set_release_vips(true);
    e.handle(at("0"), Event::Startup);
    assert_eq!(dels(&drain(&mut e)), vec!["192.0.2.100"]);
    // A Master demoted releases its VIPs once, not twice.
    run(&mut e, "3.609375");
    drain(&mut e);
    e.handle(
        at("4"),
        util::advert_packet("eth0", "192.0.2.9".parse().unwrap(), 255, &advert(200, 100)),
    );
    assert_eq!(dels(&drain(&mut e)), vec!["192.0.2.100"]);
}
