//! Tracking for the router: which interfaces, `vrrp_script`s, `track_file`s and
//! `track_process`es each instance and sync group follows, the runs of the track scripts,
//! and the recomputation (`retrack`) of every instance's priority and FAULT from them.

use super::{link_local, Engine};
use crate::config::model::TrackRef;
use crate::event::*;
use crate::sched::Instant;
use crate::vrrp::instance::IfInfo;
use crate::vrrp::track::{self, Effect};
use crate::vrrp::State;
use std::net::IpAddr;

impl Engine {
    pub(super) fn script_used(&self, s: usize) -> bool {
        let name = &self.scripts[s].cfg.name;
        self.instances
            .iter()
            .any(|i| i.cfg.track_scripts.iter().any(|r| &r.name == name))
            || self
                .config
                .sync_groups
                .iter()
                .any(|g| g.track_scripts.iter().any(|r| &r.name == name))
    }

    pub(super) fn refresh_interfaces(&mut self) {
        for inst in &mut self.instances {
            let name = inst.base_ifname().to_string();
            let src = inst.cfg.unicast_src_ip.or(inst.cfg.mcast_src_ip);
            inst.iface = match self.interfaces.get(&name) {
                Some(st) => IfInfo {
                    known: true,
                    up: st.up,
                    mac: st.mac,
                    primary_v4: st.ipv4.first().copied(),
                    link_local_v6: link_local(&st.ipv6),
                    src_present: src.map_or(true, |a| match a {
                        IpAddr::V4(a) => st.ipv4.contains(&a),
                        IpAddr::V6(a) => st.ipv6.contains(&a),
                    }),
                },
                None => IfInfo::default(),
            };
        }
    }

    /// Effects of a list of tracked objects (`force_zero`: sync-group members without
    /// `sync_group_tracking_weight` fault instead of changing priority).
    pub(super) fn effects(&self, refs: &TrackRefs<'_>, force_zero: bool, out: &mut Vec<Effect>) {
        // A reference's `weight N [reverse]` overrides the object's own weight and reverse.
        let w = |r: &TrackRef, weight: i32, reverse: bool| {
            let (w, rev) = match r.weight {
                Some(w) => (w, r.reverse),
                None => (weight, reverse || r.reverse),
            };
            (if force_zero { 0 } else { w }, rev)
        };
        for r in refs.interfaces {
            let up = self.interfaces.get(&r.name).is_some_and(|s| s.up);
            let (weight, reverse) = w(r, 0, false);
            out.push(track::status_effect(weight, reverse, up));
        }
        for r in refs.scripts {
            if let Some(s) = self.scripts.iter().find(|s| s.cfg.name == r.name) {
                let (weight, reverse) = w(r, s.cfg.weight, s.cfg.reverse);
                out.push(track::status_effect(weight, reverse, s.ok));
            }
        }
        for r in refs.files {
            if let Some(f) = self.config.track_files.iter().find(|f| f.name == r.name) {
                let value = self.files.get(&r.name).copied().flatten().unwrap_or(0);
                let (weight, reverse) = w(r, f.weight, f.reverse);
                out.push(track::file_effect(weight, reverse, value));
            }
        }
        for r in refs.processes {
            let procs = &self.config.track_processes;
            if let Some(p) = procs.iter().find(|p| p.name == r.name) {
                // Until the world reports a count, the process is assumed present.
                let ok = match self.processes.get(&r.name).copied().flatten() {
                    None => true,
                    Some(c) => c >= p.quorum && p.quorum_max.map_or(true, |m| c <= m),
                };
                let (weight, reverse) = w(r, p.weight, p.reverse);
                out.push(track::status_effect(weight, reverse, ok));
            }
        }
    }

    /// Recomputes every instance's tracking (priority and FAULT) and moves instances in or
    /// out of FAULT.
    pub(super) fn retrack(&mut self, now: Instant) {
        let mut own = Vec::with_capacity(self.instances.len());
        for (i, inst) in self.instances.iter().enumerate() {
            let c = &inst.cfg;
            let group = self.group_of[i].map(|g| &self.groups[g]);
            let force_zero = group.is_some_and(|g| !g.cfg.sync_group_tracking_weight);
            let mut effects = Vec::new();
            let refs = TrackRefs {
                interfaces: &c.track_interfaces,
                scripts: &c.track_scripts,
                files: &c.track_files,
                processes: &c.track_processes,
            };
            self.effects(&refs, force_zero, &mut effects);
            if let Some(g) = group {
                let refs = TrackRefs {
                    interfaces: &g.cfg.track_interfaces,
                    scripts: &g.cfg.track_scripts,
                    files: &g.cfg.track_files,
                    processes: &g.cfg.track_processes,
                };
                self.effects(&refs, !g.cfg.sync_group_tracking_weight, &mut effects);
            }
            let (fault, prio) = track::combine(c.priority, &effects);
            own.push((fault || inst.own_fault(), prio));
        }
        let group_fault: Vec<bool> = self
            .groups
            .iter()
            .map(|g| g.members.iter().any(|&m| own[m].0))
            .collect();
        for (i, (fault, prio)) in own.into_iter().enumerate() {
            let fault = fault || self.group_of[i].is_some_and(|g| group_fault[g]);
            let why = if fault {
                self.fault_names(i)
            } else {
                String::new()
            };
            let started = self.started && !self.stopped;
            let (inst, mut ctx) = self.split(now, i);
            inst.track_fault = fault;
            inst.track_why = why;
            inst.set_priority(&mut ctx, prio);
            if !started {
                continue;
            }
            if inst.faulty() {
                inst.enter_fault(&mut ctx);
            } else if inst.state == State::Fault {
                inst.leave_fault(&mut ctx);
            }
        }
    }

    pub(super) fn run_script(&mut self, now: Instant, s: usize) {
        let st = &mut self.scripts[s];
        st.timer = Some(self.wheel.insert(now + st.cfg.interval, Timer::Script(s)));
        if st.running.is_some() {
            log::warn!(
                "{}Track script {} is already running, expect idle - skipping run",
                self.prefix,
                st.cfg.name
            );
            return;
        }
        let run = ScriptRunId(self.next_run);
        self.next_run += 1;
        st.running = Some(run);
        let timeout = st
            .cfg
            .timeout
            .filter(|t| !t.is_zero())
            .unwrap_or(st.cfg.interval);
        self.actions.push_back(Action::RunScript {
            run: Some(run),
            command: st.cfg.script.clone(),
            timeout: Some(timeout),
        });
    }

    pub(super) fn script_exited(&mut self, now: Instant, run: ScriptRunId, outcome: ScriptOutcome) {
        let Some(st) = self.scripts.iter_mut().find(|s| s.running == Some(run)) else {
            return;
        };
        st.running = None;
        if outcome == ScriptOutcome::Skipped {
            return;
        }
        if let ScriptOutcome::TimedOut = outcome {
            log::warn!("{}Track script {} timed out", self.prefix, st.cfg.name);
        }
        if st.record(track::script_succeeded(&outcome)) {
            let verdict = if st.ok { "succeeded" } else { "failed" };
            log::info!("{}VRRP_Script({}) {verdict}", self.prefix, st.cfg.name);
            self.retrack(now);
        }
    }
}

pub(super) struct TrackRefs<'a> {
    pub(super) interfaces: &'a [TrackRef],
    pub(super) scripts: &'a [TrackRef],
    pub(super) files: &'a [TrackRef],
    pub(super) processes: &'a [TrackRef],
}
