//! The reactor's side of SNMP (`sys::agentx`): the subagent is started once the engine
//! runs when the configuration or `-x` asks for it, answers from the engine's snapshot
//! at the instant of each request, sends the new-Master notifications the world
//! recorded, follows a reload, and closes its session on shutdown.

use super::Reactor;
use crate::sched::Instant;
use crate::snmp::settings::{self, SnmpSettings};
use crate::snmp::traps;
use crate::sys::agentx::AgentX;

impl Reactor {
    /// What the configuration and the command line ask for (errors logged: SNMP off).
    fn snmp_settings(&self) -> Option<SnmpSettings> {
        let g = &self.config.global;
        match settings::from_config(g, self.opts.snmp, self.opts.snmp_socket.as_deref()) {
            Ok(s) => s,
            Err(e) => {
                log::error!("SNMP: {e}; SNMP is off");
                None
            }
        }
    }

    /// Starts the subagent, or replaces it when the settings changed (start-up, reload).
    pub(super) fn set_snmp(&mut self) {
        let wanted = self.snmp_settings();
        if self.snmp.as_ref().map(|a| a.settings()) == wanted.as_ref() {
            return;
        }
        self.close_snmp();
        let Some(s) = wanted else {
            return;
        };
        let registry = match self.poll.registry().try_clone() {
            Ok(r) => r,
            Err(e) => {
                log::error!("SNMP: epoll: {e}");
                return;
            }
        };
        log::info!(
            "SNMP: AgentX subagent for the master agent at {}",
            s.endpoint
        );
        self.world.new_masters = s.traps.then(Vec::new);
        let now = self.clock.now();
        let mut a = AgentX::new(registry, s, now);
        a.on_timers(now, &mut self.world.tokens);
        self.snmp = Some(a);
    }

    /// Closes the session (shutdown; reload without SNMP).
    pub(super) fn close_snmp(&mut self) {
        if let Some(mut a) = self.snmp.take() {
            a.close(&mut self.world.tokens);
        }
        self.world.new_masters = None;
    }

    /// The AgentX stream is ready.
    pub(super) fn on_agentx(&mut self, now: Instant) {
        let Some(a) = self.snmp.as_mut() else {
            return;
        };
        let engine = &self.engine;
        let s = a.settings().clone();
        let changes = self.world.state_changes;
        a.on_ready(now, &mut self.world.tokens, changes, &mut |base| {
            settings::view(&engine.snapshot(now), &s, base)
        });
    }

    /// Retries and time-outs.
    pub(super) fn snmp_timers(&mut self, now: Instant) {
        if let Some(a) = self.snmp.as_mut() {
            a.on_timers(now, &mut self.world.tokens);
        }
    }

    /// The notifications of the instances that became Master since the last call (none
    /// while no session is open: they are not queued).
    pub(super) fn snmp_notify(&mut self) {
        let Some(a) = self.snmp.as_mut() else {
            return;
        };
        let now = self.clock.now();
        let masters = match self.world.new_masters.as_mut() {
            Some(v) if !v.is_empty() => std::mem::take(v),
            _ => return,
        };
        if !a.is_ready() {
            return;
        }
        let snap = self.engine.snapshot(now);
        let s = a.settings().clone();
        let view = settings::view(&snap, &s, None);
        for (trap, vbs) in traps::new_master(&snap, &view, &s, &masters) {
            a.notify(now, &mut self.world.tokens, &trap, vbs);
        }
    }
}
