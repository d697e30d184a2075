//! rtnetlink semantics over the `netlink` codec: requests for addresses and links (macvlan
//! VMACs), dumps, and parsing of link and address messages. Routes and rules are in
//! `netlink_iproute`.

use super::netlink::*;
use crate::config::model::VirtualAddress;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub const RTM_NEWLINK: u16 = 16;
pub const RTM_DELLINK: u16 = 17;
pub const RTM_GETLINK: u16 = 18;
pub const RTM_NEWADDR: u16 = 20;
pub const RTM_DELADDR: u16 = 21;
pub const RTM_GETADDR: u16 = 22;
pub const RTM_NEWROUTE: u16 = 24;
pub const RTM_DELROUTE: u16 = 25;
pub const RTM_NEWRULE: u16 = 32;
pub const RTM_DELRULE: u16 = 33;

pub const RTMGRP_LINK: u32 = 0x1;
pub const RTMGRP_IPV4_IFADDR: u32 = 0x10;
pub const RTMGRP_IPV6_IFADDR: u32 = 0x100;

const AF_UNSPEC: u8 = 0;
pub const AF_INET: u8 = 2;
pub const AF_INET6: u8 = 10;

const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_LINK: u16 = 5;
const IFLA_LINKINFO: u16 = 18;
const IFLA_AF_SPEC: u16 = 26;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const IFLA_MACVLAN_MODE: u16 = 1;
const MACVLAN_MODE_PRIVATE: u32 = 1;
const IFLA_INET6_ADDR_GEN_MODE: u16 = 8;
const IN6_ADDR_GEN_MODE_NONE: u8 = 1;

const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_LABEL: u16 = 3;
const IFA_BROADCAST: u16 = 4;
const IFA_CACHEINFO: u16 = 6;
const IFA_FLAGS: u16 = 8;
pub const IFA_F_SECONDARY: u32 = 0x01;
pub const IFA_F_NODAD: u32 = 0x02;
pub const IFA_F_DADFAILED: u32 = 0x08;
pub const IFA_F_HOMEADDRESS: u32 = 0x10;
pub const IFA_F_TENTATIVE: u32 = 0x40;
pub const IFA_F_MANAGETEMPADDR: u32 = 0x100;
pub const IFA_F_NOPREFIXROUTE: u32 = 0x200;
pub const IFA_F_MCAUTOJOIN: u32 = 0x400;

pub const RT_SCOPE_UNIVERSE: u8 = 0;
pub const RT_SCOPE_LINK: u8 = 253;
pub const RT_SCOPE_HOST: u8 = 254;

pub const IFF_UP: u32 = 0x1;
pub const IFF_RUNNING: u32 = 0x40;

pub(crate) fn family_of(a: &IpAddr) -> u8 {
    match a {
        IpAddr::V4(_) => AF_INET,
        IpAddr::V6(_) => AF_INET6,
    }
}

pub(crate) fn ip_bytes(a: &IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(v) => v.octets().to_vec(),
        IpAddr::V6(v) => v.octets().to_vec(),
    }
}

fn ip_from(family: u8, data: &[u8]) -> Option<IpAddr> {
    match family {
        AF_INET => Some(IpAddr::V4(Ipv4Addr::from(
            <[u8; 4]>::try_from(data.get(..4)?).ok()?,
        ))),
        AF_INET6 => Some(IpAddr::V6(Ipv6Addr::from(
            <[u8; 16]>::try_from(data.get(..16)?).ok()?,
        ))),
        _ => None,
    }
}

// ---------------------------------------------------------------- dumps and parsing

/// `RTM_GETLINK` dump of every interface.
pub fn dump_links(seq: u32) -> Vec<u8> {
    let mut b = MsgBuilder::new(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, seq);
    b.push(&[0u8; 16]);
    b.finish()
}

/// `RTM_GETADDR` dump of every address of both families.
pub fn dump_addrs(seq: u32) -> Vec<u8> {
    let mut b = MsgBuilder::new(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, seq);
    b.push(&[AF_UNSPEC, 0, 0, 0, 0, 0, 0, 0]);
    b.finish()
}

/// One interface as a link message describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkInfo {
    pub index: u32,
    pub name: String,
    pub flags: u32,
    pub mac: [u8; 6],
    /// `IFLA_INFO_KIND` (veth, macvlan, bridge...).
    pub kind: Option<String>,
    /// `IFLA_LINK`: the parent of a macvlan.
    pub parent: Option<u32>,
}

/// One address as an address message describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddrInfo {
    pub index: u32,
    pub addr: IpAddr,
    pub prefix_len: u8,
    pub flags: u32,
    pub label: Option<String>,
}

/// A link or address message, new or deleted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RtMessage {
    NewLink(LinkInfo),
    DelLink(LinkInfo),
    NewAddr(AddrInfo),
    DelAddr(AddrInfo),
}

fn parse_link(p: &[u8]) -> Result<LinkInfo, NlError> {
    if p.len() < 16 {
        return Err(NlError("short ifinfomsg".into()));
    }
    let index = u32_at(p, 4).unwrap_or(0);
    let flags = u32_at(p, 8).unwrap_or(0);
    let mut li = LinkInfo {
        index,
        name: String::new(),
        flags,
        mac: [0; 6],
        kind: None,
        parent: None,
    };
    for a in attrs(&p[16..]) {
        let a = a?;
        match a.ty {
            IFLA_IFNAME => li.name = a.str().unwrap_or("").to_string(),
            IFLA_ADDRESS => {
                if let Some(m) = a.data.get(..6) {
                    li.mac.copy_from_slice(m);
                }
            }
            IFLA_LINK => li.parent = a.u32().filter(|&p| p != 0 && p != index),
            IFLA_LINKINFO => {
                for i in a.nested() {
                    let i = i?;
                    if i.ty == IFLA_INFO_KIND {
                        li.kind = i.str().map(str::to_string);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(li)
}

fn parse_addr(p: &[u8]) -> Result<Option<AddrInfo>, NlError> {
    if p.len() < 8 {
        return Err(NlError("short ifaddrmsg".into()));
    }
    let family = p[0];
    let prefix_len = p[1];
    let mut flags = p[2] as u32;
    let index = u32_at(p, 4).unwrap_or(0);
    let (mut local, mut address, mut label) = (None, None, None);
    for a in attrs(&p[8..]) {
        let a = a?;
        match a.ty {
            IFA_LOCAL => local = ip_from(family, a.data),
            IFA_ADDRESS => address = ip_from(family, a.data),
            IFA_LABEL => label = a.str().map(str::to_string),
            IFA_FLAGS => flags = a.u32().unwrap_or(flags),
            _ => {}
        }
    }
    Ok(local.or(address).map(|addr| AddrInfo {
        index,
        addr,
        prefix_len,
        flags,
        label,
    }))
}

/// Interprets a link/address message; other types give `Ok(None)`.
pub fn parse_rt(msg: &Msg<'_>) -> Result<Option<RtMessage>, NlError> {
    Ok(match msg.msg_type {
        RTM_NEWLINK => Some(RtMessage::NewLink(parse_link(msg.payload)?)),
        RTM_DELLINK => Some(RtMessage::DelLink(parse_link(msg.payload)?)),
        RTM_NEWADDR => parse_addr(msg.payload)?.map(RtMessage::NewAddr),
        RTM_DELADDR => parse_addr(msg.payload)?.map(RtMessage::DelAddr),
        _ => None,
    })
}

// ---------------------------------------------------------------- addresses

/// A scope given by name or number (`ip` syntax).
pub fn parse_scope(s: &str) -> Result<u8, String> {
    match s {
        "global" | "universe" => Ok(RT_SCOPE_UNIVERSE),
        "site" => Ok(200),
        "link" => Ok(RT_SCOPE_LINK),
        "host" => Ok(RT_SCOPE_HOST),
        "nowhere" => Ok(255),
        n => n.parse::<u8>().map_err(|_| format!("unknown scope '{n}'")),
    }
}

/// `RTM_NEWADDR` / `RTM_DELADDR` for a virtual address on interface `index`.
pub fn addr_request(
    add: bool,
    index: u32,
    a: &VirtualAddress,
    seq: u32,
) -> Result<Vec<u8>, String> {
    let family = family_of(&a.addr);
    let scope = match &a.scope {
        Some(s) => parse_scope(s)?,
        None => RT_SCOPE_UNIVERSE,
    };
    let (ty, flags) = if add {
        (
            RTM_NEWADDR,
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE,
        )
    } else {
        (RTM_DELADDR, NLM_F_REQUEST | NLM_F_ACK)
    };
    let mut b = MsgBuilder::new(ty, flags, seq);
    let mut ifa_flags = 0u32;
    if a.no_dad && family == AF_INET6 {
        ifa_flags |= IFA_F_NODAD;
    }
    if family == AF_INET6 {
        if a.options.home {
            ifa_flags |= IFA_F_HOMEADDRESS;
        }
        if a.options.mngtmpaddr {
            ifa_flags |= IFA_F_MANAGETEMPADDR;
        }
    }
    if a.options.noprefixroute {
        ifa_flags |= IFA_F_NOPREFIXROUTE;
    }
    if a.options.autojoin {
        ifa_flags |= IFA_F_MCAUTOJOIN;
    }
    let mut hdr = vec![family, a.prefix_len, (ifa_flags & 0xff) as u8, scope];
    hdr.extend_from_slice(&index.to_ne_bytes());
    b.push(&hdr);
    b.attr(IFA_LOCAL, &ip_bytes(&a.addr));
    b.attr(IFA_ADDRESS, &ip_bytes(a.peer.as_ref().unwrap_or(&a.addr)));
    if add {
        if let IpAddr::V4(v4) = a.addr {
            let host_mask = u32::MAX.checked_shr(a.prefix_len as u32).unwrap_or(0);
            let brd = match (a.brd, a.options.brd_set_host_bits) {
                (Some(b), _) => Some(b),
                (None, Some(true)) => Some(Ipv4Addr::from(u32::from(v4) | host_mask)),
                (None, Some(false)) => Some(Ipv4Addr::from(u32::from(v4) & !host_mask)),
                (None, None) => None,
            };
            if let Some(brd) = brd {
                b.attr(IFA_BROADCAST, &brd.octets());
            }
        }
        if let (Some(label), AF_INET) = (&a.label, family) {
            b.attr_str(IFA_LABEL, label);
        }
        // keepalived deprecates IPv6 /128 VIPs unless told otherwise (not a source address).
        let preferred = if a.options.preferred_forever {
            Some(u32::MAX)
        } else {
            a.preferred_lft
        };
        let preferred = preferred.or(if family == AF_INET6 && a.prefix_len == 128 {
            Some(0)
        } else {
            None
        });
        if let Some(pref) = preferred {
            let mut ci = Vec::with_capacity(16);
            ci.extend_from_slice(&pref.to_ne_bytes());
            ci.extend_from_slice(&u32::MAX.to_ne_bytes());
            ci.extend_from_slice(&[0u8; 8]);
            b.attr(IFA_CACHEINFO, &ci);
        }
        if ifa_flags != 0 {
            b.attr_u32(IFA_FLAGS, ifa_flags);
        }
    }
    Ok(b.finish())
}

// ---------------------------------------------------------------- links

/// Creates the macvlan of `use_vmac`: private mode, the given MAC, created down (follow
/// with [`addr_gen_none_request`] then [`set_link_up_request`]).
pub fn new_macvlan_request(name: &str, parent: u32, mac: &[u8; 6], seq: u32) -> Vec<u8> {
    let mut b = MsgBuilder::new(
        RTM_NEWLINK,
        NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
        seq,
    );
    b.push(&[0u8; 16]);
    b.attr_str(IFLA_IFNAME, name);
    b.attr_u32(IFLA_LINK, parent);
    b.attr(IFLA_ADDRESS, mac);
    b.begin_nest(IFLA_LINKINFO);
    b.attr_str(IFLA_INFO_KIND, "macvlan");
    b.begin_nest(IFLA_INFO_DATA);
    b.attr_u32(IFLA_MACVLAN_MODE, MACVLAN_MODE_PRIVATE);
    b.end_nest();
    b.end_nest();
    b.finish()
}

/// Turns IPv6 address generation off on interface `name` (a VMAC gets no link-local
/// address of its own). Must precede bringing it up.
pub fn addr_gen_none_request(name: &str, seq: u32) -> Vec<u8> {
    let mut b = MsgBuilder::new(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq);
    b.push(&[0u8; 16]);
    b.attr_str(IFLA_IFNAME, name);
    b.begin_nest(IFLA_AF_SPEC);
    b.begin_nest(AF_INET6 as u16);
    b.attr_u8(IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
    b.end_nest();
    b.end_nest();
    b.finish()
}

/// Sets interface `name` up (or down).
pub fn set_link_up_request(name: &str, up: bool, seq: u32) -> Vec<u8> {
    let mut b = MsgBuilder::new(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq);
    let mut hdr = vec![AF_UNSPEC, 0, 0, 0];
    hdr.extend_from_slice(&0u32.to_ne_bytes());
    hdr.extend_from_slice(&(if up { IFF_UP } else { 0 }).to_ne_bytes());
    hdr.extend_from_slice(&IFF_UP.to_ne_bytes());
    b.push(&hdr);
    b.attr_str(IFLA_IFNAME, name);
    b.finish()
}

/// Deletes an interface by name.
pub fn del_link_request(name: &str, seq: u32) -> Vec<u8> {
    let mut b = MsgBuilder::new(RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, seq);
    b.push(&[0u8; 16]);
    b.attr_str(IFLA_IFNAME, name);
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_request_carries_local_label_and_lifetime() {
        let va = VirtualAddress {
            addr: "10.0.0.100".parse().unwrap(),
            prefix_len: 24,
            brd: Some("10.0.0.255".parse().unwrap()),
            dev: None,
            scope: Some("link".into()),
            label: Some("eth0:vip".into()),
            peer: None,
            no_dad: false,
            preferred_lft: Some(0),
            span: Default::default(),
            options: Default::default(),
        };
        let bytes = addr_request(true, 3, &va, 9).unwrap();
        let m = messages(&bytes).next().unwrap().unwrap();
        assert_eq!(m.msg_type, RTM_NEWADDR);
        assert_eq!(&m.payload[..4], &[AF_INET, 24, 0, RT_SCOPE_LINK]);
        assert_eq!(u32_at(m.payload, 4), Some(3));
        let a: Vec<_> = attrs(&m.payload[8..]).map(|a| a.unwrap()).collect();
        assert!(a
            .iter()
            .any(|a| a.ty == IFA_LOCAL && a.data == [10, 0, 0, 100]));
        assert!(a
            .iter()
            .any(|a| a.ty == IFA_LABEL && a.str() == Some("eth0:vip")));
        assert!(a
            .iter()
            .any(|a| a.ty == IFA_CACHEINFO && a.u32() == Some(0)));
        // And it parses back as an address message.
        match parse_rt(&m).unwrap() {
            Some(RtMessage::NewAddr(ai)) => {
                assert_eq!(ai.addr, va.addr);
                assert_eq!(ai.prefix_len, 24);
                assert_eq!(ai.label.as_deref(), Some("eth0:vip"));
            }
            other => panic!("{other:?}"),
        }
        let mut bad = va.clone();
        bad.scope = Some("galaxy".into());
        assert!(addr_request(true, 3, &bad, 1)
            .unwrap_err()
            .contains("galaxy"));
    }

    #[test]
    fn macvlan_request_parses_back_as_a_link() {
        let bytes = new_macvlan_request("vrrp.42", 2, &[0, 0, 0x5e, 0, 1, 42], 1);
        let m = messages(&bytes).next().unwrap().unwrap();
        match parse_rt(&m).unwrap() {
            Some(RtMessage::NewLink(l)) => {
                assert_eq!(l.name, "vrrp.42");
                assert_eq!(l.parent, Some(2));
                assert_eq!(l.mac, [0, 0, 0x5e, 0, 1, 42]);
                assert_eq!(l.kind.as_deref(), Some("macvlan"));
            }
            other => panic!("{other:?}"),
        }
    }
}
