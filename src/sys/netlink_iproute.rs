//! `virtual_routes` / `static_routes` and `virtual_rules` / `static_rules`: parsers of the
//! `ip route` / `ip rule` word lists (the common forms; anything else is an error that
//! names the word, never a crash) and the rtnetlink requests they become.

use super::netlink::*;
use super::netlink_route::{
    family_of, ip_bytes, parse_scope, AF_INET, AF_INET6, RTM_DELROUTE, RTM_DELRULE, RTM_NEWROUTE,
    RTM_NEWRULE, RT_SCOPE_HOST, RT_SCOPE_LINK, RT_SCOPE_UNIVERSE,
};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const RTA_DST: u16 = 1;
const RTA_SRC: u16 = 2;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_PRIORITY: u16 = 6;
const RTA_PREFSRC: u16 = 7;
const RTA_TABLE: u16 = 15;

const RTN_UNICAST: u8 = 1;
const RTN_LOCAL: u8 = 2;
const RTN_BLACKHOLE: u8 = 6;
const RTN_UNREACHABLE: u8 = 7;
const RTN_PROHIBIT: u8 = 8;
const RTN_THROW: u8 = 9;

pub const RTPROT_KEEPALIVED: u8 = 18;
const RT_TABLE_MAIN: u32 = 254;

const FRA_DST: u16 = 1;
const FRA_SRC: u16 = 2;
const FRA_IIFNAME: u16 = 3;
const FRA_PRIORITY: u16 = 6;
const FRA_FWMARK: u16 = 10;
const FRA_TABLE: u16 = 15;
const FRA_FWMASK: u16 = 16;
const FRA_OIFNAME: u16 = 17;
const FR_ACT_TO_TBL: u8 = 1;
const FR_ACT_BLACKHOLE: u8 = 6;
const FR_ACT_UNREACHABLE: u8 = 7;
const FR_ACT_PROHIBIT: u8 = 8;
const FIB_RULE_INVERT: u32 = 0x2;

// ---------------------------------------------------------------- routes

/// A parsed `ip route` line (the common forms).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteSpec {
    pub family: u8,
    pub rtype: u8,
    pub dst: Option<(IpAddr, u8)>,
    pub src_prefix: Option<(IpAddr, u8)>,
    pub gateway: Option<IpAddr>,
    pub dev: Option<String>,
    pub prefsrc: Option<IpAddr>,
    pub table: u32,
    pub metric: Option<u32>,
    pub scope: Option<u8>,
    pub protocol: u8,
}

/// `ADDR[/LEN]`, `default` / `all` (len 0 of `family_hint`).
fn parse_prefix(s: &str, family_hint: Option<u8>) -> Result<(IpAddr, u8), String> {
    if s == "default" || s == "all" || s == "any" {
        return Ok(match family_hint {
            Some(AF_INET6) => (IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
            _ => (IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        });
    }
    let (a, l) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let addr: IpAddr = a.parse().map_err(|_| format!("bad address '{s}'"))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = match l {
        Some(l) => l
            .parse::<u8>()
            .ok()
            .filter(|&n| n <= max)
            .ok_or_else(|| format!("bad prefix length in '{s}'"))?,
        None => max,
    };
    Ok((addr, len))
}

fn parse_table(s: &str) -> Result<u32, String> {
    match s {
        "main" => Ok(RT_TABLE_MAIN),
        "local" => Ok(255),
        "default" => Ok(253),
        n => n.parse().map_err(|_| format!("bad table '{n}'")),
    }
}

fn parse_proto(s: &str) -> Result<u8, String> {
    match s {
        "kernel" => Ok(2),
        "boot" => Ok(3),
        "static" => Ok(4),
        "keepalived" => Ok(RTPROT_KEEPALIVED),
        n => n.parse().map_err(|_| format!("bad protocol '{n}'")),
    }
}

fn next<'a>(it: &mut std::slice::Iter<'a, String>, kw: &str) -> Result<&'a str, String> {
    it.next()
        .map(String::as_str)
        .ok_or_else(|| format!("'{kw}' needs a value"))
}

/// Parses the words of a `virtual_routes` / `static_routes` line.
pub fn parse_route(words: &[String]) -> Result<RouteSpec, String> {
    let mut r = RouteSpec {
        family: AF_INET,
        rtype: RTN_UNICAST,
        dst: None,
        src_prefix: None,
        gateway: None,
        dev: None,
        prefsrc: None,
        table: RT_TABLE_MAIN,
        metric: None,
        scope: None,
        protocol: RTPROT_KEEPALIVED,
    };
    let mut dst_word: Option<&str> = None;
    let mut from_word: Option<&str> = None;
    let mut it = words.iter();
    while let Some(w) = it.next() {
        match w.as_str() {
            "unicast" => r.rtype = RTN_UNICAST,
            "blackhole" => r.rtype = RTN_BLACKHOLE,
            "unreachable" => r.rtype = RTN_UNREACHABLE,
            "prohibit" => r.rtype = RTN_PROHIBIT,
            "throw" => r.rtype = RTN_THROW,
            "local" => r.rtype = RTN_LOCAL,
            "to" => dst_word = Some(next(&mut it, "to")?),
            "from" => from_word = Some(next(&mut it, "from")?),
            "via" => {
                let mut v = next(&mut it, "via")?;
                if v == "inet" || v == "inet6" {
                    v = next(&mut it, "via")?;
                }
                r.gateway = Some(v.parse().map_err(|_| format!("bad gateway '{v}'"))?);
            }
            "gw" => {
                let v = next(&mut it, "gw")?;
                r.gateway = Some(v.parse().map_err(|_| format!("bad gateway '{v}'"))?);
            }
            "dev" | "oif" => r.dev = Some(next(&mut it, "dev")?.to_string()),
            "src" => {
                let v = next(&mut it, "src")?;
                r.prefsrc = Some(v.parse().map_err(|_| format!("bad src '{v}'"))?);
            }
            "table" | "lookup" => r.table = parse_table(next(&mut it, "table")?)?,
            "metric" | "priority" | "preference" => {
                let v = next(&mut it, "metric")?;
                r.metric = Some(v.parse().map_err(|_| format!("bad metric '{v}'"))?);
            }
            "scope" => r.scope = Some(parse_scope(next(&mut it, "scope")?)?),
            "proto" | "protocol" => r.protocol = parse_proto(next(&mut it, "proto")?)?,
            "onlink" => {}
            other
                if dst_word.is_none()
                    && !other.is_empty()
                    && (other.contains(['.', ':', '/']) || other == "default") =>
            {
                dst_word = Some(other)
            }
            other => return Err(format!("unsupported route option '{other}'")),
        }
    }
    let hint = r.gateway.as_ref().or(r.prefsrc.as_ref()).map(family_of);
    let dst = parse_prefix(dst_word.ok_or("no destination")?, hint)?;
    r.family = family_of(&dst.0);
    for a in r.gateway.iter().chain(r.prefsrc.iter()) {
        if family_of(a) != r.family {
            return Err(format!("{a} is not of the destination's family"));
        }
    }
    if let Some(f) = from_word {
        r.src_prefix = Some(parse_prefix(f, Some(r.family))?);
    }
    r.dst = Some(dst);
    Ok(r)
}

/// `RTM_NEWROUTE` / `RTM_DELROUTE`; `oif` is the index of `dev`, resolved by the caller.
pub fn route_request(add: bool, r: &RouteSpec, oif: Option<u32>, seq: u32) -> Vec<u8> {
    let (ty, flags) = if add {
        (
            RTM_NEWROUTE,
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE,
        )
    } else {
        (RTM_DELROUTE, NLM_F_REQUEST | NLM_F_ACK)
    };
    let (dst, dst_len) = r.dst.unwrap_or((IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0));
    let scope = r.scope.unwrap_or(match r.rtype {
        RTN_LOCAL => RT_SCOPE_HOST,
        RTN_UNICAST if r.gateway.is_none() && oif.is_some() => RT_SCOPE_LINK,
        _ => RT_SCOPE_UNIVERSE,
    });
    let mut b = MsgBuilder::new(ty, flags, seq);
    let table8 = if r.table < 256 { r.table as u8 } else { 0 };
    let mut hdr = vec![
        r.family,
        dst_len,
        r.src_prefix.map(|s| s.1).unwrap_or(0),
        0,
        table8,
        r.protocol,
        scope,
        r.rtype,
    ];
    hdr.extend_from_slice(&0u32.to_ne_bytes());
    b.push(&hdr);
    if dst_len > 0 {
        b.attr(RTA_DST, &ip_bytes(&dst));
    }
    if let Some((s, len)) = r.src_prefix {
        if len > 0 {
            b.attr(RTA_SRC, &ip_bytes(&s));
        }
    }
    if let Some(g) = r.gateway {
        b.attr(RTA_GATEWAY, &ip_bytes(&g));
    }
    if let Some(i) = oif {
        b.attr_u32(RTA_OIF, i);
    }
    if let Some(p) = r.prefsrc {
        b.attr(RTA_PREFSRC, &ip_bytes(&p));
    }
    if let Some(m) = r.metric {
        b.attr_u32(RTA_PRIORITY, m);
    }
    b.attr_u32(RTA_TABLE, r.table);
    b.finish()
}

// ---------------------------------------------------------------- rules

/// A parsed `ip rule` line (the common forms).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleSpec {
    pub family: u8,
    pub from: Option<(IpAddr, u8)>,
    pub to: Option<(IpAddr, u8)>,
    pub table: Option<u32>,
    pub priority: Option<u32>,
    pub iif: Option<String>,
    pub oif: Option<String>,
    pub fwmark: Option<(u32, Option<u32>)>,
    pub tos: u8,
    pub action: u8,
    pub invert: bool,
}

fn parse_num(s: &str) -> Result<u32, String> {
    let r = if let Some(h) = s.strip_prefix("0x") {
        u32::from_str_radix(h, 16)
    } else {
        s.parse()
    };
    r.map_err(|_| format!("bad number '{s}'"))
}

/// Parses the words of a `virtual_rules` / `static_rules` line.
pub fn parse_rule(words: &[String]) -> Result<RuleSpec, String> {
    let mut r = RuleSpec {
        family: AF_INET,
        from: None,
        to: None,
        table: None,
        priority: None,
        iif: None,
        oif: None,
        fwmark: None,
        tos: 0,
        action: FR_ACT_TO_TBL,
        invert: false,
    };
    let mut family: Option<u8> = None;
    let (mut from_w, mut to_w) = (None, None);
    let mut it = words.iter();
    while let Some(w) = it.next() {
        match w.as_str() {
            "inet" => family = Some(AF_INET),
            "inet6" => family = Some(AF_INET6),
            "not" => r.invert = true,
            "from" => from_w = Some(next(&mut it, "from")?),
            "to" => to_w = Some(next(&mut it, "to")?),
            "table" | "lookup" => r.table = Some(parse_table(next(&mut it, "table")?)?),
            "priority" | "preference" | "pref" | "prio" => {
                r.priority = Some(parse_num(next(&mut it, "priority")?)?)
            }
            "iif" | "dev" => r.iif = Some(next(&mut it, "iif")?.to_string()),
            "oif" => r.oif = Some(next(&mut it, "oif")?.to_string()),
            "fwmark" => {
                let v = next(&mut it, "fwmark")?;
                r.fwmark = Some(match v.split_once('/') {
                    Some((m, mask)) => (parse_num(m)?, Some(parse_num(mask)?)),
                    None => (parse_num(v)?, None),
                });
            }
            "tos" | "dsfield" => {
                let v = parse_num(next(&mut it, "tos")?)?;
                r.tos = u8::try_from(v).map_err(|_| format!("tos {v} out of range"))?;
            }
            "blackhole" => r.action = FR_ACT_BLACKHOLE,
            "unreachable" => r.action = FR_ACT_UNREACHABLE,
            "prohibit" => r.action = FR_ACT_PROHIBIT,
            other => return Err(format!("unsupported rule option '{other}'")),
        }
    }
    let hint = family;
    if let Some(f) = from_w {
        r.from = Some(parse_prefix(f, hint)?);
    }
    if let Some(t) = to_w {
        r.to = Some(parse_prefix(t, hint)?);
    }
    let fam_from = r.from.or(r.to).map(|(a, _)| family_of(&a));
    r.family = match (family, fam_from) {
        (Some(f), Some(g)) if f != g => return Err("address family mismatch".into()),
        (Some(f), _) => f,
        (None, Some(g)) => g,
        (None, None) => AF_INET,
    };
    if let (Some((a, _)), Some((b, _))) = (r.from, r.to) {
        if family_of(&a) != family_of(&b) {
            return Err("from and to are of different families".into());
        }
    }
    if r.action == FR_ACT_TO_TBL && r.table.is_none() {
        return Err("a rule needs 'table N' (or blackhole/unreachable/prohibit)".into());
    }
    Ok(r)
}

/// `RTM_NEWRULE` / `RTM_DELRULE`.
pub fn rule_request(add: bool, r: &RuleSpec, seq: u32) -> Vec<u8> {
    let (ty, flags) = if add {
        (
            RTM_NEWRULE,
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
        )
    } else {
        (RTM_DELRULE, NLM_F_REQUEST | NLM_F_ACK)
    };
    let mut b = MsgBuilder::new(ty, flags, seq);
    let table = r.table.unwrap_or(0);
    let mut hdr = vec![
        r.family,
        r.to.map(|t| t.1).unwrap_or(0),
        r.from.map(|t| t.1).unwrap_or(0),
        r.tos,
        if table < 256 { table as u8 } else { 0 },
        0,
        0,
        r.action,
    ];
    hdr.extend_from_slice(&(if r.invert { FIB_RULE_INVERT } else { 0 }).to_ne_bytes());
    b.push(&hdr);
    if let Some((a, len)) = r.from {
        if len > 0 {
            b.attr(FRA_SRC, &ip_bytes(&a));
        }
    }
    if let Some((a, len)) = r.to {
        if len > 0 {
            b.attr(FRA_DST, &ip_bytes(&a));
        }
    }
    if let Some(p) = r.priority {
        b.attr_u32(FRA_PRIORITY, p);
    }
    if r.table.is_some() {
        b.attr_u32(FRA_TABLE, table);
    }
    if let Some(i) = &r.iif {
        b.attr_str(FRA_IIFNAME, i);
    }
    if let Some(o) = &r.oif {
        b.attr_str(FRA_OIFNAME, o);
    }
    if let Some((m, mask)) = r.fwmark {
        b.attr_u32(FRA_FWMARK, m);
        if let Some(mask) = mask {
            b.attr_u32(FRA_FWMASK, mask);
        }
    }
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn parses_common_route_forms() {
        let r = parse_route(&w("10.1.0.0/16 via 10.0.0.1 dev eth0 table 100 metric 5")).unwrap();
        assert_eq!(r.dst, Some(("10.1.0.0".parse().unwrap(), 16)));
        assert_eq!(r.gateway, Some("10.0.0.1".parse().unwrap()));
        assert_eq!(r.dev.as_deref(), Some("eth0"));
        assert_eq!((r.table, r.metric), (100, Some(5)));
        let b = parse_route(&w("blackhole 192.0.2.0/24")).unwrap();
        assert_eq!(b.rtype, RTN_BLACKHOLE);
        let d = parse_route(&w("default via 2001:db8::1 dev eth0")).unwrap();
        assert_eq!(d.family, AF_INET6);
        assert_eq!(d.dst.unwrap().1, 0);
        let s = parse_route(&w("src 10.0.0.5 to 10.9.0.0/24 via 10.0.0.1")).unwrap();
        assert_eq!(s.prefsrc, Some("10.0.0.5".parse().unwrap()));
        assert_eq!(s.dst.unwrap().1, 24);
    }

    #[test]
    fn rejects_unsupported_or_broken_routes_with_a_reason() {
        assert!(parse_route(&w("10.0.0.0/8 nexthop via 1.2.3.4"))
            .unwrap_err()
            .contains("nexthop"));
        assert!(parse_route(&w("10.0.0.0/33"))
            .unwrap_err()
            .contains("prefix"));
        assert!(parse_route(&w("10.0.0.0/8 via 2001:db8::1")).is_err());
        assert!(parse_route(&w("via")).is_err());
        assert!(parse_route(&w("dev eth0"))
            .unwrap_err()
            .contains("destination"));
    }

    #[test]
    fn parses_rules() {
        let r = parse_rule(&w("from 10.0.0.0/24 table 100 priority 200")).unwrap();
        assert_eq!(r.from, Some(("10.0.0.0".parse().unwrap(), 24)));
        assert_eq!((r.table, r.priority), (Some(100), Some(200)));
        let r6 = parse_rule(&w("to 2001:db8::/32 lookup main")).unwrap();
        assert_eq!(r6.family, AF_INET6);
        assert!(parse_rule(&w("from 10.0.0.0/8")).is_err());
        assert!(parse_rule(&w("from 10.0.0.0/8 to 2001:db8::/32 table 5")).is_err());
        assert!(parse_rule(&w("ipproto tcp table 5"))
            .unwrap_err()
            .contains("ipproto"));
        assert_eq!(
            parse_rule(&w("from all blackhole")).unwrap().action,
            FR_ACT_BLACKHOLE
        );
    }
}
