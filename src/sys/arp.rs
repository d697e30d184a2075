//! Gratuitous ARP on an AF_PACKET socket (vrrp-rfc.md §1.6, §5 item 42): a broadcast ARP
//! request whose sender and target IP are the virtual address and whose sender and target
//! hardware address (and Ethernet source) are the MAC the engine chose. The same socket
//! carries the hand-built unsolicited neighbour advertisements of `ndisc`.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

pub const ETH_P_ARP: u16 = 0x0806;
pub const ETH_P_IPV6: u16 = 0x86dd;

/// The Ethernet frame of one gratuitous ARP for `ip` from `mac`.
pub fn garp_frame(ip: Ipv4Addr, mac: &[u8; 6]) -> Vec<u8> {
    let mut f = Vec::with_capacity(60);
    f.extend_from_slice(&[0xff; 6]);
    f.extend_from_slice(mac);
    f.extend_from_slice(&ETH_P_ARP.to_be_bytes());
    f.extend_from_slice(&[0, 1, 0x08, 0x00, 6, 4, 0, 1]); // Ethernet, IPv4, request
    f.extend_from_slice(mac);
    f.extend_from_slice(&ip.octets());
    f.extend_from_slice(mac);
    f.extend_from_slice(&ip.octets());
    f.resize(60, 0); // minimum Ethernet payload
    f
}

/// A send-only packet socket (protocol 0: it receives nothing).
pub struct PacketSocket {
    fd: OwnedFd,
}

impl PacketSocket {
    pub fn open() -> io::Result<PacketSocket> {
        // SAFETY: plain syscall, checked.
        let fd = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                0,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fresh fd we own.
        Ok(PacketSocket {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// Sends a complete Ethernet frame out of interface `ifindex`.
    pub fn send_frame(&self, ifindex: u32, frame: &[u8]) -> io::Result<()> {
        if frame.len() < 14 {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "short frame"));
        }
        // SAFETY: zeroed plain C struct.
        let mut sa: libc::sockaddr_ll = unsafe { zeroed() };
        sa.sll_family = libc::AF_PACKET as u16;
        sa.sll_protocol = u16::from_be_bytes([frame[12], frame[13]]).to_be();
        sa.sll_ifindex = ifindex as i32;
        sa.sll_halen = 6;
        sa.sll_addr[..6].copy_from_slice(&frame[..6]);
        // SAFETY: frame and sockaddr valid for the call.
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                frame.as_ptr().cast(),
                frame.len(),
                0,
                (&sa as *const libc::sockaddr_ll).cast(),
                size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

impl AsRawFd for PacketSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garp_frame_layout() {
        let mac = [0, 0, 0x5e, 0, 1, 0x33];
        let f = garp_frame(Ipv4Addr::new(192, 0, 2, 100), &mac);
        assert_eq!(f.len(), 60);
        assert_eq!(&f[0..6], &[0xff; 6]);
        assert_eq!(&f[6..12], &mac);
        assert_eq!(&f[12..14], &[0x08, 0x06]);
        assert_eq!(&f[20..22], &[0, 1]); // request
        assert_eq!(&f[22..28], &mac); // sender hw
        assert_eq!(&f[28..32], &[192, 0, 2, 100]); // sender ip
        assert_eq!(&f[32..38], &mac); // target hw
        assert_eq!(&f[38..42], &[192, 0, 2, 100]); // target ip
    }
}
