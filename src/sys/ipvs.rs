//! The IPVS channel of the Linux world: one NETLINK_GENERIC socket, opened at the first
//! `Action::IpvsRead`, the "IPVS" family looked up (CTRL_CMD_GETFAMILY), then the kernel's
//! table read (GET_SERVICE dump, a GET_DEST dump per service), diff operations applied with
//! an ack each, the sync daemon started / stopped, and the connection timeouts set
//! (`lvs_timeouts`, SET_CONFIG). The bytes are `ipvs_codec`'s.
//!
//! The kernel runs a generic-netlink request inside the `sendmsg` that carries it, so its
//! ack (and a dump's first part) is queued before `send` returns; later dump parts are made
//! as we read. The channel therefore works request / answer on a non-blocking socket, and
//! every wait for an answer is a `poll` bounded by [`WAIT`]: a kernel that does not answer
//! costs at most that per request, never a hung loop. Large batches go in chunks of
//! [`CHUNK`] messages whose acks are drained before the next chunk, so the acks never
//! overrun the receive buffer. Because it never needs the loop, the same code serves the
//! exit path (stop operations after the loop is gone).
//!
//! When the family is absent (`ENOENT`: module `ip_vs` not loaded) or we may not use it
//! (`EPERM`), every read answers `Err(reason)`; the lookup is retried at each read (a
//! reload after `modprobe ip_vs` finds it). We do not run `modprobe` ourselves (see
//! keepalived-rs(8), DIFFERENCES).

use super::ipvs_codec::{
    daemon_cmd, decode_dump, dump_dests, dump_services, encode_op, family_request,
    parse_family_reply, set_config, Entry, IPVS_CMD_DEL_DAEMON, IPVS_CMD_NEW_DAEMON,
};
use super::netlink::{messages, parse_error, NLMSG_DONE, NLMSG_ERROR};
use super::netlink_sock::NlSocket;
use crate::ipvs::diff::Op;
use crate::ipvs::model::{timeouts_text, Service, SyncDaemon, Table};
use std::io;
use std::time::{Duration, Instant};

/// The longest wait for one answer of the kernel.
pub const WAIT: Duration = Duration::from_millis(500);
/// Requests sent before their acks are drained.
pub const CHUNK: usize = 256;
const RECV_BUF: usize = 256 * 1024;

/// Why IPVS cannot be managed when the "IPVS" family is missing.
pub const NO_IPVS: &str =
    "the kernel has no IPVS (module ip_vs not loaded; the generic netlink family IPVS is absent)";

/// What the channel talks to: a netlink socket, or a fake kernel in tests.
pub trait Transport {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// One datagram, `Ok(None)` when nothing is waiting.
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>>;
    /// Waits at most `limit` for something to read.
    fn wait(&mut self, limit: Duration);
}

impl Transport for NlSocket {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        NlSocket::send(self, bytes)
    }
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        NlSocket::recv(self, buf)
    }
    fn wait(&mut self, limit: Duration) {
        self.wait_readable(limit)
    }
}

/// An open channel with the family id looked up.
pub struct Channel<T: Transport> {
    io: T,
    family: u16,
    seq: u32,
    buf: Vec<u8>,
}

/// Text of a kernel errno (positive), as `strerror` gives it.
fn errno_text(errno: i32) -> String {
    io::Error::from_raw_os_error(errno).to_string()
}

fn permission(errno: i32) -> bool {
    errno == libc::EPERM || errno == libc::EACCES
}

fn no_permission(e: impl std::fmt::Display) -> String {
    format!("no permission to manage IPVS (CAP_NET_ADMIN needed): {e}")
}

impl<T: Transport> Channel<T> {
    /// Looks the "IPVS" family up on `io`; `Err` says why IPVS cannot be managed.
    pub fn connect(io: T) -> Result<Channel<T>, String> {
        let mut ch = Channel {
            io,
            family: 0,
            seq: 0,
            buf: vec![0; RECV_BUF],
        };
        let seq = ch.next_seq();
        ch.io
            .send(&family_request(seq))
            .map_err(|e| match e.raw_os_error() {
                Some(n) if permission(n) => no_permission(e),
                _ => format!("cannot ask the kernel for the IPVS family: {e}"),
            })?;
        let data = ch.answer()?;
        for m in messages(&data).flatten() {
            if m.seq == seq && m.msg_type == NLMSG_ERROR {
                let errno = parse_error(&m).map(|e| -e.errno).unwrap_or(0);
                if errno == libc::ENOENT {
                    return Err(NO_IPVS.to_string());
                }
                if permission(errno) {
                    return Err(no_permission(errno_text(errno)));
                }
                if errno != 0 {
                    return Err(format!("IPVS family lookup refused: {}", errno_text(errno)));
                }
            }
        }
        ch.family = parse_family_reply(&data).map_err(|e| format!("IPVS family lookup: {e}"))?;
        Ok(ch)
    }

    /// The family id the kernel gave "IPVS".
    pub fn family(&self) -> u16 {
        self.family
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1).max(1);
        self.seq
    }

    /// The next datagram, waiting at most [`WAIT`].
    fn answer(&mut self) -> Result<Vec<u8>, String> {
        let end = Instant::now() + WAIT;
        loop {
            match self.io.recv(&mut self.buf) {
                Ok(Some(n)) => return Ok(self.buf[..n].to_vec()),
                Ok(None) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("netlink receive: {e}")),
            }
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!("the kernel did not answer within {WAIT:?}"));
            }
            self.io.wait(left);
        }
    }

    /// Every entry of one dump request.
    fn dump(&mut self, msg: Vec<u8>, seq: u32) -> Result<Vec<Entry>, String> {
        self.io
            .send(&msg)
            .map_err(|e| format!("netlink send: {e}"))?;
        let mut out = Vec::new();
        loop {
            let data = self.answer()?;
            // An ack or error of another (earlier, timed-out) request is not ours.
            let mine: Vec<u8> = own_messages(&data, seq);
            if mine.is_empty() {
                continue;
            }
            if let Some(errno) = first_error(&mine) {
                return Err(if permission(errno) {
                    no_permission(errno_text(errno))
                } else {
                    errno_text(errno)
                });
            }
            let (entries, done) = decode_dump(&mine).map_err(|e| e.0)?;
            out.extend(entries);
            if done {
                return Ok(out);
            }
        }
    }

    /// The kernel's table: every service, with its destinations.
    pub fn read_table(&mut self) -> Result<Table, String> {
        let seq = self.next_seq();
        let msg = dump_services(self.family, seq);
        let mut table = Table::new();
        for e in self.dump(msg, seq)? {
            if let Entry::Service(k, attrs) = e {
                table.insert(
                    k,
                    Service {
                        attrs,
                        dests: Default::default(),
                    },
                );
            }
        }
        let keys: Vec<_> = table.keys().copied().collect();
        for k in keys {
            let seq = self.next_seq();
            let msg = dump_dests(self.family, seq, &k);
            let entries = self.dump(msg, seq)?;
            if let Some(svc) = table.get_mut(&k) {
                for e in entries {
                    if let Entry::Dest(d, a) = e {
                        svc.dests.insert(d, a);
                    }
                }
            }
        }
        Ok(table)
    }

    /// Sends `msgs` (each built for the sequence number given), in chunks, and returns the
    /// outcome of each in order: `Ok` acked, `Err(why)` refused or unanswered.
    fn acked(
        &mut self,
        build: &mut dyn FnMut(u16, u32, usize) -> Vec<u8>,
        n: usize,
    ) -> Vec<Result<(), String>> {
        let mut out: Vec<Result<(), String>> = Vec::with_capacity(n);
        let mut start = 0;
        while start < n {
            let end = (start + CHUNK).min(n);
            // seq -> index of the request in this chunk still waiting for its ack
            let mut waiting = std::collections::BTreeMap::new();
            let mut results: Vec<Option<Result<(), String>>> = vec![None; end - start];
            for i in start..end {
                let seq = self.next_seq();
                let msg = build(self.family, seq, i);
                match self.io.send(&msg) {
                    Ok(()) => {
                        waiting.insert(seq, i - start);
                    }
                    Err(e) => results[i - start] = Some(Err(format!("netlink send: {e}"))),
                }
                // Keep the receive queue short: take what has already been answered.
                self.drain_acks(&mut waiting, &mut results, false);
            }
            while !waiting.is_empty() {
                if !self.drain_acks(&mut waiting, &mut results, true) {
                    break;
                }
            }
            for (_, i) in waiting {
                results[i] = Some(Err(format!("the kernel did not answer within {WAIT:?}")));
            }
            out.extend(
                results
                    .into_iter()
                    .map(|r| r.unwrap_or_else(|| Err("no answer".to_string()))),
            );
            start = end;
        }
        out
    }

    /// Reads acks into `results`; with `block`, waits (bounded) for at least one
    /// datagram. False when waiting found nothing.
    fn drain_acks(
        &mut self,
        waiting: &mut std::collections::BTreeMap<u32, usize>,
        results: &mut [Option<Result<(), String>>],
        block: bool,
    ) -> bool {
        let mut got = false;
        loop {
            let data = match self.io.recv(&mut self.buf) {
                Ok(Some(n)) => self.buf[..n].to_vec(),
                Ok(None) if block && !got => match self.answer() {
                    Ok(d) => d,
                    Err(_) => return false,
                },
                Ok(None) => return true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    log::error!("IPVS: netlink receive: {e}");
                    return false;
                }
            };
            got = true;
            for m in messages(&data).flatten() {
                if m.msg_type != NLMSG_ERROR {
                    continue;
                }
                let Some(i) = waiting.remove(&m.seq) else {
                    continue;
                };
                results[i] = Some(match parse_error(&m) {
                    Ok(e) if e.errno == 0 => Ok(()),
                    Ok(e) => {
                        let detail = e.message.map(|s| format!(" ({s})")).unwrap_or_default();
                        Err(format!("{}{detail}", errno_text(-e.errno)))
                    }
                    Err(e) => Err(e.0),
                });
            }
        }
    }

    /// Applies `ops` in order; each refused one is returned with the kernel's reason.
    pub fn apply(&mut self, ops: &[Op]) -> Vec<(Op, String)> {
        let results = self.acked(
            &mut |family, seq, i| encode_op(family, seq, &ops[i]),
            ops.len(),
        );
        ops.iter()
            .zip(results)
            .filter_map(|(op, r)| r.err().map(|e| (op.clone(), e)))
            .collect()
    }

    /// Starts (NEW_DAEMON) or stops (DEL_DAEMON) a sync daemon.
    pub fn daemon(&mut self, start: bool, d: &SyncDaemon) -> Result<(), String> {
        let cmd = if start {
            IPVS_CMD_NEW_DAEMON
        } else {
            IPVS_CMD_DEL_DAEMON
        };
        self.acked(
            &mut |family, seq, _| daemon_cmd(family, seq, cmd, Some(d)),
            1,
        )
        .pop()
        .unwrap_or_else(|| Err("no answer".to_string()))
    }

    /// Sets the connection timeouts given (SET_CONFIG).
    pub fn timeouts(
        &mut self,
        tcp: Option<u32>,
        tcpfin: Option<u32>,
        udp: Option<u32>,
    ) -> Result<(), String> {
        self.acked(
            &mut |family, seq, _| set_config(family, seq, tcp, tcpfin, udp),
            1,
        )
        .pop()
        .unwrap_or_else(|| Err("no answer".to_string()))
    }
}

/// The messages of `data` that answer `seq`, re-framed as one buffer.
fn own_messages(data: &[u8], seq: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = data;
    for m in messages(data) {
        let Ok(m) = m else { break };
        let len = 16 + m.payload.len();
        let aligned = (len + 3) & !3;
        if m.seq == seq {
            if let Some(b) = rest.get(..len) {
                out.extend_from_slice(b);
                out.resize((out.len() + 3) & !3, 0);
            }
        }
        rest = rest.get(aligned..).unwrap_or(&[]);
    }
    out
}

/// The errno (positive) of the first non-zero NLMSG_ERROR in `data`.
fn first_error(data: &[u8]) -> Option<i32> {
    for m in messages(data).flatten() {
        if m.msg_type == NLMSG_DONE {
            return None;
        }
        if m.msg_type == NLMSG_ERROR {
            if let Ok(e) = parse_error(&m) {
                if e.errno != 0 {
                    return Some(-e.errno);
                }
            }
        }
    }
    None
}

/// The world's IPVS state: not asked yet, connected, or unavailable (and why).
#[derive(Default)]
pub struct Ipvs {
    chan: Option<Channel<NlSocket>>,
    /// Why the last read found IPVS unusable.
    unavailable: Option<String>,
    /// The reason has been logged (once per daemon).
    logged: bool,
}

impl Ipvs {
    fn ensure(&mut self) -> Result<&mut Channel<NlSocket>, String> {
        if self.chan.is_none() {
            let sock =
                NlSocket::open_protocol(libc::NETLINK_GENERIC, 0, 1 << 20).map_err(|e| match e
                    .raw_os_error()
                {
                    Some(n) if permission(n) => no_permission(e),
                    _ => format!("cannot open a generic netlink socket: {e}"),
                })?;
            self.chan = Some(Channel::connect(sock)?);
        }
        self.chan.as_mut().ok_or_else(|| "no channel".to_string())
    }

    /// `Action::IpvsRead`: the kernel's table, or why IPVS cannot be managed (logged once
    /// at debug here; the engine words the operator's warning).
    pub fn read(&mut self) -> Result<Table, String> {
        let r = self.ensure().and_then(|c| c.read_table());
        match &r {
            Ok(_) => self.unavailable = None,
            Err(why) => {
                // A channel whose reads fail is reopened at the next read.
                self.chan = None;
                // The engine logs the operator's warning (with this reason) once; the
                // world's own line is detail, at debug, once.
                if !self.logged {
                    self.logged = true;
                    log::debug!("IPVS: {why}");
                }
                self.unavailable = Some(why.clone());
            }
        }
        r
    }

    /// `Action::Ipvs`: the refused operations with the kernel's reason (each logged here
    /// with the operation).
    pub fn apply(&mut self, ops: &[Op]) -> Vec<(Op, String)> {
        let failed = match self.ensure() {
            Ok(c) => c.apply(ops),
            Err(why) => ops.iter().map(|o| (o.clone(), why.clone())).collect(),
        };
        for (op, why) in &failed {
            log::error!("IPVS: {}: {why}", describe(op));
        }
        failed
    }

    /// `Action::IpvsDaemon`; a refusal is logged.
    pub fn daemon(&mut self, start: bool, d: &SyncDaemon) {
        let r = self.ensure().and_then(|c| c.daemon(start, d));
        let what = if d.state == crate::ipvs::model::SYNC_MASTER {
            "master"
        } else {
            "backup"
        };
        match r {
            Ok(()) => log::info!(
                "IPVS: {} {what} sync daemon on {} (syncid {})",
                if start { "started" } else { "stopped" },
                d.ifname,
                d.syncid
            ),
            Err(why) => log::error!(
                "IPVS: cannot {} the {what} sync daemon on {}: {why}",
                if start { "start" } else { "stop" },
                d.ifname
            ),
        }
    }
}

impl Ipvs {
    /// `Action::IpvsTimeouts`; a refusal is logged with the keyword and values.
    pub fn timeouts(&mut self, tcp: Option<u32>, tcpfin: Option<u32>, udp: Option<u32>) {
        let what = timeouts_text(tcp, tcpfin, udp);
        match self.ensure().and_then(|c| c.timeouts(tcp, tcpfin, udp)) {
            Ok(()) => log::info!("IPVS: connection timeouts set ({what})"),
            Err(why) => log::error!("IPVS: global_defs lvs_timeouts {what}: refused: {why}"),
        }
    }
}

/// An operation as an operator reads it (ipvsadm's words and notation).
pub fn describe(op: &Op) -> String {
    use crate::status::ipvs_view::{dest_text, service_text};
    match op {
        Op::AddService(k, _) => format!("add service {}", service_text(k)),
        Op::EditService(k, _) => format!("edit service {}", service_text(k)),
        Op::DelService(k) => format!("delete service {}", service_text(k)),
        Op::AddDest(k, d, _) => {
            format!("add server {} to {}", dest_text(d), service_text(k))
        }
        Op::EditDest(k, d, _) => {
            format!("edit server {} of {}", dest_text(d), service_text(k))
        }
        Op::DelDest(k, d) => {
            format!("delete server {} from {}", dest_text(d), service_text(k))
        }
    }
}

#[cfg(test)]
#[path = "ipvs_tests.rs"]
mod tests;
