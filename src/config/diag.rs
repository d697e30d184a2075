//! Diagnostics of reading a configuration: one located message with a severity (error or
//! warning) and a [`Kind`] saying what the problem means for `-t` (see
//! [`super::config_test_status`], which decides the exit status from kinds, never from
//! message text), and the capped [`Sink`] they are collected in.

use super::Span;
use std::fmt;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Severity {
    Warning,
    Error,
}

/// What a diagnostic means beyond its severity: the categories keepalived's `-t` gives
/// their own exit status.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Kind {
    /// An ordinary configuration problem (any of them makes `-t` exit 5).
    Config,
    /// A configuration or include file that is missing or cannot be used (not a regular
    /// file, unreadable include): as a warning it does not change the status, as
    /// keepalived's "Config files missing".
    MissingFile,
    /// An interface named by the configuration does not exist on this host (keepalived
    /// stops there: status 5, before script security is looked at).
    NoSuchInterface,
    /// Scripts would run as root without `enable_script_security` (keepalived's
    /// "SECURITY VIOLATION", status 6).
    SecurityViolation,
    /// Nothing can run: the main configuration file exists but cannot be read (status 4).
    CannotRun,
    /// A problem keepalived reports only when the daemon starts (a script disabled for
    /// this host: not executable, unsafe, its user missing): `-t` prints it as a warning
    /// and, as keepalived's, does not count it.
    RunTimeNotice,
}

/// One located message: `file:line:col: error|warning: message`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Diagnostic {
    pub severity: Severity,
    pub kind: Kind,
    pub span: Span,
    pub message: String,
}

impl Diagnostic {
    pub fn new(severity: Severity, kind: Kind, span: Span, message: String) -> Self {
        Diagnostic {
            severity,
            kind,
            span,
            message,
        }
    }

    /// An ordinary configuration error.
    pub fn error(span: Span, message: String) -> Self {
        Self::new(Severity::Error, Kind::Config, span, message)
    }

    /// An ordinary configuration warning.
    pub fn warning(span: Span, message: String) -> Self {
        Self::new(Severity::Warning, Kind::Config, span, message)
    }

    /// A file that is missing or cannot be used: an error or a warning as the include
    /// checks and `-e` decide.
    pub fn missing_file(severity: Severity, span: Span, message: String) -> Self {
        Self::new(severity, Kind::MissingFile, span, message)
    }

    /// An interface that does not exist on this host (an error).
    pub fn no_such_interface(span: Span, message: String) -> Self {
        Self::new(Severity::Error, Kind::NoSuchInterface, span, message)
    }

    /// Scripts that would run as root without `enable_script_security`: a warning, as
    /// keepalived prints it, that still decides the status.
    pub fn security_violation(span: Span, message: String) -> Self {
        Self::new(Severity::Warning, Kind::SecurityViolation, span, message)
    }

    /// A problem keepalived only reports when the daemon starts (a warning that does not
    /// change `-t`'s status).
    pub fn run_time_notice(span: Span, message: String) -> Self {
        Self::new(Severity::Warning, Kind::RunTimeNotice, span, message)
    }

    /// The configuration cannot be run at all (an error).
    pub fn cannot_run(span: Span, message: String) -> Self {
        Self::new(Severity::Error, Kind::CannotRun, span, message)
    }

    /// Does this diagnostic make `-t` fail? Everything does except a warning about a
    /// missing file (keepalived prints "Config files missing" and exits 0) and a run-time
    /// notice.
    pub fn counts(&self) -> bool {
        !(self.severity == Severity::Warning
            && matches!(self.kind, Kind::MissingFile | Kind::RunTimeNotice))
    }
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

/// Most diagnostics one stage of reading (the language layer, the builder) keeps: a file
/// of garbage would otherwise cost memory and output in proportion to its size.
pub const MAX_DIAGNOSTICS: usize = 10_000;

/// Collects diagnostics, keeping at most [`MAX_DIAGNOSTICS`]. Beyond that, a diagnostic is
/// still kept when it is the first of its severity and kind (so the `-t` status, which
/// depends only on which severities and kinds occur, is exactly what it would have been);
/// the others are counted and summed up by one diagnostic at the first one left out.
#[derive(Debug, Default)]
pub struct Sink {
    list: Vec<Diagnostic>,
    /// Bit per (severity, kind) pair seen.
    seen: u32,
    left_out: usize,
    first_left_out: Option<Span>,
    left_out_error: bool,
    left_out_counts: bool,
}

fn class_bit(severity: Severity, kind: Kind) -> u32 {
    let s = match severity {
        Severity::Warning => 0,
        Severity::Error => 1,
    };
    let k = match kind {
        Kind::Config => 0,
        Kind::MissingFile => 1,
        Kind::NoSuchInterface => 2,
        Kind::SecurityViolation => 3,
        Kind::CannotRun => 4,
        Kind::RunTimeNotice => 5,
    };
    1 << (k * 2 + s)
}

impl Sink {
    /// The last diagnostic kept, to reword it (None when none is kept).
    pub fn last_mut(&mut self) -> Option<&mut Diagnostic> {
        self.list.last_mut()
    }

    pub fn push(&mut self, d: Diagnostic) {
        if self.keeps(d.severity, d.kind) {
            self.seen |= class_bit(d.severity, d.kind);
            self.list.push(d);
        } else {
            self.leave_out(d.severity, d.kind, &d.span);
        }
    }

    /// Would a diagnostic of this severity and kind be kept? When not, a caller with
    /// costly work to do for its message (a suggestion) can [`Sink::leave_out`] instead.
    pub fn keeps(&self, severity: Severity, kind: Kind) -> bool {
        self.list.len() < MAX_DIAGNOSTICS || self.seen & class_bit(severity, kind) == 0
    }

    /// Counts a diagnostic that is not kept.
    pub fn leave_out(&mut self, severity: Severity, kind: Kind, span: &Span) {
        self.left_out += 1;
        self.left_out_error |= severity == Severity::Error;
        self.left_out_counts |= !(severity == Severity::Warning && kind == Kind::MissingFile);
        if self.first_left_out.is_none() {
            self.first_left_out = Some(span.clone());
        }
    }

    pub fn error(&mut self, span: Span, message: String) {
        self.push(Diagnostic::error(span, message));
    }

    pub fn warn(&mut self, span: Span, message: String) {
        self.push(Diagnostic::warning(span, message));
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.list.iter()
    }

    /// Everything kept, then (when some were left out) the one diagnostic saying so.
    pub fn into_vec(self) -> Vec<Diagnostic> {
        let mut list = self.list;
        if let Some(span) = self.first_left_out {
            let severity = if self.left_out_error {
                Severity::Error
            } else {
                Severity::Warning
            };
            let kind = if self.left_out_counts {
                Kind::Config
            } else {
                Kind::MissingFile
            };
            list.push(Diagnostic::new(
                severity,
                kind,
                span,
                format!(
                    "{} more problems from here on are not shown (at most {MAX_DIAGNOSTICS} are kept)",
                    self.left_out
                ),
            ));
        }
        list
    }
}

impl Extend<Diagnostic> for Sink {
    fn extend<T: IntoIterator<Item = Diagnostic>>(&mut self, iter: T) {
        for d in iter {
            self.push(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: u32) -> Span {
        Span {
            line,
            ..Span::default()
        }
    }

    #[test]
    fn sink_keeps_a_bounded_number_and_every_class() {
        let mut s = Sink::default();
        for i in 0..(MAX_DIAGNOSTICS as u32 + 500) {
            s.error(at(i + 1), format!("e{i}"));
        }
        // A new class after the cap is still kept: the status depends on it.
        s.push(Diagnostic::security_violation(at(1), "sv".into()));
        s.push(Diagnostic::security_violation(at(2), "sv2".into()));
        let v = s.into_vec();
        assert_eq!(v.len(), MAX_DIAGNOSTICS + 2);
        assert!(v.iter().any(|d| d.kind == Kind::SecurityViolation));
        let last = v.last().expect("summary");
        assert_eq!(last.severity, Severity::Error);
        assert_eq!(last.span.line, MAX_DIAGNOSTICS as u32 + 1);
        assert!(last.message.starts_with("501 more problems"), "{last}");
    }

    #[test]
    fn missing_file_warnings_do_not_count() {
        let w = Diagnostic::missing_file(Severity::Warning, at(1), "m".into());
        assert!(!w.counts());
        let e = Diagnostic::missing_file(Severity::Error, at(1), "m".into());
        assert!(e.counts());
        assert!(Diagnostic::warning(at(1), "w".into()).counts());
    }
}
