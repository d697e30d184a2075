//! Prometheus / OpenMetrics text exposition of the status (an extension of keepalived-rs):
//! `keepalived-rs --status --metrics` on the control socket and `GET /metrics` on
//! `metrics_listen`. Pure: rendered from the same [`Snapshot`] as the dumps, plus the
//! world's own figures ([`WorldMetric`]: loop wake-ups, timer lateness, I/O counters).
//!
//! Names, labels and values of mehdy/keepalived-exporter, so that its dashboards and alerts
//! carry over: `keepalived_up`; `keepalived_vrrp_state{iname,intf,vrid,ip_address}` (one
//! series per VIP, or one with an empty `ip_address` for an instance without VIPs; values
//! 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT, as keepalived.json's `state`, 98 STOP);
//! `keepalived_vrrp_excluded_state` (per excluded VIP); the counters of keepalived.stats
//! (`keepalived_advertisements_received_total{iname,intf,vrid}`, ...);
//! `keepalived_script_status{name}` (0 BAD, 1 GOOD) and `keepalived_script_state{name}`
//! (0 idle, 1 running). Our own figures are named `keepalived_rs_*`.
//!
//! Real servers and checkers (mehdy/keepalived-exporter has no LVS families; IPVS's own
//! figures are node_exporter's `node_ipvs_*`): `keepalived_lvs_rs_up{vs,rs}` (1 up, 0
//! down), `keepalived_lvs_rs_weight{vs,rs}` (effective weight),
//! `keepalived_lvs_rs_transitions_total{vs,rs,to}` (`to` = up | down),
//! `keepalived_checker_up{vs,rs,checker,index}` (1 up, 0 down; not-implemented checkers
//! absent), `keepalived_checker_checks_total` and `keepalived_checker_failures_total`
//! (same labels; failures count every failed attempt, retries included).
//!
//! Each group of families is one function of [`FAMILIES`].

use super::json::state_number;
use super::snapshot::{InstanceStatus, Snapshot, TrackKind};
use super::text::vip;
use super::HostFacts;
use crate::vrrp::conflict::ConflictKind;
use crate::vrrp::stats::Stats;
use std::fmt::Write as _;

/// The two text formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text exposition 0.0.4 (what scrapers accept by default).
    Prometheus,
    /// OpenMetrics 1.0.0: counters typed by family name (without `_total`), `# EOF` last.
    OpenMetrics,
}

impl Format {
    /// The `Content-Type` of an HTTP answer in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Prometheus => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }

    /// The format a scraper asks for in its `Accept` header: OpenMetrics when it names
    /// `application/openmetrics-text`, else Prometheus text.
    pub fn from_accept(accept: Option<&str>) -> Format {
        match accept {
            Some(a) if a.contains("application/openmetrics-text") => Format::OpenMetrics,
            _ => Format::Prometheus,
        }
    }
}

/// Counter or gauge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricKind {
    Counter,
    Gauge,
}

/// A figure the world knows and the engine does not (the loop, its sockets and children).
#[derive(Clone, Debug, PartialEq)]
pub struct WorldMetric {
    /// Family name; a counter's samples get `_total` appended.
    pub name: &'static str,
    pub help: &'static str,
    pub kind: MetricKind,
    pub value: f64,
}

type Labels = Vec<(&'static str, String)>;

/// One metric family and its samples.
struct Family {
    /// Without `_total` for counters.
    name: &'static str,
    help: &'static str,
    kind: MetricKind,
    samples: Vec<(Labels, f64)>,
}

/// Families in the order they are added.
#[derive(Default)]
struct Exposition {
    families: Vec<Family>,
}

impl Exposition {
    /// Adds a sample to family `name` (created at its first sample).
    fn add(
        &mut self,
        name: &'static str,
        help: &'static str,
        kind: MetricKind,
        labels: Labels,
        value: f64,
    ) {
        match self.families.iter_mut().find(|f| f.name == name) {
            Some(f) => f.samples.push((labels, value)),
            None => self.families.push(Family {
                name,
                help,
                kind,
                samples: vec![(labels, value)],
            }),
        }
    }

    fn counter(&mut self, name: &'static str, help: &'static str, labels: Labels, v: u64) {
        self.add(name, help, MetricKind::Counter, labels, v as f64);
    }

    fn gauge(&mut self, name: &'static str, help: &'static str, labels: Labels, v: f64) {
        self.add(name, help, MetricKind::Gauge, labels, v);
    }
}

/// What a family function sees.
struct Input<'a> {
    snap: &'a Snapshot,
    facts: &'a HostFacts,
}

/// The families, in order.
const FAMILIES: &[fn(&Input, &mut Exposition)] = &[
    up,
    vrrp_state,
    vrrp_counters,
    scripts,
    instances_ext,
    conflicts,
    tracking_ext,
    host_ext,
    real_servers,
];

/// The whole exposition: the snapshot's families, then the world's.
pub fn render_metrics(
    snap: &Snapshot,
    facts: &HostFacts,
    world: &[WorldMetric],
    format: Format,
) -> String {
    let input = Input { snap, facts };
    let mut e = Exposition::default();
    for f in FAMILIES {
        f(&input, &mut e);
    }
    for w in world {
        e.add(w.name, w.help, w.kind, Vec::new(), w.value);
    }
    let mut out = String::new();
    for f in &e.families {
        let (type_name, sample_name) = match (f.kind, format) {
            (MetricKind::Counter, Format::OpenMetrics) => {
                (f.name.to_string(), format!("{}_total", f.name))
            }
            (MetricKind::Counter, Format::Prometheus) => {
                let n = format!("{}_total", f.name);
                (n.clone(), n)
            }
            (MetricKind::Gauge, _) => (f.name.to_string(), f.name.to_string()),
        };
        let kind = match f.kind {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
        };
        let _ = writeln!(out, "# HELP {type_name} {}", escape_help(f.help));
        let _ = writeln!(out, "# TYPE {type_name} {kind}");
        for (labels, value) in &f.samples {
            out.push_str(&sample_name);
            if !labels.is_empty() {
                out.push('{');
                for (k, (name, v)) in labels.iter().enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "{name}=\"{}\"", escape_label(v));
                }
                out.push('}');
            }
            let _ = writeln!(out, " {}", number(*value));
        }
    }
    if format == Format::OpenMetrics {
        out.push_str("# EOF\n");
    }
    out
}

/// A label value: backslash, double quote and newline escaped.
fn escape_label(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A HELP text: backslash and newline escaped.
fn escape_help(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Integers without a fraction, others as the shortest decimal that reads back the same.
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if v.fract() == 0.0 && v.abs() < 9.007_199_254_740_992e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// `iname`, `intf`, `vrid` of an instance, as the exporter sets them (`intf` is
/// keepalived.json's `ifp_ifname`).
fn base_labels(i: &InstanceStatus) -> Labels {
    vec![
        ("iname", i.cfg.name.clone()),
        ("intf", i.vip_ifname.clone()),
        ("vrid", i.cfg.vrid.to_string()),
    ]
}

fn with(mut labels: Labels, name: &'static str, value: impl Into<String>) -> Labels {
    labels.push((name, value.into()));
    labels
}

fn up(_: &Input, e: &mut Exposition) {
    e.gauge("keepalived_up", "Status", Vec::new(), 1.0);
    e.gauge(
        "keepalived_rs_build_info",
        "keepalived-rs version",
        vec![("version", env!("CARGO_PKG_VERSION").to_string())],
        1.0,
    );
}

/// (ip_address, intf) of a VIP as the exporter reads them from keepalived's VIP line:
/// its first and third words (address[/len], dev).
fn vip_words(i: &InstanceStatus, v: &crate::config::model::VirtualAddress) -> (String, String) {
    let dev = super::data::vip_dev(i);
    let line = vip(v, &dev, false);
    let mut words = line.split(' ');
    let addr = words.next().unwrap_or_default().to_string();
    let intf = words.nth(1).unwrap_or_default().to_string();
    (addr, intf)
}

fn vrrp_state(inp: &Input, e: &mut Exposition) {
    for i in &inp.snap.instances {
        let state = f64::from(state_number(i.state));
        let vrid = i.cfg.vrid.to_string();
        let series = |addr: String, intf: String| {
            vec![
                ("iname", i.cfg.name.clone()),
                ("intf", intf),
                ("vrid", vrid.clone()),
                ("ip_address", addr),
            ]
        };
        for v in &i.cfg.vips {
            let (addr, intf) = vip_words(i, v);
            e.gauge(
                "keepalived_vrrp_state",
                "State of vrrp",
                series(addr, intf),
                state,
            );
        }
        if i.cfg.vips.is_empty() {
            let labels = series(String::new(), i.vip_ifname.clone());
            e.gauge("keepalived_vrrp_state", "State of vrrp", labels, state);
        }
        for v in &i.cfg.excluded_vips {
            let (addr, intf) = vip_words(i, v);
            e.gauge(
                "keepalived_vrrp_excluded_state",
                "State of vrrp with excluded VIP",
                series(addr, intf),
                state,
            );
        }
    }
}

/// A counter of an instance: family name, help, how to read it.
type InstanceCounter = (&'static str, &'static str, fn(&Stats) -> u64);

/// keepalived.stats' counters, named as the exporter names them.
const COUNTERS: &[InstanceCounter] = &[
    (
        "keepalived_advertisements_received",
        "Advertisements received",
        |s| s.adverts_received,
    ),
    (
        "keepalived_advertisements_sent",
        "Advertisements sent",
        |s| s.adverts_sent,
    ),
    ("keepalived_become_master", "Became master", |s| {
        s.became_master
    }),
    ("keepalived_release_master", "Released master", |s| {
        s.released_master
    }),
    (
        "keepalived_packet_length_errors",
        "Packet length errors",
        |s| s.length_errors,
    ),
    (
        "keepalived_advertisements_interval_errors",
        "Advertisement interval errors",
        |s| s.interval_errors,
    ),
    ("keepalived_ip_ttl_errors", "TTL errors", |s| s.ttl_errors),
    (
        "keepalived_invalid_type_received",
        "Invalid type errors",
        |s| s.type_errors,
    ),
    (
        "keepalived_address_list_errors",
        "Address list errors",
        |s| s.address_list_errors,
    ),
    (
        "keepalived_authentication_invalid",
        "Authentication invalid",
        |s| s.auth_type_invalid,
    ),
    (
        "keepalived_authentication_mismatch",
        "Authentication mismatch",
        |s| s.auth_type_mismatch,
    ),
    (
        "keepalived_authentication_failure",
        "Authentication failure",
        |s| s.auth_failures,
    ),
    (
        "keepalived_priority_zero_received",
        "Priority zero received",
        |s| s.priority_zero_received,
    ),
    ("keepalived_priority_zero_sent", "Priority zero sent", |s| {
        s.priority_zero_sent
    }),
    (
        "keepalived_rs_vips_restored",
        "VIPs removed by someone else while Master, and put back (keepalived-rs)",
        |s| s.vips_restored,
    ),
];

fn vrrp_counters(inp: &Input, e: &mut Exposition) {
    for (name, help, get) in COUNTERS {
        for i in &inp.snap.instances {
            e.counter(name, help, base_labels(i), get(&i.stats));
        }
    }
    // The exporter exports keepalived.json's `garp_delay` (seconds) as a counter.
    for i in &inp.snap.instances {
        e.counter(
            "keepalived_gratuitous_arp_delay",
            "Gratuitous ARP delay",
            base_labels(i),
            i.cfg.garp.master_delay.as_secs(),
        );
    }
}

fn scripts(inp: &Input, e: &mut Exposition) {
    for s in &inp.snap.scripts {
        let labels = vec![("name", s.cfg.name.clone())];
        let ok = if s.ok { 1.0 } else { 0.0 };
        e.gauge(
            "keepalived_script_status",
            "Tracker Script Status",
            labels.clone(),
            ok,
        );
        let running = if s.running { 1.0 } else { 0.0 };
        e.gauge(
            "keepalived_script_state",
            "Tracker Script State",
            labels,
            running,
        );
    }
}

/// Real servers and their checkers.
fn real_servers(inp: &Input, e: &mut Exposition) {
    for vs in &inp.snap.virtual_servers {
        for rs in &vs.real_servers {
            let labels = vec![("vs", vs.name.clone()), ("rs", rs.name.clone())];
            e.gauge(
                "keepalived_lvs_rs_up",
                "Real server state (1 up, 0 down) as the health checkers decide it",
                labels.clone(),
                if rs.up { 1.0 } else { 0.0 },
            );
            e.gauge(
                "keepalived_lvs_rs_weight",
                "Real server effective weight",
                labels.clone(),
                f64::from(rs.weight),
            );
            for (to, n) in [("up", rs.up_transitions), ("down", rs.down_transitions)] {
                e.counter(
                    "keepalived_lvs_rs_transitions",
                    "Real server transitions",
                    with(labels.clone(), "to", to),
                    n,
                );
            }
            for (k, c) in rs.checkers.iter().enumerate().filter(|(_, c)| c.enabled) {
                let l = with(
                    with(labels.clone(), "checker", c.cfg.kind.keyword()),
                    "index",
                    k.to_string(),
                );
                e.gauge(
                    "keepalived_checker_up",
                    "Health checker state (1 up, 0 down)",
                    l.clone(),
                    if c.up { 1.0 } else { 0.0 },
                );
                e.counter(
                    "keepalived_checker_checks",
                    "Health checks run",
                    l.clone(),
                    c.checks,
                );
                e.counter(
                    "keepalived_checker_failures",
                    "Health checks failed (retries included)",
                    l,
                    c.failures,
                );
            }
        }
    }
}

/// Per-instance figures keepalived does not export.
fn instances_ext(inp: &Input, e: &mut Exposition) {
    for i in &inp.snap.instances {
        e.gauge(
            "keepalived_rs_instance_state",
            "State of the instance, one series each (0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT, 98 STOP)",
            base_labels(i),
            f64::from(state_number(i.state)),
        );
    }
    for i in &inp.snap.instances {
        e.gauge(
            "keepalived_rs_effective_priority",
            "Effective priority (tracking applied)",
            base_labels(i),
            f64::from(i.effective_priority),
        );
    }
    for i in &inp.snap.instances {
        e.gauge(
            "keepalived_rs_configured_priority",
            "Configured priority",
            base_labels(i),
            f64::from(i.cfg.priority),
        );
    }
    for i in &inp.snap.instances {
        if let Some(t) = i.last_transition {
            e.gauge(
                "keepalived_rs_last_transition_timestamp_seconds",
                "Wall-clock time of the last state change",
                base_labels(i),
                inp.facts.wall(t).as_f64(),
            );
        }
    }
    for i in &inp.snap.instances {
        let s = &i.stats;
        let reasons = [
            ("ttl", s.ttl_errors),
            ("version", s.version_errors),
            ("type", s.type_errors),
            ("length", s.length_errors),
            ("checksum", s.checksum_errors),
            ("vrid", s.vrid_errors),
            ("auth", s.auth_errors),
            ("interval", s.interval_errors),
            ("address", s.address_errors),
            ("unicast_src", s.unicast_src_errors),
        ];
        for (reason, n) in reasons {
            e.counter(
                "keepalived_rs_packets_discarded",
                "Adverts discarded by the receive checks, by check",
                with(base_labels(i), "reason", reason),
                n,
            );
        }
    }
}

/// VRID conflict alarms: episodes raised, and whether one is going on, per kind.
fn conflicts(inp: &Input, e: &mut Exposition) {
    for i in &inp.snap.instances {
        for kind in ConflictKind::ALL {
            let c = i.conflicts.iter().find(|c| c.kind == kind);
            e.counter(
                "keepalived_rs_conflicts",
                "VRID conflict episodes raised (DUAL_MASTER, ADDRESS_LIST, INTERVAL, OWNER)",
                with(base_labels(i), "kind", kind.word()),
                c.map_or(0, |c| c.episodes),
            );
        }
    }
    for i in &inp.snap.instances {
        for kind in ConflictKind::ALL {
            let active = i.conflicts.iter().any(|c| c.kind == kind && c.active);
            e.gauge(
                "keepalived_rs_conflict_active",
                "1 while a VRID conflict episode of this kind is going on",
                with(base_labels(i), "kind", kind.word()),
                if active { 1.0 } else { 0.0 },
            );
        }
    }
}

/// Tracked objects per instance, sync groups, track files and processes.
fn tracking_ext(inp: &Input, e: &mut Exposition) {
    let s = inp.snap;
    for i in &s.instances {
        for t in &i.tracked {
            let kind = match t.kind {
                TrackKind::Interface => "interface",
                TrackKind::Script => "script",
                TrackKind::File => "file",
                TrackKind::Process => "process",
            };
            let labels = vec![
                ("iname", i.cfg.name.clone()),
                ("kind", kind.to_string()),
                ("name", t.name.clone()),
            ];
            e.gauge(
                "keepalived_rs_tracked_fault",
                "1 while the tracked object puts the instance in FAULT",
                labels.clone(),
                if t.fault { 1.0 } else { 0.0 },
            );
            e.gauge(
                "keepalived_rs_tracked_priority_delta",
                "What the tracked object adds to the instance's priority now",
                labels,
                f64::from(t.delta),
            );
        }
    }
    for g in &s.groups {
        e.gauge(
            "keepalived_rs_sync_group_state",
            "State of the sync group (0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT)",
            vec![("group", g.cfg.name.clone())],
            f64::from(state_number(g.state)),
        );
    }
    for f in &s.files {
        if let Some(v) = f.value {
            e.gauge(
                "keepalived_rs_track_file_value",
                "Value read from the track_file",
                vec![("name", f.cfg.name.clone())],
                v as f64,
            );
        }
    }
    for p in &s.processes {
        if let Some(c) = p.count {
            e.gauge(
                "keepalived_rs_track_process_running",
                "Processes matching the vrrp_track_process",
                vec![("name", p.cfg.name.clone())],
                f64::from(c),
            );
        }
    }
}

/// Packets no instance claimed.
fn host_ext(inp: &Input, e: &mut Exposition) {
    let s = &inp.snap.host_stats;
    for (reason, n) in [
        ("vrid", s.vrid_errors),
        ("length", s.length_errors),
        ("checksum", s.checksum_errors),
        ("version", s.version_errors),
        ("type", s.type_errors),
    ] {
        e.counter(
            "keepalived_rs_host_packets_discarded",
            "VRRP packets no instance claimed, by check",
            vec![("reason", reason.to_string())],
            n,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_escapes() {
        assert_eq!(number(3.0), "3");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(1795836777.064097), "1795836777.064097");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(f64::NEG_INFINITY), "-Inf");
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(escape_help("x\\y\nz"), "x\\\\y\\nz");
    }

    #[test]
    fn accept_header_picks_the_format() {
        assert_eq!(Format::from_accept(None), Format::Prometheus);
        assert_eq!(
            Format::from_accept(Some(
                "application/openmetrics-text;version=1.0.0,text/plain;q=0.5"
            )),
            Format::OpenMetrics
        );
        assert_eq!(
            Format::from_accept(Some("text/plain;version=0.0.4")),
            Format::Prometheus
        );
    }
}
