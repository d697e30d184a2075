//! The RFC state machine of one virtual router (RFC 3768 §6, RFC 5798 / RFC 9568 §6,
//! reference `vrrp-rfc.md` §3), with keepalived's FAULT state and its extensions
//! (preempt_delay, nopreempt, GARP bursts, lower-priority re-advertising).
//!
//! An [`Instance`] never owns a timer wheel or a queue: every method takes a [`Ctx`] with
//! the instant, the engine's wheel and the action queue. Times are exact nanoseconds:
//! Skew_Time separates priorities by 1/256 of an interval and is never rounded.

use crate::config::model::{Family, VirtualAddress, VrrpInstance, VrrpVersion};
use crate::event::{Action, Burst, Mac, OutgoingPacket, Timer};
use crate::sched::Crowd;
use crate::sched::{Instant, TimerHandle, TimerWheel};
use crate::vrrp::conflict::{ConflictKind, Conflicts};
use crate::vrrp::notify;
use crate::vrrp::packet::{self, Advert, V2Auth, V3Ipv4Checksum};
use crate::vrrp::reason::{FaultCause, Reason};
use crate::vrrp::rx::InstancePolicy;
use crate::vrrp::stats::Stats;
use crate::vrrp::State;
use std::collections::{BTreeMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

mod garp;
mod receive;
mod reload;
mod timing;

use timing::NS_PER_CS;
pub use timing::{interval_cs, master_down_interval, skew_time};

/// VRRP multicast group for IPv4 (RFC 3768 §5.2.2).
pub const MCAST_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
/// VRRP multicast group for IPv6 (RFC 5798 §5.1.2.2).
pub const MCAST_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);

/// A state change, for the engine (sync groups, notify).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transition {
    pub inst: usize,
    pub from: State,
    pub to: State,
}

/// What a handler needs from the engine.
pub struct Ctx<'a> {
    pub now: Instant,
    pub wheel: &'a mut TimerWheel<Timer>,
    pub actions: &'a mut VecDeque<Action>,
    pub transitions: &'a mut Vec<Transition>,
    /// Prepended to every log line (host name in multi-host simulations).
    pub prefix: &'a str,
    /// `notify_fifo` and `vrrp_notify_fifo`, for lines written outside state changes.
    pub fifos: &'a [String],
    /// `-X / --release-vips`: entering Backup or Fault also deletes VIPs this run did not
    /// add (left over, e.g. by a run with `-V`), so two routers never both hold them.
    pub release_vips: bool,
    /// The adverts and bursts armed in this step, to spread a crowd of them (crowd.rs).
    pub crowd: &'a mut Crowd,
}

/// What the instance knows of its interface.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IfInfo {
    pub known: bool,
    pub up: bool,
    pub mac: Mac,
    pub primary_v4: Option<Ipv4Addr>,
    pub link_local_v6: Option<Ipv6Addr>,
    /// The configured source address (`unicast_src_ip` / `mcast_src_ip`) is on the
    /// interface (true when none is configured).
    pub src_present: bool,
}

/// One virtual router.
pub struct Instance {
    pub index: usize,
    pub cfg: VrrpInstance,
    pub state: State,
    /// Effective priority (tracking applied; the owner's never changes).
    pub priority: u8,
    /// Our configured interval, centiseconds.
    pub own_cs: u16,
    /// Master_Adver_Interval (v3: learned; v2: always ours), centiseconds.
    pub learned_cs: u16,
    pub iface: IfInfo,
    /// Tracking says FAULT (interface, script, file, process, sync group).
    pub track_fault: bool,
    pub stats: Stats,
    /// When the state last changed (status dumps: `Last transition`).
    pub last_transition: Option<Instant>,
    /// When the instance first left Initialize (VRRP-MIB's vrrpOperVirtualRouterUpTime).
    pub up_since: Option<Instant>,
    /// The Master as last heard (source address, advertised priority), kept until the
    /// instance is rebuilt (status dumps: `Master router`, `master_priority`).
    pub master_heard: Option<(IpAddr, u8)>,
    /// Why the state last changed (extension: `--status`, metrics).
    pub last_reason: Option<Reason>,
    /// The tracked objects that put the instance in FAULT, named by the engine
    /// ("chk_nginx failed, eth1 down"); empty when none does.
    pub track_why: String,
    /// What the armed Master_Down_Timer stands for when it fires: silence, or the Skew_Time
    /// after a priority-0 advert.
    down_reason: Reason,
    policy: InstancePolicy,
    adver: Option<TimerHandle>,
    down: Option<TimerHandle>,
    garp_round: Option<TimerHandle>,
    garp_later: Vec<TimerHandle>,
    /// VRID conflict episodes (extension).
    pub conflicts: Conflicts,
    /// VIPs deleted behind our back, to be put back (`Timer::RestoreVips`), as
    /// (address, interface).
    restore: Option<TimerHandle>,
    deleted: Vec<(IpAddr, String)>,
    /// preempt_delay: when the first lower-priority advert was accepted.
    preempt_since: Option<Instant>,
    last_log: BTreeMap<&'static str, Instant>,
}

/// `a > b` as unsigned integers in network byte order (RFC tie-break).
fn addr_greater(a: IpAddr, b: Option<IpAddr>) -> bool {
    let key = |x: IpAddr| -> u128 {
        match x {
            IpAddr::V4(v) => u128::from(u32::from(v)),
            IpAddr::V6(v) => u128::from(v),
        }
    };
    match b {
        None => true,
        Some(b) => key(a) > key(b),
    }
}

fn is_link_local(a: &IpAddr) -> bool {
    match a {
        IpAddr::V6(v) => (v.segments()[0] & 0xffc0) == 0xfe80,
        IpAddr::V4(_) => false,
    }
}

impl Instance {
    pub fn new(index: usize, cfg: VrrpInstance) -> Instance {
        let own_cs = match cfg.version {
            VrrpVersion::V2 => (cfg.advert_int.as_secs().clamp(1, 255) * 100) as u16,
            VrrpVersion::V3 => interval_cs(cfg.advert_int),
        };
        let policy = InstancePolicy::from_config(&cfg, own_cs);
        Instance {
            index,
            priority: cfg.priority,
            cfg,
            state: State::Initialize,
            own_cs,
            learned_cs: own_cs,
            iface: IfInfo::default(),
            track_fault: false,
            stats: Stats::default(),
            last_transition: None,
            up_since: None,
            master_heard: None,
            last_reason: None,
            track_why: String::new(),
            down_reason: Reason::MasterDown,
            policy,
            adver: None,
            down: None,
            garp_round: None,
            garp_later: Vec::new(),
            restore: None,
            deleted: Vec::new(),
            conflicts: Conflicts::default(),
            preempt_since: None,
            last_log: BTreeMap::new(),
        }
    }

    pub fn name(&self) -> &str {
        &self.cfg.name
    }

    pub fn is_owner(&self) -> bool {
        self.cfg.priority == 255
    }

    fn ipv6(&self) -> bool {
        self.cfg.family == Family::Inet6
    }

    /// The interface the instance is bound to (its `interface`).
    pub fn base_ifname(&self) -> &str {
        self.cfg.interface.as_deref().unwrap_or("")
    }

    /// The interface carrying VIPs, GARPs and (unless `vmac_xmit_base`) adverts.
    pub fn vip_ifname(&self) -> String {
        match &self.cfg.use_vmac {
            Some(v) => v.name.clone(),
            None => self.base_ifname().to_string(),
        }
    }

    fn advert_ifname(&self) -> String {
        if self.cfg.vmac_xmit_base {
            self.base_ifname().to_string()
        } else {
            self.vip_ifname()
        }
    }

    /// The MAC GARPs / NAs announce: the VMAC with `use_vmac`, else (as keepalived) the
    /// interface's own.
    fn garp_mac(&self) -> Mac {
        match &self.cfg.use_vmac {
            Some(v) => v.mac,
            None => self.iface.mac,
        }
    }

    /// The advert source, which is also the address of the tie-break.
    pub fn source_addr(&self) -> Option<IpAddr> {
        let configured = if self.cfg.unicast_peers.is_empty() {
            self.cfg.mcast_src_ip.or(self.cfg.unicast_src_ip)
        } else {
            self.cfg.unicast_src_ip.or(self.cfg.mcast_src_ip)
        };
        match configured {
            Some(a) if a.is_ipv6() == self.ipv6() => Some(a),
            _ if self.ipv6() => self.iface.link_local_v6.map(IpAddr::V6),
            _ => self.iface.primary_v4.map(IpAddr::V4),
        }
    }

    fn destinations(&self) -> impl Iterator<Item = IpAddr> + '_ {
        let peers = self.cfg.unicast_peers.iter().map(|p| p.addr);
        let dflt = if self.ipv6() {
            IpAddr::V6(MCAST_V6)
        } else {
            IpAddr::V4(MCAST_V4)
        };
        let group = self.cfg.unicast_peers.is_empty().then(|| {
            self.cfg
                .mcast_dst_ip
                .filter(|a| a.is_ipv6() == self.ipv6())
                .unwrap_or(dflt)
        });
        // Allocation-free: this runs for every advert.
        peers.chain(group)
    }

    /// Master_Down_Interval with the learned interval and the effective priority.
    pub fn down_interval(&self) -> Duration {
        master_down_interval(
            self.cfg.version,
            self.priority,
            self.learned_cs,
            self.cfg.down_timer_adverts.max(1),
        )
    }

    pub fn skew(&self) -> Duration {
        skew_time(self.cfg.version, self.priority, self.learned_cs)
    }

    fn own_interval(&self) -> Duration {
        Duration::from_nanos(u64::from(self.own_cs) * NS_PER_CS)
    }

    /// Deadline of the Master_Down_Timer, if armed.
    pub fn down_deadline(&self, wheel: &TimerWheel<Timer>) -> Option<Instant> {
        self.down.and_then(|h| wheel.deadline(h))
    }

    /// Deadline of the Adver_Timer, if armed.
    pub fn advert_deadline(&self, wheel: &TimerWheel<Timer>) -> Option<Instant> {
        self.adver.and_then(|h| wheel.deadline(h))
    }

    /// The advert we send with `priority`.
    pub fn build_advert(&self, priority: u8) -> Advert {
        let mut addresses: Vec<IpAddr> = self
            .cfg
            .vips
            .iter()
            .map(|v| v.addr)
            .filter(|a| a.is_ipv6() == self.ipv6())
            .collect();
        if self.ipv6() {
            // RFC 5798 §5.2.9 / E-8300: the first address is the link-local one.
            if let Some(pos) = addresses.iter().position(is_link_local) {
                let ll = addresses.remove(pos);
                addresses.insert(0, ll);
            }
        }
        Advert {
            version: self.cfg.version,
            vrid: self.cfg.vrid,
            priority,
            interval_cs: self.own_cs,
            addresses,
            auth: match self.cfg.version {
                VrrpVersion::V3 => V2Auth::None,
                VrrpVersion::V2 => self.policy.codec.auth.clone(),
            },
        }
    }

    fn log_limited(&mut self, now: Instant, kind: &'static str, prefix: &str, msg: String) {
        let due = match self.last_log.get(kind) {
            Some(t) => now.saturating_since(*t) >= Duration::from_secs(1),
            None => true,
        };
        if due {
            self.last_log.insert(kind, now);
            log::warn!("{prefix}({}) {msg}", self.cfg.name);
        }
    }

    // ----- timers -----------------------------------------------------------------------

    fn cancel(wheel: &mut TimerWheel<Timer>, h: &mut Option<TimerHandle>) {
        if let Some(h) = h.take() {
            wheel.cancel(h);
        }
    }

    fn arm_down(&mut self, ctx: &mut Ctx, after: Duration) {
        Self::cancel(ctx.wheel, &mut self.down);
        self.down = Some(
            ctx.wheel
                .insert(ctx.now + after, Timer::MasterDown(self.index)),
        );
    }

    fn arm_adver(&mut self, ctx: &mut Ctx) {
        Self::cancel(ctx.wheel, &mut self.adver);
        let interval = self.own_interval();
        let lead = ctx.crowd.spread(ctx.now, interval, interval);
        let at = ctx.now + (interval - lead);
        self.adver = Some(ctx.wheel.insert(at, Timer::Advert(self.index)));
    }

    fn cancel_all(&mut self, ctx: &mut Ctx) {
        Self::cancel(ctx.wheel, &mut self.adver);
        Self::cancel(ctx.wheel, &mut self.down);
        Self::cancel(ctx.wheel, &mut self.restore);
        self.deleted.clear();
        self.cancel_garps(ctx);
    }

    fn cancel_garps(&mut self, ctx: &mut Ctx) {
        Self::cancel(ctx.wheel, &mut self.garp_round);
        for h in self.garp_later.drain(..) {
            ctx.wheel.cancel(h);
        }
    }

    // ----- output -----------------------------------------------------------------------

    /// Sends one advert (one per unicast peer) with `priority`.
    pub fn send_advert(&mut self, ctx: &mut Ctx, priority: u8) {
        let Some(src) = self.source_addr() else {
            let p = ctx.prefix.to_string();
            self.log_limited(
                ctx.now,
                "nosrc",
                &p,
                "cannot send advert: no source address".into(),
            );
            return;
        };
        let advert = self.build_advert(priority);
        let form = if self.cfg.v3_checksum_as_v2 {
            V3Ipv4Checksum::MessageOnly
        } else {
            V3Ipv4Checksum::PseudoHeader
        };
        let src_mac = match &self.cfg.use_vmac {
            Some(v) if !self.cfg.vmac_xmit_base => Some(v.mac),
            _ => None,
        };
        let ifname = self.advert_ifname();
        let mut sent = 0;
        for dst in self.destinations() {
            if dst.is_ipv6() != src.is_ipv6() {
                continue;
            }
            let payload = packet::encode(&advert, src, dst, form);
            sent += 1;
            ctx.actions.push_back(Action::SendAdvert(OutgoingPacket {
                instance: self.cfg.name.clone(),
                ifname: ifname.clone(),
                src,
                dst,
                src_mac,
                ttl: if dst.is_multicast() {
                    255
                } else {
                    self.cfg.unicast_ttl.unwrap_or(255)
                },
                payload,
            }));
        }
        self.stats.adverts_sent += sent;
        if priority == 0 {
            self.stats.priority_zero_sent += sent;
        }
    }

    /// Accept_Mode False (RFC 5798 §6.4.3): a non-owner Master without `accept` (keepalived's
    /// `no_accept`, the default under `vrrp_strict` / `strict_mode`) must not accept packets
    /// addressed to its VIPs.
    pub fn blocks_traffic(&self) -> bool {
        !self.cfg.accept && !self.is_owner()
    }

    /// Adds one VIP (and blocks traffic to it under Accept_Mode False).
    pub(super) fn add_address(&self, ctx: &mut Ctx, ifname: String, v: &VirtualAddress) {
        let addr = v.addr;
        ctx.actions.push_back(Action::AddAddress {
            ifname: ifname.clone(),
            addr: v.clone(),
        });
        if self.blocks_traffic() {
            ctx.actions.push_back(Action::BlockAddress {
                instance: self.cfg.name.clone(),
                ifname,
                addr,
            });
        }
    }

    /// Removes one VIP, unblocking it first if `blocked`.
    pub(super) fn del_address(
        &self,
        ctx: &mut Ctx,
        ifname: String,
        v: &VirtualAddress,
        blocked: bool,
    ) {
        if blocked {
            ctx.actions.push_back(Action::UnblockAddress {
                instance: self.cfg.name.clone(),
                ifname: ifname.clone(),
                addr: v.addr,
            });
        }
        ctx.actions.push_back(Action::DelAddress {
            ifname,
            addr: v.clone(),
        });
    }

    fn add_addresses(&mut self, ctx: &mut Ctx) {
        let ifname = self.vip_ifname();
        for v in self.cfg.vips.iter().chain(self.cfg.excluded_vips.iter()) {
            self.add_address(ctx, v.dev.clone().unwrap_or_else(|| ifname.clone()), v);
        }
        for r in &self.cfg.virtual_routes {
            ctx.actions.push_back(Action::AddRoute(r.clone()));
        }
        for r in &self.cfg.virtual_rules {
            ctx.actions.push_back(Action::AddRule(r.clone()));
        }
    }

    fn del_addresses(&mut self, ctx: &mut Ctx) {
        for r in self.cfg.virtual_rules.iter().rev() {
            ctx.actions.push_back(Action::DelRule(r.clone()));
        }
        for r in self.cfg.virtual_routes.iter().rev() {
            ctx.actions.push_back(Action::DelRoute(r.clone()));
        }
        let ifname = self.vip_ifname();
        let all: Vec<&VirtualAddress> = self
            .cfg
            .vips
            .iter()
            .chain(self.cfg.excluded_vips.iter())
            .collect();
        let blocked = self.blocks_traffic();
        for v in all.into_iter().rev() {
            self.del_address(
                ctx,
                v.dev.clone().unwrap_or_else(|| ifname.clone()),
                v,
                blocked,
            );
        }
    }

    fn set_state(&mut self, ctx: &mut Ctx, to: State, why: &str, reason: Reason) {
        let from = self.state;
        self.state = to;
        self.last_reason = Some(reason);
        if ctx.release_vips && matches!(to, State::Backup | State::Fault) && from != State::Master {
            // A Master's VIPs were released by `leave_master`; these may be anyone's.
            self.del_addresses(ctx);
        }
        self.last_transition = Some(ctx.now);
        if from == State::Initialize && !matches!(to, State::Initialize | State::Stop) {
            self.up_since.get_or_insert(ctx.now);
        }
        if to != State::Stop {
            log::info!(
                "{}({}) Entering {} STATE{}",
                ctx.prefix,
                self.cfg.name,
                to,
                why
            );
        }
        ctx.actions.push_back(Action::StateChanged {
            instance: self.cfg.name.clone(),
            from,
            to,
            priority: self.priority,
        });
        ctx.transitions.push(Transition {
            inst: self.index,
            from,
            to,
        });
    }

    // ----- transitions ------------------------------------------------------------------

    /// Startup (I1 / I2, or FAULT when the interface or tracking says so); `reason` is
    /// [`Reason::Startup`], or [`Reason::Reload`] for an instance a reload added.
    pub fn startup(&mut self, ctx: &mut Ctx, reason: Reason) {
        if let Some(v) = &self.cfg.use_vmac {
            ctx.actions.push_back(Action::CreateVmac {
                name: v.name.clone(),
                parent: self.base_ifname().to_string(),
                mac: v.mac,
            });
        }
        if self.faulty() {
            let why = if self.no_peer_fault() {
                " (init: no unicast peers, unicast_fault_no_peer)"
            } else {
                " (init)"
            };
            let cause = self.fault_cause();
            self.set_state(ctx, State::Fault, why, Reason::Fault(cause));
            return;
        }
        if self.is_owner() {
            // I1: the owner takes over at once.
            self.become_master(ctx, reason);
        } else {
            // I2 (also for `state MASTER` below 255: it waits for the down timer).
            self.enter_backup(ctx, " (init)", reason);
        }
    }

    /// Would this instance be in FAULT?
    pub fn faulty(&self) -> bool {
        self.track_fault || self.own_fault()
    }

    /// A fault of the instance itself, tracking aside: its interface is missing or down
    /// (unless `dont_track_primary`), it has no unicast peer under
    /// `unicast_fault_no_peer`, or its source address is gone under `track_src_ip`.
    pub fn own_fault(&self) -> bool {
        let link_down = !(self.iface.known && self.iface.up);
        (self.cfg.interface.is_some() && !self.cfg.dont_track_primary && link_down)
            || self.no_peer_fault()
            || (self.cfg.track_src_ip && !self.iface.src_present)
    }

    /// What puts the instance in FAULT now: its own fault first, else tracking.
    pub fn fault_cause(&self) -> FaultCause {
        let link_down = !(self.iface.known && self.iface.up);
        if self.cfg.interface.is_some() && !self.cfg.dont_track_primary && link_down {
            FaultCause::LinkDown(self.base_ifname().to_string())
        } else if self.no_peer_fault() {
            FaultCause::NoUnicastPeer
        } else if self.cfg.track_src_ip && !self.iface.src_present {
            FaultCause::SourceAddressGone
        } else {
            FaultCause::Tracking(self.track_why.clone())
        }
    }

    /// `unicast_fault_no_peer` with no `unicast_peer`: FAULT instead of falling back to
    /// multicast.
    pub fn no_peer_fault(&self) -> bool {
        self.cfg.unicast_fault_no_peer && self.cfg.unicast_peers.is_empty()
    }

    fn enter_backup(&mut self, ctx: &mut Ctx, why: &str, reason: Reason) {
        self.learned_cs = self.own_cs;
        let d = self.down_interval();
        self.cancel_all(ctx);
        self.arm_down(ctx, d);
        self.down_reason = Reason::MasterDown;
        self.preempt_since = None;
        self.set_state(ctx, State::Backup, why, reason);
    }

    /// B3 / I1 / a sync group's order: become Master.
    pub fn become_master(&mut self, ctx: &mut Ctx, reason: Reason) {
        log::info!(
            "{}({}) Transition to MASTER STATE",
            ctx.prefix,
            self.cfg.name
        );
        self.cancel_all(ctx);
        self.preempt_since = None;
        self.set_state(ctx, State::Master, "", reason);
        self.stats.became_master += 1;
        self.add_addresses(ctx);
        let p = self.priority;
        self.send_advert(ctx, p);
        let g = self.cfg.garp.clone();
        self.start_burst(ctx, g.master_repeat.max(1));
        if !g.master_delay.is_zero() && g.master_repeat > 0 {
            self.schedule_burst(ctx, g.master_delay, Burst::Second);
        }
        if let Some(r) = g.master_refresh.filter(|r| !r.is_zero()) {
            self.schedule_burst(ctx, r, Burst::Refresh);
        }
        if let Some(x) = self
            .cfg
            .garp_extra_if
            .as_ref()
            .filter(|x| !x.interval.is_zero())
        {
            let every = x.interval;
            self.schedule_burst(ctx, every, Burst::ExtraIf);
        }
        self.arm_adver(ctx);
    }

    fn leave_master(&mut self, ctx: &mut Ctx) {
        self.cancel_all(ctx);
        self.del_addresses(ctx);
        self.stats.released_master += 1;
    }

    /// A sync group orders Backup (a member was demoted): leave Master like M5.
    pub fn force_backup(&mut self, ctx: &mut Ctx, reason: Reason) {
        match self.state {
            State::Master => {
                self.leave_master(ctx);
                let d = self.down_interval();
                self.arm_down(ctx, d);
                self.down_reason = Reason::MasterDown;
                self.set_state(ctx, State::Backup, "", reason);
            }
            State::Initialize | State::Backup | State::Fault | State::Stop => {}
        }
    }

    /// Tracking (or a sync group) reports a fault.
    pub fn enter_fault(&mut self, ctx: &mut Ctx) {
        if matches!(self.state, State::Fault | State::Stop | State::Initialize) {
            return;
        }
        if self.state == State::Master {
            if self.iface.up {
                self.send_advert(ctx, 0);
            }
            self.leave_master(ctx);
        }
        self.cancel_all(ctx);
        let cause = self.fault_cause();
        self.set_state(ctx, State::Fault, "", Reason::Fault(cause));
    }

    /// Tracking is fine again: leave FAULT (the owner straight to Master, others Backup).
    pub fn leave_fault(&mut self, ctx: &mut Ctx) {
        if self.state != State::Fault || self.faulty() {
            return;
        }
        if self.is_owner() {
            self.become_master(ctx, Reason::FaultCleared);
        } else {
            self.enter_backup(ctx, "", Reason::FaultCleared);
        }
    }

    /// B2 / M2: shutdown. The Master sends one priority-0 advert and releases everything.
    pub fn shutdown(&mut self, ctx: &mut Ctx) {
        match self.state {
            State::Master => {
                Self::cancel(ctx.wheel, &mut self.adver);
                self.send_advert(ctx, 0);
                log::info!("{}({}) sent 0 priority", ctx.prefix, self.cfg.name);
                self.leave_master(ctx);
            }
            State::Stop => return,
            _ => {}
        }
        self.cancel_all(ctx);
        if let Some(v) = &self.cfg.use_vmac {
            ctx.actions.push_back(Action::DeleteVmac {
                name: v.name.clone(),
            });
        }
        log::info!("{}({}) Stopping", ctx.prefix, self.cfg.name);
        self.set_state(ctx, State::Stop, "", Reason::Shutdown);
    }

    /// Applies a new effective priority from tracking (the owner's never changes).
    pub fn set_priority(&mut self, ctx: &mut Ctx, priority: u8) {
        if self.is_owner() || priority == self.priority {
            return;
        }
        log::info!(
            "{}({}) Changing effective priority from {} to {}",
            ctx.prefix,
            self.cfg.name,
            self.priority,
            priority
        );
        self.priority = priority;
        ctx.actions.push_back(Action::PriorityChanged {
            instance: self.cfg.name.clone(),
            priority,
        });
        let word = match self.state {
            State::Master => Some("MASTER_PRIORITY"),
            State::Backup => Some("BACKUP_PRIORITY"),
            _ => None,
        };
        if let Some(word) = word.filter(|_| self.cfg.notify_priority_changes) {
            for path in ctx.fifos {
                let line =
                    notify::fifo_line(notify::Kind::Instance, &self.cfg.name, word, priority);
                ctx.actions.push_back(Action::WriteFifo {
                    path: path.clone(),
                    line,
                });
            }
        }
    }

    /// A timer of this instance fired.
    pub fn on_timer(&mut self, ctx: &mut Ctx, timer: Timer) {
        match timer {
            Timer::MasterDown(_) => {
                self.down = None;
                let reason = std::mem::replace(&mut self.down_reason, Reason::MasterDown);
                if self.state == State::Backup {
                    // B3
                    self.become_master(ctx, reason);
                }
            }
            Timer::Advert(_) => {
                self.adver = None;
                if self.state == State::Master {
                    // M3
                    let p = self.priority;
                    self.send_advert(ctx, p);
                    self.arm_adver(ctx);
                }
            }
            Timer::GarpRound { rounds, .. } => {
                self.garp_round = None;
                if self.state == State::Master {
                    self.garp_round_now(ctx);
                    if rounds > 1 {
                        let t = Timer::GarpRound {
                            inst: self.index,
                            rounds: rounds - 1,
                        };
                        let at = ctx.now + self.burst_spacing();
                        self.garp_round = Some(ctx.wheel.insert(at, t));
                    }
                }
            }
            Timer::GarpBurst { kind, .. } => {
                let wheel = &*ctx.wheel;
                self.garp_later.retain(|h| wheel.deadline(*h).is_some());
                if self.state != State::Master {
                    return;
                }
                let g = self.cfg.garp.clone();
                match kind {
                    Burst::Second => self.start_burst(ctx, g.master_repeat),
                    Burst::LowerPrio => self.start_burst(ctx, g.lower_prio_repeat.unwrap_or(0)),
                    Burst::ExtraIf => {
                        self.garp_extra_round(ctx);
                        if let Some(x) = self.cfg.garp_extra_if.as_ref() {
                            let every = x.interval;
                            self.schedule_burst(ctx, every, Burst::ExtraIf);
                        }
                    }
                    Burst::Refresh => {
                        self.start_burst(ctx, g.master_refresh_repeat.max(1));
                        if let Some(r) = g.master_refresh.filter(|r| !r.is_zero()) {
                            self.schedule_burst(ctx, r, Burst::Refresh);
                        }
                    }
                }
            }
            Timer::RestoreVips(_) => {
                self.restore = None;
                let deleted = std::mem::take(&mut self.deleted);
                if self.state != State::Master || !self.iface.up {
                    return;
                }
                let vif = self.vip_ifname();
                for v in self.cfg.vips.iter().chain(self.cfg.excluded_vips.iter()) {
                    let ifname = v.dev.clone().unwrap_or_else(|| vif.clone());
                    if deleted.contains(&(v.addr, ifname.clone())) {
                        self.add_address(ctx, ifname, v);
                    }
                }
                // The kernel drops routes that used a deleted address as their source.
                for r in &self.cfg.virtual_routes {
                    ctx.actions.push_back(Action::AddRoute(r.clone()));
                }
                self.start_burst(ctx, 1);
            }
            // Not an instance's timer (the engine routes those elsewhere).
            _ => {}
        }
    }

    /// A conflict of `kind` shown by an advert from `peer`: the first advert of an episode
    /// logs it, and announces it (world action, notify FIFO `CONFLICT` line,
    /// `notify_conflict` script with `CONFLICT name KIND peer` appended).
    pub fn conflict(&mut self, ctx: &mut Ctx, kind: ConflictKind, peer: IpAddr) {
        let quiet = self.down_interval();
        if !self.conflicts.seen(kind, ctx.now, peer, quiet) {
            return;
        }
        self.stats.conflicts += 1;
        let what = match kind {
            ConflictKind::DualMaster => "another router advertises as MASTER too",
            ConflictKind::AddressList => "an advert with a different address list",
            ConflictKind::Interval => "an advert with a different advertisement interval",
            ConflictKind::Owner => "another router claiming the address owner priority 255",
        };
        log::warn!(
            "{}({}) VRID {} conflict {kind}: {what} from {peer}",
            ctx.prefix,
            self.cfg.name,
            self.cfg.vrid
        );
        let name = self.cfg.name.clone();
        ctx.actions.push_back(Action::Conflict {
            instance: name.clone(),
            kind,
            peer,
        });
        let line = format!("CONFLICT \"{name}\" {kind} {peer}\n");
        for path in ctx.fifos {
            ctx.actions.push_back(Action::WriteFifo {
                path: path.clone(),
                line: line.clone(),
            });
        }
        if let Some(cmd) = &self.cfg.notify.conflict {
            let mut cmd = cmd.clone();
            cmd.argv.extend([
                "CONFLICT".to_string(),
                name,
                kind.to_string(),
                peer.to_string(),
            ]);
            ctx.actions.push_back(Action::RunScript {
                run: None,
                command: *cmd,
                timeout: None,
            });
        }
    }

    /// `addr` was deleted from `ifname` by someone else. If it is one of the VIPs this
    /// Master holds (and not marked `no_track`), it is put back at the end of the instant.
    /// keepalived notices the same deletion over netlink and drops to Backup, re-adding
    /// the address when it is Master again; putting it back at once keeps the Master and
    /// avoids the election. Returns whether it was ours.
    pub fn address_deleted(&mut self, ctx: &mut Ctx, ifname: &str, addr: IpAddr) -> bool {
        if self.state != State::Master {
            return false;
        }
        let vif = self.vip_ifname();
        let ours = self
            .cfg
            .vips
            .iter()
            .chain(self.cfg.excluded_vips.iter())
            .any(|v| {
                v.addr == addr && v.dev.as_deref().unwrap_or(&vif) == ifname && !v.options.no_track
            });
        if !ours {
            return false;
        }
        log::warn!(
            "{}({}) virtual address {addr} was removed from {ifname} while MASTER - restoring it",
            ctx.prefix,
            self.cfg.name
        );
        self.stats.vips_restored += 1;
        if !self.deleted.contains(&(addr, ifname.to_string())) {
            self.deleted.push((addr, ifname.to_string()));
        }
        if self.restore.is_none() {
            let t = Timer::RestoreVips(self.index);
            self.restore = Some(ctx.wheel.insert(ctx.now, t));
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tie_break_is_unsigned_network_order() {
        let a: IpAddr = "fe80::8000:0:0:1".parse().unwrap();
        let b: IpAddr = "fe80::1".parse().unwrap();
        assert!(addr_greater(a, Some(b)));
        assert!(!addr_greater(b, Some(a)));
        let c: IpAddr = "192.0.2.200".parse().unwrap();
        let d: IpAddr = "192.0.2.3".parse().unwrap();
        assert!(addr_greater(c, Some(d)));
        assert!(!addr_greater(d, Some(d)));
    }
}
