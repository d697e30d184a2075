//! The factory seam between the checker runtime and the protocols: which dialogue runs a
//! checker's check ([`dialogue_for`]), and which checkers have none yet.
//!
//! TCP_CHECK is [`crate::check::tcp`]; HTTP_GET / SSL_GET are built per url by the runtime
//! from [`crate::check::http::HttpCheckPlan`]; MISC_CHECK and FILE_CHECK need no
//! connection. SMTP_CHECK is [`crate::check::smtp`], DNS_CHECK [`crate::check::dns`],
//! UDP_CHECK [`crate::check::udp`], PING_CHECK [`crate::check::ping`]. BFD_CHECK answers
//! [`NotImplemented`]: the runtime warns once at start-up, naming the checker and where it
//! is configured, and the checker takes no part in its real server's state.

use crate::check::dialogue::Dialogue;
use crate::check::dns::DnsDialogue;
use crate::check::ping::PingDialogue;
use crate::check::smtp::SmtpDialogue;
use crate::check::tcp::TcpDialogue;
use crate::check::udp::UdpDialogue;
use crate::config::model::{CheckerKind, Config};

/// What a protocol's constructor may need besides the configuration.
#[derive(Clone, Copy, Debug)]
pub struct DialogueArgs<'a> {
    /// A fresh random number for this check (DNS query id, ping payload seed).
    pub random: u64,
    /// Unused since SMTP_CHECK takes keepalived's default (`check::smtp::DEFAULT_HELO`).
    pub helo_default: &'a str,
}

/// The checker has no implementation yet; the keyword says which.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotImplemented(pub &'static str);

/// What `-t` and start-up say about the checkers of `config` that do not run: one line per
/// not-implemented checker (`file:line:col: warning: SMTP_CHECK is not implemented yet;
/// this checker is ignored`).
pub fn notices(config: &Config) -> Vec<String> {
    let args = DialogueArgs {
        random: 0,
        helo_default: "localhost",
    };
    let mut out = Vec::new();
    for vs in &config.virtual_servers {
        for rs in &vs.real_servers {
            for ch in &rs.checkers {
                if let Some(Err(NotImplemented(kw))) = dialogue_for(&ch.kind, &args) {
                    out.push(format!(
                        "{}: warning: {kw} is not implemented yet; this checker is ignored",
                        ch.span
                    ));
                }
            }
        }
    }
    out
}

/// A fresh dialogue for one check of a connection checker. HTTP_GET / SSL_GET (built per
/// url by the runtime), MISC_CHECK and FILE_CHECK are not connection dialogues and answer
/// `None`.
pub fn dialogue_for(
    kind: &CheckerKind,
    args: &DialogueArgs<'_>,
) -> Option<Result<Box<dyn Dialogue>, NotImplemented>> {
    Some(match kind {
        CheckerKind::Tcp => Ok(Box::new(TcpDialogue)),
        // keepalived's default is its own name, not smtp_helo_name (check::smtp).
        CheckerKind::Smtp { helo_name } => Ok(Box::new(SmtpDialogue::new(
            helo_name
                .as_deref()
                .unwrap_or(crate::check::smtp::DEFAULT_HELO),
        ))),
        CheckerKind::Dns { qtype, name } => {
            Ok(Box::new(DnsDialogue::new(qtype, name, args.random as u16)))
        }
        CheckerKind::Udp(cfg) => Ok(Box::new(UdpDialogue::with_seed(cfg, args.random))),
        CheckerKind::Ping => Ok(Box::new(PingDialogue::new(args.random))),
        CheckerKind::Bfd { .. } => Err(NotImplemented("BFD_CHECK")),
        CheckerKind::Http(_)
        | CheckerKind::Ssl(_)
        | CheckerKind::Misc(_)
        | CheckerKind::File(_) => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_checkers_have_dialogues_and_bfd_has_none() {
        let args = DialogueArgs {
            random: 1,
            helo_default: "localhost",
        };
        assert!(matches!(
            dialogue_for(&CheckerKind::Tcp, &args),
            Some(Ok(_))
        ));
        let bfd = CheckerKind::Bfd { name: "b".into() };
        assert!(matches!(
            dialogue_for(&bfd, &args),
            Some(Err(NotImplemented("BFD_CHECK")))
        ));
        let dns = CheckerKind::Dns {
            qtype: "A".into(),
            name: "example.com".into(),
        };
        let udp = CheckerKind::Udp(crate::config::model::UdpCheck {
            payload: None,
            require_reply: None,
            min_reply_length: 0,
            max_reply_length: 255,
        });
        for kind in [dns, udp, CheckerKind::Ping] {
            assert!(
                matches!(dialogue_for(&kind, &args), Some(Ok(_))),
                "{kind:?}"
            );
        }
    }
}
