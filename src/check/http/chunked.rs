//! The `Transfer-Encoding: chunked` decoder (RFC 9112 §7.1) of the HTTP checker and
//! genhash: a byte-at-a-time state machine, so any split of the stream into reads gives
//! the same body, and bounded (chunk-size lines, extensions and trailers have limits; the
//! decoder keeps no data of its own).
//!
//! Lenient where servers are sloppy and it costs nothing: a bare LF ends a line, blanks may
//! follow the chunk size. Strict where the framing would be ambiguous: a size that is not
//! hex, a chunk not followed by its line end.

use std::fmt;

/// Longest chunk-extension part of a size line we skip, and longest trailer section.
const MAX_EXT: usize = 4096;
const MAX_TRAILERS: usize = 16 * 1024;
/// More hex digits than a u64 holds (leading zeros aside) is an error.
const MAX_SIZE_DIGITS: u8 = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChunkError {
    /// The chunk-size line is not hex digits (optionally followed by `;ext`).
    BadSize,
    /// A chunk's data is not followed by CRLF.
    MissingLineEnd,
    /// A size, extension or the trailer section is beyond the decoder's limits.
    TooLong,
}

impl fmt::Display for ChunkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChunkError::BadSize => "bad chunk size line",
            ChunkError::MissingLineEnd => "chunk data not followed by CRLF",
            ChunkError::TooLong => "chunk size, extension or trailers too long",
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// At the start of a size line: a hex digit must come.
    SizeStart,
    /// Reading hex digits.
    Size,
    /// Blanks after the digits.
    SizeBlank,
    /// Inside `;ext...` up to the LF (`usize`: bytes skipped so far).
    Ext(usize),
    /// Got CR of the size line.
    SizeCr,
    /// Inside a chunk's data (`u64`: bytes left).
    Data(u64),
    /// Right after a chunk's data: CR or LF must come.
    DataEnd,
    /// Got CR after the data.
    DataCr,
    /// In the trailer section: `line` bytes of the current line seen, `total` overall.
    Trailer { line: usize, total: usize },
    /// The last chunk and the trailers are done.
    Done,
}

/// Decodes one chunked body.
#[derive(Clone, Debug)]
pub struct ChunkedDecoder {
    state: State,
    size: u64,
    digits: u8,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkedDecoder {
    pub fn new() -> ChunkedDecoder {
        ChunkedDecoder {
            state: State::SizeStart,
            size: 0,
            digits: 0,
        }
    }

    /// The last chunk and its trailer section have been read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decodes from `input`, handing each piece of chunk data to `out`. Returns how many
    /// bytes of `input` belong to the chunked body: all of them, unless the body ended
    /// inside `input` (what follows is not part of it).
    pub fn feed(&mut self, input: &[u8], out: &mut dyn FnMut(&[u8])) -> Result<usize, ChunkError> {
        let mut i = 0;
        while i < input.len() {
            let b = input[i];
            match self.state {
                State::Done => return Ok(i),
                State::Data(left) => {
                    let avail = input.len() - i;
                    let take = usize::try_from(left).map_or(avail, |l| l.min(avail));
                    out(&input[i..i + take]);
                    i += take;
                    let left = left - take as u64;
                    self.state = if left == 0 {
                        State::DataEnd
                    } else {
                        State::Data(left)
                    };
                    continue;
                }
                State::SizeStart => match hex_value(b) {
                    Some(v) => {
                        self.size = u64::from(v);
                        self.digits = u8::from(v != 0);
                        self.state = State::Size;
                    }
                    None => return Err(ChunkError::BadSize),
                },
                State::Size => match hex_value(b) {
                    Some(v) => {
                        if self.digits > 0 || v != 0 {
                            self.digits += 1;
                        }
                        if self.digits > MAX_SIZE_DIGITS {
                            return Err(ChunkError::TooLong);
                        }
                        self.size = (self.size << 4) | u64::from(v);
                    }
                    None => self.after_size(b)?,
                },
                State::SizeBlank => self.after_size(b)?,
                State::Ext(n) => {
                    if b == b'\n' {
                        self.size_line_done();
                    } else if n >= MAX_EXT {
                        return Err(ChunkError::TooLong);
                    } else {
                        self.state = State::Ext(n + 1);
                    }
                }
                State::SizeCr => {
                    if b == b'\n' {
                        self.size_line_done();
                    } else {
                        return Err(ChunkError::BadSize);
                    }
                }
                State::DataEnd => match b {
                    b'\r' => self.state = State::DataCr,
                    b'\n' => self.state = State::SizeStart,
                    _ => return Err(ChunkError::MissingLineEnd),
                },
                State::DataCr => {
                    if b == b'\n' {
                        self.state = State::SizeStart;
                    } else {
                        return Err(ChunkError::MissingLineEnd);
                    }
                }
                State::Trailer { line, total } => {
                    if total >= MAX_TRAILERS {
                        return Err(ChunkError::TooLong);
                    }
                    self.state = match b {
                        b'\n' if line == 0 => State::Done,
                        b'\n' => State::Trailer {
                            line: 0,
                            total: total + 1,
                        },
                        b'\r' => State::Trailer {
                            line,
                            total: total + 1,
                        },
                        _ => State::Trailer {
                            line: line + 1,
                            total: total + 1,
                        },
                    };
                }
            }
            i += 1;
        }
        Ok(i)
    }

    /// A byte after the size digits (or blanks after them).
    fn after_size(&mut self, b: u8) -> Result<(), ChunkError> {
        match b {
            b' ' | b'\t' => self.state = State::SizeBlank,
            b';' => self.state = State::Ext(0),
            b'\r' => self.state = State::SizeCr,
            b'\n' => self.size_line_done(),
            _ => return Err(ChunkError::BadSize),
        }
        Ok(())
    }

    fn size_line_done(&mut self) {
        self.state = if self.size == 0 {
            State::Trailer { line: 0, total: 0 }
        } else {
            State::Data(self.size)
        };
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `input` fed in pieces of `step` bytes; the body, bytes consumed, done.
    fn decode(input: &[u8], step: usize) -> Result<(Vec<u8>, usize, bool), ChunkError> {
        let mut d = ChunkedDecoder::new();
        let mut body = Vec::new();
        let mut used = 0;
        for piece in input.chunks(step.max(1)) {
            let n = d.feed(piece, &mut |b| body.extend_from_slice(b))?;
            used += n;
            if n < piece.len() {
                break;
            }
        }
        Ok((body, used, d.is_done()))
    }

    const WIRE: &[u8] =
        b"5\r\nhello\r\n6;name=value\r\n world\r\n00A\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\nNEXT";

    #[test]
    fn every_split_gives_the_same_body() {
        for step in 1..=WIRE.len() {
            let (body, used, done) = decode(WIRE, step).unwrap();
            assert_eq!(body, b"hello world0123456789", "step {step}");
            assert!(done);
            assert_eq!(used, WIRE.len() - 4, "step {step}: NEXT is not body");
        }
        // Two pieces at every cut point.
        for cut in 0..=WIRE.len() {
            let mut d = ChunkedDecoder::new();
            let mut body = Vec::new();
            let a = d
                .feed(&WIRE[..cut], &mut |b| body.extend_from_slice(b))
                .unwrap();
            assert_eq!(a, cut.min(WIRE.len() - 4));
            d.feed(&WIRE[cut..], &mut |b| body.extend_from_slice(b))
                .unwrap();
            assert_eq!(body, b"hello world0123456789", "cut {cut}");
            assert!(d.is_done());
        }
    }

    #[test]
    fn lenient_line_ends_and_blanks() {
        let (body, _, done) = decode(b"3  \nabc\n3 ;x\r\ndef\r\n0\n\n", 2).unwrap();
        assert_eq!(body, b"abcdef");
        assert!(done);
    }

    #[test]
    fn not_done_until_the_trailers_end() {
        let (body, _, done) = decode(b"3\r\nabc\r\n0\r\n", 100).unwrap();
        assert_eq!(body, b"abc");
        assert!(!done);
        let (_, _, done) = decode(b"3\r\nabc\r\n0\r\nA: b\r\n", 100).unwrap();
        assert!(!done);
    }

    #[test]
    fn bad_framing_is_an_error_not_a_panic() {
        assert_eq!(decode(b"zz\r\n", 1), Err(ChunkError::BadSize));
        assert_eq!(decode(b"\r\n", 1), Err(ChunkError::BadSize));
        assert_eq!(decode(b"3\rX", 1), Err(ChunkError::BadSize));
        assert_eq!(decode(b"3x\r\n", 1), Err(ChunkError::BadSize));
        assert_eq!(decode(b"3\r\nabcd", 1), Err(ChunkError::MissingLineEnd));
        assert_eq!(decode(b"3\r\nabc\rX", 1), Err(ChunkError::MissingLineEnd));
        assert_eq!(
            decode(b"11111111111111111\r\n", 3),
            Err(ChunkError::TooLong)
        );
        // Leading zeros do not count against the size limit.
        let (body, _, done) = decode(b"000000000000000000000001\r\nz\r\n0\r\n\r\n", 5).unwrap();
        assert_eq!((body.as_slice(), done), (&b"z"[..], true));
        let long_ext = [b"1;".as_slice(), &[b'e'; MAX_EXT + 1], b"\r\n"].concat();
        assert_eq!(decode(&long_ext, 7), Err(ChunkError::TooLong));
        let long_trailer = [b"0\r\n".as_slice(), &[b't'; MAX_TRAILERS + 1]].concat();
        assert_eq!(decode(&long_trailer, 1000), Err(ChunkError::TooLong));
    }

    #[test]
    fn huge_declared_size_streams_without_allocating() {
        let mut d = ChunkedDecoder::new();
        let mut n = 0usize;
        d.feed(b"ffffffffffffffff\r\n", &mut |_| {}).unwrap();
        for _ in 0..100 {
            d.feed(&[0u8; 1000], &mut |b| n += b.len()).unwrap();
        }
        assert_eq!(n, 100_000);
        assert!(!d.is_done());
    }
}
