//! PING_CHECK as a dialogue: one ICMP (or ICMPv6) echo request whose payload is drawn
//! from the check's random number; the world writes the header, identifier and sequence
//! and hands back only the payload of replies to our identifier. A reply carrying the
//! same payload is Up; one carrying another payload is Down; no reply is the timeout.

use crate::check::dialogue::{Dialogue, Step, Verdict};
use crate::check::udp::seeded_payload;
use crate::event::Transport;

/// Length of the echo payload (the size of ping(8)'s default data).
pub const PAYLOAD_LEN: usize = 56;

/// One PING_CHECK echo.
#[derive(Clone, Debug)]
pub struct PingDialogue {
    payload: Vec<u8>,
}

impl PingDialogue {
    /// An echo whose payload is drawn from `payload_seed`.
    pub fn new(payload_seed: u64) -> Self {
        PingDialogue {
            payload: seeded_payload(payload_seed, PAYLOAD_LEN),
        }
    }
}

impl Dialogue for PingDialogue {
    fn transport(&self) -> Transport {
        Transport::Icmp
    }
    fn connected(&mut self) -> Step {
        Step::Send(self.payload.clone())
    }
    fn data(&mut self, bytes: &[u8]) -> Step {
        if bytes == self.payload.as_slice() {
            Step::Done(Verdict::Up)
        } else {
            Step::Done(Verdict::Down("echo reply payload differs".into()))
        }
    }
    fn closed(&mut self) -> Verdict {
        Verdict::Down("ICMP socket closed".into())
    }
    fn timed_out(&mut self) -> Verdict {
        Verdict::Down("no echo reply".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::ConnError;

    #[test]
    fn same_payload_is_up_other_is_down() {
        let mut d = PingDialogue::new(42);
        assert_eq!(d.transport(), Transport::Icmp);
        let Step::Send(p) = d.connected() else {
            panic!()
        };
        assert_eq!(p.len(), PAYLOAD_LEN);
        assert_eq!(d.data(&p), Step::Done(Verdict::Up));
        let mut q = p.clone();
        q[10] ^= 1;
        assert!(matches!(d.data(&q), Step::Done(Verdict::Down(_))));
        assert!(matches!(d.data(&p[..20]), Step::Done(Verdict::Down(_))));
        assert!(matches!(d.data(&[]), Step::Done(Verdict::Down(_))));
        assert!(matches!(
            d.data(&[0u8; 70000]),
            Step::Done(Verdict::Down(_))
        ));
        assert_eq!(d.timed_out(), Verdict::Down("no echo reply".into()));
        assert!(matches!(
            d.failed(&ConnError::Unreachable),
            Verdict::Down(_)
        ));
    }

    #[test]
    fn seeds_give_distinct_payloads() {
        let Step::Send(a) = PingDialogue::new(1).connected() else {
            panic!()
        };
        let Step::Send(b) = PingDialogue::new(2).connected() else {
            panic!()
        };
        assert_ne!(a, b);
    }
}
