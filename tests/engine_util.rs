//! Test support for the engine tests: a hand-wired LAN of engines with exact times.
//! Each `SendAdvert` payload of one engine is fed, unchanged, as the `Packet` of every other
//! running engine at the same instant. At one instant, every due timer of every host fires
//! before the packets they produced are delivered (so "lockstep" starts really tie).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS
#![allow(dead_code)]

use keepalived_rs::config::model::{Config, Family, VirtualAddress, VrrpInstance, VrrpVersion};
use keepalived_rs::config::Span;
use keepalived_rs::engine::Engine;
use keepalived_rs::event::{Action, Event, InterfaceState, OutgoingPacket, ReceivedPacket};
use keepalived_rs::sched::Instant;
use keepalived_rs::vrrp::packet::{self, Advert, V2Auth, V3Ipv4Checksum};
use keepalived_rs::vrrp::State;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Exact instant from a decimal string of seconds ("3.609375", "10.3").
pub fn at(s: &str) -> Instant {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let mut frac = frac.to_string();
    assert!(frac.len() <= 9, "too many decimals in {s}");
    while frac.len() < 9 {
        frac.push('0');
    }
    let ns = int.parse::<u64>().unwrap() * 1_000_000_000 + frac.parse::<u64>().unwrap();
    Instant::from_nanos(ns)
}

pub fn vip(a: &str) -> VirtualAddress {
    let prefix_len = if a.contains(':') { 128 } else { 24 };
    VirtualAddress::new(a.parse().unwrap(), prefix_len, Span::default())
}

/// The reference's conventions: VRID 51, VIP 192.0.2.100, v3 at 100 cs, eth0.
pub fn inst(name: &str, priority: u8) -> VrrpInstance {
    VrrpInstance {
        interface: Some("eth0".into()),
        vrid: 51,
        priority,
        version: VrrpVersion::V3,
        vips: vec![vip("192.0.2.100")],
        ..VrrpInstance::with_defaults(name, Span::default())
    }
}

pub fn inst6(name: &str, priority: u8) -> VrrpInstance {
    VrrpInstance {
        family: Family::Inet6,
        vips: vec![vip("fe80::100"), vip("2001:db8::100")],
        ..inst(name, priority)
    }
}

pub fn config(instances: Vec<VrrpInstance>) -> Config {
    Config {
        instances,
        ..Config::default()
    }
}

/// eth0 with primary address `ip`, link-local `ll`.
pub fn eth0(ip: Ipv4Addr, ll: Ipv6Addr, up: bool) -> InterfaceState {
    InterfaceState {
        name: "eth0".into(),
        index: 2,
        up,
        mac: [0x02, 0, 0, 0, 0, ip.octets()[3]],
        ipv4: vec![ip],
        ipv6: vec![ll],
    }
}

pub struct Host {
    pub name: String,
    pub ip: Ipv4Addr,
    pub ll: Ipv6Addr,
    pub config: Config,
    pub engine: Option<Engine>,
    /// Every action performed, with its instant.
    pub log: Vec<(Instant, Action)>,
}

#[derive(Clone, Debug)]
enum Ev {
    Start(usize),
    Kill(usize),
    Stop(usize),
    Inject {
        to: usize,
        src: IpAddr,
        ttl: u8,
        payload: Vec<u8>,
    },
    Link {
        host: usize,
        up: bool,
    },
}

pub struct Lan {
    pub hosts: Vec<Host>,
    pub now: Instant,
    events: Vec<(Instant, u64, Ev)>,
    seq: u64,
    wire: Vec<(usize, OutgoingPacket)>,
}

impl Default for Lan {
    fn default() -> Self {
        Self::new()
    }
}

impl Lan {
    pub fn new() -> Lan {
        Lan {
            hosts: Vec::new(),
            now: Instant::ZERO,
            events: Vec::new(),
            seq: 0,
            wire: Vec::new(),
        }
    }

    /// Adds host R<n> with primary 192.0.2.<n> and link-local fe80::<n>.
    pub fn host(&mut self, n: u8, instances: Vec<VrrpInstance>) -> usize {
        self.host_with(n, config(instances))
    }

    pub fn host_with(&mut self, n: u8, config: Config) -> usize {
        self.hosts.push(Host {
            name: format!("R{n}"),
            ip: Ipv4Addr::new(192, 0, 2, n),
            ll: Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, u16::from(n)),
            config,
            engine: None,
            log: Vec::new(),
        });
        self.hosts.len() - 1
    }

    fn push(&mut self, t: Instant, ev: Ev) {
        self.seq += 1;
        self.events.push((t, self.seq, ev));
    }

    pub fn start(&mut self, h: usize, t: &str) {
        self.push(at(t), Ev::Start(h));
    }
    /// The host dies silently.
    pub fn kill(&mut self, h: usize, t: &str) {
        self.push(at(t), Ev::Kill(h));
    }
    /// Orderly shutdown (SIGTERM).
    pub fn stop(&mut self, h: usize, t: &str) {
        self.push(at(t), Ev::Stop(h));
    }
    pub fn link(&mut self, h: usize, t: &str, up: bool) {
        self.push(at(t), Ev::Link { host: h, up });
    }
    /// A raw packet from `src` delivered to host `to` at `t`.
    pub fn inject_raw(&mut self, to: usize, t: &str, src: &str, ttl: u8, payload: Vec<u8>) {
        let src = src.parse().unwrap();
        self.push(
            at(t),
            Ev::Inject {
                to,
                src,
                ttl,
                payload,
            },
        );
    }
    /// An advert (encoded by the codec, pseudo-header form) from `src` to host `to`.
    pub fn inject(&mut self, to: usize, t: &str, src: &str, advert: &Advert) {
        let s: IpAddr = src.parse().unwrap();
        let dst = mcast(s);
        let payload = packet::encode(advert, s, dst, V3Ipv4Checksum::PseudoHeader);
        self.inject_raw(to, t, src, 255, payload);
    }

    fn next_event(&self) -> Option<Instant> {
        self.events.iter().map(|e| e.0).min()
    }

    fn next_timer(&self) -> Option<Instant> {
        self.hosts
            .iter()
            .filter_map(|h| h.engine.as_ref()?.next_deadline())
            .min()
    }

    /// Runs every event and timer due up to and including `until`.
    pub fn run_until(&mut self, until: &str) {
        let until = at(until);
        loop {
            let next = match (self.next_event(), self.next_timer()) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => match a.or(b) {
                    Some(x) => x,
                    None => break,
                },
            };
            if next > until {
                break;
            }
            self.now = next;
            // Scheduled events of this instant, in insertion order.
            let mut due: Vec<(Instant, u64, Ev)> = Vec::new();
            self.events.retain(|e| {
                if e.0 == next {
                    due.push(e.clone());
                    false
                } else {
                    true
                }
            });
            due.sort_by_key(|e| e.1);
            for (_, _, ev) in due {
                self.apply(ev);
            }
            // Every host's due timers before any delivery.
            for h in 0..self.hosts.len() {
                let due = self.hosts[h]
                    .engine
                    .as_ref()
                    .and_then(|e| e.next_deadline())
                    .is_some_and(|d| d <= next);
                if due {
                    self.feed(h, Event::Timers);
                }
            }
            self.deliver();
        }
        self.now = until;
    }

    fn apply(&mut self, ev: Ev) {
        match ev {
            Ev::Start(h) => {
                let host = &mut self.hosts[h];
                let mut e = Engine::new(&host.config);
                e.set_log_prefix(&host.name);
                host.engine = Some(e);
                let st = eth0(host.ip, host.ll, true);
                self.feed(h, Event::Interface(st));
                self.feed(h, Event::Startup);
            }
            Ev::Kill(h) => {
                self.hosts[h].engine = None;
            }
            Ev::Stop(h) => {
                self.feed(h, Event::Shutdown);
                self.deliver();
                self.hosts[h].engine = None;
            }
            Ev::Link { host, up } => {
                let st = eth0(self.hosts[host].ip, self.hosts[host].ll, up);
                self.feed(host, Event::Interface(st));
            }
            Ev::Inject {
                to,
                src,
                ttl,
                payload,
            } => {
                let p = ReceivedPacket {
                    ifname: "eth0".into(),
                    src,
                    dst: mcast(src),
                    ttl,
                    payload,
                };
                self.feed(to, Event::Packet(p));
            }
        }
    }

    fn feed(&mut self, h: usize, ev: Event) {
        let now = self.now;
        let host = &mut self.hosts[h];
        let Some(e) = host.engine.as_mut() else {
            return;
        };
        e.handle(now, ev);
        while let Some(a) = e.poll_action() {
            if let Action::SendAdvert(p) = &a {
                self.wire.push((h, p.clone()));
            }
            host.log.push((now, a));
        }
    }

    fn deliver(&mut self) {
        while !self.wire.is_empty() {
            let (from, p) = self.wire.remove(0);
            for to in 0..self.hosts.len() {
                if to == from || self.hosts[to].engine.is_none() {
                    continue;
                }
                if !p.dst.is_multicast() && !self.is_addr_of(to, p.dst) {
                    continue;
                }
                let rp = ReceivedPacket {
                    ifname: "eth0".into(),
                    src: p.src,
                    dst: p.dst,
                    ttl: 255,
                    payload: p.payload.clone(),
                };
                self.feed(to, Event::Packet(rp));
            }
        }
    }

    fn is_addr_of(&self, h: usize, a: IpAddr) -> bool {
        a == IpAddr::V4(self.hosts[h].ip) || a == IpAddr::V6(self.hosts[h].ll)
    }

    pub fn engine(&self, h: usize) -> &Engine {
        self.hosts[h].engine.as_ref().expect("host running")
    }

    pub fn state(&self, h: usize) -> State {
        self.engine(h).instance_states()[0].1
    }

    /// (instant, priority) of every advert host `h` sent.
    pub fn adverts(&self, h: usize) -> Vec<(Instant, u8)> {
        self.hosts[h]
            .log
            .iter()
            .filter_map(|(t, a)| match a {
                Action::SendAdvert(p) => {
                    let (adv, _) = packet::decode(&p.payload, p.src, p.dst).ok()?;
                    Some((*t, adv.priority))
                }
                _ => None,
            })
            .collect()
    }

    /// (instant, new state) of every transition of host `h`.
    pub fn transitions(&self, h: usize) -> Vec<(Instant, State)> {
        self.hosts[h]
            .log
            .iter()
            .filter_map(|(t, a)| match a {
                Action::StateChanged { to, .. } => Some((*t, *to)),
                _ => None,
            })
            .collect()
    }

    /// Instants at which host `h` became Master.
    pub fn master_at(&self, h: usize) -> Vec<Instant> {
        self.transitions(h)
            .into_iter()
            .filter(|(_, s)| *s == State::Master)
            .map(|(t, _)| t)
            .collect()
    }

    pub fn actions_at(&self, h: usize, t: &str) -> Vec<Action> {
        let t = at(t);
        self.hosts[h]
            .log
            .iter()
            .filter(|(x, _)| *x == t)
            .map(|(_, a)| a.clone())
            .collect()
    }
}

pub fn mcast(src: IpAddr) -> IpAddr {
    if src.is_ipv6() {
        "ff02::12".parse().unwrap()
    } else {
        "224.0.0.18".parse().unwrap()
    }
}

/// A VRRPv3 advert for VRID 51 carrying 192.0.2.100.
pub fn advert(priority: u8, interval_cs: u16) -> Advert {
    Advert {
        version: VrrpVersion::V3,
        vrid: 51,
        priority,
        interval_cs,
        addresses: vec!["192.0.2.100".parse().unwrap()],
        auth: V2Auth::None,
    }
}

/// `advert` as the `Packet` event a world would feed for it: received on `ifname` from
/// `src` with TTL / Hop Limit `ttl`, sent to the VRRP group of its family (v3/IPv4 with
/// the pseudo-header checksum, keepalived's default).
pub fn advert_packet(ifname: &str, src: IpAddr, ttl: u8, advert: &Advert) -> Event {
    let dst: IpAddr = if src.is_ipv4() {
        Ipv4Addr::new(224, 0, 0, 18).into()
    } else {
        "ff02::12".parse::<Ipv6Addr>().unwrap().into()
    };
    let payload = packet::encode(advert, src, dst, V3Ipv4Checksum::PseudoHeader);
    Event::Packet(ReceivedPacket {
        ifname: ifname.into(),
        src,
        dst,
        ttl,
        payload,
    })
}

/// A configuration loaded from `text`; any error fails the test.
pub fn load_text(text: &str) -> Config {
    let loaded = keepalived_rs::config::load_str(
        text,
        std::path::Path::new("test.conf"),
        &keepalived_rs::config::LoadOptions::default(),
    );
    let errors: Vec<_> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == keepalived_rs::config::Severity::Error)
        .map(|d| d.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    loaded.config
}

/// An instant from seconds (exact enough for the binary fractions the tests use).
pub fn secs_to_instant(s: f64) -> Instant {
    Instant::from_nanos((s * 1e9).round() as u64)
}

/// Every line logged in this test process (the `log` facade), for the engine tests that
/// assert keepalived's log lines. Engines are named (`Engine::set_name`), so each test
/// reads the lines of its own engine only.
pub mod logs {
    use std::sync::{Mutex, Once};

    static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

    struct Capture;

    impl log::Log for Capture {
        fn enabled(&self, _: &log::Metadata) -> bool {
            true
        }
        fn log(&self, r: &log::Record) {
            LINES
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(r.args().to_string());
        }
        fn flush(&self) {}
    }

    static LOGGER: Capture = Capture;

    /// Installs the capture (once per process) at level Info.
    pub fn install() {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            let _ = log::set_logger(&LOGGER);
            log::set_max_level(log::LevelFilter::Info);
        });
    }

    /// The lines logged by the engine named `name`, without the prefix.
    pub fn of(name: &str) -> Vec<String> {
        let p = format!("{name}: ");
        LINES
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter_map(|l| l.strip_prefix(&p).map(str::to_string))
            .collect()
    }
}
