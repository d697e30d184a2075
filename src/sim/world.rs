//! The simulated world and its run loop: hosts, network and frames in flight, driven by a
//! discrete-event clock that jumps to the earliest of (any running host's engine
//! deadline, the next frame delivery / timeline stimulus / script exit).
//!
//! Tie rule at one instant (fixed, so runs are reproducible; the same-instant rule of
//! `crate::event`, shared with `sys`): first the I/O due at that instant (frames in send
//! order, injected packets, script exits), then every host whose engine deadline is due
//! fires its timers (hosts in declaration order), and only then the scenario's stimuli
//! for that instant (in file order). Anything produced at the same instant joins the same
//! rules. See `Sim::run_instant`.

mod conns;

use super::bridge::Bridge;
use super::clock::SimClock;
use super::craft::summarize;
use super::host::{Host, Status};
use super::net::Net;
use super::rng::Rng;
use super::scenario::{Inject, InlineConfig, Scenario, ScriptResult, SimDump, Stimulus};
use super::trace::{Rec, TraceLine};
use crate::config::{load_str, LoadOptions};
use crate::engine::Engine;
use crate::event::{Action, Event, ReceivedPacket, ScriptOutcome, ScriptRunId, World};
use crate::sched::Instant;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

/// Something due at an instant.
#[derive(Clone, Debug)]
enum Pending {
    Stimulus(Stimulus),
    Deliver {
        host: usize,
        pkt: ReceivedPacket,
    },
    ScriptExit {
        host: usize,
        epoch: u64,
        run: ScriptRunId,
        outcome: ScriptOutcome,
    },
    Inject {
        inject: Inject,
        sent: u32,
    },
    /// A message between a host's engine and a simulated server (`conns`).
    Wire(conns::Wire),
}

/// The [`World`] of one simulated host: what its engine's actions do to the simulated
/// kernel and network.
struct HostWorld<'a> {
    sim: &'a mut Sim,
    host: usize,
}

impl World for HostWorld<'_> {
    fn perform(&mut self, _now: Instant, action: Action) {
        self.sim.perform(self.host, action);
    }
}

/// Most events one host may handle at a single instant before it is declared live-locked.
const LIVELOCK_LIMIT: u32 = 10_000;

pub struct Sim {
    pub clock: SimClock,
    pub hosts: Vec<Host>,
    pub net: Net,
    /// The learning switch of every segment (where frames to a unicast MAC go).
    pub bridge: Bridge,
    /// segment -> ports (host index, physical interface name), in declaration order.
    ports: BTreeMap<String, Vec<(usize, String)>>,
    queue: BTreeMap<(Instant, u64), Pending>,
    seq: u64,
    pub trace: Vec<TraceLine>,
    /// Pending script exits by (host, run), to cancel them on KillScript.
    script_keys: BTreeMap<(usize, u64), (Instant, u64)>,
    /// Per-instant event count of each host (livelock guard).
    fired: BTreeMap<usize, u32>,
    fired_at: Instant,
    /// Draws of script run durations (`script NAME ... jitter D`).
    script_rng: Rng,
    /// Seeds of the engines' own randomness (checker warmup), one per start.
    engine_rng: Rng,
    /// Events the simulated kernel reports while performing a host's actions.
    feedback: Vec<Event>,
    /// The scenario's simulated real servers, in declaration order.
    servers: Vec<conns::ServerRt>,
    /// Open connections by (host, id).
    conns: BTreeMap<(usize, crate::event::ConnId), conns::SimConn>,
    /// Every `Event::Conn` delivered to an engine, with its time and host (tests).
    #[cfg(test)]
    conn_log: Vec<(Instant, usize, Event)>,
}

/// Builds the configuration of every host; errors name the scenario file and the line.
pub fn load_configs(
    sc: &Scenario,
    file: &Path,
) -> Result<Vec<crate::config::model::Config>, String> {
    let mut out = Vec::new();
    for h in &sc.hosts {
        let origin = file.with_file_name(format!(
            "{}#{}",
            file.file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
            h.name
        ));
        // No host checks against the machine running the simulation (its interfaces, its
        // script files and users): the simulated host is checked below instead.
        let opts = LoadOptions {
            config_id: Some(h.name.clone()),
            all_config: false,
            host_interfaces: None,
            check_scripts: false,
            // `${_RANDOM}`: the same values on every run of the scenario.
            random_seed: Some(h.name.bytes().fold(0xcbf2_9ce4_8422_2325, |a, b| {
                (a ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            })),
        };
        let (loaded, first_line) = match &h.config_file {
            Some(rel) => {
                let path = file.parent().unwrap_or(Path::new(".")).join(rel);
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    format!(
                        "{}:{}: host {}: cannot read {}: {e}",
                        file.display(),
                        h.config_line,
                        h.name,
                        path.display()
                    )
                })?;
                (load_str(&text, &path, &opts), None)
            }
            None => (load_str(&h.config, &origin, &opts), Some(h.config_line)),
        };
        let mut errs = Vec::new();
        for d in &loaded.diagnostics {
            if d.severity == crate::config::Severity::Error {
                errs.push(match first_line {
                    Some(l) => format!(
                        "{}:{}: host {} config: {}",
                        file.display(),
                        l + d.span.line.saturating_sub(1) as usize,
                        h.name,
                        d.message
                    ),
                    None => format!("{d} (host {} of {})", h.name, file.display()),
                });
            }
        }
        if !loaded.missing_files.is_empty() {
            errs.push(format!(
                "{}:{}: host {} config could not be loaded ({})",
                file.display(),
                h.config_line,
                h.name,
                loaded
                    .missing_files
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let idle = loaded.config.instances.is_empty() && loaded.config.virtual_servers.is_empty();
        if idle && errs.is_empty() {
            errs.push(format!(
                "{}:{}: host {} config has no vrrp_instance and no virtual_server",
                file.display(),
                h.config_line,
                h.name
            ));
        }
        for inst in &loaded.config.instances {
            if let Some(ifname) = &inst.interface {
                if !h.ifaces.iter().any(|i| &i.name == ifname) {
                    errs.push(format!(
                        "{}:{}: host {}: vrrp_instance {} uses interface {ifname}, which the host does not have (declare it with `iface`)",
                        file.display(),
                        h.line,
                        h.name,
                        inst.name
                    ));
                }
            }
        }
        if !errs.is_empty() {
            return Err(errs.join("\n"));
        }
        out.push(loaded.config);
    }
    Ok(out)
}

impl Sim {
    /// A world for `sc`, with each host's loaded configuration, seeded by `seed`.
    pub fn new(sc: &Scenario, configs: Vec<crate::config::model::Config>, seed: u64) -> Sim {
        let net = Net::new(
            seed,
            sc.segments
                .iter()
                .map(|s| (s.name.clone(), s.params.clone())),
        );
        let mut ports: BTreeMap<String, Vec<(usize, String)>> = BTreeMap::new();
        for s in &sc.segments {
            ports.insert(s.name.clone(), Vec::new());
        }
        let mut hosts = Vec::new();
        for (i, (decl, cfg)) in sc.hosts.iter().cloned().zip(configs).enumerate() {
            for ifd in &decl.ifaces {
                ports
                    .entry(ifd.segment.clone())
                    .or_default()
                    .push((i, ifd.name.clone()));
            }
            hosts.push(Host::new(i, decl, cfg));
        }
        let mut sim = Sim {
            clock: SimClock::default(),
            hosts,
            net,
            bridge: Bridge::default(),
            ports,
            queue: BTreeMap::new(),
            seq: 0,
            trace: Vec::new(),
            script_keys: BTreeMap::new(),
            fired: BTreeMap::new(),
            fired_at: Instant::ZERO,
            script_rng: Rng::stream(seed, "script durations"),
            engine_rng: Rng::stream(seed, "engine seeds"),
            feedback: Vec::new(),
            servers: conns::servers(&sc.servers),
            conns: BTreeMap::new(),
            #[cfg(test)]
            conn_log: Vec::new(),
        };
        sim.trace_servers();
        for (i, h) in sc.hosts.iter().enumerate() {
            for op in &h.ipvsadm {
                sim.ipvsadm(i, op.clone());
            }
        }
        for h in &sc.hosts {
            if h.autostart {
                sim.push(
                    Instant::ZERO,
                    Pending::Stimulus(Stimulus::Start(h.name.clone())),
                );
            }
        }
        let mut timeline = sc.timeline.clone();
        timeline.sort_by_key(|t| t.at); // stable: file order among equal times
        for t in timeline {
            sim.push(t.at, Pending::Stimulus(t.stimulus));
        }
        sim
    }

    /// The operator runs `ipvsadm` on host `i` (before the run, or at a stimulus): the
    /// kernel's table changes behind the daemon's back.
    fn ipvsadm(&mut self, i: usize, op: crate::ipvs::diff::Op) {
        let refused = self.hosts[i].kernel.ipvs.apply(&op).err();
        let name = self.hosts[i].name.clone();
        self.rec(
            &name,
            Rec::Ipvs {
                op,
                operator: true,
                refused,
            },
        );
    }

    fn push(&mut self, at: Instant, p: Pending) -> (Instant, u64) {
        let key = (at, self.seq);
        self.seq += 1;
        self.queue.insert(key, p);
        key
    }

    fn rec(&mut self, host: &str, rec: Rec) {
        self.trace.push(TraceLine {
            at: self.clock.now(),
            host: host.to_string(),
            rec,
        });
    }

    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    pub fn host_index(&self, name: &str) -> Option<usize> {
        self.hosts.iter().position(|h| h.name == name)
    }

    fn host_deadline(&self, i: usize) -> Option<Instant> {
        let h = &self.hosts[i];
        if h.status != Status::Running {
            return None;
        }
        let d = h.engine.as_ref()?.next_deadline()?;
        if self.fired_at == self.clock.now()
            && self.fired.get(&i).copied().unwrap_or(0) >= LIVELOCK_LIMIT
        {
            return Some(d.max(self.clock.now() + Duration::from_nanos(1)));
        }
        Some(d)
    }

    /// The next instant anything happens, if any.
    pub fn next_time(&self) -> Option<Instant> {
        let q = self.queue.keys().next().map(|k| k.0);
        let h = (0..self.hosts.len())
            .filter_map(|i| self.host_deadline(i))
            .min();
        match (q, h) {
            (Some(a), Some(b)) => Some(a.min(b).max(self.clock.now())),
            (a, b) => a.or(b).map(|t| t.max(self.clock.now())),
        }
    }

    /// Runs every instant up to and including `until`; `after_instant` is called once each
    /// instant is complete (for invariant checks).
    pub fn run_until(&mut self, until: Instant, mut after_instant: impl FnMut(&Sim)) {
        while let Some(t) = self.next_time() {
            if t > until {
                break;
            }
            self.clock.advance_to(t);
            self.run_instant();
            after_instant(self);
        }
        self.clock.advance_to(until);
    }

    fn count_fire(&mut self, i: usize) -> bool {
        let now = self.clock.now();
        if self.fired_at != now {
            self.fired.clear();
            self.fired_at = now;
        }
        let c = self.fired.entry(i).or_insert(0);
        *c += 1;
        if *c == LIVELOCK_LIMIT {
            let name = self.hosts[i].name.clone();
            self.rec(
                &name,
                Rec::Warn(format!(
                    "engine live-locked: {LIVELOCK_LIMIT} events at one instant"
                )),
            );
            return false;
        }
        *c < LIVELOCK_LIMIT
    }

    /// One instant, by the same-instant rule of `crate::event`: the I/O queued for this
    /// instant (frames, injected packets, script exits) is handled first, in queue order;
    /// then the hosts whose timers are due fire them (in declaration order); what a timer
    /// produces for the same instant (a zero-delay frame) is again I/O, handled before the
    /// next host's timers. The scenario's own stimuli (`at T kill r1`, `link`, `reload`…)
    /// act last, once the instant's I/O and timers are done: `at 10s kill r1` kills r1
    /// after the advert it sends at 10 s.
    fn run_instant(&mut self) {
        let now = self.clock.now();
        loop {
            let due = |p: &Pending| !matches!(p, Pending::Stimulus(_));
            let io = self
                .queue
                .iter()
                .take_while(|(k, _)| k.0 <= now)
                .find(|(_, p)| due(p))
                .map(|(k, _)| *k);
            if let Some(key) = io {
                if let Some(p) = self.queue.remove(&key) {
                    self.process(p);
                }
                continue;
            }
            let host =
                (0..self.hosts.len()).find(|&i| self.host_deadline(i).is_some_and(|d| d <= now));
            if let Some(i) = host {
                if self.count_fire(i) {
                    self.engine_event(i, Event::Timers);
                } else {
                    // An engine whose deadline never moves past `now` would stop time:
                    // take it out of the run, loudly (the warning is in the trace).
                    self.hosts[i].engine = None;
                    self.hosts[i].status = Status::Idle;
                }
                continue;
            }
            let stimulus = self.queue.keys().next().copied().filter(|k| k.0 <= now);
            let Some(key) = stimulus else { break };
            if let Some(p) = self.queue.remove(&key) {
                self.process(p);
            }
        }
    }

    fn process(&mut self, p: Pending) {
        match p {
            Pending::Stimulus(s) => self.stimulus(s),
            Pending::Deliver { host, pkt } => {
                if self.hosts[host].status == Status::Running && self.count_fire(host) {
                    let up = self.hosts[host]
                        .kernel
                        .iface(&pkt.ifname)
                        .is_some_and(|i| i.up);
                    if up {
                        self.engine_event(host, Event::Packet(pkt));
                    }
                }
            }
            Pending::ScriptExit {
                host,
                epoch,
                run,
                outcome,
            } => {
                self.script_keys.remove(&(host, run.0));
                let h = &self.hosts[host];
                if h.epoch != epoch || h.engine.is_none() {
                    return;
                }
                let name = h.name.clone();
                self.rec(
                    &name,
                    Rec::ScriptExit {
                        run: run.0,
                        outcome: outcome_text(&outcome),
                    },
                );
                let ev = Event::ScriptExited { run, outcome };
                if self.hosts[host].status == Status::Paused {
                    self.hosts[host].deferred.push(ev);
                } else {
                    self.engine_event(host, ev);
                }
            }
            Pending::Inject { inject, sent } => self.inject(inject, sent),
            Pending::Wire(w) => self.deliver_wire(w),
        }
    }

    /// Feeds one event to a running host's engine and performs what it answers.
    fn engine_event(&mut self, i: usize, ev: Event) {
        let now = self.clock.now();
        let Some(engine) = self.hosts[i].engine.as_mut() else {
            return;
        };
        engine.handle(now, ev);
        self.drain(i);
    }

    /// Performs every action of host `i`'s engine through its [`HostWorld`]; what the
    /// simulated kernel reports back while doing so (a VMAC that appeared, the IPVS table
    /// read, a refused IPVS operation) is handled after the batch, in the same instant,
    /// as `sys` does, until the engine has nothing more to do.
    fn drain(&mut self, i: usize) {
        loop {
            let Some(mut engine) = self.hosts[i].engine.take() else {
                return;
            };
            let now = self.clock.now();
            engine.drive(now, &mut HostWorld { sim: self, host: i });
            let feedback = std::mem::take(&mut self.feedback);
            if feedback.is_empty() {
                self.hosts[i].engine = Some(engine);
                return;
            }
            for ev in feedback {
                engine.handle(now, ev);
            }
            self.hosts[i].engine = Some(engine);
        }
    }

    /// Host `i` sent a frame with source `mac` from its interface `ifname`: the switch of
    /// the segment learns where `mac` lives (nothing if the link is down or unplugged).
    fn learn(&mut self, i: usize, ifname: &str, mac: crate::event::Mac) {
        let k = &self.hosts[i].kernel;
        let Some(base) = k.base_of(ifname) else {
            return;
        };
        let up = k.iface(ifname).is_some_and(|f| f.up) && base.up;
        if let (true, Some(seg)) = (up, base.segment.clone()) {
            let port = (i, base.name.clone());
            let now = self.clock.now();
            self.bridge.learn(&seg, mac, port, now);
        }
    }

    fn perform(&mut self, i: usize, a: Action) {
        let hname = self.hosts[i].name.clone();
        match a {
            Action::SendAdvert(p) => {
                let k = &self.hosts[i].kernel;
                let Some(ifc) = k.iface(&p.ifname) else {
                    self.rec(
                        &hname,
                        Rec::Warn(format!("advert on unknown interface {}", p.ifname)),
                    );
                    return;
                };
                if !ifc.up {
                    self.rec(
                        &hname,
                        Rec::Warn(format!("advert on {} while its link is down", p.ifname)),
                    );
                    return;
                }
                let mac = p.src_mac.unwrap_or(ifc.mac);
                let segment = ifc.segment.clone();
                self.learn(i, &p.ifname, mac);
                let summary = summarize(&p.payload, p.src, p.dst);
                self.rec(
                    &hname,
                    Rec::Advert {
                        ifname: p.ifname.clone(),
                        src: p.src,
                        dst: p.dst,
                        mac,
                        ttl: p.ttl,
                        summary,
                        bytes: p.payload.clone(),
                    },
                );
                if let Some(seg) = segment {
                    self.transmit(&seg, Some(i), p.src, p.dst, p.ttl, p.payload, true);
                }
            }
            Action::SendGratuitousArp {
                ifname, ip, mac, ..
            } => {
                self.learn(i, &ifname, mac);
                self.rec(
                    &hname,
                    Rec::Garp {
                        ifname,
                        ip: IpAddr::V4(ip),
                        mac,
                    },
                )
            }
            Action::SendUnsolicitedNa {
                ifname, ip, mac, ..
            } => {
                self.learn(i, &ifname, mac);
                self.rec(
                    &hname,
                    Rec::Na {
                        ifname,
                        ip: IpAddr::V6(ip),
                        mac,
                    },
                )
            }
            Action::Conflict {
                instance,
                kind,
                peer,
            } => self.rec(
                &hname,
                Rec::Conflict {
                    instance,
                    kind: kind.to_string(),
                    peer,
                },
            ),
            Action::Connect { conn, spec } => self.conn_connect(i, conn, spec),
            Action::Send { conn, data } => self.conn_send(i, conn, data),
            Action::Close { conn } => self.conn_close(i, conn),
            Action::RealServerChanged { vs, rs, up, weight } => {
                self.rec(&hname, Rec::RealServer { vs, rs, up, weight })
            }
            Action::IpvsRead => {
                // Answered like a netlink dump: in the same instant, after this batch.
                let ipvs = &self.hosts[i].kernel.ipvs;
                let answer = ipvs.read();
                let counted = answer
                    .as_ref()
                    .map(|t| (t.len(), ipvs.dest_count()))
                    .map_err(Clone::clone);
                self.rec(&hname, Rec::IpvsRead { answer: counted });
                self.feedback.push(Event::IpvsTable(answer));
            }
            Action::Ipvs(ops) => {
                for op in ops {
                    let refused = self.hosts[i].kernel.ipvs.apply(&op).err();
                    if let Some(error) = &refused {
                        self.feedback.push(Event::IpvsFailed {
                            op: op.clone(),
                            error: error.clone(),
                        });
                    }
                    self.rec(
                        &hname,
                        Rec::Ipvs {
                            op,
                            operator: false,
                            refused,
                        },
                    );
                }
            }
            Action::IpvsDaemon { start, daemon } => {
                let refused = self.hosts[i].kernel.ipvs.daemon(start, &daemon).err();
                self.rec(
                    &hname,
                    Rec::IpvsSync {
                        start,
                        daemon,
                        refused,
                    },
                );
            }
            Action::IpvsTimeouts { tcp, tcpfin, udp } => {
                let refused = self.hosts[i]
                    .kernel
                    .ipvs
                    .set_timeouts(tcp, tcpfin, udp)
                    .err();
                self.rec(
                    &hname,
                    Rec::IpvsTimeouts {
                        tcp,
                        tcpfin,
                        udp,
                        refused,
                    },
                );
            }
            Action::BlockAddress { ifname, addr, .. } => {
                let drop = &mut self.hosts[i].kernel.drop_in;
                if !drop.contains(&(ifname.clone(), addr)) {
                    drop.push((ifname, addr));
                }
            }
            Action::UnblockAddress { ifname, addr, .. } => {
                self.hosts[i]
                    .kernel
                    .drop_in
                    .retain(|(f, a)| !(f == &ifname && a == &addr));
            }
            Action::AddAddress { ifname, addr } => {
                let dev = addr.dev.clone().unwrap_or(ifname);
                if !self.hosts[i]
                    .kernel
                    .add_addr(&dev, addr.addr, addr.prefix_len)
                {
                    self.rec(
                        &hname,
                        Rec::Warn(format!(
                            "add {} on {dev}: exists or no such interface",
                            addr.addr
                        )),
                    );
                }
                self.rec(
                    &hname,
                    Rec::AddAddr {
                        ifname: dev,
                        addr: addr.addr,
                        prefix: addr.prefix_len,
                    },
                );
            }
            Action::DelAddress { ifname, addr } => {
                let dev = addr.dev.clone().unwrap_or(ifname);
                if !self.hosts[i].kernel.del_addr(&dev, addr.addr) {
                    self.rec(
                        &hname,
                        Rec::Warn(format!("del {} on {dev}: not present", addr.addr)),
                    );
                }
                self.rec(
                    &hname,
                    Rec::DelAddr {
                        ifname: dev,
                        addr: addr.addr,
                        prefix: addr.prefix_len,
                    },
                );
            }
            Action::AddRoute(r) => {
                self.hosts[i].kernel.add_route(&r);
                self.rec(
                    &hname,
                    Rec::Route {
                        add: true,
                        route: r,
                    },
                );
            }
            Action::DelRoute(r) => {
                if !self.hosts[i].kernel.del_route(&r) {
                    self.rec(&hname, Rec::Warn(format!("del route {r}: not present")));
                }
                self.rec(
                    &hname,
                    Rec::Route {
                        add: false,
                        route: r,
                    },
                );
            }
            Action::AddRule(r) => {
                self.hosts[i].kernel.add_rule(&r);
                self.rec(&hname, Rec::Rule { add: true, rule: r });
            }
            Action::DelRule(r) => {
                if !self.hosts[i].kernel.del_rule(&r) {
                    self.rec(&hname, Rec::Warn(format!("del rule {r}: not present")));
                }
                self.rec(
                    &hname,
                    Rec::Rule {
                        add: false,
                        rule: r,
                    },
                );
            }
            Action::CreateVmac { name, parent, mac } => {
                let ok = self.hosts[i].kernel.create_vmac(&name, &parent, mac);
                self.rec(
                    &hname,
                    Rec::Vmac {
                        create: true,
                        name: name.clone(),
                        parent,
                        mac: Some(mac),
                    },
                );
                if ok {
                    if let Some(st) = self.hosts[i].kernel.iface(&name).map(|f| f.state()) {
                        self.feedback.push(Event::Interface(st));
                    }
                } else {
                    self.rec(&hname, Rec::Warn(format!("cannot create {name}")));
                }
            }
            Action::DeleteVmac { name } => {
                let ok = self.hosts[i].kernel.delete_vmac(&name);
                self.rec(
                    &hname,
                    Rec::Vmac {
                        create: false,
                        name: name.clone(),
                        parent: String::new(),
                        mac: None,
                    },
                );
                if ok {
                    self.feedback.push(Event::InterfaceRemoved { name });
                }
            }
            Action::StateChanged {
                instance,
                from,
                to,
                priority,
            } => self.rec(
                &hname,
                Rec::State {
                    instance,
                    from: from.to_string(),
                    to: to.to_string(),
                    prio: priority,
                },
            ),
            Action::PriorityChanged { instance, priority } => self.rec(
                &hname,
                Rec::Priority {
                    instance,
                    prio: priority,
                },
            ),
            Action::RunScript {
                run,
                command,
                timeout,
            } => {
                let argv = command.argv.join(" ");
                self.rec(
                    &hname,
                    Rec::Script {
                        argv,
                        run: run.map(|r| r.0),
                    },
                );
                let Some(run) = run else { return };
                let argv0 = command.argv.first().cloned().unwrap_or_default();
                let plan = self.hosts[i].script_result(&argv0);
                let result = plan.result;
                let jitter = u64::try_from(plan.jitter.as_nanos()).unwrap_or(u64::MAX);
                let delay = plan.delay + Duration::from_nanos(self.script_rng.range(0, jitter));
                let now = self.clock.now();
                let epoch = self.hosts[i].epoch;
                let (at, outcome) = match result {
                    ScriptResult::Exit(c) => match timeout {
                        Some(t) if t < delay => (now + t, ScriptOutcome::TimedOut),
                        _ => (now + delay, ScriptOutcome::Exited(c)),
                    },
                    ScriptResult::Hang => match timeout {
                        Some(t) => (now + t, ScriptOutcome::TimedOut),
                        None => return,
                    },
                };
                let key = self.push(
                    at,
                    Pending::ScriptExit {
                        host: i,
                        epoch,
                        run,
                        outcome,
                    },
                );
                self.script_keys.insert((i, run.0), key);
            }
            Action::KillScript { run } => {
                self.rec(&hname, Rec::ScriptKill { run: run.0 });
                if let Some(key) = self.script_keys.remove(&(i, run.0)) {
                    self.queue.remove(&key);
                    let now = self.clock.now();
                    let epoch = self.hosts[i].epoch;
                    self.push(
                        now,
                        Pending::ScriptExit {
                            host: i,
                            epoch,
                            run,
                            outcome: ScriptOutcome::Signaled(15),
                        },
                    );
                }
            }
            Action::WriteFifo { path, line } => self.rec(&hname, Rec::Fifo { path, line }),
        }
    }

    /// Puts a frame on `segment` from host `from` (None: a scripted peer).
    #[allow(clippy::too_many_arguments)]
    fn transmit(
        &mut self,
        segment: &str,
        from: Option<usize>,
        src: IpAddr,
        dst: IpAddr,
        ttl: u8,
        payload: Vec<u8>,
        faults: bool,
    ) {
        let ports = self.ports.get(segment).cloned().unwrap_or_default();
        let multicast = dst.is_multicast();
        let now = self.clock.now();
        let from_name = from
            .map(|f| self.hosts[f].name.clone())
            .unwrap_or_else(|| "peer".into());
        for (hi, ifname) in ports {
            if Some(hi) == from {
                continue;
            }
            let h = &self.hosts[hi];
            if !multicast && !h.kernel.on_port(&ifname).any(|f| f.holds(dst)) {
                continue;
            }
            let delays = if faults {
                let to = h.name.clone();
                self.net.fate(segment, &from_name, &to)
            } else {
                vec![Duration::ZERO]
            };
            for d in delays {
                let pkt = ReceivedPacket {
                    ifname: ifname.clone(),
                    src,
                    dst,
                    ttl,
                    payload: payload.clone(),
                };
                self.push(now + d, Pending::Deliver { host: hi, pkt });
            }
        }
    }

    fn inject(&mut self, inj: Inject, sent: u32) {
        let bytes = inj.packet.build();
        let src = inj.packet.src;
        let dst = inj.packet.dst();
        let summary = summarize(&bytes, src, dst);
        self.rec(
            "peer",
            Rec::Inject {
                segment: inj.segment.clone(),
                src,
                ttl: inj.packet.ttl,
                summary,
                bytes: bytes.clone(),
            },
        );
        self.transmit(&inj.segment, None, src, dst, inj.packet.ttl, bytes, false);
        let sent = sent + 1;
        if let Some(every) = inj.every {
            let next = self.clock.now() + every;
            let more_by_count = inj.count.map_or(true, |c| sent < c);
            let more_by_time = inj.until.map_or(true, |u| next <= u);
            let bounded = inj.count.is_some() || inj.until.is_some();
            if more_by_count && more_by_time && bounded {
                self.push(next, Pending::Inject { inject: inj, sent });
            }
        } else if inj.count.is_some_and(|c| sent < c) {
            let now = self.clock.now();
            self.push(now, Pending::Inject { inject: inj, sent });
        }
    }

    fn stimulus(&mut self, s: Stimulus) {
        match s {
            Stimulus::Start(h) => self.with_host(&h, Sim::start),
            Stimulus::Stop(h) => self.with_host(&h, Sim::stop),
            Stimulus::Kill(h) => self.with_host(&h, Sim::kill),
            Stimulus::Restart(h) => self.with_host(&h, |s, i| {
                s.stop(i);
                s.start(i);
            }),
            Stimulus::Pause(h) => self.with_host(&h, |s, i| {
                if s.hosts[i].status == Status::Running {
                    s.hosts[i].status = Status::Paused;
                    let n = s.hosts[i].name.clone();
                    s.rec(&n, Rec::Life("paused".into()));
                }
            }),
            Stimulus::Resume(h) => self.with_host(&h, |s, i| {
                if s.hosts[i].status == Status::Paused {
                    s.hosts[i].status = Status::Running;
                    let n = s.hosts[i].name.clone();
                    s.rec(&n, Rec::Life("resumed".into()));
                    let evs = std::mem::take(&mut s.hosts[i].deferred);
                    for e in evs {
                        s.engine_event(i, e);
                    }
                }
            }),
            Stimulus::Link { host, ifname, up } => self.with_host(&host, |s, i| {
                let changed = s.hosts[i].kernel.set_link(&ifname, up);
                if !up {
                    // The switch forgets what it learned on a port whose carrier is lost.
                    s.bridge.flush_port(i, &ifname);
                }
                let n = s.hosts[i].name.clone();
                s.rec(
                    &n,
                    Rec::Link {
                        ifname: ifname.clone(),
                        up,
                    },
                );
                for c in changed {
                    if let Some(st) = s.hosts[i].kernel.iface(&c).map(|f| f.state()) {
                        match s.hosts[i].status {
                            Status::Running => s.engine_event(i, Event::Interface(st)),
                            Status::Paused => {
                                // A frozen process sees only the latest state of a link.
                                s.hosts[i].deferred.retain(
                                    |e| !matches!(e, Event::Interface(x) if x.name == st.name),
                                );
                                s.hosts[i].deferred.push(Event::Interface(st));
                            }
                            _ => {}
                        }
                    }
                }
            }),
            Stimulus::Partition(groups) => {
                self.net.partition(&groups);
                let text: Vec<String> = groups.iter().map(|g| g.join(" ")).collect();
                self.rec("net", Rec::Net(format!("partition {}", text.join(" | "))));
            }
            Stimulus::Heal => {
                self.net.heal();
                self.rec("net", Rec::Net("heal".into()));
            }
            Stimulus::Loss { segment, ppm } => {
                if let Some(p) = self.net.params_mut(&segment) {
                    p.loss_ppm = ppm;
                }
                self.rec("net", Rec::Net(format!("{segment} loss {}", ppm_text(ppm))));
            }
            Stimulus::Dup { segment, ppm } => {
                if let Some(p) = self.net.params_mut(&segment) {
                    p.dup_ppm = ppm;
                }
                self.rec("net", Rec::Net(format!("{segment} dup {}", ppm_text(ppm))));
            }
            Stimulus::Delay {
                segment,
                delay,
                jitter,
            } => {
                if let Some(p) = self.net.params_mut(&segment) {
                    p.delay = delay;
                    p.jitter = jitter;
                }
                self.rec(
                    "net",
                    Rec::Net(format!(
                        "{segment} delay {} jitter {}",
                        super::clock::fmt_duration(delay),
                        super::clock::fmt_duration(jitter)
                    )),
                );
            }
            Stimulus::Script { host, name, result } => self.with_host(&host, |s, i| {
                s.hosts[i].set_script(&name, result.clone());
                let n = s.hosts[i].name.clone();
                let what = match &result {
                    ScriptResult::Exit(0) => "succeeds".to_string(),
                    ScriptResult::Exit(c) => format!("exits {c}"),
                    ScriptResult::Hang => "hangs".to_string(),
                };
                s.rec(&n, Rec::Net(format!("script {name} now {what}")));
            }),
            Stimulus::Inject(inj) => self.inject(inj, 0),
            Stimulus::Server { name, mode } => self.server_mode(&name, mode),
            Stimulus::Ipvsadm { host, op } => self.with_host(&host, |s, i| s.ipvsadm(i, op)),
            Stimulus::Arp { segment, ip } => {
                for (hi, base) in self.ports.get(&segment).cloned().unwrap_or_default() {
                    if self.hosts[hi].status == Status::Crashed {
                        continue;
                    }
                    if let Some((ifname, mac)) = self.hosts[hi].kernel.arp_answer(&base, ip) {
                        let n = self.hosts[hi].name.clone();
                        self.rec(&n, Rec::ArpReply { ifname, ip, mac });
                    }
                }
            }
            Stimulus::Ping { segment, ip } => {
                for (hi, base) in self.ports.get(&segment).cloned().unwrap_or_default() {
                    if self.hosts[hi].status == Status::Crashed {
                        continue;
                    }
                    if let Some(ifname) = self.hosts[hi].kernel.echo_answer(&base, ip) {
                        let n = self.hosts[hi].name.clone();
                        self.rec(&n, Rec::PingReply { ifname, ip });
                    }
                }
            }
            Stimulus::Reload { host, config } => {
                self.with_host(&host, |s, i| s.reload(i, config.as_ref()))
            }
            Stimulus::TrackFile { host, name, value } => self.with_host(&host, |s, i| {
                let n = s.hosts[i].name.clone();
                let v = value.map_or("unreadable".to_string(), |v| v.to_string());
                s.rec(&n, Rec::Net(format!("track_file {name} now {v}")));
                s.host_event(i, Event::TrackFileValue { name, value });
            }),
            Stimulus::Processes { host, name, count } => self.with_host(&host, |s, i| {
                let n = s.hosts[i].name.clone();
                s.rec(&n, Rec::Net(format!("processes {name} now {count}")));
                s.host_event(i, Event::TrackProcessCount { name, count });
            }),
            Stimulus::DelAddress { host, ifname, addr } => self.with_host(&host, |s, i| {
                let n = s.hosts[i].name.clone();
                s.rec(&n, Rec::Net(format!("ip addr del {addr} dev {ifname}")));
                let k = &mut s.hosts[i].kernel;
                if k.del_addr(&ifname, addr) {
                    s.host_event(i, Event::AddressDeleted { ifname, addr });
                } else if k.del_configured(&ifname, addr) {
                    let st = k.iface(&ifname).map(|f| f.state());
                    s.host_event(i, Event::AddressDeleted { ifname, addr });
                    if let Some(st) = st {
                        s.host_event(i, Event::Interface(st));
                    }
                }
            }),
            Stimulus::AddAddress { host, ifname, addr } => self.with_host(&host, |s, i| {
                let n = s.hosts[i].name.clone();
                s.rec(&n, Rec::Net(format!("ip addr add {addr} dev {ifname}")));
                let k = &mut s.hosts[i].kernel;
                if k.add_configured(&ifname, addr) {
                    if let Some(st) = k.iface(&ifname).map(|f| f.state()) {
                        s.host_event(i, Event::Interface(st));
                    }
                }
            }),
            Stimulus::Frame { segment, mac } => {
                // Switched to the port that last sent from `mac`, else flooded.
                let now = self.clock.now();
                let ports = match self.bridge.lookup(&segment, mac, now) {
                    Some(port) => vec![port.clone()],
                    None => self.ports.get(&segment).cloned().unwrap_or_default(),
                };
                for (hi, base) in ports {
                    if self.hosts[hi].status == Status::Crashed {
                        continue;
                    }
                    if let Some(ifname) = self.hosts[hi].kernel.accepts_mac(&base, mac) {
                        let n = self.hosts[hi].name.clone();
                        self.rec(&n, Rec::FrameRouted { ifname, mac });
                    }
                }
            }
            Stimulus::Dump { host, kind } => self.with_host(&host, |s, i| {
                // The dump signal: a running keepalived renders it at once (dates are
                // seconds since the start of the run, the host name is the host's).
                let name = s.hosts[i].name.clone();
                let rec = match (&s.hosts[i].engine, s.hosts[i].status) {
                    (Some(engine), Status::Running) => {
                        let facts = crate::status::HostFacts {
                            hostname: name.clone(),
                            ..Default::default()
                        };
                        let snap = engine.snapshot(s.clock.now());
                        let text = match kind {
                            SimDump::Status(k) => crate::status::render(k, &snap, &facts),
                            SimDump::Check => crate::status::render_check_data(&snap, &facts),
                        };
                        Rec::Dump { kind, text }
                    }
                    _ => Rec::Warn(format!("dump {}: keepalived is not running", kind.name())),
                };
                s.rec(&name, rec);
            }),
        }
    }

    /// An event from outside the engine's own actions reaches host `i`: handled now if it
    /// runs, kept for `resume` if it is paused, lost if keepalived is not running.
    fn host_event(&mut self, i: usize, ev: Event) {
        match self.hosts[i].status {
            Status::Running => self.engine_event(i, ev),
            Status::Paused => self.hosts[i].deferred.push(ev),
            Status::Idle | Status::Crashed => {}
        }
    }

    /// `reload HOST [<<END ... END]`: SIGHUP with the text given, or the same configuration.
    /// Diagnostics go to the trace; the file is applied unless start-up would refuse it
    /// (`Loaded::can_run`, the rule of the real daemon too).
    fn reload(&mut self, i: usize, text: Option<&InlineConfig>) {
        let name = self.hosts[i].name.clone();
        let config = match text {
            None => self.hosts[i].config.clone(),
            Some(c) => {
                let opts = LoadOptions {
                    config_id: Some(name.clone()),
                    ..LoadOptions::default()
                };
                let origin = format!("{name}-reload.conf");
                let loaded = load_str(&c.text, Path::new(&origin), &opts);
                for d in &loaded.diagnostics {
                    self.rec(&name, Rec::Warn(format!("reload: {d}")));
                }
                if !loaded.can_run() {
                    self.rec(
                        &name,
                        Rec::Warn("reload refused: keeping the running configuration".into()),
                    );
                    return;
                }
                loaded.config
            }
        };
        self.rec(&name, Rec::Life("reload".into()));
        self.hosts[i].config = config.clone();
        self.host_event(i, Event::Reload(Box::new(config)));
    }

    fn with_host(&mut self, name: &str, f: impl FnOnce(&mut Sim, usize)) {
        match self.host_index(name) {
            Some(i) => f(self, i),
            None => self.rec("net", Rec::Warn(format!("no host {name}"))),
        }
    }

    /// Starts keepalived on host `i`.
    pub fn start(&mut self, i: usize) {
        let name = self.hosts[i].name.clone();
        match self.hosts[i].status {
            Status::Running | Status::Paused => {
                self.rec(&name, Rec::Warn("start: already running".into()));
                return;
            }
            Status::Crashed => {
                let decl = self.hosts[i].decl.ifaces.clone();
                self.hosts[i].kernel.reboot(i, &decl);
            }
            Status::Idle => {}
        }
        let h = &mut self.hosts[i];
        h.epoch += 1;
        h.deferred.clear();
        let mut engine = Engine::new(&h.config);
        engine.set_log_prefix(&name);
        // The engine's randomness (checker warmup) from the run's seed: a restart draws
        // anew, a run repeats exactly.
        engine.set_seed(self.engine_rng.next_u64());
        if h.decl.cli.release_vips {
            engine.set_release_vips(true);
        }
        if h.decl.cli.dont_release_ipvs {
            engine.set_dont_release_ipvs(true);
        }
        h.engine = Some(engine);
        h.status = Status::Running;
        self.rec(&name, Rec::Life("started".into()));
        let states: Vec<_> = self.hosts[i]
            .kernel
            .ifaces
            .iter()
            .map(|f| f.state())
            .collect();
        for st in states {
            self.engine_event(i, Event::Interface(st));
        }
        // The host's name; dates are seconds since the start of the run (as the dumps').
        let host = crate::event::HostInfo {
            hostname: name.clone(),
            user: "root".into(),
            ..Default::default()
        };
        self.engine_event(i, Event::Host(host));
        self.engine_event(i, Event::Startup);
    }

    /// Stops keepalived on host `i` as SIGTERM does.
    pub fn stop(&mut self, i: usize) {
        let name = self.hosts[i].name.clone();
        if !matches!(self.hosts[i].status, Status::Running | Status::Paused) {
            return;
        }
        self.hosts[i].status = Status::Running;
        self.engine_event(i, Event::Shutdown);
        self.hosts[i].engine = None;
        self.drop_conns(i);
        self.hosts[i].status = Status::Idle;
        self.rec(&name, Rec::Life("stopped".into()));
    }

    /// Host `i` dies: keepalived and the kernel's state are gone, nothing is sent.
    pub fn kill(&mut self, i: usize) {
        let name = self.hosts[i].name.clone();
        self.hosts[i].engine = None;
        self.hosts[i].status = Status::Crashed;
        self.drop_conns(i);
        self.bridge.flush_host(i);
        let decl = self.hosts[i].decl.ifaces.clone();
        self.hosts[i].kernel.reboot(i, &decl);
        self.rec(&name, Rec::Life("killed".into()));
    }
}

fn ppm_text(ppm: u32) -> String {
    let whole = ppm / 10_000;
    let frac = ppm % 10_000;
    if frac == 0 {
        format!("{whole}%")
    } else {
        format!("{whole}.{}%", format!("{frac:04}").trim_end_matches('0'))
    }
}

fn outcome_text(o: &ScriptOutcome) -> String {
    match o {
        ScriptOutcome::Exited(c) => format!("exited {c}"),
        ScriptOutcome::Signaled(s) => format!("killed by signal {s}"),
        ScriptOutcome::TimedOut => "timed out".into(),
        ScriptOutcome::SpawnFailed(m) => format!("failed to start: {m}"),
        ScriptOutcome::Skipped => "skipped".into(),
    }
}

#[cfg(test)]
mod ipvs_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::Config;
    use crate::sim::scenario::parse;

    fn cfg(prio: u8) -> Config {
        let text = format!(
            "vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 51\n priority {prio}\n \
             version 3\n virtual_ipaddress {{\n 192.0.2.100/32\n }}\n}}\n"
        );
        let l = load_str(&text, Path::new("t.conf"), &LoadOptions::default());
        assert!(!l.has_errors(), "{:?}", l.diagnostics);
        l.config
    }

    const TEXT: &str = "segment lan\n\
        host r1 stopped\n  iface eth0 lan 192.0.2.1/24\n  config <<END\nx\nEND\n\
        host r2 stopped\n  iface eth0 lan 192.0.2.2/24\n  config <<END\nx\nEND\n\
        at 1s start r1\nat 0.78125s start r2\nat 10s kill r2\nat 14s arp lan 192.0.2.100\n";

    fn run(seed: u64) -> Vec<TraceLine> {
        let sc = parse(TEXT).unwrap();
        let mut sim = Sim::new(&sc, vec![cfg(100), cfg(200)], seed);
        sim.run_until(Instant::from_nanos(16_000_000_000), |_| {});
        sim.trace
    }

    #[test]
    fn master_killed_failover_has_exact_times() {
        let t = run(1);
        let text = crate::sim::trace::render(&t);
        assert!(text.contains("4s r2 VI_1 BACKUP -> MASTER"), "{text}");
        assert!(
            text.contains("13.609375s r1 VI_1 BACKUP -> MASTER"),
            "{text}"
        );
        assert!(
            text.contains("10s r2 eth0 send advert v3 vrid 51 prio 200"),
            "{text}"
        );
        assert!(text.contains("14s r1 eth0 arp-reply 192.0.2.100"), "{text}");
        assert!(!text.contains("14s r2 eth0 arp-reply"), "{text}");
        assert_eq!(t, run(1));
    }

    fn cfg_with(prio: u8, extra: &str) -> Config {
        let text = format!(
            "vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 51\n priority {prio}\n \
             version 3\n {extra}\n virtual_ipaddress {{\n 192.0.2.100/32\n }}\n}}\n"
        );
        let l = load_str(&text, Path::new("t.conf"), &LoadOptions::default());
        assert!(!l.has_errors(), "{:?}", l.diagnostics);
        l.config
    }

    #[test]
    fn vr_mac_frames_follow_the_switch_and_the_master() {
        let text = "segment lan\n\
            host r1 stopped\n  iface eth0 lan 192.0.2.1/24\n  config <<END\nx\nEND\n\
            host r2 stopped\n  iface eth0 lan 192.0.2.2/24\n  config <<END\nx\nEND\n\
            at 1s start r1\nat 0.78125s start r2\n\
            at 2s frame lan 00:00:5e:00:01:33\n\
            at 12s frame lan 00:00:5e:00:01:33\n\
            at 20s kill r2\nat 21s frame lan 00:00:5e:00:01:33\n\
            at 30s frame lan 00:00:5e:00:01:33\n\
            at 31s link r1 eth0 down\nat 32s link r1 eth0 up\n\
            at 32s frame lan 00:00:5e:00:01:33\n";
        let sc = parse(text).unwrap();
        let cfgs = vec![cfg_with(100, "use_vmac"), cfg_with(200, "use_vmac")];
        let mut sim = Sim::new(&sc, cfgs, 1);
        sim.run_until(Instant::from_nanos(33_000_000_000), |_| {});
        let out = crate::sim::trace::render(&sim.trace);
        let routed = |at: &str, h: &str| out.contains(&format!("\n{at} {h} vrrp.51 routes frame"));
        // Nobody has sent from the VR MAC yet: the switch floods the frame and, as Linux
        // does with keepalived's VMAC up, both Backups take it in.
        assert!(routed("2s", "r1") && routed("2s", "r2"), "{out}");
        // r2 is Master and sources the VR MAC: the frame goes to its port only.
        assert!(routed("12s", "r2") && !routed("12s", "r1"), "{out}");
        // r2 died (its port's carrier went down): flooded, r1 (still Backup) takes it.
        assert!(routed("21s", "r1"), "{out}");
        // r1 is Master since 23.609375 s and has advertised from the VR MAC.
        assert!(out.contains("23.609375s r1 VI_1 BACKUP -> MASTER"), "{out}");
        assert!(routed("30s", "r1"), "{out}");
        // Its link flapped: forgotten, flooded again, r1 (FAULT or not) has its VMAC up.
        assert!(routed("32s", "r1"), "{out}");
    }

    #[test]
    fn accept_mode_drop_rules_follow_the_engine() {
        let text = "segment lan\n\
            host r1\n  iface eth0 lan 192.0.2.1/24\n  config <<END\nx\nEND\n\
            at 5s stop r1\n";
        let sc = parse(text).unwrap();
        let vip: IpAddr = "192.0.2.100".parse().unwrap();
        let mut sim = Sim::new(&sc, vec![cfg_with(100, "no_accept")], 1);
        sim.run_until(Instant::from_nanos(3_000_000_000), |_| {});
        assert!(sim.hosts[0].kernel.drop_in.is_empty());
        sim.run_until(Instant::from_nanos(4_000_000_000), |_| {});
        assert_eq!(sim.hosts[0].kernel.drop_in, vec![("eth0".to_string(), vip)]);
        assert_eq!(sim.hosts[0].kernel.echo_answer("eth0", vip), None);
        sim.run_until(Instant::from_nanos(6_000_000_000), |_| {});
        assert!(sim.hosts[0].kernel.drop_in.is_empty());
        let mut sim = Sim::new(&sc, vec![cfg_with(100, "accept")], 1);
        sim.run_until(Instant::from_nanos(4_000_000_000), |_| {});
        assert!(sim.hosts[0].kernel.drop_in.is_empty());
        assert_eq!(
            sim.hosts[0].kernel.echo_answer("eth0", vip).as_deref(),
            Some("eth0")
        );
    }
}
