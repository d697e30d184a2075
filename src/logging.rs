//! Logging set-up behind the `log` facade: the sinks the daemon writes to.
//!
//! - `-l/--log-console`: lines on stderr, prefixed with the local time as keepalived
//!   does (`Sat Nov 21 23:52:51 2026: (VI_1) Entering MASTER STATE`).
//! - syslog (unless `-G/--no-syslog`): RFC 3164 datagrams on `/dev/log`
//!   ([`syslog::Syslog`]), ident [`IDENT`] (`Keepalived`, the ident of keepalived's parent
//!   process: one process here, so one ident, and existing `programname startswith
//!   "Keepalived"` filters keep matching), facility from `-S` (default daemon).
//!   If `/dev/log` cannot be reached the records go to stderr instead, with one warning.
//! - `-D/--log-detail`: debug level (`-D -D`: trace); info otherwise.
//!
//! While the loop runs, lines are queued ([`paced`]) and the loop writes at most
//! [`LINES_PER_TURN`] after each turn's adverts have left ([`write_some`]): a step that
//! logs a thousand lines (a GARP burst of 1 000 instances) wrote them for 10 ms before
//! its adverts and the next ones went out. Each line keeps the time it was made; at most
//! [`QUEUE_MAX`] wait (a full queue is written out at once, so nothing is lost), and the
//! queue is written out when pacing ends, also when a panic unwinds.

pub mod clock;
pub mod syslog;

use log::{LevelFilter, Log, Metadata, Record};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

/// The syslog ident (and the console prefix when syslog falls back to stderr).
pub const IDENT: &str = "Keepalived";

/// A syslog facility keepalived's `-S` accepts: `0`-`7` (= local0-7), `local0`-`local7`,
/// `user`, `daemon`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Facility {
    User,
    #[default]
    Daemon,
    Local0,
    Local1,
    Local2,
    Local3,
    Local4,
    Local5,
    Local6,
    Local7,
}

impl Facility {
    const LOCALS: [Facility; 8] = [
        Facility::Local0,
        Facility::Local1,
        Facility::Local2,
        Facility::Local3,
        Facility::Local4,
        Facility::Local5,
        Facility::Local6,
        Facility::Local7,
    ];

    /// Parses `-S` values as keepalived 2.2 does.
    pub fn parse(s: &str) -> Option<Facility> {
        match s {
            "user" => return Some(Facility::User),
            "daemon" => return Some(Facility::Daemon),
            _ => {}
        }
        let n = s.strip_prefix("local").unwrap_or(s);
        if n.len() != 1 {
            return None;
        }
        let d = n.parse::<usize>().ok()?;
        Self::LOCALS.get(d).copied()
    }

    /// The syslog facility code (RFC 3164 §4.1.1: user 1, daemon 3, local0-7 16-23).
    pub fn code(self) -> u8 {
        match self {
            Facility::User => 1,
            Facility::Daemon => 3,
            Facility::Local0 => 16,
            Facility::Local1 => 17,
            Facility::Local2 => 18,
            Facility::Local3 => 19,
            Facility::Local4 => 20,
            Facility::Local5 => 21,
            Facility::Local6 => 22,
            Facility::Local7 => 23,
        }
    }
}

/// The logging part of the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogOptions {
    /// `-l`
    pub console: bool,
    /// number of `-D`
    pub detail: u8,
    /// `-S`
    pub facility: Facility,
    /// false with `-G`
    pub syslog: bool,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            console: false,
            detail: 0,
            facility: Facility::Daemon,
            syslog: true,
        }
    }
}

impl LogOptions {
    pub fn level(&self) -> LevelFilter {
        match self.detail {
            0 => LevelFilter::Info,
            1 => LevelFilter::Debug,
            _ => LevelFilter::Trace,
        }
    }
}

/// Lines waiting at most; a full queue is written out at once.
pub const QUEUE_MAX: usize = 4096;

/// Lines the loop writes per turn: a fraction of a millisecond.
pub const LINES_PER_TURN: usize = 32;

/// One record as made.
struct Line {
    level: log::Level,
    at: Option<clock::LocalTime>,
    text: String,
}

/// The lines waiting for the loop to write them.
struct Queue {
    on: bool,
    lines: std::collections::VecDeque<Line>,
}

static QUEUE: Mutex<Queue> = Mutex::new(Queue {
    on: false,
    lines: std::collections::VecDeque::new(),
});

fn queue() -> std::sync::MutexGuard<'static, Queue> {
    QUEUE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Queues log lines until the returned guard is dropped (then they are all written).
pub fn paced() -> Paced {
    queue().on = true;
    Paced(())
}

/// See [`paced`].
pub struct Paced(());

impl Drop for Paced {
    fn drop(&mut self) {
        stop_pacing();
    }
}

/// Ends pacing early (the loop is stopping): what waits is written, and lines from now
/// on are written at once.
pub fn stop_pacing() {
    queue().on = false;
    log::logger().flush();
}

/// Whether lines wait: the loop then turns again without sleeping.
pub fn pending() -> bool {
    !queue().lines.is_empty()
}

/// Writes the oldest waiting lines: `max`, or a sixteenth of the queue when more wait
/// (a loop that logs faster than `max` per turn keeps up without a burst).
pub fn write_some(max: usize) {
    let lines: Vec<Line> = {
        let mut q = queue();
        let n = max.max(q.lines.len() / 16).min(q.lines.len());
        let out = q.lines.drain(..n).collect();
        if q.lines.is_empty() {
            q.lines = Default::default(); // a burst's buffer goes back
        }
        out
    };
    if let Some(sinks) = SINKS.get() {
        for l in &lines {
            sinks.write(l);
        }
    }
}

/// The installed sinks, for [`write_some`].
static SINKS: std::sync::OnceLock<&'static Sinks> = std::sync::OnceLock::new();

/// The installed logger: any of console and syslog.
struct Sinks {
    level: LevelFilter,
    console: bool,
    syslog: Option<syslog::Syslog>,
}

impl Sinks {
    fn write(&self, line: &Line) {
        if self.console {
            let t = line.at.map(|t| t.ctime()).unwrap_or_default();
            // One write per line (stderr is unbuffered).
            let text = format!("{t}: {}\n", line.text);
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
        }
        if let Some(s) = &self.syslog {
            s.send_at(line.level.into(), line.at, &line.text);
        }
    }
}

impl Log for Sinks {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= self.level
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = Line {
            level: record.level(),
            at: clock::LocalTime::now(),
            text: record.args().to_string(),
        };
        {
            let mut q = queue();
            if q.on && q.lines.len() < QUEUE_MAX {
                q.lines.push_back(line);
                return;
            }
        }
        // Not paced (or the queue is full): what waits goes first, in order.
        self.flush();
        self.write(&line);
    }

    fn flush(&self) {
        let lines = std::mem::take(&mut queue().lines);
        for l in &lines {
            self.write(l);
        }
    }
}

/// What [`init`] ended up doing.
#[derive(Debug, PartialEq, Eq)]
pub enum Installed {
    /// The requested sinks are in place.
    AsRequested,
    /// syslog was requested but unreachable; records go to stderr instead.
    SyslogFellBackToStderr(String),
    /// A logger was already installed (tests, or a second call).
    AlreadySet,
}

/// Installs the process logger for `opts`, with syslog at `dev_log`.
pub fn init_with(opts: &LogOptions, dev_log: &Path) -> Installed {
    let level = opts.level();
    let mut console = opts.console;
    let mut outcome = Installed::AsRequested;
    let syslog = if opts.syslog {
        match syslog::Syslog::connect(dev_log, IDENT, opts.facility.code()) {
            Ok(s) => Some(s),
            Err(e) => {
                console = true;
                outcome = Installed::SyslogFellBackToStderr(format!("{}: {e}", dev_log.display()));
                None
            }
        }
    } else {
        None
    };
    let sinks = Sinks {
        level,
        console,
        syslog,
    };
    let sinks: &'static Sinks = Box::leak(Box::new(sinks));
    if log::set_logger(sinks).is_err() {
        return Installed::AlreadySet;
    }
    let _ = SINKS.set(sinks);
    log::set_max_level(level);
    if let Installed::SyslogFellBackToStderr(why) = &outcome {
        log::warn!("syslog unavailable ({why}); logging to stderr");
    }
    outcome
}

/// Installs the process logger for `opts` (syslog at `/dev/log`).
pub fn init(opts: &LogOptions) -> Installed {
    init_with(opts, Path::new(syslog::DEV_LOG))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facility_parse_and_codes() {
        assert_eq!(Facility::parse("0"), Some(Facility::Local0));
        assert_eq!(Facility::parse("7"), Some(Facility::Local7));
        assert_eq!(Facility::parse("local5"), Some(Facility::Local5));
        assert_eq!(Facility::parse("user"), Some(Facility::User));
        assert_eq!(Facility::parse("daemon"), Some(Facility::Daemon));
        for bad in [
            "8", "local8", "local", "", "10", "-1", "Daemon", "local01", "kern",
        ] {
            assert_eq!(Facility::parse(bad), None, "{bad}");
        }
        assert_eq!(Facility::Daemon.code(), 3);
        assert_eq!(Facility::User.code(), 1);
        assert_eq!(Facility::Local0.code(), 16);
        assert_eq!(Facility::Local7.code(), 23);
    }

    #[test]
    fn detail_levels() {
        let mut o = LogOptions::default();
        assert_eq!(o.level(), LevelFilter::Info);
        o.detail = 1;
        assert_eq!(o.level(), LevelFilter::Debug);
        o.detail = 5;
        assert_eq!(o.level(), LevelFilter::Trace);
    }

    #[test]
    fn missing_dev_log_falls_back_without_dying() {
        let o = LogOptions::default();
        let r = init_with(&o, Path::new("/nonexistent/dev/log"));
        // Either this test installed the logger (and saw the fallback) or another test
        // in the same process did first.
        assert!(
            matches!(
                r,
                Installed::SyslogFellBackToStderr(_) | Installed::AlreadySet
            ),
            "{r:?}"
        );
        log::info!("still alive");
    }
}
