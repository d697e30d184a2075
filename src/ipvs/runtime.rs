//! The IPVS runtime the engine owns: keeps the kernel's IPVS table in step with the
//! configuration, the checkers' verdicts and VRRP, pure (it answers with
//! `Action::IpvsRead`, `Action::Ipvs`, `Action::IpvsDaemon` and `Action::IpvsTimeouts`).
//!
//! - **Start-up** ([`Runtime::start`]): with virtual servers, a sync daemon or
//!   `lvs_timeouts` configured, `Action::IpvsRead`, and no operation until
//!   `Event::IpvsTable` answers ([`Runtime::table`]). `Ok(table)`: with `lvs_flush` every service found is deleted
//!   first; otherwise the services the configuration owns are adopted (edited in place)
//!   and the others are left alone; then the diff to the desired table. `Err(why)`: said
//!   once (warning), and no IPVS operation is ever sent; quorum, notify scripts, VRRP
//!   and the checkers go on.
//! - **Belief**: the table as the kernel has it after the operations sent
//!   (`current`). A refused operation (`Event::IpvsFailed`, [`Runtime::failed`]) fixes
//!   it so the next diff of that virtual server tries again: a refused add forgets the
//!   entry, a refused edit marks it stale, a refused delete stays deleted (the kernel's
//!   "no such" answer).
//! - **Only what changed**: the engine marks the virtual servers whose real servers
//!   changed (state or weight) or whose `ha_suspend` address came or went
//!   ([`Runtime::mark`]); [`Runtime::flush`], once per engine event, re-evaluates their
//!   quorum ([`quorum`]), recomputes their services and diffs those alone
//!   ([`crate::ipvs::diff::diff_keys`]).
//! - **Reload** ([`Runtime::reload`]): everything is recomputed and diffed: unchanged
//!   services and healthy destinations give no operation, changed attributes are
//!   edited, removed virtual servers deleted; the quorum state of a virtual server kept
//!   by name carries over.
//! - **Stop** ([`Runtime::shutdown`]): `-I` keeps the table; otherwise each owned
//!   service's destinations then the service are deleted, or with `lvs_flush_on_stop VS`
//!   each owned service, or with `lvs_flush_on_stop` every service of the table. `omega`
//!   runs `quorum_down` for the virtual servers whose quorum is up. The sync daemons
//!   (`runtime/sync.rs`) stop.
//! - `ha_suspend` (`runtime/ha.rs`): services exist, and checkers run, only while their
//!   address is set.
//! - `lvs_timeouts` (`runtime/timeouts.rs`): set once the table answered, again at a
//!   reload that changes them.

mod ha;
pub mod quorum;
mod sync;
mod timeouts;

use crate::config::model::{Config, VsKey};
use crate::event::Action;
use crate::ipvs::diff::{self, apply, diff_keys, Op, StopMode};
use crate::ipvs::model::{
    dests_of, service_attrs, service_keys, RsState, Service, ServiceKey, Table,
};
use crate::sched::Instant;
use crate::status::IpvsStatus;
use crate::vrrp::State;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::IpAddr;
use std::time::Duration;

pub use quorum::When;

/// What the runtime needs from the engine for one call.
pub struct Ctx<'a> {
    pub now: Instant,
    pub actions: &'a mut VecDeque<Action>,
    /// Log prefix (multi-host simulations).
    pub prefix: &'a str,
    /// The configuration running.
    pub config: &'a Config,
    /// The checkers' view of real server `rs` of virtual server `vs` (configuration
    /// indices): `(up, weight)`.
    pub state: &'a dyn Fn(usize, usize) -> RsState,
}

/// Where the runtime is with the kernel.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Phase {
    /// Nothing to manage (or not started).
    Idle,
    /// `IpvsRead` sent, no answer yet.
    Reading,
    /// The table is managed.
    Managed,
    /// IPVS cannot be managed on this host (said once).
    Unavailable(String),
}

/// One virtual server.
#[derive(Clone, Debug)]
struct Vs {
    /// As keepalived logs it (`[10.0.0.10]:tcp:80`).
    name: String,
    /// The services it owns (a key listed by two virtual servers belongs to the last).
    keys: Vec<ServiceKey>,
    quorum: bool,
    /// `ha_suspend`: whether its services were installable at the last recompute.
    ha_set: Option<bool>,
}

/// At most this many refused operations are logged per second of engine time.
const FAILURE_LOG_BURST: u32 = 10;

/// The IPVS runtime.
pub struct Runtime {
    vss: Vec<Vs>,
    owner: BTreeMap<ServiceKey, usize>,
    phase: Phase,
    current: Table,
    desired: Table,
    /// The services this daemon manages: every service of the configuration.
    owned: BTreeSet<ServiceKey>,
    dirty: BTreeSet<usize>,
    ha: ha::Ha,
    /// `ha_suspend` virtual servers, with the addresses they depend on.
    ha_vss: Vec<(usize, Vec<IpAddr>)>,
    sync: sync::Sync,
    timeouts: timeouts::Timeouts,
    /// `-I`.
    keep_on_stop: bool,
    started: bool,
    stopped: bool,
    /// `ha_suspend` changes not yet taken: (virtual server, suspended).
    suspensions: Vec<(usize, bool)>,
    /// Quorum changes not yet taken (for the e-mail alerts): (virtual server, name,
    /// gained).
    quorum_changes: Vec<(usize, String, bool)>,
    /// Refused operations logged in the current second (start of the second, count,
    /// count not logged).
    failure_log: (Option<Instant>, u32, u64),
}

/// The virtual servers of `config`, their keys, and who owns each key.
fn build(config: &Config) -> (Vec<Vs>, BTreeMap<ServiceKey, usize>) {
    let mut owner = BTreeMap::new();
    let mut all: Vec<Vec<ServiceKey>> = Vec::with_capacity(config.virtual_servers.len());
    for (vi, vs) in config.virtual_servers.iter().enumerate() {
        let keys = service_keys(config, vs);
        for k in &keys {
            owner.insert(*k, vi);
        }
        all.push(keys);
    }
    let vss = config
        .virtual_servers
        .iter()
        .zip(all)
        .enumerate()
        .map(|(vi, (vs, keys))| Vs {
            name: crate::check::runtime::vs_name(vs),
            keys: keys
                .into_iter()
                .filter(|k| owner.get(k) == Some(&vi))
                .collect(),
            quorum: true,
            ha_set: None,
        })
        .collect();
    (vss, owner)
}

fn ha_vss(config: &Config, vss: &[Vs]) -> Vec<(usize, Vec<IpAddr>)> {
    config
        .virtual_servers
        .iter()
        .enumerate()
        .filter(|(_, vs)| vs.ha_suspend && !matches!(vs.key, VsKey::Fwmark(_)))
        .map(|(vi, _)| {
            let mut addrs: Vec<IpAddr> = vss[vi]
                .keys
                .iter()
                .filter_map(|k| match k {
                    ServiceKey::Addr { addr, .. } => Some(*addr),
                    ServiceKey::Fwmark { .. } => None,
                })
                .collect();
            addrs.sort();
            addrs.dedup();
            (vi, addrs)
        })
        .collect()
}

/// Whether `config` gives the runtime anything to do with the kernel.
fn wanted(config: &Config, sync: &sync::Sync) -> bool {
    !config.virtual_servers.is_empty() || sync.configured() || config.global.lvs_timeouts.is_some()
}

impl Runtime {
    /// The runtime for `config` (nothing happens before [`Runtime::start`]).
    pub fn new(config: &Config) -> Runtime {
        let (vss, owner) = build(config);
        let owned = owner.keys().copied().collect();
        let ha_vss = ha_vss(config, &vss);
        Runtime {
            vss,
            owner,
            phase: Phase::Idle,
            current: Table::new(),
            desired: Table::new(),
            owned,
            dirty: BTreeSet::new(),
            ha: ha::Ha::new(config, &[]),
            ha_vss,
            // Built (and its warnings said) at start-up.
            sync: sync::Sync::default(),
            timeouts: timeouts::Timeouts::default(),
            keep_on_stop: false,
            started: false,
            stopped: false,
            suspensions: Vec::new(),
            quorum_changes: Vec::new(),
            failure_log: (None, 0, 0),
        }
    }

    /// `-I / --dont-release-ipvs`: leave the table as it is at stop.
    pub fn set_keep_on_stop(&mut self, keep: bool) {
        self.keep_on_stop = keep;
    }

    fn managed(&self) -> bool {
        self.phase == Phase::Managed && !self.stopped
    }

    /// `Event::Startup`: the first quorum evaluation, and `IpvsRead` when there is
    /// anything to manage.
    pub fn start(&mut self, ctx: &mut Ctx<'_>, states: &[State]) {
        if self.started || self.stopped {
            return;
        }
        self.started = true;
        let mut ha = ha::Ha::new(ctx.config, states);
        // The interfaces were reported before `Startup`.
        ha.carry_host(&self.ha);
        self.ha = ha;
        self.sync = sync::Sync::new(ctx.config, ctx.prefix);
        for vi in 0..self.vss.len() {
            self.evaluate(ctx, vi, When::First);
            self.recompute(ctx, vi, &mut BTreeSet::new());
        }
        self.dirty.clear();
        if wanted(ctx.config, &self.sync) {
            self.phase = Phase::Reading;
            ctx.actions.push_back(Action::IpvsRead);
        }
    }

    /// The world's answer to `IpvsRead`.
    pub fn table(&mut self, ctx: &mut Ctx<'_>, answer: Result<Table, String>) {
        if self.phase != Phase::Reading || self.stopped {
            return;
        }
        let p = ctx.prefix;
        let found = match answer {
            Err(why) => {
                log::warn!(
                    "{p}IPVS is unavailable on this host ({why}): virtual servers are \
                     checked but not installed; VRRP and the checkers go on"
                );
                self.phase = Phase::Unavailable(why);
                self.dirty.clear();
                return;
            }
            Ok(t) => t,
        };
        self.phase = Phase::Managed;
        self.timeouts.converge(ctx, true);
        // What changed while the table was read.
        self.flush_quorums(ctx);
        let mut ops = Vec::new();
        if ctx.config.global.lvs_flush {
            if !found.is_empty() {
                log::info!(
                    "{p}lvs_flush: deleting the {} services found in the IPVS table",
                    found.len()
                );
            }
            ops.extend(found.keys().map(|k| Op::DelService(*k)));
            self.current = Table::new();
        } else {
            let adopted = found.keys().filter(|k| self.owned.contains(k)).count();
            let foreign = found.len() - adopted;
            if adopted + foreign > 0 {
                log::info!(
                    "{p}IPVS table read: {adopted} services of the configuration adopted, \
                     {foreign} other services left alone"
                );
            }
            self.current = found;
        }
        ops.extend(diff::diff(&self.current, &self.desired, &self.owned));
        self.emit(ctx, ops);
        self.sync.converge(ctx, true);
    }

    /// Sends `ops` and applies them to the belief.
    fn emit(&mut self, ctx: &mut Ctx<'_>, ops: Vec<Op>) {
        if ops.is_empty() || !self.managed() {
            return;
        }
        for op in &ops {
            // The belief follows what was asked; a refusal comes back to `failed`.
            let _ = apply(&mut self.current, op);
        }
        ctx.actions.push_back(Action::Ipvs(ops));
    }

    /// Virtual server `vi` (configuration index) needs recomputing.
    pub fn mark(&mut self, vi: usize) {
        if vi < self.vss.len() {
            self.dirty.insert(vi);
        }
    }

    /// Quorum of `vi`, with its hysteresis.
    fn evaluate(&mut self, ctx: &mut Ctx<'_>, vi: usize, when: When) {
        let Some(cfg) = ctx.config.virtual_servers.get(vi) else {
            return;
        };
        let v = &mut self.vss[vi];
        let prev = match when {
            When::First => true,
            When::Later => v.quorum,
        };
        v.quorum = quorum::evaluate(ctx, vi, cfg, &v.name, prev, when);
        // A change after start-up is worth an alert (the state found at start-up is not).
        if when == When::Later && v.quorum != prev {
            self.quorum_changes.push((vi, v.name.clone(), v.quorum));
        }
    }

    /// The quorum changes since the last call: (virtual server, its name, gained).
    pub fn take_quorum_changes(&mut self) -> Vec<(usize, String, bool)> {
        std::mem::take(&mut self.quorum_changes)
    }

    /// The services of `vi` into `desired`; their keys into `keys`.
    fn recompute(&mut self, ctx: &Ctx<'_>, vi: usize, keys: &mut BTreeSet<ServiceKey>) {
        let Some(cfg) = ctx.config.virtual_servers.get(vi) else {
            return;
        };
        let v = &mut self.vss[vi];
        let state = ctx.state;
        let st = |ri: usize| state(vi, ri);
        let mut any_set = false;
        for key in &v.keys {
            keys.insert(*key);
            let active = !cfg.ha_suspend
                || match key {
                    ServiceKey::Addr { addr, .. } => self.ha.present(addr),
                    ServiceKey::Fwmark { .. } => true,
                };
            any_set |= active;
            if !active {
                self.desired.remove(key);
                continue;
            }
            let port = match key {
                ServiceKey::Addr { port, .. } => *port,
                ServiceKey::Fwmark { .. } => 0,
            };
            let svc = Service {
                attrs: service_attrs(cfg, key.family()),
                dests: dests_of(cfg, port, &st, v.quorum),
            };
            self.desired.insert(*key, svc);
        }
        if cfg.ha_suspend && v.ha_set != Some(any_set) {
            let (p, name) = (ctx.prefix, &v.name);
            match (v.ha_set, any_set) {
                (_, true) => log::info!("{p}ha_suspend: VS {name} address set, service installed"),
                (Some(true), false) => {
                    log::info!("{p}ha_suspend: VS {name} address not set, service removed")
                }
                (_, false) => {
                    log::info!("{p}ha_suspend: VS {name} address not set, service suspended")
                }
            }
            v.ha_set = Some(any_set);
            self.suspensions.push((vi, !any_set));
        }
    }

    /// The `ha_suspend` virtual servers whose address came or went since the last call:
    /// (configuration index, suspended). The engine suspends or resumes their checkers.
    pub fn take_suspensions(&mut self) -> Vec<(usize, bool)> {
        std::mem::take(&mut self.suspensions)
    }

    /// Quorum and services of the marked virtual servers; returns their keys.
    fn flush_quorums(&mut self, ctx: &mut Ctx<'_>) -> BTreeSet<ServiceKey> {
        let mut keys = BTreeSet::new();
        for vi in std::mem::take(&mut self.dirty) {
            self.evaluate(ctx, vi, When::Later);
            self.recompute(ctx, vi, &mut keys);
        }
        keys
    }

    /// After an engine event: the marked virtual servers' quorum, services and the
    /// operations that bring the kernel there.
    pub fn flush(&mut self, ctx: &mut Ctx<'_>) {
        if self.dirty.is_empty() || !self.started || self.stopped {
            return;
        }
        let keys = self.flush_quorums(ctx);
        if self.managed() {
            let ops = diff_keys(&self.current, &self.desired, &keys, &self.owned);
            self.emit(ctx, ops);
        }
    }

    /// Instance `inst` (configuration index) moved to `to`: `ha_suspend` services and
    /// the sync daemon follow.
    pub fn instance_state(&mut self, ctx: &mut Ctx<'_>, inst: usize, to: State) {
        if !self.started || self.stopped {
            return;
        }
        if self.ha.instance_state(inst, to) {
            for (vi, addrs) in &self.ha_vss {
                if addrs.iter().any(|a| self.ha.held_by(a, inst)) {
                    self.dirty.insert(*vi);
                }
            }
        }
        let managed = self.managed();
        self.sync.instance_state(ctx, inst, to, managed);
    }

    /// The host's addresses changed (`ha_suspend` on addresses no instance holds).
    /// (Kept even without such a virtual server: a reload may bring one.)
    pub fn host_addresses(&mut self, addrs: BTreeSet<IpAddr>) {
        if !self.ha.host_addresses(addrs) {
            return;
        }
        for (vi, a) in &self.ha_vss {
            if a.iter().any(|a| self.ha.unheld(a)) {
                self.dirty.insert(*vi);
            }
        }
    }

    /// A refused operation: fix the belief, say where.
    pub fn failed(&mut self, ctx: &mut Ctx<'_>, op: &Op, error: &str) {
        if self.phase != Phase::Managed {
            return;
        }
        let stale = |t: &mut Table, k: &ServiceKey| {
            if let Some(s) = t.get_mut(k) {
                // Never a scheduler name: the next diff edits it again.
                s.attrs.sched.clear();
            }
        };
        let (verb, key, dest) = match op {
            Op::AddService(k, _) => {
                self.current.remove(k);
                ("adding", *k, None)
            }
            Op::EditService(k, _) => {
                stale(&mut self.current, k);
                ("editing", *k, None)
            }
            Op::DelService(k) => ("deleting", *k, None),
            Op::AddDest(k, d, _) => {
                if let Some(s) = self.current.get_mut(k) {
                    s.dests.remove(d);
                }
                ("adding", *k, Some(*d))
            }
            Op::EditDest(k, d, _) => {
                if let Some(x) = self.current.get_mut(k).and_then(|s| s.dests.get_mut(d)) {
                    // Above IPVS's largest weight: the next diff edits it again.
                    x.weight = u32::MAX;
                }
                ("editing", *k, Some(*d))
            }
            Op::DelDest(k, d) => ("deleting", *k, Some(*d)),
        };
        self.log_failure(ctx, verb, &key, dest, error);
    }

    fn log_failure(
        &mut self,
        ctx: &mut Ctx<'_>,
        verb: &str,
        key: &ServiceKey,
        dest: Option<crate::ipvs::model::DestKey>,
        error: &str,
    ) {
        let (since, n, dropped) = &mut self.failure_log;
        let p = ctx.prefix;
        if since.map_or(true, |s| {
            ctx.now.saturating_since(s) >= Duration::from_secs(1)
        }) {
            if *dropped > 0 {
                log::warn!("{p}IPVS: {dropped} more refused operations were not logged");
            }
            *since = Some(ctx.now);
            *n = 0;
            *dropped = 0;
        }
        if *n >= FAILURE_LOG_BURST {
            *dropped += 1;
            return;
        }
        *n += 1;
        let vi = self.owner.get(key).copied();
        let vs_name = vi.map_or_else(|| format!("{key:?}"), |vi| self.vss[vi].name.clone());
        let what = match (dest, vi.and_then(|vi| ctx.config.virtual_servers.get(vi))) {
            (None, _) => format!("virtual server {vs_name}"),
            (Some(d), Some(cfg)) => format!(
                "real server {} of VS {vs_name}",
                quorum::dest_name(cfg, d.addr, Some(d.port))
            ),
            (Some(d), None) => format!("real server [{}]:{} of VS {vs_name}", d.addr, d.port),
        };
        log::warn!("{p}IPVS: {verb} {what} refused: {error}; tried again at its next change");
    }

    /// `Event::Reload`: the new configuration, in place.
    pub fn reload(&mut self, ctx: &mut Ctx<'_>, states: &[State]) {
        let (mut vss, owner) = build(ctx.config);
        let old: BTreeMap<&str, (bool, Option<bool>)> = self
            .vss
            .iter()
            .map(|v| (v.name.as_str(), (v.quorum, v.ha_set)))
            .collect();
        let mut fresh = vec![false; vss.len()];
        for (vi, v) in vss.iter_mut().enumerate() {
            match old.get(v.name.as_str()) {
                Some((q, ha)) => (v.quorum, v.ha_set) = (*q, *ha),
                None => fresh[vi] = true,
            }
        }
        if self.managed() {
            let kept: BTreeSet<&str> = vss.iter().map(|v| v.name.as_str()).collect();
            for v in &self.vss {
                if !kept.contains(v.name.as_str()) {
                    log::info!("{}Removing Virtual Server {}", ctx.prefix, v.name);
                }
            }
        }
        let mut deletable = std::mem::take(&mut self.owned);
        deletable.extend(owner.keys().copied());
        self.owned = owner.keys().copied().collect();
        self.ha_vss = ha_vss(ctx.config, &vss);
        self.vss = vss;
        self.owner = owner;
        let mut ha = ha::Ha::new(ctx.config, states);
        ha.carry_host(&self.ha);
        self.ha = ha;
        self.dirty.clear();
        self.desired = Table::new();
        if self.started && !self.stopped {
            for (vi, new) in fresh.into_iter().enumerate() {
                let when = if new { When::First } else { When::Later };
                self.evaluate(ctx, vi, when);
                self.recompute(ctx, vi, &mut BTreeSet::new());
            }
        }
        let managed = self.managed();
        if managed {
            let ops = diff::diff(&self.current, &self.desired, &deletable);
            self.emit(ctx, ops);
        }
        self.sync.reload(ctx, states, managed);
        self.timeouts.converge(ctx, managed);
        if self.started
            && !self.stopped
            && self.phase == Phase::Idle
            && wanted(ctx.config, &self.sync)
        {
            self.phase = Phase::Reading;
            ctx.actions.push_back(Action::IpvsRead);
        }
    }

    /// `Event::Shutdown`: `omega` scripts, the table as `-I` / `lvs_flush_on_stop` say,
    /// the sync daemons stopped.
    pub fn shutdown(&mut self, ctx: &mut Ctx<'_>) {
        if self.stopped {
            return;
        }
        if self.started {
            for (vi, cfg) in ctx.config.virtual_servers.iter().enumerate() {
                if cfg.omega && self.vss.get(vi).is_some_and(|v| v.quorum) {
                    if let Some(command) = &cfg.quorum_down {
                        ctx.actions.push_back(Action::RunScript {
                            run: None,
                            command: command.clone(),
                            timeout: None,
                        });
                    }
                }
            }
        }
        if self.managed() {
            let mode = if self.keep_on_stop {
                StopMode::Keep
            } else {
                match ctx.config.global.lvs_flush_on_stop {
                    None => StopMode::EachDest,
                    Some(true) => StopMode::EachService,
                    Some(false) => StopMode::Flush,
                }
            };
            let ops = diff::stop_ops(&self.current, &self.owned, mode);
            if !ops.is_empty() {
                log::info!(
                    "{}IPVS: removing the virtual servers at stop ({} operations)",
                    ctx.prefix,
                    ops.len()
                );
            }
            self.emit(ctx, ops);
            self.sync.converge(ctx, false);
        }
        self.stopped = true;
    }

    /// What the status dumps show.
    pub fn status(&self) -> IpvsStatus {
        IpvsStatus {
            available: match &self.phase {
                Phase::Idle | Phase::Reading => None,
                Phase::Managed => Some(Ok(())),
                Phase::Unavailable(why) => Some(Err(why.clone())),
            },
            table: self
                .current
                .iter()
                .filter(|(k, _)| self.owned.contains(k))
                .map(|(k, s)| (*k, s.clone()))
                .collect(),
            quorum: self
                .vss
                .iter()
                .map(|v| (v.name.clone(), v.quorum))
                .collect(),
            sync_daemons: self.sync.running().to_vec(),
        }
    }
}

#[cfg(test)]
#[path = "runtime_tests.rs"]
mod tests;
