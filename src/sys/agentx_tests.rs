//! `sys::agentx` against a fake master agent on a unix socket in a temp directory (no
//! root, no snmpd): retries with a doubling, bounded backoff while nothing listens; the
//! Open, the registrations and an answer over a real socket; the view reused within its
//! time to live and rebuilt after a state change; pings, and a master that stops
//! answering them or goes away is retried.

use super::agentx::{AgentX, PING_EVERY, RETRY_FIRST, RETRY_MAX, VIEW_TTL};
use super::token::Registry as Tokens;
use crate::sched::Instant;
use crate::snmp::oid::Oid;
use crate::snmp::pdu::{self, Body, Header, Pdu};
use crate::snmp::settings::{Endpoint, SnmpSettings};
use crate::snmp::view::View;
use crate::snmp::wire::{SearchRange, Value};
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::time::Duration;

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp(tag: &str) -> TempDir {
    let d = std::env::temp_dir().join(format!("krs-agentx-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    TempDir(d)
}

fn agent(path: &std::path::Path, now: Instant) -> AgentX {
    let poll = mio::Poll::new().unwrap();
    let settings = SnmpSettings {
        endpoint: Endpoint::Unix(path.to_path_buf()),
        rfcv2: true,
        rfcv3: false,
        keepalived: false,
        traps: false,
    };
    AgentX::new(poll.registry().try_clone().unwrap(), settings, now)
}

fn secs(s: f64) -> Instant {
    Instant::from_nanos((s * 1e9) as u64)
}

/// Reads one whole PDU from the fake master's side (bounded wait).
fn read_pdu(s: &mut UnixStream) -> Pdu {
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = vec![0u8; pdu::HEADER_LEN];
    s.read_exact(&mut buf).unwrap();
    let len = pdu::frame_len(&buf).unwrap().unwrap();
    buf.resize(len, 0);
    s.read_exact(&mut buf[pdu::HEADER_LEN..]).unwrap();
    pdu::decode(&buf).unwrap()
}

fn respond(s: &mut UnixStream, to: &Pdu, session_id: u32, sys_uptime: u32) {
    let r = pdu::encode(&Pdu {
        header: Header {
            session_id,
            ..to.header
        },
        body: Body::Response {
            sys_uptime,
            error: 0,
            index: 0,
            varbinds: Vec::new(),
        },
    });
    s.write_all(&r).unwrap();
}

#[test]
fn retries_with_a_bounded_backoff_while_nothing_listens() {
    let dir = temp("retry");
    let mut tokens = Tokens::new();
    let mut a = agent(&dir.0.join("absent"), secs(0.0));
    assert_eq!(a.next_deadline(), Some(secs(0.0)));
    let mut now = secs(0.0);
    let mut waits = Vec::new();
    for _ in 0..9 {
        a.on_timers(now, &mut tokens);
        let next = a.next_deadline().expect("a retry is scheduled");
        waits.push(next.saturating_since(now).as_secs());
        now = next;
    }
    assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
    assert_eq!(RETRY_FIRST.as_secs(), 1);
    assert_eq!(RETRY_MAX.as_secs(), 60);
    assert_eq!(a.stats.attempts, 9);
    assert!(!a.is_ready());
}

#[test]
fn opens_registers_answers_and_retries_after_the_master_leaves() {
    let dir = temp("session");
    let path = dir.0.join("master");
    let listener = UnixListener::bind(&path).unwrap();
    let mut tokens = Tokens::new();
    let t0 = secs(10.0);
    let mut a = agent(&path, t0);
    a.on_timers(t0, &mut tokens);
    let (mut m, _) = listener.accept().unwrap();
    let builds = std::cell::Cell::new(0);
    let mut view = |_base| {
        builds.set(builds.get() + 1);
        View::new(
            vec![(
                Oid::new(&[1, 3, 6, 1, 2, 1, 68, 1, 1, 0]),
                Value::Integer(2),
            )],
            vec![Oid::new(&[1, 3, 6, 1, 2, 1, 68, 1, 1])],
        )
    };
    // Connected: the Open goes out.
    a.on_ready(t0, &mut tokens, 0, &mut view);
    let open = read_pdu(&mut m);
    assert!(matches!(open.body, Body::Open { timeout: 5, .. }));
    respond(&mut m, &open, 77, 500);
    a.on_ready(t0, &mut tokens, 0, &mut view);
    let reg = read_pdu(&mut m);
    assert_eq!(reg.header.session_id, 77);
    assert!(
        matches!(reg.body, Body::Register { ref subtree, .. } if subtree.subids() == [1, 3, 6, 1, 2, 1, 68])
    );
    respond(&mut m, &reg, 77, 0);
    a.on_ready(t0, &mut tokens, 0, &mut view);
    assert!(a.is_ready());
    assert_eq!(
        a.next_deadline(),
        Some(t0 + PING_EVERY),
        "no retry while the session is open, a ping"
    );
    // Requests: answered; the view is built once within its time to live, again after
    // a state change and after the time to live.
    let getnext = |pid: u32| {
        pdu::encode(&Pdu {
            header: Header {
                session_id: 77,
                packet_id: pid,
                ..Header::default()
            },
            body: Body::GetNext {
                context: None,
                ranges: vec![SearchRange {
                    start: Oid::new(&[1, 3, 6, 1, 2, 1, 68]),
                    include: false,
                    end: Oid::null(),
                }],
            },
        })
    };
    let mut answers = Vec::new();
    for (pid, at, changes) in [
        (1, t0, 0),
        (2, t0 + Duration::from_millis(500), 0),
        (3, t0 + Duration::from_millis(600), 1),
        (4, t0 + Duration::from_millis(600) + VIEW_TTL, 1),
    ] {
        m.write_all(&getnext(pid)).unwrap();
        a.on_ready(at, &mut tokens, changes, &mut view);
        answers.push(read_pdu(&mut m));
    }
    for (i, ans) in answers.iter().enumerate() {
        assert_eq!(ans.header.packet_id, i as u32 + 1);
        assert!(matches!(&ans.body, Body::Response { varbinds, .. }
            if varbinds[0].value == Value::Integer(2)));
    }
    assert_eq!(builds.get(), 3);
    // Pings: answered, the session goes on; unanswered at the next one, it is dropped.
    let tp = t0 + PING_EVERY;
    a.on_timers(tp, &mut tokens);
    let ping = read_pdu(&mut m);
    assert_eq!(ping.body, Body::Ping { context: None });
    assert_eq!(ping.header.session_id, 77);
    respond(&mut m, &ping, 77, 0);
    a.on_ready(tp, &mut tokens, 1, &mut view);
    a.on_timers(tp + PING_EVERY, &mut tokens);
    assert!(matches!(read_pdu(&mut m).body, Body::Ping { .. }));
    assert!(a.is_ready());
    let silent = tp + PING_EVERY * 2;
    a.on_timers(silent, &mut tokens);
    assert!(!a.is_ready(), "an unanswered ping drops the session");
    assert_eq!(a.next_deadline(), Some(silent + RETRY_FIRST));
    // Back, and the master goes away: EOF, a retry one second later.
    a.on_timers(silent + RETRY_FIRST, &mut tokens);
    let (mut m, _) = listener.accept().unwrap();
    a.on_ready(silent + RETRY_FIRST, &mut tokens, 1, &mut view);
    let open = read_pdu(&mut m);
    respond(&mut m, &open, 78, 0);
    a.on_ready(silent + RETRY_FIRST, &mut tokens, 1, &mut view);
    let reg = read_pdu(&mut m);
    respond(&mut m, &reg, 78, 0);
    a.on_ready(silent + RETRY_FIRST, &mut tokens, 1, &mut view);
    assert!(a.is_ready());
    assert_eq!(a.stats.sessions, 2);
    drop(m);
    let t1 = silent + Duration::from_secs(5);
    a.on_ready(t1, &mut tokens, 1, &mut |_| View::default());
    assert!(!a.is_ready());
    assert_eq!(a.next_deadline(), Some(t1 + RETRY_FIRST));
    // It comes back: connected again at the retry.
    a.on_timers(t1 + RETRY_FIRST, &mut tokens);
    let (mut m2, _) = listener.accept().unwrap();
    a.on_ready(t1 + RETRY_FIRST, &mut tokens, 1, &mut |_| View::default());
    assert!(matches!(read_pdu(&mut m2).body, Body::Open { .. }));
    assert_eq!(a.stats.sessions, 2);
    // Close on shutdown: nothing to close before the session is open.
    a.close(&mut tokens);
    assert_eq!(a.next_deadline(), None);
}
