//! The engine's side of the health checkers: builds the [`Ctx`] the checker runtime
//! (`check::runtime`) works with, routes to it the events that are its own (checker
//! connections, MISC_CHECK exits, `track_file` values, checker timers), starts it with
//! `Event::Startup` (checkers do not wait for `vrrp_startup_delay`: keepalived runs them
//! in a process of their own), stops it at shutdown and reloads it in place.
//!
//! VRRP first: `Engine::timers` fires every VRRP timer due at an instant before any
//! checker timer of that instant, and each checker event does a bounded amount of work
//! (one dialogue step, one result), so checker work never delays an advert.
//!
//! The IPVS table follows the checkers through `engine/ipvs.rs` (the runtime reads the
//! checker runtime's `rs_state` and `take_changed` after each event).

use super::Engine;
use crate::check::runtime::{Ctx, RsTransition};
use crate::event::{CheckTimer, ConnEvent, ConnId, ScriptOutcome, ScriptRunId};
use crate::sched::Instant;

impl Engine {
    /// Seeds the engine's randomness (the first-check spread of `warmup`): `sys` gives
    /// a random seed, `sim` the scenario's. Call before `Event::Startup`.
    pub fn set_seed(&mut self, seed: u64) {
        self.checks.set_seed(seed);
    }

    /// The checker runtime with the engine's clock, wheel, queue and id counters.
    fn with_checks<R>(
        &mut self,
        now: Instant,
        f: impl FnOnce(&mut crate::check::runtime::Runtime, &mut Ctx<'_>) -> R,
    ) -> R {
        let mut ctx = Ctx {
            now,
            wheel: &mut self.wheel,
            actions: &mut self.actions,
            next_conn: &mut self.next_conn,
            next_run: &mut self.next_run,
            prefix: &self.prefix,
        };
        let r = f(&mut self.checks, &mut ctx);
        self.settle_checks();
        r
    }

    pub(super) fn checkers_start(&mut self, now: Instant) {
        if self.checks.is_empty() {
            return;
        }
        let files = self.files.clone();
        self.with_checks(now, |rt, ctx| rt.start(ctx, &files));
    }

    pub(super) fn checkers_shutdown(&mut self, now: Instant) {
        self.with_checks(now, |rt, ctx| rt.shutdown(ctx));
    }

    /// The checker runtime takes the configuration just installed (borrowed from the
    /// engine, not copied: a file may hold tens of thousands of real servers).
    pub(super) fn checkers_reload(&mut self, now: Instant) {
        let mut ctx = Ctx {
            now,
            wheel: &mut self.wheel,
            actions: &mut self.actions,
            next_conn: &mut self.next_conn,
            next_run: &mut self.next_run,
            prefix: &self.prefix,
        };
        self.checks.reload(&mut ctx, &self.config, &self.files);
        self.settle_checks();
    }

    /// `ha_suspend`: the checkers of virtual server `vs` stop (`on`) or start again.
    pub(super) fn checkers_suspend(&mut self, now: Instant, vs: usize, on: bool) {
        let files = self.files.clone();
        self.with_checks(now, |rt, ctx| rt.set_suspended(ctx, vs, on, &files));
    }

    pub(super) fn checker_timer(&mut self, now: Instant, id: u64, what: CheckTimer) {
        self.with_checks(now, |rt, ctx| rt.timer(ctx, id, what));
    }

    pub(super) fn checker_conn(&mut self, now: Instant, conn: ConnId, event: ConnEvent) {
        self.with_checks(now, |rt, ctx| rt.conn_event(ctx, conn, event));
    }

    /// Routes a child's exit to the checker runtime; false when it is not a checker's.
    pub(super) fn checker_script(
        &mut self,
        now: Instant,
        run: ScriptRunId,
        outcome: &ScriptOutcome,
    ) -> bool {
        if !self.checks.owns_run(run) {
            return false;
        }
        self.with_checks(now, |rt, ctx| rt.script_exited(ctx, run, outcome))
    }

    pub(super) fn checker_file(&mut self, now: Instant, name: &str, value: Option<i64>) {
        self.with_checks(now, |rt, ctx| rt.file_value(ctx, name, value));
    }

    /// Real-server transitions of the last step go to the SMTP alerter and are kept for
    /// [`Engine::take_rs_transitions`].
    fn settle_checks(&mut self) {
        let t = self.checks.take_transitions();
        for tr in &t {
            let smtp_alert =
                crate::alert::enabled::real_server_flag(&self.config.global, tr.smtp_alert);
            let alert = super::alerts::RsAlert {
                vs: &tr.vs,
                rs: &tr.rs,
                up: tr.up,
                checker: &tr.checker,
                reason: tr.reason.as_deref(),
                smtp_alert,
            };
            self.checker_changed(tr.at, &alert);
        }
        if !t.is_empty() {
            self.rs_transitions.extend(t);
            // Bounded: a consumer that never drains keeps the latest 1 024.
            let n = self.rs_transitions.len();
            if n > 1024 {
                self.rs_transitions.drain(..n - 1024);
            }
        }
    }

    /// The real-server transitions since the last call, oldest first (for the SMTP
    /// alerter and tests).
    pub fn take_rs_transitions(&mut self) -> Vec<RsTransition> {
        std::mem::take(&mut self.rs_transitions)
    }
}
