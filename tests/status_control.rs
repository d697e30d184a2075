//! End to end, the control socket and the metrics endpoint (extensions) on daemons in
//! network namespaces (scripts/lab.sh). Needs root; without it the tests print a notice
//! and pass, unless CI is set.
//!
//! Covered: `--status` and `--status --json` on a running pair show the right Master and
//! the reason of each transition through a failover (SIGKILL of the Master) and a
//! preemption; the socket is 0600 beside the pid file, unknown instances and a missing
//! daemon give a clear error and exit 1, the socket is removed at exit; clients that
//! connect and send nothing (16 on the control socket, 20 on HTTP, beyond the caps) and
//! one that never reads its answer do not delay the 10 ms adverts (tshark capture), extra
//! clients are refused at once, the silent ones are dropped after their 5 s; the metrics
//! endpoint is scraped with curl and parsed by prometheus_client's OpenMetrics and
//! Prometheus parsers, with the series the exporter's dashboards use; 404 / 405.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

mod sys_util;

use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use sys_util::*;

/// The tests measure timing: run them one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

const VIP: &str = "10.77.0.100";
const METRICS: &str = "127.0.0.1:9650";

fn conf(prio: u8, interval: &str) -> String {
    format!(
        "global_defs {{
    metrics_listen {METRICS}
}}
vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 42
    priority {prio}
    advert_int {interval}
    version 3
    virtual_ipaddress {{
        {VIP}/24
    }}
}}
"
    )
}

/// `keepalived-rs --status ARGS -p PID`: (exit code, stdout, stderr).
fn status(pid_file: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_keepalived-rs"))
        .arg("--status")
        .args(args)
        .arg("-p")
        .arg(pid_file)
        .output()
        .expect("keepalived-rs --status");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A field of the text status (`  name   value`), first occurrence.
fn field(text: &str, name: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let rest = l.trim_start().strip_prefix(name)?;
        rest.starts_with("  ").then(|| rest.trim().to_string())
    })
}

/// Runs a Python snippet with `arg`; returns stdout (fails the test on error).
fn python(code: &str, arg: &Path) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(code)
        .arg(arg)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "python failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `state|master address|reason` of VI_1 from `--status --json`, read by Python's json.
fn json_summary(pid_file: &Path, lab: &Lab, tag: &str) -> String {
    let (code, out, err) = status(pid_file, &["--json", "VI_1"]);
    assert_eq!(code, 0, "--status --json: {err}");
    let file = lab.file(&format!("{tag}.json"));
    std::fs::write(&file, &out).unwrap();
    python(
        "import json,sys\n\
         d=json.load(open(sys.argv[1]))\n\
         i=d['instances'][0]\n\
         assert d['program']=='keepalived-rs' and len(d['instances'])==1\n\
         print('%s|%s|%s' % (i['state'], (i['master'] or {}).get('address'), i['last_transition_reason']))",
        &file,
    )
    .trim()
    .to_string()
}

/// Python's reading of a metrics text: one `name labels value` line per sample, labels
/// sorted, by prometheus_client's OpenMetrics parser (`openmetrics`) or its Prometheus
/// text parser.
fn parse_metrics(file: &Path, openmetrics: bool) -> Vec<String> {
    let module = if openmetrics {
        "prometheus_client.openmetrics.parser"
    } else {
        "prometheus_client.parser"
    };
    let code = format!(
        "import sys\n\
         from {module} import text_string_to_metric_families as parse\n\
         for f in parse(open(sys.argv[1]).read()):\n\
         \x20   for s in f.samples:\n\
         \x20       print(s.name, ','.join('%s=%s' % kv for kv in sorted(s.labels.items())), float(s.value))\n"
    );
    python(&code, file)
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn status_shows_the_master_and_the_reason_of_each_transition() {
    if !require_root("status_shows_the_master_and_the_reason_of_each_transition") {
        return;
    }
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new(2, 1);
    let r1 = Daemon::start(&lab, "r1", "r1", &conf(200, "0.1"));
    let mut r2 = Daemon::start(&lab, "r2", "r2", &conf(100, "0.1"));
    let (p1, p2) = (lab.file("r1.pid"), lab.file("r2.pid"));
    assert!(
        wait_for(Duration::from_secs(5), || lab.holders(VIP) == ["r1"]),
        "r1 not master: {:?}\n{}",
        lab.holders(VIP),
        r1.log_text()
    );
    // The socket: beside the pid file, a socket, 0600.
    let sock = lab.file("r2.ctl");
    assert!(
        wait_for(Duration::from_secs(3), || sock.exists()),
        "no control socket\n{}",
        r2.log_text()
    );
    let meta = std::fs::symlink_metadata(&sock).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);

    let (code, text, err) = status(&p2, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(field(&text, "state").as_deref(), Some("BACKUP"), "{text}");
    assert_eq!(
        field(&text, "address").as_deref(),
        Some("10.77.0.1"),
        "{text}"
    );
    assert_eq!(field(&text, "priority").as_deref(), Some("200"), "{text}");
    assert_eq!(
        field(&text, "last transition reason").as_deref(),
        Some("startup"),
        "{text}"
    );
    let (_, text1, _) = status(&p1, &[]);
    assert_eq!(field(&text1, "state").as_deref(), Some("MASTER"), "{text1}");
    assert_eq!(
        field(&text1, "last transition reason").as_deref(),
        Some("master down timer")
    );
    assert_eq!(
        json_summary(&p2, &lab, "before"),
        "BACKUP|10.77.0.1|startup"
    );

    // Failover: the Master dies without a word.
    let mut r1 = r1;
    r1.kill();
    assert!(
        wait_for(Duration::from_secs(3), || lab.has_addr("r2", VIP)),
        "r2 did not take over\n{}",
        r2.log_text()
    );
    let (code, text, _) = status(&p2, &["VI_1"]);
    assert_eq!(code, 0);
    assert_eq!(field(&text, "state").as_deref(), Some("MASTER"), "{text}");
    assert_eq!(
        field(&text, "last transition reason").as_deref(),
        Some("master down timer"),
        "{text}"
    );
    assert_eq!(
        json_summary(&p2, &lab, "after"),
        "MASTER|10.77.0.2|master down timer"
    );

    // The metrics after the failover, scraped over HTTP in r2's namespace.
    let om = lab.file("metrics.om");
    lab.must(
        "r2",
        &format!(
            "curl -sf -H 'Accept: application/openmetrics-text; version=1.0.0' \
             -o {} http://{METRICS}/metrics",
            om.display()
        ),
    );
    let om_text = std::fs::read_to_string(&om).unwrap();
    assert!(om_text.ends_with("# EOF\n"), "OpenMetrics ends with # EOF");
    let samples = parse_metrics(&om, true);
    for want in [
        "keepalived_up 1.0",
        "keepalived_vrrp_state iname=VI_1,intf=eth0,ip_address=10.77.0.100/24,vrid=42 2.0",
        "keepalived_become_master_total iname=VI_1,intf=eth0,vrid=42 1.0",
        "keepalived_rs_conflicts_total iname=VI_1,intf=eth0,kind=DUAL_MASTER,vrid=42 0.0",
    ] {
        assert!(
            samples.iter().any(|s| s == want),
            "missing {want} in\n{}",
            samples.join("\n")
        );
    }
    for family in [
        "keepalived_advertisements_received_total",
        "keepalived_advertisements_sent_total",
        "keepalived_release_master_total",
        "keepalived_priority_zero_received_total",
        "keepalived_authentication_failure_total",
        "keepalived_rs_timer_lateness_max_seconds",
        "keepalived_rs_loop_wakeups_total",
    ] {
        assert!(
            samples.iter().any(|s| s.starts_with(&format!("{family} "))),
            "no {family}"
        );
    }
    // Prometheus text (no Accept): the same series, read by the Prometheus parser.
    let prom = lab.file("metrics.prom");
    let head = lab.must(
        "r2",
        &format!(
            "curl -sf -D - -o {} http://{METRICS}/metrics",
            prom.display()
        ),
    );
    assert!(
        head.contains("Content-Type: text/plain; version=0.0.4"),
        "{head}"
    );
    let prom_samples = parse_metrics(&prom, false);
    assert!(prom_samples
        .iter()
        .any(|s| s
            == "keepalived_vrrp_state iname=VI_1,intf=eth0,ip_address=10.77.0.100/24,vrid=42 2.0"));
    // And on the control socket.
    let (code, out, _) = status(&p2, &["--metrics=openmetrics"]);
    assert_eq!(code, 0);
    let sock_om = lab.file("socket.om");
    std::fs::write(&sock_om, out).unwrap();
    assert!(parse_metrics(&sock_om, true)
        .iter()
        .any(|s| s.starts_with("keepalived_vrrp_state ")));
    // Other paths and methods.
    let codes = lab.must(
        "r2",
        &format!(
            "curl -s -o /dev/null -w '%{{http_code}} ' http://{METRICS}/; \
             curl -s -o /dev/null -w '%{{http_code}}' -X POST http://{METRICS}/metrics"
        ),
    );
    assert_eq!(codes.trim(), "404 405");

    // r1 comes back with the higher priority and preempts.
    let _r1 = Daemon::start(&lab, "r1", "r1b", &conf(200, "0.1"));
    assert!(
        wait_for(Duration::from_secs(5), || lab.holders(VIP) == ["r1"]),
        "r1 did not preempt: {:?}",
        lab.holders(VIP)
    );
    assert_eq!(
        json_summary(&p2, &lab, "preempted"),
        "BACKUP|10.77.0.1|higher priority advert from 10.77.0.1 (priority 200)"
    );

    // Errors: an unknown instance, no daemon.
    let (code, _, err) = status(&p2, &["NOPE"]);
    assert_eq!(code, 1);
    assert!(err.contains("no VRRP instance named NOPE"), "{err}");
    let (code, _, err) = status(&lab.file("none.pid"), &[]);
    assert_eq!(code, 1);
    assert!(err.contains("none.ctl: no control socket there"), "{err}");

    // The socket goes with the daemon.
    r2.signal(libc::SIGTERM);
    assert_eq!(r2.wait_exit(Duration::from_secs(5)), Some(0));
    assert!(!sock.exists(), "control socket left after exit");
    let (code, _, err) = status(&p2, &[]);
    assert_eq!(code, 1, "{err}");
}

/// (time, priority) of every VRRP advert in a capture.
fn adverts(cap: &mut Capture) -> Vec<f64> {
    cap.stop(&["frame.time_epoch", "vrrp.prio"], "vrrp")
        .into_iter()
        .filter_map(|f| f.first()?.parse().ok())
        .collect()
}

#[test]
fn silent_and_slow_clients_do_not_delay_adverts() {
    if !require_root("silent_and_slow_clients_do_not_delay_adverts") {
        return;
    }
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new(1, 1);
    let r1 = Daemon::start(&lab, "r1", "r1", &conf(200, "0.01"));
    assert!(
        wait_for(Duration::from_secs(3), || lab.holders(VIP) == ["r1"]),
        "r1 not master\n{}",
        r1.log_text()
    );
    let sock = lab.file("r1.ctl");
    assert!(wait_for(Duration::from_secs(3), || sock.exists()));
    // 20 HTTP connections that send nothing, for 6 s, from inside the namespace.
    let mut http_silent = Command::new("ip")
        .args(["netns", "exec", &lab.ns("r1"), "python3", "-c"])
        .arg(
            "import socket,time\n\
             s=[socket.create_connection(('127.0.0.1',9650)) for _ in range(20)]\n\
             time.sleep(6)\n",
        )
        .spawn()
        .expect("python3");
    // 16 silent control clients fill the slots; 4 more are refused at once.
    let opened = Instant::now();
    let mut silent: Vec<UnixStream> = (0..16)
        .map(|_| UnixStream::connect(&sock).expect("connect"))
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    for _ in 0..4 {
        let mut s = UnixStream::connect(&sock).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        assert!(
            answer.starts_with("ERR busy"),
            "an extra client was not refused at once: {answer:?}"
        );
    }
    // And one that asks for the metrics and never reads them.
    let mut slow = UnixStream::connect(&sock);
    if let Ok(s) = slow.as_mut() {
        let _ = s.write_all(b"metrics\n");
    }
    let mut cap = Capture::start(&lab, "br0", "silent", "ip proto 112");
    std::thread::sleep(Duration::from_secs(3));
    let adv = adverts(&mut cap);
    let span = adv.last().copied().unwrap_or(0.0) - adv.first().copied().unwrap_or(0.0);
    let max_gap = adv.windows(2).map(|w| w[1] - w[0]).fold(0.0f64, f64::max);
    let mean_gap = span / (adv.len().max(2) - 1) as f64;
    eprintln!(
        "silent clients: {} adverts in {span:.2} s, mean spacing {:.2} ms, largest gap {:.2} ms",
        adv.len(),
        mean_gap * 1000.0,
        max_gap * 1000.0
    );
    assert!(span > 2.5, "capture too short: {span:.2} s");
    // As netns_e2e's hung-script test: 30 % on the mean spacing, no hole over 50 ms (a
    // loop that waited for one of these clients would stop advertising for seconds).
    assert!(
        mean_gap < 0.013,
        "only {} adverts in {span:.2} s",
        adv.len()
    );
    assert!(
        max_gap < 0.050,
        "adverts stopped for {:.1} ms",
        max_gap * 1000.0
    );
    // The silent clients are dropped after 5 s (bounded wait), and the daemon answers.
    for s in &mut silent {
        s.set_read_timeout(Some(Duration::from_secs(8))).unwrap();
        let mut buf = [0u8; 16];
        let n = s.read(&mut buf).unwrap_or(usize::MAX);
        assert_eq!(n, 0, "a silent client was not closed");
    }
    let dropped_after = opened.elapsed();
    assert!(
        dropped_after >= Duration::from_millis(4500) && dropped_after < Duration::from_secs(9),
        "silent clients closed after {dropped_after:?}"
    );
    let _ = http_silent.wait();
    let (code, text, err) = status(&lab.file("r1.pid"), &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(field(&text, "state").as_deref(), Some("MASTER"));
    let (_, metrics, _) = status(&lab.file("r1.pid"), &["--metrics"]);
    let timeouts = metrics
        .lines()
        .find_map(|l| l.strip_prefix("keepalived_rs_control_timeouts_total "))
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    assert!(timeouts >= 16 + 16, "timeouts counted: {timeouts}");
    drop(r1);
}
