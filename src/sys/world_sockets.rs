//! The VRRP sockets of the Linux world: which (interface, family) sockets the configuration
//! needs (with `use_vmac`, the VMAC's), opening them as interfaces appear, closing them as
//! they go, and reading them into `Event::Packet`s.

use super::rawsock::{Recv, VrrpSocket, VRRP_GROUP_V4, VRRP_GROUP_V6};
use super::world::{ipv6_of, SockEntry, Source, SysWorld};
use crate::config::model::Config;
use crate::event::Event;
use mio::unix::SourceFd;
use mio::Interest;
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::os::fd::AsRawFd;

impl SysWorld {
    /// Records the receive sockets the configuration needs: the interface (or VMAC) and
    /// multicast group of every instance.
    pub fn want_sockets(&mut self, config: &Config) {
        self.wanted.clear();
        self.relabel.clear();
        for i in &config.instances {
            let Some(ifname) = &i.interface else {
                log::warn!("({}) no interface: cannot receive adverts", i.name);
                continue;
            };
            let v6 = ipv6_of(i.family);
            // With use_vmac the adverts travel on the VMAC (a private-mode macvlan delivers
            // multicast whose source is its own MAC only to itself, never to the base):
            // receive there and hand packets to the engine as the base interface's.
            let rx_if = match &i.use_vmac {
                Some(v) if !i.vmac_xmit_base => {
                    self.relabel.insert(v.name.clone(), ifname.clone());
                    v.name.clone()
                }
                _ => ifname.clone(),
            };
            let groups = self.wanted.entry((rx_if, v6)).or_default();
            if i.unicast_peers.is_empty() {
                groups.insert(i.mcast_dst_ip.unwrap_or(if v6 {
                    IpAddr::V6(VRRP_GROUP_V6)
                } else {
                    IpAddr::V4(VRRP_GROUP_V4)
                }));
            }
        }
    }

    /// Reload: records what `config` needs, closes the receive sockets whose multicast
    /// groups changed or that are no longer wanted for receiving, and opens the new ones
    /// (a VMAC created by the reload gets its socket when it appears).
    pub fn reconfigure_sockets(&mut self, config: &Config) {
        let old = std::mem::take(&mut self.wanted);
        self.want_sockets(config);
        let changed: Vec<(String, bool)> = self
            .socks
            .iter()
            .filter(|(k, e)| e.receive && self.wanted.get(*k) != old.get(*k))
            .map(|(k, _)| k.clone())
            .collect();
        for k in changed {
            let why = if self.wanted.contains_key(&k) {
                "its multicast groups changed"
            } else {
                "no instance receives on it any more"
            };
            log::info!(
                "closing the {} VRRP socket of {}: {why}",
                if k.1 { "IPv6" } else { "IPv4" },
                k.0
            );
            self.close_socket(&k);
        }
        self.sync_sockets();
    }

    /// Reload, after the engine's actions were performed: closes the sockets no instance
    /// of `config` receives or sends on any more (its interface, its VMAC).
    pub fn close_unused_sockets(&mut self, config: &Config) {
        let mut used: BTreeSet<(String, bool)> = self.wanted.keys().cloned().collect();
        for i in &config.instances {
            let v6 = ipv6_of(i.family);
            if let Some(n) = &i.interface {
                used.insert((n.clone(), v6));
            }
            if let Some(v) = &i.use_vmac {
                used.insert((v.name.clone(), v6));
            }
        }
        let unused: Vec<(String, bool)> = self
            .socks
            .keys()
            .filter(|k| !used.contains(*k))
            .cloned()
            .collect();
        for k in unused {
            log::info!(
                "closing the {} VRRP socket of {}: no instance sends on it any more",
                if k.1 { "IPv6" } else { "IPv4" },
                k.0
            );
            self.close_socket(&k);
        }
    }

    /// The (interface, IPv6) keys of the open VRRP sockets, and whether each receives.
    pub fn open_sockets(&self) -> Vec<((String, bool), bool)> {
        self.socks
            .iter()
            .map(|(k, e)| (k.clone(), e.receive))
            .collect()
    }

    // ------------------------------------------------------------ sockets

    pub(super) fn open_socket(&mut self, ifname: &str, v6: bool, receive: bool) -> Option<()> {
        let index = self.ifaces.index_of(ifname)?;
        let key = (ifname.to_string(), v6);
        if let Some(e) = self.socks.get(&key) {
            if e.sock.ifindex == index {
                return Some(());
            }
            self.close_socket(&key);
        }
        let sock = match VrrpSocket::open(ifname, index, v6) {
            Ok(s) => s,
            Err(e) => {
                log::error!(
                    "VRRP socket on {ifname} ({}): {e}",
                    if v6 { "IPv6" } else { "IPv4" }
                );
                return None;
            }
        };
        if receive {
            for g in self.wanted.get(&key).into_iter().flatten() {
                if let Err(e) = sock.join(*g) {
                    log::error!("joining {g} on {ifname}: {e}");
                }
            }
        }
        let token = self.tokens.insert(Source::Vrrp(ifname.to_string(), v6));
        if let Err(e) =
            self.registry
                .register(&mut SourceFd(&sock.as_raw_fd()), token, Interest::READABLE)
        {
            log::error!("registering the VRRP socket of {ifname}: {e}");
        }
        self.socks.insert(
            key,
            SockEntry {
                sock,
                token,
                receive,
            },
        );
        Some(())
    }

    pub(super) fn close_socket(&mut self, key: &(String, bool)) {
        if let Some(e) = self.socks.remove(key) {
            let _ = self.registry.deregister(&mut SourceFd(&e.sock.as_raw_fd()));
            self.tokens.remove(e.token);
        }
    }

    /// Opens the receive sockets of interfaces that exist, closes those of vanished ones.
    pub(super) fn sync_sockets(&mut self) {
        let wanted: Vec<(String, bool)> = self.wanted.keys().cloned().collect();
        for (ifname, v6) in wanted {
            if self.ifaces.index_of(&ifname).is_some() {
                let key = (ifname.clone(), v6);
                if self.socks.get(&key).is_some_and(|e| !e.receive) {
                    self.close_socket(&key);
                }
                self.open_socket(&ifname, v6, true);
            }
        }
        let stale: Vec<(String, bool)> = self
            .socks
            .iter()
            .filter(|((n, _), e)| self.ifaces.index_of(n) != Some(e.sock.ifindex))
            .map(|(k, _)| k.clone())
            .collect();
        for k in stale {
            self.close_socket(&k);
        }
    }

    /// Reads every waiting packet of one VRRP socket into `events`.
    pub fn read_vrrp(&mut self, ifname: &str, v6: bool) {
        let key = (ifname.to_string(), v6);
        loop {
            let Some(e) = self.socks.get(&key) else {
                return;
            };
            match e.sock.recv(&mut self.buf) {
                Ok(Recv::Packet(mut p)) => {
                    if let Some(base) = self.relabel.get(&p.ifname) {
                        p.ifname = base.clone();
                    }
                    if e.receive {
                        self.stats.packets_received += 1;
                        self.events.push(Event::Packet(p));
                    }
                }
                Ok(Recv::Malformed(why)) => {
                    self.stats.packets_malformed += 1;
                    log::debug!("{ifname}: discarded packet: {why}");
                }
                Ok(Recv::WouldBlock) => return,
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                Err(err) => {
                    log::error!("{ifname}: VRRP receive: {err}");
                    return;
                }
            }
        }
    }
}
