//! Batched I/O of the VRRP sockets: the adverts one engine step sends on a socket go out
//! with one `sendmmsg` per [`TX_BATCH`] of them, and a readable socket is drained with
//! `recvmmsg` into [`RxBuffers`] allocated once. Nothing is allocated per packet here: the
//! IPv4 header, addresses and control messages of a batch live on the stack, and the
//! payload is the engine's own buffer (moved, not copied). The packets are byte for byte
//! those of `VrrpSocket::send` / `recv` (rawsock.rs).

use super::rawsock::{parse_ipv4, v6_ancillary, write_v6_cmsgs, Recv, VrrpSocket, IPPROTO_VRRP};
use crate::event::ReceivedPacket;
use std::io;
use std::mem::{size_of, zeroed};
use std::net::{IpAddr, Ipv6Addr};
use std::os::fd::AsRawFd;

/// Adverts per `sendmmsg`.
pub const TX_BATCH: usize = 64;
/// Packets per `recvmmsg`.
pub const RX_BATCH: usize = 16;
/// One receive slot: the largest VRRP message (IPv6, 255 addresses: 4 088 bytes) or IPv4
/// packet with options (1 100 bytes) fits; anything longer is reported truncated.
const SLOT: usize = 4096 + 64;
/// Control-message space of one IPv6 message (pktinfo + an int, sent or received).
const CMSG_WORDS: usize = 16;

/// One advert waiting in a socket's batch.
#[derive(Debug)]
pub struct TxAdvert {
    /// The instance that sends it (for the log of a failure).
    pub instance: String,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub ttl: u8,
    /// The VRRP message (IP payload).
    pub payload: Vec<u8>,
}

/// The receive slots of one drain, reused by every socket and every wake-up.
pub struct RxBuffers {
    bytes: Box<[u8]>,
}

impl Default for RxBuffers {
    fn default() -> Self {
        RxBuffers {
            bytes: vec![0u8; RX_BATCH * SLOT].into_boxed_slice(),
        }
    }
}

fn ipv4_header(src: [u8; 4], dst: [u8; 4], ttl: u8, total: u16) -> [u8; 20] {
    let t = total.to_be_bytes();
    [
        0x45,
        0xc0,
        t[0],
        t[1],
        0,
        0,
        0,
        0, // id (kernel fills), no fragmentation
        ttl,
        IPPROTO_VRRP as u8,
        0,
        0, // checksum (kernel)
        src[0],
        src[1],
        src[2],
        src[3],
        dst[0],
        dst[1],
        dst[2],
        dst[3],
    ]
}

/// The stack storage of one `sendmmsg` call.
struct TxScratch {
    hdrs: [libc::mmsghdr; TX_BATCH],
    iov: [[libc::iovec; 2]; TX_BATCH],
    ip: [[u8; 20]; TX_BATCH],
    sa4: [libc::sockaddr_in; TX_BATCH],
    sa6: [libc::sockaddr_in6; TX_BATCH],
    cmsg: [[u64; CMSG_WORDS]; TX_BATCH],
    /// Which advert of the chunk each header carries.
    of: [usize; TX_BATCH],
}

impl VrrpSocket {
    /// Sends `msgs` in order, [`TX_BATCH`] per system call. `failed` hears of each advert
    /// that could not be sent, with why. Returns how many were sent.
    pub fn send_batch<'a>(
        &self,
        msgs: &'a [TxAdvert],
        mut failed: impl FnMut(&'a TxAdvert, io::Error),
    ) -> usize {
        // SAFETY: plain C structs and byte arrays, all-zero is a valid value. It stays in
        // place (on the stack) while the headers point into it.
        let mut s: TxScratch = unsafe { zeroed() };
        let mut sent = 0;
        for chunk in msgs.chunks(TX_BATCH) {
            let mut n = 0;
            for (i, m) in chunk.iter().enumerate() {
                match self.prepare(&mut s, n, m) {
                    Ok(()) => {
                        s.of[n] = i;
                        n += 1;
                    }
                    Err(e) => failed(m, e),
                }
            }
            let mut k = 0;
            while k < n {
                // SAFETY: headers k..n point into `s` and the payloads, which live for the call.
                let r = unsafe {
                    libc::sendmmsg(
                        self.as_raw_fd(),
                        s.hdrs[k..].as_mut_ptr(),
                        (n - k) as libc::c_uint,
                        0,
                    )
                };
                if r > 0 {
                    sent += r as usize;
                    k += r as usize;
                    continue;
                }
                let e = if r == 0 {
                    io::Error::new(io::ErrorKind::WriteZero, "sendmmsg sent nothing")
                } else {
                    io::Error::last_os_error()
                };
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                // The kernel reports the error of the first message it could not send.
                failed(&chunk[s.of[k]], e);
                k += 1;
            }
        }
        sent
    }

    /// Fills header `n` of `s` for `m`.
    fn prepare(&self, s: &mut TxScratch, n: usize, m: &TxAdvert) -> io::Result<()> {
        let h = &mut s.hdrs[n];
        h.msg_len = 0;
        match (m.src, m.dst) {
            (IpAddr::V4(src), IpAddr::V4(dst)) if !self.ipv6 => {
                let total = u16::try_from(20 + m.payload.len())
                    .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "advert too long"))?;
                s.ip[n] = ipv4_header(src.octets(), dst.octets(), m.ttl, total);
                s.iov[n] = [
                    libc::iovec {
                        iov_base: s.ip[n].as_mut_ptr().cast(),
                        iov_len: 20,
                    },
                    libc::iovec {
                        iov_base: m.payload.as_ptr() as *mut libc::c_void,
                        iov_len: m.payload.len(),
                    },
                ];
                let sa = &mut s.sa4[n];
                sa.sin_family = libc::AF_INET as libc::sa_family_t;
                sa.sin_addr.s_addr = u32::from_ne_bytes(dst.octets());
                h.msg_hdr.msg_name = (sa as *mut libc::sockaddr_in).cast();
                h.msg_hdr.msg_namelen = size_of::<libc::sockaddr_in>() as libc::socklen_t;
                h.msg_hdr.msg_iov = s.iov[n].as_mut_ptr();
                h.msg_hdr.msg_iovlen = 2;
                h.msg_hdr.msg_control = std::ptr::null_mut();
                h.msg_hdr.msg_controllen = 0;
                Ok(())
            }
            (IpAddr::V6(src), IpAddr::V6(dst)) if self.ipv6 => {
                let sa = &mut s.sa6[n];
                // SAFETY: plain C struct.
                *sa = unsafe { zeroed() };
                sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                sa.sin6_addr.s6_addr = dst.octets();
                if dst.is_multicast() || (dst.segments()[0] & 0xffc0) == 0xfe80 {
                    sa.sin6_scope_id = self.ifindex;
                }
                s.iov[n][0] = libc::iovec {
                    iov_base: m.payload.as_ptr() as *mut libc::c_void,
                    iov_len: m.payload.len(),
                };
                h.msg_hdr.msg_name = (sa as *mut libc::sockaddr_in6).cast();
                h.msg_hdr.msg_namelen = size_of::<libc::sockaddr_in6>() as libc::socklen_t;
                h.msg_hdr.msg_iov = s.iov[n].as_mut_ptr();
                h.msg_hdr.msg_iovlen = 1;
                s.cmsg[n] = [0; CMSG_WORDS];
                h.msg_hdr.msg_control = s.cmsg[n].as_mut_ptr().cast();
                // SAFETY: the control buffer holds CMSG_WORDS * 8 bytes, more than the two
                // control messages need.
                unsafe { write_v6_cmsgs(&mut h.msg_hdr, src, self.ifindex, m.ttl) };
                Ok(())
            }
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "address family does not match the socket",
            )),
        }
    }

    /// Reads every waiting packet, [`RX_BATCH`] per system call, handing each to `each`.
    /// Stops when the socket has nothing more (`Ok`) or on an error other than EINTR.
    pub fn recv_batch(&self, rx: &mut RxBuffers, mut each: impl FnMut(Recv)) -> io::Result<()> {
        // SAFETY: plain C structs, all-zero is a valid value.
        let mut hdrs: [libc::mmsghdr; RX_BATCH] = unsafe { zeroed() };
        let mut iov: [libc::iovec; RX_BATCH] = unsafe { zeroed() };
        let mut names: [libc::sockaddr_in6; RX_BATCH] = unsafe { zeroed() };
        let mut cmsg = [[0u64; CMSG_WORDS]; RX_BATCH];
        loop {
            for (i, slot) in rx.bytes.chunks_exact_mut(SLOT).enumerate() {
                iov[i] = libc::iovec {
                    iov_base: slot.as_mut_ptr().cast(),
                    iov_len: SLOT,
                };
                let h = &mut hdrs[i].msg_hdr;
                h.msg_iov = &mut iov[i];
                h.msg_iovlen = 1;
                h.msg_flags = 0;
                if self.ipv6 {
                    h.msg_name = (&mut names[i] as *mut libc::sockaddr_in6).cast();
                    h.msg_namelen = size_of::<libc::sockaddr_in6>() as libc::socklen_t;
                    h.msg_control = cmsg[i].as_mut_ptr().cast();
                    h.msg_controllen = size_of::<[u64; CMSG_WORDS]>() as _;
                } else {
                    h.msg_name = std::ptr::null_mut();
                    h.msg_namelen = 0;
                    h.msg_control = std::ptr::null_mut();
                    h.msg_controllen = 0;
                }
            }
            // SAFETY: every header points at buffers that live for the call.
            let r = unsafe {
                libc::recvmmsg(
                    self.as_raw_fd(),
                    hdrs.as_mut_ptr(),
                    RX_BATCH as libc::c_uint,
                    libc::MSG_DONTWAIT,
                    std::ptr::null_mut(),
                )
            };
            if r < 0 {
                let e = io::Error::last_os_error();
                match e.kind() {
                    io::ErrorKind::WouldBlock => return Ok(()),
                    io::ErrorKind::Interrupted => continue,
                    _ => return Err(e),
                }
            }
            let r = r as usize;
            for (i, h) in hdrs.iter().enumerate().take(r) {
                let len = (h.msg_len as usize).min(SLOT);
                let data = &rx.bytes[i * SLOT..i * SLOT + len];
                if h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0 {
                    each(Recv::Malformed("packet truncated".into()));
                } else if self.ipv6 {
                    each(self.v6_packet(&h.msg_hdr, &names[i], data));
                } else {
                    each(match parse_ipv4(data, &self.ifname) {
                        Ok(p) => Recv::Packet(p),
                        Err(e) => Recv::Malformed(e),
                    });
                }
            }
            // Fewer than asked: the queue was empty (a later packet wakes the loop again).
            if r < RX_BATCH {
                return Ok(());
            }
        }
    }

    fn v6_packet(&self, h: &libc::msghdr, name: &libc::sockaddr_in6, data: &[u8]) -> Recv {
        // SAFETY: `h` is a header recvmmsg filled, its control buffer within msg_controllen.
        let (hops, dst) = unsafe { v6_ancillary(h) };
        let (Some(ttl), Some(dst)) = (hops, dst) else {
            return Recv::Malformed("no hop limit / destination control message".into());
        };
        Recv::Packet(ReceivedPacket {
            ifname: self.ifname.clone(),
            src: IpAddr::V6(Ipv6Addr::from(name.sin6_addr.s6_addr)),
            dst: IpAddr::V6(dst),
            ttl,
            payload: data.to_vec(),
        })
    }
}
