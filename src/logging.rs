//! Logging set-up behind the `log` facade: the sinks the daemon writes to.
//!
//! - `-l/--log-console`: lines on stderr through env_logger, prefixed with the local time
//!   as keepalived does (`Sat Nov 21 23:52:51 2026: (VI_1) Entering MASTER STATE`).
//! - syslog (unless `-G/--no-syslog`): RFC 3164 datagrams on `/dev/log`
//!   ([`syslog::Syslog`]), ident [`IDENT`] (`Keepalived`, the ident of keepalived's parent
//!   process: one process here, so one ident, and existing `programname startswith
//!   "Keepalived"` filters keep matching), facility from `-S` (default daemon).
//!   If `/dev/log` cannot be reached the records go to stderr instead, with one warning.
//! - `-D/--log-detail`: debug level (`-D -D`: trace); info otherwise.
//!
//! The messages themselves come from the engine and the worlds; this module only owns
//! where they go.

pub mod clock;
pub mod syslog;

use log::{LevelFilter, Log, Metadata, Record};
use std::io::Write;
use std::path::Path;

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

/// The console line format: `<ctime>: <message>`.
fn console_logger(level: LevelFilter) -> env_logger::Logger {
    env_logger::Builder::new()
        .filter_level(level)
        .target(env_logger::Target::Stderr)
        .format(|buf, record| {
            let t = clock::LocalTime::now()
                .map(|t| t.ctime())
                .unwrap_or_default();
            writeln!(buf, "{t}: {}", record.args())
        })
        .build()
}

/// The installed logger: any of console and syslog.
struct Sinks {
    level: LevelFilter,
    console: Option<env_logger::Logger>,
    syslog: Option<syslog::Syslog>,
}

impl Log for Sinks {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= self.level
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        if let Some(c) = &self.console {
            c.log(record);
        }
        if let Some(s) = &self.syslog {
            s.send(record.level().into(), &record.args().to_string());
        }
    }

    fn flush(&self) {
        if let Some(c) = &self.console {
            c.flush();
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
    let mut console = opts.console.then(|| console_logger(level));
    let mut outcome = Installed::AsRequested;
    let syslog = if opts.syslog {
        match syslog::Syslog::connect(dev_log, IDENT, opts.facility.code()) {
            Ok(s) => Some(s),
            Err(e) => {
                if console.is_none() {
                    console = Some(console_logger(level));
                }
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
    if log::set_boxed_logger(Box::new(sinks)).is_err() {
        return Installed::AlreadySet;
    }
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
