//! The AgentX codec and session against byte layouts derived by hand from RFC 2741 (the
//! section of each layout is cited), in both byte orders, and against hostile input.

use super::oid::Oid;
use super::pdu::{self, decode, encode, frame_len, Body, Header, Pdu};
use super::session::{Happened, Phase, Session, SessionError, Settings};
use super::view::View;
use super::wire::{SearchRange, Value, VarBind};
use std::rc::Rc;

fn oid(s: &str) -> Oid {
    s.parse().unwrap()
}

/// §6.1 header: version, type, flags, reserved, then session, transaction and packet ids
/// and the payload length, here big-endian (NETWORK_BYTE_ORDER, 0x10).
fn header_be(ty: u8, flags: u8, sid: u32, tid: u32, pid: u32, len: u32) -> Vec<u8> {
    let mut v = vec![1, ty, flags | 0x10, 0];
    for x in [sid, tid, pid, len] {
        v.extend_from_slice(&x.to_be_bytes());
    }
    v
}

/// The same header in little-endian order (flag clear), as an x86 master may send it.
fn header_le(ty: u8, flags: u8, sid: u32, tid: u32, pid: u32, len: u32) -> Vec<u8> {
    let mut v = vec![1, ty, flags, 0];
    for x in [sid, tid, pid, len] {
        v.extend_from_slice(&x.to_le_bytes());
    }
    v
}

#[test]
fn open_pdu_layout() {
    // §6.2.1: o.timeout, 3 reserved bytes, o.id (null OID: 4 zero bytes, §5.1),
    // o.descr as an octet string (§5.3: length, data, padding to 4).
    let p = Pdu {
        header: Header {
            packet_id: 1,
            ..Header::default()
        },
        body: Body::Open {
            timeout: 5,
            id: Oid::null(),
            descr: b"keepalived-rs".to_vec(),
        },
    };
    let mut want = header_be(1, 0, 0, 0, 1, 4 + 4 + 4 + 16);
    want.extend_from_slice(&[5, 0, 0, 0]);
    want.extend_from_slice(&[0, 0, 0, 0]);
    want.extend_from_slice(&[0, 0, 0, 13]);
    want.extend_from_slice(b"keepalived-rs");
    want.extend_from_slice(&[0, 0, 0]);
    assert_eq!(encode(&p), want);
    assert_eq!(decode(&want).unwrap(), p);
}

#[test]
fn oid_prefix_compression() {
    // §5.1: 1.3.6.1.2.1.68 is n_subid 2, prefix 2 (the fifth sub-identifier), then 1, 68.
    let p = Pdu {
        header: Header {
            session_id: 7,
            packet_id: 2,
            ..Header::default()
        },
        body: Body::Register {
            context: None,
            timeout: 0,
            priority: 127,
            range_subid: 0,
            subtree: oid("1.3.6.1.2.1.68"),
            upper_bound: None,
        },
    };
    // §6.2.3: r.timeout, r.priority, r.range_subid, reserved, r.subtree.
    let mut want = header_be(3, 0, 7, 0, 2, 4 + 12);
    want.extend_from_slice(&[0, 127, 0, 0]);
    want.extend_from_slice(&[2, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 68]);
    assert_eq!(encode(&p), want);
    assert_eq!(decode(&want).unwrap(), p);
    // Not compressible: 1.3.6.1.0.1 (prefix 0 means "none") and 1.2.3.
    let p2 = Pdu {
        body: Body::Register {
            context: None,
            timeout: 0,
            priority: 127,
            range_subid: 0,
            subtree: oid("1.2.3"),
            upper_bound: None,
        },
        ..p
    };
    let b = encode(&p2);
    assert_eq!(&b[24..28], &[3, 0, 0, 0]);
    assert_eq!(decode(&b).unwrap(), p2);
}

#[test]
fn get_next_little_endian_with_include_and_open_end() {
    // §6.2.6 GetNext: a SearchRange list (§5.2): start OID with include=1, end = null OID.
    let mut b = header_le(6, 0, 5, 6, 9, 16);
    b.extend_from_slice(&[2, 2, 1, 0]);
    b.extend_from_slice(&1u32.to_le_bytes());
    b.extend_from_slice(&68u32.to_le_bytes());
    b.extend_from_slice(&[0, 0, 0, 0]);
    let p = decode(&b).unwrap();
    assert_eq!(p.header.session_id, 5);
    assert_eq!(p.header.transaction_id, 6);
    assert_eq!(p.header.packet_id, 9);
    assert_eq!(
        p.body,
        Body::GetNext {
            context: None,
            ranges: vec![SearchRange {
                start: oid("1.3.6.1.2.1.68"),
                include: true,
                end: Oid::null(),
            }],
        }
    );
}

#[test]
fn get_bulk_with_non_default_context() {
    // §6.2.7: with NON_DEFAULT_CONTEXT (0x08) the context octet string comes first, then
    // g.non_repeaters and g.max_repetitions (2 bytes each), then the ranges.
    let mut b = header_be(7, 0x08, 1, 2, 3, 8 + 4 + 8);
    b.extend_from_slice(&[0, 0, 0, 3, b'a', b'b', b'c', 0]);
    b.extend_from_slice(&[0, 0, 0, 10]);
    b.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
    let p = decode(&b).unwrap();
    assert_eq!(
        p.body,
        Body::GetBulk {
            context: Some(b"abc".to_vec()),
            non_repeaters: 0,
            max_repetitions: 10,
            ranges: vec![SearchRange {
                start: Oid::null(),
                include: false,
                end: Oid::null(),
            }],
        }
    );
    assert_eq!(decode(&encode(&p)).unwrap(), p);
}

#[test]
fn response_varbind_layouts() {
    // §6.2.16: res.sysUpTime (4), res.error (2), res.index (2), VarBindList; §5.4: type
    // (2), reserved (2), name, data.
    let vbs = vec![
        VarBind {
            name: oid("1.3.6.1.2.1.68.1.1.0"),
            value: Value::Integer(2),
        },
        VarBind {
            name: oid("1.3.6.1.2.1.68.1.3.1.7.2.1"),
            value: Value::IpAddress([10, 0, 0, 1]),
        },
        VarBind {
            name: oid("1.3.6.1.2.1.68.2.1.0"),
            value: Value::Counter32(0xdead_beef),
        },
        VarBind {
            name: oid("1.3.6.1.2.1.68.1.3.1.13.2.1"),
            value: Value::TimeTicks(300),
        },
        VarBind {
            name: oid("1.3.6.1.2.1.207.1.2.1.0"),
            value: Value::Counter64(0x0102_0304_0506_0708),
        },
        VarBind {
            name: oid("1.3.6.1.2.1.68.9"),
            value: Value::EndOfMibView,
        },
    ];
    let p = Pdu {
        header: Header {
            session_id: 1,
            transaction_id: 2,
            packet_id: 3,
            flags: 0,
        },
        body: Body::Response {
            sys_uptime: 0,
            error: 0,
            index: 0,
            varbinds: vbs,
        },
    };
    let b = encode(&p);
    // First varbind at 28: Integer (2), reserved, OID 68.1.1.0 (prefix 2: 1.68.1.1.0), 2.
    let vb1: Vec<u8> = [
        &[0, 2, 0, 0][..],
        &[5, 2, 0, 0],
        &[0, 0, 0, 1, 0, 0, 0, 68, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0],
        &[0, 0, 0, 2],
    ]
    .concat();
    assert_eq!(&b[28..28 + vb1.len()], &vb1[..]);
    // The IpAddress (64) is an octet string of 4 (§5.4).
    let at = 28 + vb1.len();
    assert_eq!(&b[at..at + 4], &[0, 64, 0, 0]);
    let ip_at = at + 4 + 4 + 4 * 8;
    assert_eq!(&b[ip_at..ip_at + 8], &[0, 0, 0, 4, 10, 0, 0, 1]);
    assert_eq!(decode(&b).unwrap(), p);
    // The same PDU little-endian decodes to the same.
    let mut le = b.clone();
    le[2] &= !0x10;
    assert_ne!(decode(&le).map(|q| q.body), Ok(p.body.clone()));
}

#[test]
fn counter64_and_integers_little_endian() {
    // Response with one Counter64 (70), little-endian: every integer of the PDU flips.
    let mut body = Vec::new();
    body.extend_from_slice(&7u32.to_le_bytes()); // sysUpTime
    body.extend_from_slice(&0u16.to_le_bytes());
    body.extend_from_slice(&0u16.to_le_bytes());
    body.extend_from_slice(&70u16.to_le_bytes());
    body.extend_from_slice(&[0, 0]);
    body.extend_from_slice(&[2, 2, 0, 0]);
    body.extend_from_slice(&1u32.to_le_bytes());
    body.extend_from_slice(&207u32.to_le_bytes());
    body.extend_from_slice(&0x0102_0304_0506_0708u64.to_le_bytes());
    let mut b = header_le(18, 0, 1, 1, 1, body.len() as u32);
    b.extend(body);
    let p = decode(&b).unwrap();
    assert_eq!(
        p.body,
        Body::Response {
            sys_uptime: 7,
            error: 0,
            index: 0,
            varbinds: vec![VarBind {
                name: oid("1.3.6.1.2.1.207"),
                value: Value::Counter64(0x0102_0304_0506_0708),
            }],
        }
    );
}

#[test]
fn hostile_input_is_an_error_not_a_panic() {
    // Too short for a header: wait for more.
    assert_eq!(frame_len(&[1, 5, 0]), Ok(None));
    // Version 2.
    assert!(frame_len(
        &header_be(5, 0, 0, 0, 0, 0)
            .iter()
            .enumerate()
            .map(|(i, b)| if i == 0 { 2 } else { *b })
            .collect::<Vec<_>>()
    )
    .is_err());
    // Payload length far above the limit, or not a multiple of 4.
    assert!(frame_len(&header_be(5, 0, 0, 0, 0, 0x7fff_fff0)).is_err());
    assert!(frame_len(&header_be(5, 0, 0, 0, 0, 6)).is_err());
    // An OID claiming 200 sub-identifiers.
    let mut b = header_be(5, 0, 0, 0, 0, 8);
    b.extend_from_slice(&[200, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(
        decode(&b).unwrap_err().what,
        "OID longer than 128 sub-identifiers"
    );
    // An OID whose sub-identifiers run past the payload.
    let mut b = header_be(5, 0, 0, 0, 0, 8);
    b.extend_from_slice(&[3, 0, 0, 0, 0, 0, 0, 1]);
    assert!(decode(&b).is_err());
    // An octet string longer than what is left.
    let mut b = header_be(1, 0, 0, 0, 0, 12);
    b.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    assert_eq!(decode(&b).unwrap_err().what, "octet string past the end");
    // An unknown varbind type, an unknown PDU type, an IpAddress of 5 bytes.
    let mut b = header_be(18, 0, 0, 0, 0, 16);
    b.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 99, 0, 0, 0, 0, 0, 0]);
    assert_eq!(decode(&b).unwrap_err().what, "unknown varbind type");
    assert!(decode(&header_be(99, 0, 0, 0, 0, 0)).is_err());
    let mut b = header_be(18, 0, 0, 0, 0, 28);
    b.extend_from_slice(&[0; 8]);
    b.extend_from_slice(&[0, 64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4, 5, 0, 0, 0]);
    assert_eq!(decode(&b).unwrap_err().what, "IpAddress not 4 bytes");
    // Truncations of a valid PDU never panic.
    let good = encode(&Pdu {
        header: Header::default(),
        body: Body::Open {
            timeout: 0,
            id: oid("1.3.6.1.4.1.9586"),
            descr: b"x".to_vec(),
        },
    });
    for n in 0..good.len() {
        let _ = decode(&good[..n]);
        super::fuzz_agentx(&good[..n]);
    }
}

fn settings() -> Settings {
    Settings {
        subtrees: vec![oid("1.3.6.1.2.1.68"), oid("1.3.6.1.2.1.207")],
        descr: "keepalived-rs".into(),
        timeout: 0,
    }
}

fn response(sid: u32, pid: u32, error: u16, sys_uptime: u32) -> Vec<u8> {
    encode(&Pdu {
        header: Header {
            session_id: sid,
            packet_id: pid,
            ..Header::default()
        },
        body: Body::Response {
            sys_uptime,
            error,
            index: 0,
            varbinds: Vec::new(),
        },
    })
}

fn small_view() -> Rc<View> {
    Rc::new(View::new(
        vec![(oid("1.3.6.1.2.1.68.1.1.0"), Value::Integer(2))],
        vec![oid("1.3.6.1.2.1.68.1.1")],
    ))
}

#[test]
fn session_opens_registers_answers_and_closes() {
    let (mut s, open) = Session::open(settings());
    assert_eq!(open[1], pdu::ptype::OPEN);
    let mut views = 0;
    let mut view = || {
        views += 1;
        small_view()
    };
    // The Open's Response (session 42, master's sysUpTime 1234) arrives in two pieces.
    let r = response(42, 1, 0, 1234);
    let mut out = Vec::new();
    assert_eq!(s.on_input(&r[..7], &mut view, &mut out), Ok(vec![]));
    let h = s.on_input(&r[7..], &mut view, &mut out).unwrap();
    assert_eq!(
        h,
        vec![Happened::Opened {
            session_id: 42,
            sys_uptime: 1234
        }]
    );
    // Two Registers, in the session, packet ids 2 and 3.
    let r1 = decode(&out[..frame_len(&out).unwrap().unwrap()]).unwrap();
    assert_eq!(r1.header.session_id, 42);
    assert_eq!(r1.header.packet_id, 2);
    assert!(
        matches!(r1.body, Body::Register { ref subtree, .. } if *subtree == oid("1.3.6.1.2.1.68"))
    );
    assert_eq!(s.phase(), Phase::Registering);
    // Both answered in one read: the second one refused.
    let mut both = response(42, 2, 0, 0);
    both.extend(response(42, 3, pdu::error::DUPLICATE_REGISTRATION, 0));
    out.clear();
    let h = s.on_input(&both, &mut view, &mut out).unwrap();
    assert_eq!(
        h,
        vec![
            Happened::Registered(oid("1.3.6.1.2.1.68")),
            Happened::RegisterRefused(oid("1.3.6.1.2.1.207"), 263)
        ]
    );
    assert_eq!(s.phase(), Phase::Ready);
    assert!(out.is_empty());
    // Two GetNexts in one read: answered in order, with their ids; the view built once.
    let getnext = |pid: u32, start: &str| {
        encode(&Pdu {
            header: Header {
                session_id: 42,
                transaction_id: 100 + pid,
                packet_id: pid,
                flags: 0,
            },
            body: Body::GetNext {
                context: None,
                ranges: vec![SearchRange {
                    start: oid(start),
                    include: false,
                    end: Oid::null(),
                }],
            },
        })
    };
    let mut req = getnext(10, "1.3.6.1.2.1.68");
    req.extend(getnext(11, "1.3.6.1.2.1.68.1.1.0"));
    out.clear();
    s.on_input(&req, &mut view, &mut out).unwrap();
    let n = frame_len(&out).unwrap().unwrap();
    let a1 = decode(&out[..n]).unwrap();
    let a2 = decode(&out[n..]).unwrap();
    assert_eq!((a1.header.packet_id, a1.header.transaction_id), (10, 110));
    assert_eq!(
        a1.body,
        Body::Response {
            sys_uptime: 0,
            error: 0,
            index: 0,
            varbinds: vec![VarBind {
                name: oid("1.3.6.1.2.1.68.1.1.0"),
                value: Value::Integer(2)
            }]
        }
    );
    assert!(
        matches!(a2.body, Body::Response { ref varbinds, .. } if varbinds[0].value == Value::EndOfMibView)
    );
    assert_eq!(views, 1);
    // A TestSet is refused: notWritable on the first binding.
    let set = encode(&Pdu {
        header: Header {
            session_id: 42,
            packet_id: 12,
            ..Header::default()
        },
        body: Body::TestSet {
            context: None,
            varbinds: vec![VarBind {
                name: oid("1.3.6.1.2.1.68.1.2.0"),
                value: Value::Integer(1),
            }],
        },
    });
    out.clear();
    s.on_input(&set, &mut small_view, &mut out).unwrap();
    assert!(matches!(
        decode(&out).unwrap().body,
        Body::Response {
            error: 17,
            index: 1,
            ..
        }
    ));
    // A notification carries snmpTrapOID.0 first; Close ends the session.
    let n = s.notify(&oid("1.3.6.1.2.1.68.0.1"), Vec::new()).unwrap();
    assert!(
        matches!(decode(&n).unwrap().body, Body::Notify { ref varbinds, .. }
        if varbinds[0].name == oid("1.3.6.1.6.3.1.1.4.1.0"))
    );
    let c = s.close(super::session::SHUTDOWN).unwrap();
    assert_eq!(decode(&c).unwrap().body, Body::Close { reason: 5 });
    assert_eq!(s.phase(), Phase::Closed);
}

#[test]
fn session_errors() {
    // A refused Open.
    let (mut s, _) = Session::open(settings());
    let mut out = Vec::new();
    assert_eq!(
        s.on_input(&response(0, 1, 256, 0), &mut small_view, &mut out),
        Err(SessionError::OpenRefused(256))
    );
    // Garbage from the master.
    let (mut s, _) = Session::open(settings());
    assert!(matches!(
        s.on_input(&[9; 40], &mut small_view, &mut out),
        Err(SessionError::Decode(_))
    ));
    // The master closes.
    let (mut s, _) = Session::open(settings());
    let close = encode(&Pdu {
        header: Header::default(),
        body: Body::Close { reason: 6 },
    });
    assert_eq!(
        s.on_input(&close, &mut small_view, &mut out),
        Ok(vec![Happened::ClosedByMaster(6)])
    );
    assert_eq!(s.phase(), Phase::Closed);
}
