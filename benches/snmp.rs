//! SNMP subagent costs: building the MIB view from a snapshot (what every request batch
//! does in the daemon), and answering one GetNext PDU (decode, search, encode), for 10 and
//! 1000 instances. Plain `main`, ns or µs per operation printed. `cargo bench --bench snmp`.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // bench code reaches the OS

use keepalived_rs::config::{load_str, LoadOptions};
use keepalived_rs::engine::Engine;
use keepalived_rs::event::{Event, InterfaceState};
use keepalived_rs::sched::Instant;
use keepalived_rs::snmp::oid::Oid;
use keepalived_rs::snmp::pdu::{encode, Body, Header, Pdu};
use keepalived_rs::snmp::session::{Session, Settings};
use keepalived_rs::snmp::settings::{view, Endpoint, SnmpSettings};
use keepalived_rs::snmp::wire::SearchRange;
use std::hint::black_box;
use std::path::Path;
use std::rc::Rc;
use std::time::Instant as Clock;

fn engine(n: usize) -> Engine {
    let mut conf = String::new();
    for i in 0..n {
        let (ifc, vrid) = (i / 250, i % 250 + 1);
        conf.push_str(&format!(
            "vrrp_instance VI_{i} {{\n interface eth{ifc}\n virtual_router_id {vrid}\n \
             priority 100\n virtual_ipaddress {{\n 10.{ifc}.{}.{}\n }}\n}}\n",
            vrid / 200,
            vrid % 200 + 1
        ));
    }
    let loaded = load_str(&conf, Path::new("b.conf"), &LoadOptions::default());
    let mut e = Engine::new(&loaded.config);
    for ifc in 0..n.div_ceil(250) {
        e.handle(
            Instant::ZERO,
            Event::Interface(InterfaceState {
                name: format!("eth{ifc}"),
                index: ifc as u32 + 2,
                up: true,
                mac: [2, 0, 0, 0, 0, ifc as u8],
                ipv4: vec![format!("10.{ifc}.9.1").parse().unwrap()],
                ipv6: vec![],
            }),
        );
    }
    e.handle(Instant::ZERO, Event::Startup);
    while e.poll_action().is_some() {}
    e
}

fn main() {
    let s = SnmpSettings {
        endpoint: Endpoint::Unix("/x".into()),
        rfcv2: true,
        rfcv3: true,
        keepalived: false,
        traps: false,
    };
    for n in [10usize, 1000] {
        let e = engine(n);
        let now = Instant::from_nanos(1_000_000_000);
        let runs = if n > 100 { 50 } else { 2000 };
        let start = Clock::now();
        let mut objects = 0;
        for _ in 0..runs {
            let v = view(&e.snapshot(now), &s, None);
            objects = v.entries().len();
            black_box(v);
        }
        let us = start.elapsed().as_secs_f64() * 1e6 / runs as f64;
        println!("snapshot + view, {n:>4} instances ({objects:>6} objects) {us:>10.1} µs");

        let start = Clock::now();
        for _ in 0..runs {
            black_box(e.snapshot(now));
        }
        let us = start.elapsed().as_secs_f64() * 1e6 / runs as f64;
        println!("snapshot alone,  {n:>4} instances                   {us:>10.1} µs");
        let v = Rc::new(view(&e.snapshot(now), &s, None));
        let (mut session, _) = Session::open(Settings {
            subtrees: s.subtrees(),
            descr: "bench".into(),
            timeout: 0,
        });
        let mid = v.entries()[objects / 2].0.clone();
        let req = encode(&Pdu {
            header: Header::default(),
            body: Body::GetNext {
                context: None,
                ranges: vec![SearchRange {
                    start: mid,
                    include: false,
                    end: Oid::null(),
                }],
            },
        });
        let runs = 200_000;
        let mut out = Vec::with_capacity(256);
        let start = Clock::now();
        for _ in 0..runs {
            out.clear();
            let _ = session.on_input(black_box(&req), &mut || v.clone(), &mut out);
        }
        let ns = start.elapsed().as_nanos() as f64 / runs as f64;
        println!("GetNext PDU, view cached, {n:>4} instances          {ns:>10.0} ns");
    }
}
