//! The typed lines of `virtual_routes` / `static_routes` ([`Route`]) and `virtual_rules` /
//! `static_rules` ([`Rule`]): parsed once at load time by `build/iproute.rs` (every form
//! keepalived 2.2.7 accepts), encoded into rtnetlink by `sys/netlink_iproute.rs`, stored as
//! they are by the simulated kernel. `Display` writes the canonical line, which parses back
//! to the same value (`--dump-conf`, traces, logs).
//!
//! Names (tables, protocols, scopes, realms) are resolved to numbers when parsed: the
//! canonical line carries numbers, except `default`/`default6` and the route types.

use super::Span;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `ADDR/LEN`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Prefix {
    pub addr: IpAddr,
    pub len: u8,
}

impl Prefix {
    /// `0.0.0.0/0` or `::/0`.
    pub fn default_route(v6: bool) -> Prefix {
        Prefix {
            addr: if v6 {
                IpAddr::V6(Ipv6Addr::UNSPECIFIED)
            } else {
                IpAddr::V4(Ipv4Addr::UNSPECIFIED)
            },
            len: 0,
        }
    }

    pub fn is_v6(&self) -> bool {
        self.addr.is_ipv6()
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// The route types of `ip route` (`RTN_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RouteType {
    #[default]
    Unicast,
    Local,
    Broadcast,
    Anycast,
    Multicast,
    Blackhole,
    Unreachable,
    Prohibit,
    Throw,
    Nat,
}

impl RouteType {
    pub const ALL: [RouteType; 10] = [
        RouteType::Unicast,
        RouteType::Local,
        RouteType::Broadcast,
        RouteType::Anycast,
        RouteType::Multicast,
        RouteType::Blackhole,
        RouteType::Unreachable,
        RouteType::Prohibit,
        RouteType::Throw,
        RouteType::Nat,
    ];

    /// The keyword.
    pub fn name(self) -> &'static str {
        match self {
            RouteType::Unicast => "unicast",
            RouteType::Local => "local",
            RouteType::Broadcast => "broadcast",
            RouteType::Anycast => "anycast",
            RouteType::Multicast => "multicast",
            RouteType::Blackhole => "blackhole",
            RouteType::Unreachable => "unreachable",
            RouteType::Prohibit => "prohibit",
            RouteType::Throw => "throw",
            RouteType::Nat => "nat",
        }
    }

    pub fn from_name(s: &str) -> Option<RouteType> {
        RouteType::ALL.into_iter().find(|t| t.name() == s)
    }

    /// `RTN_*`.
    pub fn rtn(self) -> u8 {
        match self {
            RouteType::Unicast => 1,
            RouteType::Local => 2,
            RouteType::Broadcast => 3,
            RouteType::Anycast => 4,
            RouteType::Multicast => 5,
            RouteType::Blackhole => 6,
            RouteType::Unreachable => 7,
            RouteType::Prohibit => 8,
            RouteType::Throw => 9,
            RouteType::Nat => 10,
        }
    }

    /// Types that send nothing anywhere: no gateway or device needed.
    pub fn is_reject(self) -> bool {
        matches!(
            self,
            RouteType::Blackhole | RouteType::Unreachable | RouteType::Prohibit | RouteType::Throw
        )
    }
}

/// `realms [FROM/]TO` (`RTA_FLOW`: FROM in the high 16 bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Realms {
    pub from: Option<u16>,
    pub to: u16,
}

impl Realms {
    pub fn flow(&self) -> u32 {
        (u32::from(self.from.unwrap_or(0)) << 16) | u32::from(self.to)
    }
}

impl fmt::Display for Realms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.from {
            Some(from) => write!(f, "{from}/{}", self.to),
            None => write!(f, "{}", self.to),
        }
    }
}

/// The route metrics of `RTA_METRICS` that take a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricKind {
    Mtu,
    Window,
    Rtt,
    Rttvar,
    Ssthresh,
    Cwnd,
    Advmss,
    Reordering,
    Hoplimit,
    Initcwnd,
    RtoMin,
    Initrwnd,
    Quickack,
    FastopenNoCookie,
}

impl MetricKind {
    pub const ALL: [MetricKind; 14] = [
        MetricKind::Mtu,
        MetricKind::Window,
        MetricKind::Rtt,
        MetricKind::Rttvar,
        MetricKind::Ssthresh,
        MetricKind::Cwnd,
        MetricKind::Advmss,
        MetricKind::Reordering,
        MetricKind::Hoplimit,
        MetricKind::Initcwnd,
        MetricKind::RtoMin,
        MetricKind::Initrwnd,
        MetricKind::Quickack,
        MetricKind::FastopenNoCookie,
    ];

    pub fn name(self) -> &'static str {
        match self {
            MetricKind::Mtu => "mtu",
            MetricKind::Window => "window",
            MetricKind::Rtt => "rtt",
            MetricKind::Rttvar => "rttvar",
            MetricKind::Ssthresh => "ssthresh",
            MetricKind::Cwnd => "cwnd",
            MetricKind::Advmss => "advmss",
            MetricKind::Reordering => "reordering",
            MetricKind::Hoplimit => "hoplimit",
            MetricKind::Initcwnd => "initcwnd",
            MetricKind::RtoMin => "rto_min",
            MetricKind::Initrwnd => "initrwnd",
            MetricKind::Quickack => "quickack",
            MetricKind::FastopenNoCookie => "fastopen_no_cookie",
        }
    }

    pub fn from_name(s: &str) -> Option<MetricKind> {
        MetricKind::ALL.into_iter().find(|k| k.name() == s)
    }

    /// `RTAX_*`.
    pub fn rtax(self) -> u16 {
        match self {
            MetricKind::Mtu => 2,
            MetricKind::Window => 3,
            MetricKind::Rtt => 4,
            MetricKind::Rttvar => 5,
            MetricKind::Ssthresh => 6,
            MetricKind::Cwnd => 7,
            MetricKind::Advmss => 8,
            MetricKind::Reordering => 9,
            MetricKind::Hoplimit => 10,
            MetricKind::Initcwnd => 11,
            MetricKind::RtoMin => 13,
            MetricKind::Initrwnd => 14,
            MetricKind::Quickack => 15,
            MetricKind::FastopenNoCookie => 17,
        }
    }

    /// keepalived 2.2.7 takes `lock` before the value of these only.
    pub fn lockable(self) -> bool {
        matches!(
            self,
            MetricKind::Mtu
                | MetricKind::Rtt
                | MetricKind::Rttvar
                | MetricKind::Ssthresh
                | MetricKind::Cwnd
                | MetricKind::Advmss
                | MetricKind::Reordering
                | MetricKind::RtoMin
        )
    }

    /// A time (`10ms`, `1s`, or a bare kernel value).
    pub fn is_time(self) -> bool {
        matches!(
            self,
            MetricKind::Rtt | MetricKind::Rttvar | MetricKind::RtoMin
        )
    }

    /// The largest value keepalived accepts.
    pub fn max(self) -> u32 {
        match self {
            MetricKind::Hoplimit => 255,
            MetricKind::Quickack | MetricKind::FastopenNoCookie => 1,
            _ => u32::MAX,
        }
    }
}

/// One numeric metric: `mtu [lock] 1400`, `rtt 10ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Metric {
    pub kind: MetricKind,
    pub lock: bool,
    pub value: u32,
    /// Times only: the value is in milliseconds (written with a unit); otherwise it is the
    /// raw kernel value, as `ip route` takes a bare number.
    pub millis: bool,
}

impl Metric {
    /// The value `RTA_METRICS` carries, as `ip route` encodes it (rtt in 1/8 ms, rttvar
    /// in 1/4 ms, rto_min in ms).
    pub fn kernel_value(&self) -> u32 {
        match (self.kind, self.millis) {
            (MetricKind::Rtt, true) => self.value.saturating_mul(8),
            (MetricKind::Rttvar, true) => self.value.saturating_mul(4),
            _ => self.value,
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind.name())?;
        if self.lock {
            f.write_str(" lock")?;
        }
        write!(f, " {}", self.value)?;
        if self.millis {
            f.write_str("ms")?;
        }
        Ok(())
    }
}

/// `encap TYPE ...` (lightweight tunnels).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Encap {
    /// `encap mpls LABEL[/LABEL...]`.
    Mpls { labels: Vec<u32> },
    /// `encap ip [id N] [dst A] [src A] [tos N] [ttl N]`.
    Ip {
        id: Option<u64>,
        dst: Option<Ipv4Addr>,
        src: Option<Ipv4Addr>,
        tos: Option<u8>,
        ttl: Option<u8>,
    },
    /// `encap ip6 [id N] [dst A] [src A] [tc N] [hoplimit N]`.
    Ip6 {
        id: Option<u64>,
        dst: Option<Ipv6Addr>,
        src: Option<Ipv6Addr>,
        tc: Option<u8>,
        hoplimit: Option<u8>,
    },
    /// `encap ila LOCATOR` (four 16-bit hex groups).
    Ila { locator: u64 },
}

impl Encap {
    /// `LWTUNNEL_ENCAP_*`.
    pub fn kind(&self) -> u16 {
        match self {
            Encap::Mpls { .. } => 1,
            Encap::Ip { .. } => 2,
            Encap::Ila { .. } => 3,
            Encap::Ip6 { .. } => 4,
        }
    }
}

impl fmt::Display for Encap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Encap::Mpls { labels } => {
                let l: Vec<String> = labels.iter().map(u32::to_string).collect();
                write!(f, "encap mpls {}", l.join("/"))
            }
            Encap::Ip {
                id,
                dst,
                src,
                tos,
                ttl,
            } => {
                f.write_str("encap ip")?;
                opt(f, "id", id)?;
                opt(f, "dst", dst)?;
                opt(f, "src", src)?;
                opt(f, "tos", tos)?;
                opt(f, "ttl", ttl)
            }
            Encap::Ip6 {
                id,
                dst,
                src,
                tc,
                hoplimit,
            } => {
                f.write_str("encap ip6")?;
                opt(f, "id", id)?;
                opt(f, "dst", dst)?;
                opt(f, "src", src)?;
                opt(f, "tc", tc)?;
                opt(f, "hoplimit", hoplimit)
            }
            Encap::Ila { locator } => write!(
                f,
                "encap ila {:x}:{:x}:{:x}:{:x}",
                locator >> 48,
                (locator >> 32) & 0xffff,
                (locator >> 16) & 0xffff,
                locator & 0xffff
            ),
        }
    }
}

fn opt<T: fmt::Display>(f: &mut fmt::Formatter<'_>, kw: &str, v: &Option<T>) -> fmt::Result {
    match v {
        Some(v) => write!(f, " {kw} {v}"),
        None => Ok(()),
    }
}

/// One `nexthop` of a multipath route (or a hop made of the deprecated `or`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nexthop {
    pub via: Option<IpAddr>,
    pub dev: Option<String>,
    /// 1-256 (the kernel stores weight - 1).
    pub weight: u16,
    pub onlink: bool,
    pub realms: Option<Realms>,
    pub encap: Option<Encap>,
}

impl Default for Nexthop {
    fn default() -> Self {
        Nexthop {
            via: None,
            dev: None,
            weight: 1,
            onlink: false,
            realms: None,
            encap: None,
        }
    }
}

impl fmt::Display for Nexthop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("nexthop")?;
        opt(f, "via", &self.via)?;
        opt(f, "dev", &self.dev)?;
        if self.weight != 1 {
            write!(f, " weight {}", self.weight)?;
        }
        if self.onlink {
            f.write_str(" onlink")?;
        }
        opt(f, "realms", &self.realms)?;
        if let Some(e) = &self.encap {
            write!(f, " {e}")?;
        }
        Ok(())
    }
}

/// `RTPROT_KEEPALIVED`: the protocol of the routes and rules keepalived installs (and
/// tracks).
pub const RTPROT_KEEPALIVED: u8 = 18;
/// `RT_TABLE_MAIN`.
pub const RT_TABLE_MAIN: u32 = 254;

/// A line of `virtual_routes` / `static_routes`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub kind: RouteType,
    /// The destination (`default` is `0.0.0.0/0`, `default6` is `::/0`); its family is the
    /// route's.
    pub dst: Prefix,
    /// `from PREFIX`: a source prefix (IPv6 only).
    pub from: Option<Prefix>,
    pub via: Option<IpAddr>,
    /// The deprecated `or ADDR`: a second gateway; the route is installed as two next hops.
    pub or: Option<IpAddr>,
    pub dev: Option<String>,
    /// `src ADDR`: the preferred source address.
    pub src: Option<IpAddr>,
    /// `table N|NAME` (default main).
    pub table: Option<u32>,
    /// `metric`, `priority`, `preference`.
    pub metric: Option<u32>,
    pub scope: Option<u8>,
    /// `protocol` (default keepalived, 18; another value only with `no_track`).
    pub protocol: Option<u8>,
    /// `tos` / `dsfield`.
    pub tos: Option<u8>,
    pub realms: Option<Realms>,
    /// `pref` (IPv6 router preference: 0 medium, 1 high, 3 low).
    pub pref: Option<u8>,
    /// `expires SECONDS` (IPv6).
    pub expires: Option<u32>,
    pub onlink: bool,
    pub metrics: Vec<Metric>,
    /// `features ecn`.
    pub ecn: bool,
    /// `congctl [lock] NAME`: (name, locked).
    pub congctl: Option<(String, bool)>,
    pub encap: Option<Encap>,
    /// `ttl-propagate enabled|disabled`.
    pub ttl_propagate: Option<bool>,
    /// `nexthop ...` (multipath), in order; empty for a single-path route.
    pub nexthops: Vec<Nexthop>,
    pub no_track: bool,
    /// `track_group NAME` (static routes).
    pub track_group: Option<String>,
    pub span: Span,
}

impl Route {
    /// A unicast route to `dst` with nothing else set.
    pub fn new(dst: Prefix, span: Span) -> Route {
        Route {
            kind: RouteType::Unicast,
            dst,
            from: None,
            via: None,
            or: None,
            dev: None,
            src: None,
            table: None,
            metric: None,
            scope: None,
            protocol: None,
            tos: None,
            realms: None,
            pref: None,
            expires: None,
            onlink: false,
            metrics: Vec::new(),
            ecn: false,
            congctl: None,
            encap: None,
            ttl_propagate: None,
            nexthops: Vec::new(),
            no_track: false,
            track_group: None,
            span,
        }
    }

    pub fn is_v6(&self) -> bool {
        self.dst.is_v6()
    }

    /// The next hops the kernel gets as `RTA_MULTIPATH`: the `nexthop`s, or the route's
    /// gateway and its `or` alternative. Empty for a single-path route.
    pub fn multipath(&self) -> Vec<Nexthop> {
        if !self.nexthops.is_empty() {
            return self.nexthops.clone();
        }
        match self.or {
            Some(alt) => vec![
                Nexthop {
                    via: self.via,
                    dev: self.dev.clone(),
                    ..Nexthop::default()
                },
                Nexthop {
                    via: Some(alt),
                    dev: self.dev.clone(),
                    ..Nexthop::default()
                },
            ],
            None => Vec::new(),
        }
    }

    /// Every interface the route names (its own and its next hops').
    pub fn devices(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.dev.iter().map(String::as_str).collect();
        v.extend(self.nexthops.iter().filter_map(|n| n.dev.as_deref()));
        v
    }

    /// Whether this route has everything `pattern` sets (an expectation of a scenario):
    /// the same type and destination, and each option the pattern gives; its next hops,
    /// when it gives any, are all of this route's, in order.
    pub fn matches(&self, pattern: &Route) -> bool {
        fn opt<T: PartialEq>(have: &Option<T>, want: &Option<T>) -> bool {
            want.is_none() || have == want
        }
        let p = pattern;
        self.kind == p.kind
            && self.dst == p.dst
            && opt(&self.from, &p.from)
            && opt(&self.via, &p.via)
            && opt(&self.or, &p.or)
            && opt(&self.dev, &p.dev)
            && opt(&self.src, &p.src)
            && opt(&self.table, &p.table)
            && opt(&self.metric, &p.metric)
            && opt(&self.scope, &p.scope)
            && opt(&self.protocol, &p.protocol)
            && opt(&self.tos, &p.tos)
            && opt(&self.realms, &p.realms)
            && opt(&self.pref, &p.pref)
            && opt(&self.expires, &p.expires)
            && (!p.onlink || self.onlink)
            && p.metrics.iter().all(|m| self.metrics.contains(m))
            && (!p.ecn || self.ecn)
            && opt(&self.congctl, &p.congctl)
            && opt(&self.encap, &p.encap)
            && opt(&self.ttl_propagate, &p.ttl_propagate)
            && (p.nexthops.is_empty() || self.nexthops == p.nexthops)
    }

    /// The same route wherever it was written (the span ignored).
    pub fn same(&self, other: &Route) -> bool {
        Route {
            span: Span::default(),
            ..self.clone()
        } == Route {
            span: Span::default(),
            ..other.clone()
        }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kind != RouteType::Unicast {
            write!(f, "{} ", self.kind.name())?;
        }
        match (self.dst.len, self.dst.is_v6()) {
            (0, false) if self.dst.addr == IpAddr::V4(Ipv4Addr::UNSPECIFIED) => {
                f.write_str("default")?
            }
            (0, true) if self.dst.addr == IpAddr::V6(Ipv6Addr::UNSPECIFIED) => {
                f.write_str("default6")?
            }
            _ => write!(f, "{}", self.dst)?,
        }
        opt(f, "from", &self.from)?;
        opt(f, "via", &self.via)?;
        opt(f, "or", &self.or)?;
        opt(f, "dev", &self.dev)?;
        opt(f, "src", &self.src)?;
        opt(f, "table", &self.table)?;
        opt(f, "metric", &self.metric)?;
        opt(f, "scope", &self.scope)?;
        opt(f, "protocol", &self.protocol)?;
        opt(f, "tos", &self.tos)?;
        opt(f, "realms", &self.realms)?;
        opt(f, "pref", &self.pref)?;
        opt(f, "expires", &self.expires)?;
        if self.onlink {
            f.write_str(" onlink")?;
        }
        for m in &self.metrics {
            write!(f, " {m}")?;
        }
        if self.ecn {
            f.write_str(" features ecn")?;
        }
        if let Some((name, lock)) = &self.congctl {
            write!(f, " congctl{} {name}", if *lock { " lock" } else { "" })?;
        }
        if let Some(e) = &self.encap {
            write!(f, " {e}")?;
        }
        if let Some(t) = self.ttl_propagate {
            write!(
                f,
                " ttl-propagate {}",
                if t { "enabled" } else { "disabled" }
            )?;
        }
        if self.no_track {
            f.write_str(" no_track")?;
        }
        opt(f, "track_group", &self.track_group)?;
        // Next hops end the line: keepalived reads nothing after them.
        for n in &self.nexthops {
            write!(f, " {n}")?;
        }
        Ok(())
    }
}

/// What a rule does when it matches (`FR_ACT_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleAction {
    /// `table N` / `lookup N`.
    Table(u32),
    /// `goto PREF`.
    Goto(u32),
    Nop,
    Blackhole,
    Unreachable,
    Prohibit,
    /// `l3mdev`: look up the table of the VRF device.
    L3mdev,
}

impl fmt::Display for RuleAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleAction::Table(t) => write!(f, "table {t}"),
            RuleAction::Goto(p) => write!(f, "goto {p}"),
            RuleAction::Nop => f.write_str("nop"),
            RuleAction::Blackhole => f.write_str("blackhole"),
            RuleAction::Unreachable => f.write_str("unreachable"),
            RuleAction::Prohibit => f.write_str("prohibit"),
            RuleAction::L3mdev => f.write_str("l3mdev"),
        }
    }
}

/// The preference keepalived gives a rule that has none.
pub const RULE_DEFAULT_PRIORITY: u32 = 16384;

/// A line of `virtual_rules` / `static_rules`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// `not`: the selector is inverted.
    pub invert: bool,
    /// `from PREFIX` (`None`: all).
    pub from: Option<Prefix>,
    pub to: Option<Prefix>,
    pub iif: Option<String>,
    pub oif: Option<String>,
    /// `fwmark MARK[/MASK]`.
    pub fwmark: Option<(u32, Option<u32>)>,
    pub tos: Option<u8>,
    pub realms: Option<Realms>,
    pub uidrange: Option<(u32, u32)>,
    pub ipproto: Option<u8>,
    pub sport: Option<(u16, u16)>,
    pub dport: Option<(u16, u16)>,
    pub suppress_prefixlength: Option<u32>,
    pub suppress_ifgroup: Option<u32>,
    /// `protocol N` (default keepalived, 18; another value only with `no_track`).
    pub protocol: Option<u8>,
    /// `priority` / `preference` / `order` (`None`: keepalived's 16384).
    pub priority: Option<u32>,
    pub action: RuleAction,
    pub no_track: bool,
    /// `track_group NAME` (static rules).
    pub track_group: Option<String>,
    pub span: Span,
}

impl Rule {
    /// A rule with nothing but an action.
    pub fn new(action: RuleAction, span: Span) -> Rule {
        Rule {
            invert: false,
            from: None,
            to: None,
            iif: None,
            oif: None,
            fwmark: None,
            tos: None,
            realms: None,
            uidrange: None,
            ipproto: None,
            sport: None,
            dport: None,
            suppress_prefixlength: None,
            suppress_ifgroup: None,
            protocol: None,
            priority: None,
            action,
            no_track: false,
            track_group: None,
            span,
        }
    }

    /// IPv6 when an address selector is IPv6 (a rule without one is IPv4, as keepalived).
    pub fn is_v6(&self) -> bool {
        self.from.or(self.to).is_some_and(|p| p.is_v6())
    }

    pub fn devices(&self) -> Vec<&str> {
        self.iif
            .iter()
            .chain(self.oif.iter())
            .map(String::as_str)
            .collect()
    }

    /// The preference it is installed with.
    pub fn effective_priority(&self) -> u32 {
        self.priority.unwrap_or(RULE_DEFAULT_PRIORITY)
    }

    /// Whether this rule has everything `pattern` sets (scenario expectations): the same
    /// action, and each selector the pattern gives.
    pub fn matches(&self, pattern: &Rule) -> bool {
        fn opt<T: PartialEq>(have: &Option<T>, want: &Option<T>) -> bool {
            want.is_none() || have == want
        }
        let p = pattern;
        self.action == p.action
            && (!p.invert || self.invert)
            && opt(&self.from, &p.from)
            && opt(&self.to, &p.to)
            && opt(&self.iif, &p.iif)
            && opt(&self.oif, &p.oif)
            && opt(&self.fwmark, &p.fwmark)
            && opt(&self.tos, &p.tos)
            && opt(&self.realms, &p.realms)
            && opt(&self.uidrange, &p.uidrange)
            && opt(&self.ipproto, &p.ipproto)
            && opt(&self.sport, &p.sport)
            && opt(&self.dport, &p.dport)
            && opt(&self.suppress_prefixlength, &p.suppress_prefixlength)
            && opt(&self.suppress_ifgroup, &p.suppress_ifgroup)
            && opt(&self.protocol, &p.protocol)
            && opt(&self.priority, &p.priority)
    }

    /// The same rule wherever it was written (the span ignored).
    pub fn same(&self, other: &Rule) -> bool {
        Rule {
            span: Span::default(),
            ..self.clone()
        } == Rule {
            span: Span::default(),
            ..other.clone()
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        let mut w = |f: &mut fmt::Formatter<'_>, s: String| -> fmt::Result {
            let r = write!(f, "{sep}{s}");
            sep = " ";
            r
        };
        if self.invert {
            w(f, "not".into())?;
        }
        if let Some(p) = self.from {
            w(f, format!("from {p}"))?;
        }
        if let Some(p) = self.to {
            w(f, format!("to {p}"))?;
        }
        if let Some(i) = &self.iif {
            w(f, format!("iif {i}"))?;
        }
        if let Some(o) = &self.oif {
            w(f, format!("oif {o}"))?;
        }
        match self.fwmark {
            Some((m, Some(mask))) => w(f, format!("fwmark {m:#x}/{mask:#x}"))?,
            Some((m, None)) => w(f, format!("fwmark {m:#x}"))?,
            None => {}
        }
        if let Some(t) = self.tos {
            w(f, format!("tos {t}"))?;
        }
        if let Some(r) = self.realms {
            w(f, format!("realms {r}"))?;
        }
        if let Some((a, b)) = self.uidrange {
            w(f, format!("uidrange {a}-{b}"))?;
        }
        if let Some(p) = self.ipproto {
            w(f, format!("ipproto {p}"))?;
        }
        if let Some((a, b)) = self.sport {
            w(f, format!("sport {a}-{b}"))?;
        }
        if let Some((a, b)) = self.dport {
            w(f, format!("dport {a}-{b}"))?;
        }
        if let Some(n) = self.suppress_prefixlength {
            w(f, format!("suppress_prefixlength {n}"))?;
        }
        if let Some(n) = self.suppress_ifgroup {
            w(f, format!("suppress_ifgroup {n}"))?;
        }
        if let Some(p) = self.protocol {
            w(f, format!("protocol {p}"))?;
        }
        if let Some(p) = self.priority {
            w(f, format!("priority {p}"))?;
        }
        w(f, self.action.to_string())?;
        if self.no_track {
            w(f, "no_track".into())?;
        }
        if let Some(g) = &self.track_group {
            w(f, format!("track_group {g}"))?;
        }
        Ok(())
    }
}
