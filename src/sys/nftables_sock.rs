//! The NETLINK_NETFILTER channel of the firewall: nf_tables batches queue here, at most
//! [`MAX_INFLIGHT`] are outstanding, each message's reply is matched to its batch, every
//! error is logged with the message that caused it (and the kernel's extended-ack text),
//! and the caller learns when each batch is done and whether the kernel applied it.
//! Non-blocking; driven by the mio loop (`run_until_idle` only at exit).

use super::netlink::*;
use super::netlink_sock::NlSocket;
use super::nftables::{Batch, BatchBuilder};
use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, RawFd};

const MAX_INFLIGHT: usize = 8;
const RECV_BUF: usize = 64 * 1024;

/// Which errors of a batch are expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Quiet {
    /// Every error is logged.
    None,
    /// Nothing is logged above debug (removing what may not exist).
    All,
}

/// A batch the kernel answered: `tag` as submitted, `ok` when it was applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchDone<T> {
    pub tag: T,
    pub ok: bool,
}

struct InFlight<T> {
    batch: Batch,
    tag: T,
    quiet: Quiet,
    failed: bool,
}

/// The channel; `T` tags batches for the caller.
pub struct NftChannel<T> {
    sock: NlSocket,
    seq: u32,
    queue: VecDeque<InFlight<T>>,
    inflight: Vec<InFlight<T>>,
    buf: Vec<u8>,
    /// Batches the kernel refused (stats).
    pub errors: u64,
}

impl<T: Clone> NftChannel<T> {
    pub fn open() -> io::Result<NftChannel<T>> {
        Ok(NftChannel {
            sock: NlSocket::open_protocol(libc::NETLINK_NETFILTER, 0, 256 * 1024)?,
            seq: 1,
            queue: VecDeque::new(),
            inflight: Vec::new(),
            buf: vec![0; RECV_BUF],
            errors: 0,
        })
    }

    /// Builds a batch with `build` and queues it (nothing when it stays empty).
    pub fn submit(&mut self, tag: T, quiet: Quiet, build: impl FnOnce(&mut BatchBuilder)) {
        let mut b = BatchBuilder::new(self.seq);
        build(&mut b);
        if b.is_empty() {
            return;
        }
        self.seq = b.next_seq();
        self.queue.push_back(InFlight {
            batch: b.finish(),
            tag,
            quiet,
            failed: false,
        });
    }

    /// Nothing queued or outstanding.
    pub fn idle(&self) -> bool {
        self.queue.is_empty() && self.inflight.is_empty()
    }

    /// Sends queued batches while few are outstanding; a batch that cannot be sent is
    /// reported failed in `out`.
    pub fn pump(&mut self, out: &mut Vec<BatchDone<T>>) {
        while self.inflight.len() < MAX_INFLIGHT {
            let Some(f) = self.queue.pop_front() else {
                break;
            };
            match self.sock.send(&f.batch.bytes) {
                Ok(()) => self.inflight.push(f),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.queue.push_front(f);
                    break;
                }
                Err(e) => {
                    self.errors += 1;
                    let what = f.batch.msgs.first().map(|m| m.what.as_str()).unwrap_or("");
                    log::error!("nftables: {what}: send failed: {e}");
                    out.push(BatchDone {
                        tag: f.tag,
                        ok: false,
                    });
                }
            }
        }
    }

    /// Reads every waiting reply, reports finished batches, sends more.
    pub fn on_readable(&mut self, out: &mut Vec<BatchDone<T>>) {
        loop {
            let n = match self.sock.recv(&mut self.buf) {
                Ok(Some(n)) => n,
                Ok(None) => break,
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    // Replies were lost: what is outstanding is finished as failed (the
                    // caller rebuilds from its own state).
                    log::error!("nftables: receive buffer overrun");
                    for f in std::mem::take(&mut self.inflight) {
                        out.push(BatchDone {
                            tag: f.tag,
                            ok: false,
                        });
                    }
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    log::error!("nftables: socket: {e}");
                    break;
                }
            };
            let data = self.buf[..n].to_vec();
            self.handle(&data, out);
        }
        self.pump(out);
    }

    fn handle(&mut self, data: &[u8], out: &mut Vec<BatchDone<T>>) {
        for m in messages(data) {
            let m = match m {
                Ok(m) => m,
                Err(e) => {
                    log::error!("nftables: {e}");
                    break;
                }
            };
            if m.msg_type != NLMSG_ERROR {
                continue;
            }
            let err = match parse_error(&m) {
                Ok(e) => e,
                Err(e) => {
                    log::error!("nftables: {e}");
                    continue;
                }
            };
            let Some(i) = self.inflight.iter().position(|f| {
                f.batch.begin_seq == m.seq || f.batch.msgs.iter().any(|x| x.seq == m.seq)
            }) else {
                continue;
            };
            let f = &mut self.inflight[i];
            if err.errno != 0 {
                f.failed = true;
                let what = f
                    .batch
                    .msgs
                    .iter()
                    .find(|x| x.seq == m.seq)
                    .map(|x| x.what.clone())
                    .unwrap_or_else(|| "batch".to_string());
                let text = io::Error::from_raw_os_error(-err.errno);
                let detail = err.message.map(|s| format!(" ({s})")).unwrap_or_default();
                if f.quiet == Quiet::All {
                    log::debug!("nftables: {what}: {text}{detail}");
                } else {
                    log::error!("nftables: {what}: {text}{detail}");
                }
            }
            // The last message's reply, or a refusal of the whole batch at its header,
            // ends it.
            if m.seq == f.batch.last_seq() || m.seq == f.batch.begin_seq {
                let f = self.inflight.remove(i);
                if f.failed && f.quiet != Quiet::All {
                    self.errors += 1;
                }
                out.push(BatchDone {
                    tag: f.tag,
                    ok: !f.failed,
                });
            }
        }
    }

    /// Runs the channel until idle or `timeout` (exit only: the loop is gone).
    pub fn run_until_idle(&mut self, timeout: std::time::Duration, out: &mut Vec<BatchDone<T>>) {
        let end = std::time::Instant::now() + timeout;
        self.pump(out);
        while !self.idle() {
            let left = end.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                log::error!(
                    "nftables: {} batch(es) unanswered after {timeout:?}",
                    self.inflight.len() + self.queue.len()
                );
                self.inflight.clear();
                self.queue.clear();
                return;
            }
            self.sock.wait_readable(left);
            self.on_readable(out);
        }
    }
}

impl<T> AsRawFd for NftChannel<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}
