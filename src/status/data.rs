//! `keepalived.data` (SIGUSR1): keepalived 2.2.7's sections, labels and indentation for
//! everything we run — global definitions, VRRP topology (one block per instance), sync
//! groups, scripts, track files, track processes, interfaces — then a `keepalived-rs`
//! section with what keepalived does not print. Lines keepalived prints about its own
//! internals (socket pool, file descriptors, debounce timers, SNMP/DBus settings) are not
//! written; README lists the differences.

use super::snapshot::*;
use super::text::{command, ed, secs, tf, vip, weight, yn};
use super::HostFacts;
use crate::config::model::{Auth, Family, GarpSettings, GlobalDefs, NotifyScripts, VrrpVersion};
use crate::vrrp::State;
use std::fmt::Write as _;

/// Appends one line (`writeln!` to a String cannot fail).
macro_rules! line {
    ($out:expr, $($arg:tt)*) => {{
        let _ = writeln!($out, $($arg)*);
    }};
}

/// The whole `keepalived.data` text.
pub fn render_data(snap: &Snapshot, facts: &HostFacts) -> String {
    let mut out = String::new();
    global(&mut out, &snap.global, facts);
    line!(out, "------< VRRP Topology >------");
    for inst in &snap.instances {
        instance(&mut out, inst, facts);
    }
    if !snap.groups.is_empty() {
        line!(out, "------< VRRP Sync groups >------");
        for g in &snap.groups {
            group(&mut out, g);
        }
    }
    if !snap.scripts.is_empty() {
        line!(out, "------< VRRP Scripts >------");
        for s in &snap.scripts {
            script(&mut out, s);
        }
    }
    if !snap.files.is_empty() {
        line!(out, "------< VRRP Track files >------");
        for f in &snap.files {
            file(&mut out, f);
        }
    }
    if !snap.processes.is_empty() {
        line!(out, "------< VRRP Track processes >------");
        for p in &snap.processes {
            process(&mut out, p);
        }
    }
    line!(out, "------< Interfaces >------");
    for i in &snap.interfaces {
        interface(&mut out, i, snap);
    }
    extensions(&mut out, snap, facts);
    out
}

fn opt_bool(b: Option<bool>) -> &'static str {
    match b {
        None => "unset",
        Some(b) => tf(b),
    }
}

pub(super) fn global(out: &mut String, g: &GlobalDefs, facts: &HostFacts) {
    line!(out, "------< Global definitions >------");
    let router_id = g.router_id.as_deref().unwrap_or(&facts.hostname);
    line!(out, " Router ID = {router_id}");
    line!(out, " Default smtp_alert = {}", opt_bool(g.smtp_alert));
    line!(
        out,
        " Default smtp_alert_vrrp = {}",
        opt_bool(g.smtp_alert_vrrp)
    );
    line!(
        out,
        " Default smtp_alert_checker = {}",
        opt_bool(g.smtp_alert_checker)
    );
    line!(
        out,
        " Checkers log all failures = {}",
        tf(g.checker_log_all_failures)
    );
    line!(
        out,
        " Dynamic interfaces = {}",
        tf(g.dynamic_interfaces.is_some())
    );
    let dflt = g.default_interface.as_deref().unwrap_or("eth0");
    line!(out, " Default interface = {dflt}");
    line!(out, " LVS flush = {}", tf(g.lvs_flush));
    line!(
        out,
        " FIFO write vrrp states on reload = {}",
        tf(g.fifo_write_vrrp_states_on_reload)
    );
    line!(
        out,
        " VRRP notify priority changes = {}",
        tf(g.vrrp_notify_priority_changes)
    );
    line!(out, " VRRP IPv4 mcast group = {}", g.vrrp_mcast_group4);
    line!(out, " VRRP IPv6 mcast group = {}", g.vrrp_mcast_group6);
    let garp = &g.vrrp_garp;
    garp_lines(out, " ", "refresh timer", garp);
    line!(
        out,
        " Num adverts before down = {}",
        g.vrrp_down_timer_adverts.unwrap_or(3)
    );
    line!(
        out,
        " Send advert after receive lower priority advert = {}",
        tf(!g.vrrp_lower_prio_no_advert)
    );
    line!(
        out,
        " Send advert after receive higher priority advert = {}",
        tf(g.vrrp_higher_prio_send_advert)
    );
    line!(
        out,
        " Gratuitous ARP interval = {:.6}",
        garp.interval.as_secs_f64()
    );
    line!(
        out,
        " Gratuitous NA interval = {:.6}",
        garp.na_interval.as_secs_f64()
    );
    let version = match g.vrrp_version {
        Some(VrrpVersion::V3) => 3,
        _ => 2,
    };
    line!(out, " VRRP default protocol version = {version}");
    line!(
        out,
        " VRRP check unicast_src = {}",
        tf(g.vrrp_check_unicast_src)
    );
    line!(
        out,
        " VRRP skip check advert addresses = {}",
        tf(g.vrrp_skip_check_adv_addr)
    );
    line!(out, " VRRP strict mode = {}", tf(g.vrrp_strict));
    line!(out, " Script security {}", ed(g.enable_script_security));
}

/// The six `Gratuitous ARP ...` lines (global: `refresh timer`, instance: `refresh`).
fn garp_lines(out: &mut String, indent: &str, refresh: &str, garp: &GarpSettings) {
    let lines = [
        ("delay", secs(garp.master_delay)),
        ("repeat", u64::from(garp.master_repeat)),
        (refresh, garp.master_refresh.map_or(0, secs)),
        ("refresh repeat", u64::from(garp.master_refresh_repeat)),
        ("lower priority delay", secs(garp.lower_prio_delay)),
        (
            "lower priority repeat",
            u64::from(garp.lower_prio_repeat.unwrap_or(0)),
        ),
    ];
    for (label, value) in lines {
        line!(out, "{indent}Gratuitous ARP {label} = {value}");
    }
}

/// `Advert interval = 1 sec` (v2) / `500 milli-sec` (v3).
fn interval(version: VrrpVersion, d: std::time::Duration) -> String {
    match version {
        VrrpVersion::V2 => format!("{} sec", d.as_secs()),
        VrrpVersion::V3 => format!("{} milli-sec", d.as_millis()),
    }
}

fn version_number(v: VrrpVersion) -> u8 {
    match v {
        VrrpVersion::V2 => 2,
        VrrpVersion::V3 => 3,
    }
}

fn instance(out: &mut String, i: &InstanceStatus, facts: &HostFacts) {
    let c = &i.cfg;
    let unicast = !c.unicast_peers.is_empty();
    line!(out, " VRRP Instance = {}", c.name);
    line!(out, "   VRRP Version = {}", version_number(c.version));
    if c.family == Family::Inet6 {
        line!(out, "   Using Native IPv6");
    }
    if let Some(g) = &i.sync_group {
        line!(out, "   Sync group = {g}");
    }
    line!(out, "   State = {}", i.state);
    if let (State::Backup, Some((addr, prio))) = (i.state, i.master_heard) {
        line!(out, "   Master router = {addr}");
        line!(out, "   Master priority = {prio}");
    }
    if unicast {
        line!(out, "   Flags:");
        line!(out, "     Using unicast");
    } else {
        line!(out, "   Flags: none");
    }
    line!(out, "   Wantstate = {}", i.wantstate);
    line!(
        out,
        "   Number of interface and track script faults = {}",
        i.faults
    );
    let last = facts.wall(i.last_transition.unwrap_or_default());
    line!(
        out,
        "   Last transition = {}",
        last.stamp(facts.utc_offset_secs)
    );
    match i.read_timeout {
        Some(t) if matches!(i.state, State::Master | State::Backup) => line!(
            out,
            "   Read timeout = {}",
            facts.wall(t).stamp(facts.utc_offset_secs)
        ),
        _ => line!(out, "   Read timeout = DISABLED"),
    }
    line!(
        out,
        "   Master down timer = {} usecs",
        i.down_interval.as_micros()
    );
    let base = c.interface.as_deref().unwrap_or("");
    match &c.use_vmac {
        Some(v) => {
            line!(
                out,
                "   Use VMAC, i/f name {}, is_up = {}, xmit_base = {}",
                v.name,
                tf(i.iface_up.unwrap_or(false)),
                tf(c.vmac_xmit_base)
            );
            line!(out, "   Interface = {}, vmac on {base}", v.name);
        }
        None => line!(out, "   Interface = {base}"),
    }
    if c.dont_track_primary {
        line!(out, "   VRRP interface tracking disabled");
    }
    if c.skip_check_adv_addr {
        line!(out, "   Skip checking advert IP addresses");
    }
    if let Some(src) = i.src_addr {
        let from = if i.src_from_config {
            " (from configuration)"
        } else {
            ""
        };
        line!(out, "   Using src_ip = {src}{from}");
    }
    if !unicast {
        if let Some(dst) = c.mcast_dst_ip {
            match (c.family, i.ifindex) {
                (Family::Inet6, Some(ix)) => line!(out, "   Multicast address {dst}, ifindex {ix}"),
                _ => line!(out, "   Multicast address {dst}"),
            }
        }
    }
    garp_lines(out, "   ", "refresh", &c.garp);
    line!(out, "   Down timer adverts = {}", c.down_timer_adverts);
    line!(
        out,
        "   Send advert after receive lower priority advert = {}",
        tf(!c.lower_prio_no_advert)
    );
    line!(
        out,
        "   Send advert after receive higher priority advert = {}",
        tf(c.higher_prio_send_advert)
    );
    line!(out, "   Virtual Router ID = {}", c.vrid);
    line!(out, "   Priority = {}", c.priority);
    line!(out, "   Effective priority = {}", i.effective_priority);
    line!(out, "   Total priority = {}", i.total_priority);
    line!(
        out,
        "   Advert interval = {}",
        interval(c.version, i.adver_int)
    );
    line!(out, "   Accept = {}", ed(c.accept));
    line!(out, "   Preempt = {}", ed(!c.nopreempt));
    if !c.preempt_delay.is_zero() {
        line!(out, "   Preempt delay = {} secs", c.preempt_delay.as_secs());
    }
    line!(
        out,
        "   Promote_secondaries = {}",
        ed(c.promote_secondaries)
    );
    if c.version == VrrpVersion::V2 {
        match &c.auth {
            None => line!(out, "   Authentication type = none"),
            Some(Auth::Pass(p)) => {
                line!(out, "   Authentication type = SIMPLE_PASSWORD");
                line!(out, "   Password = {}", password(p));
            }
            Some(Auth::Ah(_)) => line!(out, "   Authentication type = IPSEC_AH"),
        }
    }
    let dev = vip_dev(i);
    line!(out, "   Virtual IP ({}):", c.vips.len());
    for v in &c.vips {
        line!(out, "     {}", vip(v, &dev, i.vips_set));
    }
    if !c.excluded_vips.is_empty() {
        line!(out, "   Virtual IP Excluded :");
        for v in &c.excluded_vips {
            line!(out, "     {}", vip(v, &dev, i.vips_set));
        }
    }
    if unicast {
        line!(out, "   Unicast TTL = {}", c.unicast_ttl.unwrap_or(255));
        line!(out, "   Check unicast src : {}", yn(c.check_unicast_src));
        line!(out, "   Unicast Peer :");
        for p in &c.unicast_peers {
            line!(
                out,
                "     {} min_ttl {} max_ttl {}",
                p.addr,
                p.min_ttl.unwrap_or(0),
                p.max_ttl.unwrap_or(255)
            );
        }
        let compat = match c.old_unicast_checksum {
            None => "no",
            Some(false) => "yes",
            Some(true) => "never",
        };
        line!(out, "   Unicast checksum compatibility = {compat}");
    }
    if !c.virtual_routes.is_empty() {
        line!(out, "   Virtual Routes :");
        for r in &c.virtual_routes {
            line!(out, "     {}", r);
        }
    }
    if !c.virtual_rules.is_empty() {
        line!(out, "   Virtual Rules :");
        for r in &c.virtual_rules {
            line!(out, "     {}", r);
        }
    }
    tracked(out, i.tracked.iter().filter(|t| !t.via_group));
    line!(out, "   Using smtp notification = {}", yn(c.smtp_alert));
    let deleted = if c.notify.deleted.is_some() {
        "Deleted"
    } else {
        "Fault"
    };
    line!(out, "   Notify deleted = {deleted}");
    notify_scripts(out, &c.notify);
    line!(
        out,
        "   Notify priority changes = {}",
        tf(c.notify_priority_changes)
    );
}

/// The password of `auth_pass` as configured (the zero padding removed).
pub(super) fn password(p: &[u8; 8]) -> String {
    let n = p.iter().position(|b| *b == 0).unwrap_or(p.len());
    String::from_utf8_lossy(&p[..n]).into_owned()
}

/// The `dev` printed for a VIP without its own: `VMAC@BASE` with `use_vmac`.
pub(super) fn vip_dev(i: &InstanceStatus) -> String {
    match (&i.cfg.use_vmac, &i.cfg.interface) {
        (Some(v), Some(base)) => format!("{}@{base}", v.name),
        _ => i.vip_ifname.clone(),
    }
}

/// `Tracked interfaces :` ... `Tracked processes :`, each with its lines.
fn tracked<'a>(out: &mut String, list: impl Iterator<Item = &'a Tracked> + Clone) {
    let kinds = [
        (TrackKind::Interface, "Tracked interfaces :", ""),
        (TrackKind::Script, "Tracked scripts :", ""),
        (TrackKind::File, "Tracked files :", ","),
        (TrackKind::Process, "Tracked processes :", ","),
    ];
    for (kind, head, sep) in kinds {
        let mut of_kind = list.clone().filter(|t| t.kind == kind).peekable();
        if of_kind.peek().is_none() {
            continue;
        }
        line!(out, "   {head}");
        for t in of_kind {
            line!(out, "     {}{sep} {}", t.name, weight(t.weight, t.reverse));
        }
    }
}

fn notify_scripts(out: &mut String, n: &NotifyScripts) {
    let list = [
        ("Backup", &n.backup),
        ("Master", &n.master),
        ("Fault", &n.fault),
        ("Stop", &n.stop),
        ("Generic", &n.any),
        ("Master rx lower pri", &n.master_rx_lower_pri),
    ];
    for (what, cmd) in list {
        if let Some(c) = cmd {
            line!(out, "   {what} state transition script = {}", command(c));
        }
    }
}

fn group(out: &mut String, g: &GroupStatus) {
    line!(out, " VRRP Sync Group = {}, {}", g.cfg.name, g.state);
    line!(
        out,
        "   Num member fault {}, num member init {}",
        g.members_fault,
        g.members_init
    );
    line!(out, "   VRRP member instances :");
    for m in &g.cfg.members {
        line!(out, "     {m}");
    }
    line!(out, "   Using smtp notification = {}", yn(g.cfg.smtp_alert));
    tracked(out, g.tracked.iter());
    notify_scripts(out, &g.cfg.notify);
}

fn trackers(out: &mut String, list: &[Tracker]) {
    line!(out, "   Tracking instances :");
    for t in list {
        line!(out, "     {}, {}", t.instance, weight(t.weight, t.reverse));
    }
}

fn script(out: &mut String, s: &ScriptStatus) {
    let c = &s.cfg;
    line!(out, " VRRP Script = {}", c.name);
    line!(out, "   Command = {}", command(&c.script));
    line!(out, "   Interval = {} sec", c.interval.as_secs());
    line!(out, "   Timeout = {} sec", c.timeout.map_or(0, secs));
    line!(out, "   Weight = {}", weight_value(c.weight, c.reverse));
    line!(out, "   Rise = {}", c.rise);
    line!(out, "   Fall = {}", c.fall);
    line!(out, "   Status = {}", if s.ok { "GOOD" } else { "BAD" });
    trackers(out, &s.trackers);
    line!(
        out,
        "   State = {}",
        if s.running { "running" } else { "idle" }
    );
}

/// `-3 reverse` / `10`
fn weight_value(w: i32, reverse: bool) -> String {
    if reverse {
        format!("{w} reverse")
    } else {
        w.to_string()
    }
}

fn file(out: &mut String, f: &FileStatus) {
    line!(out, " Track file = {}", f.cfg.name);
    line!(out, "   File = {}", f.cfg.file);
    line!(out, "   Status = {}", f.value.unwrap_or(0));
    line!(
        out,
        "   Weight = {}",
        weight_value(f.cfg.weight, f.cfg.reverse)
    );
    trackers(out, &f.trackers);
}

fn process(out: &mut String, p: &ProcessStatus) {
    let c = &p.cfg;
    line!(out, " VRRP Track process = {}", c.name);
    line!(out, "   Process = {}", c.process.join(" "));
    if let Some(m) = &c.param_match {
        line!(out, "   Param match = {m}");
    }
    line!(out, "   Min processes = {}", c.quorum);
    if let Some(m) = c.quorum_max {
        line!(out, "   Max processes = {m}");
    }
    if let Some(n) = p.count {
        line!(out, "   Current processes = {n}");
    }
    line!(out, "   Have quorum = {}", tf(p.have_quorum));
    line!(out, "   Weight = {}", weight_value(c.weight, c.reverse));
    let terminate = c.terminate_delay.unwrap_or(c.delay);
    let fork = c.fork_delay.unwrap_or(c.delay);
    line!(out, "   Terminate delay = {:.6}s", terminate.as_secs_f64());
    line!(out, "   Fork delay = {:.6}s", fork.as_secs_f64());
    line!(
        out,
        "   Full command = {}",
        tf(c.full_command || c.param_match.is_some())
    );
    trackers(out, &p.trackers);
}

fn interface(out: &mut String, st: &crate::event::InterfaceState, snap: &Snapshot) {
    line!(out, " Name = {}", st.name);
    line!(out, "   index = {}", st.index);
    match st.ipv4.first() {
        Some(a) => line!(out, "   IPv4 address = {a}"),
        None => line!(out, "   IPv4 address = (none)"),
    }
    let v6 = st
        .ipv6
        .iter()
        .find(|a| (a.segments()[0] & 0xffc0) == 0xfe80)
        .or(st.ipv6.first());
    match v6 {
        Some(a) => line!(out, "   IPv6 address = {a}"),
        None => line!(out, "   IPv6 address = (none)"),
    }
    if st.mac != [0; 6] {
        line!(out, "   MAC = {}", mac(&st.mac));
    }
    let state = if st.up {
        "UP, RUNNING"
    } else {
        "not UP, not RUNNING"
    };
    line!(out, "   State = {state}");
    // The instances on this interface (weight 0), or tracking it (their weight).
    let mut lines = Vec::new();
    for i in &snap.instances {
        let on_it = i.cfg.interface.as_deref() == Some(st.name.as_str());
        let track = i
            .tracked
            .iter()
            .find(|t| t.kind == TrackKind::Interface && t.name == st.name);
        match (track, on_it) {
            (Some(t), _) => lines.push(format!("{}, {}", i.cfg.name, weight(t.weight, t.reverse))),
            (None, true) => lines.push(format!("{}, weight 0", i.cfg.name)),
            (None, false) => {}
        }
    }
    if !lines.is_empty() {
        line!(out, "   Tracking VRRP instances :");
        for l in lines {
            line!(out, "     {l}");
        }
    }
}

/// `0a:1e:bc:16:e4:5c`
fn mac(m: &[u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// What keepalived does not print, after everything it does, under a header no
/// keepalived parser knows (its lines do not start with ` VRRP Instance`).
fn extensions(out: &mut String, snap: &Snapshot, facts: &HostFacts) {
    line!(out, "------< keepalived-rs >------");
    for i in &snap.instances {
        line!(out, " Instance = {}", i.cfg.name);
        match i.master_heard {
            Some((addr, prio)) => {
                line!(out, "   Master last heard = {addr}, priority {prio}")
            }
            None => line!(out, "   Master last heard = (none)"),
        }
        line!(
            out,
            "   Master advert interval = {} milli-sec",
            i.master_adver_int.as_millis()
        );
        line!(out, "   Virtual IPs restored = {}", i.stats.vips_restored);
        for t in &i.tracked {
            let kind = match t.kind {
                TrackKind::Interface => "interface",
                TrackKind::Script => "script",
                TrackKind::File => "file",
                TrackKind::Process => "process",
            };
            let state = if t.fault {
                "FAULT".to_string()
            } else {
                format!("{:+}", t.delta)
            };
            let via = if t.via_group { " (sync group)" } else { "" };
            line!(out, "   Track {kind} {}{via} = {state}", t.name);
        }
    }
    let now = facts.wall(snap.now);
    line!(out, " Dump time = {}", now.stamp(facts.utc_offset_secs));
}
