//! Accept_Mode in the Linux world: `BlockAddress` / `UnblockAddress` become changes of the
//! nftables table (`nftables_fw`), sent on a NETLINK_NETFILTER channel opened on first use
//! and registered with the loop; leftovers of a killed run removed at start, the table
//! removed at exit (kept with -V, like the VIPs it guards).

use super::nftables_fw::{BlockKey, FwSettings};
use super::nftables_sock::NftChannel;
use super::world::{Source, SysWorld};
use crate::config::model::Config;
use crate::event::Action;
use crate::sched::Instant;
use mio::unix::SourceFd;
use mio::Interest;
use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::time::Duration;

/// How long exit waits for the kernel to answer the table's removal.
const EXIT_WAIT: Duration = Duration::from_secs(3);

impl SysWorld {
    /// Opens and registers the channel when it is not yet; false (logged) when it cannot.
    fn nft_ready(&mut self) -> bool {
        if self.firewall.chan.is_some() {
            return true;
        }
        let chan = match NftChannel::open() {
            Ok(c) => c,
            Err(e) => {
                log::error!("nftables: cannot open a netfilter netlink socket: {e}");
                return false;
            }
        };
        let tok = self.tokens.insert(Source::Nftables);
        if let Err(e) =
            self.registry
                .register(&mut SourceFd(&chan.as_raw_fd()), tok, Interest::READABLE)
        {
            self.tokens.remove(tok);
            log::error!("nftables: epoll: {e}");
            return false;
        }
        self.firewall.chan = Some(chan);
        true
    }

    /// Sends what the firewall queued and applies what finished.
    fn nft_pump(&mut self) {
        let mut done = Vec::new();
        if let Some(c) = self.firewall.chan.as_mut() {
            c.pump(&mut done);
        }
        for d in done {
            self.firewall.on_done(d);
        }
    }

    /// The channel is readable.
    pub fn on_nft_readable(&mut self) {
        let mut done = Vec::new();
        if let Some(c) = self.firewall.chan.as_mut() {
            c.on_readable(&mut done);
        }
        for d in done {
            self.firewall.on_done(d);
        }
    }

    pub(super) fn firewall_action(
        &mut self,
        now: Instant,
        block: bool,
        instance: &str,
        ifname: &str,
        addr: IpAddr,
        action: &Action,
    ) {
        let (key, index) = match addr {
            IpAddr::V4(a) => (BlockKey::V4(a), 0),
            IpAddr::V6(a) if a.segments()[0] & 0xffc0 == 0xfe80 => {
                let key = BlockKey::LinkLocal(a, ifname.to_string());
                if !block {
                    (key, 0)
                } else {
                    // The set is keyed by interface: wait for a VMAC still being created.
                    let Some(i) = self.index_or_defer(now, ifname, action) else {
                        return;
                    };
                    (key, i)
                }
            }
            IpAddr::V6(a) => (BlockKey::V6(a), 0),
        };
        if !self.nft_ready() {
            return;
        }
        if block {
            log::info!("({instance}) setting firewall drop rule for {addr}");
            self.firewall.block(instance, key, index);
        } else {
            log::info!("({instance}) removing firewall drop rule for {addr}");
            self.firewall.unblock(instance, &key);
        }
        self.nft_pump();
    }

    /// Start: takes the configuration's nftables settings and removes a table of that name
    /// left by a killed run.
    pub(super) fn firewall_start(&mut self, config: &Config) {
        self.firewall.settings = FwSettings::from_config(config);
        if self.nft_ready() {
            self.firewall.remove_leftovers();
            self.nft_pump();
        }
    }

    /// Reload: new settings move the blocked addresses to a table built with them.
    pub(super) fn firewall_reload(&mut self, config: &Config) {
        let s = FwSettings::from_config(config);
        if s != self.firewall.settings && self.nft_ready() {
            self.firewall.reconfigure(s);
            self.nft_pump();
        }
    }

    /// Exit: removes the table (not with -V: the VIPs it guards stay too) and waits,
    /// bounded, for the kernel's answer.
    pub(super) fn firewall_release(&mut self) {
        if self.keep_on_exit {
            if !self.firewall.blocked().is_empty() {
                log::info!(
                    "-V: nftables table {} kept with the addresses it guards",
                    self.firewall.settings.table
                );
            }
            return;
        }
        self.firewall.release();
        let mut done = Vec::new();
        if let Some(c) = self.firewall.chan.as_mut() {
            c.run_until_idle(EXIT_WAIT, &mut done);
        }
        for d in done {
            self.firewall.on_done(d);
        }
    }
}
