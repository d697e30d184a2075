//! TCP_CHECK as a dialogue: the connection succeeding is the check (keepalived 2.2.7
//! closes it at once, sending nothing).

use crate::check::dialogue::{Dialogue, Step, Verdict};
use crate::event::{ConnError, Transport};

/// One TCP_CHECK connection attempt.
#[derive(Clone, Debug, Default)]
pub struct TcpDialogue;

impl Dialogue for TcpDialogue {
    fn transport(&self) -> Transport {
        Transport::Tcp
    }
    fn connected(&mut self) -> Step {
        Step::Done(Verdict::Up)
    }
    fn data(&mut self, _bytes: &[u8]) -> Step {
        Step::Done(Verdict::Up)
    }
    fn closed(&mut self) -> Verdict {
        Verdict::Up
    }
    fn failed(&mut self, err: &ConnError) -> Verdict {
        Verdict::Down(err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connected_is_up_and_refused_is_down() {
        let mut d = TcpDialogue;
        assert_eq!(d.transport(), Transport::Tcp);
        assert_eq!(d.connected(), Step::Done(Verdict::Up));
        assert_eq!(
            d.failed(&ConnError::Refused),
            Verdict::Down("connection refused".into())
        );
        assert!(matches!(d.timed_out(), Verdict::Down(_)));
    }
}
