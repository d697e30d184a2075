//! Byte-exact layouts derived by hand from uapi `linux/ip_vs.h` / `linux/genetlink.h`
//! (little-endian host), round trips, and hostile input for the IPVS codec.

use super::*;
use crate::ipvs::model::{SVC_F_ONEPACKET, SVC_F_PERSISTENT};

fn v4_svc() -> ServiceKey {
    ServiceKey::Addr {
        proto: Proto::Tcp,
        addr: "10.0.0.10".parse().unwrap(),
        port: 80,
    }
}

#[cfg(target_endian = "little")]
#[test]
fn family_lookup_bytes() {
    let got = family_request(7);
    let want: Vec<u8> = vec![
        // nlmsghdr: len 32, type GENL_ID_CTRL 0x10, flags REQUEST, seq 7, pid 0
        32, 0, 0, 0, 0x10, 0, 1, 0, 7, 0, 0, 0, 0, 0, 0, 0,
        // genlmsghdr: cmd CTRL_CMD_GETFAMILY 3, version 1, reserved
        3, 1, 0, 0, // CTRL_ATTR_FAMILY_NAME (2), len 4 + "IPVS\0" = 9, padded to 12
        9, 0, 2, 0, b'I', b'P', b'V', b'S', 0, 0, 0, 0,
    ];
    assert_eq!(got, want);
}

#[cfg(target_endian = "little")]
#[test]
fn del_fwmark_service_bytes() {
    let key = ServiceKey::Fwmark {
        family: Af::Inet,
        mark: 7,
    };
    let got = service_cmd(0x1a, 3, IPVS_CMD_DEL_SERVICE, &key, None);
    let want: Vec<u8> = vec![
        // nlmsghdr: len 40, type 0x1a (the looked-up family), REQUEST|ACK, seq 3
        40, 0, 0, 0, 0x1a, 0, 5, 0, 3, 0, 0, 0, 0, 0, 0, 0,
        // genlmsghdr: IPVS_CMD_DEL_SERVICE 3, IPVS_GENL_VERSION 1
        3, 1, 0, 0, // IPVS_CMD_ATTR_SERVICE (1) | NLA_F_NESTED 0x8000, len 4 + 8 + 8 = 20
        20, 0, 1, 0x80, // IPVS_SVC_ATTR_AF (1): u16 AF_INET 2, padded
        6, 0, 1, 0, 2, 0, 0, 0, // IPVS_SVC_ATTR_FWMARK (5): u32 7
        8, 0, 5, 0, 7, 0, 0, 0,
    ];
    assert_eq!(got, want);
}

#[cfg(target_endian = "little")]
#[test]
fn new_tcp_service_bytes() {
    let attrs = ServiceAttrs {
        sched: "rr".into(),
        flags: SVC_F_PERSISTENT,
        timeout: 300,
        netmask: 0xffff_ff00,
        pe_name: None,
    };
    let got = service_cmd(0x1a, 1, IPVS_CMD_NEW_SERVICE, &v4_svc(), Some(&attrs));
    let mut want: Vec<u8> = vec![
        0, 0, 0, 0, 0x1a, 0, 5, 0, 1, 0, 0, 0, 0, 0, 0, 0, // nlmsghdr (len below)
        1, 1, 0, 0, // IPVS_CMD_NEW_SERVICE
        0, 0, 1, 0x80, // IPVS_CMD_ATTR_SERVICE nested (len below)
        6, 0, 1, 0, 2, 0, 0, 0, // AF = AF_INET
        6, 0, 2, 0, 6, 0, 0, 0, // PROTOCOL = IPPROTO_TCP 6
        20, 0, 3, 0, 10, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // ADDR nf_inet_addr
        6, 0, 4, 0, 0, 80, 0, 0, // PORT __be16 80
        7, 0, 6, 0, b'r', b'r', 0, 0, // SCHED_NAME "rr\0"
        12, 0, 7, 0, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, // FLAGS {flags, mask}
        8, 0, 8, 0, 0x2c, 1, 0, 0, // TIMEOUT 300
        8, 0, 9, 0, 0xff, 0xff, 0xff, 0, // NETMASK __be32 255.255.255.0
    ];
    let len = want.len() as u8;
    want[0] = len;
    want[20] = len - 20;
    assert_eq!(got, want);
}

#[cfg(target_endian = "little")]
#[test]
fn service_with_persistence_engine_bytes() {
    let key = ServiceKey::Fwmark {
        family: Af::Inet,
        mark: 7,
    };
    let attrs = ServiceAttrs {
        sched: "rr".into(),
        flags: SVC_F_PERSISTENT,
        timeout: 360,
        netmask: u32::MAX,
        pe_name: Some("sip".into()),
    };
    let got = service_cmd(0x1a, 5, IPVS_CMD_SET_SERVICE, &key, Some(&attrs));
    let want: Vec<u8> = vec![
        // nlmsghdr: len 84, type 0x1a, REQUEST|ACK, seq 5
        84, 0, 0, 0, 0x1a, 0, 5, 0, 5, 0, 0, 0, 0, 0, 0, 0,
        // genlmsghdr: IPVS_CMD_SET_SERVICE 2, version 1
        2, 1, 0, 0, // IPVS_CMD_ATTR_SERVICE nested, 4 + 8 + 8 + 8 + 12 + 8 + 8 + 8 = 64
        64, 0, 1, 0x80, // AF = AF_INET
        6, 0, 1, 0, 2, 0, 0, 0, // FWMARK 7
        8, 0, 5, 0, 7, 0, 0, 0, // SCHED_NAME "rr\0"
        7, 0, 6, 0, b'r', b'r', 0, 0, // FLAGS {PERSISTENT, mask ~0}
        12, 0, 7, 0, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, // TIMEOUT 360
        8, 0, 8, 0, 0x68, 1, 0, 0, // NETMASK __be32 255.255.255.255
        8, 0, 9, 0, 0xff, 0xff, 0xff, 0xff, // PE_NAME (11) "sip\0", after NETMASK
        8, 0, 11, 0, b's', b'i', b'p', 0,
    ];
    assert_eq!(got, want);
    // Without an engine there is no PE_NAME attribute at all.
    let none = ServiceAttrs {
        pe_name: None,
        ..attrs
    };
    let got = service_cmd(0x1a, 5, IPVS_CMD_SET_SERVICE, &key, Some(&none));
    assert_eq!((got.len(), got[20]), (76, 56));
    assert_eq!(got[24..], want[24..76]);
}

#[cfg(target_endian = "little")]
#[test]
fn set_config_bytes() {
    let got = set_config(0x1a, 9, Some(900), None, Some(300));
    let want: Vec<u8> = vec![
        // nlmsghdr: len 36, type 0x1a, REQUEST|ACK, seq 9
        36, 0, 0, 0, 0x1a, 0, 5, 0, 9, 0, 0, 0, 0, 0, 0, 0,
        // genlmsghdr: IPVS_CMD_SET_CONFIG 12, version 1
        12, 1, 0, 0, // IPVS_CMD_ATTR_TIMEOUT_TCP (4), top level: u32 900
        8, 0, 4, 0, 0x84, 3, 0, 0, // IPVS_CMD_ATTR_TIMEOUT_UDP (6): u32 300
        8, 0, 6, 0, 0x2c, 1, 0, 0,
    ];
    assert_eq!(got, want);
    let all = set_config(0x1a, 10, Some(1), Some(2), Some(3));
    assert_eq!(all.len(), 44);
    // TIMEOUT_TCP_FIN (5) between the two.
    assert_eq!(all[28..36], [8, 0, 5, 0, 2, 0, 0, 0]);
}

#[test]
fn persistence_engine_decodes_and_an_empty_one_is_none() {
    let attrs = ServiceAttrs {
        sched: "wlc".into(),
        flags: SVC_F_PERSISTENT,
        timeout: 60,
        netmask: u32::MAX,
        pe_name: Some("sip".into()),
    };
    let m = service_cmd(0x1a, 1, IPVS_CMD_NEW_SERVICE, &v4_svc(), Some(&attrs));
    assert_eq!(
        round_trip(&m),
        vec![Entry::Service(v4_svc(), attrs.clone())]
    );
    // A kernel answer with an empty PE_NAME ("\0"): no engine. Rewrite "sip\0" to "\0\0\0\0".
    let mut e = m.clone();
    let at = e.len() - 4;
    assert_eq!(&e[at..], b"sip\0");
    e[at..].fill(0);
    let Entry::Service(_, got) = &round_trip(&e)[0] else {
        panic!()
    };
    assert_eq!(got.pe_name, None);
    // A PE_NAME that is not UTF-8 is an error, not a panic.
    e[at] = 0xff;
    assert!(decode_dump(&e).is_err());
}

#[cfg(target_endian = "little")]
#[test]
fn del_dest_bytes() {
    let d = DestKey {
        addr: "192.168.1.2".parse().unwrap(),
        port: 8080,
    };
    let key = ServiceKey::Fwmark {
        family: Af::Inet,
        mark: 1,
    };
    let got = dest_cmd(0x1a, 2, IPVS_CMD_DEL_DEST, &key, &d, None);
    let want: Vec<u8> = vec![
        80, 0, 0, 0, 0x1a, 0, 5, 0, 2, 0, 0, 0, 0, 0, 0, 0, // nlmsghdr
        7, 1, 0, 0, // IPVS_CMD_DEL_DEST
        20, 0, 1, 0x80, 6, 0, 1, 0, 2, 0, 0, 0, 8, 0, 5, 0, 1, 0, 0, 0, // service key
        40, 0, 2, 0x80, // IPVS_CMD_ATTR_DEST nested, 4 + 20 + 8 + 8
        20, 0, 1, 0, 192, 168, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // ADDR
        6, 0, 2, 0, 0x1f, 0x90, 0, 0, // PORT __be16 8080
        6, 0, 11, 0, 2, 0, 0, 0, // ADDR_FAMILY AF_INET
    ];
    assert_eq!(got, want);
}

#[test]
fn dump_requests_have_the_dump_flag() {
    let m = dump_services(0x1a, 9);
    assert_eq!(m.len(), 20);
    assert_eq!(u16::from_ne_bytes([m[6], m[7]]), NLM_F_REQUEST | NLM_F_DUMP);
    assert_eq!(m[16], IPVS_CMD_GET_SERVICE);
    let d = dump_dests(0x1a, 9, &v4_svc());
    assert_eq!(d[16], IPVS_CMD_GET_DEST);
    assert!(d.len() > 20);
}

/// A command message has the layout of a dump reply (genl header + nested attributes).
fn round_trip(msg: &[u8]) -> Vec<Entry> {
    let (entries, done) = decode_dump(msg).expect("decodes");
    assert!(!done);
    entries
}

#[test]
fn service_round_trips_v4_v6_fwmark() {
    let a4 = ServiceAttrs {
        sched: "wlc".into(),
        flags: SVC_F_PERSISTENT | SVC_F_ONEPACKET,
        timeout: 360,
        netmask: 0xffff_0000,
        pe_name: None,
    };
    let a6 = ServiceAttrs {
        netmask: 64,
        ..a4.clone()
    };
    let k6 = ServiceKey::Addr {
        proto: Proto::Sctp,
        addr: "2001:db8::10".parse().unwrap(),
        port: 443,
    };
    let kf = ServiceKey::Fwmark {
        family: Af::Inet6,
        mark: 42,
    };
    for (k, a) in [(v4_svc(), &a4), (k6, &a6), (kf, &a6)] {
        let m = service_cmd(0x1a, 1, IPVS_CMD_NEW_SERVICE, &k, Some(a));
        assert_eq!(round_trip(&m), vec![Entry::Service(k, a.clone())]);
    }
}

#[test]
fn dest_round_trips_with_tunnel() {
    let d = DestKey {
        addr: "2001:db8::2".parse().unwrap(),
        port: 80,
    };
    let a = DestAttrs {
        forward: Forward::Tunnel {
            kind: 1,
            port: 6080,
            flags: 2,
        },
        weight: 3,
        u_threshold: 100,
        l_threshold: 10,
    };
    let m = dest_cmd(0x1a, 1, IPVS_CMD_NEW_DEST, &v4_svc(), &d, Some(&a));
    let e = round_trip(&m);
    assert_eq!(e.len(), 2); // the service key nest (no scheduler) and the dest
    assert_eq!(e[1], Entry::Dest(d, a));
}

#[test]
fn done_and_errors() {
    let mut done = vec![20, 0, 0, 0, 3, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    assert_eq!(decode_dump(&done), Ok((vec![], true)));
    done[4] = 2; // NLMSG_ERROR
    assert!(decode_dump(&done).is_err());
}

#[test]
fn hostile_input_is_an_error_not_a_panic() {
    let attrs = ServiceAttrs {
        sched: "rr".into(),
        flags: 0,
        timeout: 0,
        netmask: u32::MAX,
        pe_name: None,
    };
    let m = service_cmd(0x1a, 1, IPVS_CMD_NEW_SERVICE, &v4_svc(), Some(&attrs));
    // Every truncation and every single-byte corruption: no panic.
    for n in 0..m.len() {
        fuzz_ipvs(&m[..n]);
        for v in [0u8, 1, 0x7f, 0xff] {
            let mut c = m.clone();
            c[n] = v;
            fuzz_ipvs(&c);
        }
    }
    // A short address is refused with a message.
    let mut bad = m.clone();
    assert_eq!(bad[42], 3); // IPVS_SVC_ATTR_ADDR's type, after 16 + 4 + 4 + 8 + 8 - 2
    bad[40] = 6; // its length 20 -> 6 (2 bytes of address)
    assert!(decode_dump(&bad).is_err());
}

#[test]
fn daemon_commands() {
    let d = Daemon {
        state: 1,
        ifname: "eth0".into(),
        syncid: 5,
        maxlen: Some(1460),
        group: Some("224.0.0.81".parse().unwrap()),
        port: Some(8848),
        ttl: Some(1),
    };
    let m = daemon_cmd(0x1a, 1, IPVS_CMD_NEW_DAEMON, Some(&d));
    assert_eq!(m[16], IPVS_CMD_NEW_DAEMON);
    let body = &m[20..];
    let nest = attrs(body).next().unwrap().unwrap();
    assert_eq!(nest.ty, IPVS_CMD_ATTR_DAEMON);
    let tys: Vec<u16> = nest.nested().map(|a| a.unwrap().ty).collect();
    assert_eq!(tys, vec![1, 2, 3, 4, 5, 7, 8]);
    let del = daemon_cmd(0x1a, 2, IPVS_CMD_DEL_DAEMON, Some(&d));
    assert_eq!(del.len(), 20 + 4 + 8);
    let get = daemon_cmd(0x1a, 3, IPVS_CMD_GET_DAEMON, None);
    assert_eq!(
        u16::from_ne_bytes([get[6], get[7]]),
        NLM_F_REQUEST | NLM_F_DUMP
    );
}

#[test]
fn corpus_seeds_decode() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/ipvs/");
    #[allow(clippy::disallowed_methods)] // test code reads the seed corpus
    let read = |n: &str| std::fs::read(format!("{dir}{n}")).expect("seed");
    let (s, done) = decode_dump(&read("services-0")).unwrap();
    assert!(done);
    assert_eq!(s.len(), 2);
    match &s[0] {
        // HASHED (0x2) from the kernel is dropped.
        Entry::Service(k, a) => assert_eq!((*k, a.flags, a.timeout), (v4_svc(), 1, 300)),
        e => panic!("{e:?}"),
    }
    let (d, _) = decode_dump(&read("dests-0")).unwrap();
    assert_eq!(d.len(), 2);
    assert_eq!(parse_family_reply(&read("family-0")), Ok(0x1a));
}

#[test]
fn each_op_has_its_command() {
    use crate::ipvs::diff::Op;
    let a = ServiceAttrs {
        sched: "rr".into(),
        flags: 0,
        timeout: 0,
        netmask: u32::MAX,
        pe_name: None,
    };
    let d = DestKey {
        addr: "192.168.1.2".parse().unwrap(),
        port: 80,
    };
    let da = DestAttrs {
        forward: Forward::Masq,
        weight: 1,
        u_threshold: 0,
        l_threshold: 0,
    };
    let k = v4_svc();
    let cases = [
        (Op::AddService(k, a.clone()), IPVS_CMD_NEW_SERVICE),
        (Op::EditService(k, a), IPVS_CMD_SET_SERVICE),
        (Op::DelService(k), IPVS_CMD_DEL_SERVICE),
        (Op::AddDest(k, d, da), IPVS_CMD_NEW_DEST),
        (Op::EditDest(k, d, da), IPVS_CMD_SET_DEST),
        (Op::DelDest(k, d), IPVS_CMD_DEL_DEST),
    ];
    for (op, cmd) in cases {
        let m = encode_op(0x1a, 4, &op);
        assert_eq!((m[16], m[17]), (cmd, IPVS_GENL_VERSION), "{op:?}");
        assert_eq!(
            u32::from_ne_bytes([m[0], m[1], m[2], m[3]]) as usize,
            m.len()
        );
    }
}
