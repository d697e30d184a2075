//! `include` and its variants (`includer`, `includem`, `includew`, `includeb`, `includea`,
//! and `includet`, the same as `includea`), and `include_check`: resolving patterns against
//! the including file's directory, the checks that make a missing file an error, cycle
//! detection, and reading the included files.

use super::diag::{Diagnostic, Severity};
use super::lang_glob::{brace_expand, glob, has_wildcard};
use super::lang_line::LLine;
use super::lang_pre::Pre;
use super::source::{self, OpenError};
use super::Span;
use std::path::Path;
use std::sync::Arc;

/// Most directory entries the include patterns of one load may list.
pub(super) const MAX_GLOB_ENTRIES: u64 = 1_000_000;

/// Deepest nesting of includes.
pub(super) const MAX_INCLUDE_DEPTH: usize = 32;
// include_check bits.
pub(super) const CHK_READABLE: u8 = 1;
pub(super) const CHK_MATCH: u8 = 2;
pub(super) const CHK_WILDCARD: u8 = 4;
pub(super) const CHK_BRACE: u8 = 8;
pub(super) const CHK_ALL: u8 = CHK_READABLE | CHK_MATCH | CHK_WILDCARD | CHK_BRACE;

/// The include keywords and the checks each adds.
pub(super) fn include_kind(word: &str) -> Option<u8> {
    Some(match word {
        "include" => 0,
        "includer" => CHK_READABLE,
        "includem" => CHK_MATCH | CHK_READABLE,
        "includew" => CHK_WILDCARD | CHK_READABLE,
        "includeb" => CHK_BRACE | CHK_READABLE,
        "includea" | "includet" => CHK_ALL,
        _ => return None,
    })
}

impl Pre<'_> {
    /// `include_check [OPTIONS]`.
    pub(super) fn include_check(&mut self, rest: &LLine) {
        let mut level = self.files.last().map(|f| f.check).unwrap_or(0);
        let words: Vec<(usize, &str)> = rest
            .text
            .split_ascii_whitespace()
            .map(|w| (w.as_ptr() as usize - rest.text.as_ptr() as usize, w))
            .collect();
        if words.is_empty() {
            level = CHK_ALL;
        } else if !words[0].1.starts_with(['+', '-']) {
            level = 0;
        }
        let mut bad = Vec::new();
        for (off, w) in &words {
            let (add, name) = match w.strip_prefix('-') {
                Some(n) => (false, n),
                None => (true, w.strip_prefix('+').unwrap_or(w)),
            };
            let bits = match name {
                "readable" => CHK_READABLE,
                "match" => CHK_MATCH | CHK_READABLE,
                "wildcard_match" => CHK_WILDCARD | CHK_READABLE,
                "brace_match" => CHK_BRACE | CHK_READABLE,
                _ => {
                    bad.push((*off, name.to_string()));
                    continue;
                }
            };
            if add {
                level |= bits;
            } else {
                // Removing one check leaves `readable` to the others that imply it.
                let removed = if name == "readable" {
                    CHK_READABLE
                } else {
                    bits & !CHK_READABLE
                };
                level &= !removed;
            }
        }
        for (off, name) in bad {
            let span = self.span(rest.pos(off));
            self.warn(
                span,
                format!("unknown include_check option '{name}' (expected readable, match, wildcard_match or brace_match); ignored"),
            );
        }
        if let Some(f) = self.files.last_mut() {
            f.check = level;
        }
    }

    /// An include line: `kw PATTERN`.
    pub(super) fn include(&mut self, kw: String, kind: u8, rest: LLine, span: Span) {
        let Some(ctx) = self.files.last() else {
            return;
        };
        let mut flags = ctx.check | kind;
        if self.opts.all_config {
            flags = CHK_ALL;
        }
        let dir = ctx.dir.clone();
        // The pattern: the rest of the line; surrounding quotes are removed.
        let raw = rest.text.trim();
        let pattern = match raw.as_bytes().first() {
            Some(&q @ (b'"' | b'\'')) if raw.len() >= 2 && raw.as_bytes()[raw.len() - 1] == q => {
                &raw[1..raw.len() - 1]
            }
            _ => raw,
        }
        .to_string();
        if pattern.is_empty() {
            self.error(span, format!("'{kw}' without a file name"));
            return;
        }
        let fatal = |bit: u8| {
            if flags & bit != 0 {
                Severity::Error
            } else {
                Severity::Warning
            }
        };
        let Some(alts) = brace_expand(&pattern) else {
            self.error(
                span,
                format!("'{pattern}': brace expansion gives too many names"),
            );
            return;
        };
        let braced = alts.len() > 1 || alts.first().is_some_and(|a| *a != pattern);
        let mut brace_missing = false;
        let mut any = false;
        for alt in &alts {
            let matches = glob(alt, &dir, &mut self.glob_budget);
            if self.glob_budget == 0 && has_wildcard(alt) {
                self.glob_exhausted(&span);
            }
            if matches.is_empty() {
                if braced {
                    brace_missing = true;
                } else if !has_wildcard(alt) {
                    let full = dir.join(alt);
                    self.missing.push(full);
                    self.diags.push(Diagnostic::missing_file(
                        fatal(CHK_MATCH),
                        span.clone(),
                        format!("config file missing: '{pattern}'"),
                    ));
                }
            }
            let wild = has_wildcard(alt);
            for m in matches {
                // A wildcard also matches directories (`conf.d/*` with a subdirectory):
                // those are skipped; a directory named outright is reported below.
                if wild && m.is_dir() {
                    continue;
                }
                any = true;
                self.include_file(&m, &span, fatal(CHK_READABLE));
            }
        }
        if braced && brace_missing && flags & CHK_BRACE != 0 {
            self.missing.push(dir.join(&pattern));
            self.error(
                span.clone(),
                format!("some config files missing: '{pattern}'"),
            );
        }
        if !any && has_wildcard(&pattern) && flags & CHK_WILDCARD != 0 {
            self.missing.push(dir.join(&pattern));
            self.error(span, format!("no config files matched '{pattern}'"));
        }
    }

    /// The include patterns have listed [`MAX_GLOB_ENTRIES`] entries: said once.
    fn glob_exhausted(&mut self, span: &Span) {
        if !self.glob_reported {
            self.glob_reported = true;
            self.error(
                span.clone(),
                format!("include patterns have listed more than {MAX_GLOB_ENTRIES} directory entries; the rest are not matched"),
            );
        }
    }

    /// Reads an included file (one match of an include pattern).
    #[allow(clippy::disallowed_methods)] // config's file reader
    pub(super) fn include_file(&mut self, path: &Path, span: &Span, unreadable: Severity) {
        if self.read_stopped() {
            return;
        }
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if self.open.contains(&canonical) {
            self.error(
                span.clone(),
                format!(
                    "include cycle: '{}' is already being read; not included again",
                    path.display()
                ),
            );
            return;
        }
        if self.open.len() >= MAX_INCLUDE_DEPTH {
            self.error(
                span.clone(),
                format!(
                    "includes nested more than {MAX_INCLUDE_DEPTH} deep; '{}' not read",
                    path.display()
                ),
            );
            return;
        }
        // Only regular, non-executable files (as keepalived): never a directory, a FIFO
        // or a device like /dev/zero; opened without blocking, checked once open.
        let why = match source::open(path) {
            Ok(src) => {
                self.run_source(src, Arc::new(path.to_path_buf()), canonical);
                return;
            }
            Err(OpenError::NotRegular(_)) => "not a regular file".to_string(),
            Err(OpenError::Executable) => {
                "it is executable (configuration files must not be)".to_string()
            }
            Err(OpenError::Missing(e) | OpenError::Unreadable(e)) => e.to_string(),
        };
        self.diags.push(Diagnostic::missing_file(
            unreadable,
            span.clone(),
            format!("cannot read config file '{}': {why}", path.display()),
        ));
        self.missing.push(path.to_path_buf());
    }
}
