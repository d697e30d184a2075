//! DNS_CHECK as a dialogue: one query over connected UDP, the reply judged as keepalived
//! 2.2.7 judges it (same id, QR set, RCODE 0, at least one answer record). A datagram with
//! another id is not ours and is ignored (the dialogue keeps waiting for the timeout).
//!
//! Parsing is bounded and compression-safe: every read is checked against the datagram,
//! a name is at most 255 bytes and follows at most 16 compression pointers, and only the
//! question and the answer records' framing are walked.

use crate::check::dialogue::{Dialogue, Step, Verdict};
use crate::event::Transport;

/// The query types keepalived supports, with their codes.
pub const TYPES: &[(&str, u16)] = &[
    ("A", 1),
    ("NS", 2),
    ("CNAME", 5),
    ("SOA", 6),
    ("MX", 15),
    ("TXT", 16),
    ("AAAA", 28),
];

const HEADER: usize = 12;
const MAX_POINTERS: usize = 16;
const MAX_NAME: usize = 255;

/// The code of a query type name (case-insensitive); `None` for an unsupported type.
pub fn qtype_code(qtype: &str) -> Option<u16> {
    TYPES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(qtype))
        .map(|&(_, c)| c)
}

/// Encodes `name` in DNS label form. "." (or "") is the root; a label longer than 63
/// bytes is cut to 63, empty labels (".." ) are skipped, and the whole name is bounded to
/// 255 bytes, so any string gives a well-formed name.
pub fn encode_name(name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for label in name.split('.').filter(|l| !l.is_empty()) {
        let bytes = &label.as_bytes()[..label.len().min(63)];
        if out.len() + 1 + bytes.len() + 1 > MAX_NAME {
            break;
        }
        out.push(bytes.len() as u8);
        out.extend_from_slice(bytes);
    }
    out.push(0);
    out
}

/// A DNS query message: id, RD set, one question of class IN.
pub fn build_query(id: u16, qtype: u16, name: &str) -> Vec<u8> {
    let mut q = Vec::with_capacity(HEADER + 64);
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&0x0100u16.to_be_bytes()); // RD
    q.extend_from_slice(&1u16.to_be_bytes()); // QDCOUNT
    q.extend_from_slice(&[0, 0, 0, 0, 0, 0]); // AN, NS, AR
    q.extend_from_slice(&encode_name(name));
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&1u16.to_be_bytes()); // IN
    q
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([s[0], s[1]]))
}

/// Skips the name starting at `at`, following compression pointers within bounds;
/// answers the offset just after the name as it appears at `at`.
pub fn skip_name(msg: &[u8], mut at: usize) -> Result<usize, &'static str> {
    let mut end = None;
    let mut pointers = 0;
    let mut len = 0usize;
    loop {
        let b = *msg.get(at).ok_or("name runs past the end")?;
        match b & 0xC0 {
            0x00 => {
                if b == 0 {
                    return Ok(end.unwrap_or(at + 1));
                }
                len += b as usize + 1;
                if len > MAX_NAME {
                    return Err("name longer than 255 bytes");
                }
                at += 1 + b as usize;
            }
            0xC0 => {
                let lo = *msg.get(at + 1).ok_or("name runs past the end")?;
                if end.is_none() {
                    end = Some(at + 2);
                }
                pointers += 1;
                if pointers > MAX_POINTERS {
                    return Err("too many compression pointers");
                }
                at = (((b & 0x3F) as usize) << 8) | lo as usize;
            }
            _ => return Err("bad label type"),
        }
    }
}

/// Judges one reply datagram to the query `id`/`qtype`: `None` if it is not ours (too
/// short for a header, or another id), else the verdict.
pub fn judge_reply(msg: &[u8], id: u16, qtype: u16) -> Option<Verdict> {
    if msg.len() < HEADER || u16_at(msg, 0)? != id {
        return None;
    }
    let down = |m: &str| Some(Verdict::Down(m.to_string()));
    let flags = u16_at(msg, 2)?;
    if flags & 0x8000 == 0 {
        return down("DNS reply is a query (QR not set)");
    }
    let rcode = flags & 0x000F;
    if rcode != 0 {
        return down(&format!("DNS reply RCODE {rcode}"));
    }
    let qd = u16_at(msg, 4)?;
    let an = u16_at(msg, 6)?;
    if an == 0 {
        return down("DNS reply has no answer");
    }
    let mut at = HEADER;
    for _ in 0..qd {
        at = match skip_name(msg, at) {
            Ok(a) => a,
            Err(e) => return down(&format!("malformed DNS reply: {e}")),
        };
        match u16_at(msg, at) {
            Some(t) if t == qtype => {}
            Some(_) => return down("DNS reply question has another type"),
            None => return down("malformed DNS reply: question runs past the end"),
        }
        at += 4;
        if at > msg.len() {
            return down("malformed DNS reply: question runs past the end");
        }
    }
    // The first answer record must be complete.
    let at = match skip_name(msg, at) {
        Ok(a) => a,
        Err(e) => return down(&format!("malformed DNS reply: {e}")),
    };
    let rdlen = match u16_at(msg, at + 8) {
        Some(l) => l as usize,
        None => return down("malformed DNS reply: answer runs past the end"),
    };
    if at + 10 + rdlen > msg.len() {
        return down("malformed DNS reply: answer runs past the end");
    }
    Some(Verdict::Up)
}

/// One DNS_CHECK query.
#[derive(Clone, Debug)]
pub struct DnsDialogue {
    id: u16,
    qtype: u16,
    query: Vec<u8>,
}

impl DnsDialogue {
    /// A query of `qtype` (an unsupported type falls back to keepalived's default, SOA;
    /// the configuration refuses such types already) for `name` with id `query_id`.
    pub fn new(qtype: &str, name: &str, query_id: u16) -> Self {
        let qtype = qtype_code(qtype).unwrap_or(6);
        DnsDialogue {
            id: query_id,
            qtype,
            query: build_query(query_id, qtype, name),
        }
    }
}

impl Dialogue for DnsDialogue {
    fn transport(&self) -> Transport {
        Transport::Udp
    }
    fn connected(&mut self) -> Step {
        Step::Send(self.query.clone())
    }
    fn data(&mut self, bytes: &[u8]) -> Step {
        match judge_reply(bytes, self.id, self.qtype) {
            Some(v) => Step::Done(v),
            None => Step::Wait,
        }
    }
    fn closed(&mut self) -> Verdict {
        Verdict::Down("DNS socket closed".into())
    }
}

/// Fuzz entry point: a reply judged against id 0x1234 for each type; never panics.
pub fn fuzz_dns_reply(data: &[u8]) {
    for &(_, t) in TYPES {
        let _ = judge_reply(data, 0x1234, t);
    }
    let _ = skip_name(data, 0);
    let mut d = DnsDialogue::new("A", &String::from_utf8_lossy(data), 0x1234);
    let _ = d.connected();
    let _ = d.data(data);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reply to `query` with `rcode` and `answers` A records (compressed owner name).
    fn reply(query: &[u8], rcode: u8, answers: u16) -> Vec<u8> {
        let mut r = query.to_vec();
        r[2] = 0x81;
        r[3] = 0x80 | rcode;
        r[6..8].copy_from_slice(&answers.to_be_bytes());
        for _ in 0..answers {
            r.extend_from_slice(&[0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1]);
        }
        r
    }

    #[test]
    fn query_has_keepalived_shape() {
        let q = build_query(0xBEEF, 1, "www.example.com");
        assert_eq!(&q[..12], &[0xBE, 0xEF, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&q[12..29], b"\x03www\x07example\x03com\x00");
        assert_eq!(&q[29..], &[0, 1, 0, 1]);
        assert_eq!(build_query(1, 6, ".")[12..], [0, 0, 6, 0, 1]);
        for (n, c) in TYPES {
            assert_eq!(qtype_code(&n.to_lowercase()), Some(*c));
        }
        assert_eq!(qtype_code("PTR"), None);
    }

    #[test]
    fn odd_names_encode_bounded() {
        assert_eq!(encode_name(""), vec![0]);
        assert_eq!(encode_name("a..b."), b"\x01a\x01b\x00".to_vec());
        let long = "x".repeat(100);
        assert_eq!(encode_name(&long)[0], 63);
        let huge = format!("{}.", "abc.".repeat(200));
        assert!(encode_name(&huge).len() <= 255);
    }

    #[test]
    fn good_reply_is_up() {
        let mut d = DnsDialogue::new("A", "example.com", 7);
        assert_eq!(d.transport(), Transport::Udp);
        let Step::Send(q) = d.connected() else {
            panic!("no query")
        };
        assert_eq!(d.data(&reply(&q, 0, 1)), Step::Done(Verdict::Up));
    }

    #[test]
    fn nxdomain_no_answer_and_query_are_down() {
        let q = build_query(7, 1, "example.com");
        let mut d = DnsDialogue::new("A", "example.com", 7);
        assert!(
            matches!(d.data(&reply(&q, 3, 0)), Step::Done(Verdict::Down(m)) if m.contains("RCODE 3"))
        );
        assert!(
            matches!(d.data(&reply(&q, 0, 0)), Step::Done(Verdict::Down(m)) if m.contains("no answer"))
        );
        assert!(matches!(d.data(&q), Step::Done(Verdict::Down(m)) if m.contains("QR")));
    }

    #[test]
    fn wrong_id_and_runts_are_ignored() {
        let q = build_query(8, 1, "example.com");
        let mut d = DnsDialogue::new("A", "example.com", 7);
        assert_eq!(d.data(&reply(&q, 0, 1)), Step::Wait);
        assert_eq!(d.data(&[0, 7, 0x81]), Step::Wait);
        assert_eq!(d.data(&[]), Step::Wait);
        assert!(matches!(d.timed_out(), Verdict::Down(_)));
    }

    #[test]
    fn question_of_another_type_is_down() {
        let q = build_query(7, 28, "example.com");
        let mut d = DnsDialogue::new("A", "example.com", 7);
        assert!(matches!(
            d.data(&reply(&q, 0, 1)),
            Step::Done(Verdict::Down(_))
        ));
    }

    #[test]
    fn hostile_replies_are_down_not_panics() {
        let q = build_query(7, 1, "a");
        let good = reply(&q, 0, 1);
        // Truncations of a good reply at every length.
        for n in 12..good.len() {
            let v = judge_reply(&good[..n], 7, 1);
            assert!(matches!(v, Some(Verdict::Down(_))), "len {n}: {v:?}");
        }
        // A pointer loop in the question.
        let mut lp = vec![0, 7, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
        lp.extend_from_slice(&[0xC0, 12, 0, 1, 0, 1]);
        assert!(matches!(judge_reply(&lp, 7, 1), Some(Verdict::Down(m)) if m.contains("pointers")));
        // A pointer out of the message, a reserved label type, a huge count.
        let mut out = lp.clone();
        out[13] = 0xFF;
        assert!(matches!(judge_reply(&out, 7, 1), Some(Verdict::Down(_))));
        let mut res = lp.clone();
        res[12] = 0x80;
        assert!(matches!(judge_reply(&res, 7, 1), Some(Verdict::Down(m)) if m.contains("label")));
        let mut many = good.clone();
        many[4] = 0xFF;
        assert!(matches!(judge_reply(&many, 7, 1), Some(Verdict::Down(_))));
        // A name of 300 bytes of labels.
        let mut long = vec![0, 7, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
        for _ in 0..10 {
            long.push(30);
            long.extend_from_slice(&[b'a'; 30]);
        }
        long.push(0);
        assert!(matches!(judge_reply(&long, 7, 1), Some(Verdict::Down(m)) if m.contains("255")));
        fuzz_dns_reply(&long);
        fuzz_dns_reply(&[0xFF; 40]);
    }
}
