//! The AgentX connection to the host's master agent (snmpd), in the daemon's one loop:
//! a non-blocking unix or TCP stream registered with the reactor's `mio::Poll`. It
//! connects at start, opens a session and registers the MIBs (`crate::snmp::session`),
//! answers the master's requests from a view the reactor builds from the engine's
//! snapshot, sends notifications, and closes the session on shutdown.
//!
//! snmpd absent, refusing, silent or restarting costs nothing but a timer: the connection
//! is retried with a backoff doubling from [`RETRY_FIRST`] to [`RETRY_MAX`]; the first
//! failure is logged, the repeats only at debug level until a session opens again. A
//! master that does not answer the Open within [`OPEN_TIMEOUT`], does not answer a Ping
//! (sent every [`PING_EVERY`]: a TCP peer that vanished says nothing) before the next
//! one, breaks the protocol, or leaves more than [`MAX_UNSENT`] bytes unread is dropped
//! and retried the same way.

use super::token::Registry as Tokens;
use super::world::Source;
use crate::sched::Instant;
use crate::snmp::oid::Oid;
use crate::snmp::rows::UpTimeBase;
use crate::snmp::session::{self, Happened, Session, Settings};
use crate::snmp::settings::{Endpoint, SnmpSettings};
use crate::snmp::view::View;
use crate::snmp::wire::VarBind;
use mio::{Interest, Token};
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

/// The first retry after a failure.
pub const RETRY_FIRST: Duration = Duration::from_secs(1);
/// The longest wait between two attempts.
pub const RETRY_MAX: Duration = Duration::from_secs(60);
/// From the connection to the Open's Response.
pub const OPEN_TIMEOUT: Duration = Duration::from_secs(5);
/// How often an open session is checked with a Ping.
pub const PING_EVERY: Duration = Duration::from_secs(30);
/// Answers the master leaves unread before the connection is dropped.
pub const MAX_UNSENT: usize = 1 << 20;
/// How long a view of the MIBs answers requests while no instance changes state: a walk
/// is one request per object, and building the view takes a snapshot of the engine.
pub const VIEW_TTL: Duration = Duration::from_secs(1);
/// `o.timeout`: how long the master waits for one of our answers (we answer at once).
const ANSWER_TIMEOUT_S: u8 = 5;

enum Stream {
    Unix(mio::net::UnixStream),
    Tcp(mio::net::TcpStream),
}

impl Stream {
    fn source(&mut self) -> &mut dyn mio::event::Source {
        match self {
            Stream::Unix(s) => s,
            Stream::Tcp(s) => s,
        }
    }

    fn connected(&self) -> io::Result<()> {
        let err = match self {
            Stream::Unix(s) => s.take_error()?,
            Stream::Tcp(s) => s.take_error()?,
        };
        if let Some(e) = err {
            return Err(e);
        }
        match self {
            Stream::Unix(s) => s.peer_addr().map(|_| ()),
            Stream::Tcp(s) => s.peer_addr().map(|_| ()),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.read(buf),
            Stream::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.write(buf),
            Stream::Tcp(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

enum Link {
    /// Not connected; `AgentX::deadline` is the next attempt.
    Idle,
    /// Connecting; `deadline` is the give-up time.
    Connecting { stream: Stream, token: Token },
    /// Connected: the session opens (until `deadline`), then serves.
    Up {
        stream: Stream,
        token: Token,
        session: Session,
        tx: Vec<u8>,
        writable: bool,
    },
}

/// Counters (debug log and tests).
#[derive(Clone, Debug, Default)]
pub struct AgentXStats {
    pub attempts: u64,
    pub sessions: u64,
    /// Reads that were answered.
    pub requests: u64,
    pub notifications: u64,
}

/// The subagent's connection.
pub struct AgentX {
    registry: mio::Registry,
    settings: SnmpSettings,
    link: Link,
    deadline: Option<Instant>,
    backoff: Duration,
    /// A failure was logged; the next ones go to debug until a session opens.
    quiet: bool,
    /// The master's sysUpTime at our Open (TimeStamp objects).
    base: Option<UpTimeBase>,
    /// The last view built: when, for which count of state changes.
    cache: Option<(Instant, u64, Rc<View>)>,
    pub stats: AgentXStats,
}

impl AgentX {
    /// Not connected yet: [`AgentX::on_timers`] connects at `now`.
    pub fn new(registry: mio::Registry, settings: SnmpSettings, now: Instant) -> AgentX {
        AgentX {
            registry,
            settings,
            link: Link::Idle,
            deadline: Some(now),
            backoff: RETRY_FIRST,
            quiet: false,
            base: None,
            cache: None,
            stats: AgentXStats::default(),
        }
    }

    pub fn settings(&self) -> &SnmpSettings {
        &self.settings
    }

    /// The session is open and registered.
    pub fn is_ready(&self) -> bool {
        matches!(&self.link, Link::Up { session, .. } if session.phase() == session::Phase::Ready)
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// A retry is due, the master took too long to connect or to open the session, or
    /// it is time to ping it.
    pub fn on_timers(&mut self, now: Instant, tokens: &mut Tokens<Source>) {
        if !self.deadline.is_some_and(|d| d <= now) {
            return;
        }
        self.deadline = None;
        match &mut self.link {
            Link::Idle => self.connect(now, tokens),
            Link::Up { session, tx, .. }
                if session.phase() == session::Phase::Ready && !session.ping_unanswered() =>
            {
                if let Some(b) = session.ping() {
                    tx.extend(b);
                }
                self.deadline = Some(now + PING_EVERY);
                self.flush(now, tokens);
            }
            _ => self.fail(now, tokens, "no answer from the master agent"),
        }
    }

    fn connect(&mut self, now: Instant, tokens: &mut Tokens<Source>) {
        self.stats.attempts += 1;
        let stream = match &self.settings.endpoint {
            Endpoint::Unix(p) => mio::net::UnixStream::connect(p).map(Stream::Unix),
            Endpoint::Tcp(a, port) => {
                mio::net::TcpStream::connect(SocketAddr::new(*a, *port)).map(Stream::Tcp)
            }
        };
        let mut stream = match stream {
            Ok(s) => s,
            Err(e) => return self.fail(now, tokens, &e.to_string()),
        };
        let token = tokens.insert(Source::AgentX);
        if let Err(e) = self.registry.register(
            stream.source(),
            token,
            Interest::READABLE | Interest::WRITABLE,
        ) {
            tokens.remove(token);
            return self.fail(now, tokens, &format!("epoll: {e}"));
        }
        self.link = Link::Connecting { stream, token };
        self.deadline = Some(now + OPEN_TIMEOUT);
    }

    /// Drops the connection and schedules the next attempt.
    fn fail(&mut self, now: Instant, tokens: &mut Tokens<Source>, why: &str) {
        self.drop_link(tokens);
        let ep = &self.settings.endpoint;
        if self.quiet {
            log::debug!("SNMP: AgentX master agent at {ep}: {why}");
        } else {
            log::warn!(
                "SNMP: AgentX master agent at {ep}: {why}; retrying (every {} s at most; \
                 repeats logged at debug level)",
                RETRY_MAX.as_secs()
            );
            self.quiet = true;
        }
        self.deadline = Some(now + self.backoff);
        self.backoff = (self.backoff * 2).min(RETRY_MAX);
    }

    fn drop_link(&mut self, tokens: &mut Tokens<Source>) {
        match std::mem::replace(&mut self.link, Link::Idle) {
            Link::Idle => {}
            Link::Connecting {
                mut stream, token, ..
            }
            | Link::Up {
                mut stream, token, ..
            } => {
                let _ = self.registry.deregister(stream.source());
                tokens.remove(token);
            }
        }
        self.base = None;
        self.cache = None;
    }

    /// The stream is ready: finish connecting, read the master's PDUs and answer them,
    /// send what is pending. `view` builds the objects when the last view is older than
    /// [`VIEW_TTL`] or `state_changes` (the count of state changes the world performed)
    /// moved since: states are always current, counters at most that old.
    pub fn on_ready(
        &mut self,
        now: Instant,
        tokens: &mut Tokens<Source>,
        state_changes: u64,
        view: &mut dyn FnMut(Option<UpTimeBase>) -> View,
    ) {
        if let Link::Connecting { stream, .. } = &self.link {
            match stream.connected() {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return, // not yet
                Err(e) => return self.fail(now, tokens, &e.to_string()),
            }
            let Link::Connecting { stream, token } = std::mem::replace(&mut self.link, Link::Idle)
            else {
                return;
            };
            let (session, open) = Session::open(Settings {
                subtrees: self.settings.subtrees(),
                descr: format!("keepalived-rs {}", env!("CARGO_PKG_VERSION")),
                timeout: ANSWER_TIMEOUT_S,
            });
            self.link = Link::Up {
                stream,
                token,
                session,
                tx: open,
                writable: true,
            };
        }
        let base = self.base;
        let Link::Up {
            stream,
            session,
            tx,
            ..
        } = &mut self.link
        else {
            return;
        };
        // Each chunk read is handled at once (answers queued), until the socket has no
        // more (edge-triggered: a read left short would not be reported again).
        let cache = &mut self.cache;
        let mut get = || -> Rc<View> {
            if let Some((at, n, v)) = cache.as_ref() {
                if *n == state_changes && now.saturating_since(*at) < VIEW_TTL {
                    return v.clone();
                }
            }
            let v = Rc::new(view(base));
            *cache = Some((now, state_changes, v.clone()));
            v
        };
        let mut buf = [0u8; 8192];
        let mut eof = false;
        let mut failure = None;
        let mut happened = Vec::new();
        let mut answered = 0;
        loop {
            match stream.read(&mut buf) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => {
                    let before = tx.len();
                    match session.on_input(&buf[..n], &mut get, tx) {
                        Ok(h) => happened.extend(h),
                        Err(e) => {
                            failure = Some(e.to_string());
                            break;
                        }
                    }
                    if tx.len() > before {
                        answered += 1;
                    }
                    if tx.len() > MAX_UNSENT {
                        failure = Some("the master agent does not read its answers".into());
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    failure = Some(format!("read: {e}"));
                    break;
                }
            }
        }
        self.stats.requests += answered;
        for h in happened {
            if let Some(f) = self.happened(now, h) {
                failure = Some(f);
            }
        }
        if let Some(f) = failure {
            return self.fail(now, tokens, &f);
        }
        if eof {
            return self.fail(now, tokens, "the master agent closed the connection");
        }
        self.flush(now, tokens);
    }

    /// Logs what the session reports; a reason to drop the connection is returned.
    fn happened(&mut self, now: Instant, h: Happened) -> Option<String> {
        let ep = &self.settings.endpoint;
        match h {
            Happened::Opened {
                session_id,
                sys_uptime,
            } => {
                log::info!("SNMP: AgentX session {session_id} open with the master agent at {ep}");
                self.base = Some(UpTimeBase {
                    at: now,
                    ticks: sys_uptime,
                });
                // Registered by then, and pinged from then on.
                self.deadline = Some(now + PING_EVERY);
                self.backoff = RETRY_FIRST;
                self.quiet = false;
                self.stats.sessions += 1;
                None
            }
            Happened::Registered(oid) => {
                log::info!("SNMP: serving {}", mib_name(&oid));
                None
            }
            Happened::RegisterRefused(oid, err) => {
                log::warn!(
                    "SNMP: the master agent refused {} (error {err}); not served",
                    mib_name(&oid)
                );
                None
            }
            Happened::ClosedByMaster(reason) => Some(format!(
                "the master agent closed the session (reason {reason})"
            )),
        }
    }

    /// Writes what is pending; waits for the stream to be writable when it cannot.
    fn flush(&mut self, now: Instant, tokens: &mut Tokens<Source>) {
        let Link::Up {
            stream,
            token,
            tx,
            writable,
            ..
        } = &mut self.link
        else {
            return;
        };
        while !tx.is_empty() {
            match stream.write(tx) {
                Ok(0) => break,
                Ok(n) => {
                    tx.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return self.fail(now, tokens, &format!("write: {e}")),
            }
        }
        if tx.len() > MAX_UNSENT {
            return self.fail(now, tokens, "the master agent does not read its answers");
        }
        let want = !tx.is_empty();
        if want != *writable {
            let interest = if want {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            let token = *token;
            if let Err(e) = self.registry.reregister(stream.source(), token, interest) {
                return self.fail(now, tokens, &format!("epoll: {e}"));
            }
            if let Link::Up { writable, .. } = &mut self.link {
                *writable = want;
            }
        }
    }

    /// Sends a notification (dropped while no session is open: a trap is not queued).
    pub fn notify(
        &mut self,
        now: Instant,
        tokens: &mut Tokens<Source>,
        trap: &Oid,
        varbinds: Vec<VarBind>,
    ) {
        if let Link::Up { session, tx, .. } = &mut self.link {
            if let Some(b) = session.notify(trap, varbinds) {
                tx.extend(b);
                self.stats.notifications += 1;
            }
        }
        self.flush(now, tokens);
    }

    /// Closes the session (a Close PDU, written if the socket takes it at once) and the
    /// connection; nothing is retried.
    pub fn close(&mut self, tokens: &mut Tokens<Source>) {
        if let Link::Up {
            stream,
            session,
            tx,
            ..
        } = &mut self.link
        {
            if let Some(b) = session.close(session::SHUTDOWN) {
                tx.extend(b);
                let _ = stream.write(tx);
            }
        }
        self.drop_link(tokens);
        self.deadline = None;
    }
}

/// The MIB a registered subtree is, for the log.
fn mib_name(oid: &Oid) -> String {
    match oid.subids() {
        [1, 3, 6, 1, 2, 1, 68] => "VRRP-MIB (RFC 2787)".into(),
        [1, 3, 6, 1, 2, 1, 207] => "VRRPv3-MIB (RFC 6527)".into(),
        _ => oid.to_string(),
    }
}
