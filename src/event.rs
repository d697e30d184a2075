//! The boundary between the pure engine and the two worlds (`sys`, `sim`): the [`Event`]s a
//! world feeds in, the [`Action`]s the engine answers with, the [`World`] trait both worlds
//! implement, and the engine's [`Timer`] kinds (the values of its one timer wheel).
//!
//! Nothing in the engine (`engine`, `vrrp`, `sched`, `check`, `ipvs`) imports from
//! `crate::engine`: they share this vocabulary instead.
//!
//! How a world drives the engine (the same in `sys::reactor` and `sim::world`):
//!
//! ```text
//! let mut engine = Engine::new(config);
//! for each interface: engine.handle(now, Event::Interface(state));
//! engine.handle(now, Event::Startup);
//! loop {
//!     engine.drive(&mut world);          // perform every action (World::perform)
//!     sleep until engine.next_deadline() or an I/O event;
//!     engine.step(now, io_events);       // I/O events first, then the timers due at `now`
//! }
//! ```
//!
//! **Same-instant rule** (both worlds): events that a world observed at one instant are
//! handled in the order the world observed them, *before* the engine's timers due at that
//! instant fire. A packet that arrives at the very instant a Master_Down_Timer expires is
//! therefore heard first (no takeover), in the simulator as on Linux. `Engine::step` is the
//! one place that applies the rule.
//!
//! CONTRACT: variants and fields may be added; existing ones keep their meaning.

use crate::config::model::{Config, Route, Rule, ScriptCommand, VirtualAddress};
use crate::sched::Instant;
use crate::vrrp::State;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

pub type Mac = [u8; 6];

/// What the engine knows of one interface of the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfaceState {
    pub name: String,
    pub index: u32,
    pub up: bool,
    pub mac: Mac,
    /// IPv4 addresses, primary first.
    pub ipv4: Vec<Ipv4Addr>,
    /// IPv6 addresses; the link-local one is the VRRPv3/IPv6 source.
    pub ipv6: Vec<Ipv6Addr>,
}

/// A VRRP packet as received by a raw socket (IP header already parsed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedPacket {
    pub ifname: String,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IPv4 TTL or IPv6 Hop Limit.
    pub ttl: u8,
    /// The VRRP message (IP payload).
    pub payload: Vec<u8>,
}

/// Identifies one run of a tracked child process (track script, MISC_CHECK) so its exit can
/// be matched to the run that started it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ScriptRunId(pub u64);

/// How a child process ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScriptOutcome {
    Exited(i32),
    Signaled(i32),
    /// The world killed it after its timeout.
    TimedOut,
    /// It could not be started (message says why).
    SpawnFailed(String),
    /// The world did not start it this time (too many scripts running): no result, as
    /// keepalived's "expect idle - skipping run".
    Skipped,
}

/// Something that happened, stamped by the world with the instant it happened.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// Bring every instance from Initialize to its first state.
    Startup,
    /// Orderly shutdown (SIGTERM / SIGINT): priority-0 adverts, release addresses.
    Shutdown,
    /// Full state of one interface: sent for each interface before `Startup` and again on
    /// every change (link up/down, addresses).
    Interface(InterfaceState),
    /// An interface disappeared.
    InterfaceRemoved { name: String },
    /// A VRRP packet arrived.
    Packet(ReceivedPacket),
    /// Due timers: the world sends this when `now >= next_deadline()`.
    Timers,
    /// A tracked child process finished.
    ScriptExited {
        run: ScriptRunId,
        outcome: ScriptOutcome,
    },
    /// The value in a `track_file` changed (None: unreadable / not a number).
    TrackFileValue { name: String, value: Option<i64> },
    /// The number of processes matching a `vrrp_track_process` changed.
    TrackProcessCount { name: String, count: u32 },
    /// SIGHUP (or a simulated reload): apply this configuration in place, keepalived's
    /// way (instances matched by VRID / family / interface, Masters stay Master). The
    /// world has already judged the file (a file start-up would refuse never gets here).
    Reload(Box<Config>),
    /// An address was deleted from an interface by someone else (netlink RTM_DELADDR, or a
    /// simulated `ip addr del`). A Master whose VIP it was puts it back.
    AddressDeleted { ifname: String, addr: IpAddr },
    /// Something happened on a connection the engine opened with [`Action::Connect`].
    Conn { conn: ConnId, event: ConnEvent },
    /// What the world knows of its host that the engine cannot read: sent before
    /// `Startup` (and again at reload, so wall-clock steps are caught up).
    Host(HostInfo),
    /// The world's answer to [`Action::IpvsRead`]: the kernel's IPVS table as it is now
    /// (start-up reconciliation), or why IPVS cannot be managed on this host (no `ip_vs`
    /// module, no "IPVS" generic-netlink family, permission): the engine then says so once
    /// and sends no IPVS operation; VRRP and the checkers go on.
    IpvsTable(Result<crate::ipvs::model::Table, String>),
    /// The kernel refused an operation of [`Action::Ipvs`] (the world has logged it).
    IpvsFailed {
        op: crate::ipvs::diff::Op,
        error: String,
    },
}

/// Facts about the host, from the world (`sys`: gethostname, the effective user, the wall
/// clock and the time zone; `sim`: the host's name, `root`, the run's start as the epoch).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostInfo {
    /// The host name: keepalived's default `router_id`, `smtp_helo_name` and the domain of
    /// the default `notification_email_from`.
    pub hostname: String,
    /// The user the daemon runs as (the default `notification_email_from` is
    /// `user@hostname`, as keepalived's).
    pub user: String,
    /// Wall-clock nanoseconds since the Unix epoch at the engine's instant zero: the
    /// engine stamps an e-mail's `Date:` with this plus the instant of the event.
    pub wall_at_zero_ns: i128,
    /// Seconds east of UTC of local time (the `Date:` header's zone).
    pub utc_offset_secs: i64,
}

/// Identifies one connection (or datagram socket, or ICMP echo exchange) that the engine
/// opened for a health checker or the SMTP alerter. Never reused within a run. The owner
/// is part of the id, so the engine routes `Event::Conn` without a lookup table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId {
    pub owner: ConnOwner,
    /// Unique within the run (one sequence for every owner).
    pub seq: u64,
}

/// Which part of the engine opened a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConnOwner {
    /// A health checker of a real server.
    Checker,
    /// The SMTP alert client.
    Alerter,
}

impl std::fmt::Display for ConnId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let who = match self.owner {
            ConnOwner::Checker => "check",
            ConnOwner::Alerter => "smtp",
        };
        write!(f, "{who}#{}", self.seq)
    }
}

/// How a connection is carried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transport {
    /// A TCP stream.
    Tcp,
    /// A TCP stream with TLS on top (SSL_GET): the world does the handshake and carries
    /// plaintext; `sni` is the server name to send (`enable_sni`), certificates are not
    /// verified (keepalived checks liveness, not identity).
    Tls { sni: Option<String> },
    /// A connected UDP socket: each `Send` is one datagram, each `Data` one datagram.
    Udp,
    /// ICMP / ICMPv6 echo: each `Send` is the payload of one echo request (the world
    /// writes the header, identifier and sequence), each `Data` the payload of a reply.
    Icmp,
}

/// Where and how to open a connection (the checker options `connect_ip`, `connect_port`,
/// `bindto`, `bind_port`, `bind_if`, `fwmark`, resolved by the engine).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectSpec {
    pub transport: Transport,
    pub dst: IpAddr,
    /// Ignored for ICMP.
    pub port: u16,
    pub bind_addr: Option<IpAddr>,
    pub bind_port: Option<u16>,
    /// `bind_if`: SO_BINDTODEVICE (and the scope of an IPv6 link-local `dst`).
    pub bind_if: Option<String>,
    /// `fwmark`: SO_MARK on the socket.
    pub fwmark: Option<u32>,
}

/// What a world reports about a connection. After `Closed` or `Failed` (or the engine's
/// `Close`) nothing more comes for that connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnEvent {
    /// TCP (and TLS) handshake done; UDP / ICMP socket ready to send.
    Connected,
    /// Bytes received: a piece of the stream (at most 64 KiB per event), or one datagram,
    /// or one echo reply's payload.
    Data(Vec<u8>),
    /// The peer closed its side of the stream (TCP EOF).
    Closed,
    /// The connection failed; the world has closed it.
    Failed(ConnError),
}

/// Why a connection failed. Timeouts are the engine's own (its timer wheel).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnError {
    /// Connection refused (TCP RST to the SYN).
    Refused,
    /// Host, network or port unreachable (ICMP error; for UDP the way a closed port shows).
    Unreachable,
    /// Reset by the peer after it was established.
    Reset,
    /// The TLS handshake or record layer failed.
    Tls(String),
    /// Any other error (the message says which).
    Other(String),
}

impl std::fmt::Display for ConnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnError::Refused => f.write_str("connection refused"),
            ConnError::Unreachable => f.write_str("unreachable"),
            ConnError::Reset => f.write_str("connection reset by peer"),
            ConnError::Tls(m) => write!(f, "TLS error: {m}"),
            ConnError::Other(m) => f.write_str(m),
        }
    }
}

/// An advert to put on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingPacket {
    /// The instance that sends it (for logs and traces).
    pub instance: String,
    pub ifname: String,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// Source MAC to send from (the virtual MAC with `use_vmac`); `None`: the interface's.
    pub src_mac: Option<Mac>,
    /// IPv4 TTL / IPv6 Hop Limit: 255 (RFC), or `unicast_ttl` for unicast peers.
    pub ttl: u8,
    /// The VRRP message; the world adds the IP header (TTL / Hop Limit 255, protocol 112).
    pub payload: Vec<u8>,
}

/// Something the world must do.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    SendAdvert(OutgoingPacket),
    /// One gratuitous ARP (sender IP = target IP = `ip`, sender MAC = `mac`), broadcast.
    SendGratuitousArp {
        instance: String,
        ifname: String,
        ip: Ipv4Addr,
        mac: Mac,
    },
    /// One unsolicited neighbour advertisement for `ip` to ff02::1 (R=1 S=0 O=1, TLLA mac).
    SendUnsolicitedNa {
        instance: String,
        ifname: String,
        ip: Ipv6Addr,
        mac: Mac,
    },
    AddAddress {
        ifname: String,
        addr: VirtualAddress,
    },
    DelAddress {
        ifname: String,
        addr: VirtualAddress,
    },
    AddRoute(Route),
    DelRoute(Route),
    AddRule(Rule),
    DelRule(Rule),
    /// Create the macvlan of `use_vmac` (private mode) on `parent`.
    CreateVmac {
        name: String,
        parent: String,
        mac: Mac,
    },
    DeleteVmac {
        name: String,
    },
    /// An instance changed state (the world logs it as keepalived does and traces it).
    StateChanged {
        instance: String,
        from: State,
        to: State,
        priority: u8,
    },
    /// An instance's effective priority changed (tracking).
    PriorityChanged {
        instance: String,
        priority: u8,
    },
    /// Start a child process. `run` is set when the engine waits for its exit (track
    /// scripts); notify scripts are fire-and-forget (`run: None`, no timeout).
    RunScript {
        run: Option<ScriptRunId>,
        command: ScriptCommand,
        timeout: Option<Duration>,
    },
    /// Kill a running child (SIGTERM to its group, then SIGKILL).
    KillScript {
        run: ScriptRunId,
    },
    /// Write one line (with its newline) to a notify FIFO.
    WriteFifo {
        path: String,
        line: String,
    },
    /// Accept_Mode False (RFC 5798 §6.4.3, keepalived's `no_accept` / `vrrp_strict`): from
    /// now on drop IP traffic addressed to `addr` (a VIP of a non-owner Master) arriving on
    /// `ifname`; ARP / neighbour discovery for it is still answered. keepalived installs
    /// nftables drop rules; `sys` does the same, `sim` drops it in its kernel.
    BlockAddress {
        instance: String,
        ifname: String,
        addr: IpAddr,
    },
    /// Undo [`Action::BlockAddress`] (the VIP is released, or Accept_Mode changed).
    UnblockAddress {
        instance: String,
        ifname: String,
        addr: IpAddr,
    },
    /// A VRID conflict episode started on `instance` (extension; see `vrrp::conflict`):
    /// the engine has logged it; `sys` counts it, `sim` traces it.
    Conflict {
        instance: String,
        kind: crate::vrrp::conflict::ConflictKind,
        peer: IpAddr,
    },
    /// Open a connection (non-blocking); the world answers with `Event::Conn` for `conn`.
    Connect {
        conn: ConnId,
        spec: ConnectSpec,
    },
    /// Send bytes on an open connection (a stream write, one datagram, one echo request).
    Send {
        conn: ConnId,
        data: Vec<u8>,
    },
    /// Close a connection; no event follows for it.
    Close {
        conn: ConnId,
    },
    /// A real server's health changed, or its weight while up (the checker runtime has
    /// decided it and logged keepalived's line, e.g. `Removing service ... from VS ...`;
    /// the world counts it and, in `sim`, traces it). `vs` and `rs` are named as keepalived logs
    /// them (`[192.168.1.10]:tcp:80`); `weight` is the effective weight (0 when down with
    /// `inhibit_on_failure`). IPVS changes are actions of their own (issue 10).
    RealServerChanged {
        vs: String,
        rs: String,
        up: bool,
        weight: i32,
    },
    /// Read the kernel's IPVS table (services and their destinations); the world answers
    /// with [`Event::IpvsTable`].
    IpvsRead,
    /// Apply these IPVS operations in order (one generic-netlink command each in `sys`;
    /// the simulated kernel's table in `sim`). A refused one comes back as
    /// [`Event::IpvsFailed`]; the rest are still applied.
    Ipvs(Vec<crate::ipvs::diff::Op>),
    /// Start (`start`) or stop the LVS connection-sync daemon in `daemon.state`
    /// (IPVS_CMD_NEW_DAEMON / DEL_DAEMON).
    IpvsDaemon {
        start: bool,
        daemon: crate::ipvs::model::SyncDaemon,
    },
    /// Set IPVS's connection timeouts in seconds (`lvs_timeouts`; IPVS_CMD_SET_CONFIG);
    /// `None` leaves that timeout as the kernel has it. A refusal is logged by the world
    /// (no event).
    IpvsTimeouts {
        tcp: Option<u32>,
        tcpfin: Option<u32>,
        udp: Option<u32>,
    },
}

/// A world executes actions. The engine side never sees anything but this.
pub trait World {
    /// Carries out one action at instant `now`.
    fn perform(&mut self, now: Instant, action: Action);
}

/// Every timer of the engine; the value stored in its wheel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timer {
    /// Adver_Timer of instance `.0`.
    Advert(usize),
    /// Master_Down_Timer of instance `.0`.
    MasterDown(usize),
    /// The next round of a GARP / NA burst (`rounds` still to send, this one included).
    GarpRound { inst: usize, rounds: u32 },
    /// The start of a later burst.
    GarpBurst { inst: usize, kind: Burst },
    /// The next run of `vrrp_script` `.0`.
    Script(usize),
    /// The end of `vrrp_startup_delay`.
    Startup,
    /// Put back the VIPs of instance `.0` that were deleted behind its back (fires after
    /// the other events of the instant that reported the deletion).
    RestoreVips(usize),
    /// `smtp_connect_timeout` of the SMTP alert connection with sequence number `.0`
    /// (armed at connect and at each command).
    SmtpTimeout(u64),
    /// The SMTP alerter's next try after a failed delivery.
    SmtpRetry,
    /// A health checker's timer (`id` is the checker's run-stable id, kept across
    /// reloads; see `check::runtime`). Checker timers due at an instant fire after every
    /// VRRP timer due at that instant.
    Checker { id: u64, what: CheckTimer },
}

/// Which timer of a health checker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckTimer {
    /// The next check: `delay_loop`, `delay_before_retry`, or the start-up warmup.
    Run,
    /// `connect_timeout` of the dialogue in progress.
    Timeout,
}

/// Which later GARP burst a timer starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Burst {
    /// `garp_master_delay` after becoming master.
    Second,
    /// `garp_master_refresh`.
    Refresh,
    /// `garp_extra_if`: a periodic round on the VIPs' other interfaces.
    ExtraIf,
    /// `garp_lower_prio_delay` after a lower-priority advert.
    LowerPrio,
}
