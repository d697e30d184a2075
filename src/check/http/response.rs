//! Reads one HTTP response incrementally, with bounded buffering: the status line and
//! headers (parsed with httparse once the blank line has arrived, kept at most
//! [`MAX_HEAD`] bytes), then the body framed by `Transfer-Encoding: chunked`,
//! `Content-Length`, or the close of the connection. Nothing of the body is kept: each piece
//! is handed to the caller as it passes, both as it was on the wire and decoded.
//!
//! keepalived 2.2.7 itself reads every response to the close and hashes the bytes after
//! the header as they were on the wire (chunk framing included; `Content-Length` cuts
//! them); this reader gives the caller both the wire bytes and the decoded body, and says
//! when the body is complete by its framing.

use super::chunked::{ChunkError, ChunkedDecoder};
use std::fmt;

/// Largest status line + header section accepted.
pub const MAX_HEAD: usize = 64 * 1024;
/// Most header fields parsed.
const MAX_HEADERS: usize = 128;

/// The parsed status line and the headers that frame the body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    pub status: u16,
    /// A valid `Content-Length` (an invalid one is ignored: the body ends at the close).
    pub content_length: Option<u64>,
    /// The last transfer coding is `chunked`.
    pub chunked: bool,
}

/// What the reader hands on, in stream order.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    /// The head is complete: parsed, and its bytes as received.
    Head(&'a Head, &'a [u8]),
    /// Body bytes as they were on the wire (chunk framing included), up to the end of the
    /// body by its framing.
    Wire(&'a [u8]),
    /// Body bytes decoded (equal to `Wire` unless chunked).
    Body(&'a [u8]),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// The connection closed before a complete head arrived (keepalived: "Read, no data
    /// received").
    NoHead,
    /// The head is not an HTTP response (keepalived: "HTTP status code error").
    BadHead(String),
    /// No blank line within [`MAX_HEAD`] bytes.
    HeadTooLarge,
    /// The chunked framing is broken.
    Chunk(ChunkError),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::NoHead => f.write_str("no data received"),
            ReadError::BadHead(m) => write!(f, "bad HTTP response: {m}"),
            ReadError::HeadTooLarge => write!(f, "HTTP header larger than {MAX_HEAD} bytes"),
            ReadError::Chunk(e) => write!(f, "bad chunked body: {e}"),
        }
    }
}

#[derive(Debug)]
enum Framing {
    Length(u64),
    Chunked(ChunkedDecoder),
    Close,
}

#[derive(Debug)]
enum Phase {
    Head(Vec<u8>),
    Body(Framing),
    Complete,
    Failed(ReadError),
}

/// How the response ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// The body is complete by its framing (or by the close, for a close-delimited body).
    Complete,
    /// The connection closed inside a body framed by length or chunks: what arrived is
    /// what there is (keepalived judges it too).
    Truncated,
}

/// One response being read.
#[derive(Debug)]
pub struct ResponseReader {
    phase: Phase,
    head: Option<Head>,
}

impl Default for ResponseReader {
    fn default() -> Self {
        Self::new()
    }
}

impl ResponseReader {
    pub fn new() -> ResponseReader {
        ResponseReader {
            phase: Phase::Head(Vec::new()),
            head: None,
        }
    }

    /// The head, once parsed.
    pub fn head(&self) -> Option<&Head> {
        self.head.as_ref()
    }

    /// Takes the next bytes of the stream. `Ok(true)`: the body is complete by its framing
    /// (bytes after it are ignored); `Ok(false)`: more is needed.
    pub fn feed(
        &mut self,
        input: &[u8],
        sink: &mut dyn FnMut(Piece<'_>),
    ) -> Result<bool, ReadError> {
        match std::mem::replace(&mut self.phase, Phase::Complete) {
            Phase::Head(mut buf) => {
                let from = buf.len().saturating_sub(2);
                let room = MAX_HEAD + 2 - buf.len().min(MAX_HEAD + 2);
                buf.extend_from_slice(&input[..input.len().min(room)]);
                let Some(end) = blank_line_end(&buf, from) else {
                    if buf.len() > MAX_HEAD {
                        return self.fail(ReadError::HeadTooLarge);
                    }
                    self.phase = Phase::Head(buf);
                    return Ok(false);
                };
                let head = match parse_head(&buf[..end]) {
                    Ok(h) => h,
                    Err(e) => return self.fail(e),
                };
                sink(Piece::Head(&head, &buf[..end]));
                let framing = if head.chunked {
                    Framing::Chunked(ChunkedDecoder::new())
                } else if let Some(n) = head.content_length {
                    Framing::Length(n)
                } else {
                    Framing::Close
                };
                let empty = matches!(framing, Framing::Length(0));
                self.head = Some(head);
                if empty {
                    self.phase = Phase::Complete;
                    return Ok(true);
                }
                // The body bytes that came with the head: those of `buf` past `end`, and
                // those of `input` that did not fit into `buf`.
                let in_buf = buf.len() - end;
                let rest_start = input.len().min(room);
                self.phase = Phase::Body(framing);
                if in_buf > 0 && self.body(&buf[end..], sink)? {
                    return Ok(true);
                }
                if rest_start < input.len() {
                    return self.body(&input[rest_start..], sink);
                }
                Ok(matches!(self.phase, Phase::Complete))
            }
            Phase::Body(framing) => {
                self.phase = Phase::Body(framing);
                self.body(input, sink)
            }
            Phase::Complete => Ok(true),
            Phase::Failed(e) => {
                self.phase = Phase::Failed(e.clone());
                Err(e)
            }
        }
    }

    /// The peer closed the connection.
    pub fn close(&mut self) -> Result<Ending, ReadError> {
        match &self.phase {
            Phase::Head(_) => self.fail(ReadError::NoHead),
            Phase::Failed(e) => Err(e.clone()),
            Phase::Complete | Phase::Body(Framing::Close) => {
                self.phase = Phase::Complete;
                Ok(Ending::Complete)
            }
            Phase::Body(_) => {
                self.phase = Phase::Complete;
                Ok(Ending::Truncated)
            }
        }
    }

    fn fail<T>(&mut self, e: ReadError) -> Result<T, ReadError> {
        self.phase = Phase::Failed(e.clone());
        Err(e)
    }

    fn body(&mut self, input: &[u8], sink: &mut dyn FnMut(Piece<'_>)) -> Result<bool, ReadError> {
        let Phase::Body(framing) = &mut self.phase else {
            return Ok(matches!(self.phase, Phase::Complete));
        };
        let done = match framing {
            Framing::Close => {
                if !input.is_empty() {
                    sink(Piece::Wire(input));
                    sink(Piece::Body(input));
                }
                false
            }
            Framing::Length(left) => {
                let take = usize::try_from(*left).map_or(input.len(), |l| l.min(input.len()));
                if take > 0 {
                    sink(Piece::Wire(&input[..take]));
                    sink(Piece::Body(&input[..take]));
                }
                *left -= take as u64;
                *left == 0
            }
            Framing::Chunked(dec) => {
                let used = match dec.feed(input, &mut |b| sink(Piece::Body(b))) {
                    Ok(n) => n,
                    Err(e) => return self.fail(ReadError::Chunk(e)),
                };
                if used > 0 {
                    sink(Piece::Wire(&input[..used]));
                }
                dec.is_done()
            }
        };
        if done {
            self.phase = Phase::Complete;
        }
        Ok(done)
    }
}

/// The end of the head (just past its blank line), looking from `from` on: the first
/// `\n\r\n` or `\n\n`.
fn blank_line_end(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < buf.len() {
        if buf[i] == b'\n' {
            match buf.get(i + 1) {
                Some(b'\n') => return Some(i + 2),
                Some(b'\r') if buf.get(i + 2) == Some(&b'\n') => return Some(i + 3),
                _ => {}
            }
        }
        i += 1;
    }
    None
}

fn parse_head(raw: &[u8]) -> Result<Head, ReadError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    let mut cfg = httparse::ParserConfig::default();
    cfg.allow_obsolete_multiline_headers_in_responses(true)
        .allow_spaces_after_header_name_in_responses(true)
        .allow_multiple_spaces_in_response_status_delimiters(true);
    match cfg.parse_response(&mut resp, raw) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => {
            return Err(ReadError::BadHead("incomplete header".into()));
        }
        Err(e) => return Err(ReadError::BadHead(e.to_string())),
    }
    let status = resp
        .code
        .ok_or_else(|| ReadError::BadHead("no status code".into()))?;
    let mut content_length: Option<u64> = None;
    let mut length_conflict = false;
    let mut last_coding: Option<Vec<u8>> = None;
    for h in resp.headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            if let Some(n) = parse_length(h.value) {
                length_conflict |= content_length.is_some_and(|c| c != n);
                content_length = Some(n);
            }
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            if let Some(c) = h
                .value
                .split(|&b| b == b',')
                .map(trim)
                .rfind(|c| !c.is_empty())
            {
                last_coding = Some(c.to_ascii_lowercase());
            }
        }
    }
    if length_conflict {
        return Err(ReadError::BadHead(
            "conflicting Content-Length headers".into(),
        ));
    }
    Ok(Head {
        status,
        content_length,
        chunked: last_coding.as_deref() == Some(b"chunked"),
    })
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &b[start..end.max(start)]
}

/// A Content-Length value: decimal digits (surrounding blanks allowed), fitting a u64.
fn parse_length(v: &[u8]) -> Option<u64> {
    let v = trim(v);
    if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a reader made of `input` fed in `step`-byte pieces, then (if `close`) EOF.
    #[derive(Debug, PartialEq, Default)]
    struct Seen {
        head: Option<(Head, Vec<u8>)>,
        wire: Vec<u8>,
        body: Vec<u8>,
        complete_at_feed: bool,
        end: Option<Result<Ending, ReadError>>,
        error: Option<ReadError>,
    }

    fn read(input: &[u8], step: usize, close: bool) -> Seen {
        let mut r = ResponseReader::new();
        let mut s = Seen::default();
        for piece in input.chunks(step.max(1)) {
            let res = r.feed(piece, &mut |p| match p {
                Piece::Head(h, raw) => s.head = Some((h.clone(), raw.to_vec())),
                Piece::Wire(b) => s.wire.extend_from_slice(b),
                Piece::Body(b) => s.body.extend_from_slice(b),
            });
            match res {
                Ok(true) => {
                    s.complete_at_feed = true;
                    break;
                }
                Ok(false) => {}
                Err(e) => {
                    s.error = Some(e);
                    break;
                }
            }
        }
        if close && s.error.is_none() {
            s.end = Some(r.close());
        }
        s
    }

    /// The same result whatever the reads' sizes.
    fn read_all_splits(input: &[u8], close: bool) -> Seen {
        let whole = read(input, input.len().max(1), close);
        for step in 1..input.len() {
            assert_eq!(read(input, step, close), whole, "step {step}");
        }
        whole
    }

    #[test]
    fn content_length_ends_the_body_without_the_close() {
        let s = read_all_splits(
            b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello and more",
            false,
        );
        let (head, raw) = s.head.unwrap();
        assert_eq!(head.status, 200);
        assert_eq!(head.content_length, Some(5));
        assert_eq!(raw, b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\n");
        assert_eq!(s.body, b"hello");
        assert_eq!(s.wire, b"hello");
        assert!(s.complete_at_feed);
    }

    #[test]
    fn zero_length_is_complete_with_the_head() {
        let s = read_all_splits(b"HTTP/1.1 204 No\r\nContent-Length: 0\r\n\r\n", false);
        assert!(s.complete_at_feed);
        assert!(s.body.is_empty());
    }

    #[test]
    fn chunked_gives_wire_and_decoded_bytes() {
        let wire = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
        let input = [
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 3\r\n\r\n"
                .as_slice(),
            wire,
            b"junk after",
        ]
        .concat();
        let s = read_all_splits(&input, false);
        assert!(s.head.as_ref().unwrap().0.chunked);
        assert_eq!(s.body, b"hello world");
        assert_eq!(s.wire, wire);
        assert!(s.complete_at_feed);
    }

    #[test]
    fn close_delimited_needs_the_close() {
        let s = read_all_splits(b"HTTP/1.0 200 OK\nServer: x\n\nbody\nlines", true);
        assert_eq!(s.body, b"body\nlines");
        assert!(!s.complete_at_feed);
        assert_eq!(s.end, Some(Ok(Ending::Complete)));
    }

    #[test]
    fn truncated_bodies_are_what_arrived() {
        let s = read_all_splits(b"HTTP/1.0 200 OK\r\nContent-Length: 20\r\n\r\nhello", true);
        assert_eq!(s.body, b"hello");
        assert_eq!(s.end, Some(Ok(Ending::Truncated)));
        let s = read_all_splits(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
            true,
        );
        assert_eq!(s.body, b"hel");
        assert_eq!(s.end, Some(Ok(Ending::Truncated)));
    }

    #[test]
    fn errors() {
        let s = read_all_splits(b"HTTP/1.0 200 OK\r\nContent-Le", true);
        assert_eq!(s.end, Some(Err(ReadError::NoHead)));
        let s = read_all_splits(b"", true);
        assert_eq!(s.end, Some(Err(ReadError::NoHead)));
        let s = read_all_splits(b"XYZ garbage\r\n\r\nstuff", true);
        assert!(matches!(s.error, Some(ReadError::BadHead(_))), "{s:?}");
        let s = read_all_splits(b"HTTP/1.1 2000 OK\r\n\r\n", true);
        assert!(matches!(s.error, Some(ReadError::BadHead(_))), "{s:?}");
        let s = read(
            b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            3,
            true,
        );
        assert!(matches!(s.error, Some(ReadError::BadHead(_))), "{s:?}");
        let s = read_all_splits(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            true,
        );
        assert_eq!(s.error, Some(ReadError::Chunk(ChunkError::BadSize)));
        // An invalid Content-Length is ignored: the close ends the body.
        let s = read_all_splits(b"HTTP/1.0 200 OK\r\nContent-Length: 1x\r\n\r\nabc", true);
        assert_eq!(s.head.unwrap().0.content_length, None);
        assert_eq!(s.body, b"abc");
    }

    #[test]
    fn the_head_is_bounded() {
        let mut big = b"HTTP/1.0 200 OK\r\n".to_vec();
        while big.len() <= MAX_HEAD + 10 {
            big.extend_from_slice(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        }
        for step in [1000, 65536, big.len()] {
            let s = read(&big, step, true);
            assert_eq!(s.error, Some(ReadError::HeadTooLarge), "step {step}");
        }
        // A head just under the limit, whose blank line arrives in the last read.
        let mut ok = b"HTTP/1.0 200 OK\r\nX: ".to_vec();
        ok.resize(MAX_HEAD - 4, b'a');
        ok.extend_from_slice(b"\r\n\r\nbody");
        assert_eq!(ok.len(), MAX_HEAD + 4);
        let s = read(&ok, 4096, true);
        assert_eq!(s.body, b"body", "{:?}", s.error);
    }

    #[test]
    fn feeding_after_the_end_changes_nothing() {
        let mut r = ResponseReader::new();
        let mut n = 0;
        assert_eq!(
            r.feed(
                b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nab",
                &mut |_| n += 1
            ),
            Ok(true)
        );
        assert_eq!(r.feed(b"more", &mut |_| n += 1), Ok(true));
        assert_eq!(n, 3);
        assert_eq!(r.close(), Ok(Ending::Complete));
    }
}
