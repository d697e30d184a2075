//! The learning switch behind each L2 segment: which port (host, physical interface) a
//! unicast MAC was last seen sending from, so a frame to that MAC goes to that port only;
//! a frame to an unknown, aged-out or group MAC is flooded to every port.
//!
//! This is the station learning RFC 5798 §2.4 relies on: the Master sources its adverts
//! and gratuitous ARP / NA from the VR MAC, so the switch sends frames for the VR MAC to
//! the Master alone and a Backup never sees them, even though (as in Linux with
//! keepalived's `use_vmac`) its macvlan with that MAC is up. Entries age out like a Linux
//! bridge's (300 s) and a port's entries are flushed when its link goes down.

use crate::event::Mac;
use crate::sched::Instant;
use std::collections::BTreeMap;
use std::time::Duration;

/// How long a learned MAC stays without being seen again (Linux bridge `ageing_time`).
pub const AGEING: Duration = Duration::from_secs(300);

/// A switch port: (host index, physical interface name).
pub type Port = (usize, String);

#[derive(Clone, Debug, Default)]
pub struct Bridge {
    /// (segment, MAC) -> (port, last seen).
    fdb: BTreeMap<(String, Mac), (Port, Instant)>,
}

impl Bridge {
    /// A frame with source `mac` left `port` on `segment` at `now`. Group (multicast /
    /// broadcast) source MACs are never learned.
    pub fn learn(&mut self, segment: &str, mac: Mac, port: Port, now: Instant) {
        if is_group(mac) {
            return;
        }
        self.fdb.insert((segment.to_string(), mac), (port, now));
    }

    /// The port a frame to `mac` on `segment` is switched to at `now`; None: flood it.
    pub fn lookup(&self, segment: &str, mac: Mac, now: Instant) -> Option<&Port> {
        if is_group(mac) {
            return None;
        }
        let (port, seen) = self.fdb.get(&(segment.to_string(), mac))?;
        (now.saturating_since(*seen) < AGEING).then_some(port)
    }

    /// The link of `port` went down (or its machine died): forget what was learned on it.
    pub fn flush_port(&mut self, host: usize, ifname: &str) {
        self.fdb
            .retain(|_, ((h, p), _)| !(*h == host && p == ifname));
    }

    /// Every port of `host` lost its link (the machine died).
    pub fn flush_host(&mut self, host: usize) {
        self.fdb.retain(|_, ((h, _), _)| *h != host);
    }
}

fn is_group(mac: Mac) -> bool {
    mac[0] & 1 == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const VMAC: Mac = [0, 0, 0x5e, 0, 1, 51];

    fn at(s: u64) -> Instant {
        Instant::ZERO + Duration::from_secs(s)
    }

    #[test]
    fn learns_moves_ages_and_flushes() {
        let mut b = Bridge::default();
        assert_eq!(b.lookup("lan", VMAC, at(0)), None);
        b.learn("lan", VMAC, (1, "eth0".into()), at(1));
        assert_eq!(b.lookup("lan", VMAC, at(2)), Some(&(1, "eth0".into())));
        assert_eq!(b.lookup("other", VMAC, at(2)), None);
        // The VR MAC moves with the Master.
        b.learn("lan", VMAC, (0, "eth0".into()), at(3));
        assert_eq!(b.lookup("lan", VMAC, at(4)), Some(&(0, "eth0".into())));
        // Ages out 300 s after it was last seen.
        assert!(b.lookup("lan", VMAC, at(302)).is_some());
        assert_eq!(b.lookup("lan", VMAC, at(303)), None);
        b.flush_port(0, "eth1");
        assert!(b.lookup("lan", VMAC, at(5)).is_some());
        b.flush_port(0, "eth0");
        assert_eq!(b.lookup("lan", VMAC, at(5)), None);
        b.learn("lan", VMAC, (2, "eth0".into()), at(6));
        b.flush_host(2);
        assert_eq!(b.lookup("lan", VMAC, at(6)), None);
        // Group addresses are flooded, never learned.
        let bcast = [0xff; 6];
        b.learn("lan", bcast, (1, "eth0".into()), at(7));
        assert_eq!(b.lookup("lan", bcast, at(7)), None);
    }
}
