//! The router of the engine: the [`Engine`] owns every `vrrp::instance::Instance` of the
//! host, one `sched::TimerWheel` for all their timers (adverts, down timers, GARP bursts,
//! track scripts, startup delay), the tracking state (interfaces, scripts, files,
//! processes), sync groups and the notify lines; it routes received adverts by (interface,
//! family, VRID). `engine/reload.rs` applies a new configuration in place
//! (`Event::Reload`).
//!
//! The engine never reads a clock, never does I/O and never iterates a HashMap where the
//! order is observable: every event carries the instant it happened. Its vocabulary
//! (events, actions, timers, the `World` trait) is in `crate::event`.

use crate::config::model::{Config, Family};
use crate::event::*;
use crate::sched::Crowd;
use crate::sched::Instant;
use crate::sched::TimerWheel;
use crate::vrrp::group::{self, Follow, Group};
use crate::vrrp::instance::{Ctx, Instance, Transition};
use crate::vrrp::notify::{self, Kind};
use crate::vrrp::packet::{self, Advert, V3Ipv4Checksum};
use crate::vrrp::reason::Reason;
use crate::vrrp::stats::Stats;
use crate::vrrp::track::ScriptState;
use crate::vrrp::State;
use std::collections::{BTreeMap, VecDeque};
use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

mod alerts;
mod checkers;
mod ipvs;
mod reload;
mod snapshot;
mod tracking;

pub use alerts::RsAlert;

/// Capacity of the action queue kept between steps (beyond it, the queue is freed once
/// empty): the adverts of a thousand instances due at once fit.
const ACTIONS_KEPT: usize = 2048;

/// The engine: every VRRP instance of one host, their timers, tracking and sync groups.
pub struct Engine {
    /// The running configuration without its `instances` (they are in `instances`).
    config: Config,
    instances: Vec<Instance>,
    /// (VRID, family) -> instances, in configuration order (receive routing).
    by_vrid: BTreeMap<(u8, Family), Vec<usize>>,
    groups: Vec<Group>,
    /// instance index -> group index
    group_of: Vec<Option<usize>>,
    scripts: Vec<ScriptState>,
    files: BTreeMap<String, Option<i64>>,
    processes: BTreeMap<String, Option<u32>>,
    interfaces: BTreeMap<String, InterfaceState>,
    wheel: TimerWheel<Timer>,
    actions: VecDeque<Action>,
    transitions: Vec<Transition>,
    host_stats: Stats,
    host_last_log: BTreeMap<&'static str, Instant>,
    prefix: String,
    /// `notify_fifo` and `vrrp_notify_fifo`: every VRRP line goes to both.
    fifos: Vec<String>,
    started: bool,
    /// `vrrp_startup_delay` is running.
    startup_pending: bool,
    startup_timer: Option<crate::sched::TimerHandle>,
    stopped: bool,
    next_run: u64,
    /// The next `ConnId` to hand out (checkers and the SMTP alerter share the sequence).
    next_conn: u64,
    /// `-X / --release-vips` (see `vrrp::instance::Ctx`).
    release_vips: bool,
    /// The adverts and GARP bursts armed in the current step (a crowd of them is spread).
    crowd: Crowd,
    /// E-mail alerts (`smtp_alert`): engine/alerts.rs.
    alerter: crate::alert::Alerter,
    /// The health checkers of the virtual servers (`engine/checkers.rs`).
    checks: crate::check::runtime::Runtime,
    /// Real-server transitions not yet taken (`Engine::take_rs_transitions`).
    rs_transitions: Vec<crate::check::runtime::RsTransition>,
    /// The IPVS table, quorums and sync daemons (`engine/ipvs.rs`).
    ipvs: crate::ipvs::runtime::Runtime,
}

fn link_local(addrs: &[Ipv6Addr]) -> Option<Ipv6Addr> {
    addrs
        .iter()
        .copied()
        .find(|a| (a.segments()[0] & 0xffc0) == 0xfe80)
}

impl Engine {
    /// Builds the engine for a validated configuration.
    pub fn new(config: &Config) -> Engine {
        let mut engine = Engine {
            config: Config::default(),
            instances: Vec::new(),
            by_vrid: BTreeMap::new(),
            groups: Vec::new(),
            group_of: Vec::new(),
            scripts: Vec::new(),
            files: BTreeMap::new(),
            processes: BTreeMap::new(),
            interfaces: BTreeMap::new(),
            wheel: TimerWheel::new(),
            actions: VecDeque::new(),
            transitions: Vec::new(),
            host_stats: Stats::default(),
            host_last_log: BTreeMap::new(),
            prefix: String::new(),
            fifos: Vec::new(),
            started: false,
            startup_pending: false,
            startup_timer: None,
            stopped: false,
            next_run: 1,
            next_conn: 1,
            release_vips: false,
            crowd: Crowd::default(),
            alerter: Default::default(),
            checks: crate::check::runtime::Runtime::new(config, 0x6b65_6570_616c_6976),
            rs_transitions: Vec::new(),
            ipvs: crate::ipvs::runtime::Runtime::new(config),
        };
        engine.install(config.clone(), Parts::build(config));
        engine
    }

    /// Takes `config` and the state derived from it (at start and on reload).
    fn install(&mut self, config: Config, p: Parts) {
        self.config = config;
        self.instances = p.instances;
        self.by_vrid = p.by_vrid;
        self.groups = p.groups;
        self.group_of = p.group_of;
        self.scripts = p.scripts;
        self.files = p.files;
        self.processes = p.processes;
        self.fifos = p.fifos;
        self.configure_alerts();
    }

    /// `-X / --release-vips`: an instance entering Backup or Fault deletes its VIPs even
    /// when this run never added them.
    pub fn set_release_vips(&mut self, on: bool) {
        self.release_vips = on;
    }

    /// Prefixes every log line with `name: ` (multi-host simulations).
    pub fn set_log_prefix(&mut self, name: &str) {
        self.prefix = if name.is_empty() {
            String::new()
        } else {
            format!("{name}: ")
        };
    }

    /// Feeds one event that happened at `now`.
    pub fn handle(&mut self, now: Instant, event: Event) {
        match event {
            Event::Startup => self.startup(now),
            Event::Shutdown => self.shutdown(now),
            Event::Interface(st) => {
                self.interfaces.insert(st.name.clone(), st);
                self.refresh_interfaces();
                self.retrack(now);
                self.ipvs_interfaces();
            }
            Event::InterfaceRemoved { name } => {
                self.interfaces.remove(&name);
                self.refresh_interfaces();
                self.retrack(now);
                self.ipvs_interfaces();
            }
            Event::Packet(p) => self.packet(now, p),
            Event::Timers => self.timers(now),
            Event::ScriptExited { run, outcome } => {
                if !self.checker_script(now, run, &outcome) {
                    self.script_exited(now, run, outcome)
                }
            }
            Event::TrackFileValue { name, value } => {
                if let Some(v) = self.files.get_mut(&name) {
                    *v = value;
                    self.retrack(now);
                }
                self.checker_file(now, &name, value);
            }
            Event::TrackProcessCount { name, count } => {
                if let Some(v) = self.processes.get_mut(&name) {
                    *v = Some(count);
                    self.retrack(now);
                }
            }
            Event::Reload(config) => self.reload(now, *config),
            Event::Conn { conn, event } => match conn.owner {
                ConnOwner::Alerter => self.alert_conn(now, conn, event),
                ConnOwner::Checker => self.checker_conn(now, conn, event),
            },
            Event::Host(info) => self.host_info(info),
            Event::IpvsTable(answer) => self.ipvs_table(now, answer),
            Event::IpvsFailed { op, error } => self.ipvs_failed(now, &op, &error),
            Event::AddressDeleted { ifname, addr } => {
                for i in 0..self.instances.len() {
                    let (inst, mut ctx) = self.split(now, i);
                    inst.address_deleted(&mut ctx, &ifname, addr);
                }
            }
        }
        self.settle(now);
        self.ipvs_flush(now);
    }

    /// One instant of a world's loop, by the same-instant rule (`crate::event`): the
    /// events the world observed at `now`, in the order it observed them, then the timers
    /// due at `now`.
    pub fn step(&mut self, now: Instant, events: impl IntoIterator<Item = Event>) {
        for e in events {
            self.handle(now, e);
        }
        self.fire_due(now);
    }

    /// Fires the timers due at `now` (the second half of [`Engine::step`]).
    pub fn fire_due(&mut self, now: Instant) {
        if self.next_deadline().is_some_and(|d| d <= now) {
            self.handle(now, Event::Timers);
        }
    }

    /// Performs every pending action, in order, with `world`.
    pub fn drive(&mut self, now: Instant, world: &mut impl World) {
        while let Some(a) = self.actions.pop_front() {
            world.perform(now, a);
        }
        // A burst (start-up, a reload, every instance changing state at once) leaves a
        // queue sized for thousands of actions: give that memory back.
        if self.actions.capacity() > ACTIONS_KEPT {
            self.actions = VecDeque::new();
        }
    }

    /// The next action to perform, in the order the engine produced them.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When the engine next needs `Event::Timers`.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.wheel.next_deadline()
    }

    /// (name, state, effective priority) of every instance, in configuration order.
    pub fn instance_states(&self) -> Vec<(String, State, u8)> {
        self.instances
            .iter()
            .map(|i| (i.name().to_string(), i.state, i.priority))
            .collect()
    }

    /// The counters of instance `name`.
    pub fn instance_stats(&self, name: &str) -> Option<Stats> {
        self.instances
            .iter()
            .find(|i| i.name() == name)
            .map(|i| i.stats.clone())
    }

    /// Counters of packets no instance claimed (undecodable, unknown VRID).
    pub fn host_stats(&self) -> Stats {
        self.host_stats.clone()
    }

    /// The `keepalived.stats` text (SIGUSR2): every instance's counters.
    pub fn stats_report(&self) -> String {
        let mut out = String::new();
        for inst in &self.instances {
            out.push_str(&format!("VRRP Instance: {}\n{}\n", inst.name(), inst.stats));
        }
        out
    }

    /// Zeroes every counter (keepalived's STATS_CLEAR signal, after the report).
    pub fn clear_stats(&mut self) {
        for inst in &mut self.instances {
            inst.stats = Stats::default();
        }
        self.host_stats = Stats::default();
    }

    /// Master_Down_Timer and Adver_Timer deadlines of instance `name` (for tests and traces).
    pub fn instance_timers(&self, name: &str) -> Option<(Option<Instant>, Option<Instant>)> {
        let i = self.instances.iter().find(|i| i.name() == name)?;
        Some((i.down_deadline(&self.wheel), i.advert_deadline(&self.wheel)))
    }

    // ----- internals --------------------------------------------------------------------

    /// A connection id never handed out before in this run.
    #[allow(dead_code)] // the SMTP alerter is its user (checkers count through their Ctx)
    pub(crate) fn new_conn_id(&mut self, owner: ConnOwner) -> ConnId {
        let id = ConnId {
            owner,
            seq: self.next_conn,
        };
        self.next_conn += 1;
        id
    }

    fn startup(&mut self, now: Instant) {
        if self.started || self.startup_pending {
            return;
        }
        self.ipvs_start(now);
        self.checkers_start(now);
        if let Some(d) = self
            .config
            .global
            .vrrp_startup_delay
            .filter(|d| !d.is_zero())
        {
            log::info!(
                "{}Delaying startup for {} seconds",
                self.prefix,
                d.as_secs_f64()
            );
            self.startup_pending = true;
            self.startup_timer = Some(self.wheel.insert(now + d, Timer::Startup));
            return;
        }
        self.start_instances(now);
    }

    fn start_instances(&mut self, now: Instant) {
        self.startup_pending = false;
        self.startup_timer = None;
        if self.stopped {
            return;
        }
        self.started = true;
        self.retrack(now);
        for i in 0..self.instances.len() {
            let (inst, mut ctx) = self.split(now, i);
            inst.startup(&mut ctx, Reason::Startup);
        }
        for s in 0..self.scripts.len() {
            if self.script_used(s) {
                let h = self.wheel.insert(now, Timer::Script(s));
                self.scripts[s].timer = Some(h);
            }
        }
    }

    fn shutdown(&mut self, now: Instant) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        self.checkers_shutdown(now);
        if let Some(h) = self.startup_timer.take() {
            self.wheel.cancel(h);
        }
        for s in &mut self.scripts {
            if let Some(h) = s.timer.take() {
                self.wheel.cancel(h);
            }
            if let Some(run) = s.running.take() {
                self.actions.push_back(Action::KillScript { run });
            }
        }
        for i in 0..self.instances.len() {
            let (inst, mut ctx) = self.split(now, i);
            inst.shutdown(&mut ctx);
        }
        self.ipvs_shutdown(now);
    }

    fn split(&mut self, now: Instant, i: usize) -> (&mut Instance, Ctx<'_>) {
        let ctx = Ctx {
            now,
            wheel: &mut self.wheel,
            actions: &mut self.actions,
            transitions: &mut self.transitions,
            prefix: &self.prefix,
            fifos: &self.fifos,
            release_vips: self.release_vips,
            crowd: &mut self.crowd,
        };
        (&mut self.instances[i], ctx)
    }

    /// Fires the timers due at `now`: every VRRP timer first, then the checkers' (which
    /// may arm more timers due at `now`: the loop runs until none is due).
    fn timers(&mut self, now: Instant) {
        let mut checker_timers = Vec::new();
        loop {
            self.vrrp_timers(now, &mut checker_timers);
            if checker_timers.is_empty() {
                break;
            }
            for (id, what) in checker_timers.drain(..) {
                self.checker_timer(now, id, what);
            }
        }
    }

    fn vrrp_timers(&mut self, now: Instant, deferred: &mut Vec<(u64, CheckTimer)>) {
        while let Some((_, t)) = self.wheel.pop_expired(now) {
            match t {
                Timer::Checker { id, what } => deferred.push((id, what)),
                Timer::Script(s) => self.run_script(now, s),
                Timer::Startup => self.start_instances(now),
                Timer::SmtpTimeout(_) | Timer::SmtpRetry => self.alert_timer(now, t),
                Timer::Advert(i)
                | Timer::MasterDown(i)
                | Timer::GarpRound { inst: i, .. }
                | Timer::GarpBurst { inst: i, .. }
                | Timer::RestoreVips(i) => {
                    let (inst, mut ctx) = self.split(now, i);
                    inst.on_timer(&mut ctx, t);
                }
            }
            self.settle(now);
        }
    }

    fn packet(&mut self, now: Instant, p: ReceivedPacket) {
        match packet::decode(&p.payload, p.src, p.dst) {
            Ok((advert, form)) => self.advert(now, &p.ifname, p.src, p.ttl, &advert, form),
            Err(e) => {
                let family = if p.src.is_ipv6() {
                    Family::Inet6
                } else {
                    Family::Inet
                };
                let target = p
                    .payload
                    .get(1)
                    .and_then(|vrid| self.route(&p.ifname, family, *vrid, p.src));
                match target {
                    Some(i) => {
                        let prefix = self.prefix.clone();
                        self.instances[i].discard_undecodable(now, &prefix, &e, p.src);
                    }
                    None => {
                        crate::vrrp::rx::count(&mut self.host_stats, &e);
                        self.host_log(now, e.kind(), || {
                            format!("discarding VRRP packet from {} on {}: {e}", p.src, p.ifname)
                        });
                    }
                }
            }
        }
    }

    /// Logs at most one line per kind per second of engine time.
    fn host_log(&mut self, now: Instant, kind: &'static str, msg: impl FnOnce() -> String) {
        let due = self
            .host_last_log
            .get(kind)
            .map_or(true, |t| now.saturating_since(*t) >= Duration::from_secs(1));
        if due {
            self.host_last_log.insert(kind, now);
            log::warn!("{}{}", self.prefix, msg());
        }
    }

    fn route(&self, ifname: &str, family: Family, vrid: u8, src: IpAddr) -> Option<usize> {
        let mut found = None;
        let candidates = self
            .by_vrid
            .get(&(vrid, family))
            .map_or(&[][..], |v| &v[..]);
        for &i in candidates {
            let inst = &self.instances[i];
            let peer = inst.cfg.unicast_peers.iter().any(|p| p.addr == src);
            let on_if = inst.base_ifname() == ifname || inst.vip_ifname() == ifname;
            if !(on_if || inst.cfg.interface.is_none() && peer) {
                continue;
            }
            if peer {
                return Some(i);
            }
            found.get_or_insert(i);
        }
        found
    }

    fn advert(
        &mut self,
        now: Instant,
        ifname: &str,
        src: IpAddr,
        ttl: u8,
        advert: &Advert,
        form: Option<V3Ipv4Checksum>,
    ) {
        let family = if src.is_ipv6() {
            Family::Inet6
        } else {
            Family::Inet
        };
        match self.route(ifname, family, advert.vrid, src) {
            Some(i) => {
                let (inst, mut ctx) = self.split(now, i);
                inst.receive(&mut ctx, src, ttl, advert, form);
            }
            None => {
                // R6: the VRID is not configured on this interface.
                // Counted by every instance of this interface and family, or by the host
                // when there is none (never both: sums stay exact).
                let mut counted = false;
                for inst in &mut self.instances {
                    if inst.cfg.family == family
                        && (inst.base_ifname() == ifname || inst.vip_ifname() == ifname)
                    {
                        inst.stats.vrid_errors += 1;
                        counted = true;
                    }
                }
                if !counted {
                    self.host_stats.vrid_errors += 1;
                }
                let vrid = advert.vrid;
                self.host_log(now, "vrid", || {
                    format!("received VRRP advert for VRID {vrid} on {ifname} from {src}: not configured - discarding")
                });
            }
        }
    }

    /// Sync groups and notifications for the transitions of the last step.
    fn settle(&mut self, now: Instant) {
        if self.transitions.is_empty() {
            return;
        }
        let mut k = 0;
        while k < self.transitions.len() {
            let t = self.transitions[k];
            k += 1;
            self.ipvs_instance(now, t.inst, t.to);
            let inst = &self.instances[t.inst];
            let acts = notify::actions(
                &inst.cfg.notify,
                Kind::Instance,
                inst.name(),
                t.to,
                inst.priority,
                &self.fifos,
            );
            self.actions.extend(acts);
            self.alert_instance(now, t.inst, t.to);
            let Some(g) = self.group_of[t.inst] else {
                continue;
            };
            if t.to != State::Stop {
                let reason = || Reason::SyncGroup {
                    group: self.groups[g].cfg.name.clone(),
                    member: self.instances[t.inst].name().to_string(),
                    to: t.to,
                };
                match group::follow(t.from, t.to) {
                    Follow::Master => {
                        let why = reason();
                        for m in self.groups[g].members.clone() {
                            if m != t.inst && self.instances[m].state == State::Backup {
                                let (inst, mut ctx) = self.split(now, m);
                                inst.become_master(&mut ctx, why.clone());
                            }
                        }
                    }
                    Follow::Backup => {
                        let why = reason();
                        for m in self.groups[g].members.clone() {
                            if m != t.inst && self.instances[m].state == State::Master {
                                let (inst, mut ctx) = self.split(now, m);
                                inst.force_backup(&mut ctx, why.clone());
                            }
                        }
                    }
                    Follow::Nothing => {}
                }
            }
        }
        self.transitions.clear();
        self.settle_groups(now);
    }

    /// Announces a sync group's state once all its members agree.
    fn settle_groups(&mut self, now: Instant) {
        for g in 0..self.groups.len() {
            let states: Vec<State> = self.groups[g]
                .members
                .iter()
                .map(|&m| self.instances[m].state)
                .collect();
            if let Some(s) = Group::settled_state(&states) {
                if s != self.groups[g].state {
                    self.groups[g].state = s;
                    let grp = &self.groups[g];
                    if s != State::Initialize {
                        log::info!(
                            "{}VRRP_Group({}) Syncing instances to {s} state",
                            self.prefix,
                            grp.cfg.name
                        );
                    }
                    let acts = notify::actions(
                        &grp.cfg.notify,
                        Kind::Group,
                        &grp.cfg.name,
                        s,
                        0,
                        &self.fifos,
                    );
                    self.actions.extend(acts);
                    self.alert_group(now, g, s);
                }
            }
        }
    }
}

/// Everything the engine derives from a configuration (built at start and on reload).
struct Parts {
    instances: Vec<Instance>,
    by_vrid: BTreeMap<(u8, Family), Vec<usize>>,
    groups: Vec<Group>,
    group_of: Vec<Option<usize>>,
    scripts: Vec<ScriptState>,
    files: BTreeMap<String, Option<i64>>,
    processes: BTreeMap<String, Option<u32>>,
    fifos: Vec<String>,
}

impl Parts {
    fn build(config: &Config) -> Parts {
        let instances: Vec<Instance> = config
            .instances
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut c = c.clone();
                if c.mcast_dst_ip.is_none() {
                    // `vrrp_mcast_group4` / `vrrp_mcast_group6`.
                    c.mcast_dst_ip = Some(match c.family {
                        Family::Inet => IpAddr::V4(config.global.vrrp_mcast_group4),
                        Family::Inet6 => IpAddr::V6(config.global.vrrp_mcast_group6),
                    });
                }
                Instance::new(i, c)
            })
            .collect();
        let mut by_vrid: BTreeMap<(u8, Family), Vec<usize>> = BTreeMap::new();
        for (i, inst) in instances.iter().enumerate() {
            by_vrid
                .entry((inst.cfg.vrid, inst.cfg.family))
                .or_default()
                .push(i);
        }
        let mut group_of = vec![None; instances.len()];
        let mut groups = Vec::new();
        for g in &config.sync_groups {
            let members: Vec<usize> = g
                .members
                .iter()
                .filter_map(|m| instances.iter().position(|i| i.name() == m))
                .collect();
            for &m in &members {
                group_of[m] = Some(groups.len());
            }
            groups.push(Group::new(g.clone(), members));
        }
        Parts {
            instances,
            by_vrid,
            groups,
            group_of,
            scripts: config
                .vrrp_scripts
                .iter()
                .cloned()
                .map(ScriptState::new)
                .collect(),
            files: config
                .track_files
                .iter()
                .map(|f| (f.name.clone(), f.init_file.map(|(v, _)| v)))
                .collect(),
            processes: config
                .track_processes
                .iter()
                .map(|p| (p.name.clone(), None))
                .collect(),
            fifos: [&config.global.notify_fifo, &config.global.vrrp_notify_fifo]
                .into_iter()
                .flatten()
                .cloned()
                .collect(),
        }
    }
}
