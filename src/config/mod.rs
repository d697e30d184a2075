//! The keepalived.conf language: lexing (`lex`), the block tree (`tree`), the typed model
//! (`model`), building the model with diagnostics (`build`) and dumping it (`dump`).
//!
//! Entry point for the rest of the program: [`load`].

pub mod build;
pub mod dump;
mod lang_pre;
pub mod lex;
pub mod model;
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
    /// `None` skips that check.
    pub host_interfaces: Option<Vec<String>>,
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
}

impl Loaded {
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }
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
