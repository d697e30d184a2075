//! [`Engine::snapshot`]: a copy of everything the status dumps show (`crate::status`),
//! taken at one instant. Tracked objects are evaluated here with the same weight rules
//! the engine applies (a reference's `weight` overrides the object's; inside a sync group
//! without `sync_group_tracking_weight` every weight is 0, i.e. FAULT while failed).

use super::Engine;
use crate::config::model::{InitialState, TrackRef};
use crate::sched::Instant;
use crate::status::{
    ConflictStatus, FileStatus, GroupStatus, InstanceStatus, ProcessStatus, ScriptStatus, Snapshot,
    TrackKind, Tracked, Tracker,
};
use crate::vrrp::conflict::ConflictKind;
use crate::vrrp::instance::Instance;
use crate::vrrp::track::{self, Effect};
use crate::vrrp::State;
use std::time::Duration;

/// The tracking lists of an instance or a sync group.
struct Lists<'a> {
    interfaces: &'a [TrackRef],
    scripts: &'a [TrackRef],
    files: &'a [TrackRef],
    processes: &'a [TrackRef],
}

impl Engine {
    /// Everything the dumps show, as it stands at `now`.
    pub fn snapshot(&self, now: Instant) -> Snapshot {
        let instances: Vec<InstanceStatus> = self
            .instances
            .iter()
            .enumerate()
            .map(|(i, inst)| self.instance_status(i, inst, now))
            .collect();
        let trackers = |kind: TrackKind, name: &str| -> Vec<Tracker> {
            instances
                .iter()
                .filter_map(|i| {
                    let t = i
                        .tracked
                        .iter()
                        .find(|t| t.kind == kind && t.name == name)?;
                    Some(Tracker {
                        instance: i.cfg.name.clone(),
                        weight: t.weight,
                        reverse: t.reverse,
                    })
                })
                .collect()
        };
        let scripts = self
            .scripts
            .iter()
            .map(|s| ScriptStatus {
                cfg: s.cfg.clone(),
                ok: s.ok,
                running: s.running.is_some(),
                trackers: trackers(TrackKind::Script, &s.cfg.name),
            })
            .collect();
        let files = self
            .config
            .track_files
            .iter()
            .map(|f| FileStatus {
                cfg: f.clone(),
                value: self.files.get(&f.name).copied().flatten(),
                trackers: trackers(TrackKind::File, &f.name),
            })
            .collect();
        let processes = self
            .config
            .track_processes
            .iter()
            .map(|p| ProcessStatus {
                cfg: p.clone(),
                count: self.processes.get(&p.name).copied().flatten(),
                have_quorum: self.process_ok(&p.name),
                trackers: trackers(TrackKind::Process, &p.name),
            })
            .collect();
        let groups = self
            .groups
            .iter()
            .map(|g| {
                let count = |s: State| {
                    g.members
                        .iter()
                        .filter(|&&m| self.instances[m].state == s)
                        .count() as u32
                };
                let c = &g.cfg;
                let lists = Lists {
                    interfaces: &c.track_interfaces,
                    scripts: &c.track_scripts,
                    files: &c.track_files,
                    processes: &c.track_processes,
                };
                GroupStatus {
                    cfg: c.clone(),
                    state: g.state,
                    members_fault: count(State::Fault),
                    members_init: count(State::Initialize),
                    tracked: self.tracked(&lists, !c.sync_group_tracking_weight, true),
                }
            })
            .collect();
        let mut interfaces: Vec<_> = self.interfaces.values().cloned().collect();
        interfaces.sort_by_key(|i| i.index);
        Snapshot {
            now,
            global: self.config.global.clone(),
            instances,
            groups,
            scripts,
            files,
            processes,
            interfaces,
            host_stats: self.host_stats.clone(),
            virtual_servers: self.checks.status(),
            ipvs: self.ipvs.status(),
        }
    }

    fn instance_status(&self, i: usize, inst: &Instance, now: Instant) -> InstanceStatus {
        let c = &inst.cfg;
        let group = self.group_of[i].map(|g| &self.groups[g]);
        let tracked = self.all_tracked(i, inst);
        let link_down =
            c.interface.is_some() && !c.dont_track_primary && !(inst.iface.known && inst.iface.up);
        let faults = tracked.iter().filter(|t| t.fault).count() as u32 + u32::from(link_down);
        let total_priority = if inst.is_owner() {
            255
        } else {
            i64::from(c.priority) + tracked.iter().map(|t| i64::from(t.delta)).sum::<i64>()
        };
        let configured_src = if c.unicast_peers.is_empty() {
            c.mcast_src_ip.or(c.unicast_src_ip)
        } else {
            c.unicast_src_ip.or(c.mcast_src_ip)
        };
        let src_addr = inst.source_addr();
        let ifstate = c.interface.as_ref().and_then(|n| self.interfaces.get(n));
        let vip_if = inst.vip_ifname();
        let wantstate = match inst.state {
            State::Initialize if c.initial_state == InitialState::Master || inst.is_owner() => {
                State::Master
            }
            State::Initialize => State::Backup,
            s => s,
        };
        let read_timeout = match inst.state {
            State::Master => inst.advert_deadline(&self.wheel),
            State::Backup => inst.down_deadline(&self.wheel),
            _ => None,
        };
        InstanceStatus {
            cfg: c.clone(),
            state: inst.state,
            wantstate,
            effective_priority: inst.priority,
            total_priority,
            adver_int: cs(inst.own_cs),
            master_adver_int: cs(inst.learned_cs),
            down_interval: inst.down_interval(),
            last_transition: inst.last_transition,
            up_since: inst.up_since,
            last_transition_reason: inst.last_reason.clone(),
            read_timeout,
            master_heard: inst.master_heard,
            src_addr,
            src_from_config: configured_src.is_some() && configured_src == src_addr,
            vips_set: inst.state == State::Master,
            sync_group: group.map(|g| g.cfg.name.clone()),
            ifindex: self.interfaces.get(&vip_if).or(ifstate).map(|s| s.index),
            iface_up: self.interfaces.get(&vip_if).map(|s| s.up),
            vip_ifname: vip_if,
            faults,
            tracked,
            stats: inst.stats.clone(),
            conflicts: ConflictKind::ALL
                .into_iter()
                .filter_map(|kind| {
                    let e = inst.conflicts.episode(kind);
                    (e.count > 0).then(|| ConflictStatus {
                        kind,
                        episodes: e.count,
                        since: e.since,
                        last_seen: e.last_seen,
                        peer: e.peer,
                        active: inst.conflicts.active(kind, now, inst.down_interval()),
                    })
                })
                .collect(),
        }
    }

    /// The tracked objects that put instance `i` in FAULT, as a transition reason names
    /// them ("chk_nginx failed, eth1 down"), or the sync group member that does.
    pub(super) fn fault_names(&self, i: usize) -> String {
        let inst = &self.instances[i];
        let mut names: Vec<String> = self
            .all_tracked(i, inst)
            .iter()
            .filter(|t| t.fault)
            .map(|t| match t.kind {
                TrackKind::Interface => format!("{} down", t.name),
                TrackKind::Script => format!("{} failed", t.name),
                TrackKind::File => format!("{} value", t.name),
                TrackKind::Process => format!("{} quorum lost", t.name),
            })
            .collect();
        if names.is_empty() {
            if let Some(g) = self.group_of[i].map(|g| &self.groups[g]) {
                // Faulted through its group: name the member that is.
                let member = g.members.iter().map(|&m| &self.instances[m]).find(|m| {
                    m.index != i
                        && (m.own_fault() || self.all_tracked(m.index, m).iter().any(|t| t.fault))
                });
                if let Some(m) = member {
                    names.push(format!("sync group {}: {} in fault", g.cfg.name, m.name()));
                }
            }
        }
        names.join(", ")
    }

    /// Every tracked object of instance `i`: its own, then its sync group's.
    fn all_tracked(&self, i: usize, inst: &Instance) -> Vec<Tracked> {
        let c = &inst.cfg;
        let group = self.group_of[i].map(|g| &self.groups[g]);
        let force_zero = group.is_some_and(|g| !g.cfg.sync_group_tracking_weight);
        let own = Lists {
            interfaces: &c.track_interfaces,
            scripts: &c.track_scripts,
            files: &c.track_files,
            processes: &c.track_processes,
        };
        let mut tracked = self.tracked(&own, force_zero, false);
        if let Some(g) = group {
            let lists = Lists {
                interfaces: &g.cfg.track_interfaces,
                scripts: &g.cfg.track_scripts,
                files: &g.cfg.track_files,
                processes: &g.cfg.track_processes,
            };
            tracked.extend(self.tracked(&lists, !g.cfg.sync_group_tracking_weight, true));
        }
        tracked
    }

    /// Whether process tracker `name` has its quorum (assumed until counted).
    fn process_ok(&self, name: &str) -> bool {
        let Some(p) = self.config.track_processes.iter().find(|p| p.name == name) else {
            return false;
        };
        match self.processes.get(name).copied().flatten() {
            None => true,
            Some(c) => c >= p.quorum && p.quorum_max.map_or(true, |m| c <= m),
        }
    }

    /// Each tracked object of `lists` with the weight that applies and its effect now.
    fn tracked(&self, lists: &Lists<'_>, force_zero: bool, via_group: bool) -> Vec<Tracked> {
        let mut out = Vec::new();
        let mut push = |kind,
                        r: &TrackRef,
                        weight: i32,
                        reverse: bool,
                        effect: &dyn Fn(i32, bool) -> Effect| {
            let (w, rev) = match r.weight {
                Some(w) => (w, r.reverse),
                None => (weight, reverse || r.reverse),
            };
            let w = if force_zero { 0 } else { w };
            let e = effect(w, rev);
            out.push(Tracked {
                kind,
                name: r.name.clone(),
                weight: w,
                reverse: rev,
                via_group,
                fault: e.fault,
                delta: e.delta,
            });
        };
        for r in lists.interfaces {
            let up = self.interfaces.get(&r.name).is_some_and(|s| s.up);
            push(TrackKind::Interface, r, 0, false, &|w, rev| {
                track::status_effect(w, rev, up)
            });
        }
        for r in lists.scripts {
            if let Some(s) = self.scripts.iter().find(|s| s.cfg.name == r.name) {
                let ok = s.ok;
                push(
                    TrackKind::Script,
                    r,
                    s.cfg.weight,
                    s.cfg.reverse,
                    &|w, rev| track::status_effect(w, rev, ok),
                );
            }
        }
        for r in lists.files {
            if let Some(f) = self.config.track_files.iter().find(|f| f.name == r.name) {
                let value = self.files.get(&r.name).copied().flatten().unwrap_or(0);
                push(TrackKind::File, r, f.weight, f.reverse, &|w, rev| {
                    track::file_effect(w, rev, value)
                });
            }
        }
        for r in lists.processes {
            if let Some(p) = self
                .config
                .track_processes
                .iter()
                .find(|p| p.name == r.name)
            {
                let ok = self.process_ok(&p.name);
                push(TrackKind::Process, r, p.weight, p.reverse, &|w, rev| {
                    track::status_effect(w, rev, ok)
                });
            }
        }
        out
    }
}

/// A duration of `n` centiseconds.
fn cs(n: u16) -> Duration {
    Duration::from_millis(u64::from(n) * 10)
}
