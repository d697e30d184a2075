//! Signals as reactor events (signal-hook's self-pipe, registered with mio): SIGTERM and
//! SIGINT shut down, SIGHUP reloads, SIGUSR1 / SIGUSR2 dump data / stats, SIGCHLD reaps.

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
    Reap,
}

pub fn open() -> io::Result<Signals> {
    Signals::new([SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD])
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
            _ => None,
        })
        .collect()
}
