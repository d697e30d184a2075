//! The fuzz targets (adverts, configuration, netlink, HTTP, SMTP, DNS, UDP_CHECK, AgentX): one entry point per decoder of remote or operator-supplied data, each
//! taking arbitrary bytes and required never to panic (nor hang: every decoder here is
//! bounded in work by the size of its input).
//!
//! The same table serves two harnesses:
//! - `make fuzz` builds `fuzz/` (a separate crate, coverage-guided with AFL++ through
//!   cargo-afl) and runs each target for a bounded time from the seed corpus in
//!   `fuzz/corpus/<target>/`;
//! - `tests/fuzz_smoke.rs`, in `make test`, runs every target over its seed corpus and a
//!   few thousand deterministic mutations of it, so a target that panics on its own seeds
//!   or on simple damage fails the ordinary test run.
//!
//! Targets that need more context than bytes (a packet's addresses, the configuration
//! file's name) take it from the first input byte, so the fuzzer explores it too.

use crate::vrrp::packet::{self, ReceivePolicy, V2Auth, Version};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

/// A fuzz target: its name (the corpus directory) and its entry point.
pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]),
}

/// Every target, in the order `make fuzz` runs them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "advert",
        run: advert,
    },
    Target {
        name: "config",
        run: config,
    },
    Target {
        name: "netlink",
        run: netlink,
    },
    Target {
        name: "http",
        run: crate::check::http::fuzz_http_response,
    },
    Target {
        name: "smtp",
        run: crate::smtp::fuzz_server_bytes,
    },
    Target {
        name: "dns",
        run: crate::check::dns::fuzz_dns_reply,
    },
    Target {
        name: "udp",
        run: crate::check::udp::fuzz_udp_reply,
    },
    Target {
        name: "agentx",
        run: crate::snmp::fuzz_agentx,
    },
    Target {
        name: "ipvs",
        run: crate::sys::ipvs_codec::fuzz_ipvs,
    },
];

/// The target called `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// A received VRRP message: decoded for the family the first byte picks, then put through
/// the receive checks of both versions (with and without authentication, strict or not).
pub fn advert(data: &[u8]) {
    let Some((&sel, bytes)) = data.split_first() else {
        return;
    };
    let (src, dst): (IpAddr, IpAddr) = if sel & 1 == 0 {
        (
            IpAddr::V4(Ipv4Addr::new(192, 168, 1, 2)),
            IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18)),
        )
    } else {
        (
            IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2)),
            IpAddr::V6(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12)),
        )
    };
    let Ok((advert, _form)) = packet::decode(bytes, src, dst) else {
        return;
    };
    let vips = vec![src];
    for (version, auth, strict) in [
        (Version::V2, V2Auth::None, false),
        (Version::V2, V2Auth::Pass(*b"secret\0\0"), true),
        (Version::V3, V2Auth::None, true),
        (Version::V3, V2Auth::None, false),
    ] {
        let policy = ReceivePolicy {
            version,
            ttl_must_be_255: sel & 2 == 0,
            auth,
            interval_cs: 100,
            vips: vips.clone(),
            strict,
            link_local_first: strict,
        };
        let _ = packet::check(&advert, sel, &policy);
    }
}

/// A configuration file: the whole loader (lexer, preprocessor, repeats, tree, builder,
/// validation), from text that is not necessarily UTF-8. Includes resolve against a
/// directory that does not exist.
pub fn config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let opts = crate::config::LoadOptions::default();
    let loaded = crate::config::load_str(&text, Path::new("/nonexistent/fuzz.conf"), &opts);
    let _ = crate::config::config_test_status(&loaded);
}

/// A datagram from a netlink socket: the message walker, every attribute walk, rtnetlink's
/// link / address / route parser and the error parser, and the interface table fed with
/// what parses.
pub fn netlink(data: &[u8]) {
    use crate::sys::netlink::{attrs, messages, parse_error};
    use crate::sys::netlink_route::parse_rt;
    let mut table = crate::sys::iftable::Interfaces::new();
    for msg in messages(data).take(1024) {
        let Ok(msg) = msg else {
            break;
        };
        for a in attrs(msg.payload).take(4096) {
            if a.is_err() {
                break;
            }
        }
        let _ = parse_error(&msg);
        if let Ok(Some(rt)) = parse_rt(&msg) {
            table.apply(rt);
        }
    }
}
