//! The Linux world: executes the engine's [`Action`]s with syscalls (VRRP sockets, packet
//! socket, rtnetlink, child processes, FIFOs) and turns what the kernel reports (interface
//! changes, script exits) into [`Event`]s. The reactor owns the loop; this owns the I/O
//! objects and what the daemon created, so it can release it at exit.

use super::arp::{garp_frame, PacketSocket};
use super::iftable::Interfaces;
use super::ndisc::unsolicited_na_frame;
use super::netlink_iproute::{parse_route, parse_rule, route_request, rule_request};
use super::netlink_route::{
    addr_gen_none_request, addr_request, del_link_request, new_macvlan_request,
    set_link_up_request, RtMessage,
};
use super::netlink_sock::{CmdOutput, DumpKind, NlCommand, OnAck};
use super::process::Processes;
use super::rawsock::{Recv, VrrpSocket, VRRP_GROUP_V4, VRRP_GROUP_V6};
use super::sysctl::Sysctls;
use super::token::Registry;
use crate::config::model::{Config, Family, Route, Rule, VirtualAddress};
use crate::engine::{Action, Event, InterfaceState, ScriptOutcome, World};
use crate::sched::Instant;
use mio::unix::SourceFd;
use mio::{Interest, Token};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::time::Duration;

/// What a token names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Timer,
    Signals,
    NlCommand,
    NlMonitor,
    /// The VRRP socket of (interface, ipv6).
    Vrrp(String, bool),
    /// The pidfd of a child.
    Child(i32),
    /// The inotify of `track_file`.
    TrackFiles,
    /// The process-event connector of `vrrp_track_process`.
    ProcEvents,
}

/// Counters for the stats dump.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub adverts_sent: u64,
    pub advert_send_errors: u64,
    pub packets_received: u64,
    pub packets_malformed: u64,
    pub garp_sent: u64,
    pub na_sent: u64,
    pub send_errors: u64,
    pub scripts_started: u64,
    pub scripts_failed_to_start: u64,
}

struct SockEntry {
    sock: VrrpSocket,
    token: Token,
    /// Deliver what it reads (a send-only socket, e.g. on a VMAC, discards).
    receive: bool,
}

/// Things we created and must release at exit (unless -V).
#[derive(Default, Debug)]
pub struct Created {
    pub addrs: Vec<(String, VirtualAddress)>,
    pub routes: Vec<Route>,
    pub rules: Vec<Rule>,
    pub vmacs: Vec<String>,
}

const QUIET_ADD: &[i32] = &[libc::EEXIST];
const QUIET_DEL: &[i32] = &[libc::EADDRNOTAVAIL, libc::ENODEV, libc::ESRCH, libc::ENOENT];
const DEFER_LIMIT: Duration = Duration::from_secs(5);
const LOG_EVERY: Duration = Duration::from_secs(10);

pub struct SysWorld {
    pub registry: mio::Registry,
    pub tokens: Registry<Source>,
    pub ifaces: Interfaces,
    staging: Option<Interfaces>,
    reported: BTreeMap<String, InterfaceState>,
    wanted: BTreeMap<(String, bool), BTreeSet<IpAddr>>,
    socks: BTreeMap<(String, bool), SockEntry>,
    packet: Option<PacketSocket>,
    pub nl: NlCommand,
    pub procs: Processes,
    pub created: Created,
    pub sysctls: Sysctls,
    pub stats: Stats,
    /// Actions waiting for an interface we created (a VMAC) to appear.
    deferred: Vec<(Instant, Action)>,
    /// Events for the engine produced while performing or reading.
    pub events: Vec<Event>,
    buf: Vec<u8>,
    /// Shutting down with -V: keep addresses, routes, rules, VMACs.
    pub keep_on_exit: bool,
    pub shutting_down: bool,
    child_tokens: BTreeMap<i32, Token>,
    /// Rate limit of repeated error logs: key -> (last logged, suppressed since).
    error_log: BTreeMap<String, (Option<Instant>, u64)>,
    /// Receive interface (a VMAC) -> the interface the engine knows the instance by.
    relabel: BTreeMap<String, String>,
}

fn ipv6_of(f: Family) -> bool {
    f == Family::Inet6
}

impl SysWorld {
    pub fn new(registry: mio::Registry, nl: NlCommand) -> SysWorld {
        let packet = match PacketSocket::open() {
            Ok(p) => Some(p),
            Err(e) => {
                log::error!("packet socket (GARP/NA): {e}");
                None
            }
        };
        SysWorld {
            registry,
            tokens: Registry::new(),
            ifaces: Interfaces::new(),
            staging: None,
            reported: BTreeMap::new(),
            wanted: BTreeMap::new(),
            socks: BTreeMap::new(),
            packet,
            nl,
            procs: Processes::new(),
            created: Created::default(),
            sysctls: Sysctls::default(),
            stats: Stats::default(),
            deferred: Vec::new(),
            events: Vec::new(),
            buf: vec![0; 65536],
            keep_on_exit: false,
            shutting_down: false,
            child_tokens: BTreeMap::new(),
            error_log: BTreeMap::new(),
            relabel: BTreeMap::new(),
        }
    }

    /// Records the receive sockets the configuration needs: the interface and multicast
    /// group of every instance.
    pub fn want_sockets(&mut self, config: &Config) {
        self.wanted.clear();
        self.relabel.clear();
        for i in &config.instances {
            let Some(ifname) = &i.interface else {
                log::warn!("({}) no interface: cannot receive adverts", i.name);
                continue;
            };
            let v6 = ipv6_of(i.family);
            // With use_vmac the adverts travel on the VMAC (a private-mode macvlan delivers
            // multicast whose source is its own MAC only to itself, never to the base):
            // receive there and hand packets to the engine as the base interface's.
            let rx_if = match &i.use_vmac {
                Some(v) if !i.vmac_xmit_base => {
                    self.relabel.insert(v.name.clone(), ifname.clone());
                    v.name.clone()
                }
                _ => ifname.clone(),
            };
            let groups = self.wanted.entry((rx_if, v6)).or_default();
            if i.unicast_peers.is_empty() {
                groups.insert(i.mcast_dst_ip.unwrap_or(if v6 {
                    IpAddr::V6(VRRP_GROUP_V6)
                } else {
                    IpAddr::V4(VRRP_GROUP_V4)
                }));
            }
        }
    }

    // ------------------------------------------------------------ sockets

    fn open_socket(&mut self, ifname: &str, v6: bool, receive: bool) -> Option<()> {
        let index = self.ifaces.index_of(ifname)?;
        let key = (ifname.to_string(), v6);
        if let Some(e) = self.socks.get(&key) {
            if e.sock.ifindex == index {
                return Some(());
            }
            self.close_socket(&key);
        }
        let sock = match VrrpSocket::open(ifname, index, v6) {
            Ok(s) => s,
            Err(e) => {
                log::error!(
                    "VRRP socket on {ifname} ({}): {e}",
                    if v6 { "IPv6" } else { "IPv4" }
                );
                return None;
            }
        };
        if receive {
            for g in self.wanted.get(&key).into_iter().flatten() {
                if let Err(e) = sock.join(*g) {
                    log::error!("joining {g} on {ifname}: {e}");
                }
            }
        }
        let token = self.tokens.insert(Source::Vrrp(ifname.to_string(), v6));
        if let Err(e) =
            self.registry
                .register(&mut SourceFd(&sock.as_raw_fd()), token, Interest::READABLE)
        {
            log::error!("registering the VRRP socket of {ifname}: {e}");
        }
        self.socks.insert(
            key,
            SockEntry {
                sock,
                token,
                receive,
            },
        );
        Some(())
    }

    fn close_socket(&mut self, key: &(String, bool)) {
        if let Some(e) = self.socks.remove(key) {
            let _ = self.registry.deregister(&mut SourceFd(&e.sock.as_raw_fd()));
            self.tokens.remove(e.token);
        }
    }

    /// Opens the receive sockets of interfaces that exist, closes those of vanished ones.
    fn sync_sockets(&mut self) {
        let wanted: Vec<(String, bool)> = self.wanted.keys().cloned().collect();
        for (ifname, v6) in wanted {
            if self.ifaces.index_of(&ifname).is_some() {
                let key = (ifname.clone(), v6);
                if self.socks.get(&key).is_some_and(|e| !e.receive) {
                    self.close_socket(&key);
                }
                self.open_socket(&ifname, v6, true);
            }
        }
        let stale: Vec<(String, bool)> = self
            .socks
            .iter()
            .filter(|((n, _), e)| self.ifaces.index_of(n) != Some(e.sock.ifindex))
            .map(|(k, _)| k.clone())
            .collect();
        for k in stale {
            self.close_socket(&k);
        }
    }

    /// Reads every waiting packet of one VRRP socket into `events`.
    pub fn read_vrrp(&mut self, ifname: &str, v6: bool) {
        let key = (ifname.to_string(), v6);
        loop {
            let Some(e) = self.socks.get(&key) else {
                return;
            };
            match e.sock.recv(&mut self.buf) {
                Ok(Recv::Packet(mut p)) => {
                    if let Some(base) = self.relabel.get(&p.ifname) {
                        p.ifname = base.clone();
                    }
                    if e.receive {
                        self.stats.packets_received += 1;
                        self.events.push(Event::Packet(p));
                    }
                }
                Ok(Recv::Malformed(why)) => {
                    self.stats.packets_malformed += 1;
                    log::debug!("{ifname}: discarded packet: {why}");
                }
                Ok(Recv::WouldBlock) => return,
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                Err(err) => {
                    log::error!("{ifname}: VRRP receive: {err}");
                    return;
                }
            }
        }
    }

    // ------------------------------------------------------------ interfaces

    /// Applies monitor messages, then reports changes.
    pub fn apply_rt(&mut self, now: Instant, msgs: Vec<RtMessage>) {
        for m in msgs {
            if let Some(s) = self.staging.as_mut() {
                s.apply(m.clone());
            }
            self.ifaces.apply(m);
        }
        self.interfaces_changed(now);
    }

    /// Starts a full re-read of links and addresses (startup, monitor overrun).
    pub fn redump(&mut self) {
        self.staging = Some(Interfaces::new());
        self.nl.dump(DumpKind::Links);
        self.nl.dump(DumpKind::Addrs);
    }

    /// Handles what the command channel produced.
    pub fn on_nl_outputs(&mut self, now: Instant, outs: Vec<CmdOutput>) {
        let mut changed = false;
        for o in outs {
            match o {
                CmdOutput::Dumped(_, m) => {
                    if let Some(s) = self.staging.as_mut() {
                        s.apply(m);
                    } else {
                        self.ifaces.apply(m);
                        changed = true;
                    }
                }
                CmdOutput::DumpDone(DumpKind::Addrs) => {
                    if let Some(s) = self.staging.take() {
                        self.ifaces = s;
                    }
                    changed = true;
                }
                CmdOutput::DumpDone(DumpKind::Links) => {}
                CmdOutput::Acked(OnAck::VmacCreated(name)) => {
                    let base = self
                        .ifaces
                        .by_name(&name)
                        .and_then(|i| i.link.parent)
                        .and_then(|p| self.ifaces.by_index(p))
                        .map(|i| i.link.name.clone());
                    self.sysctls.configure_vmac(&name, base.as_deref());
                }
                CmdOutput::Acked(OnAck::Nothing) | CmdOutput::Failed { .. } => {}
            }
        }
        if changed {
            self.interfaces_changed(now);
        }
    }

    fn interfaces_changed(&mut self, now: Instant) {
        let states = self.ifaces.states();
        for (name, st) in &states {
            if self.reported.get(name) != Some(st) {
                self.events.push(Event::Interface(st.clone()));
            }
        }
        for name in self.reported.keys() {
            if !states.contains_key(name) {
                self.events
                    .push(Event::InterfaceRemoved { name: name.clone() });
            }
        }
        self.reported = states;
        self.sync_sockets();
        // Retry actions waiting for an interface.
        for (at, a) in std::mem::take(&mut self.deferred) {
            if now.saturating_since(at) > DEFER_LIMIT {
                log::error!("dropping {a:?}: its interface never appeared");
            } else {
                self.perform_inner(at, a);
            }
        }
    }

    /// Interface states as last reported (startup: what to feed before `Startup`).
    pub fn interface_states(&self) -> Vec<InterfaceState> {
        self.reported.values().cloned().collect()
    }

    // ------------------------------------------------------------ addresses, routes

    fn index_or_defer(&mut self, now: Instant, ifname: &str, a: &Action) -> Option<u32> {
        match self.ifaces.index_of(ifname) {
            Some(i) => Some(i),
            None => {
                if self.created.vmacs.iter().any(|v| v == ifname) {
                    self.deferred.push((now, a.clone()));
                } else {
                    log::error!("{a:?}: no interface '{ifname}'");
                }
                None
            }
        }
    }

    fn address(
        &mut self,
        now: Instant,
        add: bool,
        ifname: &str,
        addr: &VirtualAddress,
        a: &Action,
    ) {
        let dev = addr.dev.clone().unwrap_or_else(|| ifname.to_string());
        let Some(index) = self.index_or_defer(now, &dev, a) else {
            return;
        };
        let what = format!(
            "{} address {}/{} {} {dev}",
            if add { "adding" } else { "removing" },
            addr.addr,
            addr.prefix_len,
            if add { "to" } else { "from" }
        );
        let mut result = Ok(());
        self.nl.request(
            what.clone(),
            if add { QUIET_ADD } else { QUIET_DEL },
            OnAck::Nothing,
            |seq| match addr_request(add, index, addr, seq) {
                Ok(b) => b,
                Err(e) => {
                    result = Err(e);
                    Vec::new()
                }
            },
        );
        if let Err(e) = result {
            log::error!("{what}: {e}");
        }
        let key = (dev, addr.clone());
        if add {
            if !self.created.addrs.contains(&key) {
                self.created.addrs.push(key);
            }
        } else {
            self.created.addrs.retain(|k| k != &key);
        }
    }

    fn route(&mut self, add: bool, r: &Route, quiet: bool) {
        let spec = match parse_route(&r.words) {
            Ok(s) => s,
            Err(e) => {
                log::error!("{}: route '{}': {e}", r.span, r.words.join(" "));
                return;
            }
        };
        let oif = match &spec.dev {
            Some(d) => match self.ifaces.index_of(d) {
                Some(i) => Some(i),
                None => {
                    if !quiet {
                        log::error!(
                            "{}: route '{}': no interface '{d}'",
                            r.span,
                            r.words.join(" ")
                        );
                    }
                    return;
                }
            },
            None => None,
        };
        let what = format!(
            "{} route '{}'",
            if add { "adding" } else { "removing" },
            r.words.join(" ")
        );
        self.nl.request(
            what,
            if add { QUIET_ADD } else { QUIET_DEL },
            OnAck::Nothing,
            |seq| route_request(add, &spec, oif, seq),
        );
        if add {
            if !self.created.routes.contains(r) {
                self.created.routes.push(r.clone());
            }
        } else {
            self.created.routes.retain(|x| x.words != r.words);
        }
    }

    fn rule(&mut self, add: bool, r: &Rule) {
        let spec = match parse_rule(&r.words) {
            Ok(s) => s,
            Err(e) => {
                log::error!("{}: rule '{}': {e}", r.span, r.words.join(" "));
                return;
            }
        };
        let what = format!(
            "{} rule '{}'",
            if add { "adding" } else { "removing" },
            r.words.join(" ")
        );
        self.nl.request(
            what,
            if add { QUIET_ADD } else { QUIET_DEL },
            OnAck::Nothing,
            |seq| rule_request(add, &spec, seq),
        );
        if add {
            if !self.created.rules.contains(r) {
                self.created.rules.push(r.clone());
            }
        } else {
            self.created.rules.retain(|x| x.words != r.words);
        }
    }

    // ------------------------------------------------------------ start and exit

    /// Removes what a previous run (killed without cleanup) left of this configuration:
    /// its VIPs on their interfaces, its VMAC interfaces, its routes and rules.
    pub fn remove_leftovers(&mut self, config: &Config) {
        for i in &config.instances {
            if let Some(v) = &i.use_vmac {
                let is_vmac = self
                    .ifaces
                    .by_name(&v.name)
                    .is_some_and(|x| x.link.kind.as_deref() == Some("macvlan"));
                if is_vmac {
                    log::info!("({}) removing leftover VMAC {}", i.name, v.name);
                    let name = v.name.clone();
                    self.nl.request(
                        format!("removing leftover VMAC {name}"),
                        QUIET_DEL,
                        OnAck::Nothing,
                        |seq| del_link_request(&name, seq),
                    );
                }
            }
            let Some(ifname) = i.interface.clone() else {
                continue;
            };
            for a in i.vips.iter().chain(i.excluded_vips.iter()) {
                let dev = a.dev.clone().unwrap_or_else(|| ifname.clone());
                if self.ifaces.has_address(&dev, &a.addr) {
                    log::info!(
                        "({}) removing leftover address {} from {dev}",
                        i.name,
                        a.addr
                    );
                    if let Some(index) = self.ifaces.index_of(&dev) {
                        let a = a.clone();
                        self.nl.request(
                            format!("removing leftover address {}", a.addr),
                            QUIET_DEL,
                            OnAck::Nothing,
                            |seq| addr_request(false, index, &a, seq).unwrap_or_default(),
                        );
                    }
                }
            }
            for r in &i.virtual_routes {
                self.route(false, r, true);
            }
            for r in &i.virtual_rules {
                self.rule(false, r);
            }
        }
        for r in &config.static_rules {
            self.rule(false, r);
        }
        self.created = Created::default();
    }

    /// Adds `static_ipaddress`, `static_routes` and `static_rules`.
    pub fn add_static(&mut self, now: Instant, config: &Config) {
        for a in &config.static_addresses {
            match a.dev.clone() {
                Some(dev) => {
                    let act = Action::AddAddress {
                        ifname: dev.clone(),
                        addr: a.clone(),
                    };
                    self.address(now, true, &dev, a, &act);
                }
                None => log::error!("{}: static address {} has no 'dev'", a.span, a.addr),
            }
        }
        for r in &config.static_routes {
            self.route(true, r, false);
        }
        for r in &config.static_rules {
            self.rule(true, r);
        }
    }

    /// Releases everything still created (unless -V) and restores sysctls.
    pub fn release_all(&mut self, now: Instant) {
        if !self.keep_on_exit {
            let c = std::mem::take(&mut self.created);
            for r in c.rules.iter().rev() {
                self.rule(false, r);
            }
            for r in c.routes.iter().rev() {
                self.route(false, r, true);
            }
            for (dev, a) in c.addrs.iter().rev() {
                let act = Action::DelAddress {
                    ifname: dev.clone(),
                    addr: a.clone(),
                };
                self.address(now, false, dev, a, &act);
            }
            for v in c.vmacs.iter().rev() {
                let name = v.clone();
                self.nl.request(
                    format!("removing VMAC {name}"),
                    QUIET_DEL,
                    OnAck::Nothing,
                    |seq| del_link_request(&name, seq),
                );
            }
        }
        self.sysctls.restore();
    }

    // ------------------------------------------------------------ children

    /// Reaps children (one pid, or all on SIGCHLD) and reports the runs the engine waits on.
    pub fn reap(&mut self, pid: Option<i32>) {
        for f in self.procs.reap(pid) {
            log::debug!("script '{}' (pid {}) ended: {:?}", f.desc, f.pid, f.outcome);
            if let Some(tok) = self.child_tokens.remove(&f.pid) {
                self.tokens.remove(tok);
            }
            if let Some(run) = f.run {
                self.events.push(Event::ScriptExited {
                    run,
                    outcome: f.outcome,
                });
            }
        }
    }

    /// Logs an error at most once per [`LOG_EVERY`] for `key`, counting what it held back
    /// (a dead interface must not flood the log at 100 adverts a second).
    fn error_limited(&mut self, now: Instant, key: &str, msg: String) {
        let e = self.error_log.entry(key.to_string()).or_insert((None, 0));
        match e.0 {
            Some(last) if now.saturating_since(last) < LOG_EVERY => e.1 += 1,
            _ => {
                if e.1 > 0 {
                    log::error!("{msg} ({} similar message(s) suppressed)", e.1);
                } else {
                    log::error!("{msg}");
                }
                *e = (Some(now), 0);
            }
        }
    }

    fn send_frame(&mut self, now: Instant, ifname: &str, frame: Vec<u8>, what: &str) -> bool {
        let Some(index) = self.ifaces.index_of(ifname) else {
            self.error_limited(now, what, format!("{what}: no interface '{ifname}'"));
            return false;
        };
        let Some(p) = &self.packet else {
            return false;
        };
        match p.send_frame(index, &frame) {
            Ok(()) => true,
            Err(e) => {
                self.stats.send_errors += 1;
                self.error_limited(now, what, format!("{what} on {ifname}: {e}"));
                false
            }
        }
    }

    fn perform_inner(&mut self, now: Instant, action: Action) {
        if self.shutting_down && self.keep_on_exit {
            if let Action::DelAddress { .. }
            | Action::DelRoute(_)
            | Action::DelRule(_)
            | Action::DeleteVmac { .. } = action
            {
                return;
            }
        }
        match &action {
            Action::SendAdvert(p) => {
                let v6 = p.dst.is_ipv6();
                let mut via = p.ifname.clone();
                if let Some(mac) = p.src_mac {
                    let base = self.ifaces.by_name(&p.ifname);
                    if base.is_some_and(|b| b.link.mac != mac) {
                        let parent = base.map(|b| b.link.index);
                        if let Some(v) = self
                            .ifaces
                            .by_mac(&mac, parent)
                            .or_else(|| self.ifaces.by_mac(&mac, None))
                        {
                            via = v.link.name.clone();
                        }
                    }
                }
                let key = (via.clone(), v6);
                if !self.socks.contains_key(&key) {
                    let receive = self.wanted.contains_key(&key);
                    if self.open_socket(&via, v6, receive).is_none() {
                        self.stats.advert_send_errors += 1;
                        self.error_limited(
                            now,
                            &format!("advert {via}"),
                            format!("({}) cannot send advert: no socket on {via}", p.instance),
                        );
                        return;
                    }
                }
                let sent = self
                    .socks
                    .get(&key)
                    .map(|e| e.sock.send(p.src, p.dst, &p.payload));
                match sent {
                    Some(Ok(())) => self.stats.adverts_sent += 1,
                    Some(Err(err)) => {
                        self.stats.advert_send_errors += 1;
                        self.error_limited(
                            now,
                            &format!("advert {via}"),
                            format!("({}) sending advert on {via}: {err}", p.instance),
                        );
                    }
                    None => {}
                }
            }
            Action::SendGratuitousArp {
                instance,
                ifname,
                ip,
                mac,
            } => {
                if self.ifaces.index_of(ifname).is_none() && self.created.vmacs.contains(ifname) {
                    self.deferred.push((now, action.clone()));
                    return;
                }
                if self.send_frame(
                    now,
                    ifname,
                    garp_frame(*ip, mac),
                    &format!("({instance}) GARP {ip}"),
                ) {
                    self.stats.garp_sent += 1;
                }
            }
            Action::SendUnsolicitedNa {
                instance,
                ifname,
                ip,
                mac,
            } => {
                if self.ifaces.index_of(ifname).is_none() && self.created.vmacs.contains(ifname) {
                    self.deferred.push((now, action.clone()));
                    return;
                }
                // Source: the interface's link-local address (the VMAC has none: its base's).
                let iface = self.ifaces.by_name(ifname);
                let lookup = |name: &str| {
                    self.reported.get(name).and_then(|s| {
                        s.ipv6
                            .iter()
                            .find(|a| (a.segments()[0] & 0xffc0) == 0xfe80)
                            .copied()
                    })
                };
                let parent_name = iface
                    .and_then(|i| i.link.parent)
                    .and_then(|p| self.ifaces.by_index(p))
                    .map(|i| i.link.name.clone());
                let src = lookup(ifname)
                    .or_else(|| parent_name.as_deref().and_then(lookup))
                    .unwrap_or(*ip);
                if self.send_frame(
                    now,
                    ifname,
                    unsolicited_na_frame(src, *ip, mac),
                    &format!("({instance}) NA {ip}"),
                ) {
                    self.stats.na_sent += 1;
                }
            }
            Action::AddAddress { ifname, addr } => self.address(now, true, ifname, addr, &action),
            Action::DelAddress { ifname, addr } => self.address(now, false, ifname, addr, &action),
            Action::AddRoute(r) => self.route(true, r, false),
            Action::DelRoute(r) => self.route(false, r, true),
            Action::AddRule(r) => self.rule(true, r),
            Action::DelRule(r) => self.rule(false, r),
            Action::CreateVmac { name, parent, mac } => {
                let Some(pidx) = self.ifaces.index_of(parent) else {
                    log::error!("VMAC {name}: no parent interface '{parent}'");
                    return;
                };
                if self.ifaces.index_of(name).is_some() {
                    log::info!("VMAC {name} already exists");
                } else {
                    self.nl.request(
                        format!("creating VMAC {name} on {parent}"),
                        QUIET_ADD,
                        OnAck::Nothing,
                        |seq| new_macvlan_request(name, pidx, mac, seq),
                    );
                    self.nl.request(
                        format!("turning IPv6 address generation off on {name}"),
                        &[],
                        OnAck::Nothing,
                        |seq| addr_gen_none_request(name, seq),
                    );
                    self.nl.request(
                        format!("setting {name} up"),
                        &[],
                        OnAck::VmacCreated(name.clone()),
                        |seq| set_link_up_request(name, true, seq),
                    );
                }
                if !self.created.vmacs.contains(name) {
                    self.created.vmacs.push(name.clone());
                }
            }
            Action::DeleteVmac { name } => {
                self.nl.request(
                    format!("removing VMAC {name}"),
                    QUIET_DEL,
                    OnAck::Nothing,
                    |seq| del_link_request(name, seq),
                );
                self.created.vmacs.retain(|v| v != name);
            }
            Action::StateChanged {
                instance,
                to,
                priority,
                ..
            } => log::debug!("({instance}) state {to}, priority {priority}"),
            Action::PriorityChanged { instance, priority } => {
                log::debug!("({instance}) effective priority is now {priority}")
            }
            Action::RunScript {
                run,
                command,
                timeout,
            } => match self.procs.spawn(now, *run, command, *timeout) {
                Ok(pid) => {
                    self.stats.scripts_started += 1;
                    let fd = self
                        .procs
                        .get(pid)
                        .and_then(|r| r.pidfd.as_ref().map(|f| f.as_raw_fd()));
                    if let Some(fd) = fd {
                        let tok = self.tokens.insert(Source::Child(pid));
                        if self
                            .registry
                            .register(&mut SourceFd(&fd), tok, Interest::READABLE)
                            .is_ok()
                        {
                            self.child_tokens.insert(pid, tok);
                        } else {
                            self.tokens.remove(tok);
                        }
                    }
                }
                Err(e) => {
                    self.stats.scripts_failed_to_start += 1;
                    log::error!("cannot run '{}': {e}", command.argv.join(" "));
                    if let Some(run) = run {
                        self.events.push(Event::ScriptExited {
                            run: *run,
                            outcome: ScriptOutcome::SpawnFailed(e),
                        });
                    }
                }
            },
            Action::KillScript { run } => self.procs.kill_run(now, *run),
            Action::WriteFifo { path, line } => write_fifo(path, line),
        }
    }
}

/// Writes one line to a FIFO without blocking (no reader: the line is dropped).
fn write_fifo(path: &str, line: &str) {
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path);
    match f {
        Ok(mut f) => {
            if let Err(e) = f.write_all(line.as_bytes()) {
                log::warn!("notify fifo {path}: {e}");
            }
        }
        Err(e) => log::warn!("notify fifo {path}: {e}"),
    }
}

impl World for SysWorld {
    fn perform(&mut self, now: Instant, action: Action) {
        self.perform_inner(now, action);
    }
}
