//! `virtual_routes` / `static_routes` and `virtual_rules` / `static_rules`: the rtnetlink
//! requests of the typed [`Route`] / [`Rule`] the configuration parsed (nothing is parsed
//! here). A multipath route (`nexthop ...`, or the deprecated `or`) becomes
//! `RTA_MULTIPATH` with one `rtnexthop` per hop.

use super::netlink::*;
use super::netlink_route::{
    family_of, ip_bytes, AF_INET, AF_INET6, RTM_DELROUTE, RTM_DELRULE, RTM_NEWROUTE, RTM_NEWRULE,
    RT_SCOPE_HOST, RT_SCOPE_LINK, RT_SCOPE_UNIVERSE,
};
use crate::config::model::{
    Encap, Nexthop, Route, RouteType, Rule, RuleAction, RTPROT_KEEPALIVED, RT_TABLE_MAIN,
};

const RTA_DST: u16 = 1;
const RTA_SRC: u16 = 2;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_PRIORITY: u16 = 6;
const RTA_PREFSRC: u16 = 7;
const RTA_METRICS: u16 = 8;
const RTA_MULTIPATH: u16 = 9;
const RTA_FLOW: u16 = 11;
const RTA_TABLE: u16 = 15;
const RTA_PREF: u16 = 20;
const RTA_ENCAP_TYPE: u16 = 21;
const RTA_ENCAP: u16 = 22;
const RTA_EXPIRES: u16 = 23;
const RTA_TTL_PROPAGATE: u16 = 26;

const RTAX_LOCK: u16 = 1;
const RTAX_FEATURES: u16 = 12;
const RTAX_CC_ALGO: u16 = 16;
const RTAX_FEATURE_ECN: u32 = 1;

const RTNH_F_ONLINK: u8 = 4;
const RT_SCOPE_NOWHERE: u8 = 255;

const FRA_DST: u16 = 1;
const FRA_SRC: u16 = 2;
const FRA_IIFNAME: u16 = 3;
const FRA_GOTO: u16 = 4;
const FRA_PRIORITY: u16 = 6;
const FRA_FWMARK: u16 = 10;
const FRA_FLOW: u16 = 11;
const FRA_SUPPRESS_IFGROUP: u16 = 13;
const FRA_SUPPRESS_PREFIXLEN: u16 = 14;
const FRA_TABLE: u16 = 15;
const FRA_FWMASK: u16 = 16;
const FRA_OIFNAME: u16 = 17;
const FRA_L3MDEV: u16 = 19;
const FRA_UID_RANGE: u16 = 20;
const FRA_PROTOCOL: u16 = 21;
const FRA_IP_PROTO: u16 = 22;
const FRA_SPORT_RANGE: u16 = 23;
const FRA_DPORT_RANGE: u16 = 24;
const FR_ACT_TO_TBL: u8 = 1;
const FR_ACT_GOTO: u8 = 2;
const FR_ACT_NOP: u8 = 3;
const FR_ACT_BLACKHOLE: u8 = 6;
const FR_ACT_UNREACHABLE: u8 = 7;
const FR_ACT_PROHIBIT: u8 = 8;
const FIB_RULE_INVERT: u32 = 0x2;

// ---------------------------------------------------------------- routes

/// Appends one attribute to a raw buffer (inside `rtnexthop`s), 4-aligned.
fn raw_attr(buf: &mut Vec<u8>, ty: u16, data: &[u8]) {
    buf.extend_from_slice(&((4 + data.len()) as u16).to_ne_bytes());
    buf.extend_from_slice(&ty.to_ne_bytes());
    buf.extend_from_slice(data);
    while buf.len() % 4 != 0 {
        buf.push(0);
    }
}

/// The attributes inside `RTA_ENCAP` for `e`.
fn encap_attrs(e: &Encap) -> Vec<u8> {
    let mut b = Vec::new();
    match e {
        Encap::Mpls { labels } => {
            let mut stack = Vec::new();
            for (i, l) in labels.iter().enumerate() {
                let bos = u32::from(i + 1 == labels.len());
                stack.extend_from_slice(&((l << 12) | (bos << 8)).to_be_bytes());
            }
            raw_attr(&mut b, 1, &stack);
        }
        Encap::Ip {
            id,
            dst,
            src,
            tos,
            ttl,
        } => {
            if let Some(id) = id {
                raw_attr(&mut b, 1, &id.to_be_bytes());
            }
            if let Some(d) = dst {
                raw_attr(&mut b, 2, &d.octets());
            }
            if let Some(s) = src {
                raw_attr(&mut b, 3, &s.octets());
            }
            if let Some(t) = ttl {
                raw_attr(&mut b, 4, &[*t]);
            }
            if let Some(t) = tos {
                raw_attr(&mut b, 5, &[*t]);
            }
        }
        Encap::Ip6 {
            id,
            dst,
            src,
            tc,
            hoplimit,
        } => {
            if let Some(id) = id {
                raw_attr(&mut b, 1, &id.to_be_bytes());
            }
            if let Some(d) = dst {
                raw_attr(&mut b, 2, &d.octets());
            }
            if let Some(s) = src {
                raw_attr(&mut b, 3, &s.octets());
            }
            if let Some(h) = hoplimit {
                raw_attr(&mut b, 4, &[*h]);
            }
            if let Some(t) = tc {
                raw_attr(&mut b, 5, &[*t]);
            }
        }
        Encap::Ila { locator } => raw_attr(&mut b, 1, &locator.to_be_bytes()),
    }
    b
}

/// One `rtnexthop` with its attributes.
fn rtnexthop(n: &Nexthop, ifindex: u32) -> Vec<u8> {
    let mut attrs = Vec::new();
    if let Some(g) = &n.via {
        raw_attr(&mut attrs, RTA_GATEWAY, &ip_bytes(g));
    }
    if let Some(r) = n.realms {
        raw_attr(&mut attrs, RTA_FLOW, &r.flow().to_ne_bytes());
    }
    if let Some(e) = &n.encap {
        raw_attr(&mut attrs, RTA_ENCAP_TYPE, &e.kind().to_ne_bytes());
        let inner = encap_attrs(e);
        let mut nested = Vec::new();
        raw_attr(&mut nested, RTA_ENCAP | NLA_F_NESTED, &inner);
        attrs.extend_from_slice(&nested);
    }
    let mut b = Vec::with_capacity(8 + attrs.len());
    b.extend_from_slice(&((8 + attrs.len()) as u16).to_ne_bytes());
    b.push(if n.onlink { RTNH_F_ONLINK } else { 0 });
    b.push((n.weight.clamp(1, 256) - 1) as u8);
    b.extend_from_slice(&ifindex.to_ne_bytes());
    b.extend_from_slice(&attrs);
    b
}

/// The scope `ip route` gives a route without one.
fn default_scope(add: bool, r: &Route, multipath: bool) -> u8 {
    if r.is_v6() {
        return RT_SCOPE_UNIVERSE;
    }
    match r.kind {
        RouteType::Local | RouteType::Nat => RT_SCOPE_HOST,
        RouteType::Broadcast | RouteType::Multicast | RouteType::Anycast => RT_SCOPE_LINK,
        RouteType::Unicast if !add => RT_SCOPE_NOWHERE,
        RouteType::Unicast if r.via.is_none() && !multipath => RT_SCOPE_LINK,
        _ => RT_SCOPE_UNIVERSE,
    }
}

/// `RTM_NEWROUTE` / `RTM_DELROUTE`. `ifindex` resolves the interfaces the route names;
/// `Err` names one that does not exist.
pub fn route_request(
    add: bool,
    r: &Route,
    ifindex: &dyn Fn(&str) -> Option<u32>,
    seq: u32,
) -> Result<Vec<u8>, String> {
    let index = |name: &Option<String>| -> Result<Option<u32>, String> {
        match name {
            Some(d) => ifindex(d)
                .map(Some)
                .ok_or_else(|| format!("no interface '{d}'")),
            None => Ok(None),
        }
    };
    let hops = r.multipath();
    let mut encoded_hops = Vec::new();
    for n in &hops {
        let i = index(&n.dev)?.unwrap_or(0);
        encoded_hops.extend_from_slice(&rtnexthop(n, i));
    }
    // With `or`, the route's gateway and device went into the hops.
    let single = hops.is_empty() || !r.nexthops.is_empty();
    let oif = if single { index(&r.dev)? } else { None };
    let (ty, flags) = if add {
        (
            RTM_NEWROUTE,
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE,
        )
    } else {
        (RTM_DELROUTE, NLM_F_REQUEST | NLM_F_ACK)
    };
    let table = r.table.unwrap_or(RT_TABLE_MAIN);
    let family = if r.is_v6() { AF_INET6 } else { AF_INET };
    let scope = r
        .scope
        .unwrap_or_else(|| default_scope(add, r, !hops.is_empty()));
    let mut b = MsgBuilder::new(ty, flags, seq);
    let mut hdr = vec![
        family,
        r.dst.len,
        r.from.map(|p| p.len).unwrap_or(0),
        r.tos.unwrap_or(0),
        if table < 256 { table as u8 } else { 0 },
        r.protocol.unwrap_or(RTPROT_KEEPALIVED),
        scope,
        r.kind.rtn(),
    ];
    let rtm_flags: u32 = if r.onlink {
        u32::from(RTNH_F_ONLINK)
    } else {
        0
    };
    hdr.extend_from_slice(&rtm_flags.to_ne_bytes());
    b.push(&hdr);
    if r.dst.len > 0 {
        b.attr(RTA_DST, &ip_bytes(&r.dst.addr));
    }
    if let Some(f) = r.from {
        if f.len > 0 {
            b.attr(RTA_SRC, &ip_bytes(&f.addr));
        }
    }
    if single {
        if let Some(g) = &r.via {
            b.attr(RTA_GATEWAY, &ip_bytes(g));
        }
    }
    if let Some(i) = oif {
        b.attr_u32(RTA_OIF, i);
    }
    if let Some(p) = &r.src {
        b.attr(RTA_PREFSRC, &ip_bytes(p));
    }
    if let Some(m) = r.metric {
        b.attr_u32(RTA_PRIORITY, m);
    }
    b.attr_u32(RTA_TABLE, table);
    if let Some(rl) = r.realms {
        b.attr_u32(RTA_FLOW, rl.flow());
    }
    if let Some(p) = r.pref {
        b.attr_u8(RTA_PREF, p);
    }
    if let Some(e) = r.expires {
        b.attr_u32(RTA_EXPIRES, e);
    }
    let lock = r
        .metrics
        .iter()
        .filter(|m| m.lock)
        .fold(0u32, |acc, m| acc | (1 << m.kind.rtax()))
        | match &r.congctl {
            Some((_, true)) => 1 << RTAX_CC_ALGO,
            _ => 0,
        };
    if !r.metrics.is_empty() || r.ecn || r.congctl.is_some() {
        b.begin_nest(RTA_METRICS);
        if lock != 0 {
            b.attr_u32(RTAX_LOCK, lock);
        }
        for m in &r.metrics {
            b.attr_u32(m.kind.rtax(), m.kernel_value());
        }
        if r.ecn {
            b.attr_u32(RTAX_FEATURES, RTAX_FEATURE_ECN);
        }
        if let Some((name, _)) = &r.congctl {
            b.attr_str(RTAX_CC_ALGO, name);
        }
        b.end_nest();
    }
    if let Some(e) = &r.encap {
        b.attr(RTA_ENCAP_TYPE, &e.kind().to_ne_bytes());
        b.begin_nest(RTA_ENCAP);
        b.push(&encap_attrs(e));
        b.end_nest();
    }
    if let Some(t) = r.ttl_propagate {
        b.attr_u8(RTA_TTL_PROPAGATE, u8::from(t));
    }
    if !hops.is_empty() {
        b.attr(RTA_MULTIPATH, &encoded_hops);
    }
    Ok(b.finish())
}

// ---------------------------------------------------------------- rules

/// `RTM_NEWRULE` / `RTM_DELRULE`.
pub fn rule_request(add: bool, r: &Rule, seq: u32) -> Vec<u8> {
    let (ty, flags) = if add {
        (
            RTM_NEWRULE,
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
        )
    } else {
        (RTM_DELRULE, NLM_F_REQUEST | NLM_F_ACK)
    };
    let (action, table) = match r.action {
        RuleAction::Table(t) => (FR_ACT_TO_TBL, Some(t)),
        RuleAction::Goto(_) => (FR_ACT_GOTO, None),
        RuleAction::Nop => (FR_ACT_NOP, None),
        RuleAction::Blackhole => (FR_ACT_BLACKHOLE, None),
        RuleAction::Unreachable => (FR_ACT_UNREACHABLE, None),
        RuleAction::Prohibit => (FR_ACT_PROHIBIT, None),
        RuleAction::L3mdev => (FR_ACT_TO_TBL, None),
    };
    let family = r
        .from
        .or(r.to)
        .map(|p| family_of(&p.addr))
        .unwrap_or(AF_INET);
    let t8 = table
        .map(|t| if t < 256 { t as u8 } else { 0 })
        .unwrap_or(0);
    let mut b = MsgBuilder::new(ty, flags, seq);
    let mut hdr = vec![
        family,
        r.to.map(|p| p.len).unwrap_or(0),
        r.from.map(|p| p.len).unwrap_or(0),
        r.tos.unwrap_or(0),
        t8,
        0,
        0,
        action,
    ];
    hdr.extend_from_slice(&(if r.invert { FIB_RULE_INVERT } else { 0 }).to_ne_bytes());
    b.push(&hdr);
    if let Some(p) = r.from.filter(|p| p.len > 0) {
        b.attr(FRA_SRC, &ip_bytes(&p.addr));
    }
    if let Some(p) = r.to.filter(|p| p.len > 0) {
        b.attr(FRA_DST, &ip_bytes(&p.addr));
    }
    b.attr_u32(FRA_PRIORITY, r.effective_priority());
    if let Some(t) = table {
        b.attr_u32(FRA_TABLE, t);
    }
    if let RuleAction::Goto(g) = r.action {
        b.attr_u32(FRA_GOTO, g);
    }
    if r.action == RuleAction::L3mdev {
        b.attr_u8(FRA_L3MDEV, 1);
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
    if let Some(rl) = r.realms {
        b.attr_u32(FRA_FLOW, rl.flow());
    }
    if let Some(n) = r.suppress_prefixlength {
        b.attr_u32(FRA_SUPPRESS_PREFIXLEN, n);
    }
    if let Some(n) = r.suppress_ifgroup {
        b.attr_u32(FRA_SUPPRESS_IFGROUP, n);
    }
    if let Some((lo, hi)) = r.uidrange {
        let mut v = lo.to_ne_bytes().to_vec();
        v.extend_from_slice(&hi.to_ne_bytes());
        b.attr(FRA_UID_RANGE, &v);
    }
    b.attr_u8(FRA_PROTOCOL, r.protocol.unwrap_or(RTPROT_KEEPALIVED));
    if let Some(p) = r.ipproto {
        b.attr_u8(FRA_IP_PROTO, p);
    }
    for (attr, range) in [(FRA_SPORT_RANGE, r.sport), (FRA_DPORT_RANGE, r.dport)] {
        if let Some((lo, hi)) = range {
            let mut v = lo.to_ne_bytes().to_vec();
            v.extend_from_slice(&hi.to_ne_bytes());
            b.attr(attr, &v);
        }
    }
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::{Metric, MetricKind, Prefix, Realms};

    fn route(dst: &str) -> Route {
        let (a, l) = dst.split_once('/').unwrap();
        Route::new(
            Prefix {
                addr: a.parse().unwrap(),
                len: l.parse().unwrap(),
            },
            Default::default(),
        )
    }

    fn idx(name: &str) -> Option<u32> {
        match name {
            "eth0" => Some(2),
            "eth1" => Some(3),
            _ => None,
        }
    }

    /// The (type, data) of the top-level attributes after the 12-byte rtmsg.
    fn top(bytes: &[u8]) -> Vec<(u16, Vec<u8>)> {
        attrs(&bytes[NLMSG_HDRLEN + 12..])
            .map(|a| a.map(|a| (a.ty, a.data.to_vec())))
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn single_path_route_bytes() {
        let mut r = route("10.9.0.0/16");
        r.via = Some("10.0.0.254".parse().unwrap());
        r.dev = Some("eth0".into());
        r.metric = Some(5);
        r.table = Some(100);
        let b = route_request(true, &r, &idx, 7).unwrap();
        // rtmsg: AF_INET /16, src 0, tos 0, table 100, proto keepalived, universe, unicast.
        assert_eq!(&b[16..24], &[2, 16, 0, 0, 100, 18, 0, 1]);
        assert_eq!(
            top(&b),
            vec![
                (RTA_DST, vec![10, 9, 0, 0]),
                (RTA_GATEWAY, vec![10, 0, 0, 254]),
                (RTA_OIF, 2u32.to_ne_bytes().to_vec()),
                (RTA_PRIORITY, 5u32.to_ne_bytes().to_vec()),
                (RTA_TABLE, 100u32.to_ne_bytes().to_vec()),
            ]
        );
        // Without a gateway the scope is link; deleting, nowhere (as `ip route`).
        let mut l = route("10.9.0.0/16");
        l.dev = Some("eth0".into());
        assert_eq!(route_request(true, &l, &idx, 1).unwrap()[22], RT_SCOPE_LINK);
        assert_eq!(
            route_request(false, &l, &idx, 1).unwrap()[22],
            RT_SCOPE_NOWHERE
        );
        l.dev = Some("nope".into());
        assert!(route_request(true, &l, &idx, 1)
            .unwrap_err()
            .contains("nope"));
    }

    #[test]
    fn multipath_route_has_one_rtnexthop_per_hop() {
        let mut r = route("10.9.0.0/16");
        r.nexthops = vec![
            Nexthop {
                via: Some("10.0.0.254".parse().unwrap()),
                dev: Some("eth0".into()),
                weight: 2,
                ..Nexthop::default()
            },
            Nexthop {
                via: Some("10.0.1.254".parse().unwrap()),
                dev: Some("eth1".into()),
                onlink: true,
                realms: Some(Realms { from: None, to: 5 }),
                ..Nexthop::default()
            },
        ];
        let b = route_request(true, &r, &idx, 1).unwrap();
        assert_eq!(b[22], RT_SCOPE_UNIVERSE);
        let mp = top(&b)
            .into_iter()
            .find(|(t, _)| *t == RTA_MULTIPATH)
            .unwrap()
            .1;
        let mut hop1 = vec![16, 0, 0, 1, 2, 0, 0, 0];
        hop1.extend_from_slice(&[8, 0, 5, 0, 10, 0, 0, 254]);
        let mut hop2 = vec![24, 0, RTNH_F_ONLINK, 0, 3, 0, 0, 0];
        hop2.extend_from_slice(&[8, 0, 5, 0, 10, 0, 1, 254]);
        hop2.extend_from_slice(&[8, 0, 11, 0]);
        hop2.extend_from_slice(&5u32.to_ne_bytes());
        let mut want = hop1;
        want.extend(hop2);
        // Little-endian host assumed for the literal lengths above.
        if cfg!(target_endian = "little") {
            assert_eq!(mp, want);
        }
        assert!(!top(&b)
            .iter()
            .any(|(t, _)| *t == RTA_GATEWAY || *t == RTA_OIF));
    }

    #[test]
    fn or_route_is_two_hops_on_the_route_device() {
        let mut r = route("10.9.0.0/16");
        r.via = Some("10.0.0.254".parse().unwrap());
        r.or = Some("10.0.0.253".parse().unwrap());
        r.dev = Some("eth0".into());
        let b = route_request(true, &r, &idx, 1).unwrap();
        let t = top(&b);
        assert!(!t.iter().any(|(t, _)| *t == RTA_GATEWAY || *t == RTA_OIF));
        let mp = &t.iter().find(|(t, _)| *t == RTA_MULTIPATH).unwrap().1;
        assert_eq!(mp.len(), 32);
        assert_eq!(&mp[4..8], &2u32.to_ne_bytes());
        assert_eq!(&mp[12..16], &[10, 0, 0, 254]);
        assert_eq!(&mp[20..24], &2u32.to_ne_bytes());
        assert_eq!(&mp[28..32], &[10, 0, 0, 253]);
    }

    #[test]
    fn metrics_encap_and_ipv6_options() {
        let mut r = route("2001:db8::/32");
        r.dev = Some("eth0".into());
        r.pref = Some(1);
        r.expires = Some(60);
        r.metrics = vec![
            Metric {
                kind: MetricKind::Mtu,
                lock: true,
                value: 1400,
                millis: false,
            },
            Metric {
                kind: MetricKind::Rtt,
                lock: false,
                value: 10,
                millis: true,
            },
        ];
        r.ecn = true;
        r.congctl = Some(("cubic".into(), true));
        r.encap = Some(Encap::Mpls {
            labels: vec![100, 200],
        });
        let b = route_request(true, &r, &idx, 1).unwrap();
        assert_eq!(b[16], AF_INET6);
        let t = top(&b);
        let get = |ty: u16| t.iter().find(|(x, _)| *x == ty).unwrap().1.clone();
        assert_eq!(get(RTA_PREF), vec![1]);
        assert_eq!(get(RTA_EXPIRES), 60u32.to_ne_bytes().to_vec());
        let m: Vec<(u16, Vec<u8>)> = attrs(&get(RTA_METRICS))
            .map(|a| a.map(|a| (a.ty, a.data.to_vec())))
            .collect::<Result<_, _>>()
            .unwrap();
        let lock = (1u32 << 2) | (1 << RTAX_CC_ALGO);
        assert_eq!(m[0], (RTAX_LOCK, lock.to_ne_bytes().to_vec()));
        assert_eq!(m[1], (2, 1400u32.to_ne_bytes().to_vec()));
        assert_eq!(m[2], (4, 80u32.to_ne_bytes().to_vec()), "rtt 10ms is 80");
        assert_eq!(m[3], (RTAX_FEATURES, 1u32.to_ne_bytes().to_vec()));
        assert_eq!(m[4], (RTAX_CC_ALGO, b"cubic\0".to_vec()));
        assert_eq!(get(RTA_ENCAP_TYPE), vec![1, 0]);
        let e = get(RTA_ENCAP);
        // MPLS_IPTUNNEL_DST: 100 then 200 with bottom of stack.
        assert_eq!(&e[4..], &[0, 0x06, 0x40, 0x00, 0, 0x0c, 0x81, 0x00]);
    }

    #[test]
    fn rule_bytes() {
        let mut r = Rule::new(RuleAction::Table(100), Default::default());
        r.from = Some(Prefix {
            addr: "10.0.0.0".parse().unwrap(),
            len: 24,
        });
        r.priority = Some(200);
        r.fwmark = Some((5, Some(0xff)));
        r.sport = Some((80, 90));
        r.invert = true;
        let b = rule_request(true, &r, 1);
        assert_eq!(&b[16..24], &[2, 0, 24, 0, 100, 0, 0, FR_ACT_TO_TBL]);
        assert_eq!(&b[24..28], &FIB_RULE_INVERT.to_ne_bytes());
        let t: Vec<(u16, Vec<u8>)> = attrs(&b[NLMSG_HDRLEN + 12..])
            .map(|a| a.map(|a| (a.ty, a.data.to_vec())))
            .collect::<Result<_, _>>()
            .unwrap();
        let has =
            |ty: u16, v: Vec<u8>| assert!(t.contains(&(ty, v.clone())), "{ty} {v:?} in {t:?}");
        has(FRA_SRC, vec![10, 0, 0, 0]);
        has(FRA_PRIORITY, 200u32.to_ne_bytes().to_vec());
        has(FRA_TABLE, 100u32.to_ne_bytes().to_vec());
        has(FRA_FWMARK, 5u32.to_ne_bytes().to_vec());
        has(FRA_FWMASK, 255u32.to_ne_bytes().to_vec());
        has(FRA_PROTOCOL, vec![18]);
        let mut sp = 80u16.to_ne_bytes().to_vec();
        sp.extend_from_slice(&90u16.to_ne_bytes());
        has(FRA_SPORT_RANGE, sp);
        // No preference: keepalived's 16384. goto and l3mdev.
        let mut g = Rule::new(RuleAction::Goto(300), Default::default());
        let b = rule_request(false, &g, 2);
        assert_eq!(b[23], FR_ACT_GOTO);
        let t: Vec<(u16, Vec<u8>)> = attrs(&b[NLMSG_HDRLEN + 12..])
            .map(|a| a.map(|a| (a.ty, a.data.to_vec())))
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(t.contains(&(FRA_PRIORITY, 16384u32.to_ne_bytes().to_vec())));
        assert!(t.contains(&(FRA_GOTO, 300u32.to_ne_bytes().to_vec())));
        g.action = RuleAction::L3mdev;
        let b = rule_request(true, &g, 3);
        assert_eq!(b[23], FR_ACT_TO_TBL);
    }
}
