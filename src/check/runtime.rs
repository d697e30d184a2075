//! The checker runtime: every real server of every `virtual_server`, its checkers, their
//! timing and the real server's resulting state — keepalived 2.2.7's behaviour, pure.
//!
//! The engine owns one [`Runtime`] and calls it with a [`Ctx`] (the instant, the timer
//! wheel, the action queue, the id counters): at start-up ([`Runtime::start`]), when a
//! checker timer fires ([`Runtime::timer`]), when a checker connection reports
//! ([`Runtime::conn_event`]), when a MISC_CHECK script exits ([`Runtime::script_exited`]),
//! when a `track_file` value changes ([`Runtime::file_value`]), at reload
//! ([`Runtime::reload`]) and at shutdown ([`Runtime::shutdown`]).
//!
//! - Timing ([`timing`]): first check 1 s + random part of `warmup` after start-up, then
//!   every `delay_loop`; a failure is retried after `delay_before_retry`, `retry + 1`
//!   consecutive failures decide "down"; `connect_timeout` is a timer of the wheel.
//! - Checkers: TCP_CHECK (connected = up), HTTP_GET / SSL_GET (one url per check, round
//!   robin while up; while down every url must pass since the last failure, back to back
//!   with `fast_recovery`), MISC_CHECK (exit 0 up, 1 down, with `misc_dynamic` 2–255 up
//!   with weight code − 2, timeout = failure), FILE_CHECK (the `track_file` value), and the
//!   protocols of [`crate::check::plan`].
//! - A real server ([`server`]) is up when every (implemented) checker is up; no checker:
//!   always up. `alpha` starts checkers down. Transitions log keepalived's lines, emit
//!   `Action::RealServerChanged`, run `notify_up` / `notify_down` as configured (no
//!   argument added, as keepalived 2.2.7) and are kept in [`Runtime::take_transitions`]
//!   for the SMTP alerter. `inhibit_on_failure`: weight 0 instead of removal.
//! - Shutdown closes every connection and kills every script; with `omega` the down
//!   notifiers of the servers that are up run.
//! - `ha_suspend` ([`Runtime::set_suspended`], decided by the IPVS runtime): the checkers
//!   of a virtual server whose address is not set do not run. [`Runtime::take_changed`]
//!   and [`Runtime::rs_state`] are what the IPVS runtime reads.
//!
//! Everything is keyed for determinism (`BTreeMap`), and a dialogue that panics is caught:
//! its check fails, VRRP goes on (DESIGN.md §3.6).

mod files;
mod http;
mod misc;
pub mod rng;
mod server;
pub mod timing;

use crate::check::dialogue::{Dialogue, Step, Verdict};
use crate::check::http::{HttpCheckPlan, HttpTarget};
use crate::check::plan::{self, DialogueArgs};
use crate::config::model::{Checker, CheckerKind, Config, FileCheck, MiscCheck};
use crate::event::{
    Action, CheckTimer, ConnEvent, ConnId, ConnOwner, ConnectSpec, ScriptRunId, Timer,
};
use crate::sched::{Instant, TimerHandle, TimerWheel};
use crate::status::{CheckerStatus, RealServerStatus, VirtualServerStatus};
use rng::Rng;
use server::Server;
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;
use timing::{Outcome, Retry, Timing};

pub use server::{rs_name, vs_name, RsTransition};

/// What the runtime needs from the engine for one call.
pub struct Ctx<'a> {
    pub now: Instant,
    pub wheel: &'a mut TimerWheel<Timer>,
    pub actions: &'a mut VecDeque<Action>,
    /// The engine's connection sequence (shared with the SMTP alerter).
    pub next_conn: &'a mut u64,
    /// The engine's script run sequence (shared with track scripts).
    pub next_run: &'a mut u64,
    /// Log prefix (multi-host simulations).
    pub prefix: &'a str,
}

impl Ctx<'_> {
    fn conn_id(&mut self) -> ConnId {
        let id = ConnId {
            owner: ConnOwner::Checker,
            seq: *self.next_conn,
        };
        *self.next_conn += 1;
        id
    }

    fn run_id(&mut self) -> ScriptRunId {
        let id = ScriptRunId(*self.next_run);
        *self.next_run += 1;
        id
    }
}

/// How a checker checks.
enum Kind {
    /// A dialogue from [`plan::dialogue_for`] each check (TCP_CHECK and the protocols).
    Conn,
    Http(http::HttpState),
    Misc(MiscCheck),
    File(FileCheck),
    /// Not implemented (keyword): warned at start-up, takes no part.
    Off(&'static str),
}

/// The connection of the check in progress.
struct Active {
    conn: ConnId,
    dialogue: Box<dyn Dialogue>,
    connected: bool,
}

/// One checker of one real server.
struct Check {
    server: usize,
    cfg: Arc<Checker>,
    kind: Kind,
    retry: Retry,
    /// What it adds to the server's weight (`misc_dynamic`, FILE_CHECK `dynamic`).
    delta: i32,
    timer: Option<TimerHandle>,
    timeout: Option<TimerHandle>,
    active: Option<Active>,
    run: Option<ScriptRunId>,
    checks: u64,
    failures: u64,
    last_ran: Option<Instant>,
    last_status: Option<i32>,
    last_failure: Option<String>,
}

impl Check {
    fn enabled(&self) -> bool {
        !matches!(self.kind, Kind::Off(_))
    }

    fn timing(&self) -> Timing {
        Timing {
            retry: self.cfg.retry,
            delay_before_retry: self.cfg.delay_before_retry,
            delay_loop: self.cfg.delay_loop,
        }
    }
}

/// Every real server and checker of a configuration.
pub struct Runtime {
    /// (name, configuration without real servers, server indices) per virtual server.
    vss: Vec<(String, Arc<crate::config::model::VirtualServer>, Vec<usize>)>,
    servers: Vec<Server>,
    checks: BTreeMap<u64, Check>,
    conns: BTreeMap<ConnId, u64>,
    runs: BTreeMap<ScriptRunId, u64>,
    rng: Rng,
    next_id: u64,
    transitions: Vec<RsTransition>,
    /// Virtual servers (configuration index) one of whose real servers changed state or
    /// weight since the last [`Runtime::take_changed`] (the IPVS runtime recomputes them).
    changed: std::collections::BTreeSet<usize>,
    /// `ha_suspend` virtual servers (configuration index) whose address is not set: their
    /// checkers do not run ([`Runtime::set_suspended`]).
    suspended: std::collections::BTreeSet<usize>,
    /// `checker_log_all_failures` of global_defs.
    log_all: bool,
    /// `helo_name` default of SMTP_CHECK (keepalived's own name for it).
    helo_default: String,
    /// track_file name -> (weight, reverse) of its block.
    track_files: BTreeMap<String, (i32, bool)>,
    started: bool,
    stopped: bool,
    /// The checks armed in the current step (a crowd of them is spread).
    crowd: crate::sched::Crowd,
}

impl Runtime {
    /// The checkers of `config` (nothing runs before [`Runtime::start`]).
    pub fn new(config: &Config, seed: u64) -> Runtime {
        let mut rt = Runtime {
            vss: Vec::new(),
            servers: Vec::new(),
            checks: BTreeMap::new(),
            conns: BTreeMap::new(),
            runs: BTreeMap::new(),
            rng: Rng::new(seed),
            next_id: 1,
            transitions: Vec::new(),
            changed: Default::default(),
            suspended: Default::default(),
            log_all: false,
            helo_default: crate::check::smtp::DEFAULT_HELO.into(),
            track_files: BTreeMap::new(),
            started: false,
            stopped: false,
            crowd: crate::sched::Crowd::of(crate::sched::CHECK_CROWD),
        };
        rt.load(config);
        rt
    }

    /// Re-seeds the `warmup` randomness (before start-up).
    pub fn set_seed(&mut self, seed: u64) {
        self.rng = Rng::new(seed);
    }

    /// Takes the real servers and checkers of `config` (all new).
    fn load(&mut self, config: &Config) {
        self.log_all = config.global.checker_log_all_failures;
        self.track_files = config
            .track_files
            .iter()
            .map(|f| (f.name.clone(), (f.weight, f.reverse)))
            .collect();
        for vs in &config.virtual_servers {
            let vs_name = server::vs_name(vs);
            let mut idx = Vec::new();
            for rs in &vs.real_servers {
                let s = self.servers.len();
                let rs_name = server::rs_name(vs, rs);
                let mut ids = Vec::new();
                for ch in &rs.checkers {
                    let id = self.next_id;
                    self.next_id += 1;
                    let kind = make_kind(ch, vs, rs, &rs_name, &self.helo_default);
                    self.checks.insert(
                        id,
                        Check {
                            server: s,
                            cfg: Arc::new(ch.clone()),
                            kind,
                            retry: Retry::new(ch.alpha),
                            delta: 0,
                            timer: None,
                            timeout: None,
                            active: None,
                            run: None,
                            checks: 0,
                            failures: 0,
                            last_ran: None,
                            last_status: None,
                            last_failure: None,
                        },
                    );
                    ids.push(id);
                }
                let mut srv = Server::new(vs, &vs_name, rs, rs_name, ids);
                srv.vsi = self.vss.len();
                self.servers.push(srv);
                idx.push(s);
            }
            let cfg = vs.without_real_servers();
            self.vss.push((vs_name, Arc::new(cfg), idx));
        }
        for s in 0..self.servers.len() {
            let (up, weight) = self.assess(s);
            self.servers[s].up = up;
            self.servers[s].weight = weight;
        }
    }

    /// No virtual server is configured.
    pub fn is_empty(&self) -> bool {
        self.servers.is_empty()
    }

    /// What the checkers say of real server `rs` of virtual server `vs` (configuration
    /// indices): up, and its effective weight (0..=65535). Unknown: down, weight 0.
    pub fn rs_state(&self, vs: usize, rs: usize) -> (bool, u32) {
        self.vss
            .get(vs)
            .and_then(|(_, _, idx)| idx.get(rs))
            .and_then(|&s| self.servers.get(s))
            .map_or((false, 0), |s| (s.up, s.weight.clamp(0, 65535) as u32))
    }

    /// The virtual servers (configuration indices) one of whose real servers changed
    /// state or weight since the last call, in order.
    pub fn take_changed(&mut self) -> Vec<usize> {
        std::mem::take(&mut self.changed).into_iter().collect()
    }

    /// Starts every checker (once; `Event::Startup`). `files` are the `track_file` values
    /// known now.
    pub fn start(&mut self, ctx: &mut Ctx<'_>, files: &BTreeMap<String, Option<i64>>) {
        if self.started || self.stopped {
            return;
        }
        self.started = true;
        for (vi, (vs_name, _, idx)) in self.vss.iter().enumerate() {
            let what = if self.suspended.contains(&vi) {
                "Suspending"
            } else {
                "Activating"
            };
            for &s in idx {
                log::info!(
                    "{}{what} healthchecker for service {} for VS {vs_name}",
                    ctx.prefix,
                    self.servers[s].name
                );
            }
        }
        let ids = self.active_ids();
        self.start_checks(ctx, &ids, files);
    }

    /// The checkers whose virtual server is not suspended.
    fn active_ids(&self) -> Vec<u64> {
        self.checks
            .iter()
            .filter(|(_, c)| !self.suspended.contains(&self.servers[c.server].vsi))
            .map(|(id, _)| *id)
            .collect()
    }

    /// `ha_suspend`: the checkers of virtual server `vs` (configuration index) stop while
    /// its address is not set on this director and start again when it is (keepalived's
    /// `Suspending healthchecker for service ... for VS ...` / `Activating ...`); the real
    /// servers keep their state meanwhile. Before start-up this only records it.
    pub fn set_suspended(
        &mut self,
        ctx: &mut Ctx<'_>,
        vs: usize,
        on: bool,
        files: &BTreeMap<String, Option<i64>>,
    ) {
        let changed = if on {
            self.suspended.insert(vs)
        } else {
            self.suspended.remove(&vs)
        };
        if !changed || !self.started || self.stopped {
            return;
        }
        let Some((vs_name, _, idx)) = self.vss.get(vs) else {
            return;
        };
        let what = if on { "Suspending" } else { "Activating" };
        let mut ids = Vec::new();
        for &s in idx {
            log::info!(
                "{}{what} healthchecker for service {} for VS {vs_name}",
                ctx.prefix,
                self.servers[s].name
            );
            ids.extend(self.servers[s].checks.iter().copied());
        }
        if on {
            for id in ids {
                self.stop_check(ctx, id);
            }
        } else {
            self.start_checks(ctx, &ids, files);
        }
    }

    fn start_checks(
        &mut self,
        ctx: &mut Ctx<'_>,
        ids: &[u64],
        files: &BTreeMap<String, Option<i64>>,
    ) {
        for &id in ids {
            let Some(c) = self.checks.get(&id) else {
                continue;
            };
            match &c.kind {
                Kind::Off(kw) => {
                    log::warn!(
                        "{}{}: {kw} is not implemented yet; this checker of {} is ignored",
                        ctx.prefix,
                        c.cfg.span,
                        self.servers[c.server].name
                    );
                }
                Kind::File(f) => {
                    if let Some(v) = files.get(&f.track_file).copied().flatten() {
                        self.file_check(ctx, id, Some(v));
                    }
                }
                _ => {
                    let d = timing::first_delay(c.cfg.warmup, self.rng.unit());
                    self.arm(ctx, id, d);
                }
            }
        }
    }

    /// Whether `run` is a MISC_CHECK run of this runtime.
    pub fn owns_run(&self, run: ScriptRunId) -> bool {
        self.runs.contains_key(&run)
    }

    /// A checker timer fired.
    pub fn timer(&mut self, ctx: &mut Ctx<'_>, id: u64, what: CheckTimer) {
        let Some(c) = self.checks.get_mut(&id) else {
            return;
        };
        match what {
            CheckTimer::Run => {
                c.timer = None;
                self.run_check(ctx, id);
            }
            CheckTimer::Timeout => {
                c.timeout = None;
                let Some(mut a) = c.active.take() else {
                    return;
                };
                self.conns.remove(&a.conn);
                ctx.actions.push_back(Action::Close { conn: a.conn });
                let v = guard(|| a.dialogue.timed_out());
                self.finish(ctx, id, v);
            }
        }
    }

    /// Starts one check of checker `id`.
    fn run_check(&mut self, ctx: &mut Ctx<'_>, id: u64) {
        if self.stopped {
            return;
        }
        let random = self.rng.next_u64();
        let helo = self.helo_default.clone();
        let Some(c) = self.checks.get_mut(&id) else {
            return;
        };
        c.checks += 1;
        c.last_ran = Some(ctx.now);
        let dialogue: Option<Box<dyn Dialogue>> = match &mut c.kind {
            Kind::Conn => {
                let args = DialogueArgs {
                    random,
                    helo_default: &helo,
                };
                match plan::dialogue_for(&c.cfg.kind, &args) {
                    Some(Ok(d)) => Some(d),
                    _ => None,
                }
            }
            Kind::Http(h) => h.dialogue().map(|d| Box::new(d) as Box<dyn Dialogue>),
            Kind::Misc(m) => {
                let run = ctx.run_id();
                c.run = Some(run);
                self.runs.insert(run, id);
                let timeout = m.timeout.unwrap_or(c.cfg.delay_loop);
                ctx.actions.push_back(Action::RunScript {
                    run: Some(run),
                    command: m.path.clone(),
                    timeout: Some(timeout),
                });
                return;
            }
            Kind::File(_) | Kind::Off(_) => return,
        };
        let Some(dialogue) = dialogue else {
            self.finish(ctx, id, Verdict::Down("no dialogue".into()));
            return;
        };
        let s = &self.servers[c.server];
        let spec = ConnectSpec {
            transport: dialogue.transport(),
            dst: c.cfg.connect_ip.unwrap_or(s.addr),
            port: c.cfg.connect_port.unwrap_or(s.port),
            bind_addr: c.cfg.bindto,
            bind_port: c.cfg.bind_port,
            bind_if: c.cfg.bind_if.clone(),
            fwmark: c.cfg.fwmark,
        };
        let conn = ctx.conn_id();
        c.active = Some(Active {
            conn,
            dialogue,
            connected: false,
        });
        self.conns.insert(conn, id);
        ctx.actions.push_back(Action::Connect { conn, spec });
        let t = c.cfg.connect_timeout;
        self.arm_timeout(ctx, id, t);
    }

    /// Something happened on a checker connection.
    pub fn conn_event(&mut self, ctx: &mut Ctx<'_>, conn: ConnId, event: ConnEvent) {
        let Some(&id) = self.conns.get(&conn) else {
            return;
        };
        let Some(c) = self.checks.get_mut(&id) else {
            return;
        };
        let Some(a) = c.active.as_mut() else {
            return;
        };
        let step = match &event {
            ConnEvent::Connected => {
                a.connected = true;
                let d = &mut a.dialogue;
                guard_step(|| d.connected())
            }
            ConnEvent::Data(bytes) => {
                let d = &mut a.dialogue;
                guard_step(|| d.data(bytes))
            }
            ConnEvent::Closed => {
                let d = &mut a.dialogue;
                Step::Done(guard(|| d.closed()))
            }
            ConnEvent::Failed(err) => {
                let d = &mut a.dialogue;
                Step::Done(guard(|| d.failed(err)))
            }
        };
        match step {
            Step::Wait => {
                let t = c.cfg.connect_timeout;
                self.arm_timeout(ctx, id, t);
            }
            Step::Send(data) => {
                ctx.actions.push_back(Action::Send { conn, data });
                let t = c.cfg.connect_timeout;
                self.arm_timeout(ctx, id, t);
            }
            Step::Done(v) => {
                c.active = None;
                if let Some(h) = c.timeout.take() {
                    ctx.wheel.cancel(h);
                }
                self.conns.remove(&conn);
                if !matches!(event, ConnEvent::Failed(_)) {
                    ctx.actions.push_back(Action::Close { conn });
                }
                self.finish(ctx, id, v);
            }
        }
    }

    /// A connection check of `id` is decided.
    fn finish(&mut self, ctx: &mut Ctx<'_>, id: u64, v: Verdict) {
        let Some(c) = self.checks.get_mut(&id) else {
            return;
        };
        let ok = v == Verdict::Up;
        if let Verdict::Down(why) = &v {
            c.failures += 1;
            c.last_failure = Some(why.clone());
        }
        if matches!(c.kind, Kind::Http(_)) {
            self.http_result(ctx, id, ok, v);
            return;
        }
        let t = c.timing();
        let was_up = c.retry.up;
        let o = c.retry.record(ok, &t);
        let name = self.servers[c.server].name.clone();
        let kw = c.cfg.kind.keyword();
        if o.decided && ok && (o.changed || o.first) {
            if kw == "TCP_CHECK" {
                log::info!("{}TCP connection to {name} success.", ctx.prefix);
            } else {
                log::info!("{}{kw} on service {name} succeeded.", ctx.prefix);
            }
        }
        if o.decided && !ok && (was_up || o.first || self.log_all || c.cfg.log_all_failures) {
            if let Verdict::Down(why) = &v {
                if kw != "TCP_CHECK" {
                    log::info!("{}{why}", ctx.prefix);
                }
            }
            log::info!("{}{}", ctx.prefix, failed_line(kw, &name, &t, &o));
        }
        self.after(ctx, id, &o, &v);
    }

    /// Arms the next check and re-assesses the server after a result.
    fn after(&mut self, ctx: &mut Ctx<'_>, id: u64, o: &Outcome, v: &Verdict) {
        self.arm(ctx, id, o.next);
        if o.changed {
            let Some(c) = self.checks.get(&id) else {
                return;
            };
            let s = c.server;
            let why = match v {
                Verdict::Up => None,
                Verdict::Down(w) => Some(w.clone()),
            };
            let kw = c.cfg.kind.keyword();
            self.reassess(ctx, s, kw, why);
        }
    }

    fn arm(&mut self, ctx: &mut Ctx<'_>, id: u64, after: Duration) {
        if self.stopped {
            return;
        }
        if let Some(c) = self.checks.get_mut(&id) {
            if let Some(h) = c.timer.take() {
                ctx.wheel.cancel(h);
            }
            // A crowd of checks due together is spread (sched/crowd.rs).
            let lag = self.crowd.spread(ctx.now, after, c.cfg.delay_loop);
            c.timer = Some(ctx.wheel.insert(
                ctx.now + after + lag,
                Timer::Checker {
                    id,
                    what: CheckTimer::Run,
                },
            ));
        }
    }

    fn arm_timeout(&mut self, ctx: &mut Ctx<'_>, id: u64, after: Duration) {
        if let Some(c) = self.checks.get_mut(&id) {
            if let Some(h) = c.timeout.take() {
                ctx.wheel.cancel(h);
            }
            c.timeout = Some(ctx.wheel.insert(
                ctx.now + after,
                Timer::Checker {
                    id,
                    what: CheckTimer::Timeout,
                },
            ));
        }
    }

    /// The state and weight server `s` should have now: up when every enabled checker is
    /// up; weight = configured + every checker's delta, within IPVS's 0..=65535.
    fn assess(&self, s: usize) -> (bool, i32) {
        let srv = &self.servers[s];
        let mut up = true;
        let mut weight = i64::from(srv.cfg.weight);
        for id in &srv.checks {
            if let Some(c) = self.checks.get(id) {
                if c.enabled() {
                    up &= c.retry.up;
                    weight += i64::from(c.delta);
                }
            }
        }
        (up, weight.clamp(0, 65535) as i32)
    }

    /// Applies a change of the server's checkers: weight first, then the state.
    fn reassess(&mut self, ctx: &mut Ctx<'_>, s: usize, cause: &str, why: Option<String>) {
        let (up, weight) = self.assess(s);
        let vs = self.vs_of(s);
        let srv = &self.servers[s];
        if (srv.up, srv.weight) != (up, weight) {
            self.changed.insert(srv.vsi);
        }
        let t = self.servers[s].apply(ctx, &vs, up, weight, cause, why);
        self.transitions.extend(t);
    }

    fn vs_of(&self, s: usize) -> String {
        self.servers[s].vs.clone()
    }

    /// Real-server transitions since the last call (for the SMTP alerter).
    pub fn take_transitions(&mut self) -> Vec<RsTransition> {
        std::mem::take(&mut self.transitions)
    }

    /// Stops everything: timers, connections, scripts; `omega` down notifiers.
    pub fn shutdown(&mut self, ctx: &mut Ctx<'_>) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        let ids: Vec<u64> = self.checks.keys().copied().collect();
        for id in ids {
            self.stop_check(ctx, id);
        }
        if self.started {
            for srv in &self.servers {
                if srv.omega && srv.up {
                    if let Some(cmd) = &srv.cfg.notify_down {
                        ctx.actions.push_back(Action::RunScript {
                            run: None,
                            command: cmd.clone(),
                            timeout: None,
                        });
                    }
                }
            }
        }
    }

    /// Cancels what checker `id` has in flight.
    fn stop_check(&mut self, ctx: &mut Ctx<'_>, id: u64) {
        let Some(c) = self.checks.get_mut(&id) else {
            return;
        };
        for h in [c.timer.take(), c.timeout.take()].into_iter().flatten() {
            ctx.wheel.cancel(h);
        }
        if let Some(a) = c.active.take() {
            self.conns.remove(&a.conn);
            ctx.actions.push_back(Action::Close { conn: a.conn });
        }
        if let Some(run) = c.run.take() {
            self.runs.remove(&run);
            ctx.actions.push_back(Action::KillScript { run });
        }
    }

    /// Applies a new configuration, keepalived's way: real servers matched by virtual
    /// server and address keep their state, counters and the state of the checkers that
    /// did not change; new ones start as at start-up; removed ones stop.
    pub fn reload(
        &mut self,
        ctx: &mut Ctx<'_>,
        config: &Config,
        files: &BTreeMap<String, Option<i64>>,
    ) {
        let mut old = std::mem::replace(self, Runtime::new(&Config::default(), 0));
        self.rng = old.rng.clone();
        self.next_id = old.next_id;
        self.started = old.started;
        self.stopped = old.stopped;
        self.load(config);
        // Suspended virtual servers stay suspended (matched by name).
        let was_suspended: std::collections::BTreeSet<&str> = old
            .suspended
            .iter()
            .filter_map(|&v| old.vss.get(v).map(|(n, _, _)| n.as_str()))
            .collect();
        self.suspended = self
            .vss
            .iter()
            .enumerate()
            .filter(|(_, (n, _, _))| was_suspended.contains(n.as_str()))
            .map(|(v, _)| v)
            .collect();
        // Old server (vs, rs) name -> index.
        let by_name: BTreeMap<(String, String), usize> = old
            .servers
            .iter()
            .enumerate()
            .map(|(i, s)| ((s.vs.clone(), s.name.clone()), i))
            .collect();
        let mut fresh: Vec<u64> = Vec::new();
        let mut kept_old: Vec<bool> = vec![false; old.servers.len()];
        for s in 0..self.servers.len() {
            let key = (self.servers[s].vs.clone(), self.servers[s].name.clone());
            let Some(&o) = by_name.get(&key) else {
                fresh.extend(self.servers[s].checks.iter().copied());
                continue;
            };
            kept_old[o] = true;
            self.servers[s].carry(&old.servers[o]);
            let old_ids = old.servers[o].checks.clone();
            let new_ids = self.servers[s].checks.clone();
            let mut used = vec![false; old_ids.len()];
            for nid in new_ids {
                let ncfg = self.checks.get(&nid).map(|c| Arc::clone(&c.cfg));
                let found = old_ids.iter().enumerate().find(|(k, oid)| {
                    !used[*k]
                        && old
                            .checks
                            .get(oid)
                            .zip(ncfg.as_ref())
                            .is_some_and(|(oc, n)| same_checker(&oc.cfg, n))
                });
                match found {
                    Some((k, &oid)) => {
                        used[k] = true;
                        if let (Some(mut oc), Some(nc)) =
                            (old.checks.remove(&oid), self.checks.remove(&nid))
                        {
                            oc.server = s;
                            oc.cfg = nc.cfg;
                            self.checks.insert(oid, oc);
                            for id in self.servers[s].checks.iter_mut() {
                                if *id == nid {
                                    *id = oid;
                                }
                            }
                        }
                    }
                    None => fresh.push(nid),
                }
            }
        }
        // What is left of the old runtime stops.
        let left: Vec<u64> = old.checks.keys().copied().collect();
        for id in left {
            old.stop_check(ctx, id);
        }
        for (o, srv) in old.servers.iter().enumerate() {
            if !kept_old[o] && srv.up && old.started {
                log::info!(
                    "{}Removing service {} from VS {}",
                    ctx.prefix,
                    srv.name,
                    srv.vs
                );
                ctx.actions.push_back(Action::RealServerChanged {
                    vs: srv.vs.clone(),
                    rs: srv.name.clone(),
                    up: false,
                    weight: 0,
                });
            }
        }
        // Carried checkers keep their connections, runs and timers.
        for (&id, c) in &self.checks {
            if let Some(a) = &c.active {
                self.conns.insert(a.conn, id);
            }
            if let Some(r) = c.run {
                self.runs.insert(r, id);
            }
        }
        if self.started && !self.stopped {
            fresh.retain(|id| {
                self.checks
                    .get(id)
                    .is_some_and(|c| !self.suspended.contains(&self.servers[c.server].vsi))
            });
            self.start_checks(ctx, &fresh, files);
            for s in 0..self.servers.len() {
                self.reassess(ctx, s, "reload", None);
            }
        }
    }

    /// The status of every virtual server (for `Engine::snapshot`).
    pub fn status(&self) -> Vec<VirtualServerStatus> {
        self.vss
            .iter()
            .map(|(name, cfg, idx)| VirtualServerStatus {
                name: name.clone(),
                cfg: cfg.clone(),
                real_servers: idx.iter().map(|&s| self.server_status(s)).collect(),
            })
            .collect()
    }

    fn server_status(&self, s: usize) -> RealServerStatus {
        let srv = &self.servers[s];
        RealServerStatus {
            name: srv.name.clone(),
            cfg: srv.cfg.clone(),
            up: srv.up,
            weight: srv.weight,
            up_transitions: srv.up_transitions,
            down_transitions: srv.down_transitions,
            last_transition: srv.last_transition,
            checkers: srv
                .checks
                .iter()
                .filter_map(|id| self.checks.get(id))
                .map(|c| CheckerStatus {
                    cfg: c.cfg.clone(),
                    enabled: c.enabled(),
                    up: c.retry.up,
                    has_run: c.retry.has_run,
                    retry_it: c.retry.retry_it,
                    checks: c.checks,
                    failures: c.failures,
                    weight_delta: c.delta,
                    last_ran: c.last_ran,
                    last_status: c.last_status,
                    last_failure: c.last_failure.clone(),
                })
                .collect(),
        }
    }
}

/// Two checker configurations are the same checker for reload (the place in the file
/// may change).
fn same_checker(a: &Checker, b: &Checker) -> bool {
    let mut a = a.clone();
    a.span = b.span.clone();
    a == *b
}

/// keepalived's line for a decisive failure.
fn failed_line(kw: &str, name: &str, t: &Timing, o: &Outcome) -> String {
    let kw = match kw {
        "HTTP_GET" | "SSL_GET" => "HTTP_CHECK",
        k => k,
    };
    if t.retry > 0 && !o.first {
        format!("{kw} on service {name} failed after {} retries.", o.retries)
    } else {
        format!("{kw} on service {name} failed.")
    }
}

/// How checker `ch` of `rs` checks.
fn make_kind(
    ch: &Checker,
    vs: &crate::config::model::VirtualServer,
    rs: &crate::config::model::RealServer,
    rs_name: &str,
    helo: &str,
) -> Kind {
    match &ch.kind {
        CheckerKind::Http(h) | CheckerKind::Ssl(h) => {
            let port = ch.connect_port.unwrap_or(server::rs_port(vs, rs));
            let target = HttpTarget {
                server: rs_name,
                connect: SocketAddr::new(ch.connect_ip.unwrap_or(rs.addr), port),
                vs_virtualhost: vs.virtualhost.as_deref(),
                rs_virtualhost: rs.virtualhost.as_deref(),
            };
            match HttpCheckPlan::new(&ch.kind, &target) {
                Ok(p) => Kind::Http(http::HttpState::new(
                    p,
                    h.fast_recovery,
                    h.urls.iter().map(|u| u.path.clone()).collect(),
                )),
                Err(e) => {
                    log::warn!("{}: {}: {e}; ignored", ch.span, ch.kind.keyword());
                    Kind::Off(ch.kind.keyword())
                }
            }
        }
        CheckerKind::Misc(m) => Kind::Misc(m.clone()),
        CheckerKind::File(f) => Kind::File(f.clone()),
        other => {
            let args = DialogueArgs {
                random: 0,
                helo_default: helo,
            };
            match plan::dialogue_for(other, &args) {
                Some(Ok(_)) => Kind::Conn,
                Some(Err(plan::NotImplemented(kw))) => Kind::Off(kw),
                None => Kind::Off(other.keyword()),
            }
        }
    }
}

/// Runs a dialogue call; a panic is a failed check.
fn guard(f: impl FnOnce() -> Verdict) -> Verdict {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|_| Verdict::Down("checker panicked (caught)".into()))
}

fn guard_step(f: impl FnOnce() -> Step) -> Step {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|_| Step::Done(Verdict::Down("checker panicked (caught)".into())))
}
