//! Gratuitous ARP / unsolicited NA bursts of a Master (keepalived's `garp_*` settings):
//! `master_repeat` rounds `vrrp_garp_interval` apart on takeover, a second burst after
//! `master_delay`, periodic refreshes, and the lower-priority burst.

use super::{Burst, Ctx, Instance, Timer};
use crate::event::Action;
use std::net::IpAddr;
use std::time::Duration;

impl Instance {
    /// One round of a burst: one GARP (IPv4) or unsolicited NA (IPv6) per VIP.
    pub(super) fn garp_round_now(&mut self, ctx: &mut Ctx) {
        self.garp_round_on(ctx, |_| true);
    }

    /// `garp_extra_if [all] SECS`: keep switches' MAC caches of the VIPs' other interfaces
    /// fresh: one GARP / NA per VIP that sits on a VMAC (or, with `all`, on any
    /// interface), every SECS while Master.
    pub(super) fn garp_extra_round(&mut self, ctx: &mut Ctx) {
        let all = self.cfg.garp_extra_if.as_ref().is_some_and(|x| x.all);
        let vmac = self.cfg.use_vmac.as_ref().map(|v| v.name.clone());
        self.garp_round_on(ctx, |ifname| all || vmac.as_deref() == Some(ifname));
    }

    fn garp_round_on(&mut self, ctx: &mut Ctx, on: impl Fn(&str) -> bool) {
        let mac = self.garp_mac();
        let default_if = self.vip_ifname();
        for v in self.cfg.vips.iter().chain(self.cfg.excluded_vips.iter()) {
            let ifname = v.dev.clone().unwrap_or_else(|| default_if.clone());
            if !on(&ifname) {
                continue;
            }
            let instance = self.cfg.name.clone();
            match v.addr {
                IpAddr::V4(ip) => ctx.actions.push_back(Action::SendGratuitousArp {
                    instance,
                    ifname,
                    ip,
                    mac,
                }),
                IpAddr::V6(ip) => ctx.actions.push_back(Action::SendUnsolicitedNa {
                    instance,
                    ifname,
                    ip,
                    mac,
                }),
            }
        }
    }

    pub(super) fn burst_spacing(&self) -> Duration {
        if self.ipv6() {
            self.cfg.garp.na_interval
        } else {
            self.cfg.garp.interval
        }
    }

    /// Sends `rounds` rounds: at once when the spacing is zero, else one now and the rest
    /// `vrrp_garp_interval` apart.
    pub(super) fn start_burst(&mut self, ctx: &mut Ctx, rounds: u32) {
        if rounds == 0 || self.cfg.vips.is_empty() && self.cfg.excluded_vips.is_empty() {
            return;
        }
        let what = if self.ipv6() {
            "Sending/queueing Unsolicited Neighbour Adverts"
        } else {
            "Sending/queueing gratuitous ARPs"
        };
        log::info!(
            "{}({}) {what} on {} for {}",
            ctx.prefix,
            self.cfg.name,
            self.vip_ifname(),
            self.cfg
                .vips
                .first()
                .map(|v| v.addr.to_string())
                .unwrap_or_default()
        );
        let spacing = self.burst_spacing();
        if spacing.is_zero() {
            for _ in 0..rounds {
                self.garp_round_now(ctx);
            }
            return;
        }
        self.garp_round_now(ctx);
        Self::cancel(ctx.wheel, &mut self.garp_round);
        if rounds > 1 {
            let t = Timer::GarpRound {
                inst: self.index,
                rounds: rounds - 1,
            };
            self.garp_round = Some(ctx.wheel.insert(ctx.now + spacing, t));
        }
    }

    pub(super) fn schedule_burst(&mut self, ctx: &mut Ctx, after: Duration, kind: Burst) {
        let lag = ctx.crowd.spread(ctx.now, after, after);
        let h = ctx.wheel.insert(
            ctx.now + after + lag,
            Timer::GarpBurst {
                inst: self.index,
                kind,
            },
        );
        self.garp_later.push(h);
    }
}
