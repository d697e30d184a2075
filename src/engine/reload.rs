//! Reload (SIGHUP) without restart, with keepalived's semantics (keepalived.md §1.7):
//! instances are matched by what identifies them on the wire — (VRID, family, interface,
//! unicast or multicast) — not by name. A matched Master stays Master without re-election
//! (VIPs, routes and rules are diffed: all removals of every instance first, then the
//! additions, so an address moving between instances is never lost), a Backup keeps its
//! down timer, counters and track-script rise/fall state carry over. Instances that are
//! gone release their addresses (priority-0 advert if Master) and are announced DELETED
//! (`notify_deleted`) or FAULT; new instances start as at startup.

use super::{Engine, Parts};
use crate::config::model::{Config, VrrpInstance};
use crate::event::Action;
use crate::event::Timer;
use crate::sched::Instant;
use crate::vrrp::instance::{Ctx, Instance};
use crate::vrrp::notify::{self, Kind};

type Key = (u8, crate::config::model::Family, Option<String>, bool);

fn key(c: &VrrpInstance) -> Key {
    (
        c.vrid,
        c.family,
        c.interface.clone(),
        !c.unicast_peers.is_empty(),
    )
}

impl Engine {
    /// Applies a new configuration to the running engine.
    pub(super) fn reload(&mut self, now: Instant, config: Config) {
        log::info!("{}Reloading configuration", self.prefix);
        let mut p = Parts::build(&config);
        let mut old: Vec<Option<Instance>> = std::mem::take(&mut self.instances)
            .into_iter()
            .map(Some)
            .collect();
        // new index -> old index
        let mut matched: Vec<Option<usize>> = vec![None; p.instances.len()];
        for (i, inst) in p.instances.iter().enumerate() {
            let k = key(&inst.cfg);
            matched[i] = old.iter().enumerate().position(|(j, o)| {
                o.as_ref().is_some_and(|o| key(&o.cfg) == k) && !matched[..i].contains(&Some(j))
            });
        }
        // Phase 1: instances that are gone, and what matched Masters lose.
        for (j, slot) in old.iter_mut().enumerate() {
            if matched.contains(&Some(j)) {
                continue;
            }
            if let Some(mut o) = slot.take() {
                let mut ctx = self.ctx(now);
                o.remove(&mut ctx);
                // keepalived: DELETED with `notify_deleted`, else FAULT.
                let n = &o.cfg.notify;
                let (word, specific) = match &n.deleted {
                    Some(d) => ("DELETED", Some(&**d)),
                    None => ("FAULT", n.fault.as_deref()),
                };
                let acts = notify::word_actions(
                    n,
                    specific,
                    Kind::Instance,
                    o.name(),
                    word,
                    o.priority,
                    &p.fifos,
                );
                self.actions.extend(acts);
            }
        }
        for (i, m) in matched.iter().enumerate() {
            if let Some(o) = m.and_then(|j| old[j].as_ref()) {
                let mut ctx = self.ctx(now);
                p.instances[i].release_removed(&mut ctx, o);
            }
        }
        // Scripts: carry state by name; re-arm timers under the new indices at the
        // instant they were due.
        let old_scripts = std::mem::take(&mut self.scripts);
        let due: Vec<Option<Instant>> = old_scripts
            .iter()
            .map(|o| o.timer.and_then(|h| self.wheel.deadline(h)))
            .collect();
        for o in &old_scripts {
            if let Some(h) = o.timer {
                self.wheel.cancel(h);
            }
        }
        let deadlines: Vec<Option<Instant>> = p
            .scripts
            .iter_mut()
            .map(|s| {
                let j = old_scripts.iter().position(|o| o.cfg.name == s.cfg.name)?;
                s.carry_from(&old_scripts[j]);
                due[j]
            })
            .collect();
        for o in &old_scripts {
            if !p.scripts.iter().any(|s| s.cfg.name == o.cfg.name) {
                if let Some(run) = o.running {
                    self.actions.push_back(Action::KillScript { run });
                }
            }
        }
        // Tracked files and processes keep their last values.
        for (name, v) in p.files.iter_mut() {
            if let Some(old) = self.files.get(name) {
                *v = *old;
            }
        }
        for (name, v) in p.processes.iter_mut() {
            if let Some(old) = self.processes.get(name) {
                *v = *old;
            }
        }
        // Sync groups keep their announced state by name.
        for g in p.groups.iter_mut() {
            if let Some(o) = self.groups.iter().find(|o| o.cfg.name == g.cfg.name) {
                g.state = o.state;
            }
        }
        let write_states = config.global.fifo_write_vrrp_states_on_reload;
        // Taken, not copied (a file of 37 000 real servers).
        self.install(config, p);
        self.checkers_reload(now);
        self.refresh_interfaces();
        // Phase 2: matched instances take over; new ones start.
        let running = self.started && !self.stopped;
        for (i, m) in matched.into_iter().enumerate() {
            match m.and_then(|j| old[j].take()) {
                Some(o) => {
                    let (inst, mut ctx) = self.split(now, i);
                    inst.adopt(&mut ctx, o);
                }
                None if running => {
                    let (inst, mut ctx) = self.split(now, i);
                    inst.startup(&mut ctx, crate::vrrp::reason::Reason::Reload);
                }
                None => {}
            }
        }
        self.ipvs_reload(now);
        if running {
            for (s, d) in deadlines.into_iter().enumerate() {
                if self.script_used(s) {
                    let h = self.wheel.insert(d.unwrap_or(now), Timer::Script(s));
                    self.scripts[s].timer = Some(h);
                }
            }
        }
        self.retrack(now);
        self.settle(now);
        if write_states {
            self.write_states_to_fifos();
        }
    }

    /// `fifo_write_vrrp_states_on_reload`: every instance's and sync group's state, as a
    /// FIFO line, after the reload settled.
    fn write_states_to_fifos(&mut self) {
        let mut lines = Vec::new();
        for inst in &self.instances {
            if let Some(w) = notify::state_word(inst.state) {
                lines.push(notify::fifo_line(
                    Kind::Instance,
                    inst.name(),
                    w,
                    inst.priority,
                ));
            }
        }
        for g in &self.groups {
            if let Some(w) = notify::state_word(g.state) {
                lines.push(notify::fifo_line(Kind::Group, &g.cfg.name, w, 0));
            }
        }
        for line in lines {
            for path in &self.fifos {
                self.actions.push_back(Action::WriteFifo {
                    path: path.clone(),
                    line: line.clone(),
                });
            }
        }
    }

    fn ctx(&mut self, now: Instant) -> Ctx<'_> {
        Ctx {
            now,
            wheel: &mut self.wheel,
            actions: &mut self.actions,
            transitions: &mut self.transitions,
            prefix: &self.prefix,
            fifos: &self.fifos,
            release_vips: self.release_vips,
            crowd: &mut self.crowd,
        }
    }
}
