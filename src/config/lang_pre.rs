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

use super::lang_glob::{brace_expand, glob, has_wildcard};
use super::lex::{is_space, strip_comment, tokenize, Locator, MapEntry, Tok};
use super::tree::{Builder, Parsed};
use super::{Diagnostic, LoadOptions, Severity, Span};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

/// Deepest nesting of includes.
const MAX_INCLUDE_DEPTH: usize = 32;
/// Deepest nesting of line expansions (multi-line values, ~SEQ inside ~SEQ, ...).
const MAX_LINE_DEPTH: u32 = 64;
/// Deepest recursive substitution of one value inside another.
const MAX_SUBST_DEPTH: u32 = 32;
/// Most substitutions made for one logical line (guards against `$A=${B}${B}` chains).
const MAX_SUBSTS_PER_LINE: u32 = 100_000;
/// Longest line substitution may produce.
const MAX_LINE_LEN: usize = 1 << 20;
/// Most values one `~SEQ`/`~LST` may produce.
const MAX_REPEAT: i64 = 1_000_000;
/// Most logical lines one parse may generate by expansion.
const MAX_EXPANDED_LINES: u64 = 20_000_000;

// include_check bits.
const CHK_READABLE: u8 = 1;
const CHK_MATCH: u8 = 2;
const CHK_WILDCARD: u8 = 4;
const CHK_BRACE: u8 = 8;
const CHK_ALL: u8 = CHK_READABLE | CHK_MATCH | CHK_WILDCARD | CHK_BRACE;

/// A logical line with its source map (see [`MapEntry`]).
#[derive(Clone, Debug, Default)]
struct LLine {
    text: String,
    map: Vec<MapEntry>,
}

impl LLine {
    fn new(text: &str, span: Span) -> Self {
        LLine {
            text: text.to_string(),
            map: vec![(0, span)],
        }
    }

    /// The position of the character at byte `off`.
    fn pos(&self, off: usize) -> Span {
        Locator::new(&self.text, &self.map).at(off)
    }

    /// Appends `src.text[a..b]` with its map.
    fn push_range(&mut self, src: &LLine, a: usize, b: usize) {
        if a >= b {
            return;
        }
        let Some(piece) = src.text.get(a..b) else {
            return;
        };
        let base = self.text.len();
        self.map.push((base, src.pos(a)));
        for (off, span) in &src.map {
            if *off > a && *off < b {
                self.map.push((base + off - a, span.clone()));
            }
        }
        self.text.push_str(piece);
    }

    fn push_all(&mut self, src: &LLine) {
        self.push_range(src, 0, src.text.len());
    }

    /// `text[off..]` with leading whitespace removed.
    fn tail(&self, off: usize) -> LLine {
        let b = self.text.as_bytes();
        let mut s = off.min(b.len());
        while s < b.len() && is_space(b[s]) {
            s += 1;
        }
        let mut out = LLine::default();
        out.push_range(self, s, b.len());
        out
    }

    /// Removes trailing whitespace.
    fn trim_end(&mut self) {
        let keep = self
            .text
            .trim_end_matches(|c: char| c.is_ascii_whitespace())
            .len();
        self.text.truncate(keep);
        self.map.retain(|(o, _)| *o < keep || *o == 0);
    }
}

/// A definition: one line, or several for a multi-line one.
type Value = Rc<Vec<LLine>>;

/// The outcome of substituting one line.
enum Sub {
    One(LLine),
    /// Several lines; the `usize` says up to where each is already substituted.
    Many(Vec<(LLine, usize)>),
}

/// One file being read.
struct FileCtx {
    /// The file's directory as written, for includes.
    dir: PathBuf,
    /// Its canonical directory, for `${_PWD}`.
    pwd: PathBuf,
    check: u8,
}

struct Pre<'o> {
    opts: &'o LoadOptions,
    config_id: String,
    defs: BTreeMap<String, Value>,
    diags: Vec<Diagnostic>,
    missing: Vec<PathBuf>,
    builder: Builder,
    toks: Vec<Tok>,
    files: Vec<FileCtx>,
    /// Canonical paths of the files being read, for cycle detection.
    open: Vec<PathBuf>,
    /// A multi-line definition being collected: its name and lines so far.
    collect: Option<(String, Vec<LLine>)>,
    expanded: u64,
    expansion_reported: bool,
    substs: u32,
}

/// The default config id: the host name up to its first '.', read from
/// `/proc/sys/kernel/hostname` (the same as uname's node name, without a libc call).
fn default_config_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let host = host.trim();
    host.split('.').next().unwrap_or("").to_string()
}

fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_name_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// `$NAME=` at the start of `text`: the name and the offset after `=`.
fn parse_def(text: &str) -> Option<(&str, usize)> {
    let b = text.as_bytes();
    if b.first() != Some(&b'$') || !b.get(1).copied().is_some_and(is_name_start) {
        return None;
    }
    let mut i = 2;
    while i < b.len() && is_name_char(b[i]) {
        i += 1;
    }
    (b.get(i) == Some(&b'=')).then(|| (&text[1..i], i + 1))
}

/// The include keywords and the checks each adds.
fn include_kind(word: &str) -> Option<u8> {
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

fn first_word(text: &str) -> &str {
    let end = text
        .bytes()
        .position(|c| is_space(c) || c == b'{' || c == b'}')
        .unwrap_or(text.len());
    &text[..end]
}

/// Parses an integer of a `~SEQ`: decimal or `0x` hex, optionally negative.
fn parse_int(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, body) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let v = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        i64::from_str_radix(h, 16).ok()?
    } else {
        body.parse::<i64>().ok()?
    };
    Some(if neg { -v } else { v })
}

fn valid_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty() && is_name_start(b[0]) && b.iter().all(|&c| is_name_char(c))
}

/// Splits `s` at top-level commas (not inside `{...}`), trimming each part.
fn split_args(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.bytes().enumerate() {
        match c {
            b'{' => depth += 1,
            b'}' => depth -= 1,
            b',' if depth == 0 => {
                out.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(s[start..].trim());
    out
}

/// `{a, b}` → `["a", "b"]`; anything else → `[s]`.
fn braced_list(s: &str) -> Vec<&str> {
    match s.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
        Some(inner) => inner.split(',').map(str::trim).collect(),
        None => vec![s],
    }
}

impl<'o> Pre<'o> {
    fn new(opts: &'o LoadOptions) -> Self {
        let config_id = opts.config_id.clone().unwrap_or_else(default_config_id);
        Pre {
            opts,
            config_id,
            defs: BTreeMap::new(),
            diags: Vec::new(),
            missing: Vec::new(),
            builder: Builder::default(),
            toks: Vec::new(),
            files: Vec::new(),
            open: Vec::new(),
            collect: None,
            expanded: 0,
            expansion_reported: false,
            substs: 0,
        }
    }

    fn error(&mut self, span: Span, message: String) {
        self.diags.push(Diagnostic {
            severity: Severity::Error,
            span,
            message,
        });
    }

    fn warn(&mut self, span: Span, message: String) {
        self.diags.push(Diagnostic {
            severity: Severity::Warning,
            span,
            message,
        });
    }

    /// Reads one file's text. `canonical` is its canonical path (for cycle detection).
    fn run_text(&mut self, text: &str, file: Arc<PathBuf>, canonical: PathBuf) {
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
        let saved_collect = self.collect.take();
        for (no, raw) in text.split('\n').enumerate() {
            let line = strip_comment(raw);
            let trimmed = line.trim_start_matches(|c: char| c.is_ascii_whitespace());
            let body = trimmed.trim_end_matches(|c: char| c.is_ascii_whitespace());
            if body.is_empty() {
                continue;
            }
            let lead = &line[..line.len() - trimmed.len()];
            let col = 1 + if lead.is_ascii() {
                lead.len()
            } else {
                lead.chars().count()
            } as u32;
            let span = Span {
                file: file.clone(),
                line: u32::try_from(no + 1).unwrap_or(u32::MAX),
                col,
            };
            if let Some((_, lines)) = self.collect.as_mut() {
                let (content, more) = match body.strip_suffix('\\') {
                    Some(c) => (c.trim_end(), true),
                    None => (body, false),
                };
                if !content.is_empty() {
                    lines.push(LLine::new(content, span));
                }
                if !more {
                    self.end_collect();
                }
                continue;
            }
            let first = body.as_bytes()[0];
            if first != b'@'
                && first != b'$'
                && first != b'~'
                && !body.contains('$')
                && !body.starts_with("include")
            {
                // The plain fast path: straight to the lexer.
                tokenize(body, &[(0, span)], &mut self.toks, &mut self.diags);
                self.builder.line(&mut self.toks, &mut self.diags);
            } else {
                self.substs = 0;
                self.process(LLine::new(body, span), 0, 0);
            }
        }
        self.end_collect();
        self.collect = saved_collect;
        self.open.pop();
        self.files.pop();
    }

    fn end_collect(&mut self) {
        if let Some((name, lines)) = self.collect.take() {
            self.defs.insert(name, Rc::new(lines));
        }
    }

    /// Processes one logical line; `sf`: bytes before it are already substituted.
    fn process(&mut self, mut line: LLine, depth: u32, mut sf: usize) {
        if depth > MAX_LINE_DEPTH {
            let span = line.pos(0);
            self.error(
                span,
                format!("expansion nested more than {MAX_LINE_DEPTH} levels deep (a definition that uses itself?)"),
            );
            return;
        }
        self.expanded += 1;
        if self.expanded > MAX_EXPANDED_LINES {
            if !self.expansion_reported {
                self.expansion_reported = true;
                let span = line.pos(0);
                self.error(
                    span,
                    format!("expansion produces more than {MAX_EXPANDED_LINES} lines; the rest is ignored"),
                );
            }
            return;
        }
        if !self.conditional(&mut line, &mut sf) {
            return;
        }
        if let Some((name, off)) = parse_def(&line.text) {
            let name = name.to_string();
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
                } else {
                    self.defs.insert(name, Rc::new(lines));
                }
            } else {
                self.defs.insert(name, Rc::new(vec![value]));
            }
            return;
        }
        if line.text.starts_with("~SEQ") || line.text.starts_with("~LST") {
            self.repeat(&line, depth);
            return;
        }
        if line.text.get(sf..).is_some_and(|t| t.contains('$')) {
            match self.subst(&line, sf, 0) {
                Sub::One(l) => {
                    let changed = l.text != line.text;
                    line = l;
                    sf = line.text.len();
                    if changed && !self.conditional(&mut line, &mut sf) {
                        return;
                    }
                }
                Sub::Many(lines) => {
                    for (l, s) in lines {
                        self.process(l, depth + 1, s);
                    }
                    return;
                }
            }
        }
        let kw = first_word(&line.text);
        if let Some(kind) = include_kind(kw) {
            let off = kw.len();
            let span = line.pos(0);
            let rest = line.tail(off);
            self.include(kw.to_string(), kind, rest, span);
            return;
        }
        if kw == "include_check" {
            let rest = line.tail(kw.len());
            self.include_check(&rest);
            return;
        }
        tokenize(&line.text, &line.map, &mut self.toks, &mut self.diags);
        self.builder.line(&mut self.toks, &mut self.diags);
    }

    /// Applies `@ID` / `@^ID`: false when the line is to be dropped; otherwise strips the
    /// prefix from `line`.
    fn conditional(&mut self, line: &mut LLine, sf: &mut usize) -> bool {
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
            let span = line.pos(0);
            self.error(
                span,
                format!(
                    "'{}' must be followed by a config id; line ignored",
                    &line.text[..start]
                ),
            );
            return false;
        }
        let selected = (line.text[start..end] == self.config_id) != neg;
        if selected {
            *line = line.tail(end);
            *sf = sf.saturating_sub(end);
            // The rest is itself a line: it may be another conditional.
            return self.conditional(line, sf);
        }
        false
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
            let span = line.pos(0);
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
        let span = line.pos(0);
        let Some(close) = close else {
            self.error(span, format!("{kind}( without a closing ')'; line ignored"));
            return;
        };
        // Substitute inside the parentheses, so `~SEQ(X, 1, ${N})` works.
        let mut header_line = LLine::default();
        header_line.push_range(line, open + 1, close);
        let header = if header_line.text.contains('$') {
            match self.subst(&header_line, 0, 0) {
                Sub::One(l) => l.text,
                Sub::Many(_) => {
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
        let args = split_args(&header);
        let combos: Vec<Vec<(String, String)>> = if kind == "~LST" {
            match self.lst_values(&args, &span) {
                Some(c) => c,
                None => return,
            }
        } else {
            match self.seq_values(kind, &args, &span) {
                Some(c) => c,
                None => return,
            }
        };
        for combo in combos {
            let mut saved = Vec::with_capacity(combo.len());
            for (var, val) in combo {
                let v = Rc::new(vec![LLine::new(&val, span.clone())]);
                saved.push((var.clone(), self.defs.insert(var, v)));
            }
            if !rest.text.is_empty() {
                self.process(rest.clone(), depth + 1, 0);
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

    fn seq_values(
        &mut self,
        kind: &str,
        args: &[&str],
        span: &Span,
    ) -> Option<Vec<Vec<(String, String)>>> {
        let usage = format!("{kind}(var, [start,] [step,] end)");
        if args.len() < 2 || args.len() > 4 {
            self.error(
                span.clone(),
                format!(
                    "{usage} takes 2 to 4 arguments, found {}; line ignored",
                    args.len()
                ),
            );
            return None;
        }
        let var = args[0];
        if !valid_name(var) {
            self.error(
                span.clone(),
                format!("{kind}: '{var}' is not a valid variable name; line ignored"),
            );
            return None;
        }
        let mut nums = Vec::new();
        for a in &args[1..] {
            match parse_int(a) {
                Some(n) => nums.push(n),
                None => {
                    self.error(
                        span.clone(),
                        format!("{kind}: '{a}' is not an integer; line ignored"),
                    );
                    return None;
                }
            }
        }
        let (start, step, end) = match nums[..] {
            [end] => (
                match end {
                    e if e > 0 => 1,
                    e if e < 0 => -1,
                    _ => 0,
                },
                None,
                end,
            ),
            [start, end] => (start, None, end),
            [start, step, end] => (start, Some(step), end),
            _ => return None,
        };
        let step = step.unwrap_or(if end >= start { 1 } else { -1 });
        if step == 0 {
            self.error(
                span.clone(),
                format!("{kind}: step must not be 0; line ignored"),
            );
            return None;
        }
        let count = if (step > 0 && end < start) || (step < 0 && end > start) {
            0
        } else {
            (i128::from(end) - i128::from(start)) / i128::from(step) + 1
        };
        if count > i128::from(MAX_REPEAT) {
            self.error(
                span.clone(),
                format!(
                    "{kind}: {count} values is more than the limit of {MAX_REPEAT}; line ignored"
                ),
            );
            return None;
        }
        let hex = kind == "~SEQx";
        let mut out = Vec::with_capacity(count as usize);
        let mut v = start;
        for _ in 0..count {
            let s = if hex {
                if v < 0 {
                    format!("-{:x}", v.unsigned_abs())
                } else {
                    format!("{v:x}")
                }
            } else {
                v.to_string()
            };
            out.push(vec![(var.to_string(), s)]);
            v = v.saturating_add(step);
        }
        Some(out)
    }

    fn lst_values(&mut self, args: &[&str], span: &Span) -> Option<Vec<Vec<(String, String)>>> {
        if args.len() < 2 {
            self.error(
                span.clone(),
                "~LST(var, value, ...) needs at least one value; line ignored".into(),
            );
            return None;
        }
        let vars = braced_list(args[0]);
        if let Some(bad) = vars.iter().find(|v| !valid_name(v)) {
            self.error(
                span.clone(),
                format!("~LST: '{bad}' is not a valid variable name; line ignored"),
            );
            return None;
        }
        if args.len() as i64 - 1 > MAX_REPEAT {
            self.error(
                span.clone(),
                format!("~LST: more than {MAX_REPEAT} values; line ignored"),
            );
            return None;
        }
        let mut out = Vec::new();
        for a in &args[1..] {
            let vals = if vars.len() == 1 && !a.starts_with('{') {
                vec![*a]
            } else {
                braced_list(a)
            };
            if vals.len() != vars.len() {
                self.error(
                    span.clone(),
                    format!(
                        "~LST: value '{a}' has {} parts for {} variables; line ignored",
                        vals.len(),
                        vars.len()
                    ),
                );
                return None;
            }
            out.push(
                vars.iter()
                    .zip(vals)
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            );
        }
        Some(out)
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

    /// Substitutes `src.text[from..]`, `depth` levels inside other values.
    fn subst(&mut self, src: &LLine, from: usize, depth: u32) -> Sub {
        let text = &src.text;
        let b = text.as_bytes();
        let mut out = LLine::default();
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
            if name.starts_with("_RANDOM") {
                let span = src.pos(i);
                self.warn(
                    span,
                    "${_RANDOM} is not supported (configuration reading is deterministic); left as written".into(),
                );
                i = end;
                continue;
            }
            if !valid_name(name) {
                i += 1;
                continue;
            }
            let value: Value = match self.defs.get(name) {
                Some(v) => v.clone(),
                None => match self.predefined(name) {
                    Some(s) => Rc::new(vec![LLine::new(&s, src.pos(i))]),
                    None => {
                        // Undefined: left as written.
                        i = end;
                        continue;
                    }
                },
            };
            self.substs += 1;
            if depth >= MAX_SUBST_DEPTH
                || self.substs > MAX_SUBSTS_PER_LINE
                || out.text.len() > MAX_LINE_LEN
            {
                let span = src.pos(i);
                let why = if depth >= MAX_SUBST_DEPTH {
                    format!("'{name}' is defined in terms of itself (substitution nested more than {MAX_SUBST_DEPTH} levels)")
                } else {
                    format!("substitution of '{name}' makes the line too large")
                };
                if self.substs <= MAX_SUBSTS_PER_LINE + 1 {
                    self.error(span, format!("{why}; left as written"));
                }
                self.substs = MAX_SUBSTS_PER_LINE + 2;
                i = end;
                continue;
            }
            out.push_range(src, run, i);
            run = end;
            i = end;
            match value.len() {
                0 => {}
                1 => match self.subst(&value[0], 0, depth + 1) {
                    Sub::One(l) => out.push_all(&l),
                    Sub::Many(lines) => {
                        let n = lines.len();
                        let mut result = Vec::with_capacity(n);
                        for (k, (l, s)) in lines.into_iter().enumerate() {
                            let mut cur = if k == 0 {
                                std::mem::take(&mut out)
                            } else {
                                LLine::default()
                            };
                            let s = cur.text.len() + s;
                            cur.push_all(&l);
                            if k + 1 == n {
                                cur.push_range(src, end, b.len());
                            }
                            result.push((cur, s));
                        }
                        return Sub::Many(result);
                    }
                },
                n => {
                    let mut result = Vec::with_capacity(n);
                    for (k, l) in value.iter().enumerate() {
                        let mut cur = if k == 0 {
                            std::mem::take(&mut out)
                        } else {
                            LLine::default()
                        };
                        let s = cur.text.len();
                        cur.push_all(l);
                        if k + 1 == n {
                            cur.push_range(src, end, b.len());
                        }
                        result.push((cur, s));
                    }
                    return Sub::Many(result);
                }
            }
        }
        out.push_range(src, run, b.len());
        Sub::One(out)
    }

    /// `include_check [OPTIONS]`.
    fn include_check(&mut self, rest: &LLine) {
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
            let span = rest.pos(off);
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
    fn include(&mut self, kw: String, kind: u8, rest: LLine, span: Span) {
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
            let matches = glob(alt, &dir);
            if matches.is_empty() {
                if braced {
                    brace_missing = true;
                } else if !has_wildcard(alt) {
                    let full = dir.join(alt);
                    self.missing.push(full);
                    self.diags.push(Diagnostic {
                        severity: fatal(CHK_MATCH),
                        span: span.clone(),
                        message: format!("config file missing: '{pattern}'"),
                    });
                }
            }
            for m in matches {
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

    /// Reads an included file (one match of an include pattern).
    fn include_file(&mut self, path: &Path, span: &Span, unreadable: Severity) {
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
        // Only regular files: never a directory, a FIFO or a device like /dev/zero.
        if let Ok(meta) = std::fs::metadata(path) {
            if !meta.is_file() {
                self.diags.push(Diagnostic {
                    severity: unreadable,
                    span: span.clone(),
                    message: format!(
                        "cannot read config file '{}': not a regular file",
                        path.display()
                    ),
                });
                self.missing.push(path.to_path_buf());
                return;
            }
        }
        match std::fs::read(path) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                self.run_text(&text, Arc::new(path.to_path_buf()), canonical);
            }
            Err(e) => {
                self.diags.push(Diagnostic {
                    severity: unreadable,
                    span: span.clone(),
                    message: format!("cannot read config file '{}': {e}", path.display()),
                });
                self.missing.push(path.to_path_buf());
            }
        }
    }

    fn finish(self) -> Parsed {
        let mut diags = self.diags;
        let nodes = self.builder.finish(&mut diags);
        Parsed {
            nodes,
            diagnostics: diags,
            missing_files: self.missing,
        }
    }
}

/// The directory includes of `path` resolve against, and its canonical form.
fn canonical_of(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

pub(crate) fn run_file(path: &Path, opts: &LoadOptions) -> Parsed {
    let mut pre = Pre::new(opts);
    let file = Arc::new(path.to_path_buf());
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            pre.run_text(&text, file, canonical_of(path));
        }
        Err(e) => {
            pre.missing.push(path.to_path_buf());
            pre.diags.push(Diagnostic {
                severity: if opts.all_config {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                span: Span {
                    file,
                    line: 0,
                    col: 0,
                },
                message: format!("config file missing: cannot read it: {e}"),
            });
        }
    }
    pre.finish()
}

pub(crate) fn run_str(text: &str, origin: &Path, opts: &LoadOptions) -> Parsed {
    let mut pre = Pre::new(opts);
    let file = Arc::new(origin.to_path_buf());
    pre.run_text(text, file, canonical_of(origin));
    pre.finish()
}
