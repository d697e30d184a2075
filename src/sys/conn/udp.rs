//! A connected UDP socket (UDP_CHECK, DNS_CHECK): one datagram per `Send`, one `Data` per
//! datagram received. The kernel filters what the connected peer did not send; an ICMP
//! port unreachable shows as `ECONNREFUSED` on the next call, reported as `Unreachable`.

use super::sock::map_error;
use super::{After, Ctx, MAX_READS_PER_SERVICE};
use crate::event::{ConnError, ConnEvent};
use mio::net::UdpSocket;
use std::collections::VecDeque;
use std::io;
use std::os::fd::OwnedFd;

/// Datagrams held while the socket's send buffer is full.
const MAX_QUEUED: usize = 64;

pub(super) struct Udp {
    sock: UdpSocket,
    out: VecDeque<Vec<u8>>,
}

/// UDP errors: a refused port is the way a closed UDP port shows.
fn udp_error(what: &str, e: &io::Error) -> ConnError {
    match map_error(what, e) {
        ConnError::Refused => ConnError::Unreachable,
        other => other,
    }
}

impl Udp {
    /// A socket already connected to its peer.
    pub fn new(fd: OwnedFd) -> Udp {
        Udp {
            sock: UdpSocket::from_std(std::net::UdpSocket::from(fd)),
            out: VecDeque::new(),
        }
    }

    /// Sends one datagram now, or queues it when the socket is full.
    pub fn send(&mut self, data: Vec<u8>) -> Result<(), ConnError> {
        if !self.out.is_empty() {
            if self.out.len() >= MAX_QUEUED {
                return Err(ConnError::Other(format!(
                    "more than {MAX_QUEUED} datagrams waiting to be sent"
                )));
            }
            self.out.push_back(data);
            return Ok(());
        }
        match self.sock.send(&data) {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.out.push_back(data);
                Ok(())
            }
            Err(e) => Err(udp_error("send", &e)),
        }
    }

    /// Sends what is queued, then reads datagrams (bounded).
    pub fn service(&mut self, ctx: &mut Ctx, out: &mut Vec<ConnEvent>) -> After {
        while let Some(d) = self.out.front() {
            match self.sock.send(d) {
                Ok(_) => {
                    self.out.pop_front();
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    out.push(ConnEvent::Failed(udp_error("send", &e)));
                    return After::Done;
                }
            }
        }
        for _ in 0..MAX_READS_PER_SERVICE {
            if ctx.budget == 0 {
                return After::More;
            }
            match self.sock.recv(ctx.buf) {
                Ok(n) => {
                    ctx.budget = ctx.budget.saturating_sub(n.max(1));
                    out.push(ConnEvent::Data(ctx.buf[..n].to_vec()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return After::Keep,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    out.push(ConnEvent::Failed(udp_error("receive", &e)));
                    return After::Done;
                }
            }
        }
        After::More
    }
}
