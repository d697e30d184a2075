//! The engine driven from keepalived.conf text (parsed by `config::load_str`): the
//! keywords users write end up as the behaviour keepalived has.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

#[path = "engine_util.rs"]
mod engine_util;

use keepalived_rs::config::{self, LoadOptions};
use keepalived_rs::engine::Engine;
use keepalived_rs::event::{Action, Event, InterfaceState, ScriptOutcome};
use keepalived_rs::sched::Instant;
use keepalived_rs::vrrp::State;
use std::path::Path;
use std::time::Duration;

fn load(text: &str) -> config::model::Config {
    let loaded = config::load_str(text, Path::new("test.conf"), &LoadOptions::default());
    let errors: Vec<_> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == config::Severity::Error)
        .map(|d| d.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    loaded.config
}

fn secs(s: f64) -> Instant {
    Instant::from_nanos((s * 1e9).round() as u64)
}

fn iface(name: &str, ip: &str, up: bool) -> InterfaceState {
    InterfaceState {
        name: name.into(),
        index: 2,
        up,
        mac: [2, 0, 0, 0, 0, 1],
        ipv4: vec![ip.parse().unwrap()],
        ipv6: vec!["fe80::1".parse().unwrap()],
    }
}

fn drain(e: &mut Engine) -> Vec<Action> {
    std::iter::from_fn(|| e.poll_action()).collect()
}

fn run_until(e: &mut Engine, t: f64) -> Vec<(Instant, Action)> {
    let mut out = Vec::new();
    while let Some(d) = e.next_deadline().filter(|d| *d <= secs(t)) {
        e.handle(d, Event::Timers);
        out.extend(drain(e).into_iter().map(|a| (d, a)));
    }
    out
}

const ROUTER: &str = r#"
global_defs {
    router_id lb1
    vrrp_notify_fifo /run/keepalived.fifo
    vrrp_garp_master_repeat 2
    vrrp_garp_master_delay 0
}
vrrp_script chk_nginx {
    script "/usr/local/bin/check nginx"
    interval 2
    weight -20
    fall 2
    rise 1
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    version 3
    virtual_ipaddress {
        192.0.2.100/24
        192.0.2.101/24 dev eth1
    }
    track_script {
        chk_nginx
    }
    track_interface {
        eth1 weight -30
    }
    notify_master "/etc/keepalived/master.sh"
    notify "/etc/keepalived/notify.sh"
}
"#;

#[test]
fn keepalived_conf_router() {
    let cfg = load(ROUTER);
    let mut e = Engine::new(&cfg);
    e.set_log_prefix("lb1");
    e.handle(
        secs(0.0),
        Event::Interface(iface("eth0", "192.0.2.1", true)),
    );
    e.handle(
        secs(0.0),
        Event::Interface(iface("eth1", "198.51.100.1", true)),
    );
    e.handle(secs(0.0), Event::Startup);
    // `state MASTER` below 255 still waits: Backup at 0, Master at 3 + 106/256.
    assert_eq!(
        e.instance_states()[0],
        ("VI_1".to_string(), State::Backup, 150)
    );
    let first = drain(&mut e);
    assert!(first.contains(&Action::WriteFifo {
        path: "/run/keepalived.fifo".into(),
        line: "INSTANCE \"VI_1\" BACKUP 150\n".into()
    }));
    let acts = run_until(&mut e, 0.0);
    let run = acts
        .iter()
        .find_map(|(_, a)| match a {
            Action::RunScript {
                run: Some(r),
                command,
                timeout,
            } => {
                assert_eq!(command.argv, vec!["/usr/local/bin/check", "nginx"]);
                assert_eq!(*timeout, Some(Duration::from_secs(2)));
                Some(*r)
            }
            _ => None,
        })
        .expect("the track script runs at startup");
    e.handle(
        secs(0.1),
        Event::ScriptExited {
            run,
            outcome: ScriptOutcome::Exited(0),
        },
    );
    let acts = run_until(&mut e, 3.5);
    let master_at = acts.iter().find_map(|(t, a)| match a {
        Action::StateChanged {
            to: State::Master, ..
        } => Some(*t),
        _ => None,
    });
    assert_eq!(master_at, Some(Instant::from_nanos(3_414_062_500)));
    let adds: Vec<String> = acts
        .iter()
        .filter_map(|(_, a)| match a {
            Action::AddAddress { ifname, addr } => Some(format!("{} {}", ifname, addr.addr)),
            _ => None,
        })
        .collect();
    assert_eq!(adds, vec!["eth0 192.0.2.100", "eth1 192.0.2.101"]);
    let garps = acts
        .iter()
        .filter(|(_, a)| matches!(a, Action::SendGratuitousArp { .. }))
        .count();
    assert_eq!(garps, 2 * 2, "vrrp_garp_master_repeat 2, two VIPs");
    let notify: Vec<String> = acts
        .iter()
        .filter_map(|(_, a)| match a {
            Action::RunScript {
                run: None, command, ..
            } => Some(command.argv.join(" ")),
            _ => None,
        })
        .collect();
    assert_eq!(
        notify,
        vec![
            "/etc/keepalived/master.sh",
            "/etc/keepalived/notify.sh INSTANCE VI_1 MASTER 150"
        ]
    );
    // eth1 down: -30.
    e.handle(
        secs(4.5),
        Event::Interface(iface("eth1", "198.51.100.1", false)),
    );
    assert_eq!(e.instance_states()[0].2, 120);
    // The run started at 2 s is still out: it fails, then the one at 6 s fails too (fall 2):
    // -20 more.
    let pending = acts.iter().find_map(|(_, a)| match a {
        Action::RunScript { run: Some(r), .. } => Some(*r),
        _ => None,
    });
    e.handle(
        secs(5.0),
        Event::ScriptExited {
            run: pending.unwrap(),
            outcome: ScriptOutcome::Exited(1),
        },
    );
    assert_eq!(e.instance_states()[0].2, 120, "one failure is not enough");
    let acts = run_until(&mut e, 6.0);
    let run = acts.iter().find_map(|(_, a)| match a {
        Action::RunScript { run: Some(r), .. } => Some(*r),
        _ => None,
    });
    e.handle(
        secs(6.5),
        Event::ScriptExited {
            run: run.unwrap(),
            outcome: ScriptOutcome::TimedOut,
        },
    );
    assert_eq!(
        e.instance_states()[0],
        ("VI_1".to_string(), State::Master, 100)
    );
}

#[test]
fn keepalived_conf_unicast_and_nopreempt() {
    let cfg = load(
        r#"
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 52
    priority 200
    nopreempt
    unicast_src_ip 192.0.2.1
    unicast_peer {
        192.0.2.2
    }
    virtual_ipaddress {
        192.0.2.200
    }
}
"#,
    );
    let mut e = Engine::new(&cfg);
    e.handle(
        secs(0.0),
        Event::Interface(iface("eth0", "192.0.2.1", true)),
    );
    e.handle(secs(0.0), Event::Startup);
    drain(&mut e);
    // v2 by default: a lower-priority peer's adverts are accepted (nopreempt).
    let advert = keepalived_rs::vrrp::packet::Advert {
        version: keepalived_rs::config::model::VrrpVersion::V2,
        vrid: 52,
        priority: 100,
        interval_cs: 100,
        addresses: vec!["192.0.2.200".parse().unwrap()],
        auth: keepalived_rs::vrrp::packet::V2Auth::None,
    };
    for s in 1..=10 {
        e.handle(
            secs(s as f64),
            engine_util::advert_packet("eth0", "192.0.2.2".parse().unwrap(), 64, &advert),
        );
    }
    assert_eq!(e.instance_states()[0].1, State::Backup);
    let acts = run_until(&mut e, 14.0);
    let sent: Vec<String> = acts
        .iter()
        .filter_map(|(_, a)| match a {
            Action::SendAdvert(p) => Some(format!("{} -> {}", p.src, p.dst)),
            _ => None,
        })
        .collect();
    assert_eq!(
        sent.first().map(String::as_str),
        Some("192.0.2.1 -> 192.0.2.2")
    );
    assert_eq!(e.instance_states()[0].1, State::Master);
}
