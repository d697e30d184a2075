//! Signals as reactor events (signal-hook's self-pipe, registered with mio): SIGTERM and
//! SIGINT shut down, SIGHUP reloads, SIGUSR1 / SIGUSR2 dump data / stats, SIGRTMAX-1 dumps
//! and clears the stats, SIGRTMIN+2 writes JSON, SIGCHLD reaps (keepalived's numbers).

use signal_hook::consts::{SIGCHLD, SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGUSR2};
use signal_hook_mio::v1_0::Signals;
use std::io;

/// What a signal asks of the daemon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    Shutdown,
    Reload,
    DumpData,
    DumpStats,
    /// keepalived's STATS_CLEAR (SIGRTMAX-1): dump the stats, then zero them.
    DumpStatsClear,
    /// keepalived's JSON (SIGRTMIN+2): instance data as JSON.
    DumpJson,
    Reap,
}

/// keepalived's STATS_CLEAR signal.
pub fn sig_stats_clear() -> i32 {
    libc::SIGRTMAX() - 1
}

/// keepalived's JSON signal.
pub fn sig_json() -> i32 {
    libc::SIGRTMIN() + 2
}

pub fn open() -> io::Result<Signals> {
    Signals::new([
        SIGTERM,
        SIGINT,
        SIGHUP,
        SIGUSR1,
        SIGUSR2,
        SIGCHLD,
        sig_stats_clear(),
        sig_json(),
    ])
}

/// Drains the pending signals (always before acting on them).
pub fn pending(s: &mut Signals) -> Vec<Request> {
    s.pending()
        .filter_map(|sig| match sig {
            SIGTERM | SIGINT => Some(Request::Shutdown),
            SIGHUP => Some(Request::Reload),
            SIGUSR1 => Some(Request::DumpData),
            SIGUSR2 => Some(Request::DumpStats),
            SIGCHLD => Some(Request::Reap),
            s if s == sig_stats_clear() => Some(Request::DumpStatsClear),
            s if s == sig_json() => Some(Request::DumpJson),
            _ => None,
        })
        .collect()
}
