//! A simulated UDP service (`server NAME udp`): echoes each datagram; in the `wrong` mode
//! it answers garbage (each byte of the datagram inverted, or one 0xFF byte for an empty
//! one).

use super::service::{Answer, Service};

/// The echo service.
#[derive(Clone, Copy, Debug, Default)]
pub struct UdpEcho;

impl Service for UdpEcho {
    fn greeting(&mut self, _wrong: bool) -> Option<Answer> {
        None
    }
    fn answer(&mut self, input: &[u8], wrong: bool) -> Option<Answer> {
        let bytes = if !wrong {
            input.to_vec()
        } else if input.is_empty() {
            vec![0xFF]
        } else {
            input.iter().map(|b| !b).collect()
        };
        Some(Answer {
            bytes,
            close: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_and_garbage() {
        assert_eq!(UdpEcho.answer(b"ab", false).unwrap().bytes, b"ab");
        assert_eq!(UdpEcho.answer(&[0x0F], true).unwrap().bytes, vec![0xF0]);
        assert_eq!(UdpEcho.answer(b"", true).unwrap().bytes, vec![0xFF]);
    }
}
