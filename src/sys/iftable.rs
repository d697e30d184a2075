//! The host's interfaces as netlink reports them (dump, then monitor events), turned into
//! the engine's [`InterfaceState`]. Only changes are reported to the engine.

use super::netlink_route::{
    AddrInfo, LinkInfo, RtMessage, IFA_F_DADFAILED, IFA_F_SECONDARY, IFA_F_TENTATIVE, IFF_RUNNING,
    IFF_UP,
};
use crate::event::InterfaceState;
use std::collections::BTreeMap;
use std::net::IpAddr;

#[derive(Clone, Debug)]
pub struct Iface {
    pub link: LinkInfo,
    pub addrs: Vec<AddrInfo>,
}

/// Every interface by index.
#[derive(Clone, Debug, Default)]
pub struct Interfaces {
    by_index: BTreeMap<u32, Iface>,
}

impl Interfaces {
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one link/address message.
    pub fn apply(&mut self, m: RtMessage) {
        match m {
            RtMessage::NewLink(l) => {
                let e = self.by_index.entry(l.index).or_insert_with(|| Iface {
                    link: l.clone(),
                    addrs: Vec::new(),
                });
                // A partial message (no name) keeps what we knew.
                let name = if l.name.is_empty() {
                    e.link.name.clone()
                } else {
                    l.name.clone()
                };
                let kind = l.kind.clone().or(e.link.kind.clone());
                e.link = LinkInfo { name, kind, ..l };
            }
            RtMessage::DelLink(l) => {
                self.by_index.remove(&l.index);
            }
            RtMessage::NewAddr(a) => {
                if let Some(i) = self.by_index.get_mut(&a.index) {
                    if let Some(old) = i.addrs.iter_mut().find(|o| o.addr == a.addr) {
                        *old = a;
                    } else {
                        i.addrs.push(a);
                    }
                }
            }
            RtMessage::DelAddr(a) => {
                if let Some(i) = self.by_index.get_mut(&a.index) {
                    i.addrs.retain(|o| o.addr != a.addr);
                }
            }
        }
    }

    pub fn by_name(&self, name: &str) -> Option<&Iface> {
        self.by_index.values().find(|i| i.link.name == name)
    }

    pub fn by_index(&self, index: u32) -> Option<&Iface> {
        self.by_index.get(&index)
    }

    pub fn index_of(&self, name: &str) -> Option<u32> {
        self.by_name(name).map(|i| i.link.index)
    }

    /// An interface (other than `not`) with this MAC whose parent is `parent` if given.
    pub fn by_mac(&self, mac: &[u8; 6], parent: Option<u32>) -> Option<&Iface> {
        self.by_index
            .values()
            .find(|i| &i.link.mac == mac && (parent.is_none() || i.link.parent == parent))
    }

    pub fn names(&self) -> Vec<String> {
        self.by_index
            .values()
            .map(|i| i.link.name.clone())
            .collect()
    }

    pub fn has_address(&self, name: &str, addr: &IpAddr) -> bool {
        self.by_name(name)
            .is_some_and(|i| i.addrs.iter().any(|a| &a.addr == addr))
    }

    /// The engine's view of every interface, by name.
    pub fn states(&self) -> BTreeMap<String, InterfaceState> {
        self.by_index
            .values()
            .filter(|i| !i.link.name.is_empty())
            .map(|i| (i.link.name.clone(), state_of(i)))
            .collect()
    }
}

fn state_of(i: &Iface) -> InterfaceState {
    let usable = |a: &&AddrInfo| a.flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED) == 0;
    let mut v4: Vec<&AddrInfo> = i.addrs.iter().filter(|a| a.addr.is_ipv4()).collect();
    // Primary addresses first, in kernel order.
    v4.sort_by_key(|a| a.flags & IFA_F_SECONDARY != 0);
    let mut v6: Vec<&AddrInfo> = i
        .addrs
        .iter()
        .filter(|a| a.addr.is_ipv6())
        .filter(usable)
        .collect();
    // Link-local first.
    v6.sort_by_key(|a| match a.addr {
        IpAddr::V6(x) => (x.segments()[0] & 0xffc0) != 0xfe80,
        _ => true,
    });
    InterfaceState {
        name: i.link.name.clone(),
        index: i.link.index,
        up: i.link.flags & IFF_UP != 0 && i.link.flags & IFF_RUNNING != 0,
        mac: i.link.mac,
        ipv4: v4
            .iter()
            .filter_map(|a| match a.addr {
                IpAddr::V4(x) => Some(x),
                _ => None,
            })
            .collect(),
        ipv6: v6
            .iter()
            .filter_map(|a| match a.addr {
                IpAddr::V6(x) => Some(x),
                _ => None,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(index: u32, name: &str, flags: u32) -> RtMessage {
        RtMessage::NewLink(LinkInfo {
            index,
            name: name.into(),
            flags,
            mac: [2, 0, 0, 0, 0, index as u8],
            kind: None,
            parent: None,
        })
    }

    fn addr(index: u32, a: &str, flags: u32) -> AddrInfo {
        AddrInfo {
            index,
            addr: a.parse().unwrap(),
            prefix_len: 24,
            flags,
            label: None,
        }
    }

    #[test]
    fn builds_state_with_primary_and_link_local_first() {
        let mut t = Interfaces::new();
        t.apply(link(2, "eth0", IFF_UP | IFF_RUNNING));
        t.apply(RtMessage::NewAddr(addr(2, "10.0.0.9", IFA_F_SECONDARY)));
        t.apply(RtMessage::NewAddr(addr(2, "10.0.0.1", 0)));
        t.apply(RtMessage::NewAddr(addr(2, "2001:db8::1", 0)));
        t.apply(RtMessage::NewAddr(addr(2, "fe80::1", 0)));
        t.apply(RtMessage::NewAddr(addr(2, "fe80::2", IFA_F_TENTATIVE)));
        let s = &t.states()["eth0"];
        assert!(s.up);
        assert_eq!(s.ipv4[0].to_string(), "10.0.0.1");
        assert_eq!(s.ipv6.len(), 2);
        assert_eq!(s.ipv6[0].to_string(), "fe80::1");
        // Carrier lost: not up.
        t.apply(link(2, "eth0", IFF_UP));
        assert!(!t.states()["eth0"].up);
        t.apply(RtMessage::DelAddr(addr(2, "10.0.0.1", 0)));
        assert!(!t.has_address("eth0", &"10.0.0.1".parse().unwrap()));
        t.apply(RtMessage::DelLink(LinkInfo {
            index: 2,
            name: String::new(),
            flags: 0,
            mac: [0; 6],
            kind: None,
            parent: None,
        }));
        assert!(t.states().is_empty());
    }
}
