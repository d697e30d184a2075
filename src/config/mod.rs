//! The keepalived.conf language: lexing (`lex`), the block tree (`tree`), the typed model
//! (`model`), building the model with diagnostics (`build`) and dumping it (`dump`).
//!
//! Entry point for the rest of the program: [`load`].

pub mod build;
mod diag;
pub mod dump;
pub mod iproute;
mod lang_glob;
mod lang_include;
mod lang_line;
mod lang_pre;
mod lang_repeat;
pub mod lex;
pub mod model;
pub mod script_check;
#[allow(clippy::disallowed_methods, clippy::disallowed_types)] // config's one file reader
mod source;
pub mod tree;

pub use diag::{Diagnostic, Kind, Severity, MAX_DIAGNOSTICS};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where a token came from: file, 1-based line and 1-based column.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Span {
    pub file: Arc<PathBuf>,
    pub line: u32,
    pub col: u32,
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.col)
    }
}

/// How to read a configuration: the options of the command line that change it.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// `-i/--config-id`: selects `@ID` lines (default: the node name up to the first '.').
    pub config_id: Option<String>,
    /// `-e/--all-config`: a missing configuration or include file is fatal.
    pub all_config: bool,
    /// Interfaces that exist on this host, for the "no such interface" check of `-t`;
    /// `None` skips that check. `Some` also checks the scripts against this host.
    pub host_interfaces: Option<Vec<String>>,
    /// Check the scripts against this host (users, programs, permissions) even without
    /// `host_interfaces`: the daemon's own loads, whose scripts run here.
    pub check_scripts: bool,
    /// The seed of `${_RANDOM}` until a `random_seed` line sets one: the daemon and `-t`
    /// give a fresh one per load (keepalived seeds from the time), the simulator its run's
    /// seed. `None`: a fixed seed (tests).
    pub random_seed: Option<u64>,
}

/// The outcome of reading a configuration: the model (always built, with defaults in place
/// of bad values, as keepalived does) and every diagnostic found on the way.
#[derive(Debug)]
pub struct Loaded {
    pub config: model::Config,
    pub diagnostics: Vec<Diagnostic>,
    /// Files that could not be read (the main file or an `include`), as keepalived's
    /// "Config files missing" case.
    pub missing_files: Vec<PathBuf>,
    /// (added) The main configuration file itself could not be read.
    pub main_missing: bool,
    /// (added) Loaded with `-e/--all-config`: a missing file is fatal.
    pub all_config: bool,
}

impl Loaded {
    /// Whether the daemon runs this configuration: the one rule start-up and reload
    /// (SIGHUP, simulated or real) share. Like keepalived, a file with errors or warnings
    /// runs with the bad parts skipped or defaulted; only a file that cannot be read at
    /// all is refused (at reload the running configuration then stays).
    pub fn can_run(&self) -> bool {
        !self.main_missing
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }
}

/// The exit status of `-t/--config-test` for a loaded configuration, as keepalived 2.2.7
/// gives it (its man page documents other numbers, see keepalived#2457), decided from the
/// diagnostics' [`Kind`]s:
///
/// - 4: it cannot run: `-e` and the main configuration file is missing, or the main file
///   exists but cannot be read ([`Kind::CannotRun`]);
/// - 5: an interface does not exist on this host (keepalived stops there);
/// - 6: `-e` and an included file is missing (keepalived's "no config" status), or scripts
///   would run as root without `enable_script_security` ("SECURITY VIOLATION"; only
///   detected by [`load`] with `host_interfaces`, i.e. checking a file against this
///   host), even with other errors;
/// - 0: the main file is missing without `-e` — keepalived prints "Config files missing"
///   and exits 0; the caller prints that line, this function only decides the status;
/// - 5: any error or warning except a warning about a missing file (keepalived counts
///   every reported configuration problem, including a rounded advert_int);
/// - 0: valid.
pub fn config_test_status(loaded: &Loaded) -> i32 {
    let any = |kind: Kind| loaded.diagnostics.iter().any(|d| d.kind == kind);
    if loaded.all_config && loaded.main_missing {
        return 4;
    }
    if any(Kind::CannotRun) {
        return 4;
    }
    if loaded.all_config && !loaded.missing_files.is_empty() {
        return 6;
    }
    // keepalived gives up on a non-existent interface before it checks script security.
    if any(Kind::NoSuchInterface) {
        return 5;
    }
    if any(Kind::SecurityViolation) {
        return 6;
    }
    if loaded.main_missing {
        return 0;
    }
    // A missing plain `include` is only a warning for keepalived too ("Config files
    // missing", status 0).
    if loaded.diagnostics.iter().any(Diagnostic::counts) {
        return 5;
    }
    0
}

/// Reads, parses, builds and validates the configuration at `path`.
pub fn load(path: &Path, opts: &LoadOptions) -> Loaded {
    build::load(path, opts, &mut || {})
}

/// As [`load`], calling `progress` often while it works (every few hundred lines, or
/// the equivalent in long lines, expansion or building: well under a millisecond of work
/// apart), so that a caller with its own deadlines — the daemon reloading on SIGHUP in its
/// one thread — can serve them between slices. The loader itself never reads the clock.
pub fn load_with(path: &Path, opts: &LoadOptions, progress: &mut dyn FnMut()) -> Loaded {
    build::load(path, opts, progress)
}

/// As [`load`], for configuration text held in memory (the simulator's inline configs,
/// tests). `origin` names it in diagnostics; includes resolve relative to its directory.
pub fn load_str(text: &str, origin: &Path, opts: &LoadOptions) -> Loaded {
    build::load_str(text, origin, opts)
}

#[cfg(test)]
mod tests {
    /// The limits keepalived-rs.conf(5) documents are the ones the code applies.
    #[test]
    #[allow(clippy::disallowed_methods)] // reads the man page
    fn limits_are_documented() {
        let page = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/man/keepalived-rs.conf.5"
        ))
        .expect("man page")
        .replace("\\~", " ");
        // The text without roff's font requests, on one line.
        let page = page
            .lines()
            .map(|l| l.trim_start_matches(".BR ").trim_start_matches(".B "))
            .collect::<Vec<_>>()
            .join(" ");
        let mib = |n: u64| format!("{} MiB", n >> 20);
        let count = |n: u64| {
            let s = n.to_string();
            let mut out = String::new();
            for (i, c) in s.chars().enumerate() {
                if i > 0 && (s.len() - i) % 3 == 0 {
                    out.push(' ');
                }
                out.push(c);
            }
            out
        };
        for want in [
            mib(super::source::MAX_LINE_BYTES as u64),
            format!("{} KiB", super::lex::MAX_WORD_BYTES >> 10),
            mib(super::source::MAX_CONFIG_BYTES),
            format!("{} levels of nested blocks", super::tree::MAX_DEPTH),
            format!(
                "{} words in one top-level block",
                count(super::tree::MAX_BLOCK_WORDS as u64)
            ),
            format!(
                "{} levels of nested includes",
                super::lang_include::MAX_INCLUDE_DEPTH
            ),
            format!("{} values", count(super::lang_repeat::MAX_REPEAT as u64)),
            format!("{} lines", count(super::lang_pre::MAX_EXPANDED_LINES)),
            format!("{} of text", mib(super::lang_pre::MAX_EXPANDED_BYTES)),
            format!("at most {} long", mib(super::lang_pre::MAX_LINE_LEN as u64)),
            format!("at most {} deep", super::lang_pre::MAX_SUBST_CHAIN),
            format!("at most {} in", mib(super::lang_pre::MAX_SUBST_WORK)),
            format!("{} diagnostics", count(super::MAX_DIAGNOSTICS as u64)),
            format!(
                "At most {} names",
                count(super::lang_pre::MAX_DEFINITIONS as u64)
            ),
            format!(
                "at most {} directory entries",
                count(super::lang_include::MAX_GLOB_ENTRIES)
            ),
            format!("at most {} characters", super::build::MAX_SUGGEST_CHARS),
        ] {
            assert!(
                page.contains(&want),
                "keepalived-rs.conf.5 does not say '{want}'"
            );
        }
    }
}
