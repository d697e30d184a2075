//! A simulated DNS server (`server NAME dns`): answers a query for a configured name (any
//! name when none is configured) with one record of the queried type, and any other name
//! with NXDOMAIN; in the `wrong` mode every answer is NXDOMAIN. A datagram that is not a
//! well-formed query gets no answer.

use super::service::{Answer, Service};

/// The service of one DNS server.
#[derive(Clone, Debug, Default)]
pub struct DnsService {
    /// Lower-case names without the trailing dot; empty: every name.
    names: Vec<String>,
}

impl DnsService {
    pub fn new(names: Vec<String>) -> Self {
        DnsService {
            names: names
                .into_iter()
                .map(|n| n.trim_end_matches('.').to_ascii_lowercase())
                .collect(),
        }
    }
}

/// The question's name (lower case, no trailing dot) and where the question ends.
fn question(q: &[u8]) -> Option<(String, usize)> {
    let mut at = 12;
    let mut labels: Vec<String> = Vec::new();
    loop {
        let n = *q.get(at)? as usize;
        if n == 0 {
            at += 1;
            break;
        }
        if n > 63 {
            return None;
        }
        labels.push(String::from_utf8_lossy(q.get(at + 1..at + 1 + n)?).to_ascii_lowercase());
        at += 1 + n;
    }
    q.get(at..at + 4)?;
    Some((labels.join("."), at + 4))
}

impl Service for DnsService {
    fn greeting(&mut self, _wrong: bool) -> Option<Answer> {
        None
    }
    fn answer(&mut self, q: &[u8], wrong: bool) -> Option<Answer> {
        if q.len() < 12 || q[2] & 0x80 != 0 || q[4..6] != [0, 1] {
            return None;
        }
        let (name, end) = question(q)?;
        let qtype = u16::from_be_bytes([q[end - 4], q[end - 3]]);
        let known = self.names.is_empty() || self.names.contains(&name);
        let mut r = q[..end].to_vec();
        r[2] = 0x80 | (q[2] & 0x01); // QR, RD copied
        r[6..12].copy_from_slice(&[0; 6]);
        if wrong || !known {
            r[3] = 0x83; // RA, NXDOMAIN
        } else {
            r[3] = 0x80;
            r[7] = 1;
            let rdata: &[u8] = match qtype {
                1 => &[10, 0, 0, 1],
                28 => &[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
                _ => &[0xC0, 12],
            };
            r.extend_from_slice(&[0xC0, 12]);
            r.extend_from_slice(&qtype.to_be_bytes());
            r.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
            r.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
            r.extend_from_slice(rdata);
        }
        Some(Answer {
            bytes: r,
            close: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::dialogue::{Dialogue, Step, Verdict};
    use crate::check::dns::DnsDialogue;

    fn ask(svc: &mut DnsService, qtype: &str, name: &str, wrong: bool) -> Step {
        let mut d = DnsDialogue::new(qtype, name, 99);
        let Step::Send(q) = d.connected() else {
            panic!()
        };
        d.data(&svc.answer(&q, wrong).expect("an answer").bytes)
    }

    #[test]
    fn answers_configured_names_for_every_type() {
        let mut s = DnsService::new(vec!["www.example.com.".into()]);
        for (t, _) in crate::check::dns::TYPES {
            assert_eq!(
                ask(&mut s, t, "WWW.example.com", false),
                Step::Done(Verdict::Up),
                "{t}"
            );
        }
        assert!(matches!(
            ask(&mut s, "A", "other.com", false),
            Step::Done(Verdict::Down(_))
        ));
        assert!(matches!(
            ask(&mut s, "A", "www.example.com", true),
            Step::Done(Verdict::Down(_))
        ));
        assert_eq!(
            ask(&mut DnsService::default(), "SOA", ".", false),
            Step::Done(Verdict::Up)
        );
    }

    #[test]
    fn junk_gets_no_answer() {
        let mut s = DnsService::default();
        assert_eq!(s.answer(b"", false), None);
        assert_eq!(s.answer(&[0; 12], false), None);
        assert_eq!(
            s.answer(&[0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 70], false),
            None
        );
    }
}
