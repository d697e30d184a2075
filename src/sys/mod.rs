//! The real world: one mio loop executing the engine's actions against Linux.
//!
//! - `reactor`: the loop (timerfd, signals, netlink, VRRP sockets, pidfds) and the engine;
//! - `world` (+ `world_sockets`, `world_netcfg`): actions → syscalls, kernel reports →
//!   events; what we created, released at exit;
//! - `clock`, `token`: monotonic time and generation-checked mio tokens;
//! - `rawsock`, `arp`, `ndisc`: VRRP sockets, GARP, unsolicited NA;
//! - `netlink`, `netlink_route`, `netlink_iproute`, `netlink_sock`, `iftable`, `sysctl`:
//!   rtnetlink codec, address/link and route/rule requests, sockets, the interface table,
//!   VMAC sysctls;
//! - `nftables`, `nftables_sock`, `nftables_fw` (+ `world_firewall`): Accept_Mode as
//!   keepalived's nftables table (codec, NETLINK_NETFILTER channel, table layout);
//! - `trackfile`, `trackproc`: `track_file` (inotify) and `vrrp_track_process` (/proc);
//! - `process`, `script_spawn`: children (caps, timeouts, reaping) and how one starts;
//! - `signals`, `pidfile`, `daemon`: signals, pid file, detaching;
//! - `conn`: checker and alerter connections (TCP, TLS, UDP, ICMP echo) for
//!   `Action::Connect` / `Send` / `Close`;
//! - `control`: the control socket (`--status`) and the metrics endpoint (extensions);
//! - `safefile`: files written where others can write (dumps, pid file) without
//!   ever following or writing into something planted there.
//!
//! CONTRACT: [`daemon_main`] is what `keepalived-rs` (no -t/-d/--simulate) calls.

pub mod agentx;
#[cfg(test)]
mod agentx_tests;
pub mod arp;
pub mod clock;
pub mod conn;
pub mod control;
pub mod daemon;
pub mod fifo_reader;
pub mod fifo_writer;
pub mod iftable;
pub mod ipvs;
pub mod ipvs_codec;
pub mod ndisc;
pub mod netlink;
pub mod netlink_iproute;
pub mod netlink_route;
pub mod netlink_sock;
pub mod nftables;
pub mod nftables_fw;
pub mod nftables_sock;
pub mod pidfile;
pub mod process;
pub mod rawsock;
pub mod rawsock_mmsg;
pub mod reactor;
pub mod safefile;
pub mod script_spawn;
pub mod signals;
pub mod sysctl;
pub mod token;
pub mod trackfile;
pub mod trackproc;
pub mod world;
mod world_firewall;
pub mod world_frames;
mod world_netcfg;
mod world_sockets;

use std::path::PathBuf;

/// What the daemon needs from the command line.
#[derive(Clone, Debug, Default)]
pub struct DaemonOptions {
    /// -f/--use-file
    pub config_file: PathBuf,
    /// -i/--config-id
    pub config_id: Option<String>,
    /// -e/--all-config
    pub all_config: bool,
    /// -n/--dont-fork
    pub dont_fork: bool,
    /// -p/--pid (empty: [`pidfile::DEFAULT_PID_FILE`], keepalived's /run/keepalived.pid)
    pub pid_file: PathBuf,
    /// --dump-dir (empty: `$TMPDIR`, else /tmp, as keepalived): where SIGUSR1, SIGUSR2 and
    /// SIGRTMIN+2 write keepalived.data, keepalived.stats and keepalived.json.
    pub dump_dir: PathBuf,
    /// -X/--release-vips
    pub release_vips: bool,
    /// -V/--dont-release-vrrp
    pub dont_release_vrrp: bool,
    /// -I/--dont-release-ipvs
    pub dont_release_ipvs: bool,
    /// -s/--namespace
    pub namespace: Option<String>,
    /// -u/--umask
    pub umask: Option<u32>,
    /// -a/--address-monitoring
    pub address_monitoring: bool,
    /// -P/--vrrp, -C/--check: which subsystems run (both when neither is given).
    pub run_vrrp: bool,
    pub run_checkers: bool,
    /// The control socket (extension; `--control-socket`, default beside the pid file,
    /// see [`control::socket_path_for`]); None: none (`--no-control-socket`).
    pub control_socket: Option<PathBuf>,
    /// -x/--snmp and -A/--snmp-agent-socket (`crate::snmp::settings::from_config`).
    pub snmp: bool,
    pub snmp_socket: Option<String>,
}

/// keepalived's exit codes.
pub const EXIT_OK: i32 = 0;
pub const EXIT_FATAL: i32 = 1;
pub const EXIT_NO_CONFIG: i32 = 6;

/// Runs the daemon until it is told to stop; returns the exit status.
pub fn daemon_main(opts: &DaemonOptions) -> i32 {
    // The CLI sets up logging; this only makes sure messages go somewhere if it did not.
    let _ = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .try_init();
    let mut opts = opts.clone();
    if !opts.run_vrrp && !opts.run_checkers {
        opts.run_vrrp = true;
        opts.run_checkers = true;
    }
    if opts.pid_file.as_os_str().is_empty() {
        opts.pid_file = PathBuf::from(pidfile::DEFAULT_PID_FILE);
    }
    opts.dump_dir =
        safefile::dump_dir(Some(opts.dump_dir.as_path()).filter(|d| !d.as_os_str().is_empty()));
    if let Some(mask) = opts.umask {
        daemon::set_umask(mask);
    }
    if let Some(ns) = &opts.namespace {
        if let Err(e) = daemon::enter_netns(ns) {
            log::error!("{e}");
            return EXIT_FATAL;
        }
    }
    let config = match reactor::load_config(&opts) {
        Ok(c) => c,
        Err(e) => {
            log::error!("{e}");
            return EXIT_NO_CONFIG;
        }
    };
    if let Some(pid) = pidfile::holder(&opts.pid_file) {
        log::error!(
            "{}: keepalived-rs is already running as pid {pid}",
            opts.pid_file.display()
        );
        return EXIT_FATAL;
    }
    if !opts.dont_fork {
        if let Err(e) = daemon::detach() {
            log::error!("{e}");
            return EXIT_FATAL;
        }
    }
    let _pid = match pidfile::PidFile::acquire(&opts.pid_file) {
        Ok(p) => p,
        Err(e) => {
            log::error!("{e}");
            return EXIT_FATAL;
        }
    };
    log::info!("Starting keepalived-rs {}", env!("CARGO_PKG_VERSION"));
    // keepalived says so, then idles until a reload brings something to run.
    let vrrp = opts.run_vrrp && !config.instances.is_empty();
    let checkers = opts.run_checkers && !config.virtual_servers.is_empty();
    if !vrrp && !checkers {
        log::warn!("keepalived-rs has no configuration to run");
    }
    let mut reactor = match reactor::Reactor::new(config, opts) {
        Ok(r) => r,
        Err(e) => {
            log::error!("{e}");
            return EXIT_FATAL;
        }
    };
    reactor.start();
    reactor.run()
}
