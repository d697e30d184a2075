//! The Linux world's checker connections (`sys::conn`), driven as the reactor drives them
//! (one mio poll; each wake-up: `conns_turn`, then the ready sources through
//! `on_conn_io`), against servers this test starts on 127.0.0.1 / ::1: refused, connect +
//! send + data + EOF, reset, a server that never answers, TLS (a native-tls server with a
//! self-signed identity made here by `openssl`), a TLS handshake against a plain server,
//! UDP echo and a closed UDP port, `bind_port` / `bindto`, the connection cap, a flood read
//! in bounded pieces, and, as root, ICMP echo to 127.0.0.1 and ::1, `bind_if`, `fwmark` and
//! an IPv6 link-local destination in scratch namespaces.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

mod sys_util;

use keepalived_rs::event::{
    Action, ConnError, ConnEvent, ConnId, ConnOwner, ConnectSpec, Event, Transport, World,
};
use keepalived_rs::sched::Instant as EInstant;
use keepalived_rs::sys::conn::{OPENS_PER_TURN, READ_CHUNK, SERVICES_PER_TURN, TURN_BUDGET};
use keepalived_rs::sys::netlink_sock::NlCommand;
use keepalived_rs::sys::world::SysWorld;
use std::io::{Read, Write};
use std::net::{IpAddr, TcpListener, UdpSocket};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use sys_util::*;

static SEQ: AtomicU64 = AtomicU64::new(1);

fn conn_id() -> ConnId {
    ConnId {
        owner: ConnOwner::Checker,
        seq: SEQ.fetch_add(1, Ordering::SeqCst),
    }
}

fn spec(transport: Transport, dst: &str, port: u16) -> ConnectSpec {
    ConnectSpec {
        transport,
        dst: dst.parse().unwrap(),
        port,
        bind_addr: None,
        bind_port: None,
        bind_if: None,
        fwmark: None,
    }
}

/// The sys world and its poll, turned as the reactor turns them.
struct Driver {
    poll: mio::Poll,
    world: SysWorld,
    events: mio::Events,
    /// Bytes read per turn, the largest seen (the per-turn bound).
    max_turn_bytes: usize,
    turns_with_pending: u64,
}

impl Driver {
    fn new() -> Driver {
        let poll = mio::Poll::new().unwrap();
        let reg = poll.registry().try_clone().unwrap();
        let world = SysWorld::new(reg, NlCommand::open().unwrap());
        Driver {
            poll,
            world,
            events: mio::Events::with_capacity(256),
            max_turn_bytes: 0,
            turns_with_pending: 0,
        }
    }

    fn perform(&mut self, a: Action) {
        self.world.perform(EInstant::ZERO, a);
    }

    fn connect(&mut self, spec: ConnectSpec) -> ConnId {
        let id = conn_id();
        self.perform(Action::Connect { conn: id, spec });
        id
    }

    fn send(&mut self, conn: ConnId, data: &[u8]) {
        self.perform(Action::Send {
            conn,
            data: data.to_vec(),
        });
    }

    /// One turn of the loop: wait (at most `wait`; not at all while a source is pending),
    /// renew the budget, serve the ready sources. Returns the connection events.
    fn turn(&mut self, wait: Duration) -> Vec<(ConnId, ConnEvent)> {
        let timeout = if self.world.conns.has_pending() {
            self.turns_with_pending += 1;
            Duration::ZERO
        } else {
            wait
        };
        self.poll.poll(&mut self.events, Some(timeout)).unwrap();
        self.world.conns_turn();
        for ev in self.events.iter() {
            if let Some(src) = self.world.tokens.get(ev.token()).cloned() {
                self.world.on_conn_io(&src);
            }
        }
        let mut out = Vec::new();
        let mut bytes = 0;
        for e in std::mem::take(&mut self.world.events) {
            if let Event::Conn { conn, event } = e {
                if let ConnEvent::Data(d) = &event {
                    assert!(d.len() <= READ_CHUNK, "a Data of {} bytes", d.len());
                    bytes += d.len();
                }
                out.push((conn, event));
            }
        }
        self.max_turn_bytes = self.max_turn_bytes.max(bytes);
        out
    }

    /// Turns until `done` holds for the events of `conn` so far, or `limit` passes.
    fn until(
        &mut self,
        conn: ConnId,
        limit: Duration,
        mut done: impl FnMut(&[ConnEvent]) -> bool,
    ) -> Vec<ConnEvent> {
        let end = Instant::now() + limit;
        let mut seen: Vec<ConnEvent> = self.pending_events(conn).into_iter().collect::<Vec<_>>();
        while !done(&seen) && Instant::now() < end {
            for (c, e) in self.turn(Duration::from_millis(20)) {
                if c == conn {
                    seen.push(e);
                }
            }
        }
        seen
    }

    /// Events already produced synchronously (by `perform`) for `conn`.
    fn pending_events(&mut self, conn: ConnId) -> Vec<ConnEvent> {
        let mut mine = Vec::new();
        self.world.events.retain(|e| match e {
            Event::Conn { conn: c, event } if *c == conn => {
                mine.push(event.clone());
                false
            }
            _ => true,
        });
        mine
    }

    /// Everything that happens during `d` (for "nothing happens" checks).
    fn quiet_for(&mut self, d: Duration) -> Vec<(ConnId, ConnEvent)> {
        let end = Instant::now() + d;
        let mut all = std::mem::take(&mut self.world.events)
            .into_iter()
            .filter_map(|e| match e {
                Event::Conn { conn, event } => Some((conn, event)),
                _ => None,
            })
            .collect::<Vec<_>>();
        while Instant::now() < end {
            all.extend(self.turn(Duration::from_millis(20)));
        }
        all
    }
}

fn ended(evs: &[ConnEvent]) -> bool {
    matches!(
        evs.last(),
        Some(ConnEvent::Closed) | Some(ConnEvent::Failed(_))
    )
}

fn data_of(evs: &[ConnEvent]) -> Vec<u8> {
    evs.iter()
        .filter_map(|e| match e {
            ConnEvent::Data(d) => Some(d.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

const LIMIT: Duration = Duration::from_secs(10);

/// A port on `ip` where nothing listens (bound then released).
fn free_tcp_port(ip: &str) -> u16 {
    TcpListener::bind((ip, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn tcp_refused() {
    let mut d = Driver::new();
    for ip in ["127.0.0.1", "::1"] {
        let port = free_tcp_port(ip);
        let c = d.connect(spec(Transport::Tcp, ip, port));
        let evs = d.until(c, LIMIT, ended);
        assert_eq!(evs, vec![ConnEvent::Failed(ConnError::Refused)], "{ip}");
    }
    assert!(d.world.conns.is_empty(), "a failed connection is gone");
}

/// A server that reads a line, answers it in upper case and closes.
fn line_server(ip: &str) -> (u16, std::thread::JoinHandle<Vec<u8>>) {
    let l = TcpListener::bind((ip, 0)).unwrap();
    let port = l.local_addr().unwrap().port();
    let h = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(LIMIT)).unwrap();
        let mut got = Vec::new();
        let mut b = [0u8; 256];
        while !got.ends_with(b"\n") {
            let n = s.read(&mut b).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&b[..n]);
        }
        s.write_all(&got.to_ascii_uppercase()).unwrap();
        got
    });
    (port, h)
}

#[test]
fn tcp_connect_send_data_and_eof() {
    let mut d = Driver::new();
    for ip in ["127.0.0.1", "::1"] {
        let (port, server) = line_server(ip);
        let c = d.connect(spec(Transport::Tcp, ip, port));
        let evs = d.until(c, LIMIT, |e| !e.is_empty());
        assert_eq!(evs, vec![ConnEvent::Connected], "{ip}");
        d.send(c, b"hello ");
        d.send(c, b"checker\n");
        let evs = d.until(c, LIMIT, ended);
        assert_eq!(data_of(&evs), b"HELLO CHECKER\n", "{ip}");
        assert_eq!(evs.last(), Some(&ConnEvent::Closed), "{ip}: {evs:?}");
        assert_eq!(server.join().unwrap(), b"hello checker\n");
        // The engine's Close after Closed is harmless and says nothing.
        d.perform(Action::Close { conn: c });
        assert!(d.quiet_for(Duration::from_millis(50)).is_empty());
    }
}

#[test]
fn tcp_reset_by_the_peer() {
    let mut d = Driver::new();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let c = d.connect(spec(Transport::Tcp, "127.0.0.1", port));
    let evs = d.until(c, LIMIT, |e| !e.is_empty());
    assert_eq!(evs, vec![ConnEvent::Connected]);
    let (s, _) = l.accept().unwrap();
    // SO_LINGER 0: close sends a RST.
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    use std::os::fd::AsRawFd;
    // SAFETY: setsockopt on a socket we own with a linger struct.
    let rc = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0);
    drop(s);
    let evs = d.until(c, LIMIT, ended);
    assert_eq!(evs, vec![ConnEvent::Failed(ConnError::Reset)]);
}

#[test]
fn a_server_that_never_answers_costs_nothing_until_the_engine_closes() {
    let mut d = Driver::new();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let c = d.connect(spec(Transport::Tcp, "127.0.0.1", port));
    let evs = d.until(c, LIMIT, |e| !e.is_empty());
    assert_eq!(evs, vec![ConnEvent::Connected]);
    let (mut s, _) = l.accept().unwrap();
    d.send(c, b"GET / HTTP/1.0\r\n\r\n");
    assert_eq!(d.quiet_for(Duration::from_millis(300)), vec![]);
    // The engine's timeout: Close. Nothing follows, and the server sees the end.
    d.perform(Action::Close { conn: c });
    assert!(d.world.conns.is_empty());
    assert_eq!(d.quiet_for(Duration::from_millis(100)), vec![]);
    s.set_read_timeout(Some(LIMIT)).unwrap();
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"GET / HTTP/1.0\r\n\r\n");
}

#[test]
fn bind_port_and_bindto_are_honoured() {
    let mut d = Driver::new();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let src_port = free_tcp_port("127.0.0.2");
    let mut sp = spec(Transport::Tcp, "127.0.0.1", port);
    sp.bind_addr = Some("127.0.0.2".parse().unwrap());
    sp.bind_port = Some(src_port);
    let c = d.connect(sp);
    let evs = d.until(c, LIMIT, |e| !e.is_empty());
    assert_eq!(evs, vec![ConnEvent::Connected]);
    let (_s, peer) = l.accept().unwrap();
    assert_eq!(peer.ip(), "127.0.0.2".parse::<IpAddr>().unwrap());
    assert_eq!(peer.port(), src_port);
    // A source of the other family is refused with a clear error, at once.
    let mut bad = spec(Transport::Tcp, "::1", port);
    bad.bind_addr = Some("127.0.0.1".parse().unwrap());
    let c2 = d.connect(bad);
    let evs = d.until(c2, LIMIT, ended);
    assert!(
        matches!(&evs[..], [ConnEvent::Failed(ConnError::Other(m))] if m.contains("family")),
        "{evs:?}"
    );
}

#[test]
fn close_withdraws_events_not_yet_handed_over_and_the_cap_is_enforced() {
    let mut d = Driver::new();
    // A connect that fails at once (synchronously), then the engine closes it in the
    // same batch of actions: the engine hears nothing of it.
    let mut bad = spec(Transport::Tcp, "::1", 80);
    bad.bind_addr = Some("127.0.0.1".parse().unwrap());
    let c = d.connect(bad);
    d.perform(Action::Close { conn: c });
    assert!(d.world.events.is_empty(), "{:?}", d.world.events);

    d.world.conns.set_limit(1);
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let a = d.connect(spec(Transport::Tcp, "127.0.0.1", port));
    let b = d.connect(spec(Transport::Tcp, "127.0.0.1", port));
    let evs = d.until(b, LIMIT, ended);
    assert!(
        matches!(&evs[..], [ConnEvent::Failed(ConnError::Other(m))] if m.contains("too many open connections")),
        "{evs:?}"
    );
    assert_eq!(d.world.conns.stats.over_limit, 1);
    let evs = d.until(a, LIMIT, |e| !e.is_empty());
    assert_eq!(evs, vec![ConnEvent::Connected]);
    d.perform(Action::Close { conn: a });
    // Room again.
    let c = d.connect(spec(Transport::Tcp, "127.0.0.1", port));
    let evs = d.until(c, LIMIT, |e| !e.is_empty());
    assert_eq!(evs, vec![ConnEvent::Connected]);
    // Send and Close on unknown connections: ignored.
    let ghost = conn_id();
    d.send(ghost, b"x");
    d.perform(Action::Close { conn: ghost });
    assert!(d.world.events.is_empty());
}

#[test]
fn a_flood_is_read_in_bounded_pieces() {
    const TOTAL: usize = 6 * 1024 * 1024;
    let mut d = Driver::new();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let block = vec![0x5au8; 256 * 1024];
        for _ in 0..TOTAL / block.len() {
            if s.write_all(&block).is_err() {
                return;
            }
        }
    });
    let c = d.connect(spec(Transport::Tcp, "127.0.0.1", port));
    // Let the server fill the socket buffers before reading.
    std::thread::sleep(Duration::from_millis(200));
    let evs = d.until(c, Duration::from_secs(30), ended);
    server.join().unwrap();
    assert_eq!(evs.first(), Some(&ConnEvent::Connected));
    assert_eq!(evs.last(), Some(&ConnEvent::Closed));
    assert_eq!(data_of(&evs).len(), TOTAL);
    assert!(
        d.max_turn_bytes <= TURN_BUDGET,
        "{} bytes in one turn",
        d.max_turn_bytes
    );
    // The bound stopped the reading and the next turn went on without waiting.
    assert!(d.turns_with_pending > 0);
}

fn openssl_identity(dir: &std::path::Path) -> native_tls::Identity {
    let key = dir.join("key.pem");
    let cert = dir.join("cert.pem");
    let p12 = dir.join("id.p12");
    must(&format!(
        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=check.example \
         -keyout {} -out {} 2>&1",
        key.display(),
        cert.display()
    ));
    must(&format!(
        "openssl pkcs12 -export -inkey {} -in {} -out {} -passout pass:kr 2>&1",
        key.display(),
        cert.display(),
        p12.display()
    ));
    let der = std::fs::read(&p12).unwrap();
    native_tls::Identity::from_pkcs12(&der, "kr").unwrap()
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("sysconn-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn tls_against_a_self_signed_server() {
    let dir = TempDir::new("tls");
    let acceptor = native_tls::TlsAcceptor::new(openssl_identity(&dir.0)).unwrap();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        // Two clients: one closed with close_notify, one by dropping the TCP connection.
        for polite in [true, false] {
            let (s, _) = l.accept().unwrap();
            s.set_read_timeout(Some(LIMIT)).unwrap();
            let mut t = acceptor.accept(s).unwrap();
            let mut got = Vec::new();
            let mut b = [0u8; 256];
            while !got.ends_with(b"\r\n\r\n") {
                let n = t.read(&mut b).unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&b[..n]);
            }
            t.write_all(b"HTTP/1.0 200 OK\r\n\r\nsecret body").unwrap();
            if polite {
                let _ = t.shutdown();
            }
        }
    });
    let mut d = Driver::new();
    for sni in [Some("check.example".to_string()), None] {
        let c = d.connect(spec(Transport::Tls { sni }, "127.0.0.1", port));
        let evs = d.until(c, LIMIT, |e| !e.is_empty());
        assert_eq!(evs, vec![ConnEvent::Connected]);
        d.send(c, b"GET / HTTP/1.0\r\n\r\n");
        let evs = d.until(c, LIMIT, ended);
        assert_eq!(data_of(&evs), b"HTTP/1.0 200 OK\r\n\r\nsecret body");
        assert_eq!(evs.last(), Some(&ConnEvent::Closed), "{evs:?}");
    }
    server.join().unwrap();
}

#[test]
fn tls_handshake_against_a_plain_server_fails_as_tls_and_sni_is_sent() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let mut hellos = Vec::new();
        for _ in 0..2 {
            let (mut s, _) = l.accept().unwrap();
            s.set_read_timeout(Some(LIMIT)).unwrap();
            let mut b = vec![0u8; 4096];
            let n = s.read(&mut b).unwrap_or(0);
            hellos.push(b[..n].to_vec());
            let _ = s.write_all(b"HTTP/1.0 400 Bad Request\r\n\r\n");
        }
        hellos
    });
    let mut d = Driver::new();
    for sni in [Some("sni.check.example".to_string()), None] {
        let c = d.connect(spec(Transport::Tls { sni }, "127.0.0.1", port));
        let evs = d.until(c, LIMIT, ended);
        assert!(
            matches!(evs.last(), Some(ConnEvent::Failed(ConnError::Tls(_)))),
            "{evs:?}"
        );
        assert!(!evs.contains(&ConnEvent::Connected));
    }
    let hellos = server.join().unwrap();
    let has = |h: &[u8], s: &[u8]| h.windows(s.len()).any(|w| w == s);
    assert_eq!(hellos[0].first(), Some(&0x16), "a TLS handshake record");
    assert!(has(&hellos[0], b"sni.check.example"), "SNI sent");
    assert!(!has(&hellos[1], b"sni.check.example"));
    assert!(!has(&hellos[1], b"127.0.0.1"), "no SNI without enable_sni");
}

#[test]
fn udp_echo_and_a_closed_port() {
    let mut d = Driver::new();
    for ip in ["127.0.0.1", "::1"] {
        let srv = UdpSocket::bind((ip, 0)).unwrap();
        let port = srv.local_addr().unwrap().port();
        let echo = std::thread::spawn(move || {
            srv.set_read_timeout(Some(LIMIT)).unwrap();
            let mut b = [0u8; 2048];
            for _ in 0..2 {
                let (n, from) = srv.recv_from(&mut b).unwrap();
                srv.send_to(&b[..n], from).unwrap();
            }
        });
        let c = d.connect(spec(Transport::Udp, ip, port));
        let evs = d.until(c, LIMIT, |e| !e.is_empty());
        assert_eq!(evs, vec![ConnEvent::Connected]);
        d.send(c, b"one");
        d.send(c, b"two datagrams");
        let evs = d.until(c, LIMIT, |e| e.len() >= 2);
        assert_eq!(
            evs,
            vec![
                ConnEvent::Data(b"one".to_vec()),
                ConnEvent::Data(b"two datagrams".to_vec())
            ],
            "{ip}: one Data per datagram"
        );
        echo.join().unwrap();
        d.perform(Action::Close { conn: c });

        let closed = UdpSocket::bind((ip, 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let c = d.connect(spec(Transport::Udp, ip, closed));
        d.send(c, b"anyone?");
        let evs = d.until(c, LIMIT, ended);
        assert_eq!(
            evs,
            vec![
                ConnEvent::Connected,
                ConnEvent::Failed(ConnError::Unreachable)
            ],
            "{ip}"
        );
    }
}

#[test]
fn icmp_echo_to_loopback() {
    if !require_root("icmp_echo_to_loopback") {
        return;
    }
    let mut d = Driver::new();
    for ip in ["127.0.0.1", "::1"] {
        // Two echoes to the same host at once: each hears its own replies only.
        let a = d.connect(spec(Transport::Icmp, ip, 0));
        let b = d.connect(spec(Transport::Icmp, ip, 0));
        for c in [a, b] {
            let evs = d.until(c, LIMIT, |e| !e.is_empty());
            assert_eq!(evs, vec![ConnEvent::Connected], "{ip}");
        }
        d.send(a, b"payload of a");
        d.send(b, b"payload of b");
        d.send(a, b"second of a");
        let mut got = Vec::new();
        let end = Instant::now() + LIMIT;
        while got.len() < 3 && Instant::now() < end {
            got.extend(d.turn(Duration::from_millis(20)));
        }
        got.sort_by_key(|(c, _)| *c);
        assert_eq!(
            got,
            vec![
                (a, ConnEvent::Data(b"payload of a".to_vec())),
                (a, ConnEvent::Data(b"second of a".to_vec())),
                (b, ConnEvent::Data(b"payload of b".to_vec())),
            ],
            "{ip}"
        );
        // A system ping meanwhile is someone else's: nothing for us.
        let cmd = if ip.contains(':') { "ping -6" } else { "ping" };
        let _ = sh(&format!("timeout 5 {cmd} -c 2 -i 0.2 {ip}"));
        assert_eq!(d.quiet_for(Duration::from_millis(100)), vec![]);
        d.perform(Action::Close { conn: a });
        d.perform(Action::Close { conn: b });
    }
    assert!(d.world.conns.is_empty());
}

#[test]
fn bind_if_fwmark_and_link_local_in_namespaces() {
    if !require_root("bind_if_fwmark_and_link_local_in_namespaces") {
        return;
    }
    ensure_installed("/usr/sbin/nft", "nftables");
    let a = Netns::new("sca");
    let b = Netns::new("scb");
    veth(&a, "eth0", &b, "eth0");
    let ll = |ns: &Netns| {
        let out = ns.must("ip -6 addr show dev eth0 scope link");
        let w = out.split_whitespace().skip_while(|w| *w != "inet6").nth(1);
        w.unwrap().split('/').next().unwrap().to_string()
    };
    // Wait for the link-local addresses (DAD is off in these namespaces).
    assert!(wait_for(Duration::from_secs(5), || {
        let (_, o) = b.sh("ip -6 addr show dev eth0 scope link");
        o.contains("inet6")
    }));
    let b_ll = ll(&b);
    // Server in b on its link-local address.
    let b_ll2 = b_ll.clone();
    let server = std::thread::spawn({
        let path = format!("/run/netns/{}", b.name);
        move || {
            let f = std::fs::File::open(&path).unwrap();
            use std::os::fd::AsRawFd;
            // SAFETY: setns for this thread only.
            assert_eq!(unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) }, 0);
            // SAFETY: a NUL-terminated literal.
            let idx = unsafe { libc::if_nametoindex(c"eth0".as_ptr()) };
            let ip: std::net::Ipv6Addr = b_ll2.parse().unwrap();
            let l = TcpListener::bind(std::net::SocketAddrV6::new(ip, 8080, 0, idx)).unwrap();
            l.set_nonblocking(true).unwrap();
            // Accept the link-local client (bounded), then exit.
            let end = Instant::now() + LIMIT;
            let (_s, peer) = loop {
                match l.accept() {
                    Ok(x) => break x,
                    Err(_) if Instant::now() < end => std::thread::sleep(Duration::from_millis(10)),
                    Err(e) => panic!("no link-local client: {e}"),
                }
            };
            std::thread::sleep(Duration::from_millis(100));
            peer
        }
    });
    a.must("nft add table inet sysconn");
    a.must("nft add chain inet sysconn out { type filter hook output priority 0 \\; }");
    a.must("nft add rule inet sysconn out meta mark 7 tcp dport 9 reject with tcp reset");
    let (ll_events, no_scope, no_dev, marked, unmarked, lo_bound) = a.run(move || {
        let l = TcpListener::bind("127.0.0.1:9").unwrap();
        let mut d = Driver::new();
        let mut sp = spec(Transport::Tcp, &b_ll, 8080);
        sp.bind_if = Some("eth0".into());
        let c = d.connect(sp.clone());
        let ll_events = d.until(c, LIMIT, |e| !e.is_empty());
        sp.bind_if = None;
        let c = d.connect(sp);
        let no_scope = d.until(c, LIMIT, ended);
        let mut sp = spec(Transport::Tcp, "127.0.0.1", 9);
        sp.bind_if = Some("nosuchdev0".into());
        let c = d.connect(sp.clone());
        let no_dev = d.until(c, LIMIT, ended);
        sp.bind_if = Some("lo".into());
        let c = d.connect(sp.clone());
        let lo_bound = d.until(c, LIMIT, |e| !e.is_empty());
        sp.bind_if = None;
        sp.fwmark = Some(7);
        let c = d.connect(sp.clone());
        let marked = d.until(c, LIMIT, ended);
        sp.fwmark = Some(8);
        let c = d.connect(sp);
        let unmarked = d.until(c, LIMIT, |e| !e.is_empty());
        drop(l);
        (ll_events, no_scope, no_dev, marked, unmarked, lo_bound)
    });
    let peer = server.join().unwrap();
    assert_eq!(ll_events, vec![ConnEvent::Connected]);
    assert!(peer.ip().to_string().starts_with("fe80"), "{peer}");
    assert!(
        matches!(&no_scope[..], [ConnEvent::Failed(ConnError::Other(m))] if m.contains("bind_if")),
        "{no_scope:?}"
    );
    assert!(
        matches!(&no_dev[..], [ConnEvent::Failed(ConnError::Other(m))] if m.contains("nosuchdev0") && m.contains("No such device")),
        "{no_dev:?}"
    );
    assert_eq!(lo_bound, vec![ConnEvent::Connected]);
    assert_eq!(
        marked,
        vec![ConnEvent::Failed(ConnError::Refused)],
        "mark 7 is rejected"
    );
    assert_eq!(unmarked, vec![ConnEvent::Connected], "mark 8 is not");
}

#[test]
fn odd_requests_fail_cleanly_with_one_event() {
    let mut d = Driver::new();
    let mut cases: Vec<(ConnectSpec, &str)> = vec![
        (spec(Transport::Tcp, "224.0.0.1", 80), "multicast TCP"),
        (spec(Transport::Udp, "255.255.255.255", 9), "broadcast UDP"),
        (spec(Transport::Tcp, "0.0.0.0", 0), "nowhere"),
    ];
    let mut s = spec(Transport::Tcp, "127.0.0.1", 80);
    s.bind_addr = Some("192.0.2.55".parse().unwrap());
    cases.push((s, "source not on this host"));
    let mut s = spec(Transport::Tcp, "127.0.0.1", 80);
    s.bind_if = Some("a-name-much-too-long-for-an-interface".into());
    cases.push((s, "bad bind_if"));
    for (sp, what) in cases {
        let c = d.connect(sp);
        let evs = d.until(c, LIMIT, ended);
        assert!(
            matches!(evs.last(), Some(ConnEvent::Failed(_))),
            "{what}: {evs:?}"
        );
        assert_eq!(
            evs.iter()
                .filter(|e| matches!(e, ConnEvent::Failed(_)))
                .count(),
            1,
            "{what}"
        );
    }
    // A datagram larger than UDP allows.
    let srv = UdpSocket::bind("127.0.0.1:0").unwrap();
    let c = d.connect(spec(
        Transport::Udp,
        "127.0.0.1",
        srv.local_addr().unwrap().port(),
    ));
    d.send(c, &vec![0u8; 70_000]);
    let evs = d.until(c, LIMIT, ended);
    assert!(
        matches!(
            &evs[..],
            [ConnEvent::Connected, ConnEvent::Failed(ConnError::Other(_))]
        ),
        "{evs:?}"
    );
    assert!(d.world.conns.is_empty());
}

#[test]
fn many_checks_due_at_once_are_spread_over_turns() {
    const N: usize = 300;
    let mut d = Driver::new();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    // All due at the same instant, as checks sharing a delay_loop are.
    let ids: Vec<ConnId> = (0..N)
        .map(|_| d.connect(spec(Transport::Tcp, "127.0.0.1", port)))
        .collect();
    // The first turn's opens went at once; the rest wait, and the loop does not sleep.
    assert!(d.world.conns.has_pending());
    assert_eq!(d.world.conns.len(), N);
    let mut connected = std::collections::BTreeSet::new();
    let mut max_per_turn = 0;
    let mut accepted = Vec::new();
    l.set_nonblocking(true).unwrap();
    let end = Instant::now() + LIMIT;
    while connected.len() < N && Instant::now() < end {
        let evs = d.turn(Duration::from_millis(20));
        let n = evs
            .iter()
            .filter(|(_, e)| *e == ConnEvent::Connected)
            .count();
        max_per_turn = max_per_turn.max(n);
        for (c, e) in evs {
            assert_eq!(e, ConnEvent::Connected, "{c}");
            connected.insert(c);
        }
        // Accept (and keep) what the kernel completed, so the backlog never fills.
        while let Ok((s, _)) = l.accept() {
            accepted.push(s);
        }
    }
    assert_eq!(connected.len(), N, "every check connected");
    assert!(ids.iter().all(|c| connected.contains(c)));
    assert!(
        max_per_turn <= SERVICES_PER_TURN,
        "{max_per_turn} connections served in one turn"
    );
    assert!(d.turns_with_pending >= (N / OPENS_PER_TURN) as u64 - 1);
    // A connect still waiting for its turn can be closed: nothing is ever reported for it.
    let ids: Vec<ConnId> = (0..OPENS_PER_TURN + 5)
        .map(|_| d.connect(spec(Transport::Tcp, "127.0.0.1", port)))
        .collect();
    let last = *ids.last().unwrap();
    d.perform(Action::Close { conn: last });
    let evs = d.quiet_for(Duration::from_millis(300));
    assert!(evs.iter().all(|(c, _)| *c != last), "{evs:?}");
    assert_eq!(evs.len(), OPENS_PER_TURN + 4);
}
