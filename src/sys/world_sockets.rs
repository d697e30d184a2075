//! The VRRP sockets of the Linux world: which (interface, family) sockets the configuration
//! needs (with `use_vmac`, the VMAC's), opening them as interfaces appear, closing them as
//! they go, sending the adverts of an engine step in batches (one `sendmmsg` per socket:
//! `SendAdvert` queues, any other action or the end of the step flushes), and draining
//! them with `recvmmsg` into `Event::Packet`s.

use super::rawsock::{Recv, VrrpSocket, VRRP_GROUP_V4, VRRP_GROUP_V6};
use super::rawsock_mmsg::TxAdvert;
use super::world::{ipv6_of, SockEntry, Source, SysWorld};
use crate::config::model::Config;
use crate::event::{Event, OutgoingPacket};
use crate::sched::Instant;
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
                tx: Vec::new(),
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

    /// `Action::SendAdvert`: picks the socket (the VMAC's when the advert's source MAC is
    /// a VMAC's), opening it when needed, and queues the advert there until
    /// [`SysWorld::flush_adverts`].
    pub(super) fn queue_advert(&mut self, now: Instant, p: OutgoingPacket) {
        let v6 = p.dst.is_ipv6();
        let mut via = None;
        if let Some(mac) = p.src_mac {
            let base = self.ifaces.by_name(&p.ifname);
            if base.is_some_and(|b| b.link.mac != mac) {
                let parent = base.map(|b| b.link.index);
                via = self
                    .ifaces
                    .by_mac(&mac, parent)
                    .or_else(|| self.ifaces.by_mac(&mac, None))
                    .map(|v| v.link.name.clone());
            }
        }
        let via = via.unwrap_or(p.ifname);
        let key = (via, v6);
        if !self.socks.contains_key(&key) {
            let receive = self.wanted.contains_key(&key);
            if self.open_socket(&key.0, v6, receive).is_none() {
                self.stats.advert_send_errors += 1;
                let via = &key.0;
                self.error_limited(
                    now,
                    &format!("advert {via}"),
                    format!("({}) cannot send advert: no socket on {via}", p.instance),
                );
                return;
            }
        }
        if let Some(e) = self.socks.get_mut(&key) {
            e.tx.push(TxAdvert {
                instance: p.instance,
                src: p.src,
                dst: p.dst,
                ttl: p.ttl,
                payload: p.payload,
            });
        }
    }

    /// Sends every queued advert: one `sendmmsg` per socket (per `TX_BATCH` adverts).
    /// The reactor calls it at the end of each engine step; any other action calls it
    /// first.
    pub fn flush_adverts(&mut self, now: Instant) {
        let mut failures = Vec::new();
        for ((ifname, _), e) in self.socks.iter_mut() {
            if e.tx.is_empty() {
                continue;
            }
            let sent = e.sock.send_batch(&e.tx, |m, err| {
                failures.push((ifname.clone(), m.instance.clone(), err));
            });
            self.stats.adverts_sent += sent as u64;
            e.tx.clear();
        }
        for (via, instance, err) in failures {
            self.stats.advert_send_errors += 1;
            self.error_limited(
                now,
                &format!("advert {via}"),
                format!("({instance}) sending advert on {via}: {err}"),
            );
        }
    }

    /// Reads every waiting packet of one VRRP socket into `events`.
    pub fn read_vrrp(&mut self, ifname: &str, v6: bool) {
        let key = (ifname.to_string(), v6);
        let Some(e) = self.socks.get(&key) else {
            return;
        };
        let (events, stats, relabel) = (&mut self.events, &mut self.stats, &self.relabel);
        let receive = e.receive;
        let r = e.sock.recv_batch(&mut self.rx, |r| match r {
            Recv::Packet(mut p) => {
                if receive {
                    if let Some(base) = relabel.get(&p.ifname) {
                        p.ifname = base.clone();
                    }
                    stats.packets_received += 1;
                    events.push(Event::Packet(p));
                }
            }
            Recv::Malformed(why) => {
                stats.packets_malformed += 1;
                log::debug!("{ifname}: discarded packet: {why}");
            }
            Recv::WouldBlock => {}
        });
        if let Err(err) = r {
            log::error!("{ifname}: VRRP receive: {err}");
        }
    }
}
