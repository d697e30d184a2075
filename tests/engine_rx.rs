//! Receive validation (reference §5 scenarios 24-38): a lone Backup R1 (p100) whose Master
//! died at t=0 becomes Master at 3.609375 unless a valid advert resets its timer; every
//! discarded packet is counted under its kind.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

#[path = "engine_util.rs"]
mod util;

use keepalived_rs::config::model::{Auth, VrrpVersion};
use keepalived_rs::vrrp::packet::{self, Advert, V2Auth, V3Ipv4Checksum};
use keepalived_rs::vrrp::stats::Stats;
use keepalived_rs::vrrp::State;
use std::net::IpAddr;
use util::*;

const EVERY_HALF_SECOND: [&str; 8] = ["0.5", "1", "1.5", "2", "2.5", "3", "3.5", "4"];

/// Encodes with the message-only checksum after `patch` edited the bytes.
fn patched(a: &Advert, src: &str, patch: impl Fn(&mut Vec<u8>)) -> Vec<u8> {
    let s: IpAddr = src.parse().unwrap();
    let mut b = packet::encode(a, s, mcast(s), V3Ipv4Checksum::MessageOnly);
    patch(&mut b);
    b[6] = 0;
    b[7] = 0;
    let c = packet::internet_checksum(&[&b]);
    b[6..8].copy_from_slice(&c.to_be_bytes());
    b
}

/// Runs R1 (instance `cfg`) with `payload` injected from `src` with `ttl` every 0.5 s;
/// returns (master instants, stats).
fn lone(
    cfg: keepalived_rs::config::model::VrrpInstance,
    src: &str,
    ttl: u8,
    payload: Vec<u8>,
) -> (Vec<keepalived_rs::sched::Instant>, Stats) {
    let mut lan = Lan::new();
    let r1 = lan.host(1, vec![cfg]);
    lan.start(r1, "0");
    for t in EVERY_HALF_SECOND {
        lan.inject_raw(r1, t, src, ttl, payload.clone());
    }
    lan.run_until("4.2");
    let stats = lan.engine(r1).instance_stats("VI_1").unwrap();
    (lan.master_at(r1), stats)
}

fn enc(a: &Advert, src: &str) -> Vec<u8> {
    let s: IpAddr = src.parse().unwrap();
    packet::encode(a, s, mcast(s), V3Ipv4Checksum::PseudoHeader)
}

#[test]
fn control_valid_adverts_keep_backup() {
    let (m, st) = lone(
        inst("VI_1", 100),
        "192.0.2.2",
        255,
        enc(&advert(250, 100), "192.0.2.2"),
    );
    assert!(m.is_empty());
    assert_eq!(st.adverts_received, 8);
    assert_eq!(st.discarded(), 0);
    assert_eq!(st.v3_checksum_pseudo_header, 8);
}

#[test]
fn s24_ttl_254() {
    let (m, st) = lone(
        inst("VI_1", 100),
        "192.0.2.2",
        254,
        enc(&advert(250, 100), "192.0.2.2"),
    );
    assert_eq!(m, vec![at("3.609375")]);
    assert_eq!(st.ttl_errors, 8);
    assert_eq!(st.adverts_received, 0);
}

#[test]
fn s25_ipv6_hop_limit_64() {
    let a = Advert {
        addresses: vec![
            "fe80::100".parse().unwrap(),
            "2001:db8::100".parse().unwrap(),
        ],
        ..advert(250, 100)
    };
    let (m, st) = lone(inst6("VI_1", 100), "fe80::2", 64, enc(&a, "fe80::2"));
    assert_eq!(m, vec![at("3.609375")]);
    assert_eq!(st.ttl_errors, 8);
    let (m, _) = lone(inst6("VI_1", 100), "fe80::2", 255, enc(&a, "fe80::2"));
    assert!(m.is_empty(), "same advert with hop limit 255 is accepted");
}

#[test]
fn s26_wrong_vrid() {
    let a = Advert {
        vrid: 52,
        ..advert(255, 100)
    };
    let (m, st) = lone(inst("VI_1", 100), "192.0.2.2", 255, enc(&a, "192.0.2.2"));
    assert_eq!(m, vec![at("3.609375")]);
    assert_eq!(st.vrid_errors, 8);
}

#[test]
fn s27_wrong_version() {
    let a = Advert {
        version: VrrpVersion::V2,
        ..advert(200, 100)
    };
    let (m, st) = lone(inst("VI_1", 100), "192.0.2.2", 255, enc(&a, "192.0.2.2"));
    assert_eq!(m, vec![at("3.609375")]);
    assert_eq!(st.version_errors, 8);
}

#[test]
fn s29_corrupted_checksum() {
    let mut b = enc(&advert(200, 100), "192.0.2.2");
    b[11] ^= 0x01;
    let (m, st) = lone(inst("VI_1", 100), "192.0.2.2", 255, b);
    assert_eq!(m, vec![at("3.609375")]);
    assert_eq!(st.checksum_errors, 8);
}

#[test]
fn s30_message_only_checksum_accepted() {
    let b = patched(&advert(200, 100), "192.0.2.2", |_| {});
    let (m, st) = lone(inst("VI_1", 100), "192.0.2.2", 255, b);
    assert!(m.is_empty());
    assert_eq!(st.v3_checksum_message_only, 8);
}

#[test]
fn s31_truncated() {
    let a = Advert {
        addresses: vec![
            "192.0.2.100".parse().unwrap(),
            "192.0.2.101".parse().unwrap(),
        ],
        ..advert(200, 100)
    };
    let mut b = enc(&a, "192.0.2.2");
    b.truncate(12);
    let (m, st) = lone(inst("VI_1", 100), "192.0.2.2", 255, b);
    assert_eq!(m, vec![at("3.609375")]);
    assert_eq!(st.length_errors, 8);
}

#[test]
fn s32_count_zero_ignored() {
    let b = patched(&advert(200, 100), "192.0.2.2", |b| {
        b[3] = 0;
        b.truncate(8);
    });
    let (m, st) = lone(inst("VI_1", 100), "192.0.2.2", 255, b);
    assert_eq!(m, vec![at("3.609375")]);
    assert_eq!(st.address_errors, 8);
}

#[test]
fn s33_interval_zero_discarded() {
    let b = patched(&advert(200, 100), "192.0.2.2", |b| {
        b[4] = 0;
        b[5] = 0;
    });
    let (m, st) = lone(inst("VI_1", 100), "192.0.2.2", 255, b);
    assert_eq!(m, vec![at("3.609375")]);
    assert_eq!(st.discarded(), 8);
}

#[test]
fn s34_type_2_discarded() {
    let b = patched(&advert(200, 100), "192.0.2.2", |b| b[0] = 0x32);
    let (m, st) = lone(inst("VI_1", 100), "192.0.2.2", 255, b);
    assert_eq!(m, vec![at("3.609375")]);
    assert_eq!(st.type_errors, 8);
}

#[test]
fn s35_reserved_nibble_accepted() {
    let b = patched(&advert(200, 100), "192.0.2.2", |b| b[4] |= 0xf0);
    let (m, st) = lone(inst("VI_1", 100), "192.0.2.2", 255, b);
    assert!(m.is_empty());
    assert_eq!(st.adverts_received, 8);
}

/// Strict mode (`strict_mode` / `vrrp_strict`): RFC 9568 E-8300 discards the advert.
#[test]
fn s36_ipv6_first_address_not_link_local_strict() {
    let a = Advert {
        addresses: vec![
            "2001:db8::100".parse().unwrap(),
            "fe80::100".parse().unwrap(),
        ],
        ..advert(250, 100)
    };
    let mut c = inst6("VI_1", 100);
    c.strict_mode = true;
    let (m, st) = lone(c, "fe80::2", 255, enc(&a, "fe80::2"));
    assert_eq!(m, vec![at("3.609375")]);
    assert_eq!(st.address_errors, 8);
    assert_eq!(st.adverts_received, 0);
}

/// Default (keepalived) mode: the advert is logged and processed, so the Backup stays
/// Backup; nothing counts as a discard.
#[test]
fn s36b_ipv6_first_address_not_link_local_default_mode() {
    let a = Advert {
        addresses: vec![
            "2001:db8::100".parse().unwrap(),
            "fe80::100".parse().unwrap(),
        ],
        ..advert(250, 100)
    };
    let (m, st) = lone(inst6("VI_1", 100), "fe80::2", 255, enc(&a, "fe80::2"));
    assert!(m.is_empty(), "{m:?}");
    assert_eq!(st.address_errors, 0);
    assert_eq!(st.adverts_received, 8);
    // A global-only peer (typical keepalived / FRR configuration) is followed too.
    let global_only = Advert {
        addresses: vec!["2001:db8::100".parse().unwrap()],
        ..advert(250, 100)
    };
    let mut c = inst6("VI_1", 100);
    c.vips.remove(0);
    let (m, st) = lone(c.clone(), "fe80::2", 255, enc(&global_only, "fe80::2"));
    assert!(m.is_empty(), "{m:?}");
    assert_eq!(st.adverts_received, 8);
    assert_eq!(st.discarded(), 0);
    // The same configuration in strict mode discards it.
    c.strict_mode = true;
    let (m, st) = lone(c, "fe80::2", 255, enc(&global_only, "fe80::2"));
    assert_eq!(m, vec![at("3.609375")]);
    assert_eq!(st.address_errors, 8);
}

#[test]
fn s37_v2_auth_mismatch() {
    let mut c = inst("VI_1", 100);
    c.version = VrrpVersion::V2;
    c.auth = Some(Auth::Pass(*b"secret1\0"));
    for auth in [V2Auth::Pass(*b"secret2\0"), V2Auth::None, V2Auth::Other(3)] {
        let a = Advert {
            version: VrrpVersion::V2,
            auth: auth.clone(),
            ..advert(200, 100)
        };
        let (m, st) = lone(c.clone(), "192.0.2.2", 255, enc(&a, "192.0.2.2"));
        assert_eq!(m, vec![at("3.609375")], "{auth:?}");
        assert_eq!(st.auth_errors, 8);
    }
    let a = Advert {
        version: VrrpVersion::V2,
        auth: V2Auth::Pass(*b"secret1\0"),
        ..advert(200, 100)
    };
    let (m, _) = lone(c, "192.0.2.2", 255, enc(&a, "192.0.2.2"));
    assert!(m.is_empty());
}

#[test]
fn s38_address_list_mismatch() {
    let two = vec![
        "192.0.2.100".parse().unwrap(),
        "192.0.2.101".parse().unwrap(),
    ];
    // v3: logged only.
    let a = Advert {
        addresses: two.clone(),
        ..advert(200, 100)
    };
    let (m, st) = lone(inst("VI_1", 100), "192.0.2.2", 255, enc(&a, "192.0.2.2"));
    assert!(m.is_empty());
    assert_eq!(st.address_list_errors, 8);
    // v2 by default (keepalived): logged and processed, R1 stays Backup.
    let mut c = inst("VI_1", 100);
    c.version = VrrpVersion::V2;
    let a = Advert {
        version: VrrpVersion::V2,
        addresses: two.clone(),
        ..advert(200, 100)
    };
    let (m, st) = lone(c.clone(), "192.0.2.2", 255, enc(&a, "192.0.2.2"));
    assert!(m.is_empty());
    assert_eq!(st.address_list_errors, 8);
    // v2 in strict mode (the RFC check on): dropped from a non-owner, processed from an
    // owner; `skip_check_adv_addr` turns it off.
    c.strict_mode = true;
    let mut skip = c.clone();
    skip.skip_check_adv_addr = true;
    let a = Advert {
        version: VrrpVersion::V2,
        addresses: two.clone(),
        ..advert(200, 100)
    };
    let (m, st) = lone(skip, "192.0.2.2", 255, enc(&a, "192.0.2.2"));
    assert!(m.is_empty());
    assert_eq!(st.address_list_errors, 0);
    let a = Advert {
        version: VrrpVersion::V2,
        addresses: two.clone(),
        ..advert(200, 100)
    };
    let (m, st) = lone(c.clone(), "192.0.2.2", 255, enc(&a, "192.0.2.2"));
    assert_eq!(m, vec![at("3.609375")]);
    assert_eq!(st.address_list_errors, 8);
    let a = Advert { priority: 255, ..a };
    let (m, _) = lone(c, "192.0.2.2", 255, enc(&a, "192.0.2.2"));
    assert!(m.is_empty());
}

#[test]
fn state_stays_backup_in_control_and_logs_are_rate_limited() {
    // Many discards in one second produce one counter increment each (logging is
    // rate-limited but counting is not).
    let mut lan = Lan::new();
    let r1 = lan.host(1, vec![inst("VI_1", 100)]);
    lan.start(r1, "0");
    let b = enc(&advert(250, 100), "192.0.2.2");
    for i in 0..50 {
        lan.inject_raw(r1, &format!("1.{:02}", i), "192.0.2.2", 254, b.clone());
    }
    lan.run_until("2");
    assert_eq!(lan.state(r1), State::Backup);
    assert_eq!(
        lan.engine(r1).instance_stats("VI_1").unwrap().ttl_errors,
        50
    );
}
