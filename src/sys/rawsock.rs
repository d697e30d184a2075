//! VRRP sockets: raw IPv4 / IPv6 sockets for protocol 112, one per (interface, family),
//! bound to the interface. IPv4 is sent with our own header (IP_HDRINCL: TTL 255, TOS
//! 0xc0, the exact source the engine chose); IPv6 with hop limit 255 and the source in an
//! IPV6_PKTINFO control message. Received TTL / hop limit, source and destination are
//! handed to the engine; multicast loopback of our own adverts is off.

use crate::event::ReceivedPacket;
use std::ffi::CString;
use std::io;
use std::mem::{size_of, zeroed};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

pub const IPPROTO_VRRP: i32 = 112;
pub const VRRP_GROUP_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
pub const VRRP_GROUP_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
const IPV6_FREEBIND: i32 = 78;

fn cvt(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

pub(crate) fn setsockopt<T>(fd: RawFd, level: i32, name: i32, v: &T) -> io::Result<()> {
    // SAFETY: v points to a T of the given size.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (v as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    })
    .map(|_| ())
}

/// SO_BINDTODEVICE `ifname` on `fd` (VRRP sockets, and checker connections with
/// `bind_if`).
pub(crate) fn bind_to_device(fd: RawFd, ifname: &str) -> io::Result<()> {
    let c = CString::new(ifname).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let bytes = c.as_bytes_with_nul();
    // SAFETY: pointer and length of the name.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_BINDTODEVICE,
            bytes.as_ptr().cast(),
            bytes.len() as libc::socklen_t,
        )
    })
    .map(|_| ())
}

/// What a read from a VRRP socket gave.
#[derive(Debug)]
pub enum Recv {
    Packet(ReceivedPacket),
    /// Something arrived that is not a well-formed IP packet (why).
    Malformed(String),
    WouldBlock,
}

/// A raw protocol-112 socket bound to one interface.
pub struct VrrpSocket {
    fd: OwnedFd,
    pub ipv6: bool,
    pub ifname: String,
    pub ifindex: u32,
}

impl VrrpSocket {
    /// Opens the socket of `family` on interface `ifname` (index `ifindex`).
    pub fn open(ifname: &str, ifindex: u32, ipv6: bool) -> io::Result<VrrpSocket> {
        let domain = if ipv6 { libc::AF_INET6 } else { libc::AF_INET };
        // SAFETY: plain syscall, checked.
        let fd = cvt(unsafe {
            libc::socket(
                domain,
                libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                IPPROTO_VRRP,
            )
        })?;
        // SAFETY: fresh fd we own.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let raw = fd.as_raw_fd();
        bind_to_device(raw, ifname)?;
        let one: libc::c_int = 1;
        let zero: libc::c_int = 0;
        let ttl: libc::c_int = 255;
        if ipv6 {
            setsockopt(raw, libc::IPPROTO_IPV6, libc::IPV6_RECVHOPLIMIT, &one)?;
            setsockopt(raw, libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO, &one)?;
            setsockopt(raw, libc::IPPROTO_IPV6, libc::IPV6_MULTICAST_HOPS, &ttl)?;
            setsockopt(raw, libc::IPPROTO_IPV6, libc::IPV6_UNICAST_HOPS, &ttl)?;
            setsockopt(raw, libc::IPPROTO_IPV6, libc::IPV6_MULTICAST_LOOP, &zero)?;
            let idx = ifindex as libc::c_int;
            setsockopt(raw, libc::IPPROTO_IPV6, libc::IPV6_MULTICAST_IF, &idx)?;
            // Lets a VMAC (no address of its own) send with the base link-local source.
            setsockopt(raw, libc::IPPROTO_IPV6, IPV6_FREEBIND, &one)?;
        } else {
            setsockopt(raw, libc::IPPROTO_IP, libc::IP_HDRINCL, &one)?;
            setsockopt(raw, libc::IPPROTO_IP, libc::IP_MULTICAST_LOOP, &zero)?;
            setsockopt(raw, libc::IPPROTO_IP, libc::IP_MULTICAST_TTL, &ttl)?;
            // SAFETY: zeroed plain C struct.
            let mut mreq: libc::ip_mreqn = unsafe { zeroed() };
            mreq.imr_ifindex = ifindex as libc::c_int;
            setsockopt(raw, libc::IPPROTO_IP, libc::IP_MULTICAST_IF, &mreq)?;
        }
        Ok(VrrpSocket {
            fd,
            ipv6,
            ifname: ifname.to_string(),
            ifindex,
        })
    }

    /// Joins a multicast group on the socket's interface.
    pub fn join(&self, group: IpAddr) -> io::Result<()> {
        let raw = self.fd.as_raw_fd();
        match group {
            IpAddr::V4(g) => {
                // SAFETY: zeroed plain C struct.
                let mut mreq: libc::ip_mreqn = unsafe { zeroed() };
                mreq.imr_multiaddr.s_addr = u32::from_ne_bytes(g.octets());
                mreq.imr_ifindex = self.ifindex as libc::c_int;
                setsockopt(raw, libc::IPPROTO_IP, libc::IP_ADD_MEMBERSHIP, &mreq)
            }
            IpAddr::V6(g) => {
                let mreq = libc::ipv6_mreq {
                    ipv6mr_multiaddr: libc::in6_addr {
                        s6_addr: g.octets(),
                    },
                    ipv6mr_interface: self.ifindex,
                };
                setsockopt(raw, libc::IPPROTO_IPV6, libc::IPV6_ADD_MEMBERSHIP, &mreq)
            }
        }
    }

    /// Sends one VRRP message from `src` to `dst` with TTL / hop limit `ttl` (255, or
    /// `unicast_ttl` to unicast peers).
    pub fn send(&self, src: IpAddr, dst: IpAddr, ttl: u8, payload: &[u8]) -> io::Result<()> {
        match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) if !self.ipv6 => self.send_v4(s, d, ttl, payload),
            (IpAddr::V6(s), IpAddr::V6(d)) if self.ipv6 => self.send_v6(s, d, ttl, payload),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "address family does not match the socket",
            )),
        }
    }

    fn send_v4(&self, src: Ipv4Addr, dst: Ipv4Addr, ttl: u8, payload: &[u8]) -> io::Result<()> {
        let total = 20 + payload.len();
        if total > 65535 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "advert too long",
            ));
        }
        let mut pkt = Vec::with_capacity(total);
        pkt.extend_from_slice(&[0x45, 0xc0]);
        pkt.extend_from_slice(&(total as u16).to_be_bytes());
        pkt.extend_from_slice(&[0, 0, 0, 0]); // id (kernel fills), no fragmentation
        pkt.extend_from_slice(&[ttl, IPPROTO_VRRP as u8, 0, 0]); // TTL, proto, checksum (kernel)
        pkt.extend_from_slice(&src.octets());
        pkt.extend_from_slice(&dst.octets());
        pkt.extend_from_slice(payload);
        // SAFETY: zeroed plain C struct.
        let mut sa: libc::sockaddr_in = unsafe { zeroed() };
        sa.sin_family = libc::AF_INET as libc::sa_family_t;
        sa.sin_addr.s_addr = u32::from_ne_bytes(dst.octets());
        // SAFETY: buffer and sockaddr are valid for the call.
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                pkt.as_ptr().cast(),
                pkt.len(),
                0,
                (&sa as *const libc::sockaddr_in).cast(),
                size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn send_v6(&self, src: Ipv6Addr, dst: Ipv6Addr, hops: u8, payload: &[u8]) -> io::Result<()> {
        // SAFETY: zeroed plain C structs, filled below.
        let mut sa: libc::sockaddr_in6 = unsafe { zeroed() };
        sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
        sa.sin6_addr.s6_addr = dst.octets();
        if dst.is_multicast() || (dst.segments()[0] & 0xffc0) == 0xfe80 {
            sa.sin6_scope_id = self.ifindex;
        }
        let mut cbuf = [0u64; 16];
        let mut iov = libc::iovec {
            iov_base: payload.as_ptr() as *mut libc::c_void,
            iov_len: payload.len(),
        };
        // SAFETY: zeroed plain C struct, filled below.
        let mut msg: libc::msghdr = unsafe { zeroed() };
        msg.msg_name = (&mut sa as *mut libc::sockaddr_in6).cast();
        msg.msg_namelen = size_of::<libc::sockaddr_in6>() as libc::socklen_t;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.as_mut_ptr().cast();
        // SAFETY: cbuf holds 128 bytes, more than the two control messages.
        unsafe { write_v6_cmsgs(&mut msg, src, self.ifindex, hops) };
        // SAFETY: msg is fully initialised above.
        let n = unsafe { libc::sendmsg(self.fd.as_raw_fd(), &msg, 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Reads one packet.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Recv> {
        if self.ipv6 {
            self.recv_v6(buf)
        } else {
            self.recv_v4(buf)
        }
    }

    fn recv_v4(&self, buf: &mut [u8]) -> io::Result<Recv> {
        // SAFETY: reading into our buffer.
        let n = unsafe {
            libc::recv(
                self.fd.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_TRUNC,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock => Ok(Recv::WouldBlock),
                _ => Err(e),
            };
        }
        let n = n as usize;
        if n > buf.len() {
            return Ok(Recv::Malformed(format!("{n}-byte packet truncated")));
        }
        Ok(match parse_ipv4(&buf[..n], &self.ifname) {
            Ok(p) => Recv::Packet(p),
            Err(e) => Recv::Malformed(e),
        })
    }

    fn recv_v6(&self, buf: &mut [u8]) -> io::Result<Recv> {
        let mut sa: libc::sockaddr_in6 = unsafe { zeroed() };
        let mut cbuf = [0u64; 16];
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        let mut msg: libc::msghdr = unsafe { zeroed() };
        msg.msg_name = (&mut sa as *mut libc::sockaddr_in6).cast();
        msg.msg_namelen = size_of::<libc::sockaddr_in6>() as libc::socklen_t;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.as_mut_ptr().cast();
        msg.msg_controllen = size_of::<[u64; 16]>() as _;
        // SAFETY: msg points at our buffers.
        let n = unsafe { libc::recvmsg(self.fd.as_raw_fd(), &mut msg, 0) };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock => Ok(Recv::WouldBlock),
                _ => Err(e),
            };
        }
        if msg.msg_flags & libc::MSG_TRUNC != 0 {
            return Ok(Recv::Malformed("packet truncated".into()));
        }
        // SAFETY: msg is the header recvmsg filled.
        let (hops, dst) = unsafe { v6_ancillary(&msg) };
        let (Some(ttl), Some(dst)) = (hops, dst) else {
            return Ok(Recv::Malformed(
                "no hop limit / destination control message".into(),
            ));
        };
        Ok(Recv::Packet(ReceivedPacket {
            ifname: self.ifname.clone(),
            src: IpAddr::V6(Ipv6Addr::from(sa.sin6_addr.s6_addr)),
            dst: IpAddr::V6(dst),
            ttl,
            payload: buf[..n as usize].to_vec(),
        }))
    }
}

/// Writes the IPV6_PKTINFO (source `src`, interface `ifindex`) and IPV6_HOPLIMIT (`hops`)
/// control messages of a sent advert into `msg`'s control buffer and sets its length.
///
/// # Safety
/// `msg.msg_control` must point at zeroed, 8-byte aligned, writable memory of at least
/// CMSG_SPACE(in6_pktinfo) + CMSG_SPACE(int) bytes.
pub(super) unsafe fn write_v6_cmsgs(msg: &mut libc::msghdr, src: Ipv6Addr, ifindex: u32, hops: u8) {
    let info = libc::in6_pktinfo {
        ipi6_addr: libc::in6_addr {
            s6_addr: src.octets(),
        },
        ipi6_ifindex: ifindex,
    };
    let hops = libc::c_int::from(hops);
    // Exactly the space used: the kernel rejects a trailing empty control message.
    let space = libc::CMSG_SPACE(size_of::<libc::in6_pktinfo>() as u32)
        + libc::CMSG_SPACE(size_of::<libc::c_int>() as u32);
    msg.msg_controllen = space as _;
    let c = libc::CMSG_FIRSTHDR(msg);
    (*c).cmsg_level = libc::IPPROTO_IPV6;
    (*c).cmsg_type = libc::IPV6_PKTINFO;
    (*c).cmsg_len = libc::CMSG_LEN(size_of::<libc::in6_pktinfo>() as u32) as _;
    std::ptr::copy_nonoverlapping(
        (&info as *const libc::in6_pktinfo).cast::<u8>(),
        libc::CMSG_DATA(c),
        size_of::<libc::in6_pktinfo>(),
    );
    let h = libc::CMSG_NXTHDR(msg, c);
    (*h).cmsg_level = libc::IPPROTO_IPV6;
    (*h).cmsg_type = libc::IPV6_HOPLIMIT;
    (*h).cmsg_len = libc::CMSG_LEN(size_of::<libc::c_int>() as u32) as _;
    std::ptr::copy_nonoverlapping(
        (&hops as *const libc::c_int).cast::<u8>(),
        libc::CMSG_DATA(h),
        size_of::<libc::c_int>(),
    );
}

/// The hop limit and destination of a received IPv6 packet, from its control messages.
///
/// # Safety
/// `msg` must be a header recvmsg / recvmmsg filled (control length within its buffer).
pub(super) unsafe fn v6_ancillary(msg: &libc::msghdr) -> (Option<u8>, Option<Ipv6Addr>) {
    let (mut hops, mut dst) = (None, None);
    let mut c = libc::CMSG_FIRSTHDR(msg);
    while !c.is_null() {
        let data = libc::CMSG_DATA(c);
        let dlen = ((*c).cmsg_len as usize).saturating_sub(libc::CMSG_LEN(0) as usize);
        if (*c).cmsg_level == libc::IPPROTO_IPV6 {
            if (*c).cmsg_type == libc::IPV6_HOPLIMIT && dlen >= 4 {
                let v = std::ptr::read_unaligned(data.cast::<libc::c_int>());
                hops = u8::try_from(v).ok();
            } else if (*c).cmsg_type == libc::IPV6_PKTINFO && dlen >= size_of::<libc::in6_pktinfo>()
            {
                let info = std::ptr::read_unaligned(data.cast::<libc::in6_pktinfo>());
                dst = Some(Ipv6Addr::from(info.ipi6_addr.s6_addr));
            }
        }
        c = libc::CMSG_NXTHDR(msg, c);
    }
    (hops, dst)
}

/// Splits a received IPv4 packet (raw sockets deliver the header) into the engine's view.
pub fn parse_ipv4(pkt: &[u8], ifname: &str) -> Result<ReceivedPacket, String> {
    let first = *pkt.first().ok_or("empty packet")?;
    if first >> 4 != 4 {
        return Err(format!("IP version {} on an IPv4 socket", first >> 4));
    }
    let ihl = ((first & 0x0f) as usize) * 4;
    if ihl < 20 || pkt.len() < ihl {
        return Err(format!(
            "bad IPv4 header length {ihl} ({} bytes)",
            pkt.len()
        ));
    }
    let total = u16::from_be_bytes([pkt[2], pkt[3]]) as usize;
    if total < ihl || total > pkt.len() {
        return Err(format!(
            "IPv4 total length {total} with {} bytes",
            pkt.len()
        ));
    }
    let src = Ipv4Addr::new(pkt[12], pkt[13], pkt[14], pkt[15]);
    let dst = Ipv4Addr::new(pkt[16], pkt[17], pkt[18], pkt[19]);
    Ok(ReceivedPacket {
        ifname: ifname.to_string(),
        src: IpAddr::V4(src),
        dst: IpAddr::V4(dst),
        ttl: pkt[8],
        payload: pkt[ihl..total].to_vec(),
    })
}

impl AsRawFd for VrrpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_an_ipv4_header_with_options_and_checks_lengths() {
        let mut p = vec![
            0x46, 0xc0, 0, 32, 0, 0, 0, 0, 255, 112, 0, 0, 10, 0, 0, 1, 224, 0, 0, 18,
        ];
        p.extend_from_slice(&[1, 1, 0, 0]); // 4 bytes of options
        p.extend_from_slice(&[0x31, 7, 100, 1, 0, 100, 0, 0]);
        let r = parse_ipv4(&p, "eth0").unwrap();
        assert_eq!(r.ttl, 255);
        assert_eq!(r.src, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(r.dst, IpAddr::V4(VRRP_GROUP_V4));
        assert_eq!(r.payload, vec![0x31, 7, 100, 1, 0, 100, 0, 0]);
        for cut in 0..p.len() {
            assert!(parse_ipv4(&p[..cut], "eth0").is_err(), "cut {cut}");
        }
        let mut v6 = p.clone();
        v6[0] = 0x65;
        assert!(parse_ipv4(&v6, "eth0").unwrap_err().contains("version"));
    }
}
