//! The VRRP codec against the golden vectors of vrrp-rfc.md §1.4, round trips, one test per
//! discard rule (every `DecodeError` variant, every `check` outcome) and a fuzz-style run of
//! random and mutated buffers through `decode`.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

use keepalived_rs::vrrp::packet::{
    check, decode, encode, internet_checksum, peek_vrid, try_encode, Advert, DecodeError,
    EncodeError, Notice, ReceivePolicy, V2Auth, V3Ipv4Checksum, Version,
};
use std::collections::BTreeSet;
use std::net::IpAddr;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

const SRC4: &str = "192.0.2.1";
const DST4: &str = "224.0.0.18";
const SRC6: &str = "fe80::1";
const DST6: &str = "ff02::12";

fn advert(version: Version, addresses: &[&str]) -> Advert {
    Advert {
        version,
        vrid: 51,
        priority: 100,
        interval_cs: 100,
        addresses: addresses.iter().map(|a| ip(a)).collect(),
        auth: V2Auth::None,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Sets bytes 6-7 to the right checksum for `src` -> `dst`; `pseudo` includes the
/// pseudo-header (IPv4 or IPv6 form).
fn fix_checksum(bytes: &mut [u8], src: IpAddr, dst: IpAddr, pseudo: bool) {
    bytes[6] = 0;
    bytes[7] = 0;
    let len = bytes.len();
    let ph: Vec<u8> = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut p = s.octets().to_vec();
            p.extend_from_slice(&d.octets());
            p.extend_from_slice(&[0, 112]);
            p.extend_from_slice(&(len as u16).to_be_bytes());
            p
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let mut p = s.octets().to_vec();
            p.extend_from_slice(&d.octets());
            p.extend_from_slice(&(len as u32).to_be_bytes());
            p.extend_from_slice(&[0, 0, 0, 112]);
            p
        }
        _ => panic!("mixed families"),
    };
    let sum = if pseudo {
        internet_checksum(&[&ph, bytes])
    } else {
        internet_checksum(&[bytes])
    };
    bytes[6..8].copy_from_slice(&sum.to_be_bytes());
}

// ===== golden vectors (vrrp-rfc.md §1.4) =====

const V2_GOLDEN: [u8; 20] = [
    0x21, 0x33, 0x64, 0x01, 0x00, 0x01, 0xb8, 0x65, 0xc0, 0x00, 0x02, 0x64, 0, 0, 0, 0, 0, 0, 0, 0,
];
/// v2 with PASS "secret": checksum computed independently (python) and by tshark
/// (tests/tshark.rs).
const V2_PASS_GOLDEN: [u8; 20] = [
    0x21, 0x33, 0x64, 0x01, 0x01, 0x01, 0x7b, 0x19, 0xc0, 0x00, 0x02, 0x64, b's', b'e', b'c', b'r',
    b'e', b't', 0, 0,
];
const V3_MSG_ONLY_GOLDEN: [u8; 12] = [
    0x31, 0x33, 0x64, 0x01, 0x00, 0x64, 0xa8, 0x02, 0xc0, 0x00, 0x02, 0x64,
];
const V3_PSEUDO_GOLDEN: [u8; 12] = [
    0x31, 0x33, 0x64, 0x01, 0x00, 0x64, 0x05, 0x72, 0xc0, 0x00, 0x02, 0x64,
];

#[test]
fn golden_v2() {
    let a = advert(Version::V2, &["192.0.2.100"]);
    for form in [V3Ipv4Checksum::PseudoHeader, V3Ipv4Checksum::MessageOnly] {
        let bytes = encode(&a, ip(SRC4), ip(DST4), form);
        assert_eq!(
            hex(&bytes),
            hex(&V2_GOLDEN),
            "v2 ignores the v3 form {form:?}"
        );
    }
    assert_eq!(decode(&V2_GOLDEN, ip(SRC4), ip(DST4)), Ok((a, None)));
}

#[test]
fn golden_v2_pass() {
    let mut a = advert(Version::V2, &["192.0.2.100"]);
    a.auth = V2Auth::pass(b"secret");
    assert_eq!(a.auth, V2Auth::Pass(*b"secret\0\0"));
    let bytes = encode(&a, ip(SRC4), ip(DST4), V3Ipv4Checksum::PseudoHeader);
    assert_eq!(hex(&bytes), hex(&V2_PASS_GOLDEN));
    assert_eq!(decode(&V2_PASS_GOLDEN, ip(SRC4), ip(DST4)), Ok((a, None)));
    // keepalived keeps the first 8 characters only.
    assert_eq!(V2Auth::pass(b"longpassword"), V2Auth::Pass(*b"longpass"));
}

#[test]
fn golden_v3_ipv4_both_forms() {
    let a = advert(Version::V3, &["192.0.2.100"]);
    let msg = encode(&a, ip(SRC4), ip(DST4), V3Ipv4Checksum::MessageOnly);
    assert_eq!(hex(&msg), hex(&V3_MSG_ONLY_GOLDEN));
    let ph = encode(&a, ip(SRC4), ip(DST4), V3Ipv4Checksum::PseudoHeader);
    assert_eq!(hex(&ph), hex(&V3_PSEUDO_GOLDEN));
    assert_eq!(
        decode(&V3_MSG_ONLY_GOLDEN, ip(SRC4), ip(DST4)),
        Ok((a.clone(), Some(V3Ipv4Checksum::MessageOnly)))
    );
    assert_eq!(
        decode(&V3_PSEUDO_GOLDEN, ip(SRC4), ip(DST4)),
        Ok((a, Some(V3Ipv4Checksum::PseudoHeader)))
    );
}

#[test]
fn golden_v3_ipv6() {
    let a = advert(Version::V3, &["fe80::100", "2001:db8::100"]);
    for form in [V3Ipv4Checksum::PseudoHeader, V3Ipv4Checksum::MessageOnly] {
        let bytes = encode(&a, ip(SRC6), ip(DST6), form);
        assert_eq!(bytes.len(), 40);
        assert_eq!(&bytes[..6], &[0x31, 0x33, 0x64, 0x02, 0x00, 0x64]);
        assert_eq!(
            &bytes[6..8],
            &[0x3d, 0xfd],
            "IPv6 always uses the pseudo-header"
        );
        assert_eq!(decode(&bytes, ip(SRC6), ip(DST6)), Ok((a.clone(), None)));
    }
    // The message-only sum (0x3c2c) is wrong for IPv6.
    let mut wrong = encode(&a, ip(SRC6), ip(DST6), V3Ipv4Checksum::MessageOnly);
    wrong[6..8].copy_from_slice(&[0x3c, 0x2c]);
    assert_eq!(
        decode(&wrong, ip(SRC6), ip(DST6)),
        Err(DecodeError::BadChecksum {
            received: 0x3c2c,
            expected: 0x3dfd,
            expected_alt: None
        })
    );
}

// ===== round trips =====

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
}

fn random_advert(rng: &mut XorShift, ipv6: bool) -> Advert {
    let version = if ipv6 || rng.below(2) == 0 {
        Version::V3
    } else {
        Version::V2
    };
    let count = 1 + rng.below(20) as usize;
    let mut addresses = Vec::new();
    for i in 0..count {
        if ipv6 {
            let mut o = [0u8; 16];
            for b in &mut o {
                *b = rng.byte();
            }
            if i == 0 {
                o[0] = 0xfe;
                o[1] = 0x80 | (o[1] & 0x3f);
            }
            addresses.push(IpAddr::from(o));
        } else {
            addresses.push(IpAddr::from([
                rng.byte(),
                rng.byte(),
                rng.byte(),
                rng.byte(),
            ]));
        }
    }
    let (interval_cs, auth) = match version {
        Version::V2 => {
            let auth = match rng.below(3) {
                0 => V2Auth::None,
                1 => V2Auth::Pass([rng.byte(); 8]),
                _ => V2Auth::Ah,
            };
            ((1 + rng.below(255) as u16) * 100, auth)
        }
        Version::V3 => (1 + rng.below(4095) as u16, V2Auth::None),
    };
    Advert {
        version,
        vrid: 1 + rng.below(255) as u8,
        priority: rng.byte(),
        interval_cs,
        addresses,
        auth,
    }
}

#[test]
fn round_trips() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for i in 0..5000 {
        let ipv6 = i % 3 == 0;
        let (src, dst) = if ipv6 {
            (ip(SRC6), ip(DST6))
        } else {
            (ip(SRC4), ip(DST4))
        };
        let a = random_advert(&mut rng, ipv6);
        let form = if rng.below(2) == 0 {
            V3Ipv4Checksum::PseudoHeader
        } else {
            V3Ipv4Checksum::MessageOnly
        };
        let bytes = try_encode(&a, src, dst, form).expect("valid advert encodes");
        assert_eq!(bytes, encode(&a, src, dst, form));
        let expected_form = (a.version == Version::V3 && !ipv6).then_some(form);
        assert_eq!(
            decode(&bytes, src, dst),
            Ok((a.clone(), expected_form)),
            "advert {a:?} bytes {}",
            hex(&bytes)
        );
        assert_eq!(peek_vrid(&bytes), Some(a.vrid));
    }
}

#[test]
fn ethernet_padding_is_ignored() {
    for bytes in [&V2_GOLDEN[..], &V2_PASS_GOLDEN[..], &V3_PSEUDO_GOLDEN[..]] {
        let mut padded = bytes.to_vec();
        padded.extend_from_slice(&[0xaa; 26]);
        let plain = decode(bytes, ip(SRC4), ip(DST4)).unwrap();
        assert_eq!(decode(&padded, ip(SRC4), ip(DST4)), Ok(plain));
    }
}

#[test]
fn reserved_nibble_is_ignored() {
    // R15: rsvd = 0xF on an otherwise valid advert is accepted.
    let mut bytes = V3_PSEUDO_GOLDEN.to_vec();
    bytes[4] |= 0xf0;
    fix_checksum(&mut bytes, ip(SRC4), ip(DST4), true);
    let (a, form) = decode(&bytes, ip(SRC4), ip(DST4)).unwrap();
    assert_eq!(a.interval_cs, 100);
    assert_eq!(form, Some(V3Ipv4Checksum::PseudoHeader));
}

#[test]
fn try_encode_refuses_what_the_wire_cannot_carry() {
    let (s, d) = (ip(SRC4), ip(DST4));
    let f = V3Ipv4Checksum::PseudoHeader;
    let mut a = advert(Version::V2, &["192.0.2.100"]);
    a.interval_cs = 250;
    assert_eq!(
        try_encode(&a, s, d, f),
        Err(EncodeError::IntervalNotWholeSeconds { interval_cs: 250 })
    );
    // encode rounds to the nearest second: 2.5 s -> 3 s.
    assert_eq!(encode(&a, s, d, f)[5], 3);
    a.interval_cs = 25_600;
    assert_eq!(
        try_encode(&a, s, d, f),
        Err(EncodeError::IntervalOutOfRange {
            interval_cs: 25_600
        })
    );
    assert_eq!(encode(&a, s, d, f)[5], 255);
    let v2 = advert(Version::V2, &["fe80::100"]);
    assert_eq!(
        try_encode(&v2, ip(SRC6), ip(DST6), f),
        Err(EncodeError::V2OverIpv6)
    );
    let mixed = advert(Version::V3, &["192.0.2.100", "fe80::1"]);
    assert_eq!(
        try_encode(&mixed, s, d, f),
        Err(EncodeError::FamilyMismatch)
    );
    // encode leaves the wrong-family address out.
    assert_eq!(
        decode(&encode(&mixed, s, d, f), s, d).unwrap().0.addresses,
        vec![ip("192.0.2.100")]
    );
    assert_eq!(
        try_encode(&advert(Version::V3, &[]), s, ip(DST6), f),
        Err(EncodeError::FamilyMismatch)
    );
    let mut many = advert(Version::V3, &[]);
    many.addresses = (0..256u32).map(|i| IpAddr::from(i.to_be_bytes())).collect();
    assert_eq!(
        try_encode(&many, s, d, f),
        Err(EncodeError::TooManyAddresses { count: 256 })
    );
    assert_eq!(encode(&many, s, d, f)[3], 255);
    for e in [
        EncodeError::IntervalNotWholeSeconds { interval_cs: 250 },
        EncodeError::IntervalOutOfRange { interval_cs: 0 },
        EncodeError::TooManyAddresses { count: 256 },
        EncodeError::FamilyMismatch,
        EncodeError::V2OverIpv6,
    ] {
        assert!(!e.to_string().is_empty());
    }
}

// ===== every DecodeError variant =====

/// Exhaustive: adding a variant without a test here fails to compile.
fn variant_index(e: &DecodeError) -> usize {
    match e {
        DecodeError::TtlNot255 { .. } => 0,
        DecodeError::VersionUnknown { .. } => 1,
        DecodeError::VersionMismatch { .. } => 2,
        DecodeError::V2OverIpv6 => 3,
        DecodeError::TypeUnknown { .. } => 4,
        DecodeError::TooShort { .. } => 5,
        DecodeError::BadChecksum { .. } => 6,
        DecodeError::VridUnknown { .. } => 7,
        DecodeError::AuthTypeUnknown { .. } => 8,
        DecodeError::AuthTypeMismatch { .. } => 9,
        DecodeError::AuthFailure => 10,
        DecodeError::IntervalMismatch { .. } => 11,
        DecodeError::AddressCountZero => 12,
        DecodeError::IntervalZero => 13,
        DecodeError::FirstAddressNotLinkLocal { .. } => 14,
        DecodeError::AddressListMismatch { .. } => 15,
        DecodeError::FamilyMismatch => 16,
    }
}
const VARIANTS: usize = 17;

/// Every error the decode tests below produce.
fn decode_errors() -> Vec<(&'static str, DecodeError)> {
    let (s4, d4, s6, d6) = (ip(SRC4), ip(DST4), ip(SRC6), ip(DST6));
    let mut out = Vec::new();
    let mut push = |name: &'static str, r: Result<_, DecodeError>| match r {
        Err(e) => out.push((name, e)),
        Ok(v) => panic!("{name}: decoded {v:?}, expected an error"),
    };

    // R2: unknown version (1, 4, 0, 15).
    for v in [0u8, 1, 4, 15] {
        let mut b = V2_GOLDEN.to_vec();
        b[0] = (v << 4) | 1;
        push("version unknown", decode(&b, s4, d4));
    }
    // R2/R14: v2 over IPv6.
    let v3_6 = encode(
        &advert(Version::V3, &["fe80::100"]),
        s6,
        d6,
        V3Ipv4Checksum::PseudoHeader,
    );
    let mut b = v3_6.clone();
    b[0] = 0x21;
    push("v2 over ipv6", decode(&b, s6, d6));
    // R3: type 2 and type 0.
    for t in [0u8, 2, 15] {
        let mut b = V3_PSEUDO_GOLDEN.to_vec();
        b[0] = 0x30 | t;
        fix_checksum(&mut b, s4, d4, true);
        push("type", decode(&b, s4, d4));
    }
    // R4: empty, short header, truncated list (count 2, one address), v2 without auth data,
    // v2 with a partial auth data, IPv6 list cut.
    push("empty", decode(&[], s4, d4));
    push("short header", decode(&V2_GOLDEN[..7], s4, d4));
    let mut b = V3_PSEUDO_GOLDEN.to_vec();
    b[3] = 2;
    push("count 2, one address", decode(&b, s4, d4));
    push("v2 no auth data", decode(&V2_GOLDEN[..12], s4, d4));
    push("v2 partial auth data", decode(&V2_GOLDEN[..19], s4, d4));
    push("ipv6 cut", decode(&v3_6[..20], s6, d6));
    // R5: one bit flipped, in each kind of message.
    for (golden, src, dst) in [
        (&V2_GOLDEN[..], s4, d4),
        (&V2_PASS_GOLDEN[..], s4, d4),
        (&V3_PSEUDO_GOLDEN[..], s4, d4),
        (&V3_MSG_ONLY_GOLDEN[..], s4, d4),
        (&v3_6[..], s6, d6),
    ] {
        for bit in [0usize, 9, 17, 8 * golden.len() - 1] {
            let mut b = golden.to_vec();
            b[bit / 8] ^= 0x80 >> (bit % 8);
            let r = decode(&b, src, dst);
            // Flipping a version/type bit is caught earlier (R2/R3); the rest by R5.
            if bit >= 8 {
                assert!(
                    matches!(r, Err(DecodeError::BadChecksum { .. })),
                    "bit {bit} of {}: {r:?}",
                    hex(golden)
                );
            }
            push("checksum", r);
        }
    }
    // R5: a v3 IPv4 message checksummed for another source fails both forms.
    push(
        "checksum other src",
        decode(&V3_PSEUDO_GOLDEN, ip("192.0.2.2"), d4),
    );
    // R10: v3 count 0.
    let mut b = V3_PSEUDO_GOLDEN[..8].to_vec();
    b[3] = 0;
    fix_checksum(&mut b, s4, d4, true);
    push("count 0", decode(&b, s4, d4));
    // R11: v3 Max Adver Int 0 (reserved bits set too).
    let mut b = V3_PSEUDO_GOLDEN.to_vec();
    b[4] = 0xf0;
    b[5] = 0;
    fix_checksum(&mut b, s4, d4, false);
    push("interval 0", decode(&b, s4, d4));
    // R14: source and destination families differ.
    push("family", decode(&V3_PSEUDO_GOLDEN, s4, d6));
    push("family", decode(&v3_6, s6, d4));
    out
}

#[test]
fn decode_rejects_each_malformed_packet_with_its_variant() {
    let errors = decode_errors();
    let find = |name: &str| -> Vec<&DecodeError> {
        errors
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, e)| e)
            .collect()
    };
    assert_eq!(
        find("version unknown"),
        [0u8, 1, 4, 15]
            .iter()
            .map(|v| DecodeError::VersionUnknown { version: *v })
            .collect::<Vec<_>>()
            .iter()
            .collect::<Vec<_>>()
    );
    assert_eq!(find("v2 over ipv6"), [&DecodeError::V2OverIpv6]);
    assert_eq!(
        find("type"),
        [
            &DecodeError::TypeUnknown { packet_type: 0 },
            &DecodeError::TypeUnknown { packet_type: 2 },
            &DecodeError::TypeUnknown { packet_type: 15 }
        ]
    );
    assert_eq!(
        find("empty"),
        [&DecodeError::TooShort { len: 0, needed: 8 }]
    );
    assert_eq!(
        find("short header"),
        [&DecodeError::TooShort { len: 7, needed: 8 }]
    );
    assert_eq!(
        find("count 2, one address"),
        [&DecodeError::TooShort {
            len: 12,
            needed: 16
        }]
    );
    assert_eq!(
        find("v2 no auth data"),
        [&DecodeError::TooShort {
            len: 12,
            needed: 20
        }]
    );
    assert_eq!(
        find("v2 partial auth data"),
        [&DecodeError::TooShort {
            len: 19,
            needed: 20
        }]
    );
    assert_eq!(
        find("ipv6 cut"),
        [&DecodeError::TooShort {
            len: 20,
            needed: 24
        }]
    );
    assert_eq!(
        find("checksum other src"),
        [&DecodeError::BadChecksum {
            received: 0x0572,
            expected: 0x0571,
            expected_alt: Some(0xa802)
        }]
    );
    assert_eq!(find("count 0"), [&DecodeError::AddressCountZero]);
    assert_eq!(find("interval 0"), [&DecodeError::IntervalZero]);
    assert_eq!(
        find("family"),
        [&DecodeError::FamilyMismatch, &DecodeError::FamilyMismatch]
    );
    // A v2 bad checksum names the message-only expectation.
    let mut b = V2_GOLDEN;
    b[7] ^= 1;
    assert_eq!(
        decode(&b, ip(SRC4), ip(DST4)),
        Err(DecodeError::BadChecksum {
            received: 0xb864,
            expected: 0xb865,
            expected_alt: None
        })
    );
}

// ===== check() =====

fn policy(version: Version, vips: &[&str]) -> ReceivePolicy {
    ReceivePolicy {
        version,
        ttl_must_be_255: true,
        auth: V2Auth::None,
        interval_cs: 100,
        vips: vips.iter().map(|a| ip(a)).collect(),
        strict: false,
        link_local_first: false,
    }
}

/// Every error the check tests below produce.
fn check_errors() -> Vec<DecodeError> {
    let v2 = advert(Version::V2, &["192.0.2.100"]);
    let v3 = advert(Version::V3, &["192.0.2.100"]);
    let p2 = policy(Version::V2, &["192.0.2.100"]);
    let p3 = policy(Version::V3, &["192.0.2.100"]);
    let mut out = Vec::new();
    let mut push = |r: Result<Vec<Notice>, DecodeError>| out.push(r.unwrap_err());
    push(check(&v3, 254, &p3)); // R1
    push(check(&v3, 64, &p3)); // R1, IPv6 hop limit 64
    push(check(&v2, 255, &p3)); // R2
    push(check(&v3, 255, &p2)); // R2
    let mut a = v2.clone();
    a.auth = V2Auth::Other(3);
    push(check(&a, 255, &p2)); // R8 unknown type
    a.auth = V2Auth::pass(b"secret2");
    let mut p = p2.clone();
    p.auth = V2Auth::pass(b"secret1");
    push(check(&a, 255, &p)); // R8 password
    a.auth = V2Auth::None;
    push(check(&a, 255, &p)); // R8 type 0 vs 1
    a.auth = V2Auth::Ah;
    push(check(&a, 255, &p)); // R8 type 2 vs 1
    a.auth = V2Auth::None;
    a.interval_cs = 200;
    push(check(&a, 255, &p2)); // R9 v2
    let mut strict = p2.clone();
    strict.strict = true;
    let two = advert(Version::V2, &["192.0.2.100", "192.0.2.101"]);
    push(check(&two, 255, &strict)); // R13 v2 strict, priority 100
    let mut p6 = policy(Version::V3, &["2001:db8::100", "fe80::100"]);
    p6.link_local_first = true;
    let global_first = advert(Version::V3, &["2001:db8::100", "fe80::100"]);
    push(check(&global_first, 255, &p6)); // R12 strict (E-8300)
    out
}

#[test]
fn check_discards() {
    let e = check_errors();
    assert_eq!(
        e,
        vec![
            DecodeError::TtlNot255 { ttl: 254 },
            DecodeError::TtlNot255 { ttl: 64 },
            DecodeError::VersionMismatch {
                received: Version::V2,
                expected: Version::V3
            },
            DecodeError::VersionMismatch {
                received: Version::V3,
                expected: Version::V2
            },
            DecodeError::AuthTypeUnknown { auth_type: 3 },
            DecodeError::AuthFailure,
            DecodeError::AuthTypeMismatch {
                received: 0,
                expected: 1
            },
            DecodeError::AuthTypeMismatch {
                received: 2,
                expected: 1
            },
            DecodeError::IntervalMismatch {
                received_cs: 200,
                expected_cs: 100
            },
            DecodeError::AddressListMismatch {
                received: 2,
                configured: 1
            },
            DecodeError::FirstAddressNotLinkLocal {
                address: "2001:db8::100".parse().unwrap()
            },
        ]
    );
}

/// R12 is per instance: a VRRPv3/IPv6 advert whose first address is global decodes (the
/// codec no longer judges it); strict mode discards it (RFC 9568 E-8300), the default
/// (keepalived) mode processes it with a notice.
#[test]
fn r12_first_address_not_link_local_by_mode() {
    let (s6, d6) = (ip("fe80::2"), ip("ff02::12"));
    // A typical keepalived / FRR IPv6 configuration: one global virtual address only.
    let global_only = advert(Version::V3, &["2001:db8::100"]);
    let b = encode(&global_only, s6, d6, V3Ipv4Checksum::PseudoHeader);
    let (back, form) = decode(&b, s6, d6).expect("decodes whatever the first address");
    assert_eq!(back, global_only);
    assert_eq!(form, None);
    let first: std::net::Ipv6Addr = "2001:db8::100".parse().unwrap();

    // Default mode: processed, one notice.
    let default = policy(Version::V3, &["2001:db8::100"]);
    assert_eq!(
        check(&back, 255, &default),
        Ok(vec![Notice::FirstAddressNotLinkLocal { address: first }])
    );
    // Strict mode: discarded.
    let mut strict = default.clone();
    strict.link_local_first = true;
    assert_eq!(
        check(&back, 255, &strict),
        Err(DecodeError::FirstAddressNotLinkLocal { address: first })
    );
    // The notice comes with the others, in check order (R12 before R13).
    let reordered = advert(
        Version::V3,
        &["2001:db8::100", "fe80::100", "2001:db8::101"],
    );
    assert_eq!(
        check(&reordered, 255, &default),
        Ok(vec![
            Notice::FirstAddressNotLinkLocal { address: first },
            Notice::AddressListMismatch
        ])
    );
    // Link-local first: no notice in either mode; R1 still precedes R12 in strict mode.
    let ll_first = advert(Version::V3, &["fe80::100", "2001:db8::100"]);
    let p2 = policy(Version::V3, &["fe80::100", "2001:db8::100"]);
    let mut p2s = p2.clone();
    p2s.link_local_first = true;
    assert_eq!(check(&ll_first, 255, &p2), Ok(vec![]));
    assert_eq!(check(&ll_first, 255, &p2s), Ok(vec![]));
    assert_eq!(
        check(&back, 64, &strict),
        Err(DecodeError::TtlNot255 { ttl: 64 })
    );
    // IPv4 adverts are never concerned.
    let mut p4 = policy(Version::V3, &["192.0.2.100"]);
    p4.link_local_first = true;
    assert_eq!(
        check(&advert(Version::V3, &["192.0.2.100"]), 255, &p4),
        Ok(vec![])
    );
    let n = Notice::FirstAddressNotLinkLocal { address: first };
    assert_eq!(n.kind(), "link_local");
    assert!(n.to_string().contains("2001:db8::100 is not link-local"));
}

#[test]
fn check_accepts_with_notices() {
    let p2 = policy(Version::V2, &["192.0.2.100"]);
    let p3 = policy(Version::V3, &["192.0.2.100"]);
    let v2 = advert(Version::V2, &["192.0.2.100"]);
    let v3 = advert(Version::V3, &["192.0.2.100"]);
    // Clean adverts.
    assert_eq!(check(&v2, 255, &p2), Ok(vec![]));
    assert_eq!(check(&v3, 255, &p3), Ok(vec![]));
    // R1 skipped for unicast peers.
    let mut unicast = p3.clone();
    unicast.ttl_must_be_255 = false;
    assert_eq!(check(&v3, 64, &unicast), Ok(vec![]));
    // R9 v3: logged and learned, not dropped.
    let mut slow = v3.clone();
    slow.interval_cs = 300;
    assert_eq!(
        check(&slow, 255, &p3),
        Ok(vec![Notice::IntervalMismatch { received_cs: 300 }])
    );
    // R13 v3: logged only, even strict.
    let two3 = advert(Version::V3, &["192.0.2.100", "192.0.2.101"]);
    let mut strict3 = p3.clone();
    strict3.strict = true;
    assert_eq!(
        check(&two3, 255, &strict3),
        Ok(vec![Notice::AddressListMismatch])
    );
    // Both notices together, in check order.
    let mut both = two3.clone();
    both.interval_cs = 50;
    assert_eq!(
        check(&both, 255, &p3),
        Ok(vec![
            Notice::IntervalMismatch { received_cs: 50 },
            Notice::AddressListMismatch
        ])
    );
    // R13 v2, keepalived semantics: logged only unless strict.
    let two2 = advert(Version::V2, &["192.0.2.100", "192.0.2.101"]);
    assert_eq!(
        check(&two2, 255, &p2),
        Ok(vec![Notice::AddressListMismatch])
    );
    // R13 v2 strict: the owner (255) is processed.
    let mut strict2 = p2.clone();
    strict2.strict = true;
    let mut owner = two2.clone();
    owner.priority = 255;
    assert_eq!(
        check(&owner, 255, &strict2),
        Ok(vec![Notice::AddressListMismatch])
    );
    // A different address of the same count is a mismatch too.
    let other = advert(Version::V2, &["192.0.2.101"]);
    assert_eq!(
        check(&other, 255, &p2),
        Ok(vec![Notice::AddressListMismatch])
    );
    // Same list in another order is not a mismatch.
    let p_two = policy(Version::V3, &["192.0.2.101", "192.0.2.100"]);
    assert_eq!(check(&two3, 255, &p_two), Ok(vec![]));
    // R8: matching PASS and matching AH are accepted.
    let mut pass = v2.clone();
    pass.auth = V2Auth::pass(b"secret");
    let mut ppass = p2.clone();
    ppass.auth = V2Auth::pass(b"secret");
    assert_eq!(check(&pass, 255, &ppass), Ok(vec![]));
    let mut ah = v2.clone();
    ah.auth = V2Auth::Ah;
    let mut pah = p2.clone();
    pah.auth = V2Auth::Ah;
    assert_eq!(check(&ah, 255, &pah), Ok(vec![]));
    // v3 ignores the v2 auth of the policy.
    let mut p3pass = p3.clone();
    p3pass.auth = V2Auth::pass(b"x");
    assert_eq!(check(&v3, 255, &p3pass), Ok(vec![]));
    // Notices have kinds and log text.
    for n in [
        Notice::IntervalMismatch { received_cs: 300 },
        Notice::AddressListMismatch,
    ] {
        assert!(!n.kind().is_empty());
        assert!(!n.to_string().is_empty());
    }
    assert_eq!(
        Notice::IntervalMismatch { received_cs: 300 }.to_string(),
        "advert interval 3s differs from the configured one (learned)"
    );
}

#[test]
fn every_variant_is_produced_and_named() {
    let mut all: Vec<DecodeError> = decode_errors().into_iter().map(|(_, e)| e).collect();
    all.extend(check_errors());
    // R6 is the caller's VRID lookup.
    all.push(DecodeError::VridUnknown { vrid: 52 });
    let seen: BTreeSet<usize> = all.iter().map(variant_index).collect();
    assert_eq!(seen.len(), VARIANTS, "variants not produced by a test");
    let kinds: BTreeSet<&str> = all.iter().map(|e| e.kind()).collect();
    assert_eq!(
        kinds,
        DecodeError::KINDS.iter().copied().collect::<BTreeSet<_>>()
    );
    for e in &all {
        let text = e.to_string();
        assert!(!text.is_empty() && !text.contains('\n'), "{e:?}");
    }
    assert_eq!(
        DecodeError::TtlNot255 { ttl: 254 }.to_string(),
        "TTL/hop limit 254, expected 255 (RFC 5798 §5.1.1.3)"
    );
    assert_eq!(
        DecodeError::BadChecksum {
            received: 0x0572,
            expected: 0x0571,
            expected_alt: Some(0xa802)
        }
        .to_string(),
        "bad checksum 0x0572, expected 0x0571 (pseudo-header) or 0xa802 (message only)"
    );
    assert_eq!(
        DecodeError::IntervalMismatch {
            received_cs: 200,
            expected_cs: 100
        }
        .to_string(),
        "advert interval 2s, configured 1s (RFC 3768 §7.1)"
    );
}

// ===== fuzz =====

/// Random and mutated buffers never panic `decode`, and whatever decodes re-encodes to a
/// message that decodes to the same advert.
#[test]
fn fuzz_decode_never_panics() {
    let iterations: u64 = std::env::var("FUZZ_ITERATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let seed = 0x5eed_0000_0000_0001u64;
    let mut rng = XorShift(seed);
    let seeds: Vec<(Vec<u8>, IpAddr, IpAddr)> = {
        let v3_6 = encode(
            &advert(Version::V3, &["fe80::100", "2001:db8::100"]),
            ip(SRC6),
            ip(DST6),
            V3Ipv4Checksum::PseudoHeader,
        );
        vec![
            (V2_GOLDEN.to_vec(), ip(SRC4), ip(DST4)),
            (V2_PASS_GOLDEN.to_vec(), ip(SRC4), ip(DST4)),
            (V3_PSEUDO_GOLDEN.to_vec(), ip(SRC4), ip(DST4)),
            (V3_MSG_ONLY_GOLDEN.to_vec(), ip(SRC4), ip(DST4)),
            (v3_6, ip(SRC6), ip(DST6)),
        ]
    };
    let mut accepted = 0u64;
    for i in 0..iterations {
        let (base, src, dst) = &seeds[(i % seeds.len() as u64) as usize];
        let mut buf = if rng.below(4) == 0 {
            // Fully random buffer with a plausible first byte half the time.
            let len = rng.below(80) as usize;
            let mut b: Vec<u8> = (0..len).map(|_| rng.byte()).collect();
            if !b.is_empty() && rng.below(2) == 0 {
                b[0] = if rng.below(2) == 0 { 0x21 } else { 0x31 };
            }
            b
        } else {
            let mut b = base.clone();
            for _ in 0..1 + rng.below(4) {
                match rng.below(5) {
                    0 if !b.is_empty() => {
                        let at = rng.below(b.len() as u64) as usize;
                        b[at] = rng.byte();
                    }
                    1 if !b.is_empty() => {
                        let at = rng.below(b.len() as u64) as usize;
                        b[at] ^= 1 << rng.below(8);
                    }
                    2 => {
                        let keep = rng.below(b.len() as u64 + 1) as usize;
                        b.truncate(keep);
                    }
                    3 => {
                        for _ in 0..rng.below(40) {
                            b.push(rng.byte());
                        }
                    }
                    _ if b.len() > 3 => b[3] = rng.byte(),
                    _ => {}
                }
            }
            b
        };
        // Half the time repair the checksum so the later checks get exercised too.
        if buf.len() >= 8 && rng.below(2) == 0 {
            let count = usize::from(buf[3]);
            let addr = if src.is_ipv4() { 4 } else { 16 };
            let auth = if buf[0] >> 4 == 2 { 8 } else { 0 };
            let need = 8 + count * addr + auth;
            if need <= buf.len() {
                let pseudo = buf[0] >> 4 == 3 && (src.is_ipv6() || rng.below(2) == 0);
                fix_checksum(&mut buf[..need], *src, *dst, pseudo);
            }
        }
        let result = std::panic::catch_unwind(|| decode(&buf, *src, *dst));
        let decoded = match result {
            Ok(r) => r,
            Err(_) => panic!(
                "decode panicked on seed {seed:#x} iteration {i}: {}",
                hex(&buf)
            ),
        };
        if let Ok((a, form)) = decoded {
            accepted += 1;
            let _ = check(&a, 255, &policy(a.version, &[]));
            if a.interval_cs == 0 {
                // VRRPv2 Adver Int 0 decodes (R9 rejects it) but encode sends at least 1 s.
                continue;
            }
            let again = encode(&a, *src, *dst, form.unwrap_or(V3Ipv4Checksum::PseudoHeader));
            assert_eq!(
                decode(&again, *src, *dst).map(|(b, _)| b),
                Ok(a),
                "re-encode of {} (seed {seed:#x} iteration {i})",
                hex(&buf)
            );
        }
    }
    // Mutations that keep a valid message must exist, or this test exercises nothing past R5.
    assert!(
        accepted > iterations / 20,
        "only {accepted} of {iterations} accepted"
    );
}
