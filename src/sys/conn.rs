//! The connections of health checkers and the SMTP alerter (`Action::Connect` / `Send` /
//! `Close`, answered with `Event::Conn`): a table keyed by [`ConnId`], each socket
//! registered in the reactor's poll under a generation-checked token
//! ([`Source::Conn`], [`Source::ConnIcmp`]).
//!
//! - `sock`: opening a socket as a `ConnectSpec` asks (bind address / port, `bind_if`,
//!   `fwmark`, link-local scope), errors mapped to `ConnError`;
//! - `stream`: TCP, and TLS on top (`tls`: the shared connectors, no verification);
//! - `udp`: connected UDP sockets, one datagram per `Send` / `Data`;
//! - `icmp`: ICMP / ICMPv6 echo on raw sockets shared per option set (or unprivileged
//!   ping sockets), replies matched by identifier and sequence.
//!
//! Nothing here waits. Reads are bounded: at most 64 KiB per `Data`, a few reads per
//! source per wake-up and [`TURN_BUDGET`] bytes per loop turn; work is bounded too: at
//! most [`OPENS_PER_TURN`] connects and [`SERVICES_PER_TURN`] sources served per turn. A
//! source or connect stopped by the bounds is served first at the next turn (the reactor
//! does not sleep while one waits), so neither a flood on a checked connection nor
//! thousands of checks due at once can hold the VRRP timers for long. Writes are queued and flushed
//! as the socket allows. Timeouts are the engine's. After `Closed`, `Failed` or the
//! engine's `Close` nothing more is reported for a connection: `Close` also withdraws any
//! event for it not yet handed to the engine.

mod icmp;
mod sock;
mod stream;
mod tls;
mod udp;

use super::token::Registry;
use super::world::Source;
use crate::event::{ConnError, ConnEvent, ConnId, ConnectSpec, Event, Transport};
use mio::unix::SourceFd;
use mio::{Interest, Token};
use sock::Kind as SockKind;
use std::collections::{BTreeMap, VecDeque};
use std::os::fd::{AsRawFd, RawFd};

/// The largest `Data` (one read).
pub const READ_CHUNK: usize = 64 * 1024;
/// Reads one source may do per wake-up before others get their turn.
const MAX_READS_PER_SERVICE: usize = 4;
/// Bytes read from all connections in one loop turn, at most.
pub const TURN_BUDGET: usize = 1024 * 1024;
/// Connections opened per loop turn; more wait for the next turns (the engine's timeouts
/// run from its own clock, a few turns' delay is harmless).
pub const OPENS_PER_TURN: usize = 16;
/// Sources served per loop turn; more are served first at the next turns. With the opens,
/// this bounds the checker work between two looks at the VRRP timers.
pub const SERVICES_PER_TURN: usize = 32;
/// Open connections at most, whatever the file-descriptor limit allows.
const MAX_LIMIT: usize = 16384;
/// Descriptors kept for everything else (VRRP sockets, netlink, children, control).
const FD_RESERVE: u64 = 256;

/// What the reactor lends the table for one call: its poll registry, its tokens, and the
/// events for the engine.
pub struct Io<'a> {
    pub registry: &'a mio::Registry,
    pub tokens: &'a mut Registry<Source>,
    pub events: &'a mut Vec<Event>,
}

/// What a source's service left: wait for readiness, serve it again next turn (stopped
/// by a bound), or it is finished (its last event was emitted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum After {
    Keep,
    More,
    Done,
}

/// What a service call may use: the read buffer, what is left of the turn's budget, the
/// TLS connectors.
struct Ctx<'a> {
    pub buf: &'a mut [u8],
    pub budget: usize,
    pub tls: &'a mut tls::TlsConnectors,
}

enum Kind {
    Stream(stream::Stream),
    Udp(udp::Udp),
    Icmp(icmp::Echo),
}

struct Entry {
    /// Its own token and descriptor (an ICMP echo shares its socket's).
    own: Option<(Token, RawFd)>,
    kind: Kind,
}

/// A source that stopped on a bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ready {
    Conn(ConnId),
    Icmp(u32),
}

/// Counters for the stats dump.
#[derive(Clone, Debug, Default)]
pub struct ConnStats {
    pub opened: u64,
    pub failed: u64,
    pub over_limit: u64,
}

/// The open connections.
pub struct Conns {
    table: BTreeMap<ConnId, Entry>,
    icmp: icmp::Sockets,
    pending: VecDeque<Ready>,
    /// Connects waiting for a turn with room (and what was sent on them meanwhile).
    queued: VecDeque<(ConnId, ConnectSpec, Vec<Vec<u8>>)>,
    budget: usize,
    opens_left: usize,
    services_left: usize,
    limit: usize,
    tls: tls::TlsConnectors,
    buf: Vec<u8>,
    pub stats: ConnStats,
}

impl Default for Conns {
    fn default() -> Self {
        Self::new()
    }
}

/// Raises the soft limit of open files to the hard one (at most 65536) and returns what
/// the connections may use of it.
fn fd_limit() -> usize {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit / setrlimit on a struct we own.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) != 0 {
            return 1024 - FD_RESERVE as usize;
        }
        let want = rl.rlim_max.min(65536);
        if want > rl.rlim_cur {
            let raised = libc::rlimit {
                rlim_cur: want,
                rlim_max: rl.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                rl.rlim_cur = want;
            }
        }
    }
    (rl.rlim_cur.saturating_sub(FD_RESERVE) as usize).clamp(16, MAX_LIMIT)
}

impl Conns {
    pub fn new() -> Conns {
        Conns {
            table: BTreeMap::new(),
            icmp: icmp::Sockets::default(),
            pending: VecDeque::new(),
            queued: VecDeque::new(),
            budget: TURN_BUDGET,
            opens_left: OPENS_PER_TURN,
            services_left: SERVICES_PER_TURN,
            limit: fd_limit(),
            tls: tls::TlsConnectors::default(),
            buf: vec![0; READ_CHUNK],
            stats: ConnStats::default(),
        }
    }

    /// How many connections may be open at once.
    pub fn limit(&self) -> usize {
        self.limit
    }

    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
    }

    /// Open connections (those waiting to be opened included).
    pub fn len(&self) -> usize {
        self.table.len() + self.queued.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a source stopped on a bound waits to be served, or a connect to be made
    /// (the loop must not sleep).
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty() || !self.queued.is_empty()
    }

    fn emit(io: &mut Io, conn: ConnId, events: Vec<ConnEvent>) {
        io.events
            .extend(events.into_iter().map(|event| Event::Conn { conn, event }));
    }

    fn fail(&mut self, io: &mut Io, conn: ConnId, e: ConnError) {
        self.stats.failed += 1;
        log::debug!("{conn}: {e}");
        io.events.push(Event::Conn {
            conn,
            event: ConnEvent::Failed(e),
        });
    }

    /// `Action::Connect`.
    pub fn connect(&mut self, io: &mut Io, conn: ConnId, spec: &ConnectSpec) {
        if self.table.contains_key(&conn) || self.queued.iter().any(|q| q.0 == conn) {
            log::error!("{conn}: opened twice; the second connect is ignored");
            return;
        }
        if self.len() >= self.limit {
            self.stats.over_limit += 1;
            let e = ConnError::Other(format!(
                "too many open connections (limit {}): not opened",
                self.limit
            ));
            log::warn!("{conn} to {}: {e}", spec.dst);
            self.fail(io, conn, e);
            return;
        }
        if self.opens_left == 0 {
            self.queued.push_back((conn, spec.clone(), Vec::new()));
            return;
        }
        self.opens_left -= 1;
        match self.open(io, conn, spec) {
            Ok((entry, connected)) => {
                self.stats.opened += 1;
                self.table.insert(conn, entry);
                if connected {
                    Self::emit(io, conn, vec![ConnEvent::Connected]);
                }
            }
            Err(e) => self.fail(io, conn, e),
        }
    }

    /// Opens the socket of `spec`; returns its entry and whether it is usable at once.
    fn open(
        &mut self,
        io: &mut Io,
        conn: ConnId,
        spec: &ConnectSpec,
    ) -> Result<(Entry, bool), ConnError> {
        let scope = sock::scope_of(spec)?;
        let (fd, kind, connected) = match &spec.transport {
            Transport::Icmp => {
                let echo = self.icmp.open(io, conn, spec, scope)?;
                return Ok((
                    Entry {
                        own: None,
                        kind: Kind::Icmp(echo),
                    },
                    true,
                ));
            }
            Transport::Tcp | Transport::Tls { .. } => {
                let fd = sock::open(SockKind::Tcp, spec, scope).map_err(|e| e.to_conn_error())?;
                sock::connect(&fd, spec, scope).map_err(|e| e.to_conn_error())?;
                let tls = match &spec.transport {
                    Transport::Tls { sni } => Some(sni.clone()),
                    _ => None,
                };
                let raw = fd.as_raw_fd();
                let s = stream::Stream::new(fd, tls, spec.dst.to_string());
                (raw, Kind::Stream(s), false)
            }
            Transport::Udp => {
                let fd = sock::open(SockKind::Udp, spec, scope).map_err(|e| e.to_conn_error())?;
                sock::connect(&fd, spec, scope).map_err(|e| e.to_conn_error())?;
                let raw = fd.as_raw_fd();
                (raw, Kind::Udp(udp::Udp::new(fd)), true)
            }
        };
        let token = io.tokens.insert(Source::Conn(conn));
        if let Err(e) = io.registry.register(
            &mut SourceFd(&fd),
            token,
            Interest::READABLE | Interest::WRITABLE,
        ) {
            io.tokens.remove(token);
            return Err(ConnError::Other(format!("epoll: {e}")));
        }
        Ok((
            Entry {
                own: Some((token, fd)),
                kind,
            },
            connected,
        ))
    }

    /// `Action::Send`.
    pub fn send(&mut self, io: &mut Io, conn: ConnId, data: Vec<u8>) {
        if let Some(q) = self.queued.iter_mut().find(|q| q.0 == conn) {
            q.2.push(data);
            return;
        }
        let Some(entry) = self.table.get_mut(&conn) else {
            log::debug!("{conn}: send on a connection that is not open (ignored)");
            return;
        };
        let r = match &mut entry.kind {
            Kind::Stream(s) => s.queue(&data),
            Kind::Udp(u) => u.send(data),
            Kind::Icmp(e) => self.icmp.send(e, &data),
        };
        match r {
            Ok(()) => {
                if matches!(entry.kind, Kind::Stream(_)) {
                    self.serve(io, Ready::Conn(conn));
                }
            }
            Err(e) => {
                self.drop_entry(io, conn);
                self.fail(io, conn, e);
            }
        }
    }

    /// `Action::Close`: everything of the connection goes, and no event follows.
    pub fn close(&mut self, io: &mut Io, conn: ConnId) {
        self.queued.retain(|q| q.0 != conn);
        self.drop_entry(io, conn);
        io.events
            .retain(|e| !matches!(e, Event::Conn { conn: c, .. } if *c == conn));
    }

    /// Closes every connection (shutdown); nothing is reported.
    pub fn close_all(&mut self, io: &mut Io) {
        self.queued.clear();
        let ids: Vec<ConnId> = self.table.keys().copied().collect();
        for id in ids {
            self.close(io, id);
        }
    }

    fn drop_entry(&mut self, io: &mut Io, conn: ConnId) {
        let Some(entry) = self.table.remove(&conn) else {
            return;
        };
        if let Some((token, fd)) = entry.own {
            let _ = io.registry.deregister(&mut SourceFd(&fd));
            io.tokens.remove(token);
        }
        if let Kind::Icmp(e) = &entry.kind {
            self.icmp.release(io, e);
        }
        self.pending.retain(|r| *r != Ready::Conn(conn));
        // The entry (and its socket) is dropped here.
    }

    /// A loop turn starts: the read budget is renewed and the sources stopped by a bound
    /// at the last turn are served first.
    pub fn begin_turn(&mut self, io: &mut Io) {
        self.budget = TURN_BUDGET;
        self.opens_left = OPENS_PER_TURN;
        self.services_left = SERVICES_PER_TURN;
        for r in std::mem::take(&mut self.pending) {
            self.serve(io, r);
        }
        while self.opens_left > 0 {
            let Some((conn, spec, sends)) = self.queued.pop_front() else {
                break;
            };
            self.connect(io, conn, &spec);
            for data in sends {
                self.send(io, conn, data);
            }
        }
    }

    /// Readiness of a connection's own socket.
    pub fn on_ready(&mut self, io: &mut Io, conn: ConnId) {
        self.serve(io, Ready::Conn(conn));
    }

    /// Readiness of a shared ICMP socket.
    pub fn on_icmp_ready(&mut self, io: &mut Io, key: u32) {
        self.serve(io, Ready::Icmp(key));
    }

    fn serve(&mut self, io: &mut Io, r: Ready) {
        if self.services_left == 0 {
            if !self.pending.contains(&r) {
                self.pending.push_back(r);
            }
            return;
        }
        self.services_left -= 1;
        let mut ctx = Ctx {
            buf: &mut self.buf,
            budget: self.budget,
            tls: &mut self.tls,
        };
        let after = match r {
            Ready::Conn(conn) => {
                let Some(entry) = self.table.get_mut(&conn) else {
                    return;
                };
                let mut out = Vec::new();
                let after = match &mut entry.kind {
                    Kind::Stream(s) => s.service(&mut ctx, &mut out),
                    Kind::Udp(u) => u.service(&mut ctx, &mut out),
                    Kind::Icmp(_) => After::Keep,
                };
                self.budget = ctx.budget;
                if out.iter().any(|e| matches!(e, ConnEvent::Failed(_))) {
                    self.stats.failed += 1;
                }
                Self::emit(io, conn, out);
                if after == After::Done {
                    self.drop_entry(io, conn);
                }
                after
            }
            Ready::Icmp(key) => {
                let mut heard = Vec::new();
                let after = self.icmp.service(key, &mut ctx, &mut heard);
                self.budget = ctx.budget;
                for h in heard {
                    let Some(Entry {
                        kind: Kind::Icmp(echo),
                        ..
                    }) = self.table.get_mut(&h.conn)
                    else {
                        continue;
                    };
                    if let Some(ev) = echo.accept(&h) {
                        let done = matches!(ev, ConnEvent::Failed(_));
                        Self::emit(io, h.conn, vec![ev]);
                        if done {
                            self.stats.failed += 1;
                            self.drop_entry(io, h.conn);
                        }
                    }
                }
                after
            }
        };
        if after == After::More && !self.pending.contains(&r) {
            self.pending.push_back(r);
        }
    }
}
