//! The operator's view of the IPVS table the daemon manages, as `ipvsadm -Ln` prints a
//! table (its two header lines, a service line `Prot LocalAddress:Port Scheduler Flags`,
//! a destination line `  -> RemoteAddress:Port Forward Weight ActiveConn InActConn`
//! with ipvsadm's column widths), preceded by whether IPVS is managed on this host and
//! followed by each virtual server's quorum and the sync daemons. ipvsadm's
//! `IP Virtual Server version ...` banner is not printed (we do not read the kernel's).
//!
//! ActiveConn and InActConn are the kernel's connection counters, which keepalived-rs does
//! not read (the dump of destinations asks for no statistics): they are printed as 0 so
//! that the columns stay where tools parsing `ipvsadm -Ln` expect numbers; the line above
//! the table says so. Pure: rendered from [`IpvsStatus`] for SIGUSR1's
//! `keepalived_check.data` and the JSON dump.

use super::snapshot::IpvsStatus;
use crate::ipvs::model::{
    Af, DestAttrs, DestKey, Forward, Proto, ServiceAttrs, ServiceKey, SyncDaemon, SVC_F_ONEPACKET,
    SVC_F_PERSISTENT, SVC_F_SCHED1, SVC_F_SCHED2, SVC_F_SCHED3, SYNC_MASTER,
};
use std::fmt::Write as _;
use std::net::IpAddr;

/// `ADDR:PORT` as ipvsadm writes it numerically (`[v6]:port`).
fn addr_port(addr: &IpAddr, port: u16) -> String {
    match addr {
        IpAddr::V4(a) => format!("{a}:{port}"),
        IpAddr::V6(a) => format!("[{a}]:{port}"),
    }
}

/// A service as ipvsadm names it: `TCP  10.0.0.10:80`, `FWM  7` (with `IPv6` after the mark
/// for an IPv6 fwmark service, as ipvsadm does).
pub fn service_text(k: &ServiceKey) -> String {
    match k {
        ServiceKey::Addr { proto, addr, port } => {
            let p = match proto {
                Proto::Tcp => "TCP",
                Proto::Udp => "UDP",
                Proto::Sctp => "SCTP",
            };
            format!("{p}  {}", addr_port(addr, *port))
        }
        ServiceKey::Fwmark { family, mark } => match family {
            Af::Inet => format!("FWM  {mark}"),
            Af::Inet6 => format!("FWM  {mark} IPv6"),
        },
    }
}

/// A destination: `192.168.1.2:80`, `[2001:db8::2]:80`.
pub fn dest_text(d: &DestKey) -> String {
    addr_port(&d.addr, d.port)
}

/// ipvsadm's forwarding names.
pub fn forward_name(f: &Forward) -> &'static str {
    match f {
        Forward::Masq => "Masq",
        Forward::Direct => "Route",
        Forward::Tunnel { .. } => "Tunnel",
    }
}

/// Scheduler and flags after the service: `rr`, `wlc persistent 300 mask 255.255.255.0`,
/// `rr persistent 360 pe sip`, `sh flag-1,flag-2`, ` ops`.
fn sched_flags(k: &ServiceKey, a: &ServiceAttrs) -> String {
    let mut s = a.sched.clone();
    let sched_bits: Vec<&str> = [
        (SVC_F_SCHED1, "flag-1"),
        (SVC_F_SCHED2, "flag-2"),
        (SVC_F_SCHED3, "flag-3"),
    ]
    .iter()
    .filter(|(b, _)| a.flags & b != 0)
    .map(|(_, n)| *n)
    .collect();
    if !sched_bits.is_empty() {
        let _ = write!(s, " {}", sched_bits.join(","));
    }
    if a.flags & SVC_F_PERSISTENT != 0 {
        let _ = write!(s, " persistent {}", a.timeout);
        match k.family() {
            Af::Inet if a.netmask != u32::MAX && a.netmask != 0 => {
                let _ = write!(s, " mask {}", std::net::Ipv4Addr::from(a.netmask));
            }
            Af::Inet6 if a.netmask != 128 && a.netmask != 0 => {
                let _ = write!(s, " mask {}", a.netmask);
            }
            _ => {}
        }
        // ipvsadm names the persistence engine within the persistence options.
        if let Some(pe) = &a.pe_name {
            let _ = write!(s, " pe {pe}");
        }
    }
    if a.flags & SVC_F_ONEPACKET != 0 {
        s.push_str(" ops");
    }
    s
}

fn dest_line(out: &mut String, d: &DestKey, a: &DestAttrs) {
    let _ = writeln!(
        out,
        "  -> {:<28} {:<7} {:<6} {:<10} {:<10}",
        dest_text(d),
        forward_name(&a.forward),
        a.weight,
        0,
        0
    );
}

fn daemon_text(d: &SyncDaemon) -> String {
    let state = if d.state == SYNC_MASTER {
        "master"
    } else {
        "backup"
    };
    let mut s = format!("{state} on {} syncid {}", d.ifname, d.syncid);
    if let Some(m) = d.maxlen {
        let _ = write!(s, " maxlen {m}");
    }
    if let Some(g) = d.group {
        let _ = write!(s, " group {g}");
    }
    if let Some(p) = d.port {
        let _ = write!(s, " port {p}");
    }
    if let Some(t) = d.ttl {
        let _ = write!(s, " ttl {t}");
    }
    s
}

/// What the daemon says IPVS is on this host, one line.
pub fn availability(st: &IpvsStatus) -> String {
    match &st.available {
        None => "IPVS: not read yet".to_string(),
        Some(Ok(())) => "IPVS: managed".to_string(),
        Some(Err(why)) => format!("IPVS: unavailable: {why}"),
    }
}

/// The whole view: availability, the `ipvsadm -Ln`-like table, quorums, sync daemons.
pub fn render_ipvs(st: &IpvsStatus) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", availability(st));
    let _ = writeln!(
        out,
        "Managed table (ipvsadm -Ln; connection counters are not read and show 0):"
    );
    out.push_str("Prot LocalAddress:Port Scheduler Flags\n");
    out.push_str("  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n");
    for (k, svc) in &st.table {
        let _ = writeln!(out, "{} {}", service_text(k), sched_flags(k, &svc.attrs));
        for (d, a) in &svc.dests {
            dest_line(&mut out, d, a);
        }
    }
    for (vs, met) in &st.quorum {
        let _ = writeln!(
            out,
            "Quorum of VS {vs}: {}",
            if *met { "met" } else { "lost" }
        );
    }
    for d in &st.sync_daemons {
        let _ = writeln!(out, "Sync daemon: {}", daemon_text(d));
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ipvs::model::{Service, SYNC_BACKUP};

    /// A constructed status: two services with destinations, an fwmark service, quorums
    /// and a sync daemon (also used by the JSON test).
    pub(crate) fn status() -> IpvsStatus {
        let mut st = IpvsStatus {
            available: Some(Ok(())),
            ..Default::default()
        };
        let v4 = ServiceKey::Addr {
            proto: Proto::Tcp,
            addr: "10.0.0.10".parse().unwrap(),
            port: 80,
        };
        let mut dests = std::collections::BTreeMap::new();
        dests.insert(
            DestKey {
                addr: "192.168.1.2".parse().unwrap(),
                port: 80,
            },
            DestAttrs {
                forward: Forward::Direct,
                weight: 3,
                u_threshold: 0,
                l_threshold: 0,
            },
        );
        dests.insert(
            DestKey {
                addr: "192.168.1.3".parse().unwrap(),
                port: 8080,
            },
            DestAttrs {
                forward: Forward::Masq,
                weight: 0,
                u_threshold: 0,
                l_threshold: 0,
            },
        );
        st.table.insert(
            v4,
            Service {
                attrs: ServiceAttrs {
                    sched: "wlc".into(),
                    flags: SVC_F_PERSISTENT,
                    timeout: 300,
                    netmask: 0xffff_ff00,
                    pe_name: None,
                },
                dests,
            },
        );
        let v6 = ServiceKey::Addr {
            proto: Proto::Udp,
            addr: "2001:db8::10".parse().unwrap(),
            port: 53,
        };
        let mut dests6 = std::collections::BTreeMap::new();
        dests6.insert(
            DestKey {
                addr: "2001:db8::2".parse().unwrap(),
                port: 53,
            },
            DestAttrs {
                forward: Forward::Tunnel {
                    kind: 1,
                    port: 6080,
                    flags: 0,
                },
                weight: 1,
                u_threshold: 0,
                l_threshold: 0,
            },
        );
        st.table.insert(
            v6,
            Service {
                attrs: ServiceAttrs {
                    sched: "sh".into(),
                    flags: SVC_F_SCHED1 | SVC_F_SCHED2 | SVC_F_ONEPACKET,
                    timeout: 0,
                    netmask: 128,
                    pe_name: None,
                },
                dests: dests6,
            },
        );
        st.table.insert(
            ServiceKey::Fwmark {
                family: Af::Inet,
                mark: 7,
            },
            Service {
                attrs: ServiceAttrs {
                    sched: "rr".into(),
                    flags: 0,
                    timeout: 0,
                    netmask: u32::MAX,
                    pe_name: None,
                },
                dests: Default::default(),
            },
        );
        st.quorum = vec![("[10.0.0.10]:tcp:80".into(), true), ("FWM 7".into(), false)];
        st.sync_daemons = vec![SyncDaemon {
            state: SYNC_BACKUP,
            ifname: "eth0".into(),
            syncid: 5,
            maxlen: None,
            group: Some("224.0.0.81".parse().unwrap()),
            port: Some(8848),
            ttl: None,
        }];
        st
    }

    #[test]
    fn renders_like_ipvsadm_ln() {
        let got = render_ipvs(&status());
        let want = "\
IPVS: managed
Managed table (ipvsadm -Ln; connection counters are not read and show 0):
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  10.0.0.10:80 wlc persistent 300 mask 255.255.255.0
  -> 192.168.1.2:80               Route   3      0          0         
  -> 192.168.1.3:8080             Masq    0      0          0         
UDP  [2001:db8::10]:53 sh flag-1,flag-2 ops
  -> [2001:db8::2]:53             Tunnel  1      0          0         
FWM  7 rr
Quorum of VS [10.0.0.10]:tcp:80: met
Quorum of VS FWM 7: lost
Sync daemon: backup on eth0 syncid 5 group 224.0.0.81 port 8848
";
        assert_eq!(got, want);
    }

    #[test]
    fn says_when_ipvs_is_unavailable_or_unknown() {
        let mut st = IpvsStatus::default();
        assert!(render_ipvs(&st).starts_with("IPVS: not read yet\n"));
        st.available = Some(Err("the kernel has no IPVS".into()));
        let text = render_ipvs(&st);
        assert!(text.starts_with("IPVS: unavailable: the kernel has no IPVS\n"));
        // The table header is there even when empty; no service line.
        assert_eq!(text.lines().count(), 4);
    }

    #[test]
    fn ipv6_fwmark_and_prefix_mask() {
        let k = ServiceKey::Fwmark {
            family: Af::Inet6,
            mark: 9,
        };
        assert_eq!(service_text(&k), "FWM  9 IPv6");
        let a = ServiceAttrs {
            sched: "rr".into(),
            flags: SVC_F_PERSISTENT,
            timeout: 60,
            netmask: 64,
            pe_name: None,
        };
        assert_eq!(sched_flags(&k, &a), "rr persistent 60 mask 64");
        let sip = ServiceAttrs {
            pe_name: Some("sip".into()),
            ..a
        };
        assert_eq!(sched_flags(&k, &sip), "rr persistent 60 mask 64 pe sip");
    }
}
