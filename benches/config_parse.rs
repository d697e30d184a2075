//! Parse + build + validate time of a generated 10 000-instance keepalived.conf spread
//! over 40 interfaces (each instance: interface, VRID, priority, advert_int,
//! authentication, virtual_ipaddress, track_script). Target: under 100 ms in release.
//!
//! `cargo bench --bench config_parse [-- --write FILE]` (with `--write`, the generated
//! configuration is also saved to FILE).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

use keepalived_rs::config::{self, LoadOptions};
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

const INSTANCES: usize = 10_000;
const INTERFACES: usize = 40;

/// The configuration: one vrrp_script per interface, instances round-robin over the
/// interfaces, VRIDs 1-250 on each.
fn generate() -> String {
    let mut s = String::with_capacity(INSTANCES * 400);
    s.push_str("global_defs {\n    router_id bench\n    vrrp_garp_master_delay 2\n}\n\n");
    for i in 0..INTERFACES {
        let _ = write!(
            s,
            "vrrp_script chk_{i} {{\n    script \"/usr/bin/test -e /run/ok.{i}\"\n    interval 2\n    weight -20\n    rise 2\n    fall 3\n}}\n\n"
        );
    }
    for n in 0..INSTANCES {
        let ifc = n % INTERFACES;
        let vrid = n / INTERFACES + 1;
        let _ = write!(
            s,
            "vrrp_instance VI_{n} {{\n    state BACKUP\n    interface eth{ifc}\n    virtual_router_id {vrid}\n    priority {prio}\n    advert_int 1\n    authentication {{\n        auth_type PASS\n        auth_pass p{n}\n    }}\n    virtual_ipaddress {{\n        10.{a}.{b}.{c}/16 dev eth{ifc}\n    }}\n    track_script {{\n        chk_{ifc}\n    }}\n}}\n\n",
            prio = 50 + n % 200,
            a = ifc,
            b = vrid,
            c = 1 + n % 250,
        );
    }
    s
}

fn main() {
    let text = generate();
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--write") {
        if let Some(f) = args.get(i + 1) {
            if let Err(e) = std::fs::write(f, &text) {
                eprintln!("cannot write {f}: {e}");
            }
        }
    }
    let opts = LoadOptions::default();
    let origin = Path::new("bench.conf");
    let mut times: Vec<Duration> = Vec::new();
    for run in 0..7 {
        let t0 = Instant::now();
        let loaded = config::load_str(&text, origin, &opts);
        let dt = t0.elapsed();
        if run == 0 {
            assert_eq!(loaded.config.instances.len(), INSTANCES);
            assert!(
                loaded.diagnostics.is_empty(),
                "generated config has diagnostics: {:?}",
                loaded.diagnostics.first()
            );
        }
        times.push(dt);
    }
    times.sort();
    // Where the time goes: the language layer alone, then building + validating.
    let mut parse_t = Vec::new();
    let mut build_t = Vec::new();
    for _ in 0..5 {
        let t0 = Instant::now();
        let parsed = config::tree::parse_str(&text, origin, &opts);
        let t1 = Instant::now();
        let (c, _) = config::build::build_nodes(&parsed.nodes, &opts);
        let t2 = Instant::now();
        assert_eq!(c.instances.len(), INSTANCES);
        parse_t.push(t1 - t0);
        build_t.push(t2 - t1);
    }
    parse_t.sort();
    build_t.sort();
    println!(
        "config_parse: of which parse (lex + tree) {:.1} ms, build + validate {:.1} ms (medians)",
        parse_t[2].as_secs_f64() * 1e3,
        build_t[2].as_secs_f64() * 1e3,
    );
    println!(
        "config_parse: {INSTANCES} instances / {INTERFACES} interfaces, {} bytes: min {:.1} ms, median {:.1} ms, max {:.1} ms (target < 100 ms)",
        text.len(),
        times[0].as_secs_f64() * 1e3,
        times[times.len() / 2].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
    );
}
