//! A TCP connection, plain or with TLS on top: the non-blocking connect (completion read
//! from `SO_ERROR` on readiness), the TLS handshake continued on each readiness, writes
//! buffered and flushed as the socket allows, reads bounded per call.

use super::sock::{map_error, SockError};
use super::tls;
use super::{After, Ctx, MAX_READS_PER_SERVICE};
use crate::event::{ConnError, ConnEvent};
use mio::net::TcpStream;
use native_tls::{HandshakeError, MidHandshakeTlsStream, TlsStream};
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;

/// Most bytes a stream holds for the peer before `Send` fails the connection (requests
/// and SMTP commands are small: this only stops an engine bug from eating memory).
pub(super) const MAX_PENDING_WRITE: usize = 1 << 20;

enum Phase {
    /// The connect is in progress; `tls` says whether a handshake follows.
    Connecting(TcpStream),
    Handshake(MidHandshakeTlsStream<TcpStream>),
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    /// Between two phases (only while one is being replaced).
    Gone,
}

pub(super) struct Stream {
    phase: Phase,
    /// `Some` for TLS: the SNI to send (the inner `None`: none).
    tls: Option<Option<String>>,
    /// The destination as text (the TLS "domain" when no SNI is sent).
    peer: String,
    out: Vec<u8>,
    out_pos: usize,
}

impl Stream {
    /// A stream whose connect was started on `fd`.
    pub fn new(fd: OwnedFd, tls: Option<Option<String>>, peer: String) -> Stream {
        let std = std::net::TcpStream::from(fd);
        Stream {
            phase: Phase::Connecting(TcpStream::from_std(std)),
            tls,
            peer,
            out: Vec::new(),
            out_pos: 0,
        }
    }

    /// Queues bytes for the peer (sent by the next [`Stream::service`]).
    pub fn queue(&mut self, data: &[u8]) -> Result<(), ConnError> {
        if self.out.len() - self.out_pos + data.len() > MAX_PENDING_WRITE {
            return Err(ConnError::Other(format!(
                "more than {MAX_PENDING_WRITE} bytes waiting to be sent"
            )));
        }
        if self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
        }
        self.out.extend_from_slice(data);
        Ok(())
    }

    /// Makes what progress the socket allows: connect, handshake, writes, reads.
    pub fn service(&mut self, ctx: &mut Ctx, out: &mut Vec<ConnEvent>) -> After {
        match std::mem::replace(&mut self.phase, Phase::Gone) {
            Phase::Connecting(s) => match connect_result(&s) {
                Ok(false) => {
                    self.phase = Phase::Connecting(s);
                    return After::Keep;
                }
                Err(e) => {
                    out.push(ConnEvent::Failed(e));
                    return After::Done;
                }
                Ok(true) => match &self.tls {
                    None => {
                        self.phase = Phase::Plain(s);
                        out.push(ConnEvent::Connected);
                    }
                    Some(sni) => {
                        let domain = sni.clone().unwrap_or_else(|| self.peer.clone());
                        let r = ctx.tls.get(sni.is_some()).map(|c| c.connect(&domain, s));
                        if let Some(a) = self.handshake(r, out) {
                            return a;
                        }
                    }
                },
            },
            Phase::Handshake(mid) => {
                if let Some(a) = self.handshake(Ok(mid.handshake()), out) {
                    return a;
                }
            }
            other => self.phase = other,
        }
        if let Err(e) = self.flush() {
            out.push(ConnEvent::Failed(e));
            return After::Done;
        }
        self.read(ctx, out)
    }

    /// Applies a handshake step; `Some` when the caller must return that.
    fn handshake(
        &mut self,
        r: Result<Result<TlsStream<TcpStream>, HandshakeError<TcpStream>>, ConnError>,
        out: &mut Vec<ConnEvent>,
    ) -> Option<After> {
        match r {
            Err(e) => {
                out.push(ConnEvent::Failed(e));
                Some(After::Done)
            }
            Ok(Ok(t)) => {
                self.phase = Phase::Tls(Box::new(t));
                out.push(ConnEvent::Connected);
                None
            }
            Ok(Err(HandshakeError::WouldBlock(mid))) => {
                self.phase = Phase::Handshake(mid);
                Some(After::Keep)
            }
            Ok(Err(HandshakeError::Failure(e))) => {
                out.push(ConnEvent::Failed(ConnError::Tls(e.to_string())));
                Some(After::Done)
            }
        }
    }

    /// Writes what is queued until done or the socket is full.
    fn flush(&mut self) -> Result<(), ConnError> {
        let is_tls = self.tls.is_some();
        while self.out_pos < self.out.len() {
            let buf = &self.out[self.out_pos..];
            let r = match &mut self.phase {
                Phase::Plain(s) => s.write(buf),
                Phase::Tls(t) => t.write(buf),
                _ => return Ok(()), // not connected yet: sent once it is
            };
            match r {
                Ok(0) => return Err(ConnError::Reset),
                Ok(n) => self.out_pos += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_error(is_tls, "send", &e)),
            }
        }
        self.out.clear();
        self.out_pos = 0;
        Ok(())
    }

    /// Reads at most [`MAX_READS_PER_SERVICE`] chunks (and what the turn's budget allows).
    fn read(&mut self, ctx: &mut Ctx, out: &mut Vec<ConnEvent>) -> After {
        let is_tls = self.tls.is_some();
        let r: &mut dyn Read = match &mut self.phase {
            Phase::Plain(s) => s,
            Phase::Tls(t) => t.as_mut(),
            _ => return After::Keep,
        };
        for _ in 0..MAX_READS_PER_SERVICE {
            if ctx.budget == 0 {
                return After::More;
            }
            let want = ctx.buf.len().min(ctx.budget);
            match r.read(&mut ctx.buf[..want]) {
                Ok(0) => {
                    out.push(ConnEvent::Closed);
                    return After::Done;
                }
                Ok(n) => {
                    ctx.budget = ctx.budget.saturating_sub(n);
                    out.push(ConnEvent::Data(ctx.buf[..n].to_vec()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return After::Keep,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if is_tls && tls::is_unexpected_eof(&e) => {
                    out.push(ConnEvent::Closed);
                    return After::Done;
                }
                Err(e) => {
                    out.push(ConnEvent::Failed(io_error(is_tls, "receive", &e)));
                    return After::Done;
                }
            }
        }
        After::More
    }
}

/// A stream error: the kernel's when it has one, otherwise (TLS record layer) a TLS error.
fn io_error(is_tls: bool, what: &str, e: &io::Error) -> ConnError {
    if is_tls && e.raw_os_error().is_none() {
        ConnError::Tls(e.to_string())
    } else {
        map_error(what, e)
    }
}

/// Whether the connect finished (`Ok(true)`), is still in progress (`Ok(false)`) or
/// failed.
fn connect_result(s: &TcpStream) -> Result<bool, ConnError> {
    match s.take_error() {
        Ok(Some(e)) => return Err(map_error("connect", &e)),
        Ok(None) => {}
        Err(e) => return Err(map_error("connect", &e)),
    }
    match s.peer_addr() {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
        Err(e) => Err(SockError {
            step: "connect",
            err: e,
        }
        .to_conn_error()),
    }
}
