//! Unsolicited neighbour advertisements (vrrp-rfc.md §5 item 43), built as whole Ethernet
//! frames for the packet socket of `arp`: to ff02::1 (33:33:00:00:00:01), hop limit 255,
//! flags R=1 S=0 O=1, target = the virtual address, target link-layer option = the MAC.

use super::arp::ETH_P_IPV6;
use std::net::Ipv6Addr;

const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

/// RFC 1071 checksum over IPv6 pseudo-header + ICMPv6 message.
fn icmpv6_checksum(src: &Ipv6Addr, dst: &Ipv6Addr, msg: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut add = |b: &[u8]| {
        for c in b.chunks(2) {
            let w = if c.len() == 2 {
                u16::from_be_bytes([c[0], c[1]])
            } else {
                u16::from_be_bytes([c[0], 0])
            };
            sum += w as u32;
        }
    };
    add(&src.octets());
    add(&dst.octets());
    add(&(msg.len() as u32).to_be_bytes());
    add(&[0, 0, 0, 58]);
    add(msg);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The Ethernet frame of one unsolicited NA for `target`, sent from IPv6 `src` (the
/// interface's link-local address) and Ethernet `mac`.
pub fn unsolicited_na_frame(src: Ipv6Addr, target: Ipv6Addr, mac: &[u8; 6]) -> Vec<u8> {
    let mut icmp = Vec::with_capacity(32);
    icmp.extend_from_slice(&[136, 0, 0, 0]); // type NA, code, checksum
    icmp.extend_from_slice(&[0xa0, 0, 0, 0]); // R=1 S=0 O=1
    icmp.extend_from_slice(&target.octets());
    icmp.extend_from_slice(&[2, 1]); // option: target link-layer address, 8 bytes
    icmp.extend_from_slice(mac);
    let ck = icmpv6_checksum(&src, &ALL_NODES, &icmp);
    icmp[2..4].copy_from_slice(&ck.to_be_bytes());

    let mut f = Vec::with_capacity(14 + 40 + icmp.len());
    f.extend_from_slice(&[0x33, 0x33, 0, 0, 0, 1]);
    f.extend_from_slice(mac);
    f.extend_from_slice(&ETH_P_IPV6.to_be_bytes());
    f.extend_from_slice(&[0x60, 0, 0, 0]);
    f.extend_from_slice(&(icmp.len() as u16).to_be_bytes());
    f.extend_from_slice(&[58, 255]);
    f.extend_from_slice(&src.octets());
    f.extend_from_slice(&ALL_NODES.octets());
    f.extend_from_slice(&icmp);
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn na_frame_layout_and_checksum_verifies() {
        let src: Ipv6Addr = "fe80::1".parse().unwrap();
        let target: Ipv6Addr = "2001:db8::100".parse().unwrap();
        let mac = [0, 0, 0x5e, 0, 2, 0x33];
        let f = unsolicited_na_frame(src, target, &mac);
        assert_eq!(&f[0..6], &[0x33, 0x33, 0, 0, 0, 1]);
        assert_eq!(&f[6..12], &mac);
        assert_eq!(&f[12..14], &[0x86, 0xdd]);
        let ip = &f[14..];
        assert_eq!(ip[6], 58);
        assert_eq!(ip[7], 255);
        let icmp = &ip[40..];
        assert_eq!(icmp.len(), 32);
        assert_eq!(icmp[0], 136);
        assert_eq!(icmp[4], 0xa0);
        assert_eq!(&icmp[8..24], &target.octets());
        assert_eq!(&icmp[26..32], &mac);
        // A correct checksum sums (with itself in place) to zero.
        assert_eq!(icmpv6_checksum(&src, &ALL_NODES, icmp), 0);
    }
}
