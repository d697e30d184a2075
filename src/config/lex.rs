//! Lexing keepalived.conf lines: comment stripping (`!`, `#`), quoting with shell-like
//! escapes, and splitting a logical line into words and braces, each located.
//!
//! The lexer is a hand-written byte scanner (faster than nom for this job): one pass per
//! line, no per-character `String` building for plain words. The line preprocessor
//! (`lang_pre`: includes, `@id`, `$NAME`, `~SEQ`) hands it logical lines together with a
//! source map, so words produced by substitution keep the position of their source text.

use super::diag::{Diagnostic, Sink};
use super::tree::Word;
use super::Span;
use std::path::PathBuf;
use std::sync::Arc;

/// Longest word kept (keepalived's whole line is at most 1 KiB). A line with a longer word
/// is reported and its words dropped (its braces are kept, so blocks stay balanced).
pub const MAX_WORD_BYTES: usize = 16 << 10;

/// One token of a logical line.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Tok {
    Word(Word),
    /// An unquoted `{`.
    Open(Span),
    /// An unquoted `}`.
    Close(Span),
}

/// A source position whose file is an index into a table of file names (cheap to copy:
/// source maps hold many of these; a [`Span`] is made only for each word).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Pos {
    pub file: u32,
    pub line: u32,
    pub col: u32,
}

impl Pos {
    /// The span of this position, naming the file from `files`.
    pub fn span(self, files: &[Arc<PathBuf>]) -> Span {
        Span {
            file: files.get(self.file as usize).cloned().unwrap_or_default(),
            line: self.line,
            col: self.col,
        }
    }
}

/// A source map entry: the byte at `offset` of a logical line (and those after it, up to
/// the next entry) came from `pos` (advancing one column per character).
pub type MapEntry = (usize, Pos);

/// Cuts a physical line at its first unquoted `#` or `!`. Quotes are tracked so that
/// `"a # b"` keeps its `#`; a backslash inside quotes protects the next character.
pub fn strip_comment(line: &str) -> &str {
    let b = line.as_bytes();
    let mut i = 0;
    let mut quote: u8 = 0;
    while i < b.len() {
        let c = b[i];
        if quote != 0 {
            if c == b'\\' {
                i += 2;
                continue;
            }
            if c == quote {
                quote = 0;
            }
        } else if c == b'#' || c == b'!' {
            return &line[..i];
        } else if c == b'"' || c == b'\'' {
            quote = c;
        }
        i += 1;
    }
    line
}

/// Is `c` a separator between words (ASCII whitespace)?
#[inline]
pub fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c)
}

/// Turns byte offsets of a logical line into positions, walking forward through the map.
/// Offsets must be asked for in non-decreasing order (the tokenizer does).
pub struct Locator<'a> {
    text: &'a str,
    map: &'a [MapEntry],
    idx: usize,
    last_off: usize,
    last_col: u32,
}

impl<'a> Locator<'a> {
    pub fn new(text: &'a str, map: &'a [MapEntry]) -> Self {
        let (last_off, last_col) = map.first().map(|e| (e.0, e.1.col)).unwrap_or((0, 1));
        Locator {
            text,
            map,
            idx: 0,
            last_off,
            last_col,
        }
    }

    /// The position of the character at byte `off`.
    pub fn at(&mut self, off: usize) -> Pos {
        while self.idx + 1 < self.map.len() && self.map[self.idx + 1].0 <= off {
            self.idx += 1;
            self.last_off = self.map[self.idx].0;
            self.last_col = self.map[self.idx].1.col;
        }
        let Some(entry) = self.map.get(self.idx) else {
            return Pos::default();
        };
        if off >= self.last_off {
            let seg = self.text.get(self.last_off..off).unwrap_or("");
            let n = if seg.is_ascii() {
                seg.len()
            } else {
                seg.chars().count()
            };
            self.last_col = self.last_col.saturating_add(n as u32);
            self.last_off = off;
        }
        Pos {
            file: entry.1.file,
            line: entry.1.line,
            col: self.last_col,
        }
    }
}

/// Splits a logical line (comments already removed) into tokens appended to `out`.
///
/// Words are separated by whitespace; unquoted `{` and `}` are tokens of their own wherever
/// they appear (as keepalived does: `a{b` is `a`, `{`, `b`). `"..."` and `'...'` may appear
/// anywhere in a word and are removed (`ab"c d"e` is the one word `abc de`, quoted);
/// inside quotes the escapes `\a \b \E \f \n \r \t \v \nnn \xHH.. \cC` are decoded and `\C`
/// is `C`. Outside quotes a backslash is an ordinary character. An unterminated quote is an
/// error at the opening quote; the word then runs to the end of the line. `files` names
/// the files of the map's positions.
pub fn tokenize(
    text: &str,
    map: &[MapEntry],
    files: &[Arc<PathBuf>],
    out: &mut Vec<Tok>,
    diags: &mut Sink,
) {
    let mut loc = Locator::new(text, map);
    scan::<false, _>(text, &mut |off| loc.at(off).span(files), out, diags);
}

/// The fast path for a physical line that needs no preprocessing: tokenizes it up to its
/// first unquoted `#` or `!` (the comment), with columns counted from 1 at the line start.
/// Returns `false`, leaving `out` and `diags` as they were, when the line holds a `$` (it
/// must go through substitution) — the caller then takes the general path.
pub fn tokenize_physical(
    line: &str,
    file: &Arc<PathBuf>,
    line_no: u32,
    out: &mut Vec<Tok>,
    diags: &mut Sink,
) -> bool {
    let before = out.len();
    let ok = if line.is_ascii() {
        let mut at = |off: usize| Span {
            file: file.clone(),
            line: line_no,
            col: u32::try_from(off + 1).unwrap_or(u32::MAX),
        };
        scan::<true, _>(line, &mut at, out, diags)
    } else {
        let map = [(
            0,
            Pos {
                file: 0,
                line: line_no,
                col: 1,
            },
        )];
        let mut loc = Locator::new(line, &map);
        let mut at = |off: usize| Span {
            file: file.clone(),
            line: line_no,
            col: loc.at(off).col,
        };
        scan::<true, _>(line, &mut at, out, diags)
    };
    if !ok {
        out.truncate(before);
    }
    ok
}

/// The scanner behind [`tokenize`] and [`tokenize_physical`]. With `PHYSICAL`, an unquoted
/// `#`/`!` ends the line and a `$` anywhere aborts (returns false).
fn scan<const PHYSICAL: bool, F: FnMut(usize) -> Span>(
    text: &str,
    at: &mut F,
    out: &mut Vec<Tok>,
    diags: &mut Sink,
) -> bool {
    let b = text.as_bytes();
    let n = b.len();
    let first = out.len();
    // The first word longer than MAX_WORD_BYTES: where it starts and its length.
    let mut too_long: Option<(Span, usize)> = None;
    let mut i = 0;
    while i < n {
        let c = b[i];
        if is_space(c) {
            i += 1;
            continue;
        }
        match c {
            b'{' => {
                out.push(Tok::Open(at(i)));
                i += 1;
                continue;
            }
            b'}' => {
                out.push(Tok::Close(at(i)));
                i += 1;
                continue;
            }
            b'#' | b'!' if PHYSICAL => break,
            _ => {}
        }
        let start = i;
        let span = at(start);
        let mut buf: Option<Vec<u8>> = None;
        let mut end_of_line = false;
        while i < n {
            let c = b[i];
            if is_space(c) || c == b'{' || c == b'}' {
                break;
            }
            if PHYSICAL {
                if c == b'#' || c == b'!' {
                    end_of_line = true;
                    break;
                }
                if c == b'$' {
                    return false;
                }
            }
            if c == b'"' || c == b'\'' {
                let v = buf.get_or_insert_with(|| b[start..i].to_vec());
                let qpos = i;
                i += 1;
                let mut closed = false;
                while i < n {
                    let d = b[i];
                    if d == c {
                        i += 1;
                        closed = true;
                        break;
                    }
                    if PHYSICAL && d == b'$' {
                        return false;
                    }
                    if d == b'\\' {
                        i = unescape(b, i + 1, v);
                        continue;
                    }
                    v.push(d);
                    i += 1;
                }
                if !closed {
                    diags.push(Diagnostic::error(
                        at(qpos),
                        format!("unterminated quoted string (missing closing {})", c as char),
                    ));
                }
                continue;
            }
            if let Some(v) = buf.as_mut() {
                v.push(c);
            }
            i += 1;
        }
        let len = buf.as_ref().map_or(i - start, Vec::len);
        if len > MAX_WORD_BYTES {
            too_long.get_or_insert((span, len));
            if end_of_line {
                break;
            }
            continue;
        }
        let (text, quoted) = match buf {
            None => (text[start..i].to_string(), false),
            Some(v) => (
                match String::from_utf8(v) {
                    Ok(s) => s,
                    Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
                },
                true,
            ),
        };
        out.push(Tok::Word(Word { text, span, quoted }));
        if end_of_line {
            break;
        }
    }
    if let Some((span, len)) = too_long {
        // Reported only now: a physical line given up on (`$`) leaves no diagnostic.
        let mut idx = 0;
        out.retain(|t| {
            let keep = idx < first || !matches!(t, Tok::Word(_));
            idx += 1;
            keep
        });
        diags.error(
            span,
            format!("word of {len} bytes is longer than the limit of {MAX_WORD_BYTES}; the words of this line are ignored"),
        );
    }
    true
}

/// Decodes one escape sequence whose first character (after the backslash) is at `i`,
/// appending the result to `out`; returns the index after the sequence.
fn unescape(b: &[u8], i: usize, out: &mut Vec<u8>) -> usize {
    let Some(&c) = b.get(i) else {
        out.push(b'\\');
        return i;
    };
    let simple = match c {
        b'a' => Some(0x07),
        b'b' => Some(0x08),
        b'E' => Some(0x1b),
        b'f' => Some(0x0c),
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        b'v' => Some(0x0b),
        _ => None,
    };
    if let Some(v) = simple {
        out.push(v);
        return i + 1;
    }
    match c {
        b'0'..=b'7' => {
            let mut v: u32 = 0;
            let mut j = i;
            while j < b.len() && j < i + 3 && (b'0'..=b'7').contains(&b[j]) {
                v = v * 8 + u32::from(b[j] - b'0');
                j += 1;
            }
            out.push((v & 0xff) as u8);
            j
        }
        b'x' => {
            let mut v: u32 = 0;
            let mut j = i + 1;
            while j < b.len() && b[j].is_ascii_hexdigit() {
                let d = (b[j] as char).to_digit(16).unwrap_or(0);
                v = (v << 4 | d) & 0xff;
                j += 1;
            }
            if j == i + 1 {
                out.push(b'x');
            } else {
                out.push(v as u8);
            }
            j
        }
        b'c' => match b.get(i + 1) {
            Some(&d) if d.is_ascii() => {
                out.push(if d == b'?' { 0x7f } else { d & 0x1f });
                i + 2
            }
            _ => {
                out.push(b'c');
                i + 1
            }
        },
        _ => {
            // `\C` is `C`; a multi-byte character is copied whole by the caller's loop.
            out.push(c);
            i + 1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> (Vec<Tok>, Vec<Diagnostic>) {
        let pos = Pos {
            file: 0,
            line: 1,
            col: 1,
        };
        let files = [Arc::new(PathBuf::from("t"))];
        let mut out = Vec::new();
        let mut d = Sink::default();
        tokenize(s, &[(0, pos)], &files, &mut out, &mut d);
        (out, d.into_vec())
    }

    fn words(s: &str) -> Vec<String> {
        toks(s)
            .0
            .into_iter()
            .map(|t| match t {
                Tok::Word(w) => w.text,
                Tok::Open(_) => "{".into(),
                Tok::Close(_) => "}".into(),
            })
            .collect()
    }

    #[test]
    fn comments_respect_quotes() {
        assert_eq!(strip_comment("a b # c"), "a b ");
        assert_eq!(strip_comment("a ! c"), "a ");
        assert_eq!(strip_comment("a \"#x\" ! c"), "a \"#x\" ");
        assert_eq!(strip_comment("a '\\'#' #"), "a '\\'#' ");
    }

    #[test]
    fn braces_split_words() {
        assert_eq!(words("a{b}c"), ["a", "{", "b", "}", "c"]);
        assert_eq!(words("x { 1 2 }"), ["x", "{", "1", "2", "}"]);
    }

    #[test]
    fn quotes_join_and_escape() {
        assert_eq!(words("abcd\" efg h jkl \"mnop"), ["abcd efg h jkl mnop"]);
        assert_eq!(words("abcd \"efg h\" x"), ["abcd", "efg h", "x"]);
        assert_eq!(words(r#""a\tb\x41\101\cA\"\\""#), ["a\tbAA\u{1}\"\\"]);
        assert_eq!(words("'{' \"}\""), ["{", "}"]);
    }

    #[test]
    fn columns_are_characters() {
        let (t, _) = toks("é  x");
        match &t[1] {
            Tok::Word(w) => assert_eq!(w.span.col, 4),
            _ => panic!("expected a word"),
        }
    }

    #[test]
    fn unterminated_quote_is_located() {
        let (t, d) = toks("a \"bc");
        assert_eq!(t.len(), 2);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].span.col, 3);
    }
}
