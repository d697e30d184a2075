//! The line preprocessor of keepalived.conf: reads files line by line, strips comments,
//! and applies, in this order, to each logical line:
//!
//! 1. `@ID line` / `@^ID line` conditionals (config id: `LoadOptions::config_id`, else the
//!    host name read from `/proc/sys/kernel/hostname` up to its first '.');
//! 2. `$NAME=value` definitions (multi-line when the value ends with `\`);
//! 3. `~SEQ(var, [start,] [step,] end)`, `~SEQx(...)`, `~LST(var, v, ...)` and
//!    `~LST({a,b}, {1,2}, ...)` repeats of the rest of the line (nestable);
//! 4. `$NAME` (followed by whitespace or the end of the line) and `${NAME}` substitution,
//!    recursive, at use time; undefined names stay as written; a multi-line value turns the
//!    line into several lines, each processed in turn (so definitions inside take effect
//!    in order); `@ID` at the start of a substituted line is applied again;
//! 5. `include`, `includer`, `includem`, `includew`, `includeb`, `includea` (and `includet`,
//!    the same as `includea`) with the `include_check` level, and `include_check` itself;
//! 6. everything else goes to the lexer and the tree builder.
//!
//! Includes resolve relative to the including file's directory; include cycles are
//! reported and not followed. Every produced word carries the position of its source text
//! (for substituted text: where the value was written).
//!
//! Helpers: `lang_line` (source-mapped lines), `lang_repeat` (~SEQ/~LST values),
//! `lang_include` (includes), `lang_glob` (patterns). Lines that need none of this (no
//! leading `@`/`$`/`~`, no `$` anywhere, not an include) take a fast path straight to the
//! lexer.

use super::diag::{Diagnostic, Severity, Sink};
use super::lang_include::{include_kind, MAX_GLOB_ENTRIES};
use super::lang_line::{first_word, is_name_char, parse_def, valid_name, LLine};
use super::lang_repeat;
use super::lex::{is_space, strip_comment, tokenize, tokenize_physical, Pos, Tok};
use super::source::{self, OpenError, Source, MAX_CONFIG_BYTES, MAX_LINE_BYTES};
use super::tree::{Builder, Node, Parsed};
use super::{LoadOptions, Span};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

/// Deepest nesting of line expansions (multi-line values, ~SEQ inside ~SEQ, ...).
const MAX_LINE_DEPTH: u32 = 64;
/// Substitution depth from which a value that uses itself is reported (and its use left as
/// written).
const MAX_SUBST_DEPTH: u32 = 32;
/// Deepest chain of distinct definitions, each using the next (`$L2=${L1}${L1}` ...).
pub(crate) const MAX_SUBST_CHAIN: u32 = 256;
/// Most substitutions made for one logical line (guards against `$A=${B}${B}` chains).
const MAX_SUBSTS_PER_LINE: u32 = 100_000;
/// Longest line substitution may produce.
pub(crate) const MAX_LINE_LEN: usize = 1 << 20;
/// Most bytes substitution may copy in one load, all lines together (each level of a
/// nested value copies its text once more): bounds the work of exponential definitions.
pub(crate) const MAX_SUBST_WORK: u64 = 256 << 20;
/// Most logical lines one load may generate by expansion (~SEQ/~LST repeats and
/// multi-line values).
pub(crate) const MAX_EXPANDED_LINES: u64 = 2_000_000;
/// Most bytes of text one load may generate by expansion and substitution.
pub(crate) const MAX_EXPANDED_BYTES: u64 = 32 << 20;
/// Most names one load may define (`$NAME=`): each costs a few hundred bytes.
pub(crate) const MAX_DEFINITIONS: usize = 100_000;
/// Units of work (a line, or 256 bytes of text) between two calls of the progress hook.
pub(crate) const PROGRESS_QUANTUM: u32 = 512;

/// A definition: one line, or several for a multi-line one.
type Value = Rc<Vec<LLine>>;

/// The outcome of substituting one line.
enum Sub {
    One(LLine),
    /// Several lines (a multi-line value was used); the `usize` says up to where each is
    /// already substituted.
    Many(Vec<(LLine, usize)>, Expansion),
}

/// Which multi-line value a [`Sub::Many`] expanded, and where, in its last line, the text
/// from outside that value starts.
struct Expansion {
    value: Value,
    rest_at: usize,
}

/// Where a line being processed stands in the expansions around it: text from `outside`
/// on is not part of the innermost active expansion (see [`Pre::active`]).
#[derive(Clone, Copy)]
struct Guard {
    outside: usize,
}

const NO_GUARD: Guard = Guard {
    outside: usize::MAX,
};

/// One file being read.
pub(super) struct FileCtx {
    /// The file's directory as written, for includes.
    pub(super) dir: PathBuf,
    /// Its canonical directory, for `${_PWD}`.
    pwd: PathBuf,
    /// The `include_check` level in force.
    pub(super) check: u8,
}

/// The preprocessor's state for one parse.
pub(super) struct Pre<'o> {
    pub(super) opts: &'o LoadOptions,
    config_id: String,
    /// The generator of `${_RANDOM}` (reseeded by `random_seed` lines).
    random: SplitMix,
    defs: BTreeMap<String, Value>,
    pub(super) diags: Sink,
    pub(super) missing: Vec<PathBuf>,
    builder: Builder,
    /// Receives each complete top-level statement as soon as it is read.
    consumer: &'o mut dyn FnMut(Node),
    /// Called every [`PROGRESS_QUANTUM`] units of work.
    progress: &'o mut dyn FnMut(),
    work: u32,
    /// Bytes of configuration text still allowed to be read ([`MAX_CONFIG_BYTES`]).
    read_budget: u64,
    /// The budget ran out: nothing more is read.
    read_stopped: bool,
    /// Directory entries include patterns may still list, and whether running out was
    /// reported.
    pub(super) glob_budget: u64,
    pub(super) glob_reported: bool,
    toks: Vec<Tok>,
    pub(super) files: Vec<FileCtx>,
    /// The names of all files read, indexed by [`Pos::file`].
    names: Vec<Arc<PathBuf>>,
    /// Canonical paths of the files being read, for cycle detection.
    pub(super) open: Vec<PathBuf>,
    /// A multi-line definition being collected: its name and lines so far.
    collect: Option<(String, Vec<LLine>)>,
    /// Multi-line values being expanded (innermost last): using one inside itself is an
    /// endless recursion, reported instead of followed.
    /// (Held, not just compared by address, so a redefinition during the expansion cannot
    /// free one and let a new value reuse its address.)
    active: Vec<Value>,
    /// Lines and bytes generated by expansion so far, and whether a limit was reported
    /// (from then on nothing more is expanded).
    expanded: u64,
    expanded_bytes: u64,
    expansion_reported: bool,
    substs: u32,
    /// Values being substituted (innermost last), to tell a value that uses itself from a
    /// long chain of distinct ones.
    subst_stack: Vec<Value>,
    /// Bytes copied by substitution so far ([`MAX_SUBST_WORK`]).
    subst_work: u64,
    subst_work_reported: bool,
    /// The substitution of the current line failed (too large): the line is dropped.
    subst_failed: bool,
    /// A value of the current line used itself: its other references are left as written.
    subst_as_written: bool,
}

/// The units of work of `bytes` bytes of text (see [`PROGRESS_QUANTUM`]).
fn units(bytes: usize) -> u32 {
    u32::try_from(bytes / 256).unwrap_or(u32::MAX)
}

/// The first column of line `line` of `file`.
fn line_start(file: &Arc<PathBuf>, line: u32) -> Span {
    Span {
        file: file.clone(),
        line,
        col: 1,
    }
}

/// The default config id: the host name up to its first '.', read from
/// `/proc/sys/kernel/hostname` (the same as uname's node name, without a libc call).
#[allow(clippy::disallowed_methods)] // config's file reader
fn default_config_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let host = host.trim();
    host.split('.').next().unwrap_or("").to_string()
}

impl<'o> Pre<'o> {
    fn new(
        opts: &'o LoadOptions,
        consumer: &'o mut dyn FnMut(Node),
        progress: &'o mut dyn FnMut(),
    ) -> Self {
        let config_id = opts.config_id.clone().unwrap_or_else(default_config_id);
        Pre {
            opts,
            config_id,
            random: SplitMix(opts.random_seed.unwrap_or(0x6b61_5f72_616e_646f)),
            defs: BTreeMap::new(),
            diags: Sink::default(),
            missing: Vec::new(),
            builder: Builder::default(),
            consumer,
            progress,
            work: 0,
            read_budget: MAX_CONFIG_BYTES,
            read_stopped: false,
            glob_budget: MAX_GLOB_ENTRIES,
            glob_reported: false,
            toks: Vec::new(),
            files: Vec::new(),
            names: Vec::new(),
            open: Vec::new(),
            collect: None,
            active: Vec::new(),
            expanded: 0,
            expanded_bytes: 0,
            expansion_reported: false,
            substs: 0,
            subst_stack: Vec::new(),
            subst_work: 0,
            subst_work_reported: false,
            subst_failed: false,
            subst_as_written: false,
        }
    }

    /// Counts `units` of work, calling the progress hook every [`PROGRESS_QUANTUM`].
    fn work(&mut self, units: u32) {
        self.work = self.work.saturating_add(units);
        if self.work >= PROGRESS_QUANTUM {
            self.work = 0;
            (self.progress)();
        }
    }

    /// Hands the complete top-level statements to the consumer.
    fn deliver(&mut self) {
        for node in self.builder.drain_complete() {
            (self.consumer)(node);
        }
    }

    /// The span of a source position.
    pub(super) fn span(&self, pos: Pos) -> Span {
        pos.span(&self.names)
    }

    pub(super) fn error(&mut self, span: Span, message: String) {
        self.diags.error(span, message);
    }

    pub(super) fn warn(&mut self, span: Span, message: String) {
        self.diags.warn(span, message);
    }

    /// Starts reading a file (or text named `file`); returns its index in `names`.
    fn begin_file(
        &mut self,
        file: &Arc<PathBuf>,
        canonical: PathBuf,
    ) -> (u32, Option<(String, Vec<LLine>)>) {
        // Includes resolve against the directory as written (so diagnostics show paths
        // the way the user wrote them); `${_PWD}` is the canonical directory.
        let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let pwd = canonical
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| dir.clone());
        let check = self.files.last().map(|f| f.check).unwrap_or(0);
        self.files.push(FileCtx { dir, pwd, check });
        self.open.push(canonical);
        let file_idx = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(file.clone());
        (file_idx, self.collect.take())
    }

    fn end_file(&mut self, saved_collect: Option<(String, Vec<LLine>)>) {
        self.end_collect();
        self.collect = saved_collect;
        self.open.pop();
        self.files.pop();
    }

    /// Reads configuration text held in memory. `canonical` is its canonical path (for
    /// cycle detection).
    pub(super) fn run_text(&mut self, text: &str, file: Arc<PathBuf>, canonical: PathBuf) {
        let (file_idx, saved) = self.begin_file(&file, canonical);
        // A UTF-8 byte order mark is not part of the first keyword.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (no, raw) in text.split('\n').enumerate() {
            let line_no = u32::try_from(no + 1).unwrap_or(u32::MAX);
            if !self.take_budget(raw.len() as u64 + 1, &file, line_no) {
                break;
            }
            if raw.len() > MAX_LINE_BYTES {
                self.line_too_long(&file, line_no, raw.len());
                continue;
            }
            self.physical_line(raw, &file, file_idx, line_no);
        }
        self.end_file(saved);
    }

    /// Reads an opened configuration file. `canonical` is its canonical path.
    pub(super) fn run_source(&mut self, mut src: Source, file: Arc<PathBuf>, canonical: PathBuf) {
        let (file_idx, saved) = self.begin_file(&file, canonical);
        let mut buf = Vec::new();
        let mut line_no: u32 = 0;
        while !self.read_stopped {
            let read = match src.next_line(&mut buf, &mut self.read_budget) {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(e) => {
                    self.error(
                        line_start(&file, line_no.saturating_add(1)),
                        format!("cannot read '{}': {e}; the rest is ignored", file.display()),
                    );
                    break;
                }
            };
            line_no = line_no.saturating_add(1);
            if read.out_of_budget {
                self.budget_exhausted(&file, line_no);
                break;
            }
            if read.too_long() {
                self.line_too_long(&file, line_no, read.len);
                continue;
            }
            let text = String::from_utf8_lossy(&buf);
            let raw = if line_no == 1 {
                text.strip_prefix('\u{feff}').unwrap_or(&text)
            } else {
                &text
            };
            self.physical_line(raw, &file, file_idx, line_no);
        }
        self.end_file(saved);
    }

    /// The read budget ran out: no more file is opened.
    pub(super) fn read_stopped(&self) -> bool {
        self.read_stopped
    }

    /// Takes `n` bytes from the read budget; false (reported) when it runs out.
    fn take_budget(&mut self, n: u64, file: &Arc<PathBuf>, line_no: u32) -> bool {
        if self.read_stopped {
            return false;
        }
        if n > self.read_budget {
            self.read_budget = 0;
            self.budget_exhausted(file, line_no);
            return false;
        }
        self.read_budget -= n;
        true
    }

    fn budget_exhausted(&mut self, file: &Arc<PathBuf>, line_no: u32) {
        self.read_stopped = true;
        self.error(
            line_start(file, line_no),
            format!("the configuration is larger than {MAX_CONFIG_BYTES} bytes (all files together); the rest is not read"),
        );
    }

    fn line_too_long(&mut self, file: &Arc<PathBuf>, line_no: u32, len: usize) {
        // The line's bytes cost reading, not processing.
        self.work(units(len));
        self.error(
            line_start(file, line_no),
            format!(
                "line of {len} bytes is longer than the limit of {MAX_LINE_BYTES}; line ignored"
            ),
        );
    }

    /// One physical line of a file, then its work counted (a long line's by its bytes).
    fn physical_line(&mut self, raw: &str, file: &Arc<PathBuf>, file_idx: u32, line_no: u32) {
        self.line(raw, file, file_idx, line_no);
        self.work(1 + units(raw.len()));
    }

    fn line(&mut self, raw: &str, file: &Arc<PathBuf>, file_idx: u32, line_no: u32) {
        // keepalived seeds `${_RANDOM}` when it reads `random_seed N` (global_defs), so
        // the values after that line repeat from one load to the next.
        if let Some(rest) = raw.trim_start().strip_prefix("random_seed") {
            if let Some(n) = rest.split_whitespace().next().and_then(|w| w.parse().ok()) {
                self.random = SplitMix(n);
            }
        }
        if self.collect.is_none() {
            // The fast path: a line that needs no preprocessing goes straight to the
            // lexer (which also cuts its comment); `$` anywhere sends it the long way.
            let lead = raw.bytes().position(|c| !is_space(c));
            let Some(lead) = lead else { return };
            let first = raw.as_bytes()[lead];
            if first != b'@'
                && first != b'$'
                && first != b'~'
                && !raw[lead..].starts_with("include")
                && tokenize_physical(raw, file, line_no, &mut self.toks, &mut self.diags)
            {
                self.builder.line(&mut self.toks, &mut self.diags);
                self.deliver();
                return;
            }
        }
        let line = strip_comment(raw);
        let trimmed = line.trim_start_matches(|c: char| c.is_ascii_whitespace());
        let body = trimmed.trim_end_matches(|c: char| c.is_ascii_whitespace());
        if body.is_empty() {
            return;
        }
        let lead = &line[..line.len() - trimmed.len()];
        let col = 1 + if lead.is_ascii() {
            lead.len()
        } else {
            lead.chars().count()
        } as u32;
        let pos = Pos {
            file: file_idx,
            line: line_no,
            col,
        };
        if let Some((_, lines)) = self.collect.as_mut() {
            let (content, more) = match body.strip_suffix('\\') {
                Some(c) => (c.trim_end(), true),
                None => (body, false),
            };
            if !content.is_empty() {
                lines.push(LLine::new(content, pos));
            }
            if !more {
                self.end_collect();
            }
            return;
        }
        self.process(LLine::new(body, pos), 0, 0, NO_GUARD);
    }

    fn end_collect(&mut self) {
        if let Some((name, lines)) = self.collect.take() {
            // An empty name: a definition refused at its first line (see `may_define`).
            if !name.is_empty() {
                self.defs.insert(name, Rc::new(lines));
            }
        }
    }

    /// May `name` be defined? Redefining is always allowed; a new name only below
    /// [`MAX_DEFINITIONS`] (reported at `line` otherwise).
    fn may_define(&mut self, name: &str, line: &LLine) -> bool {
        if self.defs.len() < MAX_DEFINITIONS || self.defs.contains_key(name) {
            return true;
        }
        let span = self.span(line.pos(0));
        self.error(
            span,
            format!("more than {MAX_DEFINITIONS} names defined; '{name}' is not defined"),
        );
        false
    }

    /// Processes one logical line; `sf`: bytes before it are already substituted.
    fn process(&mut self, mut line: LLine, depth: u32, mut sf: usize, mut guard: Guard) {
        if depth > MAX_LINE_DEPTH {
            let span = self.span(line.pos(0));
            self.error(
                span,
                format!("expansion nested more than {MAX_LINE_DEPTH} levels deep (a definition that uses itself?)"),
            );
            return;
        }
        if depth > 0 && !self.count_expansion(&line, 1, line.text.len()) {
            return;
        }
        if !self.conditional(&mut line, &mut sf, &mut guard) {
            return;
        }
        if let Some((name, off)) = parse_def(&line.text) {
            let mut name = name.to_string();
            if !self.may_define(&name, &line) {
                // The definition is read (a multi-line one to its end) and dropped.
                name.clear();
            }
            let mut value = line.tail(off);
            value.trim_end();
            if value.text.ends_with('\\') {
                value.text.pop();
                value.trim_end();
                let lines = if value.text.is_empty() {
                    Vec::new()
                } else {
                    vec![value]
                };
                if depth == 0 {
                    self.collect = Some((name, lines));
                } else if !name.is_empty() {
                    self.defs.insert(name, Rc::new(lines));
                }
            } else if !name.is_empty() {
                self.defs.insert(name, Rc::new(vec![value]));
            }
            return;
        }
        if line.text.starts_with("~SEQ") || line.text.starts_with("~LST") {
            self.repeat(&line, depth);
            return;
        }
        if line.text.get(sf..).is_some_and(|t| t.contains('$')) {
            // Each logical line has its own substitution budget.
            self.substs = 0;
            self.subst_failed = false;
            self.subst_as_written = false;
            let sub = self.subst(&line, sf, 0, guard);
            if std::mem::take(&mut self.subst_failed) {
                return;
            }
            match sub {
                Sub::One(l) => {
                    let grown = l.text.len().saturating_sub(line.text.len());
                    if grown > 0 && !self.count_expansion(&l, 0, grown) {
                        return;
                    }
                    let changed = l.text != line.text;
                    line = l;
                    sf = line.text.len();
                    if changed && !self.conditional(&mut line, &mut sf, &mut guard) {
                        return;
                    }
                }
                Sub::Many(lines, exp) => {
                    self.active.push(exp.value.clone());
                    let n = lines.len();
                    for (k, (l, s)) in lines.into_iter().enumerate() {
                        let g = if k + 1 == n {
                            Guard {
                                outside: exp.rest_at,
                            }
                        } else {
                            NO_GUARD
                        };
                        self.process(l, depth + 1, s, g);
                    }
                    self.active.pop();
                    return;
                }
            }
        }
        let kw = first_word(&line.text);
        if let Some(kind) = include_kind(kw) {
            let off = kw.len();
            let span = self.span(line.pos(0));
            let rest = line.tail(off);
            self.include(kw.to_string(), kind, rest, span);
            return;
        }
        if kw == "include_check" {
            let rest = line.tail(kw.len());
            self.include_check(&rest);
            return;
        }
        tokenize(
            &line.text,
            &line.map,
            &self.names,
            &mut self.toks,
            &mut self.diags,
        );
        self.builder.line(&mut self.toks, &mut self.diags);
        self.deliver();
    }

    /// Counts `lines` lines and `bytes` bytes of text generated by expansion at `line`;
    /// false once a limit is passed (reported once: from then on nothing more is
    /// expanded).
    fn count_expansion(&mut self, line: &LLine, lines: u64, bytes: usize) -> bool {
        if self.expansion_reported {
            return false;
        }
        self.expanded += lines;
        self.expanded_bytes = self.expanded_bytes.saturating_add(bytes as u64);
        self.work(lines as u32 + units(bytes));
        let what = if self.expanded > MAX_EXPANDED_LINES {
            format!("{MAX_EXPANDED_LINES} lines")
        } else if self.expanded_bytes > MAX_EXPANDED_BYTES {
            format!("{MAX_EXPANDED_BYTES} bytes")
        } else {
            return true;
        };
        self.expansion_reported = true;
        let span = self.span(line.pos(0));
        self.error(
            span,
            format!("expansion produces more than {what}; the rest is ignored"),
        );
        false
    }

    /// Applies `@ID` / `@^ID`: false when the line is to be dropped; otherwise strips the
    /// prefix from `line`.
    fn conditional(&mut self, line: &mut LLine, sf: &mut usize, guard: &mut Guard) -> bool {
        // A loop, not recursion: the rest of a kept line may be another conditional.
        loop {
            let b = line.text.as_bytes();
            if b.first() != Some(&b'@') {
                return true;
            }
            let neg = b.get(1) == Some(&b'^');
            let start = if neg { 2 } else { 1 };
            let mut end = start;
            while end < b.len() && !is_space(b[end]) {
                end += 1;
            }
            if end == start {
                // As keepalived: an empty id is compared like any other (so `@ x` is
                // dropped and `@^ x` kept), but it is most likely a stray space.
                let span = self.span(line.pos(0));
                let prefix = &line.text[..start];
                self.warn(
                    span,
                    format!("'{prefix}' followed by a space: the empty config id never matches"),
                );
            }
            let selected = (line.text[start..end] == self.config_id) != neg;
            if !selected {
                return false;
            }
            let (rest, at) = line.tail_at(end);
            *line = rest;
            *sf = sf.saturating_sub(at);
            guard.outside = guard.outside.saturating_sub(at);
        }
    }

    /// `~SEQ(...)`, `~SEQx(...)`, `~LST(...)`: repeats the rest of the line.
    fn repeat(&mut self, line: &LLine, depth: u32) {
        let text = &line.text;
        let (kind, open) = if text.starts_with("~SEQx(") {
            ("~SEQx", 5)
        } else if text.starts_with("~SEQ(") {
            ("~SEQ", 4)
        } else if text.starts_with("~LST(") {
            ("~LST", 4)
        } else {
            let span = self.span(line.pos(0));
            let w = first_word(text).to_string();
            self.error(
                span,
                format!("unknown repeat '{w}': expected ~SEQ(...), ~SEQx(...) or ~LST(...); line ignored"),
            );
            return;
        };
        // The closing parenthesis, outside braces.
        let b = text.as_bytes();
        let mut depth_b = 0i32;
        let mut close = None;
        for (i, &c) in b.iter().enumerate().skip(open + 1) {
            match c {
                b'{' => depth_b += 1,
                b'}' => depth_b -= 1,
                b')' if depth_b <= 0 => {
                    close = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let header_pos = line.pos(0);
        let span = self.span(line.pos(0));
        let Some(close) = close else {
            self.error(span, format!("{kind}( without a closing ')'; line ignored"));
            return;
        };
        // Substitute inside the parentheses, so `~SEQ(X, 1, ${N})` works.
        let mut header_line = LLine::default();
        header_line.push_range(line, open + 1, close);
        let header = if header_line.text.contains('$') {
            self.substs = 0;
            self.subst_failed = false;
            self.subst_as_written = false;
            let sub = self.subst(&header_line, 0, 0, NO_GUARD);
            if std::mem::take(&mut self.subst_failed) {
                return;
            }
            match sub {
                Sub::One(l) => l.text,
                Sub::Many(..) => {
                    self.error(
                        span,
                        format!("{kind}(...) uses a multi-line definition; line ignored"),
                    );
                    return;
                }
            }
        } else {
            header_line.text
        };
        let rest = line.tail(close + 1);
        let reps = match lang_repeat::repeat(kind, &header) {
            Ok(c) => c,
            Err(message) => {
                self.error(span, message);
                return;
            }
        };
        for i in 0..reps.len() {
            let combo = reps.get(i);
            let mut saved = Vec::with_capacity(combo.len());
            for (var, val) in combo {
                let v = Rc::new(vec![LLine::new(&val, header_pos)]);
                saved.push((var.clone(), self.defs.insert(var, v)));
            }
            if !rest.text.is_empty() {
                self.process(rest.clone(), depth + 1, 0, NO_GUARD);
            }
            for (var, old) in saved.into_iter().rev() {
                match old {
                    Some(v) => self.defs.insert(var, v),
                    None => self.defs.remove(&var),
                };
            }
            if self.expansion_reported {
                break;
            }
        }
    }

    /// The value of a predefined name.
    fn predefined(&self, name: &str) -> Option<String> {
        Some(match name {
            "_PWD" => self
                .files
                .last()
                .map(|f| f.pwd.to_string_lossy().into_owned())
                .unwrap_or_default(),
            "_INSTANCE" => self.config_id.clone(),
            "_HASH" => "#".to_string(),
            "_BANG" => "!".to_string(),
            _ => return None,
        })
    }

    /// Substitutes `src.text[from..]`, `depth` levels inside other values. `guard` says
    /// where (at depth 0) the text outside the innermost active expansion starts.
    fn subst(&mut self, src: &LLine, from: usize, depth: u32, guard: Guard) -> Sub {
        let text = &src.text;
        let b = text.as_bytes();
        let mut out = LLine::with_capacity(src.text.len() + 64, src.map.len() + 8);
        out.push_range(src, 0, from);
        let mut run = from;
        let mut i = from;
        while i < b.len() {
            if b[i] != b'$' {
                i += 1;
                continue;
            }
            // A reference: `${NAME}` or `$NAME` followed by whitespace or the end.
            let (name, end) = if b.get(i + 1) == Some(&b'{') {
                match text[i + 2..].find('}') {
                    Some(rel) => {
                        let inner = text[i + 2..i + 2 + rel].trim();
                        (inner, i + 3 + rel)
                    }
                    None => {
                        i += 1;
                        continue;
                    }
                }
            } else {
                let mut j = i + 1;
                while j < b.len() && is_name_char(b[j]) {
                    j += 1;
                }
                if j == i + 1 || (j < b.len() && !is_space(b[j])) {
                    i += 1;
                    continue;
                }
                (&text[i + 1..j], j)
            };
            let random = match name.strip_prefix("_RANDOM") {
                Some(args) if args.is_empty() || args.starts_with(is_space_char) => {
                    match random_bounds(args) {
                        Ok((lo, hi)) => Some(self.random.between(lo, hi).to_string()),
                        Err(why) => {
                            let span = self.span(src.pos(i));
                            self.warn(span, format!("${{_RANDOM}}: {why}; left as written"));
                            i = end;
                            continue;
                        }
                    }
                }
                _ => None,
            };
            if random.is_none() && !valid_name(name) {
                i += 1;
                continue;
            }
            let value: Value = match random {
                Some(n) => Rc::new(vec![LLine::new(&n, src.pos(i))]),
                None => match self.defs.get(name) {
                    Some(v) => v.clone(),
                    None => match self.predefined(name) {
                        Some(s) => Rc::new(vec![LLine::new(&s, src.pos(i))]),
                        None => {
                            // Undefined: left as written.
                            i = end;
                            continue;
                        }
                    },
                },
            };
            if value.len() >= 2 {
                // Text outside the innermost expansion may use that value again.
                let outside = depth == 0 && i >= guard.outside;
                let active = if outside {
                    &self.active[..self.active.len().saturating_sub(1)]
                } else {
                    &self.active[..]
                };
                if active.iter().any(|v| Rc::ptr_eq(v, &value)) {
                    let span = self.span(src.pos(i));
                    self.error(
                        span,
                        format!("'{name}' is used inside its own expansion; left as written"),
                    );
                    i = end;
                    continue;
                }
            }
            if self.subst_as_written {
                // After a value that uses itself: the line's other references stay too.
                i = end;
                continue;
            }
            self.substs += 1;
            if depth >= MAX_SUBST_DEPTH && self.subst_stack.iter().any(|v| Rc::ptr_eq(v, &value)) {
                let span = self.span(src.pos(i));
                self.error(
                    span,
                    format!("'{name}' is defined in terms of itself (substitution nested more than {MAX_SUBST_DEPTH} levels); left as written"),
                );
                self.subst_as_written = true;
                i = end;
                continue;
            }
            let too_much = if depth >= MAX_SUBST_CHAIN {
                Some(format!(
                    "substitution of '{name}' is nested more than {MAX_SUBST_CHAIN} levels deep"
                ))
            } else if self.substs > MAX_SUBSTS_PER_LINE {
                Some(format!("substitution of '{name}' makes the line too large (more than {MAX_SUBSTS_PER_LINE} substitutions)"))
            } else {
                None
            };
            if let Some(why) = too_much {
                let span = self.span(src.pos(i));
                self.fail_subst(span, why);
                return Sub::One(out);
            }
            out.push_range(src, run, i);
            let ref_at = i;
            run = end;
            i = end;
            let rest_len = b.len() - end;
            match value.len() {
                0 => {}
                1 => match self.subst_value(&value, depth) {
                    Sub::One(l) => {
                        if self.subst_failed {
                            return Sub::One(out);
                        }
                        out.push_all(&l);
                        if let Some(why) = self.subst_size(&out, name) {
                            let span = self.span(src.pos(ref_at));
                            self.fail_subst(span, why);
                            return Sub::One(out);
                        }
                    }
                    Sub::Many(_, _) if self.subst_failed => return Sub::One(out),
                    Sub::Many(lines, exp) => {
                        let n = lines.len();
                        let mut result = Vec::with_capacity(n);
                        for (k, (l, s)) in lines.into_iter().enumerate() {
                            let mut cur = if k == 0 {
                                std::mem::take(&mut out)
                            } else {
                                LLine::with_capacity(l.text.len() + rest_len, l.map.len() + 1)
                            };
                            let s = cur.text.len() + s;
                            cur.push_all(&l);
                            if k + 1 == n {
                                cur.push_range(src, end, b.len());
                            }
                            result.push((cur, s));
                        }
                        return Sub::Many(result, exp);
                    }
                },
                n => {
                    let mut result = Vec::with_capacity(n);
                    let mut rest_at = 0;
                    for (k, l) in value.iter().enumerate() {
                        let mut cur = if k == 0 {
                            std::mem::take(&mut out)
                        } else {
                            LLine::with_capacity(l.text.len() + rest_len, l.map.len() + 1)
                        };
                        let s = cur.text.len();
                        cur.push_all(l);
                        if k + 1 == n {
                            rest_at = cur.text.len();
                            cur.push_range(src, end, b.len());
                        }
                        result.push((cur, s));
                    }
                    let exp = Expansion {
                        value: value.clone(),
                        rest_at,
                    };
                    return Sub::Many(result, exp);
                }
            }
        }
        out.push_range(src, run, b.len());
        Sub::One(out)
    }

    /// Substitutes inside the one-line `value` (one level deeper), counting the work.
    fn subst_value(&mut self, value: &Value, depth: u32) -> Sub {
        self.subst_stack.push(value.clone());
        let sub = match value.first() {
            Some(l) => self.subst(l, 0, depth + 1, NO_GUARD),
            None => Sub::One(LLine::default()),
        };
        self.subst_stack.pop();
        if let Sub::One(l) = &sub {
            let n = l.text.len();
            self.subst_work = self.subst_work.saturating_add(n as u64);
            self.work(units(n));
        }
        sub
    }

    /// Why the line being substituted must stop growing, if it must.
    fn subst_size(&mut self, out: &LLine, name: &str) -> Option<String> {
        if out.text.len() > MAX_LINE_LEN {
            return Some(format!(
                "substitution of '{name}' makes the line longer than {MAX_LINE_LEN} bytes"
            ));
        }
        if self.subst_work > MAX_SUBST_WORK {
            return Some(format!(
                "substitutions have copied more than {MAX_SUBST_WORK} bytes in all (definitions that double at each level?)"
            ));
        }
        None
    }

    /// Reports why the substitution of the current line failed; the line is dropped.
    fn fail_subst(&mut self, span: Span, why: String) {
        self.subst_failed = true;
        if self.subst_work > MAX_SUBST_WORK {
            if self.subst_work_reported {
                return;
            }
            self.subst_work_reported = true;
        }
        self.error(span, format!("{why}; line ignored"));
    }

    /// Ends reading: the statements still open are closed (and reported) and delivered.
    fn finish(mut self) -> Read {
        let rest = std::mem::take(&mut self.builder).finish(&mut self.diags);
        for node in rest {
            (self.consumer)(node);
        }
        Read {
            diagnostics: self.diags.into_vec(),
            missing_files: self.missing,
        }
    }

    /// The main configuration file could not be opened.
    fn main_file_error(&mut self, file: Arc<PathBuf>, err: OpenError) {
        self.missing.push(file.to_path_buf());
        let severity = if self.opts.all_config {
            Severity::Error
        } else {
            Severity::Warning
        };
        let span = Span {
            file,
            line: 0,
            col: 0,
        };
        let missing = |message: String| Diagnostic::missing_file(severity, span.clone(), message);
        let d = match err {
            OpenError::Missing(e) => missing(format!("config file missing: cannot read it: {e}")),
            OpenError::NotRegular(what) => missing(format!(
                "config file missing: cannot read it: it is {what}, not a regular file"
            )),
            OpenError::Executable => missing(
                "config file missing: cannot read it: it is executable (configuration files must not be)"
                    .to_string(),
            ),
            // It is there but cannot be read: nothing can run (keepalived: status 4).
            OpenError::Unreadable(e) => Diagnostic::cannot_run(
                span.clone(),
                format!("cannot read the configuration file: {e}"),
            ),
        };
        self.diags.push(d);
    }
}

/// What reading a configuration leaves besides the statements handed to the consumer.
pub(crate) struct Read {
    pub diagnostics: Vec<Diagnostic>,
    pub missing_files: Vec<PathBuf>,
}

/// The directory includes of `path` resolve against, and its canonical form.
fn canonical_of(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

#[allow(clippy::disallowed_methods)] // config's file reader
/// Reads the configuration file at `path` (and its includes), handing each complete
/// top-level statement to `consumer` as soon as it is read and calling `progress` every
/// [`PROGRESS_QUANTUM`] units of work.
pub(crate) fn read_file(
    path: &Path,
    opts: &LoadOptions,
    consumer: &mut dyn FnMut(Node),
    progress: &mut dyn FnMut(),
) -> Read {
    let mut pre = Pre::new(opts, consumer, progress);
    let file = Arc::new(path.to_path_buf());
    match source::open(path) {
        Ok(src) => pre.run_source(src, file, canonical_of(path)),
        Err(e) => pre.main_file_error(file, e),
    }
    pre.finish()
}

/// As [`read_file`] for text in memory named `origin`.
pub(crate) fn read_str(
    text: &str,
    origin: &Path,
    opts: &LoadOptions,
    consumer: &mut dyn FnMut(Node),
    progress: &mut dyn FnMut(),
) -> Read {
    let mut pre = Pre::new(opts, consumer, progress);
    let file = Arc::new(origin.to_path_buf());
    pre.run_text(text, file, canonical_of(origin));
    pre.finish()
}

fn parsed(read: impl FnOnce(&mut dyn FnMut(Node)) -> Read) -> Parsed {
    let mut nodes = Vec::new();
    let r = read(&mut |n| nodes.push(n));
    Parsed {
        nodes,
        diagnostics: r.diagnostics,
        missing_files: r.missing_files,
    }
}

/// The whole tree of the file at `path`.
pub(crate) fn run_file(path: &Path, opts: &LoadOptions) -> Parsed {
    parsed(|c| read_file(path, opts, c, &mut || {}))
}

/// The whole tree of `text`.
pub(crate) fn run_str(text: &str, origin: &Path, opts: &LoadOptions) -> Parsed {
    parsed(|c| read_str(text, origin, opts, c, &mut || {}))
}

/// `${_RANDOM [MIN [MAX]]}`'s bounds (keepalived: non-negative, default 0 and 32767).
fn random_bounds(args: &str) -> Result<(u64, u64), String> {
    let mut w = args.split_whitespace();
    let mut bound = |default: u64| match w.next() {
        None => Ok(default),
        Some(t) => t
            .parse::<u64>()
            .map_err(|_| format!("`{t}` is not a non-negative integer")),
    };
    let lo = bound(0)?;
    let hi = bound(32767)?;
    if w.next().is_some() {
        return Err("takes at most MIN and MAX".into());
    }
    if lo > hi {
        return Err(format!("MIN {lo} is above MAX {hi}"));
    }
    Ok((lo, hi))
}

fn is_space_char(c: char) -> bool {
    c.is_ascii_whitespace()
}

/// SplitMix64: the `${_RANDOM}` generator (small, seedable, the same on every machine).
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `[lo, hi]`.
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        match (hi - lo).checked_add(1) {
            Some(span) => lo + self.next() % span,
            None => self.next(),
        }
    }
}
