//! The daemon's one loop: a single `mio::Poll` over the timerfd (armed for the earliest of
//! the engine's and the children's deadlines, so `poll` never needs a timeout), signals,
//! both netlink sockets, the VRRP sockets and the children's pidfds. Each wake-up stamps the
//! events with the monotonic clock, feeds them to the engine, performs the engine's
//! actions, and fires the engine's timers when due. Nothing in here blocks.

use super::clock::{Clock, TimerFd};
use super::control::Control;
use super::netlink_route::{RTMGRP_IPV4_IFADDR, RTMGRP_IPV6_IFADDR, RTMGRP_LINK};
use super::netlink_sock::{NlCommand, NlMonitor};
use super::safefile;
use super::signals::{self, Request};
use super::trackfile::FileTracker;
use super::trackproc::{self, ProcTracker};
use super::world::{Source, SysWorld};
use super::world_frames::FRAMES_PER_TURN;
use super::DaemonOptions;
use crate::config::model::{Config, ScriptCommand};
use crate::config::{self, LoadOptions};
use crate::engine::Engine;
use crate::event::Event;
use crate::sched::Instant;
use crate::status::{self, DumpKind, HostFacts};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll};
use signal_hook_mio::v1_0::Signals;
use std::os::fd::AsRawFd;
use std::time::Duration;

const NETLINK_WAIT: Duration = Duration::from_secs(5);
/// How long a stopping daemon waits for its notify scripts (keepalived's parent waits
/// `child_wait_time`, 5 s by default, for its children).
pub const STOP_SCRIPTS_WAIT: Duration = Duration::from_secs(5);
/// During a reload, how often the loop turns (packets, timers, adverts) while the new
/// file is read: well under the shortest advert interval (10 ms).
const SERVE_EVERY: Duration = Duration::from_millis(2);
/// How long the notify FIFOs' readers get to read the last lines before they are
/// terminated.
const FIFO_DRAIN_WAIT: Duration = Duration::from_secs(1);
/// After the FIFOs are drained, how long the readers have to act on the last line taken.
const FIFO_READER_GRACE: Duration = Duration::from_millis(150);
/// Ready sources handled per loop turn (a checker connection's event costs the loop
/// about 10-20 us with the kernel's work; 64 keep a turn near a millisecond).
const EVENTS_PER_TURN: usize = 64;
/// A timer run later than this after its deadline is counted as late (stats dump).
const LATE: Duration = Duration::from_millis(1);

pub struct Reactor {
    poll: Poll,
    clock: Clock,
    timer: TimerFd,
    signals: Signals,
    monitor: NlMonitor,
    pub world: SysWorld,
    engine: Engine,
    config: Config,
    opts: DaemonOptions,
    /// Loop iterations and how late timers fired (stats dump).
    files: Option<FileTracker>,
    files_token: Option<mio::Token>,
    proc_track: ProcTracker,
    proc_token: Option<mio::Token>,
    next_proc_scan: Option<Instant>,
    proc_rescan: bool,
    /// Pids of the notify FIFOs' reader scripts.
    fifo_readers: Vec<i32>,
    /// Signals that arrived while a reload was being read, for after it.
    deferred_requests: Vec<Request>,
    /// When the loop last turned during a reload, and how many times it did.
    last_served: Instant,
    reload_slices: u64,
    wakeups: u64,
    max_timer_lateness: Duration,
    total_timer_lateness: Duration,
    timer_fires: u64,
    /// Timer runs later than [`LATE`] after their deadline.
    late_timer_fires: u64,
    /// When the loop next returns free heap pages to the kernel.
    /// The control socket and the metrics endpoint (`reactor/live.rs`).
    control: Control,
    /// The AgentX subagent, when SNMP is on (`reactor/snmp.rs`).
    snmp: Option<super::agentx::AgentX>,
}

mod live;
mod snmp;

fn load_options(opts: &DaemonOptions) -> LoadOptions {
    LoadOptions {
        config_id: opts.config_id.clone(),
        all_config: opts.all_config,
        host_interfaces: None,
        // Scripts run here: check them against this host (users, programs, permissions).
        check_scripts: true,
        random_seed: Some(super::clock::random_u64()),
    }
}

/// Reads the configuration for the daemon: diagnostics are logged; `Err` when it cannot run.
pub fn load_config(opts: &DaemonOptions) -> Result<Config, String> {
    let loaded = config::load(&opts.config_file, &load_options(opts));
    for d in &loaded.diagnostics {
        match d.severity {
            config::Severity::Error => log::error!("{d}"),
            config::Severity::Warning => log::warn!("{d}"),
        }
    }
    if !loaded.can_run() {
        return Err(format!(
            "{}: configuration file missing",
            opts.config_file.display()
        ));
    }
    Ok(filter_config(loaded.config, opts))
}

/// What this process runs of a loaded configuration (`-C`: no VRRP; `-P`: no checkers).
fn filter_config(mut cfg: Config, opts: &DaemonOptions) -> Config {
    if opts.run_checkers && !opts.run_vrrp {
        // `-C`: no VRRP, so no sync daemon either (keepalived's VRRP process drives it).
        cfg.instances.clear();
        cfg.sync_groups.clear();
        cfg.global.lvs_sync_daemon = None;
    }
    if opts.run_vrrp && !opts.run_checkers {
        // `-P`: no checkers and no IPVS services; the sync daemon stays with VRRP.
        cfg.virtual_servers.clear();
        cfg.virtual_server_groups.clear();
    }
    cfg
}

/// Opens and registers the inotify watcher of `track_file`s (none when there are none, or
/// on error, logged).
fn watch_files(
    files: &[crate::config::model::TrackFile],
    world: &mut SysWorld,
    reg: &mio::Registry,
) -> Option<(FileTracker, mio::Token)> {
    if files.is_empty() {
        return None;
    }
    match FileTracker::new(files) {
        Ok(f) => {
            let t = world.tokens.insert(Source::TrackFiles);
            match reg.register(&mut SourceFd(&f.as_raw_fd()), t, Interest::READABLE) {
                Ok(()) => Some((f, t)),
                Err(e) => {
                    world.tokens.remove(t);
                    log::error!("track_file: epoll: {e}");
                    None
                }
            }
        }
        Err(e) => {
            log::error!("track_file: inotify: {e}");
            None
        }
    }
}

/// Registers the process-event connector of `vrrp_track_process`, when it has one.
fn watch_procs(
    procs: &ProcTracker,
    world: &mut SysWorld,
    reg: &mio::Registry,
) -> Option<mio::Token> {
    let fd = procs.connector_fd()?;
    let t = world.tokens.insert(Source::ProcEvents);
    match reg.register(&mut SourceFd(&fd), t, Interest::READABLE) {
        Ok(()) => Some(t),
        Err(e) => {
            world.tokens.remove(t);
            log::error!("vrrp_track_process: epoll: {e}");
            None
        }
    }
}

impl Reactor {
    /// Opens every kernel object; does not touch the network configuration yet.
    pub fn new(config: Config, opts: DaemonOptions) -> Result<Reactor, String> {
        let poll = Poll::new().map_err(|e| format!("epoll: {e}"))?;
        let registry = poll
            .registry()
            .try_clone()
            .map_err(|e| format!("epoll: {e}"))?;
        let nl = NlCommand::open().map_err(|e| format!("netlink: {e}"))?;
        let monitor = NlMonitor::open(RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR)
            .map_err(|e| format!("netlink monitor: {e}"))?;
        let timer = TimerFd::new().map_err(|e| format!("timerfd: {e}"))?;
        let mut signals = signals::open().map_err(|e| format!("signals: {e}"))?;
        let mut world = SysWorld::new(registry, nl);
        world.keep_on_exit = opts.dont_release_vrrp;
        world.set_address_monitoring(opts.address_monitoring);
        let reg = poll.registry();
        let t = world.tokens.insert(Source::Timer);
        reg.register(&mut SourceFd(&timer.as_raw_fd()), t, Interest::READABLE)
            .map_err(|e| format!("epoll: {e}"))?;
        let t = world.tokens.insert(Source::Signals);
        reg.register(&mut signals, t, Interest::READABLE)
            .map_err(|e| format!("epoll: {e}"))?;
        let t = world.tokens.insert(Source::NlCommand);
        reg.register(&mut SourceFd(&world.nl.as_raw_fd()), t, Interest::READABLE)
            .map_err(|e| format!("epoll: {e}"))?;
        let t = world.tokens.insert(Source::NlMonitor);
        reg.register(&mut SourceFd(&monitor.as_raw_fd()), t, Interest::READABLE)
            .map_err(|e| format!("epoll: {e}"))?;
        let (files, files_token) = match watch_files(&config.track_files, &mut world, reg) {
            Some((f, t)) => (Some(f), Some(t)),
            None => (None, None),
        };
        let proc_track = ProcTracker::new(&config.track_processes);
        let proc_token = watch_procs(&proc_track, &mut world, reg);
        let mut engine = Engine::new(&config);
        engine.set_release_vips(opts.release_vips);
        engine.set_dont_release_ipvs(opts.dont_release_ipvs);
        engine.set_seed(random_seed());
        let control = Control::new(
            poll.registry()
                .try_clone()
                .map_err(|e| format!("epoll: {e}"))?,
        );
        Ok(Reactor {
            control,
            snmp: None,
            files,
            files_token,
            proc_track,
            proc_token,
            next_proc_scan: None,
            proc_rescan: false,
            poll,
            clock: Clock::new(),
            timer,
            signals,
            monitor,
            world,
            engine,
            config,
            opts,
            fifo_readers: Vec::new(),
            deferred_requests: Vec::new(),
            last_served: Instant::ZERO,
            reload_slices: 0,
            wakeups: 0,
            max_timer_lateness: Duration::ZERO,
            total_timer_lateness: Duration::ZERO,
            timer_fires: 0,
            late_timer_fires: 0,
        })
    }

    /// Runs the netlink command channel to completion (start-up and exit only).
    fn settle_netlink(&mut self) {
        let mut outs = Vec::new();
        self.world.nl.run_until_idle(NETLINK_WAIT, &mut outs);
        let now = self.clock.now();
        self.world.on_nl_outputs(now, outs);
        let mut msgs = Vec::new();
        if self.monitor.on_readable(&mut msgs) {
            self.world.redump();
        }
        self.world.apply_rt(now, msgs);
    }

    /// Runs `startup_script`, starts the notify FIFOs' readers, reads the interfaces,
    /// removes leftovers of a previous run, adds the static configuration, and starts the
    /// engine.
    pub fn start(&mut self) {
        let g = &self.config.global;
        if let Some(cmd) = g.startup_script.clone() {
            let t = g.startup_script_timeout;
            self.run_lifecycle_script("startup_script", &cmd, t);
        }
        let now = self.clock.now();
        self.fifo_readers = super::fifo_reader::start(&mut self.world, now, &self.config);
        self.world.want_sockets(&self.config);
        self.world.redump();
        self.settle_netlink();
        self.world.remove_leftovers(&self.config);
        self.settle_netlink();
        let now = self.clock.now();
        self.world.add_static(now, &self.config);
        self.settle_netlink();
        // Events gathered so far describe the interfaces: give the engine the full state.
        self.world.events.clear();
        let now = self.clock.now();
        for st in self.world.interface_states() {
            self.engine.handle(now, Event::Interface(st));
        }
        if let Some(f) = self.files.as_mut() {
            for e in f.initial() {
                self.engine.handle(now, e);
            }
        }
        for e in self.proc_track.scan() {
            self.engine.handle(now, e);
        }
        if self.proc_track.polling() {
            self.next_proc_scan = Some(now + trackproc::POLL_EVERY);
        }
        self.engine.handle(now, Event::Host(host_info(now)));
        self.engine.handle(now, Event::Startup);
        self.drive();
        self.open_control();
        self.set_snmp();
        release_free_heap();
    }

    /// Performs every action the engine has (through the `World`), feeding back the events
    /// that produces, until the engine is quiet.
    fn drive(&mut self) {
        loop {
            let now = self.clock.now();
            self.engine.drive(now, &mut self.world);
            // The adverts of this step, one sendmmsg per socket; then at most one chunk
            // of GARP / NA frames (the rest after the next turn's due timers).
            self.world.flush_adverts(now);
            self.world.flush_frames(now, FRAMES_PER_TURN);
            crate::logging::write_some(crate::logging::LINES_PER_TURN);
            if self.world.events.is_empty() {
                break;
            }
            let events = std::mem::take(&mut self.world.events);
            let now = self.clock.now();
            for e in events {
                self.engine.handle(now, e);
            }
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        [
            self.engine.next_deadline(),
            self.world.procs.next_deadline(),
            self.control.next_deadline(),
            // Connections stopped by a read bound: the loop turns again at once.
            self.world.conns.has_pending().then(|| self.clock.now()),
            // GARP / NA frames or log lines still queued: likewise.
            crate::logging::pending().then(|| self.clock.now()),
            self.world.has_pending_frames().then(|| self.clock.now()),
            self.snmp.as_ref().and_then(|a| a.next_deadline()),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The loop. Returns the exit status.
    pub fn run(&mut self) -> i32 {
        // At most this many ready sources per turn (the rest stay ready for the next):
        // a turn's I/O is bounded, so timers that fall due meanwhile wait at most that.
        let mut events = Events::with_capacity(EVENTS_PER_TURN);
        // Log lines wait in a queue the loop writes a little of after each turn's
        // adverts; all of it when the loop ends (a panic included).
        let _paced = crate::logging::paced();
        self.drive();
        loop {
            self.snmp_notify();
            let deadline = self.next_deadline();
            if let Err(e) = self
                .timer
                .arm(deadline.map(|d| self.clock.to_monotonic_ns(d)))
            {
                log::error!("timerfd: {e}");
            }
            if let Err(e) = self.poll.poll(&mut events, None) {
                if e.kind() != std::io::ErrorKind::Interrupted {
                    log::error!("epoll: {e}");
                }
                continue;
            }
            self.wakeups += 1;
            let now = self.clock.now();
            let mut requests = self.dispatch(now, &events);
            requests.extend(std::mem::take(&mut self.deferred_requests));
            for r in requests {
                match r {
                    Request::Shutdown => return self.shutdown(),
                    Request::Reload => self.reload(),
                    Request::DumpData => self.dump_data(),
                    Request::DumpStats => self.dump_stats(),
                    Request::DumpStatsClear => {
                        self.dump_stats();
                        self.engine.clear_stats();
                        // The largest lateness is a gauge: it restarts too.
                        self.max_timer_lateness = Duration::ZERO;
                    }
                    Request::DumpJson => self.dump_json(),
                    Request::Reap => self.world.reap(now, None),
                }
            }
            self.step();
            self.drive();
            // No periodic heap trim here: measured with scripts/bench-checkers.sh, a
            // malloc_trim every 10 s in a 30 MB heap held the loop up to 150 ms (22 late
            // advert batches in 10 s instead of 1). The heap is trimmed after start-up
            // and after a reload only.
        }
    }

    /// Handles the I/O of one wake-up: what it reports for the engine goes to
    /// `world.events`; the signals' requests are returned.
    fn dispatch(&mut self, now: Instant, events: &Events) -> Vec<Request> {
        let mut requests = Vec::new();
        self.world.conns_turn();
        for ev in events.iter() {
            let Some(src) = self.world.tokens.get(ev.token()).cloned() else {
                continue; // a source closed earlier in this batch
            };
            match src {
                Source::Timer => self.timer.clear(),
                Source::Signals => requests.extend(signals::pending(&mut self.signals)),
                Source::NlCommand => {
                    let mut outs = Vec::new();
                    self.world.nl.on_readable(&mut outs);
                    self.world.on_nl_outputs(now, outs);
                }
                Source::NlMonitor => {
                    let mut msgs = Vec::new();
                    if self.monitor.on_readable(&mut msgs) {
                        self.world.redump();
                    }
                    self.world.apply_rt(now, msgs);
                }
                Source::Vrrp(ifname, v6) => self.world.read_vrrp(&ifname, v6),
                Source::Child(pid) => self.world.reap(now, Some(pid)),
                Source::TrackFiles => {
                    if let Some(f) = self.files.as_mut() {
                        self.world.events.extend(f.on_readable());
                    }
                }
                Source::ProcEvents => self.proc_rescan |= self.proc_track.drain(),
                Source::Nftables => self.world.on_nft_readable(),
                Source::Control(ep) => self.on_control(ep, now),
                Source::Conn(_) | Source::ConnIcmp(_) => self.world.on_conn_io(&src),
                Source::AgentX => self.on_agentx(now),
            }
        }
        if let Some(t) = self.next_proc_scan.filter(|&t| t <= now) {
            self.proc_rescan = true;
            self.next_proc_scan = Some(t.max(now) + trackproc::POLL_EVERY);
        }
        if std::mem::take(&mut self.proc_rescan) {
            self.world.events.extend(self.proc_track.scan());
        }
        requests
    }

    /// The engine's step for this wake-up: by the same-instant rule (crate::event), what
    /// was observed, then the timers due now.
    fn step(&mut self) {
        let now = self.clock.now();
        self.world.procs.on_timers(now);
        self.control.on_timers(now, &mut self.world.tokens);
        let events = std::mem::take(&mut self.world.events);
        if let Some(d) = self.engine.next_deadline().filter(|&d| d <= now) {
            self.max_timer_lateness = self.max_timer_lateness.max(now - d);
            self.total_timer_lateness += now - d;
            self.timer_fires += 1;
            if now - d > LATE {
                self.late_timer_fires += 1;
            }
        }
        self.engine.step(now, events);
        self.snmp_timers(now);
    }

    /// Called from the configuration loader's progress hook during a reload: at most once
    /// per [`SERVE_EVERY`], the loop turns once without waiting — packets are read, due
    /// timers fire, adverts go out — so a long reload never starves the running
    /// instances. Signals that arrive meanwhile are kept for after the reload.
    fn serve_during_reload(&mut self) {
        let now = self.clock.now();
        if now.saturating_since(self.last_served) < SERVE_EVERY {
            return;
        }
        self.last_served = now;
        let mut events = Events::with_capacity(64);
        if let Err(e) = self.poll.poll(&mut events, Some(Duration::ZERO)) {
            if e.kind() != std::io::ErrorKind::Interrupted {
                log::error!("epoll: {e}");
            }
            return;
        }
        let requests = self.dispatch(now, &events);
        self.deferred_requests.extend(requests);
        self.step();
        self.drive();
        self.reload_slices += 1;
    }

    /// SIGTERM / SIGINT: priority-0 adverts and releases, then exit 0.
    fn shutdown(&mut self) -> i32 {
        crate::logging::stop_pacing();
        log::info!("Stopping");
        let now = self.clock.now();
        self.world.shutting_down = true;
        self.engine.handle(now, Event::Shutdown);
        self.drive();
        self.world.flush_frames(self.clock.now(), usize::MAX);
        self.close_snmp();
        let now = self.clock.now();
        self.world.release_all(now);
        let mut outs = Vec::new();
        self.world.nl.run_until_idle(NETLINK_WAIT, &mut outs);
        self.wait_for_stop_scripts();
        self.world.procs.terminate_all();
        self.world.reap(now, None);
        log::info!("Stopped");
        0
    }

    /// The STOP notifications (`notify_stop`, `notify` with STOP, group STOP) were started
    /// by the shutdown: let them and the other notify scripts still running finish, as
    /// keepalived does, for at most [`STOP_SCRIPTS_WAIT`]. Track scripts are no longer of
    /// use and are terminated at once. Then the FIFO readers, which have had the STOP
    /// lines, are terminated, and last the `shutdown_script` runs.
    fn wait_for_stop_scripts(&mut self) {
        let now = self.clock.now();
        self.world.procs.terminate_tracked(now);
        let readers = std::mem::take(&mut self.fifo_readers);
        if !self.wait_children(now + STOP_SCRIPTS_WAIT, &readers) {
            let n = self.world.procs.len() - readers.len();
            log::warn!(
                "{n} script(s) still running {} s after stop: terminating them",
                STOP_SCRIPTS_WAIT.as_secs()
            );
        }
        // The readers have until the FIFOs are drained (bounded) to take the STOP lines.
        let drained = self.clock.now() + FIFO_DRAIN_WAIT;
        while !readers.is_empty() && self.world.fifos.unread() > 0 && self.clock.now() < drained {
            self.wait_children(self.clock.now() + Duration::from_millis(20), &readers);
        }
        // Drained is not yet written down: a reader that has just taken the last line is
        // still between its `read` and its own work on it. A short grace, only when
        // readers exist, lets it finish before SIGTERM (without it the STOP line was
        // sometimes lost by a shell reader whose trap runs on the signal).
        if !readers.is_empty() {
            std::thread::sleep(FIFO_READER_GRACE);
        }
        let now = self.clock.now();
        for &pid in &readers {
            self.world.procs.terminate(now, pid);
        }
        self.wait_children(now + super::process::KILL_GRACE, &[]);
        let g = &self.config.global;
        if let Some(cmd) = g.shutdown_script.clone() {
            let t = g.shutdown_script_timeout;
            self.run_lifecycle_script("shutdown_script", &cmd, t);
        }
    }

    /// `startup_script` / `shutdown_script`: run it and wait for it, at most `timeout`
    /// (then it is terminated, as keepalived does, so the daemon never hangs on it).
    fn run_lifecycle_script(&mut self, what: &str, cmd: &ScriptCommand, timeout: Duration) {
        let now = self.clock.now();
        let others: Vec<i32> = self.world.procs.pids().collect();
        log::info!("Running {what} '{}'", cmd.argv.join(" "));
        if self.world.spawn_child(now, cmd, Some(timeout)).is_none() {
            return;
        }
        let limit = now + timeout + super::process::KILL_GRACE;
        if !self.wait_children(limit, &others) {
            log::warn!("{what} did not finish in {} s", timeout.as_secs());
        }
    }

    /// Waits, with the loop's own wake-ups (pidfds, SIGCHLD, the child timeouts of
    /// `process`), until every child except `keep` has exited or `limit` is reached.
    /// A SIGTERM/SIGINT received meanwhile ends the wait. Returns whether they all ended.
    fn wait_children(&mut self, limit: Instant, keep: &[i32]) -> bool {
        let mut events = Events::with_capacity(64);
        loop {
            if self.world.procs.pids().all(|p| keep.contains(&p)) {
                return true;
            }
            let now = self.clock.now();
            if now >= limit {
                return false;
            }
            let wake = self
                .world
                .procs
                .next_deadline()
                .map_or(limit, |d| d.min(limit));
            if let Err(e) = self.timer.arm(Some(self.clock.to_monotonic_ns(wake))) {
                log::error!("timerfd: {e}");
                return false;
            }
            if let Err(e) = self.poll.poll(&mut events, None) {
                if e.kind() != std::io::ErrorKind::Interrupted {
                    log::error!("epoll: {e}");
                    return false;
                }
            }
            for ev in events.iter() {
                match self.world.tokens.get(ev.token()).cloned() {
                    Some(Source::Timer) => self.timer.clear(),
                    Some(Source::Child(pid)) => {
                        let now = self.clock.now();
                        self.world.reap(now, Some(pid))
                    }
                    Some(Source::Signals) => {
                        for r in signals::pending(&mut self.signals) {
                            match r {
                                Request::Reap => {
                                    let now = self.clock.now();
                                    self.world.reap(now, None)
                                }
                                Request::Shutdown => return false,
                                _ => {}
                            }
                        }
                    }
                    _ => {}
                }
            }
            let now = self.clock.now();
            self.world.procs.on_timers(now);
        }
    }

    /// SIGHUP: re-read the configuration with the same options, every diagnostic logged.
    /// A file start-up would refuse (it cannot be read) keeps the running configuration,
    /// as does, with `reload_check_config`, a file that fails `-t`; otherwise, as
    /// keepalived, the file is applied with its bad parts skipped: the engine applies it (keepalived's matching: Masters stay Master, addresses
    /// diffed) and the world follows: receive sockets of new interfaces / instances opened,
    /// those no longer used closed, static addresses, routes and rules diffed, trackers
    /// of files and processes rebuilt when their list changed.
    fn reload(&mut self) {
        log::info!("SIGHUP: reading {}", self.opts.config_file.display());
        let (path, opts) = (self.opts.config_file.clone(), load_options(&self.opts));
        self.last_served = self.clock.now();
        let slices = self.reload_slices;
        let loaded = config::load_with(&path, &opts, &mut || self.serve_during_reload());
        log::debug!(
            "reload: the loop turned {} times while the file was read",
            self.reload_slices - slices
        );
        for d in &loaded.diagnostics {
            match d.severity {
                config::Severity::Error => log::error!("reload: {d}"),
                config::Severity::Warning => log::warn!("reload: {d}"),
            }
        }
        for f in &loaded.missing_files {
            log::warn!("reload: {}: cannot be read", f.display());
        }
        // Start-up and reload judge a file by the same rule (`Loaded::can_run`).
        if !loaded.can_run() {
            log::error!(
                "reload: {} cannot be read; keeping the running configuration",
                self.opts.config_file.display()
            );
            return;
        }
        // `reload_check_config`: the operator asked for a file that passes `-t` only.
        let status = config::config_test_status(&loaded);
        if self.config.global.other.contains_key("reload_check_config") && status != 0 {
            log::error!(
                "reload: {} fails the configuration check (reload_check_config, status \
                 {status}); keeping the running configuration",
                self.opts.config_file.display()
            );
            return;
        }
        let new = filter_config(loaded.config, &self.opts);
        if new == self.config {
            log::info!("reload: configuration unchanged");
            return;
        }
        let now = self.clock.now();
        self.world.reconfigure_sockets(&new);
        self.world.reload_static(now, &self.config, &new);
        // The wall clock may have been stepped since start: the engine's e-mail dates
        // follow it from here.
        self.world.events.push(Event::Host(host_info(now)));
        // The new configuration first, then the watchers' values for it.
        self.world.events.push(Event::Reload(Box::new(new.clone())));
        self.retrack(now, &new);
        self.drive();
        self.world.close_unused_sockets(&new);
        self.control
            .set_http(new.global.metrics_listen, &mut self.world.tokens);
        self.config = new;
        self.set_snmp();
        release_free_heap();
        log::info!("reload: new configuration applied");
    }

    /// Rebuilds the `track_file` / `vrrp_track_process` watchers when their lists changed,
    /// and hands the engine their current values.
    fn retrack(&mut self, now: Instant, new: &Config) {
        if new.track_files != self.config.track_files {
            if let Some(f) = self.files.take() {
                let _ = self
                    .poll
                    .registry()
                    .deregister(&mut SourceFd(&f.as_raw_fd()));
            }
            if let Some(t) = self.files_token.take() {
                self.world.tokens.remove(t);
            }
            self.files = watch_files(&new.track_files, &mut self.world, self.poll.registry()).map(
                |(f, t)| {
                    self.files_token = Some(t);
                    f
                },
            );
            if let Some(f) = self.files.as_mut() {
                for e in f.initial() {
                    self.world.events.push(e);
                }
            }
        }
        if new.track_processes != self.config.track_processes {
            if let Some(fd) = self.proc_track.connector_fd() {
                let _ = self.poll.registry().deregister(&mut SourceFd(&fd));
            }
            if let Some(t) = self.proc_token.take() {
                self.world.tokens.remove(t);
            }
            self.proc_track = ProcTracker::new(&new.track_processes);
            self.proc_token = watch_procs(&self.proc_track, &mut self.world, self.poll.registry());
            self.next_proc_scan = self
                .proc_track
                .polling()
                .then_some(now + trackproc::POLL_EVERY);
            self.proc_rescan = !self.proc_track.is_empty();
        }
    }

    /// SIGUSR1: keepalived.data, and with virtual servers keepalived's checker dump
    /// keepalived_check.data beside it.
    fn dump_data(&self) {
        self.dump(DumpKind::Data);
        if self.config.virtual_servers.is_empty() {
            return;
        }
        let now = self.clock.now();
        let snap = self.engine.snapshot(now);
        let text = status::render_check_data(&snap, &host_facts(now, Vec::new()));
        let path = self.opts.dump_dir.join(status::CHECK_DATA_FILE);
        let mode = self.opts.umask.map_or(0o600, |u| 0o666 & !u);
        match safefile::replace(&path, text.as_bytes(), mode) {
            Ok(()) => log::info!("{} written", path.display()),
            Err(e) => log::error!("{}: {e}", path.display()),
        }
    }

    fn dump_stats(&self) {
        self.dump(DumpKind::Stats);
    }
}

impl Reactor {
    /// SIGRTMIN+2: keepalived.json.
    fn dump_json(&self) {
        self.dump(DumpKind::Json);
    }

    /// Renders one dump from the engine's snapshot (`crate::status`) and writes it as
    /// keepalived does: `<dump dir>/keepalived.{data,stats,json}`, replaced through a
    /// temp file + rename (`safefile`), mode 0600 (0666 less `-u`'s umask when given).
    fn dump(&self, kind: DumpKind) {
        let now = self.clock.now();
        let snap = self.engine.snapshot(now);
        let io_stats = if kind == DumpKind::Stats {
            self.io_stats()
        } else {
            Vec::new()
        };
        let facts = host_facts(now, io_stats);
        let text = status::render(kind, &snap, &facts);
        let path = self.opts.dump_dir.join(kind.file_name());
        let mode = self.opts.umask.map_or(0o600, |u| 0o666 & !u);
        match safefile::replace(&path, text.as_bytes(), mode) {
            Ok(()) => log::info!("{} written", path.display()),
            Err(e) => log::error!("{}: {e}", path.display()),
        }
    }

    /// The loop's own figures, for the end of keepalived.stats.
    fn io_stats(&self) -> Vec<(String, String)> {
        let st = &self.world.stats;
        let mean = self
            .total_timer_lateness
            .checked_div(self.timer_fires.max(1) as u32)
            .unwrap_or_default();
        [
            ("adverts sent", st.adverts_sent.to_string()),
            ("advert send errors", st.advert_send_errors.to_string()),
            ("packets received", st.packets_received.to_string()),
            ("packets malformed", st.packets_malformed.to_string()),
            ("gratuitous ARPs sent", st.garp_sent.to_string()),
            ("neighbour advertisements sent", st.na_sent.to_string()),
            ("other send errors", st.send_errors.to_string()),
            ("scripts started", st.scripts_started.to_string()),
            (
                "scripts failed to start",
                st.scripts_failed_to_start.to_string(),
            ),
            ("running children", self.world.procs.len().to_string()),
            ("check connections open", self.world.conns.len().to_string()),
            ("check connections opened / failed / over the limit", {
                let c = &self.world.conns.stats;
                format!("{} / {} / {}", c.opened, c.failed, c.over_limit)
            }),
            ("netlink errors", self.world.nl.errors.to_string()),
            ("loop wake-ups", self.wakeups.to_string()),
            ("engine timer runs", self.timer_fires.to_string()),
            (
                "max timer lateness",
                format!("{:?}", self.max_timer_lateness),
            ),
            ("mean timer lateness", format!("{mean:?}")),
            (
                "timer runs late by more than 1 ms",
                self.late_timer_fires.to_string(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}

/// What the dumps and the status need to know of this host at engine instant `now`.
fn host_facts(now: Instant, io_stats: Vec<(String, String)>) -> HostFacts {
    HostFacts {
        wall_at_zero_ns: wall_ns() - i128::from(now.as_nanos()),
        utc_offset_secs: utc_offset_secs(),
        hostname: nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default(),
        io_stats,
    }
}

/// What the engine needs of this host (`Event::Host`): the same facts as the dumps', and
/// the user the daemon runs as.
fn host_info(now: Instant) -> crate::event::HostInfo {
    let facts = host_facts(now, Vec::new());
    let uid = nix::unistd::geteuid();
    let user = nix::unistd::User::from_uid(uid)
        .ok()
        .flatten()
        .map_or_else(|| uid.to_string(), |u| u.name);
    crate::event::HostInfo {
        hostname: facts.hostname,
        user,
        wall_at_zero_ns: facts.wall_at_zero_ns,
        utc_offset_secs: facts.utc_offset_secs,
    }
}

/// Gives the pages of the heap that start-up or a reload used and freed back to the
/// kernel (glibc keeps them otherwise: the parse of a large file would stay in the RSS).
fn release_free_heap() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only releases free memory of the allocator.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Wall-clock nanoseconds since the Unix epoch.
fn wall_ns() -> i128 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    }
}

/// Seconds east of UTC of the local time zone, now.
fn utc_offset_secs() -> i64 {
    // SAFETY: time(NULL) and localtime_r into a tm we own.
    unsafe {
        let t = libc::time(std::ptr::null_mut());
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            return 0;
        }
        tm.tm_gmtoff
    }
}

/// A seed for the engine's randomness (checker warmup) from the kernel's pool; the pid
/// and the clock when it cannot give one.
fn random_seed() -> u64 {
    let mut buf = [0u8; 8];
    // SAFETY: getrandom writes at most buf.len() bytes into buf.
    let n = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), libc::GRND_NONBLOCK) };
    if n == buf.len() as isize {
        u64::from_ne_bytes(buf)
    } else {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        t ^ u64::from(std::process::id()).rotate_left(32)
    }
}
