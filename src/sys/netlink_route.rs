//! rtnetlink semantics over the `netlink` codec: requests for addresses, routes, rules and
//! links (macvlan VMACs), parsing of link and address messages, and the parsers of the
//! `ip route` / `ip rule` word lists of `virtual_routes` / `virtual_rules` (common forms;
//! anything else is a located error, never a crash).

use super::netlink::*;
use crate::config::model::VirtualAddress;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub const RTM_NEWLINK: u16 = 16;
pub const RTM_DELLINK: u16 = 17;
pub const RTM_GETLINK: u16 = 18;
pub const RTM_NEWADDR: u16 = 20;
pub const RTM_DELADDR: u16 = 21;
pub const RTM_GETADDR: u16 = 22;
pub const RTM_NEWROUTE: u16 = 24;
pub const RTM_DELROUTE: u16 = 25;
pub const RTM_NEWRULE: u16 = 32;
pub const RTM_DELRULE: u16 = 33;

pub const RTMGRP_LINK: u32 = 0x1;
pub const RTMGRP_IPV4_IFADDR: u32 = 0x10;
pub const RTMGRP_IPV6_IFADDR: u32 = 0x100;

const AF_UNSPEC: u8 = 0;
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;

const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_LINK: u16 = 5;
const IFLA_LINKINFO: u16 = 18;
const IFLA_AF_SPEC: u16 = 26;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const IFLA_MACVLAN_MODE: u16 = 1;
const MACVLAN_MODE_PRIVATE: u32 = 1;
const IFLA_INET6_ADDR_GEN_MODE: u16 = 8;
const IN6_ADDR_GEN_MODE_NONE: u8 = 1;

const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_LABEL: u16 = 3;
const IFA_BROADCAST: u16 = 4;
const IFA_CACHEINFO: u16 = 6;
const IFA_FLAGS: u16 = 8;
pub const IFA_F_SECONDARY: u32 = 0x01;
pub const IFA_F_NODAD: u32 = 0x02;
pub const IFA_F_DADFAILED: u32 = 0x08;
pub const IFA_F_HOMEADDRESS: u32 = 0x10;
pub const IFA_F_TENTATIVE: u32 = 0x40;
pub const IFA_F_MANAGETEMPADDR: u32 = 0x100;
pub const IFA_F_NOPREFIXROUTE: u32 = 0x200;
pub const IFA_F_MCAUTOJOIN: u32 = 0x400;

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

const RT_SCOPE_UNIVERSE: u8 = 0;
const RT_SCOPE_LINK: u8 = 253;
const RT_SCOPE_HOST: u8 = 254;
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

pub const IFF_UP: u32 = 0x1;
pub const IFF_RUNNING: u32 = 0x40;

fn family_of(a: &IpAddr) -> u8 {
    match a {
        IpAddr::V4(_) => AF_INET,
        IpAddr::V6(_) => AF_INET6,
    }
}

fn ip_bytes(a: &IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(v) => v.octets().to_vec(),
        IpAddr::V6(v) => v.octets().to_vec(),
    }
}

fn ip_from(family: u8, data: &[u8]) -> Option<IpAddr> {
    match family {
        AF_INET => Some(IpAddr::V4(Ipv4Addr::from(
            <[u8; 4]>::try_from(data.get(..4)?).ok()?,
        ))),
        AF_INET6 => Some(IpAddr::V6(Ipv6Addr::from(
            <[u8; 16]>::try_from(data.get(..16)?).ok()?,
        ))),
        _ => None,
    }
}

// ---------------------------------------------------------------- dumps and parsing

/// `RTM_GETLINK` dump of every interface.
pub fn dump_links(seq: u32) -> Vec<u8> {
    let mut b = MsgBuilder::new(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, seq);
    b.push(&[0u8; 16]);
    b.finish()
}

/// `RTM_GETADDR` dump of every address of both families.
pub fn dump_addrs(seq: u32) -> Vec<u8> {
    let mut b = MsgBuilder::new(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, seq);
    b.push(&[AF_UNSPEC, 0, 0, 0, 0, 0, 0, 0]);
    b.finish()
}

/// One interface as a link message describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkInfo {
    pub index: u32,
    pub name: String,
    pub flags: u32,
    pub mac: [u8; 6],
    /// `IFLA_INFO_KIND` (veth, macvlan, bridge...).
    pub kind: Option<String>,
    /// `IFLA_LINK`: the parent of a macvlan.
    pub parent: Option<u32>,
}

/// One address as an address message describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddrInfo {
    pub index: u32,
    pub addr: IpAddr,
    pub prefix_len: u8,
    pub flags: u32,
    pub label: Option<String>,
}

/// A link or address message, new or deleted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RtMessage {
    NewLink(LinkInfo),
    DelLink(LinkInfo),
    NewAddr(AddrInfo),
    DelAddr(AddrInfo),
}

fn parse_link(p: &[u8]) -> Result<LinkInfo, NlError> {
    if p.len() < 16 {
        return Err(NlError("short ifinfomsg".into()));
    }
    let index = u32_at(p, 4).unwrap_or(0);
    let flags = u32_at(p, 8).unwrap_or(0);
    let mut li = LinkInfo {
        index,
        name: String::new(),
        flags,
        mac: [0; 6],
        kind: None,
        parent: None,
    };
    for a in attrs(&p[16..]) {
        let a = a?;
        match a.ty {
            IFLA_IFNAME => li.name = a.str().unwrap_or("").to_string(),
            IFLA_ADDRESS => {
                if let Some(m) = a.data.get(..6) {
                    li.mac.copy_from_slice(m);
                }
            }
            IFLA_LINK => li.parent = a.u32().filter(|&p| p != 0 && p != index),
            IFLA_LINKINFO => {
                for i in a.nested() {
                    let i = i?;
                    if i.ty == IFLA_INFO_KIND {
                        li.kind = i.str().map(str::to_string);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(li)
}

fn parse_addr(p: &[u8]) -> Result<Option<AddrInfo>, NlError> {
    if p.len() < 8 {
        return Err(NlError("short ifaddrmsg".into()));
    }
    let family = p[0];
    let prefix_len = p[1];
    let mut flags = p[2] as u32;
    let index = u32_at(p, 4).unwrap_or(0);
    let (mut local, mut address, mut label) = (None, None, None);
    for a in attrs(&p[8..]) {
        let a = a?;
        match a.ty {
            IFA_LOCAL => local = ip_from(family, a.data),
            IFA_ADDRESS => address = ip_from(family, a.data),
            IFA_LABEL => label = a.str().map(str::to_string),
            IFA_FLAGS => flags = a.u32().unwrap_or(flags),
            _ => {}
        }
    }
    Ok(local.or(address).map(|addr| AddrInfo {
        index,
        addr,
        prefix_len,
        flags,
        label,
    }))
}

/// Interprets a link/address message; other types give `Ok(None)`.
pub fn parse_rt(msg: &Msg<'_>) -> Result<Option<RtMessage>, NlError> {
    Ok(match msg.msg_type {
        RTM_NEWLINK => Some(RtMessage::NewLink(parse_link(msg.payload)?)),
        RTM_DELLINK => Some(RtMessage::DelLink(parse_link(msg.payload)?)),
        RTM_NEWADDR => parse_addr(msg.payload)?.map(RtMessage::NewAddr),
        RTM_DELADDR => parse_addr(msg.payload)?.map(RtMessage::DelAddr),
        _ => None,
    })
}

// ---------------------------------------------------------------- addresses

/// A scope given by name or number (`ip` syntax).
pub fn parse_scope(s: &str) -> Result<u8, String> {
    match s {
        "global" | "universe" => Ok(RT_SCOPE_UNIVERSE),
        "site" => Ok(200),
        "link" => Ok(RT_SCOPE_LINK),
        "host" => Ok(RT_SCOPE_HOST),
        "nowhere" => Ok(255),
        n => n.parse::<u8>().map_err(|_| format!("unknown scope '{n}'")),
    }
}

/// `RTM_NEWADDR` / `RTM_DELADDR` for a virtual address on interface `index`.
pub fn addr_request(
    add: bool,
    index: u32,
    a: &VirtualAddress,
    seq: u32,
) -> Result<Vec<u8>, String> {
    let family = family_of(&a.addr);
    let scope = match &a.scope {
        Some(s) => parse_scope(s)?,
        None => RT_SCOPE_UNIVERSE,
    };
    let (ty, flags) = if add {
        (
            RTM_NEWADDR,
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE,
        )
    } else {
        (RTM_DELADDR, NLM_F_REQUEST | NLM_F_ACK)
    };
    let mut b = MsgBuilder::new(ty, flags, seq);
    let mut ifa_flags = 0u32;
    if a.no_dad && family == AF_INET6 {
        ifa_flags |= IFA_F_NODAD;
    }
    if family == AF_INET6 {
        if a.options.home {
            ifa_flags |= IFA_F_HOMEADDRESS;
        }
        if a.options.mngtmpaddr {
            ifa_flags |= IFA_F_MANAGETEMPADDR;
        }
    }
    if a.options.noprefixroute {
        ifa_flags |= IFA_F_NOPREFIXROUTE;
    }
    if a.options.autojoin {
        ifa_flags |= IFA_F_MCAUTOJOIN;
    }
    let mut hdr = vec![family, a.prefix_len, (ifa_flags & 0xff) as u8, scope];
    hdr.extend_from_slice(&index.to_ne_bytes());
    b.push(&hdr);
    b.attr(IFA_LOCAL, &ip_bytes(&a.addr));
    b.attr(IFA_ADDRESS, &ip_bytes(a.peer.as_ref().unwrap_or(&a.addr)));
    if add {
        if let IpAddr::V4(v4) = a.addr {
            let host_mask = u32::MAX.checked_shr(a.prefix_len as u32).unwrap_or(0);
            let brd = match (a.brd, a.options.brd_set_host_bits) {
                (Some(b), _) => Some(b),
                (None, Some(true)) => Some(Ipv4Addr::from(u32::from(v4) | host_mask)),
                (None, Some(false)) => Some(Ipv4Addr::from(u32::from(v4) & !host_mask)),
                (None, None) => None,
            };
            if let Some(brd) = brd {
                b.attr(IFA_BROADCAST, &brd.octets());
            }
        }
        if let (Some(label), AF_INET) = (&a.label, family) {
            b.attr_str(IFA_LABEL, label);
        }
        // keepalived deprecates IPv6 /128 VIPs unless told otherwise (not a source address).
        let preferred = if a.options.preferred_forever {
            Some(u32::MAX)
        } else {
            a.preferred_lft
        };
        let preferred = preferred.or(if family == AF_INET6 && a.prefix_len == 128 {
            Some(0)
        } else {
            None
        });
        if let Some(pref) = preferred {
            let mut ci = Vec::with_capacity(16);
            ci.extend_from_slice(&pref.to_ne_bytes());
            ci.extend_from_slice(&u32::MAX.to_ne_bytes());
            ci.extend_from_slice(&[0u8; 8]);
            b.attr(IFA_CACHEINFO, &ci);
        }
        if ifa_flags != 0 {
            b.attr_u32(IFA_FLAGS, ifa_flags);
        }
    }
    Ok(b.finish())
}

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

// ---------------------------------------------------------------- links

/// Creates the macvlan of `use_vmac`: private mode, the given MAC, created down (follow
/// with [`addr_gen_none_request`] then [`set_link_up_request`]).
pub fn new_macvlan_request(name: &str, parent: u32, mac: &[u8; 6], seq: u32) -> Vec<u8> {
    let mut b = MsgBuilder::new(
        RTM_NEWLINK,
        NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
        seq,
    );
    b.push(&[0u8; 16]);
    b.attr_str(IFLA_IFNAME, name);
    b.attr_u32(IFLA_LINK, parent);
    b.attr(IFLA_ADDRESS, mac);
    b.begin_nest(IFLA_LINKINFO);
    b.attr_str(IFLA_INFO_KIND, "macvlan");
    b.begin_nest(IFLA_INFO_DATA);
    b.attr_u32(IFLA_MACVLAN_MODE, MACVLAN_MODE_PRIVATE);
    b.end_nest();
    b.end_nest();
    b.finish()
}

/// Turns IPv6 address generation off on interface `name` (a VMAC gets no link-local
/// address of its own). Must precede bringing it up.
pub fn addr_gen_none_request(name: &str, seq: u32) -> Vec<u8> {
    let mut b = MsgBuilder::new(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq);
    b.push(&[0u8; 16]);
    b.attr_str(IFLA_IFNAME, name);
    b.begin_nest(IFLA_AF_SPEC);
    b.begin_nest(AF_INET6 as u16);
    b.attr_u8(IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
    b.end_nest();
    b.end_nest();
    b.finish()
}

/// Sets interface `name` up (or down).
pub fn set_link_up_request(name: &str, up: bool, seq: u32) -> Vec<u8> {
    let mut b = MsgBuilder::new(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq);
    let mut hdr = vec![AF_UNSPEC, 0, 0, 0];
    hdr.extend_from_slice(&0u32.to_ne_bytes());
    hdr.extend_from_slice(&(if up { IFF_UP } else { 0 }).to_ne_bytes());
    hdr.extend_from_slice(&IFF_UP.to_ne_bytes());
    b.push(&hdr);
    b.attr_str(IFLA_IFNAME, name);
    b.finish()
}

/// Deletes an interface by name.
pub fn del_link_request(name: &str, seq: u32) -> Vec<u8> {
    let mut b = MsgBuilder::new(RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, seq);
    b.push(&[0u8; 16]);
    b.attr_str(IFLA_IFNAME, name);
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

    #[test]
    fn address_request_carries_local_label_and_lifetime() {
        let va = VirtualAddress {
            addr: "10.0.0.100".parse().unwrap(),
            prefix_len: 24,
            brd: Some("10.0.0.255".parse().unwrap()),
            dev: None,
            scope: Some("link".into()),
            label: Some("eth0:vip".into()),
            peer: None,
            no_dad: false,
            preferred_lft: Some(0),
            span: Default::default(),
            options: Default::default(),
        };
        let bytes = addr_request(true, 3, &va, 9).unwrap();
        let m = messages(&bytes).next().unwrap().unwrap();
        assert_eq!(m.msg_type, RTM_NEWADDR);
        assert_eq!(&m.payload[..4], &[AF_INET, 24, 0, RT_SCOPE_LINK]);
        assert_eq!(u32_at(m.payload, 4), Some(3));
        let a: Vec<_> = attrs(&m.payload[8..]).map(|a| a.unwrap()).collect();
        assert!(a
            .iter()
            .any(|a| a.ty == IFA_LOCAL && a.data == [10, 0, 0, 100]));
        assert!(a
            .iter()
            .any(|a| a.ty == IFA_LABEL && a.str() == Some("eth0:vip")));
        assert!(a
            .iter()
            .any(|a| a.ty == IFA_CACHEINFO && a.u32() == Some(0)));
        // And it parses back as an address message.
        match parse_rt(&m).unwrap() {
            Some(RtMessage::NewAddr(ai)) => {
                assert_eq!(ai.addr, va.addr);
                assert_eq!(ai.prefix_len, 24);
                assert_eq!(ai.label.as_deref(), Some("eth0:vip"));
            }
            other => panic!("{other:?}"),
        }
        let mut bad = va.clone();
        bad.scope = Some("galaxy".into());
        assert!(addr_request(true, 3, &bad, 1)
            .unwrap_err()
            .contains("galaxy"));
    }

    #[test]
    fn macvlan_request_parses_back_as_a_link() {
        let bytes = new_macvlan_request("vrrp.42", 2, &[0, 0, 0x5e, 0, 1, 42], 1);
        let m = messages(&bytes).next().unwrap().unwrap();
        match parse_rt(&m).unwrap() {
            Some(RtMessage::NewLink(l)) => {
                assert_eq!(l.name, "vrrp.42");
                assert_eq!(l.parent, Some(2));
                assert_eq!(l.mac, [0, 0, 0x5e, 0, 1, 42]);
                assert_eq!(l.kind.as_deref(), Some("macvlan"));
            }
            other => panic!("{other:?}"),
        }
    }
}
