//! NETLINK_ROUTE sockets: the command channel (requests with acks, dumps, a bounded number
//! in flight so large batches never overrun the kernel's or our buffers, every error logged
//! with the operation that caused it) and the monitor (link and address groups; ENOBUFS
//! reported so the caller re-dumps).

use super::netlink::*;
use super::netlink_route::{parse_rt, RtMessage};
use super::rawsock::setsockopt;
use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

const SOL_NETLINK: i32 = 270;
const NETLINK_CAP_ACK: i32 = 10;
const NETLINK_EXT_ACK: i32 = 11;
const RECV_BUF: usize = 256 * 1024;

/// A non-blocking NETLINK_ROUTE socket.
pub struct NlSocket {
    fd: OwnedFd,
}

impl NlSocket {
    /// Opens a NETLINK_ROUTE socket subscribed to `groups` (0 for a command socket), with
    /// a receive buffer of `rcvbuf` bytes.
    pub fn open(groups: u32, rcvbuf: usize) -> io::Result<NlSocket> {
        Self::open_protocol(libc::NETLINK_ROUTE, groups, rcvbuf)
    }

    /// As [`NlSocket::open`] for another netlink protocol (NETLINK_NETFILTER).
    pub fn open_protocol(protocol: i32, groups: u32, rcvbuf: usize) -> io::Result<NlSocket> {
        // SAFETY: plain syscall, checked.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                protocol,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fresh fd we own.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let raw = fd.as_raw_fd();
        let size = rcvbuf as libc::c_int;
        // SO_RCVBUFFORCE needs CAP_NET_ADMIN; fall back to the capped SO_RCVBUF.
        if setsockopt(raw, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &size).is_err() {
            setsockopt(raw, libc::SOL_SOCKET, libc::SO_RCVBUF, &size)?;
        }
        let one: libc::c_int = 1;
        let _ = setsockopt(raw, SOL_NETLINK, NETLINK_EXT_ACK, &one);
        let _ = setsockopt(raw, SOL_NETLINK, NETLINK_CAP_ACK, &one);
        // SAFETY: zeroed plain C struct.
        let mut sa: libc::sockaddr_nl = unsafe { zeroed() };
        sa.nl_family = libc::AF_NETLINK as u16;
        sa.nl_groups = groups;
        // SAFETY: valid sockaddr for the call.
        let rc = unsafe {
            libc::bind(
                raw,
                (&sa as *const libc::sockaddr_nl).cast(),
                size_of::<libc::sockaddr_nl>() as u32,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(NlSocket { fd })
    }

    pub fn send(&self, bytes: &[u8]) -> io::Result<()> {
        // SAFETY: zeroed plain C struct; kernel address (pid 0).
        let mut sa: libc::sockaddr_nl = unsafe { zeroed() };
        sa.nl_family = libc::AF_NETLINK as u16;
        // SAFETY: buffer and address valid for the call.
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                bytes.as_ptr().cast(),
                bytes.len(),
                0,
                (&sa as *const libc::sockaddr_nl).cast(),
                size_of::<libc::sockaddr_nl>() as u32,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Waits until a reply is readable, at most `limit` (capped at 1 s). Only for the
    /// start and exit paths, outside the loop.
    pub fn wait_readable(&self, limit: std::time::Duration) {
        let mut pfd = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut pfd, 1, limit.as_millis().clamp(1, 1000) as i32) };
    }

    /// One datagram into `buf`; `Ok(None)` when nothing is waiting.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        // SAFETY: reading into our buffer.
        let n = unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::WouldBlock {
                return Ok(None);
            }
            return Err(e);
        }
        Ok(Some(n as usize))
    }
}

impl AsRawFd for NlSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// What to do once a request is acknowledged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OnAck {
    Nothing,
    /// The VMAC of this name now exists: set its sysctls.
    VmacCreated(String),
}

/// Which dump a reply belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DumpKind {
    Links,
    Addrs,
}

#[derive(Clone, Debug)]
enum Pending {
    Ack {
        what: String,
        /// errnos (positive) that are expected and not worth a log line.
        quiet: Vec<i32>,
        then: OnAck,
    },
    Dump(DumpKind),
}

/// What the command channel produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CmdOutput {
    /// A link/address message of a dump.
    Dumped(DumpKind, RtMessage),
    DumpDone(DumpKind),
    Acked(OnAck),
    /// A request failed (already logged): operation, errno, kernel message.
    Failed {
        what: String,
        errno: i32,
    },
}

/// The command channel: requests queue here and at most `max_inflight` are outstanding.
pub struct NlCommand {
    sock: NlSocket,
    seq: u32,
    queue: VecDeque<(u32, Vec<u8>)>,
    inflight: BTreeMap<u32, Pending>,
    waiting: BTreeMap<u32, Pending>,
    max_inflight: usize,
    buf: Vec<u8>,
    /// Count of failed requests (for the stats dump).
    pub errors: u64,
}

impl NlCommand {
    pub fn open() -> io::Result<NlCommand> {
        Ok(NlCommand {
            sock: NlSocket::open(0, 1 << 20)?,
            seq: 1,
            queue: VecDeque::new(),
            inflight: BTreeMap::new(),
            waiting: BTreeMap::new(),
            max_inflight: 16,
            buf: vec![0; RECV_BUF],
            errors: 0,
        })
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1).max(1);
        self.seq
    }

    /// Queues a request built for its sequence number; `what` names it in error logs.
    pub fn request(
        &mut self,
        what: String,
        quiet: &[i32],
        then: OnAck,
        build: impl FnOnce(u32) -> Vec<u8>,
    ) {
        let seq = self.next_seq();
        let bytes = build(seq);
        self.waiting.insert(
            seq,
            Pending::Ack {
                what,
                quiet: quiet.to_vec(),
                then,
            },
        );
        self.queue.push_back((seq, bytes));
        self.pump();
    }

    /// Queues a dump of links or addresses.
    pub fn dump(&mut self, kind: DumpKind) {
        let seq = self.next_seq();
        let bytes = match kind {
            DumpKind::Links => super::netlink_route::dump_links(seq),
            DumpKind::Addrs => super::netlink_route::dump_addrs(seq),
        };
        self.waiting.insert(seq, Pending::Dump(kind));
        self.queue.push_back((seq, bytes));
        self.pump();
    }

    /// Nothing queued or outstanding.
    pub fn idle(&self) -> bool {
        self.queue.is_empty() && self.inflight.is_empty()
    }

    /// Sends queued requests while fewer than `max_inflight` are outstanding. A dump is
    /// only sent alone (the kernel runs one dump per socket at a time).
    fn pump(&mut self) {
        while self.inflight.len() < self.max_inflight {
            let Some((seq, _)) = self.queue.front() else {
                break;
            };
            let seq = *seq;
            let is_dump = matches!(self.waiting.get(&seq), Some(Pending::Dump(_)));
            let dump_running = self
                .inflight
                .values()
                .any(|p| matches!(p, Pending::Dump(_)));
            if dump_running || (is_dump && !self.inflight.is_empty()) {
                break;
            }
            let Some((seq, bytes)) = self.queue.pop_front() else {
                break;
            };
            let pending = self.waiting.remove(&seq);
            match self.sock.send(&bytes) {
                Ok(()) => {
                    if let Some(p) = pending {
                        self.inflight.insert(seq, p);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if let Some(p) = pending {
                        self.waiting.insert(seq, p);
                    }
                    self.queue.push_front((seq, bytes));
                    break;
                }
                Err(e) => {
                    self.errors += 1;
                    if let Some(Pending::Ack { what, .. }) = &pending {
                        log::error!("netlink: {what}: send failed: {e}");
                    } else {
                        log::error!("netlink: dump request failed: {e}");
                    }
                }
            }
        }
    }

    /// Reads every waiting reply (until WouldBlock), then sends more queued requests.
    pub fn on_readable(&mut self, out: &mut Vec<CmdOutput>) {
        loop {
            let n = match self.sock.recv(&mut self.buf) {
                Ok(Some(n)) => n,
                Ok(None) => break,
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    // Replies were lost: fail what is outstanding so nothing waits forever.
                    log::error!("netlink: command socket receive buffer overrun");
                    for (_, p) in std::mem::take(&mut self.inflight) {
                        if let Pending::Dump(k) = p {
                            out.push(CmdOutput::DumpDone(k));
                        }
                    }
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    log::error!("netlink: command socket: {e}");
                    break;
                }
            };
            let data = self.buf[..n].to_vec();
            self.handle_datagram(&data, out);
        }
        self.pump();
    }

    fn handle_datagram(&mut self, data: &[u8], out: &mut Vec<CmdOutput>) {
        for m in messages(data) {
            let m = match m {
                Ok(m) => m,
                Err(e) => {
                    log::error!("netlink: {e}");
                    break;
                }
            };
            match m.msg_type {
                NLMSG_ERROR => {
                    let err = match parse_error(&m) {
                        Ok(e) => e,
                        Err(e) => {
                            log::error!("netlink: {e}");
                            continue;
                        }
                    };
                    match self.inflight.remove(&m.seq) {
                        Some(Pending::Ack { what, quiet, then }) => {
                            if err.errno == 0 {
                                out.push(CmdOutput::Acked(then));
                            } else {
                                let errno = -err.errno;
                                if !quiet.contains(&errno) {
                                    self.errors += 1;
                                    let text = io::Error::from_raw_os_error(errno);
                                    match &err.message {
                                        Some(msg) => {
                                            log::error!("netlink: {what}: {text} ({msg})")
                                        }
                                        None => log::error!("netlink: {what}: {text}"),
                                    }
                                }
                                out.push(CmdOutput::Failed { what, errno });
                            }
                        }
                        Some(Pending::Dump(k)) => {
                            log::error!("netlink: dump of {k:?} failed: errno {}", -err.errno);
                            out.push(CmdOutput::DumpDone(k));
                        }
                        None => {}
                    }
                }
                NLMSG_DONE => {
                    if let Some(Pending::Dump(k)) = self.inflight.remove(&m.seq) {
                        if m.flags & NLM_F_DUMP_INTR != 0 {
                            log::warn!("netlink: dump of {k:?} interrupted by a change");
                        }
                        out.push(CmdOutput::DumpDone(k));
                    }
                }
                NLMSG_NOOP | NLMSG_OVERRUN => {}
                _ => {
                    if let Some(Pending::Dump(k)) = self.inflight.get(&m.seq) {
                        let k = *k;
                        match parse_rt(&m) {
                            Ok(Some(rt)) => out.push(CmdOutput::Dumped(k, rt)),
                            Ok(None) => {}
                            Err(e) => log::error!("netlink: dump of {k:?}: {e}"),
                        }
                    }
                }
            }
        }
    }

    /// Runs the channel until idle or `timeout` (startup and shutdown only, before and after
    /// the loop).
    pub fn run_until_idle(&mut self, timeout: std::time::Duration, out: &mut Vec<CmdOutput>) {
        let end = std::time::Instant::now() + timeout;
        while !self.idle() {
            let left = end.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                log::error!(
                    "netlink: {} request(s) unanswered after {:?}",
                    self.inflight.len() + self.queue.len(),
                    timeout
                );
                self.inflight.clear();
                self.queue.clear();
                self.waiting.clear();
                return;
            }
            self.sock.wait_readable(left);
            self.on_readable(out);
        }
    }
}

impl AsRawFd for NlCommand {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

/// The monitor socket: kernel notifications of link and address changes.
pub struct NlMonitor {
    sock: NlSocket,
    buf: Vec<u8>,
}

impl NlMonitor {
    pub fn open(groups: u32) -> io::Result<NlMonitor> {
        Self::open_with_buffer(groups, 4 << 20)
    }

    /// As [`NlMonitor::open`] with a given receive buffer size (tests use a tiny one).
    pub fn open_with_buffer(groups: u32, rcvbuf: usize) -> io::Result<NlMonitor> {
        Ok(NlMonitor {
            sock: NlSocket::open(groups, rcvbuf)?,
            buf: vec![0; RECV_BUF],
        })
    }

    /// Reads every waiting notification; returns true when some were lost (ENOBUFS) and
    /// the caller must re-dump.
    pub fn on_readable(&mut self, out: &mut Vec<RtMessage>) -> bool {
        let mut overrun = false;
        loop {
            match self.sock.recv(&mut self.buf) {
                Ok(Some(n)) => {
                    for m in messages(&self.buf[..n]) {
                        match m.map(|m| parse_rt(&m)) {
                            Ok(Ok(Some(rt))) => out.push(rt),
                            Ok(Ok(None)) => {}
                            Ok(Err(e)) | Err(e) => {
                                log::error!("netlink monitor: {e}");
                                break;
                            }
                        }
                    }
                }
                Ok(None) => break,
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    log::warn!("Netlink: Receive buffer overrun; re-reading interfaces");
                    overrun = true;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    log::error!("netlink monitor: {e}");
                    break;
                }
            }
        }
        overrun
    }
}

impl AsRawFd for NlMonitor {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}
