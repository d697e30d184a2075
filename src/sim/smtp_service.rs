//! A simulated SMTP server (a mail sink) for SMTP alerts and SMTP_CHECK scenarios:
//! implements [`Service`](super::service::Service). It greets with `220`, answers `HELO` /
//! `EHLO`, `MAIL FROM`, `RCPT TO`, `DATA` (then takes the message up to the `.` line),
//! `RSET`, `NOOP` and `QUIT` as a real server does, and records each message it accepted
//! ([`SmtpSink::delivered`]: envelope, subject, the whole text) for scenario assertions.
//! In the scenario's `wrong` mode every answer is a 5xx (`554` banner, `550`/`554`
//! replies), so SMTP_CHECK fails and an alert is refused for good.
//!
//! Bounded: a command line longer than [`MAX_LINE`] gets `500` and is dropped, a message
//! larger than [`MAX_MESSAGE`] gets `552` and is not recorded, and at most
//! [`MAX_RECIPIENTS`] recipients are taken (`452` after that).

use super::service::{Answer, Service};

/// Longest command line kept (RFC 5321: 512 octets; text lines 1000).
pub const MAX_LINE: usize = 1000;
/// Largest message accepted.
pub const MAX_MESSAGE: usize = 1 << 20;
/// Most recipients of one message.
pub const MAX_RECIPIENTS: usize = 100;

/// One message the sink accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    /// The `HELO` / `EHLO` argument.
    pub helo: String,
    /// The `MAIL FROM:` address (without the angle brackets).
    pub from: String,
    pub to: Vec<String>,
    /// The `Subject:` header's value, if any.
    pub subject: Option<String>,
    /// The message as received, dot-stuffing undone, lines joined with `\n`.
    pub text: String,
}

/// Where the conversation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Commands,
    /// Between `DATA`'s 354 and the `.` line.
    Data,
    Closed,
}

/// One connection's worth of SMTP server.
#[derive(Clone, Debug)]
pub struct SmtpSink {
    /// The host name in the greeting and the HELO answer.
    name: String,
    phase: Phase,
    /// The bytes of a line not complete yet.
    line: Vec<u8>,
    /// The current line is too long: dropped up to its end.
    overlong: bool,
    helo: String,
    from: Option<String>,
    to: Vec<String>,
    data: Vec<String>,
    data_len: usize,
    too_big: bool,
    delivered: Vec<Mail>,
}

impl SmtpSink {
    /// A sink that names itself `name` (`220 name ESMTP ...`).
    pub fn new(name: &str) -> SmtpSink {
        SmtpSink {
            name: name.to_string(),
            phase: Phase::Commands,
            line: Vec::new(),
            overlong: false,
            helo: String::new(),
            from: None,
            to: Vec::new(),
            data: Vec::new(),
            data_len: 0,
            too_big: false,
            delivered: Vec::new(),
        }
    }

    /// The messages accepted on this connection, in order.
    pub fn delivered(&self) -> &[Mail] {
        &self.delivered
    }

    /// The messages accepted since the last call (what the simulator traces).
    pub fn take_delivered(&mut self) -> Vec<Mail> {
        std::mem::take(&mut self.delivered)
    }

    fn reset(&mut self) {
        self.from = None;
        self.to.clear();
        self.data.clear();
        self.data_len = 0;
        self.too_big = false;
    }

    /// The answer to one command line (without its end).
    fn command(&mut self, line: &str, wrong: bool, out: &mut String) -> bool {
        let upper = line.to_ascii_uppercase();
        let verb = upper.split_whitespace().next().unwrap_or("");
        if verb == "QUIT" {
            out.push_str("221 2.0.0 Bye\r\n");
            self.phase = Phase::Closed;
            return true;
        }
        if wrong {
            out.push_str("554 5.3.0 Service unavailable\r\n");
            return false;
        }
        let arg = |prefix: &str| -> Option<String> {
            let rest = line.get(prefix.len()..)?.trim();
            let rest = rest.strip_prefix('<').unwrap_or(rest);
            let end = rest.find('>').unwrap_or(rest.len());
            Some(rest[..end].trim().to_string())
        };
        match verb {
            "HELO" | "EHLO" => {
                self.helo = line.get(4..).unwrap_or("").trim().to_string();
                self.reset();
                out.push_str(&format!("250 {} Hello {}\r\n", self.name, self.helo));
            }
            "MAIL" if upper.starts_with("MAIL FROM:") => {
                if self.helo.is_empty() {
                    out.push_str("503 5.5.1 Send HELO first\r\n");
                } else {
                    self.reset();
                    self.from = arg("MAIL FROM:");
                    out.push_str("250 2.1.0 Ok\r\n");
                }
            }
            "RCPT" if upper.starts_with("RCPT TO:") => {
                if self.from.is_none() {
                    out.push_str("503 5.5.1 Need MAIL first\r\n");
                } else if self.to.len() >= MAX_RECIPIENTS {
                    out.push_str("452 4.5.3 Too many recipients\r\n");
                } else {
                    self.to.push(arg("RCPT TO:").unwrap_or_default());
                    out.push_str("250 2.1.5 Ok\r\n");
                }
            }
            "DATA" => {
                if self.to.is_empty() {
                    out.push_str("503 5.5.1 Need RCPT first\r\n");
                } else {
                    self.phase = Phase::Data;
                    out.push_str("354 End data with <CR><LF>.<CR><LF>\r\n");
                }
            }
            "RSET" => {
                self.reset();
                out.push_str("250 2.0.0 Ok\r\n");
            }
            "NOOP" => out.push_str("250 2.0.0 Ok\r\n"),
            _ => out.push_str("500 5.5.2 Command not recognized\r\n"),
        }
        false
    }

    /// One line of the message (without its end).
    fn data_line(&mut self, line: &str, wrong: bool, out: &mut String) {
        if line == "." {
            self.phase = Phase::Commands;
            if wrong {
                out.push_str("554 5.6.0 Message rejected\r\n");
            } else if self.too_big {
                out.push_str("552 5.3.4 Message too big\r\n");
            } else {
                let text = self.data.join("\n");
                let subject = self
                    .data
                    .iter()
                    .take_while(|l| !l.is_empty())
                    .find_map(|l| l.strip_prefix("Subject: ").map(str::to_string));
                self.delivered.push(Mail {
                    helo: self.helo.clone(),
                    from: self.from.clone().unwrap_or_default(),
                    to: self.to.clone(),
                    subject,
                    text,
                });
                out.push_str("250 2.0.0 Ok: queued\r\n");
            }
            self.reset();
            return;
        }
        let line = line.strip_prefix('.').unwrap_or(line);
        self.data_len += line.len() + 2;
        if self.data_len > MAX_MESSAGE {
            self.too_big = true;
            self.data.clear();
        } else {
            self.data.push(line.to_string());
        }
    }
}

impl Service for SmtpSink {
    fn greeting(&mut self, wrong: bool) -> Option<Answer> {
        let text = if wrong {
            "554 5.3.2 No SMTP service here\r\n".to_string()
        } else {
            format!("220 {} ESMTP simulated\r\n", self.name)
        };
        Some(Answer {
            bytes: text.into_bytes(),
            close: false,
        })
    }

    fn answer(&mut self, input: &[u8], wrong: bool) -> Option<Answer> {
        let mut out = String::new();
        let mut close = false;
        for &b in input {
            if self.phase == Phase::Closed {
                break;
            }
            if b != b'\n' {
                if self.line.len() >= MAX_LINE {
                    self.overlong = true;
                } else {
                    self.line.push(b);
                }
                continue;
            }
            let mut raw = std::mem::take(&mut self.line);
            if raw.last() == Some(&b'\r') {
                raw.pop();
            }
            let line = String::from_utf8_lossy(&raw).into_owned();
            if std::mem::take(&mut self.overlong) {
                if self.phase == Phase::Commands {
                    out.push_str("500 5.5.6 Line too long\r\n");
                } else {
                    self.too_big = true;
                }
                continue;
            }
            match self.phase {
                Phase::Commands => close |= self.command(&line, wrong, &mut out),
                Phase::Data => self.data_line(&line, wrong, &mut out),
                Phase::Closed => {}
            }
        }
        if out.is_empty() && !close {
            return None;
        }
        Some(Answer {
            bytes: out.into_bytes(),
            close,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::dialogue::{Dialogue, Step, Verdict};
    use crate::smtp::client::{Client, Envelope, Step as CStep};
    use crate::smtp::message::Message;

    /// Runs the alert client against the sink, byte for byte; returns the client.
    fn deliver(sink: &mut SmtpSink, wrong: bool, body: &str) -> Client {
        let mut c = Client::new(Envelope {
            helo: "r1".into(),
            message: Message {
                date: "Thu, 01 Jan 1970 00:00:03 +0000".into(),
                from: "root@r1".into(),
                to: vec!["ops@example.com".into(), "two@example.com".into()],
                subject: "[r1] VRRP Instance VI_1 - Entering MASTER state".into(),
                body: body.into(),
            },
        });
        c.connected();
        let mut from_server = sink.greeting(wrong).unwrap().bytes;
        for _ in 0..20 {
            match c.data(&from_server) {
                CStep::Send(b) => {
                    let a = sink.answer(&b, wrong).expect("an answer");
                    from_server = a.bytes;
                    if a.close {
                        c.data(&from_server);
                        c.closed();
                        break;
                    }
                }
                CStep::Wait => panic!("client waits on a complete answer"),
                CStep::Finished => break,
            }
        }
        c
    }

    #[test]
    fn records_what_the_alert_client_delivers() {
        let mut sink = SmtpSink::new("mail1");
        let c = deliver(&mut sink, false, ".dot first\nsecond");
        assert_eq!(c.outcome(), Some(&Ok(())));
        let mails = sink.delivered();
        assert_eq!(mails.len(), 1);
        let m = &mails[0];
        assert_eq!(m.helo, "r1");
        assert_eq!(m.from, "root@r1");
        assert_eq!(m.to, ["ops@example.com", "two@example.com"]);
        assert_eq!(
            m.subject.as_deref(),
            Some("[r1] VRRP Instance VI_1 - Entering MASTER state")
        );
        assert!(m.text.contains("\n\n.dot first\nsecond\n"), "{:?}", m.text);
        assert_eq!(sink.take_delivered().len(), 1);
        assert!(sink.delivered().is_empty());
    }

    #[test]
    fn wrong_mode_refuses_for_good() {
        let mut sink = SmtpSink::new("mail1");
        let c = deliver(&mut sink, true, "x");
        let f = c.outcome().unwrap().clone().unwrap_err();
        assert!(!f.transient());
        assert!(f.to_string().contains("554"), "{f}");
        assert!(sink.delivered().is_empty());
    }

    #[test]
    fn smtp_check_passes_up_and_fails_wrong() {
        for (wrong, up) in [(false, true), (true, false)] {
            let mut sink = SmtpSink::new("mx");
            let mut d = crate::check::smtp::new("checker");
            d.connected();
            let mut bytes = sink.greeting(wrong).unwrap().bytes;
            let verdict = loop {
                match d.data(&bytes) {
                    Step::Send(b) => bytes = sink.answer(&b, wrong).unwrap().bytes,
                    Step::Done(v) => break v,
                    Step::Wait => panic!("waits"),
                }
            };
            assert_eq!(verdict == Verdict::Up, up, "{verdict:?}");
        }
    }

    #[test]
    fn protocol_order_and_bounds() {
        let mut s = SmtpSink::new("m");
        let mut say = |t: &str| {
            let a = s.answer(t.as_bytes(), false);
            a.map(|a| String::from_utf8(a.bytes).unwrap())
                .unwrap_or_default()
        };
        assert!(say("MAIL FROM:<a@b>\r\n").starts_with("503"));
        assert!(say("EHLO x\r\n").starts_with("250 m Hello x"));
        assert!(say("DATA\r\n").starts_with("503"));
        assert!(say("RCPT TO:<a@b>\r\n").starts_with("503"));
        assert!(say("BOGUS\r\n").starts_with("500"));
        assert_eq!(say("NOOP\r"), "", "no answer before the line ends");
        assert!(say("\n").starts_with("250"));
        let long = format!("HELO {}\r\n", "x".repeat(MAX_LINE));
        assert!(say(&long).starts_with("500 5.5.6"));
        // Two commands in one piece get two answers.
        let both = say("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n");
        assert_eq!(both.matches("\r\n").count(), 2, "{both}");
        assert!(say("QUIT\r\n").starts_with("221"));
        assert_eq!(say("NOOP\r\n"), "", "nothing after QUIT");
    }

    #[test]
    fn oversized_message_is_refused() {
        let mut s = SmtpSink::new("m");
        for c in [
            "HELO x\r\n",
            "MAIL FROM:<a@b>\r\n",
            "RCPT TO:<c@d>\r\n",
            "DATA\r\n",
        ] {
            s.answer(c.as_bytes(), false);
        }
        let line = format!("{}\r\n", "y".repeat(900));
        for _ in 0..(MAX_MESSAGE / 900 + 2) {
            assert!(s.answer(line.as_bytes(), false).is_none());
        }
        let a = s.answer(b".\r\n", false).unwrap();
        assert!(a.bytes.starts_with(b"552"));
        assert!(s.delivered().is_empty());
    }
}
