//! ICMP / ICMPv6 echo for PING_CHECK. The world writes the header (type, code,
//! identifier, sequence, checksum); the engine gives only the payload.
//!
//! As root, raw sockets are shared by every echo with the same options (family, source,
//! `bind_if`, `fwmark`): each raw socket sees every ICMP message of the host, so one per
//! option set, not one per check. Each echo gets an identifier of its own; a reply is
//! matched by identifier, sequence and source, and anything else (other programs' pings,
//! our own requests looped back, late replies) is ignored. A destination unreachable that
//! quotes one of our requests fails that echo (`Unreachable`). Without CAP_NET_RAW an
//! unprivileged ping socket (`net.ipv4.ping_group_range`) is opened per echo: the kernel
//! chooses the identifier and filters the replies.

use super::sock::{self, dst_addr, setsockopt, Kind as SockKind, RawAddr};
use super::{After, Ctx, Io, MAX_READS_PER_SERVICE};
use crate::event::{ConnError, ConnEvent, ConnId, ConnectSpec};
use crate::sys::world::Source;
use mio::unix::SourceFd;
use mio::{Interest, Token};
use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::mem::{size_of, zeroed};
use std::net::IpAddr;
use std::os::fd::{AsRawFd, OwnedFd};

const ECHO_REQUEST_V4: u8 = 8;
const ECHO_REPLY_V4: u8 = 0;
const UNREACH_V4: u8 = 3;
const ECHO_REQUEST_V6: u8 = 128;
const ECHO_REPLY_V6: u8 = 129;
const UNREACH_V6: u8 = 1;
/// `ICMP_FILTER` (SOL_RAW) and `ICMP6_FILTER` (IPPROTO_ICMPV6).
const ICMP_FILTER: i32 = 1;
const ICMP6_FILTER: i32 = 1;
const SOL_RAW: i32 = 255;
/// The largest echo payload (IPv4: 65535 - 20 - 8).
pub(super) const MAX_PAYLOAD: usize = 65507;
/// Sequences remembered per echo (replies to older requests are ignored).
const REMEMBERED: usize = 16;

/// The options that decide which raw socket an echo uses.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct SharedKey {
    v6: bool,
    bind_addr: Option<IpAddr>,
    bind_if: Option<String>,
    fwmark: Option<u32>,
}

struct Socket {
    fd: OwnedFd,
    token: Token,
    v6: bool,
    raw: bool,
    users: usize,
    /// The key it is shared under (raw sockets).
    shared: Option<SharedKey>,
    /// The one echo of a ping socket.
    solo: Option<ConnId>,
}

/// One echo exchange (a PING_CHECK connection).
pub(super) struct Echo {
    sock: u32,
    /// Our identifier (raw sockets); ping sockets: the kernel's.
    ident: Option<u16>,
    next_seq: u16,
    sent: VecDeque<u16>,
    dst: IpAddr,
    to: RawAddr,
}

/// Something heard on an ICMP socket for one of our echoes.
#[derive(Debug)]
pub(super) struct Heard {
    pub conn: ConnId,
    pub seq: u16,
    pub src: IpAddr,
    pub what: HeardKind,
}

#[derive(Debug, PartialEq, Eq)]
pub(super) enum HeardKind {
    Reply(Vec<u8>),
    /// A destination unreachable quoting our request to `to`.
    Unreachable {
        to: IpAddr,
    },
}

/// The ICMP sockets and the identifiers in use.
#[derive(Default)]
pub(super) struct Sockets {
    socks: BTreeMap<u32, Socket>,
    shared: BTreeMap<SharedKey, u32>,
    idents: BTreeMap<u16, ConnId>,
    next_key: u32,
    next_ident: u16,
}

/// The Internet checksum of `data`.
pub(super) fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An echo request: header then payload (ICMPv6's checksum is the kernel's).
pub(super) fn echo_request(v6: bool, ident: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(8 + payload.len());
    p.push(if v6 { ECHO_REQUEST_V6 } else { ECHO_REQUEST_V4 });
    p.push(0);
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(&ident.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(payload);
    if !v6 {
        let c = checksum(&p);
        p[2..4].copy_from_slice(&c.to_be_bytes());
    }
    p
}

/// What an ICMP message (header first) says about our echoes: (identifier, sequence,
/// what); `None` for anything else.
pub(super) fn parse(v6: bool, msg: &[u8]) -> Option<(u16, u16, HeardKind)> {
    let (reply, unreach, request) = if v6 {
        (ECHO_REPLY_V6, UNREACH_V6, ECHO_REQUEST_V6)
    } else {
        (ECHO_REPLY_V4, UNREACH_V4, ECHO_REQUEST_V4)
    };
    let ty = *msg.first()?;
    let hdr = msg.get(..8)?;
    if ty == reply && hdr[1] == 0 {
        let ident = u16::from_be_bytes([hdr[4], hdr[5]]);
        let seq = u16::from_be_bytes([hdr[6], hdr[7]]);
        return Some((ident, seq, HeardKind::Reply(msg.get(8..)?.to_vec())));
    }
    if ty != unreach {
        return None;
    }
    // The quoted packet: our IP header, then the first 8 bytes of our request.
    let quoted = msg.get(8..)?;
    let (to, inner) = if v6 {
        let ip = quoted.get(..40)?;
        if ip[6] != 58 {
            return None;
        }
        let mut d = [0u8; 16];
        d.copy_from_slice(&ip[24..40]);
        (IpAddr::from(d), quoted.get(40..48)?)
    } else {
        let first = *quoted.first()?;
        let ihl = usize::from(first & 0x0f) * 4;
        if first >> 4 != 4 || ihl < 20 || *quoted.get(9)? != 1 {
            return None;
        }
        let d = quoted.get(16..20)?;
        (
            IpAddr::from([d[0], d[1], d[2], d[3]]),
            quoted.get(ihl..ihl + 8)?,
        )
    };
    if inner[0] != request {
        return None;
    }
    let ident = u16::from_be_bytes([inner[4], inner[5]]);
    let seq = u16::from_be_bytes([inner[6], inner[7]]);
    Some((ident, seq, HeardKind::Unreachable { to }))
}

/// Lets only echo replies and destination unreachables through to a raw socket.
fn set_filter(fd: &OwnedFd, v6: bool) -> io::Result<()> {
    if v6 {
        let mut blocked = [u32::MAX; 8];
        for t in [ECHO_REPLY_V6, UNREACH_V6] {
            blocked[usize::from(t >> 5)] &= !(1u32 << (t & 31));
        }
        setsockopt(fd.as_raw_fd(), libc::IPPROTO_ICMPV6, ICMP6_FILTER, &blocked)
    } else {
        let blocked: u32 = !((1u32 << ECHO_REPLY_V4) | (1u32 << UNREACH_V4));
        setsockopt(fd.as_raw_fd(), SOL_RAW, ICMP_FILTER, &blocked)
    }
}

impl Sockets {
    fn register(&mut self, io: &mut Io, sock: Socket) -> Result<u32, ConnError> {
        let key = self.next_key;
        self.next_key = self.next_key.wrapping_add(1);
        if let Err(e) = io.registry.register(
            &mut SourceFd(&sock.fd.as_raw_fd()),
            sock.token,
            Interest::READABLE,
        ) {
            io.tokens.remove(sock.token);
            return Err(ConnError::Other(format!("epoll: {e}")));
        }
        self.socks.insert(key, sock);
        Ok(key)
    }

    /// A fresh identifier (none free: an error).
    fn ident(&mut self, conn: ConnId) -> Result<u16, ConnError> {
        for _ in 0..=u16::MAX as u32 {
            let id = self.next_ident;
            self.next_ident = self.next_ident.wrapping_add(1);
            if let std::collections::btree_map::Entry::Vacant(v) = self.idents.entry(id) {
                v.insert(conn);
                return Ok(id);
            }
        }
        Err(ConnError::Other("no ICMP identifier free".into()))
    }

    /// Opens (or shares) the socket of an echo to `spec.dst`.
    pub fn open(
        &mut self,
        io: &mut Io,
        conn: ConnId,
        spec: &ConnectSpec,
        scope: u32,
    ) -> Result<Echo, ConnError> {
        let v6 = spec.dst.is_ipv6();
        let key = SharedKey {
            v6,
            bind_addr: spec.bind_addr,
            bind_if: spec.bind_if.clone(),
            fwmark: spec.fwmark,
        };
        let (sock_key, ident) = if let Some(&k) = self.shared.get(&key) {
            (k, Some(self.ident(conn)?))
        } else {
            match sock::open(SockKind::IcmpRaw, spec, scope) {
                Ok(fd) => {
                    set_filter(&fd, v6)
                        .map_err(|e| ConnError::Other(format!("ICMP filter: {e}")))?;
                    let k = self.next_key;
                    let token = io.tokens.insert(Source::ConnIcmp(k));
                    let k = self.register(
                        io,
                        Socket {
                            fd,
                            token,
                            v6,
                            raw: true,
                            users: 0,
                            shared: Some(key.clone()),
                            solo: None,
                        },
                    )?;
                    self.shared.insert(key, k);
                    (k, Some(self.ident(conn)?))
                }
                Err(e) if matches!(e.err.raw_os_error(), Some(libc::EPERM | libc::EACCES)) => {
                    let fd = sock::open(SockKind::IcmpPing, spec, scope).map_err(|p| {
                        ConnError::Other(format!(
                            "ICMP: no raw socket ({}) and no ping socket ({}: {})",
                            e.err, p.step, p.err
                        ))
                    })?;
                    let k = self.next_key;
                    let token = io.tokens.insert(Source::ConnIcmp(k));
                    let k = self.register(
                        io,
                        Socket {
                            fd,
                            token,
                            v6,
                            raw: false,
                            users: 0,
                            shared: None,
                            solo: Some(conn),
                        },
                    )?;
                    (k, None)
                }
                Err(e) => return Err(e.to_conn_error()),
            }
        };
        if let Some(s) = self.socks.get_mut(&sock_key) {
            s.users += 1;
        }
        Ok(Echo {
            sock: sock_key,
            ident,
            next_seq: 0,
            sent: VecDeque::new(),
            dst: spec.dst,
            to: dst_addr(spec, scope),
        })
    }

    /// An echo is closed: its identifier is free, its socket closed when no one uses it.
    pub fn release(&mut self, io: &mut Io, echo: &Echo) {
        if let Some(id) = echo.ident {
            self.idents.remove(&id);
        }
        let Some(s) = self.socks.get_mut(&echo.sock) else {
            return;
        };
        s.users = s.users.saturating_sub(1);
        if s.users == 0 {
            if let Some(s) = self.socks.remove(&echo.sock) {
                let _ = io.registry.deregister(&mut SourceFd(&s.fd.as_raw_fd()));
                io.tokens.remove(s.token);
                if let Some(k) = &s.shared {
                    self.shared.remove(k);
                }
            }
        }
    }

    /// Sends one echo request carrying `payload`. A full socket buffer loses the request
    /// (the engine's timeout sees it as a lost ping).
    pub fn send(&mut self, echo: &mut Echo, payload: &[u8]) -> Result<(), ConnError> {
        if payload.len() > MAX_PAYLOAD {
            return Err(ConnError::Other(format!(
                "echo payload of {} bytes (at most {MAX_PAYLOAD})",
                payload.len()
            )));
        }
        let Some(s) = self.socks.get(&echo.sock) else {
            return Err(ConnError::Other("ICMP socket closed".into()));
        };
        let seq = echo.next_seq;
        echo.next_seq = echo.next_seq.wrapping_add(1);
        let pkt = echo_request(s.v6, echo.ident.unwrap_or(0), seq, payload);
        echo.sent.push_back(seq);
        if echo.sent.len() > REMEMBERED {
            echo.sent.pop_front();
        }
        // SAFETY: buffer and destination address are valid for their lengths.
        let rc = unsafe {
            libc::sendto(
                s.fd.as_raw_fd(),
                pkt.as_ptr().cast(),
                pkt.len(),
                0,
                echo.to.as_ptr(),
                echo.to.len,
            )
        };
        if rc < 0 {
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EAGAIN | libc::ENOBUFS | libc::EINTR) => {
                    log::debug!("echo request to {} lost: {e}", echo.dst)
                }
                _ => return Err(sock::map_error("ICMP send", &e)),
            }
        }
        Ok(())
    }

    /// Reads the socket `key` (bounded); what concerns our echoes goes to `heard`.
    pub fn service(&mut self, key: u32, ctx: &mut Ctx, heard: &mut Vec<Heard>) -> After {
        let Some(s) = self.socks.get(&key) else {
            return After::Keep;
        };
        for _ in 0..MAX_READS_PER_SERVICE * 16 {
            if ctx.budget == 0 {
                return After::More;
            }
            // SAFETY: a zeroed sockaddr_storage is valid for recvfrom to fill.
            let mut from: libc::sockaddr_storage = unsafe { zeroed() };
            let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            // SAFETY: buffer and address are valid for their lengths.
            let rc = unsafe {
                libc::recvfrom(
                    s.fd.as_raw_fd(),
                    ctx.buf.as_mut_ptr().cast(),
                    ctx.buf.len(),
                    0,
                    (&mut from as *mut libc::sockaddr_storage).cast(),
                    &mut len,
                )
            };
            if rc < 0 {
                let e = io::Error::last_os_error();
                match e.kind() {
                    io::ErrorKind::WouldBlock => return After::Keep,
                    io::ErrorKind::Interrupted => continue,
                    _ => {
                        // Pending socket errors (ping sockets) concern no echo in
                        // particular: the engine's timeout reports them.
                        log::debug!("ICMP socket: {e}");
                        return After::Keep;
                    }
                }
            }
            let n = rc as usize;
            ctx.budget = ctx.budget.saturating_sub(n.max(1));
            let Some(src) = RawAddr::ip_of(&from) else {
                continue;
            };
            let data = &ctx.buf[..n.min(ctx.buf.len())];
            // A raw IPv4 socket hands the IP header over too.
            let msg = if s.raw && !s.v6 {
                let ihl = usize::from(data.first().map_or(0, |b| b & 0x0f)) * 4;
                match data.get(ihl..) {
                    Some(m) if ihl >= 20 => m,
                    _ => continue,
                }
            } else {
                data
            };
            let Some((ident, seq, what)) = parse(s.v6, msg) else {
                continue;
            };
            let conn = match s.solo {
                Some(c) => c,
                None => match self.idents.get(&ident) {
                    Some(&c) => c,
                    None => continue,
                },
            };
            heard.push(Heard {
                conn,
                seq,
                src,
                what,
            });
        }
        After::More
    }
}

impl Echo {
    /// The event `h` means for this echo, if it answers one of its requests.
    pub fn accept(&mut self, h: &Heard) -> Option<ConnEvent> {
        let pos = self.sent.iter().position(|&s| s == h.seq)?;
        match &h.what {
            HeardKind::Reply(payload) => {
                if h.src != self.dst {
                    return None;
                }
                self.sent.remove(pos);
                Some(ConnEvent::Data(payload.clone()))
            }
            HeardKind::Unreachable { to } => {
                (*to == self.dst).then_some(ConnEvent::Failed(ConnError::Unreachable))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_of_a_known_echo_request() {
        // ping -p: type 8, id 0x1234, seq 1, payload "abcd".
        let p = echo_request(false, 0x1234, 1, b"abcd");
        assert_eq!(&p[..2], &[8, 0]);
        assert_eq!(checksum(&p), 0, "a packet with its checksum sums to zero");
        assert_eq!(&p[4..8], &[0x12, 0x34, 0, 1]);
        assert_eq!(&p[8..], b"abcd");
    }

    #[test]
    fn replies_and_unreachables_are_parsed() {
        let mut reply = echo_request(false, 7, 9, b"xyz");
        reply[0] = ECHO_REPLY_V4;
        assert_eq!(
            parse(false, &reply),
            Some((7, 9, HeardKind::Reply(b"xyz".to_vec())))
        );
        // Our own request looped back is not a reply.
        assert_eq!(parse(false, &echo_request(false, 7, 9, b"")), None);
        // A port-unreachable quoting an IPv4 header to 192.0.2.9 and our request.
        let mut ip = vec![
            0x45, 0, 0, 36, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0, 0, 1, 192, 0, 2, 9,
        ];
        ip.extend_from_slice(&echo_request(false, 7, 3, b"")[..8]);
        let mut un = vec![UNREACH_V4, 1, 0, 0, 0, 0, 0, 0];
        un.extend_from_slice(&ip);
        assert_eq!(
            parse(false, &un),
            Some((
                7,
                3,
                HeardKind::Unreachable {
                    to: "192.0.2.9".parse().unwrap()
                }
            ))
        );
        // Truncated or garbage input: nothing, no panic.
        for cut in 0..un.len() {
            let _ = parse(false, &un[..cut]);
            let _ = parse(true, &un[..cut]);
        }
        let mut v6 = echo_request(true, 1, 2, b"p");
        v6[0] = ECHO_REPLY_V6;
        assert_eq!(
            parse(true, &v6),
            Some((1, 2, HeardKind::Reply(b"p".to_vec())))
        );
    }

    #[test]
    fn echo_accepts_only_its_own_replies() {
        let dst: IpAddr = "192.0.2.1".parse().unwrap();
        let mut e = Echo {
            sock: 0,
            ident: Some(5),
            next_seq: 1,
            sent: VecDeque::from([0]),
            dst,
            to: RawAddr::new(dst, 0, 0),
        };
        let conn = ConnId {
            owner: crate::event::ConnOwner::Checker,
            seq: 1,
        };
        let h = |seq, src: &str| Heard {
            conn,
            seq,
            src: src.parse().unwrap(),
            what: HeardKind::Reply(vec![1]),
        };
        assert_eq!(e.accept(&h(3, "192.0.2.1")), None, "unknown sequence");
        assert_eq!(e.accept(&h(0, "192.0.2.2")), None, "foreign source");
        assert_eq!(e.accept(&h(0, "192.0.2.1")), Some(ConnEvent::Data(vec![1])));
        assert_eq!(e.accept(&h(0, "192.0.2.1")), None, "answered once");
    }
}
