//! The engine's side of the IPVS runtime (`ipvs::runtime`): builds its [`Ctx`] (the
//! configuration, the checkers' view of each real server, the action queue), starts it
//! with `Event::Startup`, routes `Event::IpvsTable` / `Event::IpvsFailed` to it, tells it
//! the instances' state changes (`ha_suspend`, the sync daemon) and the host's addresses,
//! and after every event recomputes the virtual servers whose real servers changed
//! ([`Engine::ipvs_flush`]: the checker runtime's `take_changed`). `ha_suspend` virtual
//! servers whose address came or went have their checkers suspended or resumed. Its
//! operations are queued after the VRRP actions of the same event: IPVS work never delays
//! an advert.

use super::Engine;
use crate::ipvs::diff::Op;
use crate::ipvs::model::Table;
use crate::ipvs::runtime::{Ctx, Runtime};
use crate::sched::Instant;
use crate::vrrp::State;
use std::collections::BTreeSet;
use std::net::IpAddr;

impl Engine {
    /// `-I / --dont-release-ipvs`: the IPVS table is left as it is when the daemon stops.
    pub fn set_dont_release_ipvs(&mut self, on: bool) {
        self.ipvs.set_keep_on_stop(on);
    }

    fn with_ipvs<R>(&mut self, now: Instant, f: impl FnOnce(&mut Runtime, &mut Ctx<'_>) -> R) -> R {
        let checks = &self.checks;
        let state = |vs: usize, rs: usize| checks.rs_state(vs, rs);
        let mut ctx = Ctx {
            now,
            actions: &mut self.actions,
            prefix: &self.prefix,
            config: &self.config,
            state: &state,
        };
        f(&mut self.ipvs, &mut ctx)
    }

    /// The instances' states, in configuration order.
    fn instance_states_now(&self) -> Vec<State> {
        self.instances.iter().map(|i| i.state).collect()
    }

    /// Before the checkers start: their `ha_suspend` state is known first.
    pub(super) fn ipvs_start(&mut self, now: Instant) {
        self.checks.take_changed();
        let states = self.instance_states_now();
        self.with_ipvs(now, |rt, ctx| rt.start(ctx, &states));
        self.ipvs_settle(now);
    }

    /// What the IPVS runtime left for the engine: `ha_suspend` virtual servers whose
    /// address came or went (their checkers follow) and quorum changes (their e-mail
    /// alerts).
    fn ipvs_settle(&mut self, now: Instant) {
        for (vs, on) in self.ipvs.take_suspensions() {
            self.checkers_suspend(now, vs, on);
        }
        for (vi, name, gained) in self.ipvs.take_quorum_changes() {
            self.quorum_changed(now, vi, &name, gained);
        }
    }

    pub(super) fn ipvs_table(&mut self, now: Instant, answer: Result<Table, String>) {
        self.with_ipvs(now, |rt, ctx| rt.table(ctx, answer));
    }

    pub(super) fn ipvs_failed(&mut self, now: Instant, op: &Op, error: &str) {
        self.with_ipvs(now, |rt, ctx| rt.failed(ctx, op, error));
    }

    pub(super) fn ipvs_instance(&mut self, now: Instant, inst: usize, to: State) {
        self.with_ipvs(now, |rt, ctx| rt.instance_state(ctx, inst, to));
    }

    /// The addresses of every interface, for `ha_suspend` on addresses no instance holds.
    pub(super) fn ipvs_interfaces(&mut self) {
        let addrs: BTreeSet<IpAddr> = self
            .interfaces
            .values()
            .flat_map(|i| {
                i.ipv4
                    .iter()
                    .map(|a| IpAddr::V4(*a))
                    .chain(i.ipv6.iter().map(|a| IpAddr::V6(*a)))
            })
            .collect();
        self.ipvs.host_addresses(addrs);
    }

    /// After each event: the virtual servers whose real servers changed are recomputed.
    pub(super) fn ipvs_flush(&mut self, now: Instant) {
        for vi in self.checks.take_changed() {
            self.ipvs.mark(vi);
        }
        self.with_ipvs(now, |rt, ctx| rt.flush(ctx));
        self.ipvs_settle(now);
    }

    pub(super) fn ipvs_reload(&mut self, now: Instant) {
        self.checks.take_changed();
        let states = self.instance_states_now();
        self.with_ipvs(now, |rt, ctx| rt.reload(ctx, &states));
        self.ipvs_settle(now);
    }

    pub(super) fn ipvs_shutdown(&mut self, now: Instant) {
        self.with_ipvs(now, |rt, ctx| rt.shutdown(ctx));
    }
}
