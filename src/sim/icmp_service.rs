//! A simulated host answering ping (`server NAME icmp`): each echo request's payload
//! comes back; in the `wrong` mode altered (each byte inverted).

use super::service::{Answer, Service};
use super::udp_service::UdpEcho;

/// The ICMP echo service: answers each echo with its payload; in the
/// `wrong` mode with the payload altered (each byte inverted).
#[derive(Clone, Copy, Debug, Default)]
pub struct IcmpEcho;

impl Service for IcmpEcho {
    fn greeting(&mut self, _wrong: bool) -> Option<Answer> {
        None
    }
    fn answer(&mut self, input: &[u8], wrong: bool) -> Option<Answer> {
        UdpEcho.answer(input, wrong)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_and_altered() {
        assert_eq!(IcmpEcho.answer(b"xy", false).unwrap().bytes, b"xy");
        assert_eq!(
            IcmpEcho.answer(b"xy", true).unwrap().bytes,
            vec![!b'x', !b'y']
        );
    }
}
