//! SMTP_CHECK's protocol, as keepalived 2.2 runs it on each `host`: wait for the `220`
//! banner, send `HELO helo_name`, expect `250`, send `QUIT`, expect the server's answer
//! (`221`) or its close. Any other code, bytes that are not SMTP replies (read by
//! `crate::smtp::reply`, bounded), a close before the `HELO` is answered or the timeout
//! make the check fail, with the reason keepalived would give.

use super::dialogue::{Dialogue, Step, Verdict};
use crate::event::{ConnError, Transport};
use crate::smtp::reply::{Reply, ReplyReader};

/// keepalived's `helo_name` when the checker gives none (not the host name, unlike the
/// alerts' `smtp_helo_name`).
pub const DEFAULT_HELO: &str = "smtpchecker.keepalived.org";

/// Where the exchange is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Banner,
    Helo,
    Quit,
    Done,
}

/// One SMTP_CHECK exchange with one host.
#[derive(Clone, Debug)]
pub struct SmtpDialogue {
    helo: String,
    state: State,
    reader: ReplyReader,
}

/// SMTP_CHECK's dialogue; `helo_name` is the checker's `helo_name` (default
/// [`DEFAULT_HELO`], as keepalived's). Line ends in it are dropped.
pub fn new(helo_name: &str) -> SmtpDialogue {
    SmtpDialogue::new(helo_name)
}

impl SmtpDialogue {
    /// The same as [`new`].
    pub fn new(helo_name: &str) -> SmtpDialogue {
        SmtpDialogue {
            helo: helo_name
                .chars()
                .filter(|c| *c != '\r' && *c != '\n')
                .collect(),
            state: State::Banner,
            reader: ReplyReader::new(),
        }
    }

    fn what(&self) -> &'static str {
        match self.state {
            State::Banner => "banner",
            State::Helo => "HELO",
            State::Quit | State::Done => "QUIT",
        }
    }

    fn reply(&mut self, r: Reply) -> Step {
        match self.state {
            State::Banner if r.code == 220 => {
                self.state = State::Helo;
                Step::Send(format!("HELO {}\r\n", self.helo).into_bytes())
            }
            State::Helo if r.code == 250 => {
                self.state = State::Quit;
                Step::Send(b"QUIT\r\n".to_vec())
            }
            State::Quit if r.class() == 2 => self.done(Verdict::Up),
            _ => {
                let why = format!("SMTP {} answered with status code {}", self.what(), r);
                self.done(Verdict::Down(why))
            }
        }
    }

    fn done(&mut self, v: Verdict) -> Step {
        self.state = State::Done;
        Step::Done(v)
    }
}

impl Dialogue for SmtpDialogue {
    fn transport(&self) -> Transport {
        Transport::Tcp
    }

    fn connected(&mut self) -> Step {
        Step::Wait
    }

    fn data(&mut self, bytes: &[u8]) -> Step {
        if self.state == State::Done {
            return Step::Wait;
        }
        if let Err(e) = self.reader.push(bytes) {
            let why = format!("bad SMTP answer to {}: {e}", self.what());
            return self.done(Verdict::Down(why));
        }
        let mut out = Vec::new();
        while let Some(r) = self.reader.next_reply() {
            match self.reply(r) {
                Step::Wait => {}
                Step::Send(b) => out.extend_from_slice(&b),
                done @ Step::Done(_) => return done,
            }
        }
        if out.is_empty() {
            Step::Wait
        } else {
            Step::Send(out)
        }
    }

    fn closed(&mut self) -> Verdict {
        match self.state {
            // The server hung up after our QUIT: HELO was answered, the check passed.
            State::Quit => Verdict::Up,
            _ => Verdict::Down(format!(
                "SMTP server closed the connection before the {}",
                match self.state {
                    State::Banner => "banner",
                    _ => "answer to HELO",
                }
            )),
        }
    }

    fn timed_out(&mut self) -> Verdict {
        Verdict::Down(format!("timeout waiting for the SMTP {}", self.what()))
    }

    fn failed(&mut self, err: &ConnError) -> Verdict {
        Verdict::Down(err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send(s: Step) -> String {
        match s {
            Step::Send(b) => String::from_utf8(b).unwrap(),
            other => panic!("expected Send, got {other:?}"),
        }
    }

    #[test]
    fn banner_helo_quit() {
        let mut d = new("checker.example");
        assert_eq!(d.transport(), Transport::Tcp);
        assert_eq!(d.connected(), Step::Wait);
        assert_eq!(d.data(b"220 mx ESMTP"), Step::Wait);
        assert_eq!(send(d.data(b"\r\n")), "HELO checker.example\r\n");
        assert_eq!(send(d.data(b"250 mx hello\r\n")), "QUIT\r\n");
        assert_eq!(d.data(b"221 bye\r\n"), Step::Done(Verdict::Up));
    }

    #[test]
    fn multi_line_banner_and_close_after_quit() {
        let mut d = new("h");
        assert_eq!(
            send(d.data(b"220-mx.example\r\n220-no UCE\r\n220 ready\r\n")),
            "HELO h\r\n"
        );
        assert_eq!(d.data(b"250-mx\r\n"), Step::Wait);
        assert_eq!(send(d.data(b"250 PIPELINING\r\n")), "QUIT\r\n");
        assert_eq!(d.closed(), Verdict::Up);
    }

    #[test]
    fn wrong_codes_fail_with_the_reason() {
        let mut d = new("h");
        assert_eq!(
            d.data(b"554 no service\r\n"),
            Step::Done(Verdict::Down(
                "SMTP banner answered with status code 554 no service".into()
            ))
        );
        let mut d = new("h");
        d.data(b"220 ok\r\n");
        assert_eq!(
            d.data(b"501 bad helo\r\n"),
            Step::Done(Verdict::Down(
                "SMTP HELO answered with status code 501 bad helo".into()
            ))
        );
        let mut d = new("h");
        d.data(b"220 ok\r\n");
        d.data(b"250 ok\r\n");
        assert!(matches!(
            d.data(b"500 what\r\n"),
            Step::Done(Verdict::Down(_))
        ));
    }

    #[test]
    fn garbage_silence_and_early_close() {
        let mut d = new("h");
        match d.data(b"SSH-2.0-OpenSSH_9.6\r\n") {
            Step::Done(Verdict::Down(why)) => {
                assert!(why.contains("bad SMTP answer to banner"), "{why}")
            }
            other => panic!("{other:?}"),
        }
        let mut d = new("h");
        assert_eq!(
            d.timed_out(),
            Verdict::Down("timeout waiting for the SMTP banner".into())
        );
        let mut d = new("h");
        d.data(b"220 ok\r\n");
        assert_eq!(
            d.timed_out(),
            Verdict::Down("timeout waiting for the SMTP HELO".into())
        );
        assert_eq!(
            d.closed(),
            Verdict::Down("SMTP server closed the connection before the answer to HELO".into())
        );
        let mut d = new("h");
        assert_eq!(
            d.failed(&ConnError::Refused),
            Verdict::Down("connection refused".into())
        );
        // A banner line that never ends is bounded.
        let mut d = new("h");
        let mut r = Step::Wait;
        for _ in 0..100 {
            r = d.data(&[b'2'; 64]);
            if r != Step::Wait {
                break;
            }
        }
        assert!(matches!(r, Step::Done(Verdict::Down(_))), "{r:?}");
    }

    #[test]
    fn helo_name_cannot_inject() {
        let mut d = new("a\r\nQUIT");
        assert_eq!(send(d.data(b"220 x\r\n")), "HELO aQUIT\r\n");
    }
}
