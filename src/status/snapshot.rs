//! What the status dumps are rendered from: a plain copy of the engine's state at one
//! instant (`Engine::snapshot`), with no reference back into the engine. Times are the
//! engine's monotonic instants; the world turns them into wall-clock times when it renders
//! ([`super::HostFacts`]).

use crate::config::model::VirtualServer;
use crate::config::model::{Checker, GlobalDefs, RealServer, SyncGroup, TrackFile, TrackProcess};
use crate::config::model::{VrrpInstance, VrrpScript};
use crate::event::InterfaceState;
use crate::sched::Instant;
use crate::vrrp::conflict::ConflictKind;
use crate::vrrp::reason::Reason;
use crate::vrrp::stats::Stats;
use crate::vrrp::State;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// The engine's state at one instant.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// The instant the snapshot was taken.
    pub now: Instant,
    pub global: GlobalDefs,
    pub instances: Vec<InstanceStatus>,
    pub groups: Vec<GroupStatus>,
    pub scripts: Vec<ScriptStatus>,
    pub files: Vec<FileStatus>,
    pub processes: Vec<ProcessStatus>,
    /// Every interface the engine knows, by index.
    pub interfaces: Vec<InterfaceState>,
    /// Counters of packets no instance claimed.
    pub host_stats: Stats,
    /// Virtual servers and the health of their real servers (the checker runtime).
    pub virtual_servers: Vec<VirtualServerStatus>,
    /// The IPVS table the daemon manages (issue 10).
    pub ipvs: IpvsStatus,
}

/// What the daemon knows of the kernel's IPVS table: whether it can manage it, the table
/// as it believes it is (every service the configuration wants, with its destinations;
/// services present in the kernel that the configuration does not own are not shown),
/// each virtual server's quorum, and the sync daemons it runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IpvsStatus {
    /// None: not known yet (no virtual server, or the world has not answered `IpvsRead`);
    /// Some(Err(why)): IPVS unavailable on this host; Some(Ok(())): managed.
    pub available: Option<Result<(), String>>,
    pub table: crate::ipvs::model::Table,
    /// Per configured virtual server (configuration order): (name as keepalived logs it,
    /// quorum met).
    pub quorum: Vec<(String, bool)>,
    /// The sync daemons running (master and/or backup).
    pub sync_daemons: Vec<crate::ipvs::model::SyncDaemon>,
}

/// What kind of object an instance tracks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TrackKind {
    Interface,
    Script,
    File,
    Process,
}

/// One tracked object of an instance (or of its sync group), with the weight that applies
/// to this instance (a reference's `weight` overrides the object's; 0 inside a sync group
/// without `sync_group_tracking_weight`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tracked {
    pub kind: TrackKind,
    pub name: String,
    pub weight: i32,
    pub reverse: bool,
    /// Tracked through the instance's sync group rather than the instance itself.
    pub via_group: bool,
    /// The object puts the instance in FAULT right now.
    pub fault: bool,
    /// What it adds to the priority right now.
    pub delta: i32,
}

/// One `vrrp_instance`.
#[derive(Clone, Debug, PartialEq)]
pub struct InstanceStatus {
    /// The configuration as the engine runs it (global defaults resolved in).
    pub cfg: VrrpInstance,
    pub state: State,
    /// The state the instance is heading for: its state, or while it is initialising the
    /// configured `state`.
    pub wantstate: State,
    pub effective_priority: u8,
    /// Base priority plus every tracking adjustment, before clamping to 1..=254.
    pub total_priority: i64,
    /// Our advertisement interval.
    pub adver_int: Duration,
    /// Master_Adver_Interval (v3: learned from the Master).
    pub master_adver_int: Duration,
    /// Master_Down_Interval with the current priority and learned interval.
    pub down_interval: Duration,
    pub last_transition: Option<Instant>,
    /// When the instance first left Initialize (SNMP's up-time).
    pub up_since: Option<Instant>,
    /// Why the state last changed (None before the first transition).
    pub last_transition_reason: Option<Reason>,
    /// The deadline the instance waits for: Adver_Timer (Master) or Master_Down_Timer.
    pub read_timeout: Option<Instant>,
    /// The Master as last heard (address, advertised priority).
    pub master_heard: Option<(IpAddr, u8)>,
    /// The advert source address, and whether it comes from the configuration.
    pub src_addr: Option<IpAddr>,
    pub src_from_config: bool,
    /// The VIPs are on the interface (the instance is Master).
    pub vips_set: bool,
    pub sync_group: Option<String>,
    /// The interface carrying the VIPs (`use_vmac` interface or `interface`).
    pub vip_ifname: String,
    /// Index of the instance's interface, when known.
    pub ifindex: Option<u32>,
    /// The instance's interface is up (when known).
    pub iface_up: Option<bool>,
    /// Tracked objects in FAULT, plus the instance's own interface when down.
    pub faults: u32,
    pub tracked: Vec<Tracked>,
    pub stats: Stats,
    /// VRID conflict episodes (extension): every kind raised at least once.
    pub conflicts: Vec<ConflictStatus>,
}

/// The episodes of one kind of VRID conflict of an instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConflictStatus {
    pub kind: ConflictKind,
    /// Episodes raised so far.
    pub episodes: u64,
    /// When the current (or last) episode started, and when it was last seen.
    pub since: Option<Instant>,
    pub last_seen: Option<Instant>,
    /// The router that showed it last.
    pub peer: Option<IpAddr>,
    /// An episode is going on (seen within a Master_Down_Interval).
    pub active: bool,
}

/// One `vrrp_sync_group`.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupStatus {
    pub cfg: SyncGroup,
    /// The state last announced for the group.
    pub state: State,
    pub members_fault: u32,
    pub members_init: u32,
    /// The group's own tracked objects (weights as they apply to its members).
    pub tracked: Vec<Tracked>,
}

/// Which instance tracks an object, with the weight that applies to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tracker {
    pub instance: String,
    pub weight: i32,
    pub reverse: bool,
}

/// One `vrrp_script`.
#[derive(Clone, Debug, PartialEq)]
pub struct ScriptStatus {
    pub cfg: VrrpScript,
    /// GOOD (true) or BAD.
    pub ok: bool,
    /// A run is in progress.
    pub running: bool,
    pub trackers: Vec<Tracker>,
}

/// One `track_file`.
#[derive(Clone, Debug, PartialEq)]
pub struct FileStatus {
    pub cfg: TrackFile,
    /// The value read (None: not read yet or unreadable, counted as 0).
    pub value: Option<i64>,
    pub trackers: Vec<Tracker>,
}

/// One `vrrp_track_process`.
#[derive(Clone, Debug, PartialEq)]
pub struct ProcessStatus {
    pub cfg: TrackProcess,
    /// Matching processes (None until the world has counted them).
    pub count: Option<u32>,
    pub have_quorum: bool,
    pub trackers: Vec<Tracker>,
}

/// One `virtual_server` as the checker runtime runs it.
#[derive(Clone, Debug, PartialEq)]
pub struct VirtualServerStatus {
    /// keepalived's name of it in log lines (`[10.0.0.1]:tcp:80`, `FWM 5`).
    pub name: String,
    /// Its configuration, without the real servers (they follow).
    pub cfg: Arc<VirtualServer>,
    pub real_servers: Vec<RealServerStatus>,
}

/// One `real_server` and its checkers.
#[derive(Clone, Debug, PartialEq)]
pub struct RealServerStatus {
    /// keepalived's name of it (`[10.0.0.2]:tcp:80`).
    pub name: String,
    /// Its configuration, without the checkers (they follow).
    pub cfg: Arc<RealServer>,
    /// Up: every checker is up (no checker: always up).
    pub up: bool,
    /// Effective weight: configured weight plus `misc_dynamic` / FILE_CHECK changes.
    pub weight: i32,
    /// Transitions to up and to down since start-up.
    pub up_transitions: u64,
    pub down_transitions: u64,
    pub last_transition: Option<Instant>,
    pub checkers: Vec<CheckerStatus>,
}

/// One health checker of a real server.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckerStatus {
    /// Shared with the engine (a snapshot of thousands of checkers stays cheap).
    pub cfg: Arc<Checker>,
    /// False when the checker is not implemented (it takes no part in the state).
    pub enabled: bool,
    pub up: bool,
    pub has_run: bool,
    /// Retries used since the last decision.
    pub retry_it: u32,
    /// Checks run and checks that failed (retries included).
    pub checks: u64,
    pub failures: u64,
    /// What this checker adds to the real server's weight (`misc_dynamic`, FILE_CHECK
    /// `dynamic`).
    pub weight_delta: i32,
    /// MISC_CHECK: when the script last ran and its exit status.
    pub last_ran: Option<Instant>,
    pub last_status: Option<i32>,
    /// Why the last check failed.
    pub last_failure: Option<String>,
}
