//! The IPVS runtime driven through the Engine with a fake world: `IpvsRead` answered with
//! a chosen table (or an error), every `Action::Ipvs` applied to a model kernel table
//! with the kernel's rules (`ipvs::diff::apply`; a refusal comes back as
//! `Event::IpvsFailed`), TCP_CHECK connections answered by a port table, MISC_CHECK
//! exits by a path table, VRRP adverts injected. Asserts the exact operation sequences.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

#[path = "engine_util.rs"]
mod util;

use keepalived_rs::engine::Engine;
use keepalived_rs::event::{Action, ConnError, ConnEvent, Event, ScriptOutcome};
use keepalived_rs::ipvs::diff::{apply, Op};
use keepalived_rs::ipvs::model::{
    DestAttrs, DestKey, Forward, Proto, Service, ServiceAttrs, ServiceKey, SyncDaemon, Table,
    SYNC_BACKUP, SYNC_MASTER,
};
use keepalived_rs::sched::Instant;
use keepalived_rs::vrrp::State;
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};

fn load(text: &str) -> keepalived_rs::config::model::Config {
    util::load_text(text)
}

fn install_logger() {
    util::logs::install();
}

fn logged(name: &str) -> Vec<String> {
    util::logs::of(name)
}

fn t(s: f64) -> Instant {
    util::secs_to_instant(s)
}

struct Rig {
    engine: Engine,
    now: Instant,
    pending: Vec<(Instant, Event)>,
    /// TCP_CHECK ports that accept.
    up: BTreeSet<u16>,
    /// MISC_CHECK path -> exit code.
    misc: BTreeMap<String, i32>,
    /// The answer to `IpvsRead`.
    read: Result<Table, String>,
    /// The model kernel.
    kernel: Table,
    /// Every action, with its instant.
    log: Vec<(Instant, Action)>,
}

impl Rig {
    /// `name` prefixes the log lines; `up`: ports accepting at start.
    fn new(text: &str, name: &str, up: &[u16], read: Result<Table, String>) -> Rig {
        Rig::with(text, name, up, read, |_| {})
    }

    fn with(
        text: &str,
        name: &str,
        up: &[u16],
        read: Result<Table, String>,
        setup: impl FnOnce(&mut Engine),
    ) -> Rig {
        install_logger();
        let mut engine = Engine::new(&load(text));
        engine.set_seed(1);
        engine.set_log_prefix(name);
        setup(&mut engine);
        let kernel = read.clone().unwrap_or_default();
        let mut r = Rig {
            engine,
            now: t(0.0),
            pending: Vec::new(),
            up: up.iter().copied().collect(),
            misc: BTreeMap::new(),
            read,
            kernel,
            log: Vec::new(),
        };
        r.handle(Event::Interface(util::eth0(
            Ipv4Addr::new(192, 0, 2, 1),
            "fe80::1".parse().unwrap(),
            true,
        )));
        r.handle(Event::Startup);
        r
    }

    fn drain(&mut self, at: Instant) {
        while let Some(a) = self.engine.poll_action() {
            self.react(at, &a);
            self.log.push((at, a));
        }
    }

    fn react(&mut self, at: Instant, a: &Action) {
        match a {
            Action::Connect { conn, spec } => {
                let event = if self.up.contains(&spec.port) {
                    ConnEvent::Connected
                } else {
                    ConnEvent::Failed(ConnError::Refused)
                };
                self.pending.push((at, Event::Conn { conn: *conn, event }));
            }
            Action::RunScript {
                run: Some(run),
                command,
                ..
            } => {
                let code = self.misc.get(&command.argv[0]).copied().unwrap_or(0);
                self.pending.push((
                    at,
                    Event::ScriptExited {
                        run: *run,
                        outcome: ScriptOutcome::Exited(code),
                    },
                ));
            }
            Action::IpvsRead => self.pending.push((at, Event::IpvsTable(self.read.clone()))),
            Action::Ipvs(ops) => {
                for op in ops {
                    if let Err(e) = apply(&mut self.kernel, op) {
                        self.pending.push((
                            at,
                            Event::IpvsFailed {
                                op: op.clone(),
                                error: e.to_string(),
                            },
                        ));
                    }
                }
            }
            _ => {}
        }
    }

    fn run_until(&mut self, until: f64) {
        let until = t(until);
        loop {
            let ev = self.pending.iter().map(|(t, _)| *t).min();
            let dl = self.engine.next_deadline();
            let next = match (ev, dl) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => match a.or(b) {
                    Some(x) => x,
                    None => break,
                },
            };
            if next > until {
                break;
            }
            let (evs, rest): (Vec<_>, Vec<_>) =
                self.pending.drain(..).partition(|(at, _)| *at == next);
            self.pending = rest;
            self.now = next;
            self.engine.step(next, evs.into_iter().map(|(_, e)| e));
            self.drain(next);
        }
        self.now = until;
    }

    /// Feeds `e` now, and what it causes at this instant.
    fn handle(&mut self, e: Event) {
        let now = self.now;
        self.engine.handle(now, e);
        self.drain(now);
        let now_f = now.as_nanos() as f64 / 1e9;
        self.run_until(now_f);
    }

    /// The IPVS operations sent since `from` (seconds), in order.
    fn ops_since(&self, from: f64) -> Vec<Op> {
        self.log
            .iter()
            .filter(|(at, _)| *at >= t(from))
            .filter_map(|(_, a)| match a {
                Action::Ipvs(o) => Some(o.clone()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// Every IPVS operation sent.
    fn ops(&self) -> Vec<Op> {
        self.ops_since(0.0)
    }

    fn scripts_since(&self, from: f64) -> Vec<String> {
        self.log
            .iter()
            .filter(|(at, _)| *at >= t(from))
            .filter_map(|(_, a)| match a {
                Action::RunScript {
                    run: None, command, ..
                } => Some(command.argv.join(" ")),
                _ => None,
            })
            .collect()
    }

    fn daemons_since(&self, from: f64) -> Vec<(bool, u32)> {
        self.log
            .iter()
            .filter(|(at, _)| *at >= t(from))
            .filter_map(|(_, a)| match a {
                Action::IpvsDaemon { start, daemon } => Some((*start, daemon.state)),
                _ => None,
            })
            .collect()
    }

    fn state(&self) -> State {
        self.engine.instance_states()[0].1
    }
}

fn key(a: &str, port: u16) -> ServiceKey {
    ServiceKey::Addr {
        proto: Proto::Tcp,
        addr: a.parse().unwrap(),
        port,
    }
}

fn dk(a: &str, port: u16) -> DestKey {
    DestKey {
        addr: a.parse().unwrap(),
        port,
    }
}

fn dest(forward: Forward, weight: u32) -> DestAttrs {
    DestAttrs {
        forward,
        weight,
        u_threshold: 0,
        l_threshold: 0,
    }
}

fn dr(weight: u32) -> DestAttrs {
    dest(Forward::Direct, weight)
}

fn attrs(sched: &str) -> ServiceAttrs {
    ServiceAttrs {
        sched: sched.into(),
        flags: 0,
        timeout: 0,
        netmask: u32::MAX,
        pe_name: None,
    }
}

/// One virtual server 10.0.0.10:80 (DR, wrr) with real servers .2 (weight 3, port 8002)
/// and .3 (weight 1, port 8003), TCP_CHECK every second, decided at the first failure.
/// `{vs}` and `{rs3}` are extra lines for the virtual server and the second real server.
fn conf(vs: &str, rs3: &str) -> String {
    format!(
        "virtual_server 10.0.0.10 80 {{\n lb_algo wrr\n lb_kind DR\n protocol TCP\n delay_loop 1\n{vs}\n\
         real_server 192.168.1.2 80 {{\n  weight 3\n  TCP_CHECK {{\n   connect_port 8002\n   retry 0\n   warmup 0\n  }}\n }}\n\
         real_server 192.168.1.3 80 {{\n  weight 1\n{rs3}\n  TCP_CHECK {{\n   connect_port 8003\n   retry 0\n   warmup 0\n  }}\n }}\n}}\n"
    )
}

fn vs() -> ServiceKey {
    key("10.0.0.10", 80)
}

#[test]
fn start_up_adopts_owned_services_and_leaves_foreign_ones() {
    let foreign = key("10.9.9.9", 443);
    let found: Table = [
        (
            vs(),
            Service {
                attrs: attrs("rr"),
                dests: [
                    (dk("192.168.1.2", 80), dr(3)),
                    (dk("192.168.1.7", 80), dr(1)),
                ]
                .into(),
            },
        ),
        (
            foreign,
            Service {
                attrs: attrs("wlc"),
                dests: [(dk("172.16.0.1", 443), dr(1))].into(),
            },
        ),
    ]
    .into();
    let r = Rig::new(&conf("", ""), "adopt", &[8002, 8003], Ok(found.clone()));
    // IpvsRead first, no operation before its answer; then the adoption diff.
    assert!(matches!(
        r.log
            .iter()
            .find(|(_, a)| matches!(a, Action::IpvsRead | Action::Ipvs(_))),
        Some((_, Action::IpvsRead))
    ));
    assert_eq!(
        r.ops(),
        vec![
            Op::DelDest(vs(), dk("192.168.1.7", 80)),
            Op::EditService(vs(), attrs("wrr")),
            Op::AddDest(vs(), dk("192.168.1.3", 80), dr(1)),
        ]
    );
    assert_eq!(r.kernel[&foreign], found[&foreign]);
    assert_eq!(r.kernel[&vs()].dests.len(), 2);
    let st = r.engine.snapshot(r.now).ipvs;
    assert_eq!(st.available, Some(Ok(())));
    assert_eq!(st.table.len(), 1, "the foreign service is not shown");
}

#[test]
fn checker_down_removes_the_destination_and_up_adds_it_back() {
    let mut r = Rig::new(&conf("", ""), "down", &[8002, 8003], Ok(Table::new()));
    assert_eq!(
        r.ops(),
        vec![
            Op::AddService(vs(), attrs("wrr")),
            Op::AddDest(vs(), dk("192.168.1.2", 80), dr(3)),
            Op::AddDest(vs(), dk("192.168.1.3", 80), dr(1)),
        ]
    );
    r.run_until(1.5);
    assert_eq!(r.ops().len(), 3, "healthy checks change nothing");
    r.up.remove(&8003);
    r.run_until(2.5);
    assert_eq!(
        r.ops_since(1.5),
        vec![Op::DelDest(vs(), dk("192.168.1.3", 80))]
    );
    r.up.insert(8003);
    r.run_until(3.5);
    assert_eq!(
        r.ops_since(2.5),
        vec![Op::AddDest(vs(), dk("192.168.1.3", 80), dr(1))]
    );
}

#[test]
fn inhibit_on_failure_sets_weight_zero() {
    let mut r = Rig::new(
        &conf("", "  inhibit_on_failure"),
        "inhibit",
        &[8002, 8003],
        Ok(Table::new()),
    );
    r.up.remove(&8003);
    r.run_until(1.5);
    assert_eq!(
        r.ops_since(1.0),
        vec![Op::EditDest(vs(), dk("192.168.1.3", 80), dr(0))]
    );
    r.up.insert(8003);
    r.run_until(2.5);
    assert_eq!(
        r.ops_since(1.5),
        vec![Op::EditDest(vs(), dk("192.168.1.3", 80), dr(1))]
    );
}

#[test]
fn quorum_lost_brings_the_sorry_server_and_runs_quorum_down_with_hysteresis() {
    let extra = " quorum 3\n hysteresis 1\n sorry_server 10.0.0.99 80\n \
                 quorum_up \"/bin/true up\"\n quorum_down \"/bin/true down\"";
    let mut r = Rig::new(&conf(extra, ""), "quorum", &[8002, 8003], Ok(Table::new()));
    // 3 + 1 up: quorum (start-up from the up side).
    assert_eq!(r.ops().len(), 3);
    // .3 down: 3 + 1 >= 3, kept by the hysteresis.
    r.up.remove(&8003);
    r.run_until(1.5);
    assert_eq!(
        r.ops_since(1.0),
        vec![Op::DelDest(vs(), dk("192.168.1.3", 80))]
    );
    assert!(r.scripts_since(0.0).is_empty());
    // .2 down too: 0 + 1 < 3, lost: the sorry server in, quorum_down run.
    r.up.remove(&8002);
    r.run_until(2.5);
    assert_eq!(
        r.ops_since(1.5),
        vec![
            Op::DelDest(vs(), dk("192.168.1.2", 80)),
            Op::AddDest(vs(), dk("10.0.0.99", 80), dr(1)),
        ]
    );
    assert_eq!(r.scripts_since(1.5), vec!["/bin/true down"]);
    let lines = logged("quorum");
    assert!(
        lines.contains(&"Lost quorum 3-1=2 > 0 for VS [10.0.0.10]:tcp:80".to_string()),
        "{lines:?}"
    );
    assert!(lines
        .contains(&"Adding sorry server [10.0.0.99]:tcp:80 to VS [10.0.0.10]:tcp:80".to_string()));
    // .2 back (weight 3): 3 < 3 + 1, still lost: the sorry server stays.
    r.up.insert(8002);
    r.run_until(3.5);
    assert!(r.ops_since(2.5).is_empty());
    // .3 back: 4 >= 4, gained: the live servers back, the sorry server out, quorum_up.
    r.up.insert(8003);
    r.run_until(4.5);
    assert_eq!(
        r.ops_since(3.5),
        vec![
            Op::DelDest(vs(), dk("10.0.0.99", 80)),
            Op::AddDest(vs(), dk("192.168.1.2", 80), dr(3)),
            Op::AddDest(vs(), dk("192.168.1.3", 80), dr(1)),
        ]
    );
    assert_eq!(r.scripts_since(3.5), vec!["/bin/true up"]);
    assert!(logged("quorum")
        .contains(&"Gained quorum 3+1=4 <= 4 for VS [10.0.0.10]:tcp:80".to_string()));
}

#[test]
fn alpha_starts_with_no_destination_until_the_checks_pass() {
    let mut r = Rig::new(
        &conf(" alpha", ""),
        "alpha",
        &[8002, 8003],
        Ok(Table::new()),
    );
    assert_eq!(r.ops(), vec![Op::AddService(vs(), attrs("wrr"))]);
    r.run_until(1.5);
    assert_eq!(
        r.ops_since(1.0),
        vec![
            Op::AddDest(vs(), dk("192.168.1.2", 80), dr(3)),
            Op::AddDest(vs(), dk("192.168.1.3", 80), dr(1)),
        ]
    );
}

#[test]
fn alpha_with_a_sorry_server_starts_with_quorum_down() {
    let extra = " alpha\n quorum 2\n sorry_server 10.0.0.99 80\n quorum_down \"/bin/true down\"";
    let mut r = Rig::new(&conf(extra, ""), "alphaq", &[8002, 8003], Ok(Table::new()));
    assert_eq!(
        r.ops(),
        vec![
            Op::AddService(vs(), attrs("wrr")),
            Op::AddDest(vs(), dk("10.0.0.99", 80), dr(1)),
        ]
    );
    assert_eq!(r.scripts_since(0.0), vec!["/bin/true down"]);
    assert!(logged("alphaq")
        .contains(&"Starting with quorum down 2-0=2 > 0 for VS [10.0.0.10]:tcp:80".to_string()));
    r.run_until(1.5);
    let ops = r.ops_since(1.0);
    assert_eq!(ops[0], Op::DelDest(vs(), dk("10.0.0.99", 80)));
    assert_eq!(ops.len(), 3);
}

#[test]
fn misc_dynamic_weight_change_is_one_edit() {
    let text = "virtual_server 10.0.0.10 80 {\n lb_algo wrr\n lb_kind DR\n protocol TCP\n delay_loop 1\n\
        real_server 192.168.1.2 80 {\n  weight 1\n  MISC_CHECK {\n   misc_path /bin/w\n   misc_dynamic\n   warmup 0\n  }\n }\n}\n";
    let mut r = Rig::new(text, "dyn", &[], Ok(Table::new()));
    r.misc.insert("/bin/w".into(), 7); // misc_dynamic: weight 7 - 2
    r.run_until(1.5);
    assert_eq!(
        r.ops(),
        vec![
            Op::AddService(vs(), attrs("wrr")),
            Op::AddDest(vs(), dk("192.168.1.2", 80), dr(1)),
            Op::EditDest(vs(), dk("192.168.1.2", 80), dr(5)),
        ]
    );
}

/// An instance (VRID 51, VIP 192.0.2.100, advert 1 s) plus `rest`.
fn vrrp(rest: &str) -> String {
    format!(
        "global_defs {{\n vrrp_version 3\n}}\nvrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 51\n \
         priority 100\n advert_int 1\n virtual_ipaddress {{\n  192.0.2.100/24\n }}\n}}\n{rest}"
    )
}

fn higher_advert() -> Event {
    util::advert_packet(
        "eth0",
        "192.0.2.2".parse::<IpAddr>().unwrap(),
        255,
        &util::advert(200, 100),
    )
}

#[test]
fn ha_suspend_service_exists_only_while_master() {
    let text = vrrp(&conf(" ha_suspend", "").replace("10.0.0.10", "192.0.2.100"));
    let k = key("192.0.2.100", 80);
    let mut r = Rig::new(&text, "ha", &[8002, 8003], Ok(Table::new()));
    assert!(r.ops().is_empty(), "BACKUP: no service");
    r.run_until(5.0);
    assert_eq!(r.state(), State::Master);
    assert_eq!(
        r.ops(),
        vec![
            Op::AddService(k, attrs("wrr")),
            Op::AddDest(k, dk("192.168.1.2", 80), dr(3)),
            Op::AddDest(k, dk("192.168.1.3", 80), dr(1)),
        ]
    );
    r.handle(higher_advert());
    assert_eq!(r.state(), State::Backup);
    assert_eq!(r.ops_since(5.0), vec![Op::DelService(k)]);
    assert!(r.kernel.is_empty());
    let lines: Vec<String> = logged("ha")
        .into_iter()
        .filter(|l| l.starts_with("ha_suspend"))
        .collect();
    assert_eq!(
        lines,
        [
            "ha_suspend: VS [192.0.2.100]:tcp:80 address not set, service suspended",
            "ha_suspend: VS [192.0.2.100]:tcp:80 address set, service installed",
            "ha_suspend: VS [192.0.2.100]:tcp:80 address not set, service removed",
        ]
    );
    // The checkers ran only while MASTER (keepalived suspends them).
    let connects: Vec<Instant> = r
        .log
        .iter()
        .filter(|(_, a)| matches!(a, Action::Connect { .. }))
        .map(|(at, _)| *at)
        .collect();
    let master_at = r
        .log
        .iter()
        .find(|(_, a)| {
            matches!(
                a,
                Action::StateChanged {
                    to: State::Master,
                    ..
                }
            )
        })
        .map(|(at, _)| *at)
        .unwrap();
    assert!(!connects.is_empty());
    assert!(connects.iter().all(|at| *at > master_at && *at <= t(5.0)));
    // (Until 8 s: without the peer's adverts it is MASTER again at 8.6 s.)
    r.run_until(8.0);
    assert!(!r
        .log
        .iter()
        .any(|(at, a)| *at > t(5.0) && matches!(a, Action::Connect { .. })));
    let lines: Vec<String> = logged("ha")
        .into_iter()
        .filter(|l| l.contains("healthchecker for service [192.168.1.2]"))
        .collect();
    assert_eq!(
        lines,
        [
            "Suspending healthchecker for service [192.168.1.2]:tcp:80 for VS [192.0.2.100]:tcp:80",
            "Activating healthchecker for service [192.168.1.2]:tcp:80 for VS [192.0.2.100]:tcp:80",
            "Suspending healthchecker for service [192.168.1.2]:tcp:80 for VS [192.0.2.100]:tcp:80",
        ]
    );
}

#[test]
fn sync_daemon_follows_the_instance() {
    let text = vrrp("global_defs {\n lvs_sync_daemon eth0 VI_1 maxlen 1400\n}\n");
    let mut r = Rig::new(&text, "syncd", &[], Ok(Table::new()));
    // Start-up: IpvsRead (a sync daemon alone asks for it), then the backup daemon.
    assert!(r.log.iter().any(|(_, a)| *a == Action::IpvsRead));
    assert_eq!(r.daemons_since(0.0), vec![(true, SYNC_BACKUP)]);
    let started = r.log.iter().find_map(|(_, a)| match a {
        Action::IpvsDaemon { daemon, .. } => Some(daemon.clone()),
        _ => None,
    });
    assert_eq!(
        started,
        Some(SyncDaemon {
            state: SYNC_BACKUP,
            ifname: "eth0".into(),
            syncid: 51,
            maxlen: Some(1400),
            group: None,
            port: None,
            ttl: None,
        })
    );
    r.run_until(5.0);
    assert_eq!(r.state(), State::Master);
    assert_eq!(
        r.daemons_since(0.1),
        vec![(false, SYNC_BACKUP), (true, SYNC_MASTER)]
    );
    r.handle(higher_advert());
    assert_eq!(
        r.daemons_since(5.0),
        vec![(false, SYNC_MASTER), (true, SYNC_BACKUP)]
    );
    r.run_until(6.0);
    r.handle(Event::Shutdown);
    assert_eq!(r.daemons_since(6.0), vec![(false, SYNC_BACKUP)]);
    assert!(r.ops().is_empty());
}

#[test]
fn deprecated_instance_keyword_runs_the_sync_daemon_too() {
    let text = vrrp("").replace(
        " advert_int 1\n",
        " advert_int 1\n lvs_sync_daemon_interface eth0\n",
    );
    let r = Rig::new(&text, "syncd-old", &[], Ok(Table::new()));
    assert_eq!(r.daemons_since(0.0), vec![(true, SYNC_BACKUP)]);
}

fn stopped(extra_global: &str, vs_extra: &str, keep: bool) -> (Vec<Op>, Vec<String>, Table) {
    let text = format!("{extra_global}{}", conf(vs_extra, ""));
    let foreign = key("10.9.9.9", 443);
    let found: Table = [(
        foreign,
        Service {
            attrs: attrs("wlc"),
            dests: Default::default(),
        },
    )]
    .into();
    let mut r = Rig::with(&text, "stop", &[8002, 8003], Ok(found), |e| {
        e.set_dont_release_ipvs(keep)
    });
    r.run_until(1.5);
    r.handle(Event::Shutdown);
    (r.ops_since(1.5), r.scripts_since(1.5), r.kernel)
}

#[test]
fn shutdown_removes_each_destination_then_the_service() {
    let (ops, scripts, kernel) = stopped("", "", false);
    assert_eq!(
        ops,
        vec![
            Op::DelDest(vs(), dk("192.168.1.2", 80)),
            Op::DelDest(vs(), dk("192.168.1.3", 80)),
            Op::DelService(vs()),
        ]
    );
    assert!(scripts.is_empty());
    assert_eq!(kernel.len(), 1, "the foreign service stays");
}

#[test]
fn shutdown_with_omega_runs_quorum_down_and_removes_the_same() {
    let (ops, scripts, _) = stopped("", " omega\n quorum_down \"/bin/true down\"", false);
    assert_eq!(ops.len(), 3);
    assert_eq!(ops[2], Op::DelService(vs()));
    assert_eq!(scripts, vec!["/bin/true down"]);
}

#[test]
fn shutdown_with_dont_release_ipvs_keeps_everything() {
    let (ops, _, kernel) = stopped("", " omega", true);
    assert!(ops.is_empty());
    assert_eq!(kernel.len(), 2);
    assert_eq!(kernel[&vs()].dests.len(), 2);
}

#[test]
fn lvs_flush_on_stop() {
    let (ops, _, _) = stopped("global_defs {\n lvs_flush_on_stop VS\n}\n", "", false);
    assert_eq!(ops, vec![Op::DelService(vs())]);
    let (ops, _, kernel) = stopped("global_defs {\n lvs_flush_on_stop\n}\n", "", false);
    assert_eq!(
        ops,
        vec![Op::DelService(vs()), Op::DelService(key("10.9.9.9", 443))]
    );
    assert!(kernel.is_empty());
}

#[test]
fn reload_adding_one_real_server_touches_nothing_else() {
    let text = conf("", "");
    let mut r = Rig::new(&text, "reload", &[8002, 8003, 8004], Ok(Table::new()));
    r.up.remove(&8003);
    r.run_until(1.5);
    assert_eq!(
        r.ops_since(1.0),
        vec![Op::DelDest(vs(), dk("192.168.1.3", 80))]
    );
    let more = text.replace(
        "real_server 192.168.1.3 80 {",
        "real_server 192.168.1.4 80 {\n  weight 2\n  TCP_CHECK {\n   connect_port 8004\n   retry 0\n   warmup 0\n  }\n }\nreal_server 192.168.1.3 80 {",
    );
    assert!(more.contains("192.168.1.4"));
    r.handle(Event::Reload(Box::new(load(&more))));
    // The new server starts up (no alpha) and is added; the failed one stays out, the
    // healthy one and the service are not touched.
    assert_eq!(
        r.ops_since(1.5),
        vec![Op::AddDest(vs(), dk("192.168.1.4", 80), dr(2))]
    );
    r.run_until(3.5);
    assert_eq!(
        r.ops_since(1.6).len(),
        0,
        "the failed server's state survived"
    );
    // A changed attribute is one edit; removing the virtual server deletes it.
    r.handle(Event::Reload(Box::new(load(&more.replace("wrr", "rr")))));
    assert_eq!(r.ops_since(3.5), vec![Op::EditService(vs(), attrs("rr"))]);
    r.handle(Event::Reload(Box::new(load(""))));
    assert_eq!(
        r.ops_since(3.5),
        vec![Op::EditService(vs(), attrs("rr")), Op::DelService(vs())]
    );
    assert!(logged("reload").contains(&"Removing Virtual Server [10.0.0.10]:tcp:80".to_string()));
}

#[test]
fn ipvs_unavailable_is_said_once_and_nothing_is_sent() {
    let text = vrrp(&conf("", ""));
    let mut r = Rig::new(&text, "noipvs", &[8002], Err("no IPVS family".into()));
    r.run_until(6.0);
    r.handle(Event::Shutdown);
    assert!(r.ops().is_empty());
    assert!(r.daemons_since(0.0).is_empty());
    let lines: Vec<String> = logged("noipvs")
        .into_iter()
        .filter(|l| l.contains("IPVS is unavailable"))
        .collect();
    assert_eq!(
        lines,
        vec![
            "IPVS is unavailable on this host (no IPVS family): virtual servers are checked \
              but not installed; VRRP and the checkers go on"
                .to_string()
        ]
    );
    // VRRP and the checkers went on.
    assert!(r.log.iter().any(|(_, a)| matches!(
        a,
        Action::StateChanged {
            to: State::Master,
            ..
        }
    )));
    assert!(r
        .log
        .iter()
        .any(|(_, a)| matches!(a, Action::RealServerChanged { up: false, .. })));
    assert_eq!(
        r.engine.snapshot(r.now).ipvs.available,
        Some(Err("no IPVS family".into()))
    );
}

#[test]
fn a_refused_operation_is_logged_where_and_retried_at_the_next_change() {
    let mut r = Rig::new(&conf("", ""), "refused", &[8002, 8003], Ok(Table::new()));
    // The world reports that the start-up's AddDest of .3 was refused.
    r.handle(Event::IpvsFailed {
        op: Op::AddDest(vs(), dk("192.168.1.3", 80), dr(1)),
        error: "ENOMEM".into(),
    });
    assert!(logged("refused").iter().any(|l| l
        == "IPVS: adding real server [192.168.1.3]:tcp:80 of VS [10.0.0.10]:tcp:80 refused: \
            ENOMEM; tried again at its next change"));
    assert_eq!(r.ops().len(), 3, "no immediate retry");
    // The next change of this virtual server adds it again (the model kernel has it:
    // refused in turn, which is what a real kernel would say too).
    r.up.remove(&8002);
    r.run_until(1.5);
    assert_eq!(
        r.ops_since(1.0),
        vec![
            Op::DelDest(vs(), dk("192.168.1.2", 80)),
            Op::AddDest(vs(), dk("192.168.1.3", 80), dr(1)),
        ]
    );
}

#[test]
fn ha_suspend_on_an_address_no_instance_holds_follows_the_interfaces() {
    let mut r = Rig::new(
        &conf(" ha_suspend", ""),
        "ha-host",
        &[8002, 8003],
        Ok(Table::new()),
    );
    assert!(r.ops().is_empty(), "10.0.0.10 is on no interface");
    let mut eth0 = util::eth0(
        Ipv4Addr::new(192, 0, 2, 1),
        "fe80::1".parse().unwrap(),
        true,
    );
    eth0.ipv4.push(Ipv4Addr::new(10, 0, 0, 10));
    r.handle(Event::Interface(eth0.clone()));
    assert_eq!(
        r.ops(),
        vec![
            Op::AddService(vs(), attrs("wrr")),
            Op::AddDest(vs(), dk("192.168.1.2", 80), dr(3)),
            Op::AddDest(vs(), dk("192.168.1.3", 80), dr(1)),
        ]
    );
    // The same addresses again: nothing.
    r.handle(Event::Interface(eth0.clone()));
    assert_eq!(r.ops().len(), 3);
    eth0.ipv4.pop();
    r.handle(Event::Interface(eth0));
    assert_eq!(r.ops()[3..], [Op::DelService(vs())]);
}

#[test]
fn ha_suspend_on_an_address_set_before_start_up_installs_at_once() {
    // The rig reports eth0 (192.0.2.1) before Startup.
    let text = conf(" ha_suspend", "").replace("10.0.0.10", "192.0.2.1");
    let r = Rig::new(&text, "ha-early", &[8002, 8003], Ok(Table::new()));
    assert_eq!(
        r.ops()[0],
        Op::AddService(key("192.0.2.1", 80), attrs("wrr"))
    );
    assert_eq!(r.ops().len(), 3);
}

#[test]
fn reload_keeps_a_lost_quorum_and_runs_no_script() {
    let extra = " quorum 3\n sorry_server 10.0.0.99 80\n quorum_up \"/bin/true up\"\n \
                 quorum_down \"/bin/true down\"";
    let text = conf(extra, "");
    let mut r = Rig::new(&text, "reload-q", &[8003], Ok(Table::new()));
    r.run_until(1.5);
    assert_eq!(r.scripts_since(0.0), vec!["/bin/true down"]);
    let before = r.kernel.clone();
    assert!(before[&vs()].dests.contains_key(&dk("10.0.0.99", 80)));
    // A reload that changes a script of the virtual server only (a changed checker
    // would start afresh, up).
    r.handle(Event::Reload(Box::new(load(
        &text.replace("/bin/true up", "/bin/true UP"),
    ))));
    assert_eq!(r.ops_since(1.5), vec![]);
    assert_eq!(r.scripts_since(1.5), Vec::<String>::new());
    assert_eq!(r.kernel, before);
    assert_eq!(
        r.engine.snapshot(r.now).ipvs.quorum,
        vec![("[10.0.0.10]:tcp:80".to_string(), false)]
    );
}

#[test]
fn a_group_is_one_service_per_address_and_fwmark() {
    let text = "virtual_server_group G {\n 10.0.0.1-2 80\n fwmark 7\n}\n\
        virtual_server group G {\n lb_algo rr\n lb_kind DR\n protocol TCP\n\
        real_server 192.168.1.2 80 {\n }\n}\n";
    let r = Rig::new(text, "group", &[], Ok(Table::new()));
    let fw = ServiceKey::Fwmark {
        family: keepalived_rs::ipvs::model::Af::Inet,
        mark: 7,
    };
    let keys: Vec<ServiceKey> = r.kernel.keys().copied().collect();
    assert_eq!(keys, vec![key("10.0.0.1", 80), key("10.0.0.2", 80), fw]);
    assert!(r.kernel.values().all(|s| s.dests.len() == 1));
}

#[test]
fn sync_daemon_without_an_instance_runs_both_until_stop() {
    let text = "global_defs {\n lvs_sync_daemon eth0 id 9 port 8850 ttl 2 group 224.0.0.90\n}\n";
    let mut r = Rig::new(text, "syncd-both", &[], Ok(Table::new()));
    assert_eq!(
        r.daemons_since(0.0),
        vec![(true, SYNC_MASTER), (true, SYNC_BACKUP)]
    );
    let d = r
        .log
        .iter()
        .find_map(|(_, a)| match a {
            Action::IpvsDaemon { daemon, .. } => Some(daemon.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        (d.syncid, d.port, d.ttl, d.group),
        (9, Some(8850), Some(2), Some("224.0.0.90".parse().unwrap()))
    );
    r.run_until(1.0);
    r.handle(Event::Shutdown);
    assert_eq!(
        r.daemons_since(1.0),
        vec![(false, SYNC_MASTER), (false, SYNC_BACKUP)]
    );
}

#[test]
fn lvs_flush_deletes_what_was_found_then_installs() {
    let foreign = key("10.9.9.9", 443);
    let found: Table = [
        (
            foreign,
            Service {
                attrs: attrs("wlc"),
                dests: Default::default(),
            },
        ),
        (
            vs(),
            Service {
                attrs: attrs("wrr"),
                dests: [(dk("192.168.1.2", 80), dr(3))].into(),
            },
        ),
    ]
    .into();
    let text = format!("global_defs {{\n lvs_flush\n}}\n{}", conf("", ""));
    let r = Rig::new(&text, "flush", &[8002, 8003], Ok(found));
    assert_eq!(
        r.ops(),
        vec![
            Op::DelService(vs()),
            Op::DelService(foreign),
            Op::AddService(vs(), attrs("wrr")),
            Op::AddDest(vs(), dk("192.168.1.2", 80), dr(3)),
            Op::AddDest(vs(), dk("192.168.1.3", 80), dr(1)),
        ]
    );
    assert_eq!(r.kernel.len(), 1);
}

#[test]
fn ipv6_service_with_nat_destinations() {
    let text = "virtual_server 2001:db8::10 443 {\n lb_algo lc\n lb_kind NAT\n protocol TCP\n\
        real_server 2001:db8:1::2 8443 {\n  weight 2\n }\n}\n";
    let r = Rig::new(text, "v6", &[], Ok(Table::new()));
    let k = key("2001:db8::10", 443);
    let mut a = attrs("lc");
    a.netmask = 128;
    assert_eq!(
        r.ops(),
        vec![
            Op::AddService(k, a),
            Op::AddDest(k, dk("2001:db8:1::2", 8443), dest(Forward::Masq, 2)),
        ]
    );
}

/// One `Action::IpvsTimeouts`: (index in the action log, tcp, tcpfin, udp).
type Sent = (usize, Option<u32>, Option<u32>, Option<u32>);

/// The `Action::IpvsTimeouts` sent.
fn timeouts_sent(r: &Rig) -> Vec<Sent> {
    r.log
        .iter()
        .enumerate()
        .filter_map(|(i, (_, a))| match a {
            Action::IpvsTimeouts { tcp, tcpfin, udp } => Some((i, *tcp, *tcpfin, *udp)),
            _ => None,
        })
        .collect()
}

fn with_timeouts(t: &str) -> String {
    format!("global_defs {{\n lvs_timeouts {t}\n}}\n{}", conf("", ""))
}

#[test]
fn lvs_timeouts_are_set_after_the_table_answer_and_again_only_when_changed() {
    let mut r = Rig::new(
        &with_timeouts("tcp 7200 udp 60"),
        "tmo",
        &[8002, 8003],
        Ok(Table::new()),
    );
    let read_at = r
        .log
        .iter()
        .position(|(_, a)| matches!(a, Action::IpvsRead))
        .expect("the table is read");
    let sent = timeouts_sent(&r);
    assert_eq!(sent.len(), 1, "{sent:?}");
    let (at, tcp, tcpfin, udp) = sent[0];
    assert!(at > read_at, "set after the read is answered");
    assert_eq!((tcp, tcpfin, udp), (Some(7200), None, Some(60)));
    r.run_until(2.0);
    // The same values at a reload: nothing sent.
    r.handle(Event::Reload(Box::new(load(&with_timeouts(
        "udp 60 tcp 7200",
    )))));
    assert_eq!(timeouts_sent(&r).len(), 1);
    // Changed: sent again, with the new values only.
    r.handle(Event::Reload(Box::new(load(&with_timeouts(
        "tcp 900 tcpfin 30",
    )))));
    let sent = timeouts_sent(&r);
    assert_eq!(sent.len(), 2);
    assert_eq!(
        (sent[1].1, sent[1].2, sent[1].3),
        (Some(900), Some(30), None)
    );
    // Removed: the kernel's are left as they are (nothing to send); back: sent.
    r.handle(Event::Reload(Box::new(load(&conf("", "")))));
    assert_eq!(timeouts_sent(&r).len(), 2);
    r.handle(Event::Reload(Box::new(load(&with_timeouts("tcp 900")))));
    assert_eq!(timeouts_sent(&r).len(), 3);
    // The service was never touched by any of this.
    assert_eq!(r.ops_since(0.5), vec![]);
}

#[test]
fn lvs_timeouts_are_never_sent_when_ipvs_is_unavailable() {
    let mut r = Rig::new(
        &with_timeouts("tcp 7200"),
        "tmo-no",
        &[8002],
        Err("no IPVS".into()),
    );
    r.run_until(2.0);
    r.handle(Event::Reload(Box::new(load(&with_timeouts("tcp 100")))));
    r.run_until(3.0);
    r.handle(Event::Shutdown);
    assert!(timeouts_sent(&r).is_empty());
    assert!(r.ops().is_empty());
}

#[test]
fn lvs_timeouts_alone_read_the_table_then_set_them() {
    let mut r = Rig::new(
        "global_defs {\n lvs_timeouts tcpfin 10\n}\n",
        "tmo-alone",
        &[],
        Ok(Table::new()),
    );
    r.run_until(1.0);
    assert!(r.log.iter().any(|(_, a)| matches!(a, Action::IpvsRead)));
    let sent = timeouts_sent(&r);
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].1, sent[0].2, sent[0].3), (None, Some(10), None));
    // A reload that brings them in on a daemon without them sets them.
    let mut r = Rig::new(&conf("", ""), "tmo-late", &[8002, 8003], Ok(Table::new()));
    assert!(timeouts_sent(&r).is_empty());
    r.handle(Event::Reload(Box::new(load(&with_timeouts("udp 20")))));
    assert_eq!(timeouts_sent(&r).len(), 1);
}

#[test]
fn persistence_engine_is_in_the_service_and_a_reload_edits_it() {
    let sip = " persistence_timeout 60\n persistence_engine sip";
    let mut r = Rig::new(&conf(sip, ""), "pe", &[8002, 8003], Ok(Table::new()));
    let want = ServiceAttrs {
        sched: "wrr".into(),
        flags: keepalived_rs::ipvs::model::SVC_F_PERSISTENT,
        timeout: 60,
        netmask: u32::MAX,
        pe_name: Some("sip".into()),
    };
    assert_eq!(r.ops()[0], Op::AddService(vs(), want.clone()));
    assert_eq!(r.kernel[&vs()].attrs.pe_name.as_deref(), Some("sip"));
    r.run_until(1.5);
    // Same engine again: nothing; without it: one edit with no engine.
    r.handle(Event::Reload(Box::new(load(&conf(sip, "")))));
    assert_eq!(r.ops_since(1.5), vec![]);
    r.handle(Event::Reload(Box::new(load(&conf(
        " persistence_timeout 60",
        "",
    )))));
    let none = ServiceAttrs {
        pe_name: None,
        ..want
    };
    assert_eq!(r.ops_since(1.5), vec![Op::EditService(vs(), none)]);
    assert_eq!(r.kernel[&vs()].attrs.pe_name, None);
}
