//! The engine's side of the SMTP alerts: raises keepalived's alerts for the VRRP
//! transitions of each step (instances and sync groups that have `smtp_alert`), for
//! real-server transitions (called by the checker runtime) and for virtual servers'
//! quorum changes (called by the IPVS side), routes the alerter's
//! connection events and timers to `crate::alert::Alerter`, and keeps its settings in step
//! with the configuration.

use super::Engine;
use crate::alert::{self, compose, Alerter, Io, Settings};
use crate::event::{ConnEvent, ConnId, HostInfo, Timer};
use crate::sched::Instant;
use crate::vrrp::State;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A real server's health changed: what the checker runtime tells the alerter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RsAlert<'a> {
    /// The virtual server as keepalived logs it: `[192.0.2.100]:tcp:80`.
    pub vs: &'a str,
    /// The real server as keepalived logs it: `[10.0.0.2]:tcp:80`.
    pub rs: &'a str,
    pub up: bool,
    /// The keyword of the checker that decided (`TCP_CHECK`, `HTTP_GET`, ...).
    pub checker: &'a str,
    /// Why it failed (HTTP_GET / SSL_GET / SMTP_CHECK bodies say it).
    pub reason: Option<&'a str>,
    /// The real server's resolved `smtp_alert` (`alert::enabled::real_server`).
    pub smtp_alert: bool,
}

impl Engine {
    /// The alerter for `config`'s `global_defs`, with the notes of what it cannot honour
    /// logged (at start and at reload).
    pub(super) fn configure_alerts(&mut self) {
        let (settings, notes) = Settings::from_global(&self.config.global);
        let wanted = self.instances.iter().any(|i| i.cfg.smtp_alert)
            || self.config.sync_groups.iter().any(|g| g.smtp_alert)
            || self.config.virtual_servers.iter().any(|vs| {
                vs.real_servers
                    .iter()
                    .any(|rs| alert::enabled::real_server(&self.config.global, rs))
            });
        if wanted {
            for n in &notes {
                log::warn!("{}{n}", self.prefix);
            }
        }
        self.alerter.configure(settings);
    }

    fn alert_io<R>(&mut self, now: Instant, f: impl FnOnce(&mut Alerter, &mut Io) -> R) -> R {
        let mut io = Io {
            now,
            wheel: &mut self.wheel,
            actions: &mut self.actions,
            next_conn: &mut self.next_conn,
            prefix: &self.prefix,
        };
        f(&mut self.alerter, &mut io)
    }

    /// `Event::Host`: the world's facts (host name, user, wall clock).
    pub(super) fn host_info(&mut self, host: HostInfo) {
        self.alerter.set_host(host);
    }

    /// The world's facts about this host, as last reported.
    #[allow(dead_code)] // for engine parts that need the host name
    pub(crate) fn host(&self) -> &HostInfo {
        self.alerter.host()
    }

    /// `Event::Conn` for a connection of the alerter. The SMTP client reads what a remote
    /// server sent: it runs inside `catch_unwind`, and a panic costs that one alert
    /// (DESIGN.md §3.6), never VRRP.
    pub(super) fn alert_conn(&mut self, now: Instant, conn: ConnId, event: ConnEvent) {
        let run = AssertUnwindSafe(|| self.alert_io(now, |a, io| a.conn_event(io, conn, event)));
        if catch_unwind(run).is_err() {
            log::error!("{}SMTP alert client panicked on {conn}", self.prefix);
            self.alert_io(now, |a, io| a.abandon(io));
        }
    }

    /// `Timer::SmtpTimeout` / `Timer::SmtpRetry`.
    pub(super) fn alert_timer(&mut self, now: Instant, t: Timer) {
        self.alert_io(now, |a, io| a.timer(io, t));
    }

    /// Instance `i` entered `to`.
    pub(super) fn alert_instance(&mut self, now: Instant, i: usize, to: State) {
        let inst = &self.instances[i];
        if !inst.cfg.smtp_alert
            || !alert::enabled::vrrp_state(to, self.config.global.no_email_faults)
        {
            return;
        }
        let text = compose::instance(&self.alerter.router_id(), inst.name(), to);
        self.alert_io(now, |a, io| a.raise(io, text));
    }

    /// Every member of sync group `g` is in `to`.
    pub(super) fn alert_group(&mut self, now: Instant, g: usize, to: State) {
        let grp = &self.groups[g];
        if !grp.cfg.smtp_alert
            || !alert::enabled::vrrp_state(to, self.config.global.no_email_faults)
        {
            return;
        }
        let text = compose::group(&self.alerter.router_id(), &grp.cfg.name, to);
        self.alert_io(now, |a, io| a.raise(io, text));
    }

    /// A real server went up or down (the checker runtime calls this with each
    /// transition it decides).
    pub(crate) fn checker_changed(&mut self, now: Instant, t: &RsAlert) {
        if !t.smtp_alert {
            return;
        }
        let text = compose::real_server(
            &self.alerter.router_id(),
            t.vs,
            t.rs,
            t.up,
            t.checker,
            t.reason,
        );
        self.alert_io(now, |a, io| a.raise(io, text));
    }

    /// Virtual server `vi` (named `name`) gained or lost its quorum.
    pub(crate) fn quorum_changed(&mut self, now: Instant, vi: usize, name: &str, gained: bool) {
        let Some(vs) = self.config.virtual_servers.get(vi) else {
            return;
        };
        if !alert::enabled::virtual_server(&self.config.global, vs) {
            return;
        }
        let text = compose::virtual_server(&self.alerter.router_id(), name, gained);
        self.alert_io(now, |a, io| a.raise(io, text));
    }

    /// The alerter's counters and the subjects waiting (status, tests).
    pub fn alert_stats(&self) -> (alert::AlertStats, Vec<String>) {
        (self.alerter.stats(), self.alerter.waiting())
    }
}

#[cfg(test)]
#[path = "alerts_tests.rs"]
mod tests;
