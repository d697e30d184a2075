//! The desired IPVS table: services and their destinations, computed (purely) from the
//! configuration's virtual servers and each real server's (up, weight) as the checkers
//! decided. Keys are typed so that a fwmark service has no port and an address service no
//! mark; families come from the addresses.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::config::model::{
    Config, Family, LvsMethod, Protocol, TunnelType, VirtualServer, VsKey, VsgEntry,
};

/// Service flags (uapi `IP_VS_SVC_F_*`).
pub const SVC_F_PERSISTENT: u32 = 0x0001;
pub const SVC_F_HASHED: u32 = 0x0002;
pub const SVC_F_ONEPACKET: u32 = 0x0004;
pub const SVC_F_SCHED1: u32 = 0x0008;
pub const SVC_F_SCHED2: u32 = 0x0010;
pub const SVC_F_SCHED3: u32 = 0x0020;

/// Default persistence timeout when `persistence_timeout` has no value (360 s).
pub const DEFAULT_PERSISTENCE: u32 = 360;

/// Transport protocol of an address service (its IPPROTO number via [`Proto::number`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Proto {
    Tcp,
    Udp,
    Sctp,
}

impl Proto {
    pub fn number(self) -> u16 {
        match self {
            Proto::Tcp => 6,
            Proto::Udp => 17,
            Proto::Sctp => 132,
        }
    }

    pub fn from_number(n: u16) -> Option<Proto> {
        match n {
            6 => Some(Proto::Tcp),
            17 => Some(Proto::Udp),
            132 => Some(Proto::Sctp),
            _ => None,
        }
    }

    fn from_config(p: Protocol) -> Proto {
        match p {
            Protocol::Tcp => Proto::Tcp,
            Protocol::Udp => Proto::Udp,
            Protocol::Sctp => Proto::Sctp,
        }
    }
}

/// Address family of a service (AF_INET 2, AF_INET6 10 via [`Af::number`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Af {
    Inet,
    Inet6,
}

impl Af {
    pub fn number(self) -> u16 {
        match self {
            Af::Inet => 2,
            Af::Inet6 => 10,
        }
    }

    pub fn from_number(n: u16) -> Option<Af> {
        match n {
            2 => Some(Af::Inet),
            10 => Some(Af::Inet6),
            _ => None,
        }
    }

    fn from_config(f: Family) -> Af {
        match f {
            Family::Inet => Af::Inet,
            Family::Inet6 => Af::Inet6,
        }
    }
}

/// What identifies a service in the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ServiceKey {
    Addr {
        proto: Proto,
        addr: IpAddr,
        port: u16,
    },
    Fwmark {
        family: Af,
        mark: u32,
    },
}

impl ServiceKey {
    pub fn family(&self) -> Af {
        match self {
            ServiceKey::Addr { addr, .. } => family_of(addr),
            ServiceKey::Fwmark { family, .. } => *family,
        }
    }
}

pub fn family_of(addr: &IpAddr) -> Af {
    match addr {
        IpAddr::V4(_) => Af::Inet,
        IpAddr::V6(_) => Af::Inet6,
    }
}

/// The editable attributes of a service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceAttrs {
    pub sched: String,
    /// `IP_VS_SVC_F_*` bits we set (never HASHED, which the kernel owns).
    pub flags: u32,
    /// Persistence timeout in seconds (0: not persistent).
    pub timeout: u32,
    /// IPv4: the netmask as a big-endian u32 value; IPv6: the prefix length.
    pub netmask: u32,
    /// Persistence engine (`persistence_engine`; Linux has only "sip"), or none.
    pub pe_name: Option<String>,
}

/// `tcp 900 tcpfin 120 udp 300`: connection timeouts as `lvs_timeouts` writes them, the
/// given ones only (logs, the simulator's trace).
pub fn timeouts_text(tcp: Option<u32>, tcpfin: Option<u32>, udp: Option<u32>) -> String {
    [("tcp", tcp), ("tcpfin", tcpfin), ("udp", udp)]
        .iter()
        .filter_map(|(n, v)| v.map(|v| format!("{n} {v}")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Forwarding method of a destination (uapi `IP_VS_CONN_F_MASQ/TUNNEL/DROUTE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forward {
    Masq,
    Direct,
    Tunnel {
        /// uapi `IP_VS_CONN_F_TUNNEL_TYPE_*`: IPIP 0, GUE 1, GRE 2.
        kind: u16,
        /// GUE port (0 otherwise).
        port: u16,
        /// uapi `IP_VS_TUNNEL_ENCAP_FLAG_*`: NOCSUM 0, CSUM 1, REMCSUM 2.
        flags: u16,
    },
}

impl Forward {
    /// The `IP_VS_CONN_F_FWD_MASK` value.
    pub fn conn_flags(&self) -> u32 {
        match self {
            Forward::Masq => 0,
            Forward::Tunnel { .. } => 2,
            Forward::Direct => 3,
        }
    }

    pub fn from_method(m: &LvsMethod) -> Forward {
        match m {
            LvsMethod::Nat => Forward::Masq,
            LvsMethod::Dr => Forward::Direct,
            LvsMethod::Tun { tunnel, csum } => {
                let (kind, port) = match tunnel {
                    TunnelType::Ipip => (0, 0),
                    TunnelType::Gue { port } => (1, *port),
                    TunnelType::Gre => (2, 0),
                };
                let flags = match csum.as_deref() {
                    Some("csum") => 1,
                    Some("remcsum") => 2,
                    _ => 0,
                };
                Forward::Tunnel { kind, port, flags }
            }
        }
    }
}

/// A destination's key within its service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DestKey {
    pub addr: IpAddr,
    pub port: u16,
}

/// The editable attributes of a destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DestAttrs {
    pub forward: Forward,
    pub weight: u32,
    pub u_threshold: u32,
    pub l_threshold: u32,
}

/// One service with its destinations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    pub attrs: ServiceAttrs,
    pub dests: BTreeMap<DestKey, DestAttrs>,
}

/// A sync daemon's parameters (`lvs_sync_daemon`), as `Action::IpvsDaemon` carries them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncDaemon {
    /// IP_VS_STATE_MASTER 1 or IP_VS_STATE_BACKUP 2.
    pub state: u32,
    pub ifname: String,
    pub syncid: u32,
    pub maxlen: Option<u16>,
    pub group: Option<IpAddr>,
    pub port: Option<u16>,
    pub ttl: Option<u8>,
}

/// `IP_VS_STATE_MASTER` / `IP_VS_STATE_BACKUP`.
pub const SYNC_MASTER: u32 = 1;
pub const SYNC_BACKUP: u32 = 2;

/// A whole IPVS table (desired or current), ordered for stable diffs.
pub type Table = BTreeMap<ServiceKey, Service>;

/// What the checkers say about one real server: `(up, weight)`.
pub type RsState = (bool, u32);

/// keepalived's quorum with hysteresis: lost below `quorum - hysteresis`, regained at
/// `quorum + hysteresis`; in between the previous state stands.
pub fn quorum_met(previous: bool, up_weight: u64, quorum: u32, hysteresis: u32) -> bool {
    let q = u64::from(quorum);
    let h = u64::from(hysteresis);
    if previous {
        up_weight + h >= q
    } else {
        up_weight >= q + h
    }
}

/// The service keys of one virtual server (a group expands to many).
pub fn service_keys(config: &Config, vs: &VirtualServer) -> Vec<ServiceKey> {
    let proto = Proto::from_config(vs.protocol);
    let vs_family = vs.ip_family.map_or(Af::Inet, Af::from_config);
    match &vs.key {
        VsKey::Addr { addr, port } => vec![ServiceKey::Addr {
            proto,
            addr: *addr,
            port: port.unwrap_or(0),
        }],
        VsKey::Fwmark(mark) => vec![ServiceKey::Fwmark {
            family: vs_family,
            mark: *mark,
        }],
        VsKey::Group(name) => {
            let mut keys = Vec::new();
            let Some(g) = config
                .virtual_server_groups
                .iter()
                .find(|g| &g.name == name)
            else {
                return keys;
            };
            for e in &g.entries {
                match e {
                    VsgEntry::Range { first, last, port } => {
                        for addr in addr_range(*first, *last) {
                            keys.push(ServiceKey::Addr {
                                proto,
                                addr,
                                port: port.unwrap_or(0),
                            });
                        }
                    }
                    VsgEntry::Fwmark { mark, family } => keys.push(ServiceKey::Fwmark {
                        family: family.map_or(vs_family, Af::from_config),
                        mark: *mark,
                    }),
                }
            }
            keys
        }
    }
}

/// At most this many addresses from one group range (a CIDR entry could otherwise ask
/// for 2^64 services); keepalived's own ranges stop at the last octet / hextet.
pub const MAX_RANGE: usize = 65_536;

/// Inclusive address range (same family; empty if reversed or mixed; at most
/// [`MAX_RANGE`] addresses).
fn addr_range(first: IpAddr, last: IpAddr) -> Vec<IpAddr> {
    match (first, last) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a)..=u32::from(b))
            .take(MAX_RANGE)
            .map(|x| IpAddr::V4(x.into()))
            .collect(),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a)..=u128::from(b))
            .take(MAX_RANGE)
            .map(|x| IpAddr::V6(x.into()))
            .collect(),
        _ => Vec::new(),
    }
}

/// The service attributes of a virtual server.
pub fn service_attrs(vs: &VirtualServer, family: Af) -> ServiceAttrs {
    let mut flags = 0;
    for f in &vs.sched_flags {
        flags |= match f.as_str() {
            "flag-1" | "sh-fallback" | "mh-fallback" => SVC_F_SCHED1,
            "flag-2" | "sh-port" | "mh-port" => SVC_F_SCHED2,
            "flag-3" => SVC_F_SCHED3,
            _ => 0,
        };
    }
    if vs.ops {
        flags |= SVC_F_ONEPACKET;
    }
    let timeout = match vs.persistence_timeout {
        Some(0) | None => 0,
        Some(t) => t,
    };
    if timeout > 0 {
        flags |= SVC_F_PERSISTENT;
    }
    let netmask = match family {
        Af::Inet => vs
            .persistence_granularity
            .as_deref()
            .and_then(|g| g.parse::<std::net::Ipv4Addr>().ok())
            .map_or(u32::MAX, u32::from),
        Af::Inet6 => vs
            .persistence_granularity
            .as_deref()
            .and_then(|g| g.parse::<u32>().ok())
            .filter(|p| *p <= 128)
            .unwrap_or(128),
    };
    ServiceAttrs {
        sched: vs.lvs_sched.clone(),
        flags,
        timeout,
        netmask,
        pe_name: vs.persistence_engine.clone(),
    }
}

/// The destinations of one virtual server given its real servers' states and whether its
/// quorum is met (see [`quorum_met`]).
pub fn dests_of(
    vs: &VirtualServer,
    vs_port: u16,
    state: &dyn Fn(usize) -> RsState,
    quorum: bool,
) -> BTreeMap<DestKey, DestAttrs> {
    let mut out = BTreeMap::new();
    // keepalived.conf(5): with a sorry server, all real servers are brought down when the
    // quorum is not achieved (inhibited ones stay at weight 0); without one, the quorum
    // only runs the quorum_up/quorum_down scripts.
    let replaced = !quorum && vs.sorry_server.is_some();
    {
        for (i, rs) in vs.real_servers.iter().enumerate() {
            let (up, weight) = state(i);
            let up = up && !replaced;
            if !up && !rs.inhibit_on_failure {
                continue;
            }
            out.insert(
                DestKey {
                    addr: rs.addr,
                    port: rs.port.unwrap_or(vs_port),
                },
                DestAttrs {
                    forward: Forward::from_method(&rs.lvs_method),
                    weight: if up { weight } else { 0 },
                    u_threshold: rs.uthreshold.unwrap_or(0),
                    l_threshold: rs.lthreshold.unwrap_or(0),
                },
            );
        }
    }
    if let Some((addr, port)) = vs.sorry_server {
        if quorum && !vs.sorry_server_inhibit {
            return out;
        }
        let method = vs
            .sorry_server_lvs_method
            .as_ref()
            .unwrap_or(&vs.lvs_method);
        out.insert(
            DestKey {
                addr,
                port: port.unwrap_or(vs_port),
            },
            DestAttrs {
                forward: Forward::from_method(method),
                weight: if quorum { 0 } else { 1 },
                u_threshold: 0,
                l_threshold: 0,
            },
        );
    }
    out
}

/// The sum of the up real servers' weights.
pub fn up_weight(vs: &VirtualServer, state: &dyn Fn(usize) -> RsState) -> u64 {
    (0..vs.real_servers.len())
        .map(state)
        .filter(|(up, _)| *up)
        .map(|(_, w)| u64::from(w))
        .sum()
}

/// The desired table. `state(vs, rs)` is the checkers' view of real server `rs` of virtual
/// server `vs`; `quorum(vs)` whether that virtual server's quorum is met (the caller keeps
/// the hysteresis state with [`quorum_met`]).
pub fn desired(
    config: &Config,
    state: &dyn Fn(usize, usize) -> RsState,
    quorum: &dyn Fn(usize) -> bool,
) -> Table {
    let mut table = Table::new();
    for (vi, vs) in config.virtual_servers.iter().enumerate() {
        let q = quorum(vi);
        let st = |ri: usize| state(vi, ri);
        for key in service_keys(config, vs) {
            let port = match key {
                ServiceKey::Addr { port, .. } => port,
                ServiceKey::Fwmark { .. } => 0,
            };
            let attrs = service_attrs(vs, key.family());
            let dests = dests_of(vs, port, &st, q);
            table.insert(key, Service { attrs, dests });
        }
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::Config;

    fn cfg(text: &str) -> Config {
        let l = crate::config::load_str(
            text,
            std::path::Path::new("t.conf"),
            &crate::config::LoadOptions::default(),
        );
        assert!(l.diagnostics.is_empty(), "{:#?}", l.diagnostics);
        l.config
    }

    #[test]
    fn quorum_hysteresis() {
        assert!(quorum_met(true, 2, 3, 1));
        assert!(!quorum_met(true, 1, 3, 1));
        assert!(!quorum_met(false, 3, 3, 1));
        assert!(quorum_met(false, 4, 3, 1));
        assert!(quorum_met(false, 1, 1, 0));
        assert!(!quorum_met(true, 0, 1, 0));
    }

    #[test]
    fn ranges_expand() {
        let a: IpAddr = "10.0.0.254".parse().unwrap();
        let b: IpAddr = "10.0.1.1".parse().unwrap();
        assert_eq!(addr_range(a, b).len(), 4);
        assert!(addr_range(b, a).is_empty());
        let v6: IpAddr = "::1".parse().unwrap();
        assert!(addr_range(a, v6).is_empty());
        let wide: IpAddr = "ffff::".parse().unwrap();
        assert_eq!(addr_range(v6, wide).len(), MAX_RANGE);
    }

    #[test]
    fn forward_from_method() {
        assert_eq!(Forward::from_method(&LvsMethod::Dr).conn_flags(), 3);
        let t = LvsMethod::Tun {
            tunnel: TunnelType::Gue { port: 6080 },
            csum: Some("remcsum".into()),
        };
        assert_eq!(
            Forward::from_method(&t),
            Forward::Tunnel {
                kind: 1,
                port: 6080,
                flags: 2
            }
        );
    }

    const VS: &str = "virtual_server 10.0.0.10 80 {\n lb_algo wrr\n lb_kind DR\n \
        persistence_timeout 50\n protocol TCP\n quorum 2\n sorry_server 10.0.0.99 80\n \
        real_server 192.168.1.2 80 {\n weight 3\n }\n real_server 192.168.1.3 80 {\n \
        weight 1\n inhibit_on_failure\n }\n}\n";

    fn only(t: &Table) -> &Service {
        assert_eq!(t.len(), 1);
        t.values().next().unwrap()
    }

    #[test]
    fn desired_follows_checkers() {
        let c = cfg(VS);
        let all_up = desired(&c, &|_, r| (true, [3, 1][r]), &|_| true);
        let s = only(&all_up);
        assert_eq!(s.attrs.sched, "wrr");
        assert_eq!(s.attrs.flags, SVC_F_PERSISTENT);
        assert_eq!(s.attrs.timeout, 50);
        assert_eq!(s.attrs.netmask, u32::MAX);
        assert_eq!(s.dests.len(), 2);
        assert!(s.dests.values().all(|d| d.forward == Forward::Direct));
        // Second down, inhibited: weight 0; first down: removed.
        let t = desired(&c, &|_, r| (r == 0, [3, 1][r]), &|_| true);
        let s = only(&t);
        let w: Vec<u32> = s.dests.values().map(|d| d.weight).collect();
        assert_eq!(w, vec![3, 0]);
        let t = desired(&c, &|_, r| (r == 1, [3, 1][r]), &|_| true);
        assert_eq!(only(&t).dests.len(), 1);
    }

    #[test]
    fn quorum_lost_brings_sorry_server() {
        let c = cfg(VS);
        let vs = &c.virtual_servers[0];
        let st = |r: usize| (r == 1, [3, 1][r]);
        assert_eq!(up_weight(vs, &st), 1);
        assert!(!quorum_met(
            true,
            up_weight(vs, &st),
            vs.quorum,
            vs.hysteresis
        ));
        let t = desired(&c, &|_, r| st(r), &|_| false);
        let s = only(&t);
        // The sorry server in; the live inhibited server brought down to weight 0.
        assert_eq!(s.dests.len(), 2);
        let w: Vec<u32> = s.dests.values().map(|d| d.weight).collect();
        assert_eq!(w, vec![1, 0]);
        let (k, d) = s.dests.iter().next().unwrap();
        assert_eq!(k.addr, "10.0.0.99".parse::<IpAddr>().unwrap());
        assert_eq!(k.port, 80);
        assert_eq!(d.weight, 1);
        assert_eq!(d.forward, Forward::Direct);
    }

    #[test]
    fn quorum_lost_without_sorry_server_keeps_live_servers() {
        let c = cfg(&VS.replace(" sorry_server 10.0.0.99 80\n", ""));
        let t = desired(&c, &|_, r| (r == 1, [3, 1][r]), &|_| false);
        let w: Vec<u32> = only(&t).dests.values().map(|d| d.weight).collect();
        assert_eq!(w, vec![1]);
    }

    #[test]
    fn sorry_inhibit_and_method() {
        let c = cfg(&VS.replace(
            " quorum 2\n",
            " quorum 2\n sorry_server_inhibit\n sorry_server_lvs_method NAT\n",
        ));
        let t = desired(&c, &|_, r| (true, [3, 1][r]), &|_| true);
        let s = only(&t);
        assert_eq!(s.dests.len(), 3);
        let sorry = s
            .dests
            .get(&DestKey {
                addr: "10.0.0.99".parse().unwrap(),
                port: 80,
            })
            .unwrap();
        assert_eq!((sorry.weight, sorry.forward), (0, Forward::Masq));
    }

    #[test]
    fn fwmark_and_group() {
        let c = cfg("virtual_server_group G {\n 10.0.0.1-3 80\n fwmark 7\n}\n\
            virtual_server group G {\n ops\n lb_kind NAT\n lb_algo sh\n sh-port\n protocol UDP\n \
            real_server 192.168.1.2 80 {\n }\n}\n\
            virtual_server fwmark 9 {\n lb_kind DR\n lb_algo rr\n real_server 192.168.1.5 {\n }\n}\n");
        let t = desired(&c, &|_, _| (true, 1), &|_| true);
        assert_eq!(t.len(), 5);
        let k = ServiceKey::Addr {
            proto: Proto::Udp,
            addr: "10.0.0.2".parse().unwrap(),
            port: 80,
        };
        let s = &t[&k];
        assert_eq!(s.attrs.flags, SVC_F_ONEPACKET | SVC_F_SCHED2);
        let f = &t[&ServiceKey::Fwmark {
            family: Af::Inet,
            mark: 9,
        }];
        assert_eq!(f.dests.keys().next().unwrap().port, 0);
    }
}
