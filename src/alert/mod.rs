//! E-mail alerts (`smtp_alert`), keepalived's way: what is sent and when (`compose`:
//! subjects and bodies; `enabled`: which `smtp_alert` setting applies), the waiting
//! alerts (`queue`: bounded, drop-oldest, retry backoff), and the [`Alerter`] that
//! delivers them one at a time through `smtp::client` over connections the world opens
//! (`Action::Connect` with owner `ConnOwner::Alerter`).
//!
//! Pure: time comes with each call, the wall-clock `Date:` from the world's
//! [`HostInfo`] (wall clock at the engine's instant zero, plus the event's instant), and
//! every effect is an action or a timer of the engine's wheel.
//!
//! Unlike keepalived, which opens one connection per alert at once and forgets an alert
//! its server did not take, the alerter keeps a bounded queue, delivers one alert at a time
//! in the order they were raised, and retries an alert the server did not take for a
//! transient reason (refused or unreachable connection, timeout, close, 4xx) with a
//! doubling backoff, then gives up with a log line. A 5xx answer is final.

pub mod compose;
pub mod enabled;
pub mod queue;

use crate::config::model::GlobalDefs;
use crate::event::{Action, ConnEvent, ConnId, ConnOwner, ConnectSpec, HostInfo, Timer, Transport};
use crate::sched::{Instant, TimerHandle, TimerWheel};
use crate::smtp::client::{Client, Envelope, Step};
use crate::smtp::message::Message;
use crate::status::WallTime;
use compose::Text;
use queue::{Policy, Queue};
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// The alerter's configuration, from `global_defs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// `smtp_server IP [PORT]` (None: no server, or a name this version does not resolve).
    pub server: Option<SocketAddr>,
    pub helo_name: Option<String>,
    pub from: Option<String>,
    pub to: Vec<String>,
    /// `smtp_connect_timeout`: for the connection and for each answer.
    pub timeout: Duration,
    pub router_id: Option<String>,
    /// `no_email_faults`: no alert for FAULT transitions.
    pub no_email_faults: bool,
    pub policy: Policy,
}

impl Settings {
    /// The settings of `g`, and what cannot be honoured (for the log).
    pub fn from_global(g: &GlobalDefs) -> (Settings, Vec<String>) {
        let mut notes = Vec::new();
        let server = g
            .smtp_server
            .as_deref()
            .and_then(|s| match s.parse::<IpAddr>() {
                Ok(ip) => Some(SocketAddr::new(ip, g.smtp_server_port.unwrap_or(25))),
                Err(_) => {
                    notes.push(format!(
                        "smtp_server {s}: host names are not resolved by this version; \
                     give an IP address - no e-mail alert will be sent"
                    ));
                    None
                }
            });
        let settings = Settings {
            server,
            helo_name: g.smtp_helo_name.clone(),
            from: g.notification_email_from.clone(),
            to: g.notification_email.clone(),
            timeout: g.smtp_connect_timeout,
            router_id: g.router_id.clone(),
            no_email_faults: g.no_email_faults,
            policy: Policy::default(),
        };
        (settings, notes)
    }
}

/// Counters (the status dump's and the tests').
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AlertStats {
    /// Alerts raised and queued.
    pub queued: u64,
    /// Delivered (the server accepted the message).
    pub sent: u64,
    /// Dropped because the queue was full.
    pub dropped: u64,
    /// Refused for good (5xx) or given up after the last attempt.
    pub failed: u64,
    /// Failed attempts that were retried.
    pub retries: u64,
}

/// What the alerter needs of the engine for one call.
pub struct Io<'a> {
    pub now: Instant,
    pub wheel: &'a mut TimerWheel<Timer>,
    pub actions: &'a mut VecDeque<Action>,
    /// The engine's connection sequence (shared with the checkers).
    pub next_conn: &'a mut u64,
    /// The log prefix of the host (simulations).
    pub prefix: &'a str,
}

/// The delivery in progress.
#[derive(Debug)]
struct Active {
    conn: ConnId,
    client: Client,
    timer: Option<TimerHandle>,
}

/// The SMTP alerter of one engine.
#[derive(Debug)]
pub struct Alerter {
    settings: Settings,
    host: HostInfo,
    queue: Queue,
    active: Option<Active>,
    retry: Option<TimerHandle>,
    stats: AlertStats,
}

impl Default for Alerter {
    fn default() -> Alerter {
        Alerter::new(Settings::from_global(&GlobalDefs::default()).0)
    }
}

/// `[127.0.0.1]:25`, as keepalived names the server.
fn server_name(s: SocketAddr) -> String {
    format!("[{}]:{}", s.ip(), s.port())
}

impl Alerter {
    pub fn new(settings: Settings) -> Alerter {
        Alerter {
            settings,
            host: HostInfo::default(),
            queue: Queue::default(),
            active: None,
            retry: None,
            stats: AlertStats::default(),
        }
    }

    /// New settings (reload); alerts already queued stay and go to the new server.
    pub fn configure(&mut self, settings: Settings) {
        self.settings = settings;
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The world's facts about the host.
    pub fn set_host(&mut self, host: HostInfo) {
        self.host = host;
    }

    pub fn host(&self) -> &HostInfo {
        &self.host
    }

    /// A server and at least one recipient are configured.
    pub fn can_send(&self) -> bool {
        self.settings.server.is_some() && !self.settings.to.is_empty()
    }

    /// `router_id`, default the host name.
    pub fn router_id(&self) -> String {
        match &self.settings.router_id {
            Some(r) => r.clone(),
            None => self.host.hostname.clone(),
        }
    }

    pub fn stats(&self) -> AlertStats {
        self.stats
    }

    /// The subjects of the alerts waiting, the one being delivered first.
    pub fn waiting(&self) -> Vec<String> {
        self.queue.subjects()
    }

    /// The `Date:` of an alert raised at `now`.
    fn date(&self, now: Instant) -> String {
        let ns = self.host.wall_at_zero_ns + i128::from(now.as_nanos());
        WallTime::from_unix_ns(ns).rfc5322(self.host.utc_offset_secs)
    }

    fn from(&self) -> String {
        match &self.settings.from {
            Some(f) => f.clone(),
            None => {
                let user = if self.host.user.is_empty() {
                    "root"
                } else {
                    &self.host.user
                };
                format!("{user}@{}", self.host.hostname)
            }
        }
    }

    /// Queues an alert with this subject and body, and starts delivering if idle.
    /// Nothing happens without a server and recipients.
    pub fn raise(&mut self, io: &mut Io, text: Text) {
        if !self.can_send() {
            return;
        }
        let message = Message {
            date: self.date(io.now),
            from: self.from(),
            to: self.settings.to.clone(),
            subject: text.subject,
            body: text.body,
        };
        self.stats.queued += 1;
        let cap = self.settings.policy.capacity;
        if let Some(old) = self.queue.push(message, cap) {
            self.stats.dropped += 1;
            log::warn!(
                "{}SMTP alert queue full ({cap}): dropped the oldest alert \"{}\" ({} dropped so far)",
                io.prefix,
                old.message.subject,
                self.stats.dropped
            );
        }
        self.kick(io);
    }

    /// Starts the next delivery when nothing is in progress or waiting for a retry.
    fn kick(&mut self, io: &mut Io) {
        if self.active.is_some() || self.retry.is_some() {
            return;
        }
        let Some(server) = self.settings.server else {
            return;
        };
        let helo = match &self.settings.helo_name {
            Some(h) => h.clone(),
            None => self.host.hostname.clone(),
        };
        let Some(p) = self.queue.start() else {
            return;
        };
        let client = Client::new(Envelope {
            helo,
            message: p.message.clone(),
        });
        let conn = ConnId {
            owner: ConnOwner::Alerter,
            seq: *io.next_conn,
        };
        *io.next_conn += 1;
        io.actions.push_back(Action::Connect {
            conn,
            spec: ConnectSpec {
                transport: Transport::Tcp,
                dst: server.ip(),
                port: server.port(),
                bind_addr: None,
                bind_port: None,
                bind_if: None,
                fwmark: None,
            },
        });
        let timer = Some(
            io.wheel
                .insert(io.now + self.settings.timeout, Timer::SmtpTimeout(conn.seq)),
        );
        self.active = Some(Active {
            conn,
            client,
            timer,
        });
    }

    /// Re-arms the answer timeout of the delivery in progress.
    fn rearm(&mut self, io: &mut Io) {
        let timeout = self.settings.timeout;
        if let Some(a) = self.active.as_mut() {
            if let Some(h) = a.timer.take() {
                io.wheel.cancel(h);
            }
            a.timer = Some(
                io.wheel
                    .insert(io.now + timeout, Timer::SmtpTimeout(a.conn.seq)),
            );
        }
    }

    /// Something happened on one of the alerter's connections.
    pub fn conn_event(&mut self, io: &mut Io, conn: ConnId, event: ConnEvent) {
        let Some(a) = self.active.as_mut().filter(|a| a.conn == conn) else {
            return; // a connection already given up
        };
        let world_closed = matches!(event, ConnEvent::Failed(_));
        let step = match &event {
            ConnEvent::Connected => {
                if let Some(s) = self.settings.server {
                    log::info!(
                        "{}Remote SMTP server {} connected.",
                        io.prefix,
                        server_name(s)
                    );
                }
                let step = a.client.connected();
                self.rearm(io);
                step
            }
            ConnEvent::Data(bytes) => a.client.data(bytes),
            ConnEvent::Closed => a.client.closed(),
            ConnEvent::Failed(e) => a.client.failed(e),
        };
        match step {
            Step::Wait => {}
            Step::Send(data) => {
                io.actions.push_back(Action::Send { conn, data });
                self.rearm(io);
            }
            Step::Finished => self.finish(io, !world_closed),
        }
    }

    /// The delivery in progress is dropped after its handler panicked (the SMTP client
    /// parses what a remote server sent: a bug there must cost one alert, not the daemon).
    /// Its connection is closed and its alert given up; the next one starts.
    pub fn abandon(&mut self, io: &mut Io) {
        let Some(mut a) = self.active.take() else {
            return;
        };
        if let Some(h) = a.timer.take() {
            io.wheel.cancel(h);
        }
        io.actions.push_back(Action::Close { conn: a.conn });
        self.stats.failed += 1;
        if let Some(p) = self.queue.finish(true) {
            log::error!(
                "{}SMTP alert \"{}\" given up: internal error in the SMTP client",
                io.prefix,
                p.message.subject
            );
        }
        self.kick(io);
    }

    /// One of the alerter's timers fired.
    pub fn timer(&mut self, io: &mut Io, t: Timer) {
        match t {
            Timer::SmtpTimeout(seq) => {
                let Some(a) = self.active.as_mut().filter(|a| a.conn.seq == seq) else {
                    return;
                };
                a.timer = None;
                a.client.timed_out();
                self.finish(io, true);
            }
            Timer::SmtpRetry => {
                self.retry = None;
                self.kick(io);
            }
            _ => {}
        }
    }

    /// The delivery in progress is over: close, judge, and go on.
    fn finish(&mut self, io: &mut Io, close: bool) {
        let Some(mut a) = self.active.take() else {
            return;
        };
        if let Some(h) = a.timer.take() {
            io.wheel.cancel(h);
        }
        if close {
            io.actions.push_back(Action::Close { conn: a.conn });
        }
        let server = self
            .settings
            .server
            .map_or_else(|| "(none)".to_string(), server_name);
        let outcome = a.client.outcome().cloned();
        let subject = self.queue.subjects().into_iter().next().unwrap_or_default();
        match outcome {
            Some(Ok(())) => {
                self.stats.sent += 1;
                self.queue.finish(true);
                log::info!("{}SMTP alert successfully sent.", io.prefix);
            }
            Some(Err(f)) if !f.transient() => {
                self.stats.failed += 1;
                self.queue.finish(true);
                log::error!(
                    "{}SMTP alert \"{subject}\" refused by SMTP server {server}: {f}; not retried",
                    io.prefix
                );
            }
            other => {
                let why = match other {
                    Some(Err(f)) => f.to_string(),
                    _ => "no answer".to_string(),
                };
                let max = self.settings.policy.max_attempts.max(1);
                let failures = self.queue.finish(false).map_or(max, |p| p.failures);
                if failures >= max {
                    self.stats.failed += 1;
                    self.queue.finish(true);
                    log::error!(
                        "{}SMTP alert \"{subject}\" not sent to SMTP server {server}: {why}; \
                         given up after {failures} attempts",
                        io.prefix
                    );
                } else {
                    self.stats.retries += 1;
                    let wait = self.settings.policy.backoff(failures);
                    log::warn!(
                        "{}SMTP alert \"{subject}\" not sent to SMTP server {server}: {why}; \
                         retrying in {} s (attempt {} of {max})",
                        io.prefix,
                        wait.as_secs_f64(),
                        failures + 1
                    );
                    self.retry = Some(io.wheel.insert(io.now + wait, Timer::SmtpRetry));
                }
            }
        }
        self.kick(io);
    }
}

#[cfg(test)]
mod tests;
