//! The simulated kernel's IPVS fed with the engine's actions directly (no virtual server
//! in the configurations, so the engine itself sends none): tables, refusals answered
//! as events, sync daemons, the trace, a stop keeping the table and a crash losing it,
//! the operator's `ipvsadm` lines, and the expectations read back from the trace.

use super::*;
use crate::ipvs::diff::Op;
use crate::ipvs::model::{
    DestAttrs, DestKey, Forward, Proto, ServiceAttrs, ServiceKey, SyncDaemon, SYNC_BACKUP,
    SYNC_MASTER,
};
use crate::sim::scenario::parse;

const HEAD: &str = "segment lan\nhost r1\n  iface eth0 lan 192.0.2.1/24\n";
const VRRP: &str =
    "  config <<END\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n \
    priority 100\n version 3\n virtual_ipaddress {\n 192.0.2.100/32\n }\n}\nEND\n";

fn sim(host_lines: &str, rest: &str) -> Sim {
    let text = format!("{HEAD}{host_lines}{VRRP}{rest}");
    let sc = parse(&text).unwrap_or_else(|e| panic!("{e}"));
    let configs = load_configs(&sc, Path::new("ipvs.scn")).unwrap();
    Sim::new(&sc, configs, 1)
}

fn svc() -> ServiceKey {
    ServiceKey::Addr {
        proto: Proto::Tcp,
        addr: "10.0.0.10".parse().unwrap(),
        port: 80,
    }
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

fn dest(n: u8) -> DestKey {
    DestKey {
        addr: IpAddr::from([192, 168, 1, n]),
        port: 80,
    }
}

fn da(weight: u32) -> DestAttrs {
    DestAttrs {
        forward: Forward::Direct,
        weight,
        u_threshold: 0,
        l_threshold: 0,
    }
}

fn daemon(state: u32) -> SyncDaemon {
    SyncDaemon {
        state,
        ifname: "eth0".into(),
        syncid: 5,
        maxlen: None,
        group: None,
        port: None,
        ttl: None,
    }
}

fn text(s: &Sim) -> String {
    crate::sim::trace::render(&s.trace)
}

#[test]
fn operations_apply_in_order_and_refusals_come_back_as_events() {
    let mut s = sim("", "until 2s\n");
    s.run_until(Instant::from_nanos(1_000_000_000), |_| {});
    s.perform(
        0,
        Action::Ipvs(vec![
            Op::AddService(svc(), attrs("wrr")),
            Op::AddDest(svc(), dest(2), da(3)),
            // Refused (the service exists); the rest still applied.
            Op::AddService(svc(), attrs("rr")),
            Op::AddDest(svc(), dest(3), da(1)),
            Op::EditDest(svc(), dest(3), da(0)),
        ]),
    );
    let t = &s.hosts[0].kernel.ipvs.table;
    assert_eq!(t[&svc()].attrs.sched, "wrr");
    assert_eq!(t[&svc()].dests.len(), 2);
    assert_eq!(t[&svc()].dests[&dest(3)].weight, 0);
    assert_eq!(
        s.feedback,
        vec![Event::IpvsFailed {
            op: Op::AddService(svc(), attrs("rr")),
            error: "EEXIST: service 10.0.0.10:80 exists".into()
        }]
    );
    let out = text(&s);
    for line in [
        "1s r1 ipvs add service 10.0.0.10:80 sched wrr\n",
        "1s r1 ipvs add 10.0.0.10:80 -> 192.168.1.2:80 weight 3 dr\n",
        "1s r1 ipvs add service 10.0.0.10:80 sched rr refused: EEXIST: service 10.0.0.10:80 exists\n",
        "1s r1 ipvs edit 10.0.0.10:80 -> 192.168.1.3:80 weight 0 dr\n",
    ] {
        assert!(out.contains(line), "{line} in\n{out}");
    }
}

#[test]
fn the_read_answers_the_kernel_table_in_the_same_instant() {
    let mut s = sim(
        "  ipvsadm add service 10.0.0.10:80 sched wrr\n  ipvsadm add 10.0.0.10:80 -> 192.168.1.2:80 weight 3\n",
        "until 2s\n",
    );
    s.run_until(Instant::from_nanos(1_000_000_000), |_| {});
    s.feedback.clear();
    s.perform(0, Action::IpvsRead);
    let Some(Event::IpvsTable(Ok(t))) = s.feedback.first() else {
        panic!("{:?}", s.feedback)
    };
    assert_eq!(t[&svc()].dests[&dest(2)], da(3));
    let out = text(&s);
    assert!(
        out.contains("0s r1 ipvsadm add service 10.0.0.10:80 sched wrr\n"),
        "{out}"
    );
    assert!(
        out.contains("1s r1 ipvs read 1 services 1 destinations"),
        "{out}"
    );
}

#[test]
fn a_host_without_ipvs_refuses_and_says_why() {
    let mut s = sim(
        "  no ipvs\n  ipvsadm add service 10.0.0.10:80\n",
        "until 2s\n",
    );
    s.run_until(Instant::from_nanos(1_000_000_000), |_| {});
    assert!(text(&s).contains(
        "0s r1 ipvsadm add service 10.0.0.10:80 sched wlc refused: IPVS is not available"
    ));
    s.feedback.clear();
    s.perform(0, Action::IpvsRead);
    s.perform(0, Action::Ipvs(vec![Op::AddService(svc(), attrs("rr"))]));
    s.perform(
        0,
        Action::IpvsDaemon {
            start: true,
            daemon: daemon(SYNC_MASTER),
        },
    );
    assert!(matches!(&s.feedback[0], Event::IpvsTable(Err(e)) if e.contains("ip_vs")));
    assert!(matches!(&s.feedback[1], Event::IpvsFailed { .. }));
    assert!(s.hosts[0].kernel.ipvs.table.is_empty());
    assert!(s.hosts[0].kernel.ipvs.daemons.is_empty());
    let out = text(&s);
    assert!(
        out.contains("1s r1 ipvs read refused: IPVS is not available"),
        "{out}"
    );
    assert!(
        out.contains("1s r1 ipvs sync start master eth0 id 5 refused: IPVS"),
        "{out}"
    );
    // A crash does not give it IPVS.
    s.kill(0);
    s.start(0);
    assert!(s.hosts[0].kernel.ipvs.read().is_err());
}

#[test]
fn a_stop_keeps_the_table_and_a_crash_loses_it() {
    let mut s = sim("", "until 2s\n");
    s.run_until(Instant::from_nanos(1_000_000_000), |_| {});
    s.perform(
        0,
        Action::Ipvs(vec![
            Op::AddService(svc(), attrs("rr")),
            Op::AddDest(svc(), dest(2), da(1)),
        ]),
    );
    s.perform(
        0,
        Action::IpvsDaemon {
            start: true,
            daemon: daemon(SYNC_BACKUP),
        },
    );
    s.stop(0);
    s.start(0);
    assert_eq!(s.hosts[0].kernel.ipvs.table.len(), 1);
    assert_eq!(s.hosts[0].kernel.ipvs.daemons, vec![daemon(SYNC_BACKUP)]);
    s.perform(0, Action::IpvsRead);
    assert!(matches!(s.feedback.last(), Some(Event::IpvsTable(Ok(t))) if t.len() == 1));
    s.perform(
        0,
        Action::IpvsDaemon {
            start: false,
            daemon: daemon(SYNC_BACKUP),
        },
    );
    assert!(s.hosts[0].kernel.ipvs.daemons.is_empty());
    s.kill(0);
    s.start(0);
    assert!(s.hosts[0].kernel.ipvs.table.is_empty());
    let out = text(&s);
    assert!(
        out.contains("1s r1 ipvs sync start backup eth0 id 5\n"),
        "{out}"
    );
    assert!(
        out.contains("1s r1 ipvs sync stop backup eth0 id 5\n"),
        "{out}"
    );
}

/// Expectations about the table are read back from the trace: the operator's lines before
/// the run, a deletion at 3 s, a crash at 5 s (table gone), then a new entry at 6 s.
#[test]
fn expectations_replay_the_trace() {
    let scenario = "  ipvsadm add service 10.0.0.10:80 sched wrr persistent 50\n\
        \x20 ipvsadm add 10.0.0.10:80 -> 192.168.1.2:80 weight 3\n\
        \x20 ipvsadm add 10.0.0.10:80 -> 192.168.1.3:80 weight 2 nat\n\
        \x20 ipvsadm add service fwmark 7\n";
    let rest = "at 3s r1 ipvsadm del 10.0.0.10:80 -> 192.168.1.3:80\n\
        at 5s kill r1\nat 5.5s start r1\n\
        at 6s r1 ipvsadm add service udp [2001:db8::10]:53 sched rr\n\
        until 8s\n\
        expect 1s r1 ipvs has 10.0.0.10:80 -> 192.168.1.2:80 weight 3 dr\n\
        expect 1s r1 ipvs has 10.0.0.10:80 -> 192.168.1.3:80 weight 2 nat\n\
        expect 1s r1 ipvs has service 10.0.0.10:80 sched wrr persistent 50\n\
        expect 1s r1 ipvs services 2\n\
        expect 2.9s r1 ipvs dests 10.0.0.10:80 2\n\
        expect 3s r1 ipvs dests 10.0.0.10:80 1\n\
        expect 3s r1 ipvs lacks 10.0.0.10:80 -> 192.168.1.3:80\n\
        expect 5s r1 ipvs services 0\n\
        expect 7s r1 ipvs has service udp [2001:db8::10]:53 sched rr\n\
        expect never r1 ipvs has service fwmark 7 between 5s 8s\n\
        expect never r1 ipvs adds between 0s 8s\n\
        expect never r1 ipvs sync master\n\
        expect r1 ipvs no sync\n\
        # wrong on purpose: four failures\n\
        expect 1s r1 ipvs has 10.0.0.10:80 -> 192.168.1.2:80 weight 4\n\
        expect 4s r1 ipvs has 10.0.0.10:80 -> 192.168.1.3:80\n\
        expect 1s r1 ipvs services 3\n\
        expect never r1 ipvs has service fwmark 7 between 0s 8s\n";
    let text = format!("{HEAD}{scenario}{VRRP}{rest}");
    let file = Path::new("replay.scn");
    let o = crate::sim::run_text(&text, file, 1, None).unwrap_or_else(|e| panic!("{}", e.0));
    let lines: Vec<usize> = o.failures.iter().map(|f| f.line).collect();
    let report = o.failure_text(file);
    assert_eq!(o.failures.len(), 4, "{report}");
    let first_wrong = text
        .lines()
        .position(|l| l.contains("four failures"))
        .unwrap()
        + 2;
    assert_eq!(
        lines,
        (first_wrong..first_wrong + 4).collect::<Vec<_>>(),
        "{report}"
    );
    assert!(
        report.contains("-> 192.168.1.2:80 weight 3 dr\n  -> 192.168.1.3:80 weight 2 nat"),
        "{report}"
    );
    assert!(report.contains("it holds at 0s"), "{report}");
}

/// Event predicates see the engine's operations (not the operator's), refused ones only
/// with `refuses`, and the daemons started and stopped.
#[test]
fn event_predicates_match_the_engine_operations() {
    use crate::sim::scenario::Predicate;
    let mut s = sim("  ipvsadm add service 10.0.0.10:80\n", "until 2s\n");
    s.run_until(Instant::from_nanos(1_000_000_000), |_| {});
    s.perform(
        0,
        Action::Ipvs(vec![
            Op::AddService(svc(), attrs("rr")),
            Op::EditService(svc(), attrs("rr")),
            Op::AddDest(svc(), dest(2), da(1)),
        ]),
    );
    s.perform(
        0,
        Action::IpvsDaemon {
            start: true,
            daemon: daemon(SYNC_MASTER),
        },
    );
    let count = |pred: &str| {
        let sc = parse(&format!("{HEAD}{VRRP}expect r1 ipvs {pred}\n")).unwrap();
        let e = &sc.expects[0];
        assert!(matches!(e.predicate, Predicate::Ipvs(_)));
        s.trace
            .iter()
            .filter(|l| {
                super::super::expect::check(e, std::slice::from_ref(l), Instant::MAX, &|_, _, _| {
                    Ok(0)
                })
                .is_ok()
            })
            .count()
    };
    assert_eq!(count("changes"), 2);
    assert_eq!(count("adds"), 1);
    assert_eq!(count("adds service 10.0.0.10:80"), 0);
    assert_eq!(count("refuses service 10.0.0.10:80"), 1);
    assert_eq!(count("edits service"), 1);
    assert_eq!(count("changes 10.0.0.10:80"), 2);
    assert_eq!(count("changes 10.0.0.10:80 -> 192.168.1.2:80"), 1);
    assert_eq!(count("changes 10.0.0.10:80 -> 192.168.1.3:80"), 0);
    assert_eq!(count("deletes"), 0);
    assert_eq!(count("starts sync master eth0 id 5"), 1);
    assert_eq!(count("starts sync backup"), 0);
    assert_eq!(count("stops sync"), 0);
}

/// What the kernel refused is not in the replayed table: a second add of a destination
/// with another weight, and edits of what is not there, change nothing for the
/// expectations either.
#[test]
fn refused_operations_are_not_replayed() {
    let scenario = "  ipvsadm add service 10.0.0.10:80\n\
        \x20 ipvsadm add 10.0.0.10:80 -> 192.168.1.2:80 weight 3\n\
        \x20 ipvsadm add 10.0.0.10:80 -> 192.168.1.2:80 weight 9\n\
        \x20 ipvsadm edit 10.0.0.10:80 -> 192.168.1.7:80 weight 9\n\
        \x20 ipvsadm edit service 10.0.0.11:80 sched rr\n";
    let rest = "until 2s\n\
        expect 1s r1 ipvs has 10.0.0.10:80 -> 192.168.1.2:80 weight 3\n\
        expect 1s r1 ipvs lacks 10.0.0.10:80 -> 192.168.1.7:80\n\
        expect 1s r1 ipvs services 1\n";
    let text = format!("{HEAD}{scenario}{VRRP}{rest}");
    let file = Path::new("refused.scn");
    let o = crate::sim::run_text(&text, file, 1, None).unwrap_or_else(|e| panic!("{}", e.0));
    assert!(o.passed(), "{}", o.failure_text(file));
    let out = o.trace_text();
    assert!(
        out.contains(
            "0s r1 ipvsadm add 10.0.0.10:80 -> 192.168.1.2:80 weight 9 dr refused: EEXIST"
        ),
        "{out}"
    );
    assert!(
        out.contains("0s r1 ipvsadm edit service 10.0.0.11:80 sched rr refused: ESRCH"),
        "{out}"
    );
}

#[test]
fn timeouts_are_set_traced_and_refused_without_ipvs() {
    let mut s = sim("", "until 2s\n");
    s.run_until(Instant::from_nanos(1_000_000_000), |_| {});
    s.feedback.clear();
    s.perform(
        0,
        Action::IpvsTimeouts {
            tcp: Some(7200),
            tcpfin: None,
            udp: Some(60),
        },
    );
    let k = &s.hosts[0].kernel.ipvs.timeouts;
    assert_eq!((k.tcp, k.tcpfin, k.udp), (7200, 120, 60));
    // No event comes back (the world logs a refusal; the engine needs none).
    assert!(s.feedback.is_empty(), "{:?}", s.feedback);
    let out = text(&s);
    assert!(
        out.contains("1s r1 ipvs timeouts tcp 7200 udp 60\n"),
        "{out}"
    );

    let mut s = sim("  no ipvs\n", "until 2s\n");
    s.run_until(Instant::from_nanos(1_000_000_000), |_| {});
    s.perform(
        0,
        Action::IpvsTimeouts {
            tcp: None,
            tcpfin: Some(5),
            udp: None,
        },
    );
    assert_eq!(s.hosts[0].kernel.ipvs.timeouts.tcpfin, 120);
    let out = text(&s);
    assert!(
        out.contains("1s r1 ipvs timeouts tcpfin 5 refused: IPVS is not available"),
        "{out}"
    );
}
