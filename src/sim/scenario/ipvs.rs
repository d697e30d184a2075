//! IPVS in the scenario language: the operator's `ipvsadm` lines (on a host, what its
//! kernel holds before the run; on the timeline, an edit at that time), and the
//! predicates about the simulated kernel's table and sync daemons:
//!
//! ```text
//! expect 5s r1 ipvs has 10.0.0.10:80 -> 192.168.1.2:80 [weight 3] [nat|dr|tun [ipip|gue|gre]]
//!                                                      [uthreshold N] [lthreshold N]
//! expect 5s r1 ipvs lacks udp 10.0.0.10:53 -> 192.168.1.2:53
//! expect 5s r1 ipvs has service fwmark 7 [sched wrr] [persistent 50] [netmask M] [pe sip|none]
//!                                         [ops] [flag-1]
//! expect 5s r1 ipvs lacks service [2001:db8::10]:80
//! expect 5s r1 ipvs services 2          # number of services in the table
//! expect 5s r1 ipvs dests 10.0.0.10:80 3
//! expect 5s r1 ipvs sync master eth0 [id 5] [maxlen N] [port N] [ttl N] [group IP]
//! expect 5s r1 ipvs no sync [master|backup]
//! expect 5s r1 ipvs adds|edits|deletes|changes [service] [SVC [-> DEST]]   # events
//! expect 5s r1 ipvs refuses [service] [SVC [-> DEST]]
//! expect 5s r1 ipvs reads
//! expect 5s r1 ipvs starts|stops sync [master|backup] [IFACE] [id N]
//! expect 5s r1 ipvs timeouts [tcp S] [tcpfin S] [udp S]   # the kernel's connection timeouts
//! expect 5s r1 ipvs sets timeouts [tcp S] [tcpfin S] [udp S]  # event: lvs_timeouts sent
//! ```
//!
//! Services are written `10.0.0.10:80` (TCP), `udp 10.0.0.10:53`, `sctp ...`,
//! `[2001:db8::10]:80`, `fwmark 7`, `fwmark 7 ipv6`; destinations `192.168.1.2:80` or,
//! without a port (fwmark services), `192.168.1.2`.

use super::{ParseError, Words};
use crate::ipvs::diff::Op;
use crate::ipvs::model::{
    Af, DestAttrs, DestKey, Forward, Proto, ServiceAttrs, ServiceKey, SyncDaemon, SVC_F_ONEPACKET,
    SVC_F_PERSISTENT, SVC_F_SCHED1, SVC_F_SCHED2, SVC_F_SCHED3, SYNC_BACKUP, SYNC_MASTER,
};
use crate::sim::ipvs::{self as kipvs, SimIpvs};
use crate::sim::trace::Rec;
use std::net::{IpAddr, Ipv4Addr};

/// What a destination predicate asks of the destination's attributes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DestWant {
    pub weight: Option<u32>,
    /// The forwarding method (`IP_VS_CONN_F_*` value) and, for a tunnel, its type if given.
    pub forward: Option<(u32, Option<u16>)>,
    pub u_threshold: Option<u32>,
    pub l_threshold: Option<u32>,
}

/// What a service predicate asks of the service's attributes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SvcWant {
    pub sched: Option<String>,
    /// `persistent T` (0: not persistent).
    pub persistent: Option<u32>,
    pub netmask: Option<u32>,
    /// `pe NAME` (`Some(None)`: `pe none`, no persistence engine).
    pub pe: Option<Option<String>>,
    /// `IP_VS_SVC_F_*` bits that must be set (`ops`, `flag-1`...).
    pub flags: u32,
}

/// Connection timeouts a predicate names (seconds; absent ones are not compared).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TimeoutsWant {
    pub tcp: Option<u32>,
    pub tcpfin: Option<u32>,
    pub udp: Option<u32>,
}

impl TimeoutsWant {
    /// Whether the given values (a kernel's, or an action's) match.
    fn accepts(&self, tcp: Option<u32>, tcpfin: Option<u32>, udp: Option<u32>) -> bool {
        self.tcp.map_or(true, |x| Some(x) == tcp)
            && self.tcpfin.map_or(true, |x| Some(x) == tcpfin)
            && self.udp.map_or(true, |x| Some(x) == udp)
    }
}

/// What a sync daemon predicate asks of a daemon (besides its state).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncWant {
    pub ifname: Option<String>,
    pub syncid: Option<u32>,
    pub maxlen: Option<u16>,
    pub port: Option<u16>,
    pub ttl: Option<u8>,
    pub group: Option<IpAddr>,
}

impl SyncWant {
    fn accepts(&self, d: &SyncDaemon) -> bool {
        self.ifname.as_ref().map_or(true, |x| *x == d.ifname)
            && self.syncid.map_or(true, |x| x == d.syncid)
            && self.maxlen.map_or(true, |x| Some(x) == d.maxlen)
            && self.port.map_or(true, |x| Some(x) == d.port)
            && self.ttl.map_or(true, |x| Some(x) == d.ttl)
            && self.group.map_or(true, |x| Some(x) == d.group)
    }
}

/// An operation kind for the event predicates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    Add,
    Edit,
    Del,
}

/// A predicate about a host's IPVS (`expect ... HOST ipvs ...`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IpvsPred {
    /// The table holds (`has`) or does not hold this destination of this service.
    Dest {
        has: bool,
        svc: ServiceKey,
        dest: DestKey,
        want: DestWant,
    },
    /// The table holds (`has`) or does not hold this service.
    Service {
        has: bool,
        svc: ServiceKey,
        want: SvcWant,
    },
    /// The table has exactly this many services.
    Services(usize),
    /// This service has exactly this many destinations.
    Dests(ServiceKey, usize),
    /// A sync daemon of this state runs (with these parameters).
    Sync { state: u32, want: SyncWant },
    /// No sync daemon (of this state) runs.
    NoSync(Option<u32>),
    /// Event: the engine's operation of this kind (any: None) on this service / destination
    /// was applied (`refused`: was refused by the kernel).
    Op {
        kind: Option<OpKind>,
        refused: bool,
        /// Only operations on services (not on their destinations).
        service_only: bool,
        svc: Option<ServiceKey>,
        dest: Option<DestKey>,
    },
    /// Event: the engine read the kernel's table.
    Read,
    /// Event: a sync daemon was started (`start`) or stopped.
    Daemon {
        start: bool,
        state: Option<u32>,
        want: SyncWant,
    },
    /// The kernel's connection timeouts are these.
    Timeouts(TimeoutsWant),
    /// Event: the engine set the connection timeouts (applied), with these values.
    SetsTimeouts(TimeoutsWant),
}

impl IpvsPred {
    /// Whether it is matched against trace events (else it is a state of the table).
    pub fn is_event(&self) -> bool {
        matches!(
            self,
            IpvsPred::Op { .. }
                | IpvsPred::Read
                | IpvsPred::Daemon { .. }
                | IpvsPred::SetsTimeouts(_)
        )
    }

    /// Whether the trace record is an occurrence of this event predicate.
    pub fn matches(&self, rec: &Rec) -> bool {
        match (self, rec) {
            (
                IpvsPred::Op {
                    kind,
                    refused,
                    service_only,
                    svc,
                    dest,
                },
                Rec::Ipvs {
                    op,
                    operator: false,
                    refused: r,
                },
            ) => {
                let k = match op {
                    Op::AddService(..) | Op::AddDest(..) => OpKind::Add,
                    Op::EditService(..) | Op::EditDest(..) => OpKind::Edit,
                    Op::DelService(..) | Op::DelDest(..) => OpKind::Del,
                };
                let (s, d) = kipvs::op_target(op);
                r.is_some() == *refused
                    && kind.map_or(true, |x| x == k)
                    && (!service_only || d.is_none())
                    && svc.map_or(true, |x| x == s)
                    && dest.map_or(true, |x| d == Some(x))
            }
            (IpvsPred::Read, Rec::IpvsRead { .. }) => true,
            (
                IpvsPred::Daemon { start, state, want },
                Rec::IpvsSync {
                    start: s,
                    daemon,
                    refused: None,
                },
            ) => start == s && state.map_or(true, |x| x == daemon.state) && want.accepts(daemon),
            (
                IpvsPred::SetsTimeouts(want),
                Rec::IpvsTimeouts {
                    tcp,
                    tcpfin,
                    udp,
                    refused: None,
                },
            ) => want.accepts(*tcp, *tcpfin, *udp),
            _ => false,
        }
    }

    /// Whether the state predicate holds of the kernel's IPVS as replayed from the trace;
    /// Err: what the table (or the daemons) says instead.
    pub fn holds(&self, k: &SimIpvs) -> Result<(), String> {
        let ok = match self {
            IpvsPred::Dest {
                has,
                svc,
                dest,
                want,
            } => {
                let found = k.table.get(svc).and_then(|s| s.dests.get(dest));
                match found {
                    Some(a) => *has && dest_ok(want, a),
                    None => !*has,
                }
            }
            IpvsPred::Service { has, svc, want } => match k.table.get(svc) {
                Some(s) => *has && svc_ok(want, &s.attrs),
                None => !*has,
            },
            IpvsPred::Services(n) => k.table.len() == *n,
            IpvsPred::Dests(svc, n) => k.table.get(svc).map_or(0, |s| s.dests.len()) == *n,
            IpvsPred::Sync { state, want } => k
                .daemons
                .iter()
                .any(|d| d.state == *state && want.accepts(d)),
            IpvsPred::NoSync(state) => !k
                .daemons
                .iter()
                .any(|d| state.map_or(true, |s| s == d.state)),
            IpvsPred::Timeouts(want) => {
                let t = &k.timeouts;
                want.accepts(Some(t.tcp), Some(t.tcpfin), Some(t.udp))
            }
            _ => return Err("not a state predicate".into()),
        };
        if ok {
            return Ok(());
        }
        Err(match self {
            IpvsPred::Sync { .. } | IpvsPred::NoSync(_) if k.daemons.is_empty() => {
                "no sync daemon runs".into()
            }
            IpvsPred::Sync { .. } | IpvsPred::NoSync(_) => {
                let v: Vec<String> = k.daemons.iter().map(kipvs::daemon_text).collect();
                format!("sync daemons: {}", v.join("; "))
            }
            IpvsPred::Timeouts(_) => {
                let t = &k.timeouts;
                format!(
                    "the kernel's timeouts are {}",
                    kipvs::timeouts_text(Some(t.tcp), Some(t.tcpfin), Some(t.udp))
                )
            }
            _ => format!("the IPVS table is:\n{}", kipvs::table_text(&k.table)),
        })
    }
}

fn dest_ok(w: &DestWant, a: &DestAttrs) -> bool {
    let kind = match a.forward {
        Forward::Tunnel { kind, .. } => Some(kind),
        _ => None,
    };
    w.weight.map_or(true, |x| x == a.weight)
        && w.forward.map_or(true, |(f, t)| {
            f == a.forward.conn_flags() && t.map_or(true, |t| Some(t) == kind)
        })
        && w.u_threshold.map_or(true, |x| x == a.u_threshold)
        && w.l_threshold.map_or(true, |x| x == a.l_threshold)
}

fn svc_ok(w: &SvcWant, a: &ServiceAttrs) -> bool {
    let timeout = if a.flags & SVC_F_PERSISTENT != 0 {
        a.timeout
    } else {
        0
    };
    w.sched.as_ref().map_or(true, |s| *s == a.sched)
        && w.persistent.map_or(true, |t| t == timeout)
        && w.netmask.map_or(true, |m| m == a.netmask)
        && w.pe.as_ref().map_or(true, |p| *p == a.pe_name)
        && a.flags & w.flags == w.flags
}

/// `IP:PORT`, `[IPv6]:PORT`, or an address alone (port 0).
fn sock(s: &str) -> Option<(IpAddr, u16)> {
    if let Some(rest) = s.strip_prefix('[') {
        return match rest.split_once("]:") {
            Some((a, p)) => Some((a.parse().ok()?, p.parse().ok()?)),
            None => Some((rest.strip_suffix(']')?.parse().ok()?, 0)),
        };
    }
    if let Ok(a) = s.parse::<IpAddr>() {
        return Some((a, 0));
    }
    let (a, p) = s.rsplit_once(':')?;
    Some((IpAddr::V4(a.parse().ok()?), p.parse().ok()?))
}

fn sock_word(w: &mut Words, what: &str) -> Result<(IpAddr, u16), ParseError> {
    let s = w.next(what)?;
    sock(s).map_or_else(
        || {
            w.err(format!(
                "`{s}` is not an address and port like 10.0.0.10:80 or [2001:db8::10]:80"
            ))
        },
        Ok,
    )
}

/// A service: `[tcp|udp|sctp] ADDR:PORT` or `fwmark N [ipv6]`.
pub fn service(w: &mut Words) -> Result<ServiceKey, ParseError> {
    let proto = match w.peek() {
        Some("fwmark") => {
            w.pos += 1;
            let mark = w.num("a firewall mark")?;
            let family = if w.eat("ipv6") || w.eat("inet6") {
                Af::Inet6
            } else {
                w.eat("ipv4");
                w.eat("inet");
                Af::Inet
            };
            return Ok(ServiceKey::Fwmark { family, mark });
        }
        Some("tcp") | Some("TCP") => Proto::Tcp,
        Some("udp") | Some("UDP") => Proto::Udp,
        Some("sctp") | Some("SCTP") => Proto::Sctp,
        _ => {
            let (addr, port) = sock_word(w, "a service like 10.0.0.10:80 or fwmark 7")?;
            return Ok(ServiceKey::Addr {
                proto: Proto::Tcp,
                addr,
                port,
            });
        }
    };
    w.pos += 1;
    let (addr, port) = sock_word(w, "the service's address and port")?;
    Ok(ServiceKey::Addr { proto, addr, port })
}

fn dest(w: &mut Words) -> Result<DestKey, ParseError> {
    let (addr, port) = sock_word(w, "a destination like 192.168.1.2:80")?;
    Ok(DestKey { addr, port })
}

/// `SVC -> DEST` or `SVC` (then None).
fn target(w: &mut Words) -> Result<(ServiceKey, Option<DestKey>), ParseError> {
    let svc = service(w)?;
    if w.eat("->") {
        let d = dest(w)?;
        return Ok((svc, Some(d)));
    }
    Ok((svc, None))
}

fn forward(w: &mut Words, word: &str) -> Result<Option<(u32, Option<u16>)>, ParseError> {
    Ok(Some(match word {
        "nat" | "NAT" | "masq" => (0, None),
        "dr" | "DR" | "route" | "droute" => (3, None),
        "tun" | "TUN" | "tunnel" => {
            let t = match w.peek() {
                Some("ipip") => Some(0),
                Some("gue") => Some(1),
                Some("gre") => Some(2),
                _ => None,
            };
            if t.is_some() {
                w.pos += 1;
            }
            (2, t)
        }
        _ => return Ok(None),
    }))
}

fn dest_want(w: &mut Words) -> Result<DestWant, ParseError> {
    let mut want = DestWant::default();
    while let Some(k) = w.peek().filter(|k| *k != "between") {
        w.pos += 1;
        match k {
            "weight" => want.weight = Some(w.num("a weight")?),
            "uthreshold" => want.u_threshold = Some(w.num("a threshold")?),
            "lthreshold" => want.l_threshold = Some(w.num("a threshold")?),
            x => match forward(w, x)? {
                Some(f) => want.forward = Some(f),
                None => {
                    return w.err(format!(
                        "`{x}`: expected weight N, nat, dr, tun [ipip|gue|gre], uthreshold N or lthreshold N"
                    ))
                }
            },
        }
    }
    Ok(want)
}

fn netmask(w: &mut Words, family: Af) -> Result<u32, ParseError> {
    let s = w.next("a netmask (255.255.255.0, or an IPv6 prefix length)")?;
    let v = match family {
        Af::Inet => s.parse::<Ipv4Addr>().ok().map(u32::from),
        Af::Inet6 => s.parse::<u32>().ok().filter(|p| *p <= 128),
    };
    v.map_or_else(
        || w.err(format!("`{s}` is not a netmask for this family")),
        Ok,
    )
}

fn flag_bit(word: &str) -> Option<u32> {
    Some(match word {
        "ops" => SVC_F_ONEPACKET,
        "flag-1" => SVC_F_SCHED1,
        "flag-2" => SVC_F_SCHED2,
        "flag-3" => SVC_F_SCHED3,
        _ => return None,
    })
}

fn svc_want(w: &mut Words, family: Af) -> Result<SvcWant, ParseError> {
    let mut want = SvcWant::default();
    while let Some(k) = w.peek().filter(|k| *k != "between") {
        w.pos += 1;
        match k {
            "sched" => want.sched = Some(w.ident("a scheduler")?),
            "persistent" => want.persistent = Some(w.num("a persistence timeout")?),
            "netmask" => want.netmask = Some(netmask(w, family)?),
            "pe" => {
                let pe = w.ident("a persistence engine (sip) or none")?;
                want.pe = Some((pe != "none").then_some(pe));
            }
            x => match flag_bit(x) {
                Some(b) => want.flags |= b,
                None => {
                    return w.err(format!(
                    "`{x}`: expected sched S, persistent T, netmask M, pe NAME, ops or flag-1..3"
                ))
                }
            },
        }
    }
    Ok(want)
}

fn sync_state(w: &mut Words) -> Option<u32> {
    if w.eat("master") {
        Some(SYNC_MASTER)
    } else if w.eat("backup") {
        Some(SYNC_BACKUP)
    } else {
        None
    }
}

/// `[IFACE] [id N] [maxlen N] [port N] [ttl N] [group IP]` after a sync daemon's state.
fn sync_rest(w: &mut Words) -> Result<SyncWant, ParseError> {
    let mut want = SyncWant::default();
    while let Some(k) = w.peek().filter(|k| *k != "between") {
        w.pos += 1;
        match k {
            "id" | "syncid" => want.syncid = Some(w.num("a sync id")?),
            "maxlen" => want.maxlen = Some(w.num("a maximum length")?),
            "port" => want.port = Some(w.num("a port")?),
            "ttl" => want.ttl = Some(w.num("a TTL")?),
            "group" => want.group = Some(w.ip()?),
            _ if want.ifname.is_none() => want.ifname = Some(k.to_string()),
            _ => {
                return w.err(format!(
                    "`{k}`: expected id N, maxlen N, port N, ttl N or group IP"
                ))
            }
        }
    }
    Ok(want)
}

/// `[tcp S] [tcpfin S] [udp S]`.
fn timeouts_want(w: &mut Words) -> Result<TimeoutsWant, ParseError> {
    let mut want = TimeoutsWant::default();
    while let Some(k) = w.peek().filter(|k| *k != "between") {
        w.pos += 1;
        match k {
            "tcp" => want.tcp = Some(w.num("a TCP timeout in seconds")?),
            "tcpfin" => want.tcpfin = Some(w.num("a TCP FIN timeout in seconds")?),
            "udp" => want.udp = Some(w.num("a UDP timeout in seconds")?),
            x => return w.err(format!("`{x}`: expected tcp S, tcpfin S or udp S")),
        }
    }
    Ok(want)
}

/// The words after `ipvs` in an expectation.
pub fn predicate(w: &mut Words) -> Result<IpvsPred, ParseError> {
    let verb = w.next(
        "has, lacks, services, dests, sync, no sync, adds, edits, deletes, changes, refuses, reads, starts, stops, timeouts or sets timeouts",
    )?;
    Ok(match verb {
        "has" | "lacks" => {
            let has = verb == "has";
            if w.eat("service") {
                let svc = service(w)?;
                let want = if has {
                    svc_want(w, svc.family())?
                } else {
                    SvcWant::default()
                };
                IpvsPred::Service { has, svc, want }
            } else {
                let svc = service(w)?;
                if !w.eat("->") {
                    return w.err(format!(
                        "write `ipvs {verb} SERVICE -> DESTINATION` or `ipvs {verb} service SERVICE`"
                    ));
                }
                let dest = dest(w)?;
                let want = if has {
                    dest_want(w)?
                } else {
                    DestWant::default()
                };
                IpvsPred::Dest {
                    has,
                    svc,
                    dest,
                    want,
                }
            }
        }
        "services" => IpvsPred::Services(w.num("a number of services")?),
        "dests" | "destinations" => {
            let svc = service(w)?;
            IpvsPred::Dests(svc, w.num("a number of destinations")?)
        }
        "sync" => {
            let Some(state) = sync_state(w) else {
                return w.err("write `ipvs sync master|backup [IFACE] [id N]`");
            };
            IpvsPred::Sync {
                state,
                want: sync_rest(w)?,
            }
        }
        "no" => {
            if !w.eat("sync") {
                return w.err("write `ipvs no sync [master|backup]`");
            }
            IpvsPred::NoSync(sync_state(w))
        }
        "adds" | "edits" | "deletes" | "changes" | "refuses" => {
            let kind = match verb {
                "adds" => Some(OpKind::Add),
                "edits" => Some(OpKind::Edit),
                "deletes" => Some(OpKind::Del),
                _ => None,
            };
            let service_only = w.eat("service");
            let (svc, dest) = match w.peek() {
                None | Some("between") => (None, None),
                Some(_) => {
                    let (s, d) = target(w)?;
                    if service_only && d.is_some() {
                        return w.err("`service` names a service, not a destination");
                    }
                    (Some(s), d)
                }
            };
            IpvsPred::Op {
                kind,
                refused: verb == "refuses",
                service_only,
                svc,
                dest,
            }
        }
        "reads" | "read" => IpvsPred::Read,
        "timeouts" => IpvsPred::Timeouts(timeouts_want(w)?),
        "sets" => {
            if !w.eat("timeouts") {
                return w.err("write `ipvs sets timeouts [tcp S] [tcpfin S] [udp S]`");
            }
            IpvsPred::SetsTimeouts(timeouts_want(w)?)
        }
        "starts" | "stops" => {
            if !w.eat("sync") {
                return w.err(format!("write `ipvs {verb} sync [master|backup] [IFACE] [id N]`"));
            }
            let state = sync_state(w);
            IpvsPred::Daemon {
                start: verb == "starts",
                state,
                want: sync_rest(w)?,
            }
        }
        x => {
            return w.err(format!(
                "`ipvs {x}`: expected has, lacks, services, dests, sync, no sync, adds, edits, deletes, changes, refuses, reads, starts, stops, timeouts or sets timeouts"
            ))
        }
    })
}

/// An operator's `ipvsadm add|edit|del service SVC [sched S] [persistent T] [netmask M]
/// [pe NAME] [ops] [flag-N]` or `ipvsadm add|edit|del SVC -> DEST [weight N] [nat|dr|tun ...]
/// [uthreshold N] [lthreshold N]` (the words after `ipvsadm`). Defaults are ipvsadm's:
/// scheduler wlc, weight 1, direct routing.
pub fn ipvsadm(w: &mut Words) -> Result<Op, ParseError> {
    let kind = match w.next("add, edit or del")? {
        "add" | "-A" | "-a" => OpKind::Add,
        "edit" | "-E" | "-e" => OpKind::Edit,
        "del" | "delete" | "-D" | "-d" => OpKind::Del,
        x => return w.err(format!("`ipvsadm {x}`: expected add, edit or del")),
    };
    if w.eat("service") {
        let svc = service(w)?;
        let family = svc.family();
        let mut a = ServiceAttrs {
            sched: "wlc".into(),
            flags: 0,
            timeout: 0,
            netmask: kipvs::default_netmask(family),
            pe_name: None,
        };
        if kind == OpKind::Del {
            w.end()?;
            return Ok(Op::DelService(svc));
        }
        while let Some(k) = w.peek() {
            w.pos += 1;
            match k {
                "sched" => a.sched = w.ident("a scheduler")?,
                "persistent" => {
                    a.timeout = w.num("a persistence timeout")?;
                    if a.timeout > 0 {
                        a.flags |= SVC_F_PERSISTENT;
                    } else {
                        a.flags &= !SVC_F_PERSISTENT;
                    }
                }
                "netmask" => a.netmask = netmask(w, family)?,
                "pe" => a.pe_name = Some(w.ident("a persistence engine (sip)")?),
                x => match flag_bit(x) {
                    Some(b) => a.flags |= b,
                    None => {
                        return w.err(format!(
                            "`{x}`: expected sched S, persistent T, netmask M, pe NAME, ops or flag-1..3"
                        ))
                    }
                },
            }
        }
        return Ok(match kind {
            OpKind::Add => Op::AddService(svc, a),
            _ => Op::EditService(svc, a),
        });
    }
    let svc = service(w)?;
    if !w.eat("->") {
        return w.err(
            "write `ipvsadm add service SERVICE ...` or `ipvsadm add SERVICE -> DESTINATION ...`",
        );
    }
    let d = dest(w)?;
    if kind == OpKind::Del {
        w.end()?;
        return Ok(Op::DelDest(svc, d));
    }
    let mut a = DestAttrs {
        forward: Forward::Direct,
        weight: 1,
        u_threshold: 0,
        l_threshold: 0,
    };
    while let Some(k) = w.peek() {
        w.pos += 1;
        match k {
            "weight" => a.weight = w.num("a weight")?,
            "uthreshold" => a.u_threshold = w.num("a threshold")?,
            "lthreshold" => a.l_threshold = w.num("a threshold")?,
            x => match forward(w, x)? {
                Some((0, _)) => a.forward = Forward::Masq,
                Some((3, _)) => a.forward = Forward::Direct,
                Some((_, t)) => {
                    a.forward = Forward::Tunnel {
                        kind: t.unwrap_or(0),
                        port: 0,
                        flags: 0,
                    }
                }
                None => {
                    return w.err(format!(
                        "`{x}`: expected weight N, nat, dr, tun [ipip|gre], uthreshold N or lthreshold N"
                    ))
                }
            },
        }
    }
    Ok(match kind {
        OpKind::Add => Op::AddDest(svc, d, a),
        _ => Op::EditDest(svc, d, a),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn pred(s: &str) -> Result<IpvsPred, ParseError> {
        let v = words(s);
        let mut w = Words {
            w: &v,
            pos: 0,
            line: 7,
        };
        let p = predicate(&mut w)?;
        w.end()?;
        Ok(p)
    }

    fn adm(s: &str) -> Result<Op, ParseError> {
        let v = words(s);
        let mut w = Words {
            w: &v,
            pos: 0,
            line: 3,
        };
        ipvsadm(&mut w)
    }

    fn tcp(a: &str, port: u16) -> ServiceKey {
        ServiceKey::Addr {
            proto: Proto::Tcp,
            addr: a.parse().unwrap(),
            port,
        }
    }

    #[test]
    fn services_and_destinations() {
        assert_eq!(
            pred("has 10.0.0.10:80 -> 192.168.1.2:80 weight 3 dr").unwrap(),
            IpvsPred::Dest {
                has: true,
                svc: tcp("10.0.0.10", 80),
                dest: DestKey {
                    addr: "192.168.1.2".parse().unwrap(),
                    port: 80
                },
                want: DestWant {
                    weight: Some(3),
                    forward: Some((3, None)),
                    ..DestWant::default()
                }
            }
        );
        let IpvsPred::Dest { svc, dest, .. } =
            pred("lacks udp [2001:db8::10]:53 -> [2001:db8::2]:53").unwrap()
        else {
            panic!()
        };
        assert_eq!(
            svc,
            ServiceKey::Addr {
                proto: Proto::Udp,
                addr: "2001:db8::10".parse().unwrap(),
                port: 53
            }
        );
        assert_eq!(dest.port, 53);
        let IpvsPred::Dest {
            svc, dest, want, ..
        } = pred("has fwmark 7 ipv6 -> 2001:db8::5 tun gue").unwrap()
        else {
            panic!()
        };
        assert_eq!(
            svc,
            ServiceKey::Fwmark {
                family: Af::Inet6,
                mark: 7
            }
        );
        assert_eq!((dest.port, want.forward), (0, Some((2, Some(1)))));
        assert_eq!(
            pred("has service sctp 10.0.0.10:80 sched wrr persistent 50 netmask 255.255.255.0 ops")
                .unwrap(),
            IpvsPred::Service {
                has: true,
                svc: ServiceKey::Addr {
                    proto: Proto::Sctp,
                    addr: "10.0.0.10".parse().unwrap(),
                    port: 80
                },
                want: SvcWant {
                    sched: Some("wrr".into()),
                    persistent: Some(50),
                    netmask: Some(0xffff_ff00),
                    pe: None,
                    flags: SVC_F_ONEPACKET,
                }
            }
        );
        assert_eq!(pred("services 2").unwrap(), IpvsPred::Services(2));
        assert_eq!(
            pred("dests fwmark 9 3").unwrap(),
            IpvsPred::Dests(
                ServiceKey::Fwmark {
                    family: Af::Inet,
                    mark: 9
                },
                3
            )
        );
    }

    #[test]
    fn sync_and_events() {
        assert_eq!(
            pred("sync master eth0 id 5 maxlen 1400 port 8848 ttl 2 group 224.0.0.81").unwrap(),
            IpvsPred::Sync {
                state: SYNC_MASTER,
                want: SyncWant {
                    ifname: Some("eth0".into()),
                    syncid: Some(5),
                    maxlen: Some(1400),
                    port: Some(8848),
                    ttl: Some(2),
                    group: Some("224.0.0.81".parse().unwrap()),
                }
            }
        );
        assert_eq!(pred("no sync").unwrap(), IpvsPred::NoSync(None));
        assert_eq!(
            pred("no sync backup").unwrap(),
            IpvsPred::NoSync(Some(SYNC_BACKUP))
        );
        assert_eq!(
            pred("edits 10.0.0.10:80 -> 192.168.1.2:80").unwrap(),
            IpvsPred::Op {
                kind: Some(OpKind::Edit),
                refused: false,
                service_only: false,
                svc: Some(tcp("10.0.0.10", 80)),
                dest: Some(DestKey {
                    addr: "192.168.1.2".parse().unwrap(),
                    port: 80
                }),
            }
        );
        assert_eq!(
            pred("changes").unwrap(),
            IpvsPred::Op {
                kind: None,
                refused: false,
                service_only: false,
                svc: None,
                dest: None
            }
        );
        assert!(matches!(
            pred("deletes service 10.0.0.10:80").unwrap(),
            IpvsPred::Op {
                service_only: true,
                ..
            }
        ));
        assert_eq!(pred("reads").unwrap(), IpvsPred::Read);
        let t = TimeoutsWant {
            tcp: Some(900),
            tcpfin: None,
            udp: Some(30),
        };
        assert_eq!(
            pred("timeouts tcp 900 udp 30").unwrap(),
            IpvsPred::Timeouts(t.clone())
        );
        let sets = pred("sets timeouts tcp 900 udp 30").unwrap();
        assert!(sets.is_event() && !pred("timeouts").unwrap().is_event());
        let rec = |tcpfin, refused: Option<String>| Rec::IpvsTimeouts {
            tcp: Some(900),
            tcpfin,
            udp: Some(30),
            refused,
        };
        assert!(sets.matches(&rec(Some(5), None)));
        assert!(!sets.matches(&rec(None, Some("EPERM".into()))));
        assert!(!pred("sets timeouts tcp 901")
            .unwrap()
            .matches(&rec(None, None)));
        assert!(matches!(
            pred("has service 10.0.0.10:80 pe sip").unwrap(),
            IpvsPred::Service { want: SvcWant { pe: Some(Some(ref p)), .. }, .. } if p == "sip"
        ));
        assert!(matches!(
            pred("stops sync backup").unwrap(),
            IpvsPred::Daemon {
                start: false,
                state: Some(SYNC_BACKUP),
                ..
            }
        ));
    }

    #[test]
    fn bad_predicates_are_located() {
        for (text, want) in [
            ("has 10.0.0.10:80", "SERVICE -> DESTINATION"),
            ("has 10.0.0.10:80 -> 192.168.1.2:x", "192.168.1.2:x"),
            ("has 10.0.0.10:80 -> 192.168.1.2:80 heavy 3", "heavy"),
            ("has service 10.0.0.10:80 sched", "scheduler"),
            ("has service [2001:db8::1]:80 netmask 255.0.0.0", "netmask"),
            ("sync eth0", "master|backup"),
            ("sync master eth0 eth1", "expected id N"),
            ("sync master eth0 ttl 300", "300"),
            ("no daemons", "no sync"),
            ("dances", "ipvs dances"),
            (
                "deletes service 10.0.0.10:80 -> 1.2.3.4:80",
                "not a destination",
            ),
            ("fwmark", "expected"),
            ("services many", "many"),
            ("timeouts tcp 900 sctp 5", "sctp"),
            ("sets tcp 900", "sets timeouts"),
            ("has service 10.0.0.10:80 pe", "persistence engine"),
        ] {
            let e = pred(text).unwrap_err();
            assert_eq!(e.line, 7);
            assert!(e.message.contains(want), "{text}: {}", e.message);
        }
    }

    #[test]
    fn whole_files_locate_ipvs_errors() {
        let head = "segment lan\nhost r1\n  iface eth0 lan 10.0.0.1/24\n";
        let conf = "  config <<END\nx\nEND\n";
        let at = |extra_host: &str, tail: &str| {
            super::super::parse(&format!("{head}{extra_host}{conf}{tail}")).unwrap_err()
        };
        let e = at("", "expect 1s r1 ipvs has 10.0.0.10:80\n");
        assert_eq!(e.line, 7, "{e}");
        assert!(e.message.contains("SERVICE -> DESTINATION"), "{e}");
        let e = at("  ipvsadm add service 10.0.0.10:http\n", "");
        assert_eq!(e.line, 4, "{e}");
        assert!(e.message.contains("10.0.0.10:http"), "{e}");
        let e = at("  no vrrp\n", "");
        assert_eq!((e.line, e.message.contains("no ipvs")), (4, true), "{e}");
        let e = at("  cli -P\n", "");
        assert_eq!((e.line, e.message.contains("-P")), (4, true), "{e}");
        let e = at("", "at 5s r1 ipvsadm flush\n");
        assert_eq!(
            (e.line, e.message.contains("add, edit or del")),
            (7, true),
            "{e}"
        );
        let e = at("", "at 5s r9 ipvsadm del service fwmark 1\n");
        assert!(e.message.contains("r9"), "{e}");
        let sc = super::super::parse(&format!(
            "{head}  no ipvs\n  cli -I --release-vips\n  ipvsadm add service fwmark 1\n{conf}"
        ))
        .unwrap();
        let h = &sc.hosts[0];
        assert!(!h.ipvs && h.cli.dont_release_ipvs && h.cli.release_vips);
        assert_eq!(h.ipvsadm.len(), 1);
    }

    #[test]
    fn ipvsadm_lines() {
        let Op::AddService(k, a) = adm("add service 10.0.0.20:80 sched rr persistent 30").unwrap()
        else {
            panic!()
        };
        assert_eq!(k, tcp("10.0.0.20", 80));
        assert_eq!(
            (a.sched.as_str(), a.flags, a.timeout),
            ("rr", SVC_F_PERSISTENT, 30)
        );
        let Op::AddDest(_, d, a) =
            adm("add 10.0.0.20:80 -> 192.168.1.9:8080 weight 4 nat").unwrap()
        else {
            panic!()
        };
        assert_eq!((d.port, a.weight, a.forward), (8080, 4, Forward::Masq));
        let Op::AddDest(_, _, a) = adm("add 10.0.0.20:80 -> 192.168.1.9:80").unwrap() else {
            panic!()
        };
        assert_eq!((a.weight, a.forward), (1, Forward::Direct));
        assert!(matches!(
            adm("del service fwmark 3").unwrap(),
            Op::DelService(ServiceKey::Fwmark { mark: 3, .. })
        ));
        assert!(matches!(
            adm("edit 10.0.0.20:80 -> 192.168.1.9:80 weight 0").unwrap(),
            Op::EditDest(..)
        ));
        let e = adm("flush").unwrap_err();
        assert!(e.message.contains("add, edit or del"), "{e}");
        let e = adm("add 10.0.0.20:80").unwrap_err();
        assert_eq!(e.line, 3);
    }

    #[test]
    fn predicates_against_a_table() {
        let mut k = SimIpvs::new(true);
        for l in [
            "add service 10.0.0.10:80 sched wrr persistent 50",
            "add 10.0.0.10:80 -> 192.168.1.2:80 weight 3",
            "add 10.0.0.10:80 -> 192.168.1.3:80 weight 0 nat",
        ] {
            k.apply(&adm(l).unwrap()).unwrap();
        }
        let ok = |s: &str| pred(s).unwrap().holds(&k).is_ok();
        assert!(ok("has 10.0.0.10:80 -> 192.168.1.2:80 weight 3 dr"));
        assert!(!ok("has 10.0.0.10:80 -> 192.168.1.2:80 weight 2"));
        assert!(!ok("has 10.0.0.10:80 -> 192.168.1.3:80 dr"));
        assert!(ok("lacks 10.0.0.10:80 -> 192.168.1.4:80"));
        assert!(!ok("lacks 10.0.0.10:80 -> 192.168.1.3:80"));
        assert!(ok("has service 10.0.0.10:80 sched wrr persistent 50"));
        assert!(!ok("has service 10.0.0.10:80 persistent 0"));
        assert!(!ok("has service udp 10.0.0.10:80"));
        assert!(ok("lacks service udp 10.0.0.10:80"));
        assert!(ok("services 1") && !ok("services 2"));
        assert!(ok("dests 10.0.0.10:80 2") && ok("dests 10.0.0.11:80 0"));
        assert!(ok("no sync") && !ok("sync master"));
        assert!(ok("has service 10.0.0.10:80 pe none"));
        assert!(!ok("has service 10.0.0.10:80 pe sip"));
        let why = pred("services 3").unwrap().holds(&k).unwrap_err();
        assert!(
            why.contains("10.0.0.10:80 sched wrr persistent 50\n  -> 192.168.1.2:80 weight 3 dr"),
            "{why}"
        );
        k.apply(&adm("add service 10.0.0.11:5060 sched rr persistent 60 pe sip").unwrap())
            .unwrap();
        // The kernel's timeouts: Linux's defaults until set; a zero leaves one as it is.
        let before = k.clone();
        k.set_timeouts(Some(7200), None, Some(0)).unwrap();
        let ok = |k: &SimIpvs, s: &str| pred(s).unwrap().holds(k).is_ok();
        assert!(ok(&k, "has service 10.0.0.11:5060 persistent 60 pe sip"));
        assert!(!ok(&k, "has service 10.0.0.11:5060 pe none"));
        assert!(ok(&before, "timeouts tcp 900 tcpfin 120 udp 300"));
        assert!(ok(&k, "timeouts tcp 7200 tcpfin 120 udp 300") && ok(&k, "timeouts tcp 7200"));
        assert!(!ok(&k, "timeouts tcp 900"));
        let why = pred("timeouts udp 5").unwrap().holds(&k).unwrap_err();
        assert_eq!(why, "the kernel's timeouts are tcp 7200 tcpfin 120 udp 300");
    }
}
