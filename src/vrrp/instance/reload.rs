//! Reload support of [`Instance`]: taking over the matching instance of the previous
//! configuration (state, timers, counters; addresses diffed) and removing one that is gone.

use super::{Ctx, Instance, Timer};
use crate::config::model::VirtualAddress;
use crate::event::Action;
use crate::vrrp::State;
use std::net::IpAddr;

impl Instance {
    /// Reload: this instance (built from the new configuration) takes over the matching old
    /// one. Master stays Master without re-election (VIPs, routes and rules are diffed, and
    /// new VIPs are announced), Backup keeps its down timer, counters carry over.
    pub fn adopt(&mut self, ctx: &mut Ctx, mut old: Instance) {
        let down = old.down_deadline(ctx.wheel);
        let adver = old.advert_deadline(ctx.wheel);
        old.cancel_all(ctx);
        self.stats = std::mem::take(&mut old.stats);
        self.iface = old.iface.clone();
        self.track_fault = old.track_fault;
        self.priority = if self.is_owner() { 255 } else { old.priority };
        if self.cfg.version == old.cfg.version {
            self.learned_cs = old.learned_cs;
        }
        self.state = old.state;
        self.last_transition = old.last_transition;
        self.up_since = old.up_since;
        self.master_heard = old.master_heard;
        self.last_reason = old.last_reason.take();
        self.down_reason = old.down_reason.clone();
        if self.cfg.use_vmac != old.cfg.use_vmac {
            if let Some(v) = &old.cfg.use_vmac {
                ctx.actions.push_back(Action::DeleteVmac {
                    name: v.name.clone(),
                });
            }
            if let Some(v) = &self.cfg.use_vmac {
                ctx.actions.push_back(Action::CreateVmac {
                    name: v.name.clone(),
                    parent: self.base_ifname().to_string(),
                    mac: v.mac,
                });
            }
        }
        match self.state {
            State::Master => {
                let added = self.diff_addresses(ctx, &old);
                if added {
                    let n = self.cfg.garp.master_repeat.max(1);
                    self.start_burst(ctx, n);
                }
                let at = adver.unwrap_or(ctx.now + self.own_interval());
                self.adver = Some(ctx.wheel.insert(at, Timer::Advert(self.index)));
            }
            State::Backup => {
                let at = down.unwrap_or(ctx.now + self.down_interval());
                self.down = Some(ctx.wheel.insert(at, Timer::MasterDown(self.index)));
            }
            _ => {}
        }
    }

    fn addr_key(&self, v: &VirtualAddress) -> (IpAddr, u8, String) {
        (
            v.addr,
            v.prefix_len,
            v.dev.clone().unwrap_or_else(|| self.vip_ifname()),
        )
    }

    fn all_addrs(&self) -> impl Iterator<Item = &VirtualAddress> {
        self.cfg.vips.iter().chain(self.cfg.excluded_vips.iter())
    }

    /// Reload, first phase (for every instance before any addition): a Master releases what
    /// the old configuration `old` had and this one has not.
    pub fn release_removed(&self, ctx: &mut Ctx, old: &Instance) {
        if old.state != State::Master {
            return;
        }
        for r in old
            .cfg
            .virtual_rules
            .iter()
            .filter(|r| !self.cfg.virtual_rules.contains(r))
        {
            ctx.actions.push_back(Action::DelRule(r.clone()));
        }
        for r in old
            .cfg
            .virtual_routes
            .iter()
            .filter(|r| !self.cfg.virtual_routes.contains(r))
        {
            ctx.actions.push_back(Action::DelRoute(r.clone()));
        }
        let blocked = old.blocks_traffic();
        for v in old.all_addrs() {
            let k = old.addr_key(v);
            if !self.all_addrs().any(|n| self.addr_key(n) == k) {
                old.del_address(ctx, k.2, v, blocked);
            }
        }
    }

    /// Reload, second phase: a Master adds what is new. Returns whether a VIP was added.
    fn diff_addresses(&mut self, ctx: &mut Ctx, old: &Instance) -> bool {
        let mut added = false;
        let (was, now) = (old.blocks_traffic(), self.blocks_traffic());
        for v in self.all_addrs() {
            let k = self.addr_key(v);
            if !old.all_addrs().any(|o| old.addr_key(o) == k) {
                added = true;
                self.add_address(ctx, k.2, v);
            } else if was != now {
                // Accept_Mode changed for a VIP that stays: follow it.
                let (instance, ifname, addr) = (self.cfg.name.clone(), k.2, v.addr);
                ctx.actions.push_back(if now {
                    Action::BlockAddress {
                        instance,
                        ifname,
                        addr,
                    }
                } else {
                    Action::UnblockAddress {
                        instance,
                        ifname,
                        addr,
                    }
                });
            }
        }
        for r in self
            .cfg
            .virtual_routes
            .iter()
            .filter(|r| !old.cfg.virtual_routes.contains(r))
        {
            ctx.actions.push_back(Action::AddRoute(r.clone()));
        }
        for r in self
            .cfg
            .virtual_rules
            .iter()
            .filter(|r| !old.cfg.virtual_rules.contains(r))
        {
            ctx.actions.push_back(Action::AddRule(r.clone()));
        }
        added
    }

    /// Reload: the instance is gone from the configuration. A Master sends one priority-0
    /// advert and releases everything; the VMAC is removed. The caller announces it
    /// (DELETED with `notify_deleted`, else FAULT).
    pub fn remove(&mut self, ctx: &mut Ctx) {
        if self.state == State::Master {
            Self::cancel(ctx.wheel, &mut self.adver);
            self.send_advert(ctx, 0);
            self.leave_master(ctx);
        }
        self.cancel_all(ctx);
        if let Some(v) = &self.cfg.use_vmac {
            ctx.actions.push_back(Action::DeleteVmac {
                name: v.name.clone(),
            });
        }
        log::info!("{}({}) removed by reload", ctx.prefix, self.cfg.name);
        ctx.actions.push_back(Action::StateChanged {
            instance: self.cfg.name.clone(),
            from: self.state,
            to: State::Stop,
            priority: self.priority,
        });
        self.state = State::Stop;
    }
}
