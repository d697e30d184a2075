//! The LVS connection-sync daemon (`lvs_sync_daemon`, and the deprecated instance keyword
//! `lvs_sync_daemon_interface`): which daemons should run, and the
//! `Action::IpvsDaemon` start / stop that get there.
//!
//! keepalived.conf(5) (2.2.7): with a VRRP instance named, only the master daemon runs
//! while that instance is MASTER and only the backup daemon otherwise (start-up, BACKUP,
//! FAULT); without one both run as long as the daemon runs. The sync id defaults to the
//! named instance's VRID (0 without an instance). A global `lvs_sync_daemon` wins over an
//! instance's `lvs_sync_daemon_interface`; of several instances with that keyword the
//! first one counts (keepalived: "has already been specified ... - ignoring").
//! Everything stops at shutdown.

use super::Ctx;
use crate::config::model::Config;
use crate::event::Action;
use crate::ipvs::model::{SyncDaemon, SYNC_BACKUP, SYNC_MASTER};
use crate::vrrp::State;

/// The configured daemon, and the instance (configuration index) it follows.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Setup {
    /// The parameters (the `state` field is set per daemon).
    base: SyncDaemon,
    instance: Option<usize>,
}

/// The sync daemons: what is configured, what runs.
#[derive(Debug, Default)]
pub struct Sync {
    setup: Option<Setup>,
    /// The followed instance is MASTER.
    master: bool,
    /// Started and not stopped, master before backup.
    running: Vec<SyncDaemon>,
}

fn setup_of(config: &Config, prefix: &str) -> Option<Setup> {
    if let Some(d) = &config.global.lvs_sync_daemon {
        let instance = match &d.instance {
            None => None,
            Some(name) => {
                let found = config.instances.iter().position(|i| &i.name == name);
                if found.is_none() {
                    log::warn!(
                        "{prefix}lvs_sync_daemon: vrrp_instance {name} is not configured; \
                         both the master and the backup sync daemons run"
                    );
                }
                found
            }
        };
        let syncid = d
            .sync_id
            .map(u32::from)
            .or_else(|| instance.map(|i| u32::from(config.instances[i].vrid)))
            .unwrap_or(0);
        return Some(Setup {
            base: SyncDaemon {
                state: 0,
                ifname: d.interface.clone(),
                syncid,
                maxlen: d.maxlen,
                group: d.group,
                port: d.port,
                ttl: d.ttl,
            },
            instance,
        });
    }
    let (i, inst) = config
        .instances
        .iter()
        .enumerate()
        .find(|(_, i)| i.lvs_sync_daemon_interface.is_some())?;
    Some(Setup {
        base: SyncDaemon {
            state: 0,
            ifname: inst.lvs_sync_daemon_interface.as_deref()?.clone(),
            syncid: u32::from(inst.vrid),
            maxlen: None,
            group: None,
            port: None,
            ttl: None,
        },
        instance: Some(i),
    })
}

fn word(state: u32) -> &'static str {
    if state == SYNC_MASTER {
        "master"
    } else {
        "backup"
    }
}

impl Sync {
    /// The daemon `config` asks for (nothing runs yet).
    pub fn new(config: &Config, prefix: &str) -> Sync {
        Sync {
            setup: setup_of(config, prefix),
            master: false,
            running: Vec::new(),
        }
    }

    /// A sync daemon is configured.
    pub fn configured(&self) -> bool {
        self.setup.is_some()
    }

    /// The daemons running now.
    pub fn running(&self) -> &[SyncDaemon] {
        &self.running
    }

    /// Whether instance `inst` is the one followed.
    pub fn follows(&self, inst: usize) -> bool {
        self.setup.as_ref().and_then(|s| s.instance) == Some(inst)
    }

    fn wanted(&self) -> Vec<SyncDaemon> {
        let Some(s) = &self.setup else {
            return Vec::new();
        };
        let states: &[u32] = match s.instance {
            None => &[SYNC_MASTER, SYNC_BACKUP],
            Some(_) if self.master => &[SYNC_MASTER],
            Some(_) => &[SYNC_BACKUP],
        };
        states
            .iter()
            .map(|&state| SyncDaemon {
                state,
                ..s.base.clone()
            })
            .collect()
    }

    /// Stops what should not run, then starts what should (`managed`: IPVS is managed;
    /// otherwise nothing is started).
    pub fn converge(&mut self, ctx: &mut Ctx<'_>, managed: bool) {
        let wanted = if managed { self.wanted() } else { Vec::new() };
        let (keep, stop): (Vec<_>, Vec<_>) = std::mem::take(&mut self.running)
            .into_iter()
            .partition(|d| wanted.contains(d));
        for d in stop {
            log::info!(
                "{}Stopping IPVS sync daemon ({}) on {}, syncid {}",
                ctx.prefix,
                word(d.state),
                d.ifname,
                d.syncid
            );
            ctx.actions.push_back(Action::IpvsDaemon {
                start: false,
                daemon: d,
            });
        }
        self.running = keep;
        for d in wanted {
            if self.running.contains(&d) {
                continue;
            }
            log::info!(
                "{}Starting IPVS sync daemon ({}) on {}, syncid {}",
                ctx.prefix,
                word(d.state),
                d.ifname,
                d.syncid
            );
            ctx.actions.push_back(Action::IpvsDaemon {
                start: true,
                daemon: d.clone(),
            });
            self.running.push(d);
        }
        self.running.sort_by_key(|d| d.state);
    }

    /// Instance `inst` moved to `to`.
    pub fn instance_state(&mut self, ctx: &mut Ctx<'_>, inst: usize, to: State, managed: bool) {
        if !self.follows(inst) {
            return;
        }
        let master = to == State::Master;
        if master != self.master {
            self.master = master;
            self.converge(ctx, managed);
        }
    }

    /// A reload: the new configuration's daemon, following the instances' states now.
    /// Unchanged daemons keep running; changed ones are stopped, then started anew.
    pub fn reload(&mut self, ctx: &mut Ctx<'_>, states: &[State], managed: bool) {
        let mut next = Sync::new(ctx.config, ctx.prefix);
        next.master = next
            .setup
            .as_ref()
            .and_then(|s| s.instance)
            .and_then(|i| states.get(i))
            .is_some_and(|s| *s == State::Master);
        next.running = std::mem::take(&mut self.running);
        *self = next;
        self.converge(ctx, managed);
    }
}
