//! One real server's state: keepalived's names for it, its up/down state and effective
//! weight, and what a change does — keepalived 2.2.7's log lines (observed: `Removing
//! service [127.0.0.1]:tcp:9102 from VS [127.0.0.1]:tcp:9001`, `Adding service ... to VS
//! ...`, with `inhibit_on_failure` `Disabling service ... of VS ...` / `Enabling ...`,
//! `Changing weight from 3 to 5 for inactive service ... of VS ...`),
//! `Action::RealServerChanged`, and `notify_up` / `notify_down` run as configured (keepalived
//! adds no argument).

use super::Ctx;
use crate::config::model::{Protocol, RealServer, VirtualServer, VsKey};
use crate::event::Action;
use crate::sched::Instant;
use std::net::IpAddr;
use std::sync::Arc;

/// A real server changed state (what the SMTP alerter needs to write keepalived's mail).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RsTransition {
    /// `[10.0.0.1]:tcp:80` (or `FWM 5`).
    pub vs: String,
    /// `[10.0.0.2]:tcp:80`.
    pub rs: String,
    pub up: bool,
    pub weight: i32,
    /// The checker keyword that caused it (`TCP_CHECK`...), or `reload`.
    pub checker: String,
    /// Why the check failed (going down).
    pub reason: Option<String>,
    /// The real server's own `smtp_alert` (None: the global chain decides, see
    /// `alert::enabled::real_server`).
    pub smtp_alert: Option<bool>,
    pub at: Instant,
}

fn proto(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
        Protocol::Sctp => "sctp",
    }
}

fn ip(a: IpAddr) -> String {
    format!("[{a}]")
}

/// keepalived's name of a virtual server.
pub fn vs_name(vs: &VirtualServer) -> String {
    match &vs.key {
        VsKey::Addr { addr, port } => {
            format!("{}:{}:{}", ip(*addr), proto(vs.protocol), port.unwrap_or(0))
        }
        VsKey::Fwmark(m) => format!("FWM {m}"),
        VsKey::Group(g) => format!("[{g}]"),
    }
}

/// The port of a real server: its own, else its virtual server's, else 0.
pub fn rs_port(vs: &VirtualServer, rs: &RealServer) -> u16 {
    let vs_port = match vs.key {
        VsKey::Addr { port, .. } => port,
        _ => None,
    };
    rs.port.or(vs_port).unwrap_or(0)
}

/// keepalived's name of a real server (a fwmark service has no protocol: keepalived
/// 2.2.7 writes `[10.0.0.2]:none:80`).
pub fn rs_name(vs: &VirtualServer, rs: &RealServer) -> String {
    let p = match vs.key {
        VsKey::Fwmark(_) => "none",
        _ => proto(vs.protocol),
    };
    format!("{}:{p}:{}", ip(rs.addr), rs_port(vs, rs))
}

/// One real server.
pub(super) struct Server {
    pub(super) vs: String,
    /// Index of its virtual server in the configuration.
    pub(super) vsi: usize,
    pub(super) name: String,
    pub(super) addr: IpAddr,
    pub(super) port: u16,
    /// Configuration without the checkers.
    pub(super) cfg: Arc<RealServer>,
    pub(super) inhibit: bool,
    pub(super) omega: bool,
    pub(super) smtp_alert: Option<bool>,
    pub(super) checks: Vec<u64>,
    pub(super) up: bool,
    pub(super) weight: i32,
    pub(super) up_transitions: u64,
    pub(super) down_transitions: u64,
    pub(super) last_transition: Option<Instant>,
}

impl Server {
    pub(super) fn new(
        vs: &VirtualServer,
        vs_name: &str,
        rs: &RealServer,
        name: String,
        checks: Vec<u64>,
    ) -> Server {
        let mut cfg = rs.clone();
        cfg.checkers = Vec::new();
        Server {
            vs: vs_name.to_string(),
            vsi: 0,
            name,
            addr: rs.addr,
            port: rs_port(vs, rs),
            inhibit: rs.inhibit_on_failure,
            omega: vs.omega,
            smtp_alert: rs.smtp_alert,
            cfg: Arc::new(cfg),
            checks,
            up: true,
            weight: rs.weight,
            up_transitions: 0,
            down_transitions: 0,
            last_transition: None,
        }
    }

    /// Takes the state of the same server before a reload.
    pub(super) fn carry(&mut self, old: &Server) {
        self.up = old.up;
        self.weight = old.weight;
        self.up_transitions = old.up_transitions;
        self.down_transitions = old.down_transitions;
        self.last_transition = old.last_transition;
    }

    /// Moves to `up` / `weight`; logs, notifies and reports what changed.
    pub(super) fn apply(
        &mut self,
        ctx: &mut Ctx<'_>,
        vs: &str,
        up: bool,
        weight: i32,
        cause: &str,
        why: Option<String>,
    ) -> Option<RsTransition> {
        let p = ctx.prefix;
        if weight != self.weight {
            let active = if self.up { "active" } else { "inactive" };
            log::info!(
                "{p}Changing weight from {} to {weight} for {active} service {} of VS {vs}",
                self.weight,
                self.name
            );
            self.weight = weight;
            if self.up && up {
                ctx.actions.push_back(Action::RealServerChanged {
                    vs: vs.to_string(),
                    rs: self.name.clone(),
                    up: true,
                    weight,
                });
            }
        }
        if up == self.up {
            return None;
        }
        self.up = up;
        self.last_transition = Some(ctx.now);
        let n = &self.name;
        let script = if up {
            self.up_transitions += 1;
            if self.inhibit {
                log::info!("{p}Enabling service {n} of VS {vs}");
            } else {
                log::info!("{p}Adding service {n} to VS {vs}");
            }
            self.cfg.notify_up.clone()
        } else {
            self.down_transitions += 1;
            if self.inhibit {
                log::info!("{p}Disabling service {n} of VS {vs}");
            } else {
                log::info!("{p}Removing service {n} from VS {vs}");
            }
            self.cfg.notify_down.clone()
        };
        let reported = if up || !self.inhibit { weight } else { 0 };
        ctx.actions.push_back(Action::RealServerChanged {
            vs: vs.to_string(),
            rs: n.clone(),
            up,
            weight: reported,
        });
        if let Some(command) = script {
            ctx.actions.push_back(Action::RunScript {
                run: None,
                command,
                timeout: None,
            });
        }
        Some(RsTransition {
            vs: vs.to_string(),
            rs: n.clone(),
            up,
            weight: reported,
            checker: cause.to_string(),
            reason: why,
            smtp_alert: self.smtp_alert,
            at: ctx.now,
        })
    }
}
