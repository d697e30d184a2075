//! `regex`, `regex_no_match`, `regex_options`, `regex_min_offset`, `regex_max_offset` of an
//! HTTP_GET / SSL_GET `url`, with the `regex` crate (keepalived uses PCRE2).
//!
//! What keepalived 2.2.7 matches, as observed against a test server: the subject is the
//! response as received, from the first byte of the status line (headers included, chunk
//! framing included), and the offsets count from there: a match must *start* at an offset
//! in `[regex_min_offset, regex_max_offset]` (both inclusive). So do we.
//!
//! Memory is bounded: at most [`WINDOW`] bytes are kept. When the window fills without a
//! decision it is searched, then all but its last [`OVERLAP`] bytes are dropped; a match of
//! up to `OVERLAP` bytes is therefore found wherever it lies in a response of any size,
//! longer ones only within one window.
//!
//! Differences from PCRE2 (documented in keepalived-rs.conf(5)): the pattern syntax is the
//! `regex` crate's (no backreferences, lookaround, atomic groups, `\C`, `\K`, `\Q..\E`,
//! recursion: such a pattern is a configuration error; a possessive quantifier `a++` is
//! read as a greedy one); `$` matches at the very end of the
//! response (keepalived's partial matching never lets it); the options
//! [`UNSUPPORTED_OPTIONS`] are not available (a warning at `-t`, the check runs without
//! them).

use regex::bytes::{Regex, RegexBuilder};

/// Bytes kept for matching at most.
pub const WINDOW: usize = 128 * 1024;
/// Bytes kept from one window to the next.
pub const OVERLAP: usize = 32 * 1024;
/// A match found before the end of the data counts once this many bytes follow it (the
/// `regex` crate looks at most one character past a match: `\b`, `$`).
const LOOKAHEAD: usize = 4;

/// keepalived's option names that the `regex` crate has a counterpart for, or that do not
/// change whether a match exists.
const NEUTRAL_OPTIONS: &[&str] = &[
    "auto_callout",
    "dollar_endonly",
    "never_backslash_c",
    "never_ucp",
    "never_utf",
    "no_auto_capture",
    "no_auto_possess",
    "no_dotstar_anchor",
    "no_start_optimize",
    "use_offset_limit",
];

/// keepalived's option names with no counterpart here.
pub const UNSUPPORTED_OPTIONS: &[&str] = &[
    "allow_empty_class",
    "alt_bsux",
    "alt_circumflex",
    "alt_verbnames",
    "dupnames",
    "match_unset_backref",
];

/// A compiled `regex` with its options and offsets.
#[derive(Clone, Debug)]
pub struct Pattern {
    re: Regex,
    no_match: bool,
    min_offset: u64,
    max_offset: Option<u64>,
    /// PCRE2_FIRSTLINE: the match must start in the first line.
    firstline: bool,
}

/// A pattern and what its options could not honour.
#[derive(Debug)]
pub struct Compiled {
    pub pattern: Pattern,
    /// One line per option that is unknown or unsupported (ignored).
    pub warnings: Vec<String>,
}

impl Pattern {
    /// Compiles `regex` with keepalived's `regex_options` words. An error: the pattern is
    /// not valid in the `regex` crate's syntax.
    pub fn compile(
        regex: &str,
        options: &[String],
        no_match: bool,
        min_offset: Option<u32>,
        max_offset: Option<u32>,
    ) -> Result<Compiled, String> {
        // PCRE2's recursion `(?R)` is valid `regex` syntax meaning something else (CRLF mode).
        if regex.contains("(?R)") {
            return Err(format!(
                "regex '{regex}' is not supported (keepalived-rs uses the Rust regex syntax: \
                 no recursion)"
            ));
        }
        let mut b = RegexBuilder::new(regex);
        // PCRE2 without PCRE2_UTF matches bytes: `.` is any byte but LF, `\w` is ASCII.
        b.unicode(false);
        b.size_limit(4 << 20).dfa_size_limit(4 << 20);
        let mut warnings = Vec::new();
        let mut firstline = false;
        for o in options {
            match o.as_str() {
                "caseless" => {
                    b.case_insensitive(true);
                }
                "multiline" => {
                    b.multi_line(true);
                }
                "dotall" => {
                    b.dot_matches_new_line(true);
                }
                "extended" => {
                    b.ignore_whitespace(true);
                }
                "ungreedy" => {
                    b.swap_greed(true);
                }
                "utf" | "ucp" => {
                    b.unicode(true);
                }
                "firstline" => firstline = true,
                n if NEUTRAL_OPTIONS.contains(&n) => {}
                n if UNSUPPORTED_OPTIONS.contains(&n) => warnings.push(format!(
                    "regex_options: '{n}' (a PCRE2 option) is not supported by keepalived-rs's \
                     regex engine and is ignored"
                )),
                n => warnings.push(format!("regex_options: unknown option '{n}' ignored")),
            }
        }
        let re = b.build().map_err(|e| match e {
            regex::Error::Syntax(s) => format!(
                "regex '{regex}' is not supported (keepalived-rs uses the Rust regex syntax: \
                 no backreferences or lookaround): {}",
                s.lines().last().unwrap_or("syntax error").trim()
            ),
            other => format!("regex '{regex}': {other}"),
        })?;
        Ok(Compiled {
            pattern: Pattern {
                re,
                no_match,
                min_offset: u64::from(min_offset.unwrap_or(0)),
                max_offset: max_offset.map(u64::from),
                firstline,
            },
            warnings,
        })
    }

    /// `regex_no_match`: a match fails the check.
    pub fn no_match(&self) -> bool {
        self.no_match
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Found {
    Undecided,
    Yes,
    No,
}

/// Searches one response for a [`Pattern`] as its bytes arrive.
#[derive(Debug)]
pub struct Matcher {
    /// The window: stream bytes `base .. base + buf.len()`.
    buf: Vec<u8>,
    base: u64,
    /// Leading bytes of `buf` kept only as context for the next search (never a match start).
    context: usize,
    /// The offset of the first LF of the stream, once seen (for `firstline`).
    first_newline: Option<u64>,
    found: Found,
}

impl Default for Matcher {
    fn default() -> Self {
        Self::new()
    }
}

impl Matcher {
    pub fn new() -> Matcher {
        Matcher {
            buf: Vec::new(),
            base: 0,
            context: 0,
            first_newline: None,
            found: Found::Undecided,
        }
    }

    /// The next bytes of the response.
    pub fn feed(&mut self, p: &Pattern, mut bytes: &[u8]) {
        while !bytes.is_empty() && self.found == Found::Undecided {
            if self.first_newline.is_none() {
                if let Some(i) = bytes.iter().position(|&b| b == b'\n') {
                    self.first_newline = Some(self.base + (self.buf.len() + i) as u64);
                }
            }
            let take = (WINDOW - self.buf.len()).min(bytes.len());
            self.buf.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.buf.len() == WINDOW {
                let keep_from = self.search(p, false);
                if self.found == Found::Undecided {
                    self.slide(keep_from);
                }
            }
        }
    }

    /// The response is complete: whether the pattern matched (before `regex_no_match`).
    pub fn finish(&mut self, p: &Pattern) -> bool {
        if self.found == Found::Undecided {
            self.search(p, true);
        }
        self.found == Found::Yes
    }

    /// The last offset a match may start at.
    fn latest_start(&self, p: &Pattern) -> Option<u64> {
        let line = if p.firstline {
            self.first_newline
        } else {
            None
        };
        match (p.max_offset, line) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Searches the window; decides when it can. Returns where the window must keep
    /// from if a match was found too close to the end of the data to be sure of it.
    fn search(&mut self, p: &Pattern, last: bool) -> Option<usize> {
        let from_stream = p.min_offset.max(self.base + self.context as u64);
        let latest = self.latest_start(p);
        if latest.is_some_and(|l| from_stream > l) {
            self.found = Found::No;
            return None;
        }
        let from = usize::try_from(from_stream - self.base).unwrap_or(usize::MAX);
        if from > self.buf.len() {
            if last {
                self.found = Found::No;
            }
            return None;
        }
        match p.re.find_at(&self.buf, from) {
            Some(m) => {
                let start = self.base + m.start() as u64;
                if latest.is_some_and(|l| start > l) {
                    // The leftmost match starts too late; an earlier one might still
                    // complete with more data (it starts in the overlap, which is kept).
                    if last {
                        self.found = Found::No;
                    }
                    None
                } else if last || m.end() + LOOKAHEAD <= self.buf.len() {
                    self.found = Found::Yes;
                    None
                } else {
                    Some(m.start())
                }
            }
            None => {
                if last {
                    self.found = Found::No;
                }
                None
            }
        }
    }

    /// Drops the start of a full window, keeping the last `OVERLAP` bytes (or from
    /// `keep_from`, a match start waiting for its lookahead) and one byte of context.
    fn slide(&mut self, keep_from: Option<usize>) {
        let keep = keep_from
            .unwrap_or(usize::MAX)
            .min(self.buf.len() - OVERLAP);
        let cut = keep.saturating_sub(1);
        if cut == 0 {
            // A match as long as the window: it is a match, whatever follows.
            self.found = Found::Yes;
            return;
        }
        self.buf.drain(..cut);
        self.base += cut as u64;
        self.context = keep - cut;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pat(re: &str, opts: &[&str], min: Option<u32>, max: Option<u32>) -> Pattern {
        let opts: Vec<String> = opts.iter().map(|s| s.to_string()).collect();
        Pattern::compile(re, &opts, false, min, max)
            .unwrap()
            .pattern
    }

    fn matches(p: &Pattern, data: &[u8], step: usize) -> bool {
        let mut m = Matcher::new();
        for piece in data.chunks(step.max(1)) {
            m.feed(p, piece);
        }
        m.finish(p)
    }

    const RESP: &[u8] = b"HTTP/1.0 200 OK\r\nContent-Length: 11\r\n\r\nhello world";

    /// The outcomes keepalived 2.2.7 gave for this response (offsets count from the status
    /// line: `hello` starts at 39, `world` at 45).
    #[test]
    fn offsets_as_keepalived_counts_them() {
        let cases: &[(&str, Option<u32>, Option<u32>, bool)] = &[
            ("wor.d", None, None, true),
            ("xyz", None, None, false),
            ("world", None, Some(3), false),
            ("world", None, Some(44), false),
            ("world", None, Some(45), true),
            ("world", None, Some(49), true),
            ("hello", Some(1), None, true),
            ("hello", Some(39), None, true),
            ("hello", Some(40), None, false),
            ("world", Some(7), None, true),
            ("^hello", None, None, false),
            ("HTTP/1\\.0 200", None, None, true),
        ];
        for &(re, min, max, want) in cases {
            let p = pat(re, &[], min, max);
            for step in [1, 2, 5, RESP.len()] {
                assert_eq!(
                    matches(&p, RESP, step),
                    want,
                    "{re} {min:?} {max:?} step {step}"
                );
            }
        }
    }

    #[test]
    fn options() {
        assert!(!matches(&pat("HELLO", &[], None, None), RESP, 3));
        assert!(matches(&pat("HELLO", &["caseless"], None, None), RESP, 3));
        assert!(matches(&pat("^hello", &["multiline"], None, None), RESP, 3));
        assert!(!matches(&pat("OK.Content", &[], None, None), RESP, 3));
        assert!(matches(
            &pat("OK..Content", &["dotall"], None, None),
            RESP,
            3
        ));
        assert!(matches(
            &pat("hel lo # comment", &["extended"], None, None),
            RESP,
            3
        ));
        // firstline: only a match starting on the status line counts.
        assert!(matches(&pat("200", &["firstline"], None, None), RESP, 3));
        assert!(!matches(&pat("hello", &["firstline"], None, None), RESP, 3));
        let c = Pattern::compile(
            "x",
            &["alt_bsux".into(), "bogus".into(), "no_auto_capture".into()],
            false,
            None,
            None,
        )
        .unwrap();
        assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
        // PCRE-only syntax is refused with a message.
        let e = Pattern::compile("(?<=a)b", &[], false, None, None).unwrap_err();
        assert!(e.contains("not supported"), "{e}");
        for pcre_only in [
            "(a)\\1", "(?=a)", "(?!a)", "(?<!a)b", "(?>a)", "\\Ka", "\\C", "\\Qa\\E", "(?R)",
        ] {
            assert!(
                Pattern::compile(pcre_only, &[], false, None, None).is_err(),
                "{pcre_only}"
            );
        }
        // A possessive quantifier is read as a greedy one (PCRE2: `a++a` never matches).
        assert!(matches(&pat("a++a", &[], None, None), b"xaa", 1));
        // A non-ASCII literal matches its UTF-8 bytes.
        assert!(matches(
            &pat("caf\u{e9}", &[], None, None),
            "un caf\u{e9}".as_bytes(),
            1
        ));
        assert!(Pattern::compile("ab(c", &[], false, None, None).is_err());
        // Bytes that are not UTF-8 are searched like any others.
        assert!(matches(&pat("a.b", &[], None, None), b"xx a\xffb", 1));
    }

    /// A needle at the end of 3 MB is found (keepalived found it too), with at most one
    /// window kept.
    #[test]
    fn large_responses_are_searched_in_bounded_memory() {
        let mut data = b"HTTP/1.0 200 OK\r\n\r\n".to_vec();
        data.resize(3_000_000, b'a');
        data.extend_from_slice(b"needle");
        let p = pat("needle", &[], None, None);
        let mut m = Matcher::new();
        for piece in data.chunks(65536) {
            m.feed(&p, piece);
            assert!(m.buf.len() <= WINDOW);
        }
        assert!(m.finish(&p));
        assert!(!matches(&pat("needles", &[], None, None), &data, 65536));
        // A match straddling every possible window boundary, up to OVERLAP bytes long.
        let needle: Vec<u8> = std::iter::repeat(b'n').take(1000).chain(*b"END").collect();
        let p = pat("n{1000}END", &[], None, None);
        for at in (WINDOW - 1100..WINDOW + 10).step_by(37) {
            let mut d = vec![b'.'; at];
            d.extend_from_slice(&needle);
            d.resize(at + 300_000, b'.');
            for step in [1000, 4096, d.len()] {
                assert!(matches(&p, &d, step), "at {at} step {step}");
            }
        }
    }

    /// A word boundary right at a window edge is judged with the byte that follows.
    #[test]
    fn lookahead_across_the_window_edge() {
        let p = pat(r"word\b", &[], None, None);
        let mut d = vec![b'.'; WINDOW - 4];
        d.extend_from_slice(b"wordy and more");
        d.resize(WINDOW + 100, b'.');
        assert!(!matches(&p, &d, 4096));
        let mut d = vec![b'.'; WINDOW - 4];
        d.extend_from_slice(b"word. and more");
        assert!(matches(&p, &d, 4096));
        // `^` does not match again where a window was cut.
        let p = pat("^a", &[], None, None);
        let d = vec![b'a'; WINDOW * 3];
        assert!(matches(&p, &d, 7000));
        let mut d = vec![b'b'; WINDOW * 3];
        d.extend_from_slice(b"a");
        assert!(!matches(&p, &d, 7000));
    }

    #[test]
    fn max_offset_stops_the_search_early() {
        let p = pat("needle", &[], None, Some(10));
        let mut m = Matcher::new();
        m.feed(&p, &vec![b'x'; WINDOW * 2]);
        assert_eq!(m.found, Found::No);
        m.feed(&p, b"needle");
        assert!(!m.finish(&p));
    }
}
