//! The per-interface sysctls keepalived sets for a VMAC (and its base interface), written
//! through /proc/sys, with the original values remembered and restored at exit.

use std::fs;
use std::path::PathBuf;

/// Sysctl values we changed, with the values to restore.
#[derive(Default)]
pub struct Sysctls {
    saved: Vec<(PathBuf, String)>,
}

fn path(iface: &str, key: &str) -> PathBuf {
    PathBuf::from(format!("/proc/sys/net/ipv4/conf/{iface}/{key}"))
}

impl Sysctls {
    /// Sets `net.ipv4.conf.IFACE.KEY = value`; `restore` keeps the old value for exit.
    pub fn set(&mut self, iface: &str, key: &str, value: &str, restore: bool) {
        let p = path(iface, key);
        let old = match fs::read_to_string(&p) {
            Ok(o) => o.trim().to_string(),
            Err(e) => {
                log::error!("sysctl {}: {e}", p.display());
                return;
            }
        };
        if old == value {
            return;
        }
        if let Err(e) = fs::write(&p, value) {
            log::error!("sysctl {} = {value}: {e}", p.display());
            return;
        }
        if restore && !self.saved.iter().any(|(q, _)| q == &p) {
            self.saved.push((p, old));
        }
    }

    /// The settings of a new VMAC `vmac` on base interface `base`.
    pub fn configure_vmac(&mut self, vmac: &str, base: Option<&str>) {
        self.set(vmac, "arp_ignore", "1", false);
        self.set(vmac, "accept_local", "1", false);
        self.set(vmac, "rp_filter", "0", false);
        self.set(vmac, "promote_secondaries", "1", false);
        if let Some(b) = base {
            // The base interface must not answer ARP for the VMAC's addresses.
            self.set(b, "arp_ignore", "1", true);
            self.set(b, "arp_filter", "1", true);
        }
    }

    /// Puts back every value we changed (exit).
    pub fn restore(&mut self) {
        for (p, old) in self.saved.drain(..).rev() {
            if let Err(e) = fs::write(&p, &old) {
                log::warn!("restoring {} = {old}: {e}", p.display());
            }
        }
    }
}
