//! keepalived's status dumps, rendered from a [`Snapshot`] of the engine: `keepalived.data`
//! (SIGUSR1), `keepalived.stats` (SIGUSR2 / STATS_CLEAR) and `keepalived.json`
//! (SIGRTMIN+2, keepalived's version-1 shape). Monitoring written for keepalived (Prometheus
//! exporters, Checkmk and Zabbix plugins) parses these files, so every label, indentation
//! and JSON field we have is keepalived 2.2.7's; facts keepalived does not print come after
//! its text, in a separate `keepalived-rs` section (text) or a `keepalived_rs` member
//! (JSON), written so that parsers keyed on keepalived's labels skip them.
//!
//! Pure, like the engine: no I/O, no clock. The world supplies what only it knows
//! ([`HostFacts`]: the wall-clock time of the engine's instant zero, the time zone, the
//! host name, its own I/O counters) and writes the text where keepalived does
//! (`sys::dumpfile`), or records it in the trace (`sim`).
//!
//! With virtual servers, SIGUSR1 also gives keepalived's checker dump,
//! `keepalived_check.data` ([`render_check_data`]).
//!
//! Extensions of keepalived-rs from the same snapshot: the live status of
//! `keepalived-rs --status` (`live`, as text or JSON through `doc`), the Prometheus /
//! OpenMetrics exposition (`metrics`) and the control socket's request/answer protocol
//! (`control`).

mod check_data;
pub mod control;
mod data;
mod doc;
pub mod ipvs_view;
mod json;
pub mod live;
pub mod metrics;
mod snapshot;
mod stats;
mod text;

pub use check_data::{render_check_data, CHECK_DATA_FILE};
pub use data::render_data;
pub use json::render_json;
pub use snapshot::*;
pub use stats::render_stats;
pub use text::WallTime;

use crate::sched::Instant;

/// The three dumps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DumpKind {
    /// `keepalived.data` (SIGUSR1).
    Data,
    /// `keepalived.stats` (SIGUSR2, STATS_CLEAR).
    Stats,
    /// `keepalived.json` (SIGRTMIN+2).
    Json,
}

impl DumpKind {
    pub const ALL: [DumpKind; 3] = [DumpKind::Data, DumpKind::Stats, DumpKind::Json];

    /// The word used in scenarios and logs: `data`, `stats`, `json`.
    pub fn name(self) -> &'static str {
        match self {
            DumpKind::Data => "data",
            DumpKind::Stats => "stats",
            DumpKind::Json => "json",
        }
    }

    pub fn from_name(s: &str) -> Option<DumpKind> {
        DumpKind::ALL.into_iter().find(|k| k.name() == s)
    }

    /// keepalived's file name, in `$TMPDIR` (default /tmp).
    pub fn file_name(self) -> &'static str {
        match self {
            DumpKind::Data => "keepalived.data",
            DumpKind::Stats => "keepalived.stats",
            DumpKind::Json => "keepalived.json",
        }
    }
}

/// What the world knows that the engine does not.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostFacts {
    /// Wall-clock nanoseconds since the Unix epoch at the engine's instant zero (the sim
    /// uses 0: its dates are seconds since the start of the run).
    pub wall_at_zero_ns: i128,
    /// Seconds east of UTC of local time (dates in `keepalived.data` are local, as
    /// keepalived's).
    pub utc_offset_secs: i64,
    /// The host name: keepalived's default `router_id`.
    pub hostname: String,
    /// The world's own counters (sent, received, loop wake-ups...), appended to
    /// `keepalived.stats` after everything else, one `label: value` line each.
    pub io_stats: Vec<(String, String)>,
}

impl HostFacts {
    /// The wall-clock time of engine instant `t`.
    pub fn wall(&self, t: Instant) -> WallTime {
        WallTime::from_unix_ns(self.wall_at_zero_ns + i128::from(t.as_nanos()))
    }
}

/// Renders one dump.
pub fn render(kind: DumpKind, snap: &Snapshot, facts: &HostFacts) -> String {
    match kind {
        DumpKind::Data => render_data(snap, facts),
        DumpKind::Stats => render_stats(snap, facts),
        DumpKind::Json => render_json(snap, facts),
    }
}

/// The part of a rendered dump about instance `name` (its block in `keepalived.data` or
/// `keepalived.stats`, its array element in `keepalived.json`), for expectations that look
/// at one instance. None when the dump has no such instance.
pub fn instance_part<'a>(kind: DumpKind, text: &'a str, name: &str) -> Option<&'a str> {
    match kind {
        DumpKind::Data => text::block(text, &format!(" VRRP Instance = {name}\n"), |l| {
            l.starts_with("   ")
        }),
        DumpKind::Stats => text::block(text, &format!("VRRP Instance: {name}\n"), |l| {
            l.starts_with("  ")
        }),
        DumpKind::Json => json::element(text, name),
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_live;
