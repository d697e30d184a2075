//! The daemon's one loop: a single `mio::Poll` over the timerfd (armed for the earliest of
//! the engine's and the children's deadlines, so `poll` never needs a timeout), signals,
//! both netlink sockets, the VRRP sockets and the children's pidfds. Each wake-up stamps the
//! events with the monotonic clock, feeds them to the engine, performs the engine's
//! actions, and fires the engine's timers when due. Nothing in here blocks.

use super::clock::{Clock, TimerFd};
use super::netlink_route::{RTMGRP_IPV4_IFADDR, RTMGRP_IPV6_IFADDR, RTMGRP_LINK};
use super::netlink_sock::{NlCommand, NlMonitor};
use super::signals::{self, Request};
use super::trackfile::FileTracker;
use super::trackproc::{self, ProcTracker};
use super::world::{Source, SysWorld};
use super::DaemonOptions;
use crate::config::model::Config;
use crate::config::{self, LoadOptions};
use crate::engine::Engine;
use crate::event::{Event, World};
use crate::sched::Instant;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll};
use signal_hook_mio::v1_0::Signals;
use std::fmt::Write as _;
use std::os::fd::AsRawFd;
use std::time::Duration;

pub const DATA_FILE: &str = "/tmp/keepalived.data";
pub const STATS_FILE: &str = "/tmp/keepalived.stats";
pub const JSON_FILE: &str = "/tmp/keepalived.json";
const NETLINK_WAIT: Duration = Duration::from_secs(5);

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
    wakeups: u64,
    max_timer_lateness: Duration,
    total_timer_lateness: Duration,
    timer_fires: u64,
}

fn load_options(opts: &DaemonOptions) -> LoadOptions {
    LoadOptions {
        config_id: opts.config_id.clone(),
        all_config: opts.all_config,
        host_interfaces: None,
        // Scripts run here: check them against this host (users, programs, permissions).
        check_scripts: true,
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
    if loaded.missing_files.iter().any(|f| f == &opts.config_file) {
        return Err(format!(
            "{}: configuration file missing",
            opts.config_file.display()
        ));
    }
    Ok(filter_config(loaded.config, opts))
}

/// What this process runs of a loaded configuration (`-C` alone: no VRRP).
fn filter_config(mut cfg: Config, opts: &DaemonOptions) -> Config {
    if opts.run_checkers && !opts.run_vrrp {
        cfg.instances.clear();
        cfg.sync_groups.clear();
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
        let engine = Engine::new(&config);
        Ok(Reactor {
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
            wakeups: 0,
            max_timer_lateness: Duration::ZERO,
            total_timer_lateness: Duration::ZERO,
            timer_fires: 0,
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

    /// Reads the interfaces, removes leftovers of a previous run, adds the static
    /// configuration, and starts the engine.
    pub fn start(&mut self) {
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
        self.engine.handle(now, Event::Startup);
        self.drive();
    }

    /// Performs every action the engine has, feeding back the events that produces.
    fn drive(&mut self) {
        loop {
            while let Some(a) = self.engine.poll_action() {
                let now = self.clock.now();
                self.world.perform(now, a);
            }
            if self.world.events.is_empty() {
                break;
            }
            let now = self.clock.now();
            for e in std::mem::take(&mut self.world.events) {
                self.engine.handle(now, e);
            }
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        match (
            self.engine.next_deadline(),
            self.world.procs.next_deadline(),
        ) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The loop. Returns the exit status.
    pub fn run(&mut self) -> i32 {
        let mut events = Events::with_capacity(256);
        loop {
            self.drive();
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
            let mut requests = Vec::new();
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
                }
            }
            if let Some(t) = self.next_proc_scan.filter(|&t| t <= now) {
                self.proc_rescan = true;
                self.next_proc_scan = Some(t.max(now) + trackproc::POLL_EVERY);
            }
            if std::mem::take(&mut self.proc_rescan) {
                self.world.events.extend(self.proc_track.scan());
            }
            for e in std::mem::take(&mut self.world.events) {
                self.engine.handle(now, e);
            }
            for r in requests {
                match r {
                    Request::Shutdown => return self.shutdown(),
                    Request::Reload => self.reload(),
                    Request::DumpData => self.dump_data(),
                    Request::DumpStats => self.dump_stats(),
                    Request::DumpStatsClear => {
                        self.dump_stats();
                        self.engine.clear_stats();
                    }
                    Request::DumpJson => self.dump_json(),
                    Request::Reap => self.world.reap(now, None),
                }
            }
            let now = self.clock.now();
            self.world.procs.on_timers(now);
            if let Some(d) = self.engine.next_deadline() {
                if d <= now {
                    self.max_timer_lateness = self.max_timer_lateness.max(now - d);
                    self.total_timer_lateness += now - d;
                    self.timer_fires += 1;
                    self.engine.handle(now, Event::Timers);
                }
            }
        }
    }

    /// SIGTERM / SIGINT: priority-0 adverts and releases, then exit 0.
    fn shutdown(&mut self) -> i32 {
        log::info!("Stopping");
        let now = self.clock.now();
        self.world.shutting_down = true;
        self.engine.handle(now, Event::Shutdown);
        self.drive();
        let now = self.clock.now();
        self.world.release_all(now);
        let mut outs = Vec::new();
        self.world.nl.run_until_idle(NETLINK_WAIT, &mut outs);
        self.world.procs.terminate_all();
        self.world.reap(now, None);
        log::info!("Stopped");
        0
    }

    /// SIGHUP: re-read the configuration with the same options. A file with errors (or a
    /// missing file) keeps the running configuration, every diagnostic logged; otherwise
    /// the engine applies it (keepalived's matching: Masters stay Master, addresses
    /// diffed) and the world follows: receive sockets of new interfaces / instances opened,
    /// those no longer used closed, static addresses, routes and rules diffed, trackers
    /// of files and processes rebuilt when their list changed.
    fn reload(&mut self) {
        log::info!("SIGHUP: reading {}", self.opts.config_file.display());
        let loaded = config::load(&self.opts.config_file, &load_options(&self.opts));
        let errors = loaded.has_errors() || !loaded.missing_files.is_empty();
        for d in &loaded.diagnostics {
            match d.severity {
                config::Severity::Error => log::error!("reload: {d}"),
                config::Severity::Warning => log::warn!("reload: {d}"),
            }
        }
        for f in &loaded.missing_files {
            log::error!("reload: {}: cannot be read", f.display());
        }
        if errors {
            let n = loaded
                .diagnostics
                .iter()
                .filter(|d| d.severity == config::Severity::Error)
                .count()
                + loaded.missing_files.len();
            log::error!(
                "reload: {} has {n} error(s); keeping the running configuration",
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
        self.retrack(now, &new);
        let now = self.clock.now();
        self.engine.reload(now, &new);
        self.drive();
        self.world.close_unused_sockets(&new);
        self.config = new;
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

    fn dump_data(&self) {
        let mut s = String::new();
        let _ = writeln!(s, "------< keepalived-rs VRRP data >------");
        for (name, state, prio) in self.engine.instance_states() {
            let _ = writeln!(
                s,
                " VRRP Instance = {name}\n   State = {state}\n   Effective priority = {prio}"
            );
        }
        let _ = writeln!(s, "------< Interfaces >------");
        for st in self.world.interface_states() {
            let _ = writeln!(
                s,
                " Name = {}\n   index = {}\n   state = {}\n   MAC = {}\n   IPv4 = {:?}\n   IPv6 = {:?}",
                st.name,
                st.index,
                if st.up { "UP" } else { "DOWN" },
                st.mac.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":"),
                st.ipv4,
                st.ipv6
            );
        }
        write_dump(DATA_FILE, &s);
    }

    fn dump_stats(&self) {
        let st = &self.world.stats;
        let mut s = self.engine.stats_report();
        let _ = writeln!(s, "------< keepalived-rs I/O statistics >------");
        let _ = writeln!(s, "adverts sent: {}", st.adverts_sent);
        let _ = writeln!(s, "advert send errors: {}", st.advert_send_errors);
        let _ = writeln!(s, "packets received: {}", st.packets_received);
        let _ = writeln!(s, "packets malformed: {}", st.packets_malformed);
        let _ = writeln!(s, "gratuitous ARPs sent: {}", st.garp_sent);
        let _ = writeln!(s, "neighbour advertisements sent: {}", st.na_sent);
        let _ = writeln!(s, "other send errors: {}", st.send_errors);
        let _ = writeln!(s, "scripts started: {}", st.scripts_started);
        let _ = writeln!(s, "scripts failed to start: {}", st.scripts_failed_to_start);
        let _ = writeln!(s, "running children: {}", self.world.procs.len());
        let _ = writeln!(s, "netlink errors: {}", self.world.nl.errors);
        let _ = writeln!(s, "loop wake-ups: {}", self.wakeups);
        let _ = writeln!(s, "engine timer runs: {}", self.timer_fires);
        let _ = writeln!(s, "max timer lateness: {:?}", self.max_timer_lateness);
        let mean = self
            .total_timer_lateness
            .checked_div(self.timer_fires.max(1) as u32)
            .unwrap_or_default();
        let _ = writeln!(s, "mean timer lateness: {mean:?}");
        write_dump(STATS_FILE, &s);
    }
}

impl Reactor {
    /// SIGRTMIN+2: the instances as a JSON array (name, state, effective priority).
    fn dump_json(&self) {
        let items: Vec<String> = self
            .engine
            .instance_states()
            .into_iter()
            .map(|(name, state, prio)| {
                format!(
                    "{{\"iname\":\"{}\",\"state\":\"{state}\",\"effective_priority\":{prio}}}",
                    json_escape(&name)
                )
            })
            .collect();
        write_dump(JSON_FILE, &format!("[{}]\n", items.join(",")));
    }
}

fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn write_dump(path: &str, text: &str) {
    if let Err(e) = std::fs::write(path, text) {
        log::error!("{path}: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::json_escape;

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_escape("VI_1"), "VI_1");
        assert_eq!(json_escape("a\"b\\c\n"), "a\\\"b\\\\c\\u000a");
    }
}
