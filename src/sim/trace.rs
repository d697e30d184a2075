//! The trace of a run: one record per observable event, in the order it happened, each
//! printed as one line (`3.609375s r1 VI_1 BACKUP -> MASTER`). Expectations are checked
//! against these records, so what is printed is what is judged.

use super::craft::{hex, Summary};
use crate::event::Mac;
use crate::sched::Instant;
use std::fmt;
use std::net::IpAddr;

pub fn fmt_mac(m: &Mac) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}

/// What happened.
#[derive(Clone, Debug, PartialEq)]
pub enum Rec {
    State {
        instance: String,
        from: String,
        to: String,
        prio: u8,
    },
    Priority {
        instance: String,
        prio: u8,
    },
    Advert {
        ifname: String,
        src: IpAddr,
        dst: IpAddr,
        mac: Mac,
        ttl: u8,
        summary: Option<Summary>,
        bytes: Vec<u8>,
    },
    Garp {
        ifname: String,
        ip: IpAddr,
        mac: Mac,
    },
    Na {
        ifname: String,
        ip: IpAddr,
        mac: Mac,
    },
    AddAddr {
        ifname: String,
        addr: IpAddr,
        prefix: u8,
    },
    DelAddr {
        ifname: String,
        addr: IpAddr,
        prefix: u8,
    },
    /// A route the engine added or removed, as typed by the configuration.
    Route {
        add: bool,
        route: crate::config::model::Route,
    },
    Rule {
        add: bool,
        rule: crate::config::model::Rule,
    },
    Vmac {
        create: bool,
        name: String,
        parent: String,
        mac: Option<Mac>,
    },
    Script {
        argv: String,
        run: Option<u64>,
    },
    ScriptExit {
        run: u64,
        outcome: String,
    },
    ScriptKill {
        run: u64,
    },
    Fifo {
        path: String,
        line: String,
    },
    /// started / stopped / killed / paused / resumed
    Life(String),
    /// A VRID conflict episode started (extension).
    Conflict {
        instance: String,
        kind: String,
        peer: IpAddr,
    },
    Link {
        ifname: String,
        up: bool,
    },
    /// Network changes (partition, heal, loss...): host is "net".
    Net(String),
    Inject {
        segment: String,
        src: IpAddr,
        ttl: u8,
        summary: Option<Summary>,
        bytes: Vec<u8>,
    },
    ArpReply {
        ifname: String,
        ip: IpAddr,
        mac: Mac,
    },
    PingReply {
        ifname: String,
        ip: IpAddr,
    },
    FrameRouted {
        ifname: String,
        mac: Mac,
    },
    /// A status dump taken by `at T dump HOST KIND`: its whole text (the trace line shows
    /// its size; a failed `dump ... contains` expectation shows the text).
    Dump {
        kind: super::scenario::SimDump,
        text: String,
    },
    /// A step of a connection the engine opened (`connect ...`, `connected`, `data N
    /// bytes`, `closed by peer`, `failed: ...`, `close`): host is the engine's host.
    Conn {
        conn: String,
        step: String,
    },
    /// A connection attempt reached a simulated server (host is the server's name):
    /// `outcome` is `accept`, `refuse` or `drop`.
    ServerConn {
        conn: String,
        from: String,
        outcome: String,
    },
    /// The server's request log: a stream's request line (HTTP) or command (SMTP), or one
    /// datagram, printed as text when it is text, else in hex.
    ServerRequest {
        conn: String,
        from: String,
        text: String,
    },
    /// Anything else a simulated server does (its declaration, mode changes, resets).
    Server(String),
    /// The engine decided a real server's health (`Action::RealServerChanged`).
    RealServer {
        vs: String,
        rs: String,
        up: bool,
        weight: i32,
    },
    /// An IPVS operation on the host's kernel table (`sim::ipvs`): the engine's
    /// (`Action::Ipvs`, printed `ipvs add ...`) or the scenario's operator's (`ipvsadm`
    /// lines, printed `ipvsadm add ...`); `refused` says why the kernel refused it.
    Ipvs {
        op: crate::ipvs::diff::Op,
        operator: bool,
        refused: Option<String>,
    },
    /// The engine read the kernel's IPVS table (`Action::IpvsRead`): the numbers of
    /// services and destinations it found, or why it could not.
    IpvsRead {
        answer: Result<(usize, usize), String>,
    },
    /// A connection-sync daemon started or stopped (`Action::IpvsDaemon`), or refused.
    IpvsSync {
        start: bool,
        daemon: crate::ipvs::model::SyncDaemon,
        refused: Option<String>,
    },
    /// The engine set the kernel's connection timeouts (`Action::IpvsTimeouts`; those
    /// given), or the kernel refused.
    IpvsTimeouts {
        tcp: Option<u32>,
        tcpfin: Option<u32>,
        udp: Option<u32>,
        refused: Option<String>,
    },
    /// A problem of the simulation itself (unknown interface in an action, livelock).
    Warn(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct TraceLine {
    pub at: Instant,
    pub host: String,
    pub rec: Rec,
}

impl fmt::Display for TraceLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ", self.at, self.host)?;
        match &self.rec {
            Rec::State {
                instance,
                from,
                to,
                prio,
            } => write!(f, "{instance} {from} -> {to} (prio {prio})"),
            Rec::Priority { instance, prio } => write!(f, "{instance} priority {prio}"),
            Rec::Advert {
                ifname,
                src,
                dst,
                summary,
                bytes,
                ..
            } => {
                write!(f, "{ifname} send advert ")?;
                match summary {
                    Some(s) => write!(f, "{s}")?,
                    None => write!(f, "unreadable {}", hex(bytes))?,
                }
                write!(f, " {src} -> {dst}")
            }
            Rec::Garp { ifname, ip, mac } => write!(f, "{ifname} garp {ip} {}", fmt_mac(mac)),
            Rec::Na { ifname, ip, mac } => {
                write!(f, "{ifname} unsolicited-na {ip} {}", fmt_mac(mac))
            }
            Rec::AddAddr {
                ifname,
                addr,
                prefix,
            } => write!(f, "add {addr}/{prefix} {ifname}"),
            Rec::DelAddr {
                ifname,
                addr,
                prefix,
            } => write!(f, "del {addr}/{prefix} {ifname}"),
            Rec::Route { add, route } => {
                write!(f, "route {} {route}", if *add { "add" } else { "del" })
            }
            Rec::Rule { add, rule } => {
                write!(f, "rule {} {rule}", if *add { "add" } else { "del" })
            }
            Rec::Vmac {
                create: true,
                name,
                parent,
                mac,
            } => {
                write!(
                    f,
                    "vmac create {name} on {parent} {}",
                    mac.as_ref().map(fmt_mac).unwrap_or_default()
                )
            }
            Rec::Vmac { name, .. } => write!(f, "vmac delete {name}"),
            Rec::Script { argv, run: Some(r) } => write!(f, "run script #{r} {argv}"),
            Rec::Script { argv, run: None } => write!(f, "notify {argv}"),
            Rec::ScriptExit { run, outcome } => write!(f, "script #{run} {outcome}"),
            Rec::ScriptKill { run } => write!(f, "kill script #{run}"),
            Rec::Fifo { path, line } => write!(f, "fifo {path} {line}"),
            Rec::Life(s) => f.write_str(s),
            Rec::Conflict {
                instance,
                kind,
                peer,
            } => write!(f, "{instance} conflict {kind} with {peer}"),
            Rec::Link { ifname, up } => {
                write!(f, "link {ifname} {}", if *up { "up" } else { "down" })
            }
            Rec::Net(s) => f.write_str(s),
            Rec::Inject {
                segment,
                src,
                ttl,
                summary,
                bytes,
            } => {
                write!(f, "{segment} inject advert ")?;
                match summary {
                    Some(s) => write!(f, "{s}")?,
                    None => write!(f, "{}", hex(bytes))?,
                }
                write!(f, " from {src}")?;
                if *ttl != 255 {
                    write!(f, " ttl {ttl}")?;
                }
                Ok(())
            }
            Rec::ArpReply { ifname, ip, mac } => {
                write!(f, "{ifname} arp-reply {ip} is-at {}", fmt_mac(mac))
            }
            Rec::PingReply { ifname, ip } => write!(f, "{ifname} echo-reply from {ip}"),
            Rec::FrameRouted { ifname, mac } => {
                write!(f, "{ifname} routes frame to {}", fmt_mac(mac))
            }
            Rec::Dump { kind, text } => write!(
                f,
                "dump {} ({} lines, {} bytes)",
                kind.name(),
                text.lines().count(),
                text.len()
            ),
            Rec::Conn { conn, step } => write!(f, "{conn} {step}"),
            Rec::ServerConn {
                conn,
                from,
                outcome,
            } => write!(f, "{outcome} {conn} from {from}"),
            Rec::ServerRequest { conn, from, text } => {
                write!(f, "request {conn} from {from} {text:?}")
            }
            Rec::Server(s) => f.write_str(s),
            Rec::RealServer { vs, rs, up, weight } => write!(
                f,
                "rs {} {rs} weight {weight} vs {vs}",
                if *up { "up" } else { "down" }
            ),
            Rec::Ipvs {
                op,
                operator,
                refused,
            } => {
                let who = if *operator { "ipvsadm" } else { "ipvs" };
                write!(f, "{who} {}", super::ipvs::op_text(op))?;
                refused_suffix(f, refused)
            }
            Rec::IpvsRead { answer: Ok((s, d)) } => {
                write!(f, "ipvs read {s} services {d} destinations")
            }
            Rec::IpvsRead { answer: Err(e) } => write!(f, "ipvs read refused: {e}"),
            Rec::IpvsSync {
                start,
                daemon,
                refused,
            } => {
                let verb = if *start { "start" } else { "stop" };
                write!(f, "ipvs sync {verb} {}", super::ipvs::daemon_text(daemon))?;
                refused_suffix(f, refused)
            }
            Rec::IpvsTimeouts {
                tcp,
                tcpfin,
                udp,
                refused,
            } => {
                let t = super::ipvs::timeouts_text(*tcp, *tcpfin, *udp);
                write!(f, "ipvs timeouts {t}")?;
                refused_suffix(f, refused)
            }
            Rec::Warn(s) => write!(f, "WARNING {s}"),
        }
    }
}

fn refused_suffix(f: &mut fmt::Formatter<'_>, refused: &Option<String>) -> fmt::Result {
    match refused {
        Some(e) => write!(f, " refused: {e}"),
        None => Ok(()),
    }
}

/// The whole trace as text, one line per record; a run of identical consecutive lines (a
/// GARP burst) is printed once with its count: `... garp 192.0.2.100 00:00:5e:00:01:33 (x5)`.
pub fn render(lines: &[TraceLine]) -> String {
    let mut s = String::new();
    let mut prev: Option<String> = None;
    let mut count = 0usize;
    let flush = |s: &mut String, line: &str, count: usize| {
        s.push_str(line);
        if count > 1 {
            s.push_str(&format!(" (x{count})"));
        }
        s.push('\n');
    };
    for l in lines {
        let text = l.to_string();
        if prev.as_deref() == Some(text.as_str()) {
            count += 1;
            continue;
        }
        if let Some(p) = prev.take() {
            flush(&mut s, &p, count);
        }
        prev = Some(text);
        count = 1;
    }
    if let Some(p) = prev {
        flush(&mut s, &p, count);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_are_folded() {
        let garp = TraceLine {
            at: Instant::from_nanos(3_609_375_000),
            host: "r1".into(),
            rec: Rec::Garp {
                ifname: "eth0".into(),
                ip: "192.0.2.100".parse().unwrap(),
                mac: [0, 0, 0x5e, 0, 1, 0x33],
            },
        };
        let life = TraceLine {
            at: Instant::from_nanos(4_000_000_000),
            host: "r1".into(),
            rec: Rec::Life("killed".into()),
        };
        let text = render(&[garp.clone(), garp.clone(), garp, life]);
        assert_eq!(
            text,
            "3.609375s r1 eth0 garp 192.0.2.100 00:00:5e:00:01:33 (x3)\n4s r1 killed\n"
        );
    }
}
