//! VRRP codec micro-benchmarks: plain `main`, `std::time::Instant`, ns/op printed.
//! `cargo bench --bench codec`.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

use keepalived_rs::vrrp::packet::{
    check, decode, encode, Advert, ReceivePolicy, V2Auth, V3Ipv4Checksum, Version,
};
use std::hint::black_box;
use std::net::IpAddr;
use std::time::Instant as Clock;

const N: usize = 2_000_000;

fn ip(s: &str) -> IpAddr {
    s.parse().expect("address literal")
}

fn report(name: &str, start: Clock) {
    let ns = start.elapsed().as_nanos() as f64 / N as f64;
    println!("{name:<40} {ns:>8.1} ns/op");
}

fn main() {
    let v4 = (ip("192.0.2.1"), ip("224.0.0.18"));
    let v6 = (ip("fe80::1"), ip("ff02::12"));
    let cases = [
        (
            "v2 PASS, 1 VIP",
            Advert {
                version: Version::V2,
                vrid: 51,
                priority: 100,
                interval_cs: 100,
                addresses: vec![ip("192.0.2.100")],
                auth: V2Auth::pass(b"secret"),
            },
            v4,
            V3Ipv4Checksum::PseudoHeader,
        ),
        (
            "v3/IPv4 pseudo-header, 1 VIP",
            Advert {
                version: Version::V3,
                vrid: 51,
                priority: 100,
                interval_cs: 100,
                addresses: vec![ip("192.0.2.100")],
                auth: V2Auth::None,
            },
            v4,
            V3Ipv4Checksum::PseudoHeader,
        ),
        (
            "v3/IPv4 message-only, 20 VIPs",
            Advert {
                version: Version::V3,
                vrid: 51,
                priority: 100,
                interval_cs: 100,
                addresses: (1..=20u8).map(|i| IpAddr::from([192, 0, 2, i])).collect(),
                auth: V2Auth::None,
            },
            v4,
            V3Ipv4Checksum::MessageOnly,
        ),
        (
            "v3/IPv6, 2 VIPs",
            Advert {
                version: Version::V3,
                vrid: 51,
                priority: 100,
                interval_cs: 100,
                addresses: vec![ip("fe80::100"), ip("2001:db8::100")],
                auth: V2Auth::None,
            },
            v6,
            V3Ipv4Checksum::PseudoHeader,
        ),
    ];
    for (name, advert, (src, dst), form) in &cases {
        let start = Clock::now();
        for _ in 0..N {
            black_box(encode(black_box(advert), *src, *dst, *form));
        }
        report(&format!("encode {name}"), start);

        let bytes = encode(advert, *src, *dst, *form);
        let start = Clock::now();
        for _ in 0..N {
            black_box(decode(black_box(&bytes), *src, *dst).expect("valid"));
        }
        report(&format!("decode {name}"), start);

        let policy = ReceivePolicy {
            version: advert.version,
            ttl_must_be_255: true,
            auth: advert.auth.clone(),
            interval_cs: 100,
            vips: advert.addresses.clone(),
            strict: false,
            link_local_first: false,
        };
        let start = Clock::now();
        for _ in 0..N {
            black_box(check(black_box(advert), 255, &policy).expect("valid"));
        }
        report(&format!("check {name}"), start);
    }
}
