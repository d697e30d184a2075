//! Simulated real servers in the scenario language: their declarations
//! (`server NAME SEGMENT ADDR[:PORT] KIND [mode MODE] [handshake DUR]`, protocol options on
//! the indented lines under it), the modes a scenario switches them between
//! (`at 12s server web1 down`), and the predicates about them (`receives connection`,
//! `receives request`, and the engine's `real-server` transitions).
//!
//! The protocol options are kept as written (key and words); `sim::registry` reads them
//! when it builds the server's service, so each protocol owns its options.

use super::{ParseError, Words};
use crate::sim::clock::fmt_duration;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// What a simulated server speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ServerKind {
    /// A TCP listener that accepts and never says anything (TCP_CHECK).
    Tcp,
    Http,
    /// HTTP behind TLS (SSL_GET): a handshake delay, then plaintext.
    Https,
    Smtp,
    /// UDP echo (UDP_CHECK).
    Udp,
    Dns,
    /// Answers ICMP / ICMPv6 echo (PING_CHECK).
    Icmp,
}

impl ServerKind {
    pub const ALL: [ServerKind; 7] = [
        ServerKind::Tcp,
        ServerKind::Http,
        ServerKind::Https,
        ServerKind::Smtp,
        ServerKind::Udp,
        ServerKind::Dns,
        ServerKind::Icmp,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ServerKind::Tcp => "tcp",
            ServerKind::Http => "http",
            ServerKind::Https => "https",
            ServerKind::Smtp => "smtp",
            ServerKind::Udp => "udp",
            ServerKind::Dns => "dns",
            ServerKind::Icmp => "icmp",
        }
    }

    pub fn from_name(s: &str) -> Option<ServerKind> {
        ServerKind::ALL.into_iter().find(|k| k.name() == s)
    }

    /// Carried over TCP (TLS included).
    pub fn stream(self) -> bool {
        matches!(
            self,
            ServerKind::Tcp | ServerKind::Http | ServerKind::Https | ServerKind::Smtp
        )
    }

    /// Carried over UDP.
    pub fn datagram(self) -> bool {
        matches!(self, ServerKind::Udp | ServerKind::Dns)
    }

    /// Expects a TLS handshake first.
    pub fn tls(self) -> bool {
        self == ServerKind::Https
    }

    /// Whether the request log keeps line `n` (0-based) of a stream connection: HTTP's
    /// request line and `Host` header (up to the end of the head), SMTP's first 16
    /// commands, a TCP listener's first line. None: stop looking at this connection.
    pub fn log_line(self, n: usize, line: &[u8]) -> Option<bool> {
        match self {
            ServerKind::Smtp => (n < 16).then_some(true),
            ServerKind::Http | ServerKind::Https => {
                if (n > 0 && line.is_empty()) || n >= 64 {
                    return None;
                }
                let host = line.len() >= 5 && line[..5].eq_ignore_ascii_case(b"host:");
                Some(n == 0 || host)
            }
            _ => (n == 0).then_some(true),
        }
    }
}

/// How a server behaves now; switched by `at T server NAME MODE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Answers as its protocol says.
    Up,
    /// Nothing listens: TCP refused (RST), UDP port unreachable, no echo reply; data on a
    /// connection accepted earlier is answered by a reset.
    Down,
    /// Accepts (TCP) and never answers; the connection stays open until the client closes.
    Hang,
    /// Answers (greetings included) this long after it otherwise would.
    Slow(Duration),
    /// Accepts, then resets the connection when the client speaks (UDP: port unreachable).
    Reset,
    /// Answers with the protocol's wrong answer (`Service::answer(.., wrong: true)`).
    Wrong,
    /// The TLS handshake fails (TLS clients); plain clients are served as `up`.
    TlsFail,
    /// The machine is gone: nothing at that address answers anything (no RST either).
    Silent,
}

impl Mode {
    pub const WORDS: &'static str = "up, down, hang, slow DUR, reset, wrong, tls-fail or silent";
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mode::Up => f.write_str("up"),
            Mode::Down => f.write_str("down"),
            Mode::Hang => f.write_str("hang"),
            Mode::Slow(d) => write!(f, "slow {}", fmt_duration(*d)),
            Mode::Reset => f.write_str("reset"),
            Mode::Wrong => f.write_str("wrong"),
            Mode::TlsFail => f.write_str("tls-fail"),
            Mode::Silent => f.write_str("silent"),
        }
    }
}

/// One protocol option line under a `server` (e.g. `page /health 200 "ok"`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerOpt {
    pub key: String,
    pub args: Vec<String>,
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerDecl {
    pub name: String,
    pub line: usize,
    /// The segment it is plugged into: hosts with an up interface there reach it.
    pub segment: String,
    pub ip: IpAddr,
    /// 0 for `icmp`.
    pub port: u16,
    pub kind: ServerKind,
    /// The mode at 0 s.
    pub mode: Mode,
    /// TLS only: the server's time to complete a handshake, on top of the round trips.
    pub handshake: Duration,
    pub opts: Vec<ServerOpt>,
}

impl ServerDecl {
    /// `10.0.0.100:80`, `[2001:db8::1]:80`, or the bare address for `icmp`.
    pub fn endpoint(&self) -> String {
        match (self.kind, self.ip) {
            (ServerKind::Icmp, ip) => ip.to_string(),
            (_, ip) => SocketAddr::new(ip, self.port).to_string(),
        }
    }
}

/// `up | down | hang | slow DUR | reset | wrong | tls-fail | silent`
pub(super) fn mode(w: &mut Words) -> Result<Mode, ParseError> {
    Ok(match w.next(Mode::WORDS)? {
        "up" => Mode::Up,
        "down" => Mode::Down,
        "hang" => Mode::Hang,
        "slow" => Mode::Slow(w.duration()?),
        "reset" => Mode::Reset,
        "wrong" => Mode::Wrong,
        "tls-fail" => Mode::TlsFail,
        "silent" => Mode::Silent,
        x => return w.err(format!("`{x}`: expected {}", Mode::WORDS)),
    })
}

/// The `server` line (the protocol options come on the lines under it).
pub(super) fn declaration(w: &mut Words) -> Result<ServerDecl, ParseError> {
    let line = w.line;
    let name = w.ident("a server name")?;
    let segment = w.ident("a segment name")?;
    let addr = w.next("an address like 10.0.0.100:80")?;
    let kind_word = w.next("a kind")?;
    let names: Vec<&str> = ServerKind::ALL.iter().map(|k| k.name()).collect();
    let Some(kind) = ServerKind::from_name(kind_word) else {
        return w.err(format!(
            "`{kind_word}`: expected a server kind ({})",
            names.join(", ")
        ));
    };
    let (ip, port) = if kind == ServerKind::Icmp {
        match addr.parse::<IpAddr>() {
            Ok(ip) => (ip, 0),
            Err(_) => return w.err(format!("`{addr}`: an icmp server is an address, no port")),
        }
    } else {
        match addr.parse::<SocketAddr>() {
            Ok(sa) if sa.port() != 0 => (sa.ip(), sa.port()),
            _ => {
                return w.err(format!(
                    "`{addr}`: expected ADDRESS:PORT (10.0.0.100:80, [2001:db8::1]:80)"
                ))
            }
        }
    };
    let mut d = ServerDecl {
        name,
        line,
        segment,
        ip,
        port,
        kind,
        mode: Mode::Up,
        handshake: Duration::ZERO,
        opts: Vec::new(),
    };
    while let Some(k) = w.peek() {
        w.pos += 1;
        match k {
            "mode" => d.mode = mode(w)?,
            "handshake" if kind.tls() => d.handshake = w.duration()?,
            _ => {
                return w.err(format!(
                    "`{k}`: the server line takes `mode MODE`{}; write protocol options on the indented lines under it",
                    if kind.tls() { " and `handshake DUR`" } else { "" }
                ))
            }
        }
    }
    Ok(d)
}

/// An indented option line under a `server`.
pub(super) fn option(w: &mut Words) -> Result<ServerOpt, ParseError> {
    let key = w.ident("an option")?.to_string();
    let mut args = Vec::new();
    while let Some(x) = w.peek() {
        args.push(x.to_string());
        w.pos += 1;
    }
    Ok(ServerOpt {
        key,
        args,
        line: w.line,
    })
}

/// Checks the servers against each other and the hosts (names, addresses, segments) and
/// that the simulator can build each one's service.
pub(super) fn validate(sc: &super::Scenario) -> Result<(), ParseError> {
    let bad = |line: usize, message: String| Err(ParseError { line, message });
    for (n, s) in sc.servers.iter().enumerate() {
        if !sc.segments.iter().any(|g| g.name == s.segment) {
            return bad(s.line, format!("unknown segment `{}`", s.segment));
        }
        if sc.hosts.iter().any(|h| h.name == s.name) {
            return bad(s.line, format!("`{}` names a host and a server", s.name));
        }
        for o in &sc.servers[..n] {
            if o.name == s.name {
                return bad(s.line, format!("server `{}` declared twice", s.name));
            }
            if o.ip == s.ip && o.segment != s.segment {
                return bad(
                    s.line,
                    format!(
                        "{} is on segment {} (server {}): one address, one segment",
                        s.ip, o.segment, o.name
                    ),
                );
            }
            let same_socket = o.ip == s.ip
                && (o.port == s.port)
                && (o.kind.stream() == s.kind.stream())
                && (o.kind.datagram() == s.kind.datagram());
            if same_socket {
                return bad(
                    s.line,
                    format!("server {} already listens on {}", o.name, o.endpoint()),
                );
            }
        }
        if let Err((line, m)) = crate::sim::registry::factory(s) {
            return bad(line, m);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{parse, Predicate, Stimulus};
    use super::*;

    const HEAD: &str =
        "segment lan\nhost r1\n  iface eth0 lan 10.0.0.1/24\n  config <<END\nx\nEND\n";

    fn err(tail: &str) -> String {
        let e = parse(&format!("{HEAD}{tail}")).unwrap_err();
        format!("line {}: {}", e.line, e.message)
    }

    #[test]
    fn declarations_options_modes_and_predicates() {
        let sc = parse(&format!(
            "{HEAD}server web1 lan [2001:db8::100]:443 https mode tls-fail handshake 5ms\n  \
             status 200\n  page /x 404 \"not here\"\n\
             server web2 lan 10.0.0.100:80 http # a comment\n\
             server p lan 10.0.0.100:25 tcp mode silent\n\
             at 3s server web2 slow 1.5s\n\
             at 4s partition r1 | web2\n\
             expect 5s r1 rs [10.0.0.100]:tcp:80 down weight 0\n\
             expect count 3 web2 receives connections from r1 between 0s 9s\n\
             expect web2 receives request \"GET /\"\n"
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        let s = &sc.servers[0];
        assert_eq!(s.endpoint(), "[2001:db8::100]:443");
        assert_eq!((s.kind, s.mode), (ServerKind::Https, Mode::TlsFail));
        assert_eq!(s.handshake, Duration::from_millis(5));
        assert_eq!(s.opts.len(), 2);
        assert_eq!(s.opts[1].args, ["/x", "404", "not here"]);
        assert_eq!(s.opts[1].line, 9);
        assert!(sc.servers[1].opts.is_empty());
        assert_eq!(
            sc.timeline[0].stimulus,
            Stimulus::Server {
                name: "web2".into(),
                mode: Mode::Slow(Duration::from_millis(1500))
            }
        );
        assert_eq!(
            sc.expects[0].predicate,
            Predicate::RealServer {
                rs: "[10.0.0.100]:tcp:80".into(),
                up: false,
                weight: Some(0),
                vs: None
            }
        );
        assert_eq!(
            sc.expects[1].predicate,
            Predicate::ReceivesConnection {
                from: Some("r1".into())
            }
        );
        assert_eq!(
            sc.expects[2].predicate,
            Predicate::ReceivesRequest {
                text: Some("GET /".into()),
                from: None
            }
        );
        assert_eq!(
            Mode::Slow(Duration::from_millis(1500)).to_string(),
            "slow 1.5s"
        );
    }

    #[test]
    fn bad_servers_are_located() {
        for (tail, want) in [
            (
                "server s lan 10.0.0.9:53 dns\n  bogus x\n",
                "line 8: unknown dns server option `bogus`",
            ),
            (
                "server s lan 10.0.0.9 http\n",
                "line 7: `10.0.0.9`: expected ADDRESS:PORT",
            ),
            ("server s lan 10.0.0.9:1 icmp\n", "no port"),
            (
                "server s lan 10.0.0.9:80 ftp\n",
                "`ftp`: expected a server kind (tcp, http, https",
            ),
            (
                "server s wan 10.0.0.9:80 tcp\n",
                "line 7: unknown segment `wan`",
            ),
            (
                "server s lan 10.0.0.9:80 http handshake 1s\n",
                "takes `mode MODE`;",
            ),
            (
                "server s lan 10.0.0.9:80 http mode sleepy\n",
                "`sleepy`: expected up, down",
            ),
            (
                "server s lan 10.0.0.9:80 http\n  status 99\n",
                "line 8: `99` is not an HTTP status code",
            ),
            (
                "server s lan 10.0.0.9:80 http\n  colour red\n",
                "line 8: unknown http option `colour`",
            ),
            (
                "server s lan 10.0.0.9:80 http\n  page /x 200\n",
                "line 8: write `page PATH STATUS BODY`",
            ),
            (
                "server s lan 10.0.0.9:80 tcp\n  body x\n",
                "line 8: a tcp server takes no option",
            ),
            (
                "server s lan 10.0.0.9:80 tcp\nserver t lan 10.0.0.9:80 http\n",
                "line 8: server s already listens on 10.0.0.9:80",
            ),
            (
                "server s lan 10.0.0.9:80 tcp\nserver s lan 10.0.0.8:80 tcp\n",
                "declared twice",
            ),
            (
                "server r1 lan 10.0.0.9:80 tcp\n",
                "names a host and a server",
            ),
            ("at 1s server web9 down\n", "line 7: unknown server `web9`"),
            ("expect r1 receives connection\n", "unknown server `r1`"),
            (
                "server s lan 10.0.0.9:80 tcp\nexpect s becomes MASTER\n",
                "unknown host `s`",
            ),
        ] {
            let e = err(tail);
            assert!(e.contains(want), "{tail:?}: {e}");
        }
    }
}
