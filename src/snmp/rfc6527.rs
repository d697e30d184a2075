//! VRRPv3-MIB (RFC 6527, `1.3.6.1.2.1.207`) from a snapshot: vrrpv3OperationsTable and
//! vrrpv3AssociatedIpAddrTable (every instance, IPv4 and IPv6, indexed by ifIndex, VRID
//! and InetAddressType), the router-wide counters and vrrpv3StatisticsTable. Read-only.
//! `vrrpv3StatisticsProtoErrReason` is not served (the engine keeps counts, not the last
//! error's kind).

use super::oid::Oid;
use super::rows::{rows, truth, Row, Table, UpTimeBase};
use super::wire::Value;
use crate::status::Snapshot;
use crate::vrrp::reason::Reason;
use crate::vrrp::State;
use std::net::IpAddr;

/// vrrpv3MIB.
pub const VRRPV3_MIB: [u32; 7] = [1, 3, 6, 1, 2, 1, 207];
/// vrrpv3NewMaster (vrrpv3Notifications 1).
pub const TRAP_NEW_MASTER: [u32; 9] = [1, 3, 6, 1, 2, 1, 207, 0, 1];

fn oid(tail: &[u32]) -> Oid {
    Oid::new(&VRRPV3_MIB).child(tail)
}

/// vrrpv3OperationsEntry column `col`.
pub fn oper_column(col: u32) -> Oid {
    oid(&[1, 1, 1, 1, col])
}

/// InetAddressType (RFC 4001): ipv4(1), ipv6(2).
fn addr_type(r: &Row<'_>) -> u32 {
    if r.ipv6() {
        2
    } else {
        1
    }
}

/// InetAddress of the row's family: the address, or all zeroes when unknown.
fn inet(r: &Row<'_>, a: Option<IpAddr>) -> Value {
    Value::OctetString(match (a, r.ipv6()) {
        (Some(IpAddr::V4(v)), false) => v.octets().to_vec(),
        (Some(IpAddr::V6(v)), true) => v.octets().to_vec(),
        (_, false) => vec![0; 4],
        (_, true) => vec![0; 16],
    })
}

/// vrrpv3StatisticsNewMasterReason: notMaster(0), priority(1), preempted(2),
/// masterNoResponse(3).
fn new_master_reason(r: &Row<'_>) -> i32 {
    if r.inst.state != State::Master {
        return 0;
    }
    match r.inst.last_transition_reason {
        Some(Reason::MasterDown) | Some(Reason::PriorityZero { .. }) => 3,
        _ => 1,
    }
}

/// The objects of the MIB and the object types they are instances of.
pub fn objects(snap: &Snapshot, base: Option<UpTimeBase>) -> (Vec<(Oid, Value)>, Vec<Oid>) {
    let mut out = Vec::new();
    let mut types = Vec::new();
    let rows = rows(snap);
    // vrrpv3OperationsTable: columns 3..=13 (VrId and InetAddrType are the index).
    for col in 3..=13 {
        types.push(oper_column(col));
    }
    let mut table = Table::default();
    for r in &rows {
        let i = r.inst;
        let idx = [r.ifindex, u32::from(r.vrid), addr_type(r)];
        let cs = (i.adver_int.as_millis() / 10).clamp(1, 4095) as i32;
        let cols = [
            (3, inet(r, r.master_addr())),
            (4, inet(r, i.src_addr)),
            (5, Value::OctetString(r.virtual_mac())),
            (6, Value::Integer(r.state())),
            (7, Value::Gauge32(u32::from(i.effective_priority))),
            (8, Value::Integer(r.vips().len().min(255) as i32)),
            (9, Value::Integer(cs)),
            (10, Value::Integer(truth(!i.cfg.nopreempt))),
            (11, Value::Integer(truth(i.cfg.accept))),
            (12, Value::TimeTicks(r.up_time(base))),
            (13, Value::Integer(1)), // active(1)
        ];
        for (col, v) in cols {
            table.push(
                col,
                Oid::concat(&[&VRRPV3_MIB, &[1, 1, 1, 1, col], &idx]),
                v,
            );
        }
    }
    table.into_entries(&mut out);
    // vrrpv3AssociatedIpAddrTable: INDEX { ifIndex, VrId, InetAddrType, address } with
    // the address as a length-prefixed octet string (RFC 2578 §7.7).
    types.push(oid(&[1, 1, 2, 1, 2]));
    for r in &rows {
        for a in r.vips() {
            let bytes = match a {
                IpAddr::V4(v) => v.octets().to_vec(),
                IpAddr::V6(v) => v.octets().to_vec(),
            };
            let mut idx = vec![r.ifindex, u32::from(r.vrid), addr_type(r)];
            idx.push(bytes.len() as u32);
            idx.extend(bytes.iter().map(|b| u32::from(*b)));
            out.push((oid(&[1, 1, 2, 1, 2]).child(&idx), Value::Integer(1)));
        }
    }
    // vrrpv3Statistics: router-wide counters, then vrrpv3StatisticsTable.
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
        types.push(oid(&[1, 2, col]));
        out.push((oid(&[1, 2, col, 0]), Value::Counter64(v)));
    }
    types.push(oid(&[1, 2, 4]));
    out.push((oid(&[1, 2, 4, 0]), Value::TimeTicks(0)));
    for col in [1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13] {
        types.push(oid(&[1, 2, 5, 1, col]));
    }
    let mut table = Table::default();
    for r in &rows {
        let s = &r.inst.stats;
        let idx = [r.ifindex, u32::from(r.vrid), addr_type(r)];
        let refresh_ms = r.inst.adver_int.as_millis().min(u128::from(u32::MAX)) as u32;
        let cols = [
            (1, Value::counter(s.became_master)),
            (2, Value::Integer(new_master_reason(r))),
            (3, Value::Counter64(s.adverts_received)),
            (
                4,
                Value::Counter64(s.interval_errors + s.interval_mismatches),
            ),
            (5, Value::Counter64(s.ttl_errors)),
            (7, Value::Counter64(s.priority_zero_received)),
            (8, Value::Counter64(s.priority_zero_sent)),
            (9, Value::Counter64(s.type_errors)),
            (10, Value::Counter64(s.address_list_errors)),
            (11, Value::Counter64(s.length_errors)),
            (12, Value::TimeTicks(0)),
            (13, Value::Gauge32(refresh_ms)),
        ];
        for (col, v) in cols {
            let name = Oid::concat(&[&VRRPV3_MIB, &[1, 2, 5, 1, col], &idx]);
            table.push(col, name, v);
        }
    }
    table.into_entries(&mut out);
    (out, types)
}
