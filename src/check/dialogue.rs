//! The contract between the checker runtime and a checker's protocol.
//!
//! One *check* of a real server is one or more *dialogues*, run one after the other, each
//! on a connection of its own (HTTP_GET runs one per `url`; the others run one). The
//! runtime opens the connection (`Action::Connect` with the dialogue's [`Transport`]),
//! enforces `connect_timeout` with its own timer, feeds what the world reports to the
//! dialogue, performs the [`Step`]s it answers with, and closes the connection once the
//! dialogue is decided. The check passes when every dialogue ends [`Verdict::Up`].
//!
//! A dialogue is pure: no I/O, no clock, and it never trusts the peer — input of any size
//! and shape gets an answer (at worst `Down` with the reason), never a panic, and the
//! memory it keeps is bounded.

use crate::event::{ConnError, Transport};

/// What a dialogue wants next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Wait for more input (or the timeout).
    Wait,
    /// Send these bytes (a stream write, a datagram, an echo payload), then wait.
    Send(Vec<u8>),
    /// The dialogue is decided; the runtime closes the connection.
    Done(Verdict),
}

/// The outcome of a dialogue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Up,
    /// Down, with the reason as keepalived would log it (e.g. "HTTP status code 500").
    Down(String),
}

/// One exchange with a real server over one connection.
pub trait Dialogue {
    /// How the connection is carried (TCP, TLS, UDP, ICMP echo).
    fn transport(&self) -> Transport;
    /// The connection is up (TCP/TLS connected; UDP/ICMP socket ready).
    fn connected(&mut self) -> Step;
    /// Bytes arrived: a piece of the stream, one datagram, or one echo reply payload.
    fn data(&mut self, bytes: &[u8]) -> Step;
    /// The peer closed its side (TCP EOF); for protocols whose answer ends at the close
    /// (HTTP/1.0) this is where the answer is judged.
    fn closed(&mut self) -> Verdict;
    /// `connect_timeout` expired before a decision (UDP_CHECK without `require_reply`
    /// counts silence as success).
    fn timed_out(&mut self) -> Verdict {
        Verdict::Down("timeout".into())
    }
    /// The connection failed.
    fn failed(&mut self, err: &ConnError) -> Verdict {
        Verdict::Down(err.to_string())
    }
}
