//! Reads SMTP replies (RFC 5321 §4.2) from a byte stream that arrives in pieces of any
//! size: `250-first line`, `250-more`, `250 last line`. Lines end with CRLF (a bare LF is
//! accepted too); a reply is complete at its line whose code is followed by a space (or by
//! nothing). Memory is bounded: a line longer than [`MAX_LINE`] bytes, a reply of more
//! than [`MAX_LINES`] lines, a line without a three-digit code, or a continuation line
//! whose code differs from the first is an error, and the reader stays failed.
//!
//! Used by the alert client (`smtp::client`) and by SMTP_CHECK (`check::smtp`).

use std::fmt;

/// Longest reply line accepted, CRLF included. RFC 5321 §4.5.3.1.5 says 512; real servers
/// sometimes send longer banners, so the text line limit (1000) is used.
pub const MAX_LINE: usize = 1000;
/// Most lines in one reply (EHLO answers have a dozen; nothing legitimate has 100).
pub const MAX_LINES: usize = 100;
/// Most complete replies held before the caller takes them (a client that sends one
/// command at a time never sees more than one).
pub const MAX_PENDING: usize = 16;

/// One complete reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit code (200..=599 for well-formed servers; any 100..=599 is kept).
    pub code: u16,
    /// The text of each line after the code and its separator, without the line end.
    pub lines: Vec<String>,
}

impl Reply {
    /// The first digit: 2 positive, 3 intermediate, 4 transient failure, 5 permanent.
    pub fn class(&self) -> u16 {
        self.code / 100
    }

    /// The text of the reply, lines joined by ` / ` (for logs).
    pub fn text(&self) -> String {
        self.lines.join(" / ")
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.lines.iter().all(|l| l.is_empty()) {
            write!(f, "{}", self.code)
        } else {
            write!(f, "{} {}", self.code, self.text())
        }
    }
}

/// Why the stream is not SMTP replies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplyError {
    /// A line (so far) longer than [`MAX_LINE`].
    LineTooLong,
    /// A reply of more than [`MAX_LINES`] lines.
    TooManyLines,
    /// More than [`MAX_PENDING`] replies nobody asked for.
    TooManyReplies,
    /// A line that does not start with a three-digit code 100-599 followed by ` `, `-`
    /// or the end of the line (the line, shortened, for the log).
    BadLine(String),
    /// A continuation line with another code than the reply's first line.
    CodeChanged { first: u16, then: u16 },
}

impl fmt::Display for ReplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplyError::LineTooLong => write!(f, "reply line longer than {MAX_LINE} bytes"),
            ReplyError::TooManyLines => write!(f, "reply of more than {MAX_LINES} lines"),
            ReplyError::TooManyReplies => {
                write!(f, "more than {MAX_PENDING} replies without a command")
            }
            ReplyError::BadLine(l) => write!(f, "not an SMTP reply line: {l:?}"),
            ReplyError::CodeChanged { first, then } => {
                write!(
                    f,
                    "reply code changed from {first} to {then} within one reply"
                )
            }
        }
    }
}

/// The incremental reader.
#[derive(Clone, Debug, Default)]
pub struct ReplyReader {
    /// The bytes of the line being received (no line end yet).
    partial: Vec<u8>,
    /// The lines of the reply being received.
    code: Option<u16>,
    lines: Vec<String>,
    /// Complete replies not taken yet.
    done: std::collections::VecDeque<Reply>,
    failed: Option<ReplyError>,
}

impl ReplyReader {
    pub fn new() -> ReplyReader {
        ReplyReader::default()
    }

    /// Feeds bytes from the stream. Complete replies are then available from
    /// [`ReplyReader::next_reply`]; an error is final (every later call returns it).
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), ReplyError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let r = self.push_inner(bytes);
        if let Err(e) = &r {
            self.failed = Some(e.clone());
            self.partial = Vec::new();
            self.lines = Vec::new();
        }
        r
    }

    fn push_inner(&mut self, mut bytes: &[u8]) -> Result<(), ReplyError> {
        while !bytes.is_empty() {
            match bytes.iter().position(|&b| b == b'\n') {
                Some(n) => {
                    if self.partial.len() + n + 1 > MAX_LINE {
                        return Err(ReplyError::LineTooLong);
                    }
                    self.partial.extend_from_slice(&bytes[..n]);
                    bytes = &bytes[n + 1..];
                    let mut line = std::mem::take(&mut self.partial);
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    }
                    self.line(&line)?;
                }
                None => {
                    // A line longer than the limit fails as soon as it is known to be
                    // (its end, CRLF, still to come).
                    if self.partial.len() + bytes.len() + 2 > MAX_LINE {
                        return Err(ReplyError::LineTooLong);
                    }
                    self.partial.extend_from_slice(bytes);
                    bytes = &[];
                }
            }
        }
        Ok(())
    }

    fn line(&mut self, line: &[u8]) -> Result<(), ReplyError> {
        let (code, last, text) = parse_line(line)?;
        match self.code {
            Some(first) if first != code => {
                return Err(ReplyError::CodeChanged { first, then: code });
            }
            _ => self.code = Some(code),
        }
        if self.lines.len() >= MAX_LINES {
            return Err(ReplyError::TooManyLines);
        }
        self.lines.push(text);
        if last {
            if self.done.len() >= MAX_PENDING {
                return Err(ReplyError::TooManyReplies);
            }
            self.code = None;
            self.done.push_back(Reply {
                code,
                lines: std::mem::take(&mut self.lines),
            });
        }
        Ok(())
    }

    /// The oldest complete reply not taken yet.
    pub fn next_reply(&mut self) -> Option<Reply> {
        self.done.pop_front()
    }

    /// Bytes of an incomplete reply are waiting (a line or lines without the last one).
    pub fn mid_reply(&self) -> bool {
        !self.partial.is_empty() || !self.lines.is_empty()
    }
}

/// (code, is the last line, text) of one line without its end.
fn parse_line(line: &[u8]) -> Result<(u16, bool, String), ReplyError> {
    let bad = || {
        let shown: String = String::from_utf8_lossy(&line[..line.len().min(80)]).into_owned();
        ReplyError::BadLine(shown)
    };
    let digits = line.get(..3).ok_or_else(bad)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    let code = digits
        .iter()
        .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
    if !(100..=599).contains(&code) {
        return Err(bad());
    }
    let (last, rest) = match line.get(3) {
        None => (true, &[][..]),
        Some(b' ') => (true, &line[4..]),
        Some(b'-') => (false, &line[4..]),
        Some(_) => return Err(bad()),
    };
    Ok((code, last, String::from_utf8_lossy(rest).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(r: &mut ReplyReader) -> Vec<Reply> {
        std::iter::from_fn(|| r.next_reply()).collect()
    }

    #[test]
    fn single_and_multi_line_replies_in_any_pieces() {
        let stream =
            b"220 mail.example ESMTP ready\r\n250-mail.example\r\n250-SIZE 1000\r\n250 HELP\r\n";
        for cut in 1..stream.len() {
            let mut r = ReplyReader::new();
            for piece in stream.chunks(cut) {
                r.push(piece).unwrap();
            }
            let got = all(&mut r);
            assert_eq!(got.len(), 2, "pieces of {cut}");
            assert_eq!(got[0].code, 220);
            assert_eq!(got[0].lines, vec!["mail.example ESMTP ready"]);
            assert_eq!(got[1].code, 250);
            assert_eq!(got[1].lines, vec!["mail.example", "SIZE 1000", "HELP"]);
            assert!(!r.mid_reply());
        }
    }

    #[test]
    fn bare_lf_and_code_only_lines() {
        let mut r = ReplyReader::new();
        r.push(b"354\n221 bye\n").unwrap();
        let got = all(&mut r);
        assert_eq!(got[0].code, 354);
        assert_eq!(got[0].lines, vec![String::new()]);
        assert_eq!(got[0].to_string(), "354");
        assert_eq!(got[1].to_string(), "221 bye");
        assert_eq!(got[1].class(), 2);
    }

    #[test]
    fn incomplete_reply_waits() {
        let mut r = ReplyReader::new();
        r.push(b"250-one\r\n250 tw").unwrap();
        assert!(r.next_reply().is_none());
        assert!(r.mid_reply());
        r.push(b"o\r\n").unwrap();
        assert_eq!(r.next_reply().unwrap().lines, vec!["one", "two"]);
    }

    #[test]
    fn malformed_lines_are_errors_and_stay_errors() {
        for bad in [
            &b"hello\r\n"[..],
            b"25\r\n",
            b"2x0 no\r\n",
            b"250+x\r\n",
            b"099 low\r\n",
            b"600 high\r\n",
            b"\r\n",
        ] {
            let mut r = ReplyReader::new();
            let e = r.push(bad).unwrap_err();
            assert!(matches!(e, ReplyError::BadLine(_)), "{bad:?}: {e}");
            assert_eq!(r.push(b"250 ok\r\n").unwrap_err(), e, "the error is final");
            assert!(r.next_reply().is_none());
        }
    }

    #[test]
    fn code_change_within_a_reply() {
        let mut r = ReplyReader::new();
        let e = r.push(b"250-a\r\n251 b\r\n").unwrap_err();
        assert_eq!(
            e,
            ReplyError::CodeChanged {
                first: 250,
                then: 251
            }
        );
        assert!(e.to_string().contains("250 to 251"));
    }

    #[test]
    fn bounds() {
        // Exactly the longest line is fine, one byte more is not, whether or not its end
        // has arrived.
        let mut ok = b"250 ".to_vec();
        ok.resize(MAX_LINE - 2, b'x');
        ok.extend_from_slice(b"\r\n");
        let mut r = ReplyReader::new();
        r.push(&ok).unwrap();
        assert_eq!(r.next_reply().unwrap().lines[0].len(), MAX_LINE - 6);

        let mut long = b"250 ".to_vec();
        long.resize(MAX_LINE - 1, b'x');
        let mut r = ReplyReader::new();
        assert_eq!(r.push(&long).unwrap_err(), ReplyError::LineTooLong);
        let mut r = ReplyReader::new();
        for b in long.chunks(7) {
            if r.push(b).is_err() {
                break;
            }
        }
        assert_eq!(r.push(b"\r\n").unwrap_err(), ReplyError::LineTooLong);

        let mut many = Vec::new();
        for _ in 0..MAX_LINES {
            many.extend_from_slice(b"250-x\r\n");
        }
        let mut r = ReplyReader::new();
        r.push(&many).unwrap();
        assert_eq!(r.push(b"250 x\r\n").unwrap_err(), ReplyError::TooManyLines);

        let mut r = ReplyReader::new();
        let flood = b"250 x\r\n".repeat(MAX_PENDING + 1);
        assert_eq!(r.push(&flood).unwrap_err(), ReplyError::TooManyReplies);
    }

    #[test]
    fn never_panics_on_arbitrary_bytes() {
        // A small deterministic generator over bytes that matter to the parser.
        let alphabet = b"0123456789 -\r\nab\xff";
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..2000 {
            let mut r = ReplyReader::new();
            let mut input = Vec::new();
            for _ in 0..64 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                input.push(alphabet[(x % alphabet.len() as u64) as usize]);
            }
            let _ = r.push(&input);
            while r.next_reply().is_some() {}
        }
    }
}
