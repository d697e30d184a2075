//! The per-instance receive checks of RFC 3768 / 5798 / 9568 §7.1 (reference §2) that need
//! the instance's configuration: TTL (R1), version (R2), owner (R7), authentication (R8),
//! interval (R9), address list (R13), unicast source. Checks that need only the bytes
//! (type, length, checksum, count, interval 0, link-local first) are the codec's.
//!
//! A check either discards the advert ([`Discard`], counted and logged by the instance) or
//! lets it through with [`Notice`]s to log (interval mismatch in v3, list mismatch, owner
//! conflict).

use crate::config::model::{Auth, Family, UnicastPeer, VrrpInstance, VrrpVersion};
use crate::vrrp::packet::{Advert, V2Auth};
use std::net::IpAddr;

/// Why an otherwise well-formed advert is discarded by this instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Discard {
    /// R1: TTL / Hop Limit not 255 (multicast), or outside the unicast peer's bounds.
    Ttl(u8),
    /// R2: version differs.
    Version,
    /// R7 under `strict_mode`: we are the owner and ignore every advert (pre-E-8298).
    OwnerStrict,
    /// R8: auth type or password mismatch (v2).
    Auth,
    /// R9 (v2): interval differs (centiseconds: theirs, ours).
    Interval { theirs: u16, ours: u16 },
    /// R13 (v2, non-owner sender): address list differs.
    AddressList,
    /// `check_unicast_src`: the sender is not one of our peers.
    UnicastSource,
}

/// Something to log about an advert that is processed anyway.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// R9 (v3): the Master's interval differs from ours; the Backup learns it.
    IntervalMismatch { theirs: u16, ours: u16 },
    /// R13: the address list differs from ours.
    AddressListMismatch,
    /// R7 (E-8298): we are the address owner and still received an advert.
    OwnerConflict,
}

/// What an instance accepts, derived once from its configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivePolicy {
    pub version: VrrpVersion,
    pub interval_cs: u16,
    pub auth: V2Auth,
    /// Our virtual addresses of the instance's family, sorted.
    pub vips: Vec<IpAddr>,
    pub unicast_peers: Vec<UnicastPeer>,
    pub check_unicast_src: bool,
    pub skip_check_adv_addr: bool,
    pub owner: bool,
    pub strict: bool,
}

impl ReceivePolicy {
    pub fn from_config(cfg: &VrrpInstance, interval_cs: u16) -> ReceivePolicy {
        let mut vips: Vec<IpAddr> = cfg
            .vips
            .iter()
            .map(|v| v.addr)
            .filter(|a| a.is_ipv6() == (cfg.family == Family::Inet6))
            .collect();
        vips.sort();
        ReceivePolicy {
            version: cfg.version,
            interval_cs,
            auth: match &cfg.auth {
                None => V2Auth::None,
                Some(Auth::Pass(p)) => V2Auth::Pass(*p),
                Some(Auth::Ah(_)) => V2Auth::Ah,
            },
            vips,
            unicast_peers: cfg.unicast_peers.clone(),
            check_unicast_src: cfg.check_unicast_src,
            skip_check_adv_addr: cfg.skip_check_adv_addr,
            owner: cfg.priority == 255,
            strict: cfg.strict_mode,
        }
    }

    fn unicast(&self) -> bool {
        !self.unicast_peers.is_empty()
    }
}

/// Runs the instance-level checks, in the order of the reference §2.
pub fn check(
    policy: &ReceivePolicy,
    advert: &Advert,
    src: IpAddr,
    ttl: u8,
) -> Result<Vec<Notice>, Discard> {
    let mut notices = Vec::new();
    // R1; keepalived skips it for unicast peers, which may carry their own bounds.
    let peer = policy.unicast_peers.iter().find(|p| p.addr == src);
    if policy.unicast() {
        if let Some(p) = peer {
            if p.min_ttl.is_some_and(|m| ttl < m) || p.max_ttl.is_some_and(|m| ttl > m) {
                return Err(Discard::Ttl(ttl));
            }
        } else if policy.check_unicast_src {
            return Err(Discard::UnicastSource);
        }
    } else if ttl != 255 {
        return Err(Discard::Ttl(ttl));
    }
    // R2
    if advert.version != policy.version {
        return Err(Discard::Version);
    }
    // R7
    if policy.owner {
        if policy.strict {
            return Err(Discard::OwnerStrict);
        }
        notices.push(Notice::OwnerConflict);
    }
    // R8 and R9 (v2)
    if advert.version == VrrpVersion::V2 {
        if advert.auth != policy.auth {
            return Err(Discard::Auth);
        }
        if advert.interval_cs != policy.interval_cs {
            return Err(Discard::Interval { theirs: advert.interval_cs, ours: policy.interval_cs });
        }
    } else if advert.interval_cs != policy.interval_cs {
        notices.push(Notice::IntervalMismatch { theirs: advert.interval_cs, ours: policy.interval_cs });
    }
    // R13
    if !policy.skip_check_adv_addr && advert.priority != 0 {
        let mut theirs = advert.addresses.clone();
        theirs.sort();
        if theirs != policy.vips {
            if advert.version == VrrpVersion::V2 && advert.priority != 255 {
                return Err(Discard::AddressList);
            }
            notices.push(Notice::AddressListMismatch);
        }
    }
    Ok(notices)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::VirtualAddress;
    use crate::config::Span;

    fn vip(a: &str) -> VirtualAddress {
        VirtualAddress {
            addr: a.parse().unwrap(),
            prefix_len: 32,
            brd: None,
            dev: None,
            scope: None,
            label: None,
            peer: None,
            no_dad: false,
            preferred_lft: None,
            span: Span::default(),
        }
    }

    fn cfg(version: VrrpVersion) -> VrrpInstance {
        VrrpInstance {
            vrid: 51,
            version,
            vips: vec![vip("192.0.2.100")],
            ..VrrpInstance::with_defaults("VI_1", Span::default())
        }
    }

    fn adv(version: VrrpVersion, prio: u8, cs: u16) -> Advert {
        Advert {
            version,
            vrid: 51,
            priority: prio,
            interval_cs: cs,
            addresses: vec!["192.0.2.100".parse().unwrap()],
            auth: V2Auth::None,
        }
    }

    const SRC: &str = "192.0.2.2";

    #[test]
    fn valid_advert_passes() {
        let p = ReceivePolicy::from_config(&cfg(VrrpVersion::V3), 100);
        assert_eq!(check(&p, &adv(VrrpVersion::V3, 200, 100), SRC.parse().unwrap(), 255), Ok(vec![]));
    }

    #[test]
    fn ttl_254_is_discarded_for_multicast_only() {
        let c = cfg(VrrpVersion::V3);
        let p = ReceivePolicy::from_config(&c, 100);
        let a = adv(VrrpVersion::V3, 200, 100);
        assert_eq!(check(&p, &a, SRC.parse().unwrap(), 254), Err(Discard::Ttl(254)));
        let mut c = c;
        c.unicast_peers = vec![UnicastPeer { addr: SRC.parse().unwrap(), min_ttl: None, max_ttl: None }];
        let p = ReceivePolicy::from_config(&c, 100);
        assert_eq!(check(&p, &a, SRC.parse().unwrap(), 254), Ok(vec![]));
        c.unicast_peers[0].min_ttl = Some(255);
        let p = ReceivePolicy::from_config(&c, 100);
        assert_eq!(check(&p, &a, SRC.parse().unwrap(), 254), Err(Discard::Ttl(254)));
    }

    #[test]
    fn version_mismatch_is_discarded() {
        let p = ReceivePolicy::from_config(&cfg(VrrpVersion::V3), 100);
        assert_eq!(check(&p, &adv(VrrpVersion::V2, 200, 100), SRC.parse().unwrap(), 255), Err(Discard::Version));
    }

    #[test]
    fn v2_interval_mismatch_discards_v3_only_notices() {
        let p = ReceivePolicy::from_config(&cfg(VrrpVersion::V2), 100);
        assert_eq!(
            check(&p, &adv(VrrpVersion::V2, 200, 200), SRC.parse().unwrap(), 255),
            Err(Discard::Interval { theirs: 200, ours: 100 })
        );
        let p = ReceivePolicy::from_config(&cfg(VrrpVersion::V3), 100);
        assert_eq!(
            check(&p, &adv(VrrpVersion::V3, 200, 300), SRC.parse().unwrap(), 255),
            Ok(vec![Notice::IntervalMismatch { theirs: 300, ours: 100 }])
        );
    }

    #[test]
    fn v2_auth_must_match() {
        let mut c = cfg(VrrpVersion::V2);
        c.auth = Some(Auth::Pass(*b"secret1\0"));
        let p = ReceivePolicy::from_config(&c, 100);
        let mut a = adv(VrrpVersion::V2, 200, 100);
        a.auth = V2Auth::Pass(*b"secret2\0");
        assert_eq!(check(&p, &a, SRC.parse().unwrap(), 255), Err(Discard::Auth));
        a.auth = V2Auth::None;
        assert_eq!(check(&p, &a, SRC.parse().unwrap(), 255), Err(Discard::Auth));
        a.auth = V2Auth::Other(3);
        assert_eq!(check(&p, &a, SRC.parse().unwrap(), 255), Err(Discard::Auth));
        a.auth = V2Auth::Pass(*b"secret1\0");
        assert_eq!(check(&p, &a, SRC.parse().unwrap(), 255), Ok(vec![]));
    }

    #[test]
    fn address_list_drop_only_v2_non_owner() {
        let p = ReceivePolicy::from_config(&cfg(VrrpVersion::V2), 100);
        let mut a = adv(VrrpVersion::V2, 200, 100);
        a.addresses.push("192.0.2.101".parse().unwrap());
        assert_eq!(check(&p, &a, SRC.parse().unwrap(), 255), Err(Discard::AddressList));
        a.priority = 255;
        assert_eq!(check(&p, &a, SRC.parse().unwrap(), 255), Ok(vec![Notice::AddressListMismatch]));
        let p3 = ReceivePolicy::from_config(&cfg(VrrpVersion::V3), 100);
        let mut a3 = adv(VrrpVersion::V3, 200, 100);
        a3.addresses.push("192.0.2.101".parse().unwrap());
        assert_eq!(check(&p3, &a3, SRC.parse().unwrap(), 255), Ok(vec![Notice::AddressListMismatch]));
    }

    #[test]
    fn owner_logs_unless_strict() {
        let mut c = cfg(VrrpVersion::V3);
        c.priority = 255;
        let p = ReceivePolicy::from_config(&c, 100);
        let a = adv(VrrpVersion::V3, 255, 100);
        assert_eq!(check(&p, &a, SRC.parse().unwrap(), 255), Ok(vec![Notice::OwnerConflict]));
        c.strict_mode = true;
        let p = ReceivePolicy::from_config(&c, 100);
        assert_eq!(check(&p, &a, SRC.parse().unwrap(), 255), Err(Discard::OwnerStrict));
    }
}
