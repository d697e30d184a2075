//! VRRP-MIB (RFC 2787, `1.3.6.1.2.1.68`) from a snapshot: vrrpNodeVersion,
//! vrrpNotificationCntl, vrrpOperTable and vrrpAssoIpAddrTable (IPv4 instances, indexed by
//! ifIndex and VRID), the router-wide error counters and vrrpRouterStatsTable. The MIB is
//! read-only here (keepalived's configuration is the only writer).

use super::oid::Oid;
use super::rows::{rows, truth, Row, Table, UpTimeBase};
use super::wire::Value;
use crate::config::model::Auth;
use crate::status::Snapshot;
use crate::vrrp::State;
use std::net::IpAddr;

/// vrrpMIB.
pub const VRRP_MIB: [u32; 7] = [1, 3, 6, 1, 2, 1, 68];
/// vrrpTrapNewMaster (vrrpNotifications 1).
pub const TRAP_NEW_MASTER: [u32; 9] = [1, 3, 6, 1, 2, 1, 68, 0, 1];
/// vrrpTrapAuthFailure (vrrpNotifications 2).
pub const TRAP_AUTH_FAILURE: [u32; 9] = [1, 3, 6, 1, 2, 1, 68, 0, 2];

fn oid(tail: &[u32]) -> Oid {
    Oid::new(&VRRP_MIB).child(tail)
}

/// vrrpOperEntry column `col`.
pub fn oper_column(col: u32) -> Oid {
    oid(&[1, 3, 1, col])
}

fn ipv4(a: Option<IpAddr>) -> Value {
    match a {
        Some(IpAddr::V4(v)) => Value::IpAddress(v.octets()),
        _ => Value::IpAddress([0; 4]),
    }
}

/// The objects of the MIB and the object types they are instances of.
pub fn objects(snap: &Snapshot, base: Option<UpTimeBase>) -> (Vec<(Oid, Value)>, Vec<Oid>) {
    let mut out = Vec::new();
    let mut types = Vec::new();
    let rows: Vec<Row<'_>> = rows(snap).into_iter().filter(|r| !r.ipv6()).collect();
    let traps = snap.global.other.contains_key("enable_traps");
    // Scalars: vrrpNodeVersion (2: VRRP version 2), vrrpNotificationCntl.
    for (col, v) in [(1, 2), (2, if traps { 1 } else { 2 })] {
        types.push(oid(&[1, col]));
        out.push((oid(&[1, col, 0]), Value::Integer(v)));
    }
    // vrrpOperTable: columns 2..=15 (1, the VRID, is not-accessible).
    for col in 2..=15 {
        types.push(oper_column(col));
    }
    let mut table = Table::default();
    for r in &rows {
        let idx = [r.ifindex, u32::from(r.vrid)];
        let i = r.inst;
        let auth = match i.cfg.auth {
            None => 1,
            Some(Auth::Pass(_)) => 2,
            Some(Auth::Ah(_)) => 3,
        };
        let adver_secs = i.adver_int.as_secs().clamp(1, 255) as i32;
        let cols = [
            (2, Value::OctetString(r.virtual_mac())),
            (3, Value::Integer(r.state())),
            (
                4,
                Value::Integer(if i.state == State::Stop { 2 } else { 1 }),
            ),
            (5, Value::Integer(i32::from(i.effective_priority))),
            (6, Value::Integer(r.vips().len().min(255) as i32)),
            (7, ipv4(r.master_addr())),
            (8, ipv4(i.src_addr)),
            (9, Value::Integer(auth)),
            // RFC 2787: the key reads as a zero-length string.
            (10, Value::OctetString(Vec::new())),
            (11, Value::Integer(adver_secs)),
            (12, Value::Integer(truth(!i.cfg.nopreempt))),
            (13, Value::TimeTicks(r.up_time(base))),
            (14, Value::Integer(1)), // ip(1)
            (15, Value::Integer(1)), // active(1)
        ];
        for (col, v) in cols {
            table.push(col, Oid::concat(&[&VRRP_MIB, &[1, 3, 1, col], &idx]), v);
        }
    }
    table.into_entries(&mut out);
    // vrrpAssoIpAddrTable: INDEX { ifIndex, vrrpOperVrId, vrrpAssoIpAddr }, column 2.
    types.push(oid(&[1, 4, 1, 2]));
    for r in &rows {
        for a in r.vips() {
            if let IpAddr::V4(v) = a {
                let o = v.octets();
                let idx = [
                    r.ifindex,
                    u32::from(r.vrid),
                    o[0].into(),
                    o[1].into(),
                    o[2].into(),
                    o[3].into(),
                ];
                out.push((oid(&[1, 4, 1, 2]).child(&idx), Value::Integer(1)));
            }
        }
    }
    // vrrpStatistics: the router's counters (packets no instance took included).
    let all = snap
        .instances
        .iter()
        .map(|i| &i.stats)
        .chain(std::iter::once(&snap.host_stats));
    let (mut ck, mut ver, mut vrid) = (0u64, 0u64, 0u64);
    for s in all {
        ck += s.checksum_errors;
        ver += s.version_errors;
        vrid += s.vrid_errors;
    }
    for (col, v) in [(1, ck), (2, ver), (3, vrid)] {
        types.push(oid(&[2, col]));
        out.push((oid(&[2, col, 0]), Value::counter(v)));
    }
    // vrrpRouterStatsTable (AUGMENTS vrrpOperEntry).
    for col in 1..=12 {
        types.push(oid(&[2, 4, 1, col]));
    }
    let mut table = Table::default();
    for r in &rows {
        let s = &r.inst.stats;
        let idx = [r.ifindex, u32::from(r.vrid)];
        let cols = [
            s.became_master,
            s.adverts_received,
            s.interval_errors,
            s.auth_failures,
            s.ttl_errors,
            s.priority_zero_received,
            s.priority_zero_sent,
            s.type_errors,
            s.address_list_errors,
            s.auth_type_invalid,
            s.auth_type_mismatch,
            s.length_errors,
        ];
        for (col, v) in (1u32..).zip(cols) {
            let name = Oid::concat(&[&VRRP_MIB, &[2, 4, 1, col], &idx]);
            table.push(col, name, Value::counter(v));
        }
    }
    table.into_entries(&mut out);
    (out, types)
}
