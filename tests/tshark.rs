//! Cross-checks the VRRP encoder with an independent decoder: the adverts are written into
//! a pcap file (Ethernet + IPv4/IPv6 header with TTL 255, protocol 112) and tshark must
//! dissect every one as VRRP with a good checksum.
//!
//! Without tshark the test prints a notice and passes, unless `CI` is set.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test code reaches the OS

use keepalived_rs::vrrp::packet::{
    encode, internet_checksum, Advert, V2Auth, V3Ipv4Checksum, Version,
};
use keepalived_rs::vrrp::virtual_mac;
use std::io::ErrorKind;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// One Ethernet frame carrying `payload` as IP protocol 112 from `src` to `dst`.
fn frame(vrid: u8, src: IpAddr, dst: IpAddr, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let o = d.octets();
            f.extend_from_slice(&[0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]]);
            f.extend_from_slice(&virtual_mac(vrid, false));
            f.extend_from_slice(&[0x08, 0x00]);
            let total = (20 + payload.len()) as u16;
            let mut h = vec![0x45, 0xc0];
            h.extend_from_slice(&total.to_be_bytes());
            h.extend_from_slice(&[0, 0, 0, 0, 255, 112, 0, 0]);
            h.extend_from_slice(&s.octets());
            h.extend_from_slice(&d.octets());
            let sum = internet_checksum(&[&h]);
            h[10..12].copy_from_slice(&sum.to_be_bytes());
            f.extend_from_slice(&h);
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let o = d.octets();
            f.extend_from_slice(&[0x33, 0x33, o[12], o[13], o[14], o[15]]);
            f.extend_from_slice(&virtual_mac(vrid, true));
            f.extend_from_slice(&[0x86, 0xdd]);
            f.extend_from_slice(&[0x60, 0, 0, 0]);
            f.extend_from_slice(&(payload.len() as u16).to_be_bytes());
            f.extend_from_slice(&[112, 255]);
            f.extend_from_slice(&s.octets());
            f.extend_from_slice(&d.octets());
        }
        _ => panic!("mixed families"),
    }
    f.extend_from_slice(payload);
    f
}

/// A classic pcap file (microsecond timestamps, LINKTYPE_ETHERNET).
fn pcap(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&65_535u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    for (i, f) in frames.iter().enumerate() {
        out.extend_from_slice(&(i as u32).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(f.len() as u32).to_le_bytes());
        out.extend_from_slice(&(f.len() as u32).to_le_bytes());
        out.extend_from_slice(f);
    }
    out
}

/// Removes the file on every exit path.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

const FIELDS: &[&str] = &[
    "vrrp.version",
    "vrrp.checksum.status",
    "vrrp.virt_rtr_id",
    "vrrp.prio",
    "vrrp.addr_count",
    "vrrp.auth_type",
    "vrrp.auth_string",
    "vrrp.adver_int",
    "vrrp.short_adver_int",
    "vrrp.ip_addr",
    "vrrp.ipv6_addr",
];

/// Runs tshark on `file` with extra `-o` preferences; one row of FIELDS per frame.
/// `None` when tshark is not installed.
fn tshark(file: &TempFile, prefs: &[&str]) -> Option<Vec<Vec<String>>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-n").arg("-r").arg(&file.0);
    for p in prefs {
        cmd.arg("-o").arg(p);
    }
    cmd.args(["-T", "fields", "-E", "separator=|"]);
    for f in FIELDS {
        cmd.arg("-e").arg(f);
    }
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) if e.kind() == ErrorKind::NotFound => return None,
        Err(e) => panic!("cannot run tshark: {e}"),
    };
    // Bounded wait: a dissector on a dozen frames takes well under a second.
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() > Duration::from_secs(120) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("tshark did not finish within 120 s");
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("waiting for tshark: {e}"),
        }
    }
    let out = child.wait_with_output().expect("tshark output");
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("tshark prints UTF-8");
    Some(
        text.lines()
            .map(|l| l.split('|').map(str::to_owned).collect())
            .collect(),
    )
}

fn field<'a>(row: &'a [String], name: &str) -> &'a str {
    let i = FIELDS.iter().position(|f| *f == name).unwrap();
    row.get(i).map(String::as_str).unwrap_or("")
}

struct Case {
    name: String,
    advert: Advert,
    src: IpAddr,
    dst: IpAddr,
    form: V3Ipv4Checksum,
    corrupt: bool,
}

fn base(version: Version, addresses: &[&str]) -> Advert {
    Advert {
        version,
        vrid: 51,
        priority: 100,
        interval_cs: 100,
        addresses: addresses.iter().map(|a| ip(a)).collect(),
        auth: V2Auth::None,
    }
}

fn cases() -> Vec<Case> {
    let (s4, d4, s6, d6) = (
        ip("192.0.2.1"),
        ip("224.0.0.18"),
        ip("fe80::1"),
        ip("ff02::12"),
    );
    let ph = V3Ipv4Checksum::PseudoHeader;
    let mo = V3Ipv4Checksum::MessageOnly;
    let mut pass = base(Version::V2, &["192.0.2.100"]);
    pass.auth = V2Auth::pass(b"secret");
    let mut v = vec![
        Case {
            name: "v2".into(),
            advert: base(Version::V2, &["192.0.2.100"]),
            src: s4,
            dst: d4,
            form: ph,
            corrupt: false,
        },
        Case {
            name: "v2 PASS secret".into(),
            advert: pass,
            src: s4,
            dst: d4,
            form: ph,
            corrupt: false,
        },
        Case {
            name: "v3/IPv4 pseudo-header".into(),
            advert: base(Version::V3, &["192.0.2.100"]),
            src: s4,
            dst: d4,
            form: ph,
            corrupt: false,
        },
        Case {
            name: "v3/IPv4 message only".into(),
            advert: base(Version::V3, &["192.0.2.100"]),
            src: s4,
            dst: d4,
            form: mo,
            corrupt: false,
        },
        Case {
            name: "v3/IPv6".into(),
            advert: base(Version::V3, &["fe80::100", "2001:db8::100"]),
            src: s6,
            dst: d6,
            form: ph,
            corrupt: false,
        },
        Case {
            name: "v2 corrupted".into(),
            advert: base(Version::V2, &["192.0.2.100"]),
            src: s4,
            dst: d4,
            form: ph,
            corrupt: true,
        },
    ];
    // A spread of other values: many addresses, extreme priorities and intervals, unicast.
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for i in 0..24u32 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let ipv6 = i % 3 == 2;
        let version = if !ipv6 && i % 2 == 0 {
            Version::V2
        } else {
            Version::V3
        };
        let count = 1 + (x % 12) as usize;
        let addresses: Vec<IpAddr> = (0..count)
            .map(|k| {
                if ipv6 {
                    IpAddr::from([
                        0xfe80 - if k == 0 { 0 } else { 0xdd78 },
                        0,
                        0,
                        0,
                        0,
                        0,
                        (x >> 16) as u16,
                        k as u16,
                    ])
                } else {
                    IpAddr::from([10, (x >> 8) as u8, (x >> 24) as u8, k as u8])
                }
            })
            .collect();
        let advert = Advert {
            version,
            vrid: 1 + (x >> 32) as u8 % 255,
            priority: (x >> 40) as u8,
            interval_cs: match version {
                Version::V2 => 100 * (1 + (x >> 48) as u16 % 255),
                Version::V3 => 1 + (x >> 48) as u16 % 4095,
            },
            addresses,
            auth: if version == Version::V2 && i % 4 == 0 {
                V2Auth::pass(b"pw")
            } else {
                V2Auth::None
            },
        };
        let (src, dst) = match (ipv6, i % 5 == 0) {
            (true, false) => (s6, d6),
            (true, true) => (ip("fe80::2"), ip("fe80::3")),
            (false, false) => (s4, d4),
            (false, true) => (ip("198.51.100.7"), ip("198.51.100.9")),
        };
        v.push(Case {
            name: format!("random {i}"),
            advert,
            src,
            dst,
            form: ph,
            corrupt: false,
        });
    }
    v
}

#[test]
fn tshark_dissects_our_adverts_with_good_checksums() {
    let cases = cases();
    let frames: Vec<Vec<u8>> = cases
        .iter()
        .map(|c| {
            let mut payload = encode(&c.advert, c.src, c.dst, c.form);
            if c.corrupt {
                payload[9] ^= 0x01;
            }
            frame(c.advert.vrid, c.src, c.dst, &payload)
        })
        .collect();
    let file = TempFile(
        std::env::temp_dir().join(format!("keepalived-rs-tshark-{}.pcap", std::process::id())),
    );
    std::fs::write(&file.0, pcap(&frames)).expect("write pcap");

    let Some(rows) = tshark(&file, &[]) else {
        if std::env::var_os("CI").is_some() {
            panic!("tshark is not installed, and CI is set");
        }
        eprintln!("NOTICE: tshark not installed; skipping the tshark cross-check");
        return;
    };
    assert_eq!(rows.len(), cases.len(), "one line per frame: {rows:?}");
    for (c, row) in cases.iter().zip(&rows) {
        let a = &c.advert;
        let version = if a.version == Version::V2 { "2" } else { "3" };
        assert_eq!(field(row, "vrrp.version"), version, "{}: {row:?}", c.name);
        assert_eq!(
            field(row, "vrrp.virt_rtr_id"),
            a.vrid.to_string(),
            "{}",
            c.name
        );
        assert_eq!(
            field(row, "vrrp.prio"),
            a.priority.to_string(),
            "{}",
            c.name
        );
        assert_eq!(
            field(row, "vrrp.addr_count"),
            a.addresses.len().to_string(),
            "{}",
            c.name
        );
        let addrs: Vec<String> = a.addresses.iter().map(|x| x.to_string()).collect();
        let (have, other) = if c.src.is_ipv4() {
            ("vrrp.ip_addr", "vrrp.ipv6_addr")
        } else {
            ("vrrp.ipv6_addr", "vrrp.ip_addr")
        };
        if !c.corrupt {
            assert_eq!(field(row, have), addrs.join(","), "{}", c.name);
        }
        assert_eq!(field(row, other), "", "{}", c.name);
        match a.version {
            Version::V2 => {
                assert_eq!(
                    field(row, "vrrp.adver_int"),
                    (a.interval_cs / 100).to_string(),
                    "{}",
                    c.name
                );
                assert_eq!(
                    field(row, "vrrp.auth_type"),
                    a.auth.type_number().to_string(),
                    "{}",
                    c.name
                );
            }
            Version::V3 => assert_eq!(
                field(row, "vrrp.short_adver_int"),
                a.interval_cs.to_string(),
                "{}",
                c.name
            ),
        }
        // Wireshark's checksum status: 0 bad, 1 good. Its default v3/IPv4 form is the
        // pseudo-header one.
        let expect_good =
            !c.corrupt && (a.version == Version::V2 || c.form == V3Ipv4Checksum::PseudoHeader);
        let status = if expect_good { "1" } else { "0" };
        assert_eq!(
            field(row, "vrrp.checksum.status"),
            status,
            "{}: checksum status {row:?}",
            c.name
        );
    }
    assert_eq!(field(&rows[1], "vrrp.auth_string"), "secret");

    // With Wireshark's RFC 9568 preference the message-only form is the good one.
    let rows = tshark(&file, &["vrrp.v3_checksum_as_in_v2:TRUE"]).expect("tshark ran before");
    assert_eq!(rows.len(), cases.len());
    for (i, name) in [(0, "v2"), (1, "v2 PASS"), (3, "v3/IPv4 message only")] {
        assert_eq!(
            field(&rows[i], "vrrp.checksum.status"),
            "1",
            "{name} with v3_checksum_as_in_v2: {:?}",
            rows[i]
        );
    }
    assert_eq!(
        field(&rows[2], "vrrp.checksum.status"),
        "0",
        "pseudo-header form is bad under v3_checksum_as_in_v2"
    );
    assert_eq!(field(&rows[5], "vrrp.checksum.status"), "0");
}
