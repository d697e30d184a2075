//! `keepalived_check.data`: the checker half of keepalived 2.2.7's SIGUSR1 dump (its
//! checker process writes this file beside `keepalived.data`), as observed from keepalived
//! 2.2.7: the global definitions, then `------< LVS Topology >------` with one block per
//! virtual server and real server, then `------< Health checkers >------` with one block
//! per checker, then `------< Checker track files >------` for FILE_CHECK's files.
//! Labels, indentation and units (`3.000000` seconds, `3000000 us`) are keepalived's
//! (TCP_CHECK, HTTP_GET, SMTP_CHECK, MISC_CHECK, FILE_CHECK and fwmark services observed;
//! group headers and the other checkers follow the same pattern). `System is compiled with LVS v1.2.1` is what keepalived
//! prints with the kernel's IPVS. After keepalived's text, a `------< keepalived-rs IPVS >------`
//! section (an extension, where parsers keyed on keepalived's labels skip it) shows whether
//! IPVS is managed here and the managed table as `ipvsadm -Ln` prints it
//! (`status::ipvs_view`).
//!
//! The world writes it on SIGUSR1 when virtual servers are configured
//! ([`CHECK_DATA_FILE`] in `$TMPDIR`).

use super::data::global;
use super::snapshot::*;
use super::text::{command, WallTime};
use super::HostFacts;
use crate::config::model::{CheckerKind, LvsMethod, Protocol, VsKey};
use std::fmt::Write as _;
use std::time::Duration;

/// keepalived's file name, in `$TMPDIR` (default /tmp).
pub const CHECK_DATA_FILE: &str = "keepalived_check.data";

macro_rules! line {
    ($out:expr, $($arg:tt)*) => {{
        let _ = writeln!($out, $($arg)*);
    }};
}

fn onoff(b: bool) -> &'static str {
    if b {
        "ON"
    } else {
        "OFF"
    }
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn set(b: bool) -> &'static str {
    if b {
        "set"
    } else {
        "unset"
    }
}

fn secs6(d: Duration) -> String {
    format!("{:.6}", d.as_secs_f64())
}

fn us(d: Duration) -> u128 {
    d.as_micros()
}

fn method(m: &LvsMethod) -> &'static str {
    match m {
        LvsMethod::Nat => "NAT",
        LvsMethod::Dr => "DR",
        LvsMethod::Tun { .. } => "TUN",
    }
}

/// keepalived's `Last ran` time: `1795880343.835687 (Sat Nov 28 15:39:03 2026.835687)`.
fn ran(t: WallTime, off: i64) -> String {
    let c = t.ctime(off);
    // ctime gives `Sat Nov 28 15:39:03.835687 2026`: move the micros after the year.
    let c = match c.rsplit_once(' ') {
        Some((head, year)) => match head.rsplit_once('.') {
            Some((hms, micros)) => format!("{hms} {year}.{micros}"),
            None => c.clone(),
        },
        None => c.clone(),
    };
    format!("{} ({c})", t.decimal())
}

/// The whole `keepalived_check.data` text.
pub fn render_check_data(snap: &Snapshot, facts: &HostFacts) -> String {
    let mut out = String::new();
    global(&mut out, &snap.global, facts);
    line!(out, "------< LVS Topology >------");
    line!(out, " System is compiled with LVS v1.2.1");
    for vs in &snap.virtual_servers {
        virtual_server(&mut out, vs, snap);
    }
    line!(out, "------< Health checkers >------");
    for vs in &snap.virtual_servers {
        for rs in &vs.real_servers {
            for c in &rs.checkers {
                checker(&mut out, vs, rs, c, snap, facts);
            }
        }
    }
    track_files(&mut out, snap);
    line!(out, "------< keepalived-rs IPVS >------");
    out.push_str(&super::ipvs_view::render_ipvs(&snap.ipvs));
    out
}

/// `------< Checker track files >------`: the track files FILE_CHECKs use, with the
/// checkers that track them.
fn track_files(out: &mut String, snap: &Snapshot) {
    let mut first = true;
    for f in &snap.files {
        let mut users = Vec::new();
        for vs in &snap.virtual_servers {
            for rs in &vs.real_servers {
                for c in &rs.checkers {
                    if let CheckerKind::File(fc) = &c.cfg.kind {
                        if fc.track_file == f.cfg.name {
                            users.push(format!(
                                "{} -> {}, weight {}",
                                vs.name,
                                rs.name,
                                file_weight(fc, snap)
                            ));
                        }
                    }
                }
            }
        }
        if users.is_empty() {
            continue;
        }
        if first {
            line!(out, "------< Checker track files >------");
            first = false;
        }
        line!(out, " Track file = {}", f.cfg.name);
        line!(out, "   File = {}", f.cfg.file);
        line!(out, "   Status = {}", f.value.unwrap_or(0));
        line!(out, "   Weight = {}", f.cfg.weight);
        line!(out, "   Tracking instances :");
        for u in users {
            line!(out, "     {u}");
        }
    }
}

fn alive_weight(vs: &VirtualServerStatus) -> i64 {
    vs.real_servers
        .iter()
        .filter(|r| r.up)
        .map(|r| i64::from(r.weight))
        .sum()
}

fn virtual_server(out: &mut String, vs: &VirtualServerStatus, snap: &Snapshot) {
    let c = &vs.cfg;
    line!(out, " ------< Virtual server >------");
    match &c.key {
        VsKey::Addr { addr, port } => {
            line!(out, " VS VIP = {addr}, VPORT = {}", port.unwrap_or(0));
        }
        VsKey::Fwmark(m) => line!(out, " VS FWMARK = {m}"),
        VsKey::Group(g) => line!(out, " VS GROUP = {g}"),
    }
    let family = match &c.key {
        VsKey::Addr { addr, .. } if addr.is_ipv6() => "inet6",
        _ => "inet",
    };
    line!(out, "   Address family = {family}");
    line!(
        out,
        "   connection timeout = {}",
        secs6(c.connect_timeout.unwrap_or(Duration::from_secs(5)))
    );
    line!(out, "   delay_loop = {}", secs6(c.delay_loop));
    line!(out, "   lvs_sched = {}", c.lvs_sched);
    let flag = |f: &str| -> &'static str {
        if c.sched_flags.iter().any(|x| x == f) {
            "enabled"
        } else {
            "disabled"
        }
    };
    line!(out, "   Hashed = {}", flag("sh-port"));
    line!(out, "   flag-1 = {}", flag("flag-1"));
    line!(out, "   flag-2 = {}", flag("flag-2"));
    line!(out, "   flag-3 = {}", flag("flag-3"));
    line!(
        out,
        "   One packet scheduling = {}",
        if c.ops { "enabled" } else { "disabled" }
    );
    if let Some(t) = c.persistence_timeout {
        line!(out, "   persistence timeout = {t}");
    }
    let proto = match (&c.key, c.protocol) {
        (VsKey::Fwmark(_), _) => "none",
        (_, Protocol::Tcp) => "TCP",
        (_, Protocol::Udp) => "UDP",
        (_, Protocol::Sctp) => "SCTP",
    };
    line!(out, "   protocol = {proto}");
    line!(out, "   alpha is {}", onoff(c.alpha));
    line!(out, "   omega is {}", onoff(c.omega));
    line!(
        out,
        "   Inhibit on failure is {}",
        onoff(c.inhibit_on_failure)
    );
    line!(
        out,
        "   quorum = {}, hysteresis = {}",
        c.quorum,
        c.hysteresis
    );
    line!(
        out,
        "   Using smtp notification = {}",
        yes(c.smtp_alert.unwrap_or(false))
    );
    line!(
        out,
        "   default forwarding method = {}",
        method(&c.lvs_method)
    );
    let alive = alive_weight(vs) >= i64::from(c.quorum);
    line!(out, "   alive = {}", u8::from(alive));
    line!(out, "   quorum_state_up = {}", u8::from(alive));
    line!(out, "   reloaded = 0");
    for rs in &vs.real_servers {
        real_server(out, vs, rs, snap);
    }
}

fn real_server(out: &mut String, vs: &VirtualServerStatus, rs: &RealServerStatus, snap: &Snapshot) {
    let c = &rs.cfg;
    line!(out, "   ------< Real server >------");
    let port = rs.name.rsplit(':').next().unwrap_or("0");
    line!(
        out,
        "   RIP = {}, RPORT = {port}, WEIGHT = {} EFF WEIGHT = {}",
        c.addr,
        rs.weight,
        rs.weight
    );
    line!(out, "   forwarding method = {}", method(&c.lvs_method));
    line!(
        out,
        "   Alpha is {}",
        onoff(c.alpha.unwrap_or(vs.cfg.alpha))
    );
    let timeout = c
        .connect_timeout
        .or(vs.cfg.connect_timeout)
        .unwrap_or(Duration::from_secs(5));
    line!(out, "   connection timeout = {}", secs6(timeout));
    line!(
        out,
        "   connection limit range = {} -> {}",
        c.lthreshold.unwrap_or(0),
        c.uthreshold.unwrap_or(0)
    );
    line!(
        out,
        "   Delay loop = {}",
        secs6(c.delay_loop.unwrap_or(vs.cfg.delay_loop))
    );
    line!(
        out,
        "   Inhibit on failure is {}",
        onoff(c.inhibit_on_failure)
    );
    for (what, s) in [("up", &c.notify_up), ("down", &c.notify_down)] {
        if let Some(s) = s {
            let (uid, gid) = s.run_as.as_ref().map_or((0, 0), |r| (r.uid, r.gid));
            line!(
                out,
                "     RS {what} notify script = {}, uid:gid {uid}:{gid}",
                command(s)
            );
        }
    }
    line!(
        out,
        "   Using smtp notification = {}",
        yes(c.smtp_alert.unwrap_or(true))
    );
    line!(out, "   initial weight = {}", c.weight);
    line!(out, "   effective weight = {}", rs.weight);
    line!(out, "   previous effective_weight = 0");
    line!(out, "   alive = {}", u8::from(rs.up));
    let failed = rs.checkers.iter().filter(|k| k.enabled && !k.up).count();
    line!(out, "   num failed checkers = {failed}");
    line!(
        out,
        "   RS set = {}",
        u8::from(rs.up || c.inhibit_on_failure)
    );
    line!(out, "   reloaded = 0");
    let files: Vec<&CheckerStatus> = rs
        .checkers
        .iter()
        .filter(|k| matches!(k.cfg.kind, CheckerKind::File(_)))
        .collect();
    if !files.is_empty() {
        line!(out, "   Tracked Files");
        for k in files {
            if let CheckerKind::File(f) = &k.cfg.kind {
                line!(
                    out,
                    "     {}, weight {}",
                    f.track_file,
                    file_weight(f, snap)
                );
            }
        }
    }
}

/// The multiplier of a FILE_CHECK: its own `weight`, else its track_file's.
fn file_weight(f: &crate::config::model::FileCheck, snap: &Snapshot) -> i64 {
    f.weight.unwrap_or_else(|| {
        snap.files
            .iter()
            .find(|t| t.cfg.name == f.track_file)
            .map_or(1, |t| i64::from(t.cfg.weight))
    })
}

fn checker(
    out: &mut String,
    vs: &VirtualServerStatus,
    rs: &RealServerStatus,
    c: &CheckerStatus,
    snap: &Snapshot,
    facts: &HostFacts,
) {
    let k = &c.cfg;
    line!(out, " {} -> {}", vs.name, rs.name);
    line!(out, "   Enabled = {}", yes(c.enabled));
    line!(out, "   Up = {}", yes(c.up));
    line!(out, "   Has run = {}", yes(c.has_run));
    line!(out, "   Current weight = {}", c.weight_delta);
    let log_all = k.log_all_failures || snap.global.checker_log_all_failures;
    if let CheckerKind::File(f) = &k.kind {
        // keepalived 2.2.7 prints no timing for FILE_CHECK.
        line!(out, "   Log all failures = {}", yes(log_all));
        line!(out, "   Keepalive method = FILE_CHECK");
        line!(out, "     Tracked file = {}", f.track_file);
        line!(out, "     Reloaded = No");
        return;
    }
    line!(out, "   Alpha = {}", yes(k.alpha));
    line!(out, "   Delay loop = {} us", us(k.delay_loop));
    line!(out, "   Warmup = {} us", us(k.warmup));
    line!(out, "   Retries = {}", k.retry);
    if k.retry > 0 {
        line!(
            out,
            "   Delay before retry = {} us",
            us(k.delay_before_retry)
        );
        line!(out, "   Retries iterations = {}", c.retry_it);
    }
    let default_dbr = match k.kind {
        CheckerKind::Http(_) | CheckerKind::Ssl(_) => Duration::from_secs(3),
        CheckerKind::Dns { .. } => k.delay_loop,
        _ => Duration::from_secs(1),
    };
    line!(
        out,
        "   Default delay before retry = {} us",
        us(default_dbr)
    );
    line!(out, "   Log all failures = {}", yes(log_all));
    let conn = !matches!(
        k.kind,
        CheckerKind::Misc(_) | CheckerKind::File(_) | CheckerKind::Bfd { .. }
    );
    if conn {
        line!(out, "   Connection");
        let dst = k.connect_ip.unwrap_or(rs.cfg.addr);
        let port = k
            .connect_port
            .map(|p| p.to_string())
            .unwrap_or_else(|| rs.name.rsplit(':').next().unwrap_or("0").to_string());
        if matches!(k.kind, CheckerKind::Ping) {
            line!(out, "     Dest = [{dst}]");
        } else {
            line!(out, "     Dest = [{dst}]:{port}");
        }
        if let Some(b) = k.bindto {
            match k.bind_port {
                Some(p) => line!(out, "     Bind to = [{b}]:{p}"),
                None => line!(out, "     Bind to = [{b}]"),
            }
        }
        if let Some(i) = &k.bind_if {
            line!(out, "     Bind i/f = {i}");
        }
        if let Some(m) = k.fwmark {
            line!(out, "     Mark = {m}");
        }
        line!(out, "     Timeout = {}", secs6(k.connect_timeout));
    }
    match &k.kind {
        CheckerKind::Http(h) | CheckerKind::Ssl(h) => line!(
            out,
            "   Keepalive method = {}, http protocol {}",
            k.kind.keyword(),
            h.http_protocol.as_deref().unwrap_or("1.0")
        ),
        _ => line!(out, "   Keepalive method = {}", k.kind.keyword()),
    }
    match &k.kind {
        CheckerKind::Misc(m) => {
            line!(out, "   script = {}", command(&m.path));
            line!(out, "   timeout = {}", m.timeout.map_or(0, |t| t.as_secs()));
            line!(out, "   dynamic = {}", if m.dynamic { "YES" } else { "NO" });
            let (uid, gid) = m.path.run_as.as_ref().map_or((0, 0), |r| (r.uid, r.gid));
            line!(out, "   uid:gid = {uid}:{gid}");
            if let Some(t) = c.last_ran {
                line!(
                    out,
                    "   Last ran = {}",
                    ran(facts.wall(t), facts.utc_offset_secs)
                );
            }
            line!(out, "   Last status = {}", c.last_status.unwrap_or(0));
        }
        CheckerKind::Http(h) | CheckerKind::Ssl(h) => {
            if let Some(v) = &h.virtualhost {
                line!(out, "   Virtualhost = {v}");
            }
            line!(out, "   Enable SNI {}", set(h.enable_sni));
            line!(out, "   Fast recovery {}", set(h.fast_recovery));
            for u in &h.urls {
                line!(out, "   Checked url = {}", u.path);
                if let Some(d) = &u.digest {
                    line!(out, "     digest = {d}");
                }
                line!(out, "     HTTP Status Code(s)");
                if u.status_codes.is_empty() {
                    line!(out, "       200-299");
                }
                for &(a, b) in &u.status_codes {
                    if a == b {
                        line!(out, "       {a}");
                    } else {
                        line!(out, "       {a}-{b}");
                    }
                }
                if let Some(v) = &u.virtualhost {
                    line!(out, "     virtualhost = {v}");
                }
            }
        }
        CheckerKind::Smtp { helo_name: Some(h) } => line!(out, "   helo = {h}"),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::ran;
    use crate::status::WallTime;

    #[test]
    fn last_ran_is_keepalived_s_format() {
        let t = WallTime {
            secs: 1_795_880_343,
            micros: 835_687,
        };
        assert_eq!(
            ran(t, 0),
            "1795880343.835687 (Sat Nov 28 15:39:03 2026.835687)"
        );
    }
}
