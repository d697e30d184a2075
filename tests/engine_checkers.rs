//! The checker runtime driven through the Engine with fake worlds: connections answered
//! by a scripted server table, MISC_CHECK scripts by a scripted exit code, exact instants.
//! Timing is keepalived 2.2.7's (first check 1 s + warmup part, `delay_loop`,
//! `retry + 1` failures spaced by `delay_before_retry`).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

#[path = "engine_util.rs"]
mod util;

use keepalived_rs::engine::Engine;
use keepalived_rs::event::{
    Action, ConnError, ConnEvent, ConnId, Event, ScriptOutcome, ScriptRunId,
};
use keepalived_rs::sched::Instant;
use std::collections::BTreeMap;

fn load(text: &str) -> keepalived_rs::config::model::Config {
    util::load_text(text)
}

fn install_logger() {
    util::logs::install();
}

fn logged(name: &str) -> Vec<String> {
    util::logs::of(name)
}

fn t(s: f64) -> Instant {
    util::secs_to_instant(s)
}

fn secs(i: Instant) -> f64 {
    i.as_nanos() as f64 / 1e9
}

/// How a simulated server answers a connection to its port.
#[derive(Clone, Debug)]
enum Srv {
    Up,
    Refuse,
    Hang,
    /// HTTP: path -> status.
    Http(BTreeMap<String, u16>),
    /// SMTP: the banner's code.
    Smtp(u16),
}

struct Rig {
    engine: Engine,
    now: Instant,
    pending: Vec<(Instant, Event)>,
    servers: BTreeMap<u16, Srv>,
    http_conns: BTreeMap<ConnId, u16>,
    misc_code: Option<i32>,
    log: Vec<(Instant, Action)>,
    /// Paths requested, with their instant.
    requests: Vec<(Instant, String)>,
}

impl Rig {
    fn new(text: &str) -> Rig {
        Rig::seeded(text, 1)
    }

    fn seeded(text: &str, seed: u64) -> Rig {
        Rig::build(text, seed, "")
    }

    /// A rig whose engine prefixes its log lines with `name: ` (see `logged`).
    fn named(text: &str, name: &str) -> Rig {
        Rig::build(text, 1, name)
    }

    fn build(text: &str, seed: u64, name: &str) -> Rig {
        install_logger();
        let mut engine = Engine::new(&load(text));
        engine.set_seed(seed);
        engine.set_log_prefix(name);
        let mut r = Rig {
            engine,
            now: t(0.0),
            pending: Vec::new(),
            servers: BTreeMap::new(),
            http_conns: BTreeMap::new(),
            misc_code: Some(0),
            log: Vec::new(),
            requests: Vec::new(),
        };
        r.engine.handle(t(0.0), Event::Startup);
        r.drain(t(0.0));
        r
    }

    fn drain(&mut self, at: Instant) {
        while let Some(a) = self.engine.poll_action() {
            self.react(at, &a);
            self.log.push((at, a));
        }
    }

    fn react(&mut self, at: Instant, a: &Action) {
        match a {
            Action::Connect { conn, spec } => {
                let ev = match self.servers.get(&spec.port).cloned().unwrap_or(Srv::Refuse) {
                    Srv::Up => Some(ConnEvent::Connected),
                    Srv::Refuse => Some(ConnEvent::Failed(ConnError::Refused)),
                    Srv::Hang => None,
                    Srv::Http(_) => {
                        self.http_conns.insert(*conn, spec.port);
                        Some(ConnEvent::Connected)
                    }
                    Srv::Smtp(code) => {
                        self.http_conns.insert(*conn, spec.port);
                        self.pending.push((
                            at,
                            Event::Conn {
                                conn: *conn,
                                event: ConnEvent::Connected,
                            },
                        ));
                        Some(ConnEvent::Data(format!("{code} mx ESMTP\r\n").into_bytes()))
                    }
                };
                if let Some(event) = ev {
                    self.pending.push((at, Event::Conn { conn: *conn, event }));
                }
            }
            Action::Send { conn, data } => {
                let Some(port) = self.http_conns.get(conn) else {
                    return;
                };
                let text = String::from_utf8_lossy(data).to_string();
                if let Some(Srv::Smtp(_)) = self.servers.get(port) {
                    self.requests.push((at, text.trim_end().to_string()));
                    let answer = if text.starts_with("QUIT") {
                        "221 bye\r\n"
                    } else {
                        "250 hi\r\n"
                    };
                    self.pending.push((
                        at,
                        Event::Conn {
                            conn: *conn,
                            event: ConnEvent::Data(answer.as_bytes().to_vec()),
                        },
                    ));
                    return;
                }
                let path = text.split(' ').nth(1).unwrap_or("").to_string();
                self.requests.push((at, path.clone()));
                let status = match self.servers.get(port) {
                    Some(Srv::Http(m)) => m.get(&path).copied().unwrap_or(404),
                    _ => 500,
                };
                let body = "hello";
                let resp = format!(
                    "HTTP/1.0 {status} X\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                self.pending.push((
                    at,
                    Event::Conn {
                        conn: *conn,
                        event: ConnEvent::Data(resp.into_bytes()),
                    },
                ));
            }
            Action::RunScript { run: Some(run), .. } => {
                if let Some(code) = self.misc_code {
                    self.pending.push((
                        at,
                        Event::ScriptExited {
                            run: *run,
                            outcome: ScriptOutcome::Exited(code),
                        },
                    ));
                }
            }
            _ => {}
        }
    }

    /// Runs the engine until `until` (inclusive).
    fn run_until(&mut self, until: f64) {
        let until = t(until);
        loop {
            let ev = self.pending.iter().map(|(t, _)| *t).min();
            let dl = self.engine.next_deadline();
            let next = match (ev, dl) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => match a.or(b) {
                    Some(x) => x,
                    None => break,
                },
            };
            if next > until {
                break;
            }
            let mut evs = Vec::new();
            let mut rest = Vec::new();
            for (at, e) in self.pending.drain(..) {
                if at == next {
                    evs.push(e);
                } else {
                    rest.push((at, e));
                }
            }
            self.pending = rest;
            self.now = next;
            self.engine.step(next, evs);
            self.drain(next);
        }
        self.now = until;
    }

    fn handle(&mut self, e: Event) {
        let now = self.now;
        self.engine.handle(now, e);
        self.drain(now);
    }

    /// (instant, up, weight) of every RealServerChanged for `rs`.
    fn changes(&self, rs: &str) -> Vec<(f64, bool, i32)> {
        self.log
            .iter()
            .filter_map(|(at, a)| match a {
                Action::RealServerChanged {
                    rs: r, up, weight, ..
                } if r == rs => Some((secs(*at), *up, *weight)),
                _ => None,
            })
            .collect()
    }

    /// Instants of the Connect actions to `port`.
    fn connects(&self, port: u16) -> Vec<f64> {
        self.log
            .iter()
            .filter_map(|(at, a)| match a {
                Action::Connect { spec, .. } if spec.port == port => Some(secs(*at)),
                _ => None,
            })
            .collect()
    }

    /// Fire-and-forget scripts run (notify_up / notify_down), with their instants.
    fn notifies(&self) -> Vec<(f64, Vec<String>)> {
        self.log
            .iter()
            .filter_map(|(at, a)| match a {
                Action::RunScript {
                    run: None, command, ..
                } => Some((secs(*at), command.argv.clone())),
                _ => None,
            })
            .collect()
    }
}

const TCP: &str = r#"
virtual_server 10.0.0.1 80 {
    protocol TCP
    delay_loop 3
    protocol TCP
    real_server 10.0.0.2 8080 {
        weight 5
        notify_up "/bin/up.sh UP"
        notify_down "/bin/down.sh DOWN"
        TCP_CHECK {
            connect_timeout 2
            retry 2
            delay_before_retry 1
            warmup 0
        }
    }
}
"#;

const RS: &str = "[10.0.0.2]:tcp:8080";

#[test]
fn tcp_checks_every_delay_loop_from_one_second() {
    let mut r = Rig::new(TCP);
    r.servers.insert(8080, Srv::Up);
    r.run_until(10.5);
    assert_eq!(r.connects(8080), vec![1.0, 4.0, 7.0, 10.0]);
    assert!(r.changes(RS).is_empty(), "already up: no transition");
    // Every connection that connected is closed by the engine.
    let closes = r
        .log
        .iter()
        .filter(|(_, a)| matches!(a, Action::Close { .. }))
        .count();
    assert_eq!(closes, 4);
}

#[test]
fn tcp_goes_down_after_retry_plus_one_failures_spaced_by_delay_before_retry() {
    let mut r = Rig::new(TCP);
    r.servers.insert(8080, Srv::Up);
    r.run_until(8.5);
    r.servers.insert(8080, Srv::Refuse);
    r.run_until(14.0);
    // 10: fail, 11: retry, 12: retry -> down (retry 2 = 3 failures).
    assert_eq!(r.connects(8080), vec![1.0, 4.0, 7.0, 10.0, 11.0, 12.0]);
    assert_eq!(r.changes(RS), vec![(12.0, false, 5)]);
    assert_eq!(
        r.notifies(),
        vec![(12.0, vec!["/bin/down.sh".to_string(), "DOWN".to_string()])]
    );
    // Down: the cycle goes on (15, 16, 17 fail), then 20 succeeds: up at 20.
    r.servers.insert(8080, Srv::Up);
    r.run_until(14.5);
    r.servers.insert(8080, Srv::Refuse);
    r.run_until(17.5);
    r.servers.insert(8080, Srv::Up);
    r.run_until(21.0);
    assert_eq!(
        r.connects(8080)[6..],
        [15.0, 16.0, 17.0, 20.0],
        "retries run while down too"
    );
    assert_eq!(r.changes(RS), vec![(12.0, false, 5), (20.0, true, 5)]);
    assert_eq!(r.notifies().last().unwrap().1[1], "UP");
    let snap = r.engine.snapshot(r.now);
    let rs = &snap.virtual_servers[0].real_servers[0];
    assert!(rs.up);
    assert_eq!((rs.up_transitions, rs.down_transitions), (1, 1));
    assert_eq!(rs.checkers[0].failures, 6);
}

#[test]
fn the_first_failure_decides_at_once() {
    let mut r = Rig::new(TCP);
    r.run_until(4.5);
    assert_eq!(r.connects(8080), vec![1.0, 4.0]);
    assert_eq!(r.changes(RS), vec![(1.0, false, 5)]);
}

#[test]
fn connect_timeout_is_a_failure_and_closes_the_connection() {
    let text = TCP.replace("retry 2", "retry 0");
    let mut r = Rig::new(&text);
    r.servers.insert(8080, Srv::Hang);
    r.run_until(3.5);
    assert_eq!(r.changes(RS), vec![(3.0, false, 5)]);
    assert!(r
        .log
        .iter()
        .any(|(at, a)| *at == t(3.0) && matches!(a, Action::Close { .. })));
    // The next check is a delay_loop after the timeout.
    r.run_until(6.5);
    assert_eq!(r.connects(8080), vec![1.0, 6.0]);
}

#[test]
fn alpha_starts_down_and_the_first_success_brings_it_up() {
    let text = TCP.replace("weight 5", "weight 5\n        alpha");
    let mut r = Rig::new(&text);
    let snap = r.engine.snapshot(t(0.0));
    assert!(!snap.virtual_servers[0].real_servers[0].up);
    r.servers.insert(8080, Srv::Up);
    r.run_until(2.0);
    assert_eq!(r.changes(RS), vec![(1.0, true, 5)]);
    assert_eq!(r.notifies()[0].1[1], "UP");
}

#[test]
fn inhibit_on_failure_reports_weight_zero() {
    let text = TCP.replace("weight 5", "weight 5\n        inhibit_on_failure");
    let mut r = Rig::new(&text);
    r.run_until(1.5);
    assert_eq!(r.changes(RS), vec![(1.0, false, 0)]);
}

#[test]
fn omega_runs_the_down_notifier_of_servers_up_at_shutdown() {
    let text = TCP.replace("delay_loop 3", "delay_loop 3\n    omega");
    let mut r = Rig::new(&text);
    r.servers.insert(8080, Srv::Hang);
    r.run_until(1.5);
    r.handle(Event::Shutdown);
    assert_eq!(
        r.notifies(),
        vec![(1.5, vec!["/bin/down.sh".into(), "DOWN".into()])]
    );
    // The connection in flight is closed and no timer is left.
    assert!(matches!(
        r.log.last().map(|x| &x.1),
        Some(Action::RunScript { .. })
    ));
    assert!(r
        .log
        .iter()
        .any(|(at, a)| *at == t(1.5) && matches!(a, Action::Close { .. })));
    assert_eq!(r.engine.next_deadline(), None);
}

#[test]
fn warmup_spreads_first_checks_over_one_to_one_plus_warmup_seconds() {
    let mut text = String::from("virtual_server 10.0.0.1 80 {\n delay_loop 30\n warmup 4\n");
    for i in 0..40 {
        text.push_str(&format!(
            " real_server 10.0.1.{i} {} {{ TCP_CHECK {{ }} }}\n",
            9000 + i
        ));
    }
    text.push_str("}\n");
    let firsts = |seed: u64| -> Vec<f64> {
        let mut r = Rig::seeded(&text, seed);
        r.run_until(6.0);
        (0..40).map(|i| r.connects(9000 + i)[0]).collect()
    };
    let a = firsts(7);
    assert!(a.iter().all(|&x| (1.0..5.0).contains(&x)), "{a:?}");
    let spread =
        a.iter().cloned().fold(f64::MIN, f64::max) - a.iter().cloned().fold(f64::MAX, f64::min);
    assert!(spread > 1.0, "warmup spreads the first checks: {a:?}");
    assert_eq!(a, firsts(7), "same seed, same instants");
    assert_ne!(a, firsts(8));
}

const MISC: &str = r#"
virtual_server 10.0.0.1 80 {
    protocol TCP
    delay_loop 3
    protocol TCP
    real_server 10.0.0.3 80 {
        weight 3
        MISC_CHECK {
            misc_path "/bin/check.sh"
            misc_dynamic
            warmup 0
        }
    }
}
"#;

#[test]
fn misc_dynamic_sets_weights_and_exit_one_is_down() {
    let mut r = Rig::new(MISC);
    let rs = "[10.0.0.3]:tcp:80";
    r.misc_code = Some(5);
    r.run_until(2.0);
    assert!(r.changes(rs).is_empty(), "exit 5 = weight 3 = configured");
    r.misc_code = Some(7);
    r.run_until(5.0);
    assert_eq!(r.changes(rs), vec![(4.0, true, 5)]);
    r.misc_code = Some(1);
    r.run_until(8.0);
    assert_eq!(r.changes(rs)[1], (7.0, false, 5));
    r.misc_code = Some(0);
    r.run_until(11.0);
    assert_eq!(r.changes(rs)[2], (10.0, true, 5), "exit 0 keeps the weight");
    r.misc_code = Some(2);
    r.run_until(14.0);
    assert_eq!(r.changes(rs)[3], (13.0, true, 0));
    // The script runs with its timeout: misc_timeout defaults to delay_loop.
    let timeouts: Vec<_> = r
        .log
        .iter()
        .filter_map(|(_, a)| match a {
            Action::RunScript {
                run: Some(_),
                timeout,
                ..
            } => Some(*timeout),
            _ => None,
        })
        .collect();
    assert!(timeouts
        .iter()
        .all(|t| *t == Some(std::time::Duration::from_secs(3))));
}

#[test]
fn misc_timeout_is_a_failure_and_shutdown_kills_the_script() {
    let text = MISC.replace("misc_dynamic", "misc_timeout 2");
    let mut r = Rig::new(&text);
    r.misc_code = None;
    r.run_until(1.0);
    let run = r
        .log
        .iter()
        .find_map(|(_, a)| match a {
            Action::RunScript {
                run: Some(run),
                timeout,
                ..
            } => {
                assert_eq!(*timeout, Some(std::time::Duration::from_secs(2)));
                Some(*run)
            }
            _ => None,
        })
        .unwrap();
    r.run_until(3.0);
    r.handle(Event::ScriptExited {
        run,
        outcome: ScriptOutcome::TimedOut,
    });
    assert_eq!(r.changes("[10.0.0.3]:tcp:80"), vec![(3.0, false, 3)]);
    r.run_until(6.0);
    r.handle(Event::Shutdown);
    assert!(r
        .log
        .iter()
        .any(|(_, a)| matches!(a, Action::KillScript { .. })));
    // A run id the checkers do not own is not theirs (track scripts keep theirs).
    r.handle(Event::ScriptExited {
        run: ScriptRunId(999_999),
        outcome: ScriptOutcome::Exited(0),
    });
}

const HTTP: &str = r#"
virtual_server 10.0.0.1 80 {
    protocol TCP
    delay_loop 3
    protocol TCP
    real_server 10.0.0.4 8081 {
        HTTP_GET {
            url { path /u1 }
            url { path /u2 }
            url { path /u3 }
            warmup 0
            retry 1
            delay_before_retry 1
        }
    }
}
"#;

fn http_ok(paths: &[&str]) -> Srv {
    Srv::Http(paths.iter().map(|p| (p.to_string(), 200)).collect())
}

fn paths(r: &Rig) -> Vec<(f64, String)> {
    r.requests
        .iter()
        .map(|(at, p)| (secs(*at), p.clone()))
        .collect()
}

#[test]
fn http_fetches_one_url_per_delay_loop_round_robin() {
    let mut r = Rig::new(HTTP);
    r.servers.insert(8081, http_ok(&["/u1", "/u2", "/u3"]));
    r.run_until(10.5);
    let p: Vec<String> = paths(&r).into_iter().map(|x| x.1).collect();
    assert_eq!(p, ["/u1", "/u2", "/u3", "/u1"]);
    assert_eq!(r.connects(8081), vec![1.0, 4.0, 7.0, 10.0]);
    // /u2 breaks: retried once after 1 s, then down.
    r.servers.insert(8081, http_ok(&["/u1", "/u3"]));
    r.run_until(16.0);
    assert_eq!(
        paths(&r)[4..],
        [(13.0, "/u2".to_string()), (14.0, "/u2".to_string())]
    );
    assert_eq!(r.changes("[10.0.0.4]:tcp:8081"), vec![(14.0, false, 1)]);
}

#[test]
fn http_down_comes_up_once_every_url_passed_one_per_loop() {
    let text = HTTP.replace("HTTP_GET {", "alpha\n        HTTP_GET {");
    let mut r = Rig::new(&text);
    r.servers.insert(8081, http_ok(&["/u1", "/u2", "/u3"]));
    r.run_until(8.0);
    assert_eq!(
        paths(&r),
        [
            (1.0, "/u1".to_string()),
            (4.0, "/u2".to_string()),
            (7.0, "/u3".to_string())
        ]
    );
    assert_eq!(r.changes("[10.0.0.4]:tcp:8081"), vec![(7.0, true, 1)]);
}

#[test]
fn http_fast_recovery_checks_every_url_back_to_back() {
    let text = HTTP.replace(
        "HTTP_GET {",
        "alpha\n        HTTP_GET {\n            fast_recovery",
    );
    let mut r = Rig::new(&text);
    r.servers.insert(8081, http_ok(&["/u1", "/u2", "/u3"]));
    r.run_until(2.0);
    let p: Vec<(f64, String)> = paths(&r);
    assert_eq!(p.len(), 3);
    assert!(p.iter().all(|(at, _)| *at == 1.0), "{p:?}");
    assert_eq!(r.changes("[10.0.0.4]:tcp:8081"), vec![(1.0, true, 1)]);
    // Up again: one url per loop.
    r.run_until(5.0);
    assert_eq!(paths(&r).len(), 4);
}

#[test]
fn http_a_failing_url_is_retried_not_skipped_while_down() {
    let text = HTTP.replace("HTTP_GET {", "alpha\n        HTTP_GET {");
    let mut r = Rig::new(&text);
    r.servers.insert(8081, http_ok(&["/u1", "/u3"]));
    r.run_until(7.5);
    // /u1 passes at 1, /u2 fails at 4 (retry at 5), then /u2 again.
    let p: Vec<String> = paths(&r).into_iter().map(|x| x.1).collect();
    assert_eq!(p, ["/u1", "/u2", "/u2"]);
    r.servers.insert(8081, http_ok(&["/u1", "/u2", "/u3"]));
    r.run_until(15.0);
    let p: Vec<String> = paths(&r).into_iter().map(|x| x.1).collect();
    assert_eq!(
        p[3..],
        ["/u2", "/u3", "/u1"],
        "every url again since the failure"
    );
    assert_eq!(r.changes("[10.0.0.4]:tcp:8081"), vec![(14.0, true, 1)]);
}

#[test]
fn reload_keeps_checker_state_and_starts_new_servers() {
    let mut r = Rig::new(TCP);
    r.run_until(1.5);
    assert_eq!(r.changes(RS), vec![(1.0, false, 5)]);
    let two = TCP.replace(
        "    }\n}\n",
        "    }\n    real_server 10.0.0.9 8090 {\n        TCP_CHECK { warmup 0 }\n    }\n}\n",
    );
    let cfg = load(&two);
    r.handle(Event::Reload(Box::new(cfg)));
    let snap = r.engine.snapshot(r.now);
    let rss = &snap.virtual_servers[0].real_servers;
    assert_eq!(rss.len(), 2);
    assert!(!rss[0].up, "kept its state");
    assert_eq!(rss[0].down_transitions, 1);
    assert!(rss[0].checkers[0].has_run);
    r.servers.insert(8090, Srv::Up);
    r.run_until(4.5);
    // The old checker keeps its schedule (4.0); the new one starts 1 s after the reload.
    assert_eq!(r.connects(8080), vec![1.0, 4.0]);
    assert_eq!(r.connects(8090), vec![2.5]);
    assert_eq!(r.changes(RS).len(), 1, "no transition from the reload");
    // Removing the server stops its checker.
    r.handle(Event::Reload(Box::new(load(TCP))));
    r.run_until(20.0);
    assert_eq!(r.connects(8090), vec![2.5]);
}

#[test]
fn file_check_follows_the_track_file_value() {
    let text = r#"
track_file f1 {
    file "/tmp/f1"
    weight 0
}
virtual_server 10.0.0.1 80 {
    protocol TCP
    real_server 10.0.0.5 80 {
        FILE_CHECK { track_file f1 }
    }
}
"#;
    let mut r = Rig::new(text);
    let rs = "[10.0.0.5]:tcp:80";
    r.handle(Event::TrackFileValue {
        name: "f1".into(),
        value: Some(3),
    });
    r.run_until(1.0);
    r.handle(Event::TrackFileValue {
        name: "f1".into(),
        value: Some(0),
    });
    assert_eq!(r.changes(rs), vec![(0.0, false, 1), (1.0, true, 1)]);
}

#[test]
fn checker_transitions_are_kept_for_the_alerter() {
    let mut r = Rig::new(TCP);
    r.run_until(1.5);
    let tr = r.engine.take_rs_transitions();
    assert_eq!(tr.len(), 1);
    assert_eq!(tr[0].rs, RS);
    assert_eq!(tr[0].vs, "[10.0.0.1]:tcp:80");
    assert!(!tr[0].up);
    assert_eq!(tr[0].checker, "TCP_CHECK");
    assert!(r.engine.take_rs_transitions().is_empty());
}

#[test]
fn a_server_without_checkers_is_always_up_and_unimplemented_checkers_are_ignored() {
    let text = r#"
virtual_server 10.0.0.1 80 {
    protocol TCP
    real_server 10.0.0.6 80 {
    }
    real_server 10.0.0.7 80 {
        BFD_CHECK { name b1 }
    }
}
bfd_instance b1 {
    neighbor_ip 10.0.0.7
}
"#;
    let mut r = Rig::new(text);
    r.run_until(100.0);
    let snap = r.engine.snapshot(r.now);
    let rss = &snap.virtual_servers[0].real_servers;
    assert!(rss[0].up && rss[1].up);
    assert!(!rss[1].checkers[0].enabled);
    assert!(r
        .log
        .iter()
        .all(|(_, a)| !matches!(a, Action::Connect { .. })));
}

#[test]
fn dumps_show_real_servers_and_checkers() {
    use keepalived_rs::status::{self, metrics, HostFacts};
    let text = TCP.replace("weight 5", "weight 5\n        inhibit_on_failure");
    let mut r = Rig::new(&text);
    r.run_until(1.5);
    let snap = r.engine.snapshot(r.now);
    let facts = HostFacts {
        hostname: "lb1".into(),
        ..HostFacts::default()
    };
    let data = status::render_check_data(&snap, &facts);
    for want in [
        "------< LVS Topology >------\n",
        " VS VIP = 10.0.0.1, VPORT = 80\n",
        "   delay_loop = 3.000000\n",
        "   protocol = TCP\n",
        "   RIP = 10.0.0.2, RPORT = 8080, WEIGHT = 5 EFF WEIGHT = 5\n",
        "   Inhibit on failure is ON\n",
        "     RS down notify script = '/bin/down.sh' 'DOWN', uid:gid 0:0\n",
        "   alive = 0\n",
        "   num failed checkers = 1\n",
        "------< Health checkers >------\n [10.0.0.1]:tcp:80 -> [10.0.0.2]:tcp:8080\n",
        "   Up = no\n   Has run = yes\n",
        "   Retries = 2\n   Delay before retry = 1000000 us\n   Retries iterations = 0\n",
        "     Dest = [10.0.0.2]:8080\n     Timeout = 2.000000\n   Keepalive method = TCP_CHECK\n",
    ] {
        assert!(data.contains(want), "missing {want:?} in\n{data}");
    }
    let m = metrics::render_metrics(&snap, &facts, &[], metrics::Format::Prometheus);
    assert!(
        m.contains("keepalived_lvs_rs_up{vs=\"[10.0.0.1]:tcp:80\",rs=\"[10.0.0.2]:tcp:8080\"} 0\n"),
        "{m}"
    );
    assert!(m.contains("keepalived_lvs_rs_transitions_total{vs=\"[10.0.0.1]:tcp:80\",rs=\"[10.0.0.2]:tcp:8080\",to=\"down\"} 1\n"), "{m}");
    assert!(m.contains("keepalived_checker_failures_total{vs=\"[10.0.0.1]:tcp:80\",rs=\"[10.0.0.2]:tcp:8080\",checker=\"TCP_CHECK\",index=\"0\"} 1\n"), "{m}");
    let live = status::live::render_status_json(&snap, &facts, &[]);
    assert!(
        live.contains("\"real_servers\":[{\"virtual_server\":\"[10.0.0.1]:tcp:80\""),
        "{live}"
    );
    assert!(live.contains("\"state\":\"DOWN\""), "{live}");
}

#[test]
fn vrrp_timers_fire_before_checker_timers_of_the_same_instant() {
    let text = format!(
        "{}\nvrrp_instance VI {{\n  interface eth0\n  virtual_router_id 51\n  priority 255\n  advert_int 1\n  virtual_ipaddress {{ 192.0.2.1 }}\n}}\n",
        TCP.replace("warmup 0", "warmup 0\n            delay_loop 1")
    );
    let mut engine = Engine::new(&load(&text));
    engine.handle(
        t(0.0),
        Event::Interface(keepalived_rs::event::InterfaceState {
            name: "eth0".into(),
            index: 2,
            up: true,
            mac: [2, 0, 0, 0, 0, 1],
            ipv4: vec!["192.0.2.1".parse().unwrap()],
            ipv6: vec!["fe80::1".parse().unwrap()],
        }),
    );
    engine.handle(t(0.0), Event::Startup);
    let mut order = Vec::new();
    let mut now = t(0.0);
    while now < t(8.0) {
        let Some(d) = engine.next_deadline() else {
            break;
        };
        now = d;
        engine.step(now, Vec::new());
        while let Some(a) = engine.poll_action() {
            match a {
                Action::SendAdvert(_) => order.push((secs(now), "advert")),
                Action::Connect { conn, .. } => {
                    order.push((secs(now), "connect"));
                    engine.handle(
                        now,
                        Event::Conn {
                            conn,
                            event: ConnEvent::Connected,
                        },
                    );
                }
                _ => {}
            }
        }
    }
    // The address owner is Master at once and adverts every second; checks run every
    // second from 1 s (their timers were armed first, at start-up): at each instant both
    // are due, and the advert is sent first.
    let mut shared = 0;
    for w in order.windows(2) {
        if w[0].0 == w[1].0 {
            assert!(
                !(w[0].1 == "connect" && w[1].1 == "advert"),
                "an advert after a check at {}: {order:?}",
                w[0].0
            );
            shared += usize::from(w[0].1 != w[1].1);
        }
    }
    assert!(shared >= 3, "{order:?}");
}

#[test]
fn a_real_server_transition_raises_an_email_alert() {
    let text = format!(
        "global_defs {{\n  router_id lb1\n  smtp_server 192.0.2.25\n  notification_email {{ ops@example.com }}\n  notification_email_from lb1@example.com\n}}\n{TCP}"
    );
    let mut r = Rig::new(&text);
    r.run_until(1.5);
    let alerts: Vec<f64> = r
        .log
        .iter()
        .filter_map(|(at, a)| match a {
            Action::Connect { conn, spec }
                if conn.owner == keepalived_rs::event::ConnOwner::Alerter =>
            {
                assert_eq!(spec.port, 25);
                Some(secs(*at))
            }
            _ => None,
        })
        .collect();
    assert_eq!(alerts, vec![1.0]);
    let (_, waiting) = r.engine.alert_stats();
    assert_eq!(
        waiting,
        vec![
            "[lb1] Realserver [10.0.0.2]:tcp:8080 of virtual server [10.0.0.1]:tcp:80 - DOWN"
                .to_string()
        ]
    );
}

#[test]
fn smtp_check_says_helo_and_judges_the_banner() {
    let text = r#"
virtual_server 10.0.0.1 25 {
    protocol TCP
    delay_loop 3
    real_server 10.0.0.8 25 {
        SMTP_CHECK {
            helo_name lb1.example.com
            warmup 0
            retry 0
        }
    }
}
"#;
    let mut r = Rig::new(text);
    r.servers.insert(25, Srv::Smtp(220));
    r.run_until(2.0);
    let said: Vec<String> = r.requests.iter().map(|x| x.1.clone()).collect();
    assert_eq!(said[0], "HELO lb1.example.com");
    assert!(r.changes("[10.0.0.8]:tcp:25").is_empty());
    r.servers.insert(25, Srv::Smtp(554));
    r.run_until(5.0);
    assert_eq!(r.changes("[10.0.0.8]:tcp:25"), vec![(4.0, false, 1)]);
}

/// keepalived 2.2.7's `keepalived_check.data` for this configuration (SIGUSR1 three
/// seconds after start, before any check ran, FILE_CHECK value 1): our lines must be
/// its lines, block by block.
#[test]
fn check_data_matches_keepalived_2_2_7() {
    use keepalived_rs::status::{self, HostFacts};
    let text = r#"
track_file tf1 {
  file /tmp/fileval
  weight 2
}
virtual_server fwmark 5 {
  delay_loop 3
  lvs_sched rr
  lvs_method NAT
  persistence_timeout 50
  real_server 127.0.0.1 9101 {
    weight 5
    HTTP_GET {
      url {
        path /u1
        digest 5d41402abc4b2a76b9719d911017c592
        status_code 200-299 404
      }
      url {
        path /u2
      }
      connect_timeout 2
      bindto 127.0.0.1
      bind_port 40000
      fwmark 7
      fast_recovery
      virtualhost www.example.com
    }
  }
  real_server 127.0.0.2 25 {
    SMTP_CHECK {
      helo_name lb1
    }
    FILE_CHECK {
      track_file tf1
      dynamic
    }
  }
}
"#;
    let mut r = Rig::new(text);
    r.handle(Event::TrackFileValue {
        name: "tf1".into(),
        value: Some(1),
    });
    let snap = r.engine.snapshot(r.now);
    let ours = status::render_check_data(&snap, &HostFacts::default());
    let theirs = [
        " VS FWMARK = 5\n   Address family = inet\n   connection timeout = 5.000000\n   delay_loop = 3.000000\n   lvs_sched = rr\n   Hashed = disabled\n   flag-1 = disabled\n   flag-2 = disabled\n   flag-3 = disabled\n   One packet scheduling = disabled\n   persistence timeout = 50\n   protocol = none\n   alpha is OFF\n   omega is OFF\n   Inhibit on failure is OFF\n   quorum = 1, hysteresis = 0\n   Using smtp notification = no\n   default forwarding method = NAT\n   alive = 1\n   quorum_state_up = 1\n   reloaded = 0\n",
        "   RIP = 127.0.0.2, RPORT = 25, WEIGHT = 3 EFF WEIGHT = 3\n   forwarding method = NAT\n   Alpha is OFF\n   connection timeout = 5.000000\n   connection limit range = 0 -> 0\n   Delay loop = 3.000000\n   Inhibit on failure is OFF\n   Using smtp notification = yes\n   initial weight = 1\n   effective weight = 3\n   previous effective_weight = 0\n",
        "   Tracked Files\n     tf1, weight 2\n------< Health checkers >------\n FWM 5 -> [127.0.0.1]:none:9101\n   Enabled = yes\n   Up = yes\n   Has run = no\n   Current weight = 0\n   Alpha = no\n   Delay loop = 3000000 us\n   Warmup = 3000000 us\n   Retries = 1\n   Delay before retry = 3000000 us\n",
        "   Default delay before retry = 3000000 us\n   Log all failures = no\n   Connection\n     Dest = [127.0.0.1]:9101\n     Bind to = [127.0.0.1]:40000\n     Mark = 7\n     Timeout = 2.000000\n   Keepalive method = HTTP_GET, http protocol 1.0\n   Virtualhost = www.example.com\n   Enable SNI unset\n   Fast recovery set\n   Checked url = /u1\n     digest = 5d41402abc4b2a76b9719d911017c592\n     HTTP Status Code(s)\n       200-299\n       404\n   Checked url = /u2\n     HTTP Status Code(s)\n       200-299\n FWM 5 -> [127.0.0.2]:none:25\n",
        "   Connection\n     Dest = [127.0.0.2]:25\n     Timeout = 5.000000\n   Keepalive method = SMTP_CHECK\n   helo = lb1\n FWM 5 -> [127.0.0.2]:none:25\n   Enabled = yes\n   Up = yes\n   Has run = yes\n   Current weight = 2\n   Log all failures = no\n   Keepalive method = FILE_CHECK\n     Tracked file = tf1\n     Reloaded = No\n------< Checker track files >------\n Track file = tf1\n   File = /tmp/fileval\n   Status = 1\n   Weight = 2\n   Tracking instances :\n     FWM 5 -> [127.0.0.2]:none:25, weight 2\n",
    ];
    for block in theirs {
        assert!(ours.contains(block), "missing:\n{block}\nin:\n{ours}");
    }
}

#[test]
fn keepalived_s_log_lines() {
    let text = format!(
        "{}\n{}",
        TCP.replace("weight 5", "weight 5\n        inhibit_on_failure"),
        MISC.replace("virtual_server 10.0.0.1 80", "virtual_server 10.0.0.1 81")
    );
    let mut r = Rig::named(&text, "logs1");
    r.misc_code = Some(5);
    r.servers.insert(8080, Srv::Up);
    r.run_until(2.0);
    r.servers.insert(8080, Srv::Refuse);
    r.misc_code = Some(1);
    r.run_until(10.0);
    r.servers.insert(8080, Srv::Up);
    r.misc_code = Some(7);
    r.run_until(16.5);
    let lines = logged("logs1");
    let want = [
        "Activating healthchecker for service [10.0.0.2]:tcp:8080 for VS [10.0.0.1]:tcp:80",
        "Activating healthchecker for service [10.0.0.3]:tcp:80 for VS [10.0.0.1]:tcp:81",
        "TCP connection to [10.0.0.2]:tcp:8080 success.",
        "Misc check for [[10.0.0.3]:tcp:80 VS [10.0.0.1]:tcp:81] by [/bin/check.sh] succeeded.",
        "Misc check for [[10.0.0.3]:tcp:80 VS [10.0.0.1]:tcp:81] by [/bin/check.sh] failed with retry disabled (exited with status 1).",
        "Removing service [10.0.0.3]:tcp:80 from VS [10.0.0.1]:tcp:81",
        "TCP_CHECK on service [10.0.0.2]:tcp:8080 failed after 2 retries.",
        "Disabling service [10.0.0.2]:tcp:8080 of VS [10.0.0.1]:tcp:80",
        "TCP connection to [10.0.0.2]:tcp:8080 success.",
        "Enabling service [10.0.0.2]:tcp:8080 of VS [10.0.0.1]:tcp:80",
        "Changing weight from 3 to 5 for inactive service [10.0.0.3]:tcp:80 of VS [10.0.0.1]:tcp:81",
        "Misc check for [[10.0.0.3]:tcp:80 VS [10.0.0.1]:tcp:81] by [/bin/check.sh] succeeded.",
        "Adding service [10.0.0.3]:tcp:80 to VS [10.0.0.1]:tcp:81",
    ];
    let mut it = lines.iter();
    for w in want {
        assert!(
            it.any(|l| l == w),
            "missing or out of order: {w:?}\nall lines:\n{}",
            lines.join("\n")
        );
    }
}

#[test]
fn keepalived_s_http_log_lines() {
    let text = HTTP.replace("HTTP_GET {", "alpha\n        HTTP_GET {");
    let mut r = Rig::named(&text, "logs2");
    r.servers.insert(8081, http_ok(&["/u1", "/u2", "/u3"]));
    r.run_until(8.0);
    r.servers.insert(8081, http_ok(&["/u1", "/u3"]));
    r.run_until(17.0);
    let lines = logged("logs2");
    let want = [
        "HTTP status code success to [10.0.0.4]:tcp:8081 url(/u1)",
        "HTTP status code success to [10.0.0.4]:tcp:8081 url(/u2)",
        "HTTP status code success to [10.0.0.4]:tcp:8081 url(/u3)",
        "Remote Web server [10.0.0.4]:tcp:8081 succeed on service.",
        "HTTP status code error to server [10.0.0.4]:tcp:8081.",
        "HTTP_CHECK on service [10.0.0.4]:tcp:8081 failed after 1 retries.",
        "Removing service [10.0.0.4]:tcp:8081 from VS [10.0.0.1]:tcp:80",
    ];
    let mut it = lines.iter();
    for w in want {
        assert!(
            it.any(|l| l == w),
            "missing or out of order: {w:?}\nall lines:\n{}",
            lines.join("\n")
        );
    }
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("HTTP status code error"))
            .count(),
        1,
        "the retried failure is not logged: {lines:?}"
    );
}
