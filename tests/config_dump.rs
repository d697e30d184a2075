//! `--dump-conf` is stable: for every shipped sample, dump -> load_str(dump) -> dump gives
//! identical text, and the dump itself loads without new diagnostics.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

use keepalived_rs::config::{self, dump::dump, LoadOptions};
use std::path::{Path, PathBuf};

const SAMPLES: &str = "/usr/share/doc/keepalived/samples";

fn samples() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(SAMPLES)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("keepalived.conf."))
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn dump_round_trips_on_every_sample() {
    let files = samples();
    if files.is_empty() {
        assert!(
            std::env::var_os("CI").is_none(),
            "no samples under {SAMPLES}"
        );
        eprintln!("skipping: no samples under {SAMPLES}");
        return;
    }
    let opts = LoadOptions::default();
    for f in &files {
        let first = config::load(f, &opts);
        let text = dump(&first.config);
        let again = config::load_str(&text, Path::new("dump.conf"), &opts);
        // Reloading the dump may only repeat problems of the original (a route without
        // dev stays one), never add new ones.
        let before: Vec<&str> = first
            .diagnostics
            .iter()
            .map(|d| d.message.as_str())
            .collect();
        let new: Vec<String> = again
            .diagnostics
            .iter()
            .filter(|d| !before.contains(&d.message.as_str()))
            .map(|d| d.to_string())
            .collect();
        assert!(
            new.is_empty(),
            "{}: the dump does not load cleanly: {new:#?}\n{text}",
            f.display()
        );
        let text2 = dump(&again.config);
        assert_eq!(text, text2, "{}: dump is not stable", f.display());
        assert_eq!(first.config.instances.len(), again.config.instances.len());
        assert_eq!(
            first.config.virtual_servers.len(),
            again.config.virtual_servers.len()
        );
    }
}

#[test]
fn dump_writes_defaults_explicitly() {
    let text = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 7\n virtual_ipaddress { 10.0.0.1/24 }\n}\n";
    let l = config::load_str(text, Path::new("t.conf"), &LoadOptions::default());
    assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
    let d = dump(&l.config);
    for needle in [
        "priority 100",
        "advert_int 1",
        "version 2",
        "garp_master_delay 5",
        "garp_master_repeat 5",
        "down_timer_adverts 3",
        "accept",
        "strict_mode off",
        "10.0.0.1/24",
        "vrrp_mcast_group4 224.0.0.18",
    ] {
        assert!(d.contains(needle), "missing {needle:?} in\n{d}");
    }
}

/// tests/dump/kitchen_sink.conf uses nearly every keyword: it loads cleanly, its dump
/// reloads cleanly into the same dump, and every block kind survives.
#[test]
fn kitchen_sink_round_trips() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dump/kitchen_sink.conf");
    let opts = LoadOptions::default();
    let first = config::load(&path, &opts);
    let diags: Vec<String> = first.diagnostics.iter().map(|d| d.to_string()).collect();
    assert!(diags.is_empty(), "{diags:#?}");
    let c = &first.config;
    assert_eq!(c.instances.len(), 2);
    assert_eq!(c.virtual_servers.len(), 3);
    assert_eq!(
        c.global.metrics_listen,
        Some("[::1]:9650".parse().unwrap()),
        "metrics_listen (extension)"
    );
    assert_eq!(c.virtual_servers[0].real_servers[0].checkers.len(), 10);
    let text = dump(c);
    let again = config::load_str(&text, Path::new("dump.conf"), &opts);
    let diags: Vec<String> = again.diagnostics.iter().map(|d| d.to_string()).collect();
    assert!(diags.is_empty(), "{diags:#?}\n{text}");
    assert_eq!(text, dump(&again.config), "unstable dump");
    for needle in [
        "net_namespace_ipvs\n",
        "lvs_sync_daemon eth1 inst VI_1 id 7 maxlen 1400 port 8848 ttl 2 group 224.0.0.81",
        "linkbeat_interfaces {",
        "interface_up_down_delays {",
        "track_group TG {",
        "garp_group {",
        "static_ipaddress {",
        "static_routes {",
        "static_rules {",
        "bfd_instance B1 {",
        "min_tx 30.5",
        "vrrp_script chk_web {",
        "track_file tf {",
        "init_file 5 overwrite",
        "vrrp_track_process haproxy {",
        "vrrp_sync_group SG {",
        "auth_pass \"s3cr3t!x\"",
        "use_vmac vrrp10 02:00:00:00:00:0a",
        "notify_deleted\n",
        "SSL {",
        "virtual_server_group WEB {",
        "2001:db8::100-2001:db8::1ff 80",
        "lvs_method TUN type gue port 6080 csum",
        "misc_path \"/usr/local/bin/check 'a b'\"",
        "require_reply ff x1",
        "payload 01 02 ab",
        "status_code 200 300-399",
        "advert_int 0.05",
        "10.9.0.0/16 table 100 metric 5 realms 3/4 mtu lock 1400 rtt 10ms features ecn congctl lock cubic no_track nexthop via 192.0.2.254 dev eth1 weight 2 nexthop via 192.0.2.253 dev eth2 onlink",
        "default6 via fe80::1 dev eth1 pref 1 expires 60",
        "2001:db8:5::/48 from 2001:db8:6::/48 dev eth1 scope 253 encap mpls 100/200",
        "not from 192.0.2.0/24 to 198.51.100.0/24 iif eth1 fwmark 0x5/0xff tos 16 uidrange 1000-2000 ipproto 6 sport 80-90 dport 100-200 priority 201 table 11",
        "to 203.0.113.0/24 priority 202 goto 300",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}
