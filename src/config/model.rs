//! The typed configuration: everything keepalived.conf(5) of keepalived 2.2 can say, with
//! keepalived's defaults. `build` resolves global defaults into each instance, so the
//! engine reads only the instance (e.g. `VrrpInstance::garp` already holds the
//! `vrrp_garp_*` values when the instance did not override them).
//!
//! CONTRACT: the VRRP types below are used by the engine (`vrrp`, `engine`) and by the
//! simulator. Fields may be added; the existing names and meanings stay.

use super::Span;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// The whole configuration.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Config {
    pub global: GlobalDefs,
    pub vrrp_scripts: Vec<VrrpScript>,
    pub track_files: Vec<TrackFile>,
    pub track_processes: Vec<TrackProcess>,
    pub sync_groups: Vec<SyncGroup>,
    pub instances: Vec<VrrpInstance>,
    pub static_addresses: Vec<VirtualAddress>,
    pub static_routes: Vec<Route>,
    pub static_rules: Vec<Rule>,
}

/// `global_defs`. Only the fields the engine needs are listed in the contract; `build`
/// adds the rest.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GlobalDefs {
    pub router_id: Option<String>,
    pub notification_email: Vec<String>,
    pub notification_email_from: Option<String>,
    pub smtp_server: Option<String>,
    pub script_user: Option<String>,
    pub enable_script_security: bool,
    pub vrrp_strict: bool,
    /// `vrrp_notify_fifo` / `notify_fifo` path.
    pub vrrp_notify_fifo: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VrrpVersion {
    V2,
    V3,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    Inet,
    Inet6,
}

/// `state MASTER|BACKUP`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum InitialState {
    #[default]
    Backup,
    Master,
}

/// `authentication { auth_type PASS|AH; auth_pass ... }` (VRRPv2 only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Auth {
    /// Simple password: the first 8 bytes of `auth_pass`, zero padded.
    Pass([u8; 8]),
    /// IPsec AH (HMAC-MD5-96) keyed by the same password.
    Ah([u8; 8]),
}

/// A command line to run: the script path and its arguments, split as keepalived splits
/// them (quoted strings stay one argument).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptCommand {
    pub argv: Vec<String>,
    /// `user USER [GROUP]` of the script, else `script_user`.
    pub user: Option<String>,
    pub group: Option<String>,
}

/// An entry of `virtual_ipaddress`, `virtual_ipaddress_excluded` or `static_ipaddress`:
/// `<IP>[/<MASK>] [brd <IP>] [dev <STRING>] [scope <SCOPE>] [label <LABEL>] ...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VirtualAddress {
    pub addr: IpAddr,
    /// Prefix length (32 / 128 when not given).
    pub prefix_len: u8,
    pub brd: Option<Ipv4Addr>,
    /// `dev`: the interface, when not the instance's own.
    pub dev: Option<String>,
    /// `scope` as a name or number (`global`, `host`, `link`, `site`, `nowhere`).
    pub scope: Option<String>,
    pub label: Option<String>,
    pub peer: Option<IpAddr>,
    pub no_dad: bool,
    pub preferred_lft: Option<u32>,
    pub span: Span,
}

/// A route of `virtual_routes` / `static_routes`, in `ip route` syntax.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// The words of the line, as `ip route add` would take them.
    pub words: Vec<String>,
    pub span: Span,
}

/// A rule of `virtual_rules` / `static_rules`, in `ip rule` syntax.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub words: Vec<String>,
    pub span: Span,
}

/// One line of a `track_interface` / `track_script` / `track_file` / `track_process`
/// block: a name with an optional weight override (`weight N [reverse]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackRef {
    pub name: String,
    pub weight: Option<i32>,
    pub reverse: bool,
    pub span: Span,
}

/// `unicast_peer { IP [min_ttl N] [max_ttl N] }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnicastPeer {
    pub addr: IpAddr,
    pub min_ttl: Option<u8>,
    pub max_ttl: Option<u8>,
}

/// Gratuitous ARP / unsolicited NA behaviour of an instance (global `vrrp_garp_*`
/// defaults resolved in).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GarpSettings {
    /// `garp_master_delay`: delay of the second burst after becoming master (default 5 s;
    /// zero means no second burst).
    pub master_delay: Duration,
    /// `garp_master_repeat`: messages per burst (default 5).
    pub master_repeat: u32,
    /// `garp_master_refresh`: periodic refresh while master (default none).
    pub master_refresh: Option<Duration>,
    /// `garp_master_refresh_repeat` (default 1).
    pub master_refresh_repeat: u32,
    /// `garp_lower_prio_delay` (default = master_delay).
    pub lower_prio_delay: Duration,
    /// `garp_lower_prio_repeat` (default none: no burst on a lower-priority advert).
    pub lower_prio_repeat: Option<u32>,
    /// `vrrp_garp_interval` / `vrrp_gna_interval`: spacing of messages within a burst.
    pub interval: Duration,
    pub na_interval: Duration,
}

impl Default for GarpSettings {
    fn default() -> Self {
        GarpSettings {
            master_delay: Duration::from_secs(5),
            master_repeat: 5,
            master_refresh: None,
            master_refresh_repeat: 1,
            lower_prio_delay: Duration::from_secs(5),
            lower_prio_repeat: None,
            interval: Duration::ZERO,
            na_interval: Duration::ZERO,
        }
    }
}

/// `use_vmac [NAME] [MAC]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vmac {
    /// Interface name (default `vrrp.<VRID>`).
    pub name: String,
    /// MAC (default 00:00:5e:00:01:VRID, or :02: for IPv6).
    pub mac: [u8; 6],
}

/// The notify scripts of an instance or sync group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NotifyScripts {
    pub master: Option<ScriptCommand>,
    pub backup: Option<ScriptCommand>,
    pub fault: Option<ScriptCommand>,
    pub stop: Option<ScriptCommand>,
    pub deleted: Option<ScriptCommand>,
    /// `notify`: run after the per-state script with TYPE NAME STATE PRIORITY appended.
    pub any: Option<ScriptCommand>,
    pub master_rx_lower_pri: Option<ScriptCommand>,
}

/// `vrrp_instance NAME { ... }`.
#[derive(Clone, Debug, PartialEq)]
pub struct VrrpInstance {
    pub name: String,
    pub span: Span,
    pub initial_state: InitialState,
    /// `interface` (may be absent with unicast peers).
    pub interface: Option<String>,
    pub vrid: u8,
    /// Configured priority, 1-255 (default 100).
    pub priority: u8,
    /// `advert_int`, already rounded for the version (v2 whole seconds, v3 10 ms).
    pub advert_int: Duration,
    pub version: VrrpVersion,
    /// Address family of the virtual addresses (IPv6 forces version 3).
    pub family: Family,
    pub auth: Option<Auth>,
    pub vips: Vec<VirtualAddress>,
    pub excluded_vips: Vec<VirtualAddress>,
    pub virtual_routes: Vec<Route>,
    pub virtual_rules: Vec<Rule>,
    pub track_interfaces: Vec<TrackRef>,
    pub track_scripts: Vec<TrackRef>,
    pub track_files: Vec<TrackRef>,
    pub track_processes: Vec<TrackRef>,
    pub unicast_src_ip: Option<IpAddr>,
    pub unicast_peers: Vec<UnicastPeer>,
    pub mcast_src_ip: Option<IpAddr>,
    /// `mcast_dst_ip` (default 224.0.0.18 / ff02::12).
    pub mcast_dst_ip: Option<IpAddr>,
    pub nopreempt: bool,
    /// `preempt_delay` (0-1000 s, default 0).
    pub preempt_delay: Duration,
    pub garp: GarpSettings,
    /// Accept_Mode resolved: `accept` / `no_accept`, default accept unless strict.
    pub accept: bool,
    pub use_vmac: Option<Vmac>,
    pub vmac_xmit_base: bool,
    pub notify: NotifyScripts,
    pub smtp_alert: bool,
    pub dont_track_primary: bool,
    pub skip_check_adv_addr: bool,
    /// `strict_mode` or global `vrrp_strict`.
    pub strict_mode: bool,
    /// Do not re-advertise on a lower-priority advert while master (RFC 5798 behaviour).
    pub lower_prio_no_advert: bool,
    pub higher_prio_send_advert: bool,
    /// `down_timer_adverts` (default 3).
    pub down_timer_adverts: u32,
    /// Send VRRPv3 over IPv4 with the message-only checksum (RFC 9568).
    pub v3_checksum_as_v2: bool,
    pub check_unicast_src: bool,
}

impl VrrpInstance {
    /// An instance with keepalived's defaults (what `build` starts from).
    pub fn with_defaults(name: &str, span: Span) -> Self {
        VrrpInstance {
            name: name.to_string(),
            span,
            initial_state: InitialState::Backup,
            interface: None,
            vrid: 0,
            priority: 100,
            advert_int: Duration::from_secs(1),
            version: VrrpVersion::V2,
            family: Family::Inet,
            auth: None,
            vips: Vec::new(),
            excluded_vips: Vec::new(),
            virtual_routes: Vec::new(),
            virtual_rules: Vec::new(),
            track_interfaces: Vec::new(),
            track_scripts: Vec::new(),
            track_files: Vec::new(),
            track_processes: Vec::new(),
            unicast_src_ip: None,
            unicast_peers: Vec::new(),
            mcast_src_ip: None,
            mcast_dst_ip: None,
            nopreempt: false,
            preempt_delay: Duration::ZERO,
            garp: GarpSettings::default(),
            accept: true,
            use_vmac: None,
            vmac_xmit_base: false,
            notify: NotifyScripts::default(),
            smtp_alert: false,
            dont_track_primary: false,
            skip_check_adv_addr: false,
            strict_mode: false,
            lower_prio_no_advert: false,
            higher_prio_send_advert: false,
            down_timer_adverts: 3,
            v3_checksum_as_v2: false,
            check_unicast_src: false,
        }
    }
}

/// `vrrp_script NAME { ... }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VrrpScript {
    pub name: String,
    pub span: Span,
    pub script: ScriptCommand,
    /// `interval` (default 1 s).
    pub interval: Duration,
    /// `timeout` (default: the interval).
    pub timeout: Option<Duration>,
    /// `weight` (-253..253, default 0).
    pub weight: i32,
    pub reverse: bool,
    /// `rise` / `fall` (default 1).
    pub rise: u32,
    pub fall: u32,
    pub init_fail: bool,
}

/// `track_file NAME { file PATH; weight N [reverse]; init_file [VAL] [overwrite] }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackFile {
    pub name: String,
    pub span: Span,
    pub file: String,
    pub weight: i32,
    pub reverse: bool,
    pub init_file: Option<(i64, bool)>,
}

/// `vrrp_track_process NAME { process ...; weight N; quorum N; ... }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackProcess {
    pub name: String,
    pub span: Span,
    pub process: Vec<String>,
    pub param_match: Option<String>,
    pub weight: i32,
    pub reverse: bool,
    pub quorum: u32,
    pub quorum_max: Option<u32>,
    pub delay: Duration,
}

/// `vrrp_sync_group NAME { group { ... } ... }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncGroup {
    pub name: String,
    pub span: Span,
    pub members: Vec<String>,
    pub track_interfaces: Vec<TrackRef>,
    pub track_scripts: Vec<TrackRef>,
    pub track_files: Vec<TrackRef>,
    pub track_processes: Vec<TrackRef>,
    pub notify: NotifyScripts,
    pub smtp_alert: bool,
    pub sync_group_tracking_weight: bool,
}
