//! `ha_suspend`: whether a virtual server's address is "set" on this director. keepalived
//! suspends such a virtual server while its address is absent from the host; in this one
//! process the address of a VIP is present exactly while a VRRP instance holding it
//! (`virtual_ipaddress` or `virtual_ipaddress_excluded`) is MASTER, so the services of a
//! `ha_suspend` virtual server exist only then. An address no instance holds is present
//! when an interface of the host carries it (`Event::Interface`). Its checkers are
//! suspended meanwhile (`Runtime::take_suspensions`, applied by the engine to the checker
//! runtime). fwmark services have no
//! address: keepalived ignores `ha_suspend` for them ("cannot use ha_suspend with
//! fwmarks"), and so does this.

use crate::config::model::Config;
use crate::vrrp::State;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// Which instances hold which addresses, which are MASTER, and the host's addresses.
#[derive(Debug, Default)]
pub struct Ha {
    holders: BTreeMap<IpAddr, Vec<usize>>,
    master: Vec<bool>,
    host: BTreeSet<IpAddr>,
}

impl Ha {
    /// The VIP holders of `config`, with the instances' states now.
    pub fn new(config: &Config, states: &[State]) -> Ha {
        let mut holders: BTreeMap<IpAddr, Vec<usize>> = BTreeMap::new();
        for (i, inst) in config.instances.iter().enumerate() {
            for v in inst.vips.iter().chain(&inst.excluded_vips) {
                let h = holders.entry(v.addr).or_default();
                if !h.contains(&i) {
                    h.push(i);
                }
            }
        }
        Ha {
            holders,
            master: (0..config.instances.len())
                .map(|i| states.get(i) == Some(&State::Master))
                .collect(),
            host: BTreeSet::new(),
        }
    }

    /// Keeps the host's addresses of `old` (a reload).
    pub fn carry_host(&mut self, old: &Ha) {
        self.host = old.host.clone();
    }

    /// Whether `addr` is set on this director now.
    pub fn present(&self, addr: &IpAddr) -> bool {
        match self.holders.get(addr) {
            Some(h) => h.iter().any(|&i| self.master.get(i) == Some(&true)),
            None => self.host.contains(addr),
        }
    }

    /// Whether instance `inst` holds `addr`.
    pub fn held_by(&self, addr: &IpAddr, inst: usize) -> bool {
        self.holders.get(addr).is_some_and(|h| h.contains(&inst))
    }

    /// Whether no instance holds `addr` (it follows the host's addresses).
    pub fn unheld(&self, addr: &IpAddr) -> bool {
        !self.holders.contains_key(addr)
    }

    /// Instance `inst` moved to `to`; true when its MASTER-ness changed.
    pub fn instance_state(&mut self, inst: usize, to: State) -> bool {
        let m = to == State::Master;
        match self.master.get_mut(inst) {
            Some(v) if *v != m => {
                *v = m;
                true
            }
            _ => false,
        }
    }

    /// The host's addresses now; true when they changed.
    pub fn host_addresses(&mut self, addrs: BTreeSet<IpAddr>) -> bool {
        if addrs == self.host {
            return false;
        }
        self.host = addrs;
        true
    }
}
