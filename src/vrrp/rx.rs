//! The per-instance receive path after decoding (reference §2): the codec's
//! [`packet::check`] (TTL R1, version R2, auth R8, interval R9, address list R13) wrapped
//! with what only the instance knows: unicast peers (keepalived skips R1 for unicast, but
//! honours per-peer `min_ttl` / `max_ttl` and `check_unicast_src`), the owner rule R7
//! (E-8298: log and process; `strict_mode`: discard) and the address-list check R13
//! (logged by default, as keepalived; under `strict_mode` a v2 mismatch from a non-owner
//! is dropped as RFC 3768 §7.1 requires; `skip_check_adv_addr` silences it).
//!
//! R12 (first IPv6 address not link-local) discards only under `strict_mode` /
//! `vrrp_strict`, counted in [`Stats::address_errors`]; otherwise it is a logged notice
//! with no counter of its own (keepalived's behaviour: it warns and processes the advert).
//!
//! Also maps every discard to its [`Stats`] counter.

use crate::config::model::{Auth, Family, UnicastPeer, VrrpInstance};
use crate::vrrp::packet::{self, Advert, DecodeError, ReceivePolicy, V2Auth};
use crate::vrrp::stats::Stats;
use std::net::IpAddr;

/// Why an otherwise well-formed advert is discarded by this instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Discard {
    /// A receive check of the codec (or a unicast peer's TTL bound, as `TtlNot255`).
    Check(DecodeError),
    /// R7 under `strict_mode`: we are the owner and ignore every advert (pre-E-8298).
    OwnerStrict,
    /// `check_unicast_src`: the sender is not one of our peers.
    UnicastSource,
}

/// Something to log about an advert that is processed anyway.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    Check(packet::Notice),
    /// R7 (E-8298): we are the address owner and still received an advert.
    OwnerConflict,
}

/// What an instance accepts, derived once from its configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstancePolicy {
    pub codec: ReceivePolicy,
    pub unicast_peers: Vec<UnicastPeer>,
    pub check_unicast_src: bool,
    pub skip_check_adv_addr: bool,
    pub owner: bool,
    pub strict: bool,
}

/// The VRRPv2 authentication an instance sends and expects.
pub fn local_auth(cfg: &VrrpInstance) -> V2Auth {
    match &cfg.auth {
        None => V2Auth::None,
        Some(Auth::Pass(p)) => V2Auth::Pass(*p),
        Some(Auth::Ah(_)) => V2Auth::Ah,
    }
}

impl InstancePolicy {
    pub fn from_config(cfg: &VrrpInstance, interval_cs: u16) -> InstancePolicy {
        let vips = cfg
            .vips
            .iter()
            .map(|v| v.addr)
            .filter(|a| a.is_ipv6() == (cfg.family == Family::Inet6))
            .collect();
        InstancePolicy {
            codec: ReceivePolicy {
                version: cfg.version,
                ttl_must_be_255: cfg.unicast_peers.is_empty(),
                auth: local_auth(cfg),
                interval_cs,
                vips,
                // R13: the address check is a MAY of RFC 3768 §7.1. By default it only
                // logs, as keepalived does (so adding a VIP on one peer before the other
                // does not split the pair); under `strict_mode` / `vrrp_strict` VRRPv2
                // drops a non-owner's advert whose list differs, as the RFC requires
                // of a router that performs the check. `skip_check_adv_addr` silences it.
                strict: cfg.strict_mode && !cfg.skip_check_adv_addr,
                // R12: RFC 9568 E-8300 in strict mode only, as keepalived.
                link_local_first: cfg.strict_mode,
            },
            unicast_peers: cfg.unicast_peers.clone(),
            check_unicast_src: cfg.check_unicast_src,
            skip_check_adv_addr: cfg.skip_check_adv_addr,
            owner: cfg.priority == 255,
            strict: cfg.strict_mode,
        }
    }
}

/// Runs the instance-level checks, in the order of the reference §2.
pub fn check(
    policy: &InstancePolicy,
    advert: &Advert,
    src: IpAddr,
    ttl: u8,
) -> Result<Vec<Notice>, Discard> {
    if !policy.unicast_peers.is_empty() {
        match policy.unicast_peers.iter().find(|p| p.addr == src) {
            Some(p) if p.min_ttl.is_some_and(|m| ttl < m) || p.max_ttl.is_some_and(|m| ttl > m) => {
                return Err(Discard::Check(DecodeError::TtlNot255 { ttl }));
            }
            None if policy.check_unicast_src => return Err(Discard::UnicastSource),
            _ => {}
        }
    }
    let mut notices: Vec<Notice> = packet::check(advert, ttl, &policy.codec)
        .map_err(Discard::Check)?
        .into_iter()
        .filter(|n| !(policy.skip_check_adv_addr && *n == packet::Notice::AddressListMismatch))
        .map(Notice::Check)
        .collect();
    if policy.owner {
        if policy.strict {
            return Err(Discard::OwnerStrict);
        }
        notices.push(Notice::OwnerConflict);
    }
    Ok(notices)
}

/// Counts a discarded packet under its receive-check kind.
pub fn count(stats: &mut Stats, e: &DecodeError) {
    match e {
        DecodeError::TtlNot255 { .. } => stats.ttl_errors += 1,
        DecodeError::VersionUnknown { .. }
        | DecodeError::VersionMismatch { .. }
        | DecodeError::V2OverIpv6 => stats.version_errors += 1,
        DecodeError::TypeUnknown { .. } => stats.type_errors += 1,
        DecodeError::TooShort { .. } => stats.length_errors += 1,
        DecodeError::BadChecksum { .. } => stats.checksum_errors += 1,
        DecodeError::VridUnknown { .. } => stats.vrid_errors += 1,
        DecodeError::AuthTypeUnknown { .. } => {
            stats.auth_errors += 1;
            stats.auth_type_invalid += 1;
        }
        DecodeError::AuthTypeMismatch { .. } => {
            stats.auth_errors += 1;
            stats.auth_type_mismatch += 1;
        }
        DecodeError::AuthFailure => {
            stats.auth_errors += 1;
            stats.auth_failures += 1;
        }
        DecodeError::IntervalMismatch { .. } => stats.interval_errors += 1,
        DecodeError::IntervalZero
        | DecodeError::AddressCountZero
        | DecodeError::FirstAddressNotLinkLocal { .. }
        | DecodeError::FamilyMismatch => stats.address_errors += 1,
        DecodeError::AddressListMismatch { .. } => stats.address_list_errors += 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::{VirtualAddress, VrrpVersion};
    use crate::config::Span;

    fn vip(a: &str) -> VirtualAddress {
        VirtualAddress::new(a.parse().unwrap(), 32, Span::default())
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

    fn src() -> IpAddr {
        "192.0.2.2".parse().unwrap()
    }

    #[test]
    fn valid_advert_passes() {
        let p = InstancePolicy::from_config(&cfg(VrrpVersion::V3), 100);
        assert_eq!(
            check(&p, &adv(VrrpVersion::V3, 200, 100), src(), 255),
            Ok(vec![])
        );
    }

    #[test]
    fn ttl_checked_for_multicast_and_peer_bounds_only() {
        let mut c = cfg(VrrpVersion::V3);
        let a = adv(VrrpVersion::V3, 200, 100);
        let p = InstancePolicy::from_config(&c, 100);
        assert_eq!(
            check(&p, &a, src(), 254),
            Err(Discard::Check(DecodeError::TtlNot255 { ttl: 254 }))
        );
        c.unicast_peers = vec![UnicastPeer {
            addr: src(),
            min_ttl: None,
            max_ttl: None,
        }];
        let p = InstancePolicy::from_config(&c, 100);
        assert_eq!(check(&p, &a, src(), 254), Ok(vec![]));
        c.unicast_peers[0].min_ttl = Some(255);
        let p = InstancePolicy::from_config(&c, 100);
        assert!(check(&p, &a, src(), 254).is_err());
        c.check_unicast_src = true;
        let p = InstancePolicy::from_config(&c, 100);
        let other: IpAddr = "192.0.2.9".parse().unwrap();
        assert_eq!(check(&p, &a, other, 255), Err(Discard::UnicastSource));
    }

    #[test]
    fn owner_logs_unless_strict() {
        let mut c = cfg(VrrpVersion::V3);
        c.priority = 255;
        let p = InstancePolicy::from_config(&c, 100);
        let a = adv(VrrpVersion::V3, 255, 100);
        assert_eq!(check(&p, &a, src(), 255), Ok(vec![Notice::OwnerConflict]));
        c.strict_mode = true;
        let p = InstancePolicy::from_config(&c, 100);
        assert_eq!(check(&p, &a, src(), 255), Err(Discard::OwnerStrict));
    }

    #[test]
    fn skip_check_adv_addr_silences_list_notice() {
        let mut c = cfg(VrrpVersion::V3);
        let mut a = adv(VrrpVersion::V3, 200, 100);
        a.addresses.push("192.0.2.101".parse().unwrap());
        let p = InstancePolicy::from_config(&c, 100);
        assert_eq!(
            check(&p, &a, src(), 255),
            Ok(vec![Notice::Check(packet::Notice::AddressListMismatch)])
        );
        c.skip_check_adv_addr = true;
        let p = InstancePolicy::from_config(&c, 100);
        assert_eq!(check(&p, &a, src(), 255), Ok(vec![]));
    }

    #[test]
    fn counters_by_kind() {
        let mut s = Stats::default();
        count(&mut s, &DecodeError::TtlNot255 { ttl: 1 });
        count(&mut s, &DecodeError::AuthFailure);
        count(
            &mut s,
            &DecodeError::IntervalMismatch {
                received_cs: 200,
                expected_cs: 100,
            },
        );
        count(
            &mut s,
            &DecodeError::BadChecksum {
                received: 0,
                expected: 1,
                expected_alt: None,
            },
        );
        assert_eq!(
            (
                s.ttl_errors,
                s.auth_errors,
                s.interval_errors,
                s.checksum_errors
            ),
            (1, 1, 1, 1)
        );
    }
}
