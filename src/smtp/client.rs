//! The SMTP client state machine that delivers one message over one connection, as
//! keepalived 2.2.7 does it: wait for the `220` banner, `HELO name` (`250`),
//! `MAIL FROM:<from>` (`250`), `RCPT TO:<to>` for each recipient (`250`/`251`), `DATA`
//! (`354`), the message, its `250`, then `QUIT` (whose answer does not matter: the message
//! is delivered once the server accepted it).
//!
//! Pure and byte-driven: the caller (the alerter) opens the connection, feeds what the
//! world reports ([`Client::data`], [`Client::closed`], [`Client::failed`],
//! [`Client::timed_out`]) and sends what it is told ([`Step::Send`]). After a reply
//! that is not the expected one the client says `QUIT` politely, as keepalived does, and
//! reports the failure. Every failure says at which stage and why ([`Failure`]), and whether
//! trying again later may help ([`Failure::transient`]).

use super::message::Message;
use super::reply::{Reply, ReplyError, ReplyReader};
use crate::event::ConnError;
use std::fmt;

/// Where the conversation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Connecting (no banner yet).
    Connect,
    Banner,
    Helo,
    MailFrom,
    /// Waiting for the answer to `RCPT TO` for recipient `.0`.
    RcptTo(usize),
    Data,
    /// Waiting for the answer to the message itself.
    Body,
    /// `QUIT` sent (after delivery or after a refusal).
    Quit,
}

impl Stage {
    /// The command the stage is about, as keepalived's log names it.
    pub fn command(self) -> &'static str {
        match self {
            Stage::Connect => "connect",
            Stage::Banner => "(E)SMTP",
            Stage::Helo => "HELO",
            Stage::MailFrom => "MAIL",
            Stage::RcptTo(_) => "RCPT",
            Stage::Data => "DATA",
            Stage::Body => "DOT",
            Stage::Quit => "QUIT",
        }
    }
}

/// Why a message was not delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The server answered with an unexpected code.
    Refused { stage: Stage, reply: Reply },
    /// The server's bytes are not SMTP.
    Garbled { stage: Stage, error: ReplyError },
    /// The server closed the connection before the message was accepted.
    Closed { stage: Stage },
    /// The connection could not be made or broke.
    Conn { stage: Stage, error: ConnError },
    /// `smtp_connect_timeout` passed without an answer.
    Timeout { stage: Stage },
}

impl Failure {
    /// Worth trying again later: everything but a permanent (5xx) refusal.
    pub fn transient(&self) -> bool {
        match self {
            Failure::Refused { reply, .. } => reply.class() != 5,
            _ => true,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // keepalived: "Error processing RCPT cmd on SMTP server [..]:25. SMTP status
            // code = 550"; the server's text is ours.
            Failure::Refused { stage, reply } => write!(
                f,
                "error processing {} cmd: SMTP status code = {} ({})",
                stage.command(),
                reply.code,
                reply.text()
            ),
            Failure::Garbled { stage, error } => {
                write!(f, "bad answer to {} cmd: {error}", stage.command())
            }
            Failure::Closed { stage } => write!(
                f,
                "server closed the connection while waiting for the answer to {} cmd",
                stage.command()
            ),
            Failure::Conn {
                stage: Stage::Connect,
                error,
            } => write!(f, "cannot connect: {error}"),
            Failure::Conn { stage, error } => {
                write!(f, "connection lost at {} cmd: {error}", stage.command())
            }
            Failure::Timeout {
                stage: Stage::Connect,
            } => f.write_str("timeout connecting"),
            Failure::Timeout { stage } => {
                write!(
                    f,
                    "timeout waiting for the answer to {} cmd",
                    stage.command()
                )
            }
        }
    }
}

/// What the client wants next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Wait for more bytes (or the timeout).
    Wait,
    /// Send these bytes, then wait.
    Send(Vec<u8>),
    /// The conversation is over: close the connection; [`Client::outcome`] says how it went.
    Finished,
}

/// The envelope and content of one delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// The `HELO` argument (`smtp_helo_name`, default the host name).
    pub helo: String,
    pub message: Message,
}

/// One delivery over one connection.
#[derive(Clone, Debug)]
pub struct Client {
    env: Envelope,
    stage: Stage,
    reader: ReplyReader,
    /// Set once decided: `Ok` when the server accepted the message.
    outcome: Option<Result<(), Failure>>,
    finished: bool,
}

/// A command line, without line ends smuggled in from the configuration.
fn command(verb: &str, arg: &str) -> Vec<u8> {
    let arg: String = arg.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    format!("{verb}{arg}\r\n").into_bytes()
}

impl Client {
    pub fn new(env: Envelope) -> Client {
        Client {
            env,
            stage: Stage::Connect,
            reader: ReplyReader::new(),
            outcome: None,
            finished: false,
        }
    }

    /// Where the conversation is.
    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// `Some` once decided (delivered, or why not).
    pub fn outcome(&self) -> Option<&Result<(), Failure>> {
        self.outcome.as_ref()
    }

    /// The connection is up: wait for the banner.
    pub fn connected(&mut self) -> Step {
        if self.stage == Stage::Connect {
            self.stage = Stage::Banner;
        }
        Step::Wait
    }

    /// Bytes arrived.
    pub fn data(&mut self, bytes: &[u8]) -> Step {
        if self.finished {
            return Step::Finished;
        }
        if let Err(error) = self.reader.push(bytes) {
            if self.stage == Stage::Quit {
                return self.finish();
            }
            return self.fail(Failure::Garbled {
                stage: self.stage,
                error,
            });
        }
        let mut out = Vec::new();
        while let Some(reply) = self.reader.next_reply() {
            match self.reply(reply) {
                Step::Wait => {}
                Step::Send(b) => out.extend_from_slice(&b),
                Step::Finished => return Step::Finished,
            }
        }
        if out.is_empty() {
            Step::Wait
        } else {
            Step::Send(out)
        }
    }

    fn reply(&mut self, reply: Reply) -> Step {
        let expected = match self.stage {
            Stage::Connect | Stage::Banner => reply.code == 220,
            Stage::Helo | Stage::MailFrom | Stage::Body => reply.code == 250,
            Stage::RcptTo(_) => reply.code == 250 || reply.code == 251,
            Stage::Data => reply.code == 354,
            Stage::Quit => return self.finish(),
        };
        if !expected {
            let stage = self.stage;
            self.outcome = Some(Err(Failure::Refused { stage, reply }));
            return self.quit();
        }
        match self.stage {
            Stage::Connect | Stage::Banner => {
                self.stage = Stage::Helo;
                Step::Send(command("HELO ", &self.env.helo))
            }
            Stage::Helo => {
                self.stage = Stage::MailFrom;
                Step::Send(command(
                    "MAIL FROM:",
                    &format!("<{}>", self.env.message.from),
                ))
            }
            Stage::MailFrom => self.rcpt(0),
            Stage::RcptTo(i) => self.rcpt(i + 1),
            Stage::Data => {
                self.stage = Stage::Body;
                Step::Send(self.env.message.data())
            }
            Stage::Body => {
                self.outcome = Some(Ok(()));
                self.quit()
            }
            Stage::Quit => self.finish(),
        }
    }

    fn rcpt(&mut self, i: usize) -> Step {
        match self.env.message.to.get(i) {
            Some(to) => {
                self.stage = Stage::RcptTo(i);
                Step::Send(command("RCPT TO:", &format!("<{to}>")))
            }
            None => {
                self.stage = Stage::Data;
                Step::Send(b"DATA\r\n".to_vec())
            }
        }
    }

    fn quit(&mut self) -> Step {
        self.stage = Stage::Quit;
        Step::Send(b"QUIT\r\n".to_vec())
    }

    fn finish(&mut self) -> Step {
        self.finished = true;
        Step::Finished
    }

    fn fail(&mut self, f: Failure) -> Step {
        if self.outcome.is_none() {
            self.outcome = Some(Err(f));
        }
        self.finish()
    }

    /// The server closed its side.
    pub fn closed(&mut self) -> Step {
        let stage = self.stage;
        self.fail(Failure::Closed { stage })
    }

    /// The connection failed.
    pub fn failed(&mut self, error: &ConnError) -> Step {
        let stage = self.stage;
        self.fail(Failure::Conn {
            stage,
            error: error.clone(),
        })
    }

    /// `smtp_connect_timeout` passed in the current stage.
    pub fn timed_out(&mut self) -> Step {
        let stage = self.stage;
        self.fail(Failure::Timeout { stage })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(to: &[&str]) -> Envelope {
        Envelope {
            helo: "vm".into(),
            message: Message {
                date: "Sat, 28 Nov 2026 15:24:07 +0000".into(),
                from: "kad@example.com".into(),
                to: to.iter().map(|s| s.to_string()).collect(),
                subject: "[RID1] VRRP Instance VI_1 - Entering MASTER state".into(),
                body: "=> VRRP Instance is now owning VRRP VIPs <=".into(),
            },
        }
    }

    fn sent(s: Step) -> String {
        match s {
            Step::Send(b) => String::from_utf8(b).unwrap(),
            other => panic!("expected Send, got {other:?}"),
        }
    }

    /// The conversation keepalived 2.2.7 had with a sink (recorded on the wire).
    #[test]
    fn delivers_like_keepalived() {
        let mut c = Client::new(envelope(&["ops@example.com", "second@example.com"]));
        assert_eq!(c.connected(), Step::Wait);
        assert_eq!(sent(c.data(b"220 sink ESMTP\r\n")), "HELO vm\r\n");
        assert_eq!(
            sent(c.data(b"250 OK\r\n")),
            "MAIL FROM:<kad@example.com>\r\n"
        );
        assert_eq!(sent(c.data(b"250 OK\r\n")), "RCPT TO:<ops@example.com>\r\n");
        assert_eq!(
            sent(c.data(b"250 OK\r\n")),
            "RCPT TO:<second@example.com>\r\n"
        );
        assert_eq!(sent(c.data(b"251 forwarded\r\n")), "DATA\r\n");
        let body = sent(c.data(b"354 go ahead\r\n"));
        assert!(
            body.starts_with("Date: Sat, 28 Nov 2026 15:24:07 +0000\r\nFrom: kad@example.com\r\n")
        );
        assert!(body.ends_with("\r\n\r\n.\r\n"));
        assert!(c.outcome().is_none());
        assert_eq!(sent(c.data(b"250 OK queued\r\n")), "QUIT\r\n");
        assert_eq!(c.outcome(), Some(&Ok(())));
        assert_eq!(c.data(b"221 bye\r\n"), Step::Finished);
        assert_eq!(c.outcome(), Some(&Ok(())));
    }

    #[test]
    fn multi_line_replies_and_pieces() {
        let mut c = Client::new(envelope(&["a@b"]));
        c.connected();
        assert_eq!(c.data(b"220-first\r\n220-sec"), Step::Wait);
        assert_eq!(sent(c.data(b"ond\r\n220 last\r\n")), "HELO vm\r\n");
        assert_eq!(c.data(b"250-hello\r\n"), Step::Wait);
        assert_eq!(
            sent(c.data(b"250 ok\r\n")),
            "MAIL FROM:<kad@example.com>\r\n"
        );
    }

    #[test]
    fn delivered_even_if_quit_goes_unanswered() {
        let mut c = Client::new(envelope(&["a@b"]));
        c.connected();
        for r in ["220 x", "250 x", "250 x", "250 x", "354 x"] {
            c.data(format!("{r}\r\n").as_bytes());
        }
        assert_eq!(sent(c.data(b"250 x\r\n")), "QUIT\r\n");
        assert_eq!(c.timed_out(), Step::Finished);
        assert_eq!(c.outcome(), Some(&Ok(())));
        let mut c2 = Client::new(envelope(&["a@b"]));
        c2.connected();
        for r in ["220 x", "250 x", "250 x", "250 x", "354 x", "250 x"] {
            c2.data(format!("{r}\r\n").as_bytes());
        }
        assert_eq!(c2.closed(), Step::Finished);
        assert_eq!(c2.outcome(), Some(&Ok(())));
    }

    #[test]
    fn refusals_quit_and_say_where() {
        // A 5xx to RCPT: QUIT, then a permanent failure naming the command.
        let mut c = Client::new(envelope(&["nobody@example.com"]));
        c.connected();
        c.data(b"220 x\r\n");
        c.data(b"250 x\r\n");
        c.data(b"250 x\r\n");
        assert_eq!(sent(c.data(b"550 no such user\r\n")), "QUIT\r\n");
        assert_eq!(c.data(b"221 bye\r\n"), Step::Finished);
        let f = c.outcome().unwrap().clone().unwrap_err();
        assert!(!f.transient());
        assert_eq!(
            f.to_string(),
            "error processing RCPT cmd: SMTP status code = 550 (no such user)"
        );
        // A 554 banner, as keepalived logs it: "(E)SMTP".
        let mut c = Client::new(envelope(&["a@b"]));
        c.connected();
        assert_eq!(sent(c.data(b"554 go away\r\n")), "QUIT\r\n");
        assert_eq!(c.closed(), Step::Finished);
        let f = c.outcome().unwrap().clone().unwrap_err();
        assert!(
            f.to_string()
                .contains("(E)SMTP cmd: SMTP status code = 554"),
            "{f}"
        );
        // A 4xx is worth another try.
        let mut c = Client::new(envelope(&["a@b"]));
        c.connected();
        c.data(b"220 x\r\n");
        assert_eq!(sent(c.data(b"421 busy, try later\r\n")), "QUIT\r\n");
        let f = c.outcome().unwrap().clone().unwrap_err();
        assert!(f.transient());
        assert!(matches!(
            f,
            Failure::Refused {
                stage: Stage::Helo,
                ..
            }
        ));
    }

    #[test]
    fn connection_troubles() {
        let mut c = Client::new(envelope(&["a@b"]));
        assert_eq!(c.failed(&ConnError::Refused), Step::Finished);
        let f = c.outcome().unwrap().clone().unwrap_err();
        assert_eq!(f.to_string(), "cannot connect: connection refused");
        assert!(f.transient());

        let mut c = Client::new(envelope(&["a@b"]));
        assert_eq!(c.timed_out(), Step::Finished);
        assert_eq!(
            c.outcome().unwrap().clone().unwrap_err().to_string(),
            "timeout connecting"
        );

        let mut c = Client::new(envelope(&["a@b"]));
        c.connected();
        c.data(b"220 x\r\n");
        assert_eq!(c.timed_out(), Step::Finished);
        assert_eq!(
            c.outcome().unwrap().clone().unwrap_err(),
            Failure::Timeout { stage: Stage::Helo }
        );

        let mut c = Client::new(envelope(&["a@b"]));
        c.connected();
        c.data(b"220 x\r\n");
        c.data(b"250 x\r\n");
        assert_eq!(c.closed(), Step::Finished);
        let f = c.outcome().unwrap().clone().unwrap_err();
        assert_eq!(
            f,
            Failure::Closed {
                stage: Stage::MailFrom
            }
        );
        assert!(f.to_string().contains("MAIL cmd"));

        let mut c = Client::new(envelope(&["a@b"]));
        c.connected();
        assert_eq!(c.data(b"HTTP/1.1 400 Bad Request\r\n"), Step::Finished);
        let f = c.outcome().unwrap().clone().unwrap_err();
        assert!(
            matches!(
                f,
                Failure::Garbled {
                    stage: Stage::Banner,
                    ..
                }
            ),
            "{f}"
        );
        // Nothing more comes out after the end.
        assert_eq!(c.data(b"220 x\r\n"), Step::Finished);
    }

    #[test]
    fn configuration_cannot_inject_commands() {
        let mut env = envelope(&["a@b>\r\nRCPT TO:<evil@x"]);
        env.helo = "vm\r\nMAIL FROM:<x>".into();
        let mut c = Client::new(env);
        c.connected();
        let helo = sent(c.data(b"220 x\r\n"));
        assert_eq!(helo.matches("\r\n").count(), 1, "{helo:?}");
        c.data(b"250 x\r\n");
        let rcpt = sent(c.data(b"250 x\r\n"));
        assert_eq!(rcpt.matches("\r\n").count(), 1, "{rcpt:?}");
    }
}
