//! UDP_CHECK as a dialogue: one datagram (the configured `payload`, else a payload made
//! from the check's random number, as keepalived sends a random one) over connected UDP.
//!
//! With `require_reply` a reply must arrive: its length within
//! `min_reply_length..=max_reply_length`, and its bytes matching the pattern up to the
//! shorter of the two (a `None` nibble matches anything). Without it, silence until
//! `connect_timeout` is success and only an ICMP error (`ConnError::Unreachable`) fails;
//! a reply is success too.

use crate::check::dialogue::{Dialogue, Step, Verdict};
use crate::config::model::UdpCheck;
use crate::event::{ConnError, Transport};

/// Length of the payload sent when none is configured.
pub const DEFAULT_PAYLOAD_LEN: usize = 16;

/// One UDP_CHECK exchange.
#[derive(Clone, Debug)]
pub struct UdpDialogue {
    payload: Vec<u8>,
    pattern: Option<Vec<(Option<u8>, Option<u8>)>>,
    min: usize,
    max: usize,
}

/// `DEFAULT_PAYLOAD_LEN` bytes drawn from `seed` (xorshift64).
pub fn seeded_payload(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Whether `reply` matches the nibble `pattern` up to the shorter of the two.
pub fn matches(pattern: &[(Option<u8>, Option<u8>)], reply: &[u8]) -> bool {
    pattern.iter().zip(reply).all(|(&(hi, lo), &b)| {
        hi.map_or(true, |h| h & 0x0F == b >> 4) && lo.map_or(true, |l| l & 0x0F == b & 0x0F)
    })
}

impl UdpDialogue {
    /// The dialogue for `cfg`, with the fixed default payload when none is configured.
    pub fn new(cfg: &UdpCheck) -> Self {
        Self::with_seed(cfg, 0x6b65_6570_616c_6976)
    }

    /// The dialogue for `cfg`; without a configured payload, one drawn from `seed`.
    pub fn with_seed(cfg: &UdpCheck, seed: u64) -> Self {
        UdpDialogue {
            payload: cfg
                .payload
                .clone()
                .unwrap_or_else(|| seeded_payload(seed, DEFAULT_PAYLOAD_LEN)),
            pattern: cfg.require_reply.clone(),
            min: cfg.min_reply_length as usize,
            max: cfg.max_reply_length as usize,
        }
    }

    fn judge(&self, reply: &[u8]) -> Verdict {
        let Some(pattern) = &self.pattern else {
            return Verdict::Up;
        };
        if reply.len() < self.min || reply.len() > self.max {
            return Verdict::Down(format!(
                "UDP reply length {} outside {}..{}",
                reply.len(),
                self.min,
                self.max
            ));
        }
        if !matches(pattern, reply) {
            return Verdict::Down("UDP reply does not match require_reply".into());
        }
        Verdict::Up
    }
}

impl Dialogue for UdpDialogue {
    fn transport(&self) -> Transport {
        Transport::Udp
    }
    fn connected(&mut self) -> Step {
        Step::Send(self.payload.clone())
    }
    fn data(&mut self, bytes: &[u8]) -> Step {
        Step::Done(self.judge(bytes))
    }
    fn closed(&mut self) -> Verdict {
        Verdict::Down("UDP socket closed".into())
    }
    fn timed_out(&mut self) -> Verdict {
        if self.pattern.is_some() {
            Verdict::Down("timeout waiting for UDP reply".into())
        } else {
            Verdict::Up
        }
    }
    fn failed(&mut self, err: &ConnError) -> Verdict {
        Verdict::Down(err.to_string())
    }
}

/// Fuzz entry point: the first byte picks the pattern's length, the next bytes are the
/// pattern (0xF_ nibbles are "don't care"), the rest is the reply; never panics.
pub fn fuzz_udp_reply(data: &[u8]) {
    let (n, rest) = match data.split_first() {
        Some((&n, rest)) => ((n as usize).min(rest.len()), rest),
        None => return,
    };
    let nib = |v: u8| (v != 0xF).then_some(v);
    let pattern = rest[..n]
        .iter()
        .map(|&b| (nib(b >> 4), nib(b & 0x0F)))
        .collect();
    let cfg = UdpCheck {
        payload: None,
        require_reply: Some(pattern),
        min_reply_length: 0,
        max_reply_length: 255,
    };
    let mut d = UdpDialogue::with_seed(&cfg, n as u64);
    let _ = d.connected();
    let _ = d.data(&rest[n..]);
    let _ = d.timed_out();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pattern: Option<Vec<(Option<u8>, Option<u8>)>>) -> UdpCheck {
        UdpCheck {
            payload: Some(b"ping".to_vec()),
            require_reply: pattern,
            min_reply_length: 0,
            max_reply_length: 255,
        }
    }

    #[test]
    fn sends_payload_or_a_seeded_one() {
        let mut d = UdpDialogue::new(&cfg(None));
        assert_eq!(d.transport(), Transport::Udp);
        assert_eq!(d.connected(), Step::Send(b"ping".to_vec()));
        let mut c = cfg(None);
        c.payload = None;
        let Step::Send(a) = UdpDialogue::with_seed(&c, 1).connected() else {
            panic!()
        };
        let Step::Send(b) = UdpDialogue::with_seed(&c, 2).connected() else {
            panic!()
        };
        assert_eq!(a.len(), DEFAULT_PAYLOAD_LEN);
        assert_ne!(a, b);
    }

    #[test]
    fn without_require_reply_silence_is_up_unreachable_down() {
        let mut d = UdpDialogue::new(&cfg(None));
        assert_eq!(d.timed_out(), Verdict::Up);
        assert_eq!(
            d.failed(&ConnError::Unreachable),
            Verdict::Down("unreachable".into())
        );
        assert_eq!(d.data(b"anything"), Step::Done(Verdict::Up));
    }

    #[test]
    fn require_reply_without_pattern_needs_any_reply() {
        let mut d = UdpDialogue::new(&cfg(Some(vec![])));
        assert!(matches!(d.timed_out(), Verdict::Down(_)));
        assert_eq!(d.data(b"x"), Step::Done(Verdict::Up));
        assert_eq!(d.data(b""), Step::Done(Verdict::Up));
    }

    #[test]
    fn pattern_with_dont_care_nibbles() {
        // "AB x1": 0xAB then any high nibble, low nibble 1.
        let p = vec![(Some(0xA), Some(0xB)), (None, Some(1))];
        let mut d = UdpDialogue::new(&cfg(Some(p)));
        assert_eq!(d.data(&[0xAB, 0x71, 0xFF]), Step::Done(Verdict::Up));
        assert_eq!(d.data(&[0xAB, 0x01]), Step::Done(Verdict::Up));
        // Matched only up to the reply's length.
        assert_eq!(d.data(&[0xAB]), Step::Done(Verdict::Up));
        assert!(
            matches!(d.data(&[0xAB, 0x72]), Step::Done(Verdict::Down(m)) if m.contains("match"))
        );
        assert!(matches!(d.data(&[0xBB]), Step::Done(Verdict::Down(_))));
    }

    #[test]
    fn length_bounds() {
        let mut c = cfg(Some(vec![]));
        c.min_reply_length = 2;
        c.max_reply_length = 4;
        let mut d = UdpDialogue::new(&c);
        assert!(matches!(d.data(b"a"), Step::Done(Verdict::Down(m)) if m.contains("length 1")));
        assert_eq!(d.data(b"ab"), Step::Done(Verdict::Up));
        assert_eq!(d.data(b"abcd"), Step::Done(Verdict::Up));
        assert!(matches!(d.data(b"abcde"), Step::Done(Verdict::Down(_))));
        assert!(matches!(
            d.data(&[0u8; 65535]),
            Step::Done(Verdict::Down(_))
        ));
    }

    #[test]
    fn fuzz_entry_survives_hostile_input() {
        fuzz_udp_reply(&[]);
        fuzz_udp_reply(&[255]);
        fuzz_udp_reply(&[255, 1, 2, 3]);
        fuzz_udp_reply(&[2, 0xAF, 0xFF, 0xA0, 0x12]);
    }
}
