//! The virtual kernel of one simulated host: its interfaces (name, index, MAC, link state,
//! configured addresses), the addresses, routes and rules the engine added (typed, as the
//! configuration parsed them: a multipath route keeps its next hops), and the
//! macvlan (VMAC) interfaces it created, and the firewall drop rules of Accept_Mode. It
//! answers ARP and ICMP echo for addresses it holds (echo not for a dropped address), and
//! accepts frames for the MACs of its up interfaces, as Linux would. Its IPVS table and
//! sync daemons are `sim::ipvs`'s [`SimIpvs`].

use super::ipvs::SimIpvs;
use super::scenario::IfaceDecl;
use crate::config::model::{Route, Rule};
use crate::event::{InterfaceState, Mac};
use std::net::IpAddr;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KIface {
    pub name: String,
    pub index: u32,
    pub mac: Mac,
    pub up: bool,
    pub ipv4: Vec<std::net::Ipv4Addr>,
    pub ipv6: Vec<std::net::Ipv6Addr>,
    /// The segment it is plugged into (for a VMAC: its parent's).
    pub segment: Option<String>,
    /// Set for a VMAC interface: the interface it sits on.
    pub parent: Option<String>,
    /// Addresses added by the engine, in the order added.
    pub added: Vec<(IpAddr, u8)>,
}

impl KIface {
    pub fn state(&self) -> InterfaceState {
        InterfaceState {
            name: self.name.clone(),
            index: self.index,
            up: self.up,
            mac: self.mac,
            ipv4: self.ipv4.clone(),
            ipv6: self.ipv6.clone(),
        }
    }

    pub fn holds(&self, ip: IpAddr) -> bool {
        self.added.iter().any(|(a, _)| *a == ip)
            || match ip {
                IpAddr::V4(a) => self.ipv4.contains(&a),
                IpAddr::V6(a) => self.ipv6.contains(&a),
            }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Kernel {
    pub ifaces: Vec<KIface>,
    pub routes: Vec<Route>,
    pub rules: Vec<Rule>,
    /// Accept_Mode false: (interface, address) pairs whose incoming packets are dropped,
    /// as keepalived's nftables/iptables rules do (ARP and ND are not filtered).
    pub drop_in: Vec<(String, IpAddr)>,
    /// IPVS: availability, services and destinations, sync daemons.
    pub ipvs: SimIpvs,
}

/// The MAC of interface `iface` of host `host` when the scenario gives none.
pub fn default_mac(host: usize, iface: usize) -> Mac {
    [0x52, 0x54, 0x00, 0x00, (host + 1) as u8, (iface + 1) as u8]
}

impl Kernel {
    /// A freshly booted kernel: the declared interfaces, all up, no added state.
    pub fn boot(host_index: usize, decls: &[IfaceDecl]) -> Kernel {
        let ifaces = decls
            .iter()
            .enumerate()
            .map(|(i, d)| KIface {
                name: d.name.clone(),
                index: (i + 2) as u32, // 1 is lo
                mac: d.mac.unwrap_or_else(|| default_mac(host_index, i)),
                up: true,
                ipv4: d.ipv4.clone(),
                ipv6: d.ipv6.clone(),
                segment: Some(d.segment.clone()),
                parent: None,
                added: Vec::new(),
            })
            .collect();
        Kernel {
            ifaces,
            routes: Vec::new(),
            rules: Vec::new(),
            drop_in: Vec::new(),
            ipvs: SimIpvs::default(),
        }
    }

    /// The machine reboots: a fresh kernel on the same interfaces; it has IPVS or not as
    /// before, with an empty table and no sync daemon.
    pub fn reboot(&mut self, host_index: usize, decls: &[IfaceDecl]) {
        let ipvs = self.ipvs.rebooted();
        *self = Kernel::boot(host_index, decls);
        self.ipvs = ipvs;
    }

    pub fn iface(&self, name: &str) -> Option<&KIface> {
        self.ifaces.iter().find(|i| i.name == name)
    }

    pub fn iface_mut(&mut self, name: &str) -> Option<&mut KIface> {
        self.ifaces.iter_mut().find(|i| i.name == name)
    }

    /// The physical interface under `name` (itself, or a VMAC's parent).
    pub fn base_of(&self, name: &str) -> Option<&KIface> {
        let i = self.iface(name)?;
        match &i.parent {
            Some(p) => self.iface(p),
            None => Some(i),
        }
    }

    /// Interfaces attached to the physical interface `base` (itself and its VMACs).
    pub fn on_port<'a>(&'a self, base: &'a str) -> impl Iterator<Item = &'a KIface> + 'a {
        self.ifaces
            .iter()
            .filter(move |i| i.name == base || i.parent.as_deref() == Some(base))
    }

    /// Adds an address; false when it was already there (Linux: EEXIST) or no such link.
    pub fn add_addr(&mut self, ifname: &str, addr: IpAddr, prefix: u8) -> bool {
        match self.iface_mut(ifname) {
            Some(i) if !i.added.iter().any(|(a, _)| *a == addr) => {
                i.added.push((addr, prefix));
                true
            }
            _ => false,
        }
    }

    /// Removes an address configured on the interface (not one the engine added), as an
    /// operator's `ip addr del` would; false when it was not there.
    pub fn del_configured(&mut self, ifname: &str, addr: IpAddr) -> bool {
        let Some(i) = self.iface_mut(ifname) else {
            return false;
        };
        let before = i.ipv4.len() + i.ipv6.len();
        match addr {
            IpAddr::V4(a) => i.ipv4.retain(|x| *x != a),
            IpAddr::V6(a) => i.ipv6.retain(|x| *x != a),
        }
        before != i.ipv4.len() + i.ipv6.len()
    }

    /// Configures an address on the interface, as an operator's `ip addr add` would; false
    /// when it was already there or there is no such interface.
    pub fn add_configured(&mut self, ifname: &str, addr: IpAddr) -> bool {
        let Some(i) = self.iface_mut(ifname) else {
            return false;
        };
        match addr {
            IpAddr::V4(a) if !i.ipv4.contains(&a) => i.ipv4.push(a),
            IpAddr::V6(a) if !i.ipv6.contains(&a) => i.ipv6.push(a),
            _ => return false,
        }
        true
    }

    pub fn del_addr(&mut self, ifname: &str, addr: IpAddr) -> bool {
        match self.iface_mut(ifname) {
            Some(i) => {
                let before = i.added.len();
                i.added.retain(|(a, _)| *a != addr);
                before != i.added.len()
            }
            None => false,
        }
    }

    /// Every address the engine added, as (interface, address).
    pub fn added_addrs(&self) -> Vec<(String, IpAddr)> {
        let mut v = Vec::new();
        for i in &self.ifaces {
            for (a, _) in &i.added {
                v.push((i.name.clone(), *a));
            }
        }
        v
    }

    pub fn holds(&self, ip: IpAddr) -> bool {
        self.ifaces.iter().any(|i| i.holds(ip))
    }

    /// Installs a route; one equal to it (wherever it was configured) is replaced, as
    /// `NLM_F_REPLACE` does.
    pub fn add_route(&mut self, r: &Route) {
        self.routes.retain(|x| !x.same(r));
        self.routes.push(r.clone());
    }

    /// Removes a route; false when it was not there (Linux: ESRCH).
    pub fn del_route(&mut self, r: &Route) -> bool {
        let before = self.routes.len();
        self.routes.retain(|x| !x.same(r));
        before != self.routes.len()
    }

    pub fn add_rule(&mut self, r: &Rule) {
        self.rules.retain(|x| !x.same(r));
        self.rules.push(r.clone());
    }

    pub fn del_rule(&mut self, r: &Rule) -> bool {
        let before = self.rules.len();
        self.rules.retain(|x| !x.same(r));
        before != self.rules.len()
    }

    /// Creates a macvlan on `parent`; false if the parent is unknown or the name taken.
    pub fn create_vmac(&mut self, name: &str, parent: &str, mac: Mac) -> bool {
        if self.iface(name).is_some() {
            return false;
        }
        let Some(p) = self.iface(parent) else {
            return false;
        };
        let segment = p.segment.clone();
        let up = p.up;
        let index = self.ifaces.iter().map(|i| i.index).max().unwrap_or(1) + 1;
        self.ifaces.push(KIface {
            name: name.to_string(),
            index,
            mac,
            up,
            ipv4: Vec::new(),
            ipv6: Vec::new(),
            segment,
            parent: Some(parent.to_string()),
            added: Vec::new(),
        });
        true
    }

    pub fn delete_vmac(&mut self, name: &str) -> bool {
        let before = self.ifaces.len();
        self.ifaces
            .retain(|i| !(i.name == name && i.parent.is_some()));
        before != self.ifaces.len()
    }

    /// Sets the link state of an interface and of the VMACs on it; returns the interfaces
    /// whose state changed.
    pub fn set_link(&mut self, name: &str, up: bool) -> Vec<String> {
        let mut changed = Vec::new();
        for i in self.ifaces.iter_mut() {
            if (i.name == name || i.parent.as_deref() == Some(name)) && i.up != up {
                i.up = up;
                changed.push(i.name.clone());
            }
        }
        changed
    }

    /// The interface on the port `base` that answers ARP for `ip`, and with which MAC.
    pub fn arp_answer(&self, base: &str, ip: IpAddr) -> Option<(String, Mac)> {
        self.on_port(base)
            .find(|i| i.up && i.holds(ip))
            .map(|i| (i.name.clone(), i.mac))
    }

    /// The interface on the port `base` that answers an ICMP echo to `ip`: the one that
    /// holds it, unless a drop rule filters packets to it. Rules match the destination
    /// address; for an IPv6 link-local address (scoped to a link) also the interface.
    pub fn echo_answer(&self, base: &str, ip: IpAddr) -> Option<String> {
        let (ifname, _) = self.arp_answer(base, ip)?;
        let scoped = matches!(ip, IpAddr::V6(a) if a.segments()[0] & 0xffc0 == 0xfe80);
        let dropped = self
            .drop_in
            .iter()
            .any(|(i, a)| *a == ip && (!scoped || *i == ifname));
        (!dropped).then_some(ifname)
    }

    /// Whether a frame to `mac` arriving on port `base` is taken in (and routed).
    pub fn accepts_mac(&self, base: &str, mac: Mac) -> Option<String> {
        self.on_port(base)
            .find(|i| i.up && i.mac == mac)
            .map(|i| i.name.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decl() -> Vec<IfaceDecl> {
        vec![IfaceDecl {
            name: "eth0".into(),
            segment: "lan".into(),
            ipv4: vec!["192.0.2.1".parse().unwrap()],
            ipv6: vec![],
            mac: None,
            line: 1,
        }]
    }

    #[test]
    fn addresses_vmacs_and_arp() {
        let mut k = Kernel::boot(0, &decl());
        let vip: IpAddr = "192.0.2.100".parse().unwrap();
        assert!(k.arp_answer("eth0", vip).is_none());
        assert!(k.add_addr("eth0", vip, 32));
        assert!(!k.add_addr("eth0", vip, 32));
        assert_eq!(
            k.arp_answer("eth0", vip),
            Some(("eth0".into(), default_mac(0, 0)))
        );
        let vmac = [0, 0, 0x5e, 0, 1, 51];
        assert!(k.create_vmac("vrrp.51", "eth0", vmac));
        assert!(k.del_addr("eth0", vip));
        assert!(k.add_addr("vrrp.51", vip, 32));
        assert_eq!(k.arp_answer("eth0", vip), Some(("vrrp.51".into(), vmac)));
        assert_eq!(k.accepts_mac("eth0", vmac).as_deref(), Some("vrrp.51"));
        assert_eq!(k.set_link("eth0", false).len(), 2);
        assert!(k.arp_answer("eth0", vip).is_none());
        assert!(k.delete_vmac("vrrp.51"));
        assert!(!k.holds(vip));
    }

    #[test]
    fn drop_rules_stop_echo_not_arp() {
        let mut k = Kernel::boot(0, &decl());
        let vip: IpAddr = "192.0.2.100".parse().unwrap();
        assert!(k.add_addr("eth0", vip, 32));
        assert_eq!(k.echo_answer("eth0", vip).as_deref(), Some("eth0"));
        k.drop_in = vec![("eth0".into(), vip)];
        assert_eq!(k.echo_answer("eth0", vip), None);
        assert!(k.arp_answer("eth0", vip).is_some());
        // The primary address is not filtered.
        let own: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(k.echo_answer("eth0", own).as_deref(), Some("eth0"));
        // A link-local rule applies on its interface only.
        let ll: IpAddr = "fe80::100".parse().unwrap();
        assert!(k.add_addr("eth0", ll, 64));
        k.drop_in = vec![("eth1".into(), ll)];
        assert_eq!(k.echo_answer("eth0", ll).as_deref(), Some("eth0"));
        k.drop_in = vec![("eth0".into(), ll)];
        assert_eq!(k.echo_answer("eth0", ll), None);
    }
}
