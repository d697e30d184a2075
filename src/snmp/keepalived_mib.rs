//! The VRRP part of KEEPALIVED-MIB (`1.3.6.1.4.1.9586.100.5`, `enable_snmp_vrrp`), as far
//! as it is served here: the global scalars version, routerId (when configured) and
//! trapEnable, and vrrpInstanceTable (indexed by the instance's position, from 1) with
//! the columns name, VRID, state, initial and wanted states, base and effective
//! priorities, VIPs status, interface, primary interface tracking, advert interval,
//! preemption and its delay, authentication, sync group, accept mode and VRRP version.
//! The other tables (sync groups, addresses, routes, tracked objects) and the checker
//! part are not served.

use super::oid::Oid;
use super::rows::Table;
use super::wire::Value;
use crate::config::model::{Auth, InitialState, VrrpVersion};
use crate::status::Snapshot;
use crate::vrrp::State;

/// KEEPALIVED-MIB::keepalived.
pub const KEEPALIVED_MIB: [u32; 9] = [1, 3, 6, 1, 4, 1, 9586, 100, 5];
/// The subtrees served: global and vrrp.
pub const SUBTREES: [[u32; 10]; 2] = [
    [1, 3, 6, 1, 4, 1, 9586, 100, 5, 1],
    [1, 3, 6, 1, 4, 1, 9586, 100, 5, 2],
];

/// VrrpState: init(0), backup(1), master(2), fault(3), unknown(4), shutdown(5).
fn vrrp_state(s: State) -> i32 {
    match s {
        State::Initialize => 0,
        State::Backup => 1,
        State::Master => 2,
        State::Fault => 3,
        State::Stop => 5,
    }
}

fn text(s: &str) -> Value {
    Value::OctetString(s.as_bytes().to_vec())
}

/// The objects and the object types they are instances of.
pub fn objects(snap: &Snapshot) -> (Vec<(Oid, Value)>, Vec<Oid>) {
    let mut out = Vec::new();
    let mut types = Vec::new();
    let base = Oid::new(&KEEPALIVED_MIB);
    let mut scalar = |col: u32, v: Option<Value>| {
        types.push(base.child(&[1, col]));
        if let Some(v) = v {
            out.push((base.child(&[1, col, 0]), v));
        }
    };
    scalar(
        1,
        Some(text(&format!(
            "Keepalived-rs v{}",
            env!("CARGO_PKG_VERSION")
        ))),
    );
    scalar(2, snap.global.router_id.as_deref().map(text));
    let traps = snap.global.other.contains_key("enable_traps");
    scalar(4, Some(Value::Integer(if traps { 1 } else { 2 })));
    // vrrpInstanceTable (vrrp 3), INDEX { vrrpInstanceIndex }.
    let mut table = Table::default();
    for (n, i) in snap.instances.iter().enumerate() {
        let idx = [n as u32 + 1];
        let c = &i.cfg;
        let v3 = c.version == VrrpVersion::V3;
        let interval = if v3 {
            i.adver_int.as_millis() / 10
        } else {
            i.adver_int.as_secs().into()
        };
        let mut cols = vec![
            (2, text(&c.name)),
            (3, Value::Gauge32(u32::from(c.vrid))),
            (4, Value::Integer(vrrp_state(i.state))),
            (
                5,
                Value::Integer(match c.initial_state {
                    InitialState::Master => 2,
                    InitialState::Backup => 1,
                }),
            ),
            (6, Value::Integer(vrrp_state(i.wantstate))),
            (7, Value::Integer(i32::from(c.priority))),
            (8, Value::Integer(i32::from(i.effective_priority))),
            (9, Value::Integer(if i.vips_set { 1 } else { 2 })),
            (10, text(c.interface.as_deref().unwrap_or(""))),
            (11, Value::Integer(if c.dont_track_primary { 2 } else { 1 })),
            (
                12,
                Value::Gauge32(interval.min(u128::from(u32::MAX)) as u32),
            ),
            (13, Value::Integer(if c.nopreempt { 2 } else { 1 })),
            (
                14,
                Value::Gauge32(c.preempt_delay.as_secs().min(u64::from(u32::MAX)) as u32),
            ),
            (
                15,
                Value::Integer(match c.auth {
                    None => 0,
                    Some(Auth::Pass(_)) => 1,
                    Some(Auth::Ah(_)) => 2,
                }),
            ),
        ];
        if let Some(g) = &i.sync_group {
            cols.push((18, text(g)));
        }
        cols.push((27, Value::Integer(if c.accept { 1 } else { 2 })));
        cols.push((30, Value::Integer(if v3 { 3 } else { 2 })));
        for (col, v) in cols {
            table.push(
                col,
                Oid::concat(&[&KEEPALIVED_MIB, &[2, 3, 1, col], &idx]),
                v,
            );
        }
    }
    for col in [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 18, 27, 30] {
        types.push(base.child(&[2, 3, 1, col]));
    }
    table.into_entries(&mut out);
    (out, types)
}
