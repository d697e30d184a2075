//! The simulated kernel's IPVS (LVS) state of one host: whether the host has IPVS at all
//! (a scenario's `no ipvs` host has none: every request is refused as Linux without the
//! `ip_vs` module refuses the "IPVS" generic-netlink family), its table of services and
//! destinations, its connection-sync daemons (at most one master and one backup, as the
//! kernel allows), and its connection timeouts (`lvs_timeouts`: TCP 900 s, TCP FIN 120 s,
//! UDP 300 s until set, Linux's defaults). Operations follow the kernel's rules
//! ([`crate::ipvs::diff::apply`]: no implicit creation, EEXIST / ESRCH / ENOENT; a
//! persistence engine other than Linux's one, `sip`: ENOENT), and a refused one changes
//! nothing.
//!
//! Also the one text form of IPVS entries, shared by the trace, the scenario language's
//! predicates and `ipvsadm` lines, and the failure messages: services `10.0.0.10:80`
//! (TCP), `udp 10.0.0.10:53`, `sctp [2001:db8::10]:80`, `fwmark 7`, `fwmark 7 ipv6`;
//! destinations `192.168.1.2:80`, `[2001:db8::2]:80`; attributes `sched wrr persistent 50
//! netmask 255.255.255.0 pe sip ops flag-1` and `weight 3 dr` (`nat`, `tun`, `tun gue port
//! 6080 csum`, `uthreshold N`, `lthreshold N`).

use crate::ipvs::diff::{apply, ApplyError, Op};
pub use crate::ipvs::model::timeouts_text;
use crate::ipvs::model::{
    Af, DestAttrs, DestKey, Forward, Proto, ServiceAttrs, ServiceKey, SyncDaemon, Table,
    SVC_F_ONEPACKET, SVC_F_PERSISTENT, SVC_F_SCHED1, SVC_F_SCHED2, SVC_F_SCHED3, SYNC_BACKUP,
    SYNC_MASTER,
};
use std::fmt::Write as _;
use std::net::IpAddr;

/// Why a host declared `no ipvs` refuses every IPVS request.
pub const NO_IPVS: &str =
    "IPVS is not available: no ip_vs module, no \"IPVS\" generic netlink family";

/// One host's kernel IPVS state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimIpvs {
    /// Some(why): the host has no IPVS and refuses everything with this reason.
    pub unavailable: Option<String>,
    pub table: Table,
    /// Running sync daemons, in the order started (at most one per state).
    pub daemons: Vec<SyncDaemon>,
    pub timeouts: Timeouts,
}

/// The kernel's connection timeouts in seconds (IPVS_CMD_SET_CONFIG / GET_CONFIG).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    pub tcp: u32,
    pub tcpfin: u32,
    pub udp: u32,
}

impl Default for Timeouts {
    /// Linux's: established TCP 15 min, FIN_WAIT 2 min, UDP 5 min.
    fn default() -> Timeouts {
        Timeouts {
            tcp: 900,
            tcpfin: 120,
            udp: 300,
        }
    }
}

impl SimIpvs {
    /// A kernel with IPVS (`available`) or without.
    pub fn new(available: bool) -> SimIpvs {
        SimIpvs {
            unavailable: (!available).then(|| NO_IPVS.to_string()),
            ..SimIpvs::default()
        }
    }

    /// The same kernel after a reboot: IPVS or not as before, table and daemons empty,
    /// the default timeouts.
    pub fn rebooted(&self) -> SimIpvs {
        SimIpvs {
            unavailable: self.unavailable.clone(),
            ..SimIpvs::default()
        }
    }

    /// The dump the engine reads at start-up (GET_SERVICE + GET_DEST), or why it cannot.
    pub fn read(&self) -> Result<Table, String> {
        match &self.unavailable {
            Some(why) => Err(why.clone()),
            None => Ok(self.table.clone()),
        }
    }

    /// Applies one operation with the kernel's rules; a refused one changes nothing and
    /// says why as the kernel's errno would (`EEXIST: ...`).
    pub fn apply(&mut self, op: &Op) -> Result<(), String> {
        if let Some(why) = &self.unavailable {
            return Err(why.clone());
        }
        // Linux has one persistence engine module, ip_vs_pe_sip; another name is
        // refused (ENOENT) before anything changes.
        if let Op::AddService(_, a) | Op::EditService(_, a) = op {
            if let Some(pe) = a.pe_name.as_deref().filter(|pe| *pe != "sip") {
                return Err(format!(
                    "ENOENT: persistence engine module ip_vs_pe_{pe} not found"
                ));
            }
        }
        // Checked before `apply`, which would have replaced the attributes already.
        if let Op::AddDest(k, d, _) = op {
            if self.table.get(k).is_some_and(|s| s.dests.contains_key(d)) {
                return Err(error_text(&ApplyError::DestExists(*k, *d)));
            }
        }
        apply(&mut self.table, op).map_err(|e| error_text(&e))
    }

    /// Starts (IPVS_CMD_NEW_DAEMON) or stops (DEL_DAEMON) the sync daemon of
    /// `daemon.state`: a second one in the same state is refused (EEXIST), stopping one
    /// that does not run too (ESRCH).
    pub fn daemon(&mut self, start: bool, daemon: &SyncDaemon) -> Result<(), String> {
        if let Some(why) = &self.unavailable {
            return Err(why.clone());
        }
        if !matches!(daemon.state, SYNC_MASTER | SYNC_BACKUP) {
            return Err(format!("EINVAL: sync daemon state {}", daemon.state));
        }
        let running = self.daemons.iter().position(|d| d.state == daemon.state);
        match (start, running) {
            (true, Some(_)) => Err(format!(
                "EEXIST: a {} sync daemon runs",
                state_name(daemon.state)
            )),
            (true, None) => {
                self.daemons.push(daemon.clone());
                Ok(())
            }
            (false, Some(i)) => {
                self.daemons.remove(i);
                Ok(())
            }
            (false, None) => Err(format!(
                "ESRCH: no {} sync daemon runs",
                state_name(daemon.state)
            )),
        }
    }

    /// IPVS_CMD_SET_CONFIG: sets the timeouts given (a zero one is left as it is, as
    /// the kernel does).
    pub fn set_timeouts(
        &mut self,
        tcp: Option<u32>,
        tcpfin: Option<u32>,
        udp: Option<u32>,
    ) -> Result<(), String> {
        if let Some(why) = &self.unavailable {
            return Err(why.clone());
        }
        let t = &mut self.timeouts;
        for (slot, v) in [
            (&mut t.tcp, tcp),
            (&mut t.tcpfin, tcpfin),
            (&mut t.udp, udp),
        ] {
            if let Some(v) = v.filter(|v| *v > 0) {
                *slot = v;
            }
        }
        Ok(())
    }

    /// Number of destinations over all services.
    pub fn dest_count(&self) -> usize {
        self.table.values().map(|s| s.dests.len()).sum()
    }
}

/// `master` / `backup`.
pub fn state_name(state: u32) -> &'static str {
    match state {
        SYNC_MASTER => "master",
        SYNC_BACKUP => "backup",
        _ => "unknown",
    }
}

fn error_text(e: &ApplyError) -> String {
    match e {
        ApplyError::ServiceExists(k) => format!("EEXIST: service {} exists", svc_text(k)),
        ApplyError::NoService(k) => format!("ESRCH: no service {}", svc_text(k)),
        ApplyError::DestExists(k, d) => {
            format!("EEXIST: {} -> {} exists", svc_text(k), dest_text(d))
        }
        ApplyError::NoDest(k, d) => format!("ENOENT: no {} -> {}", svc_text(k), dest_text(d)),
    }
}

/// `IP:PORT`, IPv6 in brackets.
pub fn addr_port(addr: &IpAddr, port: u16) -> String {
    match addr {
        IpAddr::V4(a) => format!("{a}:{port}"),
        IpAddr::V6(a) => format!("[{a}]:{port}"),
    }
}

/// A service key as the scenario language writes it.
pub fn svc_text(k: &ServiceKey) -> String {
    match k {
        ServiceKey::Addr { proto, addr, port } => {
            let ap = addr_port(addr, *port);
            match proto {
                Proto::Tcp => ap,
                Proto::Udp => format!("udp {ap}"),
                Proto::Sctp => format!("sctp {ap}"),
            }
        }
        ServiceKey::Fwmark { family, mark } => match family {
            Af::Inet => format!("fwmark {mark}"),
            Af::Inet6 => format!("fwmark {mark} ipv6"),
        },
    }
}

pub fn dest_text(d: &DestKey) -> String {
    addr_port(&d.addr, d.port)
}

/// The netmask a service has when none is asked for (no persistence granularity).
pub fn default_netmask(family: Af) -> u32 {
    match family {
        Af::Inet => u32::MAX,
        Af::Inet6 => 128,
    }
}

pub fn svc_attrs_text(family: Af, a: &ServiceAttrs) -> String {
    let mut s = format!("sched {}", a.sched);
    if a.flags & SVC_F_PERSISTENT != 0 {
        let _ = write!(s, " persistent {}", a.timeout);
    }
    if a.netmask != default_netmask(family) {
        match family {
            Af::Inet => {
                let _ = write!(s, " netmask {}", std::net::Ipv4Addr::from(a.netmask));
            }
            Af::Inet6 => {
                let _ = write!(s, " netmask {}", a.netmask);
            }
        }
    }
    if let Some(pe) = &a.pe_name {
        let _ = write!(s, " pe {pe}");
    }
    for (bit, word) in [
        (SVC_F_ONEPACKET, "ops"),
        (SVC_F_SCHED1, "flag-1"),
        (SVC_F_SCHED2, "flag-2"),
        (SVC_F_SCHED3, "flag-3"),
    ] {
        if a.flags & bit != 0 {
            let _ = write!(s, " {word}");
        }
    }
    s
}

pub fn forward_text(f: &Forward) -> String {
    match f {
        Forward::Masq => "nat".into(),
        Forward::Direct => "dr".into(),
        Forward::Tunnel { kind, port, flags } => {
            let mut s = "tun".to_string();
            match kind {
                0 => {}
                1 => {
                    let _ = write!(s, " gue port {port}");
                }
                2 => s.push_str(" gre"),
                k => {
                    let _ = write!(s, " type {k}");
                }
            }
            match flags {
                0 => {}
                1 => s.push_str(" csum"),
                2 => s.push_str(" remcsum"),
                f => {
                    let _ = write!(s, " encap-flags {f}");
                }
            }
            s
        }
    }
}

pub fn dest_attrs_text(a: &DestAttrs) -> String {
    let mut s = format!("weight {} {}", a.weight, forward_text(&a.forward));
    if a.u_threshold != 0 {
        let _ = write!(s, " uthreshold {}", a.u_threshold);
    }
    if a.l_threshold != 0 {
        let _ = write!(s, " lthreshold {}", a.l_threshold);
    }
    s
}

/// One operation as the trace prints it: `add service 10.0.0.10:80 sched wrr`,
/// `edit 10.0.0.10:80 -> 192.168.1.2:80 weight 0 dr`, `del service fwmark 7`.
pub fn op_text(op: &Op) -> String {
    match op {
        Op::AddService(k, a) => {
            format!(
                "add service {} {}",
                svc_text(k),
                svc_attrs_text(k.family(), a)
            )
        }
        Op::EditService(k, a) => {
            format!(
                "edit service {} {}",
                svc_text(k),
                svc_attrs_text(k.family(), a)
            )
        }
        Op::DelService(k) => format!("del service {}", svc_text(k)),
        Op::AddDest(k, d, a) => format!(
            "add {} -> {} {}",
            svc_text(k),
            dest_text(d),
            dest_attrs_text(a)
        ),
        Op::EditDest(k, d, a) => format!(
            "edit {} -> {} {}",
            svc_text(k),
            dest_text(d),
            dest_attrs_text(a)
        ),
        Op::DelDest(k, d) => format!("del {} -> {}", svc_text(k), dest_text(d)),
    }
}

/// The service an operation is about, and its destination when it is about one.
pub fn op_target(op: &Op) -> (ServiceKey, Option<DestKey>) {
    match op {
        Op::AddService(k, _) | Op::EditService(k, _) | Op::DelService(k) => (*k, None),
        Op::AddDest(k, d, _) | Op::EditDest(k, d, _) | Op::DelDest(k, d) => (*k, Some(*d)),
    }
}

/// `master eth0 id 5 [maxlen N] [port N] [ttl N] [group A]`.
pub fn daemon_text(d: &SyncDaemon) -> String {
    let mut s = format!("{} {} id {}", state_name(d.state), d.ifname, d.syncid);
    if let Some(m) = d.maxlen {
        let _ = write!(s, " maxlen {m}");
    }
    if let Some(p) = d.port {
        let _ = write!(s, " port {p}");
    }
    if let Some(t) = d.ttl {
        let _ = write!(s, " ttl {t}");
    }
    if let Some(g) = d.group {
        let _ = write!(s, " group {g}");
    }
    s
}

/// The whole table, `ipvsadm -Ln`-like, one line per service then one per destination
/// (failure messages of the IPVS predicates).
pub fn table_text(t: &Table) -> String {
    if t.is_empty() {
        return "(empty table)".into();
    }
    let mut s = String::new();
    for (k, svc) in t {
        let _ = writeln!(
            s,
            "{} {}",
            svc_text(k),
            svc_attrs_text(k.family(), &svc.attrs)
        );
        for (d, a) in &svc.dests {
            let _ = writeln!(s, "  -> {} {}", dest_text(d), dest_attrs_text(a));
        }
    }
    s.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipvs::model::Service;

    fn svc() -> ServiceKey {
        ServiceKey::Addr {
            proto: Proto::Tcp,
            addr: "10.0.0.10".parse().unwrap(),
            port: 80,
        }
    }

    fn attrs() -> ServiceAttrs {
        ServiceAttrs {
            sched: "wrr".into(),
            flags: SVC_F_PERSISTENT,
            timeout: 50,
            netmask: u32::MAX,
            pe_name: None,
        }
    }

    fn dest(n: u8) -> DestKey {
        DestKey {
            addr: IpAddr::from([192, 168, 1, n]),
            port: 80,
        }
    }

    fn da(weight: u32) -> DestAttrs {
        DestAttrs {
            forward: Forward::Direct,
            weight,
            u_threshold: 0,
            l_threshold: 0,
        }
    }

    #[test]
    fn kernel_rules_and_refusals_change_nothing() {
        let mut k = SimIpvs::new(true);
        assert_eq!(k.read(), Ok(Table::new()));
        assert!(k.apply(&Op::AddDest(svc(), dest(2), da(3))).is_err());
        k.apply(&Op::AddService(svc(), attrs())).unwrap();
        let e = k.apply(&Op::AddService(svc(), attrs())).unwrap_err();
        assert_eq!(e, "EEXIST: service 10.0.0.10:80 exists");
        k.apply(&Op::AddDest(svc(), dest(2), da(3))).unwrap();
        // A second add of the same destination is refused and keeps weight 3.
        let e = k.apply(&Op::AddDest(svc(), dest(2), da(9))).unwrap_err();
        assert_eq!(e, "EEXIST: 10.0.0.10:80 -> 192.168.1.2:80 exists");
        assert_eq!(k.table[&svc()].dests[&dest(2)].weight, 3);
        let e = k.apply(&Op::EditDest(svc(), dest(3), da(1))).unwrap_err();
        assert_eq!(e, "ENOENT: no 10.0.0.10:80 -> 192.168.1.3:80");
        k.apply(&Op::EditDest(svc(), dest(2), da(0))).unwrap();
        assert_eq!(k.table[&svc()].dests[&dest(2)].weight, 0);
        assert_eq!(k.dest_count(), 1);
        // A persistence engine Linux does not have is refused and changes nothing.
        let mut foo = attrs();
        foo.pe_name = Some("foo".into());
        let e = k.apply(&Op::EditService(svc(), foo.clone())).unwrap_err();
        assert_eq!(
            e,
            "ENOENT: persistence engine module ip_vs_pe_foo not found"
        );
        assert_eq!(k.table[&svc()].attrs, attrs());
        foo.pe_name = Some("sip".into());
        k.apply(&Op::EditService(svc(), foo)).unwrap();
        assert_eq!(k.table[&svc()].attrs.pe_name.as_deref(), Some("sip"));
        k.apply(&Op::DelService(svc())).unwrap();
        assert!(k.table.is_empty());
        assert!(k
            .apply(&Op::DelService(svc()))
            .unwrap_err()
            .starts_with("ESRCH"));
    }

    #[test]
    fn a_host_without_ipvs_refuses_everything() {
        let mut k = SimIpvs::new(false);
        assert_eq!(k.read(), Err(NO_IPVS.to_string()));
        assert_eq!(
            k.apply(&Op::AddService(svc(), attrs())),
            Err(NO_IPVS.into())
        );
        assert!(k.table.is_empty());
        assert_eq!(k.set_timeouts(Some(10), None, None), Err(NO_IPVS.into()));
        assert_eq!(k.timeouts, Timeouts::default());
        let r = k.rebooted();
        assert_eq!(r.unavailable.as_deref(), Some(NO_IPVS));
    }

    #[test]
    fn timeouts_set_what_is_given_and_a_reboot_restores_the_defaults() {
        let mut k = SimIpvs::new(true);
        let d = Timeouts::default();
        assert_eq!((d.tcp, d.tcpfin, d.udp), (900, 120, 300));
        k.set_timeouts(Some(3600), None, Some(60)).unwrap();
        assert_eq!(
            (k.timeouts.tcp, k.timeouts.tcpfin, k.timeouts.udp),
            (3600, 120, 60)
        );
        // Zero leaves a timeout as it is (the kernel's rule).
        k.set_timeouts(Some(0), Some(30), None).unwrap();
        assert_eq!(
            (k.timeouts.tcp, k.timeouts.tcpfin, k.timeouts.udp),
            (3600, 30, 60)
        );
        assert_eq!(k.rebooted().timeouts, d);
    }

    #[test]
    fn one_sync_daemon_per_state() {
        let mut k = SimIpvs::new(true);
        let mut m = SyncDaemon {
            state: SYNC_MASTER,
            ifname: "eth0".into(),
            syncid: 5,
            maxlen: None,
            group: None,
            port: None,
            ttl: None,
        };
        k.daemon(true, &m).unwrap();
        assert!(k.daemon(true, &m).unwrap_err().starts_with("EEXIST"));
        m.state = SYNC_BACKUP;
        assert!(k.daemon(false, &m).unwrap_err().starts_with("ESRCH"));
        k.daemon(true, &m).unwrap();
        assert_eq!(k.daemons.len(), 2);
        k.daemon(false, &m).unwrap();
        assert_eq!(k.daemons[0].state, SYNC_MASTER);
        m.state = 7;
        assert!(k.daemon(true, &m).is_err());
        // A reboot forgets the daemons and the table.
        k.table.insert(
            svc(),
            Service {
                attrs: attrs(),
                dests: Default::default(),
            },
        );
        let r = k.rebooted();
        assert!(r.daemons.is_empty() && r.table.is_empty() && r.unavailable.is_none());
    }

    #[test]
    fn text_forms() {
        assert_eq!(
            op_text(&Op::AddService(svc(), attrs())),
            "add service 10.0.0.10:80 sched wrr persistent 50"
        );
        let v6 = ServiceKey::Addr {
            proto: Proto::Udp,
            addr: "2001:db8::10".parse().unwrap(),
            port: 53,
        };
        let a6 = ServiceAttrs {
            sched: "rr".into(),
            flags: SVC_F_ONEPACKET | SVC_F_SCHED2,
            timeout: 0,
            netmask: 64,
            pe_name: None,
        };
        assert_eq!(
            op_text(&Op::EditService(v6, a6)),
            "edit service udp [2001:db8::10]:53 sched rr netmask 64 ops flag-2"
        );
        let fw = ServiceKey::Fwmark {
            family: Af::Inet6,
            mark: 7,
        };
        assert_eq!(op_text(&Op::DelService(fw)), "del service fwmark 7 ipv6");
        let t = DestAttrs {
            forward: Forward::Tunnel {
                kind: 1,
                port: 6080,
                flags: 1,
            },
            weight: 2,
            u_threshold: 100,
            l_threshold: 0,
        };
        assert_eq!(
            op_text(&Op::EditDest(svc(), dest(2), t)),
            "edit 10.0.0.10:80 -> 192.168.1.2:80 weight 2 tun gue port 6080 csum uthreshold 100"
        );
        let mut a = attrs();
        a.netmask = 0xffff_ff00;
        assert_eq!(
            svc_attrs_text(Af::Inet, &a),
            "sched wrr persistent 50 netmask 255.255.255.0"
        );
        a.pe_name = Some("sip".into());
        assert_eq!(
            svc_attrs_text(Af::Inet, &a),
            "sched wrr persistent 50 netmask 255.255.255.0 pe sip"
        );
        assert_eq!(timeouts_text(Some(900), None, Some(30)), "tcp 900 udp 30");
        let d = SyncDaemon {
            state: SYNC_BACKUP,
            ifname: "eth1".into(),
            syncid: 9,
            maxlen: Some(1400),
            group: Some("224.0.0.81".parse().unwrap()),
            port: Some(8848),
            ttl: Some(2),
        };
        assert_eq!(
            daemon_text(&d),
            "backup eth1 id 9 maxlen 1400 port 8848 ttl 2 group 224.0.0.81"
        );
    }
}
