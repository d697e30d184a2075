//! Source-mapped logical lines for the preprocessor: text built from pieces of several
//! places (the line itself, definitions, `~SEQ` headers), each piece remembering where it
//! was written, plus the small lexical helpers for names.

use super::lex::{is_space, Locator, MapEntry, Pos};

/// A logical line with its source map (see [`MapEntry`]).
#[derive(Clone, Debug, Default)]
pub(super) struct LLine {
    pub(super) text: String,
    pub(super) map: Vec<MapEntry>,
}

impl LLine {
    pub(super) fn new(text: &str, pos: Pos) -> Self {
        LLine {
            text: text.to_string(),
            map: vec![(0, pos)],
        }
    }

    /// An empty line with room for `text` bytes and `pieces` map entries.
    pub(super) fn with_capacity(text: usize, pieces: usize) -> Self {
        LLine {
            text: String::with_capacity(text),
            map: Vec::with_capacity(pieces),
        }
    }

    /// The position of the character at byte `off`.
    pub(super) fn pos(&self, off: usize) -> Pos {
        Locator::new(&self.text, &self.map).at(off)
    }

    /// Appends `src.text[a..b]` with its map.
    pub(super) fn push_range(&mut self, src: &LLine, a: usize, b: usize) {
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
                self.map.push((base + off - a, *span));
            }
        }
        self.text.push_str(piece);
    }

    pub(super) fn push_all(&mut self, src: &LLine) {
        self.push_range(src, 0, src.text.len());
    }

    /// `text[off..]` with leading whitespace removed.
    pub(super) fn tail(&self, off: usize) -> LLine {
        self.tail_at(off).0
    }

    /// As [`LLine::tail`], also giving where the tail starts in `self`.
    pub(super) fn tail_at(&self, off: usize) -> (LLine, usize) {
        let b = self.text.as_bytes();
        let mut s = off.min(b.len());
        while s < b.len() && is_space(b[s]) {
            s += 1;
        }
        let mut out = LLine::with_capacity(b.len() - s, self.map.len());
        out.push_range(self, s, b.len());
        (out, s)
    }

    /// Removes trailing whitespace.
    pub(super) fn trim_end(&mut self) {
        let keep = self
            .text
            .trim_end_matches(|c: char| c.is_ascii_whitespace())
            .len();
        self.text.truncate(keep);
        self.map.retain(|(o, _)| *o < keep || *o == 0);
    }
}

pub(super) fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

pub(super) fn is_name_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// `[A-Za-z_][A-Za-z0-9_]*`.
pub(super) fn valid_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty() && is_name_start(b[0]) && b.iter().all(|&c| is_name_char(c))
}

/// `$NAME=` at the start of `text`: the name and the offset after `=`.
pub(super) fn parse_def(text: &str) -> Option<(&str, usize)> {
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

/// The first word of `text` (up to whitespace or a brace).
pub(super) fn first_word(text: &str) -> &str {
    let end = text
        .bytes()
        .position(|c| is_space(c) || c == b'{' || c == b'}')
        .unwrap_or(text.len());
    &text[..end]
}
