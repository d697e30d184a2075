//! The VRRP MIBs from an engine driven to a known state: one Master, one Backup that has
//! heard its Master, one IPv6 instance; the objects, their index order (the GetNext walk
//! order) and their values as RFC 2787 and RFC 6527 define them.

use super::oid::Oid;
use super::rows::UpTimeBase;
use super::settings::{view, Endpoint, SnmpSettings};
use super::wire::{SearchRange, Value};
use crate::config::{load_str, LoadOptions};
use crate::engine::Engine;
use crate::event::{Action, Event, InterfaceState, ReceivedPacket};
use crate::sched::Instant;
use crate::vrrp::packet::{self, Advert, V2Auth, V3Ipv4Checksum};
use std::net::IpAddr;
use std::path::Path;

const CONF: &str = "\
global_defs {
  enable_snmp_rfc
  enable_traps
}
vrrp_instance VI_1 {
  state MASTER
  interface eth0
  virtual_router_id 51
  priority 150
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass secret
  }
  virtual_ipaddress {
    10.1.1.101
    10.1.1.100/24
  }
}
vrrp_instance VI_2 {
  state BACKUP
  interface eth0
  virtual_router_id 7
  priority 50
  advert_int 2
  nopreempt
  virtual_ipaddress {
    10.1.1.7
  }
}
vrrp_instance VI_6 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 90
  virtual_ipaddress {
    fe80::51
    2001:db8::51
  }
}
";

fn ms(n: u64) -> Instant {
    Instant::from_nanos(n * 1_000_000)
}

fn run(e: &mut Engine, until: Instant) {
    loop {
        while let Some(_a) = e.poll_action() {
            let _: Action = _a;
        }
        match e.next_deadline().filter(|d| *d <= until) {
            Some(d) => e.handle(d, Event::Timers),
            None => break,
        }
    }
}

/// An advert for VRID 7 from 10.1.1.2, priority 200, heard on eth0.
fn advert_vrid7(e: &mut Engine, at: Instant) {
    let src: IpAddr = "10.1.1.2".parse().unwrap();
    let dst: IpAddr = "224.0.0.18".parse().unwrap();
    let a = Advert {
        version: crate::config::model::VrrpVersion::V2,
        vrid: 7,
        priority: 200,
        interval_cs: 200,
        addresses: vec!["10.1.1.7".parse().unwrap()],
        auth: V2Auth::None,
    };
    let payload = packet::encode(&a, src, dst, V3Ipv4Checksum::PseudoHeader);
    e.handle(
        at,
        Event::Packet(ReceivedPacket {
            ifname: "eth0".into(),
            src,
            dst,
            ttl: 255,
            payload,
        }),
    );
}

fn engine() -> Engine {
    let loaded = load_str(CONF, Path::new("t.conf"), &LoadOptions::default());
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    let mut e = Engine::new(&loaded.config);
    e.handle(
        ms(0),
        Event::Interface(InterfaceState {
            name: "eth0".into(),
            index: 3,
            up: true,
            mac: [2, 0, 0, 0, 0, 1],
            ipv4: vec!["10.1.1.1".parse().unwrap()],
            ipv6: vec!["fe80::1".parse().unwrap()],
        }),
    );
    e.handle(ms(0), Event::Startup);
    run(&mut e, ms(1000));
    advert_vrid7(&mut e, ms(1000));
    run(&mut e, ms(3000));
    advert_vrid7(&mut e, ms(3000));
    run(&mut e, ms(4000));
    e
}

fn settings() -> SnmpSettings {
    SnmpSettings {
        endpoint: Endpoint::Unix("/x".into()),
        rfcv2: true,
        rfcv3: true,
        keepalived: true,
        traps: true,
    }
}

fn oid(s: &str) -> Oid {
    s.parse().unwrap()
}

/// Walks the view from `root` as snmpwalk does (GetNext until out of the subtree).
fn walk(v: &super::view::View, root: &str) -> Vec<(String, Value)> {
    let root = oid(root);
    let mut at = SearchRange {
        start: root.clone(),
        include: false,
        end: Oid::null(),
    };
    let mut out = Vec::new();
    loop {
        let vb = v.get_next(&at);
        if vb.value == Value::EndOfMibView || !vb.name.starts_with(&root) {
            return out;
        }
        out.push((vb.name.to_string(), vb.value.clone()));
        at.start = vb.name;
    }
}

fn get(walked: &[(String, Value)], name: &str) -> Value {
    walked
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("{name} not in the walk: {walked:?}"))
}

#[test]
fn vrrp_mib_oper_table_in_index_order_with_states() {
    let e = engine();
    let snap = e.snapshot(ms(4000));
    let base = UpTimeBase {
        at: ms(500),
        ticks: 1000,
    };
    let v = view(&snap, &settings(), Some(base));
    let w = walk(&v, "1.3.6.1.2.1.68");
    let names: Vec<&str> = w.iter().map(|(n, _)| n.as_str()).collect();
    // The scalars, then vrrpOperTable column by column, rows by (ifIndex, VRID): VRID 7
    // before VRID 51; the IPv6 instance is not in RFC 2787's table.
    assert_eq!(
        &names[..4],
        [
            "1.3.6.1.2.1.68.1.1.0",
            "1.3.6.1.2.1.68.1.2.0",
            "1.3.6.1.2.1.68.1.3.1.2.3.7",
            "1.3.6.1.2.1.68.1.3.1.2.3.51",
        ]
    );
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| oid(n));
    assert_eq!(names, sorted, "a walk comes in OID order");
    assert_eq!(get(&w, "1.3.6.1.2.1.68.1.1.0"), Value::Integer(2));
    assert_eq!(get(&w, "1.3.6.1.2.1.68.1.2.0"), Value::Integer(1)); // enable_traps
    let col = |c: u32, vrid: u32| format!("1.3.6.1.2.1.68.1.3.1.{c}.3.{vrid}");
    // vrrpOperVirtualMacAddr 00-00-5E-00-01-VRID.
    assert_eq!(
        get(&w, &col(2, 51)),
        Value::OctetString(vec![0, 0, 0x5e, 0, 1, 51])
    );
    // vrrpOperState: VI_1 master(3), VI_2 backup(2).
    assert_eq!(get(&w, &col(3, 51)), Value::Integer(3));
    assert_eq!(get(&w, &col(3, 7)), Value::Integer(2));
    assert_eq!(get(&w, &col(4, 51)), Value::Integer(1)); // up
    assert_eq!(get(&w, &col(5, 51)), Value::Integer(150));
    assert_eq!(get(&w, &col(6, 51)), Value::Integer(2));
    // vrrpOperMasterIpAddr: ours as Master, the advert's source as Backup.
    assert_eq!(get(&w, &col(7, 51)), Value::IpAddress([10, 1, 1, 1]));
    assert_eq!(get(&w, &col(7, 7)), Value::IpAddress([10, 1, 1, 2]));
    assert_eq!(get(&w, &col(8, 7)), Value::IpAddress([10, 1, 1, 1]));
    // Auth type: simpleTextPassword(2) / noAuthentication(1); the key reads empty.
    assert_eq!(get(&w, &col(9, 51)), Value::Integer(2));
    assert_eq!(get(&w, &col(9, 7)), Value::Integer(1));
    assert_eq!(get(&w, &col(10, 51)), Value::OctetString(vec![]));
    assert_eq!(get(&w, &col(11, 7)), Value::Integer(2));
    // Preempt: true(1) / nopreempt false(2).
    assert_eq!(get(&w, &col(12, 51)), Value::Integer(1));
    assert_eq!(get(&w, &col(12, 7)), Value::Integer(2));
    // Up-time: VI_1 left Initialize at 0 ms (a Master at start-up): sysUpTime 1000 at
    // 500 ms, so 950 ticks then.
    assert_eq!(get(&w, &col(13, 51)), Value::TimeTicks(950));
    assert_eq!(get(&w, &col(14, 51)), Value::Integer(1));
    assert_eq!(get(&w, &col(15, 51)), Value::Integer(1));
    // vrrpAssoIpAddrTable: ifIndex.VRID.a.b.c.d, in address order.
    let asso: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| n.starts_with("1.3.6.1.2.1.68.1.4."))
        .collect();
    assert_eq!(
        asso,
        [
            "1.3.6.1.2.1.68.1.4.1.2.3.7.10.1.1.7",
            "1.3.6.1.2.1.68.1.4.1.2.3.51.10.1.1.100",
            "1.3.6.1.2.1.68.1.4.1.2.3.51.10.1.1.101",
        ]
    );
    // vrrpRouterStatsTable: VI_2 received 2 adverts; VI_1 became Master once.
    assert_eq!(get(&w, "1.3.6.1.2.1.68.2.4.1.2.3.7"), Value::Counter32(2));
    assert_eq!(get(&w, "1.3.6.1.2.1.68.2.4.1.1.3.51"), Value::Counter32(1));
    assert_eq!(get(&w, "1.3.6.1.2.1.68.2.1.0"), Value::Counter32(0));
    // Get: exact, noSuchInstance for an unknown row, noSuchObject outside the MIB.
    assert_eq!(v.get(&oid(&col(3, 51))), Value::Integer(3));
    assert_eq!(v.get(&oid(&col(3, 52))), Value::NoSuchInstance);
    assert_eq!(v.get(&oid("1.3.6.1.2.1.68.1.7.0")), Value::NoSuchObject);
}

#[test]
fn vrrpv3_mib_has_both_families_indexed_by_address_type() {
    let e = engine();
    let snap = e.snapshot(ms(4000));
    let v = view(&snap, &settings(), None);
    let w = walk(&v, "1.3.6.1.2.1.207");
    let col = |c: u32, vrid: u32, t: u32| format!("1.3.6.1.2.1.207.1.1.1.1.{c}.3.{vrid}.{t}");
    // vrrpv3OperationsStatus of the three rows, ifIndex 3: (7, ipv4), (51, ipv4),
    // (51, ipv6).
    let status: Vec<&str> = w
        .iter()
        .filter(|(n, _)| n.starts_with("1.3.6.1.2.1.207.1.1.1.1.6."))
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(status, [col(6, 7, 1), col(6, 51, 1), col(6, 51, 2)]);
    assert_eq!(get(&w, &col(6, 51, 1)), Value::Integer(3));
    assert_eq!(get(&w, &col(6, 7, 1)), Value::Integer(2));
    // InetAddress: 4 bytes for IPv4; the IPv6 Master's link-local source (16 bytes).
    assert_eq!(
        get(&w, &col(3, 7, 1)),
        Value::OctetString(vec![10, 1, 1, 2])
    );
    match get(&w, &col(4, 51, 2)) {
        Value::OctetString(b) => assert_eq!(b.len(), 16),
        other => panic!("{other:?}"),
    }
    // IPv6 virtual MAC 00-00-5E-00-02-VRID; advert interval in centiseconds.
    assert_eq!(
        get(&w, &col(5, 51, 2)),
        Value::OctetString(vec![0, 0, 0x5e, 0, 2, 51])
    );
    assert_eq!(get(&w, &col(9, 7, 1)), Value::Integer(200));
    assert_eq!(get(&w, &col(7, 51, 1)), Value::Gauge32(150));
    // The associated addresses: the InetAddress index is length-prefixed.
    assert!(w
        .iter()
        .any(|(n, _)| n == "1.3.6.1.2.1.207.1.1.2.1.2.3.51.1.4.10.1.1.100"));
    assert!(w
        .iter()
        .any(|(n, _)| n
            == "1.3.6.1.2.1.207.1.1.2.1.2.3.51.2.16.32.1.13.184.0.0.0.0.0.0.0.0.0.0.0.81"));
    // Statistics: Counter64 received adverts of VI_2; VI_1 became Master when its
    // Master_Down_Timer fired (masterNoResponse(3)); VI_2 is notMaster(0).
    assert_eq!(
        get(&w, "1.3.6.1.2.1.207.1.2.5.1.3.3.7.1"),
        Value::Counter64(2)
    );
    assert_eq!(
        get(&w, "1.3.6.1.2.1.207.1.2.5.1.2.3.51.1"),
        Value::Integer(3)
    );
    assert_eq!(
        get(&w, "1.3.6.1.2.1.207.1.2.5.1.2.3.7.1"),
        Value::Integer(0)
    );
}

#[test]
fn only_the_enabled_mibs_are_served() {
    let e = engine();
    let snap = e.snapshot(ms(4000));
    let only_v2 = SnmpSettings {
        rfcv3: false,
        keepalived: false,
        ..settings()
    };
    let v = view(&snap, &only_v2, None);
    assert!(walk(&v, "1.3.6.1.2.1.207").is_empty());
    assert!(!walk(&v, "1.3.6.1.2.1.68").is_empty());
    assert_eq!(only_v2.subtrees(), vec![oid("1.3.6.1.2.1.68")]);
}

#[test]
fn objects_come_out_in_oid_order() {
    // The tables are given out column by column, so the view's sort has nothing to do.
    let e = engine();
    let snap = e.snapshot(ms(4000));
    for (objs, _) in [
        super::rfc2787::objects(&snap, None),
        super::rfc6527::objects(&snap, None),
        super::keepalived_mib::objects(&snap),
    ] {
        assert!(objs.len() > 40);
        assert!(objs.windows(2).all(|w| w[0].0 < w[1].0), "{objs:?}");
    }
}

#[test]
fn keepalived_mib_instance_table() {
    let e = engine();
    let snap = e.snapshot(ms(4000));
    let v = view(&snap, &settings(), None);
    let w = walk(&v, "1.3.6.1.4.1.9586.100.5");
    let col = |c: u32, i: u32| format!("1.3.6.1.4.1.9586.100.5.2.3.1.{c}.{i}");
    assert!(matches!(get(&w, "1.3.6.1.4.1.9586.100.5.1.1.0"),
        Value::OctetString(ref s) if s.starts_with(b"Keepalived-rs v")));
    assert_eq!(get(&w, "1.3.6.1.4.1.9586.100.5.1.4.0"), Value::Integer(1));
    // Rows by position: VI_1, VI_2, VI_6.
    assert_eq!(get(&w, &col(2, 1)), Value::OctetString(b"VI_1".to_vec()));
    assert_eq!(get(&w, &col(2, 3)), Value::OctetString(b"VI_6".to_vec()));
    assert_eq!(get(&w, &col(3, 2)), Value::Gauge32(7));
    // vrrpInstanceState: master(2), backup(1); initial state MASTER(2) / BACKUP(1).
    assert_eq!(get(&w, &col(4, 1)), Value::Integer(2));
    assert_eq!(get(&w, &col(4, 2)), Value::Integer(1));
    assert_eq!(get(&w, &col(5, 1)), Value::Integer(2));
    assert_eq!(get(&w, &col(5, 2)), Value::Integer(1));
    assert_eq!(get(&w, &col(7, 2)), Value::Integer(50));
    assert_eq!(get(&w, &col(9, 1)), Value::Integer(1)); // VIPs set
    assert_eq!(get(&w, &col(9, 2)), Value::Integer(2));
    assert_eq!(get(&w, &col(10, 1)), Value::OctetString(b"eth0".to_vec()));
    assert_eq!(get(&w, &col(12, 2)), Value::Gauge32(2)); // seconds (VRRPv2)
    assert_eq!(get(&w, &col(13, 2)), Value::Integer(2)); // noPreempt
    assert_eq!(get(&w, &col(15, 1)), Value::Integer(1)); // password
    assert_eq!(get(&w, &col(30, 1)), Value::Integer(2));
    // No routerId configured: not served; no sync group: no cell.
    assert_eq!(
        v.get(&oid("1.3.6.1.4.1.9586.100.5.1.2.0")),
        Value::NoSuchInstance
    );
    assert_eq!(v.get(&oid(&col(18, 1))), Value::NoSuchInstance);
}
