//! LVS blocks: `virtual_server_group`, `virtual_server`, `real_server` and every checker,
//! with the timing options inherited virtual server -> real server -> checker.

use super::super::model::*;
use super::super::tree::{Node, Word};
use super::super::Span;
use super::values::{parse_prefix, Ctx, Shape};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

pub(super) const VS: &[(&str, Shape)] = &[
    ("lvs_sched", Shape::Line),
    ("lb_algo", Shape::Line),
    ("flag-1", Shape::Line),
    ("flag-2", Shape::Line),
    ("flag-3", Shape::Line),
    ("sh-port", Shape::Line),
    ("sh-fallback", Shape::Line),
    ("mh-port", Shape::Line),
    ("mh-fallback", Shape::Line),
    ("ops", Shape::Line),
    ("lvs_method", Shape::Line),
    ("lb_kind", Shape::Line),
    ("persistence_engine", Shape::Line),
    ("persistence_timeout", Shape::Line),
    ("persistence_granularity", Shape::Line),
    ("protocol", Shape::Line),
    ("ha_suspend", Shape::Line),
    ("smtp_alert", Shape::Line),
    ("virtualhost", Shape::Line),
    ("snmp_name", Shape::Line),
    ("alpha", Shape::Line),
    ("omega", Shape::Line),
    ("quorum", Shape::Line),
    ("hysteresis", Shape::Line),
    ("quorum_up", Shape::Line),
    ("quorum_down", Shape::Line),
    ("ip_family", Shape::Line),
    ("sorry_server", Shape::Line),
    ("sorry_server_inhibit", Shape::Line),
    ("sorry_server_lvs_method", Shape::Line),
    ("connect_timeout", Shape::Line),
    ("retry", Shape::Line),
    ("nb_get_retry", Shape::Line),
    ("delay_before_retry", Shape::Line),
    ("warmup", Shape::Line),
    ("delay_loop", Shape::Line),
    ("inhibit_on_failure", Shape::Line),
    ("real_server", Shape::Block),
];

pub(super) const RS: &[(&str, Shape)] = &[
    ("weight", Shape::Line),
    ("lvs_method", Shape::Line),
    ("notify_up", Shape::Line),
    ("notify_down", Shape::Line),
    ("uthreshold", Shape::Line),
    ("lthreshold", Shape::Line),
    ("smtp_alert", Shape::Line),
    ("virtualhost", Shape::Line),
    ("snmp_name", Shape::Line),
    ("alpha", Shape::Line),
    ("connect_timeout", Shape::Line),
    ("retry", Shape::Line),
    ("nb_get_retry", Shape::Line),
    ("delay_before_retry", Shape::Line),
    ("warmup", Shape::Line),
    ("delay_loop", Shape::Line),
    ("inhibit_on_failure", Shape::Line),
    ("HTTP_GET", Shape::Block),
    ("SSL_GET", Shape::Block),
    ("TCP_CHECK", Shape::Block),
    ("SMTP_CHECK", Shape::Block),
    ("DNS_CHECK", Shape::Block),
    ("MISC_CHECK", Shape::Block),
    ("BFD_CHECK", Shape::Block),
    ("UDP_CHECK", Shape::Block),
    ("PING_CHECK", Shape::Block),
    ("FILE_CHECK", Shape::Block),
];

/// Options of every connecting checker.
pub(super) const COMMON: &[(&str, Shape)] = &[
    ("connect_ip", Shape::Line),
    ("connect_port", Shape::Line),
    ("bindto", Shape::Line),
    ("bind_if", Shape::Line),
    ("bind_port", Shape::Line),
    ("fwmark", Shape::Line),
    ("alpha", Shape::Line),
    ("connect_timeout", Shape::Line),
    ("retry", Shape::Line),
    ("nb_get_retry", Shape::Line),
    ("delay_before_retry", Shape::Line),
    ("warmup", Shape::Line),
    ("delay_loop", Shape::Line),
    ("log_all_failures", Shape::Line),
];

/// The common options MISC_CHECK takes (keepalived 2.2.7 rejects the connection ones).
const MISC_TIMING: &[(&str, Shape)] = &[
    ("alpha", Shape::Line),
    ("retry", Shape::Line),
    ("delay_before_retry", Shape::Line),
    ("warmup", Shape::Line),
    ("delay_loop", Shape::Line),
    ("log_all_failures", Shape::Line),
];

const HTTP: &[(&str, Shape)] = &[
    ("http_protocol", Shape::Line),
    ("fast_recovery", Shape::Line),
    ("url", Shape::Block),
    ("virtualhost", Shape::Line),
];
const SSL: &[(&str, Shape)] = &[("enable_sni", Shape::Line)];
const SMTP: &[(&str, Shape)] = &[("helo_name", Shape::Line), ("host", Shape::Block)];
const DNS: &[(&str, Shape)] = &[("type", Shape::Line), ("name", Shape::Line)];
const MISC: &[(&str, Shape)] = &[
    ("misc_path", Shape::Line),
    ("misc_timeout", Shape::Line),
    ("misc_dynamic", Shape::Line),
    ("user", Shape::Line),
];
const UDP: &[(&str, Shape)] = &[
    ("payload", Shape::Line),
    ("require_reply", Shape::Line),
    ("min_reply_length", Shape::Line),
    ("max_reply_length", Shape::Line),
];
const FILE: &[(&str, Shape)] = &[
    ("track_file", Shape::Line),
    ("dynamic", Shape::Line),
    ("weight", Shape::Line),
];
const BFD: &[(&str, Shape)] = &[("name", Shape::Line)];

pub(super) const URL: &[(&str, Shape)] = &[
    ("path", Shape::Line),
    ("digest", Shape::Line),
    ("status_code", Shape::Line),
    ("virtualhost", Shape::Line),
    ("regex", Shape::Line),
    ("regex_no_match", Shape::Line),
    ("regex_options", Shape::Line),
    ("regex_stack", Shape::Line),
    ("regex_min_offset", Shape::Line),
    ("regex_max_offset", Shape::Line),
];

const SCHEDULERS: &[&str] = &[
    "rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh", "fo", "ovf", "lblcr", "sed", "nq", "twos",
];

fn kids(node: &Node) -> &[Node] {
    node.children.as_deref().unwrap_or(&[])
}

fn port_word(ctx: &mut Ctx, kw: &str, w: &Word) -> Option<u16> {
    ctx.int_word(kw, w, 0, 65535).map(|v| v as u16)
}

/// Timing options given at one level (VS, RS or checker).
#[derive(Default, Clone, Copy)]
struct Timing {
    connect_timeout: Option<Duration>,
    retry: Option<u32>,
    delay_before_retry: Option<Duration>,
    warmup: Option<Duration>,
    delay_loop: Option<Duration>,
    alpha: Option<bool>,
}

impl Timing {
    /// Handles a timing keyword; false when `c` is not one.
    /// `checker`: the checker level, where `retry 0` is allowed (not on VS / RS).
    fn keyword(&mut self, ctx: &mut Ctx, c: &Node, checker: bool) -> bool {
        match c.keyword.text.as_str() {
            // keepalived keeps timers in 32-bit microseconds.
            "connect_timeout" => self.connect_timeout = ctx.timer_arg(c, 0.000001, 4294.967295),
            "retry" | "nb_get_retry" => {
                let lo = if checker { 0 } else { 1 };
                self.retry = ctx.int_arg(c, lo, i64::from(u32::MAX)).map(|v| v as u32)
            }
            "delay_before_retry" => self.delay_before_retry = ctx.timer_arg(c, 0.0, 86400.0),
            "warmup" => self.warmup = ctx.timer_arg(c, 0.0, 86400.0),
            "delay_loop" => self.delay_loop = ctx.timer_arg(c, 0.000001, 86400.0),
            "alpha" => self.alpha = Some(ctx.opt_bool(c)),
            _ => return false,
        }
        true
    }
}

pub fn virtual_server_group(ctx: &mut Ctx, node: &Node) -> Option<VirtualServerGroup> {
    let name = match node.args.first() {
        Some(w) => w.text.clone(),
        None => {
            ctx.error(
                &node.keyword.span,
                "virtual_server_group: missing group name".to_string(),
            );
            return None;
        }
    };
    ctx.no_extra(node, 1);
    let mut g = VirtualServerGroup {
        name,
        span: node.keyword.span.clone(),
        entries: Vec::new(),
    };
    for c in kids(node) {
        if c.keyword.text == "fwmark" {
            let Some(w) = ctx.arg(c, 0, "mark") else {
                continue;
            };
            let Some(mark) = ctx.int_word("fwmark", w, 0, i64::from(u32::MAX)) else {
                continue;
            };
            let family = match c.args.get(1).map(|w| (w.text.as_str(), w)) {
                None => None,
                Some(("inet", _)) => Some(Family::Inet),
                Some(("inet6", _)) => Some(Family::Inet6),
                Some((t, w)) => {
                    ctx.error(&w.span, format!("fwmark: '{t}' is not inet or inet6"));
                    None
                }
            };
            ctx.no_extra(c, 2);
            g.entries.push(VsgEntry::Fwmark {
                mark: mark as u32,
                family,
            });
            continue;
        }
        let Some((first, last)) = parse_range(&c.keyword.text) else {
            ctx.error(
                &c.keyword.span,
                format!(
                    "virtual_server_group: '{}' is not an address, range or fwmark",
                    c.keyword.text
                ),
            );
            continue;
        };
        let port = match c.args.first() {
            Some(w) => port_word(ctx, "virtual_server_group port", w),
            None => None,
        };
        ctx.no_extra(c, 1);
        g.entries.push(VsgEntry::Range { first, last, port });
    }
    Some(g)
}

/// `a.b.c.d`, `a.b.c.d-e`, `a.b.c.d-a.b.c.e`, `a.b.c.d/n` and the IPv6 forms.
pub fn parse_range(s: &str) -> Option<(IpAddr, IpAddr)> {
    if s.contains('/') {
        let (a, len) = parse_prefix(s).ok()?;
        return Some(match a {
            IpAddr::V4(v) => {
                let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
                let n = u32::from(v) & mask;
                (
                    IpAddr::V4(Ipv4Addr::from(n)),
                    IpAddr::V4(Ipv4Addr::from(n | !mask)),
                )
            }
            IpAddr::V6(v) => {
                let mask = if len == 0 {
                    0
                } else {
                    u128::MAX << (128 - len)
                };
                let n = u128::from(v) & mask;
                (
                    IpAddr::V6(Ipv6Addr::from(n)),
                    IpAddr::V6(Ipv6Addr::from(n | !mask)),
                )
            }
        });
    }
    let Some((a, b)) = s.split_once('-') else {
        let a: IpAddr = s.parse().ok()?;
        return Some((a, a));
    };
    let first: IpAddr = a.parse().ok()?;
    if let Ok(last) = b.parse::<IpAddr>() {
        if last.is_ipv4() != first.is_ipv4() || last < first {
            return None;
        }
        return Some((first, last));
    }
    let last = match first {
        IpAddr::V4(v) => {
            let end: u8 = b.parse().ok()?;
            let o = v.octets();
            IpAddr::V4(Ipv4Addr::new(o[0], o[1], o[2], end))
        }
        IpAddr::V6(v) => {
            let end = u16::from_str_radix(b, 16).ok()?;
            let mut seg = v.segments();
            seg[7] = end;
            IpAddr::V6(Ipv6Addr::from(seg))
        }
    };
    if last < first {
        return None;
    }
    Some((first, last))
}

pub fn lvs_method(ctx: &mut Ctx, c: &Node) -> Option<LvsMethod> {
    let w = ctx.arg(c, 0, "NAT|DR|TUN")?;
    let kw = c.keyword.text.as_str();
    let m = match w.text.to_ascii_uppercase().as_str() {
        "NAT" => LvsMethod::Nat,
        "DR" => LvsMethod::Dr,
        "TUN" => {
            let mut tunnel = TunnelType::Ipip;
            let mut csum = None;
            let mut i = 1;
            while i < c.args.len() {
                let a = &c.args[i];
                match a.text.as_str() {
                    "type" => {
                        match c.args.get(i + 1).map(|w| w.text.as_str()) {
                            Some("ipip") => tunnel = TunnelType::Ipip,
                            Some("gre") => tunnel = TunnelType::Gre,
                            Some("gue") => {
                                let port = match (c.args.get(i + 2), c.args.get(i + 3)) {
                                    (Some(p), Some(n)) if p.text == "port" => {
                                        i += 2;
                                        port_word(ctx, kw, n)
                                    }
                                    _ => {
                                        ctx.error(&a.span, format!("{kw}: gue needs port N"));
                                        None
                                    }
                                };
                                tunnel = TunnelType::Gue {
                                    port: port.unwrap_or(0),
                                };
                            }
                            _ => ctx.error(&a.span, format!("{kw}: type must be ipip, gue or gre")),
                        }
                        i += 2;
                        continue;
                    }
                    "nocsum" | "csum" | "remcsum" => csum = Some(a.text.clone()),
                    t => ctx.error(&a.span, format!("{kw}: unexpected argument '{t}'")),
                }
                i += 1;
            }
            return Some(LvsMethod::Tun { tunnel, csum });
        }
        t => {
            ctx.error(&w.span, format!("{kw}: '{t}' is not NAT, DR or TUN"));
            return None;
        }
    };
    ctx.no_extra(c, 1);
    Some(m)
}

pub fn virtual_server(ctx: &mut Ctx, node: &Node) -> Option<VirtualServer> {
    let key = vs_key(ctx, node)?;
    let mut vs = VirtualServer {
        key,
        span: node.keyword.span.clone(),
        lvs_sched: "wlc".to_string(),
        sched_flags: Vec::new(),
        ops: false,
        lvs_method: LvsMethod::Nat,
        persistence_engine: None,
        persistence_timeout: None,
        persistence_granularity: None,
        protocol: Protocol::Tcp,
        ha_suspend: false,
        smtp_alert: None,
        virtualhost: None,
        snmp_name: None,
        alpha: false,
        omega: false,
        quorum: 1,
        hysteresis: 0,
        quorum_up: None,
        quorum_down: None,
        ip_family: None,
        sorry_server: None,
        sorry_server_inhibit: false,
        sorry_server_lvs_method: None,
        delay_loop: Duration::from_secs(60),
        connect_timeout: None,
        retry: None,
        delay_before_retry: None,
        warmup: None,
        inhibit_on_failure: false,
        real_servers: Vec::new(),
    };
    let mut timing = Timing::default();
    let mut protocol_span: Option<Span> = None;
    let mut rss: Vec<RsDraft> = Vec::new();
    for c in kids(node) {
        if !ctx.check_keyword(c, VS) {
            continue;
        }
        if timing.keyword(ctx, c, false) {
            continue;
        }
        match c.keyword.text.as_str() {
            "lvs_sched" | "lb_algo" => {
                if let Some(s) = ctx.string_arg(c) {
                    if SCHEDULERS.contains(&s.as_str()) {
                        vs.lvs_sched = s;
                    } else {
                        ctx.error(
                            &c.args[0].span,
                            format!("{}: unknown scheduler '{s}'", c.keyword.text),
                        );
                    }
                }
            }
            f @ ("flag-1" | "flag-2" | "flag-3" | "sh-port" | "sh-fallback" | "mh-port"
            | "mh-fallback") => {
                ctx.flag(c);
                if !vs.sched_flags.iter().any(|x| x == f) {
                    vs.sched_flags.push(f.to_string());
                    vs.sched_flags.sort();
                }
            }
            "ops" => vs.ops = ctx.flag(c),
            "lvs_method" | "lb_kind" => {
                if let Some(m) = lvs_method(ctx, c) {
                    vs.lvs_method = m;
                }
            }
            "persistence_engine" => vs.persistence_engine = ctx.string_arg(c),
            "persistence_timeout" => {
                vs.persistence_timeout = if c.args.is_empty() {
                    Some(360)
                } else {
                    ctx.int_arg(c, 1, i64::from(u32::MAX)).map(|v| v as u32)
                }
            }
            "persistence_granularity" => {
                if let Some(w) = ctx.arg(c, 0, "netmask") {
                    if w.text.parse::<Ipv4Addr>().is_ok() || w.text.parse::<u8>().is_ok() {
                        vs.persistence_granularity = Some(w.text.clone());
                    } else {
                        ctx.error(
                            &w.span,
                            format!("persistence_granularity: '{}' is not a netmask", w.text),
                        );
                    }
                }
                ctx.no_extra(c, 1);
            }
            "protocol" => {
                if let Some(w) = ctx.arg(c, 0, "TCP|UDP|SCTP") {
                    match w.text.to_ascii_uppercase().as_str() {
                        "TCP" => vs.protocol = Protocol::Tcp,
                        "UDP" => vs.protocol = Protocol::Udp,
                        "SCTP" => vs.protocol = Protocol::Sctp,
                        t => ctx.error(&w.span, format!("protocol: '{t}' is not TCP, UDP or SCTP")),
                    }
                    protocol_span = Some(c.keyword.span.clone());
                }
                ctx.no_extra(c, 1);
            }
            "ha_suspend" => vs.ha_suspend = ctx.flag(c),
            "smtp_alert" => vs.smtp_alert = Some(ctx.opt_bool(c)),
            "virtualhost" => vs.virtualhost = ctx.string_arg(c),
            "snmp_name" => vs.snmp_name = ctx.string_arg(c),
            "omega" => vs.omega = ctx.flag(c),
            "quorum" => {
                if let Some(v) = ctx.int_arg(c, 0, i64::from(u32::MAX)) {
                    vs.quorum = v as u32;
                }
            }
            "hysteresis" => {
                if let Some(v) = ctx.int_arg(c, 0, i64::from(u32::MAX)) {
                    vs.hysteresis = v as u32;
                }
            }
            "quorum_up" => ctx.set_script(&mut vs.quorum_up, c),
            "quorum_down" => ctx.set_script(&mut vs.quorum_down, c),
            "ip_family" => {
                if let Some(w) = ctx.arg(c, 0, "inet|inet6") {
                    match w.text.as_str() {
                        "inet" => vs.ip_family = Some(Family::Inet),
                        "inet6" => vs.ip_family = Some(Family::Inet6),
                        t => ctx.error(&w.span, format!("ip_family: '{t}' is not inet or inet6")),
                    }
                }
                ctx.no_extra(c, 1);
            }
            "sorry_server" => {
                if let Some(w) = ctx.arg(c, 0, "address") {
                    if let Some(a) = ctx.ip_word("sorry_server", w) {
                        let port = match c.args.get(1) {
                            Some(p) => port_word(ctx, "sorry_server", p),
                            None => None,
                        };
                        vs.sorry_server = Some((a, port));
                    }
                }
                ctx.no_extra(c, 2);
            }
            "sorry_server_inhibit" => vs.sorry_server_inhibit = ctx.flag(c),
            "sorry_server_lvs_method" => vs.sorry_server_lvs_method = lvs_method(ctx, c),
            "inhibit_on_failure" => {
                vs.inhibit_on_failure = ctx.opt_bool(c);
            }
            "real_server" => {
                if let Some(rs) = real_server(ctx, c) {
                    rss.push(rs);
                }
            }
            _ => {}
        }
    }
    // keepalived reports each of these when missing, and picks its default.
    let given = |k: &[&str]| {
        kids(node)
            .iter()
            .any(|c| k.contains(&c.keyword.text.as_str()))
    };
    if !given(&["lvs_sched", "lb_algo"]) {
        ctx.warn(
            &vs.span,
            "virtual_server: no lvs_sched given; using wlc".to_string(),
        );
    }
    if !given(&["lvs_method", "lb_kind"]) {
        ctx.warn(
            &vs.span,
            "virtual_server: no lvs_method given; using NAT".to_string(),
        );
    }
    // (Group services are checked once the groups are known, in `validate`.)
    if protocol_span.is_none() && matches!(vs.key, VsKey::Addr { .. }) {
        ctx.warn(
            &vs.span,
            "virtual_server: no protocol given; using UDP, as keepalived 2.2.7 does".to_string(),
        );
        vs.protocol = Protocol::Udp;
    }
    // Scheduler flags that belong to another scheduler are ignored, as keepalived does.
    let sched = vs.lvs_sched.clone();
    vs.sched_flags.retain(|f| {
        let needs = if f.starts_with("sh-") {
            "sh"
        } else if f.starts_with("mh-") {
            "mh"
        } else {
            return true;
        };
        if sched == needs {
            return true;
        }
        let span = kids(node)
            .iter()
            .find(|c| c.keyword.text == *f)
            .map(|c| c.keyword.span.clone())
            .unwrap_or_else(|| vs.span.clone());
        ctx.warn(
            &span,
            format!("{f}: only applies to the {needs} scheduler, not {sched}; ignored"),
        );
        false
    });
    if vs.hysteresis > 0 && vs.hysteresis >= vs.quorum {
        ctx.warn(
            &vs.span,
            format!(
                "virtual_server: hysteresis {} must be below quorum {}; using 0",
                vs.hysteresis, vs.quorum
            ),
        );
        vs.hysteresis = 0;
    }
    if vs.ha_suspend && matches!(vs.key, VsKey::Fwmark(_)) {
        // keepalived 2.2.7: "cannot use ha_suspend with fwmarks - clearing ha_suspend".
        ctx.warn(
            &vs.span,
            "ha_suspend: a fwmark service has no address to follow; cleared".to_string(),
        );
        vs.ha_suspend = false;
    }
    if vs.ops && vs.protocol != Protocol::Udp {
        ctx.warn(
            &vs.span,
            "ops: one-packet scheduling needs protocol UDP; ignored".to_string(),
        );
        vs.ops = false;
    }
    if vs.sorry_server.is_none() && vs.sorry_server_lvs_method.is_some() {
        ctx.warn(
            &vs.span,
            "sorry_server_lvs_method: there is no sorry_server; ignored".to_string(),
        );
        vs.sorry_server_lvs_method = None;
    }
    if vs.sorry_server.is_none() {
        if let Some(c) = kids(node)
            .iter()
            .find(|c| c.keyword.text == "sorry_server_inhibit")
        {
            ctx.warn(
                &c.keyword.span,
                "sorry_server_inhibit: there is no sorry_server; ignored".to_string(),
            );
            vs.sorry_server_inhibit = false;
        }
    }
    if let (VsKey::Fwmark(_), Some(span)) = (&vs.key, &protocol_span) {
        ctx.warn(
            span,
            "protocol: ignored for a fwmark virtual server".to_string(),
        );
    }
    vs.alpha = timing.alpha.unwrap_or(false);
    if let Some(d) = timing.delay_loop {
        vs.delay_loop = d;
    }
    vs.connect_timeout = timing.connect_timeout;
    vs.retry = timing.retry;
    vs.delay_before_retry = timing.delay_before_retry;
    vs.warmup = timing.warmup;
    for (mut rs, rt, checkers, rs_method_given, rs_inhibit_given) in rss {
        if !rs_method_given {
            rs.lvs_method = vs.lvs_method.clone();
        }
        if !rs_inhibit_given {
            rs.inhibit_on_failure = vs.inhibit_on_failure;
        }
        rs.alpha = rt.alpha;
        rs.connect_timeout = rt.connect_timeout;
        rs.retry = rt.retry;
        rs.delay_before_retry = rt.delay_before_retry;
        rs.warmup = rt.warmup;
        rs.delay_loop = rt.delay_loop;
        for (mut ch, ct) in checkers {
            resolve_checker(&mut ch, &ct, &rt, &timing, vs.delay_loop);
            rs.checkers.push(ch);
        }
        vs.real_servers.push(rs);
    }
    if vs.real_servers.is_empty() {
        ctx.warn(
            &vs.span,
            "virtual_server: no real_server; ignored".to_string(),
        );
        return None;
    }
    if let VsKey::Addr { port: None, .. } = vs.key {
        if vs.persistence_timeout.is_none() {
            ctx.warn(
                &vs.span,
                "virtual_server: no port, which only a persistent service may omit; persistence_timeout 360 set".to_string(),
            );
            vs.persistence_timeout = Some(360);
        }
    }
    let total: u64 = vs.real_servers.iter().map(|r| r.weight.max(0) as u64).sum();
    if u64::from(vs.quorum) > total {
        ctx.warn(
            &vs.span,
            format!(
                "virtual_server: quorum {} exceeds the total weight {total} of its real servers; using {total}",
                vs.quorum
            ),
        );
        vs.quorum = total as u32;
        if vs.hysteresis > 0 && vs.hysteresis >= vs.quorum {
            vs.hysteresis = 0;
        }
    }
    Some(vs)
}

fn resolve_checker(ch: &mut Checker, c: &Timing, r: &Timing, v: &Timing, vs_loop: Duration) {
    let delay_loop = c.delay_loop.or(r.delay_loop).unwrap_or(vs_loop);
    ch.delay_loop = delay_loop;
    ch.connect_timeout = c
        .connect_timeout
        .or(r.connect_timeout)
        .or(v.connect_timeout)
        .unwrap_or(Duration::from_secs(5));
    let default_retry = match ch.kind {
        CheckerKind::Dns { .. } => 3,
        CheckerKind::Misc(_) => 0,
        _ => 1,
    };
    ch.retry = c.retry.or(r.retry).or(v.retry).unwrap_or(default_retry);
    let default_dbr = match ch.kind {
        CheckerKind::Http(_) | CheckerKind::Ssl(_) => Duration::from_secs(3),
        CheckerKind::Dns { .. } => delay_loop,
        _ => Duration::from_secs(1),
    };
    ch.delay_before_retry = c
        .delay_before_retry
        .or(r.delay_before_retry)
        .or(v.delay_before_retry)
        .unwrap_or(default_dbr);
    ch.warmup = c.warmup.or(r.warmup).or(v.warmup).unwrap_or(delay_loop);
    ch.alpha = c.alpha.or(r.alpha).or(v.alpha).unwrap_or(false);
}

fn vs_key(ctx: &mut Ctx, node: &Node) -> Option<VsKey> {
    let Some(first) = node.args.first() else {
        ctx.error(
            &node.keyword.span,
            "virtual_server: missing address, fwmark or group".to_string(),
        );
        return None;
    };
    let key = match first.text.as_str() {
        "fwmark" => {
            let w = ctx.arg(node, 1, "fwmark number")?;
            let m = ctx.int_word("virtual_server fwmark", w, 1, i64::from(u32::MAX))?;
            ctx.no_extra(node, 2);
            VsKey::Fwmark(m as u32)
        }
        "group" => {
            let w = ctx.arg(node, 1, "group name")?;
            let g = w.text.clone();
            ctx.no_extra(node, 2);
            VsKey::Group(g)
        }
        _ => {
            let addr = ctx.ip_word("virtual_server", first)?;
            let port = match node.args.get(1) {
                Some(p) => Some(port_word(ctx, "virtual_server port", p)?),
                None => None,
            };
            ctx.no_extra(node, 2);
            VsKey::Addr { addr, port }
        }
    };
    Some(key)
}

type RsDraft = (RealServer, Timing, Vec<(Checker, Timing)>, bool, bool);

fn real_server(ctx: &mut Ctx, node: &Node) -> Option<RsDraft> {
    let w = ctx.arg(node, 0, "address")?;
    let addr = ctx.ip_word("real_server", w)?;
    let port = match node.args.get(1) {
        Some(p) => port_word(ctx, "real_server port", p),
        None => None,
    };
    ctx.no_extra(node, 2);
    let mut rs = RealServer {
        addr,
        port,
        span: node.keyword.span.clone(),
        weight: 1,
        lvs_method: LvsMethod::Nat,
        notify_up: None,
        notify_down: None,
        uthreshold: None,
        lthreshold: None,
        smtp_alert: None,
        virtualhost: None,
        snmp_name: None,
        alpha: None,
        connect_timeout: None,
        retry: None,
        delay_before_retry: None,
        warmup: None,
        delay_loop: None,
        inhibit_on_failure: false,
        checkers: Vec::new(),
    };
    let mut timing = Timing::default();
    let mut checkers = Vec::new();
    let mut method_given = false;
    let mut inhibit_given = false;
    for c in kids(node) {
        if !ctx.check_keyword(c, RS) {
            continue;
        }
        if timing.keyword(ctx, c, false) {
            continue;
        }
        match c.keyword.text.as_str() {
            "weight" => {
                if let Some(v) = ctx.int_arg(c, 0, i64::from(i32::MAX)) {
                    rs.weight = v as i32;
                }
            }
            "lvs_method" => {
                if let Some(m) = lvs_method(ctx, c) {
                    rs.lvs_method = m;
                    method_given = true;
                }
            }
            "notify_up" => ctx.set_script(&mut rs.notify_up, c),
            "notify_down" => ctx.set_script(&mut rs.notify_down, c),
            "uthreshold" => {
                rs.uthreshold = ctx.int_arg(c, 0, i64::from(u32::MAX)).map(|v| v as u32)
            }
            "lthreshold" => {
                rs.lthreshold = ctx.int_arg(c, 0, i64::from(u32::MAX)).map(|v| v as u32)
            }
            "smtp_alert" => rs.smtp_alert = Some(ctx.opt_bool(c)),
            "virtualhost" => rs.virtualhost = ctx.string_arg(c),
            "snmp_name" => rs.snmp_name = ctx.string_arg(c),
            "inhibit_on_failure" => {
                rs.inhibit_on_failure = ctx.opt_bool(c);
                inhibit_given = true;
            }
            _ => checkers.extend(checker(ctx, c)),
        }
    }
    Some((rs, timing, checkers, method_given, inhibit_given))
}

fn new_checker(span: Span, kind: CheckerKind) -> Checker {
    Checker {
        span,
        kind,
        connect_ip: None,
        connect_port: None,
        bindto: None,
        bind_if: None,
        bind_port: None,
        fwmark: None,
        alpha: false,
        connect_timeout: Duration::from_secs(5),
        retry: 1,
        delay_before_retry: Duration::from_secs(1),
        warmup: Duration::ZERO,
        delay_loop: Duration::from_secs(60),
        log_all_failures: false,
    }
}

/// A connection option of a checker; false when `c` is not one.
fn common_keyword(ctx: &mut Ctx, ch: &mut Checker, t: &mut Timing, c: &Node) -> bool {
    if t.keyword(ctx, c, true) {
        return true;
    }
    match c.keyword.text.as_str() {
        "connect_ip" => ch.connect_ip = ctx.ip_arg(c),
        "connect_port" => {
            ch.connect_port = ctx.int_arg(c, 1, 65535).map(|v| v as u16);
        }
        "bindto" => ch.bindto = ctx.ip_arg(c),
        "bind_if" => ch.bind_if = ctx.string_arg(c),
        "bind_port" => ch.bind_port = ctx.int_arg(c, 1, 65535).map(|v| v as u16),
        "fwmark" => ch.fwmark = ctx.int_arg(c, 0, i64::from(u32::MAX)).map(|v| v as u32),
        "log_all_failures" => ch.log_all_failures = ctx.opt_bool(c),
        _ => return false,
    }
    true
}

fn table(extra: &[(&'static str, Shape)], with_common: bool) -> Vec<(&'static str, Shape)> {
    let mut t: Vec<(&'static str, Shape)> = extra.to_vec();
    if with_common {
        t.extend_from_slice(COMMON);
    }
    t
}

/// One checker block (SMTP_CHECK with several `host {}` gives one checker per host).
fn checker(ctx: &mut Ctx, node: &Node) -> Vec<(Checker, Timing)> {
    ctx.no_extra(node, 0);
    let span = node.keyword.span.clone();
    let kw = node.keyword.text.as_str();
    let mut t = Timing::default();
    match kw {
        "TCP_CHECK" | "PING_CHECK" => {
            let kind = if kw == "TCP_CHECK" {
                CheckerKind::Tcp
            } else {
                CheckerKind::Ping
            };
            let mut ch = new_checker(span, kind);
            let tab = table(&[], true);
            for c in kids(node) {
                if ctx.check_keyword(c, &tab) {
                    common_keyword(ctx, &mut ch, &mut t, c);
                }
            }
            vec![(ch, t)]
        }
        "HTTP_GET" | "SSL_GET" => {
            let mut h = HttpCheck::default();
            let mut ch = new_checker(span, CheckerKind::Tcp);
            let mut tab = table(HTTP, true);
            if kw == "SSL_GET" {
                tab.extend_from_slice(SSL);
            }
            for c in kids(node) {
                if !ctx.check_keyword(c, &tab) || common_keyword(ctx, &mut ch, &mut t, c) {
                    continue;
                }
                match c.keyword.text.as_str() {
                    "http_protocol" => {
                        if let Some(s) = ctx.string_arg(c) {
                            if matches!(s.as_str(), "1.0" | "1.0C" | "1.0c" | "1.1") {
                                h.http_protocol = Some(s.to_ascii_uppercase());
                            } else {
                                ctx.error(
                                    &c.args[0].span,
                                    format!("http_protocol: '{s}' is not 1.0, 1.0C or 1.1"),
                                );
                            }
                        }
                    }
                    "fast_recovery" => h.fast_recovery = ctx.opt_bool(c),
                    "virtualhost" => h.virtualhost = ctx.string_arg(c),
                    "enable_sni" => h.enable_sni = ctx.opt_bool(c),
                    "url" => {
                        if let Some(u) = url(ctx, c) {
                            h.urls.push(u);
                        }
                    }
                    _ => {}
                }
            }
            if h.urls.is_empty() {
                ctx.error(&node.keyword.span, format!("{kw}: no url configured"));
            }
            ch.kind = if kw == "SSL_GET" {
                CheckerKind::Ssl(h)
            } else {
                CheckerKind::Http(h)
            };
            vec![(ch, t)]
        }
        "SMTP_CHECK" => {
            let mut helo = None;
            let mut ch = new_checker(span, CheckerKind::Tcp);
            let mut hosts: Vec<(Checker, Timing)> = Vec::new();
            let tab = table(SMTP, true);
            for c in kids(node) {
                if !ctx.check_keyword(c, &tab) || common_keyword(ctx, &mut ch, &mut t, c) {
                    continue;
                }
                match c.keyword.text.as_str() {
                    "helo_name" => helo = ctx.string_arg(c),
                    "host" => {
                        let mut hc = new_checker(c.keyword.span.clone(), CheckerKind::Tcp);
                        let mut ht = Timing::default();
                        for h in kids(c) {
                            if ctx.check_keyword(h, COMMON) {
                                common_keyword(ctx, &mut hc, &mut ht, h);
                            }
                        }
                        hosts.push((hc, ht));
                    }
                    _ => {}
                }
            }
            let kind = CheckerKind::Smtp { helo_name: helo };
            if hosts.is_empty() {
                ch.kind = kind;
                return vec![(ch, t)];
            }
            // Each host inherits the block's own options where it sets none.
            hosts
                .into_iter()
                .map(|(mut hc, ht)| {
                    hc.kind = kind.clone();
                    hc.connect_ip = hc.connect_ip.or(ch.connect_ip);
                    hc.connect_port = hc.connect_port.or(ch.connect_port);
                    hc.bindto = hc.bindto.or(ch.bindto);
                    hc.bind_if = hc.bind_if.or(ch.bind_if.clone());
                    hc.bind_port = hc.bind_port.or(ch.bind_port);
                    hc.fwmark = hc.fwmark.or(ch.fwmark);
                    hc.log_all_failures |= ch.log_all_failures;
                    let merged = Timing {
                        connect_timeout: ht.connect_timeout.or(t.connect_timeout),
                        retry: ht.retry.or(t.retry),
                        delay_before_retry: ht.delay_before_retry.or(t.delay_before_retry),
                        warmup: ht.warmup.or(t.warmup),
                        delay_loop: ht.delay_loop.or(t.delay_loop),
                        alpha: ht.alpha.or(t.alpha),
                    };
                    (hc, merged)
                })
                .collect()
        }
        "DNS_CHECK" => {
            let mut qtype = "SOA".to_string();
            let mut name = ".".to_string();
            let mut ch = new_checker(span, CheckerKind::Tcp);
            let tab = table(DNS, true);
            let mut seen = Vec::new();
            for c in kids(node) {
                if !ctx.check_keyword(c, &tab) || common_keyword(ctx, &mut ch, &mut t, c) {
                    continue;
                }
                if !ctx.first_time(&mut seen, c) {
                    continue;
                }
                match c.keyword.text.as_str() {
                    "type" => {
                        if let Some(s) = ctx.string_arg(c) {
                            let u = s.to_ascii_uppercase();
                            if matches!(
                                u.as_str(),
                                "A" | "NS" | "CNAME" | "SOA" | "MX" | "TXT" | "AAAA"
                            ) {
                                qtype = u;
                            } else {
                                ctx.error(
                                    &c.args[0].span,
                                    format!("type: unknown DNS query type '{s}'"),
                                );
                            }
                        }
                    }
                    "name" => {
                        if let Some(s) = ctx.string_arg(c) {
                            name = s;
                        }
                    }
                    _ => {}
                }
            }
            ch.kind = CheckerKind::Dns { qtype, name };
            vec![(ch, t)]
        }
        "MISC_CHECK" => {
            let mut path: Option<ScriptCommand> = None;
            let mut timeout = None;
            let mut dynamic = false;
            let mut user: Option<(String, Option<String>)> = None;
            let mut ch = new_checker(span, CheckerKind::Tcp);
            // MISC_CHECK does not connect: only the timing options apply.
            let mut tab = table(MISC, false);
            tab.extend_from_slice(MISC_TIMING);
            for c in kids(node) {
                if !ctx.check_keyword(c, &tab) || common_keyword(ctx, &mut ch, &mut t, c) {
                    continue;
                }
                match c.keyword.text.as_str() {
                    "misc_path" => path = ctx.script_arg(c),
                    "misc_timeout" => {
                        // 0: the default (the delay loop).
                        timeout = ctx
                            .int_arg(c, 0, 4294)
                            .filter(|v| *v > 0)
                            .map(|v| Duration::from_secs(v as u64))
                    }
                    "misc_dynamic" => dynamic = ctx.opt_bool(c),
                    "user" => {
                        if let Some(w) = ctx.arg(c, 0, "user name") {
                            user = Some((w.text.clone(), c.args.get(1).map(|w| w.text.clone())));
                        }
                        ctx.no_extra(c, 2);
                    }
                    _ => {}
                }
            }
            let Some(mut path) = path else {
                ctx.error(
                    &node.keyword.span,
                    "MISC_CHECK: no misc_path configured".to_string(),
                );
                return Vec::new();
            };
            if let Some((u, g)) = user {
                path.user = Some(u);
                path.group = g;
            }
            ch.kind = CheckerKind::Misc(MiscCheck {
                path,
                timeout,
                dynamic,
            });
            vec![(ch, t)]
        }
        "UDP_CHECK" => {
            let mut u = UdpCheck {
                max_reply_length: 255,
                ..Default::default()
            };
            let mut ch = new_checker(span, CheckerKind::Tcp);
            let tab = table(UDP, true);
            for c in kids(node) {
                if !ctx.check_keyword(c, &tab) || common_keyword(ctx, &mut ch, &mut t, c) {
                    continue;
                }
                let joined: String = c
                    .args
                    .iter()
                    .map(|w| w.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                match c.keyword.text.as_str() {
                    "payload" => match parse_hex(&joined, false) {
                        Some(p) => {
                            u.payload = Some(
                                p.into_iter()
                                    .map(|(h, l)| (h.unwrap_or(0) << 4) | l.unwrap_or(0))
                                    .collect(),
                            )
                        }
                        None => ctx.error(&c.keyword.span, "payload: not a hex string".to_string()),
                    },
                    "require_reply" => match parse_hex(&joined, true) {
                        Some(p) => u.require_reply = Some(p),
                        None => ctx.error(
                            &c.keyword.span,
                            "require_reply: not a hex string".to_string(),
                        ),
                    },
                    "min_reply_length" => {
                        if let Some(v) = ctx.int_arg(c, 0, 65535) {
                            u.min_reply_length = v as u32;
                        }
                    }
                    "max_reply_length" => {
                        if let Some(v) = ctx.int_arg(c, 0, 65535) {
                            u.max_reply_length = v as u32;
                        }
                    }
                    _ => {}
                }
            }
            if u.min_reply_length > u.max_reply_length {
                ctx.warn(
                    &node.keyword.span,
                    format!(
                        "UDP_CHECK: min_reply_length {} is above max_reply_length {}; the check always fails",
                        u.min_reply_length, u.max_reply_length
                    ),
                );
            }
            ch.kind = CheckerKind::Udp(u);
            vec![(ch, t)]
        }
        "FILE_CHECK" => {
            let mut f = FileCheck {
                track_file: String::new(),
                dynamic: false,
                weight: None,
                reverse: false,
            };
            for c in kids(node) {
                if !ctx.check_keyword(c, FILE) {
                    continue;
                }
                match c.keyword.text.as_str() {
                    "track_file" => {
                        if let Some(s) = ctx.string_arg(c) {
                            f.track_file = s;
                        }
                    }
                    "dynamic" => f.dynamic = ctx.flag(c),
                    "weight" => {
                        if let Some(w) = ctx.arg(c, 0, "weight") {
                            f.weight = ctx.int_word("weight", w, -2147483647, 2147483647);
                        }
                        match c.args.get(1) {
                            Some(r) if r.text == "reverse" => f.reverse = true,
                            Some(r) => ctx.error(
                                &r.span,
                                format!("weight: unexpected argument '{}'", r.text),
                            ),
                            None => {}
                        }
                        ctx.no_extra(c, 2);
                    }
                    _ => {}
                }
            }
            if f.track_file.is_empty() {
                ctx.error(
                    &node.keyword.span,
                    "FILE_CHECK: no track_file configured".to_string(),
                );
                return Vec::new();
            }
            vec![(new_checker(span, CheckerKind::File(f)), t)]
        }
        "BFD_CHECK" => {
            let mut name = None;
            let mut seen = Vec::new();
            for c in kids(node) {
                if ctx.check_keyword(c, BFD) && ctx.first_time(&mut seen, c) {
                    name = ctx.string_arg(c);
                }
            }
            match name {
                Some(name) => vec![(new_checker(span, CheckerKind::Bfd { name }), t)],
                None => {
                    ctx.error(
                        &node.keyword.span,
                        "BFD_CHECK: no name configured".to_string(),
                    );
                    Vec::new()
                }
            }
        }
        _ => Vec::new(),
    }
}

fn url(ctx: &mut Ctx, node: &Node) -> Option<UrlCheck> {
    ctx.no_extra(node, 0);
    let mut u = UrlCheck {
        path: String::new(),
        digest: None,
        status_codes: Vec::new(),
        virtualhost: None,
        regex: None,
        regex_no_match: false,
        regex_options: Vec::new(),
        regex_stack: None,
        regex_min_offset: None,
        regex_max_offset: None,
    };
    let mut regex_span = None;
    let mut options_span = None;
    for c in kids(node) {
        if !ctx.check_keyword(c, URL) {
            continue;
        }
        match c.keyword.text.as_str() {
            "path" => {
                if let Some(s) = ctx.string_arg(c) {
                    u.path = s;
                }
            }
            "digest" if u.digest.is_some() => ctx.warn(
                &c.keyword.span,
                "digest: already given for this url; this one is ignored".to_string(),
            ),
            "digest" => {
                if let Some(s) = ctx.string_arg(c) {
                    if s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
                        u.digest = Some(s.to_ascii_lowercase());
                    } else {
                        ctx.error(
                            &c.args[0].span,
                            format!("digest: '{s}' is not an MD5 digest (32 hex digits)"),
                        );
                    }
                }
            }
            "status_code" => {
                if c.args.is_empty() {
                    ctx.error(&c.keyword.span, "status_code: missing code".to_string());
                }
                for w in &c.args {
                    let (a, b) = match w.text.split_once('-') {
                        Some((a, b)) => (a, b),
                        None => (w.text.as_str(), w.text.as_str()),
                    };
                    match (a.parse::<u16>(), b.parse::<u16>()) {
                        (Ok(a), Ok(b))
                            if (100..=599).contains(&a) && (100..=599).contains(&b) && a <= b =>
                        {
                            u.status_codes.push((a, b))
                        }
                        _ => ctx.error(
                            &w.span,
                            format!(
                                "status_code: '{}' is not a status code or range (100-599)",
                                w.text
                            ),
                        ),
                    }
                }
            }
            "virtualhost" => u.virtualhost = ctx.string_arg(c),
            "regex" => {
                u.regex = ctx.string_arg(c);
                regex_span = Some(c.args.first().map_or(&c.keyword.span, |w| &w.span).clone());
            }
            "regex_no_match" => u.regex_no_match = ctx.flag(c),
            "regex_options" => {
                u.regex_options = c.args.iter().map(|w| w.text.clone()).collect();
                options_span = Some(c.keyword.span.clone());
            }
            // Kept for the dump; no effect (the regex engine has no PCRE2 JIT stack).
            "regex_stack" => {
                let a = c
                    .args
                    .first()
                    .and_then(|w| ctx.int_word("regex_stack", w, 1, i64::from(u32::MAX)));
                let b = c
                    .args
                    .get(1)
                    .and_then(|w| ctx.int_word("regex_stack", w, 1, i64::from(u32::MAX)));
                match (a, b) {
                    (Some(a), Some(b)) => u.regex_stack = Some((a as u32, b as u32)),
                    _ => ctx.error(
                        &c.keyword.span,
                        "regex_stack: needs START and MAX".to_string(),
                    ),
                }
            }
            "regex_min_offset" => {
                u.regex_min_offset = ctx.int_arg(c, 0, i64::from(u32::MAX)).map(|v| v as u32)
            }
            "regex_max_offset" => {
                u.regex_max_offset = ctx.int_arg(c, 0, i64::from(u32::MAX)).map(|v| v as u32)
            }
            _ => {}
        }
    }
    if u.path.is_empty() {
        ctx.error(&node.keyword.span, "url: no path configured".to_string());
        return None;
    }
    if u.status_codes.is_empty() {
        u.status_codes.push((200, 299));
    }
    check_regex(ctx, &mut u, regex_span, options_span);
    Some(u)
}

/// Compiles the url's `regex` as the checker will: a pattern the engine cannot run is an
/// error, `regex_options` it cannot honour are warnings (keepalived 2.2.7's `-t` accepts
/// both and fails at run time). `regex_options` without a `regex` do nothing, silently as
/// in keepalived.
fn check_regex(
    ctx: &mut Ctx,
    u: &mut UrlCheck,
    regex_span: Option<Span>,
    options_span: Option<Span>,
) {
    let (Some(re), Some(span)) = (u.regex.as_deref(), regex_span) else {
        return;
    };
    match crate::check::http::pattern::Pattern::compile(
        re,
        &u.regex_options,
        u.regex_no_match,
        u.regex_min_offset,
        u.regex_max_offset,
    ) {
        Ok(c) => {
            for w in c.warnings {
                ctx.warn(options_span.as_ref().unwrap_or(&span), w);
            }
        }
        Err(e) => {
            ctx.error(&span, e);
            u.regex = None;
        }
    }
}

/// keepalived's free-format hex: whitespace separates bytes, a lone digit is one byte,
/// longer runs are split into pairs. With `wild`, `x`/`X` is a don't-care nibble.
pub fn parse_hex(s: &str, wild: bool) -> Option<Vec<(Option<u8>, Option<u8>)>> {
    let nib = |c: char| -> Option<Option<u8>> {
        if wild && (c == 'x' || c == 'X') {
            Some(None)
        } else {
            c.to_digit(16).map(|d| Some(d as u8))
        }
    };
    let mut out = Vec::new();
    for run in s.split_whitespace() {
        let cs: Vec<char> = run.chars().collect();
        for p in cs.chunks(2) {
            if p.len() == 2 {
                out.push((nib(p[0])?, nib(p[1])?));
            } else {
                out.push((Some(0), nib(p[0])?));
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let r = |s: &str| parse_range(s).map(|(a, b)| (a.to_string(), b.to_string()));
        assert_eq!(
            r("192.168.200.3-10"),
            Some(("192.168.200.3".into(), "192.168.200.10".into()))
        );
        assert_eq!(
            r("192.168.202.8/29"),
            Some(("192.168.202.8".into(), "192.168.202.15".into()))
        );
        assert_eq!(r("ae00::2-9"), Some(("ae00::2".into(), "ae00::9".into())));
        assert_eq!(r("10.0.0.5-3"), None);
        assert_eq!(r("x"), None);
    }

    #[test]
    fn hex() {
        // The man page's example.
        let p = parse_hex("Ab12f 3 456 546443123", false).unwrap();
        let bytes: Vec<u8> = p
            .iter()
            .map(|(h, l)| (h.unwrap() << 4) | l.unwrap())
            .collect();
        assert_eq!(
            bytes,
            vec![0xab, 0x12, 0x0f, 0x03, 0x45, 0x06, 0x54, 0x64, 0x43, 0x12, 0x03]
        );
        assert!(parse_hex("zz", false).is_none());
        assert_eq!(parse_hex("xA", true).unwrap(), vec![(None, Some(10))]);
    }
}
