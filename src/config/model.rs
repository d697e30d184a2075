//! The typed configuration: everything keepalived.conf(5) of keepalived 2.2 can say, with
//! keepalived's defaults. `build` resolves global defaults into each instance, so the
//! engine reads only the instance (e.g. `VrrpInstance::garp` already holds the
//! `vrrp_garp_*` values when the instance did not override them).
//!
//! CONTRACT: the VRRP types below are used by the engine (`vrrp`, `engine`) and by the
//! simulator. Fields may be added; the existing names and meanings stay.

pub use super::iproute::*;
use super::Span;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
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
    /// Top-level process placement keywords (`net_namespace`, `instance`, ...).
    pub process: ProcessDefs,
    pub track_groups: Vec<TrackGroup>,
    pub garp_groups: Vec<GarpGroup>,
    /// `linkbeat_interfaces { IF [MII|ETHTOOL|IOCTL] }`.
    pub linkbeat_interfaces: Vec<(String, Option<String>)>,
    /// `interface_up_down_delays { IF DOWN [UP] }`.
    pub interface_up_down_delays: Vec<InterfaceDelay>,
    pub bfd_instances: Vec<BfdInstance>,
    /// `SSL { ... }` for SSL_GET.
    pub ssl: Option<SslDefs>,
    pub virtual_server_groups: Vec<VirtualServerGroup>,
    pub virtual_servers: Vec<VirtualServer>,
}

/// `global_defs`. Only the fields the engine needs are listed in the contract; `build`
/// adds the rest.
#[derive(Clone, Debug, PartialEq)]
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

    // ---- additions (not part of the original contract) ----
    /// `smtp_server IP|NAME [PORT]`: the port (default 25).
    pub smtp_server_port: Option<u16>,
    pub smtp_helo_name: Option<String>,
    /// `smtp_connect_timeout` (default 30 s).
    pub smtp_connect_timeout: Duration,
    pub smtp_alert: Option<bool>,
    pub smtp_alert_vrrp: Option<bool>,
    pub smtp_alert_checker: Option<bool>,
    pub checker_log_all_failures: bool,
    pub no_email_faults: bool,
    /// Group of `script_user USER [GROUP]`.
    pub script_group: Option<String>,
    /// `vrrp_mcast_group4` (default 224.0.0.18).
    pub vrrp_mcast_group4: Ipv4Addr,
    /// `vrrp_mcast_group6` (default ff02::12).
    pub vrrp_mcast_group6: Ipv6Addr,
    /// `default_interface` for static addresses (keepalived's default eth0).
    pub default_interface: Option<String>,
    pub lvs_sync_daemon: Option<LvsSyncDaemon>,
    /// `lvs_timeouts [tcp S] [tcpfin S] [udp S]`.
    pub lvs_timeouts: Option<LvsTimeouts>,
    pub lvs_flush: bool,
    /// `lvs_flush_on_stop [VS]`: `Some(true)` with `VS`.
    pub lvs_flush_on_stop: Option<bool>,
    /// The global `vrrp_garp_*` / `vrrp_gna_interval` defaults (resolved into instances).
    pub vrrp_garp: GarpSettings,
    /// `vrrp_garp_extra_if [all] SECS`.
    pub vrrp_garp_extra_if: Option<GarpExtraIf>,
    pub vrrp_min_garp: bool,
    pub vrrp_lower_prio_no_advert: bool,
    pub vrrp_higher_prio_send_advert: bool,
    /// `vrrp_version` (default 2).
    pub vrrp_version: Option<VrrpVersion>,
    pub vrrp_check_unicast_src: bool,
    pub vrrp_skip_check_adv_addr: bool,
    pub vrrp_notify_priority_changes: bool,
    /// `vrrp_down_timer_adverts` (default 3).
    pub vrrp_down_timer_adverts: Option<u32>,
    pub vrrp_startup_delay: Option<Duration>,
    /// `notify_fifo` (all events), with its reader script.
    pub notify_fifo: Option<String>,
    pub notify_fifo_script: Option<ScriptCommand>,
    pub vrrp_notify_fifo_script: Option<ScriptCommand>,
    pub lvs_notify_fifo: Option<String>,
    pub lvs_notify_fifo_script: Option<ScriptCommand>,
    pub fifo_write_vrrp_states_on_reload: bool,
    pub startup_script: Option<ScriptCommand>,
    /// 1-1000 s, default 10.
    pub startup_script_timeout: Duration,
    pub shutdown_script: Option<ScriptCommand>,
    pub shutdown_script_timeout: Duration,
    /// `dynamic_interfaces [allow_if_changes]`: `Some(allow_if_changes)`.
    pub dynamic_interfaces: Option<bool>,
    /// `v3_checksum_as_v2`: default of the instances' RFC 9568 message-only checksum.
    pub v3_checksum_as_v2: bool,
    /// `metrics_listen ADDRESS:PORT` (extension of keepalived-rs): serve the Prometheus /
    /// OpenMetrics exposition over HTTP at `/metrics` on this address.
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// Every other keyword of `global_defs` (process tuning, netlink buffers, SNMP,
    /// DBus, nftables/iptables, reload files, ...), checked against its declared type and
    /// kept as a typed scalar, keyed by keyword.
    pub other: BTreeMap<String, GlobalValue>,
}

impl Default for GlobalDefs {
    fn default() -> Self {
        GlobalDefs {
            router_id: None,
            notification_email: Vec::new(),
            notification_email_from: None,
            smtp_server: None,
            script_user: None,
            enable_script_security: false,
            vrrp_strict: false,
            vrrp_notify_fifo: None,
            smtp_server_port: None,
            smtp_helo_name: None,
            smtp_connect_timeout: Duration::from_secs(30),
            smtp_alert: None,
            smtp_alert_vrrp: None,
            smtp_alert_checker: None,
            checker_log_all_failures: false,
            no_email_faults: false,
            script_group: None,
            vrrp_mcast_group4: Ipv4Addr::new(224, 0, 0, 18),
            vrrp_mcast_group6: Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12),
            default_interface: None,
            lvs_sync_daemon: None,
            lvs_timeouts: None,
            lvs_flush: false,
            lvs_flush_on_stop: None,
            vrrp_garp: GarpSettings::default(),
            vrrp_garp_extra_if: None,
            vrrp_min_garp: false,
            vrrp_lower_prio_no_advert: false,
            vrrp_higher_prio_send_advert: false,
            vrrp_version: None,
            vrrp_check_unicast_src: false,
            vrrp_skip_check_adv_addr: false,
            vrrp_notify_priority_changes: false,
            vrrp_down_timer_adverts: None,
            vrrp_startup_delay: None,
            notify_fifo: None,
            notify_fifo_script: None,
            vrrp_notify_fifo_script: None,
            lvs_notify_fifo: None,
            lvs_notify_fifo_script: None,
            fifo_write_vrrp_states_on_reload: false,
            startup_script: None,
            startup_script_timeout: Duration::from_secs(10),
            shutdown_script: None,
            shutdown_script_timeout: Duration::from_secs(10),
            dynamic_interfaces: None,
            v3_checksum_as_v2: false,
            metrics_listen: None,
            other: BTreeMap::new(),
        }
    }
}

/// The value of a rarely used `global_defs` keyword, typed by the keyword's declaration.
#[derive(Clone, Debug, PartialEq)]
pub enum GlobalValue {
    /// A keyword without arguments (`use_pid_dir`, `enable_traps`, ...).
    Flag,
    Bool(bool),
    Int(i64),
    /// Seconds with microsecond resolution.
    Timer(Duration),
    Str(String),
    /// Zero or more words (`vrrp_iptables IN OUT`, `vrrp_cpu_affinity 0 1`, ...).
    Words(Vec<String>),
}

/// `lvs_sync_daemon IF [[inst] NAME] [id N] [maxlen N] [port N] [ttl N] [group IP]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LvsSyncDaemon {
    pub interface: String,
    pub instance: Option<String>,
    pub sync_id: Option<u8>,
    pub maxlen: Option<u16>,
    pub port: Option<u16>,
    pub ttl: Option<u8>,
    pub group: Option<IpAddr>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LvsTimeouts {
    pub tcp: Option<u32>,
    pub tcpfin: Option<u32>,
    pub udp: Option<u32>,
}

/// `garp_extra_if [all] SECS`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GarpExtraIf {
    pub all: bool,
    pub interval: Duration,
}

/// Top-level keywords placing the process (outside `global_defs`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcessDefs {
    pub net_namespace: Option<String>,
    /// `net_namespace_ipvs [NAME]`: `Some(None)` means the default namespace.
    pub net_namespace_ipvs: Option<Option<String>>,
    pub namespace_with_ipsets: bool,
    pub instance: Option<String>,
    pub use_pid_dir: bool,
    pub linkbeat_use_polling: bool,
    /// `child_wait_time` (default 5 s).
    pub child_wait_time: Option<u32>,
}

/// `track_group NAME { group { VI_1 ... } }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackGroup {
    pub name: String,
    pub span: Span,
    pub members: Vec<String>,
}

/// `garp_group { garp_interval; gna_interval; interface | interfaces {} }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GarpGroup {
    pub span: Span,
    pub garp_interval: Option<Duration>,
    pub gna_interval: Option<Duration>,
    pub interfaces: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfaceDelay {
    pub interface: String,
    pub down: Duration,
    pub up: Duration,
}

/// `bfd_instance NAME { ... }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BfdInstance {
    pub name: String,
    pub span: Span,
    pub neighbor_ip: Option<IpAddr>,
    pub source_ip: Option<IpAddr>,
    /// In microseconds (the keywords take milliseconds with µs resolution).
    pub min_rx_us: u32,
    pub min_tx_us: u32,
    pub idle_tx_us: u32,
    pub multiplier: u8,
    pub passive: bool,
    pub ttl: u8,
    pub hoplimit: u8,
    pub max_hops: u8,
    pub weight: i32,
    pub reverse: bool,
    pub vrrp: bool,
    pub checker: bool,
}

/// `SSL { password; ca; certificate; key }`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SslDefs {
    pub password: Option<String>,
    pub ca: Option<String>,
    pub certificate: Option<String>,
    pub key: Option<String>,
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
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScriptCommand {
    pub argv: Vec<String>,
    /// `user USER [GROUP]` of the script, else `script_user`.
    pub user: Option<String>,
    pub group: Option<String>,
    /// Who runs it and what is executed, settled when the file was checked against this
    /// host (`config::script_check`). `None`: not checked, or refused — such a command is
    /// never run.
    pub run_as: Option<RunAs>,
}

impl ScriptCommand {
    /// A command run as the default script user.
    pub fn from_argv<S: AsRef<str>>(argv: &[S]) -> Self {
        ScriptCommand {
            argv: argv.iter().map(|a| a.as_ref().to_string()).collect(),
            ..ScriptCommand::default()
        }
    }
}

/// The identity a script runs with and the program executed, resolved against this host:
/// the script's own `user [group]`, else `script_user [group]`, else the
/// `keepalived_script` user when it exists, else the daemon's own user; the group is the
/// one given, else the user's primary group, which is also the only supplementary group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunAs {
    pub uid: u32,
    pub gid: u32,
    /// `argv[0]`, or where it was found on `PATH` when it has no '/'.
    pub program: String,
    /// `enable_script_security` and uid 0: the path is checked again before every run,
    /// and the script is refused when an unprivileged user could have changed it.
    pub check_path: bool,
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
    /// The less common options of the line (added; `Default` is "none given").
    pub options: AddressOptions,
}

impl VirtualAddress {
    /// `addr/prefix_len` with no other option, written at `span`.
    pub fn new(addr: IpAddr, prefix_len: u8, span: Span) -> Self {
        VirtualAddress {
            addr,
            prefix_len,
            brd: None,
            dev: None,
            scope: None,
            label: None,
            peer: None,
            no_dad: false,
            preferred_lft: None,
            span,
            options: AddressOptions::default(),
        }
    }
}

/// Options of an address line beyond the contract's fields.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddressOptions {
    pub use_vmac: bool,
    pub home: bool,
    pub mngtmpaddr: bool,
    pub noprefixroute: bool,
    pub autojoin: bool,
    pub no_track: bool,
    /// `preferred_lft forever`.
    pub preferred_forever: bool,
    /// `track_group GROUP` (static addresses).
    pub track_group: Option<Box<String>>,
    /// `brd +` / `brd -`.
    pub brd_set_host_bits: Option<bool>,
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
    pub master: Option<Box<ScriptCommand>>,
    pub backup: Option<Box<ScriptCommand>>,
    pub fault: Option<Box<ScriptCommand>>,
    pub stop: Option<Box<ScriptCommand>>,
    /// `notify_deleted [SCRIPT]`: `Some` with an empty `argv` when given without a script
    /// (report DELETED instead of FAULT for instances removed by a reload).
    pub deleted: Option<Box<ScriptCommand>>,
    /// `notify`: run after the per-state script with TYPE NAME STATE PRIORITY appended.
    pub any: Option<Box<ScriptCommand>>,
    pub master_rx_lower_pri: Option<Box<ScriptCommand>>,
    /// `notify_conflict` (extension): run when a VRID conflict episode starts, with
    /// `CONFLICT name KIND peer` appended.
    pub conflict: Option<Box<ScriptCommand>>,
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

    // ---- additions (not part of the original contract) ----
    pub track_bfds: Vec<TrackRef>,
    pub use_vmac_addr: bool,
    pub use_ipvlan: Option<Box<Ipvlan>>,
    pub vrf: Option<Box<String>>,
    pub track_src_ip: bool,
    pub unicast_ttl: Option<u8>,
    pub unicast_fault_no_peer: bool,
    /// `old_unicast_checksum [never]`: `Some(never)`.
    pub old_unicast_checksum: Option<bool>,
    pub garp_extra_if: Option<GarpExtraIf>,
    pub promote_secondaries: bool,
    pub notify_priority_changes: bool,
    pub kernel_rx_buf_size: Option<u32>,
    pub linkbeat_use_polling: bool,
    pub debug: Option<u8>,
    /// Deprecated `lvs_sync_daemon_interface` in an instance.
    pub lvs_sync_daemon_interface: Option<Box<String>>,
}

/// `use_ipvlan [NAME] [IP[/LEN]] [bridge|private|vepa]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ipvlan {
    pub name: Option<String>,
    pub addr: Option<(IpAddr, u8)>,
    pub mode: Option<String>,
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
            track_bfds: Vec::new(),
            use_vmac_addr: false,
            use_ipvlan: None,
            vrf: None,
            track_src_ip: false,
            unicast_ttl: None,
            unicast_fault_no_peer: false,
            old_unicast_checksum: None,
            garp_extra_if: None,
            promote_secondaries: false,
            notify_priority_changes: false,
            kernel_rx_buf_size: None,
            linkbeat_use_polling: false,
            debug: None,
            lvs_sync_daemon_interface: None,
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
    // ---- additions ----
    pub fork_delay: Option<Duration>,
    pub terminate_delay: Option<Duration>,
    pub full_command: bool,
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
    // ---- additions ----
    pub track_bfds: Vec<TrackRef>,
    pub notify_priority_changes: bool,
    /// Deprecated `global_tracking`.
    pub global_tracking: bool,
}

// ------------------------------------------------------------------------------------
// LVS: virtual_server_group, virtual_server, real_server, checkers.
// ------------------------------------------------------------------------------------

/// `virtual_server_group NAME { ... }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VirtualServerGroup {
    pub name: String,
    pub span: Span,
    pub entries: Vec<VsgEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VsgEntry {
    /// An address or inclusive range (`a.b.c.d-e`, `a-b`, CIDR), optional port.
    Range {
        first: IpAddr,
        last: IpAddr,
        port: Option<u16>,
    },
    Fwmark {
        mark: u32,
        family: Option<Family>,
    },
}

/// What a virtual server is keyed on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VsKey {
    Addr { addr: IpAddr, port: Option<u16> },
    Fwmark(u32),
    Group(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Protocol {
    #[default]
    Tcp,
    Udp,
    Sctp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TunnelType {
    Ipip,
    Gue { port: u16 },
    Gre,
}

/// `lvs_method NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum LvsMethod {
    #[default]
    Nat,
    Dr,
    Tun {
        tunnel: TunnelType,
        csum: Option<String>,
    },
}

/// `virtual_server ... { ... }`.
#[derive(Clone, Debug, PartialEq)]
pub struct VirtualServer {
    pub key: VsKey,
    pub span: Span,
    /// `lvs_sched` / `lb_algo` (default wlc).
    pub lvs_sched: String,
    /// Scheduler flags: `flag-1`, `flag-2`, `flag-3`, `sh-port`, `sh-fallback`,
    /// `mh-port`, `mh-fallback` (as written, sorted).
    pub sched_flags: Vec<String>,
    pub ops: bool,
    /// `lvs_method` / `lb_kind` (default NAT).
    pub lvs_method: LvsMethod,
    pub persistence_engine: Option<String>,
    /// `persistence_timeout [N]` (no value: 360 s).
    pub persistence_timeout: Option<u32>,
    pub persistence_granularity: Option<String>,
    pub protocol: Protocol,
    pub ha_suspend: bool,
    pub smtp_alert: Option<bool>,
    pub virtualhost: Option<String>,
    pub snmp_name: Option<String>,
    pub alpha: bool,
    pub omega: bool,
    /// Default 1.
    pub quorum: u32,
    pub hysteresis: u32,
    pub quorum_up: Option<ScriptCommand>,
    pub quorum_down: Option<ScriptCommand>,
    pub ip_family: Option<Family>,
    pub sorry_server: Option<(IpAddr, Option<u16>)>,
    pub sorry_server_inhibit: bool,
    pub sorry_server_lvs_method: Option<LvsMethod>,
    /// Default 60 s.
    pub delay_loop: Duration,
    pub connect_timeout: Option<Duration>,
    pub retry: Option<u32>,
    pub delay_before_retry: Option<Duration>,
    pub warmup: Option<Duration>,
    pub inhibit_on_failure: bool,
    pub real_servers: Vec<RealServer>,
}

impl VirtualServer {
    /// A copy without its real servers (what the checker runtime keeps per virtual
    /// server: no copy of a pool of thousands). Every other field is listed, so a new
    /// field cannot be forgotten.
    #[allow(clippy::clone_on_copy)] // one form for every field, whatever its type
    pub fn without_real_servers(&self) -> VirtualServer {
        let VirtualServer {
            key,
            span,
            lvs_sched,
            sched_flags,
            ops,
            lvs_method,
            persistence_engine,
            persistence_timeout,
            persistence_granularity,
            protocol,
            ha_suspend,
            smtp_alert,
            virtualhost,
            snmp_name,
            alpha,
            omega,
            quorum,
            hysteresis,
            quorum_up,
            quorum_down,
            ip_family,
            sorry_server,
            sorry_server_inhibit,
            sorry_server_lvs_method,
            delay_loop,
            connect_timeout,
            retry,
            delay_before_retry,
            warmup,
            inhibit_on_failure,
            real_servers: _,
        } = self;
        VirtualServer {
            key: key.clone(),
            span: span.clone(),
            lvs_sched: lvs_sched.clone(),
            sched_flags: sched_flags.clone(),
            ops: ops.clone(),
            lvs_method: lvs_method.clone(),
            persistence_engine: persistence_engine.clone(),
            persistence_timeout: persistence_timeout.clone(),
            persistence_granularity: persistence_granularity.clone(),
            protocol: protocol.clone(),
            ha_suspend: ha_suspend.clone(),
            smtp_alert: smtp_alert.clone(),
            virtualhost: virtualhost.clone(),
            snmp_name: snmp_name.clone(),
            alpha: alpha.clone(),
            omega: omega.clone(),
            quorum: quorum.clone(),
            hysteresis: hysteresis.clone(),
            quorum_up: quorum_up.clone(),
            quorum_down: quorum_down.clone(),
            ip_family: ip_family.clone(),
            sorry_server: sorry_server.clone(),
            sorry_server_inhibit: sorry_server_inhibit.clone(),
            sorry_server_lvs_method: sorry_server_lvs_method.clone(),
            delay_loop: delay_loop.clone(),
            connect_timeout: connect_timeout.clone(),
            retry: retry.clone(),
            delay_before_retry: delay_before_retry.clone(),
            warmup: warmup.clone(),
            inhibit_on_failure: inhibit_on_failure.clone(),
            real_servers: Vec::new(),
        }
    }
}

/// `real_server IP [PORT] { ... }`.
#[derive(Clone, Debug, PartialEq)]
pub struct RealServer {
    pub addr: IpAddr,
    pub port: Option<u16>,
    pub span: Span,
    /// Default 1.
    pub weight: i32,
    /// Default: the virtual server's method.
    pub lvs_method: LvsMethod,
    pub notify_up: Option<ScriptCommand>,
    pub notify_down: Option<ScriptCommand>,
    pub uthreshold: Option<u32>,
    pub lthreshold: Option<u32>,
    pub smtp_alert: Option<bool>,
    pub virtualhost: Option<String>,
    pub snmp_name: Option<String>,
    pub alpha: Option<bool>,
    pub connect_timeout: Option<Duration>,
    pub retry: Option<u32>,
    pub delay_before_retry: Option<Duration>,
    pub warmup: Option<Duration>,
    pub delay_loop: Option<Duration>,
    /// Default: the virtual server's `inhibit_on_failure`.
    pub inhibit_on_failure: bool,
    pub checkers: Vec<Checker>,
}

/// One health checker of a real server, its timing resolved VS -> RS -> checker.
#[derive(Clone, Debug, PartialEq)]
pub struct Checker {
    pub span: Span,
    pub kind: CheckerKind,
    pub connect_ip: Option<IpAddr>,
    pub connect_port: Option<u16>,
    pub bindto: Option<IpAddr>,
    pub bind_if: Option<String>,
    pub bind_port: Option<u16>,
    pub fwmark: Option<u32>,
    pub alpha: bool,
    /// Default 5 s.
    pub connect_timeout: Duration,
    /// Default 1; 3 for DNS_CHECK; 0 for MISC_CHECK.
    pub retry: u32,
    /// Default 1 s; 3 s for HTTP_GET/SSL_GET; delay_loop for DNS_CHECK.
    pub delay_before_retry: Duration,
    /// Default: the delay loop.
    pub warmup: Duration,
    pub delay_loop: Duration,
    pub log_all_failures: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum CheckerKind {
    Tcp,
    Http(HttpCheck),
    Ssl(HttpCheck),
    Smtp {
        helo_name: Option<String>,
    },
    Dns {
        /// Default SOA.
        qtype: String,
        /// Default ".".
        name: String,
    },
    Misc(MiscCheck),
    Udp(UdpCheck),
    Ping,
    File(FileCheck),
    Bfd {
        name: String,
    },
}

impl CheckerKind {
    /// The block keyword of the checker.
    pub fn keyword(&self) -> &'static str {
        match self {
            CheckerKind::Tcp => "TCP_CHECK",
            CheckerKind::Http(_) => "HTTP_GET",
            CheckerKind::Ssl(_) => "SSL_GET",
            CheckerKind::Smtp { .. } => "SMTP_CHECK",
            CheckerKind::Dns { .. } => "DNS_CHECK",
            CheckerKind::Misc(_) => "MISC_CHECK",
            CheckerKind::Udp(_) => "UDP_CHECK",
            CheckerKind::Ping => "PING_CHECK",
            CheckerKind::File(_) => "FILE_CHECK",
            CheckerKind::Bfd { .. } => "BFD_CHECK",
        }
    }
}

/// HTTP_GET / SSL_GET specifics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpCheck {
    /// `http_protocol 1.0|1.0C|1.1` (default 1.0).
    pub http_protocol: Option<String>,
    pub fast_recovery: bool,
    pub virtualhost: Option<String>,
    pub enable_sni: bool,
    pub urls: Vec<UrlCheck>,
}

/// `url { path; digest; status_code; virtualhost; regex... }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlCheck {
    pub path: String,
    /// Lower-case hex MD5.
    pub digest: Option<String>,
    /// Inclusive ranges (default 200-299).
    pub status_codes: Vec<(u16, u16)>,
    pub virtualhost: Option<String>,
    pub regex: Option<String>,
    pub regex_no_match: bool,
    pub regex_options: Vec<String>,
    pub regex_stack: Option<(u32, u32)>,
    pub regex_min_offset: Option<u32>,
    pub regex_max_offset: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MiscCheck {
    pub path: ScriptCommand,
    /// Default: the delay loop.
    pub timeout: Option<Duration>,
    pub dynamic: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UdpCheck {
    pub payload: Option<Vec<u8>>,
    /// `require_reply [HEX]`: `Some(pattern)`; pattern nibbles `None` = don't care.
    pub require_reply: Option<Vec<(Option<u8>, Option<u8>)>>,
    pub min_reply_length: u32,
    /// Default 255.
    pub max_reply_length: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileCheck {
    pub track_file: String,
    pub dynamic: bool,
    pub weight: Option<i64>,
    pub reverse: bool,
}
