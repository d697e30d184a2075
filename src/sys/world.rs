//! The Linux world: executes the engine's [`Action`]s with syscalls (VRRP sockets, packet
//! socket, rtnetlink, child processes, FIFOs) and turns what the kernel reports (interface
//! changes, script exits) into [`Event`]s. The reactor owns the loop; this owns the I/O
//! objects and what the daemon created, so it can release it at exit.

use super::arp::{garp_frame, PacketSocket};
use super::conn::{Conns, Io};
use super::iftable::Interfaces;
use super::ndisc::unsolicited_na_frame;
use super::netlink_route::{
    addr_gen_none_request, del_link_request, new_macvlan_request, set_link_up_request, RtMessage,
};
use super::netlink_sock::{CmdOutput, DumpKind, NlCommand, OnAck};
use super::nftables_fw::Firewall;
use super::process::{Processes, Started};
use super::rawsock::VrrpSocket;
use super::rawsock_mmsg::{RxBuffers, TxAdvert};
use super::sysctl::Sysctls;
use super::token::Registry;
use super::world_frames::{FrameKind, FrameQueue, QueuedFrame};
use crate::config::model::{Family, Route, Rule, VirtualAddress};
use crate::event::{Action, Event, InterfaceState, ScriptOutcome, World};
use crate::sched::Instant;
use mio::unix::SourceFd;
use mio::{Interest, Token};
use std::collections::{BTreeMap, BTreeSet};
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
    /// The nf_tables channel of Accept_Mode.
    Nftables,
    /// The control socket, the metrics endpoint and their connections (`sys::control`).
    Control(super::control::Endpoint),
    /// A checker's or the alerter's connection (`sys::conn`).
    Conn(crate::event::ConnId),
    /// A shared ICMP socket of `sys::conn` (its key).
    ConnIcmp(u32),
    /// The AgentX connection to snmpd (`sys::agentx`).
    AgentX,
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
    /// VRID conflict episodes raised (extension).
    pub conflicts: u64,
}

pub(super) struct SockEntry {
    pub(super) sock: VrrpSocket,
    pub(super) token: Token,
    /// Deliver what it reads (a send-only socket, e.g. on a VMAC, discards).
    pub(super) receive: bool,
    /// Adverts of this engine step waiting for one `sendmmsg` (world_sockets.rs).
    pub(super) tx: Vec<TxAdvert>,
}

/// Things we created and must release at exit (unless -V).
#[derive(Default, Debug)]
pub struct Created {
    pub addrs: Vec<(String, VirtualAddress)>,
    pub routes: Vec<Route>,
    pub rules: Vec<Rule>,
    pub vmacs: Vec<String>,
}

pub(super) const QUIET_ADD: &[i32] = &[libc::EEXIST];
pub(super) const QUIET_DEL: &[i32] =
    &[libc::EADDRNOTAVAIL, libc::ENODEV, libc::ESRCH, libc::ENOENT];
pub(super) const DEFER_LIMIT: Duration = Duration::from_secs(5);
const LOG_EVERY: Duration = Duration::from_secs(10);

pub struct SysWorld {
    pub registry: mio::Registry,
    pub tokens: Registry<Source>,
    pub ifaces: Interfaces,
    pub(super) staging: Option<Interfaces>,
    pub(super) reported: BTreeMap<String, InterfaceState>,
    pub(super) wanted: BTreeMap<(String, bool), BTreeSet<IpAddr>>,
    pub(super) socks: BTreeMap<(String, bool), SockEntry>,
    pub(super) packet: Option<PacketSocket>,
    pub nl: NlCommand,
    pub procs: Processes,
    pub created: Created,
    pub sysctls: Sysctls,
    pub stats: Stats,
    /// Actions waiting for an interface we created (a VMAC) to appear.
    pub(super) deferred: Vec<(Instant, Action)>,
    /// GARP / NA frames waiting behind the adverts (world_frames.rs).
    pub(super) frames: FrameQueue,
    /// Events for the engine produced while performing or reading.
    pub events: Vec<Event>,
    /// The receive slots of `recvmmsg`, shared by every VRRP socket.
    pub(super) rx: RxBuffers,
    /// Shutting down with -V: keep addresses, routes, rules, VMACs.
    pub keep_on_exit: bool,
    /// `-a`: log every address change the monitor reports.
    pub(super) address_monitoring: bool,
    pub shutting_down: bool,
    /// The notify FIFOs, kept open.
    pub fifos: super::fifo_writer::FifoWriter,
    pub(super) child_tokens: BTreeMap<i32, Token>,
    /// Rate limit of repeated error logs: key -> (last logged, suppressed since).
    pub(super) error_log: BTreeMap<String, (Option<Instant>, u64)>,
    /// Receive interface (a VMAC) -> the interface the engine knows the instance by.
    pub(super) relabel: BTreeMap<String, String>,
    /// Accept_Mode: the nftables table of blocked VIPs.
    pub firewall: Firewall,
    /// Checker and alerter connections.
    pub conns: Conns,
    /// Instances that became Master since the reactor last took them (recorded only
    /// when Some: SNMP notifications are on).
    pub new_masters: Option<Vec<String>>,
    /// State changes performed so far (SNMP rebuilds its view when it moves).
    pub state_changes: u64,
    /// The IPVS channel, opened at the first `Action::IpvsRead`.
    pub ipvs: super::ipvs::Ipvs,
}

pub(super) fn ipv6_of(f: Family) -> bool {
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
            frames: FrameQueue::default(),
            events: Vec::new(),
            rx: RxBuffers::default(),
            keep_on_exit: false,
            address_monitoring: false,
            shutting_down: false,
            fifos: Default::default(),
            child_tokens: BTreeMap::new(),
            error_log: BTreeMap::new(),
            relabel: BTreeMap::new(),
            new_masters: None,
            state_changes: 0,
            ipvs: Default::default(),
            firewall: Firewall::new(),
            conns: Conns::new(),
        }
    }

    // ------------------------------------------------------------ interfaces

    pub fn set_address_monitoring(&mut self, on: bool) {
        self.address_monitoring = on;
    }

    /// `-a`: reports every address the kernel adds or removes.
    fn log_address_change(&self, m: &RtMessage) {
        let (verb, a) = match m {
            RtMessage::NewAddr(a) => ("added to", a),
            RtMessage::DelAddr(a) => ("removed from", a),
            _ => return,
        };
        let ifname = self
            .ifaces
            .by_index(a.index)
            .map(|i| i.link.name.clone())
            .unwrap_or_else(|| format!("ifindex {}", a.index));
        log::info!(
            "Netlink reports {}/{} {verb} {ifname}",
            a.addr,
            a.prefix_len
        );
    }

    /// Applies monitor messages, then reports changes: deleted addresses one by one (a
    /// Master puts back a VIP someone else removed), interfaces as their new state.
    pub fn apply_rt(&mut self, now: Instant, msgs: Vec<RtMessage>) {
        for m in msgs {
            if self.address_monitoring {
                self.log_address_change(&m);
            }
            if let RtMessage::DelAddr(a) = &m {
                if let Some(i) = self.ifaces.by_index(a.index) {
                    self.events.push(Event::AddressDeleted {
                        ifname: i.link.name.clone(),
                        addr: a.addr,
                    });
                }
            }
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

    // ------------------------------------------------------------ children

    /// Reaps children (one pid, or all on SIGCHLD), reports the runs the engine waits on,
    /// and starts the notify scripts that were waiting for a slot.
    pub fn reap(&mut self, now: Instant, pid: Option<i32>) {
        let finished = self.procs.reap(pid);
        if finished.is_empty() {
            return;
        }
        for f in finished {
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
        if self.shutting_down {
            return;
        }
        for r in self.procs.start_waiting(now) {
            match r {
                Ok(pid) => self.watch_child(pid),
                Err(e) => {
                    self.stats.scripts_failed_to_start += 1;
                    log::error!("{e}");
                }
            }
        }
    }

    /// Counts a started child and registers its pidfd (when it has one) with the loop.
    fn watch_child(&mut self, pid: i32) {
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

    /// Logs an error at most once per [`LOG_EVERY`] for `key`, counting what it held back
    /// (a dead interface must not flood the log at 100 adverts a second).
    pub(super) fn error_limited(&mut self, now: Instant, key: &str, msg: String) {
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

    pub(super) fn send_frame(
        &mut self,
        now: Instant,
        ifname: &str,
        frame: &[u8],
        what: &str,
    ) -> bool {
        let Some(index) = self.ifaces.index_of(ifname) else {
            self.error_limited(now, what, format!("{what}: no interface '{ifname}'"));
            return false;
        };
        let Some(p) = &self.packet else {
            return false;
        };
        match p.send_frame(index, frame) {
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
            // -V: what stays stays as it was, its firewall rules included.
            if let Action::DelAddress { .. }
            | Action::UnblockAddress { .. }
            | Action::DelRoute(_)
            | Action::DelRule(_)
            | Action::DeleteVmac { .. } = action
            {
                return;
            }
        }
        // Adverts wait in their socket's batch (world_sockets.rs) and GARP / NA frames
        // behind them (world_frames.rs); any other action first sends the adverts that
        // wait, so the order of adverts and kernel changes is the engine's.
        let action = match action {
            Action::SendAdvert(p) => return self.queue_advert(now, p),
            a => a,
        };
        if !matches!(
            action,
            Action::SendGratuitousArp { .. } | Action::SendUnsolicitedNa { .. }
        ) {
            self.flush_adverts(now);
        }
        match &action {
            Action::SendAdvert(_) => {} // queued above
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
                self.frames.push(QueuedFrame {
                    ifname: ifname.clone(),
                    frame: garp_frame(*ip, mac),
                    what: format!("({instance}) GARP {ip}"),
                    kind: FrameKind::Garp,
                });
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
                self.frames.push(QueuedFrame {
                    ifname: ifname.clone(),
                    frame: unsolicited_na_frame(src, *ip, mac),
                    what: format!("({instance}) NA {ip}"),
                    kind: FrameKind::Na,
                });
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
            } => {
                log::debug!("({instance}) state {to}, priority {priority}");
                self.state_changes += 1;
                if let (Some(v), crate::vrrp::State::Master) = (self.new_masters.as_mut(), to) {
                    v.push(instance.clone());
                }
            }
            Action::PriorityChanged { instance, priority } => {
                log::debug!("({instance}) effective priority is now {priority}")
            }
            Action::RunScript {
                run,
                command,
                timeout,
            } => match self.procs.spawn(now, *run, command, *timeout) {
                Ok(Started::Pid(pid)) => self.watch_child(pid),
                Ok(Started::Queued) => {}
                Ok(Started::Skipped) => {
                    if let Some(run) = run {
                        self.events.push(Event::ScriptExited {
                            run: *run,
                            outcome: ScriptOutcome::Skipped,
                        });
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
            Action::WriteFifo { path, line } => self.fifos.write(path, line),
            Action::Conflict { .. } => self.stats.conflicts += 1,
            Action::Connect { conn, spec } => {
                let mut io = Io {
                    registry: &self.registry,
                    tokens: &mut self.tokens,
                    events: &mut self.events,
                };
                self.conns.connect(&mut io, *conn, spec);
            }
            Action::Send { conn, data } => {
                let mut io = Io {
                    registry: &self.registry,
                    tokens: &mut self.tokens,
                    events: &mut self.events,
                };
                self.conns.send(&mut io, *conn, data.clone());
            }
            Action::Close { conn } => {
                let mut io = Io {
                    registry: &self.registry,
                    tokens: &mut self.tokens,
                    events: &mut self.events,
                };
                self.conns.close(&mut io, *conn);
            }
            Action::RealServerChanged { vs, rs, up, weight } => {
                // The engine has logged keepalived's line (`Removing service ...`).
                let what = if *up { "up" } else { "down" };
                log::debug!("{rs} of VS {vs} is {what} (weight {weight})");
            }
            // The generic-netlink IPVS channel (`sys::ipvs`): request / answer, bounded.
            Action::IpvsRead => {
                let table = self.ipvs.read();
                self.events.push(Event::IpvsTable(table));
            }
            Action::Ipvs(ops) => {
                for (op, error) in self.ipvs.apply(ops) {
                    self.events.push(Event::IpvsFailed { op, error });
                }
            }
            Action::IpvsDaemon { start, daemon } => self.ipvs.daemon(*start, daemon),
            Action::IpvsTimeouts { tcp, tcpfin, udp } => self.ipvs.timeouts(*tcp, *tcpfin, *udp),
            Action::BlockAddress {
                instance,
                ifname,
                addr,
            } => self.firewall_action(now, true, instance, ifname, *addr, &action),
            Action::UnblockAddress {
                instance,
                ifname,
                addr,
            } => self.firewall_action(now, false, instance, ifname, *addr, &action),
        }
    }
}

impl SysWorld {
    /// Starts one of the daemon's own children — `startup_script` / `shutdown_script`
    /// (with their timeouts), the notify FIFOs' readers (none: they run as long as the
    /// daemon) — outside the caps of notify and track scripts, and watches its exit.
    /// Returns its pid; one that cannot start is logged.
    pub fn spawn_child(
        &mut self,
        now: Instant,
        command: &crate::config::model::ScriptCommand,
        timeout: Option<Duration>,
    ) -> Option<i32> {
        match self.procs.spawn_own(now, command, timeout) {
            Ok(pid) => {
                self.watch_child(pid);
                Some(pid)
            }
            Err(e) => {
                self.stats.scripts_failed_to_start += 1;
                log::error!("cannot run '{}': {e}", command.argv.join(" "));
                None
            }
        }
    }
}

impl SysWorld {
    /// Readiness of a connection's socket ([`Source::Conn`], [`Source::ConnIcmp`]); what
    /// it reports goes to `events`. Other sources are not this function's.
    pub fn on_conn_io(&mut self, src: &Source) {
        let mut io = Io {
            registry: &self.registry,
            tokens: &mut self.tokens,
            events: &mut self.events,
        };
        match src {
            Source::Conn(id) => self.conns.on_ready(&mut io, *id),
            Source::ConnIcmp(k) => self.conns.on_icmp_ready(&mut io, *k),
            _ => {}
        }
    }

    /// The start of a loop turn for the connections: the read budget is renewed, the
    /// connections a bound stopped at the last turn are read first.
    pub fn conns_turn(&mut self) {
        let mut io = Io {
            registry: &self.registry,
            tokens: &mut self.tokens,
            events: &mut self.events,
        };
        self.conns.begin_turn(&mut io);
    }
}

impl World for SysWorld {
    fn perform(&mut self, now: Instant, action: Action) {
        self.perform_inner(now, action);
    }
}
