//! Addresses, routes, rules and VMACs in the Linux world: the rtnetlink requests of the
//! engine's actions, what the daemon created (released at exit unless -V), the static
//! configuration, and removing what a SIGKILLed run left behind.

use super::netlink_iproute::{route_request, rule_request};
use super::netlink_route::{addr_request, del_link_request};
use super::netlink_sock::OnAck;
use super::world::{Created, SysWorld, QUIET_ADD, QUIET_DEL};
use crate::config::model::{Config, Route, Rule, VirtualAddress};
use crate::event::Action;
use crate::sched::Instant;

impl SysWorld {
    // ------------------------------------------------------------ addresses, routes

    pub(super) fn index_or_defer(&mut self, now: Instant, ifname: &str, a: &Action) -> Option<u32> {
        match self.ifaces.index_of(ifname) {
            Some(i) => Some(i),
            None => {
                if self.created.vmacs.iter().any(|v| v == ifname) {
                    self.deferred.push((now, a.clone()));
                } else {
                    log::error!("{a:?}: no interface '{ifname}'");
                }
                None
            }
        }
    }

    pub(super) fn address(
        &mut self,
        now: Instant,
        add: bool,
        ifname: &str,
        addr: &VirtualAddress,
        a: &Action,
    ) {
        let dev = addr.dev.clone().unwrap_or_else(|| ifname.to_string());
        let Some(index) = self.index_or_defer(now, &dev, a) else {
            return;
        };
        let what = format!(
            "{} address {}/{} {} {dev}",
            if add { "adding" } else { "removing" },
            addr.addr,
            addr.prefix_len,
            if add { "to" } else { "from" }
        );
        let mut result = Ok(());
        self.nl.request(
            what.clone(),
            if add { QUIET_ADD } else { QUIET_DEL },
            OnAck::Nothing,
            |seq| match addr_request(add, index, addr, seq) {
                Ok(b) => b,
                Err(e) => {
                    result = Err(e);
                    Vec::new()
                }
            },
        );
        if let Err(e) = result {
            log::error!("{what}: {e}");
        }
        let key = (dev, addr.clone());
        if add {
            if !self.created.addrs.contains(&key) {
                self.created.addrs.push(key);
            }
        } else {
            self.created.addrs.retain(|k| k != &key);
        }
    }

    pub(super) fn route(&mut self, add: bool, r: &Route, quiet: bool) {
        let what = format!("{} route '{r}'", if add { "adding" } else { "removing" },);
        let ifaces = &self.ifaces;
        let lookup = |name: &str| ifaces.index_of(name);
        let bytes = match route_request(add, r, &lookup, 0) {
            Ok(b) => b,
            Err(e) => {
                if !quiet {
                    log::error!("{}: {what}: {e}", r.span);
                }
                return;
            }
        };
        self.nl.request(
            what,
            if add { QUIET_ADD } else { QUIET_DEL },
            OnAck::Nothing,
            |seq| with_seq(bytes, seq),
        );
        if add {
            if !self.created.routes.iter().any(|x| x.same(r)) {
                self.created.routes.push(r.clone());
            }
        } else {
            self.created.routes.retain(|x| !x.same(r));
        }
    }

    pub(super) fn rule(&mut self, add: bool, r: &Rule) {
        let what = format!("{} rule '{r}'", if add { "adding" } else { "removing" },);
        self.nl.request(
            what,
            if add { QUIET_ADD } else { QUIET_DEL },
            OnAck::Nothing,
            |seq| rule_request(add, r, seq),
        );
        if add {
            if !self.created.rules.iter().any(|x| x.same(r)) {
                self.created.rules.push(r.clone());
            }
        } else {
            self.created.rules.retain(|x| !x.same(r));
        }
    }

    // ------------------------------------------------------------ start and exit

    /// Removes what a previous run (killed without cleanup) left of this configuration:
    /// its VIPs on their interfaces, its VMAC interfaces, its routes and rules, its
    /// nftables table.
    pub fn remove_leftovers(&mut self, config: &Config) {
        self.firewall_start(config);
        for i in &config.instances {
            if let Some(v) = &i.use_vmac {
                let is_vmac = self
                    .ifaces
                    .by_name(&v.name)
                    .is_some_and(|x| x.link.kind.as_deref() == Some("macvlan"));
                if is_vmac {
                    log::info!("({}) removing leftover VMAC {}", i.name, v.name);
                    let name = v.name.clone();
                    self.nl.request(
                        format!("removing leftover VMAC {name}"),
                        QUIET_DEL,
                        OnAck::Nothing,
                        |seq| del_link_request(&name, seq),
                    );
                }
            }
            let Some(ifname) = i.interface.clone() else {
                continue;
            };
            for a in i.vips.iter().chain(i.excluded_vips.iter()) {
                let dev = a.dev.clone().unwrap_or_else(|| ifname.clone());
                if self.ifaces.has_address(&dev, &a.addr) {
                    log::info!(
                        "({}) removing leftover address {} from {dev}",
                        i.name,
                        a.addr
                    );
                    if let Some(index) = self.ifaces.index_of(&dev) {
                        let a = a.clone();
                        self.nl.request(
                            format!("removing leftover address {}", a.addr),
                            QUIET_DEL,
                            OnAck::Nothing,
                            |seq| addr_request(false, index, &a, seq).unwrap_or_default(),
                        );
                    }
                }
            }
            for r in &i.virtual_routes {
                self.route(false, r, true);
            }
            for r in &i.virtual_rules {
                self.rule(false, r);
            }
        }
        for r in &config.static_rules {
            self.rule(false, r);
        }
        self.created = Created::default();
    }

    /// Adds `static_ipaddress`, `static_routes` and `static_rules`.
    pub fn add_static(&mut self, now: Instant, config: &Config) {
        for a in &config.static_addresses {
            match a.dev.clone() {
                Some(dev) => {
                    let act = Action::AddAddress {
                        ifname: dev.clone(),
                        addr: a.clone(),
                    };
                    self.address(now, true, &dev, a, &act);
                }
                None => log::error!("{}: static address {} has no 'dev'", a.span, a.addr),
            }
        }
        for r in &config.static_routes {
            self.route(true, r, false);
        }
        for r in &config.static_rules {
            self.rule(true, r);
        }
    }

    /// Reload: removes the static addresses, routes and rules `old` had and `new` has not,
    /// then adds those `new` brings (compared without their source positions).
    pub fn reload_static(&mut self, now: Instant, old: &Config, new: &Config) {
        self.firewall_reload(new);
        let addr_key = |a: &VirtualAddress| VirtualAddress {
            span: Default::default(),
            ..a.clone()
        };
        for a in &old.static_addresses {
            if new
                .static_addresses
                .iter()
                .all(|n| addr_key(n) != addr_key(a))
            {
                if let Some(dev) = a.dev.clone() {
                    let act = Action::DelAddress {
                        ifname: dev.clone(),
                        addr: a.clone(),
                    };
                    self.address(now, false, &dev, a, &act);
                }
            }
        }
        for r in &old.static_routes {
            if !new.static_routes.iter().any(|n| n.same(r)) {
                self.route(false, r, true);
            }
        }
        for r in &old.static_rules {
            if !new.static_rules.iter().any(|n| n.same(r)) {
                self.rule(false, r);
            }
        }
        let added = Config {
            static_addresses: new
                .static_addresses
                .iter()
                .filter(|a| {
                    old.static_addresses
                        .iter()
                        .all(|o| addr_key(o) != addr_key(a))
                })
                .cloned()
                .collect(),
            static_routes: new
                .static_routes
                .iter()
                .filter(|r| !old.static_routes.iter().any(|o| o.same(r)))
                .cloned()
                .collect(),
            static_rules: new
                .static_rules
                .iter()
                .filter(|r| !old.static_rules.iter().any(|o| o.same(r)))
                .cloned()
                .collect(),
            ..Config::default()
        };
        self.add_static(now, &added);
    }

    /// Releases everything still created (unless -V: addresses, routes, rules, VMACs and
    /// the nftables table stay) and restores sysctls.
    pub fn release_all(&mut self, now: Instant) {
        if !self.keep_on_exit {
            let c = std::mem::take(&mut self.created);
            for r in c.rules.iter().rev() {
                self.rule(false, r);
            }
            for r in c.routes.iter().rev() {
                self.route(false, r, true);
            }
            for (dev, a) in c.addrs.iter().rev() {
                let act = Action::DelAddress {
                    ifname: dev.clone(),
                    addr: a.clone(),
                };
                self.address(now, false, dev, a, &act);
            }
            for v in c.vmacs.iter().rev() {
                let name = v.clone();
                self.nl.request(
                    format!("removing VMAC {name}"),
                    QUIET_DEL,
                    OnAck::Nothing,
                    |seq| del_link_request(&name, seq),
                );
            }
        }
        self.firewall_release();
        self.sysctls.restore();
    }
}

/// `bytes` (a finished netlink message) with its sequence number set to `seq`.
fn with_seq(mut bytes: Vec<u8>, seq: u32) -> Vec<u8> {
    if let Some(s) = bytes.get_mut(8..12) {
        s.copy_from_slice(&seq.to_ne_bytes());
    }
    bytes
}
