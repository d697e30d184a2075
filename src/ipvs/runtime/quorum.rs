//! A virtual server's quorum with hysteresis ([`crate::ipvs::model::quorum_met`]) and
//! what a change says and runs — keepalived 2.2.7's lines:
//! `Lost quorum 3-1=2 > 1 for VS [10.0.0.10]:tcp:80`,
//! `Gained quorum 3+1=4 <= 4 for VS [10.0.0.10]:tcp:80`, with a sorry server
//! `Adding sorry server [10.0.0.99]:tcp:80 to VS ...` / `Removing alive servers from the
//! pool for VS ...` (and back: `Removing sorry server ... from VS ...` / `Adding alive
//! servers to the pool for VS ...`), then `quorum_down` / `quorum_up` run fire-and-forget
//! (the vetted `ScriptCommand`, as the real servers' `notify_up`).
//!
//! Start-up: a virtual server is taken to have its quorum until the first evaluation,
//! made with the real servers' start-up states (`alpha`: all down) from the "up" side of
//! the hysteresis. Met: nothing is said or run. Not met: `Starting with quorum down
//! 3-1=2 > 0 for VS ...`, the sorry server goes in and `quorum_down` runs, as for a loss.

use super::Ctx;
use crate::config::model::VirtualServer;
use crate::event::Action;
use crate::ipvs::model::{quorum_met, up_weight};

/// How a quorum evaluation is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// The first evaluation (start-up, or a virtual server new at a reload).
    First,
    /// A later one (a real server changed).
    Later,
}

/// The name of a destination as keepalived logs it (`[10.0.0.99]:tcp:80`).
pub fn dest_name(vs: &VirtualServer, addr: std::net::IpAddr, port: Option<u16>) -> String {
    use crate::config::model::{Protocol, VsKey};
    let proto = match (&vs.key, vs.protocol) {
        (VsKey::Fwmark(_), _) => "none",
        (_, Protocol::Tcp) => "tcp",
        (_, Protocol::Udp) => "udp",
        (_, Protocol::Sctp) => "sctp",
    };
    let vs_port = match vs.key {
        VsKey::Addr { port, .. } => port,
        _ => None,
    };
    format!("[{addr}]:{proto}:{}", port.or(vs_port).unwrap_or(0))
}

/// Evaluates the quorum of `vs` (named `name`), whose state was `previous`; logs and runs
/// what a change does; returns the new state.
pub fn evaluate(
    ctx: &mut Ctx<'_>,
    vi: usize,
    vs: &VirtualServer,
    name: &str,
    previous: bool,
    when: When,
) -> bool {
    let state = ctx.state;
    let w = up_weight(vs, &|ri| state(vi, ri));
    let (q, h) = (i64::from(vs.quorum), i64::from(vs.hysteresis));
    let met = quorum_met(previous, w, vs.quorum, vs.hysteresis);
    if met == previous {
        return met;
    }
    let p = ctx.prefix;
    let sorry = vs.sorry_server.map(|(a, port)| dest_name(vs, a, port));
    if met {
        log::info!("{p}Gained quorum {q}+{h}={} <= {w} for VS {name}", q + h);
        if let Some(s) = &sorry {
            log::info!("{p}Removing sorry server {s} from VS {name}");
            log::info!("{p}Adding alive servers to the pool for VS {name}");
        }
    } else {
        let what = match when {
            When::First => "Starting with quorum down",
            When::Later => "Lost quorum",
        };
        log::info!("{p}{what} {q}-{h}={} > {w} for VS {name}", q - h);
        if let Some(s) = &sorry {
            log::info!("{p}Adding sorry server {s} to VS {name}");
            log::info!("{p}Removing alive servers from the pool for VS {name}");
        }
    }
    let script = if met { &vs.quorum_up } else { &vs.quorum_down };
    if let Some(command) = script {
        ctx.actions.push_back(Action::RunScript {
            run: None,
            command: command.clone(),
            timeout: None,
        });
    }
    met
}
