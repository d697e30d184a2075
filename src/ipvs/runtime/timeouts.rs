//! `lvs_timeouts [tcp S] [tcpfin S] [udp S]`: IPVS's connection timeouts, set with
//! `Action::IpvsTimeouts` once IPVS answered the start-up read (never when it is
//! unavailable), and again at a reload that changes them. A reload that removes the
//! keyword leaves the kernel's timeouts as they are (as keepalived does: it has no
//! record of the values before).

use super::Ctx;
use crate::config::model::LvsTimeouts;
use crate::event::Action;
use crate::ipvs::model::timeouts_text;

/// The timeouts last sent to the kernel.
#[derive(Debug, Default)]
pub struct Timeouts {
    sent: Option<LvsTimeouts>,
}

impl Timeouts {
    /// Sends the configuration's timeouts if they differ from those last sent.
    /// `managed`: IPVS answered and the daemon is not stopping.
    pub fn converge(&mut self, ctx: &mut Ctx<'_>, managed: bool) {
        if !managed {
            return;
        }
        let want = ctx.config.global.lvs_timeouts.clone();
        if want == self.sent {
            return;
        }
        if let Some(t) = &want {
            log::info!(
                "{}IPVS: setting the connection timeouts: lvs_timeouts {}",
                ctx.prefix,
                timeouts_text(t.tcp, t.tcpfin, t.udp)
            );
            ctx.actions.push_back(Action::IpvsTimeouts {
                tcp: t.tcp,
                tcpfin: t.tcpfin,
                udp: t.udp,
            });
        }
        self.sent = want;
    }
}
