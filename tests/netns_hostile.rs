//! End to end: every class of malformed or malicious advert, injected into a live pair by a
//! third host on the segment (a raw-socket sender written here in Python), changes no
//! state and is counted. For each class the test asserts that the Master stays Master,
//! the Backup stays Backup, the VIP stays on the Master only, nobody became Master again,
//! and the counter of that class (read from `--status --metrics`, per instance plus the
//! host's counter for packets no instance claims) grew by at least the packets sent. The
//! foreign-VRID flood (10 000 packets/s) also shows that its log lines are rate-limited.
//! Needs root; without it the test prints a notice and passes, unless CI is set.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

mod sys_util;

use std::path::Path;
use std::process::Command;
use std::time::Duration;
use sys_util::*;

const VIP: &str = "10.77.0.100";
const ATTACKER: &str = "10.77.0.3";

fn conf(prio: u8) -> String {
    format!(
        "global_defs {{
    router_id r{prio}
}}
vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority {prio}
    advert_int 1
    authentication {{
        auth_type PASS
        auth_pass secret
    }}
    virtual_ipaddress {{
        {VIP}/24
    }}
}}
"
    )
}

/// The injector: `python3 - CLASS COUNT RATE` in the attacker's namespace. Every packet
/// goes out of eth0 to 224.0.0.18 with a hand-made IPv4 header (IP_HDRINCL).
const INJECTOR: &str = r#"
import socket, struct, sys, time
cls, count, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
SRC, DST = "10.77.0.3", "224.0.0.18"

def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

def vrrp(vrid=51, prio=150, ips=("10.77.0.100",), auth_type=1, pw=b"secret\0\0",
         adv=1, ver=2, typ=1, count=None, bad_sum=False):
    n = len(ips) if count is None else count
    body = struct.pack("!BBBBBBH", (ver << 4) | typ, vrid, prio, n, auth_type, adv, 0)
    body += b"".join(socket.inet_aton(i) for i in ips) + pw
    c = csum(body) ^ (0x5a5a if bad_sum else 0)
    return body[:6] + struct.pack("!H", c) + body[8:]

def ip(payload, ttl=255):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0xc0, 20 + len(payload), 0, 0, ttl, 112, 0,
                    socket.inet_aton(SRC), socket.inet_aton(DST))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload

packets = {
    "ttl": ip(vrrp(), ttl=64),
    "version": ip(vrrp(ver=4)),
    "type": ip(vrrp(typ=2)),
    "checksum": ip(vrrp(bad_sum=True)),
    "truncated": ip(vrrp()[:10]),
    "count": ip(vrrp(count=4)),
    "auth": ip(vrrp(pw=b"guessed\0")),
    "interval": ip(vrrp(adv=3)),
    "interval0": ip(vrrp(adv=0)),
    "vrid_flood": ip(vrrp(vrid=99)),
    "prio0_flood": ip(vrrp(prio=0)),
    "impostor": ip(vrrp(prio=255, pw=b"letmein\0")),
    "impostor_noauth": ip(vrrp(prio=255, auth_type=0, pw=b"\0" * 8)),
}
pkt = packets[cls]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
start = time.monotonic()
for k in range(count):
    due = start + k / rate
    while time.monotonic() < due:
        pass
    s.sendto(pkt, (DST, 0))
print("sent", count)
"#;

/// One attack class: packets sent, at what rate, and the discard reasons (labels of
/// `keepalived_rs_packets_discarded` / `keepalived_rs_host_packets_discarded`, or a whole
/// metric name) whose sum must grow by at least `count` on the Master.
struct Class {
    name: &'static str,
    count: u32,
    rate: f64,
    counted_as: &'static [&'static str],
}

const CLASSES: &[Class] = &[
    Class {
        name: "ttl",
        count: 20,
        rate: 100.0,
        counted_as: &["ttl"],
    },
    Class {
        name: "version",
        count: 20,
        rate: 100.0,
        counted_as: &["version"],
    },
    Class {
        name: "type",
        count: 20,
        rate: 100.0,
        counted_as: &["type"],
    },
    Class {
        name: "checksum",
        count: 20,
        rate: 100.0,
        counted_as: &["checksum"],
    },
    Class {
        name: "truncated",
        count: 20,
        rate: 100.0,
        counted_as: &["length"],
    },
    Class {
        name: "count",
        count: 20,
        rate: 100.0,
        counted_as: &["length", "address"],
    },
    Class {
        name: "auth",
        count: 20,
        rate: 100.0,
        counted_as: &["auth"],
    },
    Class {
        name: "interval",
        count: 20,
        rate: 100.0,
        counted_as: &["interval"],
    },
    Class {
        name: "interval0",
        count: 20,
        rate: 100.0,
        counted_as: &["interval", "address"],
    },
    Class {
        name: "vrid_flood",
        count: 20_000,
        rate: 10_000.0,
        counted_as: &["vrid"],
    },
    Class {
        name: "prio0_flood",
        count: 2_000,
        rate: 1_000.0,
        counted_as: &["keepalived_priority_zero_received"],
    },
    Class {
        name: "impostor",
        count: 20,
        rate: 100.0,
        counted_as: &["auth"],
    },
    Class {
        name: "impostor_noauth",
        count: 20,
        rate: 100.0,
        counted_as: &["auth"],
    },
];

/// `keepalived-rs --status --metrics` of the daemon whose pid file is `pid`.
fn metrics(pid: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_keepalived-rs"))
        .args(["--status", "--metrics", "-p"])
        .arg(pid)
        .output()
        .expect("keepalived-rs --status --metrics");
    assert!(
        out.status.success(),
        "--status --metrics: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The value of one sample line `NAME{labels} VALUE`.
fn sample_value(line: &str) -> f64 {
    line.rsplit(' ')
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// The sum over every sample of metric `name` (with or without `_total`) whose labels
/// contain `label` (empty: any).
fn metric_sum(text: &str, name: &str, label: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            let metric = l.split(['{', ' ']).next().unwrap_or_default();
            metric == name || metric.strip_suffix("_total") == Some(name)
        })
        .filter(|l| label.is_empty() || l.contains(label))
        .map(sample_value)
        .sum()
}

/// What a class's packets count as, summed.
fn counted(text: &str, class: &Class) -> f64 {
    class
        .counted_as
        .iter()
        .map(|what| {
            if what.starts_with("keepalived_") {
                metric_sum(text, what, "")
            } else {
                let label = format!("reason=\"{what}\"");
                metric_sum(text, "keepalived_rs_packets_discarded", &label)
                    + metric_sum(text, "keepalived_rs_host_packets_discarded", &label)
            }
        })
        .sum()
}

fn state_of(text: &str) -> String {
    // keepalived_vrrp_state: 0 init, 1 backup, 2 master, 3 fault (the exporter's codes).
    let v = metric_sum(text, "keepalived_vrrp_state", "");
    match v as i64 {
        1 => "BACKUP".into(),
        2 => "MASTER".into(),
        n => format!("state {n}"),
    }
}

#[test]
fn hostile_adverts_change_no_state_and_are_counted() {
    if !require_root("hostile_adverts_change_no_state_and_are_counted") {
        return;
    }
    ensure_installed("/usr/bin/python3", "python3");
    let lab = Lab::new(3, 1);
    let r1 = Daemon::start(&lab, "r1", "r1", &conf(200));
    let r2 = Daemon::start(&lab, "r2", "r2", &conf(100));
    let pid1 = lab.file("r1.pid");
    let pid2 = lab.file("r2.pid");
    assert!(
        wait_for(Duration::from_secs(8), || lab.holders(VIP) == ["r1"]
            && pid2.exists()
            && state_of(&metrics(&pid2)) == "BACKUP"),
        "r1 never became the only Master: {:?}\n{}\n{}",
        lab.holders(VIP),
        r1.log_text(),
        r2.log_text()
    );
    let injector = lab.file("inject.py");
    std::fs::write(&injector, INJECTOR).expect("write injector");
    let became = |pid: &Path| metric_sum(&metrics(pid), "keepalived_become_master", "");
    let (became1, became2) = (became(&pid1), became(&pid2));
    for class in CLASSES {
        let before = counted(&metrics(&pid1), class);
        let out = lab.must(
            "r3",
            &format!(
                "python3 {} {} {} {}",
                injector.display(),
                class.name,
                class.count,
                class.rate
            ),
        );
        assert!(out.contains("sent"), "{}: injector: {out}", class.name);
        // Let the last packets and one real advert through.
        std::thread::sleep(Duration::from_millis(1200));
        let m1 = metrics(&pid1);
        let m2 = metrics(&pid2);
        let grew = counted(&m1, class) - before;
        eprintln!(
            "{}: {} sent, counted {grew} as {:?}",
            class.name, class.count, class.counted_as
        );
        assert!(
            grew >= f64::from(class.count),
            "{}: {} sent, the Master counted {grew} as {:?}\n{m1}",
            class.name,
            class.count,
            class.counted_as
        );
        assert_eq!(
            state_of(&m1),
            "MASTER",
            "{}: r1 left MASTER\n{}",
            class.name,
            r1.log_text()
        );
        assert_eq!(
            state_of(&m2),
            "BACKUP",
            "{}: r2 left BACKUP\n{}",
            class.name,
            r2.log_text()
        );
        assert_eq!(
            lab.holders(VIP),
            ["r1"],
            "{}: VIP holders changed",
            class.name
        );
        assert_eq!(
            became(&pid1),
            became1,
            "{}: r1 became Master again",
            class.name
        );
        assert_eq!(became(&pid2), became2, "{}: r2 became Master", class.name);
        // Nothing was answered on behalf of the impostor: no ATTACKER address anywhere.
        assert!(!lab.has_addr("r1", ATTACKER) && !lab.has_addr("r2", ATTACKER));
    }
    // 20 000 adverts for a VRID nobody runs: logged, but a handful of lines, not 20 000.
    let log = r1.log_text();
    let vrid_lines = log
        .lines()
        .filter(|l| l.contains("VRID 99") || l.contains("vrid 99"))
        .count();
    assert!(
        (1..=40).contains(&vrid_lines),
        "foreign VRID flood: {vrid_lines} log lines on r1 (want 1..=40, rate-limited)\n{}",
        log.lines().rev().take(60).collect::<Vec<_>>().join("\n")
    );
}
