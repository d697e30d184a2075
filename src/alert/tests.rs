//! The alerter against scripted servers: delivery, one at a time, slow servers, refusals,
//! timeouts, retries with backoff, giving up, and the bounded queue.

use super::*;
use crate::event::ConnError;
use crate::vrrp::State;

struct Harness {
    alerter: Alerter,
    wheel: TimerWheel<Timer>,
    actions: VecDeque<Action>,
    next_conn: u64,
    now: Instant,
}

fn settings() -> Settings {
    Settings {
        server: Some("127.0.0.1:2525".parse().unwrap()),
        helo_name: None,
        from: Some("kad@example.com".into()),
        to: vec!["ops@example.com".into(), "second@example.com".into()],
        timeout: Duration::from_secs(30),
        router_id: Some("RID1".into()),
        no_email_faults: false,
        policy: Policy {
            capacity: 4,
            retry_first: Duration::from_secs(5),
            retry_max: Duration::from_secs(20),
            max_attempts: 4,
        },
    }
}

impl Harness {
    fn new(s: Settings) -> Harness {
        let mut alerter = Alerter::new(s);
        alerter.set_host(HostInfo {
            hostname: "vm".into(),
            user: "root".into(),
            wall_at_zero_ns: 1_795_836_777_000_000_000,
            utc_offset_secs: 0,
        });
        Harness {
            alerter,
            wheel: TimerWheel::new(),
            actions: VecDeque::new(),
            next_conn: 1,
            now: Instant::ZERO,
        }
    }

    fn with<R>(&mut self, f: impl FnOnce(&mut Alerter, &mut Io) -> R) -> R {
        let mut io = Io {
            now: self.now,
            wheel: &mut self.wheel,
            actions: &mut self.actions,
            next_conn: &mut self.next_conn,
            prefix: "",
        };
        f(&mut self.alerter, &mut io)
    }

    fn raise(&mut self, subject: &str) {
        let t = Text {
            subject: subject.into(),
            body: "body".into(),
        };
        self.with(|a, io| a.raise(io, t));
    }

    fn event(&mut self, conn: ConnId, e: ConnEvent) {
        self.with(|a, io| a.conn_event(io, conn, e));
    }

    /// Advances to `t`, firing the timers due on the way.
    fn advance(&mut self, t: Duration) {
        let end = Instant::ZERO + t;
        while let Some(d) = self.wheel.next_deadline().filter(|d| *d <= end) {
            self.now = d;
            while let Some((_, timer)) = self.wheel.pop_expired(d) {
                self.with(|a, io| a.timer(io, timer));
            }
        }
        self.now = end;
    }

    fn take(&mut self) -> Vec<Action> {
        self.actions.drain(..).collect()
    }

    /// The one connection just opened.
    fn connect(&mut self) -> ConnId {
        let acts = self.take();
        match acts.as_slice() {
            [Action::Connect { conn, spec }] => {
                assert_eq!(conn.owner, ConnOwner::Alerter);
                assert_eq!(spec.dst, "127.0.0.1".parse::<IpAddr>().unwrap());
                assert_eq!(spec.port, 2525);
                assert_eq!(spec.transport, Transport::Tcp);
                *conn
            }
            other => panic!("expected one Connect, got {other:?}"),
        }
    }

    /// Server says `reply`; returns what the client sent back (text).
    fn say(&mut self, conn: ConnId, reply: &str) -> String {
        self.event(conn, ConnEvent::Data(format!("{reply}\r\n").into_bytes()));
        let mut out = String::new();
        let mut later = VecDeque::new();
        for a in self.take() {
            match a {
                Action::Send { conn: c, data } => {
                    assert_eq!(c, conn);
                    out.push_str(&String::from_utf8(data).unwrap());
                }
                Action::Close { conn: c } => {
                    assert_eq!(c, conn);
                    out.push_str("<close>");
                }
                // The next delivery: left for `connect`.
                a @ Action::Connect { .. } => later.push_back(a),
                other => panic!("unexpected {other:?}"),
            }
        }
        self.actions = later;
        out
    }

    /// A whole successful conversation on `conn`; returns the DATA text.
    fn converse(&mut self, conn: ConnId) -> String {
        self.event(conn, ConnEvent::Connected);
        assert!(self.take().is_empty());
        assert_eq!(self.say(conn, "220 sink"), "HELO vm\r\n");
        assert_eq!(self.say(conn, "250 ok"), "MAIL FROM:<kad@example.com>\r\n");
        assert_eq!(self.say(conn, "250 ok"), "RCPT TO:<ops@example.com>\r\n");
        assert_eq!(self.say(conn, "250 ok"), "RCPT TO:<second@example.com>\r\n");
        assert_eq!(self.say(conn, "250 ok"), "DATA\r\n");
        let data = self.say(conn, "354 go");
        assert_eq!(self.say(conn, "250 queued"), "QUIT\r\n");
        let end = self.say(conn, "221 bye");
        assert!(end.starts_with("<close>"), "{end}");
        data
    }
}

#[test]
fn delivers_keepalived_message() {
    let mut h = Harness::new(settings());
    h.now = Instant::ZERO + Duration::from_secs(3);
    let t = compose::instance(&h.alerter.router_id(), "VI_1", State::Master);
    h.with(|a, io| a.raise(io, t));
    let c = h.connect();
    let data = h.converse(c);
    assert_eq!(
        data,
        "Date: Sat, 28 Nov 2026 03:33:00 +0000\r\nFrom: kad@example.com\r\n\
         Subject: [RID1] VRRP Instance VI_1 - Entering MASTER state\r\nX-Mailer: Keepalived\r\n\
         To: ops@example.com, second@example.com\r\n\r\n\
         => VRRP Instance is now owning VRRP VIPs <=\r\n\r\n.\r\n"
    );
    let s = h.alerter.stats();
    assert_eq!((s.queued, s.sent, s.failed, s.retries), (1, 1, 0, 0));
    assert!(h.alerter.waiting().is_empty());
    assert!(h.wheel.is_empty(), "no timer left behind");
}

#[test]
fn defaults_come_from_the_host() {
    let mut s = settings();
    s.from = None;
    s.router_id = None;
    let mut h = Harness::new(s);
    assert_eq!(h.alerter.router_id(), "vm");
    h.raise("x");
    let c = h.connect();
    h.event(c, ConnEvent::Connected);
    assert_eq!(h.say(c, "220 x"), "HELO vm\r\n");
    assert_eq!(h.say(c, "250 x"), "MAIL FROM:<root@vm>\r\n");
    let mut s = settings();
    s.helo_name = Some("myhelo.example".into());
    let mut h = Harness::new(s);
    h.raise("x");
    let c = h.connect();
    h.event(c, ConnEvent::Connected);
    assert_eq!(h.say(c, "220 x"), "HELO myhelo.example\r\n");
}

#[test]
fn one_delivery_at_a_time_in_order() {
    let mut h = Harness::new(settings());
    h.raise("first");
    h.raise("second");
    let c1 = h.connect();
    assert_eq!(h.alerter.waiting(), ["first", "second"]);
    let d1 = h.converse(c1);
    assert!(d1.contains("Subject: first\r\n"));
    // The close of the first opens the second.
    let c2 = h.connect();
    assert_ne!(c1, c2);
    let d2 = h.converse(c2);
    assert!(d2.contains("Subject: second\r\n"));
    assert_eq!(h.alerter.stats().sent, 2);
}

#[test]
fn a_slow_server_is_waited_for() {
    // Each answer takes 29 s of a 30 s smtp_connect_timeout: the timeout is per answer,
    // so the alert is delivered after minutes.
    let mut h = Harness::new(settings());
    h.raise("slow");
    let c = h.connect();
    let mut t = 29;
    h.advance(Duration::from_secs(t));
    h.event(c, ConnEvent::Connected);
    for (reply, expect) in [
        ("220 x", "HELO"),
        ("250 x", "MAIL"),
        ("250 x", "RCPT"),
        ("250 x", "RCPT"),
        ("250 x", "DATA"),
        ("354 x", "Date:"),
        ("250 x", "QUIT"),
    ] {
        t += 29;
        h.advance(Duration::from_secs(t));
        assert!(h.say(c, reply).starts_with(expect), "{reply}");
    }
    assert_eq!(
        h.alerter.stats().sent,
        0,
        "counted when the conversation ends"
    );
    h.advance(Duration::from_secs(t + 29));
    assert_eq!(h.say(c, "221 bye"), "<close>");
    assert_eq!(h.alerter.stats().sent, 1);
    assert_eq!(h.alerter.stats().retries, 0);
}

#[test]
fn silence_times_out_and_the_alert_is_retried() {
    let mut h = Harness::new(settings());
    h.raise("patient");
    let c1 = h.connect();
    h.event(c1, ConnEvent::Connected);
    // No banner: at 30 s the connection is closed, a retry is due 5 s later.
    h.advance(Duration::from_secs(29));
    assert!(h.take().is_empty());
    h.advance(Duration::from_secs(30));
    assert_eq!(h.take(), vec![Action::Close { conn: c1 }]);
    assert_eq!(h.alerter.stats().retries, 1);
    assert_eq!(h.alerter.waiting(), ["patient"]);
    h.advance(Duration::from_secs(34));
    assert!(h.take().is_empty());
    h.advance(Duration::from_secs(35));
    let c2 = h.connect();
    let data = h.converse(c2);
    assert!(data.contains("Subject: patient\r\n"));
    // The Date is when the alert was raised, not when it was delivered.
    assert!(data.starts_with("Date: Sat, 28 Nov 2026 03:32:57 +0000\r\n"));
    assert_eq!(h.alerter.stats().sent, 1);
}

#[test]
fn refused_once_then_delivered() {
    let mut h = Harness::new(settings());
    h.raise("a");
    h.raise("b");
    let c1 = h.connect();
    // The world closed a failed connection itself: no Close.
    h.event(c1, ConnEvent::Failed(ConnError::Refused));
    assert!(h.take().is_empty());
    // Alerts keep their order: "a" is retried before "b" starts.
    h.advance(Duration::from_secs(5));
    let c2 = h.connect();
    assert!(h.converse(c2).contains("Subject: a\r\n"));
    let c3 = h.connect();
    assert!(h.converse(c3).contains("Subject: b\r\n"));
    let s = h.alerter.stats();
    assert_eq!((s.sent, s.retries, s.failed), (2, 1, 0));
}

#[test]
fn transient_4xx_is_retried_5xx_is_final() {
    let mut h = Harness::new(settings());
    h.raise("busy");
    let c = h.connect();
    h.event(c, ConnEvent::Connected);
    assert_eq!(h.say(c, "421 busy"), "QUIT\r\n");
    assert_eq!(h.say(c, "221 bye"), "<close>");
    assert_eq!(h.alerter.stats().retries, 1);
    h.advance(Duration::from_secs(5));
    let c = h.connect();
    h.event(c, ConnEvent::Connected);
    h.say(c, "220 x");
    h.say(c, "250 x");
    assert_eq!(h.say(c, "550 no such user"), "QUIT\r\n");
    // The server closes instead of answering QUIT: the refusal stands, not retried.
    h.event(c, ConnEvent::Closed);
    assert_eq!(h.take(), vec![Action::Close { conn: c }]);
    let s = h.alerter.stats();
    assert_eq!((s.sent, s.retries, s.failed), (0, 1, 1));
    assert!(h.alerter.waiting().is_empty());
    assert!(h.wheel.is_empty());
}

#[test]
fn gives_up_after_the_last_attempt_with_backoff() {
    let mut h = Harness::new(settings());
    h.raise("doomed");
    h.raise("next");
    let mut connects = Vec::new();
    for attempt in 1..=4 {
        let c = h.connect();
        connects.push(h.now);
        h.event(c, ConnEvent::Failed(ConnError::Unreachable));
        if attempt < 4 {
            let d = h.wheel.next_deadline().expect("a retry is scheduled");
            h.advance(d - Instant::ZERO);
        }
    }
    let secs: Vec<u64> = connects
        .iter()
        .map(|t| t.as_nanos() / 1_000_000_000)
        .collect();
    // Backoff 5, 10, 20 s between the four attempts.
    assert_eq!(secs, [0, 5, 15, 35]);
    let s = h.alerter.stats();
    assert_eq!((s.failed, s.retries), (1, 3));
    // The next alert starts right after the last failure.
    assert_eq!(h.alerter.waiting(), ["next"]);
    let c = h.connect();
    assert!(h.converse(c).contains("Subject: next\r\n"));
}

#[test]
fn bounded_queue_drops_the_oldest_waiting() {
    let mut h = Harness::new(settings());
    for n in 0..6 {
        h.raise(&format!("alert {n}"));
    }
    // Capacity 4; "alert 0" is being delivered and stays; 1 and 2 were dropped.
    assert_eq!(
        h.alerter.waiting(),
        ["alert 0", "alert 3", "alert 4", "alert 5"]
    );
    let s = h.alerter.stats();
    assert_eq!((s.queued, s.dropped), (6, 2));
    let c = h.connect();
    assert!(h.converse(c).contains("Subject: alert 0\r\n"));
}

#[test]
fn stale_events_and_timers_are_ignored() {
    let mut h = Harness::new(settings());
    h.raise("x");
    let c = h.connect();
    h.event(c, ConnEvent::Failed(ConnError::Refused));
    // A late event for the dead connection, a timeout of a connection long gone.
    h.event(c, ConnEvent::Data(b"220 x\r\n".to_vec()));
    h.with(|a, io| a.timer(io, Timer::SmtpTimeout(c.seq)));
    assert!(h.take().is_empty());
    h.advance(Duration::from_secs(5));
    let c2 = h.connect();
    h.converse(c2);
}

#[test]
fn nothing_without_server_or_recipients() {
    let mut s = settings();
    s.to.clear();
    let mut h = Harness::new(s);
    h.raise("x");
    assert!(h.take().is_empty());
    assert_eq!(h.alerter.stats().queued, 0);
    let mut s = settings();
    s.server = None;
    let mut h = Harness::new(s);
    h.raise("x");
    assert!(h.take().is_empty());
}

#[test]
fn settings_from_global_defs() {
    let mut g = GlobalDefs {
        smtp_server: Some("192.0.2.25".into()),
        notification_email: vec!["a@b".into()],
        ..GlobalDefs::default()
    };
    let (s, notes) = Settings::from_global(&g);
    assert_eq!(s.server, Some("192.0.2.25:25".parse().unwrap()));
    assert!(notes.is_empty());
    g.smtp_server = Some("::1".into());
    g.smtp_server_port = Some(2525);
    assert_eq!(
        Settings::from_global(&g).0.server,
        Some("[::1]:2525".parse().unwrap())
    );
    g.smtp_server = Some("mail.example.com".into());
    let (s, notes) = Settings::from_global(&g);
    assert_eq!(s.server, None);
    assert!(notes[0].contains("mail.example.com"), "{notes:?}");
}

#[test]
fn an_abandoned_delivery_costs_one_alert() {
    let mut h = Harness::new(settings());
    h.raise("broken");
    h.raise("next");
    let c = h.connect();
    h.with(|a, io| a.abandon(io));
    let mut acts = h.take();
    assert_eq!(acts.remove(0), Action::Close { conn: c });
    assert_eq!(h.alerter.stats().failed, 1);
    assert_eq!(h.alerter.waiting(), ["next"]);
    h.actions.extend(acts);
    let c2 = h.connect();
    assert!(h.converse(c2).contains("Subject: next\r\n"));
    assert!(h.wheel.is_empty());
}
