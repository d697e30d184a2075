//! The keepalived.conf language: lexing (`lex`), the block tree (`tree`), the typed model
//! (`model`), building the model with diagnostics (`build`) and dumping it (`dump`).
//!
//! Entry point for the rest of the program: [`load`].

pub mod build;
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
pub mod tree;

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

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Severity {
    Warning,
    Error,
}

/// One located message: `file:line:col: error|warning: message`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Diagnostic {
    pub severity: Severity,
    pub span: Span,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(f, "{}: {}: {}", self.span, sev, self.message)
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
/// gives it (its man page documents other numbers, see keepalived#2457):
///
/// - 4: it cannot run: `-e` and the main configuration file is missing;
/// - 5: an interface does not exist on this host (keepalived stops there);
/// - 6: `-e` and an included file is missing (keepalived's "no config" status), or scripts
///   would run as root without `enable_script_security` ("SECURITY VIOLATION"; only
///   detected by [`load`] with `host_interfaces`, i.e. checking a file against this
///   host), even with other errors;
/// - 0: the main file is missing without `-e` — keepalived prints "Config files missing"
///   and exits 0; the caller prints that line, this function only decides the status;
/// - 5: any error or warning (keepalived counts every reported configuration problem,
///   including a rounded advert_int or a non-existent interface);
/// - 0: valid.
pub fn config_test_status(loaded: &Loaded) -> i32 {
    if loaded.all_config && loaded.main_missing {
        return 4;
    }
    if loaded.all_config && !loaded.missing_files.is_empty() {
        return 6;
    }
    // keepalived gives up on a non-existent interface before it checks script security.
    if loaded
        .diagnostics
        .iter()
        .any(|d| d.message.ends_with(build::NO_SUCH_INTERFACE))
    {
        return 5;
    }
    if loaded
        .diagnostics
        .iter()
        .any(|d| d.message.starts_with(build::SECURITY_VIOLATION))
    {
        return 6;
    }
    if loaded.main_missing {
        return 0;
    }
    // A missing plain `include` is only a warning for keepalived too ("Config files
    // missing", status 0); the language layer reports it as a warning starting so.
    // Nor does it count the script problems it only reports when VRRP starts.
    let counts = |d: &&Diagnostic| {
        !(d.severity == Severity::Warning
            && (d.message.starts_with("config file missing")
                || build::is_run_time_notice(&d.message)))
    };
    if loaded.diagnostics.iter().any(|d| counts(&d)) {
        return 5;
    }
    0
}

/// Reads, parses, builds and validates the configuration at `path`.
pub fn load(path: &Path, opts: &LoadOptions) -> Loaded {
    build::load(path, opts)
}

/// As [`load`], for configuration text held in memory (the simulator's inline configs,
/// tests). `origin` names it in diagnostics; includes resolve relative to its directory.
pub fn load_str(text: &str, origin: &Path, opts: &LoadOptions) -> Loaded {
    build::load_str(text, origin, opts)
}
