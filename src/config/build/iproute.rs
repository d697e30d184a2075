//! The `ip route` / `ip rule` grammar of keepalived 2.2.7 for `virtual_routes`,
//! `static_routes`, `virtual_rules` and `static_rules`: each line parsed once, here, into
//! the typed [`Route`] / [`Rule`] of the model. What keepalived rejects (a route it skips)
//! is an error at the word that caused it; what it accepts with a message is a warning and
//! the line is kept.
//!
//! Names of tables, protocols, scopes and realms are resolved with [`RtNames`]: iproute2's
//! built-in names, plus (for a file loaded from this host, as keepalived does) those of
//! `/etc/iproute2/rt_tables`, `rt_tables.d/*.conf`, `rt_protos`, `rt_protos.d/*.conf`,
//! `rt_scopes` and `rt_realms`.

use super::super::iproute::*;
use super::super::tree::{Node, Word};
use super::values::Ctx;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Name -> number maps for the words `ip route` lets a user spell by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtNames {
    pub tables: Vec<(String, u32)>,
    pub protocols: Vec<(String, u32)>,
    pub scopes: Vec<(String, u32)>,
    pub realms: Vec<(String, u32)>,
}

fn owned(v: &[(&str, u32)]) -> Vec<(String, u32)> {
    v.iter().map(|(n, i)| (n.to_string(), *i)).collect()
}

impl Default for RtNames {
    /// iproute2's names (the contents of the files it ships).
    fn default() -> Self {
        RtNames {
            tables: owned(&[
                ("unspec", 0),
                ("default", 253),
                ("main", 254),
                ("local", 255),
            ]),
            protocols: owned(&[
                ("unspec", 0),
                ("redirect", 1),
                ("kernel", 2),
                ("boot", 3),
                ("static", 4),
                ("gated", 8),
                ("ra", 9),
                ("mrt", 10),
                ("zebra", 11),
                ("bird", 12),
                ("dnrouted", 13),
                ("xorp", 14),
                ("ntk", 15),
                ("dhcp", 16),
                ("keepalived", 18),
                ("babel", 42),
                ("openr", 99),
                ("bgp", 186),
                ("isis", 187),
                ("ospf", 188),
                ("rip", 189),
                ("eigrp", 192),
            ]),
            scopes: owned(&[
                ("global", 0),
                ("site", 200),
                ("link", 253),
                ("host", 254),
                ("nowhere", 255),
            ]),
            realms: owned(&[("cosmos", 0)]),
        }
    }
}

/// `NUMBER NAME` lines of an iproute2 names file (`#` comments).
fn parse_names_file(text: &str) -> Vec<(String, u32)> {
    text.lines()
        .filter_map(|l| {
            let l = l.split('#').next()?.trim();
            let mut it = l.split_whitespace();
            let n = parse_u32(it.next()?)?;
            let name = it.next()?;
            Some((name.to_string(), n))
        })
        .collect()
}

impl RtNames {
    /// The built-in names plus those of this host's `/etc/iproute2` files.
    pub fn from_host() -> RtNames {
        Self::from_dir(std::path::Path::new("/etc/iproute2"))
    }

    #[allow(clippy::disallowed_methods)] // config's file reader (iproute2's name files)
    pub fn from_dir(dir: &std::path::Path) -> RtNames {
        let mut n = RtNames::default();
        let read = |name: &str| -> Vec<(String, u32)> {
            let mut v = std::fs::read_to_string(dir.join(name))
                .map(|t| parse_names_file(&t))
                .unwrap_or_default();
            if let Ok(rd) = std::fs::read_dir(dir.join(format!("{name}.d"))) {
                let mut files: Vec<_> = rd
                    .filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "conf"))
                    .collect();
                files.sort();
                for f in files {
                    if let Ok(t) = std::fs::read_to_string(f) {
                        v.extend(parse_names_file(&t));
                    }
                }
            }
            v
        };
        n.tables.extend(read("rt_tables"));
        n.protocols.extend(read("rt_protos"));
        n.scopes.extend(read("rt_scopes"));
        n.realms.extend(read("rt_realms"));
        n
    }

    fn find(list: &[(String, u32)], s: &str) -> Option<u32> {
        list.iter().rev().find(|(n, _)| n == s).map(|(_, v)| *v)
    }
}

/// A decimal or `0x` hexadecimal u32.
fn parse_u32(s: &str) -> Option<u32> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u32::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// A decimal u32 only (keepalived's strict number reader: `0x10` is not a metric).
fn parse_dec(s: &str) -> Option<u32> {
    if s.starts_with('+') {
        return None;
    }
    s.parse().ok()
}

/// The words of a line with a read position.
struct Line<'a> {
    words: Vec<&'a Word>,
    at: usize,
}

impl<'a> Line<'a> {
    fn new(n: &'a Node) -> Line<'a> {
        Line {
            words: std::iter::once(&n.keyword).chain(&n.args).collect(),
            at: 0,
        }
    }
    fn next(&mut self) -> Option<&'a Word> {
        let w = self.words.get(self.at).copied();
        self.at += 1;
        w
    }
    fn peek(&self) -> Option<&'a str> {
        self.words.get(self.at).map(|w| w.text.as_str())
    }
}

/// The value after keyword `kw`, or an error at the keyword.
fn value<'a>(ctx: &mut Ctx, block: &str, line: &mut Line<'a>, kw: &Word) -> Option<&'a Word> {
    let v = line.next();
    if v.is_none() {
        ctx.error(&kw.span, format!("{block}: '{}' needs a value", kw.text));
    }
    v
}

/// `ADDR[/LEN]`: a prefix length beyond the family's is reduced to it with a warning, as
/// keepalived does.
fn prefix(ctx: &mut Ctx, block: &str, w: &Word) -> Option<Prefix> {
    let (a, l) = match w.text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (w.text.as_str(), None),
    };
    let Ok(addr) = a.parse::<IpAddr>() else {
        ctx.error(
            &w.span,
            format!("{block}: '{}' is not an address or prefix", w.text),
        );
        return None;
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = match l {
        None => max,
        Some(l) => match l.parse::<u32>() {
            Ok(n) if n <= u32::from(max) => n as u8,
            Ok(_) => {
                ctx.warn(
                    &w.span,
                    format!(
                        "{block}: prefix length of {} is out of range; using {max}",
                        w.text
                    ),
                );
                max
            }
            Err(_) => {
                ctx.error(
                    &w.span,
                    format!("{block}: '{}' has an invalid prefix length", w.text),
                );
                return None;
            }
        },
    };
    Some(Prefix { addr, len })
}

fn address(ctx: &mut Ctx, block: &str, w: &Word) -> Option<IpAddr> {
    match w.text.parse::<IpAddr>() {
        Ok(a) => Some(a),
        Err(_) => {
            ctx.error(
                &w.span,
                format!("{block}: '{}' is not an IP address", w.text),
            );
            None
        }
    }
}

/// A name of `list` or a number up to `max`.
fn named(
    ctx: &mut Ctx,
    block: &str,
    w: &Word,
    list: &[(String, u32)],
    what: &str,
    max: u32,
) -> Option<u32> {
    match RtNames::find(list, &w.text).or_else(|| parse_u32(&w.text)) {
        Some(v) if v <= max => Some(v),
        _ => {
            ctx.error(
                &w.span,
                format!("{block}: {what} '{}' not found or invalid", w.text),
            );
            None
        }
    }
}

fn number(ctx: &mut Ctx, block: &str, w: &Word, what: &str, max: u32) -> Option<u32> {
    match parse_dec(&w.text) {
        Some(v) if v <= max => Some(v),
        _ => {
            ctx.error(
                &w.span,
                format!("{block}: invalid {what} '{}' (0-{max})", w.text),
            );
            None
        }
    }
}

fn tos(ctx: &mut Ctx, block: &str, w: &Word) -> Option<u8> {
    match parse_u32(&w.text).and_then(|v| u8::try_from(v).ok()) {
        Some(v) => Some(v),
        None => {
            ctx.error(
                &w.span,
                format!("{block}: TOS value '{}' is invalid", w.text),
            );
            None
        }
    }
}

/// `[FROM/]TO`, each a realm name or number.
fn realms(ctx: &mut Ctx, block: &str, w: &Word) -> Option<Realms> {
    let one = |s: &str| {
        RtNames::find(&ctx.rt_names.realms, s)
            .or_else(|| parse_u32(s))
            .and_then(|v| u16::try_from(v).ok())
    };
    let r = match w.text.split_once('/') {
        Some((a, b)) => one(a).zip(one(b)).map(|(from, to)| Realms {
            from: Some(from),
            to,
        }),
        None => one(&w.text).map(|to| Realms { from: None, to }),
    };
    if r.is_none() {
        ctx.error(&w.span, format!("{block}: invalid realms '{}'", w.text));
    }
    r
}

/// `via [inet|inet6] ADDR`: the address, checked against an explicit family.
fn gateway(ctx: &mut Ctx, block: &str, line: &mut Line, kw: &Word) -> Option<IpAddr> {
    let mut w = value(ctx, block, line, kw)?;
    let family = match w.text.as_str() {
        "inet" => Some(false),
        "inet6" => Some(true),
        _ => None,
    };
    if family.is_some() {
        w = value(ctx, block, line, w)?;
    }
    let a = address(ctx, block, w)?;
    if family.is_some_and(|v6| v6 != a.is_ipv6()) {
        ctx.error(
            &w.span,
            format!("{block}: {} is not of the family given", w.text),
        );
        return None;
    }
    Some(a)
}

/// A metric's value: a number, or for times a number with `s`/`ms` (and their long
/// forms) or a bare kernel value.
fn metric(
    ctx: &mut Ctx,
    block: &str,
    line: &mut Line,
    kw: &Word,
    kind: MetricKind,
) -> Option<Metric> {
    let mut w = value(ctx, block, line, kw)?;
    let mut lock = false;
    if w.text == "lock" && kind.lockable() {
        lock = true;
        w = value(ctx, block, line, w)?;
    }
    let (value, millis) = if kind.is_time() {
        let t = w.text.as_str();
        let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (n, unit) = t.split_at(digits);
        let n = parse_dec(n);
        match (n, unit) {
            (Some(n), "") => (Some(n), false),
            (Some(n), "ms" | "msec" | "msecs") => (Some(n), true),
            (Some(n), "s" | "sec" | "secs") => (n.checked_mul(1000), true),
            _ => (None, false),
        }
    } else {
        (parse_dec(&w.text), false)
    };
    match value {
        Some(v) if v <= kind.max() => Some(Metric {
            kind,
            lock,
            value: v,
            millis,
        }),
        _ => {
            ctx.error(
                &w.span,
                format!("{block}: invalid {} value '{}'", kind.name(), w.text),
            );
            None
        }
    }
}

const ENCAP_IP: &[&str] = &["id", "dst", "src", "tos", "ttl"];
const ENCAP_IP6: &[&str] = &["id", "dst", "src", "tc", "hoplimit"];

/// `encap mpls|ip|ip6|ila ...`.
fn encap(ctx: &mut Ctx, block: &str, line: &mut Line, kw: &Word) -> Option<Encap> {
    let Some(t) = line.next() else {
        ctx.error(&kw.span, format!("{block}: encap needs a type"));
        return None;
    };
    match t.text.as_str() {
        "mpls" => {
            let w = value(ctx, block, line, t)?;
            let labels: Option<Vec<u32>> = w
                .text
                .split('/')
                .map(|l| parse_dec(l).filter(|&v| v < (1 << 20)))
                .collect();
            match labels {
                Some(labels) => Some(Encap::Mpls { labels }),
                None => {
                    ctx.error(
                        &w.span,
                        format!("{block}: invalid MPLS label stack '{}'", w.text),
                    );
                    None
                }
            }
        }
        "ip" | "ip6" => {
            let v6 = t.text == "ip6";
            let keys = if v6 { ENCAP_IP6 } else { ENCAP_IP };
            let (mut id, mut dst, mut src, mut tos_v, mut ttl) = (None, None, None, None, None);
            while let Some(k) = line.peek().filter(|k| keys.contains(k)) {
                let k = k.to_string();
                let kw = line.next()?;
                let w = value(ctx, block, line, kw)?;
                match k.as_str() {
                    "id" => match w.text.parse::<u64>() {
                        Ok(v) => id = Some(v),
                        Err(_) => {
                            ctx.error(&w.span, format!("{block}: invalid encap id '{}'", w.text));
                            return None;
                        }
                    },
                    "dst" | "src" => {
                        let a = address(ctx, block, w)?;
                        if a.is_ipv6() != v6 {
                            ctx.error(
                                &w.span,
                                format!("{block}: {} is not of the encap's family", w.text),
                            );
                            return None;
                        }
                        if k == "dst" {
                            dst = Some(a);
                        } else {
                            src = Some(a);
                        }
                    }
                    "tos" | "tc" => tos_v = Some(tos(ctx, block, w)?),
                    _ => ttl = Some(number(ctx, block, w, &k, 255)? as u8),
                }
            }
            if id.is_none() && dst.is_none() {
                ctx.error(
                    &t.span,
                    format!("{block}: address or id missing for ip encapsulation"),
                );
                return None;
            }
            Some(if v6 {
                Encap::Ip6 {
                    id,
                    dst: only_v6(dst),
                    src: only_v6(src),
                    tc: tos_v,
                    hoplimit: ttl,
                }
            } else {
                Encap::Ip {
                    id,
                    dst: only_v4(dst),
                    src: only_v4(src),
                    tos: tos_v,
                    ttl,
                }
            })
        }
        "ila" => {
            let w = value(ctx, block, line, t)?;
            let groups: Option<Vec<u64>> = w
                .text
                .split(':')
                .map(|g| u64::from_str_radix(g, 16).ok().filter(|&v| v <= 0xffff))
                .collect();
            match groups {
                Some(g) if g.len() == 4 => Some(Encap::Ila {
                    locator: g.iter().fold(0, |acc, x| (acc << 16) | x),
                }),
                _ => {
                    ctx.error(
                        &w.span,
                        format!("{block}: invalid ILA locator '{}'", w.text),
                    );
                    None
                }
            }
        }
        other => {
            ctx.error(&t.span, format!("{block}: unknown encap type '{other}'"));
            None
        }
    }
}

fn only_v4(a: Option<IpAddr>) -> Option<Ipv4Addr> {
    match a {
        Some(IpAddr::V4(x)) => Some(x),
        _ => None,
    }
}

fn only_v6(a: Option<IpAddr>) -> Option<Ipv6Addr> {
    match a {
        Some(IpAddr::V6(x)) => Some(x),
        _ => None,
    }
}

/// One `nexthop` group's options (after the `nexthop` word), up to the next `nexthop` or
/// the first word that is not one of its options.
fn nexthop(ctx: &mut Ctx, block: &str, line: &mut Line) -> Option<Nexthop> {
    let mut n = Nexthop::default();
    while let Some(k) = line.peek() {
        if !matches!(k, "via" | "dev" | "weight" | "onlink" | "realms" | "encap") {
            break;
        }
        let kw = line.next()?;
        match kw.text.as_str() {
            "via" => n.via = Some(gateway(ctx, block, line, kw)?),
            "dev" => n.dev = Some(value(ctx, block, line, kw)?.text.clone()),
            "weight" => {
                let w = value(ctx, block, line, kw)?;
                match parse_dec(&w.text) {
                    Some(v @ 1..=256) => n.weight = v as u16,
                    _ => {
                        ctx.error(
                            &w.span,
                            format!("{block}: invalid weight '{}' (1-256)", w.text),
                        );
                        return None;
                    }
                }
            }
            "onlink" => n.onlink = true,
            "realms" => {
                let w = value(ctx, block, line, kw)?;
                n.realms = Some(realms(ctx, block, w)?);
            }
            _ => n.encap = Some(encap(ctx, block, line, kw)?),
        }
    }
    Some(n)
}

/// The destination of a route: `(prefix, family given by the word)`; `default` and `all`
/// take the family of the rest of the line.
fn destination(ctx: &mut Ctx, block: &str, w: &Word) -> Option<(Prefix, bool)> {
    match w.text.as_str() {
        "default" | "all" => Some((Prefix::default_route(false), false)),
        "default6" => Some((Prefix::default_route(true), true)),
        _ => prefix(ctx, block, w).map(|p| (p, true)),
    }
}

/// A line of `virtual_routes` (`virtual_route` true) or `static_routes`.
pub fn route(ctx: &mut Ctx, block: &str, node: &Node, virtual_route: bool) -> Option<Route> {
    if node.open_brace.is_some() {
        ctx.error(&node.keyword.span, format!("{block}: unexpected block"));
    }
    let mut line = Line::new(node);
    let mut r = Route::new(Prefix::default_route(false), node.keyword.span.clone());
    // The destination, and whether its family is settled (not `default` / `all`).
    let mut dst: Option<(Prefix, bool)> = None;
    let mut family_kw: Option<(bool, &Word)> = None;
    let mut ok = true;
    let mut first = true;
    while let Some(w) = line.next() {
        let t = w.text.as_str();
        if first {
            first = false;
            if let Some(k) = RouteType::from_name(t) {
                r.kind = k;
                continue;
            }
        }
        let kind_metric = MetricKind::from_name(t);
        let step: Option<()> = (|| {
            match t {
                "to" => {
                    dst = Some({
                        let v = value(ctx, block, &mut line, w)?;
                        destination(ctx, block, v)
                    }?)
                }
                "from" => {
                    r.from = Some({
                        let v = value(ctx, block, &mut line, w)?;
                        prefix(ctx, block, v)
                    }?)
                }
                "via" => r.via = Some(gateway(ctx, block, &mut line, w)?),
                "gw" => {
                    ctx.warn(
                        &w.span,
                        format!("{block}: \"gw\" is deprecated; use \"via\""),
                    );
                    r.via = Some(gateway(ctx, block, &mut line, w)?);
                }
                "or" => {
                    ctx.warn(
                        &w.span,
                        format!("{block}: \"or\" is deprecated; use \"nexthop\""),
                    );
                    let a = {
                        let v = value(ctx, block, &mut line, w)?;
                        address(ctx, block, v)
                    }?;
                    if r.or.is_some() {
                        ctx.warn(
                            &w.span,
                            format!("{block}: \"or\" already given; this one is ignored"),
                        );
                    } else {
                        r.or = Some(a);
                    }
                }
                "dev" | "oif" => r.dev = Some(value(ctx, block, &mut line, w)?.text.clone()),
                "src" => {
                    r.src = Some({
                        let v = value(ctx, block, &mut line, w)?;
                        address(ctx, block, v)
                    }?)
                }
                "table" => {
                    let v = value(ctx, block, &mut line, w)?;
                    let names = ctx.rt_names.tables.clone();
                    r.table = Some(named(ctx, block, v, &names, "routing table", u32::MAX)?);
                }
                "metric" | "priority" | "preference" => {
                    let v = value(ctx, block, &mut line, w)?;
                    r.metric = Some(number(ctx, block, v, "metric", u32::MAX)?);
                }
                "scope" => {
                    let v = value(ctx, block, &mut line, w)?;
                    let names = ctx.rt_names.scopes.clone();
                    r.scope = Some(named(ctx, block, v, &names, "scope", 255)? as u8);
                }
                "protocol" => {
                    let v = value(ctx, block, &mut line, w)?;
                    let names = ctx.rt_names.protocols.clone();
                    r.protocol = Some(named(ctx, block, v, &names, "protocol", 255)? as u8);
                }
                "tos" | "dsfield" => {
                    r.tos = Some({
                        let v = value(ctx, block, &mut line, w)?;
                        tos(ctx, block, v)
                    }?)
                }
                "realms" => {
                    r.realms = Some({
                        let v = value(ctx, block, &mut line, w)?;
                        realms(ctx, block, v)
                    }?)
                }
                "pref" => {
                    let v = value(ctx, block, &mut line, w)?;
                    r.pref = Some(match v.text.as_str() {
                        "low" => 3,
                        "medium" => 0,
                        "high" => 1,
                        _ => number(ctx, block, v, "pref", 255)? as u8,
                    });
                }
                "expires" => {
                    let v = value(ctx, block, &mut line, w)?;
                    r.expires = Some(number(ctx, block, v, "expires", u32::MAX)?);
                }
                "onlink" => r.onlink = true,
                "features" => {
                    let v = value(ctx, block, &mut line, w)?;
                    if v.text != "ecn" {
                        ctx.error(
                            &v.span,
                            format!("{block}: feature '{}' not supported", v.text),
                        );
                        return None;
                    }
                    r.ecn = true;
                }
                "congctl" => {
                    let mut v = value(ctx, block, &mut line, w)?;
                    let lock = v.text == "lock";
                    if lock {
                        v = value(ctx, block, &mut line, v)?;
                    }
                    r.congctl = Some((v.text.clone(), lock));
                }
                "encap" => r.encap = Some(encap(ctx, block, &mut line, w)?),
                "ttl-propagate" => {
                    let v = value(ctx, block, &mut line, w)?;
                    r.ttl_propagate = Some(match v.text.as_str() {
                        "enabled" => true,
                        "disabled" => false,
                        _ => {
                            ctx.error(
                                &v.span,
                                format!(
                                    "{block}: ttl-propagate '{}' is not enabled or disabled",
                                    v.text
                                ),
                            );
                            return None;
                        }
                    });
                }
                "inet" | "inet6" => {
                    // keepalived 2.2.7 takes the word after these as theirs and drops it
                    // (`default inet6 dev eth0` loses `dev`): only last on a line do they
                    // mean what they say.
                    if let Some(next) = line.next() {
                        ctx.error(
                            &next.span,
                            format!(
                                "{block}: '{t}' must end the line (keepalived reads '{}' as its value)",
                                next.text
                            ),
                        );
                        return None;
                    }
                    family_kw = Some((t == "inet6", w));
                }
                "append" => {}
                "no_track" => r.no_track = true,
                "track_group" if !virtual_route => {
                    r.track_group = Some(value(ctx, block, &mut line, w)?.text.clone())
                }
                "nexthop" => loop {
                    r.nexthops.push(nexthop(ctx, block, &mut line)?);
                    match line.peek() {
                        Some("nexthop") => {
                            line.next();
                        }
                        Some(_) => {
                            let rest = line.next()?;
                            ctx.warn(
                                &rest.span,
                                format!(
                                    "{block}: text after the next hops is ignored, from '{}'",
                                    rest.text
                                ),
                            );
                            line.at = line.words.len();
                            break;
                        }
                        None => break,
                    }
                },
                _ if kind_metric.is_some() => {
                    let k = kind_metric?;
                    let m = metric(ctx, block, &mut line, w, k)?;
                    r.metrics.retain(|x| x.kind != k);
                    r.metrics.push(m);
                }
                _ => match destination(ctx, block, w) {
                    Some(d) => dst = Some(d),
                    None => {
                        // `destination` said why the word is not an address; say what
                        // keepalived would call it when it looks like a keyword.
                        if t.parse::<IpAddr>().is_err() && !t.contains(['.', ':', '/']) {
                            if let Some(last) = ctx.diags.last_mut() {
                                last.message = format!("{block}: unknown route option '{t}'");
                            }
                        }
                        return None;
                    }
                },
            }
            Some(())
        })();
        if step.is_none() {
            ok = false;
            break;
        }
    }
    if !ok {
        return None;
    }
    let Some((dst, settled)) = dst else {
        ctx.error(
            &node.keyword.span,
            format!("{block}: route has no destination"),
        );
        return None;
    };
    // The family: the destination's, or for `default`/`all` that of the addresses given.
    let hint = r
        .via
        .or(r.src)
        .or(r.or)
        .or_else(|| r.nexthops.iter().find_map(|n| n.via))
        .map(|a| a.is_ipv6())
        .or(family_kw.map(|f| f.0));
    let v6 = if settled {
        dst.is_v6()
    } else {
        hint.unwrap_or(false)
    };
    r.dst = if settled {
        dst
    } else {
        Prefix::default_route(v6)
    };
    let span = &node.keyword.span;
    let mismatch = r
        .via
        .iter()
        .chain(r.src.iter())
        .chain(r.or.iter())
        .chain(r.nexthops.iter().filter_map(|n| n.via.as_ref()))
        .any(|a| a.is_ipv6() != v6);
    if mismatch {
        ctx.error(
            span,
            format!("{block}: cannot mix IPv4 and IPv6 addresses in a route"),
        );
        return None;
    }
    if let Some((f6, w)) = family_kw {
        if f6 != v6 {
            ctx.error(
                &w.span,
                format!(
                    "{block}: {} given for an IPv{} route",
                    w.text,
                    if v6 { 6 } else { 4 }
                ),
            );
            return None;
        }
    }
    if let Some(f) = r.from {
        if !v6 || !f.is_v6() {
            ctx.error(
                span,
                format!("{block}: a source prefix (from {f}) is only supported for IPv6 routes"),
            );
            return None;
        }
    }
    if !v6 && (r.pref.is_some() || r.expires.is_some()) {
        let what = if r.pref.is_some() { "pref" } else { "expires" };
        ctx.error(
            span,
            format!("{block}: {what} is only valid for IPv6 routes"),
        );
        return None;
    }
    if !r.no_track {
        if r.dev.is_none() {
            ctx.warn(
                span,
                format!("{block}: route without dev cannot be tracked; add dev or no_track"),
            );
        }
        if r.protocol.is_some_and(|p| p != RTPROT_KEEPALIVED) {
            ctx.warn(
                span,
                format!(
                    "{block}: a tracked route has protocol keepalived (18); protocol ignored (add no_track to keep it)"
                ),
            );
            r.protocol = None;
        }
    }
    Some(r)
}

/// IP protocol names for `ipproto` (those of /etc/protocols that matter to routing).
const IP_PROTOCOLS: &[(&str, u8)] = &[
    ("ip", 0),
    ("icmp", 1),
    ("igmp", 2),
    ("ipip", 4),
    ("tcp", 6),
    ("egp", 8),
    ("udp", 17),
    ("ipv6", 41),
    ("rsvp", 46),
    ("gre", 47),
    ("esp", 50),
    ("ah", 51),
    ("ipv6-icmp", 58),
    ("icmpv6", 58),
    ("ospf", 89),
    ("pim", 103),
    ("vrrp", 112),
    ("l2tp", 115),
    ("sctp", 132),
    ("udplite", 136),
];

/// `A-B` with both ends of the type.
fn range<T: std::str::FromStr>(s: &str) -> Option<(T, T)> {
    let (a, b) = s.split_once('-')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// A `from`/`to` selector: `all` / `default` mean no selector.
fn selector(ctx: &mut Ctx, block: &str, w: &Word) -> Option<Option<Prefix>> {
    match w.text.as_str() {
        "all" | "default" => Some(None),
        _ => prefix(ctx, block, w).map(Some),
    }
}

/// A line of `virtual_rules` (`virtual_rule` true) or `static_rules`.
pub fn rule(ctx: &mut Ctx, block: &str, node: &Node, virtual_rule: bool) -> Option<Rule> {
    if node.open_brace.is_some() {
        ctx.error(&node.keyword.span, format!("{block}: unexpected block"));
    }
    let mut line = Line::new(node);
    let mut r = Rule::new(RuleAction::Nop, node.keyword.span.clone());
    let mut action: Option<(RuleAction, &Word)> = None;
    let mut ok = true;
    while let Some(w) = line.next() {
        let t = w.text.as_str();
        let step: Option<()> = (|| {
            let mut set_action = |ctx: &mut Ctx, a: RuleAction| -> Option<()> {
                if action.is_some() {
                    ctx.error(
                        &w.span,
                        format!(
                            "{block}: only one of table/goto/nop/blackhole/unreachable/prohibit/l3mdev"
                        ),
                    );
                    return None;
                }
                action = Some((a, w));
                Some(())
            };
            match t {
                "not" => r.invert = true,
                "from" => {
                    r.from = {
                        let v = value(ctx, block, &mut line, w)?;
                        selector(ctx, block, v)
                    }?
                }
                "to" => {
                    r.to = {
                        let v = value(ctx, block, &mut line, w)?;
                        selector(ctx, block, v)
                    }?
                }
                "iif" | "dev" => r.iif = Some(value(ctx, block, &mut line, w)?.text.clone()),
                "oif" => r.oif = Some(value(ctx, block, &mut line, w)?.text.clone()),
                "fwmark" => {
                    let v = value(ctx, block, &mut line, w)?;
                    let m = match v.text.split_once('/') {
                        Some((m, mask)) => parse_u32(m).zip(parse_u32(mask).map(Some)),
                        None => parse_u32(&v.text).map(|m| (m, None)),
                    };
                    match m {
                        Some(m) => r.fwmark = Some(m),
                        None => {
                            ctx.error(&v.span, format!("{block}: invalid fwmark '{}'", v.text));
                            return None;
                        }
                    }
                }
                "tos" | "dsfield" => {
                    r.tos = Some({
                        let v = value(ctx, block, &mut line, w)?;
                        tos(ctx, block, v)
                    }?)
                }
                "realms" => {
                    r.realms = Some({
                        let v = value(ctx, block, &mut line, w)?;
                        realms(ctx, block, v)
                    }?)
                }
                "uidrange" | "sport" | "dport" => {
                    let v = value(ctx, block, &mut line, w)?;
                    let bad = |ctx: &mut Ctx| {
                        ctx.error(
                            &v.span,
                            format!("{block}: invalid {t} range '{}' (A-B)", v.text),
                        );
                    };
                    if t == "uidrange" {
                        match range::<u32>(&v.text) {
                            Some(x) => r.uidrange = Some(x),
                            None => {
                                bad(ctx);
                                return None;
                            }
                        }
                    } else {
                        match range::<u16>(&v.text) {
                            Some(x) if t == "sport" => r.sport = Some(x),
                            Some(x) => r.dport = Some(x),
                            None => {
                                bad(ctx);
                                return None;
                            }
                        }
                    }
                }
                "ipproto" => {
                    let v = value(ctx, block, &mut line, w)?;
                    let p = IP_PROTOCOLS
                        .iter()
                        .find(|(n, _)| *n == v.text)
                        .map(|(_, p)| *p)
                        .or_else(|| parse_dec(&v.text).and_then(|n| u8::try_from(n).ok()));
                    match p {
                        Some(p) => r.ipproto = Some(p),
                        None => {
                            ctx.error(&v.span, format!("{block}: invalid ipproto '{}'", v.text));
                            return None;
                        }
                    }
                }
                "suppress_prefixlength" => {
                    let v = value(ctx, block, &mut line, w)?;
                    r.suppress_prefixlength = Some(number(ctx, block, v, t, u32::MAX)?);
                }
                "suppress_ifgroup" => {
                    let v = value(ctx, block, &mut line, w)?;
                    r.suppress_ifgroup = Some(number(ctx, block, v, t, u32::MAX)?);
                }
                "protocol" => {
                    let v = value(ctx, block, &mut line, w)?;
                    r.protocol = Some(number(ctx, block, v, "protocol", 255)? as u8);
                }
                "priority" | "preference" | "order" => {
                    let v = value(ctx, block, &mut line, w)?;
                    r.priority = Some(number(ctx, block, v, "preference", u32::MAX)?);
                }
                "table" | "lookup" => {
                    let v = value(ctx, block, &mut line, w)?;
                    let names = ctx.rt_names.tables.clone();
                    let n = named(ctx, block, v, &names, "routing table", u32::MAX)?;
                    if n == 0 {
                        ctx.error(&v.span, format!("{block}: table 0 is not valid for a rule"));
                        return None;
                    }
                    set_action(ctx, RuleAction::Table(n))?;
                }
                "goto" => {
                    let v = value(ctx, block, &mut line, w)?;
                    let n = number(ctx, block, v, "goto target", u32::MAX)?;
                    set_action(ctx, RuleAction::Goto(n))?;
                }
                "nop" => set_action(ctx, RuleAction::Nop)?,
                "blackhole" => set_action(ctx, RuleAction::Blackhole)?,
                "unreachable" => set_action(ctx, RuleAction::Unreachable)?,
                "prohibit" => set_action(ctx, RuleAction::Prohibit)?,
                "l3mdev" => set_action(ctx, RuleAction::L3mdev)?,
                "no_track" => r.no_track = true,
                "track_group" if !virtual_rule => {
                    r.track_group = Some(value(ctx, block, &mut line, w)?.text.clone())
                }
                _ => {
                    ctx.error(&w.span, format!("{block}: unknown rule option '{t}'"));
                    return None;
                }
            }
            Some(())
        })();
        if step.is_none() {
            ok = false;
            break;
        }
    }
    if !ok {
        return None;
    }
    let span = &node.keyword.span;
    let Some((a, _)) = action else {
        ctx.error(
            span,
            format!("{block}: rule has no action (table, goto, nop, blackhole, unreachable, prohibit or l3mdev)"),
        );
        return None;
    };
    r.action = a;
    if let (Some(f), Some(t)) = (r.from, r.to) {
        if f.is_v6() != t.is_v6() {
            ctx.error(span, format!("{block}: rule mixes IPv4 and IPv6"));
            return None;
        }
    }
    if let RuleAction::Goto(target) = r.action {
        if r.effective_priority() >= target {
            ctx.error(
                span,
                format!(
                    "{block}: preference {} must be below the goto target {target}",
                    r.effective_priority()
                ),
            );
            return None;
        }
    }
    if !r.no_track && r.protocol.is_some_and(|p| p != RTPROT_KEEPALIVED) {
        ctx.warn(
            span,
            format!(
                "{block}: a tracked rule has protocol keepalived (18); protocol ignored (add no_track to keep it)"
            ),
        );
        r.protocol = None;
    }
    if r.priority.is_none() {
        ctx.warn(
            span,
            format!("{block}: rule has no preference; keepalived uses {RULE_DEFAULT_PRIORITY}"),
        );
    }
    Some(r)
}

/// A node of one line of `words` at `origin` (text that is not in a configuration file).
fn node_of(words: &[String]) -> Option<Node> {
    let span = crate::config::Span::default();
    let word = |t: &String| Word {
        text: t.clone(),
        span: span.clone(),
        quoted: false,
    };
    let (first, rest) = words.split_first()?;
    Some(Node {
        keyword: word(first),
        args: rest.iter().map(word).collect(),
        children: None,
        open_brace: None,
    })
}

fn first_error(ctx: &Ctx) -> String {
    ctx.diags
        .iter()
        .find(|d| d.severity == crate::config::Severity::Error)
        .map(|d| d.message.clone())
        .unwrap_or_else(|| "invalid".into())
}

/// Parses a route written outside a configuration (a scenario's expectation) with
/// iproute2's built-in names; `Err` holds the first error. Warnings are not reported.
pub fn route_from_words(words: &[String]) -> Result<Route, String> {
    let node = node_of(words).ok_or("an empty route")?;
    let mut ctx = Ctx::default();
    route(&mut ctx, "route", &node, false).ok_or_else(|| first_error(&ctx))
}

/// As [`route_from_words`] for a rule.
pub fn rule_from_words(words: &[String]) -> Result<Rule, String> {
    let node = node_of(words).ok_or("an empty rule")?;
    let mut ctx = Ctx::default();
    rule(&mut ctx, "rule", &node, false).ok_or_else(|| first_error(&ctx))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Severity;

    fn node(line: &str) -> Node {
        let w: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        node_of(&w).unwrap()
    }

    /// (route, [(severity, message)]) of a `virtual_routes` line.
    fn r(line: &str) -> (Option<Route>, Vec<(Severity, String)>) {
        let mut ctx = Ctx::default();
        let out = route(&mut ctx, "virtual_routes", &node(line), true);
        let d = ctx
            .diags
            .into_vec()
            .into_iter()
            .map(|d| (d.severity, d.message))
            .collect();
        (out, d)
    }

    fn ok(line: &str) -> Route {
        match r(line) {
            (Some(x), d) if d.is_empty() => x,
            other => panic!("{line}: {other:?}"),
        }
    }

    fn err(line: &str) -> String {
        match r(line) {
            (None, d) => d
                .into_iter()
                .find(|x| x.0 == Severity::Error)
                .map(|x| x.1)
                .unwrap_or_default(),
            other => panic!("{line} should be rejected: {other:?}"),
        }
    }

    fn warned(line: &str) -> (Route, String) {
        match r(line) {
            (Some(x), d) if !d.is_empty() && d.iter().all(|x| x.0 == Severity::Warning) => {
                (x, d[0].1.clone())
            }
            other => panic!("{line} should be kept with a warning: {other:?}"),
        }
    }

    fn p(s: &str) -> Prefix {
        let (a, l) = s.split_once('/').unwrap();
        Prefix {
            addr: a.parse().unwrap(),
            len: l.parse().unwrap(),
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn destinations_and_families() {
        let x = ok("10.9.0.0/16 via 10.0.0.254 dev eth0");
        assert_eq!((x.dst, x.via), (p("10.9.0.0/16"), Some(ip("10.0.0.254"))));
        assert_eq!(ok("10.9.0.1 dev eth0").dst, p("10.9.0.1/32"));
        assert_eq!(ok("to 10.9.0.0/16 dev eth0").dst, p("10.9.0.0/16"));
        // default takes the family of the gateway / source / inet6 keyword.
        assert_eq!(ok("default via 10.0.0.254 dev eth0").dst, p("0.0.0.0/0"));
        assert_eq!(ok("default via inet6 fe80::1 dev eth0").dst, p("::/0"));
        assert_eq!(ok("default6 via fe80::1 dev eth0").dst, p("::/0"));
        assert_eq!(ok("default dev eth0 inet6").dst, p("::/0"));
        assert!(err("default inet6 dev eth0").contains("must end the line"));
        assert!(err("inet 10.9.0.0/16 dev eth0").contains("must end the line"));
        assert_eq!(ok("all via fe80::1 dev eth0").dst, p("::/0"));
        assert_eq!(ok("default src fe80::5 dev eth0").dst, p("::/0"));
        let v = ok("10.9.0.0/16 via inet 10.0.0.254 dev eth0");
        assert_eq!(v.via, Some(ip("10.0.0.254")));
        assert!(ok("2001:db8::/32 via inet6 2001:db8:1::1 dev eth0").is_v6());
        // The last destination and device win, as keepalived.
        let l = ok("10.9.0.0/16 10.8.0.0/16 dev eth0 dev eth1");
        assert_eq!((l.dst, l.dev.as_deref()), (p("10.8.0.0/16"), Some("eth1")));
        let (w, m) = warned("10.20.0.0/33 dev eth0");
        assert_eq!(w.dst, p("10.20.0.0/32"));
        assert!(m.contains("using 32"), "{m}");
        assert!(err("10.9.0.0/16 via inet6 fe80::1 dev eth0").contains("mix"));
        assert!(err("10.9.0.0/16 via 2001:db8::1 dev eth0").contains("mix"));
        assert!(err("2001:db8::/32 via 10.0.0.254 dev eth0").contains("mix"));
        assert!(err("10.9.0.0/16 src 2001:db8::1 dev eth0").contains("mix"));
        assert!(err("10.9.0.0/16 dev eth0 inet6").contains("IPv4 route"));
        assert!(err("default6 dev eth0 inet").contains("IPv6 route"));
        assert!(err("10.9.0.0/16 dev eth0 src 10.0.0.1/24").contains("not an IP"));
        assert!(err("dev eth0").contains("no destination"));
        assert!(err("10.9.0.0/16 dev eth0 foo").contains("unknown route option 'foo'"));
        assert!(err("to unicast 10.9.0.0/16 dev eth0").contains("unicast"));
        assert!(err("from 10.1.0.0/16 10.9.0.0/16 dev eth0").contains("IPv6"));
        let f = ok("2001:db9::/32 from 2001:db8::/32 dev eth0");
        assert_eq!(f.from, Some(p("2001:db8::/32")));
    }

    #[test]
    fn types_and_options() {
        for t in RouteType::ALL {
            let x = ok(&format!("{} 10.9.0.0/16 dev eth0", t.name()));
            assert_eq!(x.kind, t);
        }
        let x = ok(
            "10.9.0.0/16 via 10.0.0.254 dev eth0 src 10.0.0.1 table 100 metric 5 \
                    scope link protocol keepalived tos 0x10 realms 5/6 onlink",
        );
        assert_eq!(x.src, Some(ip("10.0.0.1")));
        assert_eq!(
            (x.table, x.metric, x.scope),
            (Some(100), Some(5), Some(253))
        );
        assert_eq!((x.protocol, x.tos), (Some(18), Some(16)));
        assert_eq!(
            x.realms,
            Some(Realms {
                from: Some(5),
                to: 6
            })
        );
        assert!(x.onlink);
        assert_eq!(ok("10.9.0.0/16 dev eth0 table main").table, Some(254));
        assert_eq!(ok("10.9.0.0/16 dev eth0 table 0x10").table, Some(16));
        assert_eq!(ok("10.9.0.0/16 dev eth0 preference 7").metric, Some(7));
        assert_eq!(ok("10.9.0.0/16 dev eth0 priority 7").metric, Some(7));
        assert_eq!(ok("10.9.0.0/16 dev eth0 scope 200").scope, Some(200));
        assert_eq!(
            ok("10.9.0.0/16 dev eth0 realms cosmos").realms.unwrap().to,
            0
        );
        assert_eq!(ok("10.9.0.0/16 oif eth0").dev.as_deref(), Some("eth0"));
        assert_eq!(ok("2001:db8::/32 dev eth0 pref high").pref, Some(1));
        assert_eq!(ok("2001:db8::/32 dev eth0 pref low").pref, Some(3));
        assert_eq!(ok("2001:db8::/32 dev eth0 pref 7").pref, Some(7));
        assert_eq!(ok("2001:db8::/32 dev eth0 expires 100").expires, Some(100));
        assert!(err("10.9.0.0/16 dev eth0 pref medium").contains("only valid for IPv6"));
        assert!(err("10.9.0.0/16 dev eth0 expires 10").contains("only valid for IPv6"));
        assert!(err("10.9.0.0/16 dev eth0 table foo").contains("routing table 'foo'"));
        assert!(err("10.9.0.0/16 dev eth0 scope universe").contains("scope"));
        assert!(err("10.9.0.0/16 dev eth0 scope 256").contains("scope"));
        assert!(err("10.9.0.0/16 dev eth0 protocol foo").contains("protocol"));
        assert!(err("10.9.0.0/16 dev eth0 proto static").contains("unknown route option 'proto'"));
        assert!(err("10.9.0.0/16 dev eth0 metric x").contains("metric"));
        assert!(err("10.9.0.0/16 dev eth0 metric 0x10").contains("metric"));
        assert!(err("10.9.0.0/16 dev eth0 metric 4294967296").contains("metric"));
        assert!(err("10.9.0.0/16 dev eth0 tos 256").contains("TOS"));
        assert!(err("10.9.0.0/16 dev eth0 realms foo").contains("realms"));
        assert!(err("10.9.0.0/16 dev eth0 metric").contains("needs a value"));
        assert!(err("10.9.0.0/16 dev eth0 weight 3").contains("'weight'"));
        assert!(err("10.9.0.0/16 dev eth0 track_group G").contains("track_group"));
        // Deprecated words: kept with a warning.
        let (g, m) = warned("10.9.0.0/16 dev eth0 gw 10.0.0.254");
        assert_eq!(g.via, Some(ip("10.0.0.254")));
        assert!(m.contains("deprecated"));
    }

    #[test]
    fn metrics_features_encap() {
        let x = ok(
            "10.9.0.0/16 dev eth0 mtu lock 1400 advmss 1300 rtt 10ms rttvar 1s \
                    rto_min 200 initcwnd 10 hoplimit 5 quickack 1 features ecn \
                    congctl lock cubic ttl-propagate disabled",
        );
        let m = |k: MetricKind| *x.metrics.iter().find(|m| m.kind == k).unwrap();
        assert!(m(MetricKind::Mtu).lock);
        assert_eq!(m(MetricKind::Mtu).value, 1400);
        assert_eq!(
            (m(MetricKind::Rtt).value, m(MetricKind::Rtt).millis),
            (10, true)
        );
        assert_eq!(m(MetricKind::Rtt).kernel_value(), 80);
        assert_eq!(m(MetricKind::Rttvar).value, 1000);
        assert_eq!(
            (m(MetricKind::RtoMin).value, m(MetricKind::RtoMin).millis),
            (200, false)
        );
        assert!(x.ecn);
        assert_eq!(x.congctl, Some(("cubic".into(), true)));
        assert_eq!(x.ttl_propagate, Some(false));
        for lockable in ["rtt", "rttvar", "ssthresh", "cwnd", "reordering", "rto_min"] {
            ok(&format!("10.9.0.0/16 dev eth0 {lockable} lock 10"));
        }
        for not_lockable in ["window", "initcwnd", "initrwnd", "hoplimit", "quickack"] {
            err(&format!("10.9.0.0/16 dev eth0 {not_lockable} lock 10"));
        }
        assert!(err("10.9.0.0/16 dev eth0 quickack 2").contains("quickack"));
        assert!(err("10.9.0.0/16 dev eth0 hoplimit 256").contains("hoplimit"));
        assert!(err("10.9.0.0/16 dev eth0 rtt 10x").contains("rtt"));
        assert!(err("10.9.0.0/16 dev eth0 mtu 0x10").contains("mtu"));
        assert!(err("10.9.0.0/16 dev eth0 features foo").contains("feature"));
        assert!(err("10.9.0.0/16 dev eth0 ttl-propagate foo").contains("ttl-propagate"));
        assert_eq!(
            ok("10.9.0.0/16 dev eth0 encap mpls 100/200").encap,
            Some(Encap::Mpls {
                labels: vec![100, 200]
            })
        );
        assert_eq!(
            ok("10.9.0.0/16 dev eth0 encap ip id 5 dst 10.0.0.5 src 10.0.0.1 tos 3 ttl 5").encap,
            Some(Encap::Ip {
                id: Some(5),
                dst: Some("10.0.0.5".parse().unwrap()),
                src: Some("10.0.0.1".parse().unwrap()),
                tos: Some(3),
                ttl: Some(5)
            })
        );
        let e6 = ok("10.9.0.0/16 dev eth0 encap ip6 id 5 dst 2001:db8::1 hoplimit 5 tc 3");
        assert!(matches!(
            e6.encap,
            Some(Encap::Ip6 {
                hoplimit: Some(5),
                tc: Some(3),
                ..
            })
        ));
        assert_eq!(
            ok("10.9.0.0/16 dev eth0 encap ila 1:2:3:4").encap,
            Some(Encap::Ila {
                locator: 0x0001_0002_0003_0004
            })
        );
        assert!(err("10.9.0.0/16 dev eth0 encap mpls foo").contains("MPLS"));
        assert!(err("10.9.0.0/16 dev eth0 encap ip").contains("address or id"));
        assert!(err("10.9.0.0/16 dev eth0 encap seg6 mode encap").contains("seg6"));
        assert!(err("10.9.0.0/16 dev eth0 encap").contains("encap"));
    }

    #[test]
    fn multipath_and_or() {
        let x = ok(
            "10.9.0.0/16 no_track nexthop via 10.0.0.254 dev eth0 weight 2 \
                    nexthop via 10.0.0.253 dev eth1 onlink realms 3",
        );
        assert_eq!(x.nexthops.len(), 2);
        assert_eq!(x.nexthops[0].via, Some(ip("10.0.0.254")));
        assert_eq!(
            (x.nexthops[0].dev.as_deref(), x.nexthops[0].weight),
            (Some("eth0"), 2)
        );
        assert!(x.nexthops[1].onlink);
        assert_eq!(x.nexthops[1].realms, Some(Realms { from: None, to: 3 }));
        assert_eq!(x.multipath(), x.nexthops);
        // Without dev: kept, untracked, with keepalived's warning.
        let (w, m) = warned("10.9.0.0/16 nexthop via 10.0.0.254 dev eth0 nexthop dev eth1");
        assert_eq!(w.nexthops[1].dev.as_deref(), Some("eth1"));
        assert!(m.contains("cannot be tracked"));
        // Text after the next hops is ignored with a warning (no_track there does not count).
        let (t, _) = warned("10.9.0.0/16 nexthop via 10.0.0.254 dev eth0 no_track");
        assert!(!t.no_track);
        assert_eq!(t.nexthops.len(), 1);
        let e = ok("10.9.0.0/16 dev eth0 nexthop via 10.0.0.254 weight 256 encap mpls 5");
        assert_eq!(e.nexthops[0].weight, 256);
        assert!(err("10.9.0.0/16 nexthop via 10.0.0.254 weight 0").contains("weight"));
        assert!(err("10.9.0.0/16 nexthop via 10.0.0.254 weight 257").contains("weight"));
        assert!(err("10.9.0.0/16 nexthop via 2001:db8::1").contains("mix"));
        assert!(err("10.9.0.0/16 nexthop via inet6 fe80::1 dev eth0").contains("mix"));
        // The deprecated `or`: a second gateway, installed as two hops.
        let (o, m) = warned("10.9.0.0/16 via 10.0.0.254 dev eth0 or 10.0.0.253");
        assert!(m.contains("deprecated"));
        assert_eq!(o.or, Some(ip("10.0.0.253")));
        let hops = o.multipath();
        assert_eq!(hops.len(), 2);
        assert_eq!(hops[1].via, Some(ip("10.0.0.253")));
        assert_eq!(hops[1].dev.as_deref(), Some("eth0"));
        let (o2, _) = warned("10.9.0.0/16 via 10.0.0.254 dev eth0 or 10.0.0.253 or 10.0.0.252");
        assert_eq!(o2.or, Some(ip("10.0.0.253")));
    }

    #[test]
    fn tracking_warnings_and_protocol() {
        for line in [
            "10.9.0.0/16 via 10.0.0.254",
            "blackhole 10.9.0.0/16",
            "throw 10.9.0.0/16",
        ] {
            assert!(warned(line).1.contains("cannot be tracked"), "{line}");
        }
        ok("blackhole 10.9.0.0/16 no_track");
        ok("10.9.0.0/16 no_track");
        let (k, m) = warned("10.9.0.0/16 dev eth0 protocol kernel");
        assert_eq!(k.protocol, None);
        assert!(m.contains("protocol"));
        assert_eq!(
            ok("10.9.0.0/16 dev eth0 protocol boot no_track").protocol,
            Some(3)
        );
        assert_eq!(ok("10.9.0.0/16 dev eth0 protocol 18").protocol, Some(18));
        // Static routes may name a track_group.
        let mut ctx = Ctx::default();
        let s = route(
            &mut ctx,
            "static_routes",
            &node("10.9.0.0/16 dev eth0 track_group G"),
            false,
        );
        assert_eq!(s.unwrap().track_group.as_deref(), Some("G"));
    }

    #[test]
    fn canonical_text_parses_back_to_the_same_route() {
        for line in [
            "10.9.0.0/16 via 10.0.0.254 dev eth0",
            "default via inet6 fe80::1 dev eth0 metric 5",
            "blackhole 10.9.0.0/16 no_track",
            "10.9.0.0/16 via 10.0.0.254 dev eth0 or 10.0.0.253",
            "10.9.0.0/16 no_track nexthop via 10.0.0.254 dev eth0 weight 2 nexthop dev eth1 onlink",
            "2001:db8::/32 from 2001:db9::/32 dev eth0 pref low expires 5 encap ip6 id 1 dst 2001:db8::1",
            "10.9.0.0/16 dev eth0 mtu lock 1400 rtt 10ms rttvar 8 features ecn congctl lock bbr",
            "10.9.0.0/16 dev eth0 encap ila 1:2:3:ffff ttl-propagate enabled realms 1/2 tos 4",
        ] {
            let (a, _) = r(line);
            let a = a.unwrap_or_else(|| panic!("{line}"));
            let (b, _) = r(&a.to_string());
            assert_eq!(Some(&a), b.as_ref(), "{line} -> {a}");
        }
    }

    fn rl(line: &str) -> (Option<Rule>, Vec<(Severity, String)>) {
        let mut ctx = Ctx::default();
        let out = rule(&mut ctx, "virtual_rules", &node(line), true);
        let d = ctx
            .diags
            .into_vec()
            .into_iter()
            .map(|d| (d.severity, d.message))
            .collect();
        (out, d)
    }

    fn rule_ok(line: &str) -> Rule {
        match rl(line) {
            (Some(x), d) if d.is_empty() => x,
            other => panic!("{line}: {other:?}"),
        }
    }

    fn rule_err(line: &str) -> String {
        match rl(line) {
            (None, d) => d.into_iter().map(|x| x.1).next().unwrap_or_default(),
            other => panic!("{line} should be rejected: {other:?}"),
        }
    }

    #[test]
    fn rules() {
        let x = rule_ok(
            "not from 10.0.0.0/24 to 10.9.0.0/16 iif eth0 oif eth1 fwmark 0x5/0xff \
                         tos 4 realms 5/6 uidrange 100-200 ipproto tcp sport 80-90 dport 100-200 \
                         suppress_prefixlength 0 suppress_ifgroup 5 table 100 priority 200",
        );
        assert!(x.invert);
        assert_eq!(
            (x.from, x.to),
            (Some(p("10.0.0.0/24")), Some(p("10.9.0.0/16")))
        );
        assert_eq!(
            (x.iif.as_deref(), x.oif.as_deref()),
            (Some("eth0"), Some("eth1"))
        );
        assert_eq!(x.fwmark, Some((5, Some(255))));
        assert_eq!((x.tos, x.ipproto), (Some(4), Some(6)));
        assert_eq!(
            (x.uidrange, x.sport, x.dport),
            (Some((100, 200)), Some((80, 90)), Some((100, 200)))
        );
        assert_eq!(
            (x.suppress_prefixlength, x.suppress_ifgroup),
            (Some(0), Some(5))
        );
        assert_eq!((x.action, x.priority), (RuleAction::Table(100), Some(200)));
        assert_eq!(
            rule_ok("from all lookup main preference 5").action,
            RuleAction::Table(254)
        );
        assert_eq!(rule_ok("from default table 100 order 5").from, None);
        assert_eq!(
            rule_ok("dev eth0 table 100 priority 5").iif.as_deref(),
            Some("eth0")
        );
        assert_eq!(
            rule_ok("goto 300 priority 200").action,
            RuleAction::Goto(300)
        );
        assert_eq!(rule_ok("nop priority 200").action, RuleAction::Nop);
        assert_eq!(rule_ok("l3mdev priority 200").action, RuleAction::L3mdev);
        for (w, a) in [
            ("blackhole", RuleAction::Blackhole),
            ("unreachable", RuleAction::Unreachable),
            ("prohibit", RuleAction::Prohibit),
        ] {
            assert_eq!(
                rule_ok(&format!("from 10.0.0.0/24 {w} priority 2")).action,
                a
            );
        }
        assert!(rule_ok("from 2001:db8::/32 table 100 priority 200").is_v6());
        assert!(!rule_ok("table 100 priority 200").is_v6());
        assert_eq!(
            rule_ok("from 10.0.0.0/24 table 100 priority 5 protocol 5 no_track").protocol,
            Some(5)
        );
        // keepalived: warnings, rule kept.
        let (n, d) = rl("from 10.0.0.0/24 table 100");
        assert_eq!(n.unwrap().effective_priority(), 16384);
        assert!(d[0].1.contains("16384"));
        let (pr, d) = rl("from 10.0.0.0/24 table 100 priority 5 protocol 5");
        assert_eq!(pr.unwrap().protocol, None);
        assert!(d[0].1.contains("protocol"));
        // keepalived: rejected.
        assert!(rule_err("from 10.0.0.0/24 lookup 100 pref 200").contains("'pref'"));
        assert!(rule_err("from 10.0.0.0/24 table 100 prio 200").contains("'prio'"));
        assert!(rule_err("from 10.0.0.0/24 table foo priority 200").contains("foo"));
        assert!(rule_err("from 10.0.0.0/24 table 0 priority 200").contains("table 0"));
        assert!(rule_err("goto 100 priority 200").contains("goto"));
        assert!(rule_err("l3mdev table 100 priority 200").contains("only one"));
        assert!(rule_err("from 10.0.0.0/24 table 100 priority 200 goto 300").contains("only one"));
        assert!(rule_err("from 10.0.0.0/24 priority 200").contains("no action"));
        assert!(rule_err("uidrange 100 table 100 priority 200").contains("uidrange"));
        assert!(rule_err("dport 80 table 100 priority 200").contains("dport"));
        assert!(rule_err("ipproto foo table 100 priority 200").contains("ipproto"));
        assert!(rule_err("ipproto 256 table 100 priority 200").contains("ipproto"));
        assert!(rule_err("ip_proto tcp table 100 priority 200").contains("ip_proto"));
        assert!(rule_err("fwmark 0x100000000 table 100 priority 200").contains("fwmark"));
        assert!(
            rule_err("from 10.0.0.0/24 to 2001:db8::/32 table 100 priority 200").contains("mixes")
        );
        assert!(rule_err("from 10.0.0.0/24 nat 10.1.0.0 priority 200").contains("nat"));
        assert!(rule_err("inet6 from all table 100 priority 200").contains("inet6"));
        assert!(rule_err("dsfield af11 table 100 priority 200").contains("TOS"));
        assert!(
            rule_err("from 10.0.0.0/24 table 100 priority 200 track_group G")
                .contains("track_group")
        );
        assert!(rule_err("suppress_prefixlength -1 table 100 priority 200")
            .contains("suppress_prefixlength"));
    }

    #[test]
    fn rule_text_round_trips() {
        for line in [
            "not from 10.0.0.0/24 to 10.9.0.0/16 iif eth0 fwmark 0x5/0xff tos 4 realms 5 table 100 priority 200",
            "uidrange 1-2 ipproto 17 sport 1-2 dport 3-4 suppress_prefixlength 0 suppress_ifgroup 1 goto 300 priority 200",
            "from 2001:db8::/32 protocol 5 priority 1 blackhole no_track",
            "l3mdev priority 3",
        ] {
            let a = rl(line).0.unwrap_or_else(|| panic!("{line}"));
            let b = rl(&a.to_string()).0;
            assert_eq!(Some(&a), b.as_ref(), "{line} -> {a}");
        }
    }

    #[test]
    #[allow(clippy::disallowed_methods)] // the test writes its own name files
    fn names_files_extend_the_built_in_names() {
        let dir = std::env::temp_dir().join(format!("krs-rtnames-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("rt_tables.d")).unwrap();
        std::fs::write(dir.join("rt_tables"), "# c\n100\tisp1\n0x65 isp2 # hex\n").unwrap();
        std::fs::write(dir.join("rt_tables.d/x.conf"), "200 vpn\n").unwrap();
        std::fs::write(dir.join("rt_tables.d/ignored.txt"), "201 nope\n").unwrap();
        std::fs::write(dir.join("rt_protos"), "77 mine\n").unwrap();
        let n = RtNames::from_dir(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(RtNames::find(&n.tables, "isp1"), Some(100));
        assert_eq!(RtNames::find(&n.tables, "isp2"), Some(101));
        assert_eq!(RtNames::find(&n.tables, "vpn"), Some(200));
        assert_eq!(RtNames::find(&n.tables, "nope"), None);
        assert_eq!(RtNames::find(&n.tables, "main"), Some(254));
        assert_eq!(RtNames::find(&n.protocols, "mine"), Some(77));
        let mut ctx = Ctx {
            rt_names: n,
            ..Ctx::default()
        };
        let x = route(
            &mut ctx,
            "static_routes",
            &node("10.9.0.0/16 dev eth0 table vpn"),
            false,
        );
        assert_eq!(x.unwrap().table, Some(200));
    }
}
