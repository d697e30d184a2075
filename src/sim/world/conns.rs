//! Connections from the hosts' engines (health checkers, the SMTP alerter) to the
//! scenario's simulated real servers: `Action::Connect` / `Send` / `Close` carried over
//! the simulated network, each server's mode applied when a message reaches it, and what
//! the server answers fed back to the engine as `Event::Conn` through the run loop's queue
//! (the I/O of its instant, like a frame).
//!
//! The model, kept simple on purpose:
//! - **Reachability.** A server sits on one segment. A host reaches it through an up
//!   interface plugged into that segment (the `bind_if` one when given); with none, the
//!   connect fails at once (`Unreachable`, no route). An address no server holds answers
//!   nothing (the engine's timeout decides). A partition between the host and the server
//!   (`partition r1 | web1`) or a link that goes down loses what is in flight and what
//!   follows, silently, as TCP retransmitting into the void.
//! - **Timing.** Every message takes the segment's `delay` one way (jitter, loss and
//!   duplication are not applied: TCP hides them, and checks stay exact). TCP: the SYN
//!   reaches the server after one delay, `Connected` (or `Refused`) comes back after two.
//!   TLS adds a round trip for the handshake plus the server's `handshake` time. UDP and
//!   ICMP sockets are `Connected` at once.
//! - **Modes** are read when a message reaches the server: `down` refuses (UDP: port
//!   unreachable; ICMP: no reply) and resets data on connections accepted before; switching
//!   to `down` closes the open ones (the process exits: FIN). `hang` accepts and keeps the
//!   connection, silent, until the client closes it. `slow D` answers D late. `reset`
//!   resets when the client speaks. `wrong` asks the service for its wrong answer.
//!   `tls-fail` fails TLS handshakes. `silent` drops everything.
//! - **Bind options** are in the `connect` trace line; a `bind_if` the host lacks or a
//!   `bindto` address it does not hold fails the connect at once, as the kernel would.
//! - After the engine's `Close` (or a `Failed` it was told of) nothing more is delivered
//!   for that connection.

use super::{Pending, Sim};
use crate::event::{ConnError, ConnEvent, ConnId, ConnectSpec, Event, Transport};
use crate::sched::Instant;
use crate::sim::host::Status;
use crate::sim::registry::{self, ServiceFactory};
use crate::sim::scenario::{Mode, ServerDecl, ServerKind};
use crate::sim::service::{Answer, Service};
use crate::sim::trace::Rec;
use std::time::Duration;

/// Largest piece of a stream in one `ConnEvent::Data` (the contract of `event`).
const MAX_DATA: usize = 64 * 1024;
/// Longest request line the log keeps.
const MAX_LINE: usize = 200;

/// A simulated server while the run goes.
pub(super) struct ServerRt {
    pub decl: ServerDecl,
    pub mode: Mode,
    make: Option<ServiceFactory>,
}

/// One connection of an engine, with the server's side of it.
pub(super) struct SimConn {
    /// The host's life it belongs to.
    epoch: u64,
    spec: ConnectSpec,
    /// The first server declared at the destination address (the machine: its segment
    /// and its name for partitions); None: nobody holds the address.
    machine: Option<usize>,
    /// The server listening for this transport and port, if any.
    server: Option<usize>,
    /// The engine has not closed it.
    client_open: bool,
    /// The server accepted it and has not closed or reset it.
    server_open: bool,
    service: Option<Box<dyn Service>>,
    /// The request line being received (stream request log).
    line: Vec<u8>,
    /// Lines of the stream seen so far; None: the log is done with it.
    lines_seen: Option<usize>,
}

/// A message in flight between a host and a server.
#[derive(Clone, Debug)]
pub(super) enum Wire {
    ToServer {
        host: usize,
        conn: ConnId,
        msg: Uplink,
    },
    ToClient {
        host: usize,
        conn: ConnId,
        event: ConnEvent,
    },
}

#[derive(Clone, Debug)]
pub(super) enum Uplink {
    Syn,
    Data(Vec<u8>),
    Fin,
}

/// The servers of a scenario, ready to run.
pub(super) fn servers(decls: &[ServerDecl]) -> Vec<ServerRt> {
    decls
        .iter()
        .map(|d| ServerRt {
            decl: d.clone(),
            mode: d.mode,
            make: registry::factory(d).ok().map(|b| b.make),
        })
        .collect()
}

/// The trace line of a server's declaration.
pub(super) fn declaration_text(d: &ServerDecl) -> String {
    let note = match registry::factory(d) {
        Ok(b) => b.note,
        Err((_, m)) => m,
    };
    format!(
        "server {} {} on {}, mode {}: {note}",
        d.kind.name(),
        d.endpoint(),
        d.segment,
        d.mode
    )
}

fn spec_text(s: &ConnectSpec) -> String {
    let mut t = match &s.transport {
        Transport::Tcp => format!("tcp {}", std::net::SocketAddr::new(s.dst, s.port)),
        Transport::Tls { sni } => {
            let mut t = format!("tls {}", std::net::SocketAddr::new(s.dst, s.port));
            if let Some(n) = sni {
                t.push_str(&format!(" sni {n}"));
            }
            t
        }
        Transport::Udp => format!("udp {}", std::net::SocketAddr::new(s.dst, s.port)),
        Transport::Icmp => format!("icmp {}", s.dst),
    };
    if let Some(a) = s.bind_addr {
        t.push_str(&format!(" bind {a}"));
    }
    if let Some(p) = s.bind_port {
        t.push_str(&format!(" bind-port {p}"));
    }
    if let Some(d) = &s.bind_if {
        t.push_str(&format!(" dev {d}"));
    }
    if let Some(m) = s.fwmark {
        t.push_str(&format!(" mark {m}"));
    }
    t
}

fn step_text(e: &ConnEvent) -> String {
    match e {
        ConnEvent::Connected => "connected".into(),
        ConnEvent::Data(b) => format!("data {} bytes", b.len()),
        ConnEvent::Closed => "closed by peer".into(),
        ConnEvent::Failed(err) => format!("failed: {err}"),
    }
}

/// A request for the log: text when it is text, else its first bytes in hex.
fn request_text(b: &[u8]) -> String {
    let text = b
        .iter()
        .all(|c| (0x20..0x7f).contains(c) || matches!(c, b'\r' | b'\n' | b'\t'));
    if text {
        let s = String::from_utf8_lossy(b);
        s.trim_end_matches(['\r', '\n']).to_string()
    } else {
        let mut s = String::from("hex");
        for c in b.iter().take(32) {
            s.push_str(&format!(" {c:02x}"));
        }
        if b.len() > 32 {
            s.push_str(&format!(" ... ({} bytes)", b.len()));
        }
        s
    }
}

fn listens(d: &ServerDecl, spec: &ConnectSpec) -> bool {
    match spec.transport {
        Transport::Tcp | Transport::Tls { .. } => d.kind.stream() && d.port == spec.port,
        Transport::Udp => d.kind.datagram() && d.port == spec.port,
        Transport::Icmp => d.kind == ServerKind::Icmp,
    }
}

fn datagram(t: &Transport) -> bool {
    matches!(t, Transport::Udp | Transport::Icmp)
}

impl Sim {
    /// Records the servers' declarations (at the start of the run).
    pub(super) fn trace_servers(&mut self) {
        for k in 0..self.servers.len() {
            let text = declaration_text(&self.servers[k].decl);
            let name = self.servers[k].decl.name.clone();
            self.rec(&name, Rec::Server(text));
        }
    }

    fn one_way(&self, server: usize) -> Duration {
        self.net
            .params(&self.servers[server].decl.segment)
            .map_or(Duration::ZERO, |p| p.delay)
    }

    /// Host `i` has a way to the segment of `server`: an up interface plugged into it
    /// (`bind_if`, when given, must be one).
    fn path_up(&self, i: usize, server: usize, bind_if: Option<&str>) -> bool {
        let seg = &self.servers[server].decl.segment;
        let k = &self.hosts[i].kernel;
        let on_seg = |name: &str| {
            let up = k.iface(name).is_some_and(|f| f.up);
            let base = k.base_of(name);
            up && base.is_some_and(|b| b.up && b.segment.as_deref() == Some(seg.as_str()))
        };
        match bind_if {
            Some(dev) => on_seg(dev),
            None => k
                .ifaces
                .iter()
                .any(|f| f.parent.is_none() && on_seg(&f.name)),
        }
    }

    fn wire(&mut self, at: Instant, w: Wire) {
        self.push(at, Pending::Wire(w));
    }

    fn reply(&mut self, at: Instant, host: usize, conn: ConnId, event: ConnEvent) {
        self.wire(at, Wire::ToClient { host, conn, event });
    }

    /// `Action::Connect` from host `i`'s engine.
    pub(super) fn conn_connect(&mut self, i: usize, conn: ConnId, spec: ConnectSpec) {
        let hname = self.hosts[i].name.clone();
        self.rec(
            &hname,
            Rec::Conn {
                conn: conn.to_string(),
                step: format!("connect {}", spec_text(&spec)),
            },
        );
        if self.conns.contains_key(&(i, conn)) {
            self.rec(
                &hname,
                Rec::Warn(format!("connect: {conn} is already open")),
            );
            return;
        }
        let machine = self.servers.iter().position(|s| s.decl.ip == spec.dst);
        let server = self
            .servers
            .iter()
            .position(|s| s.decl.ip == spec.dst && listens(&s.decl, &spec));
        let k = &self.hosts[i].kernel;
        let err = if let Some(dev) = spec.bind_if.as_ref().filter(|d| k.iface(d).is_none()) {
            Some(ConnError::Other(format!("bind_if {dev}: no such device")))
        } else if let Some(a) = spec.bind_addr.filter(|a| !k.holds(*a)) {
            Some(ConnError::Other(format!(
                "bind {a}: cannot assign requested address"
            )))
        } else if machine.is_some_and(|m| !self.path_up(i, m, spec.bind_if.as_deref())) {
            Some(ConnError::Unreachable)
        } else {
            None
        };
        let transport = spec.transport.clone();
        self.conns.insert(
            (i, conn),
            SimConn {
                epoch: self.hosts[i].epoch,
                spec,
                machine,
                server,
                client_open: true,
                server_open: false,
                service: None,
                line: Vec::new(),
                lines_seen: Some(0),
            },
        );
        let now = self.clock.now();
        if let Some(e) = err {
            self.reply(now, i, conn, ConnEvent::Failed(e));
            return;
        }
        if datagram(&transport) {
            self.reply(now, i, conn, ConnEvent::Connected);
        } else if let Some(m) = machine {
            let d = self.one_way(m);
            self.wire(
                now + d,
                Wire::ToServer {
                    host: i,
                    conn,
                    msg: Uplink::Syn,
                },
            );
        }
    }

    /// `Action::Send` from host `i`'s engine.
    pub(super) fn conn_send(&mut self, i: usize, conn: ConnId, data: Vec<u8>) {
        let hname = self.hosts[i].name.clone();
        self.rec(
            &hname,
            Rec::Conn {
                conn: conn.to_string(),
                step: format!("send {} bytes", data.len()),
            },
        );
        let Some(c) = self.conns.get(&(i, conn)).filter(|c| c.client_open) else {
            self.rec(
                &hname,
                Rec::Warn(format!("send on {conn}, which is not open")),
            );
            return;
        };
        let Some(m) = c.machine else { return };
        let at = self.clock.now() + self.one_way(m);
        self.wire(
            at,
            Wire::ToServer {
                host: i,
                conn,
                msg: Uplink::Data(data),
            },
        );
    }

    /// `Action::Close` from host `i`'s engine: nothing more is delivered for `conn`; the
    /// server sees the FIN one delay later.
    pub(super) fn conn_close(&mut self, i: usize, conn: ConnId) {
        let hname = self.hosts[i].name.clone();
        self.rec(
            &hname,
            Rec::Conn {
                conn: conn.to_string(),
                step: "close".into(),
            },
        );
        let Some(c) = self.conns.get_mut(&(i, conn)) else {
            return;
        };
        c.client_open = false;
        match (c.machine, c.server_open) {
            (Some(m), true) => {
                let at = self.clock.now() + self.one_way(m);
                self.wire(
                    at,
                    Wire::ToServer {
                        host: i,
                        conn,
                        msg: Uplink::Fin,
                    },
                );
            }
            _ => {
                self.conns.remove(&(i, conn));
            }
        }
    }

    /// Host `i` stopped or died: its connections are gone.
    pub(super) fn drop_conns(&mut self, i: usize) {
        self.conns.retain(|(h, _), _| *h != i);
    }

    /// `at T server NAME MODE`.
    pub(super) fn server_mode(&mut self, name: &str, mode: Mode) {
        let Some(s) = self.servers.iter().position(|x| x.decl.name == name) else {
            self.rec("net", Rec::Warn(format!("no server {name}")));
            return;
        };
        self.servers[s].mode = mode;
        self.rec(name, Rec::Server(format!("mode {mode}")));
        if mode != Mode::Down {
            return;
        }
        // The server process is gone: the kernel closes its connections (FIN).
        let now = self.clock.now();
        let d = self.one_way(s);
        let open: Vec<(usize, ConnId)> = self
            .conns
            .iter()
            .filter(|(_, c)| c.server == Some(s) && c.server_open)
            .map(|(k, _)| *k)
            .collect();
        for (h, conn) in open {
            if let Some(c) = self.conns.get_mut(&(h, conn)) {
                c.server_open = false;
            }
            self.reply(now + d, h, conn, ConnEvent::Closed);
        }
    }

    /// A message in flight arrives.
    pub(super) fn deliver_wire(&mut self, w: Wire) {
        match w {
            Wire::ToClient { host, conn, event } => self.at_client(host, conn, event),
            Wire::ToServer { host, conn, msg } => self.at_server(host, conn, msg),
        }
    }

    fn at_client(&mut self, host: usize, conn: ConnId, event: ConnEvent) {
        let Some(c) = self.conns.get(&(host, conn)) else {
            return;
        };
        if !c.client_open {
            return;
        }
        let h = &self.hosts[host];
        if c.epoch != h.epoch || h.engine.is_none() {
            self.conns.remove(&(host, conn));
            return;
        }
        let hname = h.name.clone();
        self.rec(
            &hname,
            Rec::Conn {
                conn: conn.to_string(),
                step: step_text(&event),
            },
        );
        if matches!(event, ConnEvent::Failed(_)) {
            self.conns.remove(&(host, conn));
        }
        let ev = Event::Conn { conn, event };
        #[cfg(test)]
        self.conn_log.push((self.clock.now(), host, ev.clone()));
        match self.hosts[host].status {
            Status::Running => {
                if self.count_fire(host) {
                    self.engine_event(host, ev);
                }
            }
            Status::Paused => self.hosts[host].deferred.push(ev),
            Status::Idle | Status::Crashed => {}
        }
    }

    fn at_server(&mut self, host: usize, conn: ConnId, msg: Uplink) {
        let Some(c) = self.conns.get(&(host, conn)) else {
            return;
        };
        let Some(m) = c.machine else { return };
        let bind_if = c.spec.bind_if.clone();
        let dgram = datagram(&c.spec.transport);
        let hname = self.hosts[host].name.clone();
        let reach = self.net.reachable(&hname, &self.servers[m].decl.name)
            && self.path_up(host, m, bind_if.as_deref());
        if !reach {
            return; // lost on the way
        }
        match msg {
            Uplink::Syn => self.syn(host, conn, m),
            Uplink::Data(bytes) if dgram => self.datagram(host, conn, m, &bytes),
            Uplink::Data(bytes) => self.stream_data(host, conn, m, &bytes),
            Uplink::Fin => {
                if let Some(c) = self.conns.remove(&(host, conn)) {
                    if let (true, Some(s)) = (c.server_open, c.server) {
                        let name = self.servers[s].decl.name.clone();
                        self.rec(&name, Rec::Server(format!("{conn} closed by {hname}")));
                    }
                }
            }
        }
    }

    fn server_conn(&mut self, s: usize, host: usize, conn: ConnId, outcome: &str) {
        let name = self.servers[s].decl.name.clone();
        let from = self.hosts[host].name.clone();
        self.rec(
            &name,
            Rec::ServerConn {
                conn: conn.to_string(),
                from,
                outcome: outcome.into(),
            },
        );
    }

    /// A SYN reaches machine `m`.
    fn syn(&mut self, host: usize, conn: ConnId, m: usize) {
        let now = self.clock.now();
        let d = self.one_way(m);
        let Some(c) = self.conns.get(&(host, conn)) else {
            return;
        };
        let tls_client = matches!(c.spec.transport, Transport::Tls { .. });
        let Some(s) = c.server else {
            // Someone is there, nothing listens on that port.
            let mode = self.servers[m].mode;
            if mode == Mode::Silent {
                return self.server_conn(m, host, conn, "drop");
            }
            self.server_conn(m, host, conn, "refuse");
            return self.reply(now + d, host, conn, ConnEvent::Failed(ConnError::Refused));
        };
        let mode = self.servers[s].mode;
        match mode {
            Mode::Silent => return self.server_conn(s, host, conn, "drop"),
            Mode::Down => {
                self.server_conn(s, host, conn, "refuse");
                return self.reply(now + d, host, conn, ConnEvent::Failed(ConnError::Refused));
            }
            _ => {}
        }
        self.server_conn(s, host, conn, "accept");
        let decl = &self.servers[s].decl;
        let (kind, handshake) = (decl.kind, decl.handshake);
        let service = self.servers[s].make.as_ref().map(|f| f());
        // TLS: one more round trip and the server's handshake time before it is ready.
        let ready = if tls_client {
            now + d + d + handshake
        } else {
            now
        };
        let tls_failure = match (tls_client, kind.tls(), mode) {
            (true, false, _) => Some("handshake failure: the server does not speak TLS"),
            (true, true, Mode::TlsFail) => Some("handshake failure"),
            _ => None,
        };
        if let Some(why) = tls_failure {
            let name = self.servers[s].decl.name.clone();
            self.rec(&name, Rec::Server(format!("{conn} TLS handshake fails")));
            let e = ConnEvent::Failed(ConnError::Tls(why.into()));
            return self.reply(ready + d, host, conn, e);
        }
        if let Some(c) = self.conns.get_mut(&(host, conn)) {
            c.server_open = true;
            c.service = service;
        }
        self.reply(ready + d, host, conn, ConnEvent::Connected);
        self.serve(host, conn, s, ready, None);
    }

    /// The server's service answers (its greeting when `input` is None) as its mode says,
    /// sent at `at` (plus the mode's lateness).
    fn serve(&mut self, host: usize, conn: ConnId, s: usize, at: Instant, input: Option<&[u8]>) {
        let (late, wrong) = match self.servers[s].mode {
            Mode::Up | Mode::TlsFail => (Duration::ZERO, false),
            Mode::Wrong => (Duration::ZERO, true),
            Mode::Slow(x) => (x, false),
            Mode::Down | Mode::Hang | Mode::Reset | Mode::Silent => return,
        };
        let d = self.one_way(s);
        let Some(c) = self.conns.get_mut(&(host, conn)) else {
            return;
        };
        let Some(service) = c.service.as_mut() else {
            return;
        };
        let answer = match input {
            None => service.greeting(wrong),
            Some(b) => service.answer(b, wrong),
        };
        let Some(Answer { bytes, close }) = answer else {
            return;
        };
        let stream = !datagram(&c.spec.transport);
        if close && stream {
            c.server_open = false;
        }
        let arrive = at + late + d;
        if stream {
            for piece in bytes.chunks(MAX_DATA) {
                self.reply(arrive, host, conn, ConnEvent::Data(piece.to_vec()));
            }
            if close {
                self.reply(arrive, host, conn, ConnEvent::Closed);
            }
        } else {
            self.reply(arrive, host, conn, ConnEvent::Data(bytes));
        }
    }

    /// Stream bytes reach machine `m`.
    fn stream_data(&mut self, host: usize, conn: ConnId, m: usize, bytes: &[u8]) {
        let now = self.clock.now();
        let d = self.one_way(m);
        let Some(c) = self.conns.get(&(host, conn)) else {
            return;
        };
        let (Some(s), true) = (c.server, c.server_open) else {
            // Nothing holds that connection any more.
            if self.servers[m].mode != Mode::Silent {
                let e = ConnEvent::Failed(ConnError::Reset);
                self.reply(now + d, host, conn, e);
            }
            return;
        };
        let plain_to_tls =
            self.servers[s].decl.kind.tls() && !matches!(c.spec.transport, Transport::Tls { .. });
        self.log_stream(host, conn, s, bytes);
        let name = self.servers[s].decl.name.clone();
        match self.servers[s].mode {
            Mode::Silent | Mode::Hang => {}
            Mode::Down | Mode::Reset => {
                self.rec(&name, Rec::Server(format!("reset {conn}")));
                if let Some(c) = self.conns.get_mut(&(host, conn)) {
                    c.server_open = false;
                }
                self.reply(now + d, host, conn, ConnEvent::Failed(ConnError::Reset));
            }
            _ if plain_to_tls => {
                self.rec(&name, Rec::Server(format!("{conn} is not TLS: closed")));
                if let Some(c) = self.conns.get_mut(&(host, conn)) {
                    c.server_open = false;
                }
                self.reply(now + d, host, conn, ConnEvent::Closed);
            }
            _ => self.serve(host, conn, s, now, Some(bytes)),
        }
    }

    /// A datagram (UDP, or an ICMP echo request's payload) reaches machine `m`.
    fn datagram(&mut self, host: usize, conn: ConnId, m: usize, bytes: &[u8]) {
        let now = self.clock.now();
        let d = self.one_way(m);
        let Some(c) = self.conns.get(&(host, conn)) else {
            return;
        };
        let udp = c.spec.transport == Transport::Udp;
        let server = c.server;
        let target = server.unwrap_or(m);
        let mode = self.servers[target].mode;
        if mode == Mode::Silent {
            return;
        }
        let from = self.hosts[host].name.clone();
        let name = self.servers[target].decl.name.clone();
        self.rec(
            &name,
            Rec::ServerRequest {
                conn: conn.to_string(),
                from,
                text: request_text(bytes),
            },
        );
        let listening = server.is_some() && !matches!(mode, Mode::Down | Mode::Reset);
        if !listening {
            if udp {
                self.rec(&name, Rec::Server(format!("port unreachable to {conn}")));
                let e = ConnEvent::Failed(ConnError::Unreachable);
                self.reply(now + d, host, conn, e);
            }
            return;
        }
        if let Some(c) = self.conns.get_mut(&(host, conn)) {
            if c.service.is_none() {
                c.service = self.servers[target].make.as_ref().map(|f| f());
            }
        }
        self.serve(host, conn, target, now, Some(bytes));
    }

    /// The request log of a stream: the lines its kind keeps.
    fn log_stream(&mut self, host: usize, conn: ConnId, s: usize, bytes: &[u8]) {
        let kind = self.servers[s].decl.kind;
        let name = self.servers[s].decl.name.clone();
        let from = self.hosts[host].name.clone();
        let Some(c) = self.conns.get_mut(&(host, conn)) else {
            return;
        };
        let mut lines = Vec::new();
        for &b in bytes {
            let Some(n) = c.lines_seen else { break };
            if b != b'\n' && c.line.len() < MAX_LINE {
                c.line.push(b);
                continue;
            }
            if c.line.last() == Some(&b'\r') {
                c.line.pop();
            }
            match kind.log_line(n, &c.line) {
                Some(keep) => {
                    if keep {
                        lines.push(request_text(&c.line));
                    }
                    c.lines_seen = Some(n + 1);
                }
                None => c.lines_seen = None,
            }
            c.line.clear();
        }
        for text in lines {
            self.rec(
                &name,
                Rec::ServerRequest {
                    conn: conn.to_string(),
                    from: from.clone(),
                    text,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::Config;
    use crate::event::{Action, ConnOwner};
    use crate::sim::scenario::parse;
    use std::net::IpAddr;

    const HEAD: &str = "segment lan delay 1ms\nsegment other\n\
        host r1\n  iface eth0 lan 10.0.0.1/24\n  iface eth1 other 10.9.0.1/24\n  config <<END\nx\nEND\n";

    fn sim(servers: &str) -> Sim {
        let sc = parse(&format!("{HEAD}{servers}")).unwrap_or_else(|e| panic!("{e}"));
        let mut s = Sim::new(&sc, vec![Config::default()], 1);
        s.run_until(Instant::ZERO, |_| {});
        s
    }

    fn at(ms: u64) -> Instant {
        Instant::from_nanos(ms * 1_000_000)
    }

    fn id(seq: u64) -> ConnId {
        ConnId {
            owner: ConnOwner::Checker,
            seq,
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

    /// Runs to `ms` and performs `action` for r1 there.
    fn act(s: &mut Sim, ms: u64, action: Action) {
        s.run_until(at(ms), |_| {});
        s.perform(0, action);
    }

    fn connect(s: &mut Sim, ms: u64, seq: u64, sp: ConnectSpec) {
        act(
            s,
            ms,
            Action::Connect {
                conn: id(seq),
                spec: sp,
            },
        );
    }

    fn send(s: &mut Sim, ms: u64, seq: u64, data: &[u8]) {
        act(
            s,
            ms,
            Action::Send {
                conn: id(seq),
                data: data.to_vec(),
            },
        );
    }

    /// The events delivered for connection `seq`: (ms, short text).
    fn events(s: &mut Sim, until_ms: u64, seq: u64) -> Vec<(u64, String)> {
        s.run_until(at(until_ms), |_| {});
        s.conn_log
            .iter()
            .filter_map(|(t, _, e)| match e {
                Event::Conn { conn, event } if *conn == id(seq) => {
                    let text = match event {
                        ConnEvent::Data(b) => format!("data {}", String::from_utf8_lossy(b)),
                        other => step_text(other),
                    };
                    Some((t.as_nanos() / 1_000_000, text))
                }
                _ => None,
            })
            .collect()
    }

    fn trace(s: &Sim) -> String {
        crate::sim::trace::render(&s.trace)
    }

    const GET: &[u8] = b"GET /index.html HTTP/1.0\r\nUser-Agent: k\r\nHost: x\r\n\r\n";
    const WEB: &str = "server web1 lan 10.0.0.100:80 http\n  body hello\n  page /h 404 gone\n";

    fn ev(ms: u64, t: &str) -> (u64, String) {
        (ms, t.to_string())
    }

    #[test]
    fn up_server_answers_after_the_round_trips() {
        let mut s = sim(WEB);
        connect(&mut s, 1000, 1, spec(Transport::Tcp, "10.0.0.100", 80));
        s.run_until(at(1002), |_| {});
        send(&mut s, 1002, 1, GET);
        let got = events(&mut s, 2000, 1);
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0], ev(1002, "connected"));
        assert_eq!(got[1].0, 1004);
        assert!(got[1].1.starts_with("data HTTP/1.0 200 OK"), "{got:?}");
        assert!(got[1].1.ends_with("\r\n\r\nhello"), "{got:?}");
        assert_eq!(got[2], ev(1004, "closed by peer"));
        let t = trace(&s);
        assert!(t.contains("0s web1 server http 10.0.0.100:80 on lan, mode up: status 200, body md5 5d41402abc4b2a76b9719d911017c592"), "{t}");
        assert!(
            t.contains("1s r1 check#1 connect tcp 10.0.0.100:80\n"),
            "{t}"
        );
        assert!(t.contains("1.001s web1 accept check#1 from r1\n"), "{t}");
        assert!(
            t.contains("1.003s web1 request check#1 from r1 \"GET /index.html HTTP/1.0\"\n"),
            "{t}"
        );
        // HTTP: the request line and the Host header.
        assert!(
            t.contains("1.003s web1 request check#1 from r1 \"Host: x\"\n"),
            "{t}"
        );
        assert!(!t.contains("User-Agent"), "{t}");
        // A page of its own.
        connect(&mut s, 3000, 2, spec(Transport::Tcp, "10.0.0.100", 80));
        send(&mut s, 3002, 2, b"GET /h HTTP/1.0\r\n\r\n");
        let got = events(&mut s, 4000, 2);
        assert!(got[1].1.starts_with("data HTTP/1.0 404 "), "{got:?}");
    }

    #[test]
    fn down_refuses_and_wrong_answers_wrongly() {
        let mut s = sim(&format!(
            "{WEB}at 0.5s server web1 down\nat 1.5s server web1 wrong\n"
        ));
        connect(&mut s, 1000, 1, spec(Transport::Tcp, "10.0.0.100", 80));
        assert_eq!(
            events(&mut s, 1400, 1),
            vec![ev(1002, "failed: connection refused")]
        );
        // Nothing listens on another port of the same machine.
        connect(&mut s, 1400, 2, spec(Transport::Tcp, "10.0.0.100", 81));
        assert_eq!(
            events(&mut s, 1500, 2),
            vec![ev(1402, "failed: connection refused")]
        );
        connect(&mut s, 2000, 3, spec(Transport::Tcp, "10.0.0.100", 80));
        send(&mut s, 2002, 3, GET);
        let got = events(&mut s, 3000, 3);
        assert!(got[1].1.starts_with("data HTTP/1.0 500 "), "{got:?}");
        assert!(got[1].1.ends_with("wrong hello"), "{got:?}");
        let t = trace(&s);
        assert!(t.contains("0.5s web1 mode down\n"), "{t}");
        assert!(t.contains("1.001s web1 refuse check#1 from r1\n"), "{t}");
    }

    #[test]
    fn hang_holds_the_connection_until_the_client_closes() {
        let mut s = sim(&format!("{WEB}  \nat 0s server web1 hang\n"));
        connect(&mut s, 1000, 1, spec(Transport::Tcp, "10.0.0.100", 80));
        send(&mut s, 1002, 1, GET);
        act(&mut s, 4000, Action::Close { conn: id(1) });
        assert_eq!(events(&mut s, 9000, 1), vec![ev(1002, "connected")]);
        let t = trace(&s);
        assert!(t.contains("1.003s web1 request check#1"), "{t}");
        assert!(
            t.contains("4s r1 check#1 close\n4.001s web1 check#1 closed by r1\n"),
            "{t}"
        );
        assert!(s.conns.is_empty());
        // Sending after the close is the engine's mistake: a warning, nothing sent.
        send(&mut s, 9000, 1, b"x");
        assert!(trace(&s).contains("WARNING send on check#1, which is not open"));
    }

    #[test]
    fn slow_answers_late_and_a_close_before_the_answer_wins() {
        let mut s = sim(&format!("{WEB}at 0s server web1 slow 2s\n"));
        connect(&mut s, 1000, 1, spec(Transport::Tcp, "10.0.0.100", 80));
        send(&mut s, 1002, 1, GET);
        let got = events(&mut s, 5000, 1);
        assert_eq!(got[0], ev(1002, "connected"));
        assert_eq!(got[1].0, 3004, "{got:?}");
        assert_eq!(got[2], ev(3004, "closed by peer"));
        connect(&mut s, 6000, 2, spec(Transport::Tcp, "10.0.0.100", 80));
        send(&mut s, 6002, 2, GET);
        act(&mut s, 7000, Action::Close { conn: id(2) });
        assert_eq!(events(&mut s, 10_000, 2), vec![ev(6002, "connected")]);
    }

    #[test]
    fn reset_when_the_client_speaks_and_down_closes_open_connections() {
        let mut s = sim(&format!(
            "{WEB}at 0s server web1 reset\nat 3s server web1 hang\nat 4s server web1 down\n"
        ));
        connect(&mut s, 1000, 1, spec(Transport::Tcp, "10.0.0.100", 80));
        send(&mut s, 1002, 1, GET);
        assert_eq!(
            events(&mut s, 2000, 1),
            vec![
                ev(1002, "connected"),
                ev(1004, "failed: connection reset by peer")
            ]
        );
        assert!(trace(&s).contains("1.003s web1 reset check#1\n"));
        connect(&mut s, 3500, 2, spec(Transport::Tcp, "10.0.0.100", 80));
        assert_eq!(
            events(&mut s, 5000, 2),
            vec![ev(3502, "connected"), ev(4001, "closed by peer")]
        );
    }

    #[test]
    fn tls_handshake_delay_failure_and_mismatch() {
        let mut s = sim(&format!(
            "{WEB}server sec lan 10.0.0.100:443 https handshake 10ms\n  body hi\n\
             at 2s server sec tls-fail\n"
        ));
        let tls = || Transport::Tls {
            sni: Some("www".into()),
        };
        connect(&mut s, 1000, 1, spec(tls(), "10.0.0.100", 443));
        s.run_until(at(1014), |_| {});
        send(&mut s, 1014, 1, GET);
        let got = events(&mut s, 1900, 1);
        assert_eq!(got[0], ev(1014, "connected"));
        assert_eq!(got[1].0, 1016);
        assert!(got[1].1.ends_with("\r\n\r\nhi"), "{got:?}");
        connect(&mut s, 3000, 2, spec(tls(), "10.0.0.100", 443));
        assert_eq!(
            events(&mut s, 3900, 2),
            vec![ev(3014, "failed: TLS error: handshake failure")]
        );
        // TLS to a plain HTTP server; plain HTTP to the TLS one.
        connect(&mut s, 4000, 3, spec(tls(), "10.0.0.100", 80));
        let got = events(&mut s, 4900, 3);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, 4004);
        assert!(got[0].1.contains("does not speak TLS"), "{got:?}");
        act(&mut s, 4900, Action::Close { conn: id(3) });
        connect(&mut s, 5000, 4, spec(Transport::Tcp, "10.0.0.100", 443));
        send(&mut s, 5002, 4, GET);
        assert_eq!(
            events(&mut s, 6000, 4),
            vec![ev(5002, "connected"), ev(5004, "closed by peer")]
        );
        assert!(trace(&s).contains("1s r1 check#1 connect tls 10.0.0.100:443 sni www\n"));
    }

    #[test]
    fn reachability_binds_partitions_and_silence() {
        let mut s = sim(&format!(
            "{WEB}server far other 10.9.0.100:80 tcp\n\
             at 2s partition r1 | web1\nat 3s heal\nat 4s server web1 silent\n\
             at 6s link r1 eth1 down\n"
        ));
        // bind_if the host lacks; an address it does not hold; an interface on the
        // wrong segment: at once, without a packet.
        let mut sp = spec(Transport::Tcp, "10.0.0.100", 80);
        sp.bind_if = Some("eth7".into());
        connect(&mut s, 1000, 1, sp);
        let mut sp = spec(Transport::Tcp, "10.0.0.100", 80);
        sp.bind_addr = Some("10.0.0.99".parse::<IpAddr>().unwrap());
        connect(&mut s, 1000, 2, sp);
        let mut sp = spec(Transport::Tcp, "10.0.0.100", 80);
        sp.bind_if = Some("eth1".into());
        sp.bind_addr = Some("10.9.0.1".parse::<IpAddr>().unwrap());
        sp.bind_port = Some(5000);
        sp.fwmark = Some(7);
        connect(&mut s, 1000, 3, sp);
        assert_eq!(
            events(&mut s, 1000, 1),
            vec![ev(1000, "failed: bind_if eth7: no such device")]
        );
        assert_eq!(
            events(&mut s, 1000, 2),
            vec![ev(
                1000,
                "failed: bind 10.0.0.99: cannot assign requested address"
            )]
        );
        assert_eq!(
            events(&mut s, 1000, 3),
            vec![ev(1000, "failed: unreachable")]
        );
        assert!(trace(&s).contains(
            "1s r1 check#3 connect tcp 10.0.0.100:80 bind 10.9.0.1 bind-port 5000 dev eth1 mark 7\n"
        ));
        // The other segment has no delay: connected at once through eth1.
        connect(&mut s, 1500, 4, spec(Transport::Tcp, "10.9.0.100", 80));
        assert_eq!(events(&mut s, 1500, 4), vec![ev(1500, "connected")]);
        // Partitioned: nothing comes back; healed: connected again.
        connect(&mut s, 2500, 5, spec(Transport::Tcp, "10.0.0.100", 80));
        connect(&mut s, 3500, 6, spec(Transport::Tcp, "10.0.0.100", 80));
        assert_eq!(events(&mut s, 3900, 5), vec![]);
        assert_eq!(events(&mut s, 3900, 6), vec![ev(3502, "connected")]);
        // Silent: the SYN is dropped, no answer at all; nobody at an address: the same.
        connect(&mut s, 5000, 7, spec(Transport::Tcp, "10.0.0.100", 80));
        connect(&mut s, 5000, 8, spec(Transport::Tcp, "10.0.0.77", 80));
        assert_eq!(events(&mut s, 5900, 7), vec![]);
        assert_eq!(events(&mut s, 5900, 8), vec![]);
        assert!(trace(&s).contains("5.001s web1 drop check#7 from r1\n"));
        // The only way to `far` is down: no route.
        connect(&mut s, 7000, 9, spec(Transport::Tcp, "10.9.0.100", 80));
        assert_eq!(
            events(&mut s, 7000, 9),
            vec![ev(7000, "failed: unreachable")]
        );
    }

    #[test]
    fn datagrams_to_a_closed_port_and_echo_without_responder() {
        let mut s = sim(WEB);
        connect(&mut s, 1000, 1, spec(Transport::Udp, "10.0.0.100", 53));
        send(&mut s, 1000, 1, &[0x12, 0x34, 0, 1]);
        assert_eq!(
            events(&mut s, 2000, 1),
            vec![ev(1000, "connected"), ev(1002, "failed: unreachable")]
        );
        let t = trace(&s);
        assert!(
            t.contains("1.001s web1 request check#1 from r1 \"hex 12 34 00 01\"\n"),
            "{t}"
        );
        assert!(
            t.contains("1.001s web1 port unreachable to check#1\n"),
            "{t}"
        );
        connect(&mut s, 3000, 2, spec(Transport::Icmp, "10.0.0.100", 0));
        send(&mut s, 3000, 2, b"ping");
        assert_eq!(events(&mut s, 4000, 2), vec![ev(3000, "connected")]);
    }

    #[test]
    fn big_answers_come_in_64k_pieces_and_paused_hosts_get_them_late() {
        let body = "y".repeat(100_000);
        let mut s = sim(&format!(
            "server web1 lan 10.0.0.100:80 http\n  body \"{body}\"\nat 1.001s pause r1\nat 3s resume r1\n"
        ));
        connect(&mut s, 1000, 1, spec(Transport::Tcp, "10.0.0.100", 80));
        // Paused: the event waits with the host's other events until it resumes.
        assert_eq!(events(&mut s, 2000, 1), vec![ev(1002, "connected")]);
        let waiting = |s: &Sim| {
            s.hosts[0]
                .deferred
                .iter()
                .filter(|e| matches!(e, Event::Conn { .. }))
                .count()
        };
        assert_eq!(waiting(&s), 1);
        s.run_until(at(3000), |_| {});
        assert_eq!(waiting(&s), 0);
        send(&mut s, 3000, 1, GET);
        s.run_until(at(3002), |_| {});
        let sizes: Vec<usize> = s
            .conn_log
            .iter()
            .filter_map(|(_, _, e)| match e {
                Event::Conn {
                    event: ConnEvent::Data(b),
                    ..
                } => Some(b.len()),
                _ => None,
            })
            .collect();
        assert_eq!(sizes.len(), 2, "{sizes:?}");
        assert_eq!(sizes[0], MAX_DATA);
        assert!(sizes[1] > 100_000 - MAX_DATA);
    }

    #[test]
    fn killed_host_loses_its_connections() {
        let mut s = sim(&format!(
            "{WEB}at 0s server web1 hang\nat 2s kill r1\nat 3s start r1\n"
        ));
        connect(&mut s, 1000, 1, spec(Transport::Tcp, "10.0.0.100", 80));
        s.run_until(at(2500), |_| {});
        assert!(s.conns.is_empty());
        connect(&mut s, 3500, 1, spec(Transport::Tcp, "10.0.0.100", 80));
        assert_eq!(
            events(&mut s, 4000, 1),
            vec![ev(1002, "connected"), ev(3502, "connected")]
        );
    }

    #[test]
    fn real_server_changes_are_traced_and_expectations_see_them() {
        let text = format!(
            "{HEAD}{WEB}\
             expect 2s r1 real-server [10.0.0.100]:tcp:80 down weight 0 vs [10.0.0.1]:tcp:80\n\
             expect 3s r1 rs [10.0.0.100]:tcp:80 up\n\
             expect never r1 rs [10.0.0.100]:tcp:80 up between 0s 2.5s\n\
             expect count 2 web1 receives connection between 0s 5s\n\
             expect count 1 web1 receives connection from r1 between 1.5s 5s\n\
             expect web1 receives request \"GET /index.html\" from r1\n\
             expect count 0 web1 receives request \"GET /other\"\n\
             expect 2s r1 rs [10.0.0.100]:tcp:80 up\n"
        );
        let sc = parse(&text).unwrap_or_else(|e| panic!("{e}"));
        let mut s = Sim::new(&sc, vec![Config::default()], 1);
        connect(&mut s, 1000, 1, spec(Transport::Tcp, "10.0.0.100", 80));
        send(&mut s, 1002, 1, GET);
        let rs = |up, weight| Action::RealServerChanged {
            vs: "[10.0.0.1]:tcp:80".into(),
            rs: "[10.0.0.100]:tcp:80".into(),
            up,
            weight,
        };
        act(&mut s, 2000, rs(false, 0));
        connect(&mut s, 2000, 2, spec(Transport::Tcp, "10.0.0.100", 80));
        act(&mut s, 3000, rs(true, 1));
        let end = at(5000);
        s.run_until(end, |_| {});
        assert!(
            trace(&s).contains("2s r1 rs down [10.0.0.100]:tcp:80 weight 0 vs [10.0.0.1]:tcp:80\n")
        );
        let none = |_: &str, _: Option<&str>, _: &str| Err("no counters".to_string());
        let results: Vec<bool> = sc
            .expects
            .iter()
            .map(|e| crate::sim::expect::check(e, &s.trace, end, &none).is_ok())
            .collect();
        assert_eq!(results, [true, true, true, true, true, true, true, false]);
    }
}
