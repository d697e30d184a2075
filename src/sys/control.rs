//! The control socket and the metrics endpoint (extensions of keepalived-rs), served in the
//! daemon's one loop without ever blocking it.
//!
//! - The control socket: a unix stream socket beside the pid file
//!   (`/run/keepalived.pid` → `/run/keepalived.ctl`), mode 0600, only for root (or the
//!   daemon's own user: the peer's credentials are checked). It is created safely: a stale
//!   socket left by a killed daemon is removed only if it is a socket and nothing answers
//!   on it; anything else at that path (a file, a symlink) is left alone and the socket is
//!   not opened. It is removed at exit if it is still ours. Requests and answers are
//!   `crate::status::control`'s.
//! - `metrics_listen ADDRESS:PORT`: plain HTTP/1.1, `GET /metrics` only (404 for another
//!   path, 405 for another method), parsed with httparse, one request per connection.
//!
//! Each client costs one bounded buffer and one deadline: a request must arrive within
//! [`READ_TIMEOUT`] and the answer be taken within [`ANSWER_TIMEOUT`], or the connection is
//! closed; at most [`MAX_CLIENTS`] connections per endpoint, more are refused at once. The
//! reactor answers the requests (it owns the engine): [`Control::on_ready`] returns them,
//! [`Control::reply`] sends the answer.

use super::token::Registry as Tokens;
use super::world::Source;
use crate::sched::Instant;
use crate::status::control::{self as proto, Request, MAX_REQUEST};
use crate::status::metrics::Format;
use mio::{Interest, Token};
use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Connections served at once, per endpoint.
pub const MAX_CLIENTS: usize = 16;
/// From the connection to a complete request.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// From the connection to the last byte of the answer taken.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest HTTP request head accepted.
pub const MAX_HTTP_REQUEST: usize = 8192;

/// The control socket beside pid file `pid_file`: its `.pid` suffix replaced by `.ctl`, or
/// `.ctl` appended.
pub fn socket_path_for(pid_file: &Path) -> PathBuf {
    match pid_file.extension() {
        Some(e) if e == "pid" => pid_file.with_extension("ctl"),
        _ => {
            let mut s = pid_file.as_os_str().to_os_string();
            s.push(".ctl");
            PathBuf::from(s)
        }
    }
}

/// What a token of ours names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// The control socket's listener.
    Socket,
    /// The metrics endpoint's listener.
    Http,
    /// A connection.
    Client(u64),
}

/// A request for the reactor to answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ask {
    pub client: u64,
    pub request: Request,
}

/// Counters, exported as metrics.
#[derive(Clone, Debug, Default)]
pub struct ControlStats {
    pub accepted: u64,
    /// Connections refused at once: over the cap, or (control socket) not root.
    pub refused: u64,
    /// Connections closed at their deadline.
    pub timeouts: u64,
    /// Requests answered (control socket and HTTP), errors included.
    pub requests: u64,
}

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

    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.read(buf),
            Stream::Tcp(s) => s.read(buf),
        }
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.write(buf),
            Stream::Tcp(s) => s.write(buf),
        }
    }
}

enum Phase {
    /// Reading the request.
    Reading,
    /// Waiting for the reactor's answer.
    Asked,
    /// Sending the answer.
    Writing,
}

struct Client {
    stream: Stream,
    token: Token,
    http: bool,
    input: Vec<u8>,
    output: Vec<u8>,
    sent: usize,
    accepted: Instant,
    phase: Phase,
    /// HTTP: the format asked for.
    format: Format,
}

impl Client {
    fn deadline(&self) -> Instant {
        match self.phase {
            Phase::Reading => self.accepted + READ_TIMEOUT,
            Phase::Asked | Phase::Writing => self.accepted + ANSWER_TIMEOUT,
        }
    }
}

/// The socket file we created, removed at drop if it is still the same file.
struct SocketFile {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        if let Ok(m) = std::fs::symlink_metadata(&self.path) {
            if m.file_type().is_socket() && m.dev() == self.dev && m.ino() == self.ino {
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }
}

/// The control socket, the metrics endpoint and their connections.
pub struct Control {
    registry: mio::Registry,
    socket: Option<(mio::net::UnixListener, Token, SocketFile)>,
    http: Option<(mio::net::TcpListener, Token, SocketAddr)>,
    clients: BTreeMap<u64, Client>,
    next_id: u64,
    pub stats: ControlStats,
}

/// Binds the unix socket at `path` safely (see the module documentation), mode 0600.
fn bind_socket(path: &Path) -> Result<(std::os::unix::net::UnixListener, SocketFile), String> {
    let shown = path.display();
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => {
            if alive(path) {
                return Err(format!("{shown}: another daemon answers on this socket"));
            }
            std::fs::remove_file(path).map_err(|e| format!("{shown}: stale socket: {e}"))?;
            log::info!("{shown}: removed a stale control socket");
        }
        Ok(_) => {
            return Err(format!(
                "{shown} exists and is not a socket: left alone, control socket not opened"
            ))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("{shown}: {e}")),
    }
    // Created 0600 from the start (the umask applies to bind); bind never follows a
    // symlink and fails if anything appeared at the path meanwhile.
    let old = nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o177));
    let bound = std::os::unix::net::UnixListener::bind(path);
    nix::sys::stat::umask(old);
    let listener = bound.map_err(|e| format!("{shown}: {e}"))?;
    let m = std::fs::symlink_metadata(path).map_err(|e| format!("{shown}: {e}"))?;
    let file = SocketFile {
        path: path.to_path_buf(),
        dev: m.dev(),
        ino: m.ino(),
    };
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("{shown}: {e}"))?;
    Ok((listener, file))
}

/// Whether something accepts connections on the unix socket at `path` (a non-blocking
/// connect: refused at once when nothing listens).
fn alive(path: &Path) -> bool {
    use nix::sys::socket::{connect, socket, AddressFamily, SockFlag, SockType, UnixAddr};
    let Ok(addr) = UnixAddr::new(path) else {
        return false;
    };
    let Ok(fd) = socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    ) else {
        return false;
    };
    use std::os::fd::AsRawFd;
    match connect(fd.as_raw_fd(), &addr) {
        Ok(()) => true,
        Err(e) => e == nix::errno::Errno::EAGAIN || e == nix::errno::Errno::EINPROGRESS,
    }
}

/// Whether the peer of a control connection may use it: root or our own user.
fn peer_allowed(s: &mio::net::UnixStream) -> bool {
    match nix::sys::socket::getsockopt(s, nix::sys::socket::sockopt::PeerCredentials) {
        Ok(c) => c.uid() == 0 || c.uid() == nix::unistd::geteuid().as_raw(),
        Err(_) => false,
    }
}

fn http_response(status: &str, content_type: &str, body: &[u8], extra: &str) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n{extra}\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fn http_error(status: &str, extra: &str) -> Vec<u8> {
    let body = format!("{status}\n");
    http_response(status, "text/plain; charset=utf-8", body.as_bytes(), extra)
}

/// What to do with an HTTP request head read so far.
enum HttpVerdict {
    More,
    Metrics(Format),
    Reply(Vec<u8>),
}

fn judge_http(input: &[u8]) -> HttpVerdict {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(input) {
        Ok(httparse::Status::Partial) if input.len() >= MAX_HTTP_REQUEST => {
            HttpVerdict::Reply(http_error("431 Request Header Fields Too Large", ""))
        }
        Ok(httparse::Status::Partial) => HttpVerdict::More,
        Err(httparse::Error::TooManyHeaders) => {
            HttpVerdict::Reply(http_error("431 Request Header Fields Too Large", ""))
        }
        Err(_) => HttpVerdict::Reply(http_error("400 Bad Request", "")),
        Ok(httparse::Status::Complete(_)) => {
            let path = req.path.unwrap_or_default();
            let path = path.split('?').next().unwrap_or_default();
            if req.method != Some("GET") {
                HttpVerdict::Reply(http_error("405 Method Not Allowed", "Allow: GET\r\n"))
            } else if path != "/metrics" {
                HttpVerdict::Reply(http_error("404 Not Found", ""))
            } else {
                let accept = req
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("accept"))
                    .and_then(|h| std::str::from_utf8(h.value).ok());
                HttpVerdict::Metrics(Format::from_accept(accept))
            }
        }
    }
}

impl Control {
    pub fn new(registry: mio::Registry) -> Control {
        Control {
            registry,
            socket: None,
            http: None,
            clients: BTreeMap::new(),
            next_id: 1,
            stats: ControlStats::default(),
        }
    }

    /// Opens the control socket at `path` (errors are the caller's to log: the daemon
    /// runs on without it).
    pub fn open_socket(&mut self, path: &Path, tokens: &mut Tokens<Source>) -> Result<(), String> {
        let (std_listener, file) = bind_socket(path)?;
        let mut listener = mio::net::UnixListener::from_std(std_listener);
        let token = tokens.insert(Source::Control(Endpoint::Socket));
        if let Err(e) = self
            .registry
            .register(&mut listener, token, Interest::READABLE)
        {
            tokens.remove(token);
            return Err(format!("{}: epoll: {e}", path.display()));
        }
        self.socket = Some((listener, token, file));
        Ok(())
    }

    /// The control socket's path, when it is open.
    pub fn socket_path(&self) -> Option<&Path> {
        self.socket.as_ref().map(|(_, _, f)| f.path.as_path())
    }

    /// Serves the metrics over HTTP on `addr` (None: not at all); rebinds when it changed.
    pub fn set_http(&mut self, addr: Option<SocketAddr>, tokens: &mut Tokens<Source>) {
        if self.http.as_ref().map(|h| h.2) == addr {
            return;
        }
        if let Some((mut l, token, old)) = self.http.take() {
            let _ = self.registry.deregister(&mut l);
            tokens.remove(token);
            log::info!("metrics: no longer listening on {old}");
        }
        let Some(addr) = addr else {
            return;
        };
        let mut listener = match mio::net::TcpListener::bind(addr) {
            Ok(l) => l,
            Err(e) => {
                log::error!("metrics_listen {addr}: {e}");
                return;
            }
        };
        let token = tokens.insert(Source::Control(Endpoint::Http));
        match self
            .registry
            .register(&mut listener, token, Interest::READABLE)
        {
            Ok(()) => {
                log::info!("metrics: serving http://{addr}/metrics");
                self.http = Some((listener, token, addr));
            }
            Err(e) => {
                tokens.remove(token);
                log::error!("metrics_listen {addr}: epoll: {e}");
            }
        }
    }

    /// Connections open now.
    pub fn clients(&self) -> usize {
        self.clients.len()
    }

    fn count(&self, http: bool) -> usize {
        self.clients.values().filter(|c| c.http == http).count()
    }

    /// Something happened on `ep`: accepts connections, reads requests. Returns the
    /// requests for the reactor to answer (with [`Control::reply`]).
    pub fn on_ready(
        &mut self,
        ep: Endpoint,
        now: Instant,
        tokens: &mut Tokens<Source>,
    ) -> Vec<Ask> {
        let mut asks = Vec::new();
        match ep {
            Endpoint::Socket => self.accept_unix(now, tokens),
            Endpoint::Http => self.accept_tcp(now, tokens),
            Endpoint::Client(id) => {
                let Some(c) = self.clients.get_mut(&id) else {
                    return asks;
                };
                let (flush, close) = match c.phase {
                    Phase::Reading => match Self::read_request(id, c) {
                        Ok(Some(ask)) => {
                            asks.push(ask);
                            (false, false)
                        }
                        // A bad request: its answer is queued.
                        Ok(None) if matches!(c.phase, Phase::Writing) => {
                            self.stats.requests += 1;
                            (true, false)
                        }
                        Ok(None) => (false, false),
                        Err(()) => (false, true),
                    },
                    Phase::Asked => (false, false),
                    Phase::Writing => (true, false),
                };
                if close || flush && !self.flush(id) {
                    self.close(id, tokens);
                }
            }
        }
        asks
    }

    fn accept_unix(&mut self, now: Instant, tokens: &mut Tokens<Source>) {
        loop {
            let Some((listener, _, _)) = self.socket.as_ref() else {
                return;
            };
            let stream = match listener.accept() {
                Ok((s, _)) => s,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    log::warn!("control socket: accept: {e}");
                    return;
                }
            };
            if !peer_allowed(&stream) {
                self.stats.refused += 1;
                log::warn!("control socket: connection from a user other than root refused");
                continue;
            }
            if self.count(false) >= MAX_CLIENTS {
                self.stats.refused += 1;
                let mut s = stream;
                let _ = s.write(&proto::encode_reply(&Err("busy: too many clients".into())));
                continue;
            }
            self.add(Stream::Unix(stream), false, now, tokens);
        }
    }

    fn accept_tcp(&mut self, now: Instant, tokens: &mut Tokens<Source>) {
        loop {
            let Some((listener, _, _)) = self.http.as_ref() else {
                return;
            };
            let stream = match listener.accept() {
                Ok((s, _)) => s,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    log::warn!("metrics: accept: {e}");
                    return;
                }
            };
            if self.count(true) >= MAX_CLIENTS {
                self.stats.refused += 1;
                let mut s = stream;
                let _ = s.write(&http_error("503 Service Unavailable", ""));
                continue;
            }
            self.add(Stream::Tcp(stream), true, now, tokens);
        }
    }

    fn add(&mut self, mut stream: Stream, http: bool, now: Instant, tokens: &mut Tokens<Source>) {
        let id = self.next_id;
        self.next_id += 1;
        let token = tokens.insert(Source::Control(Endpoint::Client(id)));
        if let Err(e) = self
            .registry
            .register(stream.source(), token, Interest::READABLE)
        {
            tokens.remove(token);
            log::warn!("control: epoll: {e}");
            return;
        }
        self.stats.accepted += 1;
        // A request already there is reported by epoll at registration (no read here).
        let c = Client {
            stream,
            token,
            http,
            input: Vec::new(),
            output: Vec::new(),
            sent: 0,
            accepted: now,
            phase: Phase::Reading,
            format: Format::Prometheus,
        };
        self.clients.insert(id, c);
    }

    /// Reads what the client sent; a complete request gives an [`Ask`], or (bad request)
    /// an answer queued at once. `Err` closes the connection.
    fn read_request(id: u64, c: &mut Client) -> Result<Option<Ask>, ()> {
        let limit = if c.http {
            MAX_HTTP_REQUEST
        } else {
            MAX_REQUEST
        };
        let mut buf = [0u8; 1024];
        let mut eof = false;
        loop {
            if c.input.len() >= limit {
                break;
            }
            let room = (limit - c.input.len()).min(buf.len());
            match c.stream.read(&mut buf[..room]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => c.input.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return Err(()),
            }
        }
        if c.http {
            match judge_http(&c.input) {
                HttpVerdict::More if eof => Err(()),
                HttpVerdict::More => Ok(None),
                HttpVerdict::Reply(bytes) => {
                    c.output = bytes;
                    c.phase = Phase::Writing;
                    Ok(None)
                }
                HttpVerdict::Metrics(format) => {
                    c.format = format;
                    c.phase = Phase::Asked;
                    Ok(Some(Ask {
                        client: id,
                        request: Request::Metrics { format },
                    }))
                }
            }
        } else {
            let line = match c.input.iter().position(|&b| b == b'\n') {
                Some(end) => &c.input[..end],
                None if eof && !c.input.is_empty() => &c.input[..],
                None if eof => return Err(()),
                None if c.input.len() >= limit => {
                    c.output = proto::encode_reply(&Err(format!(
                        "request longer than {MAX_REQUEST} bytes"
                    )));
                    c.phase = Phase::Writing;
                    return Ok(None);
                }
                None => return Ok(None),
            };
            match proto::parse_request(&String::from_utf8_lossy(line)) {
                Ok(request) => {
                    c.phase = Phase::Asked;
                    Ok(Some(Ask {
                        client: id,
                        request,
                    }))
                }
                Err(msg) => {
                    c.output = proto::encode_reply(&Err(msg));
                    c.phase = Phase::Writing;
                    Ok(None)
                }
            }
        }
    }

    /// The reactor's answer to an [`Ask`] of `client`: sent now, or as the client reads.
    pub fn reply(
        &mut self,
        client: u64,
        answer: Result<String, String>,
        tokens: &mut Tokens<Source>,
    ) {
        let Some(c) = self.clients.get_mut(&client) else {
            return;
        };
        self.stats.requests += 1;
        c.output = if c.http {
            match answer {
                Ok(body) => http_response("200 OK", c.format.content_type(), body.as_bytes(), ""),
                Err(_) => http_error("500 Internal Server Error", ""),
            }
        } else {
            proto::encode_reply(&answer)
        };
        c.phase = Phase::Writing;
        if !self.flush(client) {
            self.close(client, tokens);
        }
    }

    /// Writes what the client can take of its answer. Returns true while some is left
    /// (the connection now waits to be writable), false when the connection is finished.
    fn flush(&mut self, id: u64) -> bool {
        let Some(c) = self.clients.get_mut(&id) else {
            return false;
        };
        while c.sent < c.output.len() {
            match c.stream.write(&c.output[c.sent..]) {
                Ok(0) => return false,
                Ok(n) => c.sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let token = c.token;
                    return self
                        .registry
                        .reregister(c.stream.source(), token, Interest::WRITABLE)
                        .is_ok();
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return false,
            }
        }
        false
    }

    fn close(&mut self, id: u64, tokens: &mut Tokens<Source>) {
        if let Some(mut c) = self.clients.remove(&id) {
            let _ = self.registry.deregister(c.stream.source());
            tokens.remove(c.token);
        }
    }

    /// The earliest deadline of a connection.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.clients.values().map(Client::deadline).min()
    }

    /// Closes the connections whose deadline has passed.
    pub fn on_timers(&mut self, now: Instant, tokens: &mut Tokens<Source>) {
        let late: Vec<u64> = self
            .clients
            .iter()
            .filter(|(_, c)| c.deadline() <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in late {
            self.stats.timeouts += 1;
            self.close(id, tokens);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_beside_the_pid_file() {
        assert_eq!(
            socket_path_for(Path::new("/run/keepalived.pid")),
            PathBuf::from("/run/keepalived.ctl")
        );
        assert_eq!(
            socket_path_for(Path::new("/tmp/x/r1")),
            PathBuf::from("/tmp/x/r1.ctl")
        );
        assert_eq!(
            socket_path_for(Path::new("/run/k.rs.pid")),
            PathBuf::from("/run/k.rs.ctl")
        );
    }

    fn verdict(req: &str) -> String {
        match judge_http(req.as_bytes()) {
            HttpVerdict::More => "more".into(),
            HttpVerdict::Metrics(f) => format!("metrics {f:?}"),
            HttpVerdict::Reply(b) => String::from_utf8_lossy(&b)
                .lines()
                .next()
                .unwrap_or_default()
                .to_string(),
        }
    }

    #[test]
    fn http_requests_are_judged() {
        assert_eq!(
            verdict("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
            "metrics Prometheus"
        );
        assert_eq!(
            verdict("GET /metrics?x=1 HTTP/1.1\r\nAccept: application/openmetrics-text; version=1.0.0\r\n\r\n"),
            "metrics OpenMetrics"
        );
        assert_eq!(verdict("GET /metrics HTTP/1.1\r\nHost"), "more");
        assert_eq!(verdict("GET / HTTP/1.1\r\n\r\n"), "HTTP/1.1 404 Not Found");
        assert_eq!(
            verdict("POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n"),
            "HTTP/1.1 405 Method Not Allowed"
        );
        assert_eq!(verdict("\x01\x02 junk\r\n\r\n"), "HTTP/1.1 400 Bad Request");
        let long = format!(
            "GET /metrics HTTP/1.1\r\nX: {}",
            "a".repeat(MAX_HTTP_REQUEST)
        );
        assert_eq!(
            verdict(&long),
            "HTTP/1.1 431 Request Header Fields Too Large"
        );
    }
}
