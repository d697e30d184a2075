//! Opening a checker's socket as its [`ConnectSpec`] asks: the family of the destination,
//! non-blocking and close-on-exec, `SO_BINDTODEVICE` (`bind_if`), `SO_MARK` (`fwmark`), a
//! bound source address and port (`bindto`, `bind_port`), the scope of an IPv6 link-local
//! address (the index of `bind_if`); then the non-blocking `connect`. Also the mapping of
//! the kernel's errors to the engine's [`ConnError`].

use crate::event::{ConnError, ConnectSpec};
use std::ffi::CString;
use std::io;
use std::mem::{size_of, zeroed};
use std::net::{IpAddr, Ipv6Addr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Which kind of socket to open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Tcp,
    Udp,
    /// Raw ICMP / ICMPv6 (needs CAP_NET_RAW).
    IcmpRaw,
    /// An unprivileged ping socket (`net.ipv4.ping_group_range`).
    IcmpPing,
}

/// What went wrong, with the step that failed (for the message).
#[derive(Debug)]
pub(super) struct SockError {
    pub step: &'static str,
    pub err: io::Error,
}

impl SockError {
    fn new(step: &'static str, err: io::Error) -> SockError {
        SockError { step, err }
    }

    /// The engine's view of the error.
    pub fn to_conn_error(&self) -> ConnError {
        map_error(self.step, &self.err)
    }
}

/// Maps a kernel error to the engine's kinds; `what` names the step for `Other`.
pub(super) fn map_error(what: &str, e: &io::Error) -> ConnError {
    match e.raw_os_error() {
        Some(libc::ECONNREFUSED) => ConnError::Refused,
        Some(libc::EHOSTUNREACH | libc::ENETUNREACH | libc::EHOSTDOWN | libc::ENETDOWN) => {
            ConnError::Unreachable
        }
        Some(libc::ECONNRESET | libc::EPIPE | libc::ECONNABORTED) => ConnError::Reset,
        _ => ConnError::Other(format!("{what}: {e}")),
    }
}

fn cvt(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

pub(super) fn setsockopt<T>(fd: RawFd, level: i32, name: i32, v: &T) -> io::Result<()> {
    super::super::rawsock::setsockopt(fd, level, name, v)
}

/// The index of interface `name`.
pub(super) fn if_index(name: &str) -> io::Result<u32> {
    let c = CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: a NUL-terminated name we own.
    let idx = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if idx == 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(idx)
    }
}

use crate::sys::rawsock::bind_to_device;

/// A socket address in the kernel's layout.
pub(super) struct RawAddr {
    pub storage: libc::sockaddr_storage,
    pub len: libc::socklen_t,
}

impl RawAddr {
    pub fn new(ip: IpAddr, port: u16, scope: u32) -> RawAddr {
        // SAFETY: a zeroed sockaddr_storage is a valid (empty) address.
        let mut storage: libc::sockaddr_storage = unsafe { zeroed() };
        let len = match ip {
            IpAddr::V4(a) => {
                let sin = libc::sockaddr_in {
                    sin_family: libc::AF_INET as libc::sa_family_t,
                    sin_port: port.to_be(),
                    sin_addr: libc::in_addr {
                        s_addr: u32::from_ne_bytes(a.octets()),
                    },
                    sin_zero: [0; 8],
                };
                // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in.
                unsafe { std::ptr::write(&mut storage as *mut _ as *mut libc::sockaddr_in, sin) };
                size_of::<libc::sockaddr_in>()
            }
            IpAddr::V6(a) => {
                let sin6 = libc::sockaddr_in6 {
                    sin6_family: libc::AF_INET6 as libc::sa_family_t,
                    sin6_port: port.to_be(),
                    sin6_flowinfo: 0,
                    sin6_addr: libc::in6_addr {
                        s6_addr: a.octets(),
                    },
                    sin6_scope_id: scope,
                };
                // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in6.
                unsafe { std::ptr::write(&mut storage as *mut _ as *mut libc::sockaddr_in6, sin6) };
                size_of::<libc::sockaddr_in6>()
            }
        };
        RawAddr {
            storage,
            len: len as libc::socklen_t,
        }
    }

    pub fn as_ptr(&self) -> *const libc::sockaddr {
        (&self.storage as *const libc::sockaddr_storage).cast()
    }

    /// The IP address of a received `sockaddr_storage` (None: not IPv4 / IPv6).
    pub fn ip_of(storage: &libc::sockaddr_storage) -> Option<IpAddr> {
        match i32::from(storage.ss_family) {
            libc::AF_INET => {
                // SAFETY: the family says it is a sockaddr_in.
                let sin = unsafe { &*(storage as *const _ as *const libc::sockaddr_in) };
                Some(IpAddr::from(sin.sin_addr.s_addr.to_ne_bytes()))
            }
            libc::AF_INET6 => {
                // SAFETY: the family says it is a sockaddr_in6.
                let sin6 = unsafe { &*(storage as *const _ as *const libc::sockaddr_in6) };
                Some(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)))
            }
            _ => None,
        }
    }
}

/// Whether `ip` needs a scope (an IPv6 link-local unicast address).
fn is_link_local(ip: IpAddr) -> bool {
    matches!(ip, IpAddr::V6(a) if (a.segments()[0] & 0xffc0) == 0xfe80)
}

/// The scope of `spec`'s addresses: the index of `bind_if` (0 without one). A link-local
/// destination without `bind_if` cannot be reached (no scope).
pub(super) fn scope_of(spec: &ConnectSpec) -> Result<u32, ConnError> {
    let idx = match &spec.bind_if {
        Some(ifname) => {
            if_index(ifname).map_err(|e| ConnError::Other(format!("bind_if {ifname}: {e}")))?
        }
        None => 0,
    };
    if idx == 0 && is_link_local(spec.dst) {
        return Err(ConnError::Other(format!(
            "{}: a link-local destination needs bind_if",
            spec.dst
        )));
    }
    Ok(idx)
}

/// Opens a socket of `kind` for `spec` with its options and source bound (not connected).
pub(super) fn open(kind: Kind, spec: &ConnectSpec, scope: u32) -> Result<OwnedFd, SockError> {
    let v6 = spec.dst.is_ipv6();
    if let Some(b) = spec.bind_addr {
        if b.is_ipv6() != v6 {
            return Err(SockError::new(
                "bind",
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("source {b} and destination {} differ in family", spec.dst),
                ),
            ));
        }
    }
    let domain = if v6 { libc::AF_INET6 } else { libc::AF_INET };
    let (ty, proto) = match kind {
        Kind::Tcp => (libc::SOCK_STREAM, libc::IPPROTO_TCP),
        Kind::Udp => (libc::SOCK_DGRAM, libc::IPPROTO_UDP),
        Kind::IcmpRaw | Kind::IcmpPing => {
            let p = if v6 {
                libc::IPPROTO_ICMPV6
            } else {
                libc::IPPROTO_ICMP
            };
            let t = if kind == Kind::IcmpRaw {
                libc::SOCK_RAW
            } else {
                libc::SOCK_DGRAM
            };
            (t, p)
        }
    };
    // SAFETY: plain syscall, checked.
    let fd =
        cvt(unsafe { libc::socket(domain, ty | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, proto) })
            .map_err(|e| SockError::new("socket", e))?;
    // SAFETY: a fresh descriptor we own.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let raw = fd.as_raw_fd();
    if let Some(ifname) = &spec.bind_if {
        bind_to_device(raw, ifname).map_err(|e| SockError::new("SO_BINDTODEVICE", e))?;
    }
    if let Some(mark) = spec.fwmark {
        setsockopt(raw, libc::SOL_SOCKET, libc::SO_MARK, &mark)
            .map_err(|e| SockError::new("SO_MARK", e))?;
    }
    let port = match kind {
        Kind::Tcp | Kind::Udp => spec.bind_port,
        Kind::IcmpRaw | Kind::IcmpPing => None,
    };
    if spec.bind_addr.is_some() || port.is_some() {
        if port.is_some() {
            let one: libc::c_int = 1;
            setsockopt(raw, libc::SOL_SOCKET, libc::SO_REUSEADDR, &one)
                .map_err(|e| SockError::new("SO_REUSEADDR", e))?;
        }
        let ip = spec.bind_addr.unwrap_or(if v6 {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)
        });
        let sa = RawAddr::new(
            ip,
            port.unwrap_or(0),
            if is_link_local(ip) { scope } else { 0 },
        );
        // SAFETY: a valid address of the given length.
        cvt(unsafe { libc::bind(raw, sa.as_ptr(), sa.len) })
            .map_err(|e| SockError::new("bind", e))?;
    }
    Ok(fd)
}

/// Starts connecting `fd` to `spec`'s destination; a connect still in progress is fine.
pub(super) fn connect(fd: &OwnedFd, spec: &ConnectSpec, scope: u32) -> Result<(), SockError> {
    let sa = RawAddr::new(
        spec.dst,
        spec.port,
        if is_link_local(spec.dst) { scope } else { 0 },
    );
    // SAFETY: a valid address of the given length.
    match cvt(unsafe { libc::connect(fd.as_raw_fd(), sa.as_ptr(), sa.len) }) {
        Ok(_) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(()),
        Err(e) => Err(SockError::new("connect", e)),
    }
}

/// The destination of `spec` in the kernel's layout (ICMP: `sendto`).
pub(super) fn dst_addr(spec: &ConnectSpec, scope: u32) -> RawAddr {
    RawAddr::new(spec.dst, 0, if is_link_local(spec.dst) { scope } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_the_engine_kinds() {
        let e = |n| io::Error::from_raw_os_error(n);
        assert_eq!(map_error("x", &e(libc::ECONNREFUSED)), ConnError::Refused);
        assert_eq!(
            map_error("x", &e(libc::ENETUNREACH)),
            ConnError::Unreachable
        );
        assert_eq!(
            map_error("x", &e(libc::EHOSTUNREACH)),
            ConnError::Unreachable
        );
        assert_eq!(map_error("x", &e(libc::ECONNRESET)), ConnError::Reset);
        assert!(
            matches!(map_error("bind", &e(libc::EADDRINUSE)), ConnError::Other(m) if m.starts_with("bind: "))
        );
    }

    #[test]
    fn link_local_needs_a_scope() {
        let spec = ConnectSpec {
            transport: crate::event::Transport::Tcp,
            dst: "fe80::1".parse().unwrap(),
            port: 80,
            bind_addr: None,
            bind_port: None,
            bind_if: None,
            fwmark: None,
        };
        assert!(matches!(scope_of(&spec), Err(ConnError::Other(_))));
        let global = ConnectSpec {
            dst: "2001:db8::1".parse().unwrap(),
            ..spec
        };
        assert_eq!(scope_of(&global), Ok(0));
    }

    #[test]
    fn addresses_round_trip() {
        for ip in ["192.0.2.1", "2001:db8::7"] {
            let ip: IpAddr = ip.parse().unwrap();
            let a = RawAddr::new(ip, 80, 0);
            assert_eq!(RawAddr::ip_of(&a.storage), Some(ip));
        }
    }
}
