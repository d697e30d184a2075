//! The real world: one mio loop executing the engine's actions against Linux (filled by
//! the Linux work).
//!
//! CONTRACT: [`daemon_main`] is what `keepalived-rs` (no -t/-d/--simulate) calls.

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
    /// -p/--pid (default /run/keepalived.pid)
    pub pid_file: PathBuf,
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
}

/// Runs the daemon until it is told to stop; returns the exit status.
pub fn daemon_main(opts: &DaemonOptions) -> i32 {
    eprintln!(
        "{}: the daemon is not built yet",
        opts.config_file.display()
    );
    1
}
