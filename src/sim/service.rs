//! The contract of a simulated real server's protocol: what a simulated HTTP, SMTP, DNS,
//! UDP or ICMP service answers to what a checker sends. The simulator's server model
//! (addresses, ports, and the modes a scenario switches between: up, down, hang, slow,
//! reset, wrong) calls it for the `up` and `wrong` modes; the other modes are the
//! simulator's own (down: refused or unreachable; hang: never answers; slow: answers late;
//! reset: the connection is reset when the client speaks).

/// What the server sends back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub bytes: Vec<u8>,
    /// Close the connection after sending (TCP FIN).
    pub close: bool,
}

/// One connection (or one datagram exchange) to a simulated service: the simulator makes
/// a new instance for each, so an instance keeps what it needs of the conversation (the
/// bytes of a request not complete yet, which SMTP command comes next).
pub trait Service {
    /// Sent as soon as a client connects (an SMTP banner); `None` for most protocols.
    /// `wrong`: the scenario set the server to answer wrongly.
    fn greeting(&mut self, wrong: bool) -> Option<Answer>;
    /// The answer to `input`, the bytes that just arrived (a piece of the stream, or one
    /// datagram for UDP and ICMP); `None`: nothing to send yet.
    fn answer(&mut self, input: &[u8], wrong: bool) -> Option<Answer>;
}
