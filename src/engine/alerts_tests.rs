//! The engine's alerts driven by fake connection events: what VRRP transitions raise
//! (instances, sync groups, `smtp_alert` settings, `no_email_faults`), real-server alerts,
//! and the alerter's timers on the engine's wheel.

use super::RsAlert;
use crate::config::{load_str, LoadOptions};
use crate::engine::Engine;
use crate::event::*;
use crate::sched::Instant;
use std::path::Path;
use std::time::Duration;

const GLOBAL: &str = "global_defs {\n notification_email {\n  ops@example.com\n }\n \
notification_email_from kad@example.com\n smtp_server 127.0.0.1 2525\n \
smtp_connect_timeout 2\n router_id RID1\n EXTRA\n}\n";

const INSTANCE: &str = "vrrp_instance VI_1 {\n state BACKUP\n interface eth0\n \
virtual_router_id 51\n priority 100\n advert_int 1\n ALERT\n virtual_ipaddress {\n  192.0.2.100/32\n }\n}\n";

fn config(extra_global: &str, instance_alert: &str, group: bool) -> crate::config::model::Config {
    let mut text =
        GLOBAL.replace("EXTRA", extra_global) + &INSTANCE.replace("ALERT", instance_alert);
    if group {
        text.push_str("vrrp_sync_group G1 {\n group {\n  VI_1\n }\n smtp_alert\n}\n");
    }
    let loaded = load_str(&text, Path::new("alerts.conf"), &LoadOptions::default());
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    loaded.config
}

fn eth0(up: bool) -> InterfaceState {
    InterfaceState {
        name: "eth0".into(),
        index: 2,
        up,
        mac: [2, 0, 0, 0, 0, 1],
        ipv4: vec!["192.0.2.1".parse().unwrap()],
        ipv6: vec!["fe80::1".parse().unwrap()],
    }
}

fn secs(s: f64) -> Instant {
    Instant::from_nanos((s * 1e9) as u64)
}

struct Run {
    engine: Engine,
    now: Instant,
    /// Alerter actions seen (others dropped).
    smtp: Vec<Action>,
}

impl Run {
    fn start(config: &crate::config::model::Config) -> Run {
        let mut engine = Engine::new(config);
        let now = Instant::ZERO;
        engine.handle(
            now,
            Event::Host(HostInfo {
                hostname: "vm".into(),
                user: "root".into(),
                wall_at_zero_ns: 1_795_836_777_000_000_000,
                utc_offset_secs: 0,
            }),
        );
        engine.handle(now, Event::Interface(eth0(true)));
        engine.handle(now, Event::Startup);
        let mut r = Run {
            engine,
            now,
            smtp: Vec::new(),
        };
        r.collect();
        r
    }

    fn collect(&mut self) {
        while let Some(a) = self.engine.poll_action() {
            let mine = match &a {
                Action::Connect { conn, .. }
                | Action::Send { conn, .. }
                | Action::Close { conn } => conn.owner == ConnOwner::Alerter,
                _ => false,
            };
            if mine {
                self.smtp.push(a);
            }
        }
    }

    /// Fires the engine's timers up to `t`.
    fn until(&mut self, t: Instant) {
        while let Some(d) = self.engine.next_deadline().filter(|d| *d <= t) {
            self.now = d;
            self.engine.step(d, []);
            self.collect();
        }
        self.now = t;
    }

    fn event(&mut self, conn: ConnId, e: ConnEvent) {
        self.engine.step(self.now, [Event::Conn { conn, event: e }]);
        self.collect();
    }

    fn take(&mut self) -> Vec<Action> {
        std::mem::take(&mut self.smtp)
    }

    fn connects(&self) -> Vec<ConnId> {
        self.smtp
            .iter()
            .filter_map(|a| match a {
                Action::Connect { conn, .. } => Some(*conn),
                _ => None,
            })
            .collect()
    }

    /// Plays a well-behaved server on the connection last opened; returns the subject.
    fn serve(&mut self) -> String {
        let conn = *self.connects().last().expect("a connection was opened");
        self.take();
        self.event(conn, ConnEvent::Connected);
        let mut data = String::new();
        for reply in [
            "220 x", "250 x", "250 x", "250 x", "354 x", "250 x", "221 x",
        ] {
            self.event(conn, ConnEvent::Data(format!("{reply}\r\n").into_bytes()));
            for a in &self.smtp {
                if let Action::Send { data: d, .. } = a {
                    data.push_str(&String::from_utf8_lossy(d));
                }
            }
            let closed = self
                .smtp
                .iter()
                .any(|a| matches!(a, Action::Close { conn: c } if *c == conn));
            let next: Vec<Action> = self
                .take()
                .into_iter()
                .filter(|a| matches!(a, Action::Connect { .. }))
                .collect();
            self.smtp = next;
            if closed {
                break;
            }
        }
        data.lines()
            .find_map(|l| l.strip_prefix("Subject: "))
            .unwrap_or_default()
            .to_string()
    }
}

#[test]
fn vrrp_transitions_of_instance_and_group() {
    let mut r = Run::start(&config("", "smtp_alert", true));
    // Startup: BACKUP for the instance, then the group: one connection at a time.
    assert_eq!(r.connects().len(), 1);
    assert_eq!(
        r.serve(),
        "[RID1] VRRP Instance VI_1 - Entering BACKUP state"
    );
    assert_eq!(r.serve(), "[RID1] VRRP Group G1 - Entering BACKUP state");
    assert!(r.connects().is_empty());
    // Alone on the LAN, MASTER at 3.609375 s.
    r.until(secs(3.609375));
    assert_eq!(
        r.serve(),
        "[RID1] VRRP Instance VI_1 - Entering MASTER state"
    );
    assert_eq!(r.serve(), "[RID1] VRRP Group G1 - Entering MASTER state");
    let (stats, waiting) = r.engine.alert_stats();
    assert_eq!(stats.sent, 4);
    assert!(waiting.is_empty());
}

#[test]
fn global_defaults_and_off_switches() {
    // No smtp_alert anywhere: nothing.
    let r = Run::start(&config("", "", false));
    assert!(r.connects().is_empty());
    // Global smtp_alert_vrrp turns it on; the instance's own `smtp_alert off` wins.
    let r = Run::start(&config("smtp_alert_vrrp", "", false));
    assert_eq!(r.connects().len(), 1);
    let r = Run::start(&config("smtp_alert", "smtp_alert off", false));
    assert!(r.connects().is_empty());
}

#[test]
fn fault_alerts_unless_no_email_faults() {
    for (extra, expect_fault) in [("", true), ("no_email_faults", false)] {
        let mut r = Run::start(&config(extra, "smtp_alert", false));
        assert!(r.serve().ends_with("Entering BACKUP state"));
        r.now = secs(1.0);
        r.engine.step(r.now, [Event::Interface(eth0(false))]);
        r.collect();
        if expect_fault {
            assert_eq!(
                r.serve(),
                "[RID1] VRRP Instance VI_1 - Entering FAULT state"
            );
        } else {
            assert!(r.connects().is_empty(), "{extra}");
        }
    }
}

#[test]
fn timeouts_and_retries_run_on_the_engine_wheel() {
    let mut r = Run::start(&config("", "smtp_alert", false));
    let c1 = r.connects()[0];
    r.take();
    // smtp_connect_timeout 2: closed at 2 s; retried 5 s later.
    r.until(secs(1.9));
    assert!(r.take().is_empty());
    r.until(secs(2.0));
    assert_eq!(r.take(), vec![Action::Close { conn: c1 }]);
    r.until(secs(6.9));
    assert!(r.connects().is_empty());
    r.until(secs(7.0));
    let c2 = r.connects()[0];
    assert!(c2.seq > c1.seq);
    assert_eq!(
        r.serve(),
        "[RID1] VRRP Instance VI_1 - Entering BACKUP state"
    );
    // MASTER at 3.609375 was queued meanwhile and follows.
    assert_eq!(
        r.serve(),
        "[RID1] VRRP Instance VI_1 - Entering MASTER state"
    );
}

#[test]
fn real_server_transitions() {
    let mut r = Run::start(&config("", "", false));
    assert!(r.connects().is_empty());
    let t = RsAlert {
        vs: "[192.0.2.100]:tcp:80",
        rs: "[10.0.0.2]:tcp:80",
        up: false,
        checker: "TCP_CHECK",
        reason: Some("connection refused"),
        smtp_alert: true,
    };
    r.engine.checker_changed(r.now, &t);
    r.collect();
    assert_eq!(
        r.serve(),
        "[RID1] Realserver [10.0.0.2]:tcp:80 of virtual server [192.0.2.100]:tcp:80 - DOWN"
    );
    r.engine.checker_changed(
        r.now,
        &RsAlert {
            smtp_alert: false,
            ..t
        },
    );
    r.collect();
    assert!(r.connects().is_empty());
}

#[test]
fn checker_connections_are_not_the_alerters() {
    let mut r = Run::start(&config("", "smtp_alert", false));
    let mine = r.connects()[0];
    r.take();
    let other = ConnId {
        owner: ConnOwner::Checker,
        seq: mine.seq,
    };
    r.event(other, ConnEvent::Connected);
    r.event(other, ConnEvent::Data(b"220 x\r\n".to_vec()));
    assert!(
        r.take().is_empty(),
        "the alerter did not answer a checker's connection"
    );
    r.now += Duration::from_millis(1);
    r.event(mine, ConnEvent::Connected);
    r.event(mine, ConnEvent::Data(b"220 x\r\n".to_vec()));
    assert!(matches!(r.take().as_slice(), [Action::Send { .. }]));
}

#[test]
fn reload_keeps_the_queue_and_takes_the_new_server() {
    let mut r = Run::start(&config("", "smtp_alert", false));
    let c1 = r.connects()[0];
    r.take();
    // The server refuses; the alert waits for its retry at 5 s.
    r.event(c1, ConnEvent::Failed(ConnError::Refused));
    r.now = secs(1.0);
    let mut new = config("", "smtp_alert", false);
    new.global.smtp_server = Some("192.0.2.26".into());
    new.global.smtp_server_port = Some(26);
    r.engine.step(r.now, [Event::Reload(Box::new(new))]);
    r.collect();
    assert!(
        r.connects().is_empty(),
        "no new connection before the retry"
    );
    r.until(secs(5.0));
    let spec = r
        .smtp
        .iter()
        .find_map(|a| match a {
            Action::Connect { spec, .. } => Some(spec.clone()),
            _ => None,
        })
        .expect("the retry");
    assert_eq!(spec.dst, "192.0.2.26".parse::<std::net::IpAddr>().unwrap());
    assert_eq!(spec.port, 26);
    assert_eq!(
        r.serve(),
        "[RID1] VRRP Instance VI_1 - Entering BACKUP state"
    );
}
